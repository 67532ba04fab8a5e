#include "efficientnet/ui/gallery_panel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace efficientnet::ui {
namespace {
constexpr int kThumbnailSize = 64;
constexpr int kErrorRole = Qt::UserRole + 1;
}

GalleryPanel::GalleryPanel(QWidget* parent)
    : QWidget(parent)
    , m_list(new QListWidget(this))
    , m_progress(new QProgressBar(this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
    , m_export(new QPushButton(tr("Export CSV…"), this))
    , m_summary(new QLabel(this))
{
    m_list->setIconSize(QSize(kThumbnailSize, kThumbnailSize));
    m_list->setUniformItemSizes(true);
    m_list->setObjectName("galleryList");
    m_cancel->setObjectName("galleryCancel");
    m_cancel->setEnabled(false);
    m_export->setEnabled(false);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_progress, 1);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_export);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_list, 1);
    layout->addWidget(m_summary);
    layout->addLayout(buttons);

    connect(m_list, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0)
            Q_EMIT entrySelected(row);
    });
    connect(m_cancel, &QPushButton::clicked, this, &GalleryPanel::cancelRequested);
    connect(m_export, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export predictions"), "predictions.csv",
                                                          tr("CSV files (*.csv)"));
        if (!path.isEmpty())
            Q_EMIT exportRequested(path);
    });
}

void GalleryPanel::begin(int count)
{
    m_list->clear();
    for (int i = 0; i < count; ++i)
        m_list->addItem(tr("waiting…"));
    m_progress->setRange(0, count);
    m_progress->setValue(0);
    m_done = m_failed = 0;
    m_running = true;
    m_cancel->setEnabled(true);
    m_export->setEnabled(false);
    m_summary->setText(tr("Classifying %n image(s)…", nullptr, count));
}

void GalleryPanel::setEntry(int index, const QString& path, const QImage& thumbnail, const QString& top1,
                            const QString& error)
{
    if (index < 0 || index >= m_list->count())
        return;
    QListWidgetItem* item = m_list->item(index);
    const QString name = QFileInfo(path).fileName();
    item->setText(error.isEmpty() ? name + "\n" + top1 : name + "\n" + tr("error: %1").arg(error));
    // Tooltips render rich text when it looks like HTML; file names and errors are shown as the text they are.
    const QString tip = error.isEmpty() ? path : error;
    item->setToolTip("<p style='white-space:pre-wrap'>" + tip.toHtmlEscaped() + "</p>");
    item->setData(kErrorRole, !error.isEmpty());
    if (!thumbnail.isNull())
        item->setIcon(QIcon(QPixmap::fromImage(thumbnail)));
    else if (!error.isEmpty())
        item->setIcon(style()->standardIcon(QStyle::SP_MessageBoxWarning));
    ++m_done;
    m_failed += error.isEmpty() ? 0 : 1;
    m_progress->setValue(m_done);
}

void GalleryPanel::finish(bool cancelled)
{
    m_running = false;
    m_cancel->setEnabled(false);
    m_export->setEnabled(m_done > 0);
    const QString failed = m_failed ? tr(", %n failed", nullptr, m_failed) : QString();
    m_summary->setText(cancelled ? tr("Cancelled after %1 of %2%3").arg(m_done).arg(m_list->count()).arg(failed)
                                 : tr("%1 classified%2").arg(m_done - m_failed).arg(failed));
}

int GalleryPanel::count() const { return m_list->count(); }
QString GalleryPanel::summaryText() const { return m_summary->text(); }
int GalleryPanel::progressValue() const { return m_progress->value(); }
QString GalleryPanel::entryText(int index) const { return index < count() ? m_list->item(index)->text() : QString(); }
bool GalleryPanel::entryIsError(int index) const { return index < count() && m_list->item(index)->data(kErrorRole).toBool(); }

} // namespace efficientnet::ui
