// Evaluation (evaluation.h): the ImageFolder read as training reads it, every image classified by the Classifier.
#include "efficientnet/evaluation.h"

#include <algorithm>
#include <map>

#include "efficientnet/errors.h"
#include "efficientnet/imaging.h"
#include "efficientnet/printable.h"
#include "training/image_folder.h"

namespace efficientnet {
namespace {

constexpr int kTopK = 5;
constexpr std::size_t kLabelsNamed = 5;   // model labels quoted in the error for a folder that is none of them
constexpr std::size_t kShownBytes = 200;

std::vector<std::string> modelLabels(const CheckpointInfo& info)
{
    if (!info.labels.names.empty())
        return info.labels.names;
    std::vector<std::string> names;   // the Classifier's names for classes without names
    for (int i = 0; i < info.numClasses; ++i)
        names.push_back("class " + std::to_string(i));
    return names;
}

} // namespace

void checkImageFolder(const std::string& dataDir) { training::listImageFolder(dataDir); }

Evaluation evaluateClassifier(Classifier& classifier, const std::string& dataDir, int batchSize,
                              const EvaluationCallback& progress)
{
    if (batchSize < 1)
        throw ConfigError("the batch size must be at least 1");
    const training::ImageFolder data = training::listImageFolder(dataDir);
    const std::vector<std::string> labels = modelLabels(classifier.info());
    for (const auto& name : data.classes)
        if (std::find(labels.begin(), labels.end(), name) == labels.end()) {
            std::string some;
            for (std::size_t i = 0; i < labels.size() && i < kLabelsNamed; ++i)
                some += (i ? ", '" : "'") + printable(labels[i], kShownBytes) + "'";
            throw ConfigError(dataDir + "/" + name + ": '" + name + "' is not a class of the model (its " +
                              std::to_string(labels.size()) + " labels: " + some +
                              (labels.size() > kLabelsNamed ? ", ..." : "") +
                              "); name each folder after one of the model's labels, or remove it");
        }
    if (data.files.empty())
        throw ConfigError(dataDir + ": no images in its class folders");

    Evaluation result;
    result.topk = std::min<int>(kTopK, static_cast<int>(labels.size()));
    const int numClasses = static_cast<int>(data.classes.size());
    for (const auto& name : data.classes)
        result.classes.push_back({name, 0, 0, 0});
    // A model's label that names a data class points to its column; every other label to the "other" column.
    std::map<std::string, int> column;
    for (int c = 0; c < numClasses; ++c)
        column.emplace(data.classes[c], c);
    result.hasOtherColumn = std::any_of(labels.begin(), labels.end(), [&](const std::string& l) { return !column.count(l); });
    result.confusion.assign(numClasses, std::vector<int>(numClasses + (result.hasOtherColumn ? 1 : 0), 0));

    const int total = static_cast<int>(data.files.size());
    int done = 0;
    for (std::size_t begin = 0; begin < data.files.size(); begin += static_cast<std::size_t>(batchSize)) {
        const std::size_t end = std::min(data.files.size(), begin + static_cast<std::size_t>(batchSize));
        std::vector<Image> images;
        std::vector<int> truth;
        for (std::size_t i = begin; i < end; ++i) {
            try {
                images.push_back(decodeImageFile(data.files[i].path));
                truth.push_back(data.files[i].label);
            } catch (const std::exception& e) {   // ImageError, or any other reason this one file cannot be used
                result.skipped.push_back({data.files[i].path, e.what()});
            }
        }
        if (!images.empty()) {
            const auto batch = classifier.classifyBatch(images, result.topk);
            for (std::size_t i = 0; i < images.size(); ++i) {
                const auto& predictions = batch.predictions[i];
                ClassEvaluation& row = result.classes[truth[i]];
                const std::string& name = row.name;
                const bool first = !predictions.empty() && predictions.front().label == name;
                const bool any = std::any_of(predictions.begin(), predictions.end(),
                                             [&](const Prediction& p) { return p.label == name; });
                ++row.images;
                row.top1 += first;
                row.top5 += any;
                const auto predicted = predictions.empty() ? column.end() : column.find(predictions.front().label);
                ++result.confusion[truth[i]][predicted == column.end() ? numClasses : predicted->second];
            }
        }
        done += static_cast<int>(end - begin);
        if (progress)
            progress(done, total);
    }
    for (const auto& row : result.classes) {
        result.images += row.images;
        result.top1 += row.top1;
        result.top5 += row.top5;
    }
    return result;
}

} // namespace efficientnet
