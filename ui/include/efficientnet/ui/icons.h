#pragma once
// The app's toolbar and menu icons. The desktop theme's icon is used where it has one (Linux desktops); otherwise
// the app's own, drawn here with QPainter at 1x and 2x. Drawn in code rather than shipped as SVG resources: Qt's SVG
// support is a separate module (Qt Svg) that not every Qt installation has, and PNGs would be binary files to
// maintain; these few outline shapes are short to draw and look the same on every platform.
#include <QIcon>

namespace efficientnet::ui {

enum class Icon {
    Open, OpenFolder, Paste, Camera, Stop, Pause, Step, Snapshot, VideoFile, Download,
    ZoomFit, ZoomActual, FullScreen, Previous, Next, Export,
};

QIcon icon(Icon which);

} // namespace efficientnet::ui
