#include "batch.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "efficientnet/decode_ahead.h"

namespace efficientnet::cli {
namespace {

constexpr size_t kWindowBatches = 3;   // decoded images held ahead: enough to keep the model fed, bounded in memory
// Batches in flight with GPU decoding: one classified while the next two decode on the GPU's decoder, which has
// two slots (cuda::JpegDecoder::kSlots). Without it one is enough: classifyBatch holds the model for all its stages.
constexpr size_t kGpuDecodeWorkers = 3;

using Clock = std::chrono::steady_clock;

void addStages(StageTimes& sum, const StageTimes& t)
{
    sum.decodeMs += t.decodeMs;
    sum.uploadMs += t.uploadMs;
    sum.preprocessMs += t.preprocessMs;
    sum.forwardMs += t.forwardMs;
    sum.postprocessMs += t.postprocessMs;
}

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// One batch, classified: its files' results in order, and what it took.
struct BatchOutcome {
    std::vector<FileResult> results;
    StageTimes stages;
    double forwardMs = 0;   // the sum of its parts' when it had two (GPU-decoded JPEGs and the rest)
    double waitingSeconds = 0;
    double classifyingSeconds = 0;
};

// JPEGs (read, not decoded: --decode gpu) to the GPU's decoder; what it does not take is decoded here, as it would
// have been by the decoder threads, with the same errors; then the decoded rest in one classifyBatch.
void classifyTaken(Classifier& classifier, std::vector<DecodeAhead::Decoded>& taken, int topk, BatchOutcome& out)
{
    auto& results = out.results;
    std::vector<size_t> jpegSlots;
    for (size_t i = 0; i < taken.size(); ++i) {
        results[i].error = std::move(taken[i].error);
        results[i].times.decodeMs = taken[i].decodeMs;
        if (!taken[i].jpeg.empty())
            jpegSlots.push_back(i);
    }
    if (!jpegSlots.empty()) {
        std::vector<const std::vector<std::uint8_t>*> jpegs;
        for (const auto slot : jpegSlots)
            jpegs.push_back(&taken[slot].jpeg);
        Classifier::JpegBatchResult onGpu;
        try {
            onGpu = classifier.classifyJpegs(jpegs, topk);
            addStages(out.stages, onGpu.times);
            out.forwardMs += onGpu.times.forwardMs;
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
    for (size_t i = 0; i < taken.size(); ++i)
        if (results[i].error.empty() && results[i].predictions.empty()) {
            images.push_back(std::move(taken[i].image));
            imageSlots.push_back(i);
        }
    try {
        auto batch = classifier.classifyBatch(images, topk);
        addStages(out.stages, batch.times);
        out.forwardMs += images.empty() ? 0.0 : batch.times.forwardMs;
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
}

// Worker threads take the batches in order and classify them, several at once where the classifier overlaps their
// stages (GPU decoding); the calling thread hands the results on in order. Stopping (the destructor: the last batch
// handed on, or the caller's onResult threw) lets the workers finish the batch they hold and joins them.
class Pipeline {
public:
    Pipeline(Classifier& classifier, DecodeAhead& decoded, const std::vector<std::string>& files, size_t batchSize,
             size_t workers, int topk)
        : m_classifier(classifier), m_decoded(decoded), m_files(files), m_batchSize(batchSize), m_workers(workers),
          m_topk(topk), m_batches((files.size() + batchSize - 1) / batchSize)
    {
        for (size_t w = 0; w < std::min(workers, m_batches); ++w)
            m_threads.emplace_back([this] { work(); });
    }
    ~Pipeline()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stopped = true;
        }
        m_changed.notify_all();
        for (auto& thread : m_threads)
            thread.join();
    }
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    size_t batches() const { return m_batches; }

    // Batch `index`'s outcome, waiting for it; rethrows what stopped a worker.
    BatchOutcome next(size_t index)
    {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [&] { return m_done.count(index) || m_failure; });
        if (m_failure)
            std::rethrow_exception(m_failure);
        auto outcome = std::move(m_done.at(index));
        m_done.erase(index);
        m_handedOn = index + 1;
        m_changed.notify_all();
        return outcome;
    }

private:
    void work()
    {
        try {
            for (;;) {
                size_t index = 0;
                std::vector<DecodeAhead::Decoded> taken;
                BatchOutcome out;
                {
                    // Claimed and taken under one lock, so that the batches take their files in order.
                    std::lock_guard taking(m_takeMutex);
                    if (m_claimed >= m_batches)
                        return;
                    index = m_claimed;
                    {
                        // No further ahead of the hand-on than there are workers: the results wait in memory.
                        std::unique_lock lock(m_mutex);
                        m_changed.wait(lock, [&] { return m_stopped || index < m_handedOn + m_workers; });
                        if (m_stopped)
                            return;
                    }
                    ++m_claimed;
                    const auto clock = Clock::now();
                    taken = m_decoded.take(std::min(m_batchSize, m_files.size() - index * m_batchSize));
                    out.waitingSeconds = secondsSince(clock);
                }
                const auto clock = Clock::now();
                out.results.resize(taken.size());
                for (size_t i = 0; i < taken.size(); ++i)
                    out.results[i].path = m_files[index * m_batchSize + i];
                classifyTaken(m_classifier, taken, m_topk, out);
                out.classifyingSeconds = secondsSince(clock);
                std::lock_guard lock(m_mutex);
                m_done.emplace(index, std::move(out));
                m_changed.notify_all();
            }
        } catch (...) {   // not a file's or a batch's error (those are in the results): bad_alloc, say
            std::lock_guard lock(m_mutex);
            if (!m_failure)
                m_failure = std::current_exception();
            m_changed.notify_all();
        }
    }

    Classifier& m_classifier;
    DecodeAhead& m_decoded;
    const std::vector<std::string>& m_files;
    const size_t m_batchSize;
    const size_t m_workers;
    const int m_topk;
    const size_t m_batches;
    std::mutex m_takeMutex;
    size_t m_claimed = 0;   // under m_takeMutex
    std::mutex m_mutex;     // the rest
    std::condition_variable m_changed;
    size_t m_handedOn = 0;
    bool m_stopped = false;
    std::map<size_t, BatchOutcome> m_done;
    std::exception_ptr m_failure;
    std::vector<std::thread> m_threads;   // last: joined (by the destructor) before the members they use go
};

} // namespace

BatchTimes classifyFiles(Classifier& classifier, const std::vector<std::string>& files, int topk, const BatchOptions& options,
                         const std::function<void(const FileResult&)>& onResult)
{
    BatchTimes spent;
    const auto started = Clock::now();
    const size_t batchSize = static_cast<size_t>(std::max(1, options.batchSize));
    const size_t workers = options.workers ? options.workers : options.gpuDecode ? kGpuDecodeWorkers : 1;
    spent.inFlight = workers;
    DecodeAhead decoded(files, batchSize * (kWindowBatches + workers - 1), options.decodeThreads, options.gpuDecode);
    Pipeline pipeline(classifier, decoded, files, batchSize, workers, topk);   // declared after `decoded`: stops first
    Clock::time_point firstReady;
    for (size_t index = 0; index < pipeline.batches(); ++index) {
        auto outcome = pipeline.next(index);
        const auto ready = Clock::now();
        if (index == 0) {
            firstReady = ready;
            spent.firstBatchSeconds = secondsSince(started);
            spent.firstBatchFiles = outcome.results.size();
        }
        spent.afterFirstSeconds = std::chrono::duration<double>(ready - firstReady).count();
        ++spent.batches;
        spent.waitingSeconds += outcome.waitingSeconds;
        spent.classifyingSeconds += outcome.classifyingSeconds;
        addStages(spent.stages, outcome.stages);
        spent.forwardMs.push_back(outcome.forwardMs);
        const auto clock = Clock::now();
        for (const auto& r : outcome.results)
            onResult(r);
        spent.handingOnSeconds += secondsSince(clock);
    }
    return spent;
}

} // namespace efficientnet::cli
