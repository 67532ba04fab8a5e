// Teach mode in the desktop app (issue 14, point 3), driven with images as a person would, without a camera:
// classes are named, examples are dropped onto them, training runs on the inference thread with progress, and the
// taught model is what classifies a dropped image next; Save model… writes a checkpoint that File > Open weights and
// the console tool read with its labels. Cancel and every way training cannot work keep the model that was there and
// say why. The base is a random-weight B0 trained at a 64-pixel side, so that a CPU trains in seconds
// (tests/core/test_training.cpp measures what such a head learns).
#include <QtTest/QtTest>

#include <QAction>
#include <QDir>
#include <QDropEvent>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QLockFile>
#include <QMimeData>
#include <QPushButton>
#include <QScreen>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <memory>
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "desktop_app.h"
#include "desktop_test_support.h"
#include "efficientnet/ui/gallery_panel.h"
#include "efficientnet/ui/main_window.h"
#include "efficientnet/ui/predictions_panel.h"
#include "efficientnet/ui/teach_panel.h"
#include "efficientnet/ui/training_plot.h"
#include "model_session.h"
#include "teach_controller.h"
#include "test_support.h"

using namespace efficientnet::desktop;
using namespace efficientnet::desktop::test;
using efficientnet::test::runCli;
using efficientnet::ui::TeachPanel;

namespace {

constexpr int kSide = 64;               // the images, and the side training resizes them to
constexpr int kPerClass = 16;
constexpr int kHeldOut = 3;             // per class, never taught: what the tests drop afterwards
constexpr int kEpochs = 25;
constexpr int kManyEpochs = 400;        // a run that is still going when the test cancels it
constexpr int kTrainTimeoutMs = 240000;
constexpr int kNarrowWindowWidth = 1024;  // a small laptop screen's width
const QStringList kClasses{"circle", "square", "triangle"};

// A filled shape of a class colour (jittered size, place and colour) on grey noise.
cv::Mat drawShape(int cls, std::mt19937& random)
{
    std::uniform_int_distribution<int> level(110, 140), jitter(-30, 30), size(kSide * 4 / 10, kSide * 6 / 10);
    cv::Mat image(kSide, kSide, CV_8UC3, cv::Scalar::all(level(random)));
    cv::Mat noise(image.size(), CV_8UC3);
    cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(12));
    image += noise;
    const int s = size(random);
    std::uniform_int_distribution<int> position(0, kSide - s);
    const cv::Point corner(position(random), position(random));
    static const int bgr[3][3] = {{40, 40, 220}, {60, 200, 40}, {230, 70, 50}};
    const auto channel = [&](int v) { return std::clamp(v + jitter(random), 0, 255); };
    const cv::Scalar colour(channel(bgr[cls][0]), channel(bgr[cls][1]), channel(bgr[cls][2]));
    if (cls == 0) {
        cv::circle(image, corner + cv::Point(s / 2, s / 2), s / 2, colour, cv::FILLED);
    } else if (cls == 1) {
        cv::rectangle(image, cv::Rect(corner.x, corner.y, s, s), colour, cv::FILLED);
    } else {
        const std::vector<cv::Point> triangle{corner + cv::Point(s / 2, 0), corner + cv::Point(0, s - 1),
                                              corner + cv::Point(s - 1, s - 1)};
        cv::fillConvexPoly(image, triangle, colour);
    }
    return image;
}

// A looping source for live mode: a red disc moving over grey.
bool writeVideo(const std::string& path)
{
    constexpr double kFps = 30.0;
    constexpr int kFrames = 60;
    const cv::Size size(160, 120);
    cv::VideoWriter writer(path, cv::CAP_OPENCV_MJPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), kFps, size);
    if (!writer.isOpened())
        return false;
    for (int i = 0; i < kFrames; ++i) {
        cv::Mat frame(size, CV_8UC3, cv::Scalar::all(128));
        cv::circle(frame, cv::Point(30 + i, 60), 25, cv::Scalar(40, 40, 220), cv::FILLED);
        writer.write(frame);
    }
    return true;
}

// Empty when the status bar's temporary message shows whole, else where it is cut off: QStatusBar draws it from x = 6
// and stops 2 px before the first visible permanent widget (QStatusBarPrivate::messageRect).
QString cutOff(const QStatusBar* bar, const QString& message)
{
    const int end = 6 + bar->fontMetrics().horizontalAdvance(message);
    for (const QWidget* widget : bar->findChildren<QWidget*>(Qt::FindDirectChildrenOnly))
        if (widget->isVisible() && widget->objectName() != "busyText" && widget->x() - 2 < end)
            return QString("\"%1\" ends at x %2, past the %3 at x %4 (bar %5 wide)")
                .arg(message).arg(end).arg(widget->metaObject()->className()).arg(widget->x()).arg(bar->width());
    return {};
}

QAction* teachAction(efficientnet::ui::MainWindow* window)
{
    for (QAction* action : window->findChildren<QAction*>())
        if (action->shortcut() == QKeySequence(Qt::CTRL | Qt::Key_T))
            return action;
    return nullptr;
}

// What a drop of files onto a widget's viewport does.
void dropFiles(QWidget* viewport, const QPoint& at, const QStringList& paths)
{
    QMimeData mime;
    QList<QUrl> urls;
    for (const QString& p : paths)
        urls << QUrl::fromLocalFile(p);
    mime.setUrls(urls);
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(viewport, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(viewport, &drop);
    QVERIFY(drop.isAccepted());
}

} // namespace

class TestTeach : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;

    QString data(const QString& split, const QString& cls) const { return m_dir.filePath(split + "/" + cls); }
    QString heldOut(const QString& cls, int i = 0) const { return data("held", cls) + QString("/%1.png").arg(i); }

    AppOptions options() const
    {
        AppOptions o;
        o.model = "efficientnet_b0";
        o.randomWeights = true;
        o.device = "cpu";
        o.settingsFile = m_dir.filePath(QString("settings-%1.ini").arg(QTest::currentTestFunction()));
        return o;
    }

    std::unique_ptr<DesktopApp> teachingApp() const
    {
        auto app = startedApp(options());
        if (app) {
            app->teach()->setTrainingSide(kSide);
            app->teach()->setSeed(3);
        }
        return app;
    }

    // Classes named in the panel, the first class's examples dropped onto its row, the others sent as a drop on the
    // examples view would send them.
    void teachShapes(DesktopApp* app)
    {
        TeachPanel* panel = app->window()->teachPanel();
        for (const QString& c : kClasses) {
            Q_EMIT panel->classAdded(c);
            QCOMPARE(app->teach()->message().contains("added"), true);
        }
        QCOMPARE(panel->classCount(), kClasses.size());
        auto* classes = panel->findChild<QTreeWidget*>("teachClasses");
        QVERIFY(classes);
        const QRect firstRow = classes->visualItemRect(classes->topLevelItem(0));
        dropFiles(classes->viewport(), firstRow.center(), {data("train", kClasses[0])});
        QCOMPARE(app->teach()->examples(kClasses[0]).size(), kPerClass);
        for (int i = 1; i < kClasses.size(); ++i)
            Q_EMIT panel->examplesAdded(kClasses[i], {data("train", kClasses[i])});
        for (int i = 0; i < kClasses.size(); ++i)
            QCOMPARE(panel->classText(i), kClasses[i] + "\t" + QString::number(kPerClass));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        std::mt19937 random(14);
        for (int c = 0; c < kClasses.size(); ++c) {
            for (const auto& [split, count] : {std::pair<QString, int>{"train", kPerClass}, {"held", kHeldOut}}) {
                QVERIFY(QDir().mkpath(data(split, kClasses[c])));
                for (int i = 0; i < count; ++i)
                    QVERIFY(cv::imwrite((data(split, kClasses[c]) + QString("/%1.png").arg(i)).toStdString(),
                                        drawShape(c, random)));
            }
        }
        QFile corrupt(m_dir.filePath("broken.png"));
        QVERIFY(corrupt.open(QIODevice::WriteOnly));
        corrupt.write("\x89PNG\r\n\x1a\nnot really a png");
    }

    void viewTeachShowsTheDockFromTheKeyboard()
    {
        auto app = startedApp(options());
        QVERIFY(app);
        QVERIFY(!app->window()->teachShown());
        QAction* teach = teachAction(app->window());
        QVERIFY(teach);
        QVERIFY(teach->text().contains("Teach"));
        teach->trigger();
        QVERIFY(app->window()->teachShown());
        // Found by hand: beside the gallery, the dock's minimum height pushed the status bar off the screen.
        app->window()->showGallery(true);
        QTest::qWait(100);
        const QRect screen = app->window()->screen()->availableGeometry();
        QVERIFY2(app->window()->frameGeometry().height() <= screen.height(),
                 qPrintable(QString("window %1 px high on a %2 px screen").arg(app->window()->frameGeometry().height())
                                .arg(screen.height())));
        teach->trigger();
        QVERIFY(!app->window()->teachShown());
    }

    void taughtClassesClassifyADroppedImageAndSaveAsACheckpoint()
    {
        auto app = teachingApp();
        QVERIFY(app);
        app->window()->showTeach(true);
        teachShapes(app.get());
        TeachController* teach = app->teach();
        TeachPanel* panel = app->window()->teachPanel();
        QSignalSpy progress(teach, &TeachController::trainingProgress);
        QSignalSpy finished(teach, &TeachController::trainingFinished);
        QSignalSpy loaded(app->inference(), &InferenceController::modelLoaded);
        Q_EMIT panel->trainRequested(kEpochs, "head");
        QVERIFY(teach->isTraining());
        QVERIFY(panel->isTraining());
        QVERIFY2(app->window()->busyText().startsWith("Training"), qPrintable(app->window()->busyText()));
        QVERIFY(finished.wait(kTrainTimeoutMs));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(teach->message()));
        QVERIFY(!teach->messageIsError());
        QVERIFY2(teach->message().contains("circle, square, triangle"), qPrintable(teach->message()));
        QVERIFY(progress.size() >= kEpochs);
        QCOMPARE(panel->plot()->accuracyPoints(), kEpochs);
        QVERIFY(panel->plot()->lossPoints() >= kEpochs);
        QVERIFY(!panel->isTraining());
        QVERIFY(!app->window()->busyText().contains("Training"));

        // The taught checkpoint is the model in use: three classes, named by the folders.
        QVERIFY(loaded.wait(kLoadTimeoutMs));
        QCOMPARE(app->currentModel().classes, 3);
        QSignalSpy shown(app.get(), &DesktopApp::fileShown);
        int right = 0;
        for (const QString& c : kClasses) {
            shown.clear();
            app->openFiles({heldOut(c)});
            QVERIFY(shown.wait(kClassifyTimeoutMs));
            const QString label = app->window()->predictionsPanel()->labelText(0);
            QVERIFY2(kClasses.contains(label), qPrintable(label));
            right += label == c;
        }
        QVERIFY2(right >= 2, qPrintable(QString("%1 of 3 held-out shapes right").arg(right)));

        // Save model…, then File > Open weights and the console tool read it with its labels.
        const QString saved = m_dir.filePath("taught.safetensors");
        Q_EMIT panel->saveModelRequested(saved);
        QVERIFY(QFileInfo::exists(saved));
        QVERIFY(teach->message().contains("saved"));
        loaded.clear();
        app->loadWeights(saved);
        QVERIFY(loaded.wait(kLoadTimeoutMs));
        QCOMPARE(app->currentModel().classes, 3);
        QVERIFY(app->currentModel().weights.contains("taught.safetensors"));
        const auto run = runCli({"classify", "--weights", saved, heldOut("square", 1)});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.contains("circle") || run.out.contains("square") || run.out.contains("triangle"),
                 run.out.constData());
        QVERIFY2(!run.out.contains("tench"), run.out.constData());   // not ImageNet's names

        // Export examples: the ImageFolder layout, a folder per class.
        const QString exported = m_dir.filePath("exported");
        Q_EMIT panel->exportRequested(exported);
        for (const QString& c : kClasses)
            QCOMPARE(QDir(exported + "/" + c).entryList(QDir::Files).size(), kPerClass);
    }

    void cancelKeepsTheModelThatWasThere_data()
    {
        QTest::addColumn<bool>("afterAnEpoch");
        QTest::newRow("before the first epoch ends") << false;
        QTest::newRow("after an epoch") << true;
    }

    void cancelKeepsTheModelThatWasThere()
    {
        QFETCH(bool, afterAnEpoch);
        auto app = teachingApp();
        QVERIFY(app);
        teachShapes(app.get());
        TeachController* teach = app->teach();
        const QString before = app->currentModel().weights;
        QSignalSpy finished(teach, &TeachController::trainingFinished);
        TeachPanel* panel = app->window()->teachPanel();
        connect(teach, &TeachController::trainingProgress, teach, [panel, afterAnEpoch](const TeachProgress& p) {
            if (!afterAnEpoch || p.phase == TeachProgress::Phase::Evaluated)
                Q_EMIT panel->cancelRequested();   // the Cancel button
        });
        QVERIFY(teach->train(kManyEpochs, "head"));
        QVERIFY(finished.wait(kTrainTimeoutMs));
        QCOMPARE(finished.at(0).at(0).toBool(), false);   // not used
        QVERIFY2(teach->message().contains("cancelled"), qPrintable(teach->message()));
        QVERIFY2(teach->message().contains("Still using"), qPrintable(teach->message()));
        QCOMPARE(teach->trainedCheckpoint().isEmpty(), !afterAnEpoch);   // the best epoch so far, for Save model…

        // A load of the taught model would come before this image on the inference thread.
        QSignalSpy shown(app.get(), &DesktopApp::fileShown);
        app->openFiles({heldOut("circle")});
        QVERIFY(shown.wait(kClassifyTimeoutMs));
        QCOMPARE(app->currentModel().classes, 1000);
        QCOMPARE(app->currentModel().weights, before);
        QVERIFY(!kClasses.contains(app->window()->predictionsPanel()->labelText(0)));
        QVERIFY(!teach->isTraining());
    }

    void whatCannotTrainSaysWhy_data()
    {
        QTest::addColumn<QStringList>("classes");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no classes") << QStringList{} << "at least two classes";
        QTest::newRow("one class") << QStringList{"circle"} << "at least two classes: there is only 'circle'";
        QTest::newRow("a class without examples") << QStringList{"circle", "cat"} << "Class 'cat' has no examples";
    }

    void whatCannotTrainSaysWhy()
    {
        QFETCH(QStringList, classes);
        QFETCH(QString, expected);
        auto app = teachingApp();
        QVERIFY(app);
        TeachController* teach = app->teach();
        for (const QString& c : classes) {
            QVERIFY(teach->addClass(c));
            if (c == "circle")
                QCOMPARE(teach->addExamples(c, {data("train", c)}), kPerClass);
        }
        QSignalSpy started(teach, &TeachController::trainingStarted);
        QVERIFY(!teach->train(kEpochs, "head"));
        QVERIFY2(teach->message().contains(expected), qPrintable(teach->message()));
        QVERIFY(teach->messageIsError());
        QVERIFY(app->window()->errorText().contains(expected));
        QVERIFY(app->window()->teachPanel()->messageText().contains(expected));
        QCOMPARE(started.size(), 0);
        QVERIFY(!teach->isTraining());
        QCOMPARE(app->currentModel().classes, 1000);
    }

    void anUnreadableExampleIsNamedAndLeftOut()
    {
        auto app = teachingApp();
        QVERIFY(app);
        TeachController* teach = app->teach();
        QVERIFY(teach->addClass("circle"));
        const int added = teach->addExamples("circle", {heldOut("circle"), m_dir.filePath("broken.png"),
                                                        m_dir.filePath("settings-x.ini")});
        QCOMPARE(added, 1);
        QVERIFY2(teach->message().contains("broken.png"), qPrintable(teach->message()));
        QVERIFY2(teach->message().contains("1 example added"), qPrintable(teach->message()));
        QVERIFY(teach->messageIsError());
        QVERIFY(app->window()->errorText().contains("broken.png"));
        QCOMPARE(teach->examples("circle").size(), 1);
        QCOMPARE(QDir(teach->dataDir() + "/circle").entryList(QDir::Files).size(), 1);
    }

    void anUnreadableFileAtTrainingIsNamed_data()
    {
        QTest::addColumn<int>("readable");
        QTest::addColumn<bool>("used");
        QTest::addColumn<QString>("expected");
        QTest::newRow("one of two") << 1 << true << "Left out 1 unreadable example: square";
        QTest::newRow("all of the class") << 0 << false << "no readable training images for class 'square'";
    }

    void anUnreadableFileAtTrainingIsNamed()
    {
        // A file that turns unreadable after it was added (here: overwritten) is what the core reports at training.
        QFETCH(int, readable);
        QFETCH(bool, used);
        QFETCH(QString, expected);
        auto app = teachingApp();
        QVERIFY(app);
        TeachController* teach = app->teach();
        QVERIFY(teach->addClass("circle"));
        QVERIFY(teach->addClass("square"));
        QCOMPARE(teach->addExamples("circle", {data("train", "circle")}), kPerClass);
        QCOMPARE(teach->addExamples("square", {heldOut("square"), heldOut("square", 1)}), 2);
        const QStringList squares = teach->examples("square");
        for (int i = readable; i < squares.size(); ++i) {   // the last ones turn unreadable
            QVERIFY(QFile::remove(squares[i]));
            QVERIFY(QFile::copy(m_dir.filePath("broken.png"), squares[i]));
        }
        QSignalSpy finished(teach, &TeachController::trainingFinished);
        QVERIFY(teach->train(2, "head"));
        QVERIFY(finished.wait(kTrainTimeoutMs));
        QCOMPARE(finished.at(0).at(0).toBool(), used);
        QCOMPARE(teach->messageIsError(), !used);
        QVERIFY2(teach->message().contains(expected), qPrintable(teach->message()));
        if (used)
            QVERIFY2(teach->message().contains(QFileInfo(squares.back()).fileName()), qPrintable(teach->message()));
        else
            QVERIFY2(teach->message().startsWith("Training failed") && teach->message().contains("Still using"),
                     qPrintable(teach->message()));
        QVERIFY2(!teach->message().contains(teach->dataDir()), qPrintable(teach->message()));
    }

    void galleryEntriesAreTaughtAsAClass()
    {
        auto app = teachingApp();
        QVERIFY(app);
        TeachController* teach = app->teach();
        QVERIFY(teach->addClass("circle"));
        QSignalSpy finished(app->inference(), &InferenceController::jobFinished);
        app->openFiles({data("held", "circle")});
        QVERIFY(finished.wait(kClassifyTimeoutMs));
        auto* gallery = app->window()->galleryPanel();
        QCOMPARE(gallery->count(), kHeldOut);
        gallery->selectEntry(1);
        const QStringList selected = gallery->selectedPaths();
        QCOMPARE(selected, QStringList{heldOut("circle", 1)});
        Q_EMIT gallery->teachRequested(selected, "circle");   // the context menu's Teach as ▸ circle
        QCOMPARE(teach->examples("circle").size(), 1);
        QVERIFY(teach->examples("circle").front().endsWith("-1.png"));
        QCOMPARE(app->window()->teachPanel()->classText(0), QString("circle\t1"));
    }

    void captureTakesLiveFramesOnlyWhileHeld()
    {
        // Found by hand: each capture refilled the class list, which disabled the held button for a moment, and a
        // disabled button never reports its release, so capture went on after the user let go.
        const QString video = m_dir.filePath("disc.avi");
        QVERIFY(writeVideo(video.toStdString()));
        AppOptions o = options();
        o.loopVideoFiles = true;
        auto app = startedApp(o);
        QVERIFY(app);
        TeachController* teach = app->teach();
        QVERIFY(teach->addClass("disc"));
        auto* capture = app->window()->teachPanel()->findChild<QPushButton*>("teachCapture");
        QVERIFY(capture);
        QVERIFY(!capture->isEnabled());   // no live source yet
        QSignalSpy displayed(app.get(), &DesktopApp::frameDisplayed);
        app->startCamera(video);
        QVERIFY(displayed.wait(kClassifyTimeoutMs));
        QTRY_VERIFY(capture->isEnabled());
        QTest::mousePress(capture, Qt::LeftButton);
        QVERIFY(teach->isCapturing());
        QTRY_VERIFY_WITH_TIMEOUT(teach->examples("disc").size() >= 3, kClassifyTimeoutMs);
        QVERIFY(capture->isDown());
        QTest::mouseRelease(capture, Qt::LeftButton);
        QVERIFY(!teach->isCapturing());
        const auto taken = teach->examples("disc").size();
        QTest::qWait(3 * 1000 / TeachController::kCapturesPerSecond);
        QCOMPARE(teach->examples("disc").size(), taken);
        QVERIFY(QImage(teach->examples("disc").front()).size() == QSize(160, 120));   // whole frames
        app->stopCamera();
    }

    void classNamesAreCheckedRenamedAndRemoved()
    {
        auto app = teachingApp();
        QVERIFY(app);
        TeachController* teach = app->teach();
        auto* newClass = app->window()->teachPanel()->findChild<QLineEdit*>("teachNewClass");
        QVERIFY(newClass);
        QTest::keyClicks(newClass, "dog");
        QTest::keyClick(newClass, Qt::Key_Return);
        QCOMPARE(teach->classes(), QStringList{"dog"});
        QCOMPARE(newClass->text(), QString());   // ready for the next name
        QVERIFY(teach->removeClass("dog"));
        QVERIFY(teach->addClass("cat"));
        QVERIFY(!teach->addClass("Cat"));
        QVERIFY(teach->message().contains("already a class 'cat'"));
        QVERIFY(!teach->addClass("a/b"));
        QVERIFY(teach->message().contains("cannot contain"));
        QVERIFY(!teach->addClass(".."));
        QCOMPARE(teach->addExamples("cat", {heldOut("circle"), heldOut("circle", 1)}), 2);
        QVERIFY(teach->renameClass("cat", "kitten"));
        QCOMPARE(teach->classes(), QStringList{"kitten"});
        QCOMPARE(teach->examples("kitten").size(), 2);
        QVERIFY(QFileInfo::exists(teach->examples("kitten").front()));
        QVERIFY(!QFileInfo::exists(teach->dataDir() + "/cat"));
        // In place, as F2 does: the list is refilled only after the editor has closed.
        QTest::failOnWarning(QRegularExpression("closeEditor"));
        auto* list = app->window()->teachPanel()->findChild<QTreeWidget*>("teachClasses");
        QVERIFY(list);
        list->setCurrentItem(list->topLevelItem(0));
        list->editItem(list->topLevelItem(0), 0);
        auto* editor = list->viewport()->findChild<QLineEdit*>();
        QVERIFY(editor);
        editor->selectAll();
        QTest::keyClicks(editor, "tabby");
        QTest::keyClick(editor, Qt::Key_Return);
        QTRY_COMPARE(teach->classes(), QStringList{"tabby"});
        QVERIFY(teach->renameClass("tabby", "kitten"));
        const QString first = teach->examples("kitten").front();
        QCOMPARE(teach->removeExamples("kitten", {first}), 1);
        QVERIFY(!QFileInfo::exists(first));
        QCOMPARE(app->window()->teachPanel()->classText(0), QString("kitten\t1"));
        QCOMPARE(app->window()->teachPanel()->shownExamples(), 1);
        QVERIFY(teach->removeClass("kitten"));
        QVERIFY(!QFileInfo::exists(teach->dataDir() + "/kitten"));
        QCOMPARE(app->window()->teachPanel()->classCount(), 0);
    }

    void theSessionFolderIsMadeWhenNeededAndGoesAtShutdown()
    {
        // Found by hand: efficientnet-demo leaves by _Exit, so a QTemporaryDir's destructor never ran and every run
        // left a folder behind.
        auto app = teachingApp();
        QVERIFY(app);
        TeachController* teach = app->teach();
        QCOMPARE(teach->dataDir(), QString());   // Teach unused: nothing on disk
        QVERIFY(teach->addClass("circle"));
        QCOMPARE(teach->addExamples("circle", {heldOut("circle")}), 1);
        const QString folder = QFileInfo(teach->dataDir()).absolutePath();
        QVERIFY(QFileInfo::exists(teach->examples("circle").front()));
        QVERIFY(app->shutdown(kLoadTimeoutMs));
        QVERIFY(!QFileInfo::exists(folder));
    }

    void aModelChosenWhileTrainingIsRefusedSayingWhy()
    {
        // Found by hand: a model chosen during training showed "Loading…" for the whole run, then the taught model
        // loaded and the choice was gone without a word.
        auto app = teachingApp();
        QVERIFY(app);
        teachShapes(app.get());
        TeachController* teach = app->teach();
        QSignalSpy finished(teach, &TeachController::trainingFinished);
        QVERIFY(teach->train(2, "head"));
        Q_EMIT app->window()->modelChosen("efficientnet_b1");
        Q_EMIT app->window()->precisionChosen("fp32");
        QVERIFY2(app->window()->errorText().contains("Teach mode is training"), qPrintable(app->window()->errorText()));
        QVERIFY(!app->window()->busyText().contains("efficientnet_b1"));
        QVERIFY(finished.wait(kTrainTimeoutMs));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(teach->message()));
        QSignalSpy shown(app.get(), &DesktopApp::fileShown);
        app->openFiles({heldOut("circle")});   // after the taught model's load on the inference thread
        QVERIFY(shown.wait(kClassifyTimeoutMs));
        QCOMPARE(app->currentModel().model, QString("efficientnet_b0"));
        QCOMPARE(app->currentModel().classes, 3);
        QVERIFY2(!app->window()->errorText().contains("Teach mode is training"), qPrintable(app->window()->errorText()));
        Q_EMIT app->window()->modelChosen("efficientnet_b1");   // after it: taken (no weights cached: offered)
        QVERIFY(!app->window()->errorText().contains("Teach mode is training"));
    }

    // Found by using the app: after teaching, the panel said "now classifying as circle, square, triangle", and kept
    // saying it after another model was opened.
    void theTaughtModelsMessageGoesWhenAnotherModelIsUsed()
    {
        auto app = teachingApp();
        QVERIFY(app);
        teachShapes(app.get());
        TeachController* teach = app->teach();
        const auto* panelMessage = app->window()->teachPanel()->findChild<QLabel*>("teachMessage");
        QVERIFY(panelMessage);
        QSignalSpy finished(teach, &TeachController::trainingFinished);
        QSignalSpy changed(app->session(), &ModelSession::modelChanged);
        QVERIFY(teach->train(2, "head"));
        QVERIFY(finished.wait(kTrainTimeoutMs));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(teach->message()));
        // The taught model's own load keeps the message: it is what classifies.
        QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 1, kLoadTimeoutMs);
        QCOMPARE(app->currentModel().classes, 3);
        const QString taught = "now classifying as circle, square, triangle";
        QVERIFY2(teach->message().contains(taught), qPrintable(teach->message()));
        QVERIFY2(panelMessage->text().contains(taught), qPrintable(panelMessage->text()));
        // Taught on the test's random weights: the taught file is no random one, but the banner still says its
        // features are noise (found by hand: it went with the training).
        const QString randomBase = "Taught on top of RANDOM weights";
        QVERIFY2(app->window()->warningText().contains(randomBase), qPrintable(app->window()->warningText()));
        // Another device or precision reloads the same file: still so (here the one device, CPU, reloaded).
        app->choosePrecision("fp32");
        QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 2, kLoadTimeoutMs);
        QCOMPARE(app->currentModel().classes, 3);
        QVERIFY2(app->window()->warningText().contains(randomBase), qPrintable(app->window()->warningText()));

        // File > Open weights: ImageNet's B0 classifies now, and the panel says so; the banner goes with the model.
        app->loadWeights(ref("e2e_b0.pth"));
        QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 3, kLoadTimeoutMs);
        QCOMPARE(app->currentModel().classes, 1000);
        QVERIFY2(app->window()->warningText().isEmpty(), qPrintable(app->window()->warningText()));
        for (const QString& text : {teach->message(), panelMessage->text()}) {
            QVERIFY2(!text.contains("now classifying as"), qPrintable(text));
            QVERIFY2(text.contains("no longer in use") && text.contains(app->currentModel().name), qPrintable(text));
        }
        QVERIFY(!teach->messageIsError());
        // The status bar says what was loaded, not Teach's words.
        QVERIFY2(app->window()->statusBar()->currentMessage().startsWith("Loaded"),
                 qPrintable(app->window()->statusBar()->currentMessage()));
    }

    // Found by hand: pressing Train left the keyboard focus in the toolbar's camera box (the pressed button is disabled
    // and Qt moved the focus on), and the epoch line wrapped only with a validation accuracy, moving the plot each epoch.
    void trainingKeepsTheFocusAndTheLayoutInThePanel()
    {
        auto app = teachingApp();
        QVERIFY(app);
        app->window()->showTeach(true);
        app->window()->show();
        app->window()->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(app->window()));
        teachShapes(app.get());
        TeachPanel* panel = app->window()->teachPanel();
        panel->setEpochs(2);
        auto* train = panel->findChild<QPushButton*>("teachTrain");
        QVERIFY(train && train->isEnabled());
        train->setFocus();
        QVERIFY(train->hasFocus());
        QSignalSpy finished(app->teach(), &TeachController::trainingFinished);
        QTest::keyClick(train, Qt::Key_Space);   // pressed from the keyboard, as a user tabbing to it does
        QVERIFY(app->teach()->isTraining());
        const QWidget* focused = QApplication::focusWidget();
        QVERIFY2(focused && focused->objectName() == "teachCancel",
                 qPrintable(focused ? focused->objectName() + " (" + focused->metaObject()->className() + ")" : "nothing"));
        QVERIFY(finished.wait(kTrainTimeoutMs));
        QCOMPARE(QApplication::focusWidget(), static_cast<QWidget*>(train));   // back on Train when Cancel goes

        auto* line = panel->findChild<QLabel*>("teachProgressText");
        QVERIFY(line);
        panel->setProgress("Epoch 3 of 10: loss 0.412", 3, 10);
        QCoreApplication::processEvents();
        const int height = line->height();
        panel->setProgress("Epoch 3 of 10: loss 0.412, validation accuracy 50%", 3, 10);
        QCoreApplication::processEvents();
        QCOMPARE(line->height(), height);
    }

    // Found by hand: with the Teach panel open the predictions were squeezed until the label and the percentage took
    // all their width, and every bar was the same 4-pixel stub (58.9 % looked like 1.1 %). The bars keep their room.
    void predictionBarsKeepTheirRoomBesideTheTeachPanel()
    {
        auto app = teachingApp();
        QVERIFY(app);
        app->window()->resize(1100, 720);   // the window the bars collapsed in (1,100 px wide)
        app->window()->showTeach(true);
        QSignalSpy shown(app.get(), &DesktopApp::fileShown);
        app->openFiles({sample("cat.jpg")});
        QVERIFY(shown.wait(kClassifyTimeoutMs));
        QCoreApplication::processEvents();   // the layout at this size
        const auto* panel = app->window()->predictionsPanel();
        QVERIFY(panel->visibleRows() >= 2);
        const int top = panel->barPixels(0), second = panel->barPixels(1);
        QVERIFY2(top >= 50, qPrintable(QString("the top-1's bar is %1 px at a panel width of %2").arg(top).arg(panel->width())));
        // The others in proportion to it, to the pixel.
        QVERIFY2(qAbs(second - qMax(4, top * panel->barPermille(1) / 1000)) <= 1,
                 qPrintable(QString("bars %1 and %2 px, permille %3").arg(top).arg(second).arg(panel->barPermille(1))));
    }

    // Found by hand: at training start the status bar ran two messages together: "Training from efficientnet_b0 on 3
    // classes…", cut off where the busy text "Training: live frames are not classified until it ends" began.
    void trainingShowsOneStatusMessageAtATime()
    {
        auto app = teachingApp();
        QVERIFY(app);
        app->window()->resize(1200, 800);   // a laptop screen's width
        teachShapes(app.get());
        TeachController* teach = app->teach();
        QStatusBar* bar = app->window()->statusBar();
        // The status bar's words about training: its temporary message and the labels it shows.
        const auto aboutTraining = [bar] {
            QStringList texts{bar->currentMessage()};
            for (const QLabel* label : bar->findChildren<QLabel*>())
                if (label->isVisible())
                    texts << label->text();
            return texts.filter("train", Qt::CaseInsensitive);
        };
        QSignalSpy finished(teach, &TeachController::trainingFinished);
        QVERIFY(teach->train(2, "head"));
        QStringList shown = aboutTraining();
        QVERIFY2(shown.size() == 1 && shown[0].startsWith("Training from"), qPrintable(shown.join(" | ")));
        // Whole: QStatusBar draws its message from x = 6, and no widget the bar shows starts before its end.
        const int messageEnd = 6 + bar->fontMetrics().horizontalAdvance(bar->currentMessage());
        for (const QWidget* widget : bar->findChildren<QWidget*>(Qt::FindDirectChildrenOnly))
            QVERIFY2(!widget->isVisible() || widget->x() > messageEnd,
                     qPrintable(QString("%1 at x %2, the message ends at %3").arg(widget->metaObject()->className())
                                    .arg(widget->x()).arg(messageEnd)));
        // When the message goes (after its seconds), what is going on shows in its place; live frames are spoken of
        // only while live mode runs (found by hand: said with live mode off).
        bar->clearMessage();
        shown = aboutTraining();
        QVERIFY2(shown.size() == 1 && shown[0].startsWith("Training"), qPrintable(shown.join(" | ")));
        QVERIFY2(!shown[0].contains("live frames"), qPrintable(shown[0]));
        teach->setLiveRunning(true);   // as DesktopApp does when live mode starts
        QVERIFY2(app->window()->busyText().contains("live frames are not classified"), qPrintable(app->window()->busyText()));
        teach->setLiveRunning(false);
        QVERIFY(!app->window()->busyText().contains("live frames"));
        QVERIFY(finished.wait(kTrainTimeoutMs));
        shown = aboutTraining();   // "Trained on …", unless the taught model's "Loaded …" came first
        QVERIFY2(shown.size() <= 1 && !shown.join(' ').contains("live frames"), qPrintable(shown.join(" | ")));
    }

    // Found with a real window: "Teach mode is training: the model, device and precision can be changed when it ends,
    // or a…" and "Loaded efficientnet_b0 on cpu: /tmp/efficientnet-teach-IvkJuI/models/taught-1.safetensors (torchvisi",
    // both cut off by the bar's permanent widgets. The bar says the refusal briefly (the error bar has it in full)
    // and names the taught file, not its temporary path (the model status's tooltip has that).
    void statusMessagesShowWholeBesideThePermanentWidgets()
    {
        auto app = teachingApp();
        QVERIFY(app);
        app->window()->resize(kNarrowWindowWidth, 700);
        teachShapes(app.get());
        TeachController* teach = app->teach();
        QStatusBar* bar = app->window()->statusBar();
        QString loadedMessage;
        connect(app->session(), &ModelSession::modelChanged, this, [&] { loadedMessage = bar->currentMessage(); });
        QSignalSpy finished(teach, &TeachController::trainingFinished);
        QSignalSpy changed(app->session(), &ModelSession::modelChanged);
        QVERIFY(teach->train(2, "head"));
        Q_EMIT app->window()->deviceChosen("cpu");
        QVERIFY2(app->window()->errorText().contains("can be changed when it ends"), qPrintable(app->window()->errorText()));
        QTest::qWait(0);   // the bar laid out
        QVERIFY2(bar->currentMessage().contains("Teach mode is training"), qPrintable(bar->currentMessage()));
        QVERIFY2(cutOff(bar, bar->currentMessage()).isEmpty(), qPrintable(cutOff(bar, bar->currentMessage())));
        QVERIFY(finished.wait(kTrainTimeoutMs));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(teach->message()));
        QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 1, kLoadTimeoutMs);
        QTest::qWait(0);
        QVERIFY2(loadedMessage.startsWith("Loaded") && loadedMessage.contains("taught-1.safetensors"),
                 qPrintable(loadedMessage));
        QVERIFY2(!loadedMessage.contains(QDir::tempPath()), qPrintable(loadedMessage));
        QVERIFY2(cutOff(bar, loadedMessage).isEmpty(), qPrintable(cutOff(bar, loadedMessage)));
        const auto* modelStatus = bar->findChild<QLabel*>("statusModel");
        QVERIFY(modelStatus);
        QVERIFY2(modelStatus->toolTip().contains(QFileInfo(app->currentModel().config.weights).absoluteFilePath()),
                 qPrintable(modelStatus->toolTip()));
    }

    void aFolderLeftByAnEndedSessionGoesAtTheNextStart()
    {
        // Found by hand: a window closed while training exits before the training thread lets go of the examples,
        // so shutdown keeps the folder (57 MB with three taught models). The next start removes it: its lock names a
        // process that has ended. A running session's folder (this process holds its lock) and a folder without a
        // lock stay.
        const auto folder = [](const char* kind) {
            return QDir::temp().filePath(QString("efficientnet-teach-test-%1-%2").arg(kind).arg(QCoreApplication::applicationPid()));
        };
        const QString ended = folder("ended"), running = folder("running"), unlocked = folder("unlocked");
        for (const auto& f : {ended, running, unlocked})
            QVERIFY(QDir().mkpath(f + "/examples/circle"));
        QByteArray contents;   // a lock as QLockFile writes it, its first line (the process) one that is not running
        {
            QLockFile own(ended + "/.lock");
            QVERIFY(own.tryLock(0));
            QFile file(ended + "/.lock");
            QVERIFY(file.open(QIODevice::ReadOnly));
            contents = file.readAll();
        }
        QVERIFY(contents.startsWith(QByteArray::number(QCoreApplication::applicationPid()) + "\n"));
        contents = "2147483646" + contents.mid(contents.indexOf('\n'));
        QFile stale(ended + "/.lock");
        QVERIFY(stale.open(QIODevice::WriteOnly));
        stale.write(contents);
        stale.close();
        QLockFile held(running + "/.lock");
        QVERIFY(held.tryLock(0));

        auto app = teachingApp();
        QVERIFY(app);
        QVERIFY(!QFileInfo::exists(ended));
        QVERIFY(QFileInfo::exists(running + "/examples/circle"));
        QVERIFY(QFileInfo::exists(unlocked + "/examples/circle"));
        held.unlock();
        QVERIFY(QDir(running).removeRecursively());
        QVERIFY(QDir(unlocked).removeRecursively());
    }
};

QTEST_MAIN(TestTeach)
#include "test_teach.moc"
