#include "efficientnet/ui/training_plot.h"

#include <QPainter>
#include <QPainterPath>
#include <algorithm>

namespace efficientnet::ui {
namespace {

constexpr int kMargin = 6;
constexpr int kLegendHeight = 14;
constexpr double kVerticalPad = 0.08;   // of the plot's height
const QColor kLossColour(220, 90, 40);
const QColor kAccuracyColour(40, 120, 220);

} // namespace

TrainingPlot::TrainingPlot(QWidget* parent)
    : QWidget(parent)
{
    setObjectName("trainingPlot");
    setToolTip(tr("Training loss (orange) and validation accuracy (blue) per epoch"));
}

void TrainingPlot::clear()
{
    m_loss.clear();
    m_accuracy.clear();
    update();
}

void TrainingPlot::addLoss(double x, double loss)
{
    m_loss << QPointF(x, loss);
    update();
}

void TrainingPlot::addAccuracy(double epoch, double accuracy)
{
    m_accuracy << QPointF(epoch, accuracy);
    update();
}

void TrainingPlot::setEpochs(int epochs)
{
    m_epochs = std::max(1, epochs);
    update();
}

QSize TrainingPlot::sizeHint() const { return {240, 110}; }
QSize TrainingPlot::minimumSizeHint() const { return {120, 70}; }

void TrainingPlot::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.fillRect(rect(), palette().base());
    const QRectF area = QRectF(rect()).adjusted(kMargin, kMargin + kLegendHeight, -kMargin, -kMargin);
    painter.setPen(palette().color(QPalette::Mid));
    painter.drawRect(area);
    painter.setPen(kLossColour);
    painter.drawText(QPointF(kMargin, kMargin + kLegendHeight - 3), tr("loss"));
    painter.setPen(kAccuracyColour);
    painter.drawText(QPointF(kMargin + 40, kMargin + kLegendHeight - 3), tr("accuracy"));
    if (m_loss.isEmpty() && m_accuracy.isEmpty())
        return;
    double maxLoss = 0;
    for (const QPointF& p : m_loss)
        maxLoss = std::max(maxLoss, p.y());
    const auto map = [&](double x, double y01) {
        // A little room above and below, so that 100% accuracy is not drawn on the frame.
        const double inner = area.height() * (1 - 2 * kVerticalPad);
        return QPointF(area.left() + area.width() * std::clamp(x / m_epochs, 0.0, 1.0),
                       area.bottom() - area.height() * kVerticalPad - inner * std::clamp(y01, 0.0, 1.0));
    };
    const auto draw = [&](const QVector<QPointF>& points, double scale, const QColor& colour) {
        if (points.isEmpty())
            return;
        QPainterPath path(map(points.front().x(), points.front().y() / scale));
        for (const QPointF& p : points)
            path.lineTo(map(p.x(), p.y() / scale));
        painter.setPen(QPen(colour, 1.5));
        painter.drawPath(path);
        for (const QPointF& p : points.size() <= 1 ? points : QVector<QPointF>{points.back()})
            painter.drawEllipse(map(p.x(), p.y() / scale), 2, 2);
    };
    draw(m_loss, maxLoss > 0 ? maxLoss : 1, kLossColour);
    draw(m_accuracy, 1, kAccuracyColour);
}

} // namespace efficientnet::ui
