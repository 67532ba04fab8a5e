#pragma once
// The desktop app as a library: the main window, the inference, capture and download controllers, and the wiring
// between them (what a drop, a model choice, a camera toggle or a download means). efficientnet-demo's main() and the
// tests both build one of these.
#include <QObject>
#include <QSettings>
#include <QVector>
#include <memory>
#include <optional>

#include "camera_controller.h"
#include "download_controller.h"
#include "inference_controller.h"
#include "score_smoother.h"

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
    QString labelsFile;         // empty: imagenet_classes.txt from the resources folder
    QString registryFile;       // where weights are downloaded from; empty: weights_registry.json in the resources
    bool paceVideoFiles = true;
    bool loopVideoFiles = false;
};

class DesktopApp : public QObject {
    Q_OBJECT

public:
    explicit DesktopApp(const AppOptions& options, QObject* parent = nullptr);
    ~DesktopApp() override;

    void start();   // loads the model, then classifies the files and starts the camera given in the options

    void openFiles(const QStringList& paths);
    void loadWeights(const QString& path);
    void chooseModel(const QString& model);
    void chooseDevice(const QString& device);
    void choosePrecision(const QString& precision);
    void startCamera(const QString& source);
    void stopCamera();
    void cancel();
    // Downloads the offered weights (those of a model just chosen without them), else the current model's.
    void downloadWeights();
    void cancelDownload();
    bool exportCsv(const QString& path, QString* error = nullptr) const;

    ui::MainWindow* window() const { return m_window.get(); }
    InferenceController* inference() const { return m_inference.get(); }
    CameraController* camera() const { return m_camera.get(); }
    DownloadController* download() const { return m_download.get(); }
    FrameSlot& frames() const { return *m_frames; }
    const ModelInfo& currentModel() const { return m_model; }
    bool hasModel() const { return !m_model.model.isEmpty(); }
    const QVector<FileResult>& fileResults() const { return m_results; }
    quint64 staleFrameResults() const { return m_staleFrameResults; }

Q_SIGNALS:
    void fileShown(const QString& path);             // a file's predictions are on screen
    void frameShown(quint64 sequence);               // a live frame and its predictions are on screen
    void liveStopped(const QString& reason, bool error);

private:
    void rememberRecent(const QStringList& paths);
    void wire();
    void loadModel(const ModelConfig& config);
    void onModelLoaded(const ModelInfo& info);
    void onModelLoadFailed(const QString& error, const ModelConfig& config);
    void onJobStarted(quint64 job, int count);
    void onFileClassified(const FileResult& result);
    void onJobFinished(quint64 job, bool cancelled);
    void onFrameClassified(const FrameResult& result);
    bool offerDownload(const QString& model, QString* why = nullptr);
    void withdrawDownloadOffer();
    QString howToGetWeights(const QString& model, bool offered, const QString& why) const;
    void onDownloadFinished(const QString& model, const QString& path, const QString& warning);
    void onDownloadFailed(const QString& model, const QString& error, bool cancelled);
    void showGalleryEntry(int index);
    void updateStatus();
    QString aboutText() const;

    AppOptions m_options;
    std::unique_ptr<QSettings> m_settings;
    std::shared_ptr<FrameSlot> m_frames;
    std::unique_ptr<ui::MainWindow> m_window;
    std::unique_ptr<InferenceController> m_inference;
    std::unique_ptr<CameraController> m_camera;
    std::unique_ptr<DownloadController> m_download;
    std::optional<WeightsOffer> m_offer;   // what the download bar offers

    ModelConfig m_config;       // what the next reload starts from
    ModelInfo m_model;          // what is loaded
    quint64 m_job = 0;          // the gallery's job; results of other jobs are stale
    quint64 m_previewJob = 0;   // a gallery entry shown again
    QVector<FileResult> m_results;
    quint64 m_liveSession = 0;      // the capture session running now; 0 when live mode is off
    quint64 m_shownSession = 0;     // whose results are shown: the last session, until the user stops it
    quint64 m_lastSequence = 0;
    bool m_smoothing = false;       // live scores averaged over frames (View: Live > Smooth)
    ScoreSmoother m_smoother;
    qint64 m_lastFrameShownNs = 0;
    double m_fps = -1;
    quint64 m_staleFrameResults = 0;
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
