// Fine-tuning (training.h). The recipe is the usual transfer-learning one (torchvision's reference scripts, timm's
// train.py): AdamW with decoupled weight decay on weights only, linear warm-up then cosine decay per step, label
// smoothing, RandomResizedCrop + flip. With the head only, the frozen backbone is run once per cached view and the
// classifier trains on the pooled features, which is what makes a few hundred images train in seconds on a CPU.
#include "efficientnet/training.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <numeric>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "efficientnet/checkpoint.h"
#include "efficientnet/errors.h"
#include "efficientnet/imaging.h"
#include "efficientnet/model.h"
#include "efficientnet/preprocess.h"
#include "efficientnet/training_step.h"
#include "efficientnet/weights.h"
#include "model/resolve.h"
#include "training/augment.h"
#include "training/image_folder.h"
#include "training/optimizer.h"
#include "training/random.h"

namespace efficientnet {

TrainScope parseTrainScope(const std::string& text)
{
    static const std::string kStagesPrefix = "stages:";
    if (text == "head")
        return {TrainScope::Kind::Head, 0};
    if (text == "all")
        return {TrainScope::Kind::All, 0};
    if (text.rfind(kStagesPrefix, 0) == 0) {
        const std::string number = text.substr(kStagesPrefix.size());
        if (!number.empty() && number.size() <= 3 && std::all_of(number.begin(), number.end(), [](unsigned char c) { return std::isdigit(c) != 0; }) &&
            std::stoi(number) >= 1)
            return {TrainScope::Kind::LastStages, std::stoi(number)};
    }
    throw ConfigError("'" + text + "' is not a training scope: use head, stages:N (N >= 1) or all");
}

std::string toString(const TrainScope& scope)
{
    switch (scope.kind) {
    case TrainScope::Kind::Head: return "head";
    case TrainScope::Kind::All: return "all";
    case TrainScope::Kind::LastStages: return "stages:" + std::to_string(scope.stages);
    }
    return "head";
}

namespace {

using Clock = std::chrono::steady_clock;
using training::Random;

constexpr double kHeadLearningRate = 1e-3;
constexpr double kBackboneLearningRate = 1e-4;
constexpr int kFeatureBatch = 32;            // images per forward when caching features or evaluating
// ... except for the frozen backbone's features on the CPU: its inference form there (oneDNN, blocked layout) is
// several times faster per image one at a time than in batches (efficientnet-bench --device cpu --batches 1,4,32 on
// the 2-core machine: 16.8, 11.3 and 3.9 img/s), as larger activations fall out of cache.
constexpr int kCpuFeatureBatch = 1;
constexpr int kShorterSideOverResize = 2;    // decoded training photos kept at up to twice the resize size
constexpr double kMaxChannelValue = 255.0;
constexpr double kPi = 3.14159265358979323846;
constexpr double kFeatureStdFloor = 1e-6;    // relative to the largest feature std: constant features stay ~0
constexpr double kTinyStd = 1e-30;           // and an all-constant set does not divide by zero
constexpr double kProbeInitStd = 0.01;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

void validate(const TrainingOptions& o)
{
    if (o.trainDir.empty())
        throw ConfigError("training needs a data folder (DATA/<class>/<images>)");
    if (o.epochs < 1)
        throw ConfigError("epochs must be at least 1");
    if (o.batchSize < 1)
        throw ConfigError("the batch size must be at least 1");
    if (!(o.valSplit >= 0 && o.valSplit < 1))
        throw ConfigError("the validation split must be in [0, 1)");
    if (o.learningRate && !(*o.learningRate > 0 && std::isfinite(*o.learningRate)))
        throw ConfigError("the learning rate must be a positive number");
    if (!(o.weightDecay >= 0) || !(o.labelSmoothing >= 0 && o.labelSmoothing < 1) ||
        !(o.warmupFraction >= 0 && o.warmupFraction < 1))
        throw ConfigError("weight decay must be >= 0, label smoothing and warm-up fraction in [0, 1)");
    if (o.headAugmentedViews < 0)
        throw ConfigError("augmented views must be >= 0");
    if (o.device != "cpu" && o.device != "cuda")
        throw ConfigError("training device '" + o.device + "': use cpu or cuda");
    if (o.device == "cuda" && !torch::cuda::is_available())
        throw ConfigError("training on cuda was asked for but no CUDA device is usable");
    if (parsePrecision(o.precision) != Precision::Float32 && o.device != "cuda")
        throw ConfigError("training in " + o.precision + " needs --device cuda (on the CPU it trains in fp32)");
    if (o.base.weights.empty() && !o.randomWeights)
        throw ConfigError("training needs base weights (--weights FILE), or --random-weights to start from random "
                          "ones");
}

// Decoded images of one split, with their eval views ([3, crop, crop], normalised).
struct Split {
    std::vector<Image> images;    // training: for augmentation; validation: left empty
    std::vector<torch::Tensor> evalViews;
    std::vector<int64_t> labels;
    std::size_t size() const { return labels.size(); }
};

Split readSplit(const std::vector<training::LabelledFile>& files, const Preprocessing& p, bool keepImages,
                std::vector<SkippedImage>& skipped, const std::function<void(int)>& onImage)
{
    Split split;
    int done = 0;
    for (const auto& file : files) {
        try {
            Image image = decodeImageFile(file.path);
            split.evalViews.push_back(preprocess(image, p));
            if (keepImages)
                split.images.push_back(training::shrinkToShorterSide(image, kShorterSideOverResize * p.resizeSize));
            split.labels.push_back(file.label);
        } catch (const std::exception& e) {   // ImageError, or any other reason this one file cannot be used
            skipped.push_back({file.path, e.what()});
        }
        onImage(++done);
    }
    return split;
}

torch::Tensor normalised(const std::vector<std::uint8_t>& hwc, const Preprocessing& p)
{
    const auto x = torch::from_blob(const_cast<std::uint8_t*>(hwc.data()), {p.cropSize, p.cropSize, 3}, torch::kUInt8)
                       .permute({2, 0, 1})
                       .to(torch::kFloat32);
    const auto mean = torch::tensor({p.mean[0], p.mean[1], p.mean[2]}).view({3, 1, 1});
    const auto std = torch::tensor({p.std[0], p.std[1], p.std[2]}).view({3, 1, 1});
    return ((x / kMaxChannelValue - mean) / std).contiguous();
}

std::vector<std::shared_ptr<torch::nn::BatchNorm2dImpl>> batchNorms(torch::nn::Module& module)
{
    std::vector<std::shared_ptr<torch::nn::BatchNorm2dImpl>> found;
    for (const auto& m : module.modules(/*include_self=*/false))
        if (auto bn = std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(m))
            found.push_back(bn);
    return found;
}

// Pooled backbone features [N, C] of `views` (eval mode, no gradient).
torch::Tensor pooledFeatures(EfficientNet& model, const std::vector<torch::Tensor>& views, const torch::Device& device,
                             const std::function<void(int)>& onDone)
{
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> parts;
    const std::size_t step = device.is_cpu() ? kCpuFeatureBatch : kFeatureBatch;
    for (std::size_t begin = 0; begin < views.size(); begin += step) {
        const std::size_t end = std::min(views.size(), begin + step);
        const auto batch = torch::stack(std::vector<torch::Tensor>(views.begin() + begin, views.begin() + end)).to(device);
        parts.push_back(torch::adaptive_avg_pool2d(model->forwardFeatures(batch), {1, 1}).flatten(1));
        onDone(static_cast<int>(end));
    }
    return parts.empty() ? torch::empty({0}) : torch::cat(parts);
}

// BatchNorm statistics re-estimated on `views`: a cumulative average over one pass (PyTorch's momentum=None), with
// everything else in eval mode so stochastic depth and dropout stay off.
void reestimateBatchNorm(EfficientNet& model, const std::vector<torch::Tensor>& views, const torch::Device& device)
{
    model->eval();
    const auto norms = batchNorms(*model);
    for (const auto& bn : norms) {
        bn->reset_running_stats();
        // An empty momentum (c10::optional in LibTorch 1.13, std::optional in 2.x) means the cumulative average.
        bn->options.momentum(std::decay_t<decltype(bn->options.momentum())>());
        bn->train();
    }
    torch::NoGradGuard noGrad;
    for (std::size_t begin = 0; begin < views.size(); begin += kFeatureBatch) {
        const std::size_t end = std::min(views.size(), begin + kFeatureBatch);
        model->forwardFeatures(torch::stack(std::vector<torch::Tensor>(views.begin() + begin, views.begin() + end)).to(device));
    }
    const double momentum = model->spec().bnMomentum;
    for (const auto& bn : norms) {
        bn->options.momentum(momentum);
        bn->eval();
    }
}

// Warm-up from lr/steps to lr, then cosine to zero (timm's scheduler with warmup_prefix, per step).
double scheduledRate(double peak, int64_t step, int64_t warmup, int64_t total)
{
    if (step < warmup)
        return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
    const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
    return 0.5 * peak * (1.0 + std::cos(kPi * progress));
}

NamedTensors cloneState(const EfficientNet& model)
{
    NamedTensors state = stateDict(model);
    for (auto& [key, tensor] : state)
        tensor = tensor.to(torch::kCPU).clone();
    return state;
}

// The head trained on (f - mean) / scale as one Linear on f: W' = W / scale, b' = b - W' mean.
void foldStandardisation(NamedTensors& state, const torch::Tensor& mean, const torch::Tensor& scale)
{
    torch::Tensor* weight = nullptr;
    torch::Tensor* bias = nullptr;
    for (auto& [key, tensor] : state) {
        if (key == "classifier.1.weight")
            weight = &tensor;
        else if (key == "classifier.1.bias")
            bias = &tensor;
    }
    TORCH_CHECK(weight && bias, "the classifier's Linear is missing from the state");
    const auto folded = *weight / scale.to(torch::kCPU).unsqueeze(0);
    *bias = *bias - folded.matmul(mean.to(torch::kCPU));
    *weight = folded.contiguous();
}

} // namespace

TrainingResult trainClassifier(const TrainingOptions& options, const std::string& out,
                               const TrainingCallback& progress, const CancelCheck& cancelled)
{
    validate(options);
    const auto report = [&](const TrainingProgress& p) {
        if (progress)
            progress(p);
    };
    const auto stopRequested = [&] { return cancelled && cancelled(); };
    const auto preparationStart = Clock::now();
    torch::manual_seed(options.seed);
    Random random(options.seed);
    const torch::Device device(options.device == "cuda" ? torch::kCUDA : torch::kCPU);

    TrainingResult result;
    training::ImageFolder data = training::listImageFolder(options.trainDir);
    if (data.classes.size() < 2)
        throw ConfigError(options.trainDir + ": has " + std::to_string(data.classes.size()) +
                          " class folder; training needs at least two (" + options.trainDir + "/<class>/<images>)");
    result.classes = data.classes;
    const int numClasses = static_cast<int>(data.classes.size());
    std::vector<training::LabelledFile> valFiles;
    if (!options.valDir.empty())
        valFiles = training::listImageFolder(options.valDir, data.classes).files;
    else
        valFiles = training::splitValidation(data.files, options.valSplit, random);

    // The base network, its weights and its eval transform; its own head and labels are replaced.
    ModelRequest request = options.base;
    request.labelsFile.clear();
    ResolvedCheckpoint base = resolveCheckpoint(request);
    const Preprocessing& p = base.info.transform.preprocessing;

    const int totalFiles = static_cast<int>(data.files.size() + valFiles.size());
    const auto reading = [&](int offset) {
        return [&, offset](int done) {
            report({TrainingProgress::Phase::Reading, 0, options.epochs, offset + done, totalFiles, 0, {},
                    secondsSince(preparationStart)});
        };
    };
    Split train = readSplit(data.files, p, true, result.skipped, reading(0));
    Split val = readSplit(valFiles, p, false, result.skipped, reading(static_cast<int>(data.files.size())));
    std::vector<int> perClass(numClasses, 0);
    for (const auto label : train.labels)
        ++perClass[label];
    for (int c = 0; c < numClasses; ++c)
        if (perClass[c] == 0)
            throw ConfigError(options.trainDir + "/" + data.classes[c] + ": no readable training images for class '" +
                              data.classes[c] + "' (add images, or remove the folder)");
    result.trainImages = static_cast<int>(train.size());
    result.valImages = static_cast<int>(val.size());

    EfficientNet model(EfficientNetOptions(base.info.name.spec->name)
                           .padding(base.info.name.padding)
                           .bnEps(base.info.name.bnEps)
                           .numClasses(numClasses));
    if (!base.tensors.empty()) {
        NamedTensors tensors;
        for (auto& [key, tensor] : base.tensors)
            if (key.rfind("classifier.", 0) != 0)
                tensors.emplace_back(key, std::move(tensor));
        for (const auto& item : model->named_parameters())   // the new head keeps its fresh initialisation
            if (item.key().rfind("classifier.", 0) == 0)
                tensors.emplace_back(item.key(), item.value().detach().clone());
        loadStateDict(model, tensors, base.info.weightsPath);
        base.tensors.clear();
    }
    model->to(device);
    training::toChannelsLast(*model, device);
    if (options.reestimateBatchNorm)
        reestimateBatchNorm(model, train.evalViews, device);

    // What trains. Everything else is frozen: no gradient, and its BatchNorms in eval mode throughout.
    const bool headOnly = options.scope.kind == TrainScope::Kind::Head;
    const auto featureStages = model->named_children()["features"]->children();
    const int stageCount = static_cast<int>(featureStages.size()) - 1;            // without the stem
    if (options.scope.kind == TrainScope::Kind::LastStages && options.scope.stages > stageCount)
        throw ConfigError(toString(options.scope) + ": " + base.info.name.spec->name + " has " +
                          std::to_string(stageCount) + " stages after its stem (use all to train everything)");
    const std::size_t firstTrained = options.scope.kind == TrainScope::Kind::All ? 0
                                     : headOnly ? featureStages.size()
                                                : featureStages.size() - options.scope.stages;
    for (auto& parameter : model->parameters())
        parameter.set_requires_grad(false);
    std::vector<torch::Tensor> trained;
    const auto trainable = [&](const std::shared_ptr<torch::nn::Module>& module) {
        for (auto& parameter : module->parameters()) {
            parameter.set_requires_grad(true);
            trained.push_back(parameter);
        }
    };
    for (std::size_t i = firstTrained; i < featureStages.size(); ++i)
        trainable(featureStages[i]);
    if (headOnly) {
        // A linear probe starts near zero (MAE's linear probing: trunc_normal std 0.01, zero bias), so that its first
        // logits on standardised features are small and its loss starts at log(classes).
        torch::NoGradGuard noGrad;
        for (const auto& item : model->named_parameters())
            if (item.key() == "classifier.1.weight")
                item.value().normal_(0, kProbeInitStd).clamp_(-2 * kProbeInitStd, 2 * kProbeInitStd);
            else if (item.key() == "classifier.1.bias")
                item.value().zero_();
    }
    const auto classifier = model->named_children()["classifier"];   // dropout, linear
    trainable(classifier);
    const auto setTrainingMode = [&] {
        model->train();
        for (std::size_t i = 0; i < firstTrained; ++i)
            featureStages[i]->eval();
    };

    // Head only: the frozen backbone's pooled features, once per view. View 0 is the eval transform, the others
    // augmented; each epoch draws one view per image.
    const int views = headOnly ? 1 + options.headAugmentedViews : 0;
    torch::Tensor trainFeatures, valFeatures, featureMean, featureScale;
    if (headOnly) {
        // The frozen backbone runs in the inference form the Classifier uses (BatchNorm folded into the convolutions,
        // oneDNN on the CPU): about twice as fast, and the features the head learns on are those it meets when
        // classifying. A copy: that form cannot train.
        EfficientNet extractor(EfficientNetOptions(base.info.name.spec->name)
                                   .padding(base.info.name.padding)
                                   .bnEps(base.info.name.bnEps)
                                   .numClasses(numClasses));
        loadStateDict(extractor, stateDict(model), "the network being trained");
        extractor->prepareForInference(device, torch::kFloat32, /*channelsLast=*/device.is_cuda());
        std::vector<torch::Tensor> inputs;
        inputs.reserve(train.size() * views);
        for (std::size_t i = 0; i < train.size(); ++i) {
            inputs.push_back(train.evalViews[i]);
            for (int v = 1; v < views; ++v)
                inputs.push_back(normalised(training::augment(train.images[i], p, {}, random), p));
        }
        const int featureTotal = static_cast<int>(inputs.size() + val.size());
        const auto featuresDone = [&](int offset) {
            return [&, offset](int done) {
                report({TrainingProgress::Phase::Features, 0, options.epochs, offset + done, featureTotal, 0, {},
                        secondsSince(preparationStart)});
            };
        };
        trainFeatures = pooledFeatures(extractor, inputs, device, featuresDone(0));
        valFeatures = pooledFeatures(extractor, val.evalViews, device, featuresDone(static_cast<int>(inputs.size())));
        // The head learns on standardised features (each dimension's training mean and std), as linear probes are
        // fitted: backbone features differ in scale by orders of magnitude (a random backbone's by 1e-14 to 1e2),
        // which leaves AdamW's one step size badly suited to most of them. Folded into the Linear when saved.
        featureMean = trainFeatures.mean(0);
        featureScale = trainFeatures.std(0) + kFeatureStdFloor * trainFeatures.std(0).max() + kTinyStd;
        trainFeatures = (trainFeatures - featureMean) / featureScale;
        if (val.size() > 0)
            valFeatures = (valFeatures - featureMean) / featureScale;
        train.images.clear();
        train.evalViews.clear();
    }
    const auto valLabels = torch::tensor(val.labels, torch::kInt64).to(device);
    result.preparationSeconds = secondsSince(preparationStart);

    const auto validationAccuracy = [&]() -> std::optional<double> {
        if (val.size() == 0)
            return std::nullopt;
        torch::NoGradGuard noGrad;
        model->eval();
        torch::Tensor logits;
        if (headOnly)
            logits = classifier->as<torch::nn::Sequential>()->forward(valFeatures);
        else {
            std::vector<torch::Tensor> parts;
            for (std::size_t begin = 0; begin < val.size(); begin += kFeatureBatch) {
                const std::size_t end = std::min(val.size(), begin + kFeatureBatch);
                parts.push_back(model->forward(
                    torch::stack(std::vector<torch::Tensor>(val.evalViews.begin() + begin, val.evalViews.begin() + end))
                        .to(device)));
            }
            logits = torch::cat(parts);
        }
        return logits.argmax(1).eq(valLabels).to(torch::kFloat64).mean().item<double>();
    };

    const double peakRate =
        options.learningRate.value_or(headOnly ? kHeadLearningRate : kBackboneLearningRate);
    const auto optimizer = training::makeOptimizer(trained, peakRate, options.weightDecay);
    const auto precision = parsePrecision(options.precision);
    training::LossScaler scaler(precision == Precision::Float16);

    const int64_t trainCount = static_cast<int64_t>(train.size());
    const int stepsPerEpoch = static_cast<int>((trainCount + options.batchSize - 1) / options.batchSize);
    const int64_t totalSteps = static_cast<int64_t>(stepsPerEpoch) * options.epochs;
    const int64_t warmupSteps = static_cast<int64_t>(std::lround(options.warmupFraction * totalSteps));
    int64_t globalStep = 0;
    NamedTensors kept;
    std::optional<double> bestAccuracy;
    std::vector<int64_t> order(trainCount);
    std::iota(order.begin(), order.end(), 0);

    for (int epoch = 1; epoch <= options.epochs && !result.cancelled; ++epoch) {
        const auto epochStart = Clock::now();
        random.shuffle(order);
        double lossSum = 0;
        int64_t seen = 0;
        setTrainingMode();
        for (int step = 0; step < stepsPerEpoch; ++step, ++globalStep) {
            if (stopRequested()) {
                result.cancelled = true;
                break;
            }
            const int64_t begin = static_cast<int64_t>(step) * options.batchSize;
            const int64_t end = std::min(trainCount, begin + options.batchSize);
            std::vector<int64_t> labels;
            torch::Tensor batch;   // the head's features, or the images
            if (headOnly) {
                std::vector<int64_t> rows;
                for (int64_t i = begin; i < end; ++i) {
                    rows.push_back(order[i] * views + static_cast<int64_t>(random.below(views)));
                    labels.push_back(train.labels[order[i]]);
                }
                batch = trainFeatures.index_select(0, torch::tensor(rows, torch::kInt64).to(device));
            } else {
                std::vector<torch::Tensor> inputs;
                for (int64_t i = begin; i < end; ++i) {
                    inputs.push_back(normalised(training::augment(train.images[order[i]], p, {}, random), p));
                    labels.push_back(train.labels[order[i]]);
                }
                batch = torch::stack(inputs).to(device);
            }
            const auto forward = [&] {
                return headOnly ? classifier->as<torch::nn::Sequential>()->forward(batch) : model->forward(batch);
            };
            const auto target = torch::tensor(labels, torch::kInt64).to(device);
            const double rate = scheduledRate(peakRate, globalStep, warmupSteps, totalSteps);
            for (auto& group : optimizer->param_groups())
                static_cast<torch::optim::AdamWOptions&>(group.options()).lr(rate);
            const auto stepped = training::optimisationStep(*optimizer, forward, target, options.labelSmoothing,
                                                            precision, device, scaler);
            lossSum += stepped.loss.item<double>() * static_cast<double>(end - begin);
            seen += end - begin;
            report({TrainingProgress::Phase::Training, epoch, options.epochs, step + 1, stepsPerEpoch,
                    lossSum / static_cast<double>(seen), {}, secondsSince(epochStart)});
        }
        if (result.cancelled && seen < trainCount)
            break;   // a partial epoch is not kept
        EpochSummary summary{epoch, lossSum / static_cast<double>(std::max<int64_t>(seen, 1)), validationAccuracy(),
                             secondsSince(epochStart)};
        result.epochs.push_back(summary);
        report({TrainingProgress::Phase::Evaluated, epoch, options.epochs, stepsPerEpoch, stepsPerEpoch,
                summary.trainLoss, summary.valAccuracy, summary.seconds});
        if (!summary.valAccuracy || !bestAccuracy || *summary.valAccuracy >= *bestAccuracy) {
            bestAccuracy = summary.valAccuracy;
            result.keptEpoch = epoch;
            kept = cloneState(model);
            if (headOnly)
                foldStandardisation(kept, featureMean, featureScale);
        }
    }
    if (kept.empty())
        throw TrainingCancelled("training was cancelled before its first epoch ended; nothing was written");

    // The file: the kept weights under torchvision's keys, described so that it classifies with its own classes.
    CheckpointInfo& info = result.info;
    info = base.info;
    info.weightsPath = out;
    info.configPath.clear();
    info.format = "safetensors";
    info.keys = WeightSource::Torchvision;
    info.numClasses = numClasses;
    info.labels = {data.classes, "the class folders of " + options.trainDir};
    info.metadata = describingMetadata(info);
    info.metadata["fine_tuned_from"] = base.info.weightsPath.empty() ? "random weights" : base.info.weightsPath;
    info.metadata["training"] = nlohmann::json{{"train", toString(options.scope)},
                                               {"epochs", options.epochs},
                                               {"kept_epoch", result.keptEpoch},
                                               {"batch_size", options.batchSize},
                                               {"learning_rate", peakRate},
                                               {"weight_decay", options.weightDecay},
                                               {"label_smoothing", options.labelSmoothing},
                                               {"seed", options.seed},
                                               {"precision", options.precision},
                                               {"train_images", result.trainImages},
                                               {"val_images", result.valImages}}
                                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    info.dtypes.clear();
    for (const auto& [key, tensor] : kept)
        ++info.dtypes[tensor.scalar_type() == torch::kInt64 ? "int64" : "float32"];
    info.parameters = parameterCount(kept);
    writeSafetensors(out, kept, info.metadata);
    return result;
}

} // namespace efficientnet
