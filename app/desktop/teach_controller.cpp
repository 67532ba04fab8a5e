#include "teach_controller.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImageReader>
#include <QStatusBar>
#include <algorithm>
#include <exception>

#include "core_paths.h"
#include "efficientnet/imaging.h"
#include "efficientnet/ui/gallery_panel.h"
#include "efficientnet/ui/main_window.h"
#include "efficientnet/ui/teach_panel.h"
#include "efficientnet/ui/training_plot.h"
#include "live_controller.h"
#include "model_session.h"

namespace efficientnet::desktop {
namespace {

constexpr int kStatusMessageMs = 8000;
constexpr int kPercent = 100;
constexpr int kMaxNamedFiles = 5;        // unreadable files named in one message; the rest are counted
const QString kForbiddenInNames = QStringLiteral("/\\:*?\"<>|");   // separators, and what Windows forbids
constexpr char kExamplesFolder[] = "examples";
constexpr char kModelsFolder[] = "models";
constexpr char kFolderPattern[] = "efficientnet-teach-";
constexpr char kLockName[] = ".lock";

// English plurals without a translator loaded ("%n example(s)" reads badly).
QString count(qint64 n, const QString& one, const QString& many) { return (n == 1 ? one : many).arg(n); }

QString quoted(const QStringList& names)
{
    QStringList q;
    for (const QString& n : names)
        q << "'" + n + "'";
    return q.join(", ");
}

// A thumbnail of an image file, decoded as training will decode it: Qt's reader first (it scales JPEGs while
// decoding, so a folder of photos adds quickly), the core's decoder where Qt has no plugin (its error, if it cannot
// either, is what the user reads).
QImage thumbnailOf(const QString& path, QString* error)
{
    const int side = ui::TeachPanel::kThumbnailSize;
    QImageReader reader(path);
    reader.setAutoTransform(true);
    const QSize size = reader.size();
    if (size.isValid())
        reader.setScaledSize(size.scaled(side, side, Qt::KeepAspectRatio));
    QImage image = reader.read();
    if (!image.isNull())
        return image;
    try {
        return toQImage(decodeImageFile(toCorePath(path))).scaled(side, side, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    } catch (const std::exception& e) {
        *error = QString::fromUtf8(e.what());
        return {};
    }
}

} // namespace

TeachController::TeachController(InferenceController* inference, ModelSession* session, LiveController* live,
                                 ui::MainWindow* window, QObject* parent)
    : QObject(parent)
    , m_inference(inference)
    , m_session(session)
    , m_live(live)
    , m_window(window)
    , m_panel(window->teachPanel())
{
    m_captureTimer.setInterval(1000 / kCapturesPerSecond);
    connect(&m_captureTimer, &QTimer::timeout, this, &TeachController::captureFrame);

    connect(m_panel, &ui::TeachPanel::classAdded, this, &TeachController::addClass);
    connect(m_panel, &ui::TeachPanel::classRenamed, this, &TeachController::renameClass);
    connect(m_panel, &ui::TeachPanel::classRemoved, this, &TeachController::removeClass);
    connect(m_panel, &ui::TeachPanel::classSelected, this, &TeachController::showExamples);
    connect(m_panel, &ui::TeachPanel::examplesAdded, this, &TeachController::addExamples);
    connect(m_panel, &ui::TeachPanel::examplesRemoved, this, &TeachController::removeExamples);
    connect(m_panel, &ui::TeachPanel::captureHeld, this, &TeachController::setCapturing);
    connect(m_panel, &ui::TeachPanel::trainRequested, this, &TeachController::train);
    connect(m_panel, &ui::TeachPanel::cancelRequested, this, &TeachController::cancel);
    connect(m_panel, &ui::TeachPanel::saveModelRequested, this, &TeachController::saveModel);
    connect(m_panel, &ui::TeachPanel::exportRequested, this, &TeachController::exportExamples);
    connect(m_window->galleryPanel(), &ui::GalleryPanel::teachRequested, this,
            [this](const QStringList& paths, const QString& className) { addExamples(className, paths); });
    connect(m_inference, &InferenceController::trainingProgress, this, &TeachController::onProgress);
    connect(m_inference, &InferenceController::trainingFinished, this, &TeachController::onFinished);
    connect(m_session, &ModelSession::modelChanged, this, &TeachController::onModelChanged);
    refresh();
}

TeachController::~TeachController()
{
    if (isTraining())
        m_inference->cancelTraining();   // the run stops at its next step; the folder goes with this object
}

bool TeachController::ensureFolder()
{
    if (m_root && m_root->isValid())
        return true;
    m_root = std::make_unique<QTemporaryDir>(QDir::temp().filePath(QString(kFolderPattern) + "XXXXXX"));
    if (!m_root->isValid() || !QDir(m_root->path()).mkpath(kExamplesFolder) || !QDir(m_root->path()).mkpath(kModelsFolder))
        return fail(tr("Teach mode has no folder for examples: %1 (%2).")
                        .arg(QDir::toNativeSeparators(QDir::tempPath()), m_root->errorString()));
    m_lock = std::make_unique<QLockFile>(m_root->filePath(kLockName));
    m_lock->tryLock(0);   // a fresh folder: nobody else holds it
    return true;
}

void TeachController::discard()
{
    m_captureTimer.stop();
    m_lock.reset();   // unlocked before its folder goes
    if (m_root)
        m_root->remove();
    m_root.reset();
}

// A window closed while training leaves its folder: the training thread may still be reading the examples when the
// process exits, so shutdown does not delete them under it (DesktopApp::shutdown). QLockFile records the owner's
// process and finds a lock stale when that process is gone; with no stale time, a running session's lock, however
// old, is never taken. A folder without a lock (one from before locks, or caught between its creation and its lock)
// is left alone.
void TeachController::sweepAbandoned()
{
    const auto folders = QDir::temp().entryInfoList({QString(kFolderPattern) + "*"}, QDir::Dirs | QDir::NoDotAndDotDot);
    for (const auto& folder : folders) {
        const QString lockPath = QDir(folder.filePath()).filePath(kLockName);
        if (!QFileInfo::exists(lockPath))
            continue;
        QLockFile lock(lockPath);
        lock.setStaleLockTime(0);
        if (!lock.tryLock(0))
            continue;   // its session is running
        lock.unlock();
        QDir(folder.filePath()).removeRecursively();
    }
}

QString TeachController::dataDir() const
{
    return m_root && m_root->isValid() ? m_root->filePath(kExamplesFolder) : QString();
}
QString TeachController::classDir(const QString& name) const { return dataDir() + "/" + name; }

QStringList TeachController::examples(const QString& className) const
{
    QStringList paths;
    for (const ui::TeachExampleView& e : m_examples.value(className))
        paths << e.path;
    return paths;
}

void TeachController::show(const QString& text, bool error)
{
    m_classifyingAs.clear();
    m_message = text;
    m_messageIsError = error;
    m_panel->setMessage(text, error);
    if (error)
        m_window->showError(ui::ErrorTopic::Teach, text);
    else
        m_window->clearError(ui::ErrorTopic::Teach);
    if (!error && !text.isEmpty())
        m_window->statusBar()->showMessage(text, kStatusMessageMs);
}

QString TeachController::checkName(const QString& name, const QString& except) const
{
    if (name.isEmpty())
        return tr("A class needs a name.");
    if (name.size() > kMaxClassNameLength)
        return tr("A class name can have at most %1 characters.").arg(kMaxClassNameLength);
    if (name.startsWith('.') || name.endsWith('.') || name != name.trimmed())
        return tr("'%1': a class name cannot start or end with a dot or a space.").arg(name);
    for (const QChar c : name)
        if (kForbiddenInNames.contains(c) || c.category() == QChar::Other_Control)
            return tr("'%1': a class name cannot contain %2 (it names a folder of examples).")
                .arg(name, QStringList(kForbiddenInNames.split(QString(), Qt::SkipEmptyParts)).join(' '));
    for (const QString& existing : m_classes)
        if (existing != except && existing.compare(name, Qt::CaseInsensitive) == 0)
            return tr("There is already a class '%1'.").arg(existing);
    return {};
}

bool TeachController::addClass(const QString& raw)
{
    const QString name = raw.trimmed();
    if (isTraining())
        return fail(tr("Classes cannot change while training runs."));
    if (!ensureFolder())
        return false;
    if (const QString why = checkName(name); !why.isEmpty())
        return fail(why);
    if (!QDir().mkpath(classDir(name)))
        return fail(tr("Cannot create the folder for class '%1' in %2.").arg(name, dataDir()));
    m_classes << name;
    m_examples.insert(name, {});
    show(tr("Class '%1' added: drop images onto it, use Add images…, or hold Capture while live.").arg(name), false);
    refresh();
    m_panel->selectClass(name);
    return true;
}

bool TeachController::renameClass(const QString& from, const QString& raw)
{
    const QString to = raw.trimmed();
    if (isTraining())
        return fail(tr("Classes cannot change while training runs."));
    if (!m_classes.contains(from))
        return fail(tr("There is no class '%1'.").arg(from));
    if (from == to)
        return true;
    if (const QString why = checkName(to, from); !why.isEmpty())
        return fail(why);
    // Through a temporary name: on case-insensitive file systems "cat" -> "Cat" is otherwise a rename onto itself.
    const QString temporary = classDir(from) + ".renaming";
    if (!QDir().rename(classDir(from), temporary) || !QDir().rename(temporary, classDir(to)))
        return fail(tr("Cannot rename the folder of class '%1' to '%2'.").arg(from, to));
    QVector<ui::TeachExampleView> moved = m_examples.take(from);
    for (ui::TeachExampleView& e : moved)
        e.path = classDir(to) + "/" + QFileInfo(e.path).fileName();
    m_examples.insert(to, moved);
    m_classes[m_classes.indexOf(from)] = to;
    show(tr("Class '%1' is now '%2'.").arg(from, to), false);
    refresh();
    m_panel->selectClass(to);
    return true;
}

bool TeachController::removeClass(const QString& name)
{
    if (isTraining())
        return fail(tr("Classes cannot change while training runs."));
    if (!m_classes.contains(name))
        return fail(tr("There is no class '%1'.").arg(name));
    QDir(classDir(name)).removeRecursively();
    m_classes.removeAll(name);
    m_examples.remove(name);
    show(tr("Class '%1' removed with its examples.").arg(name), false);
    refresh();
    return true;
}

QString TeachController::nextFileName(const QString& className, const QString& suffix, const QString& stem)
{
    return classDir(className) + QString("/%1-%2.%3").arg(++m_nextFile, 5, 10, QChar('0')).arg(stem, suffix);
}

int TeachController::addExamples(const QString& className, const QStringList& paths)
{
    if (isTraining()) {
        fail(tr("Examples cannot change while training runs."));
        return 0;
    }
    if (!m_classes.contains(className)) {
        fail(tr("There is no class '%1': add it first.").arg(className));
        return 0;
    }
    QStringList rejected;
    int added = 0;
    for (const QString& file : expandImagePaths(paths)) {
        const QString name = QFileInfo(file).fileName();
        QString why;
        if (!hasImageExtension(toCorePath(file))) {
            rejected << tr("%1: not an image file").arg(name);
            continue;
        }
        const QImage thumbnail = thumbnailOf(file, &why);
        if (thumbnail.isNull()) {
            why.remove(file + ": ");   // the core names the whole path; the name is enough
            why.remove(QDir::toNativeSeparators(file) + ": ");
            rejected << tr("%1: %2").arg(name, why.isEmpty() ? tr("not a readable image") : windowMessage(why));
            continue;
        }
        const QString target = nextFileName(className, QFileInfo(file).suffix().toLower(), QFileInfo(file).completeBaseName());
        if (!QFile::copy(file, target)) {
            rejected << tr("%1: cannot copy it into %2").arg(name, QDir::toNativeSeparators(classDir(className)));
            continue;
        }
        m_examples[className].append({target, thumbnail});
        ++added;
    }
    QString text = count(added, tr("%1 example added to '%2'."), tr("%1 examples added to '%2'.")).arg(className);
    if (!rejected.isEmpty()) {
        QStringList named = rejected.mid(0, kMaxNamedFiles);
        if (rejected.size() > kMaxNamedFiles)
            named << tr("and %1 more").arg(rejected.size() - kMaxNamedFiles);
        text += " " + count(rejected.size(), tr("Not added, %1 unreadable file: %2"),
                            tr("Not added, %1 unreadable files: %2")).arg(named.join("; "));
    }
    show(text, !rejected.isEmpty());
    refresh();
    return added;
}

bool TeachController::addImage(const QString& className, const QImage& image)
{
    if (isTraining() || !m_classes.contains(className) || image.isNull())
        return false;
    const QString target = nextFileName(className, "png", "capture");
    if (!image.save(target))
        return fail(tr("Cannot save a captured frame into %1.").arg(QDir::toNativeSeparators(classDir(className))));
    const int side = ui::TeachPanel::kThumbnailSize;
    m_examples[className].append({target, image.scaled(side, side, Qt::KeepAspectRatio, Qt::SmoothTransformation)});
    refresh();
    return true;
}

int TeachController::removeExamples(const QString& className, const QStringList& files)
{
    if (isTraining()) {
        fail(tr("Examples cannot change while training runs."));
        return 0;
    }
    auto it = m_examples.find(className);
    if (it == m_examples.end())
        return 0;
    const auto before = it->size();
    it->erase(std::remove_if(it->begin(), it->end(),
                             [&](const ui::TeachExampleView& e) { return files.contains(e.path) && QFile::remove(e.path); }),
              it->end());
    const int removed = static_cast<int>(before - it->size());
    show(count(removed, tr("%1 example removed from '%2'."), tr("%1 examples removed from '%2'.")).arg(className), false);
    refresh();
    return removed;
}

void TeachController::setLiveRunning(bool running)
{
    m_liveRunning = running;
    m_panel->setCaptureAvailable(running);
    if (!running)
        setCapturing(false);
    if (isTraining())
        showTrainingBusy();
}

void TeachController::showTrainingBusy()
{
    // The inference thread trains: live frames wait (the newest only) and are classified again when it ends. Said
    // only while live mode runs: without it there are no frames to speak of.
    m_window->setBusy(m_liveRunning ? tr("Training: live frames are not classified until it ends") : tr("Training…"));
}

void TeachController::setCapturing(bool held)
{
    if (!held || !m_liveRunning || isTraining()) {
        m_captureTimer.stop();
        return;
    }
    if (m_panel->selectedClass().isEmpty()) {
        fail(tr("Add a class first, then capture its examples."));
        return;
    }
    captureFrame();
    m_captureTimer.start();
}

void TeachController::captureFrame()
{
    const QImage frame = m_live->latestFrame();
    if (frame.isNull() || frame.cacheKey() == m_lastCapturedKey)
        return;   // no new frame since the last capture
    m_lastCapturedKey = frame.cacheKey();
    addImage(m_panel->selectedClass(), frame);
}

void TeachController::refresh()
{
    QVector<int> counts;
    for (const QString& c : m_classes)
        counts << static_cast<int>(m_examples.value(c).size());
    m_panel->setClasses(m_classes, counts);
    m_window->galleryPanel()->setTeachClasses(isTraining() ? QStringList() : m_classes);
    m_panel->setModelReady(!m_trained.isEmpty());
    showExamples(m_panel->selectedClass());
    Q_EMIT examplesChanged();
}

void TeachController::showExamples(const QString& className)
{
    m_panel->showExamples(className, m_examples.value(className));
}

QString TeachController::modelName() const
{
    const ModelInfo& m = m_session->current();
    return m.name.isEmpty() ? m.model : m.name;
}

bool TeachController::train(int epochs, const QString& scope)
{
    if (isTraining())
        return fail(tr("Training already runs."));
    if (!m_session->hasModel())
        return fail(tr("Load a model first: training starts from the model in use."));
    if (m_classes.size() < 2)
        return fail(m_classes.isEmpty()
                        ? tr("Teach needs at least two classes: add them in the Teach panel, with examples of each.")
                        : tr("Teach needs at least two classes: there is only '%1'. Add another class and its "
                             "examples.").arg(m_classes.front()));
    QStringList empty;
    for (const QString& c : m_classes)
        if (m_examples.value(c).isEmpty())
            empty << c;
    if (!empty.isEmpty())
        return fail(empty.size() == 1 ? tr("Class '%1' has no examples: add images or capture frames into it, or "
                                           "remove it.").arg(empty.front())
                                      : tr("Classes %1 have no examples: add images or capture frames into them, or "
                                           "remove them.").arg(quoted(empty)));
    const ModelInfo& current = m_session->current();
    TeachRequest request;
    request.id = ++m_nextRun;
    request.model = current.config.model;
    request.randomBase = current.randomWeights;
    m_runOnRandomFeatures = m_session->randomFeatures();
    request.weights = current.randomWeights ? QString() : current.config.weights;
    request.device = current.device.startsWith("cuda") ? QStringLiteral("cuda") : QStringLiteral("cpu");
    request.dataDir = dataDir();
    request.out = m_root->filePath(QString("%1/taught-%2.safetensors").arg(kModelsFolder).arg(request.id));
    request.epochs = epochs;
    request.scope = scope;
    request.side = m_side;
    request.seed = m_seed;
    m_runId = request.id;
    m_runEpochs = epochs;
    m_runOut = request.out;
    setCapturing(false);
    m_panel->setTraining(true);
    m_panel->plot()->clear();
    m_panel->plot()->setEpochs(epochs);
    m_panel->setProgress(tr("Reading the examples…"), 0, 1);
    show(tr("Training from %1 on %2 classes…").arg(modelName()).arg(m_classes.size()), false);
    showTrainingBusy();
    m_inference->train(request);
    Q_EMIT trainingStarted();
    return true;
}

void TeachController::cancel()
{
    if (!isTraining())
        return;
    m_inference->cancelTraining();
    m_panel->setProgress(tr("Cancelling…"), 0, 0);
}

void TeachController::onProgress(const TeachProgress& p)
{
    if (p.id != m_runId)
        return;
    using Phase = TeachProgress::Phase;
    switch (p.phase) {
    case Phase::Reading:
        // The features of the last batch take a while before their first report.
        m_panel->setProgress(p.step < p.steps ? tr("Reading examples: %1 of %2").arg(p.step).arg(p.steps)
                                              : tr("Computing features…"),
                             p.step, p.steps);
        break;
    case Phase::Features:
        m_panel->setProgress(tr("Computing features: %1 of %2").arg(p.step).arg(p.steps), p.step, p.steps);
        break;
    case Phase::Training: {
        const double x = (p.epoch - 1) + (p.steps > 0 ? double(p.step) / p.steps : 1.0);
        m_panel->plot()->addLoss(x, p.loss);
        m_panel->setProgress(tr("Epoch %1 of %2: loss %3").arg(p.epoch).arg(p.epochs).arg(p.loss, 0, 'f', 3),
                             (p.epoch - 1) * std::max(1, p.steps) + p.step, p.epochs * std::max(1, p.steps));
        break;
    }
    case Phase::Evaluated:
        if (p.valAccuracy >= 0)
            m_panel->plot()->addAccuracy(p.epoch, p.valAccuracy);
        m_panel->setProgress(p.valAccuracy >= 0 ? tr("Epoch %1 of %2: loss %3, validation accuracy %4%")
                                                      .arg(p.epoch).arg(p.epochs).arg(p.loss, 0, 'f', 3)
                                                      .arg(qRound(p.valAccuracy * kPercent))
                                                : tr("Epoch %1 of %2: loss %3").arg(p.epoch).arg(p.epochs)
                                                      .arg(p.loss, 0, 'f', 3),
                             p.epoch, p.epochs);
        break;
    }
    Q_EMIT trainingProgress(p);
}

void TeachController::onFinished(const TeachResult& r)
{
    if (r.id != m_runId)
        return;
    m_runId = 0;
    m_panel->setTraining(false);
    m_window->setBusy(QString());
    const QString kept = m_session->hasModel() ? tr("Still using %1.").arg(modelName()) : QString();
    QString skipped;
    if (!r.skipped.isEmpty()) {
        QStringList named;
        for (const QString& s : r.skipped.mid(0, kMaxNamedFiles))
            named << QString(s).remove(QDir::toNativeSeparators(dataDir()) + QDir::separator());
        if (r.skipped.size() > kMaxNamedFiles)
            named << tr("and %1 more").arg(r.skipped.size() - kMaxNamedFiles);
        skipped = " " + count(r.skipped.size(), tr("Left out %1 unreadable example: %2."),
                              tr("Left out %1 unreadable examples: %2.")).arg(named.join("; "));
    }
    QString text;
    bool used = false;
    bool error = false;
    if (!r.error.isEmpty()) {
        // The core names the session folder; the user knows the classes by name only.
        QString why = r.error;
        why.remove(dataDir() + "/");
        why.remove(QDir::toNativeSeparators(dataDir()) + QDir::separator());
        why.replace("remove the folder", "remove the class");
        text = tr("Training failed: %1 %2").arg(windowMessage(why), kept);
        error = true;
        m_panel->setProgress(tr("Failed"), 0, 1);
    } else if (r.cancelledEarly) {
        text = tr("Training cancelled before its first epoch ended. %1").arg(kept);
        m_panel->setProgress(tr("Cancelled"), 0, 1);
    } else if (r.cancelled) {
        // Cancel means "not this": the model in use stays. The best epoch so far is kept for Save model….
        m_trained = r.path;
        text = tr("Training cancelled after epoch %1 of %2. %3 The best epoch so far (%4) can still be saved with "
                  "the Save model button.").arg(r.epochsDone).arg(m_runEpochs).arg(kept).arg(r.keptEpoch);
        m_panel->setProgress(tr("Cancelled after epoch %1").arg(r.epochsDone), r.epochsDone, m_runEpochs);
    } else {
        m_trained = r.path;
        used = true;
        const QString accuracy = r.keptAccuracy >= 0 ? tr(", validation accuracy %1% on %2 held-out examples")
                                                           .arg(qRound(r.keptAccuracy * kPercent)).arg(r.valImages)
                                                     : QString();
        text = tr("Trained on %1 examples in %2 epochs%3: now classifying as %4.")
                   .arg(r.trainImages).arg(r.epochsDone).arg(accuracy, r.classes.join(", "));
        m_panel->setProgress(tr("Done: epoch %1 kept").arg(r.keptEpoch), 1, 1);
        m_session->useTrainedWeights(r.path, m_runOnRandomFeatures);
    }
    show(text + skipped, error);
    if (used)
        m_classifyingAs = r.path;
    m_panel->setModelReady(!m_trained.isEmpty());
    Q_EMIT trainingFinished(used, m_message);
}

// "Now classifying as …" holds while the taught checkpoint is in use (another device or precision reloads it); once
// another model replaces it, the panel says so rather than keep claiming the taught classes.
void TeachController::onModelChanged(const ModelInfo& info)
{
    if (m_classifyingAs.isEmpty() || info.config.weights == m_classifyingAs)
        return;
    m_classifyingAs.clear();
    m_message = tr("The taught model is no longer in use: %1 classifies now. Save model… still saves the taught one.")
                    .arg(modelName());
    m_messageIsError = false;
    m_panel->setMessage(m_message, false);   // the panel only: the status bar says what was loaded
}

bool TeachController::saveModel(const QString& path)
{
    if (m_trained.isEmpty() || !QFileInfo::exists(m_trained))
        return fail(tr("There is no trained model to save yet: train first."));
    if (QFileInfo(path).absoluteFilePath() == QFileInfo(m_trained).absoluteFilePath())
        return true;
    QFile::remove(path);
    if (!QFile::copy(m_trained, path))
        return fail(tr("Cannot write %1.").arg(QDir::toNativeSeparators(path)));
    show(tr("Model saved to %1: File > Open weights… reopens it.").arg(QDir::toNativeSeparators(path)), false);
    return true;
}

bool TeachController::exportExamples(const QString& folder)
{
    int copied = 0;
    QStringList failed;
    for (const QString& c : m_classes) {
        const QString target = folder + "/" + c;
        if (!QDir().mkpath(target)) {
            failed << target;
            continue;
        }
        for (const ui::TeachExampleView& e : m_examples.value(c)) {
            const QString to = target + "/" + QFileInfo(e.path).fileName();
            if (QFileInfo::exists(to) || !QFile::copy(e.path, to))
                failed << to;
            else
                ++copied;
        }
    }
    if (!failed.isEmpty())
        return fail(tr("Exported %1 examples; %2 could not be written (a file of that name exists, or the folder is "
                       "not writable): %3").arg(copied).arg(failed.size())
                        .arg(QDir::toNativeSeparators(failed.front())));
    show(tr("Exported %1 examples of %2 classes to %3 (a folder per class).")
             .arg(copied).arg(m_classes.size()).arg(QDir::toNativeSeparators(folder)), false);
    return true;
}

} // namespace efficientnet::desktop
