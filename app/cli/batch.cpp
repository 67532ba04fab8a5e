#include "batch.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "efficientnet/imaging.h"

namespace efficientnet::cli {
namespace {

constexpr size_t kWindowBatches = 3;   // decoded images held ahead: enough to keep the model fed, bounded in memory

struct Decoded {
    Image image;
    std::string error;
    double decodeMs = 0;
};

// Decoded images by file index, filled by the decoder threads, drained in order by the consumer.
class DecodeWindow {
public:
    DecodeWindow(const std::vector<std::string>& files, size_t window)
        : m_files(files), m_slots(files.size()), m_window(window) {}

    void decoderLoop()
    {
        for (;;) {
            const size_t index = m_next.fetch_add(1);
            if (index >= m_files.size())
                return;
            {
                std::unique_lock lock(m_mutex);
                m_spaceFreed.wait(lock, [&] { return index < m_consumed + m_window || m_stopped; });
                if (m_stopped)
                    return;
            }
            Decoded decoded;
            const auto start = std::chrono::steady_clock::now();
            try {
                decoded.image = decodeImageFile(m_files[index]);
            } catch (const std::exception& e) {
                decoded.error = e.what();
            }
            decoded.decodeMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
            std::lock_guard lock(m_mutex);
            m_slots[index] = std::move(decoded);
            m_ready.notify_all();
        }
    }

    // Waits until the files [m_consumed, m_consumed + count) are decoded and takes them.
    std::vector<Decoded> take(size_t count)
    {
        std::unique_lock lock(m_mutex);
        m_ready.wait(lock, [&] {
            for (size_t i = m_consumed; i < m_consumed + count; ++i)
                if (!m_slots[i])
                    return false;
            return true;
        });
        std::vector<Decoded> taken;
        for (size_t i = m_consumed; i < m_consumed + count; ++i)
            taken.push_back(std::move(*m_slots[i]));
        m_consumed += count;
        m_spaceFreed.notify_all();
        return taken;
    }

    void stop()
    {
        std::lock_guard lock(m_mutex);
        m_stopped = true;
        m_spaceFreed.notify_all();
    }

private:
    const std::vector<std::string>& m_files;
    std::vector<std::optional<Decoded>> m_slots;
    size_t m_window;
    std::atomic<size_t> m_next{0};
    size_t m_consumed = 0;
    bool m_stopped = false;
    std::mutex m_mutex;
    std::condition_variable m_ready;
    std::condition_variable m_spaceFreed;
};

} // namespace

void classifyFiles(Classifier& classifier, const std::vector<std::string>& files, int topk, const BatchOptions& options,
                   const std::function<void(const FileResult&)>& onResult)
{
    const size_t batchSize = static_cast<size_t>(std::max(1, options.batchSize));
    DecodeWindow window(files, batchSize * kWindowBatches);
    std::vector<std::thread> decoders;
    for (int i = 0; i < std::max(1, options.decodeThreads); ++i)
        decoders.emplace_back([&window] { window.decoderLoop(); });
    struct StopDecoders {   // also when onResult or the classifier throws
        DecodeWindow& window;
        std::vector<std::thread>& threads;
        ~StopDecoders()
        {
            window.stop();
            for (auto& t : threads)
                t.join();
        }
    } stopDecoders{window, decoders};

    for (size_t first = 0; first < files.size(); first += batchSize) {
        const size_t count = std::min(batchSize, files.size() - first);
        auto decoded = window.take(count);
        std::vector<FileResult> results(count);
        std::vector<Image> images;
        std::vector<size_t> imageSlots;
        for (size_t i = 0; i < count; ++i) {
            results[i].path = files[first + i];
            results[i].error = std::move(decoded[i].error);
            results[i].times.decodeMs = decoded[i].decodeMs;
            if (results[i].error.empty()) {
                images.push_back(std::move(decoded[i].image));
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
