#pragma once
// Capture on its own thread: OpenCV's VideoCapture on a camera index, a video file or a stream URL. Every frame
// goes into the FrameSlot (latest wins); the worker says when the slot needs its consumer woken. The capture loop
// runs inside run() until the session is stopped, the source ends, or the camera is lost.
#include <QImage>
#include <QObject>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

#include "frame_slot.h"

namespace efficientnet::desktop {

struct CameraOptions {
    QString source = QStringLiteral("0");   // camera index, video file or URL
    // Video files are read at their own frame rate, as a camera would deliver them; off: as fast as they decode
    // (used to prove that frames are dropped when inference is slower than capture).
    bool paceFiles = true;
    bool loopFiles = false;
};

// What the running session is told while it runs: pause, one step while paused, loop a file at its end.
struct LiveControl {
    std::atomic<bool> paused{false};
    std::atomic<int> steps{0};
    std::atomic<bool> loopFiles{false};
};

// A captured frame for the screen, latest wins like FrameSlot: the view shows every frame at the source's rate
// (or skips to the newest when painting falls behind), independent of how fast the model classifies.
struct DisplayFrame {
    quint64 session = 0;
    quint64 sequence = 0;
    QImage image;
};

class DisplaySlot {
public:
    bool put(DisplayFrame frame);   // true when the slot was empty: the GUI must be told
    std::optional<DisplayFrame> take();

private:
    std::mutex m_mutex;
    std::optional<DisplayFrame> m_frame;
};

class CameraWorker : public QObject {
    Q_OBJECT

public:
    CameraWorker(std::shared_ptr<FrameSlot> frames, std::shared_ptr<DisplaySlot> display,
                 std::shared_ptr<std::atomic<quint64>> activeSession, std::shared_ptr<LiveControl> control);

public Q_SLOTS:
    void run(const QString& source, bool paceFiles, quint64 session);

Q_SIGNALS:
    void opened(quint64 session, const QString& description);
    void frameReady();     // the slot went from empty to full: wake inference (emitted on the capture thread)
    void displayReady();   // the display slot went from empty to full (emitted on the capture thread)
    // Why the session ended: stopped by the user (error false), the video ended (false), or the camera could not be
    // opened or was lost (error true, with what to do).
    void stopped(quint64 session, const QString& reason, bool error);

private:
    std::shared_ptr<FrameSlot> m_frames;
    std::shared_ptr<DisplaySlot> m_display;
    std::shared_ptr<std::atomic<quint64>> m_activeSession;
    std::shared_ptr<LiveControl> m_control;
};

} // namespace efficientnet::desktop
