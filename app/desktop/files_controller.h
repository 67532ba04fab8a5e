#pragma once
// Images as one feature: files, folders and pasted images classified on the inference thread, the one on screen
// with its predictions, the gallery of a folder run (progress, Cancel, natural order, sort and filter, export), and
// stepping through images. When the model changes, what is on screen is classified again and marked as coming from
// the older model until the new answer arrives; the gallery is marked stale and offers "Classify again".
#include <QImage>
#include <QObject>
#include <QVector>

#include "inference_controller.h"
#include "types.h"

namespace efficientnet::ui {
class MainWindow;
}

namespace efficientnet::desktop {

class FilesController : public QObject {
    Q_OBJECT

public:
    FilesController(InferenceController* inference, ui::MainWindow* window, QObject* parent = nullptr);

    void openFiles(const QStringList& paths);
    void pasteImage(const QImage& image);
    void cancel();
    void showEntry(int index);   // a gallery entry: its image and predictions, or its error
    void previous();
    void next();
    // The model changed: what is on screen is classified again (marked meanwhile); the gallery is marked stale.
    void modelChanged(const QString& previousModel, const QString& newModel);
    void reclassifyGallery();
    // Writes the gallery's (or the last run's) results: CSV as efficientnet-cli's --csv, JSON as its --json.
    bool exportResults(const QString& path, QString* error = nullptr) const;
    void setLiveRunning(bool live) { m_live = live; }

    const QVector<FileResult>& results() const { return m_results; }
    bool isRunning() const;

Q_SIGNALS:
    void fileShown(const QString& path);   // a file's (or pasted image's) predictions are on screen
    void timesMeasured(const efficientnet::StageTimes& times);

private:
    enum class Shown { Nothing, File, Pasted, Entry };

    void onJobStarted(quint64 job, const QStringList& files);
    void onFileClassified(const FileResult& result);
    void onJobFinished(quint64 job, bool cancelled);
    void show(const FileResult& result, const QString& caption);
    QString entryCaption(const FileResult& r) const;
    void step(int direction);
    QStringList siblingImages(const QString& path) const;

    InferenceController* m_inference;
    ui::MainWindow* m_window;
    quint64 m_job = 0;            // the gallery's (or single file's) job; results of other jobs are stale
    quint64 m_refreshJob = 0;     // what is on screen, classified again (an entry, a file after a model change)
    QVector<FileResult> m_results;
    QStringList m_galleryPaths;   // the run's inputs, for "Classify again"
    Shown m_shown = Shown::Nothing;
    QString m_shownPath;
    QImage m_pasted;              // kept to classify again after a model change
    int m_shownEntry = -1;
    bool m_live = false;
};

} // namespace efficientnet::desktop
