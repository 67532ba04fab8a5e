#pragma once
// The central view: the current image or live frame, aspect-fit and drawn at the screen's device pixel ratio so it
// stays sharp on HiDPI screens.
#include <QImage>
#include <QPixmap>
#include <QWidget>

namespace efficientnet::ui {

class ImageView : public QWidget {
    Q_OBJECT

public:
    explicit ImageView(QWidget* parent = nullptr);

    void setImage(const QImage& image);
    QImage image() const { return m_image; }
    void setPlaceholderText(const QString& text);

    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QImage m_image;
    QPixmap m_scaled;        // m_image scaled to the widget's size in device pixels; rebuilt when either changes
    QString m_placeholder;
};

} // namespace efficientnet::ui
