#include "efficientnet/ui/teach_panel.h"

#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "efficientnet/ui/training_plot.h"

namespace efficientnet::ui {
namespace {

constexpr int kNameRole = Qt::UserRole;       // the class's name as stored, while the user edits the text
constexpr int kPathRole = Qt::UserRole;       // an example's file
constexpr int kMaxEpochs = 500;
constexpr int kMessageLines = 4;

QStringList localPaths(const QMimeData* mime)
{
    QStringList paths;
    if (!mime || !mime->hasUrls())
        return paths;
    for (const QUrl& url : mime->urls())
        if (url.isLocalFile())
            paths << url.toLocalFile();
    return paths;
}

} // namespace

TeachPanel::TeachPanel(QWidget* parent)
    : QWidget(parent)
    , m_classes(new QTreeWidget)
    , m_newClass(new QLineEdit)
    , m_addClass(new QPushButton(tr("&Add class")))
    , m_renameClass(new QPushButton(tr("Rename")))
    , m_removeClass(new QPushButton(tr("Remove")))
    , m_examples(new QListWidget)
    , m_addImages(new QPushButton(tr("Add &images…")))
    , m_capture(new QPushButton(tr("Hold to &capture")))
    , m_epochs(new QSpinBox)
    , m_scope(new QComboBox)
    , m_train(new QPushButton(tr("&Train")))
    , m_cancel(new QPushButton(tr("Cancel")))
    , m_progress(new QProgressBar)
    , m_progressText(new QLabel)
    , m_plot(new TrainingPlot)
    , m_message(new QLabel)
    , m_save(new QPushButton(tr("&Save model…")))
    , m_export(new QPushButton(tr("E&xport examples…")))
{
    setObjectName("teachPanel");
    m_classes->setObjectName("teachClasses");
    m_classes->setColumnCount(2);
    m_classes->setHeaderLabels({tr("Class"), tr("Examples")});
    m_classes->setRootIsDecorated(false);
    m_classes->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_classes->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_classes->header()->setStretchLastSection(false);
    m_classes->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    m_classes->setToolTip(tr("Drop images or folders onto a class to add them as its examples; F2 renames"));
    m_classes->viewport()->setAcceptDrops(true);
    m_classes->viewport()->installEventFilter(this);
    m_classes->setContextMenuPolicy(Qt::CustomContextMenu);
    m_newClass->setObjectName("teachNewClass");
    m_newClass->setPlaceholderText(tr("New class name"));

    m_examples->setObjectName("teachExamples");
    m_examples->setViewMode(QListView::IconMode);
    m_examples->setIconSize({kThumbnailSize, kThumbnailSize});
    m_examples->setResizeMode(QListView::Adjust);
    m_examples->setMovement(QListView::Static);
    m_examples->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_examples->setToolTip(tr("The selected class's examples: drop images here to add them, Delete removes"));
    m_examples->viewport()->setAcceptDrops(true);
    m_examples->viewport()->installEventFilter(this);
    m_examples->installEventFilter(this);
    m_examples->setContextMenuPolicy(Qt::CustomContextMenu);

    m_capture->setObjectName("teachCapture");
    m_capture->setToolTip(tr("While live mode runs, hold this to add the camera's frames to the selected class"));
    m_epochs->setRange(1, kMaxEpochs);
    m_epochs->setValue(kDefaultEpochs);
    m_scope->addItem(tr("Head only"), "head");
    m_scope->addItem(tr("Last 2 stages"), "stages:2");
    m_scope->addItem(tr("Everything"), "all");
    m_scope->setToolTip(tr("What trains: the classifier only is fastest; more layers need more examples"));
    m_train->setObjectName("teachTrain");
    m_cancel->setObjectName("teachCancel");
    m_progress->setTextVisible(false);
    m_progressText->setObjectName("teachProgressText");
    m_progressText->setWordWrap(true);
    // Two lines kept: "Epoch 3 of 10: loss 0.412, validation accuracy 50%" wraps where the line without accuracy does
    // not, and the plot below jumped by a line at every epoch (found by hand).
    m_progressText->setMinimumHeight(m_progressText->fontMetrics().lineSpacing() * 2);
    m_message->setObjectName("teachMessage");
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    // Room for a few lines, so that messages of different lengths do not move the buttons under the pointer.
    m_message->setMinimumHeight(m_message->fontMetrics().lineSpacing() * kMessageLines);

    auto* newClassRow = new QHBoxLayout;
    newClassRow->addWidget(m_newClass, 1);
    newClassRow->addWidget(m_addClass);
    auto* classButtons = new QHBoxLayout;
    classButtons->addWidget(m_renameClass);
    classButtons->addWidget(m_removeClass);
    classButtons->addStretch();
    auto* exampleButtons = new QHBoxLayout;
    exampleButtons->addWidget(m_addImages);
    exampleButtons->addWidget(m_capture);
    auto* trainRow = new QHBoxLayout;
    trainRow->addWidget(new QLabel(tr("Epochs")));
    trainRow->addWidget(m_epochs);
    trainRow->addWidget(m_scope, 1);
    auto* trainButtons = new QHBoxLayout;
    trainButtons->addWidget(m_train);
    trainButtons->addWidget(m_cancel);
    auto* fileButtons = new QHBoxLayout;
    fileButtons->addWidget(m_save);
    fileButtons->addWidget(m_export);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(newClassRow);
    layout->addWidget(m_classes, 1);
    layout->addLayout(classButtons);
    layout->addWidget(m_examples, 2);
    layout->addLayout(exampleButtons);
    layout->addLayout(trainRow);
    layout->addLayout(trainButtons);
    layout->addWidget(m_progress);
    layout->addWidget(m_progressText);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_message);
    layout->addLayout(fileButtons);

    connect(m_addClass, &QPushButton::clicked, this, &TeachPanel::addClass);
    connect(m_newClass, &QLineEdit::returnPressed, this, &TeachPanel::addClass);
    connect(m_renameClass, &QPushButton::clicked, this, [this] {
        if (auto* item = m_classes->currentItem())
            m_classes->editItem(item, 0);
    });
    connect(m_removeClass, &QPushButton::clicked, this, &TeachPanel::removeSelectedClass);
    connect(m_classes, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem* item, int column) {
        if (m_filling || column != 0)
            return;
        const QString from = item->data(0, kNameRole).toString();
        const QString to = item->text(0).trimmed();
        m_filling = true;
        item->setText(0, from);   // the controller's answer (setClasses) shows the new name if it takes it
        m_filling = false;
        // After the editor has closed: the answer refills the list, which must not delete the item being edited.
        if (!to.isEmpty() && to != from)
            QMetaObject::invokeMethod(this, [this, from, to] { Q_EMIT classRenamed(from, to); }, Qt::QueuedConnection);
    });
    connect(m_classes, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* current) {
        if (m_filling)
            return;   // setClasses is refilling the list (a capture adds an example): Capture stays held
        updateButtons();
        Q_EMIT classSelected(current ? current->data(0, kNameRole).toString() : QString());
    });
    connect(m_classes, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        QMenu menu;
        menu.addAction(tr("Rename"), m_renameClass, &QPushButton::click)->setEnabled(m_classes->currentItem());
        menu.addAction(tr("Remove class"), this, &TeachPanel::removeSelectedClass)->setEnabled(m_classes->currentItem());
        menu.exec(m_classes->viewport()->mapToGlobal(pos));
    });
    connect(m_examples, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        QMenu menu;
        menu.addAction(tr("Remove"), this, &TeachPanel::removeSelectedExamples)
            ->setEnabled(!m_examples->selectedItems().isEmpty());
        menu.exec(m_examples->viewport()->mapToGlobal(pos));
    });
    connect(m_addImages, &QPushButton::clicked, this, &TeachPanel::chooseImages);
    connect(m_capture, &QPushButton::pressed, this, [this] { Q_EMIT captureHeld(true); });
    connect(m_capture, &QPushButton::released, this, [this] { Q_EMIT captureHeld(false); });
    connect(m_train, &QPushButton::clicked, this, [this] { Q_EMIT trainRequested(epochs(), scope()); });
    connect(m_cancel, &QPushButton::clicked, this, &TeachPanel::cancelRequested);
    connect(m_save, &QPushButton::clicked, this, [this] {
        QString path = QFileDialog::getSaveFileName(this, tr("Save model"), "taught.safetensors",
                                                    tr("Checkpoints (*.safetensors)"));
        if (path.isEmpty())
            return;
        if (QFileInfo(path).suffix().isEmpty())
            path += ".safetensors";
        Q_EMIT saveModelRequested(path);
    });
    connect(m_export, &QPushButton::clicked, this, [this] {
        const QString folder = QFileDialog::getExistingDirectory(this, tr("Export examples into (a folder per class)"));
        if (!folder.isEmpty())
            Q_EMIT exportRequested(folder);
    });
    setProgress(QString(), 0, 1);
    updateButtons();
}

void TeachPanel::addClass()
{
    const QString name = m_newClass->text().trimmed();
    if (name.isEmpty()) {
        m_newClass->setFocus();
        return;
    }
    Q_EMIT classAdded(name);
}

void TeachPanel::removeSelectedClass()
{
    if (auto* item = m_classes->currentItem())
        Q_EMIT classRemoved(item->data(0, kNameRole).toString());
}

void TeachPanel::removeSelectedExamples()
{
    QStringList paths;
    for (const QListWidgetItem* item : m_examples->selectedItems())
        paths << item->data(kPathRole).toString();
    if (!paths.isEmpty() && !m_shownClass.isEmpty())
        Q_EMIT examplesRemoved(m_shownClass, paths);
}

void TeachPanel::chooseImages()
{
    const QString target = selectedClass();
    if (target.isEmpty()) {
        setMessage(tr("Add a class first, then its examples."), true);
        return;
    }
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Examples of %1").arg(target), QString(),
        tr("Images (*.jpg *.jpeg *.png *.bmp *.webp *.tif *.tiff *.ppm *.pgm);;All files (*)"));
    if (!files.isEmpty())
        Q_EMIT examplesAdded(target, files);
}

void TeachPanel::setClasses(const QStringList& names, const QVector<int>& counts)
{
    const QString selected = selectedClass();
    m_filling = true;
    m_classes->clear();
    QTreeWidgetItem* current = nullptr;
    for (int i = 0; i < names.size(); ++i) {
        auto* item = new QTreeWidgetItem(m_classes, {names[i], QString::number(i < counts.size() ? counts[i] : 0)});
        item->setData(0, kNameRole, names[i]);
        item->setFlags(item->flags() | Qt::ItemIsEditable);
        item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
        if (names[i] == selected)
            current = item;
    }
    if (!current && m_classes->topLevelItemCount() > 0)
        current = m_classes->topLevelItem(m_classes->topLevelItemCount() - 1);
    m_classes->setCurrentItem(current);
    m_filling = false;
    if (names.contains(m_newClass->text().trimmed()))
        m_newClass->clear();   // the class typed there was added
    updateButtons();
    if (selectedClass() != selected)
        Q_EMIT classSelected(selectedClass());
}

void TeachPanel::selectClass(const QString& name)
{
    for (int i = 0; i < m_classes->topLevelItemCount(); ++i)
        if (m_classes->topLevelItem(i)->data(0, kNameRole).toString() == name)
            m_classes->setCurrentItem(m_classes->topLevelItem(i));
}

QString TeachPanel::selectedClass() const
{
    const auto* item = m_classes->currentItem();
    return item ? item->data(0, kNameRole).toString() : QString();
}

void TeachPanel::showExamples(const QString& className, const QVector<TeachExampleView>& examples)
{
    m_shownClass = className;
    m_examples->clear();
    for (const TeachExampleView& example : examples) {
        auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(example.thumbnail)), QString(), m_examples);
        item->setData(kPathRole, example.path);
        item->setToolTip(QFileInfo(example.path).fileName());
    }
}

void TeachPanel::setCaptureAvailable(bool available)
{
    m_captureAvailable = available;
    updateButtons();
}

void TeachPanel::setTraining(bool running)
{
    // The button just pressed is disabled here, and Qt hands its focus to the next widget in the window's chain (the
    // toolbar's camera box, found by hand), where a key press does something unrelated: the other button takes it.
    const bool trainHadFocus = m_train->hasFocus(), cancelHadFocus = m_cancel->hasFocus();
    m_training = running;
    updateButtons();
    if (running && trainHadFocus)
        m_cancel->setFocus();
    else if (!running && cancelHadFocus)
        m_train->setFocus();
}

void TeachPanel::setProgress(const QString& text, int value, int maximum)
{
    m_progress->setRange(0, std::max(1, maximum));
    m_progress->setValue(value);
    m_progressText->setText(text);
}

void TeachPanel::setMessage(const QString& text, bool error)
{
    m_messageIsError = error && !text.isEmpty();
    m_message->setText(text);
    m_message->setStyleSheet(m_messageIsError ? "color: #b00020;" : QString());
}

void TeachPanel::setModelReady(bool ready)
{
    m_modelReady = ready;
    updateButtons();
}

void TeachPanel::setEpochs(int epochs) { m_epochs->setValue(epochs); }
int TeachPanel::epochs() const { return m_epochs->value(); }
QString TeachPanel::scope() const { return m_scope->currentData().toString(); }

void TeachPanel::updateButtons()
{
    const bool haveClass = m_classes->currentItem() != nullptr;
    for (QWidget* w : {static_cast<QWidget*>(m_addClass), static_cast<QWidget*>(m_newClass),
                       static_cast<QWidget*>(m_renameClass), static_cast<QWidget*>(m_removeClass),
                       static_cast<QWidget*>(m_addImages), static_cast<QWidget*>(m_epochs),
                       static_cast<QWidget*>(m_scope), static_cast<QWidget*>(m_export)})
        w->setEnabled(!m_training);
    m_renameClass->setEnabled(!m_training && haveClass);
    m_removeClass->setEnabled(!m_training && haveClass);
    m_addImages->setEnabled(!m_training && haveClass);
    const bool canCapture = !m_training && haveClass && m_captureAvailable;
    if (!canCapture && m_capture->isDown()) {
        m_capture->setDown(false);   // a disabled button never sees its release
        Q_EMIT captureHeld(false);
    }
    m_capture->setEnabled(canCapture);
    m_train->setEnabled(!m_training);
    m_cancel->setEnabled(m_training);
    m_save->setEnabled(!m_training && m_modelReady);
}

int TeachPanel::classCount() const { return m_classes->topLevelItemCount(); }

QString TeachPanel::classText(int row) const
{
    const auto* item = m_classes->topLevelItem(row);
    return item ? item->text(0) + "\t" + item->text(1) : QString();
}

int TeachPanel::shownExamples() const { return m_examples->count(); }
QString TeachPanel::messageText() const { return m_message->text(); }
QString TeachPanel::progressText() const { return m_progressText->text(); }

QString TeachPanel::classAt(const QPoint& viewportPos) const
{
    const auto* item = m_classes->itemAt(viewportPos);
    return item ? item->data(0, kNameRole).toString() : selectedClass();
}

bool TeachPanel::eventFilter(QObject* watched, QEvent* event)
{
    const bool onClasses = watched == m_classes->viewport();
    const bool onExamples = watched == m_examples->viewport();
    if ((onClasses || onExamples) && (event->type() == QEvent::DragEnter || event->type() == QEvent::DragMove)) {
        auto* drag = static_cast<QDragMoveEvent*>(event);
        if (!m_training && !localPaths(drag->mimeData()).isEmpty()) {
            drag->acceptProposedAction();
            return true;
        }
        return false;
    }
    if ((onClasses || onExamples) && event->type() == QEvent::Drop) {
        auto* drop = static_cast<QDropEvent*>(event);
        const QStringList paths = localPaths(drop->mimeData());
        const QString target = onClasses ? classAt(drop->position().toPoint()) : m_shownClass;
        if (paths.isEmpty())
            return false;
        drop->acceptProposedAction();
        if (target.isEmpty())
            setMessage(tr("Add a class first, then drop its examples onto it."), true);
        else
            Q_EMIT examplesAdded(target, paths);
        return true;
    }
    if (event->type() == QEvent::KeyPress && static_cast<QKeyEvent*>(event)->matches(QKeySequence::Delete)) {
        if (watched == m_examples) {
            removeSelectedExamples();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace efficientnet::ui
