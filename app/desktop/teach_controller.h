#pragma once
// Teach mode as one feature (issue 14): the user's classes and their examples, kept as files in a session folder in
// the ImageFolder layout (<folder>/<class>/<image>), which is both what training reads and what "Export examples…"
// copies; captures from live mode; training on the inference thread with progress, a loss/accuracy plot and Cancel;
// the trained checkpoint loaded as the model in use; Save model…. What the window shows goes through the Teach panel,
// the status bar and the error bar; the panel's intents come here.
#include <QImage>
#include <QLockFile>
#include <QMap>
#include <QObject>
#include <QTemporaryDir>
#include <QTimer>
#include <QVector>
#include <memory>

#include "efficientnet/ui/teach_panel.h"
#include "inference_controller.h"
#include "types.h"

namespace efficientnet::ui {
class MainWindow;
}

namespace efficientnet::desktop {

class LiveController;
class ModelSession;

class TeachController : public QObject {
    Q_OBJECT

public:
    static constexpr int kCapturesPerSecond = 4;
    static constexpr int kMaxClassNameLength = 80;

    TeachController(InferenceController* inference, ModelSession* session, LiveController* live,
                    ui::MainWindow* window, QObject* parent = nullptr);
    ~TeachController() override;

    // Classes. Names become folder names and the model's labels: no path separators or characters Windows forbids,
    // and unique regardless of case. Each returns false and shows why when it cannot do what was asked.
    bool addClass(const QString& name);
    bool renameClass(const QString& from, const QString& to);
    bool removeClass(const QString& name);
    // Image files, and folders walked for them; unreadable files are not added and are named in the message.
    // Returns how many were added.
    int addExamples(const QString& className, const QStringList& paths);
    bool addImage(const QString& className, const QImage& image);   // a captured frame
    int removeExamples(const QString& className, const QStringList& files);
    // Live mode runs: Capture can take its frames.
    void setLiveRunning(bool running);
    // Capture held: the newest live frame goes into the selected class, kCapturesPerSecond times a second.
    void setCapturing(bool held);

    // Starts training from the model in use; false (with the reason shown) when it cannot start.
    bool train(int epochs, const QString& scope);
    void cancel();
    bool saveModel(const QString& path);
    bool exportExamples(const QString& folder);
    // Deletes the session folder (examples and trained checkpoints not saved elsewhere). DesktopApp::shutdown calls
    // it: the program leaves by _Exit, without destructors.
    void discard();
    // Session folders that an earlier run could not delete (closed while training, killed, crashed): those whose
    // lock names a process that is no longer running. Called at start.
    static void sweepAbandoned();
    // Resize and crop the examples to this side instead of the base model's transform (0: the model's own). The
    // tests train a random-weight B0 at a small side so that a CPU finishes in seconds.
    void setTrainingSide(int side) { m_side = side; }
    void setSeed(quint64 seed) { m_seed = seed; }

    QStringList classes() const { return m_classes; }
    QStringList examples(const QString& className) const;
    bool isTraining() const { return m_runId != 0; }
    bool isCapturing() const { return m_captureTimer.isActive(); }
    QString dataDir() const;   // empty until the first class is added
    QString trainedCheckpoint() const { return m_trained; }   // the last run's file (saved by Save model…)
    QString message() const { return m_message; }
    bool messageIsError() const { return m_messageIsError; }

Q_SIGNALS:
    void examplesChanged();
    void trainingStarted();
    void trainingProgress(const efficientnet::desktop::TeachProgress& progress);
    // The run ended; `used`: its checkpoint is being loaded as the model in use (modelChanged follows).
    void trainingFinished(bool used, const QString& message);

private:
    void showTrainingBusy();   // the status bar's words while training, live mode or not
    bool ensureFolder();
    void show(const QString& text, bool error);
    bool fail(const QString& text) { show(text, true); return false; }
    QString checkName(const QString& name, const QString& except = {}) const;
    QString classDir(const QString& name) const;
    QString nextFileName(const QString& className, const QString& suffix, const QString& stem);
    void refresh();
    void showExamples(const QString& className);
    void captureFrame();
    void onProgress(const TeachProgress& progress);
    void onFinished(const TeachResult& result);
    void onModelChanged(const ModelInfo& info);
    QString modelName() const;

    InferenceController* m_inference;
    ModelSession* m_session;
    LiveController* m_live;
    ui::MainWindow* m_window;
    ui::TeachPanel* m_panel;
    std::unique_ptr<QTemporaryDir> m_root;   // examples/<class>/<image>, models/taught-N.safetensors; made when
                                             // the first class is added
    std::unique_ptr<QLockFile> m_lock;       // m_root's .lock, held while this session uses it (sweepAbandoned)
    QStringList m_classes;                   // in the order they were added
    QMap<QString, QVector<ui::TeachExampleView>> m_examples;   // the files, and the thumbnails the panel shows
    quint64 m_nextFile = 0;
    QTimer m_captureTimer;
    qint64 m_lastCapturedKey = 0;
    bool m_liveRunning = false;
    quint64 m_nextRun = 0;
    quint64 m_runId = 0;                     // the run in progress; 0 when none
    int m_runEpochs = 0;
    bool m_runOnRandomFeatures = false;   // the run's base computes features from random weights
    QString m_runOut;
    QString m_trained;
    QString m_classifyingAs;                 // the checkpoint the message says is classifying; empty: it says not
    int m_side = 0;
    quint64 m_seed = 0;
    QString m_message;
    bool m_messageIsError = false;
};

} // namespace efficientnet::desktop
