#pragma once
// Fine-tuning on the user's own classes (issue 14): images in the ImageFolder layout (a subfolder per class, as
// torchvision's ImageFolder reads it), a base checkpoint, and the result written as safetensors whose metadata
// (describingMetadata) carries the new class names, the base network and its eval transform, so every place that
// loads weights classifies with it. Torch stays behind this header, as for the Classifier.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "efficientnet/checkpoint_info.h"
#include "efficientnet/errors.h"

namespace efficientnet {

// What trains. Head: the classifier only, on backbone features computed once and cached (seconds on a CPU for a
// few hundred images). LastStages: the last `stages` stages of features (the head convolution counts as one) and
// the classifier. All: everything. Frozen parts keep their BatchNorms in eval mode.
struct TrainScope {
    enum class Kind { Head, LastStages, All };
    Kind kind = Kind::Head;
    int stages = 0;   // LastStages only
};
// "head", "stages:N", "all"; throws ConfigError otherwise.
TrainScope parseTrainScope(const std::string& text);
std::string toString(const TrainScope& scope);

struct TrainingOptions {
    ModelRequest base;                  // the network, weights and transform to start from (weights empty: random,
                                        // only with randomWeights); its labels are replaced by the folders' names
    bool randomWeights = false;
    std::string trainDir;               // ImageFolder: DIR/<class>/<image>, walked recursively per class
    std::string valDir;                 // the same layout; empty: valSplit of each class is held out
    double valSplit = 0.2;              // 0: no validation
    int epochs = 10;
    int batchSize = 32;
    std::optional<double> learningRate; // default: 1e-3 for the head, 1e-4 when the backbone trains
    double weightDecay = 0.05;          // AdamW, on weights only (not biases nor BatchNorm parameters)
    double labelSmoothing = 0.1;
    double warmupFraction = 0.1;        // of all steps, linear warm-up; then cosine decay to zero
    TrainScope scope;
    std::uint64_t seed = 0;
    std::string device = "cpu";         // cpu | cuda
    std::string precision = "fp32";     // fp32 | fp16 | bf16: the forward under CUDA autocast (fp16 with dynamic loss
                                        // scaling); fp16 and bf16 only on cuda
    int headAugmentedViews = 1;         // Head: augmented views cached per training image, beside the eval view
    // Re-estimate the frozen backbone's BatchNorm statistics on the training images (eval view) before training, to
    // adapt pretrained statistics to the user's images. Not for random backbones: it makes their features worse
    // (tests/core/test_training.cpp: 0.50 against 1.00 without), as normalised random deep networks scramble input.
    bool reestimateBatchNorm = false;
};

// Reported during training. Steps count within the epoch; valAccuracy is set once the epoch is evaluated.
struct TrainingProgress {
    enum class Phase { Reading, Features, Training, Evaluated };
    Phase phase = Phase::Training;
    int epoch = 0;                      // 1-based; 0 before training
    int epochs = 0;
    int step = 0;                       // Reading / Features: images done; Training: batches done
    int steps = 0;
    double loss = 0;                    // mean training loss over the epoch so far
    std::optional<double> valAccuracy;  // top-1 in [0, 1]
    double seconds = 0;                 // this epoch's, or this phase's, so far
};

struct EpochSummary {
    int epoch = 0;
    double trainLoss = 0;
    std::optional<double> valAccuracy;
    double seconds = 0;
};

struct SkippedImage {
    std::string path;
    std::string reason;
};

struct TrainingResult {
    CheckpointInfo info;                // of the file written: classes, labels, network, transform
    std::vector<std::string> classes;
    int trainImages = 0;
    int valImages = 0;
    std::vector<SkippedImage> skipped;  // unreadable images, left out
    std::vector<EpochSummary> epochs;   // those completed
    int keptEpoch = 0;                  // whose weights were written: the best validation top-1 (the last on ties,
                                        // and the last epoch without validation)
    bool cancelled = false;
    double preparationSeconds = 0;      // decoding, and for the head the cached features
};

// Thrown when training is cancelled before its first epoch has ended (nothing is written).
class TrainingCancelled : public Error {
public:
    using Error::Error;
};

using TrainingCallback = std::function<void(const TrainingProgress&)>;
using CancelCheck = std::function<bool()>;

// Trains and writes `out` (safetensors, atomically). Cancelled after at least one epoch: the best epoch so far is
// written and result.cancelled is set; before that, nothing is written and TrainingCancelled is thrown. Deterministic for a
// seed on the CPU with the same thread count. Throws ConfigError (options, layout: fewer than two classes, a class
// without readable images, a validation class the training data lacks), CheckpointError (base weights).
TrainingResult trainClassifier(const TrainingOptions& options, const std::string& out,
                               const TrainingCallback& progress = {}, const CancelCheck& cancelled = {});

} // namespace efficientnet
