#include "efficientnet/decode_ahead.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace efficientnet {

// Decoded files by index, filled by the decoders (each takes the next index not yet claimed), drained in order.
struct DecodeAhead::State {
    std::vector<std::string> files;
    std::vector<std::optional<Decoded>> slots;
    std::size_t window = 1;
    bool jpegsUndecoded = false;
    std::atomic<std::size_t> next{0};
    std::size_t consumed = 0;
    bool stopped = false;
    mutable std::mutex mutex;
    std::condition_variable ready;
    std::condition_variable spaceFreed;

    void decoderLoop()
    {
        for (;;) {
            const std::size_t index = next.fetch_add(1);
            if (index >= files.size())
                return;
            {
                std::unique_lock lock(mutex);
                spaceFreed.wait(lock, [&] { return index < consumed + window || stopped; });
                if (stopped)
                    return;
            }
            Decoded decoded;
            const auto start = std::chrono::steady_clock::now();
            try {
                if (jpegsUndecoded) {
                    auto bytes = readImageFile(files[index]);
                    if (bytes.size() >= 2 && bytes[0] == 0xff && bytes[1] == 0xd8)
                        decoded.jpeg = std::move(bytes);
                    else
                        decoded.image = decodeImageBytes(bytes.data(), bytes.size(), files[index]);
                } else {
                    decoded.image = decodeImageFile(files[index]);
                }
            } catch (const std::exception& e) {
                decoded.error = e.what();
            }
            decoded.decodeMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
            std::lock_guard lock(mutex);
            slots[index] = std::move(decoded);
            ready.notify_all();
        }
    }
};

DecodeAhead::DecodeAhead(std::vector<std::string> files, std::size_t window, int threads, bool jpegsUndecoded)
    : m_state(std::make_unique<State>())
{
    m_state->jpegsUndecoded = jpegsUndecoded;
    m_state->files = std::move(files);
    m_state->slots.resize(m_state->files.size());
    m_state->window = std::max<std::size_t>(1, window);
    for (int i = 0; i < std::max(1, threads); ++i)
        m_threads.emplace_back([state = m_state.get()] { state->decoderLoop(); });
}

DecodeAhead::~DecodeAhead()
{
    {
        std::lock_guard lock(m_state->mutex);
        m_state->stopped = true;
        m_state->spaceFreed.notify_all();
    }
    for (auto& thread : m_threads)
        thread.join();
}

std::vector<DecodeAhead::Decoded> DecodeAhead::take(std::size_t count)
{
    State& s = *m_state;
    std::unique_lock lock(s.mutex);
    const std::size_t end = std::min(s.files.size(), s.consumed + count);
    if (count > s.window) {   // the decoders must be allowed as far ahead as is asked for
        s.window = count;
        s.spaceFreed.notify_all();
    }
    s.ready.wait(lock, [&] {
        for (std::size_t i = s.consumed; i < end; ++i)
            if (!s.slots[i])
                return false;
        return true;
    });
    std::vector<Decoded> taken;
    taken.reserve(end - s.consumed);
    for (std::size_t i = s.consumed; i < end; ++i) {
        taken.push_back(std::move(*s.slots[i]));
        s.slots[i].reset();
    }
    s.consumed = end;
    s.spaceFreed.notify_all();
    return taken;
}

std::size_t DecodeAhead::remaining() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->files.size() - m_state->consumed;
}

} // namespace efficientnet
