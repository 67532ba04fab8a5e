#pragma once
// Classifying many files: decoder threads read and decode ahead into a bounded window while the calling thread
// runs the classifier on batches; results come back in input order. A file that cannot be decoded, or a batch the
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
};

// Where the calling thread's time went, in seconds: waiting for files to be decoded (or read), in the classifier
// (its stages as the classifier times them: on CUDA, GPU time), and handing results on (writing them out).
struct BatchTimes {
    double waitingSeconds = 0;
    double classifyingSeconds = 0;
    double firstBatchSeconds = 0;   // of classifyingSeconds: one-time costs (cuDNN, CUDA graph capture) fall here
    double handingOnSeconds = 0;
    StageTimes stages;   // sums over the batches
    std::vector<double> forwardMs;   // each batch's forward (the sum of its parts' when it had two)
    std::size_t batches = 0;
};

// onResult is called on the calling thread, once per file, in the order of `files`.
BatchTimes classifyFiles(Classifier& classifier, const std::vector<std::string>& files, int topk, const BatchOptions& options,
                   const std::function<void(const FileResult&)>& onResult);

} // namespace efficientnet::cli
