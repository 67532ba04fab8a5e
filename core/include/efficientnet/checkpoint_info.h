#pragma once
// What a checkpoint says about itself, and what classifying with it means (which network, how many classes, their
// names, which eval transform), worked out from the file alone or with what the user says. Every source a user
// brings is covered: torchvision, timm (any tag), lukemelas, Hugging Face model folders (config.json beside
// model.safetensors, as timm's push_to_hf_hub writes them), files this program wrote (their safetensors metadata),
// and fine-tuned models with any number of classes. Torch-free.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "efficientnet/transforms.h"
#include "efficientnet/variants.h"

namespace efficientnet {

// Class names and where they come from ("--labels pets.txt", "config.json label_names", "ImageNet-1k").
struct LabelSet {
    std::vector<std::string> names;
    std::string origin;
};

// Reads class names: text (one per line), a JSON list (["cat", ...]), a JSON object ({"0": "cat", ...}) or one
// holding "label_names" or "id2label" (Hugging Face configs). Throws Error naming the file and the problem.
LabelSet readLabelsFile(const std::string& path);

// Largest head accepted from a file (timm's largest tags have 21,843 and 11,821 classes).
inline constexpr int kMaxClasses = 1'000'000;

// What the user asks for; every field may be left empty for the file to decide.
struct ModelRequest {
    std::string model;                           // a name resolveModelName() takes; empty: what the file says
    bool modelIsPreference = false;              // use `model` only if the file fits its variant, else the file's
    std::string weights;                         // a checkpoint file or a model folder; empty: random weights
    std::optional<WeightSource> source;          // the checkpoint's key naming; nullopt: from its keys
    std::string labelsFile;                      // class names given by hand
    TransformOverrides overrides;                // transform values given by hand
    std::vector<std::string> imagenetLabels;     // names for a 1000-class head that has none of its own
};

struct CheckpointInfo {
    std::string weightsPath;                     // the tensors' file (model.safetensors inside a folder)
    std::string configPath;                      // the config.json read; empty: none
    std::string format;                          // "torch.save zip", "torch.save legacy", "safetensors", "random"
    WeightSource keys = WeightSource::Torchvision;     // whose key naming the tensors use
    WeightSource trainedBy = WeightSource::Torchvision; // whose weights they are (a converted file keeps it)
    ModelName name{};                            // the network that is built
    std::string nameOrigin;                      // "--model", "the file's metadata", "config.json", "its tensors' shapes"
    int numClasses = 1000;
    Transform transform;
    LabelSet labels;                             // numClasses names
    std::map<std::string, int> dtypes;           // "float32" -> tensor count
    std::int64_t parameters = 0;                 // as torch's model.parameters() counts: BatchNorm buffers left out
    std::map<std::string, std::string> metadata; // safetensors __metadata__ as read
};

// Reads the checkpoint (or folder) and works out everything above without building the network. Throws
// CheckpointError (the file) or ConfigError (a model name, tag or override) with what is wrong and what to do, e.g.
// "is an efficientnet_b3 checkpoint (torchvision keys), not efficientnet_b0: use --model efficientnet_b3".
CheckpointInfo inspectCheckpoint(const ModelRequest& request);

// The __metadata__ this program writes into safetensors (convert, training) so that the file alone classifies
// correctly: architecture, variant, padding, source, num_classes, preprocessing (JSON), labels (JSON list).
std::map<std::string, std::string> describingMetadata(const CheckpointInfo& info);

} // namespace efficientnet
