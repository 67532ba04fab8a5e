#pragma once
// What the readers of untrusted files accept, in one place (README: "Limits"). Each refusal names the file and
// the limit it passed. The numbers leave real files far inside them: a B7 torch.save pickle is ~110 KB and builds
// ~40k values; the largest torchvision checkpoint (V2-L) is 455 MB.
#include <cstddef>
#include <cstdint>

namespace efficientnet {

// ---- JSON (safetensors headers, the weights registry, label files, Hugging Face config.json) ----
inline constexpr int kMaxJsonDepth = 64;                          // nesting of lists and objects
inline constexpr std::uint64_t kMaxJsonFileBytes = 16ull << 20;   // a registry, label or config file
inline constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;   // as safetensors' MAX_HEADER_SIZE

// ---- pickles (torch.save's data.pkl and the legacy stream) ----
// The unpickler's own memory (values, strings, containers, memo, stack) may grow to a base plus a multiple of the
// pickle bytes read so far: whatever a file makes us build, it pays for with its own size.
inline constexpr std::uint64_t kPickleMemoryBaseBytes = 64ull << 20;
inline constexpr std::uint64_t kPickleMemoryPerPickleByte = 32;
inline constexpr std::size_t kMaxPickleNesting = 4096;           // open MARKs at once
inline constexpr std::size_t kMaxPickleValues = std::size_t{1} << 22;   // values and memo entries

// ---- torch.save zip archives ----
// Records are checked against the zip's central directory before LibTorch inflates any: torch.save stores them
// uncompressed, so a record that inflates to far more than its compressed bytes is a zip bomb.
inline constexpr std::uint64_t kMaxZipInflatedBaseBytes = 64ull << 20;
inline constexpr std::uint64_t kMaxZipInflationRatio = 16;   // total inflated <= base + ratio x file size
inline constexpr std::size_t kMaxZipRecords = 1'000'000;

// ---- images and video ----
inline constexpr std::uintmax_t kMaxImageFileBytes = 256ull << 20;
// Largest image accepted, read from its header before any pixel is decoded. Overridable: the environment variable
// EFFICIENTNET_MAX_IMAGE_PIXELS, or setMaxImagePixels().
inline constexpr std::uint64_t kDefaultMaxImagePixels = 100'000'000ull;
inline constexpr std::uint64_t kMaxVideoFramePixels = 8192ull * 8192ull;   // frames a camera or video may deliver

} // namespace efficientnet
