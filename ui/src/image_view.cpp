#include "efficientnet/ui/image_view.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QPalette>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

namespace efficientnet::ui {
namespace {

constexpr QSize kPreferredSize(640, 480);
constexpr double kWheelStep = 1.25;          // zoom factor per wheel notch
constexpr double kMinZoom = 0.05;
constexpr double kMaxZoom = 32.0;
constexpr int kWheelNotch = 120;             // QWheelEvent::angleDelta units per notch
constexpr double kOverlayFontPerHeight = 0.045;   // the overlay's text height as a share of the image's height
constexpr double kOverlayMinPixels = 11.0;
constexpr int kOverlayBackgroundAlpha = 170;

} // namespace

ImageView::ImageView(QWidget* parent)
    : QWidget(parent)
{
    setMinimumSize(160, 120);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setAutoFillBackground(true);
    setFocusPolicy(Qt::StrongFocus);   // the window's first focus: arrow keys step through images
    QPalette p = palette();
    p.setColor(QPalette::Window, p.color(QPalette::Dark));
    setPalette(p);
}

void ImageView::setImage(const QImage& image)
{
    if (image.size() != m_image.size())
        m_pan = {};
    m_image = image;
    m_scaled = QPixmap();
    update();
}

void ImageView::setPlaceholderText(const QString& text)
{
    m_placeholder = text;
    update();
}

void ImageView::setOverlay(const QStringList& lines)
{
    if (lines == m_overlay)
        return;
    m_overlay = lines;
    update();
}

void ImageView::zoomToFit()
{
    m_fit = true;
    m_pan = {};
    m_scaled = QPixmap();
    update();
}

void ImageView::zoomActualSize()
{
    m_fit = false;
    m_zoom = 1.0;
    m_scaled = QPixmap();
    update();
}

void ImageView::zoomBy(double factor)
{
    m_zoom = std::clamp(zoom() * factor, kMinZoom, kMaxZoom);
    m_fit = false;
    m_scaled = QPixmap();
    update();
}

double ImageView::fitZoom() const
{
    if (m_image.isNull())
        return 1.0;
    return std::min(width() / double(m_image.width()), height() / double(m_image.height()));
}

double ImageView::zoom() const { return m_fit ? fitZoom() : m_zoom; }

QSize ImageView::sizeHint() const { return kPreferredSize; }

void ImageView::drawOverlay(QPainter& painter, const QRectF& area) const
{
    if (m_overlay.isEmpty())
        return;
    QFont font = painter.font();
    font.setPixelSize(static_cast<int>(std::max(kOverlayMinPixels, area.height() * kOverlayFontPerHeight)));
    font.setBold(true);
    painter.setFont(font);
    const QFontMetricsF metrics(font);
    const double pad = metrics.height() * 0.3;
    double textWidth = 0;
    for (const QString& line : m_overlay)
        textWidth = std::max(textWidth, metrics.horizontalAdvance(line));
    const QRectF box(area.topLeft() + QPointF(pad, pad),
                     QSizeF(textWidth + 2 * pad, metrics.height() * m_overlay.size() + 2 * pad));
    painter.setPen(Qt::NoPen);
    painter.setBrush(QColor(0, 0, 0, kOverlayBackgroundAlpha));
    painter.drawRoundedRect(box, pad, pad);
    painter.setPen(Qt::white);
    for (int i = 0; i < m_overlay.size(); ++i)
        painter.drawText(QPointF(box.left() + pad, box.top() + pad + metrics.ascent() + i * metrics.height()),
                         m_overlay[i]);
}

QImage ImageView::annotatedImage() const
{
    QImage out = m_image.convertToFormat(QImage::Format_RGB32);
    QPainter painter(&out);
    painter.setRenderHint(QPainter::Antialiasing);
    drawOverlay(painter, QRectF(QPointF(0, 0), QSizeF(out.size())));
    return out;
}

void ImageView::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    if (m_image.isNull()) {
        painter.setPen(palette().color(QPalette::BrightText));
        painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
        return;
    }
    // Scale once per size change, in device pixels, with a smooth filter: painting a logical-size pixmap would let
    // the paint engine upscale it and blur it on a 2x screen.
    const qreal dpr = devicePixelRatioF();
    const QSizeF logical = QSizeF(m_image.size()) * zoom();
    const QSize devicePixels = (logical * dpr).toSize().expandedTo(QSize(1, 1));
    if (m_scaled.isNull() || m_scaled.size() != devicePixels) {
        const auto mode = zoom() >= 2.0 ? Qt::FastTransformation : Qt::SmoothTransformation;   // big pixels stay sharp
        m_scaled = QPixmap::fromImage(m_image.scaled(devicePixels, Qt::IgnoreAspectRatio, mode));
        m_scaled.setDevicePixelRatio(dpr);
    }
    const QPointF topLeft = QPointF((width() - logical.width()) / 2.0, (height() - logical.height()) / 2.0) + m_pan;
    painter.drawPixmap(topLeft, m_scaled);
    painter.setRenderHint(QPainter::Antialiasing);
    drawOverlay(painter, QRectF(topLeft, logical).intersected(QRectF(rect())));
}

void ImageView::wheelEvent(QWheelEvent* event)
{
    if (m_image.isNull())
        return;
    const double notches = event->angleDelta().y() / double(kWheelNotch);
    zoomBy(std::pow(kWheelStep, notches));
    event->accept();
}

void ImageView::mousePressEvent(QMouseEvent* event) { m_dragFrom = event->position().toPoint(); }

void ImageView::mouseMoveEvent(QMouseEvent* event)
{
    if (m_fit || !(event->buttons() & Qt::LeftButton))
        return;
    m_pan += event->position().toPoint() - m_dragFrom;
    m_dragFrom = event->position().toPoint();
    update();
}

void ImageView::mouseDoubleClickEvent(QMouseEvent*) { m_fit ? zoomActualSize() : zoomToFit(); }

} // namespace efficientnet::ui
