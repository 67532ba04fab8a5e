#pragma once
// The main window: image view, predictions, gallery, toolbar/menus, status bar and banners. It shows what it is
// given and emits what the user asks for (files, paste, camera, model, device, precision, top-k, weights, a weights
// download); app/ decides what that means.
#include <QMainWindow>

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

// What the status bar shows. Negative times and fps mean "not measured yet".
struct StatusInfo {
    QString model;
    QString device;
    QString precision;
    int classes = 0;           // 0: not shown
    QString transform;         // the eval transform in use and where it comes from (the model label's tooltip)
    double preprocessMs = -1;
    double inferenceMs = -1;
    double fps = -1;
    quint64 droppedFrames = 0;
    bool live = false;
};

// A camera for the live source box: what the user reads, and what live mode opens (an OpenCV index).
struct CameraChoice {
    QString label;
    QString source;
};

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget* parent = nullptr);

    void setModelChoices(const QStringList& models);
    void setCurrentModel(const QString& model);
    void setCurrentDevice(const QString& device);       // auto | cpu | cuda
    void setCurrentPrecision(const QString& precision); // auto | fp32 | fp16 | bf16
    // The cameras present; the box stays editable for a video file or stream URL, and keeps what was typed.
    void setCameraChoices(const QVector<CameraChoice>& cameras);
    void setCameraSource(const QString& source);
    // The chosen camera's source, or the typed text.
    QString cameraSource() const;
    void setAboutText(const QString& html);

    void showImage(const QImage& image, const QString& caption);
    void showPredictions(const QVector<PredictionRow>& predictions);
    void setStatus(const StatusInfo& status);
    // A persistent warning above the image (random weights); empty hides it.
    void setWarningBanner(const QString& text);
    // A non-modal error above the image, until dismissed or replaced; also in the status bar.
    void showError(const QString& text);
    void clearError();
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
    // File > Open recent: newest first; choosing one asks for it again (filesRequested).
    void setRecentFiles(const QStringList& paths);
    QStringList recentFiles() const;
    void setSmoothing(bool on);                         // reflects the setting; emits nothing
    bool smoothing() const;

    PredictionsPanel* predictionsPanel() const { return m_predictions; }
    GalleryPanel* galleryPanel() const { return m_gallery; }
    ImageView* imageView() const { return m_view; }
    void showGallery(bool visible);
    QString warningText() const;
    QString errorText() const;
    QString statusText() const;

Q_SIGNALS:
    void filesRequested(const QStringList& paths);   // image files or folders: dropped, opened or pasted as URLs
    void imagePasted(const QImage& image);
    void weightsRequested(const QString& path);      // a checkpoint dropped or opened
    void cameraToggled(bool on, const QString& source);
    void modelChosen(const QString& model);
    void deviceChosen(const QString& device);
    void precisionChosen(const QString& precision);
    void topKChanged(int k);
    void smoothingToggled(bool on);                   // smooth live scores over frames
    void downloadRequested();                         // the download offer, or File > Download weights
    void downloadCancelled();

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createActions();
    QWidget* createDownloadBar();
    void showDownloadOffer();
    void paste();
    void routePaths(const QStringList& paths);
    static void selectData(QComboBox* box, const QString& value);

    ImageView* m_view;
    QLabel* m_caption;
    QLabel* m_warning;
    QWidget* m_errorBar;
    QLabel* m_error;
    PredictionsPanel* m_predictions;
    GalleryPanel* m_gallery;
    QDockWidget* m_galleryDock;
    QComboBox* m_model;
    QComboBox* m_device;
    QComboBox* m_precision;
    QComboBox* m_camera;
    QAction* m_cameraAction;
    QAction* m_smoothingAction;
    QAction* m_downloadAction;
    QWidget* m_downloadBar;
    QLabel* m_downloadText;
    QPushButton* m_downloadOffer;
    QProgressBar* m_downloadProgress;
    QPushButton* m_downloadCancel;
    bool m_downloading = false;
    QMenu* m_recentMenu;
    QStringList m_recentFiles;
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
