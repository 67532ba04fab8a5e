#include "desktop_app.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QFileInfo>
#include <QStatusBar>
#include <algorithm>
#include <climits>

#include <opencv2/core/version.hpp>

#include "camera_list.h"
#include "core_paths.h"
#include "efficientnet/ui/gallery_panel.h"
#include "efficientnet/ui/main_window.h"
#include "efficientnet/variants.h"

namespace efficientnet::desktop {
namespace {

constexpr const char* kLabelsFile = "imagenet_classes.txt";
constexpr const char* kRegistryFile = "weights_registry.json";
constexpr int kMaxRecentFiles = 10;
constexpr int kStatusMessageMs = 5000;

QString orDefault(const QString& given, const QVariant& saved, const QString& fallback)
{
    if (!given.isEmpty())
        return given;
    const QString s = saved.toString();
    return s.isEmpty() ? fallback : s;
}

} // namespace

QString resourcesDir()
{
    const QString env = qEnvironmentVariable("EFFICIENTNET_RESOURCES_DIR");
    if (!env.isEmpty())
        return env;
    const QDir exe(QCoreApplication::applicationDirPath());
    for (const QString& candidate : {exe.filePath("../share/efficientnet-libtorch"), exe.filePath("resources")})
        if (QFileInfo::exists(candidate + "/" + kLabelsFile))
            return candidate;
    return QStringLiteral(EFFICIENTNET_SOURCE_RESOURCES);
}

QString findWeightsFor(const QString& model)
{
    return fromCorePath(findCachedWeights(model.toStdString(), {toCorePath(resourcesDir() + "/" + kBundledWeightsFolder)}));
}

namespace {

// A checkpoint named among the files is the weights, as one dropped on the window is (it used to fail as an image
// that cannot be read): the first one, when no weights are given.
AppOptions withWeightsFromFiles(AppOptions options)
{
    const auto checkpoint = std::find_if(options.files.begin(), options.files.end(), ui::isWeightsFile);
    if (options.weights.isEmpty() && checkpoint != options.files.end()) {
        options.weights = *checkpoint;
        options.files.erase(checkpoint);
    }
    return options;
}

} // namespace

DesktopApp::DesktopApp(const AppOptions& options, QObject* parent)
    : QObject(parent)
    , m_options(withWeightsFromFiles(options))
    , m_settings(options.settingsFile.isEmpty() ? std::make_unique<QSettings>()
                                                : std::make_unique<QSettings>(options.settingsFile, QSettings::IniFormat))
    , m_frames(std::make_shared<FrameSlot>())
    , m_window(std::make_unique<ui::MainWindow>())
    , m_inference(std::make_unique<InferenceController>(m_frames))
    , m_camera(std::make_unique<CameraController>(m_frames))
    , m_download(std::make_unique<DownloadController>(
          options.registryFile.isEmpty() ? resourcesDir() + "/" + kRegistryFile : options.registryFile))
{
    ModelConfig config;
    config.model = orDefault(m_options.model, m_settings->value("model"), "efficientnet_b0");
    config.device = orDefault(m_options.device, m_settings->value("device"), "auto");
    config.precision = orDefault(m_options.precision, m_settings->value("precision"), "auto");
    config.weights = m_options.weights;
    // Weights given without a model are loaded as the network they are (as the console tool does), not as the model
    // the settings remember from an earlier run: --weights e2e_b0.pth with efficientnet_b2 remembered is b0.
    config.modelIfItFits = !m_options.weights.isEmpty() && m_options.model.isEmpty();
    config.randomWeights = m_options.randomWeights;
    config.randomIfNoWeights = true;   // at start a demo that runs (with a banner) beats one that refuses
    config.labelsFile = m_options.labelsFile;
    config.imagenetLabelsFile = resourcesDir() + "/" + kLabelsFile;
    if (!QFileInfo::exists(config.imagenetLabelsFile)) {
        m_window->showError(ui::ErrorTopic::Model, tr("Class names not found (%1): predictions show class numbers.")
                                                       .arg(config.imagenetLabelsFile));
        config.imagenetLabelsFile.clear();
    }
    m_session = std::make_unique<ModelSession>(m_inference.get(), m_download.get(), m_window.get(), m_settings.get(), config);
    m_files = std::make_unique<FilesController>(m_inference.get(), m_window.get());
    m_live = std::make_unique<LiveController>(m_camera.get(), m_frames.get(), m_window.get());
    m_teach = std::make_unique<TeachController>(m_inference.get(), m_session.get(), m_live.get(), m_window.get());
    TeachController::sweepAbandoned();   // what a run closed during training, or killed, left in the temp folder
    connect(m_teach.get(), &TeachController::trainingStarted, m_session.get(), [this] { m_session->setTraining(true); });
    connect(m_teach.get(), &TeachController::trainingFinished, m_session.get(), [this] { m_session->setTraining(false); });

    QStringList models;
    for (const auto& v : allVariants())
        models << QString::fromStdString(v.name);
    m_window->setModelChoices(models);
    m_window->setCurrentModel(config.model);
    m_window->setCurrentDevice(config.device);
    m_window->setCurrentPrecision(config.precision);
    static const RuntimeInfo runtime = runtimeInfo();   // asks the CUDA driver once
    const bool gpu = runtime.gpu != "none";
    const std::string why = gpu ? std::string() : gpuUnavailableReason();
    m_window->setCudaAvailable(gpu, why.empty() ? tr("No CUDA GPU was found (this build or this machine has none)")
                                                : tr("No CUDA GPU is usable: %1").arg(QString::fromStdString(why)));
    m_window->setAboutText(aboutText());
    m_window->predictionsPanel()->setTopK(m_settings->value("topK", ui::PredictionsPanel::kDefaultTopK).toInt());
    m_window->setRecentFiles(m_settings->value("recentFiles").toStringList());
    m_window->setLastDirectory(m_settings->value("lastDirectory").toString());
    const bool smoothing = m_settings->value("smoothing", false).toBool();
    m_window->setSmoothing(smoothing);
    m_live->setSmoothing(smoothing);
    m_window->setLoop(options.loopVideoFiles || m_settings->value("loop", false).toBool());
    const bool overlayTopK = m_settings->value("overlayTopK", false).toBool();
    m_window->setOverlayTopK(overlayTopK);
    m_live->setOverlayTopK(overlayTopK);
    m_window->setDownloadAvailable(DownloadController::supported());
    m_window->setCameraChoices(presentCameras());
    watchCameras(this, [this] { m_window->setCameraChoices(presentCameras()); });
    if (!options.camera.isEmpty())
        m_window->setCameraSource(options.camera);
    const QByteArray geometry = m_settings->value("geometry").toByteArray();
    if (geometry.isEmpty() || !m_window->restoreGeometry(geometry))
        m_window->fitToScreen();
    m_window->restoreState(m_settings->value("windowState").toByteArray());
    m_window->showGallery(false);   // an empty gallery takes no room; it comes with a folder
    wire();
}

DesktopApp::~DesktopApp() { shutdown(-1); }

bool DesktopApp::shutdown(int budgetMs)
{
    if (m_settings) {
        m_settings->setValue("geometry", m_window->saveGeometry());
        m_settings->setValue("windowState", m_window->saveState());
        m_settings->sync();
    }
    // Capture first (nothing new arrives), then inference (a running step ends, the Classifier goes on its thread),
    // then a download (cancelled): no result can reach a deleted widget.
    const QDeadlineTimer deadline(budgetMs < 0 ? QDeadlineTimer::Forever : QDeadlineTimer(budgetMs));
    const auto left = [&] { return deadline.isForever() ? ULONG_MAX : static_cast<unsigned long>(std::max<qint64>(0, deadline.remainingTime())); };
    bool clean = true;
    clean = m_camera->finish(left()) && clean;
    clean = m_inference->finish(left()) && clean;
    clean = m_download->finish(left()) && clean;
    if (!m_teach->isTraining() || clean)   // not under a training that is still reading the examples
        m_teach->discard();
    return clean;
}

void DesktopApp::wire()
{
    ui::MainWindow* w = m_window.get();
    connect(w, &ui::MainWindow::filesRequested, this, &DesktopApp::openFiles);
    connect(w, &ui::MainWindow::imagePasted, m_files.get(), &FilesController::pasteImage);
    connect(w, &ui::MainWindow::weightsRequested, m_session.get(), &ModelSession::loadWeights);
    connect(w, &ui::MainWindow::modelChosen, m_session.get(), &ModelSession::chooseModel);
    connect(w, &ui::MainWindow::deviceChosen, m_session.get(), &ModelSession::chooseDevice);
    connect(w, &ui::MainWindow::precisionChosen, m_session.get(), &ModelSession::choosePrecision);
    connect(w, &ui::MainWindow::downloadRequested, m_session.get(), &ModelSession::downloadWeights);
    connect(w, &ui::MainWindow::downloadCancelled, m_session.get(), &ModelSession::cancelDownload);
    connect(w, &ui::MainWindow::topKChanged, this, [this](int k) { m_settings->setValue("topK", k); });
    connect(w, &ui::MainWindow::directoryUsed, this, [this](const QString& dir) { m_settings->setValue("lastDirectory", dir); });
    connect(w, &ui::MainWindow::smoothingToggled, this, [this](bool on) {
        m_live->setSmoothing(on);
        m_settings->setValue("smoothing", on);
    });
    connect(w, &ui::MainWindow::cameraToggled, this, [this](bool on, const QString& source) {
        on ? startCamera(source) : stopCamera();
    });
    connect(w, &ui::MainWindow::livePaused, m_live.get(), &LiveController::setPaused);
    connect(w, &ui::MainWindow::liveStepRequested, m_live.get(), &LiveController::step);
    connect(w, &ui::MainWindow::loopToggled, this, [this](bool loop) {
        m_live->setLoop(loop);
        m_settings->setValue("loop", loop);
    });
    connect(w, &ui::MainWindow::overlayTopKToggled, this, [this](bool on) {
        m_live->setOverlayTopK(on);
        m_settings->setValue("overlayTopK", on);
    });
    connect(w, &ui::MainWindow::snapshotRequested, this, [this](const QString& path) {
        QString error;
        if (m_live->snapshot(path, &error))
            m_window->statusBar()->showMessage(tr("Saved %1").arg(path), kStatusMessageMs);
        else
            m_window->showError(ui::ErrorTopic::Export, error);
    });
    connect(w, &ui::MainWindow::previousRequested, m_files.get(), &FilesController::previous);
    connect(w, &ui::MainWindow::nextRequested, m_files.get(), &FilesController::next);
    connect(w, &ui::MainWindow::escapePressed, this, [this] {
        if (m_files->isRunning())
            m_files->cancel();
    });
    connect(w->galleryPanel(), &ui::GalleryPanel::exportRequested, this, [this](const QString& path) {
        QString error;
        if (!exportCsv(path, &error)) {
            m_window->showError(ui::ErrorTopic::Export, error);
            return;
        }
        m_window->clearError(ui::ErrorTopic::Export);
        m_window->statusBar()->showMessage(tr("Predictions written to %1").arg(path), kStatusMessageMs);
    });

    connect(m_session.get(), &ModelSession::modelChanged, this, &DesktopApp::onModelChanged);
    // A model load asked for during a folder run is done between two of its files (InferenceWorker::classifyFiles);
    // if it loads, the run stops there, and FilesController::modelChanged marks what it classified as the older
    // model's ("Classify again"); if it fails, the run goes on.
    connect(m_files.get(), &FilesController::fileShown, this, &DesktopApp::fileShown);
    connect(m_files.get(), &FilesController::timesMeasured, this, [this](const StageTimes& times) {
        m_lastTimes = times;
        m_haveTimes = true;
        updateStatus();
    });
    InferenceController* inf = m_inference.get();
    connect(inf, &InferenceController::frameClassified, m_live.get(), &LiveController::onFrameClassified);
    connect(inf, &InferenceController::frameClassified, this, [this](const FrameResult& result) {
        if (result.error.isEmpty()) {
            m_lastTimes = result.times;
            m_haveTimes = true;
        }
    });
    connect(m_live.get(), &LiveController::frameShown, this, &DesktopApp::frameShown);
    connect(m_live.get(), &LiveController::frameDisplayed, this, &DesktopApp::frameDisplayed);
    connect(m_live.get(), &LiveController::statusChanged, this, &DesktopApp::updateStatus);
    connect(m_live.get(), &LiveController::stopped, this, [this](const QString& reason, bool error) {
        m_files->setLiveRunning(false);
        m_teach->setLiveRunning(false);
        if (!error)
            m_window->statusBar()->showMessage(reason, kStatusMessageMs);
        if (m_window->galleryPanel()->count() > 0)
            m_window->showGallery(true);
        updateStatus();
        Q_EMIT liveStopped(reason, error);
    });

    // The capture thread wakes inference directly: no hop through the GUI thread between frame and model.
    connect(m_camera->worker(), &CameraWorker::frameReady, inf, [inf] { inf->frameAvailable(); }, Qt::DirectConnection);
    connect(m_camera.get(), &CameraController::opened, this, [this](quint64 session, const QString& description) {
        if (session == m_camera->session())
            m_window->statusBar()->showMessage(tr("Live: %1").arg(description), kStatusMessageMs);
    });
}

void DesktopApp::start()
{
    m_session->start();
    if (!m_options.files.isEmpty())
        openFiles(m_options.files);
    if (!m_options.camera.isEmpty())
        startCamera(m_options.camera);
}

void DesktopApp::openFiles(const QStringList& paths)
{
    rememberRecent(paths);
    m_files->openFiles(paths);
}

void DesktopApp::rememberRecent(const QStringList& paths)
{
    QStringList recent = m_window->recentFiles();
    for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
        const QString path = QFileInfo(*it).absoluteFilePath();
        recent.removeAll(path);
        recent.prepend(path);
    }
    while (recent.size() > kMaxRecentFiles)
        recent.removeLast();
    m_window->setRecentFiles(recent);
    m_settings->setValue("recentFiles", recent);
}

void DesktopApp::startCamera(const QString& source)
{
    if (source.isEmpty()) {
        m_window->showError(ui::ErrorTopic::Live, tr("Choose a camera, or type a video file or stream URL in the box "
                                                     "beside Camera, first."));
        m_window->setCameraActive(false);
        return;
    }
    m_window->clearError(ui::ErrorTopic::Live);
    m_files->setLiveRunning(true);
    m_teach->setLiveRunning(true);
    m_live->start(source, m_options.paceVideoFiles);
    updateStatus();
}

void DesktopApp::stopCamera() { m_live->stop(); }

void DesktopApp::onModelChanged(const ModelInfo& info, const QString& previous)
{
    if (m_window->captionText().isEmpty())   // else the title names what is on screen, and stays (found by hand)
        m_window->setWindowTitle(tr("EfficientNet demo — %1").arg(info.name.isEmpty() ? info.config.model : info.name));
    m_window->setAboutText(aboutText());
    m_haveTimes = false;
    m_live->modelChanged();
    m_files->modelChanged(previous, info.name.isEmpty() ? info.model : info.name);
    updateStatus();
}

void DesktopApp::updateStatus()
{
    const ModelInfo& model = m_session->current();
    ui::StatusInfo s;
    s.model = model.name.isEmpty() ? model.model : model.name;
    s.device = model.device;
    s.precision = model.precision;
    s.classes = model.classes;
    s.transform = model.transform.isEmpty() ? QString() : tr("Weights: %1").arg(model.weights) + "\n" +
                                                          tr("Transform: %1").arg(model.transform) + "\n" +
                                                          tr("Class names: %1").arg(model.labelsOrigin);
    if (m_haveTimes) {
        s.preprocessMs = m_lastTimes.preprocessMs;
        s.inferenceMs = m_lastTimes.uploadMs + m_lastTimes.forwardMs + m_lastTimes.postprocessMs;
    }
    s.live = m_live->isRunning();
    s.displayFps = m_live->displayRate();
    s.classifiedFps = m_live->classifiedRate();
    s.droppedFrames = m_frames->dropped();
    m_window->setStatus(s);
}

QString DesktopApp::aboutText() const
{
    static const RuntimeInfo runtime = runtimeInfo();   // asks the CUDA driver once
    const ModelInfo& model = m_session->current();
    return tr("<h3>EfficientNet demo %1</h3>"
              "<p>EfficientNet B0–B7 and V2 on LibTorch, classifying images and live video.</p>"
              "<table><tr><td>Qt</td><td>%2</td></tr><tr><td>LibTorch</td><td>%3</td></tr>"
              "<tr><td>OpenCV</td><td>%4</td></tr><tr><td>CUDA / cuDNN</td><td>%5 / %6</td></tr>"
              "<tr><td>GPU</td><td>%7</td></tr><tr><td>Device</td><td>%8</td></tr>"
              "<tr><td>Weights</td><td>%9</td></tr></table>")
        .arg(QStringLiteral(EFFICIENTNET_VERSION), QString::fromLatin1(qVersion()),
             QString::fromStdString(runtime.libtorch), QStringLiteral(CV_VERSION),
             QString::fromStdString(runtime.cuda), QString::fromStdString(runtime.cudnn),
             QString::fromStdString(runtime.gpu).toHtmlEscaped(),
             model.device.isEmpty() ? tr("(no model loaded)") : model.device.toHtmlEscaped(),
             model.weights.toHtmlEscaped());
}

} // namespace efficientnet::desktop
