#include "efficientnet/ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStatusBar>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include "efficientnet/ui/gallery_panel.h"
#include "efficientnet/ui/image_view.h"

namespace efficientnet::ui {
namespace {

constexpr int kImageNetClasses = 1000;   // the usual head: its count goes without saying

const QStringList kWeightsSuffixes{"pth", "pt", "bin", "safetensors"};
constexpr int kStatusMessageMs = 8000;
constexpr int kCameraSourceMinChars = 14;
constexpr int kDownloadProgressSteps = 1000;   // the bar's resolution; byte counts overflow its int range
constexpr double kBytesPerMB = 1e6;

QString bannerStyle(const char* background)
{
    return QString("QLabel, QWidget#errorBar { background: %1; color: black; padding: 6px; border-radius: 3px; }")
        .arg(background);
}

QString millis(double ms) { return ms < 0 ? QStringLiteral("–") : QString::number(ms, 'f', 1) + " ms"; }
QString megabytes(qint64 bytes) { return QString::number(bytes / kBytesPerMB, 'f', 1); }

} // namespace

bool isWeightsFile(const QString& path)
{
    return kWeightsSuffixes.contains(QFileInfo(path).suffix(), Qt::CaseInsensitive);
}

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent)
    , m_view(new ImageView)
    , m_caption(new QLabel)
    , m_warning(new QLabel)
    , m_errorBar(new QWidget)
    , m_error(new QLabel)
    , m_predictions(new PredictionsPanel)
    , m_gallery(new GalleryPanel)
    , m_galleryDock(new QDockWidget(tr("Gallery"), this))
    , m_model(new QComboBox)
    , m_device(new QComboBox)
    , m_precision(new QComboBox)
    , m_camera(new QComboBox)
    , m_cameraAction(nullptr)
    , m_smoothingAction(nullptr)
    , m_downloadAction(nullptr)
    , m_downloadBar(nullptr)
    , m_downloadText(new QLabel)
    , m_downloadOffer(new QPushButton)
    , m_downloadProgress(new QProgressBar)
    , m_downloadCancel(new QPushButton(tr("Cancel")))
    , m_recentMenu(nullptr)
    , m_statusModel(new QLabel)
    , m_statusTimes(new QLabel)
    , m_statusLive(new QLabel)
    , m_busy(new QProgressBar)
    , m_busyText(new QLabel)
{
    setWindowTitle(tr("EfficientNet demo"));
    setAcceptDrops(true);
    m_view->setPlaceholderText(tr("Drop images or a folder here\n(or Open with Ctrl+O, Paste with Ctrl+V)"));

    m_warning->setObjectName("warningBanner");
    m_warning->setWordWrap(true);
    m_warning->setStyleSheet(bannerStyle("#ffd54f"));
    m_warning->hide();

    m_errorBar->setObjectName("errorBar");
    m_errorBar->setAttribute(Qt::WA_StyledBackground);
    m_errorBar->setStyleSheet(bannerStyle("#ef9a9a"));
    auto* errorLayout = new QHBoxLayout(m_errorBar);
    errorLayout->setContentsMargins(0, 0, 0, 0);
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Messages quote file names and file contents: never let QLabel guess they are HTML.
    for (QLabel* label : {m_error, m_warning, m_caption, m_busyText, m_downloadText})
        label->setTextFormat(Qt::PlainText);
    auto* dismiss = new QToolButton;
    dismiss->setText(tr("Dismiss"));
    dismiss->setAutoRaise(true);
    connect(dismiss, &QToolButton::clicked, this, &MainWindow::clearError);
    errorLayout->addWidget(m_error, 1);
    errorLayout->addWidget(dismiss);
    m_errorBar->hide();

    m_caption->setAlignment(Qt::AlignCenter);
    m_caption->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* left = new QWidget;
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_warning);
    leftLayout->addWidget(createDownloadBar());
    leftLayout->addWidget(m_errorBar);
    leftLayout->addWidget(m_view, 1);
    leftLayout->addWidget(m_caption);

    auto* splitter = new QSplitter;
    splitter->addWidget(left);
    splitter->addWidget(m_predictions);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    setCentralWidget(splitter);

    m_galleryDock->setObjectName("galleryDock");
    m_galleryDock->setWidget(m_gallery);
    addDockWidget(Qt::BottomDockWidgetArea, m_galleryDock);
    m_galleryDock->hide();

    m_busy->setRange(0, 0);   // indeterminate
    m_busy->setMaximumWidth(120);
    m_busy->hide();
    statusBar()->addPermanentWidget(m_busyText);
    statusBar()->addPermanentWidget(m_busy);
    statusBar()->addPermanentWidget(m_statusModel);
    statusBar()->addPermanentWidget(m_statusTimes);
    statusBar()->addPermanentWidget(m_statusLive);

    createActions();
    connect(m_predictions, &PredictionsPanel::topKChanged, this, &MainWindow::topKChanged);
    setStatus({});
}

// Under the warning banner, so the offer sits next to the reason for it (random weights, or a model without them).
// It never blocks the window: the app stays usable while the download runs on its own thread.
QWidget* MainWindow::createDownloadBar()
{
    m_downloadBar = new QWidget;
    m_downloadBar->setObjectName("downloadBar");
    m_downloadBar->setAttribute(Qt::WA_StyledBackground);
    m_downloadBar->setStyleSheet("QWidget#downloadBar { background: #bbdefb; border-radius: 3px; }");
    auto* layout = new QHBoxLayout(m_downloadBar);
    layout->setContentsMargins(6, 3, 6, 3);
    m_downloadOffer->setObjectName("downloadButton");
    m_downloadOffer->setIcon(QIcon::fromTheme("download"));
    m_downloadProgress->setObjectName("downloadProgress");
    m_downloadProgress->setRange(0, kDownloadProgressSteps);
    m_downloadProgress->setTextVisible(false);
    m_downloadCancel->setObjectName("downloadCancelButton");
    layout->addWidget(m_downloadOffer);
    layout->addWidget(m_downloadText, 1);
    layout->addWidget(m_downloadProgress, 1);
    layout->addWidget(m_downloadCancel);
    connect(m_downloadOffer, &QPushButton::clicked, this, &MainWindow::downloadRequested);
    connect(m_downloadCancel, &QPushButton::clicked, this, &MainWindow::downloadCancelled);
    m_downloadText->hide();
    m_downloadProgress->hide();
    m_downloadCancel->hide();
    m_downloadBar->hide();
    return m_downloadBar;
}

void MainWindow::createActions()
{
    auto* fileMenu = menuBar()->addMenu(tr("&File"));
    auto* open = fileMenu->addAction(QIcon::fromTheme("document-open"), tr("&Open images…"), this, [this] {
        const QStringList files = QFileDialog::getOpenFileNames(
            this, tr("Open images"), QString(), tr("Images (*.jpg *.jpeg *.png *.bmp *.webp *.tif *.tiff);;All files (*)"));
        if (!files.isEmpty())
            Q_EMIT filesRequested(files);
    });
    open->setShortcut(QKeySequence::Open);
    fileMenu->addAction(tr("Open &folder…"), this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a folder of images"));
        if (!dir.isEmpty())
            Q_EMIT filesRequested({dir});
    });
    fileMenu->addAction(tr("Open &weights…"), this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Open a checkpoint"), QString(),
                                                          tr("Checkpoints (*.pth *.pt *.bin *.safetensors)"));
        if (!file.isEmpty())
            Q_EMIT weightsRequested(file);
    });
    m_recentMenu = fileMenu->addMenu(tr("Open &recent"));
    m_recentMenu->setEnabled(false);
    auto* paste = fileMenu->addAction(QIcon::fromTheme("edit-paste"), tr("&Paste image"), this, &MainWindow::paste);
    paste->setShortcut(QKeySequence::Paste);
    paste->setObjectName("pasteAction");
    m_downloadAction = fileMenu->addAction(QIcon::fromTheme("download"), tr("&Download weights"), this,
                                           &MainWindow::downloadRequested);
    m_downloadAction->setObjectName("downloadAction");
    m_downloadAction->setToolTip(tr("Download the model's pretrained weights from the registry"));
    m_downloadAction->setVisible(false);
    fileMenu->addSeparator();
    fileMenu->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);

    auto* liveMenu = menuBar()->addMenu(tr("&Live"));
    m_cameraAction = liveMenu->addAction(QIcon::fromTheme("camera-web"), tr("&Camera"));
    m_cameraAction->setObjectName("cameraAction");
    m_cameraAction->setCheckable(true);
    m_cameraAction->setShortcut(Qt::CTRL | Qt::Key_L);
    m_cameraAction->setToolTip(tr("Classify the camera (or video file, or stream URL) live"));
    connect(m_cameraAction, &QAction::triggered, this, [this](bool on) { Q_EMIT cameraToggled(on, cameraSource()); });
    m_smoothingAction = liveMenu->addAction(tr("&Smooth scores over frames"));
    m_smoothingAction->setCheckable(true);
    m_smoothingAction->setToolTip(tr("Average each class's score over recent frames so the live top-k list stays steady"));
    connect(m_smoothingAction, &QAction::toggled, this, &MainWindow::smoothingToggled);

    auto* viewMenu = menuBar()->addMenu(tr("&View"));
    viewMenu->addAction(m_galleryDock->toggleViewAction());

    auto* helpMenu = menuBar()->addMenu(tr("&Help"));
    helpMenu->addAction(tr("&About"), this, [this] { QMessageBox::about(this, tr("About EfficientNet demo"), m_about); });

    m_camera->setEditable(true);
    m_camera->setInsertPolicy(QComboBox::NoInsert);   // typed sources are used, not added to the cameras
    m_camera->lineEdit()->setPlaceholderText(tr("video file or URL"));
    m_camera->setMinimumContentsLength(kCameraSourceMinChars);
    m_camera->setToolTip(tr("Camera index, video file or stream URL"));
    m_camera->setObjectName("cameraSource");

    for (const char* d : {"auto", "cpu", "cuda"})
        m_device->addItem(QString::fromLatin1(d), QString::fromLatin1(d));
    m_device->setItemText(1, "CPU");
    m_device->setItemText(2, "CUDA");
    for (const char* p : {"auto", "fp32", "fp16", "bf16"})
        m_precision->addItem(QString::fromLatin1(p), QString::fromLatin1(p));
    m_model->setObjectName("modelChoice");
    m_device->setObjectName("deviceChoice");
    m_precision->setObjectName("precisionChoice");
    m_model->setToolTip(tr("Model"));
    m_device->setToolTip(tr("Device"));
    m_precision->setToolTip(tr("Precision"));
    connect(m_model, &QComboBox::activated, this, [this] { Q_EMIT modelChosen(m_model->currentData().toString()); });
    connect(m_device, &QComboBox::activated, this, [this] { Q_EMIT deviceChosen(m_device->currentData().toString()); });
    connect(m_precision, &QComboBox::activated, this,
            [this] { Q_EMIT precisionChosen(m_precision->currentData().toString()); });

    auto* toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName("mainToolBar");
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->addAction(open);
    toolbar->addAction(paste);
    toolbar->addSeparator();
    toolbar->addAction(m_cameraAction);
    toolbar->addWidget(m_camera);
    toolbar->addSeparator();
    toolbar->addWidget(new QLabel(tr(" Model ")));
    toolbar->addWidget(m_model);
    toolbar->addWidget(new QLabel(tr(" Device ")));
    toolbar->addWidget(m_device);
    toolbar->addWidget(new QLabel(tr(" Precision ")));
    toolbar->addWidget(m_precision);
}

void MainWindow::paste()
{
    const QMimeData* mime = QApplication::clipboard()->mimeData();
    if (mime && mime->hasUrls()) {
        QStringList paths;
        for (const QUrl& url : mime->urls())
            if (url.isLocalFile())
                paths << url.toLocalFile();
        if (!paths.isEmpty()) {
            routePaths(paths);
            return;
        }
    }
    if (mime && mime->hasImage()) {
        Q_EMIT imagePasted(qvariant_cast<QImage>(mime->imageData()));
        return;
    }
    showError(tr("The clipboard holds no image and no image files to paste."));
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls() || event->mimeData()->hasImage())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QMimeData* mime = event->mimeData();
    QStringList paths;
    for (const QUrl& url : mime->urls())
        if (url.isLocalFile())
            paths << url.toLocalFile();
    if (!paths.isEmpty())
        routePaths(paths);
    else if (mime->hasImage())
        Q_EMIT imagePasted(qvariant_cast<QImage>(mime->imageData()));
    else
        return;
    event->acceptProposedAction();
}

// Checkpoints load a model; everything else (images, folders, files of unknown type) is for classifying, where a
// file that is not an image is reported by name.
void MainWindow::routePaths(const QStringList& paths)
{
    QStringList images;
    for (const QString& path : paths) {
        if (isWeightsFile(path))
            Q_EMIT weightsRequested(path);
        else
            images << path;
    }
    if (!images.isEmpty())
        Q_EMIT filesRequested(images);
}

void MainWindow::selectData(QComboBox* box, const QString& value)
{
    const int i = box->findData(value);
    if (i >= 0)
        box->setCurrentIndex(i);
}

void MainWindow::setModelChoices(const QStringList& models)
{
    const QSignalBlocker block(m_model);
    m_model->clear();
    for (const QString& m : models)
        m_model->addItem(m, m);
}

void MainWindow::setCurrentModel(const QString& model)
{
    if (m_model->findData(model) < 0)
        m_model->addItem(model, model);
    selectData(m_model, model);
}
void MainWindow::setCurrentDevice(const QString& device) { selectData(m_device, device); }
void MainWindow::setCurrentPrecision(const QString& precision) { selectData(m_precision, precision); }

void MainWindow::setCameraChoices(const QVector<CameraChoice>& cameras)
{
    const QString typed = m_camera->findText(m_camera->currentText()) < 0 ? m_camera->currentText() : QString();
    const QSignalBlocker block(m_camera);
    m_camera->clear();
    for (const CameraChoice& c : cameras)
        m_camera->addItem(c.label, c.source);
    if (!typed.isEmpty() || cameras.isEmpty())
        m_camera->setCurrentText(typed);
}

void MainWindow::setCameraSource(const QString& source)
{
    const int i = m_camera->findData(source);
    if (i >= 0)
        m_camera->setCurrentIndex(i);
    else
        m_camera->setCurrentText(source);
}

QString MainWindow::cameraSource() const
{
    const QString text = m_camera->currentText().trimmed();
    const int i = m_camera->findText(text);
    return i >= 0 ? m_camera->itemData(i).toString() : text;
}

void MainWindow::setAboutText(const QString& html) { m_about = html; }

void MainWindow::showImage(const QImage& image, const QString& caption)
{
    m_view->setImage(image);
    m_caption->setText(caption);
}

void MainWindow::showPredictions(const QVector<PredictionRow>& predictions) { m_predictions->setPredictions(predictions); }

void MainWindow::setStatus(const StatusInfo& s)
{
    const QString classes = s.classes > 0 && s.classes != kImageNetClasses ? tr(" · %n classes", nullptr, s.classes)
                                                                            : QString();
    m_statusModel->setText(s.model.isEmpty() ? tr("no model")
                                             : tr("%1 · %2 · %3").arg(s.model, s.device, s.precision) + classes);
    m_statusModel->setToolTip(s.transform.toHtmlEscaped());
    m_statusTimes->setText(tr("preprocess %1 · inference %2").arg(millis(s.preprocessMs), millis(s.inferenceMs)));
    m_statusLive->setVisible(s.live);
    m_statusLive->setText(tr("%1 fps · %2 dropped")
                              .arg(s.fps < 0 ? QStringLiteral("–") : QString::number(s.fps, 'f', 1))
                              .arg(s.droppedFrames));
}

void MainWindow::setWarningBanner(const QString& text)
{
    m_warning->setText(text);
    m_warning->setVisible(!text.isEmpty());
}

void MainWindow::showError(const QString& text)
{
    m_error->setText(text);
    m_errorBar->show();
    statusBar()->showMessage(text, kStatusMessageMs);
}

void MainWindow::clearError()
{
    m_error->clear();
    m_errorBar->hide();
}

void MainWindow::setBusy(const QString& what)
{
    m_busyText->setText(what);
    m_busy->setVisible(!what.isEmpty());
}

QString MainWindow::busyText() const { return m_busy->isVisibleTo(this) ? m_busyText->text() : QString(); }

void MainWindow::setDownloadOffer(const QString& offer)
{
    m_downloadOffer->setText(offer);
    if (!m_downloading)   // a running download keeps the bar until it ends
        showDownloadOffer();
}

void MainWindow::setDownloadAvailable(bool available) { m_downloadAction->setVisible(available); }

void MainWindow::showDownloadProgress(const QString& what, qint64 done, qint64 total)
{
    m_downloading = true;
    m_downloadOffer->hide();
    m_downloadAction->setEnabled(false);
    m_downloadText->setText(total > 0 ? tr("%1: %2 of %3 MB").arg(what, megabytes(done), megabytes(total))
                                      : tr("%1: %2 MB").arg(what, megabytes(done)));
    if (total > 0) {
        m_downloadProgress->setRange(0, kDownloadProgressSteps);
        m_downloadProgress->setValue(static_cast<int>(done * kDownloadProgressSteps / total));
    } else {
        m_downloadProgress->setRange(0, 0);   // indeterminate until the size is known
    }
    m_downloadText->show();
    m_downloadProgress->show();
    m_downloadCancel->show();
    m_downloadBar->show();
}

void MainWindow::endDownload()
{
    m_downloading = false;
    showDownloadOffer();
}

void MainWindow::showDownloadOffer()
{
    m_downloadText->hide();
    m_downloadProgress->hide();
    m_downloadCancel->hide();
    m_downloadAction->setEnabled(true);
    const bool offer = !m_downloadOffer->text().isEmpty();
    m_downloadOffer->setVisible(offer);
    m_downloadBar->setVisible(offer);
}

QString MainWindow::downloadOfferText() const
{
    return m_downloadOffer->isVisibleTo(this) ? m_downloadOffer->text() : QString();
}

QString MainWindow::downloadProgressText() const
{
    return m_downloadText->isVisibleTo(this) ? m_downloadText->text() : QString();
}

void MainWindow::setCameraActive(bool active)
{
    const QSignalBlocker block(m_cameraAction);
    m_cameraAction->setChecked(active);
    m_camera->setEnabled(!active);
}

void MainWindow::showGallery(bool visible) { m_galleryDock->setVisible(visible); }
QString MainWindow::warningText() const { return m_warning->isVisibleTo(this) ? m_warning->text() : QString(); }
QString MainWindow::errorText() const { return m_errorBar->isVisibleTo(this) ? m_error->text() : QString(); }
QString MainWindow::statusText() const
{
    return m_statusModel->text() + " | " + m_statusTimes->text() + (m_statusLive->isVisibleTo(this) ? " | " + m_statusLive->text() : QString());
}

void MainWindow::setSmoothing(bool on)
{
    const QSignalBlocker block(m_smoothingAction);
    m_smoothingAction->setChecked(on);
}

bool MainWindow::smoothing() const { return m_smoothingAction->isChecked(); }

void MainWindow::setRecentFiles(const QStringList& paths)
{
    m_recentFiles = paths;
    m_recentMenu->clear();
    for (const QString& path : paths)
        m_recentMenu->addAction(path, this, [this, path] { Q_EMIT filesRequested({path}); });
    m_recentMenu->setEnabled(!paths.isEmpty());
}

QStringList MainWindow::recentFiles() const { return m_recentFiles; }

} // namespace efficientnet::ui
