#pragma once
// The central view: the current image or live frame, fitted to the window (or at 1:1, or zoomed with the wheel and
// dragged), drawn at the screen's device pixel ratio so it stays sharp on HiDPI screens, with an optional overlay of
// text lines in the top-left corner (live mode: the newest prediction, its confidence and the frame rates).
#include <QImage>
#include <QPixmap>
#include <QStringList>
#include <QWidget>

namespace efficientnet::ui {

class ImageView : public QWidget {
    Q_OBJECT

public:
    explicit ImageView(QWidget* parent = nullptr);

    void setImage(const QImage& image);
    QImage image() const { return m_image; }
    void setPlaceholderText(const QString& text);
    QString placeholderText() const { return m_placeholder; }
    void setOverlay(const QStringList& lines);   // empty: none
    QStringList overlay() const { return m_overlay; }
    // The image with the overlay drawn on it, at the image's own size (a live snapshot).
    QImage annotatedImage() const;

    // Zoom: fit (the default), 1:1 pixels, or a factor of the image's size (the wheel multiplies it).
    void zoomToFit();
    void zoomActualSize();
    void zoomBy(double factor);
    bool fitsWindow() const { return m_fit; }
    double zoom() const;   // displayed size / image size

    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;

private:
    double fitZoom() const;
    void drawOverlay(QPainter& painter, const QRectF& area) const;

    QImage m_image;
    QPixmap m_scaled;        // m_image at the displayed size in device pixels; rebuilt when either changes
    QString m_placeholder;
    QStringList m_overlay;
    bool m_fit = true;
    double m_zoom = 1.0;     // when not fitting
    QPointF m_pan;           // offset of the image's centre from the widget's, in logical pixels
    QPoint m_dragFrom;
};

} // namespace efficientnet::ui
