#pragma once
// The gallery for a folder or many files: one entry per image with its thumbnail and top-1 (or its error), a
// progress bar, Cancel, and Export CSV. Selecting an entry asks for it to be shown.
#include <QImage>
#include <QWidget>

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;

namespace efficientnet::ui {

class GalleryPanel : public QWidget {
    Q_OBJECT

public:
    explicit GalleryPanel(QWidget* parent = nullptr);

    void begin(int count);   // a new set of images; clears the list
    void setEntry(int index, const QString& path, const QImage& thumbnail, const QString& top1, const QString& error);
    void finish(bool cancelled);

    int count() const;
    QString entryText(int index) const;
    bool entryIsError(int index) const;
    bool isRunning() const { return m_running; }
    QString summaryText() const;   // "Classifying…", "Cancelled after 3 of 40", "40 classified"
    int progressValue() const;     // entries done

Q_SIGNALS:
    void entrySelected(int index);
    void cancelRequested();
    void exportRequested(const QString& csvPath);

private:
    QListWidget* m_list;
    QProgressBar* m_progress;
    QPushButton* m_cancel;
    QPushButton* m_export;
    QLabel* m_summary;
    int m_done = 0;
    int m_failed = 0;
    bool m_running = false;
};

} // namespace efficientnet::ui
