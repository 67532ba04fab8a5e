#pragma once
// Measuring a classifier on labelled images (issue 14, `efficientnet-cli evaluate`): a folder in the ImageFolder
// layout (DATA/<class>/<images>, as training reads it) classified through the Classifier, so with exactly the
// inference preprocessing, model and labels that `classify` uses. Top-1 and top-5 accuracy, per class and overall,
// and the confusion matrix. Torch-free, as classifier.h.
#include <functional>
#include <string>
#include <vector>

#include "efficientnet/classifier.h"
#include "efficientnet/training.h"

namespace efficientnet {

// A folder names its class by the model's label (CheckpointInfo::labels; "class N" for a model without names), compared
// exactly; a prediction is right when its label is the folder's name. A folder whose name is no label of the model is
// an error (ConfigError naming it), not an "unknown" row: its images could never count as right, and the likely cause
// is a misspelt folder or the wrong checkpoint, which an accuracy figure would hide.
struct ClassEvaluation {
    std::string name;               // the folder's name, a label of the model
    int images = 0;                 // readable images of the class
    int top1 = 0;                   // of them, right at the first prediction
    int top5 = 0;                   // right among the first min(5, classes) predictions
};

struct Evaluation {
    int topk = 5;                   // the k of "top-5": min(5, the model's classes)
    int images = 0;                 // readable images, all classes
    int top1 = 0;
    int top5 = 0;
    std::vector<ClassEvaluation> classes;       // the data's class folders, sorted by name (ImageFolder's order)
    // counts[row][column]: images of class `row` (as `classes`) predicted as column `column`: the data's classes in
    // the same order, then, when the model has classes the data does not, one last column for any of those.
    std::vector<std::vector<int>> confusion;
    bool hasOtherColumn = false;
    std::vector<SkippedImage> skipped;          // unreadable images, left out and named
};

// Progress: images done (read or skipped) of all.
using EvaluationCallback = std::function<void(int done, int total)>;

// Throws the ConfigError evaluateClassifier would for a dataDir that is no ImageFolder (missing, a file, without
// class folders): for checking before a model is loaded.
void checkImageFolder(const std::string& dataDir);

// Throws ConfigError (not an ImageFolder, a folder that is no label of the model, no images at all).
Evaluation evaluateClassifier(Classifier& classifier, const std::string& dataDir, int batchSize = 8,
                              const EvaluationCallback& progress = {});

} // namespace efficientnet
