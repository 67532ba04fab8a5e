#include "efficientnet/ui/gallery_panel.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

#include "efficientnet/ui/natural_order.h"
#include "efficientnet/ui/predictions_panel.h"

namespace efficientnet::ui {
namespace {

constexpr int kThumbnailSize = 64;
constexpr int kGridThumbnailSize = 112;
constexpr int kRowPadding = 8;
constexpr int kGridTextLines = 2;
constexpr int kIndexRole = Qt::UserRole;
constexpr int kErrorRole = Qt::UserRole + 1;
constexpr int kClassRole = Qt::UserRole + 2;
constexpr int kConfidenceRole = Qt::UserRole + 3;
constexpr int kNameRole = Qt::UserRole + 4;
constexpr int kDoneRole = Qt::UserRole + 5;
constexpr int kPathRole = Qt::UserRole + 6;

// Sorts by the key the panel is set to: names in natural order (2_x before 10_x, as file managers do), classes
// alphabetically, confidence highest first. Unfinished entries keep their place at the end.
class GalleryItem : public QListWidgetItem {
public:
    using QListWidgetItem::QListWidgetItem;
    static inline GalleryPanel::SortKey key = GalleryPanel::SortKey::Name;

    bool operator<(const QListWidgetItem& other) const override
    {
        const bool done = data(kDoneRole).toBool(), otherDone = other.data(kDoneRole).toBool();
        if (done != otherDone)
            return done;
        const int byName = naturalCompare(data(kNameRole).toString(), other.data(kNameRole).toString());
        switch (key) {
        case GalleryPanel::SortKey::Class: {
            const int byClass = naturalCompare(data(kClassRole).toString(), other.data(kClassRole).toString());
            return byClass != 0 ? byClass < 0 : byName < 0;
        }
        case GalleryPanel::SortKey::Confidence: {
            const double a = data(kConfidenceRole).toDouble(), b = other.data(kConfidenceRole).toDouble();
            return a != b ? a > b : byName < 0;
        }
        case GalleryPanel::SortKey::Name: break;
        }
        return byName != 0 ? byName < 0 : data(kIndexRole).toInt() < other.data(kIndexRole).toInt();
    }
};

QIcon placeholderIcon(int size)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setPen(QPen(QColor(128, 128, 128), 1, Qt::DashLine));
    painter.drawRect(pixmap.rect().adjusted(2, 2, -3, -3));
    return QIcon(pixmap);
}

// A row's text until its image is classified: the file's name (when known) over its state.
QString pendingText(const QString& name, const QString& state) { return name.isEmpty() ? state : name + "\n" + state; }

} // namespace

GalleryPanel::GalleryPanel(QWidget* parent)
    : QWidget(parent)
    , m_list(new QListWidget(this))
    , m_progress(new QProgressBar(this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
    , m_export(new QPushButton(tr("Export…"), this))
    , m_reclassify(new QPushButton(tr("Classify again"), this))
    , m_sort(new QComboBox(this))
    , m_filter(new QLineEdit(this))
    , m_gridToggle(new QToolButton(this))
    , m_summary(new QLabel(this))
{
    m_list->setObjectName("galleryList");
    m_list->setUniformItemSizes(false);   // each entry carries its own size (applySizes): never "waiting…"'s
    m_list->setResizeMode(QListView::Adjust);
    m_list->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_list->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_list, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        QMenu menu;
        QMenu* teach = menu.addMenu(tr("&Teach as"));
        const QStringList paths = selectedPaths();
        teach->setEnabled(!paths.isEmpty() && !m_teachClasses.isEmpty());
        for (const QString& name : m_teachClasses)
            teach->addAction(name, this, [this, paths, name] { Q_EMIT teachRequested(paths, name); });
        menu.exec(m_list->viewport()->mapToGlobal(pos));
    });
    m_list->setWordWrap(true);
    m_cancel->setObjectName("galleryCancel");
    m_cancel->setToolTip(tr("Stop classifying the rest (Escape)"));
    m_cancel->setEnabled(false);
    m_export->setObjectName("galleryExport");
    m_export->setToolTip(tr("Save the predictions as CSV or JSON"));
    m_export->setEnabled(false);
    m_reclassify->setObjectName("galleryReclassify");
    m_reclassify->setToolTip(tr("These results come from another model: classify the images again with this one"));
    m_reclassify->hide();
    m_sort->setObjectName("gallerySort");
    m_sort->addItem(tr("Sort by name"), int(SortKey::Name));
    m_sort->addItem(tr("Sort by class"), int(SortKey::Class));
    m_sort->addItem(tr("Sort by confidence"), int(SortKey::Confidence));
    m_filter->setObjectName("galleryFilter");
    m_filter->setPlaceholderText(tr("Filter by class"));
    m_filter->setClearButtonEnabled(true);
    m_gridToggle->setObjectName("galleryGrid");
    m_gridToggle->setCheckable(true);
    m_gridToggle->setText(tr("Grid"));
    m_gridToggle->setToolTip(tr("Show the images as a grid of thumbnails"));
    m_summary->setObjectName("gallerySummary");
    m_summary->setTextFormat(Qt::PlainText);

    auto* tools = new QHBoxLayout;
    tools->addWidget(m_sort);
    tools->addWidget(m_filter, 1);
    tools->addWidget(m_gridToggle);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_summary, 1);   // takes the room when the progress bar is hidden, not the buttons
    buttons->addWidget(m_progress, 3);
    buttons->addWidget(m_reclassify);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_export);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(tools);
    layout->addWidget(m_list, 1);
    layout->addLayout(buttons);

    connect(m_list, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
        if (item)
            Q_EMIT entrySelected(item->data(kIndexRole).toInt());
    });
    connect(m_cancel, &QPushButton::clicked, this, &GalleryPanel::cancelRequested);
    connect(m_reclassify, &QPushButton::clicked, this, &GalleryPanel::reclassifyRequested);
    connect(m_export, &QPushButton::clicked, this, [this] {
        QString filter;
        QString path = QFileDialog::getSaveFileName(this, tr("Export predictions"), "predictions.csv",
                                                    tr("CSV files (*.csv);;JSON files (*.json)"), &filter);
        if (path.isEmpty())
            return;
        if (QFileInfo(path).suffix().isEmpty())
            path += filter.contains("json") ? ".json" : ".csv";
        Q_EMIT exportRequested(path);
    });
    connect(m_sort, &QComboBox::activated, this, [this] { sortBy(SortKey(m_sort->currentData().toInt())); });
    connect(m_filter, &QLineEdit::textChanged, this, &GalleryPanel::setFilter);
    connect(m_gridToggle, &QToolButton::toggled, this, &GalleryPanel::setGrid);
    // Ctrl+C anywhere in the gallery copies the results (the list view would copy only one row's text).
    auto* copy = new QAction(tr("Copy results"), this);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(copy, &QAction::triggered, this, &GalleryPanel::copyToClipboard);
    addAction(copy);
    applySizes();
}

void GalleryPanel::applySizes()
{
    const bool grid = isGrid();
    const int icon = grid ? kGridThumbnailSize : kThumbnailSize;
    m_list->setViewMode(grid ? QListView::IconMode : QListView::ListMode);
    m_list->setFlow(grid ? QListView::LeftToRight : QListView::TopToBottom);
    m_list->setWrapping(grid);
    m_list->setIconSize(QSize(icon, icon));
    m_list->setMovement(QListView::Static);
    const int lineHeight = fontMetrics().lineSpacing();
    // A row is as tall as its thumbnail or its two lines of text, whichever is taller; a tile holds the thumbnail and
    // two lines under it. A list row spans the view whatever width it asks for, but the hint must be a valid size
    // (both sides >= 0) or the view ignores it and sizes rows by their content: a landscape thumbnail's row would
    // then be shorter than a portrait one's.
    const QSize size = grid ? QSize(icon + 2 * kRowPadding, icon + kGridTextLines * lineHeight + 2 * kRowPadding)
                            : QSize(icon, std::max(icon, kGridTextLines * lineHeight) + kRowPadding);
    if (grid)
        m_list->setGridSize(size);
    else
        m_list->setGridSize(QSize());
    for (QListWidgetItem* item : m_items)
        item->setSizeHint(size);
}

void GalleryPanel::begin(int count) { begin(QStringList(count, QString())); }

void GalleryPanel::begin(const QStringList& paths)
{
    m_list->clear();
    m_items.clear();
    const QIcon waiting = placeholderIcon(kThumbnailSize);
    const int count = static_cast<int>(paths.size());
    for (int i = 0; i < count; ++i) {
        // Named from the start, so that rows a stopped run never reached still say which file they are.
        const QString name = QFileInfo(paths[i]).fileName();
        auto* item = new GalleryItem(waiting, pendingText(name, tr("waiting…")));
        item->setData(kIndexRole, i);
        item->setData(kDoneRole, false);
        item->setData(kNameRole, name);
        item->setData(kPathRole, paths[i]);
        if (!paths[i].isEmpty())
            item->setToolTip("<p style='white-space:pre-wrap'>" + paths[i].toHtmlEscaped() + "</p>");
        m_list->addItem(item);
        m_items.push_back(item);
    }
    applySizes();
    m_progress->setRange(0, count);
    m_progress->setValue(0);
    m_progress->show();
    m_done = m_failed = 0;
    m_running = true;
    m_stale = false;
    m_reclassify->hide();
    m_cancel->setEnabled(true);
    m_export->setEnabled(false);
    m_summary->setText(tr("Classifying %n image(s)…", nullptr, count));
}

void GalleryPanel::clear()
{
    begin(0);
    m_running = false;
    m_cancel->setEnabled(false);
    m_progress->hide();
    m_summary->clear();
}

void GalleryPanel::setTeachClasses(const QStringList& classes) { m_teachClasses = classes; }

QStringList GalleryPanel::selectedPaths() const
{
    QStringList paths;
    for (const QListWidgetItem* item : m_list->selectedItems())
        if (item->data(kDoneRole).toBool() && !item->data(kErrorRole).toBool())
            paths << item->data(kPathRole).toString();
    return paths;
}

void GalleryPanel::setEntry(int index, const QString& path, const QImage& thumbnail, const QString& top1,
                            double confidence, const QString& error)
{
    if (index < 0 || index >= m_items.size())
        return;
    QListWidgetItem* item = m_items[index];
    const QString name = QFileInfo(path).fileName();
    const bool wasDone = item->data(kDoneRole).toBool();
    item->setText(error.isEmpty() ? name + "\n" + top1 + " · " + formatPercent(confidence)
                                  : name + "\n" + tr("error: %1").arg(error));
    // Tooltips render rich text when it looks like HTML; file names and errors are shown as the text they are.
    const QString tip = error.isEmpty() ? path : error;
    item->setToolTip("<p style='white-space:pre-wrap'>" + tip.toHtmlEscaped() + "</p>");
    item->setData(kErrorRole, !error.isEmpty());
    item->setData(kNameRole, name);
    item->setData(kPathRole, path);
    item->setData(kClassRole, top1);
    item->setData(kConfidenceRole, error.isEmpty() ? confidence : -1.0);
    item->setData(kDoneRole, true);
    item->setForeground(QBrush());
    if (!thumbnail.isNull())
        item->setIcon(QIcon(QPixmap::fromImage(thumbnail)));
    else if (!error.isEmpty())
        item->setIcon(style()->standardIcon(QStyle::SP_MessageBoxWarning));
    if (!wasDone) {
        ++m_done;
        m_failed += error.isEmpty() ? 0 : 1;
        m_progress->setValue(m_done);
    }
    if (!m_filter->text().isEmpty())
        item->setHidden(!top1.contains(m_filter->text(), Qt::CaseInsensitive));
}

void GalleryPanel::finish(bool cancelled)
{
    m_running = false;
    m_cancel->setEnabled(false);
    m_export->setEnabled(m_done > 0);
    m_progress->hide();
    for (QListWidgetItem* item : m_items)   // a stopped run's rows it never reached wait for nothing (found by hand)
        if (!item->data(kDoneRole).toBool())
            item->setText(pendingText(item->data(kNameRole).toString(), tr("not classified")));
    const QString failed = m_failed ? tr(", %n failed", nullptr, m_failed) : QString();
    m_summary->setText(cancelled ? tr("Cancelled after %1 of %2%3").arg(m_done).arg(m_items.size()).arg(failed)
                                 : tr("%1 classified%2").arg(m_done - m_failed).arg(failed));
    m_list->sortItems();
}

void GalleryPanel::setStale(bool stale)
{
    m_stale = stale && m_done > 0;
    m_reclassify->setVisible(m_stale && !m_running);
    for (QListWidgetItem* item : m_items)
        item->setForeground(m_stale ? palette().brush(QPalette::Disabled, QPalette::Text) : QBrush());
    // A run stopped by the model change says how far it got, as Cancel's summary does (found by hand: 162 of 3000
    // done, and nothing said that the rest were never classified).
    if (m_stale && m_done < m_items.size())
        m_summary->setText(tr("%1 of %2 classified, by another model: classify again to update")
                               .arg(m_done).arg(m_items.size()));
    else if (m_stale)
        m_summary->setText(tr("From another model: classify again to update"));
}

int GalleryPanel::count() const { return m_items.size(); }
QString GalleryPanel::summaryText() const { return m_summary->text(); }
int GalleryPanel::progressValue() const { return m_progress->value(); }
QString GalleryPanel::entryText(int index) const { return index < count() ? m_items[index]->text() : QString(); }
QString GalleryPanel::entryPath(int index) const
{
    return index >= 0 && index < count() ? m_items[index]->data(kPathRole).toString() : QString();
}
bool GalleryPanel::entryIsError(int index) const { return index < count() && m_items[index]->data(kErrorRole).toBool(); }
QSize GalleryPanel::entrySize(int index) const
{
    return index < count() ? m_list->visualItemRect(m_items[index]).size() : QSize();
}

QVector<int> GalleryPanel::shownOrder() const
{
    QVector<int> order;
    for (int row = 0; row < m_list->count(); ++row)
        if (!m_list->item(row)->isHidden())
            order.push_back(m_list->item(row)->data(kIndexRole).toInt());
    return order;
}

void GalleryPanel::sortBy(SortKey key)
{
    GalleryItem::key = key;
    m_sort->setCurrentIndex(m_sort->findData(int(key)));
    m_list->sortItems();
}

void GalleryPanel::selectEntry(int index)
{
    if (index >= 0 && index < m_items.size()) {
        m_list->setCurrentItem(m_items[index]);
        m_list->scrollToItem(m_items[index]);
    }
}

void GalleryPanel::setFilter(const QString& classText)
{
    if (m_filter->text() != classText)
        m_filter->setText(classText);
    for (QListWidgetItem* item : m_items)
        item->setHidden(!classText.isEmpty() &&
                        !item->data(kClassRole).toString().contains(classText, Qt::CaseInsensitive));
}

void GalleryPanel::setGrid(bool grid)
{
    if (m_gridToggle->isChecked() != grid)
        m_gridToggle->setChecked(grid);
    applySizes();
}

bool GalleryPanel::isGrid() const { return m_gridToggle->isChecked(); }

QString GalleryPanel::copyText() const
{
    QStringList lines;
    const auto selected = m_list->selectedItems();
    for (int row = 0; row < m_list->count(); ++row) {
        const QListWidgetItem* item = m_list->item(row);
        if (item->isHidden() || !item->data(kDoneRole).toBool() || (!selected.isEmpty() && !item->isSelected()))
            continue;
        const QString name = item->data(kNameRole).toString();
        lines << (item->data(kErrorRole).toBool()
                      ? name + "\t" + item->text().section('\n', 1)
                      : name + "\t" + item->data(kClassRole).toString() + "\t" +
                            formatPercent(item->data(kConfidenceRole).toDouble()));
    }
    return lines.join('\n');
}

void GalleryPanel::copyToClipboard() { QApplication::clipboard()->setText(copyText()); }

void GalleryPanel::keyPressEvent(QKeyEvent* event)
{
    if (event->key() == Qt::Key_Escape && m_running) {
        Q_EMIT cancelRequested();
        return;
    }
    QWidget::keyPressEvent(event);
}

} // namespace efficientnet::ui
