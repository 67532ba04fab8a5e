#include "frame_slot.h"

namespace efficientnet::desktop {

bool FrameSlot::put(Frame frame)
{
    std::lock_guard lock(m_mutex);
    ++m_captured;
    const bool wasEmpty = !m_frame.has_value();
    if (!wasEmpty)
        ++m_dropped;
    m_frame = std::move(frame);
    return wasEmpty;
}

std::optional<Frame> FrameSlot::take()
{
    std::lock_guard lock(m_mutex);
    std::optional<Frame> frame;
    frame.swap(m_frame);
    if (frame)
        ++m_taken;
    return frame;
}

void FrameSlot::clear()
{
    std::lock_guard lock(m_mutex);
    m_frame.reset();
}

void FrameSlot::resetCounters()
{
    std::lock_guard lock(m_mutex);
    m_captured = m_dropped = m_taken = 0;
}

} // namespace efficientnet::desktop
