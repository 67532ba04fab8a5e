#include "efficientnet/weights.h"

#include <set>
#include <sstream>
#include <unordered_map>

#include <torch/torch.h>

#include "efficientnet/errors.h"
#include "efficientnet/printable.h"
#include "efficientnet/convert.h"
#include "efficientnet/keymap.h"
#include "model/resolve.h"

namespace efficientnet {
namespace {

constexpr size_t kMaxNamedKeys = 8;   // enough to see the pattern without flooding the terminal
constexpr const char* kBatchesTracked = "num_batches_tracked";

std::string listKeys(const std::vector<std::string>& keys)
{
    std::ostringstream out;
    for (size_t i = 0; i < keys.size() && i < kMaxNamedKeys; ++i)
        out << (i ? ", " : "") << printable(keys[i]);   // the checkpoint's own names: escaped
    if (keys.size() > kMaxNamedKeys)
        out << " and " << keys.size() - kMaxNamedKeys << " more";
    return out.str();
}

std::string shapeString(const torch::Tensor& t)
{
    std::ostringstream out;
    out << t.sizes();
    return out.str();
}

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> keysOf(const NamedTensors& tensors)
{
    std::vector<std::string> keys;
    keys.reserve(tensors.size());
    for (const auto& [name, tensor] : tensors)
        keys.push_back(name);
    return keys;
}

} // namespace

NamedTensors toTorchvisionKeys(const NamedTensors& tensors, const VariantSpec& spec,
                               std::optional<WeightSource> source, const std::string& path, WeightSource* detected)
{
    if (!source)
        source = detectWeightSource(keysOf(tensors));
    if (!source)
        throw CheckpointError(path, "cannot tell whose checkpoint this is: its keys (" + listKeys(keysOf(tensors)) +
                                        ") are neither torchvision's, timm's nor lukemelas's EfficientNet keys");
    if (*source == WeightSource::Lukemelas && spec.headChannels != 0)
        throw CheckpointError(path, "lukemelas/EfficientNet-PyTorch has no " + spec.name + "; choose a B0-B7 model");
    if (detected)
        *detected = *source;
    const auto prefixes = keyPrefixMap(spec, *source);
    NamedTensors mapped;
    mapped.reserve(tensors.size());
    std::vector<std::string> unplaced;
    for (const auto& [key, tensor] : tensors) {
        if (auto tvKey = toTorchvisionKey(key, prefixes))
            mapped.emplace_back(*tvKey, tensor);
        else
            unplaced.push_back(key);
    }
    if (!unplaced.empty())
        throw CheckpointError(path, std::string("unexpected keys for ") + toString(*source) + " " + spec.name +
                                        ": " + listKeys(unplaced) + " (is it a checkpoint of another variant?)");
    return mapped;
}

void loadStateDict(EfficientNet& model, const NamedTensors& tensors, const std::string& path)
{
    std::unordered_map<std::string, torch::Tensor> targets;
    for (const auto& item : model->named_parameters())
        targets.emplace(item.key(), item.value());
    for (const auto& item : model->named_buffers())
        targets.emplace(item.key(), item.value());

    std::set<std::string> seen;
    std::vector<std::string> unexpected, misshaped;
    for (const auto& [key, tensor] : tensors) {
        const auto it = targets.find(key);
        if (it == targets.end()) {
            unexpected.push_back(key);
        } else if (!it->second.sizes().equals(tensor.sizes())) {
            misshaped.push_back(key + " (checkpoint " + shapeString(tensor) + ", model " + shapeString(it->second) + ")");
        } else if (!seen.insert(key).second) {
            unexpected.push_back(key + " (twice)");
        }
    }
    std::vector<std::string> missing;
    for (const auto& [key, target] : targets)
        if (!seen.count(key) && !endsWith(key, kBatchesTracked))
            missing.push_back(key);
    std::sort(missing.begin(), missing.end());

    const std::string variantName = model->spec().name;
    if (!misshaped.empty())
        throw CheckpointError(path, "does not fit " + variantName + ": mis-shaped " + listKeys(misshaped) +
                                        " (is it a checkpoint of another variant?)");
    if (!missing.empty() || !unexpected.empty())
        throw CheckpointError(path, "does not fit " + variantName + ":" +
                                        (missing.empty() ? "" : " missing " + listKeys(missing)) +
                                        (unexpected.empty() ? "" : " unexpected " + listKeys(unexpected)) +
                                        " (is it a checkpoint of another variant?)");

    torch::NoGradGuard noGrad;
    for (const auto& [key, tensor] : tensors)
        targets.at(key).copy_(tensor);
}

LoadedWeights loadWeights(EfficientNet& model, const std::string& path, std::optional<WeightSource> source)
{
    WeightSource detected = WeightSource::Torchvision;
    const auto mapped = toTorchvisionKeys(readCheckpoint(path), model->spec(), source, path, &detected);
    loadStateDict(model, mapped, path);
    return {detected, mapped.size()};
}

NamedTensors stateDict(const EfficientNet& model)
{
    NamedTensors tensors;
    for (const auto& item : model->named_parameters())
        tensors.emplace_back(item.key(), item.value().detach());
    for (const auto& item : model->named_buffers())
        tensors.emplace_back(item.key(), item.value().detach());
    return tensors;
}

} // namespace efficientnet

namespace efficientnet {

ConversionResult convertCheckpoint(const ModelRequest& request, const std::string& to)
{
    ResolvedCheckpoint resolved = resolveCheckpoint(request);
    const CheckpointInfo& info = resolved.info;
    EfficientNet probe(EfficientNetOptions(info.name.spec->name).numClasses(info.numClasses));
    loadStateDict(probe, resolved.tensors, info.weightsPath);   // throws, naming the keys, when they do not fit
    writeSafetensors(to, resolved.tensors, describingMetadata(info));
    return {info, resolved.tensors.size()};
}

} // namespace efficientnet
