#pragma once
// Owns the capture thread and its worker. Each start() opens a new session with a new number; stop() ends the
// current one (the capture loop checks the number between frames), so a restart never races an old loop. The
// destructor stops, quits and waits.
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>

#include "camera_worker.h"

namespace efficientnet::desktop {

class CameraController : public QObject {
    Q_OBJECT

public:
    explicit CameraController(std::shared_ptr<FrameSlot> frames, QObject* parent = nullptr);
    ~CameraController() override;

    quint64 start(const CameraOptions& options);   // returns the session number
    void stop();
    // Ends the capture loop and the thread, waiting at most timeoutMs; false when the thread is still in a read.
    bool finish(unsigned long timeoutMs);
    void setPaused(bool paused);
    void step();                                   // one frame while paused
    void setLoop(bool loop);                       // applies to the running session too
    bool isPaused() const { return m_control->paused; }
    // The newest frame for the screen, if one arrived since the last call (displayReady says when).
    std::optional<DisplayFrame> takeDisplayFrame() { return m_display->take(); }
    bool isActive() const { return m_running != 0; }
    quint64 session() const { return m_running; }   // 0 when stopped
    CameraWorker* worker() const { return m_worker; }
    const QThread* captureThread() const { return &m_thread; }

Q_SIGNALS:
    void opened(quint64 session, const QString& description);
    void stopped(quint64 session, const QString& reason, bool error);
    void displayReady();   // on the GUI thread: takeDisplayFrame() has a frame

private:
    QThread m_thread;
    std::shared_ptr<std::atomic<quint64>> m_activeSession;
    std::shared_ptr<DisplaySlot> m_display;
    std::shared_ptr<LiveControl> m_control;
    CameraWorker* m_worker;
    quint64 m_nextSession = 0;
    quint64 m_running = 0;
};

} // namespace efficientnet::desktop
