#pragma once
#include <string>
#include <vector>

namespace efficientnet {
struct ClassifierOptions;
}

namespace efficientnet::cli {

class Arguments;

// Exit statuses scripts rely on.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;         // usage errors, a model or weights that cannot be loaded, an unwritable output
constexpr int kExitSomeFailed = 2;    // some inputs could not be classified (each reported)

int runModels(const std::vector<std::string>& args);
int runClassify(const std::vector<std::string>& args);
int runConvert(const std::vector<std::string>& args);
int runWeights(const std::vector<std::string>& args);   // prints the checkpoint classify would use
int runDownload(const std::vector<std::string>& args);   // download_command.cpp
int runInspect(const std::vector<std::string>& args);    // inspect_command.cpp
int runTrain(const std::vector<std::string>& args);      // train_command.cpp: fine-tune on an ImageFolder
int runEvaluate(const std::vector<std::string>& args);   // evaluate_command.cpp: accuracy on an ImageFolder

// The classifier that the model options (model_options.h), --random-weights and --device ask for; without weights,
// a cached checkpoint for the model (ConfigError when there is none and no --random-weights).
ClassifierOptions classifierOptions(const Arguments& args);

// Folder holding imagenet_classes.txt and the sample photos: $EFFICIENTNET_RESOURCES_DIR, the installed share
// folder beside the executable, or the source tree's resources/.
std::string resourcesDir();

} // namespace efficientnet::cli
