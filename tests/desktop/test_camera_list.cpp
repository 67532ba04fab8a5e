// The live source box lists the cameras present: Qt's device ids map to OpenCV's indices (V4L2 nodes by number,
// elsewhere by position), the box shows each camera by name and hands live mode its index, a typed file or URL
// is used as typed and survives a refresh of the list, and the app fills the box with what the system lists.
// (No camera exists here or in CI: the mapping and the box are tested with given lists.)
#include <QtTest/QtTest>

#include <QComboBox>
#include <QTemporaryDir>

#include "camera_list.h"
#include "desktop_app.h"
#include "efficientnet/ui/main_window.h"

using namespace efficientnet::desktop;
using efficientnet::ui::CameraChoice;
using efficientnet::ui::MainWindow;

namespace {

QComboBox* sourceBox(const MainWindow& window) { return window.findChild<QComboBox*>("cameraSource"); }

} // namespace

class TestCameraList : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void opencvIndexFollowsTheDevice_data()
    {
        QTest::addColumn<QByteArray>("qtId");
        QTest::addColumn<int>("position");
        QTest::addColumn<int>("index");
        QTest::newRow("first V4L2 node") << QByteArray("/dev/video0") << 0 << 0;
        // A camera's metadata node takes /dev/video1: the second camera is node 2, second in Qt's list.
        QTest::newRow("V4L2 node after a metadata node") << QByteArray("/dev/video2") << 1 << 2;
        QTest::newRow("Media Foundation symbolic link")
            << QByteArray("\\\\?\\usb#vid_046d&pid_0825&mi_00#7&1b1a9f1&0&0000#{e5323777}\\global") << 1 << 1;
        QTest::newRow("not a device node") << QByteArray("/dev/video") << 3 << 3;
    }
    void opencvIndexFollowsTheDevice()
    {
        QFETCH(QByteArray, qtId);
        QFETCH(int, position);
        QFETCH(int, index);
        QCOMPARE(opencvCameraIndex(qtId, position), index);
    }

    void boxShowsCamerasByNameAndKeepsTypedSources()
    {
        MainWindow window;
        QComboBox* box = sourceBox(window);
        QVERIFY(box && box->isEditable());
        window.setCameraChoices({{"0: Integrated Camera", "0"}, {"2: USB Camera", "2"}});
        QCOMPARE(box->count(), 2);
        QCOMPARE(box->itemText(1), QString("2: USB Camera"));
        QCOMPARE(window.cameraSource(), QString("0"));   // the first camera, by its index
        box->setCurrentIndex(1);
        QCOMPARE(window.cameraSource(), QString("2"));
        window.setCameraSource("0");                      // --camera 0 picks the camera listed with that index
        QCOMPARE(box->currentIndex(), 0);

        box->setEditText("/videos/clip.avi");
        QCOMPARE(window.cameraSource(), QString("/videos/clip.avi"));
        window.setCameraChoices({{"0: Integrated Camera", "0"}});   // a camera unplugged
        QCOMPARE(box->count(), 1);
        QCOMPARE(window.cameraSource(), QString("/videos/clip.avi"));

        window.setCameraChoices({});
        QCOMPARE(box->count(), 0);
        QCOMPARE(window.cameraSource(), QString("/videos/clip.avi"));
        box->setEditText("rtsp://camera.local/stream");
        QCOMPARE(window.cameraSource(), QString("rtsp://camera.local/stream"));
    }

    void appFillsTheBoxWithThePresentCameras()
    {
        QTemporaryDir dir;
        AppOptions options;
        options.settingsFile = dir.filePath("settings.ini");
        options.randomWeights = true;
        DesktopApp app(options);
        const QVector<CameraChoice> present = presentCameras();
        const QComboBox* box = sourceBox(*app.window());
        QCOMPARE(box->count(), present.size());
        for (int i = 0; i < present.size(); ++i) {
            QCOMPARE(box->itemText(i), present[i].label);
            QCOMPARE(box->itemData(i).toString(), present[i].source);
            bool isIndex = false;
            present[i].source.toInt(&isIndex);
            QVERIFY2(isIndex, qPrintable(present[i].source));   // what OpenCV opens as a camera
        }
        if (present.isEmpty())
            QCOMPARE(app.window()->cameraSource(), QString());   // nothing to start until a source is typed
    }
};

QTEST_MAIN(TestCameraList)
#include "test_camera_list.moc"
