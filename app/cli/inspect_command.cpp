// efficientnet-cli inspect FILE|DIR [--json]: what a user needs before trusting a checkpoint. Nothing is built or
// run; the file is read by the same safe readers as classify.
#include <cstdint>
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "arguments.h"
#include "commands.h"
#include "model_options.h"
#include "efficientnet/checkpoint_info.h"
#include "efficientnet/printable.h"
#ifdef EFFICIENTNET_HAVE_DOWNLOAD
#include "efficientnet/download.h"
#endif

namespace efficientnet::cli {
namespace {

// 5288548 -> "5,288,548": a count read at a glance.
std::string withThousands(std::int64_t value)
{
    std::string digits = std::to_string(value);
    for (auto at = static_cast<std::ptrdiff_t>(digits.size()) - 3; at > (digits[0] == '-' ? 1 : 0); at -= 3)
        digits.insert(static_cast<size_t>(at), ",");
    return digits;
}

} // namespace

int runInspect(const std::vector<std::string>& argv)
{
    auto valueOptions = modelOptionNames();
    valueOptions.erase("weights");
    const Arguments args(argv, valueOptions, {"json"});
    if (args.positional().size() != 1)
        throw UsageError("inspect needs one checkpoint file or model folder");
    ModelRequest request = modelRequest(args);
    request.weights = args.positional().front();
    const CheckpointInfo info = inspectCheckpoint(request);
#ifdef EFFICIENTNET_HAVE_DOWNLOAD
    const std::string sha256 = sha256OfFile(info.weightsPath);
#else
    const std::string sha256 = "(not computed: this build has no OpenSSL)";
#endif
    nlohmann::json doc = modelJson(info);
    doc["file"] = info.weightsPath;
    doc["config"] = info.configPath.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.configPath);
    doc["format"] = info.format;
    doc["dtypes"] = info.dtypes;
    doc["parameters"] = info.parameters;
    doc["sha256"] = sha256;
    doc["metadata"] = info.metadata;
    if (args.flag("json")) {
        std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return kExitOk;
    }
    const auto row = [](const char* name, const std::string& value) {
        std::cout << std::left << std::setw(13) << name << " " << printable(value, 2000) << "\n";   // a long key too
    };
    row("file", info.weightsPath);
    if (!info.configPath.empty())
        row("config", info.configPath);
    row("format", info.format);
    row("sha256", sha256);
    row("keys", std::string(toString(info.keys)) + (info.trainedBy != info.keys
                                                        ? std::string(" (") + toString(info.trainedBy) + " weights)"
                                                        : std::string()));
    // A source's own name (timm's tf_efficientnet_b0, say) with the network it is; torchvision's names stand alone.
    const std::string network = info.name.display() == info.name.spec->name
                                    ? info.name.display()
                                    : info.name.display() + " = " + info.name.spec->name;
    row("network", network + ", " + toString(info.name.padding) + " padding (from " + info.nameOrigin + ")");
    row("classes", std::to_string(info.numClasses));
    std::string names;
    for (size_t i = 0; i < info.labels.names.size() && i < 5; ++i)
        names += (i ? ", " : "") + info.labels.names[i];
    row("labels", names + (info.labels.names.size() > 5 ? ", ..." : "") + " (" + info.labels.origin + ")");
    std::string dtypes;
    for (const auto& [dtype, count] : info.dtypes)
        dtypes += (dtypes.empty() ? "" : ", ") + std::to_string(count) + " " + dtype;
    row("tensors", dtypes);
    row("parameters", withThousands(info.parameters));
    row("transform", describe(info.transform.preprocessing) + " (" + info.transform.origin + ")");
    for (const auto& [key, value] : info.metadata)
        row(("meta " + key).c_str(), value);
    return kExitOk;
}

} // namespace efficientnet::cli
