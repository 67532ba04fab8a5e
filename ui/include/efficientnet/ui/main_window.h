#pragma once
// The main window: image view, predictions, gallery, toolbars/menus, status bar and banners. It shows what it is
// given and emits what the user asks for (files, paste, camera, model, device, precision, top-k, weights, a weights
// download, live controls, navigation); app/ decides what that means. Errors are shown per topic, so the app clears
// one when the action behind it is retried or superseded.
#include <QMainWindow>
#include <QMap>

#include "efficientnet/ui/predictions_panel.h"

class QAction;
class QComboBox;
class QDockWidget;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QToolButton;

namespace efficientnet::ui {

class GalleryPanel;
class ImageView;
class TeachPanel;

// What the status bar shows. Negative times and rates mean "not measured yet".
struct StatusInfo {
    QString model;
    QString device;
    QString precision;
    int classes = 0;           // 0: not shown
    QString transform;         // the model label's tooltip: the weights, the eval transform and where each comes from
    double preprocessMs = -1;
    double inferenceMs = -1;
    bool live = false;
    double displayFps = -1;    // live frames shown per second
    double classifiedFps = -1; // live frames classified per second
    quint64 droppedFrames = 0;
};

// A camera for the live source box: what the user reads, and what live mode opens (an OpenCV index).
struct CameraChoice {
    QString label;
    QString source;
};

// What an error is about; a new error replaces the shown one, clearing a topic hides its error only.
enum class ErrorTopic { Model, Download, Clipboard, Files, Live, Export, Teach };

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget* parent = nullptr);

    void setModelChoices(const QStringList& models);
    void setCurrentModel(const QString& model);
    void setCurrentDevice(const QString& device);       // auto | cpu | cuda
    void setCurrentPrecision(const QString& precision); // auto | fp32 | fp16 | bf16
    // What this machine can run: CUDA offered only with a GPU (else disabled, its tooltip saying why); fp16/bf16
    // only where the chosen device is a GPU.
    void setCudaAvailable(bool available, const QString& whyNot);
    // The cameras present; the box stays editable for a video file or stream URL, and keeps what was typed.
    void setCameraChoices(const QVector<CameraChoice>& cameras);
    void setCameraSource(const QString& source);
    QString cameraSource() const;   // the chosen camera's source, or the typed text
    void setAboutText(const QString& html);
    // Where file dialogs open (the app remembers the last folder used).
    void setLastDirectory(const QString& dir);

    void showImage(const QImage& image, const QString& caption);
    // Nothing to show but a message in the view (a gallery entry that failed: its error).
    void showMessageInView(const QString& text, const QString& caption);
    void showPredictions(const QVector<PredictionRow>& predictions);
    void setStatus(const StatusInfo& status);
    // A persistent warning above the image (random weights); empty hides it.
    void setWarningBanner(const QString& text);
    // `brief`, when given, is what the status bar repeats: it ends where the first permanent widget starts, so a long
    // error (in full in the error bar) would be cut off there.
    void showError(ErrorTopic topic, const QString& text, const QString& brief = {});
    void clearError(ErrorTopic topic);
    void clearError();   // every topic (Dismiss)
    // An offer under the banners: text and one button ("Switch to efficientnet_b3"); empty text hides it.
    void setOffer(const QString& text, const QString& button);
    QString offerText() const;
    // A busy indicator with what is going on; empty: idle.
    void setBusy(const QString& what);
    QString busyText() const;   // empty while idle
    // The weights download, in a bar under the warning banner. The offer is a button whose text says what it
    // fetches ("Download efficientnet_b0 weights (about 21 MB)"); empty hides it. File > Download weights is there
    // while downloads are available at all.
    void setDownloadOffer(const QString& offer);
    void setDownloadAvailable(bool available);
    // A download in progress, with Cancel: what, bytes so far and the total (0: not known yet).
    void showDownloadProgress(const QString& what, qint64 done, qint64 total);
    void endDownload();   // back to the offer, if one is set
    QString downloadOfferText() const;   // empty when no offer is shown
    QString downloadProgressText() const;   // empty when no download runs
    void setCameraActive(bool active);
    void setLivePaused(bool paused);
    void setLoop(bool loop);
    bool loop() const;
    void setOverlayTopK(bool on);
    bool overlayTopK() const;
    // File > Open recent: newest first; choosing one asks for it again (filesRequested).
    void setRecentFiles(const QStringList& paths);
    QStringList recentFiles() const;
    void setSmoothing(bool on);                         // reflects the setting; emits nothing
    bool smoothing() const;
    // The window's size on a first start: what fits the screen it opens on, at any scale factor.
    void fitToScreen();

    PredictionsPanel* predictionsPanel() const { return m_predictions; }
    GalleryPanel* galleryPanel() const { return m_gallery; }
    TeachPanel* teachPanel() const { return m_teach; }
    // Teach mode's dock (View > Teach, Ctrl+T).
    void showTeach(bool visible);
    bool teachShown() const;
    ImageView* imageView() const { return m_view; }
    // The gallery dock: shown when it holds entries and live mode is off.
    void showGallery(bool visible);
    bool galleryShown() const;
    QString warningText() const;
    QString errorText() const;
    QString statusText() const;
    QString captionText() const;

Q_SIGNALS:
    void filesRequested(const QStringList& paths);   // image files or folders: dropped, opened or pasted as URLs
    void imagePasted(const QImage& image);
    void weightsRequested(const QString& path);      // a checkpoint dropped or opened
    void cameraToggled(bool on, const QString& source);
    void livePaused(bool paused);
    void liveStepRequested();
    void snapshotRequested(const QString& path);
    void loopToggled(bool loop);
    void overlayTopKToggled(bool on);
    void modelChosen(const QString& model);
    void deviceChosen(const QString& device);
    void precisionChosen(const QString& precision);
    void topKChanged(int k);
    void smoothingToggled(bool on);                   // smooth live scores over frames
    void downloadRequested();                         // the download offer, or File > Download weights
    void downloadCancelled();
    void offerAccepted();                             // the offer bar's button
    void previousRequested();                         // the previous / next image (arrow keys, Page Up/Down)
    void nextRequested();
    void escapePressed();                             // cancels a folder run, leaves full screen
    void directoryUsed(const QString& dir);           // a file dialog was used in this folder

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void setCaption(const QString& caption);
    void createActions();
    QWidget* createDownloadBar();
    QWidget* createOfferBar();
    void showDownloadOffer();
    void paste();
    void routePaths(const QStringList& paths);
    void updatePrecisionChoices();
    void refreshError();
    QString openDialogDirectory() const;
    void remember(const QString& path);
    void selectData(QComboBox* box, const QString& value);
    void onChoice(QComboBox* box, void (MainWindow::*chosen)(const QString&));

    ImageView* m_view;
    QLabel* m_caption;
    QLabel* m_warning;
    QWidget* m_errorBar;
    QLabel* m_error;
    QMap<ErrorTopic, QString> m_errors;
    QMap<const QComboBox*, QString> m_shownChoice;   // each chooser's item before the user's pick
    QList<ErrorTopic> m_errorOrder;   // most recent last
    QWidget* m_offerBar;
    QLabel* m_offerText;
    QPushButton* m_offerButton;
    PredictionsPanel* m_predictions;
    GalleryPanel* m_gallery;
    QDockWidget* m_galleryDock;
    TeachPanel* m_teach;
    QDockWidget* m_teachDock;
    QComboBox* m_model;
    QComboBox* m_device;
    QComboBox* m_precision;
    QComboBox* m_camera;
    QAction* m_cameraAction;
    QAction* m_pauseAction;
    QAction* m_stepAction;
    QAction* m_snapshotAction;
    QAction* m_loopAction;
    QAction* m_overlayTopKAction;
    QAction* m_smoothingAction;
    QAction* m_downloadAction;
    QAction* m_fullScreenAction;
    QWidget* m_downloadBar;
    QLabel* m_downloadText;
    QPushButton* m_downloadOffer;
    QProgressBar* m_downloadProgress;
    QPushButton* m_downloadCancel;
    bool m_downloading = false;
    bool m_cudaAvailable = true;
    QMenu* m_recentMenu;
    QStringList m_recentFiles;
    QString m_lastDirectory;
    QLabel* m_statusModel;
    QLabel* m_statusTimes;
    QLabel* m_statusLive;
    QProgressBar* m_busy;
    QLabel* m_busyText;
    QString m_about;
};

// Whether a path names a checkpoint (by extension) rather than an image or folder.
bool isWeightsFile(const QString& path);

} // namespace efficientnet::ui
