#include "camera_list.h"

#include <QRegularExpression>

#ifdef EFFICIENTNET_HAVE_QT_MULTIMEDIA
#include <QCameraDevice>
#include <QMediaDevices>
#endif

namespace efficientnet::desktop {

int opencvCameraIndex(const QByteArray& qtId, int position)
{
    static const QRegularExpression v4l2Node(QStringLiteral("^/dev/video(\\d+)$"));
    const auto match = v4l2Node.match(QString::fromUtf8(qtId));
    return match.hasMatch() ? match.captured(1).toInt() : position;
}

QVector<ui::CameraChoice> presentCameras()
{
    QVector<ui::CameraChoice> choices;
#ifdef EFFICIENTNET_HAVE_QT_MULTIMEDIA
    const QList<QCameraDevice> cameras = QMediaDevices::videoInputs();
    for (int i = 0; i < cameras.size(); ++i) {
        const QString index = QString::number(opencvCameraIndex(cameras[i].id(), i));
        choices.push_back({QStringLiteral("%1: %2").arg(index, cameras[i].description()), index});
    }
#else
    constexpr int kGuessedCameras = 3;   // without a list: the indices a laptop and a USB camera or two take
    for (int i = 0; i < kGuessedCameras; ++i)
        choices.push_back({QString::number(i), QString::number(i)});
#endif
    return choices;
}

void watchCameras(QObject* context, const std::function<void()>& changed)
{
#ifdef EFFICIENTNET_HAVE_QT_MULTIMEDIA
    auto* devices = new QMediaDevices(context);
    QObject::connect(devices, &QMediaDevices::videoInputsChanged, context, changed);
#else
    Q_UNUSED(context);
    Q_UNUSED(changed);
#endif
}

} // namespace efficientnet::desktop
