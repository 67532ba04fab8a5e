// `efficientnet-cli evaluate DATA --weights FILE [--json]`: accuracy on an ImageFolder (evaluation.h), through the
// same Classifier, transform and labels as `classify`.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "arguments.h"
#include "commands.h"
#include "model_options.h"
#include "output.h"
#include "efficientnet/classifier.h"
#include "efficientnet/evaluation.h"
#include "efficientnet/printable.h"

namespace efficientnet::cli {
namespace {

using json = nlohmann::json;

constexpr int kDefaultBatch = 8;
constexpr int kMaxBatch = 1024;
constexpr int kMaxThreads = 256;
constexpr std::size_t kShownBytes = 1000;
constexpr std::size_t kMaxColumn = 16;   // class names in the tables are cut to this many terminal columns
constexpr std::size_t kMaxColumnBytes = 4 * kMaxColumn;   // enough UTF-8 for them: at most 4 bytes a column
constexpr std::size_t kNumberColumn = 8;
constexpr std::size_t kMinMatrixColumn = 5;
constexpr const char* kOtherColumn = "(other)";

json ratio(int part, int whole)
{
    return whole > 0 ? json(static_cast<double>(part) / whole) : json(nullptr);
}

std::string percent(int part, int whole)
{
    if (whole <= 0)
        return "-";
    std::ostringstream text;
    text << std::fixed << std::setprecision(1) << 100.0 * part / whole << "%";
    return text.str();
}

// A class name as a table shows it: escaped, and cut to kMaxColumn terminal columns between characters, '~' saying so.
std::string cell(const std::string& name)
{
    const std::string shown = printable(name, kMaxColumnBytes);
    return displayWidth(shown) > kMaxColumn ? fitColumns(shown, kMaxColumn - 1) + "~" : shown;
}

json evaluationJson(const std::string& data, const Classifier& classifier, const Evaluation& e)
{
    json classes = json::array();
    for (const auto& c : e.classes)
        classes.push_back({{"name", c.name},
                           {"images", c.images},
                           {"top1_correct", c.top1},
                           {"top5_correct", c.top5},
                           {"top1", ratio(c.top1, c.images)},
                           {"top5", ratio(c.top5, c.images)}});
    json rows = json::array();   // true classes
    for (const auto& c : e.classes)
        rows.push_back(c.name);
    json columns = rows;         // predicted classes
    if (e.hasOtherColumn)
        columns.push_back(kOtherColumn);
    json skipped = json::array();
    for (const auto& s : e.skipped)
        skipped.push_back({{"path", s.path}, {"reason", s.reason}});
    return {{"data", data},
            {"model", modelJson(classifier.info())},
            {"weights", classifier.weightsDescription()},
            {"device", classifier.deviceName()},
            {"images", e.images},
            {"topk", e.topk},
            {"top1_correct", e.top1},
            {"top5_correct", e.top5},
            {"top1", ratio(e.top1, e.images)},
            {"top5", ratio(e.top5, e.images)},
            {"classes", classes},
            {"confusion", {{"rows", rows}, {"columns", columns}, {"counts", e.confusion}}},
            {"skipped", skipped}};
}

void printEvaluation(const Evaluation& e)
{
    std::cout << e.images << " images of " << e.classes.size() << " classes: top-1 " << percent(e.top1, e.images)
              << " (" << e.top1 << "/" << e.images << "), top-" << e.topk << " " << percent(e.top5, e.images) << " ("
              << e.top5 << "/" << e.images << ")\n\n";
    // Padded by terminal columns (displayWidth), not bytes: "café" and "猫" line up with "tabby".
    std::size_t width = displayWidth("class");
    for (const auto& c : e.classes)
        width = std::max(width, displayWidth(cell(c.name)));
    std::cout << padRight("class", width) << padLeft("images", kNumberColumn) << padLeft("top-1", kNumberColumn)
              << padLeft("top-" + std::to_string(e.topk), kNumberColumn) << "\n";
    for (const auto& c : e.classes)
        std::cout << padRight(cell(c.name), width) << padLeft(std::to_string(c.images), kNumberColumn)
                  << padLeft(percent(c.top1, c.images), kNumberColumn) << padLeft(percent(c.top5, c.images), kNumberColumn)
                  << "\n";

    std::cout << "\nconfusion matrix (rows: true class, columns: predicted class)\n";
    std::vector<std::string> columns;
    for (const auto& c : e.classes)
        columns.push_back(cell(c.name));
    if (e.hasOtherColumn)
        columns.push_back(kOtherColumn);
    std::vector<std::size_t> widths;
    for (const auto& name : columns)
        widths.push_back(std::max(displayWidth(name), kMinMatrixColumn));
    std::cout << std::string(width, ' ');
    for (std::size_t column = 0; column < columns.size(); ++column)
        std::cout << "  " << padLeft(columns[column], widths[column]);
    std::cout << "\n";
    for (std::size_t row = 0; row < e.classes.size(); ++row) {
        std::cout << padRight(cell(e.classes[row].name), width);
        for (std::size_t column = 0; column < columns.size(); ++column)
            std::cout << "  " << padLeft(std::to_string(e.confusion[row][column]), widths[column]);
        std::cout << "\n";
    }
}

} // namespace

int runEvaluate(const std::vector<std::string>& argv)
{
    auto valueOptions = modelOptionNames();
    valueOptions.insert({"device", "precision", "batch-size", "threads"});
    const Arguments args(argv, valueOptions, {"json", "no-progress", "autotune"});
    if (args.positional().size() != 1)
        throw UsageError("evaluate needs one DATA folder (DATA/<class>/<images>, a folder per class named after the "
                         "model's label)");
    if (args.has("threads"))
        setComputeThreads(args.intValue("threads", 0, 1, kMaxThreads));
    auto options = classifierOptions(args);
    options.precision = args.value("precision", "auto");
    const int batchSize = args.intValue("batch-size", kDefaultBatch, 1, kMaxBatch);
    const std::string data = args.positional().front();
    checkImageFolder(data);   // a mistyped folder is said at once, not after the model's load

    Classifier classifier(options);
    std::cerr << "model: " << describeModel(classifier.info()) << "\n";
    std::unique_ptr<Progress> progress;
    int shown = 0;
    const Evaluation result = evaluateClassifier(classifier, data, batchSize, [&](int done, int total) {
        if (!progress)
            progress = std::make_unique<Progress>(static_cast<std::size_t>(total), !args.flag("no-progress"));
        for (; shown < done; ++shown)
            progress->advance();
    });
    if (progress)
        progress->finish();

    for (const auto& s : result.skipped)   // the core's messages start with the file already
        std::cerr << "skipped "
                  << printable(s.reason.rfind(s.path, 0) == 0 ? s.reason : s.path + ": " + s.reason, kShownBytes) << "\n";
    if (args.flag("json"))
        std::cout << evaluationJson(data, classifier, result).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    else
        printEvaluation(result);
    if (!result.skipped.empty())
        std::cerr << skippedNote(result.skipped.size()) << "\n";
    return result.skipped.empty() ? kExitOk : kExitSomeFailed;
}

} // namespace efficientnet::cli
