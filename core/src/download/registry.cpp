// The weights registry: resources/weights_registry.json, schema in resources/weights_registry.md.
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <nlohmann/json.hpp>

#include "common/untrusted.h"
#include "efficientnet/download.h"
#include "efficientnet/errors.h"
#include "efficientnet/limits.h"
#include "efficientnet/platform.h"

namespace efficientnet {
namespace {

using json = nlohmann::json;

constexpr const char* kFormat = "efficientnet-weights-registry";
constexpr int kFormatVersion = 1;
constexpr std::size_t kFullDigestHexDigits = 64;
constexpr std::size_t kMinPrefixHexDigits = 8;   // torch.hub's file names carry 8 hex digits
const std::set<std::string> kEntryKeys{"source", "model", "url", "file", "sha256", "sha256_prefix", "note"};
const std::set<std::string> kCheckpointExtensions{".pth", ".pt", ".safetensors", ".bin"};   // findCachedWeights'

// Where in which file: every message names both, so a broken registry is fixed in one look.
struct Where {
    std::string path;
    std::string entry;

    [[noreturn]] void fail(const std::string& problem) const
    {
        // Entry names and values come from the file: escaped, so a hostile registry cannot write to the terminal.
        constexpr std::size_t kShownBytes = 1000;
        throw ConfigError(path + ": " + printable(entry, kShownBytes) + ": " + printable(problem, kShownBytes) +
                          " (the format is described in weights_registry.md)");
    }
};

std::string requiredString(const json& object, const char* key, const Where& where)
{
    const auto it = object.find(key);
    if (it == object.end() || !it->is_string() || it->get<std::string>().empty())
        where.fail(std::string("'") + key + "' must be a non-empty string");
    return it->get<std::string>();
}

WeightSource parseSource(const std::string& text, const Where& where)
{
    for (auto source : {WeightSource::Torchvision, WeightSource::Timm, WeightSource::Lukemelas})
        if (text == toString(source))
            return source;
    where.fail("'source' must be torchvision, timm or lukemelas, not '" + text + "'");
}

std::string extensionOf(const std::string& file)
{
    const auto dot = file.rfind('.');
    return dot == std::string::npos ? std::string() : file.substr(dot);
}

// Mirrors findCachedWeights: the file name is the model name followed by '.', '_' or '-'. Otherwise classify would
// not find the download by the name the registry tells the user to use.
bool namesModel(const std::string& file, const std::string& model)
{
    if (file.rfind(model, 0) != 0 || file.size() == model.size())
        return false;
    const char next = file[model.size()];
    return next == '.' || next == '_' || next == '-';
}

void checkFile(const WeightsDownload& d, const Where& where)
{
    // The name is joined to the cache folder: nothing that could climb out of it or hide in it.
    if (d.file.find_first_of("/\\") != std::string::npos || d.file.front() == '.')
        where.fail("'file' must be a plain file name, not '" + d.file + "'");
    if (!kCheckpointExtensions.count(extensionOf(d.file)))
        where.fail("'file' must end in .pth, .pt, .safetensors or .bin, not '" + d.file + "'");
    if (!namesModel(d.file, d.model))
        where.fail("'file' (" + d.file + ") must start with the model name '" + d.model +
                   "' and then '.', '_' or '-', so that classify --model " + d.model + " finds it");
}

void checkModel(const WeightsDownload& d, const Where& where)
{
    const VariantSpec* spec = nullptr;
    try {
        spec = resolveModelName(d.model).spec;
    } catch (const ConfigError& e) {
        where.fail(e.what());
    }
    if (spec->name != d.variant)
        where.fail("model '" + d.model + "' is not a " + d.variant);
}

void readHash(const json& object, WeightsDownload& d, const Where& where)
{
    const json sha = object.value("sha256", json());
    d.sha256IsPrefix = object.value("sha256_prefix", false);
    if (sha.is_null()) {
        // No hash is a deliberate statement of the registry's author, so it has to say why.
        if (d.note.empty())
            where.fail("an entry without 'sha256' needs a 'note' saying why it cannot be verified");
        if (d.sha256IsPrefix)
            where.fail("'sha256_prefix' is true but there is no 'sha256'");
        return;
    }
    if (!sha.is_string())
        where.fail("'sha256' must be a hex string or null");
    d.sha256 = sha.get<std::string>();
    for (auto& c : d.sha256) {
        if (!std::isxdigit(static_cast<unsigned char>(c)))
            where.fail("'sha256' must be hex digits, not '" + sha.get<std::string>() + "'");
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    const auto digits = d.sha256.size();
    if (!d.sha256IsPrefix && digits != kFullDigestHexDigits)
        where.fail("'sha256' must have 64 hex digits (or set 'sha256_prefix': true for a torch.hub prefix)");
    if (d.sha256IsPrefix && (digits < kMinPrefixHexDigits || digits >= kFullDigestHexDigits))
        where.fail("a 'sha256' prefix must have 8 to 63 hex digits");
}

WeightsDownload readEntry(const json& object, const std::string& variantName, const Where& where)
{
    if (!object.is_object())
        where.fail("must be an object");
    for (const auto& item : object.items())
        if (!kEntryKeys.count(item.key()))
            where.fail("unknown key '" + item.key() + "'");
    WeightsDownload d;
    d.variant = variantName;
    d.source = parseSource(requiredString(object, "source", where), where);
    d.model = requiredString(object, "model", where);
    d.url = requiredString(object, "url", where);
    d.file = requiredString(object, "file", where);
    if (object.contains("note"))
        d.note = requiredString(object, "note", where);
    if (d.url.rfind("https://", 0) != 0 && d.url.rfind("http://", 0) != 0)
        where.fail("'url' must be an http:// or https:// URL, not '" + d.url + "'");
    checkModel(d, where);
    checkFile(d, where);
    readHash(object, d, where);
    return d;
}

json parseFile(const std::string& path)
{
    std::error_code error;
    const auto file = platform::pathFromUtf8(path);
    const auto size = std::filesystem::file_size(file, error);
    std::ifstream in(file, std::ios::binary);
    if (error || !in)
        throw ConfigError(path + ": cannot open the weights registry; give another with --registry FILE");
    if (size > kMaxJsonFileBytes)
        throw ConfigError(path + ": the weights registry is " + std::to_string(size >> 20) + " MiB, more than the "
                          "limit of " + std::to_string(kMaxJsonFileBytes >> 20) + " MiB for a registry");
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::string problem;
    auto doc = parseUntrustedJson(text, problem);
    if (!doc)
        throw ConfigError(path + ": the weights registry " + problem);
    return std::move(*doc);
}

WeightsRegistry readRegistryDocument(const std::string& path, const json& doc)
{
    const Where top{path, "top level"};
    if (!doc.is_object() || doc.value("format", "") != kFormat)
        top.fail(std::string("'format' must be \"") + kFormat + "\"");
    // Not value<int>(): a number too large for an int (17777777777777777777 parses as a double) would convert with
    // undefined behaviour (found by fuzz_registry under UBSan).
    const auto version = doc.find("version");
    if (version == doc.end() || !version->is_number_integer() || version->get<int64_t>() != kFormatVersion)
        top.fail("'version' must be " + std::to_string(kFormatVersion));
    const auto variants = doc.find("variants");
    if (variants == doc.end() || !variants->is_object())
        top.fail("'variants' must be an object of variant name -> list of downloads");

    WeightsRegistry registry{path, {}};
    std::set<std::string> files;
    for (const auto& [name, list] : variants->items()) {
        const Where where{path, "variants." + name};
        try {
            variant(name);
        } catch (const ConfigError& e) {
            where.fail(e.what());
        }
        if (!list.is_array() || list.empty())
            where.fail("must be a non-empty list of downloads");
        for (std::size_t i = 0; i < list.size(); ++i) {
            const Where at{path, where.entry + "[" + std::to_string(i) + "]"};
            auto entry = readEntry(list[i], name, at);
            // Two entries sharing a cache file would overwrite each other's verified download.
            if (!files.insert(entry.file).second)
                at.fail("'file' " + entry.file + " is used by another entry");
            registry.downloads.push_back(std::move(entry));
        }
    }
    return registry;
}

} // namespace

WeightsRegistry readWeightsRegistry(const std::string& path)
{
    try {
        return readRegistryDocument(path, parseFile(path));
    } catch (const json::exception& e) {   // value() and get() on a value of another type than the format says
        throw ConfigError(path + ": the weights registry has a value of the wrong type (" + printable(e.what(), 300) +
                          ") (the format is described in weights_registry.md)");
    }
}

const WeightsDownload& findDownload(const WeightsRegistry& registry, const std::string& modelName,
                                    std::optional<WeightSource> source)
{
    const ModelName name = resolveModelName(modelName);   // ConfigError for names classify would not take either
    std::vector<const WeightsDownload*> candidates;
    for (const auto& d : registry.downloads)
        if (d.variant == name.spec->name && (!source || d.source == *source))
            candidates.push_back(&d);
    for (const auto* d : candidates)
        if (d->model == modelName)
            return *d;
    // Another name of the variant: an explicit source wins; otherwise only weights made for the same padding.
    for (const auto* d : candidates)
        if (source || resolveModelName(d->model).padding == name.padding)
            return *d;

    std::string available;
    for (const auto& d : registry.downloads)
        if (d.variant == name.spec->name)
            available += (available.empty() ? "" : ", ") + d.model + " (" + toString(d.source) + ")";
    throw ConfigError(registry.path + ": no download for " + modelName +
                      (source ? std::string(" from ") + toString(*source) : std::string()) + "; it has " +
                      (available.empty() ? "none for " + name.spec->name : available));
}

} // namespace efficientnet
