#pragma once
// Capture on its own thread: OpenCV's VideoCapture on a camera index, a video file or a stream URL. Every frame
// goes into the FrameSlot (latest wins); the worker says when the slot needs its consumer woken. The capture loop
// runs inside run() until the session is stopped, the source ends, or the camera is lost.
#include <QObject>
#include <atomic>
#include <memory>

#include "frame_slot.h"

namespace efficientnet::desktop {

struct CameraOptions {
    QString source = QStringLiteral("0");   // camera index, video file or URL
    // Video files are read at their own frame rate, as a camera would deliver them; off: as fast as they decode
    // (used to prove that frames are dropped when inference is slower than capture).
    bool paceFiles = true;
    bool loopFiles = false;
};

class CameraWorker : public QObject {
    Q_OBJECT

public:
    CameraWorker(std::shared_ptr<FrameSlot> frames, std::shared_ptr<std::atomic<quint64>> activeSession);

public Q_SLOTS:
    void run(const QString& source, bool paceFiles, bool loopFiles, quint64 session);

Q_SIGNALS:
    void opened(quint64 session, const QString& description);
    void frameReady();   // the slot went from empty to full: wake inference (emitted on the capture thread)
    // Why the session ended: stopped by the user (error false), the video ended (false), or the camera could not be
    // opened or was lost (error true, with what to do).
    void stopped(quint64 session, const QString& reason, bool error);

private:
    std::shared_ptr<FrameSlot> m_frames;
    std::shared_ptr<std::atomic<quint64>> m_activeSession;
};

} // namespace efficientnet::desktop
