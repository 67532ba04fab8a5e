#pragma once
// The desktop app as a library: the main window, the inference, capture and download threads, and one controller per
// feature — the model in use (ModelSession), images and the gallery (FilesController), live mode (LiveController),
// Teach mode (TeachController) —
// wired together here. efficientnet-demo's main() and the tests both build one of these.
#include <QObject>
#include <QSettings>
#include <QVector>
#include <memory>

#include "camera_controller.h"
#include "download_controller.h"
#include "files_controller.h"
#include "inference_controller.h"
#include "live_controller.h"
#include "model_session.h"
#include "teach_controller.h"

namespace efficientnet::ui {
class MainWindow;
}

namespace efficientnet::desktop {

struct AppOptions {
    QString model;              // empty: the last one used (settings), else efficientnet_b0
    QString weights;            // empty: the model's cached checkpoint, else random weights with a banner
    bool randomWeights = false;
    QString device;             // empty: settings, else auto
    QString precision;          // empty: settings, else auto
    QString camera;             // non-empty: start live mode on this camera index, video file or URL
    QStringList files;          // classify these at start
    QString settingsFile;       // empty: the user's settings (QSettings defaults); tests give a temporary file
    QString labelsFile;         // class names given by hand; empty: the checkpoint's own (ImageNet's for 1000)
    QString registryFile;       // where weights are downloaded from; empty: weights_registry.json in the resources
    bool paceVideoFiles = true;
    bool loopVideoFiles = false;   // also the Live > Loop setting's start value when set
};

class DesktopApp : public QObject {
    Q_OBJECT

public:
    explicit DesktopApp(const AppOptions& options, QObject* parent = nullptr);
    ~DesktopApp() override;

    void start();   // loads the model, then classifies the files and starts the camera given in the options

    void openFiles(const QStringList& paths);   // remembered in File > Open recent
    void loadWeights(const QString& path) { m_session->loadWeights(path); }
    void chooseModel(const QString& model) { m_session->chooseModel(model); }
    void chooseDevice(const QString& device) { m_session->chooseDevice(device); }
    void choosePrecision(const QString& precision) { m_session->choosePrecision(precision); }
    void startCamera(const QString& source);
    void stopCamera();
    void cancel() { m_files->cancel(); }
    // Downloads the offered weights (those of a model just chosen without them), else the current model's.
    void downloadWeights() { m_session->downloadWeights(); }
    void cancelDownload() { m_session->cancelDownload(); }
    bool exportCsv(const QString& path, QString* error = nullptr) const { return m_files->exportResults(path, error); }
    // Stops capture, inference and a download within `budgetMs`; false when a thread was still busy (a model load
    // deep in LibTorch), in which case the process should exit without waiting for it (main() does).
    bool shutdown(int budgetMs);

    ui::MainWindow* window() const { return m_window.get(); }
    InferenceController* inference() const { return m_inference.get(); }
    CameraController* camera() const { return m_camera.get(); }
    DownloadController* download() const { return m_download.get(); }
    ModelSession* session() const { return m_session.get(); }
    FilesController* files() const { return m_files.get(); }
    LiveController* live() const { return m_live.get(); }
    TeachController* teach() const { return m_teach.get(); }
    FrameSlot& frames() const { return *m_frames; }
    const ModelInfo& currentModel() const { return m_session->current(); }
    bool hasModel() const { return m_session->hasModel(); }
    const QVector<FileResult>& fileResults() const { return m_files->results(); }
    quint64 staleFrameResults() const { return m_live->staleResults(); }

Q_SIGNALS:
    void fileShown(const QString& path);             // a file's predictions are on screen
    void frameShown(quint64 sequence);               // a live frame's predictions are on screen
    void frameDisplayed(quint64 sequence);           // a live frame was painted
    void liveStopped(const QString& reason, bool error);

private:
    void rememberRecent(const QStringList& paths);
    void wire();
    void onModelChanged(const ModelInfo& info, const QString& previous);
    void updateStatus();
    QString aboutText() const;

    AppOptions m_options;
    std::unique_ptr<QSettings> m_settings;
    std::shared_ptr<FrameSlot> m_frames;
    std::unique_ptr<ui::MainWindow> m_window;
    std::unique_ptr<InferenceController> m_inference;
    std::unique_ptr<CameraController> m_camera;
    std::unique_ptr<DownloadController> m_download;
    std::unique_ptr<ModelSession> m_session;
    std::unique_ptr<FilesController> m_files;
    std::unique_ptr<LiveController> m_live;
    std::unique_ptr<TeachController> m_teach;
    StageTimes m_lastTimes;
    bool m_haveTimes = false;
};

// Folder holding imagenet_classes.txt: $EFFICIENTNET_RESOURCES_DIR, the installed share folder beside the
// executable, or the source tree's resources/.
QString resourcesDir();
// Weights a package bundles (installer/weights.cmake), inside resourcesDir(); searched after the weights cache.
inline constexpr const char* kBundledWeightsFolder = "weights";
// A checkpoint for a model in the weights cache, torch.hub's folder or the bundled weights; empty if none.
QString findWeightsFor(const QString& model);

} // namespace efficientnet::desktop
