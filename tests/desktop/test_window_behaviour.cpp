// The desktop app as a person uses it (issue 11): never stale (a model change classifies what is on screen again and
// marks the old answer meanwhile; errors clear when what caused them is retried or superseded), choices that can
// work (no CUDA without a GPU, no fp16/bf16 on the CPU), a gallery laid out and ordered as people expect (natural
// order, rows as tall as their thumbnails, sort, filter, copy, JSON export, Escape), a viewer that zooms and steps
// through images, a window that fits its screen, live video displayed at the source's rate with the newest
// prediction over it, pause/step/snapshot/loop, a clear end-of-stream state, and a shutdown that does not linger.
#include <QtTest/QtTest>

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMimeData>
#include <QProcess>
#include <QPushButton>
#include <QScreen>
#include <QStandardItemModel>
#include <QTemporaryDir>
#include <memory>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "desktop_app.h"
#include "desktop_test_support.h"
#include "efficientnet/ui/gallery_panel.h"
#include "efficientnet/ui/image_view.h"
#include "efficientnet/ui/main_window.h"
#include "efficientnet/ui/natural_order.h"
#include "test_support.h"

using namespace efficientnet::desktop;
using namespace efficientnet::desktop::test;
using efficientnet::ui::GalleryPanel;

namespace {

constexpr double kVideoFps = 30.0;
constexpr int kVideoFrames = 150;               // 5 s at 30 fps
const cv::Size kVideoSize(640, 480);
constexpr double kMinDisplayShare = 0.95;       // of the source's rate, over a few seconds
constexpr int kShutdownLimitMs = 500;

bool writeVideo(const std::string& path)
{
    cv::VideoWriter writer(path, cv::CAP_OPENCV_MJPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), kVideoFps, kVideoSize);
    if (!writer.isOpened())
        return false;
    for (int i = 0; i < kVideoFrames; ++i) {
        cv::Mat frame(kVideoSize, CV_8UC3, cv::Scalar(40 + i % 200, 90, 200 - i % 200));
        cv::rectangle(frame, cv::Rect(i * 3 % 560, 100 + i % 80, 80, 80), cv::Scalar(20, 220, 240), cv::FILLED);
        writer.write(frame);
    }
    return true;
}

bool itemEnabled(QComboBox* box, const QString& data)
{
    auto* model = qobject_cast<QStandardItemModel*>(box->model());
    return model && model->item(box->findData(data))->isEnabled();
}

} // namespace

class TestWindowBehaviour : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_video;

    AppOptions options(const QString& weights = ref("e2e_b0.pth")) const
    {
        AppOptions o;
        o.model = "efficientnet_b0";
        o.weights = weights;
        o.device = "cpu";
        o.settingsFile = m_dir.filePath(QString("settings-%1.ini").arg(QTest::currentTestFunction()));
        return o;
    }

    // A folder whose files sort differently by characters and by numbers: 1, 2, 10 (natural) vs 1, 10, 2.
    QString numberedFolder()
    {
        const QString folder = m_dir.filePath("numbered");
        QDir().mkpath(folder);
        const QStringList photos{sample("cat.jpg"), sample("rocket.jpg"), sample("coffee.jpg")};
        const QStringList names{"1_cat.jpg", "10_rocket.jpg", "2_coffee.jpg"};
        for (int i = 0; i < names.size(); ++i)
            QFile::copy(photos[i], folder + "/" + names[i]);
        return folder;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_video = m_dir.filePath("moving.avi");
        QVERIFY(writeVideo(m_video.toStdString()));
    }

    void modelChangeClassifiesWhatIsShownAgainAndMarksItMeanwhile()
    {
        auto app = startedApp(options());
        QVERIFY(app);
        QSignalSpy shown(app.get(), &DesktopApp::fileShown);
        app->openFiles({sample("cat.jpg")});
        QVERIFY(shown.wait(kClassifyTimeoutMs));
        const QString before = app->window()->predictionsPanel()->labelText(0);
        QCOMPARE(app->window()->predictionsPanel()->staleText(), QString());
        // Other weights: the answer on screen is now the old model's, and says so until the new one arrives.
        QSignalSpy loaded(app->inference(), &InferenceController::modelLoaded);
        shown.clear();
        app->loadWeights(ref("efficientnet_b0.pth"));
        QVERIFY(loaded.wait(kLoadTimeoutMs));
        QVERIFY2(app->window()->predictionsPanel()->staleText().contains("classifying again"),
                 qPrintable(app->window()->predictionsPanel()->staleText()));
        QVERIFY(shown.wait(kClassifyTimeoutMs));
        QCOMPARE(shown.at(0).at(0).toString(), sample("cat.jpg"));
        QCOMPARE(app->window()->predictionsPanel()->staleText(), QString());
        QVERIFY(app->window()->predictionsPanel()->labelText(0) != before);   // other weights, another answer
    }

    void galleryIsMarkedStaleAndClassifiedAgainOnRequest()
    {
        auto app = startedApp(options());
        QVERIFY(app);
        QSignalSpy finished(app->inference(), &InferenceController::jobFinished);
        app->openFiles({numberedFolder()});
        QVERIFY(finished.wait(kClassifyTimeoutMs));
        GalleryPanel* gallery = app->window()->galleryPanel();
        QVERIFY(!gallery->isStale());
        QSignalSpy loaded(app->inference(), &InferenceController::modelLoaded);
        app->loadWeights(ref("efficientnet_b0.pth"));
        QVERIFY(loaded.wait(kLoadTimeoutMs));
        QVERIFY(gallery->isStale());
        auto* again = gallery->findChild<QPushButton*>("galleryReclassify");
        QVERIFY(again && again->isVisibleTo(gallery));
        // The model change also classifies the shown image again, as a job of its own that may finish after the
        // click: only the job that carries the gallery's three files is waited for (CI under load caught the
        // other one's jobFinished and read the gallery before its run had started).
        QSignalSpy started(app->inference(), &InferenceController::jobStarted);
        finished.clear();
        again->click();
        const auto galleryJob = [&started] {
            for (const QList<QVariant>& args : started)
                if (args.at(1).toStringList().size() == 3)
                    return args.at(0).value<quint64>();
            return quint64{0};
        };
        const auto galleryJobFinished = [&] {
            const quint64 job = galleryJob();
            for (const QList<QVariant>& args : finished)
                if (job != 0 && args.at(0).value<quint64>() == job)
                    return true;
            return false;
        };
        QTRY_VERIFY_WITH_TIMEOUT(galleryJobFinished(), kClassifyTimeoutMs);
        QVERIFY(!gallery->isRunning());
        QVERIFY(!gallery->isStale());
        QCOMPARE(gallery->count(), 3);
    }

    void naturalOrderComparesNumbersAsNumbers()
    {
        using efficientnet::ui::naturalCompare;
        QVERIFY(naturalCompare("2_b.jpg", "10_a.jpg") < 0);
        QVERIFY(naturalCompare("img9.png", "img10.png") < 0);
        QVERIFY(naturalCompare("IMG_0010.JPG", "img_9.jpg") > 0);
        QVERIFY(naturalCompare("a.jpg", "B.jpg") < 0);
        QVERIFY(naturalCompare("photo007", "photo7") > 0 && naturalCompare("photo7", "photo007") < 0);
        QVERIFY(naturalCompare("x123456789012345678901234567890", "x99") > 0);   // longer than any integer
        QCOMPARE(naturalCompare("same", "same"), 0);
    }

    void errorsClearWhenTheirCauseIsSuperseded()
    {
        auto app = startedApp(options());
        QVERIFY(app);
        // An empty clipboard, then an image on it.
        QApplication::clipboard()->clear();
        auto* paste = app->window()->findChild<QAction*>("pasteAction");
        paste->trigger();
        QVERIFY(app->window()->errorText().contains("clipboard"));
        QApplication::clipboard()->setImage(QImage(sample("cat.jpg")));
        QSignalSpy shown(app.get(), &DesktopApp::fileShown);
        paste->trigger();
        QCOMPARE(app->window()->errorText(), QString());
        QVERIFY(shown.wait(kClassifyTimeoutMs));
        // A failed load's error goes when a model loads.
        QSignalSpy failed(app->inference(), &InferenceController::modelLoadFailed);
        app->loadWeights(ref("not_a_checkpoint.pth"));
        QVERIFY(failed.wait(kLoadTimeoutMs));
        QVERIFY(app->window()->errorText().contains("not_a_checkpoint.pth"));
        QVERIFY2(app->window()->errorText().endsWith("Still using efficientnet_b0."), qPrintable(app->window()->errorText()));
        QSignalSpy loaded(app->inference(), &InferenceController::modelLoaded);
        app->loadWeights(ref("e2e_b0.pth"));
        QVERIFY(loaded.wait(kLoadTimeoutMs));
        QCOMPARE(app->window()->errorText(), QString());
        // A pasted image is classified again after a model change too.
        QVERIFY(app->window()->predictionsPanel()->staleText().contains("classifying again") || shown.count() >= 2);
    }

    void onlyChoicesThatCanWorkAreOffered()
    {
        auto app = startedApp(options());
        QVERIFY(app);
        auto* device = app->window()->findChild<QComboBox*>("deviceChoice");
        auto* precision = app->window()->findChild<QComboBox*>("precisionChoice");
        const bool gpu = efficientnet::runtimeInfo().gpu != "none";
        QCOMPARE(itemEnabled(device, "cuda"), gpu);
        if (!gpu) {
            auto* model = qobject_cast<QStandardItemModel*>(device->model());
            QVERIFY(model->item(device->findData("cuda"))->toolTip().contains("CUDA GPU"));
        }
        // On the CPU: fp32 only (and Auto); fp16 and bf16 are there, disabled, saying why.
        QCOMPARE(device->currentData().toString(), QString("cpu"));
        QVERIFY(itemEnabled(precision, "fp32") && itemEnabled(precision, "auto"));
        QVERIFY(!itemEnabled(precision, "fp16") && !itemEnabled(precision, "bf16"));
        auto* model = qobject_cast<QStandardItemModel*>(precision->model());
        QVERIFY(model->item(precision->findData("fp16"))->toolTip().contains("need a CUDA GPU"));
        // A message about a failed choice speaks the window's language, not the command line's.
        QCOMPARE(windowMessage("--device cuda: no CUDA device is available (no GPU); use --device cpu or auto"),
                 QString("--device cuda: no CUDA device is available (no GPU); choose CPU or Auto in the Device box."));
    }

    void galleryIsInNaturalOrderWithRowsAsTallAsTheirThumbnails()
    {
        auto app = startedApp(options());
        QVERIFY(app);
        GalleryPanel* gallery = app->window()->galleryPanel();
        QVERIFY(!app->window()->galleryShown());   // an empty gallery takes no room
        QSignalSpy started(app->inference(), &InferenceController::jobStarted);
        QSignalSpy finished(app->inference(), &InferenceController::jobFinished);
        app->openFiles({numberedFolder()});
        QVERIFY(started.wait(kClassifyTimeoutMs));
        // While "waiting…": already full height, not one text line.
        for (int i = 0; i < gallery->count(); ++i)
            QVERIFY2(gallery->entrySize(i).height() >= 64, qPrintable(QString::number(gallery->entrySize(i).height())));
        QVERIFY(finished.wait(kClassifyTimeoutMs));
        QVERIFY(app->window()->galleryShown());
        QVERIFY(gallery->entryText(0).startsWith("1_cat.jpg"));
        QVERIFY(gallery->entryText(1).startsWith("2_coffee.jpg"));
        QVERIFY(gallery->entryText(2).startsWith("10_rocket.jpg"));
        for (int i = 0; i < gallery->count(); ++i) {
            // Landscape and portrait thumbnails alike: full height, and the row spans the list.
            QVERIFY2(gallery->entrySize(i).height() >= 64, qPrintable(QString::number(gallery->entrySize(i).height())));
            QVERIFY2(gallery->entrySize(i).width() >= 200, qPrintable(QString::number(gallery->entrySize(i).width())));
        }
        QVERIFY(app->window()->busyText().isEmpty());   // progress once, in the gallery
        // Sorted by confidence, highest first; filtered by class; copied as text; exported as JSON.
        gallery->sortBy(GalleryPanel::SortKey::Confidence);
        const auto& results = app->fileResults();
        const QVector<int> order = gallery->shownOrder();
        QCOMPARE(order.size(), 3);
        for (int k = 1; k < order.size(); ++k)
            QVERIFY(results[order[k - 1]].predictions.front().probability >= results[order[k]].predictions.front().probability);
        const QString firstClass = QString::fromStdString(results[0].predictions.front().label);
        gallery->setFilter(firstClass);
        QVERIFY(gallery->shownOrder().contains(0));
        gallery->setFilter("no class has this name");
        QVERIFY(gallery->shownOrder().isEmpty());
        gallery->setFilter({});
        gallery->sortBy(GalleryPanel::SortKey::Name);
        const QStringList lines = gallery->copyText().split('\n');
        QCOMPARE(lines.size(), 3);
        QVERIFY(lines[0].startsWith("1_cat.jpg\t") && lines[0].contains(" %"));
        const QString json = m_dir.filePath("gallery.json");
        QString error;
        QVERIFY2(app->exportCsv(json, &error), qPrintable(error));
        QFile file(json);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const auto doc = QJsonDocument::fromJson(file.readAll()).object();
        QCOMPARE(doc["results"].toArray().size(), 3);
        QVERIFY(doc["results"].toArray()[0].toObject()["predictions"].toArray().size() >= 1);
        // Grid view: tiles hold the bigger thumbnail and two lines under it.
        gallery->setGrid(true);
        QVERIFY(gallery->entrySize(0).height() > 112);
    }

    void escapeCancelsAFolderRun()
    {
        // Twenty copies keep the run going long enough to cancel it.
        const QString folder = m_dir.filePath("many");
        QDir().mkpath(folder);
        for (int i = 0; i < 20; ++i)
            QFile::copy(sample("cat.jpg"), folder + QString("/%1.jpg").arg(i));
        auto app = startedApp(options());
        QVERIFY(app);
        QSignalSpy started(app->inference(), &InferenceController::jobStarted);
        QSignalSpy classified(app->inference(), &InferenceController::fileClassified);
        app->openFiles({folder});
        QVERIFY(classified.wait(kClassifyTimeoutMs));
        QVERIFY(app->window()->galleryPanel()->isRunning());
        QTest::keyClick(app->window(), Qt::Key_Escape);
        QVERIFY(!app->window()->galleryPanel()->isRunning());
        QVERIFY(app->window()->galleryPanel()->summaryText().startsWith("Cancelled after"));
    }

    void viewerZoomsStepsAndNamesTheFile()
    {
        auto app = startedApp(options());
        QVERIFY(app);
        QSignalSpy finished(app->inference(), &InferenceController::jobFinished);
        app->openFiles({numberedFolder()});
        QVERIFY(finished.wait(kClassifyTimeoutMs));
        QVERIFY(app->window()->imageView()->hasFocus() || app->window()->focusWidget() != nullptr);
        auto* view = app->window()->imageView();
        QVERIFY(view->fitsWindow());
        view->zoomActualSize();
        QCOMPARE(view->zoom(), 1.0);
        view->zoomBy(2.0);
        QCOMPARE(view->zoom(), 2.0);
        view->zoomToFit();
        QVERIFY(view->fitsWindow());
        // Previous / next walk the gallery in its order, and the title names the file.
        QSignalSpy shown(app.get(), &DesktopApp::fileShown);
        app->window()->galleryPanel()->selectEntry(0);
        QTRY_VERIFY(app->window()->windowTitle().startsWith("1_cat.jpg"));
        QTest::keyClick(app->window(), Qt::Key_Right);
        QTRY_VERIFY(app->window()->windowTitle().startsWith("2_coffee.jpg"));
        QTest::keyClick(app->window(), Qt::Key_Right);
        QTRY_VERIFY(app->window()->windowTitle().startsWith("10_rocket.jpg"));
        QTest::keyClick(app->window(), Qt::Key_Left);
        QTRY_VERIFY(app->window()->windowTitle().startsWith("2_coffee.jpg"));
        // F11 enters full screen on every platform; Escape leaves it.
        QTest::keyClick(app->window(), Qt::Key_F11);
        QTRY_VERIFY(app->window()->windowState().testFlag(Qt::WindowFullScreen));
        QTest::keyClick(app->window(), Qt::Key_Escape);
        QTRY_VERIFY(!app->window()->windowState().testFlag(Qt::WindowFullScreen));
    }

    void firstWindowFitsItsScreenAndSmallWindowsKeepTheirChoices()
    {
        auto app = startedApp(options());
        QVERIFY(app);
        const QSize available = app->window()->screen()->availableSize();
        QVERIFY2(app->window()->width() <= available.width() && app->window()->height() <= available.height(),
                 qPrintable(QString("%1x%2 on %3x%4").arg(app->window()->width()).arg(app->window()->height())
                                .arg(available.width()).arg(available.height())));
        app->window()->resize(800, 600);
        QTest::qWait(50);
        for (const char* name : {"modelChoice", "deviceChoice", "precisionChoice", "cameraSource"})
            QVERIFY2(app->window()->findChild<QWidget*>(name)->isVisible(), name);   // not behind »
    }

    void liveVideoIsDisplayedAtItsRateWithThePredictionOverIt()
    {
        auto app = startedApp(options());
        QVERIFY(app);
        QSignalSpy displayed(app.get(), &DesktopApp::frameDisplayed);
        QSignalSpy shown(app.get(), &DesktopApp::frameShown);
        app->startCamera(m_video);
        QVERIFY(!app->window()->galleryShown());   // the video takes the window
        QVERIFY(displayed.wait(kLoadTimeoutMs));
        QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0, kClassifyTimeoutMs);
        // Three seconds of a 30 fps file: every frame displayed, whatever the model's rate.
        const int before = displayed.count();
        QElapsedTimer timer;
        timer.start();
        QTest::qWait(3000);
        const double fps = (displayed.count() - before) / (timer.elapsed() / 1000.0);
        qInfo("display rate %.1f fps from a %.0f fps video; %d classified frames shown; model rate %.1f fps", fps,
              kVideoFps, int(shown.count()), app->live()->classifiedRate());
        QVERIFY2(fps >= kVideoFps * kMinDisplayShare, qPrintable(QString::number(fps)));
        // The newest prediction is drawn over the frame, with the rates.
        const QStringList overlay = app->window()->imageView()->overlay();
        QVERIFY2(overlay.size() >= 2 && overlay[0].contains(" %") && overlay.last().contains("fps"),
                 qPrintable(overlay.join(" | ")));
        QVERIFY(app->window()->statusText().contains("display"));
        // Pause: no frame is displayed until Step or resume.
        app->window()->findChild<QAction*>("pauseAction")->trigger();
        QTest::qWait(200);
        const int paused = displayed.count();
        QTest::qWait(400);
        QCOMPARE(displayed.count(), paused);
        QVERIFY(app->window()->imageView()->overlay().contains("paused"));
        app->window()->findChild<QAction*>("stepAction")->trigger();
        QTRY_COMPARE(displayed.count(), paused + 1);
        // A snapshot is the annotated frame.
        const QString snapshot = m_dir.filePath("snapshot.png");
        QString error;
        QVERIFY2(app->live()->snapshot(snapshot, &error), qPrintable(error));
        QCOMPARE(QImage(snapshot).size(), QSize(kVideoSize.width, kVideoSize.height));
        app->window()->findChild<QAction*>("pauseAction")->trigger();   // resume
        // The end of the video is a state: the last frame stays, the overlay says it ended, Camera is off.
        QSignalSpy stopped(app.get(), &DesktopApp::liveStopped);
        QVERIFY(stopped.wait(kLoadTimeoutMs));
        QCOMPARE(stopped.at(0).at(1).toBool(), false);
        QVERIFY(app->window()->imageView()->overlay().contains("End of video"));
        QVERIFY(!app->window()->findChild<QAction*>("cameraAction")->isChecked());
        QVERIFY(!app->window()->imageView()->image().isNull());
    }

    void loopToggleAppliesToTheRunningVideo()
    {
        auto app = startedApp(options());
        QVERIFY(app);
        app->window()->setLoop(true);
        app->live()->setLoop(true);
        QSignalSpy displayed(app.get(), &DesktopApp::frameDisplayed);
        QSignalSpy stopped(app.get(), &DesktopApp::liveStopped);
        app->startCamera(m_video);
        QTRY_VERIFY_WITH_TIMEOUT(displayed.count() > kVideoFrames + 10, 30000);   // past the end: it looped
        QCOMPARE(stopped.count(), 0);
        app->stopCamera();
        QVERIFY(stopped.wait(kLoadTimeoutMs));
    }

    void shutdownDoesNotLinger()
    {
        auto app = startedApp(options());
        QVERIFY(app);
        QSignalSpy displayed(app.get(), &DesktopApp::frameDisplayed);
        app->startCamera(m_video);
        QVERIFY(displayed.wait(kLoadTimeoutMs));
        app->openFiles({numberedFolder()});
        QElapsedTimer timer;
        timer.start();
        const bool clean = app->shutdown(400);
        const qint64 took = timer.elapsed();
        qInfo("shutdown during live mode and a folder run: %lld ms (%s)", took, clean ? "clean" : "left busy threads");
        QVERIFY2(took < kShutdownLimitMs, qPrintable(QString::number(took)));
    }

    // The process as a user runs it, not only the app object: from the window's last act (--screenshot writes the
    // window, as a BMP so that encoding takes no time, and quits as closing it does) to the process gone, with one image, with a folder still being
    // classified, and live on a video file.
    void processExitsPromptlyAfterTheWindowCloses()
    {
        const QString folder = m_dir.filePath("exit-folder");
        QDir().mkpath(folder);
        for (int i = 0; i < 40; ++i)
            QVERIFY(QFile::copy(sample(i % 2 ? "cat.jpg" : "rocket.jpg"), folder + QString("/%1.jpg").arg(i)));
        const QList<QPair<QString, QStringList>> modes{{"one image", {sample("cat.jpg")}},
                                                        {"folder run", {folder}},
                                                        {"live video", {"--camera", m_video, "--loop"}}};
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("QT_QPA_PLATFORM", "offscreen");
        for (const auto& [mode, extra] : modes) {
            const QString picture = m_dir.filePath(QString("exit-%1.bmp").arg(mode).replace(' ', '-'));
            QProcess demo;
            demo.setProcessEnvironment(env);
            demo.setProcessChannelMode(QProcess::ForwardedErrorChannel);
            demo.start(EFFICIENTNET_DEMO, QStringList{"--model", "efficientnet_b0", "--weights", ref("e2e_b0.pth"),
                                                      "--device", "cpu", "--settings", m_dir.filePath("exit.ini"),
                                                      "--screenshot", picture} + extra);
            QVERIFY2(demo.waitForStarted(), qPrintable(demo.errorString()));
            QElapsedTimer sinceStart;
            sinceStart.start();
            while (!QFile::exists(picture) && demo.state() != QProcess::NotRunning &&
                   sinceStart.elapsed() < kClassifyTimeoutMs)
                demo.waitForFinished(2);
            QVERIFY2(QFile::exists(picture), qPrintable(mode + ": no screenshot, so the window never closed"));
            QElapsedTimer sinceClose;
            sinceClose.start();
            QVERIFY(demo.state() == QProcess::NotRunning || demo.waitForFinished(10000));
            const qint64 took = sinceClose.elapsed();
            qInfo("%s: the process exited %lld ms after the window closed", qPrintable(mode), took);
            QCOMPARE(demo.exitStatus(), QProcess::NormalExit);
            QCOMPARE(demo.exitCode(), 0);
            QVERIFY2(took <= kShutdownLimitMs, qPrintable(mode + ": " + QString::number(took) + " ms"));
        }
    }

    // --screenshot where the first outcome is an error: the window with the error is saved at once and the status is 1
    // (it waited for results until its 120 s timeout, and wrote nothing).
    void screenshotOfAnErrorIsTakenAtOnce_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("said");
        QTest::newRow("checkpoint that cannot load") << QStringList{"--weights", ref("not_a_checkpoint.pth"), sample("cat.jpg")}
                                                     << "not_a_checkpoint.pth";
        QTest::newRow("video that does not exist") << QStringList{"--weights", ref("e2e_b0.pth"), "--camera",
                                                                  m_dir.filePath("no_such_video.avi")}
                                                   << "does not exist";
        QTest::newRow("unreadable image") << QStringList{"--weights", ref("e2e_b0.pth"), ref("images/not_an_image.jpg")}
                                          << "no image could be classified";
    }
    void screenshotOfAnErrorIsTakenAtOnce()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, said);
        const QString picture = m_dir.filePath(QString("error-%1.bmp").arg(QTest::currentDataTag()).replace(' ', '-'));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("QT_QPA_PLATFORM", "offscreen");
        QProcess demo;
        demo.setProcessEnvironment(env);
        demo.start(EFFICIENTNET_DEMO, QStringList{"--model", "efficientnet_b0", "--device", "cpu", "--settings",
                                                  m_dir.filePath("error-shot.ini"), "--screenshot", picture} + arguments);
        QVERIFY2(demo.waitForStarted(), qPrintable(demo.errorString()));
        QVERIFY2(demo.waitForFinished(kClassifyTimeoutMs), "still running: waiting for results that cannot come");
        const QString err = QString::fromUtf8(demo.readAllStandardError());
        QCOMPARE(demo.exitStatus(), QProcess::NormalExit);
        QCOMPARE(demo.exitCode(), 1);
        QVERIFY2(err.contains(said), qPrintable(err));
        QVERIFY(QFile::exists(picture));
        QVERIFY(!QImage(picture).isNull());
    }

    // --help and --version answer where there is no display (a server, ssh, a script), for the app and for every
    // console subcommand.
    void helpAndVersionNeedNoDisplay()
    {
        QProcessEnvironment bare = QProcessEnvironment::systemEnvironment();
        for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
            bare.remove(name);
        for (const QString& option : {QString("--help"), QString("--version")}) {
            QProcess demo;
            demo.setProcessEnvironment(bare);
            demo.start(EFFICIENTNET_DEMO, {option});
            QVERIFY(demo.waitForFinished(30000));
            const QByteArray out = demo.readAllStandardOutput();
            QVERIFY2(demo.exitStatus() == QProcess::NormalExit && demo.exitCode() == 0,
                     qPrintable(option + ": " + demo.readAllStandardError()));
            QVERIFY(out.contains(option == "--help" ? "--camera" : EFFICIENTNET_VERSION));
        }
        for (const QString& command : {"models", "classify", "inspect", "weights", "convert", "download"})
            for (const QString& option : {QString("--help"), QString("-h"), QString("--version")}) {
                const auto run = efficientnet::test::runCli({command, option}, bare);
                QVERIFY2(run.exitCode == 0, qPrintable(command + " " + option + ": " + run.err));
                QVERIFY(run.out.contains(option == "--version" ? EFFICIENTNET_VERSION : "usage:"));
            }
        // "--" ends the options: a file named --help is a file, not a request for help.
        const auto file = efficientnet::test::runCli({"classify", "--random-weights", "--", "--help"}, bare);
        QCOMPARE(file.exitCode, 2);
        QVERIFY((file.out + file.err).contains("--help: no such file"));
    }
};

QTEST_MAIN(TestWindowBehaviour)
#include "test_window_behaviour.moc"
