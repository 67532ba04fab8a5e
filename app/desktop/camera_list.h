#pragma once
// The cameras present, for the live source box: names from Qt Multimedia, opened by live mode through OpenCV by
// index. Without Qt Multimedia (an optional component) the box offers indices 0-2 as before, unnamed.
#include <QObject>
#include <QVector>
#include <functional>

#include "efficientnet/ui/main_window.h"

namespace efficientnet::desktop {

// The cameras the system lists now, in its order.
QVector<ui::CameraChoice> presentCameras();

// OpenCV's VideoCapture index for the camera Qt lists at `position` with device id `qtId`. On Linux Qt's id is the
// V4L2 node, /dev/videoN, and OpenCV's index is N (a camera's metadata node also takes a number, so positions and
// indices differ). Elsewhere (Media Foundation, AVFoundation) both enumerate the system's list in its order.
int opencvCameraIndex(const QByteArray& qtId, int position);

// Calls `changed` (in `context`'s thread) when cameras are plugged in or out; nothing without Qt Multimedia.
void watchCameras(QObject* context, const std::function<void()>& changed);

} // namespace efficientnet::desktop
