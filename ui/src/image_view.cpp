#include "efficientnet/ui/image_view.h"

#include <QPainter>
#include <QPalette>

namespace efficientnet::ui {
namespace {
constexpr QSize kPreferredSize(640, 480);
}

ImageView::ImageView(QWidget* parent)
    : QWidget(parent)
{
    setMinimumSize(160, 120);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setAutoFillBackground(true);
    QPalette p = palette();
    p.setColor(QPalette::Window, p.color(QPalette::Dark));
    setPalette(p);
}

void ImageView::setImage(const QImage& image)
{
    m_image = image;
    m_scaled = QPixmap();
    update();
}

void ImageView::setPlaceholderText(const QString& text)
{
    m_placeholder = text;
    update();
}

QSize ImageView::sizeHint() const { return kPreferredSize; }

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
    const QSize devicePixels = m_image.size().scaled(size() * dpr, Qt::KeepAspectRatio);
    if (m_scaled.isNull() || m_scaled.size() != devicePixels) {
        m_scaled = QPixmap::fromImage(m_image.scaled(devicePixels, Qt::KeepAspectRatio, Qt::SmoothTransformation));
        m_scaled.setDevicePixelRatio(dpr);
    }
    const QSizeF logical = QSizeF(m_scaled.size()) / dpr;
    const QPointF topLeft((width() - logical.width()) / 2.0, (height() - logical.height()) / 2.0);
    painter.drawPixmap(topLeft, m_scaled);
}

} // namespace efficientnet::ui
