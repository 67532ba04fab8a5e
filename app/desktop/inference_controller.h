#pragma once
// Owns the inference thread and its worker (Qt's worker pattern): requests go in by queued calls, results come
// out by the worker's signals, re-emitted here on the GUI thread. The destructor shuts down deterministically:
// abort flag, quit(), wait(); the worker (and with it the Classifier) is destroyed on its own thread.
#include <QObject>
#include <QThread>
#include <memory>

#include "inference_worker.h"

namespace efficientnet::desktop {

class InferenceController : public QObject {
    Q_OBJECT

public:
    explicit InferenceController(std::shared_ptr<FrameSlot> frames, QObject* parent = nullptr);
    ~InferenceController() override;

    void loadModel(const ModelConfig& config);
    quint64 classifyFiles(const QStringList& paths);   // returns the job id; supersedes a running job
    quint64 classifyImage(const QImage& image, const QString& name);
    void cancelJob();
    void train(const TeachRequest& request);
    void cancelTraining();
    void frameAvailable();   // a frame waits in the slot (called from the capture thread)
    // Stops whatever runs and ends the thread, waiting at most timeoutMs; false when a step is still running (a
    // model load inside LibTorch cannot be interrupted).
    bool finish(unsigned long timeoutMs);

    bool isLoading() const { return m_pendingLoads > 0; }
    const QThread* workerThread() const { return &m_thread; }
    InferenceWorker* worker() const { return m_worker; }

Q_SIGNALS:
    void modelLoaded(const efficientnet::desktop::ModelInfo& info);
    void modelLoadFailed(const QString& error, const efficientnet::desktop::ModelConfig& config);
    void weightsMismatch(const QString& weights, const QString& fittingModel);   // before modelLoadFailed
    void weightsMissing(const QString& model);                                   // before modelLoadFailed
    void loadingChanged(bool loading);
    void jobStarted(quint64 job, const QStringList& files);
    void fileClassified(const efficientnet::desktop::FileResult& result);
    void jobFinished(quint64 job, bool cancelled);
    void frameClassified(const efficientnet::desktop::FrameResult& result);
    void trainingProgress(const efficientnet::desktop::TeachProgress& progress);
    void trainingFinished(const efficientnet::desktop::TeachResult& result);

private:
    QThread m_thread;
    std::shared_ptr<WorkerControl> m_control;
    InferenceWorker* m_worker;   // lives on m_thread; deleted there when it finishes
    quint64 m_nextJob = 0;
    int m_pendingLoads = 0;
};

void registerMetaTypes();

} // namespace efficientnet::desktop
