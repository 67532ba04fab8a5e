#include "desktop_app.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSaveFile>
#include <QStatusBar>
#include <chrono>

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
constexpr double kBytesPerMB = 1e6;   // sizes offered in decimal megabytes, as browsers and file managers show them
constexpr double kFpsSmoothing = 0.2;
constexpr int kMaxRecentFiles = 10;   // weight of the newest frame interval in the moving average
constexpr int kStatusMessageMs = 5000;

QString orDefault(const QString& given, const QVariant& saved, const QString& fallback)
{
    if (!given.isEmpty())
        return given;
    const QString s = saved.toString();
    return s.isEmpty() ? fallback : s;
}

QVector<ui::PredictionRow> toRows(const std::vector<Prediction>& predictions)
{
    QVector<ui::PredictionRow> rows;
    rows.reserve(static_cast<int>(predictions.size()));
    for (const auto& p : predictions)
        rows.push_back({QString::fromStdString(p.label), p.index, p.probability});
    return rows;
}

QString top1Text(const FileResult& r)
{
    if (r.predictions.empty())
        return {};
    const auto& p = r.predictions.front();
    return QString("%1 (%2 %)").arg(QString::fromStdString(p.label)).arg(p.probability * 100.0, 0, 'f', 1);
}

QString csvField(QString text)
{
    if (text.contains(',') || text.contains('"') || text.contains('\n'))
        return '"' + text.replace('"', "\"\"") + '"';
    return text;
}

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
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

DesktopApp::DesktopApp(const AppOptions& options, QObject* parent)
    : QObject(parent)
    , m_options(options)
    , m_settings(options.settingsFile.isEmpty() ? std::make_unique<QSettings>()
                                                : std::make_unique<QSettings>(options.settingsFile, QSettings::IniFormat))
    , m_frames(std::make_shared<FrameSlot>())
    , m_window(std::make_unique<ui::MainWindow>())
    , m_inference(std::make_unique<InferenceController>(m_frames))
    , m_camera(std::make_unique<CameraController>(m_frames))
    , m_download(std::make_unique<DownloadController>(
          options.registryFile.isEmpty() ? resourcesDir() + "/" + kRegistryFile : options.registryFile))
{
    QStringList models;
    for (const auto& v : allVariants())
        models << QString::fromStdString(v.name);
    m_window->setModelChoices(models);
    m_window->setAboutText(aboutText());

    m_config.model = orDefault(options.model, m_settings->value("model"), "efficientnet_b0");
    m_config.device = orDefault(options.device, m_settings->value("device"), "auto");
    m_config.precision = orDefault(options.precision, m_settings->value("precision"), "auto");
    m_config.weights = options.weights;
    m_config.randomWeights = options.randomWeights;
    m_config.randomIfNoWeights = true;   // at start a demo that runs (with a banner) beats one that refuses
    m_config.labelsFile = options.labelsFile;
    m_config.imagenetLabelsFile = resourcesDir() + "/" + kLabelsFile;
    if (!QFileInfo::exists(m_config.imagenetLabelsFile)) {
        m_window->showError(tr("Class names not found (%1): predictions show class numbers.").arg(m_config.imagenetLabelsFile));
        m_config.imagenetLabelsFile.clear();
    }
    m_window->setCurrentModel(m_config.model);
    m_window->setCurrentDevice(m_config.device);
    m_window->setCurrentPrecision(m_config.precision);
    m_window->predictionsPanel()->setTopK(m_settings->value("topK", ui::PredictionsPanel::kDefaultTopK).toInt());
    m_window->setRecentFiles(m_settings->value("recentFiles").toStringList());
    m_smoothing = m_settings->value("smoothing", false).toBool();
    m_window->setSmoothing(m_smoothing);
    m_window->setDownloadAvailable(DownloadController::supported());
    m_window->setCameraChoices(presentCameras());
    watchCameras(this, [this] { m_window->setCameraChoices(presentCameras()); });
    if (!options.camera.isEmpty())
        m_window->setCameraSource(options.camera);
    const QByteArray geometry = m_settings->value("geometry").toByteArray();
    if (geometry.isEmpty() || !m_window->restoreGeometry(geometry))
        m_window->resize(1100, 720);
    m_window->restoreState(m_settings->value("windowState").toByteArray());
    wire();
}

DesktopApp::~DesktopApp()
{
    m_settings->setValue("geometry", m_window->saveGeometry());
    m_settings->setValue("windowState", m_window->saveState());
    // Capture first (nothing new arrives), then inference (a running step ends, the Classifier goes on its thread),
    // then a download (cancelled), then the window: no result can reach a deleted widget.
    m_camera.reset();
    m_inference.reset();
    m_download.reset();
    m_window.reset();
}

void DesktopApp::wire()
{
    ui::MainWindow* w = m_window.get();
    connect(w, &ui::MainWindow::filesRequested, this, &DesktopApp::openFiles);
    connect(w, &ui::MainWindow::imagePasted, this, [this](const QImage& image) {
        m_job = m_inference->classifyImage(image, tr("pasted image"));
        m_results.clear();
    });
    connect(w, &ui::MainWindow::weightsRequested, this, &DesktopApp::loadWeights);
    connect(w, &ui::MainWindow::modelChosen, this, &DesktopApp::chooseModel);
    connect(w, &ui::MainWindow::deviceChosen, this, &DesktopApp::chooseDevice);
    connect(w, &ui::MainWindow::precisionChosen, this, &DesktopApp::choosePrecision);
    connect(w, &ui::MainWindow::topKChanged, this, [this](int k) { m_settings->setValue("topK", k); });
    connect(w, &ui::MainWindow::smoothingToggled, this, [this](bool on) {
        m_smoothing = on;
        m_smoother.reset();
        m_settings->setValue("smoothing", on);
    });
    connect(w, &ui::MainWindow::cameraToggled, this, [this](bool on, const QString& source) {
        on ? startCamera(source) : stopCamera();
    });
    connect(w, &ui::MainWindow::downloadRequested, this, &DesktopApp::downloadWeights);
    connect(w, &ui::MainWindow::downloadCancelled, this, &DesktopApp::cancelDownload);
    ui::GalleryPanel* gallery = w->galleryPanel();
    connect(gallery, &ui::GalleryPanel::cancelRequested, this, &DesktopApp::cancel);
    connect(gallery, &ui::GalleryPanel::entrySelected, this, &DesktopApp::showGalleryEntry);
    connect(gallery, &ui::GalleryPanel::exportRequested, this, [this](const QString& path) {
        QString error;
        if (!exportCsv(path, &error))
            m_window->showError(error);
        else
            m_window->statusBar()->showMessage(tr("Predictions written to %1").arg(path), kStatusMessageMs);
    });

    InferenceController* inf = m_inference.get();
    connect(inf, &InferenceController::modelLoaded, this, &DesktopApp::onModelLoaded);
    connect(inf, &InferenceController::modelLoadFailed, this, &DesktopApp::onModelLoadFailed);
    connect(inf, &InferenceController::loadingChanged, this, [this](bool loading) {
        m_window->setBusy(loading ? tr("Loading %1…").arg(m_config.model) : QString());
    });
    connect(inf, &InferenceController::jobStarted, this, &DesktopApp::onJobStarted);
    connect(inf, &InferenceController::fileClassified, this, &DesktopApp::onFileClassified);
    connect(inf, &InferenceController::jobFinished, this, &DesktopApp::onJobFinished);
    connect(inf, &InferenceController::frameClassified, this, &DesktopApp::onFrameClassified);

    DownloadController* download = m_download.get();
    connect(download, &DownloadController::progress, this, [this](const QString& model, qint64 done, qint64 total) {
        m_window->showDownloadProgress(tr("Downloading %1 weights").arg(model), done, total);
    });
    connect(download, &DownloadController::finished, this, &DesktopApp::onDownloadFinished);
    connect(download, &DownloadController::failed, this, &DesktopApp::onDownloadFailed);

    // The capture thread wakes inference directly: no hop through the GUI thread between frame and model.
    connect(m_camera->worker(), &CameraWorker::frameReady, inf, [inf] { inf->frameAvailable(); }, Qt::DirectConnection);
    connect(m_camera.get(), &CameraController::opened, this, [this](quint64 session, const QString& description) {
        if (session == m_liveSession)
            m_window->statusBar()->showMessage(tr("Live: %1").arg(description), kStatusMessageMs);
    });
    connect(m_camera.get(), &CameraController::stopped, this, [this](quint64 session, const QString& reason, bool error) {
        if (session != m_liveSession)
            return;   // an older session, already replaced
        m_liveSession = 0;
        m_window->setCameraActive(false);
        updateStatus();
        if (error)
            m_window->showError(reason);
        else
            m_window->statusBar()->showMessage(reason, kStatusMessageMs);
        Q_EMIT liveStopped(reason, error);
    });
}

void DesktopApp::start()
{
    loadModel(m_config);
    if (!m_options.files.isEmpty())
        openFiles(m_options.files);
    if (!m_options.camera.isEmpty())
        startCamera(m_options.camera);
}

void DesktopApp::loadModel(const ModelConfig& config)
{
    m_config = config;
    m_inference->loadModel(config);
}

void DesktopApp::openFiles(const QStringList& paths)
{
    rememberRecent(paths);
    m_results.clear();
    m_job = m_inference->classifyFiles(paths);
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

void DesktopApp::loadWeights(const QString& path)
{
    ModelConfig config = m_config;
    config.weights = path;
    config.randomWeights = false;
    config.modelIfItFits = true;   // a checkpoint of another network is loaded as that network
    loadModel(config);
}

void DesktopApp::chooseModel(const QString& model)
{
    ModelConfig config = m_config;
    config.model = model;
    config.weights.clear();   // the old model's checkpoint cannot fit; look for the new one's
    config.randomWeights = false;
    config.randomIfNoWeights = m_model.randomWeights;   // keep real weights unless there were none anyway
    loadModel(config);
}

void DesktopApp::chooseDevice(const QString& device)
{
    ModelConfig config = m_model.config;
    config.device = device;
    loadModel(config);
}

void DesktopApp::choosePrecision(const QString& precision)
{
    ModelConfig config = m_model.config;
    config.precision = precision;
    loadModel(config);
}

void DesktopApp::onModelLoaded(const ModelInfo& info)
{
    m_model = info;
    m_config = info.config;
    m_window->setCurrentModel(info.config.model);
    m_window->setCurrentDevice(info.config.device);
    m_window->setCurrentPrecision(info.config.precision);
    QString banner;
    if (info.randomWeights)
        banner = tr("Running on RANDOM weights: the predictions are meaningless.");
    if (info.randomWeights && !info.note.isEmpty()) {   // none cached, rather than asked for: say how to get them
        QString why;
        const bool offered = offerDownload(info.config.model, &why);
        banner += " " + info.note + " " + howToGetWeights(info.config.model, offered, why);
    } else {
        withdrawDownloadOffer();
    }
    m_window->setWarningBanner(banner);
    m_window->setWindowTitle(tr("EfficientNet demo — %1").arg(info.config.model));
    m_window->statusBar()->showMessage(!info.randomWeights && !info.note.isEmpty()
                                           ? info.note
                                           : tr("Loaded %1 on %2: %3").arg(info.name, info.device, info.weights),
                                       kStatusMessageMs);
    m_window->setAboutText(aboutText());
    m_settings->setValue("model", info.config.model);
    m_settings->setValue("device", info.config.device);
    m_settings->setValue("precision", info.config.precision);
    m_haveTimes = false;
    updateStatus();
}

void DesktopApp::onModelLoadFailed(const QString& error, const ModelConfig& config)
{
    const QString kept = hasModel() ? tr("Still using %1.").arg(m_model.config.model) : tr("No model is loaded.");
    // A model chosen without weights is not silently run on random ones; its download is offered instead.
    const bool missingWeights = config.weights.isEmpty() && !config.randomWeights && findWeightsFor(config.model).isEmpty();
    const bool offered = missingWeights && offerDownload(config.model);
    m_window->showError(tr("Could not load %1: %2 %3").arg(config.model, error, kept) +
                        (offered ? " " + tr("Or download its weights with the button above.") : QString()));
    // The choosers go back to what is loaded.
    if (hasModel()) {
        m_config = m_model.config;
        m_window->setCurrentModel(m_model.config.model);
        m_window->setCurrentDevice(m_model.config.device);
        m_window->setCurrentPrecision(m_model.config.precision);
    }
}

// Shows the registry's download for `model` in the download bar; false (and the bar empty) when there is none.
bool DesktopApp::offerDownload(const QString& model, QString* why)
{
    m_offer = m_download->offerFor(model, why);
    m_window->setDownloadOffer(m_offer ? tr("Download %1 weights (about %2 MB)").arg(model).arg(qRound(m_offer->approxBytes / kBytesPerMB))
                                       : QString());
    return m_offer.has_value();
}

void DesktopApp::withdrawDownloadOffer()
{
    m_offer.reset();
    m_window->setDownloadOffer(QString());
}

QString DesktopApp::howToGetWeights(const QString& model, bool offered, const QString& why) const
{
    if (offered)
        return tr("Download them with the button below, or open or drop a checkpoint (File > Open weights…).");
    if (!DownloadController::supported())
        return tr("Open or drop a checkpoint (File > Open weights…), or fetch %1's file from its URL in %2 into that "
                  "folder.").arg(model, m_download->registryFile());
    return tr("Open or drop a checkpoint (File > Open weights…). No download is offered: %1").arg(why);
}

void DesktopApp::downloadWeights()
{
    if (m_download->isRunning())
        return;
    const QString model = hasModel() ? m_model.config.model : m_config.model;
    QString why;
    if (!m_offer && !offerDownload(model, &why)) {
        m_window->showError(tr("Cannot download weights for %1: %2").arg(model, why));
        return;
    }
    m_download->start(*m_offer);
    m_window->showDownloadProgress(tr("Downloading %1 weights").arg(m_offer->model), 0, 0);
}

void DesktopApp::cancelDownload() { m_download->cancel(); }   // the worker reports the cancel as a failure

// The download was asked for by the user for this model: it is loaded, whatever was chosen meanwhile.
void DesktopApp::onDownloadFinished(const QString& model, const QString& path, const QString& warning)
{
    withdrawDownloadOffer();
    m_window->endDownload();
    m_window->clearError();   // an error about the missing weights no longer holds
    if (!warning.isEmpty())
        m_window->showError(warning);
    m_window->statusBar()->showMessage(tr("Downloaded %1").arg(path), kStatusMessageMs);
    ModelConfig config = hasModel() ? m_model.config : m_config;
    config.model = model;
    config.weights = path;
    config.randomWeights = false;
    loadModel(config);
}

void DesktopApp::onDownloadFailed(const QString& model, const QString& error, bool cancelled)
{
    m_window->endDownload();   // the offer comes back, to try again
    m_window->showError(cancelled ? tr("Download of %1 weights cancelled: %2").arg(model, error)
                                  : tr("Download of %1 weights failed: %2").arg(model, error));
}

void DesktopApp::onJobStarted(quint64 job, int count)
{
    if (job != m_job)
        return;
    if (count == 0) {
        m_window->showError(tr("No image files found there."));
        return;
    }
    ui::GalleryPanel* gallery = m_window->galleryPanel();
    if (count > 1) {
        gallery->begin(count);
        m_window->showGallery(true);
    }
    m_window->setBusy(count > 1 ? tr("Classifying %n image(s)…", nullptr, count) : tr("Classifying…"));
}

void DesktopApp::onFileClassified(const FileResult& result)
{
    if (result.job == m_previewJob && result.error.isEmpty()) {
        m_window->showImage(result.image, result.path);
        m_window->showPredictions(toRows(result.predictions));
        return;
    }
    if (result.job != m_job)
        return;   // superseded or cancelled
    FileResult kept = result;
    if (result.count > 1)
        kept.image = QImage();   // a folder's full images would fill memory; a gallery entry is classified again
    m_results.push_back(kept);
    if (result.count > 1)
        m_window->galleryPanel()->setEntry(result.index, result.path, result.thumbnail, top1Text(result), result.error);
    if (!result.error.isEmpty()) {
        m_window->showError(result.error);
        return;
    }
    m_lastTimes = result.times;
    m_haveTimes = true;
    updateStatus();
    if (m_liveSession)
        return;   // the live view keeps the screen; the gallery holds the files' answers
    m_window->showImage(result.image, result.count > 1 ? tr("%1 (%2 of %3)").arg(result.path).arg(result.index + 1).arg(result.count)
                                                       : result.path);
    m_window->showPredictions(toRows(result.predictions));
    Q_EMIT fileShown(result.path);
}

void DesktopApp::onJobFinished(quint64 job, bool cancelled)
{
    if (job != m_job)
        return;
    m_window->setBusy(QString());
    if (m_window->galleryPanel()->isRunning())
        m_window->galleryPanel()->finish(cancelled);
}

void DesktopApp::cancel()
{
    m_inference->cancelJob();
    m_window->setBusy(QString());
    if (m_window->galleryPanel()->isRunning())
        m_window->galleryPanel()->finish(true);
    m_job = 0;
}

void DesktopApp::showGalleryEntry(int index)
{
    if (index < 0 || index >= m_results.size())
        return;
    const FileResult& r = m_results[index];
    if (!r.error.isEmpty()) {
        m_window->showError(r.error);
        return;
    }
    m_window->showImage(r.thumbnail, r.path);
    m_window->showPredictions(toRows(r.predictions));
    // The full image is not kept for a gallery: once the gallery's job is done (a new job would cancel it), the
    // worker reads the file again, so decoding stays off the GUI thread.
    if (!m_window->galleryPanel()->isRunning())
        m_previewJob = m_inference->classifyFiles({r.path});
}

void DesktopApp::startCamera(const QString& source)
{
    if (source.isEmpty()) {
        m_window->showError(tr("Choose a camera index, a video file or a stream URL first."));
        m_window->setCameraActive(false);
        return;
    }
    m_window->clearError();
    m_lastSequence = 0;
    m_smoother.reset();   // a new session does not inherit the last one's scores
    m_lastFrameShownNs = 0;
    m_fps = -1;
    m_frames->clear();
    m_frames->resetCounters();
    CameraOptions options;
    options.source = source;
    options.paceFiles = m_options.paceVideoFiles;
    options.loopFiles = m_options.loopVideoFiles;
    m_liveSession = m_shownSession = m_camera->start(options);
    m_window->setCameraActive(true);
    updateStatus();
}

void DesktopApp::stopCamera()
{
    m_camera->stop();   // the capture loop reports "stopped"
    m_shownSession = 0;  // results still in flight are stale from now on
}

void DesktopApp::onFrameClassified(const FrameResult& result)
{
    // A video that ended by itself still shows the frames the model was busy with; a stopped or replaced
    // session's results are stale.
    if (result.generation != m_shownSession || result.sequence <= m_lastSequence) {
        ++m_staleFrameResults;
        return;
    }
    m_lastSequence = result.sequence;
    if (!result.error.isEmpty()) {
        m_window->showError(result.error);
        return;
    }
    const qint64 now = nowNs();
    if (m_lastFrameShownNs) {
        const double instant = 1e9 / std::max<qint64>(1, now - m_lastFrameShownNs);
        m_fps = m_fps < 0 ? instant : (1 - kFpsSmoothing) * m_fps + kFpsSmoothing * instant;
    }
    m_lastFrameShownNs = now;
    m_lastTimes = result.times;
    m_haveTimes = true;
    m_window->showImage(result.frame, tr("live frame %1").arg(result.sequence));
    m_window->showPredictions(toRows(m_smoothing ? m_smoother.update(result.predictions) : result.predictions));
    updateStatus();
    Q_EMIT frameShown(result.sequence);
}

void DesktopApp::updateStatus()
{
    ui::StatusInfo s;
    s.model = m_model.name.isEmpty() ? m_model.model : m_model.name;
    s.device = m_model.device;
    s.precision = m_model.precision;
    s.classes = m_model.classes;
    s.transform = m_model.transform.isEmpty() ? QString() : tr("Transform: %1").arg(m_model.transform) + "\n" +
                                                          tr("Class names: %1").arg(m_model.labelsOrigin);
    if (m_haveTimes) {
        s.preprocessMs = m_lastTimes.preprocessMs;
        s.inferenceMs = m_lastTimes.uploadMs + m_lastTimes.forwardMs + m_lastTimes.postprocessMs;
    }
    s.live = m_liveSession != 0;
    s.fps = m_fps;
    s.droppedFrames = m_frames->dropped();
    m_window->setStatus(s);
}

bool DesktopApp::exportCsv(const QString& path, QString* error) const
{
    QSaveFile file(path);   // written whole or not at all
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    QByteArray csv = "path,rank,index,label,probability,error\n";
    const int topk = m_window->predictionsPanel()->topK();
    for (const FileResult& r : m_results) {
        if (!r.error.isEmpty()) {
            csv += (csvField(r.path) + ",,,,," + csvField(r.error) + "\n").toUtf8();
            continue;
        }
        for (int k = 0; k < std::min<int>(topk, static_cast<int>(r.predictions.size())); ++k) {
            const auto& p = r.predictions[k];
            csv += QString("%1,%2,%3,%4,%5,\n")
                       .arg(csvField(r.path))
                       .arg(k + 1)
                       .arg(p.index)
                       .arg(csvField(QString::fromStdString(p.label)))
                       .arg(p.probability, 0, 'g', 6)
                       .toUtf8();
        }
    }
    file.write(csv);
    if (!file.commit()) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

QString DesktopApp::aboutText() const
{
    static const RuntimeInfo runtime = runtimeInfo();   // asks the CUDA driver once
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
             m_model.device.isEmpty() ? tr("(no model loaded)") : m_model.device.toHtmlEscaped(),
             m_model.weights.toHtmlEscaped());
}

} // namespace efficientnet::desktop
