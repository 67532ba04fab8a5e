// efficientnet-cli: classify images, list models and convert checkpoints from scripts.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "arguments.h"
#include "commands.h"
#include "efficientnet/errors.h"
#include "efficientnet/platform.h"
#include "efficientnet/printable.h"

namespace {

constexpr std::size_t kShownBytes = 4096;
constexpr const char* kUsage = R"(usage:
  efficientnet-cli models [--json]
  efficientnet-cli classify [--model NAME[.TAG]] [--weights FILE|DIR] [--random-weights] [--labels FILE] [--topk K]
                            [--device auto|cpu|cuda] [--precision auto|fp32|fp16|bf16] [--source auto|torchvision|timm|lukemelas]
                            [--resize N] [--crop N] [--interpolation bilinear|bicubic] [--mean a,b,c] [--std a,b,c]
                            [--resize-mode shorter|squash] [--batch-size N] [--threads N] [--decode cpu|gpu]
                            [--csv FILE] [--json] [--json-file FILE] [--no-progress] [--timings] [--autotune] PATH...
  efficientnet-cli inspect FILE|DIR [--json] [--model NAME] [--labels FILE] [...]   (what a checkpoint holds)
  efficientnet-cli weights NAME          (the cached checkpoint classify would use; exit 1 if none)
  efficientnet-cli convert --from FILE|DIR --to FILE.safetensors [--model NAME] [--source ...] [--labels FILE] [...]
  efficientnet-cli download NAME [--registry FILE] [--cache-dir DIR] [--source torchvision|timm|lukemelas]
  efficientnet-cli train DATA --out FILE.safetensors [--model NAME] [--weights FILE | --random-weights]
                         [--val DIR | --val-split F] [--epochs N] [--batch-size N] [--lr X] [--train head|stages:N|all]
                         [--weight-decay X] [--label-smoothing X] [--seed N] [--device cpu|cuda]
                         [--precision fp32|fp16|bf16] [--recalibrate-bn] [--report FILE.json] [--no-progress]
                         [transform options]
  efficientnet-cli evaluate DATA [--weights FILE|DIR] [--model NAME] [--json] [--device auto|cpu|cuda]
                            [--precision auto|fp32|fp16|bf16] [--batch-size N] [--threads N] [--no-progress] [--autotune]
                            [--source ...] [--labels FILE] [transform options]

PATH is an image or a folder (walked recursively). Without --weights, classify uses a checkpoint for the model
from the weights cache. The network, class names and transform come from the checkpoint (its metadata, a Hugging
Face folder's config.json, its source's own transform); --model, --labels and the transform options override them.
--decode gpu decodes JPEGs on the GPU's hardware JPEG decoder (A100/H100/H200 class; others, and files it cannot
take, are decoded on the CPU as by default): faster, but its pixels differ slightly from libjpeg's, so probabilities
move a little from the reference's. --timings tells on stderr where the time went. --autotune lets cuDNN time its
algorithms for each batch size first (CUDA; seconds, once): for runs of many thousands of images. --json prints one
JSON document on stdout, a result per line as each is ready; --csv and --json-file write files atomically (FILE.tmp,
renamed when complete).
Exit status: 0 all inputs classified, 2 some inputs failed, 1 usage or model/weights error.
download fetches a model's pretrained weights into that cache (SHA-256 verified) and prints the file's path.
train fine-tunes on DATA/<class>/<images> (a folder per class) and writes a checkpoint that classify reads with the
new class names; one line per epoch; unreadable images are skipped and listed (exit 2); Ctrl-C writes the best epoch
so far (exit 130).
evaluate classifies DATA/<class>/<images> as classify would and prints top-1, top-5, per-class accuracy and the
confusion matrix (--json: one JSON object). Each folder must be named after a label of the model (an error names a
folder that is not); unreadable images are skipped and listed (exit 2).
)";

} // namespace

int main(int argc, char** argv)
{
    using namespace efficientnet::cli;
    // UTF-8 in (Windows: from the wide command line, so that any file name arrives whole) and out.
    const std::vector<std::string> args = efficientnet::platform::programArguments(argc, argv);
    efficientnet::platform::prepareConsole();
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        (args.empty() ? std::cerr : std::cout) << kUsage;
        return args.empty() ? kExitUsage : kExitOk;
    }
    if (args[0] == "--version") {
        std::cout << "efficientnet-cli " << EFFICIENTNET_VERSION << " (resources: " << resourcesDir() << ")\n";
        return kExitOk;
    }
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    // Any command's --help (or --version) answers instead of being an unknown option; "--" ends the options, so a
    // file named --help can still be classified.
    for (const auto& arg : rest) {
        if (arg == "--")
            break;
        if (arg == "--help" || arg == "-h") {
            std::cout << kUsage;
            return kExitOk;
        }
        if (arg == "--version") {
            std::cout << "efficientnet-cli " << EFFICIENTNET_VERSION << "\n";
            return kExitOk;
        }
    }
    try {
        if (args[0] == "models")
            return runModels(rest);
        if (args[0] == "classify")
            return runClassify(rest);
        if (args[0] == "convert")
            return runConvert(rest);
        if (args[0] == "weights")
            return runWeights(rest);
        if (args[0] == "download")
            return runDownload(rest);
        if (args[0] == "inspect")
            return runInspect(rest);
        if (args[0] == "train")
            return runTrain(rest);
        if (args[0] == "evaluate")
            return runEvaluate(rest);
        throw UsageError("unknown command '" + args[0] + "'");
    } catch (const UsageError& e) {
        std::cerr << "efficientnet-cli: " << efficientnet::printable(e.what(), kShownBytes) << "\n\n" << kUsage;
    } catch (const std::exception& e) {   // model, weights or device that cannot be used; c10::Error included
        // The core escapes what it quotes from files; this is the last line of defence for the terminal.
        std::cerr << "efficientnet-cli: error: " << efficientnet::printable(e.what(), kShownBytes) << "\n";
    }
    return kExitUsage;
}
