#include "model_options.h"

#include <array>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "efficientnet/classifier.h"
#include "efficientnet/errors.h"
#include "efficientnet/printable.h"

namespace efficientnet::cli {
namespace {

using json = nlohmann::json;

constexpr const char* kLabelsFile = "imagenet_classes.txt";
constexpr int kMaxSide = 8192;
constexpr size_t kLabelsShown = 5;

std::array<float, 3> parseTriple(const std::string& option, const std::string& text)
{
    std::array<float, 3> values{};
    std::istringstream in(text);
    std::string part;
    size_t count = 0;
    while (std::getline(in, part, ',')) {
        if (count == 3)
            throw UsageError("--" + option + " takes three numbers separated by commas, e.g. 0.5,0.5,0.5");
        try {
            size_t used = 0;
            values[count] = std::stof(part, &used);
            if (used != part.size())
                throw std::invalid_argument(part);
        } catch (const std::exception&) {
            throw UsageError("--" + option + ": '" + part + "' is not a number");
        }
        ++count;
    }
    if (count != 3)
        throw UsageError("--" + option + " takes three numbers separated by commas, e.g. 0.5,0.5,0.5");
    return values;
}

json transformJson(const Transform& t)
{
    const auto& p = t.preprocessing;
    return {{"resize", p.resizeSize},
            {"resize_mode", p.resizeMode == ResizeMode::Squash ? "squash" : "shorter"},
            {"crop", p.cropSize},
            {"interpolation", toString(p.interpolation)},
            {"mean", p.mean},
            {"std", p.std},
            {"origin", t.origin}};
}

} // namespace

std::set<std::string> modelOptionNames()
{
    return {"model", "weights", "source", "labels", "resize", "crop", "interpolation", "mean", "std", "resize-mode"};
}

std::vector<std::string> imagenetLabels()
{
    const std::string path = resourcesDir() + "/" + kLabelsFile;
    try {
        return readLabels(path);
    } catch (const Error& e) {
        std::cerr << "warning: " << printable(e.what(), 1000) << "; predictions show class numbers only\n";
        return {};
    }
}

ModelRequest modelRequest(const Arguments& args)
{
    // Both would run on one of them without a word (the weights, until this was found by a user's eye).
    if (args.has("weights") && args.flag("random-weights"))
        throw UsageError("give --weights FILE or --random-weights, not both");
    ModelRequest request;
    request.model = args.value("model");
    request.weights = args.value("weights");
    request.source = parseSourceOption(args.value("source"));
    request.labelsFile = args.value("labels");
    auto& o = request.overrides;
    if (args.has("resize"))
        o.resize = args.intValue("resize", 0, 1, kMaxSide);
    if (args.has("crop"))
        o.crop = args.intValue("crop", 0, 1, kMaxSide);
    if (args.has("interpolation")) {
        const std::string text = args.value("interpolation");
        if (text != "bilinear" && text != "bicubic")
            throw UsageError("--interpolation must be bilinear or bicubic, not '" + text + "'");
        o.interpolation = text == "bicubic" ? Interpolation::Bicubic : Interpolation::Bilinear;
    }
    if (args.has("mean"))
        o.mean = parseTriple("mean", args.value("mean"));
    if (args.has("std"))
        o.std = parseTriple("std", args.value("std"));
    if (args.has("resize-mode")) {
        const std::string text = args.value("resize-mode");
        if (text != "shorter" && text != "squash")
            throw UsageError("--resize-mode must be shorter (keep the aspect ratio) or squash, not '" + text + "'");
        o.resizeMode = text == "squash" ? ResizeMode::Squash : ResizeMode::ShorterSide;
    }
    request.imagenetLabels = imagenetLabels();
    return request;
}

std::string describeModel(const CheckpointInfo& info)
{
    std::string text = info.name.display() + " (";
    if (info.format == "random")
        text += "random weights";
    else
        text += std::string(toString(info.keys)) + " keys" +
                (info.trainedBy != info.keys ? std::string(", ") + toString(info.trainedBy) + " weights" : "");
    text += "; network from " + info.nameOrigin + "), " + std::to_string(info.numClasses) + " classes (labels: " +
            printable(info.labels.origin, 300) + "); transform: " + describe(info.transform.preprocessing) + " (" +
            info.transform.origin + ")";
    return text;
}

nlohmann::json modelJson(const CheckpointInfo& info)
{
    json first = json::array();
    for (size_t i = 0; i < info.labels.names.size() && i < kLabelsShown; ++i)
        first.push_back(info.labels.names[i]);
    return {{"architecture", info.name.display()},
            {"variant", info.name.spec->name},
            {"padding", toString(info.name.padding)},
            {"network_from", info.nameOrigin},
            {"keys", info.format == "random" ? json(nullptr) : json(toString(info.keys))},
            {"trained_by", info.format == "random" ? json(nullptr) : json(toString(info.trainedBy))},
            {"classes", info.numClasses},
            {"labels", {{"origin", info.labels.origin}, {"first", first}}},
            {"transform", transformJson(info.transform)}};
}

} // namespace efficientnet::cli
