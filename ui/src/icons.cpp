#include "efficientnet/ui/icons.h"

#include <QGuiApplication>
#include <QPainter>
#include <QPainterPath>
#include <QPalette>
#include <cmath>
#include <functional>

namespace efficientnet::ui {
namespace {

constexpr int kSize = 24;   // logical pixels; each shape is drawn on a 24 x 24 grid
constexpr qreal kStroke = 1.8;

using Draw = std::function<void(QPainter&)>;

QPixmap render(const Draw& draw, qreal scale)
{
    QPixmap pixmap(QSize(kSize, kSize) * scale);
    pixmap.fill(Qt::transparent);
    pixmap.setDevicePixelRatio(scale);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    const QColor ink = QGuiApplication::palette().color(QPalette::WindowText);
    painter.setPen(QPen(ink, kStroke, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.setBrush(Qt::NoBrush);
    draw(painter);
    return pixmap;
}

QIcon drawn(const Draw& draw)
{
    QIcon icon;
    for (qreal scale : {1.0, 2.0})
        icon.addPixmap(render(draw, scale));
    return icon;
}

void arrow(QPainter& p, QPointF from, QPointF to)
{
    p.drawLine(from, to);
    const QPointF d = (to - from) / std::hypot(to.x() - from.x(), to.y() - from.y()) * 4.0;
    const QPointF n(-d.y(), d.x());
    p.drawLine(to, to - d + n);
    p.drawLine(to, to - d - n);
}

Draw shape(Icon which)
{
    switch (which) {
    case Icon::Open:
        return [](QPainter& p) {
            p.drawPolyline(QPolygonF({{5, 3}, {14, 3}, {19, 8}, {19, 21}, {5, 21}, {5, 3}}));
            p.drawPolyline(QPolygonF({{14, 3}, {14, 8}, {19, 8}}));
        };
    case Icon::OpenFolder:
        return [](QPainter& p) {
            p.drawPolyline(QPolygonF({{3, 19}, {3, 5}, {9, 5}, {11, 7}, {21, 7}, {21, 19}, {3, 19}}));
        };
    case Icon::Paste:
        return [](QPainter& p) {
            p.drawRoundedRect(QRectF(5, 5, 14, 16), 2, 2);
            p.drawRect(QRectF(9, 3, 6, 4));
        };
    case Icon::Camera:
        return [](QPainter& p) {
            p.drawRoundedRect(QRectF(3, 7, 18, 13), 2, 2);
            p.drawEllipse(QPointF(12, 13.5), 4, 4);
            p.drawLine(QPointF(8, 7), QPointF(10, 4));
            p.drawLine(QPointF(10, 4), QPointF(14, 4));
            p.drawLine(QPointF(14, 4), QPointF(16, 7));
        };
    case Icon::Stop:
        return [](QPainter& p) { p.drawRoundedRect(QRectF(6, 6, 12, 12), 1.5, 1.5); };
    case Icon::Pause:
        return [](QPainter& p) {
            p.drawLine(QPointF(9, 6), QPointF(9, 18));
            p.drawLine(QPointF(15, 6), QPointF(15, 18));
        };
    case Icon::Step:
        return [](QPainter& p) {
            p.drawPolygon(QPolygonF({{6, 6}, {15, 12}, {6, 18}}));
            p.drawLine(QPointF(18, 6), QPointF(18, 18));
        };
    case Icon::Snapshot:
        return [](QPainter& p) {
            p.drawRoundedRect(QRectF(3, 6, 18, 14), 2, 2);
            p.drawEllipse(QPointF(12, 13), 3.5, 3.5);
            p.drawPoint(QPointF(17.5, 9));
        };
    case Icon::VideoFile:
        return [](QPainter& p) {
            p.drawRoundedRect(QRectF(3, 6, 13, 12), 2, 2);
            p.drawPolygon(QPolygonF({{16, 10}, {21, 7}, {21, 17}, {16, 14}}));
        };
    case Icon::Download:
        return [](QPainter& p) {
            arrow(p, {12, 3}, {12, 15});
            p.drawPolyline(QPolygonF({{4, 16}, {4, 20}, {20, 20}, {20, 16}}));
        };
    case Icon::ZoomFit:
        return [](QPainter& p) {
            p.drawRect(QRectF(4, 4, 16, 16));
            arrow(p, {9, 9}, {6, 6});
            arrow(p, {15, 15}, {18, 18});
        };
    case Icon::ZoomActual:
        return [](QPainter& p) {
            p.drawEllipse(QPointF(10, 10), 6, 6);
            p.drawLine(QPointF(14.5, 14.5), QPointF(20, 20));
            p.drawLine(QPointF(10, 7), QPointF(10, 13));
        };
    case Icon::FullScreen:
        return [](QPainter& p) {
            p.drawPolyline(QPolygonF({{4, 9}, {4, 4}, {9, 4}}));
            p.drawPolyline(QPolygonF({{15, 4}, {20, 4}, {20, 9}}));
            p.drawPolyline(QPolygonF({{20, 15}, {20, 20}, {15, 20}}));
            p.drawPolyline(QPolygonF({{9, 20}, {4, 20}, {4, 15}}));
        };
    case Icon::Previous:
        return [](QPainter& p) { p.drawPolyline(QPolygonF({{15, 5}, {8, 12}, {15, 19}})); };
    case Icon::Next:
        return [](QPainter& p) { p.drawPolyline(QPolygonF({{9, 5}, {16, 12}, {9, 19}})); };
    case Icon::Export:
        return [](QPainter& p) {
            arrow(p, {12, 15}, {12, 3});
            p.drawPolyline(QPolygonF({{4, 12}, {4, 20}, {20, 20}, {20, 12}}));
        };
    }
    return [](QPainter&) {};
}

const char* themeName(Icon which)
{
    switch (which) {
    case Icon::Open: return "document-open";
    case Icon::OpenFolder: return "folder-open";
    case Icon::Paste: return "edit-paste";
    case Icon::Camera: return "camera-web";
    case Icon::Stop: return "media-playback-stop";
    case Icon::Pause: return "media-playback-pause";
    case Icon::Step: return "media-skip-forward";
    case Icon::Snapshot: return "camera-photo";
    case Icon::VideoFile: return "video-x-generic";
    case Icon::Download: return "download";
    case Icon::ZoomFit: return "zoom-fit-best";
    case Icon::ZoomActual: return "zoom-original";
    case Icon::FullScreen: return "view-fullscreen";
    case Icon::Previous: return "go-previous";
    case Icon::Next: return "go-next";
    case Icon::Export: return "document-save-as";
    }
    return "";
}

} // namespace

QIcon icon(Icon which) { return QIcon::fromTheme(themeName(which), drawn(shape(which))); }

} // namespace efficientnet::ui
