#pragma once
// The inference worker: lives on the inference thread, owns the Classifier (built there, so any CUDA state is
// created on the thread that uses it), and answers requests that arrive by queued signals with results sent back
// by signals. Exceptions stop here: each failure becomes an error value.
#include <QObject>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "frame_slot.h"
#include "types.h"

namespace efficientnet::desktop {

// State the controller on the GUI thread shares with the worker: flags read between steps of long jobs.
struct WorkerControl {
    std::atomic<bool> abort{false};          // shutting down: stop whatever runs
    std::atomic<quint64> activeJob{0};       // a file job whose id differs has been cancelled or superseded
    std::atomic<bool> cancelTraining{false}; // Teach: the running training stops at its next step

    // Model loads asked for and not yet begun, in order (InferenceController::loadModel). A folder run takes them
    // between two files, so that a load does not wait behind the run's last file.
    std::optional<ModelConfig> takeLoad()
    {
        const std::lock_guard<std::mutex> lock(loadsMutex);
        if (loads.empty())
            return std::nullopt;
        ModelConfig config = std::move(loads.front());
        loads.pop_front();
        return config;
    }
    void queueLoad(const ModelConfig& config)
    {
        const std::lock_guard<std::mutex> lock(loadsMutex);
        loads.push_back(config);
    }

private:
    std::mutex loadsMutex;
    std::deque<ModelConfig> loads;
};

class InferenceWorker : public QObject {
    Q_OBJECT

public:
    // How many predictions each result carries; the panel shows the first k of them.
    static constexpr int kResultTopK = 20;
    static constexpr int kThumbnailSize = 96;

    InferenceWorker(std::shared_ptr<FrameSlot> frames, std::shared_ptr<WorkerControl> control);
    ~InferenceWorker() override;

public Q_SLOTS:
    // The loads in WorkerControl's queue, in order (each answered by modelLoaded or modelLoadFailed).
    void loadQueued();
    void classifyFiles(quint64 job, const QStringList& paths);
    void classifyImage(quint64 job, const QImage& image, const QString& name);
    void processLatestFrame();
    // Trains on the request's examples (training.h) and reports by trainingProgress/trainingFinished. Frames that
    // arrive meanwhile wait in the slot, overwritten by newer ones: live view is classified again when it ends.
    void train(const efficientnet::desktop::TeachRequest& request);

Q_SIGNALS:
    void modelLoaded(const efficientnet::desktop::ModelInfo& info);
    void modelLoadFailed(const QString& error, const efficientnet::desktop::ModelConfig& config);
    // Emitted before modelLoadFailed when the failure has a remedy the window can offer: the weights fit another
    // network (switch to it), or the chosen model has no weights cached (download them).
    void weightsMismatch(const QString& weights, const QString& fittingModel);
    void weightsMissing(const QString& model);
    void jobStarted(quint64 job, const QStringList& files);   // the files the job will classify, in order
    void fileClassified(const efficientnet::desktop::FileResult& result);
    void jobFinished(quint64 job, bool cancelled);
    void frameClassified(const efficientnet::desktop::FrameResult& result);
    void trainingProgress(const efficientnet::desktop::TeachProgress& progress);
    void trainingFinished(const efficientnet::desktop::TeachResult& result);

private:
    bool load(const ModelConfig& config);   // true: loaded, in use now
    bool loadQueuedModels();                // true: at least one loaded
    bool cancelled(quint64 job) const;
    QString noModel() const;
    FileResult classifyOne(const Image& image, FileResult result);

    std::shared_ptr<FrameSlot> m_frames;
    std::shared_ptr<WorkerControl> m_control;
    std::unique_ptr<Classifier> m_classifier;
    QString m_loadFailure;   // the last load's error; empty once one succeeds
};

// Files given by name are kept as they are (a bad one is reported by name); folders are walked recursively for
// image files, in natural order (2.jpg before 10.jpg, as file managers sort them).
QStringList expandImagePaths(const QStringList& paths);

QImage toQImage(const Image& image);
Image toImage(const QImage& image);

} // namespace efficientnet::desktop
