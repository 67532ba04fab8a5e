#pragma once
// Latest frame wins: capture overwrites the one slot, inference takes whatever is newest. A frame overwritten
// before inference took it is dropped and counted. Inference is woken only when the slot goes from empty to full,
// so wake-ups never queue up behind a slow model.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>

#include "efficientnet/imaging.h"

namespace efficientnet::desktop {

struct Frame {
    std::uint64_t generation = 0;
    std::uint64_t sequence = 0;
    std::int64_t capturedNs = 0;
    Image pixels;
};

class FrameSlot {
public:
    // Stores the frame; true when the slot was empty, i.e. the consumer must be woken.
    bool put(Frame frame);
    std::optional<Frame> take();
    void clear();   // drops a waiting frame without counting it (a session ended)

    std::uint64_t captured() const { return m_captured; }
    std::uint64_t dropped() const { return m_dropped; }
    std::uint64_t taken() const { return m_taken; }
    void resetCounters();

private:
    mutable std::mutex m_mutex;
    std::optional<Frame> m_frame;
    std::atomic<std::uint64_t> m_captured{0};
    std::atomic<std::uint64_t> m_dropped{0};
    std::atomic<std::uint64_t> m_taken{0};
};

} // namespace efficientnet::desktop
