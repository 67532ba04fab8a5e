#include "batch.h"

#include <algorithm>

#include "efficientnet/decode_ahead.h"

namespace efficientnet::cli {
namespace {

constexpr size_t kWindowBatches = 3;   // decoded images held ahead: enough to keep the model fed, bounded in memory

} // namespace

void classifyFiles(Classifier& classifier, const std::vector<std::string>& files, int topk, const BatchOptions& options,
                   const std::function<void(const FileResult&)>& onResult)
{
    const size_t batchSize = static_cast<size_t>(std::max(1, options.batchSize));
    DecodeAhead decoded(files, batchSize * kWindowBatches, options.decodeThreads);   // joined also when we throw

    for (size_t first = 0; first < files.size(); first += batchSize) {
        const size_t count = std::min(batchSize, files.size() - first);
        auto taken = decoded.take(count);
        std::vector<FileResult> results(count);
        std::vector<Image> images;
        std::vector<size_t> imageSlots;
        for (size_t i = 0; i < count; ++i) {
            results[i].path = files[first + i];
            results[i].error = std::move(taken[i].error);
            results[i].times.decodeMs = taken[i].decodeMs;
            if (results[i].error.empty()) {
                images.push_back(std::move(taken[i].image));
                imageSlots.push_back(i);
            }
        }
        try {
            auto batch = classifier.classifyBatch(images, topk);
            for (size_t k = 0; k < imageSlots.size(); ++k) {
                auto& r = results[imageSlots[k]];
                const double decodeMs = r.times.decodeMs;
                r.predictions = std::move(batch.predictions[k]);
                r.times = batch.times;
                r.times.decodeMs = decodeMs;
            }
        } catch (const std::exception& e) {   // e.g. out of memory: this batch fails, the next ones still run
            for (const auto slot : imageSlots)
                results[slot].error = std::string("classification failed: ") + e.what();
        }
        for (const auto& r : results)
            onResult(r);
    }
}

} // namespace efficientnet::cli
