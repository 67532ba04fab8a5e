#include "inference_worker.h"

#include <QDirIterator>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QThread>
#include <algorithm>
#include <cstring>
#include <QDir>
#include <exception>

#include "core_paths.h"
#include "efficientnet/ui/natural_order.h"
#include "desktop_app.h"
#include "efficientnet/decode_ahead.h"
#include "efficientnet/errors.h"
#include "efficientnet/training.h"

namespace efficientnet::desktop {
namespace {

constexpr int kMaxGpuDecoders = 8;   // beyond this the model, not decoding, bounds a folder on a GPU

} // namespace

InferenceWorker::InferenceWorker(std::shared_ptr<FrameSlot> frames, std::shared_ptr<WorkerControl> control)
    : m_frames(std::move(frames))
    , m_control(std::move(control))
{
}

InferenceWorker::~InferenceWorker() = default;

void InferenceWorker::loadQueued() { loadQueuedModels(); }

bool InferenceWorker::loadQueuedModels()
{
    bool loaded = false;
    while (auto config = m_control->takeLoad())
        loaded = load(*config) || loaded;
    return loaded;
}

bool InferenceWorker::load(const ModelConfig& requested)
{
    ModelConfig config = requested;
    ClassifierOptions options;
    options.model = config.model.toStdString();
    options.device = config.device.toStdString();
    options.precision = config.precision.toStdString();
    options.randomWeights = config.randomWeights;
    QString note;
    try {
        if (config.weights.isEmpty() && !config.randomWeights) {
            config.weights = findWeightsFor(config.model);
            if (config.weights.isEmpty()) {
                const QString where = fromCorePath(weightsCacheDir());
                if (!config.randomIfNoWeights) {
                    Q_EMIT weightsMissing(config.model);
                    throw ConfigError("No weights for " + options.model + " are cached in " + where.toStdString() +
                                      " or torch.hub's checkpoints folder.");
                }
                options.randomWeights = true;
                note = tr("No weights for %1 are cached in %2.").arg(config.model, where);   // the app says what to do
            }
        }
        options.weights = toCorePath(config.weights);
        options.modelIsPreference = config.modelIfItFits;
        options.labelsFile = toCorePath(config.labelsFile);
        if (!config.imagenetLabelsFile.isEmpty())
            options.imagenetLabels = readLabels(toCorePath(config.imagenetLabelsFile));
        // The new model is built beside the old one, which stays in use if this throws.
        auto classifier = std::make_unique<Classifier>(options);
        m_classifier = std::move(classifier);
        m_loadFailure.clear();
        ModelInfo info;
        info.config = config;
        info.model = QString::fromStdString(m_classifier->model().spec->name);
        info.device = QString::fromStdString(m_classifier->deviceName());
        info.precision = QString::fromStdString(m_classifier->precision());
        info.weights = QString::fromStdString(m_classifier->weightsDescription());
        info.randomWeights = options.randomWeights;
        info.note = note;
        const CheckpointInfo& loaded = m_classifier->info();
        info.name = QString::fromStdString(loaded.name.display());
        info.classes = loaded.numClasses;
        info.labelsOrigin = QString::fromStdString(loaded.labels.origin);
        info.transform = QString::fromStdString(describe(loaded.transform.preprocessing) + " (" +
                                                loaded.transform.origin + ")");
        if (config.modelIfItFits && info.name != config.model) {
            // The file is another network than the one chosen: it is loaded as what it is, and the choice follows.
            info.note = tr("%1 holds %2 weights: switched from %3.")
                            .arg(QFileInfo(config.weights).fileName(), info.name, config.model);
            info.config.model = info.name;
            info.config.modelIfItFits = false;
        }
        Q_EMIT modelLoaded(info);
        return true;
    } catch (const NetworkMismatchError& e) {
        Q_EMIT weightsMismatch(config.weights, QString::fromStdString(e.fittingModel()));
        m_loadFailure = QString::fromUtf8(e.what());
        Q_EMIT modelLoadFailed(m_loadFailure, requested);
    } catch (const std::exception& e) {   // efficientnet::Error, c10::Error (device, precision), bad_alloc
        m_loadFailure = QString::fromUtf8(e.what());
        Q_EMIT modelLoadFailed(m_loadFailure, requested);
    }
    return false;
}

// Why an image is not classified when no model has loaded (the one asked for at start failed): with that failure, as
// the window's error bar shows the newest error and "no model loaded" alone would hide the reason.
QString InferenceWorker::noModel() const
{
    return m_loadFailure.isEmpty() ? tr("no model loaded") : tr("no model loaded: %1").arg(m_loadFailure);
}

bool InferenceWorker::cancelled(quint64 job) const
{
    return m_control->abort || m_control->activeJob != job;
}

FileResult InferenceWorker::classifyOne(const Image& image, FileResult result)
{
    if (!m_classifier) {
        result.error = noModel();
        return result;
    }
    const double decodeMs = result.times.decodeMs;
    auto batch = m_classifier->classifyBatch({image}, kResultTopK);
    result.predictions = std::move(batch.predictions.front());
    result.times = batch.times;
    result.times.decodeMs = decodeMs;
    result.image = toQImage(image);
    result.thumbnail = result.image.scaled(kThumbnailSize, kThumbnailSize, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    return result;
}

void InferenceWorker::classifyFiles(quint64 job, const QStringList& paths)
{
    if (cancelled(job))
        return;
    const QStringList files = expandImagePaths(paths);
    Q_EMIT jobStarted(job, files);
    // Decoding runs ahead on other threads (core's DecodeAhead, as in the console tool): on a GPU on most of the cores, as the
    // model leaves them free; on the CPU one decoder beside the model's own threads.
    std::vector<std::string> corePaths;
    corePaths.reserve(files.size());
    for (const QString& file : files)
        corePaths.push_back(toCorePath(file));
    const bool onGpu = m_classifier && m_classifier->deviceName() != "cpu";
    const int decoders = onGpu ? std::clamp(QThread::idealThreadCount() - 1, 1, kMaxGpuDecoders) : 1;
    DecodeAhead decoded(std::move(corePaths), static_cast<size_t>(2 * decoders), decoders);
    for (int i = 0; i < files.size(); ++i) {
        // A model load asked for meanwhile is done now, not after the last file. One that loads stops the run: half a
        // run from each model would be neither, and the rows classified are kept, marked as the older model's. One
        // that fails (a corrupt checkpoint, a device that is not there) leaves the run going with its model.
        if (cancelled(job) || loadQueuedModels()) {
            Q_EMIT jobFinished(job, true);
            return;
        }
        FileResult result;
        result.job = job;
        result.index = i;
        result.count = static_cast<int>(files.size());
        result.path = files[i];
        DecodeAhead::Decoded file = std::move(decoded.take(1).front());
        result.times.decodeMs = file.decodeMs;
        if (!file.error.empty()) {
            result.error = QString::fromUtf8(file.error.c_str());
        } else {
            try {
                result = classifyOne(file.image, std::move(result));
            } catch (const std::exception& e) {
                result.error = QString::fromUtf8(e.what());
            }
        }
        Q_EMIT fileClassified(result);
    }
    Q_EMIT jobFinished(job, false);
}

void InferenceWorker::classifyImage(quint64 job, const QImage& image, const QString& name)
{
    if (cancelled(job))
        return;
    Q_EMIT jobStarted(job, {name});
    FileResult result;
    result.job = job;
    result.count = 1;
    result.path = name;
    try {
        if (image.isNull())
            throw ImageError(name.toStdString(), "empty image");
        result = classifyOne(toImage(image), std::move(result));
    } catch (const std::exception& e) {
        result.error = QString::fromUtf8(e.what());
    }
    Q_EMIT fileClassified(result);
    Q_EMIT jobFinished(job, false);
}

void InferenceWorker::processLatestFrame()
{
    if (m_control->abort)
        return;
    auto frame = m_frames->take();
    if (!frame)
        return;   // already taken by an earlier wake-up
    FrameResult result;
    result.generation = frame->generation;
    result.sequence = frame->sequence;
    result.capturedNs = frame->capturedNs;
    try {
        if (!m_classifier)
            throw Error(noModel().toStdString());
        auto batch = m_classifier->classifyBatch({frame->pixels}, kResultTopK);
        result.predictions = std::move(batch.predictions.front());
        result.times = batch.times;
    } catch (const std::exception& e) {
        result.error = QString::fromUtf8(e.what());
    }
    result.frame = toQImage(frame->pixels);
    Q_EMIT frameClassified(result);
}

void InferenceWorker::train(const TeachRequest& request)
{
    // Steps of head-only training take microseconds: progress is sent at most this often, phase changes and
    // evaluated epochs always.
    constexpr qint64 kProgressIntervalMs = 50;
    TeachResult result;
    result.id = request.id;
    TrainingOptions options;
    options.base.model = request.model.toStdString();
    options.base.modelIsPreference = true;   // the checkpoint in use knows its network
    options.base.weights = toCorePath(request.weights);
    options.randomWeights = request.randomBase;
    if (request.side > 0) {
        options.base.overrides.resize = request.side;
        options.base.overrides.crop = request.side;
    }
    options.trainDir = toCorePath(request.dataDir);
    options.epochs = request.epochs;
    options.seed = request.seed;
    options.device = request.device.toStdString();
    QElapsedTimer sinceReport;
    sinceReport.start();
    TrainingProgress::Phase lastPhase = TrainingProgress::Phase::Reading;
    const auto progress = [&](const TrainingProgress& p) {
        const bool always = p.phase != lastPhase || p.phase == TrainingProgress::Phase::Evaluated || p.step == p.steps;
        if (!always && sinceReport.elapsed() < kProgressIntervalMs)
            return;
        lastPhase = p.phase;
        sinceReport.restart();
        TeachProgress out;
        out.id = request.id;
        out.phase = static_cast<TeachProgress::Phase>(static_cast<int>(p.phase));
        out.epoch = p.epoch;
        out.epochs = p.epochs;
        out.step = p.step;
        out.steps = p.steps;
        out.loss = p.loss;
        out.valAccuracy = p.valAccuracy.value_or(-1);
        Q_EMIT trainingProgress(out);
    };
    const auto cancelled = [this] { return m_control->abort || m_control->cancelTraining; };
    try {
        options.scope = parseTrainScope(request.scope.toStdString());
        const TrainingResult trained = trainClassifier(options, toCorePath(request.out), progress, cancelled);
        result.path = request.out;
        for (const auto& name : trained.classes)
            result.classes << QString::fromStdString(name);
        result.trainImages = trained.trainImages;
        result.valImages = trained.valImages;
        for (const auto& skipped : trained.skipped)
            result.skipped << QDir::toNativeSeparators(fromCorePath(skipped.path)) + ": " +
                                  QString::fromStdString(skipped.reason);
        result.epochsDone = static_cast<int>(trained.epochs.size());
        result.keptEpoch = trained.keptEpoch;
        for (const auto& epoch : trained.epochs)
            if (epoch.epoch == trained.keptEpoch)
                result.keptAccuracy = epoch.valAccuracy.value_or(-1);
        result.cancelled = trained.cancelled;
    } catch (const TrainingCancelled&) {
        result.cancelledEarly = true;
    } catch (const std::exception& e) {   // ConfigError (examples, options), CheckpointError (base), c10::Error
        result.error = QString::fromUtf8(e.what());
    }
    Q_EMIT trainingFinished(result);
}

QStringList expandImagePaths(const QStringList& paths)
{
    QStringList files;
    for (const QString& path : paths) {
        if (!QFileInfo(path).isDir()) {
            files << path;
            continue;
        }
        QStringList found;
        QDirIterator it(path, QDir::Files | QDir::Readable, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString file = it.next();
            if (hasImageExtension(toCorePath(file)))
                found << file;
        }
        std::sort(found.begin(), found.end(), ui::naturalLess);
        files << found;
    }
    return files;
}

QImage toQImage(const Image& image)
{
    if (image.empty())
        return {};
    QImage wrapped(image.rgb.data(), image.width, image.height, image.width * 3, QImage::Format_RGB888);
    return wrapped.copy();   // own the pixels: the Image goes away
}

Image toImage(const QImage& source)
{
    const QImage rgb = source.convertToFormat(QImage::Format_RGB888);
    Image image;
    image.width = rgb.width();
    image.height = rgb.height();
    image.rgb.resize(static_cast<size_t>(image.width) * image.height * 3);
    const size_t rowBytes = static_cast<size_t>(image.width) * 3;
    for (int y = 0; y < image.height; ++y)
        std::memcpy(image.rgb.data() + y * rowBytes, rgb.constScanLine(y), rowBytes);
    return image;
}

} // namespace efficientnet::desktop
