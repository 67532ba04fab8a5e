#include "model_session.h"

#include <QFileInfo>
#include <QRegularExpression>
#include <QStatusBar>

#include "desktop_app.h"
#include "efficientnet/ui/main_window.h"

namespace efficientnet::desktop {
namespace {

constexpr double kBytesPerMB = 1e6;   // sizes offered in decimal megabytes, as browsers and file managers show them
constexpr int kStatusMessageMs = 5000;

} // namespace

QString windowMessage(QString message)
{
    // The core speaks to the console tool; the window has boxes and menus for the same things.
    message.replace(QRegularExpression("use --device cpu or auto"), "choose CPU or Auto in the Device box");
    message.replace(QRegularExpression("use --precision ([a-z0-9]+)( or auto)?"), "choose \\1 in the Precision box");
    message.replace(QRegularExpression(": use --model ([^ ]+)$"), ": choose \\1 in the Model box");
    message.replace(QRegularExpression("--random-weights"), "Try on random weights");
    message = message.trimmed();
    if (!message.isEmpty() && !message.endsWith('.') && !message.endsWith('!') && !message.endsWith('?'))
        message += '.';
    return message;
}

ModelSession::ModelSession(InferenceController* inference, DownloadController* download, ui::MainWindow* window,
                           QSettings* settings, const ModelConfig& initial, QObject* parent)
    : QObject(parent)
    , m_inference(inference)
    , m_download(download)
    , m_window(window)
    , m_settings(settings)
    , m_config(initial)
{
    connect(m_inference, &InferenceController::modelLoaded, this, &ModelSession::onLoaded);
    connect(m_inference, &InferenceController::modelLoadFailed, this, &ModelSession::onFailed);
    connect(m_inference, &InferenceController::weightsMismatch, this, [this](const QString& weights, const QString& model) {
        m_mismatchWeights = weights;
        m_mismatchModel = model;
    });
    connect(m_inference, &InferenceController::weightsMissing, this, [this] { m_weightsMissing = true; });
    connect(m_inference, &InferenceController::loadingChanged, this, [this](bool loading) {
        m_window->setBusy(loading ? tr("Loading %1…").arg(m_config.model) : QString());
    });
    connect(m_download, &DownloadController::progress, this, [this](const QString& model, qint64 done, qint64 total) {
        m_window->showDownloadProgress(tr("Downloading %1 weights").arg(model), done, total);
    });
    connect(m_download, &DownloadController::finished, this, &ModelSession::onDownloadFinished);
    connect(m_download, &DownloadController::failed, this, &ModelSession::onDownloadFailed);
    connect(m_window, &ui::MainWindow::offerAccepted, this, [this] {
        const Offer accepted = m_offer;
        m_offer = Offer::None;
        if (accepted != Offer::None)
            load(m_offeredConfig);
    });
}

void ModelSession::start() { load(m_config); }

void ModelSession::load(const ModelConfig& config)
{
    m_config = config;
    m_inference->loadModel(config);
}

void ModelSession::chooseModel(const QString& model)
{
    if (refusedWhileTraining())
        return;
    ModelConfig config = m_config;
    config.model = model;
    config.weights.clear();   // the old model's checkpoint cannot fit; look for the new one's
    config.randomWeights = false;
    config.randomIfNoWeights = false;   // one rule: a chosen model without weights is offered, never silently random
    // Checked here, not by a load: the offer comes at once, rather than once the inference thread gets to the request
    // (found by hand: b2 chosen at 11% of a folder cancelled the run, though b1 stayed in use; a failed load now
    // leaves a run going, InferenceWorker::classifyFiles).
    if (findWeightsFor(model).isEmpty()) {
        clearOutcome();
        offerMissingWeights(config);
        return;
    }
    load(config);
}

void ModelSession::chooseDevice(const QString& device)
{
    if (refusedWhileTraining())
        return;
    ModelConfig config = m_model.config;
    config.device = device;
    // fp16 and bf16 are GPU precisions: moved to the CPU the model computes in fp32 (Auto there), and the GPU
    // precision chosen before comes back with the GPU, rather than the switch failing on a precision the user did not
    // just choose.
    if (device == "cpu" && (config.precision == "fp16" || config.precision == "bf16")) {
        m_gpuPrecision = config.precision;
        config.precision = QStringLiteral("auto");
    } else if (device == "cuda" && config.precision == "auto" && !m_gpuPrecision.isEmpty()) {
        config.precision = m_gpuPrecision;
        m_gpuPrecision.clear();
    }
    load(config);
}

void ModelSession::choosePrecision(const QString& precision)
{
    if (refusedWhileTraining())
        return;
    ModelConfig config = m_model.config;
    config.precision = precision;
    m_gpuPrecision.clear();   // a precision chosen now replaces the one kept for the GPU
    load(config);
}

void ModelSession::loadWeights(const QString& path)
{
    if (refusedWhileTraining())
        return;
    ModelConfig config = m_config;
    config.weights = path;
    config.randomWeights = false;
    config.modelIfItFits = false;   // another network's checkpoint is offered as a switch, not loaded behind the back
    load(config);
}

bool ModelSession::randomFeatures() const
{
    return m_model.randomWeights || (!m_model.config.weights.isEmpty() && m_taughtOnRandom.contains(m_model.config.weights));
}

void ModelSession::useTrainedWeights(const QString& path, bool onRandomFeatures)
{
    if (onRandomFeatures)
        m_taughtOnRandom.insert(path);
    ModelConfig config = m_model.model.isEmpty() ? m_config : m_model.config;
    config.weights = path;
    config.randomWeights = false;
    config.labelsFile.clear();       // the file carries the taught class names
    config.modelIfItFits = true;     // and knows its network
    load(config);
}

void ModelSession::useRandomWeights(const QString& model)
{
    if (refusedWhileTraining())
        return;
    ModelConfig config = m_config;
    config.model = model;
    config.weights.clear();
    config.randomWeights = true;
    load(config);
}

void ModelSession::offer(Offer kind, const QString& text, const QString& button, const ModelConfig& config)
{
    m_offer = kind;
    m_offeredConfig = config;
    m_window->setOffer(text, button);
}

void ModelSession::clearOutcome()
{
    m_window->clearError(ui::ErrorTopic::Model);
    if (m_offer != Offer::None) {
        m_offer = Offer::None;
        m_window->setOffer({}, {});
    }
}

// The choosers go back to what is loaded.
void ModelSession::showLoadedChoices()
{
    m_window->setCurrentModel(m_model.config.model);
    m_window->setCurrentDevice(m_model.config.device);
    m_window->setCurrentPrecision(m_model.config.precision);
}

bool ModelSession::refusedWhileTraining()
{
    if (!m_training)
        return false;
    if (hasModel())
        showLoadedChoices();
    m_window->showError(ui::ErrorTopic::Model,
                        tr("Teach mode is training: the model, device and precision can be changed when it ends, or "
                           "after Cancel."),
                        tr("Not while Teach mode is training."));
    return true;
}

void ModelSession::onLoaded(const ModelInfo& info)
{
    const QString previous = m_model.model.isEmpty() ? QString() : (m_model.name.isEmpty() ? m_model.model : m_model.name);
    m_model = info;
    m_config = info.config;
    m_weightsMissing = false;
    clearOutcome();   // whatever failed before has been superseded
    showLoadedChoices();
    QString banner;
    if (info.randomWeights)
        banner = tr("Running on RANDOM weights: the predictions are meaningless.");
    // A model taught on top of random weights is no random file, but its features are still noise (found by hand: the
    // banner went with the training, and nothing said why the taught classes came out little better than chance).
    const bool taughtOnRandom = !info.randomWeights && m_taughtOnRandom.contains(info.config.weights);
    if (taughtOnRandom)
        banner = tr("Taught on top of RANDOM weights: its features mean nothing, so it tells your classes apart little "
                    "better than chance. Teach again on pretrained %1 weights.").arg(info.config.model);
    // Random because none are cached, rather than asked for, or taught on random ones with none cached: say how to
    // get them.
    const bool randomForLackOfWeights = info.randomWeights && !info.note.isEmpty();
    if (randomForLackOfWeights || (taughtOnRandom && findWeightsFor(info.config.model).isEmpty())) {
        QString why;
        const bool offered = offerDownload(info.config.model, &why);
        banner += " " + (randomForLackOfWeights ? info.note + " " : QString()) + howToGetWeights(info.config.model, offered, why);
    } else if (!info.randomWeights) {
        withdrawDownloadOffer();
    }
    m_window->setWarningBanner(banner);
    // The file's name, not its path (which may be a temporary folder's): the status bar cuts off what reaches its
    // permanent widgets; the full description is in the model status's tooltip.
    const QString weights = info.randomWeights || info.config.weights.isEmpty() ? info.weights
                                                                                : QFileInfo(info.config.weights).fileName();
    m_window->statusBar()->showMessage(!info.randomWeights && !info.note.isEmpty()
                                           ? info.note
                                           : tr("Loaded %1 on %2: %3").arg(info.name, info.device, weights),
                                       kStatusMessageMs);
    m_settings->setValue("model", info.config.model);
    m_settings->setValue("device", info.config.device);
    m_settings->setValue("precision", info.config.precision);
    Q_EMIT modelChanged(info, previous);
}

void ModelSession::onFailed(const QString& error, const ModelConfig& config)
{
    const QString name = hasModel() ? (m_model.name.isEmpty() ? m_model.model : m_model.name) : QString();
    const QString kept = hasModel() ? tr("Still using %1.").arg(name) : tr("No model is loaded.");
    clearOutcome();   // this failure supersedes what an earlier model action left
    if (hasModel()) {
        m_config = m_model.config;
        showLoadedChoices();
    }
    if (!m_mismatchModel.isEmpty()) {
        // The file is fine, only not for this network: say what it is and offer to switch to it.
        ModelConfig switched = config;
        switched.model = m_mismatchModel;
        switched.weights = m_mismatchWeights;
        offer(Offer::Switch,
              tr("%1 holds %2 weights, not %3's.").arg(QFileInfo(m_mismatchWeights).fileName(), m_mismatchModel,
                                                       config.model),
              tr("Switch to %1").arg(m_mismatchModel), switched);
        m_mismatchModel.clear();
        m_mismatchWeights.clear();
        return;
    }
    if (m_weightsMissing) {   // removed from the cache since chooseModel looked
        m_weightsMissing = false;
        offerMissingWeights(config);
        return;
    }
    m_window->showError(ui::ErrorTopic::Model, tr("Could not load %1: %2 %3").arg(config.model, windowMessage(error), kept));
}

// The model in use stays (the choosers show it); the download and random weights are offered for `config`'s model.
void ModelSession::offerMissingWeights(const ModelConfig& config)
{
    const QString name = m_model.name.isEmpty() ? m_model.model : m_model.name;
    const QString kept = hasModel() ? tr("Still using %1.").arg(name) : tr("No model is loaded.");
    if (hasModel())
        showLoadedChoices();
    QString why;
    const bool offered = offerDownload(config.model, &why);
    ModelConfig random = config;
    random.randomWeights = true;
    offer(Offer::RandomWeights,
          tr("No weights for %1 are cached. %2 %3").arg(config.model, kept, howToGetWeights(config.model, offered, why)),
          tr("Try %1 on random weights").arg(config.model), random);
}

// Shows the registry's download for `model` in the download bar; false (and the bar empty) when there is none.
bool ModelSession::offerDownload(const QString& model, QString* why)
{
    m_downloadOffer = m_download->offerFor(model, why);
    m_window->setDownloadOffer(m_downloadOffer ? tr("Download %1 weights (about %2 MB)")
                                                     .arg(model)
                                                     .arg(qRound(m_downloadOffer->approxBytes / kBytesPerMB))
                                               : QString());
    return m_downloadOffer.has_value();
}

void ModelSession::withdrawDownloadOffer()
{
    m_downloadOffer.reset();
    m_window->setDownloadOffer(QString());
}

QString ModelSession::howToGetWeights(const QString& model, bool offered, const QString& why) const
{
    if (offered)
        return tr("Get them with the Download button, or open or drop a checkpoint (File > Open weights…).");
    if (!DownloadController::supported())
        return tr("Open or drop a checkpoint (File > Open weights…), or fetch %1's file from its URL in %2 into the "
                  "weights folder.").arg(model, m_download->registryFile());
    return tr("Open or drop a checkpoint (File > Open weights…). No download is offered: %1").arg(windowMessage(why));
}

void ModelSession::downloadWeights()
{
    if (m_download->isRunning())
        return;
    const QString model = hasModel() ? m_model.config.model : m_config.model;
    QString why;
    if (!m_downloadOffer && !offerDownload(model, &why)) {
        m_window->showError(ui::ErrorTopic::Download, tr("Cannot download weights for %1: %2").arg(model, windowMessage(why)));
        return;
    }
    m_window->clearError(ui::ErrorTopic::Download);   // a retry: the last failure no longer holds
    m_download->start(*m_downloadOffer);
    m_window->showDownloadProgress(tr("Downloading %1 weights").arg(m_downloadOffer->model), 0, 0);
}

void ModelSession::cancelDownload() { m_download->cancel(); }   // the worker reports the cancel as a failure

// The download was asked for by the user for this model: it is loaded, whatever was chosen meanwhile.
void ModelSession::onDownloadFinished(const QString& model, const QString& path, const QString& warning)
{
    withdrawDownloadOffer();
    m_window->endDownload();
    m_window->clearError(ui::ErrorTopic::Download);
    m_window->clearError(ui::ErrorTopic::Model);   // an error about the missing weights no longer holds
    if (m_offer == Offer::RandomWeights) {
        m_offer = Offer::None;
        m_window->setOffer({}, {});
    }
    if (!warning.isEmpty())
        m_window->showError(ui::ErrorTopic::Download, warning);
    m_window->statusBar()->showMessage(tr("Downloaded %1").arg(path), kStatusMessageMs);
    ModelConfig config = hasModel() ? m_model.config : m_config;
    config.model = model;
    config.weights = path;
    config.randomWeights = false;
    load(config);
}

void ModelSession::onDownloadFailed(const QString& model, const QString& error, bool cancelled)
{
    m_window->endDownload();   // the offer comes back, to try again
    if (cancelled) {           // what the user asked for: said, not an error
        m_window->statusBar()->showMessage(tr("Download of %1 weights cancelled.").arg(model), kStatusMessageMs);
        return;
    }
    m_window->showError(ui::ErrorTopic::Download, tr("Download of %1 weights failed: %2").arg(model, windowMessage(error)));
}

} // namespace efficientnet::desktop
