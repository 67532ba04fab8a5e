#include "inference_controller.h"

#include <QDeadlineTimer>
#include <climits>

namespace efficientnet::desktop {

void registerMetaTypes()
{
    qRegisterMetaType<ModelConfig>();
    qRegisterMetaType<ModelInfo>();
    qRegisterMetaType<FileResult>();
    qRegisterMetaType<FrameResult>();
    qRegisterMetaType<TeachRequest>();
    qRegisterMetaType<TeachProgress>();
    qRegisterMetaType<TeachResult>();
}

InferenceController::InferenceController(std::shared_ptr<FrameSlot> frames, QObject* parent)
    : QObject(parent)
    , m_control(std::make_shared<WorkerControl>())
    , m_worker(new InferenceWorker(std::move(frames), m_control))
{
    registerMetaTypes();
    m_thread.setObjectName("inference");
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);

    connect(m_worker, &InferenceWorker::modelLoaded, this, [this](const ModelInfo& info) {
        if (--m_pendingLoads == 0)
            Q_EMIT loadingChanged(false);
        Q_EMIT modelLoaded(info);
    });
    connect(m_worker, &InferenceWorker::weightsMismatch, this, &InferenceController::weightsMismatch);
    connect(m_worker, &InferenceWorker::weightsMissing, this, &InferenceController::weightsMissing);
    connect(m_worker, &InferenceWorker::modelLoadFailed, this, [this](const QString& error, const ModelConfig& config) {
        if (--m_pendingLoads == 0)
            Q_EMIT loadingChanged(false);
        Q_EMIT modelLoadFailed(error, config);
    });
    connect(m_worker, &InferenceWorker::jobStarted, this, &InferenceController::jobStarted);
    connect(m_worker, &InferenceWorker::fileClassified, this, &InferenceController::fileClassified);
    connect(m_worker, &InferenceWorker::jobFinished, this, &InferenceController::jobFinished);
    connect(m_worker, &InferenceWorker::frameClassified, this, &InferenceController::frameClassified);
    connect(m_worker, &InferenceWorker::trainingProgress, this, &InferenceController::trainingProgress);
    connect(m_worker, &InferenceWorker::trainingFinished, this, &InferenceController::trainingFinished);
    m_thread.start();
}

InferenceController::~InferenceController() { finish(ULONG_MAX); }

bool InferenceController::finish(unsigned long timeoutMs)
{
    // A running job or model load finishes its current step, then the event loop ends; queued requests are
    // discarded. The worker, and the Classifier with it, is deleted on the inference thread as it finishes.
    m_control->abort = true;
    m_thread.quit();
    return m_thread.wait(QDeadlineTimer(timeoutMs == ULONG_MAX ? qint64(-1) : qint64(timeoutMs)));
}

void InferenceController::loadModel(const ModelConfig& config)
{
    if (m_pendingLoads++ == 0)
        Q_EMIT loadingChanged(true);
    m_control->queueLoad(config);   // a folder run takes it between two files; else the worker's next event does
    QMetaObject::invokeMethod(m_worker, [worker = m_worker] { worker->loadQueued(); }, Qt::QueuedConnection);
}

quint64 InferenceController::classifyFiles(const QStringList& paths)
{
    const quint64 job = ++m_nextJob;
    m_control->activeJob = job;
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, job, paths] { worker->classifyFiles(job, paths); },
                              Qt::QueuedConnection);
    return job;
}

quint64 InferenceController::classifyImage(const QImage& image, const QString& name)
{
    const quint64 job = ++m_nextJob;
    m_control->activeJob = job;
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, job, image, name] { worker->classifyImage(job, image, name); },
                              Qt::QueuedConnection);
    return job;
}

void InferenceController::cancelJob() { m_control->activeJob = 0; }

void InferenceController::train(const TeachRequest& request)
{
    m_control->cancelTraining = false;
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, request] { worker->train(request); }, Qt::QueuedConnection);
}

void InferenceController::cancelTraining() { m_control->cancelTraining = true; }

void InferenceController::frameAvailable()
{
    QMetaObject::invokeMethod(m_worker, &InferenceWorker::processLatestFrame, Qt::QueuedConnection);
}

} // namespace efficientnet::desktop
