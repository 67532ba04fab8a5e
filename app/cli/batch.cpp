#include "batch.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

#include "efficientnet/decode_ahead.h"

namespace efficientnet::cli {
namespace {

constexpr size_t kWindowBatches = 3;   // decoded images held ahead: enough to keep the model fed, bounded in memory

void addStages(StageTimes& sum, const StageTimes& t)
{
    sum.decodeMs += t.decodeMs;
    sum.uploadMs += t.uploadMs;
    sum.preprocessMs += t.preprocessMs;
    sum.forwardMs += t.forwardMs;
    sum.postprocessMs += t.postprocessMs;
}

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

BatchTimes classifyFiles(Classifier& classifier, const std::vector<std::string>& files, int topk, const BatchOptions& options,
                         const std::function<void(const FileResult&)>& onResult)
{
    BatchTimes spent;
    const size_t batchSize = static_cast<size_t>(std::max(1, options.batchSize));
    DecodeAhead decoded(files, batchSize * kWindowBatches, options.decodeThreads, options.gpuDecode);   // joined also when we throw

    for (size_t first = 0; first < files.size(); first += batchSize) {
        const size_t count = std::min(batchSize, files.size() - first);
        auto clock = std::chrono::steady_clock::now();
        auto taken = decoded.take(count);
        spent.waitingSeconds += secondsSince(clock);
        clock = std::chrono::steady_clock::now();
        ++spent.batches;
        std::vector<FileResult> results(count);
        double forwardMs = 0;
        std::vector<size_t> jpegSlots;
        for (size_t i = 0; i < count; ++i) {
            results[i].path = files[first + i];
            results[i].error = std::move(taken[i].error);
            results[i].times.decodeMs = taken[i].decodeMs;
            if (!taken[i].jpeg.empty())
                jpegSlots.push_back(i);
        }
        // Read, not decoded (--decode gpu): the GPU's decoder takes what it can; the rest is decoded here, as it
        // would have been by the decoder threads, with the same errors.
        if (!jpegSlots.empty()) {
            std::vector<const std::vector<std::uint8_t>*> jpegs;
            for (const auto slot : jpegSlots)
                jpegs.push_back(&taken[slot].jpeg);
            Classifier::JpegBatchResult onGpu;
            try {
                onGpu = classifier.classifyJpegs(jpegs, topk);
                addStages(spent.stages, onGpu.times);
                forwardMs += onGpu.times.forwardMs;
            } catch (const std::exception&) {   // a corrupt file in the batch, out of memory: the CPU decodes them all
                onGpu.predictions.assign(jpegs.size(), std::nullopt);
            }
            for (size_t k = 0; k < jpegSlots.size(); ++k) {
                auto& r = results[jpegSlots[k]];
                auto& item = taken[jpegSlots[k]];
                if (onGpu.predictions[k]) {
                    r.predictions = std::move(*onGpu.predictions[k]);
                    r.times = onGpu.times;
                    continue;
                }
                try {
                    item.image = decodeImageBytes(item.jpeg.data(), item.jpeg.size(), r.path);
                } catch (const std::exception& e) {
                    r.error = e.what();
                }
            }
        }
        std::vector<Image> images;
        std::vector<size_t> imageSlots;
        for (size_t i = 0; i < count; ++i)
            if (results[i].error.empty() && results[i].predictions.empty()) {
                images.push_back(std::move(taken[i].image));
                imageSlots.push_back(i);
            }
        try {
            auto batch = classifier.classifyBatch(images, topk);
            addStages(spent.stages, batch.times);
            forwardMs += images.empty() ? 0.0 : batch.times.forwardMs;
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
        spent.classifyingSeconds += secondsSince(clock);
        if (spent.batches == 1)
            spent.firstBatchSeconds = spent.classifyingSeconds;
        spent.forwardMs.push_back(forwardMs);
        clock = std::chrono::steady_clock::now();
        for (const auto& r : results)
            onResult(r);
        spent.handingOnSeconds += secondsSince(clock);
    }
    return spent;
}

} // namespace efficientnet::cli
