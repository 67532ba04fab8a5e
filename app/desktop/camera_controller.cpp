#include "camera_controller.h"

namespace efficientnet::desktop {

CameraController::CameraController(std::shared_ptr<FrameSlot> frames, QObject* parent)
    : QObject(parent)
    , m_activeSession(std::make_shared<std::atomic<quint64>>(0))
    , m_worker(new CameraWorker(std::move(frames), m_activeSession))
{
    m_thread.setObjectName("capture");
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &CameraWorker::opened, this, &CameraController::opened);
    connect(m_worker, &CameraWorker::stopped, this, [this](quint64 session, const QString& reason, bool error) {
        if (session == m_running)
            m_running = 0;
        Q_EMIT stopped(session, reason, error);
    });
    m_thread.start();
}

CameraController::~CameraController()
{
    *m_activeSession = 0;   // ends the capture loop after the frame it is reading
    m_thread.quit();
    m_thread.wait();
}

quint64 CameraController::start(const CameraOptions& options)
{
    const quint64 session = ++m_nextSession;
    *m_activeSession = session;
    m_running = session;
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker, options, session] {
            worker->run(options.source, options.paceFiles, options.loopFiles, session);
        },
        Qt::QueuedConnection);
    return session;
}

void CameraController::stop()
{
    *m_activeSession = 0;
    m_running = 0;
}

} // namespace efficientnet::desktop
