#pragma once
// Teach mode's dock (issue 14): the user's classes with their example counts, the selected class's examples as
// thumbnails, and the controls to add examples (drop images or folders onto a class, Add images…, hold Capture while
// live), train (epochs, what trains, Train, Cancel, progress and a loss/accuracy plot), save the model and export the
// examples. It shows what it is given and emits what the user asks for; app/desktop's TeachController decides.
#include <QImage>
#include <QVector>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTreeWidget;
class QTreeWidgetItem;

namespace efficientnet::ui {

class TrainingPlot;

struct TeachExampleView {
    QString path;
    QImage thumbnail;
};

class TeachPanel : public QWidget {
    Q_OBJECT

public:
    static constexpr int kThumbnailSize = 64;
    static constexpr int kDefaultEpochs = 10;

    explicit TeachPanel(QWidget* parent = nullptr);

    // The classes in order with their example counts; the selection stays on the same name where it still exists.
    void setClasses(const QStringList& names, const QVector<int>& counts);
    void selectClass(const QString& name);
    QString selectedClass() const;
    // The selected class's examples.
    void showExamples(const QString& className, const QVector<TeachExampleView>& examples);
    void setCaptureAvailable(bool available);   // live mode runs
    void setTraining(bool running);
    bool isTraining() const { return m_training; }
    void setProgress(const QString& text, int value, int maximum);
    void setMessage(const QString& text, bool error);
    void setModelReady(bool ready);             // a trained checkpoint can be saved
    void setEpochs(int epochs);
    int epochs() const;
    QString scope() const;                      // head | stages:N | all

    TrainingPlot* plot() const { return m_plot; }
    int classCount() const;
    QString classText(int row) const;           // "cat\t12"
    int shownExamples() const;
    QString messageText() const;
    bool messageIsError() const { return m_messageIsError; }
    QString progressText() const;

Q_SIGNALS:
    void classAdded(const QString& name);
    void classRenamed(const QString& from, const QString& to);
    void classRemoved(const QString& name);
    void classSelected(const QString& name);
    void examplesAdded(const QString& className, const QStringList& paths);   // files or folders
    void examplesRemoved(const QString& className, const QStringList& paths);
    void captureHeld(bool held);
    void trainRequested(int epochs, const QString& scope);
    void cancelRequested();
    void saveModelRequested(const QString& path);
    void exportRequested(const QString& folder);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void addClass();
    void removeSelectedClass();
    void removeSelectedExamples();
    void chooseImages();
    void updateButtons();
    QString classAt(const QPoint& viewportPos) const;

    QTreeWidget* m_classes;
    QLineEdit* m_newClass;
    QPushButton* m_addClass;
    QPushButton* m_renameClass;
    QPushButton* m_removeClass;
    QListWidget* m_examples;
    QPushButton* m_addImages;
    QPushButton* m_capture;
    QSpinBox* m_epochs;
    QComboBox* m_scope;
    QPushButton* m_train;
    QPushButton* m_cancel;
    QProgressBar* m_progress;
    QLabel* m_progressText;
    TrainingPlot* m_plot;
    QLabel* m_message;
    QPushButton* m_save;
    QPushButton* m_export;
    QString m_shownClass;
    bool m_training = false;
    bool m_captureAvailable = false;
    bool m_modelReady = false;
    bool m_messageIsError = false;
    bool m_filling = false;   // setClasses is filling the tree: its edits are not the user's
};

} // namespace efficientnet::ui
