#pragma once
// Pretrained weights: the registry of official downloads (resources/weights_registry.json, documented in
// resources/weights_registry.md) and a verifying, resuming downloader into the weights cache. No torch, no Qt here,
// so the console tool and the app's workers include it cheaply. Built only with EFFICIENTNET_HAVE_DOWNLOAD (libcurl
// and OpenSSL found).
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "efficientnet/variants.h"

namespace efficientnet {

// One downloadable checkpoint of a variant.
struct WeightsDownload {
    std::string variant;          // torchvision name the entry is listed under, e.g. "efficientnet_b0"
    WeightSource source;          // whose key naming the checkpoint uses
    std::string model;            // the name to classify with (findCachedWeights finds `file` by it)
    std::string url;
    std::string file;             // name in the cache; starts with `model`
    std::string sha256;           // lowercase hex: the full digest, or the torch.hub prefix; empty: none known
    bool sha256IsPrefix = false;
    std::string note;             // why there is no hash, or anything else a user should know
};

struct WeightsRegistry {
    std::string path;
    std::vector<WeightsDownload> downloads;   // per variant in file order; a variant's first entry is its default
};

// Reads and validates a registry. Throws ConfigError naming the file and the entry that is wrong.
WeightsRegistry readWeightsRegistry(const std::string& path);

// The download for a model name as `classify --model` takes it. Without a source: the entry whose model is exactly
// the name, else the variant's first entry with the same padding family. With a source: that source's entry for the
// name, else its first for the variant. Throws ConfigError listing what the registry has for the variant.
const WeightsDownload& findDownload(const WeightsRegistry& registry, const std::string& modelName,
                                    std::optional<WeightSource> source = std::nullopt);

// bytesDone counts the whole file, resumed part included; bytesTotal is 0 while the size is unknown.
using DownloadProgress = std::function<void(std::uint64_t bytesDone, std::uint64_t bytesTotal)>;

struct DownloadResult {
    std::string path;             // the verified file under its final name
    std::string sha256;           // of the file, full hex
    bool verified = false;        // false: the registry has no hash for it (the caller should warn)
    bool alreadyPresent = false;  // found in the cache; nothing was downloaded
    bool resumed = false;         // a partial file from an earlier attempt was continued
};

// Downloads `entry` into cacheDir/entry.file, through cacheDir/entry.file + ".part" (resumed with an HTTP Range
// request when it exists), verifies the SHA-256 and only then renames it into place. A file already under the final
// name that verifies is kept without a request. Throws DownloadError naming the URL and the problem; the .part is
// kept for resuming, except after a hash mismatch. Setting *cancel aborts the transfer (DownloadError, .part kept).
// Blocking; safe to call from any thread.
DownloadResult downloadWeights(const WeightsDownload& entry, const std::string& cacheDir,
                               const DownloadProgress& progress = {}, const std::atomic<bool>* cancel = nullptr);

// SHA-256 of a file as lowercase hex. Throws Error naming the file.
std::string sha256OfFile(const std::string& path);

} // namespace efficientnet
