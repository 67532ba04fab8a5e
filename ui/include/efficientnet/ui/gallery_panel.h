#pragma once
// The gallery for a folder or many files: one entry per image with its thumbnail and top-1 (or its error), a
// progress bar, Cancel, and Export (CSV or JSON). Entries are addressed by their index in the run; the view can list
// them (rows) or tile them (a grid), sort them (name in natural order, class, confidence), filter them by class, and
// copy them (Ctrl+C). Selecting an entry asks for it to be shown.
#include <QImage>
#include <QVector>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QListWidgetItem;
class QProgressBar;
class QPushButton;
class QToolButton;

namespace efficientnet::ui {

class GalleryPanel : public QWidget {
    Q_OBJECT

public:
    enum class SortKey { Name, Class, Confidence };

    explicit GalleryPanel(QWidget* parent = nullptr);

    void begin(int count);   // a new set of images; clears the list
    void begin(const QStringList& paths);   // the same, each row named by its file until it is classified
    void clear();            // no set at all: a single image or a pasted one replaced it
    // top1 is the class name, confidence its probability (0..1); error empty unless the image failed.
    void setEntry(int index, const QString& path, const QImage& thumbnail, const QString& top1, double confidence,
                  const QString& error);
    void finish(bool cancelled);
    // Entries computed by another model than the current one are marked until classified again.
    void setStale(bool stale);

    int count() const;
    QString entryText(int index) const;
    QString entryPath(int index) const;   // the file, from the start of the run
    bool entryIsError(int index) const;
    bool isRunning() const { return m_running; }
    bool isStale() const { return m_stale; }
    QString summaryText() const;   // "Classifying…", "Cancelled after 3 of 40", "40 classified"
    int progressValue() const;     // entries done
    // The indices in the order the view shows them, hidden (filtered) ones left out.
    QVector<int> shownOrder() const;
    void sortBy(SortKey key);
    void selectEntry(int index);   // makes it current (entrySelected follows)
    void setFilter(const QString& classText);
    void setGrid(bool grid);
    bool isGrid() const;
    // One line per shown entry, tab-separated: file name, top-1, confidence (or "error: ..."): what Ctrl+C copies.
    QString copyText() const;
    QSize entrySize(int index) const;   // the row or tile size the view lays the entry out with
    // Teach mode's classes: the context menu's "Teach as ▸ <class>" sends the selected entries' files to one.
    void setTeachClasses(const QStringList& classes);
    QStringList selectedPaths() const;   // classified entries only (not those that failed)

Q_SIGNALS:
    void entrySelected(int index);
    void cancelRequested();
    void exportRequested(const QString& path);   // .csv or .json
    void reclassifyRequested();                  // stale entries, with the current model
    void teachRequested(const QStringList& paths, const QString& className);

protected:
    void keyPressEvent(QKeyEvent* event) override;

private:
    void applySizes();
    void copyToClipboard();

    QListWidget* m_list;
    QVector<QListWidgetItem*> m_items;   // by index in the run
    QProgressBar* m_progress;
    QPushButton* m_cancel;
    QPushButton* m_export;
    QPushButton* m_reclassify;
    QComboBox* m_sort;
    QLineEdit* m_filter;
    QToolButton* m_gridToggle;
    QLabel* m_summary;
    int m_done = 0;
    int m_failed = 0;
    bool m_running = false;
    bool m_stale = false;
    QStringList m_teachClasses;
};

} // namespace efficientnet::ui
