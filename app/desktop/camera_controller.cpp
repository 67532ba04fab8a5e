#include "camera_controller.h"

#include <QDeadlineTimer>
#include <climits>

namespace efficientnet::desktop {

CameraController::CameraController(std::shared_ptr<FrameSlot> frames, QObject* parent)
    : QObject(parent)
    , m_activeSession(std::make_shared<std::atomic<quint64>>(0))
    , m_display(std::make_shared<DisplaySlot>())
    , m_control(std::make_shared<LiveControl>())
    , m_worker(new CameraWorker(std::move(frames), m_display, m_activeSession, m_control))
{
    m_thread.setObjectName("capture");
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &CameraWorker::opened, this, &CameraController::opened);
    connect(m_worker, &CameraWorker::displayReady, this, &CameraController::displayReady, Qt::QueuedConnection);
    connect(m_worker, &CameraWorker::stopped, this, [this](quint64 session, const QString& reason, bool error) {
        if (session == m_running)
            m_running = 0;
        Q_EMIT stopped(session, reason, error);
    });
    m_thread.start();
}

CameraController::~CameraController() { finish(ULONG_MAX); }

bool CameraController::finish(unsigned long timeoutMs)
{
    *m_activeSession = 0;   // ends the capture loop after the frame it is reading
    m_thread.quit();
    return m_thread.wait(QDeadlineTimer(qint64(timeoutMs == ULONG_MAX ? -1 : qint64(timeoutMs))));
}

quint64 CameraController::start(const CameraOptions& options)
{
    const quint64 session = ++m_nextSession;
    *m_activeSession = session;
    m_running = session;
    m_control->paused = false;
    m_control->steps = 0;
    m_control->loopFiles = options.loopFiles;
    while (m_display->take()) {
    }   // an older session's last frame is not this one's
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker, options, session] { worker->run(options.source, options.paceFiles, session); },
        Qt::QueuedConnection);
    return session;
}

void CameraController::setPaused(bool paused)
{
    m_control->paused = paused;
    m_control->steps = 0;
}

void CameraController::step()
{
    if (m_control->paused)
        ++m_control->steps;
}

void CameraController::setLoop(bool loop) { m_control->loopFiles = loop; }

void CameraController::stop()
{
    *m_activeSession = 0;
    m_running = 0;
}

} // namespace efficientnet::desktop
