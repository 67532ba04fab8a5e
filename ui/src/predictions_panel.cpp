#include "efficientnet/ui/predictions_panel.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QSpinBox>
#include <QVBoxLayout>

namespace efficientnet::ui {
namespace {
constexpr int kBarRange = 1000;   // per mille: smooth bars without floating-point progress
constexpr int kLabelMinWidth = 160;
}

PredictionsPanel::PredictionsPanel(QWidget* parent)
    : QWidget(parent)
    , m_topK(new QSpinBox(this))
    , m_empty(new QLabel(tr("No predictions yet: drop images here, open or paste one, or start the camera."), this))
{
    auto* header = new QHBoxLayout;
    auto* title = new QLabel(tr("<b>Predictions</b>"), this);
    header->addWidget(title);
    header->addStretch();
    header->addWidget(new QLabel(tr("Top-k:"), this));
    m_topK->setRange(1, kMaxTopK);
    m_topK->setValue(kDefaultTopK);
    m_topK->setObjectName("topKSpinBox");
    m_topK->setToolTip(tr("How many classes to show"));
    header->addWidget(m_topK);

    auto* grid = new QGridLayout;
    grid->setColumnStretch(1, 1);
    for (int i = 0; i < kMaxTopK; ++i) {
        Row row{new QLabel(this), new QProgressBar(this), new QLabel(this)};
        row.label->setMinimumWidth(kLabelMinWidth);
        row.label->setTextInteractionFlags(Qt::TextSelectableByMouse);
        row.label->setTextFormat(Qt::PlainText);   // labels come from label files
        row.bar->setRange(0, kBarRange);
        row.bar->setTextVisible(false);
        row.percent->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
        row.percent->setMinimumWidth(row.percent->fontMetrics().horizontalAdvance("100.00 %"));
        grid->addWidget(row.label, i, 0);
        grid->addWidget(row.bar, i, 1);
        grid->addWidget(row.percent, i, 2);
        m_rows.push_back(row);
    }
    m_empty->setWordWrap(true);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_empty);
    layout->addLayout(grid);
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
    refresh();
}

void PredictionsPanel::clear() { setPredictions({}); }

void PredictionsPanel::setTopK(int k) { m_topK->setValue(k); }
int PredictionsPanel::topK() const { return m_topK->value(); }

int PredictionsPanel::visibleRows() const { return std::min<int>(topK(), static_cast<int>(m_predictions.size())); }

QString PredictionsPanel::labelText(int row) const { return row < visibleRows() ? m_rows[row].label->text() : QString(); }
QString PredictionsPanel::percentText(int row) const { return row < visibleRows() ? m_rows[row].percent->text() : QString(); }
int PredictionsPanel::barPermille(int row) const { return row < visibleRows() ? m_rows[row].bar->value() : 0; }

void PredictionsPanel::refresh()
{
    const int shown = visibleRows();
    m_empty->setVisible(m_predictions.isEmpty());
    for (int i = 0; i < m_rows.size(); ++i) {
        const Row& row = m_rows[i];
        const bool visible = i < shown;
        row.label->setVisible(visible);
        row.bar->setVisible(visible);
        row.percent->setVisible(visible);
        if (!visible)
            continue;
        const auto& p = m_predictions[i];
        row.label->setText(p.label);
        row.label->setToolTip(tr("class %1").arg(p.index));
        row.bar->setValue(qRound(p.probability * kBarRange));
        row.percent->setText(QString::number(p.probability * 100.0, 'f', 2) + " %");
    }
}

} // namespace efficientnet::ui
