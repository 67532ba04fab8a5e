#pragma once
// Classifying many files: decoder threads read and decode ahead into a bounded window while worker threads run the
// classifier on batches; results come back on the calling thread in input order. A file that cannot be decoded, or a batch the
// model cannot run (out of memory, say), is reported with its error and the rest go on.
#include <functional>
#include <string>
#include <vector>

#include "efficientnet/classifier.h"

namespace efficientnet::cli {

struct FileResult {
    std::string path;
    std::vector<Prediction> predictions;
    std::string error;          // empty when classified
    StageTimes times;           // of the batch it ran in; decodeMs is this file's own
};

struct BatchOptions {
    int batchSize = 8;
    int decodeThreads = 2;
    bool gpuDecode = false;   // JPEGs to the classifier's GPU decoder (Classifier::classifyJpegs), the rest as usual
    // Batches classified at once; 0: three with gpuDecode (one classified while two decode), else one.
    std::size_t workers = 0;
};

// Where the time went, in seconds. Worker threads take the batches in order and classify them (with --decode gpu,
// several at once: one classified while the next decode); their times are sums over the batches, so they overlap.
struct BatchTimes {
    size_t inFlight = 1;            // batches classified at once (worker threads)
    double waitingSeconds = 0;      // the workers, waiting for decoded (or read) files
    double classifyingSeconds = 0;  // the workers, in the classifier (its stages as it times them: on CUDA, GPU time)
    double firstBatchSeconds = 0;   // from the start until the first batch was classified: one-time costs (cuDNN,
                                    // CUDA graph capture) fall here
    size_t firstBatchFiles = 0;
    double afterFirstSeconds = 0;   // from then until the last batch was classified
    double handingOnSeconds = 0;    // the calling thread, handing results on (writing them out)
    StageTimes stages;   // sums over the batches
    std::vector<double> forwardMs;   // each batch's forward (the sum of its parts' when it had two)
    std::size_t batches = 0;
};

// onResult is called on the calling thread, once per file, in the order of `files`.
BatchTimes classifyFiles(Classifier& classifier, const std::vector<std::string>& files, int topk, const BatchOptions& options,
                   const std::function<void(const FileResult&)>& onResult);

} // namespace efficientnet::cli
