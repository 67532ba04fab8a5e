#include "efficientnet/ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QScrollArea>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QUrl>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QStatusBar>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include "efficientnet/ui/gallery_panel.h"
#include "efficientnet/ui/icons.h"
#include "efficientnet/ui/image_view.h"
#include "efficientnet/ui/teach_panel.h"

namespace efficientnet::ui {
namespace {

constexpr int kImageNetClasses = 1000;   // the usual head: its count goes without saying
const QStringList kWeightsSuffixes{"pth", "pt", "bin", "safetensors"};
constexpr int kStatusMessageMs = 8000;
constexpr int kCameraSourceMinChars = 12;
constexpr int kDownloadProgressSteps = 1000;   // the bar's resolution; byte counts overflow its int range
constexpr double kBytesPerMB = 1e6;
constexpr QSize kPreferredSize(1100, 720);
constexpr double kScreenShare = 0.9;           // a first window takes at most this share of the screen
constexpr double kZoomStep = 1.25;
const char* kImageFilter = "Images (*.jpg *.jpeg *.png *.bmp *.webp *.tif *.tiff *.ppm *.pgm);;All files (*)";
const char* kVideoFilter = "Videos (*.mp4 *.avi *.mkv *.mov *.webm *.mjpeg *.mjpg);;All files (*)";

QString bannerStyle(const char* background)
{
    return QString("QLabel#warningBanner, QWidget#errorBar, QWidget#offerBar { background: %1; color: black; "
                   "padding: 6px; border-radius: 3px; }")
        .arg(background);
}

QString millis(double ms) { return ms < 0 ? QStringLiteral("–") : QString::number(ms, 'f', 1) + " ms"; }
QString rate(double fps) { return fps < 0 ? QStringLiteral("–") : QString::number(fps, 'f', 1); }
QString megabytes(qint64 bytes) { return QString::number(bytes / kBytesPerMB, 'f', 1); }

// An item of a combo box that cannot be chosen, with its tooltip saying why.
void setItemAvailable(QComboBox* box, int index, bool available, const QString& whyNot)
{
    auto* model = qobject_cast<QStandardItemModel*>(box->model());
    if (!model || index < 0)
        return;
    QStandardItem* item = model->item(index);
    item->setEnabled(available);
    item->setToolTip(available ? QString() : whyNot);
}

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
    , m_offerBar(nullptr)
    , m_offerText(new QLabel)
    , m_offerButton(new QPushButton)
    , m_predictions(new PredictionsPanel)
    , m_gallery(new GalleryPanel)
    , m_galleryDock(new QDockWidget(tr("Gallery"), this))
    , m_teach(new TeachPanel)
    , m_teachDock(new QDockWidget(tr("Teach"), this))
    , m_model(new QComboBox)
    , m_device(new QComboBox)
    , m_precision(new QComboBox)
    , m_camera(new QComboBox)
    , m_cameraAction(nullptr)
    , m_pauseAction(nullptr)
    , m_stepAction(nullptr)
    , m_snapshotAction(nullptr)
    , m_loopAction(nullptr)
    , m_overlayTopKAction(nullptr)
    , m_smoothingAction(nullptr)
    , m_downloadAction(nullptr)
    , m_fullScreenAction(nullptr)
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
    m_view->setObjectName("imageView");

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
    for (QLabel* label : {m_error, m_warning, m_caption, m_busyText, m_downloadText, m_offerText})
        label->setTextFormat(Qt::PlainText);
    auto* dismiss = new QToolButton;
    dismiss->setText(tr("Dismiss"));
    dismiss->setAutoRaise(true);
    connect(dismiss, &QToolButton::clicked, this, [this] { clearError(); });
    errorLayout->addWidget(m_error, 1);
    errorLayout->addWidget(dismiss);
    m_errorBar->hide();

    m_caption->setAlignment(Qt::AlignCenter);
    m_caption->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_caption->setObjectName("caption");

    auto* left = new QWidget;
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_warning);
    leftLayout->addWidget(createDownloadBar());
    leftLayout->addWidget(createOfferBar());
    leftLayout->addWidget(m_errorBar);
    leftLayout->addWidget(m_view, 1);
    leftLayout->addWidget(m_caption);

    auto* splitter = new QSplitter;
    splitter->addWidget(left);
    splitter->addWidget(m_predictions);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setChildrenCollapsible(false);
    setCentralWidget(splitter);

    m_galleryDock->setObjectName("galleryDock");
    m_galleryDock->setWidget(m_gallery);
    addDockWidget(Qt::BottomDockWidgetArea, m_galleryDock);
    m_galleryDock->hide();   // shown when it has entries (showGallery)
    m_teachDock->setObjectName("teachDock");
    // Scrolled: its controls need more height than a small screen has beside the gallery, and a dock's minimum
    // size would otherwise push the window (and its status bar) off the screen.
    auto* teachScroll = new QScrollArea;
    teachScroll->setWidget(m_teach);
    teachScroll->setWidgetResizable(true);
    teachScroll->setFrameShape(QFrame::NoFrame);
    m_teachDock->setWidget(teachScroll);
    addDockWidget(Qt::RightDockWidgetArea, m_teachDock);
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);   // Teach runs the full height, beside the gallery
    m_teachDock->hide();     // View > Teach

    m_busy->setRange(0, 0);   // indeterminate
    m_busy->setMaximumWidth(120);
    m_busy->hide();
    // What is going on is the bar's normal text, not a permanent one: a temporary message (showMessage) takes its
    // place until it times out, as QStatusBar hides normal widgets for it. As a permanent widget it stayed beside the
    // message, which Qt cuts off where the first permanent widget starts: "Training from efficientnTraining: live
    // frames …", two messages run together. The busy bar stays permanent: work goes on under any message.
    m_busyText->setObjectName("busyText");
    m_statusModel->setObjectName("statusModel");
    statusBar()->addWidget(m_busyText);
    statusBar()->addPermanentWidget(m_busy);
    statusBar()->addPermanentWidget(m_statusModel);
    statusBar()->addPermanentWidget(m_statusTimes);
    statusBar()->addPermanentWidget(m_statusLive);

    createActions();
    connect(m_predictions, &PredictionsPanel::topKChanged, this, &MainWindow::topKChanged);
    setStatus({});
    m_view->setFocus();   // arrow keys and Escape work at once; Top-k is a click away
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
    m_downloadOffer->setIcon(icon(Icon::Download));
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

QWidget* MainWindow::createOfferBar()
{
    m_offerBar = new QWidget;
    m_offerBar->setObjectName("offerBar");
    m_offerBar->setAttribute(Qt::WA_StyledBackground);
    m_offerBar->setStyleSheet(bannerStyle("#c8e6c9"));
    auto* layout = new QHBoxLayout(m_offerBar);
    layout->setContentsMargins(0, 0, 0, 0);
    m_offerText->setWordWrap(true);
    m_offerButton->setObjectName("offerButton");
    auto* close = new QToolButton;
    close->setText(tr("Not now"));
    close->setAutoRaise(true);
    layout->addWidget(m_offerText, 1);
    layout->addWidget(m_offerButton);
    layout->addWidget(close);
    connect(m_offerButton, &QPushButton::clicked, this, [this] {
        setOffer({}, {});
        Q_EMIT offerAccepted();
    });
    connect(close, &QToolButton::clicked, this, [this] { setOffer({}, {}); });
    m_offerBar->hide();
    return m_offerBar;
}

QString MainWindow::openDialogDirectory() const
{
    if (!m_lastDirectory.isEmpty() && QFileInfo(m_lastDirectory).isDir())
        return m_lastDirectory;
    const QString pictures = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    return QFileInfo(pictures).isDir() ? pictures : QDir::homePath();
}

void MainWindow::remember(const QString& path)
{
    const QFileInfo info(path);
    m_lastDirectory = info.isDir() ? info.absoluteFilePath() : info.absolutePath();
    Q_EMIT directoryUsed(m_lastDirectory);
}

void MainWindow::setLastDirectory(const QString& dir) { m_lastDirectory = dir; }

void MainWindow::createActions()
{
    auto* fileMenu = menuBar()->addMenu(tr("&File"));
    auto* open = fileMenu->addAction(icon(Icon::Open), tr("&Open images…"), this, [this] {
        const QStringList files = QFileDialog::getOpenFileNames(this, tr("Open images"), openDialogDirectory(),
                                                                tr(kImageFilter));
        if (files.isEmpty())
            return;
        remember(files.front());
        Q_EMIT filesRequested(files);
    });
    open->setShortcut(QKeySequence::Open);
    open->setToolTip(tr("Open images (Ctrl+O)"));
    auto* openFolder = fileMenu->addAction(icon(Icon::OpenFolder), tr("Open &folder…"), this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a folder of images"), openDialogDirectory());
        if (dir.isEmpty())
            return;
        remember(dir);
        Q_EMIT filesRequested({dir});
    });
    fileMenu->addAction(tr("Open &weights…"), this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Open a checkpoint"), openDialogDirectory(),
                                                          tr("Checkpoints (*.pth *.pt *.bin *.safetensors)"));
        if (file.isEmpty())
            return;
        remember(file);
        Q_EMIT weightsRequested(file);
    });
    m_recentMenu = fileMenu->addMenu(tr("Open &recent"));
    m_recentMenu->setEnabled(false);
    auto* paste = fileMenu->addAction(icon(Icon::Paste), tr("&Paste image"), this, &MainWindow::paste);
    paste->setShortcut(QKeySequence::Paste);
    paste->setObjectName("pasteAction");
    paste->setToolTip(tr("Paste an image or copied image files (Ctrl+V)"));
    m_downloadAction = fileMenu->addAction(icon(Icon::Download), tr("&Download weights"), this,
                                           &MainWindow::downloadRequested);
    m_downloadAction->setObjectName("downloadAction");
    m_downloadAction->setToolTip(tr("Download the model's pretrained weights from the registry"));
    m_downloadAction->setVisible(false);
    fileMenu->addSeparator();
    fileMenu->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);

    auto* liveMenu = menuBar()->addMenu(tr("&Live"));
    m_cameraAction = liveMenu->addAction(icon(Icon::Camera), tr("&Camera"));
    m_cameraAction->setObjectName("cameraAction");
    m_cameraAction->setCheckable(true);
    m_cameraAction->setShortcut(Qt::CTRL | Qt::Key_L);
    m_cameraAction->setToolTip(tr("Start or stop live mode on the source chosen beside (Ctrl+L)"));
    connect(m_cameraAction, &QAction::triggered, this, [this](bool on) { Q_EMIT cameraToggled(on, cameraSource()); });
    auto* video = liveMenu->addAction(icon(Icon::VideoFile), tr("Open &video file…"), this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Play a video file live"), openDialogDirectory(),
                                                          tr(kVideoFilter));
        if (file.isEmpty())
            return;
        remember(file);
        setCameraSource(file);
        Q_EMIT cameraToggled(true, file);
    });
    video->setObjectName("videoAction");
    m_pauseAction = liveMenu->addAction(icon(Icon::Pause), tr("&Pause"));
    m_pauseAction->setObjectName("pauseAction");
    m_pauseAction->setCheckable(true);
    m_pauseAction->setShortcut(Qt::Key_Space);
    m_pauseAction->setToolTip(tr("Pause or resume the live video (Space)"));
    m_pauseAction->setEnabled(false);
    connect(m_pauseAction, &QAction::toggled, this, &MainWindow::livePaused);
    m_stepAction = liveMenu->addAction(icon(Icon::Step), tr("&Step one frame"), this, &MainWindow::liveStepRequested);
    m_stepAction->setObjectName("stepAction");
    m_stepAction->setShortcut(Qt::Key_Period);
    m_stepAction->setEnabled(false);
    m_snapshotAction = liveMenu->addAction(icon(Icon::Snapshot), tr("&Snapshot…"), this, [this] {
        const QString name = "snapshot-" + QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss") + ".png";
        const QString file = QFileDialog::getSaveFileName(this, tr("Save the annotated frame"),
                                                          QDir(openDialogDirectory()).filePath(name),
                                                          tr("Images (*.png *.jpg)"));
        if (file.isEmpty())
            return;
        remember(file);
        Q_EMIT snapshotRequested(file);
    });
    m_snapshotAction->setObjectName("snapshotAction");
    m_snapshotAction->setShortcut(Qt::CTRL | Qt::Key_S);
    m_snapshotAction->setEnabled(false);
    liveMenu->addSeparator();
    m_loopAction = liveMenu->addAction(tr("&Loop video files"));
    m_loopAction->setObjectName("loopAction");
    m_loopAction->setCheckable(true);
    connect(m_loopAction, &QAction::toggled, this, &MainWindow::loopToggled);
    m_overlayTopKAction = liveMenu->addAction(tr("Show &top-k on the video"));
    m_overlayTopKAction->setObjectName("overlayTopKAction");
    m_overlayTopKAction->setCheckable(true);
    connect(m_overlayTopKAction, &QAction::toggled, this, &MainWindow::overlayTopKToggled);
    m_smoothingAction = liveMenu->addAction(tr("S&mooth scores over frames"));
    m_smoothingAction->setObjectName("smoothingAction");
    m_smoothingAction->setCheckable(true);
    m_smoothingAction->setToolTip(tr("Average each class's score over recent frames so the live top-k list stays steady"));
    connect(m_smoothingAction, &QAction::toggled, this, &MainWindow::smoothingToggled);

    auto* viewMenu = menuBar()->addMenu(tr("&View"));
    viewMenu->addAction(icon(Icon::ZoomFit), tr("Zoom to &fit"), this, [this] { m_view->zoomToFit(); })
        ->setShortcut(Qt::CTRL | Qt::Key_0);
    viewMenu->addAction(icon(Icon::ZoomActual), tr("&Actual size"), this, [this] { m_view->zoomActualSize(); })
        ->setShortcut(Qt::CTRL | Qt::Key_1);
    viewMenu->addAction(tr("Zoom &in"), this, [this] { m_view->zoomBy(kZoomStep); })->setShortcut(QKeySequence::ZoomIn);
    viewMenu->addAction(tr("Zoom &out"), this, [this] { m_view->zoomBy(1 / kZoomStep); })
        ->setShortcut(QKeySequence::ZoomOut);
    viewMenu->addSeparator();
    auto* previous = viewMenu->addAction(icon(Icon::Previous), tr("&Previous image"), this, &MainWindow::previousRequested);
    previous->setShortcuts({QKeySequence(Qt::Key_Left), QKeySequence(Qt::Key_PageUp)});
    auto* next = viewMenu->addAction(icon(Icon::Next), tr("&Next image"), this, &MainWindow::nextRequested);
    next->setShortcuts({QKeySequence(Qt::Key_Right), QKeySequence(Qt::Key_PageDown)});
    m_fullScreenAction = viewMenu->addAction(icon(Icon::FullScreen), tr("F&ull screen"), this, [this](bool on) {
        on ? showFullScreen() : showNormal();
    });
    m_fullScreenAction->setCheckable(true);
    QList<QKeySequence> fullScreenKeys = QKeySequence::keyBindings(QKeySequence::FullScreen);
    if (!fullScreenKeys.contains(QKeySequence(Qt::Key_F11)))
        fullScreenKeys.prepend(QKeySequence(Qt::Key_F11));   // F11 everywhere, beside the platform's own key
    m_fullScreenAction->setShortcuts(fullScreenKeys);
    viewMenu->addSeparator();
    viewMenu->addAction(m_galleryDock->toggleViewAction());
    QAction* teach = m_teachDock->toggleViewAction();
    teach->setText(tr("&Teach"));
    teach->setShortcut(Qt::CTRL | Qt::Key_T);
    teach->setToolTip(tr("Teach it your own classes: add examples, train, classify with them"));
    viewMenu->addAction(teach);
    auto* escape = new QAction(this);
    escape->setShortcut(Qt::Key_Escape);
    connect(escape, &QAction::triggered, this, [this] {
        if (isFullScreen()) {
            m_fullScreenAction->setChecked(false);
            showNormal();
        }
        Q_EMIT escapePressed();
    });
    addAction(escape);

    auto* helpMenu = menuBar()->addMenu(tr("&Help"));
    helpMenu->addAction(tr("&About"), this, [this] { QMessageBox::about(this, tr("About EfficientNet demo"), m_about); });

    m_camera->setEditable(true);
    m_camera->setInsertPolicy(QComboBox::NoInsert);   // typed sources are used, not added to the cameras
    m_camera->lineEdit()->setPlaceholderText(tr("camera, video file or URL"));
    m_camera->setMinimumContentsLength(kCameraSourceMinChars);
    m_camera->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_camera->setToolTip(tr("A camera, or type a video file or stream URL and press Enter"));
    m_camera->setObjectName("cameraSource");
    connect(m_camera->lineEdit(), &QLineEdit::returnPressed, this, [this] {
        if (!m_cameraAction->isChecked())
            m_cameraAction->trigger();
    });

    for (const char* d : {"auto", "cpu", "cuda"})
        m_device->addItem(QString::fromLatin1(d), QString::fromLatin1(d));
    m_device->setItemText(0, tr("Auto"));
    m_device->setItemText(1, "CPU");
    m_device->setItemText(2, "CUDA GPU");
    for (const char* p : {"auto", "fp32", "fp16", "bf16"})
        m_precision->addItem(QString::fromLatin1(p), QString::fromLatin1(p));
    m_precision->setItemText(0, tr("Auto"));
    m_model->setObjectName("modelChoice");
    m_device->setObjectName("deviceChoice");
    m_precision->setObjectName("precisionChoice");
    m_model->setToolTip(tr("The network to classify with"));
    m_device->setToolTip(tr("Where the network runs"));
    m_precision->setToolTip(tr("The numbers the network computes with"));
    onChoice(m_model, &MainWindow::modelChosen);
    connect(m_device, &QComboBox::activated, this, &MainWindow::updatePrecisionChoices);
    onChoice(m_device, &MainWindow::deviceChosen);
    onChoice(m_precision, &MainWindow::precisionChosen);

    // Two rows: what to classify, and with what. One row hides the model choices behind » below ~1200 px.
    auto* toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName("mainToolBar");
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->addAction(open);
    toolbar->addAction(openFolder);
    toolbar->addAction(paste);
    toolbar->addSeparator();
    toolbar->addAction(m_cameraAction);
    toolbar->addWidget(m_camera);
    toolbar->addAction(m_pauseAction);
    toolbar->addAction(m_snapshotAction);
    addToolBarBreak();
    auto* settings = addToolBar(tr("Model"));
    settings->setObjectName("modelToolBar");
    auto* modelLabel = new QLabel(tr(" &Model "));
    modelLabel->setBuddy(m_model);
    settings->addWidget(modelLabel);
    settings->addWidget(m_model);
    auto* deviceLabel = new QLabel(tr(" &Device "));
    deviceLabel->setBuddy(m_device);
    settings->addWidget(deviceLabel);
    settings->addWidget(m_device);
    auto* precisionLabel = new QLabel(tr(" P&recision "));
    precisionLabel->setBuddy(m_precision);
    settings->addWidget(precisionLabel);
    settings->addWidget(m_precision);
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
            clearError(ErrorTopic::Clipboard);
            routePaths(paths);
            return;
        }
    }
    if (mime && mime->hasImage()) {
        clearError(ErrorTopic::Clipboard);
        Q_EMIT imagePasted(qvariant_cast<QImage>(mime->imageData()));
        return;
    }
    // Paths copied as text (from a terminal or a file manager's "copy path"), one per line: taken when every line
    // names something that exists, so that ordinary text is not read as file names.
    if (mime && mime->hasText()) {
        QStringList paths;
        bool allExist = true;
        for (QString line : mime->text().split('\n', Qt::SkipEmptyParts)) {
            line = line.trimmed();
            if (line.size() >= 2 && (line.front() == '"' || line.front() == '\'') && line.back() == line.front())
                line = line.mid(1, line.size() - 2);   // a shell's or Explorer's quoted path
            const QUrl url(line);
            const QString path = url.isLocalFile() ? url.toLocalFile() : line;
            if (path.isEmpty())
                continue;
            allExist = allExist && QFileInfo::exists(path);
            paths << path;
        }
        if (allExist && !paths.isEmpty()) {
            clearError(ErrorTopic::Clipboard);
            routePaths(paths);
            return;
        }
    }
    showError(ErrorTopic::Clipboard, tr("The clipboard holds no image and no image files to paste."));
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
    if (i >= 0) {
        box->setCurrentIndex(i);
        m_shownChoice[box] = value;
    }
}

// A chooser's signal fires when the user picks an item other than the one shown. QComboBox::activated also fires
// for the item shown picked again, and reloading then would replace a taught or opened model with the cached one.
void MainWindow::onChoice(QComboBox* box, void (MainWindow::*chosen)(const QString&))
{
    connect(box, &QComboBox::activated, this, [this, box, chosen] {
        const QString value = box->currentData().toString();
        if (value == m_shownChoice.value(box))
            return;
        m_shownChoice[box] = value;
        Q_EMIT(this->*chosen)(value);
    });
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
        m_model->addItem(model, model);   // a model the list does not name (a timm tag, a lukemelas name)
    selectData(m_model, model);
}

void MainWindow::setCurrentDevice(const QString& device)
{
    selectData(m_device, device);
    updatePrecisionChoices();
}

void MainWindow::setCurrentPrecision(const QString& precision) { selectData(m_precision, precision); }

void MainWindow::setCudaAvailable(bool available, const QString& whyNot)
{
    m_cudaAvailable = available;
    setItemAvailable(m_device, m_device->findData("cuda"), available, whyNot);
    updatePrecisionChoices();
}

// fp16 and bf16 are GPU precisions here: the CPU engine runs fp32 (oneDNN), so they are offered only where the
// device the choice means is a GPU.
void MainWindow::updatePrecisionChoices()
{
    const QString device = m_device->currentData().toString();
    const bool gpu = device == "cuda" || (device == "auto" && m_cudaAvailable);
    const QString why = tr("fp16 and bf16 need a CUDA GPU; on the CPU the model computes in fp32");
    for (const char* p : {"fp16", "bf16"})
        setItemAvailable(m_precision, m_precision->findData(QString::fromLatin1(p)), gpu, why);
}

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
    setCaption(caption);
}

void MainWindow::showMessageInView(const QString& text, const QString& caption)
{
    m_view->setImage(QImage());
    m_view->setPlaceholderText(text);
    setCaption(caption);
    m_predictions->clear();
}

void MainWindow::setCaption(const QString& caption)   // under the viewer, and its file name in the title
{
    m_caption->setText(caption);
    const QString name = QFileInfo(caption).fileName();
    setWindowTitle(caption.isEmpty() ? tr("EfficientNet demo") : tr("%1 — EfficientNet demo").arg(name.isEmpty() ? caption : name));
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
    m_statusLive->setText(tr("display %1 fps · classified %2 fps · %3 dropped")
                              .arg(rate(s.displayFps), rate(s.classifiedFps))
                              .arg(s.droppedFrames));
}

void MainWindow::setWarningBanner(const QString& text)
{
    m_warning->setText(text);
    m_warning->setVisible(!text.isEmpty());
}

void MainWindow::showError(ErrorTopic topic, const QString& text, const QString& brief)
{
    m_errors[topic] = text;
    m_errorOrder.removeAll(topic);
    m_errorOrder.push_back(topic);
    refreshError();
    statusBar()->showMessage(brief.isEmpty() ? text : brief, kStatusMessageMs);
}

void MainWindow::clearError(ErrorTopic topic)
{
    if (!m_errors.remove(topic))
        return;
    m_errorOrder.removeAll(topic);
    refreshError();
    statusBar()->clearMessage();
}

void MainWindow::clearError()
{
    m_errors.clear();
    m_errorOrder.clear();
    refreshError();
}

// The most recent error that still holds; the bar goes when none does.
void MainWindow::refreshError()
{
    if (m_errorOrder.isEmpty()) {
        m_error->clear();
        m_errorBar->hide();
        return;
    }
    m_error->setText(m_errors.value(m_errorOrder.back()));
    m_errorBar->show();
}

void MainWindow::setOffer(const QString& text, const QString& button)
{
    m_offerText->setText(text);
    m_offerButton->setText(button);
    m_offerBar->setVisible(!text.isEmpty());
}

QString MainWindow::offerText() const { return m_offerBar->isVisibleTo(this) ? m_offerText->text() : QString(); }

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
    m_cameraAction->setIcon(icon(active ? Icon::Stop : Icon::Camera));
    m_camera->setEnabled(!active);
    m_pauseAction->setEnabled(active);
    m_snapshotAction->setEnabled(active || !m_view->image().isNull());
    if (!active)
        setLivePaused(false);
    m_stepAction->setEnabled(active && m_pauseAction->isChecked());
}

void MainWindow::setLivePaused(bool paused)
{
    const QSignalBlocker block(m_pauseAction);
    m_pauseAction->setChecked(paused);
    m_stepAction->setEnabled(paused && m_cameraAction->isChecked());
}

void MainWindow::setLoop(bool loop)
{
    const QSignalBlocker block(m_loopAction);
    m_loopAction->setChecked(loop);
}
bool MainWindow::loop() const { return m_loopAction->isChecked(); }

void MainWindow::setOverlayTopK(bool on)
{
    const QSignalBlocker block(m_overlayTopKAction);
    m_overlayTopKAction->setChecked(on);
}
bool MainWindow::overlayTopK() const { return m_overlayTopKAction->isChecked(); }

void MainWindow::fitToScreen()
{
    const QScreen* screen = this->screen() ? this->screen() : QApplication::primaryScreen();
    const QSize available = screen ? screen->availableSize() : kPreferredSize;
    const QSize size = kPreferredSize.boundedTo(QSize(int(available.width() * kScreenShare),
                                                      int(available.height() * kScreenShare)));
    resize(size);
    if (screen)
        move(screen->availableGeometry().center() - rect().center());
}

void MainWindow::showGallery(bool visible) { m_galleryDock->setVisible(visible); }
void MainWindow::showTeach(bool visible) { m_teachDock->setVisible(visible); }
bool MainWindow::teachShown() const { return m_teachDock->isVisibleTo(this); }
bool MainWindow::galleryShown() const { return m_galleryDock->isVisibleTo(this); }
QString MainWindow::warningText() const { return m_warning->isVisibleTo(this) ? m_warning->text() : QString(); }
QString MainWindow::errorText() const { return m_errorBar->isVisibleTo(this) ? m_error->text() : QString(); }
QString MainWindow::captionText() const { return m_caption->text(); }
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
