#include "files_controller.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include "core_paths.h"
#include "efficientnet/ui/natural_order.h"
#include "efficientnet/imaging.h"
#include "efficientnet/ui/gallery_panel.h"
#include "efficientnet/ui/main_window.h"

namespace efficientnet::desktop {
namespace {

QVector<ui::PredictionRow> toRows(const std::vector<Prediction>& predictions)
{
    QVector<ui::PredictionRow> rows;
    rows.reserve(static_cast<int>(predictions.size()));
    for (const auto& p : predictions)
        rows.push_back({QString::fromStdString(p.label), p.index, p.probability});
    return rows;
}

QString csvField(QString text)
{
    if (text.contains(',') || text.contains('"') || text.contains('\n'))
        return '"' + text.replace('"', "\"\"") + '"';
    return text;
}

} // namespace

// "(N of M)": the entry's place in the gallery as shown (sorted by name, class or confidence, filtered), the order Left
// and Right follow; it was the order the files were opened in, so the first row could say "2 of 5".
QString FilesController::entryCaption(const FileResult& r) const
{
    if (r.count <= 1)
        return r.path;
    const QVector<int> order = m_window->galleryPanel()->shownOrder();
    const qsizetype at = order.indexOf(r.index);
    return at < 0 ? r.path : tr("%1 (%2 of %3)").arg(r.path).arg(at + 1).arg(order.size());
}

FilesController::FilesController(InferenceController* inference, ui::MainWindow* window, QObject* parent)
    : QObject(parent)
    , m_inference(inference)
    , m_window(window)
{
    connect(m_inference, &InferenceController::jobStarted, this, &FilesController::onJobStarted);
    connect(m_inference, &InferenceController::fileClassified, this, &FilesController::onFileClassified);
    connect(m_inference, &InferenceController::jobFinished, this, &FilesController::onJobFinished);
    ui::GalleryPanel* gallery = m_window->galleryPanel();
    connect(gallery, &ui::GalleryPanel::cancelRequested, this, &FilesController::cancel);
    connect(gallery, &ui::GalleryPanel::entrySelected, this, &FilesController::showEntry);
    connect(gallery, &ui::GalleryPanel::reclassifyRequested, this, &FilesController::reclassifyGallery);
}

bool FilesController::isRunning() const { return m_window->galleryPanel()->isRunning(); }

void FilesController::openFiles(const QStringList& paths)
{
    m_window->clearError(ui::ErrorTopic::Files);
    m_results.clear();
    m_galleryPaths = paths;
    m_refreshJob = 0;
    m_job = m_inference->classifyFiles(paths);
}

void FilesController::pasteImage(const QImage& image)
{
    m_window->clearError(ui::ErrorTopic::Files);
    m_results.clear();
    m_galleryPaths.clear();
    m_pasted = image;
    m_refreshJob = 0;
    m_job = m_inference->classifyImage(image, tr("pasted image"));
}

void FilesController::onJobStarted(quint64 job, const QStringList& files)
{
    if (job != m_job)
        return;
    const auto count = files.size();
    if (count <= 1 && m_window->galleryPanel()->count() > 0) {
        // The gallery showed an earlier set: what was opened replaces it, so that the list, the viewer and
        // Export agree (the results of the earlier set are gone).
        m_window->galleryPanel()->clear();
        m_window->showGallery(false);
    }
    if (count == 0) {
        QStringList names;
        for (const QString& path : m_galleryPaths)
            names << QDir::toNativeSeparators(path);
        m_window->showError(ui::ErrorTopic::Files, names.isEmpty() ? tr("No image files found there.")
                                                                   : tr("No image files found in %1.").arg(names.join(", ")));
        return;
    }
    if (count > 1) {   // the gallery shows the run's progress; the status bar does not repeat it
        m_window->galleryPanel()->begin(files);
        m_window->showGallery(!m_live);
        return;
    }
    m_window->setBusy(tr("Classifying…"));
}

void FilesController::show(const FileResult& result, const QString& caption)
{
    m_shownPath = result.path;
    m_window->showImage(result.image.isNull() ? result.thumbnail : result.image, caption);
    m_window->showPredictions(toRows(result.predictions));
    Q_EMIT timesMeasured(result.times);
    Q_EMIT fileShown(result.path);
}

void FilesController::onFileClassified(const FileResult& result)
{
    if (result.job == m_refreshJob) {   // what is on screen, classified again
        const bool entry = m_shown == Shown::Entry && m_shownEntry >= 0 && m_shownEntry < m_results.size();
        if (!result.error.isEmpty()) {
            // A gallery entry's failure stays in the viewer, as when it was selected; the error bar is for the rest.
            if (entry && !m_live)
                m_window->showMessageInView(tr("Could not classify this image:\n%1").arg(result.error),
                                            entryCaption(m_results[m_shownEntry]));
            else
                m_window->showError(ui::ErrorTopic::Files, result.error);
            return;
        }
        if (!m_live)
            show(result, entry ? entryCaption(m_results[m_shownEntry]) : result.path);
        return;
    }
    if (result.job != m_job)
        return;   // superseded or cancelled
    FileResult kept = result;
    if (result.count > 1)
        kept.image = QImage();   // a folder's full images would fill memory; a gallery entry is classified again
    m_results.push_back(kept);
    if (result.count > 1) {
        const QString top1 = result.predictions.empty() ? QString() : QString::fromStdString(result.predictions.front().label);
        const double confidence = result.predictions.empty() ? 0.0 : result.predictions.front().probability;
        m_window->galleryPanel()->setEntry(result.index, result.path, result.thumbnail, top1, confidence, result.error);
    }
    if (!result.error.isEmpty()) {
        if (result.count == 1)   // a gallery's failures are in its rows, not in the error bar
            m_window->showError(ui::ErrorTopic::Files, result.error);
        return;
    }
    if (m_live)
        return;   // the live view keeps the screen; the gallery holds the files' answers
    m_shown = result.count > 1 ? Shown::Entry : (result.path == tr("pasted image") && !m_pasted.isNull() ? Shown::Pasted : Shown::File);
    m_shownEntry = result.count > 1 ? m_results.size() - 1 : -1;
    show(result, entryCaption(result));
}

void FilesController::onJobFinished(quint64 job, bool cancelled)
{
    if (job != m_job)
        return;
    m_window->setBusy(QString());
    if (m_window->galleryPanel()->isRunning())
        m_window->galleryPanel()->finish(cancelled);
}

void FilesController::cancel()
{
    m_inference->cancelJob();
    m_window->setBusy(QString());
    if (m_window->galleryPanel()->isRunning())
        m_window->galleryPanel()->finish(true);
    m_job = 0;
}

void FilesController::showEntry(int index)
{
    const auto it = std::find_if(m_results.begin(), m_results.end(), [index](const FileResult& r) { return r.index == index; });
    if (it == m_results.end()) {
        // Not classified (yet): the viewer says so rather than keep showing another image (found by hand: a
        // cancelled run's unreached row, selected, left the last image it had shown on screen).
        const QString path = m_window->galleryPanel()->entryPath(index);
        if (path.isEmpty())
            return;
        m_shown = Shown::Nothing;
        m_shownPath.clear();
        m_window->showMessageInView(m_window->galleryPanel()->isRunning()
                                        ? tr("Not classified yet: waiting for its turn.")
                                        : tr("Not classified: the run stopped before this image.\n"
                                             "Open it, or the folder again, to classify it."),
                                    QDir::toNativeSeparators(path));
        return;
    }
    const FileResult& r = *it;
    m_shown = Shown::Entry;
    m_shownEntry = static_cast<int>(it - m_results.begin());
    m_shownPath = r.path;
    if (!r.error.isEmpty()) {   // the viewer shows why there is nothing to show
        m_window->showMessageInView(tr("Could not classify this image:\n%1").arg(r.error), entryCaption(r));
        return;
    }
    show(r, entryCaption(r));
    if (m_window->galleryPanel()->isStale())
        m_window->predictionsPanel()->setStale(tr("From the previous model — Classify again to update"));
    // The full image is not kept for a gallery: once the gallery's job is done (a new job would cancel it), the
    // worker reads the file again, so decoding stays off the GUI thread.
    if (!m_window->galleryPanel()->isRunning())
        m_refreshJob = m_inference->classifyFiles({r.path});
}

void FilesController::modelChanged(const QString& previousModel, const QString& newModel)
{
    if (previousModel.isEmpty() && !m_results.isEmpty()) {
        // Classified before any model had loaded (one that failed at start): every answer is "no model loaded", so
        // they are asked again now that there is a model.
        if (!m_galleryPaths.isEmpty())
            openFiles(m_galleryPaths);
        else if (!m_pasted.isNull())
            pasteImage(m_pasted);
        return;
    }
    if (previousModel.isEmpty() || m_live)
        return;   // the first model, or live frames that follow the new model by themselves
    ui::GalleryPanel* gallery = m_window->galleryPanel();
    if (gallery->count() > 0) {
        if (gallery->isRunning())
            cancel();   // half of a run from each model would be neither
        gallery->setStale(true);
    }
    const QString note = tr("From %1 — classifying again with %2…").arg(previousModel, newModel);
    if (m_shown == Shown::Pasted && !m_pasted.isNull()) {
        m_window->predictionsPanel()->setStale(note);
        m_refreshJob = m_inference->classifyImage(m_pasted, tr("pasted image"));
    } else if ((m_shown == Shown::File || m_shown == Shown::Entry) && !m_shownPath.isEmpty()) {
        m_window->predictionsPanel()->setStale(note);
        m_refreshJob = m_inference->classifyFiles({m_shownPath});
    }
}

void FilesController::reclassifyGallery()
{
    if (!m_galleryPaths.isEmpty())
        openFiles(m_galleryPaths);
}

QStringList FilesController::siblingImages(const QString& path) const
{
    const QFileInfo info(path);
    QStringList names;
    for (const QString& name : info.dir().entryList(QDir::Files | QDir::Readable))
        if (hasImageExtension(toCorePath(name)))
            names << info.dir().filePath(name);
    std::sort(names.begin(), names.end(), ui::naturalLess);
    return names;
}

void FilesController::step(int direction)
{
    ui::GalleryPanel* gallery = m_window->galleryPanel();
    if (gallery->count() > 1) {   // through the gallery, in the order it shows
        const QVector<int> order = gallery->shownOrder();
        if (order.isEmpty())
            return;
        const int current = m_shownEntry >= 0 && m_shownEntry < m_results.size() ? m_results[m_shownEntry].index : -1;
        const int at = order.indexOf(current);
        const int next = at < 0 ? 0 : std::clamp(at + direction, 0, int(order.size()) - 1);
        gallery->selectEntry(order[next]);
        return;
    }
    if (m_shown != Shown::File || m_shownPath.isEmpty())
        return;
    const QStringList siblings = siblingImages(m_shownPath);   // through the shown file's folder
    const int at = siblings.indexOf(QFileInfo(m_shownPath).absoluteFilePath());
    if (at < 0 || at + direction < 0 || at + direction >= siblings.size())
        return;
    m_results.clear();
    m_job = m_inference->classifyFiles({siblings[at + direction]});
}

void FilesController::previous() { step(-1); }
void FilesController::next() { step(+1); }

bool FilesController::exportResults(const QString& path, QString* error) const
{
    QSaveFile file(path);   // written whole or not at all
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    const int topk = m_window->predictionsPanel()->topK();
    QByteArray out;
    if (QFileInfo(path).suffix().compare("json", Qt::CaseInsensitive) == 0) {
        // efficientnet-cli classify --json's document, so one reader takes both.
        QJsonArray results;
        for (const FileResult& r : m_results) {
            QJsonArray predictions;
            for (int k = 0; k < std::min<int>(topk, static_cast<int>(r.predictions.size())); ++k) {
                const auto& p = r.predictions[size_t(k)];
                predictions.append(QJsonObject{{"index", p.index}, {"label", QString::fromStdString(p.label)},
                                               {"probability", p.probability}});
            }
            results.append(QJsonObject{{"path", r.path}, {"predictions", predictions},
                                       {"error", r.error.isEmpty() ? QJsonValue() : QJsonValue(r.error)}});
        }
        out = QJsonDocument(QJsonObject{{"results", results}}).toJson();
    } else {
        out = "path,rank,index,label,probability,error\n";
        for (const FileResult& r : m_results) {
            if (!r.error.isEmpty()) {
                out += (csvField(r.path) + ",,,,," + csvField(r.error) + "\n").toUtf8();
                continue;
            }
            for (int k = 0; k < std::min<int>(topk, static_cast<int>(r.predictions.size())); ++k) {
                const auto& p = r.predictions[size_t(k)];
                out += QString("%1,%2,%3,%4,%5,\n")
                           .arg(csvField(r.path))
                           .arg(k + 1)
                           .arg(p.index)
                           .arg(csvField(QString::fromStdString(p.label)))
                           .arg(p.probability, 0, 'g', 6)
                           .toUtf8();
            }
        }
    }
    file.write(out);
    if (!file.commit()) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace efficientnet::desktop
