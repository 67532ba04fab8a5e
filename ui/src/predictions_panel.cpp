#include "efficientnet/ui/predictions_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

namespace efficientnet::ui {
namespace {

constexpr int kBarScale = 1000;          // per mille of the longest bar
constexpr int kMinBarPixels = 4;         // a class with almost nothing still shows that it is there
constexpr double kSmallestShown = 0.001; // below 0.1 % the number says "< 0.1 %"
constexpr int kRowSpacing = 6;
constexpr int kLabelColumnMin = 80;      // labels are elided to fit; the bar keeps its share (kBarSpaceMin)
constexpr int kLabelColumnMax = 260;
// The bars' own room: found by using the app, the Teach panel left the predictions so narrow that the label and the
// percentage took all of it, and 58.9 % and 1.1 % were the same 4-pixel stub.
constexpr int kBarSpaceMin = 60;
constexpr qreal kStaleOpacity = 0.45;

} // namespace

QString formatPercent(double probability)
{
    if (probability > 0 && probability < kSmallestShown)
        return QStringLiteral("< 0.1 %");
    return QString::number(probability * 100.0, 'f', 1) + QStringLiteral(" %");
}

// The rows, painted: a label column, a bar scaled to the top probability, the percentage. Painted rather than built
// from QProgressBars, which at these sizes look like empty text boxes and draw no fill below a few percent.
class PredictionBars : public QWidget {
public:
    explicit PredictionBars(QWidget* parent) : QWidget(parent) { setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed); }

    void set(const QVector<PredictionRow>& rows, bool stale)
    {
        m_rows = rows;
        m_stale = stale;
        updateGeometry();
        update();
    }
    int permille(int row) const
    {
        if (row < 0 || row >= m_rows.size() || m_rows.isEmpty() || m_rows.front().probability <= 0)
            return 0;
        return static_cast<int>(std::lround(m_rows[row].probability / m_rows.front().probability * kBarScale));
    }
    QSize sizeHint() const override { return {320, rowHeight() * int(m_rows.size())}; }
    QSize minimumSizeHint() const override
    {
        return {kLabelColumnMin + kRowSpacing + kBarSpaceMin + percentWidth(), rowHeight() * int(m_rows.size())};
    }
    // The painted length of a row's bar at the present width.
    int barPixels(int row) const
    {
        if (row < 0 || row >= m_rows.size())
            return 0;
        return std::max(kMinBarPixels, columns().barSpace * permille(row) / kBarScale);
    }

protected:
    void paintEvent(QPaintEvent*) override
    {
        QPainter painter(this);
        painter.setRenderHint(QPainter::Antialiasing);
        if (m_stale)
            painter.setOpacity(kStaleOpacity);
        const Columns column = columns();
        const int labelWidth = column.labelWidth, barLeft = column.barLeft;
        const int percent = percentWidth();
        const QColor bar = palette().color(QPalette::Highlight);
        for (int i = 0; i < m_rows.size(); ++i) {
            const PredictionRow& r = m_rows[i];
            const int top = i * rowHeight();
            QFont font = painter.font();
            font.setBold(i == 0);
            painter.setFont(font);
            painter.setPen(palette().color(QPalette::WindowText));
            const QRect labelRect(0, top, labelWidth, rowHeight());
            painter.drawText(labelRect, Qt::AlignVCenter | Qt::AlignLeft,
                             painter.fontMetrics().elidedText(r.label, Qt::ElideRight, labelWidth));
            const int length = barPixels(i);
            const QRectF barRect(barLeft, top + rowHeight() * 0.2, length, rowHeight() * 0.6);
            painter.setPen(Qt::NoPen);
            painter.setBrush(i == 0 ? bar : bar.lighter(130));
            painter.drawRoundedRect(barRect, 3, 3);
            painter.setPen(palette().color(QPalette::WindowText));
            painter.drawText(QRect(width() - percent, top, percent, rowHeight()),
                             Qt::AlignVCenter | Qt::AlignRight, formatPercent(r.probability));
        }
    }

private:
    int rowHeight() const { return fontMetrics().height() + kRowSpacing; }
    int percentWidth() const { return fontMetrics().horizontalAdvance(QStringLiteral("< 100.0 %")) + kRowSpacing; }
    struct Columns {
        int labelWidth;
        int barLeft;
        int barSpace;
    };
    // Two fifths for the label, within its bounds, but never so much that the bars get less than kBarSpaceMin.
    Columns columns() const
    {
        const int room = width() - percentWidth() - kRowSpacing;
        const int labelWidth = std::clamp(std::min(width() * 2 / 5, room - kBarSpaceMin), kLabelColumnMin, kLabelColumnMax);
        const int barLeft = labelWidth + kRowSpacing;
        return {labelWidth, barLeft, std::max(kMinBarPixels, width() - barLeft - percentWidth())};
    }

    QVector<PredictionRow> m_rows;
    bool m_stale = false;
};

PredictionsPanel::PredictionsPanel(QWidget* parent)
    : QWidget(parent)
    , m_topK(new QSpinBox(this))
    , m_empty(new QLabel(tr("No predictions yet: drop images here, open or paste one, or start the camera."), this))
    , m_stale(new QLabel(this))
    , m_bars(new PredictionBars(this))
{
    auto* header = new QHBoxLayout;
    auto* title = new QLabel(tr("<b>Predictions</b>"), this);
    header->addWidget(title);
    header->addStretch();
    auto* topKLabel = new QLabel(tr("Top-&k:"), this);
    topKLabel->setBuddy(m_topK);
    header->addWidget(topKLabel);
    m_topK->setRange(1, kMaxTopK);
    m_topK->setValue(kDefaultTopK);
    m_topK->setObjectName("topKSpinBox");
    m_topK->setToolTip(tr("How many classes to show"));
    m_topK->setFocusPolicy(Qt::ClickFocus);   // the window's keys (arrows, Escape) are not the spin box's at start
    header->addWidget(m_topK);

    m_empty->setWordWrap(true);
    m_stale->setObjectName("staleNote");
    m_stale->setWordWrap(true);
    m_stale->setTextFormat(Qt::PlainText);
    m_stale->setStyleSheet("color: palette(mid); font-style: italic;");
    m_stale->hide();
    m_bars->setObjectName("predictionBars");

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_empty);
    layout->addWidget(m_stale);
    layout->addWidget(m_bars);
    layout->addStretch();

    connect(m_topK, &QSpinBox::valueChanged, this, [this](int k) {
        refresh();
        Q_EMIT topKChanged(k);
    });
    refresh();
}

void PredictionsPanel::setPredictions(const QVector<PredictionRow>& predictions)
{
    m_predictions = predictions.mid(0, kMaxTopK);
    m_stale->clear();
    m_stale->hide();
    refresh();
}

void PredictionsPanel::setStale(const QString& note)
{
    m_stale->setText(note);
    m_stale->setVisible(!note.isEmpty() && !m_predictions.isEmpty());
    refresh();
}

void PredictionsPanel::clear() { setPredictions({}); }

void PredictionsPanel::setTopK(int k) { m_topK->setValue(k); }
int PredictionsPanel::topK() const { return m_topK->value(); }

int PredictionsPanel::visibleRows() const { return std::min<int>(topK(), static_cast<int>(m_predictions.size())); }

QString PredictionsPanel::labelText(int row) const { return row < visibleRows() ? m_predictions[row].label : QString(); }
QString PredictionsPanel::percentText(int row) const
{
    return row < visibleRows() ? formatPercent(m_predictions[row].probability) : QString();
}
int PredictionsPanel::barPermille(int row) const { return row < visibleRows() ? m_bars->permille(row) : 0; }
int PredictionsPanel::barPixels(int row) const { return row < visibleRows() ? m_bars->barPixels(row) : 0; }
QString PredictionsPanel::staleText() const { return m_stale->isVisibleTo(this) ? m_stale->text() : QString(); }
bool PredictionsPanel::rowIsEmphasised(int row) const { return row == 0 && visibleRows() > 0; }

void PredictionsPanel::refresh()
{
    m_empty->setVisible(m_predictions.isEmpty());
    m_bars->set(m_predictions.mid(0, visibleRows()), !m_stale->text().isEmpty());
    m_bars->setToolTip(QString());   // the labels are on the rows; no tooltip repeating them
}

} // namespace efficientnet::ui
