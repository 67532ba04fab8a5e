// The desktop app on a CUDA GPU (issue 16, point 2), run on the GPU machine by benchmarks/gpu_desktop.sh: live mode on
// a 30 fps 640x480 video on --device cuda while the model changes B0 -> B3 -> V2-S, the device cuda -> cpu -> cuda and
// the precision fp16 -> bf16 -> fp32 -> fp16, with frames classified by each new model and the camera never stopping;
// then a folder of 1,000 camera-sized photos in the gallery. Rates and stage timings are printed (qInfo), not asserted:
// speed is measured in benchmarks. With EFFICIENTNET_SCREENSHOT_DIR set, the window is saved after every step.
// Without a CUDA device every function is skipped, saying so (CI has no GPU).
#include <QtTest/QtTest>

#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <cmath>
#include <memory>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "desktop_app.h"
#include "desktop_test_support.h"
#include "efficientnet/ui/gallery_panel.h"
#include "efficientnet/ui/main_window.h"
#include "test_support.h"

using namespace efficientnet::desktop;
using efficientnet::desktop::test::kLoadTimeoutMs;
using efficientnet::test::referencePath;
using efficientnet::test::resourcesPath;

namespace {

constexpr int kVideoFrames = 150;
constexpr double kVideoFps = 30.0;
const cv::Size kVideoSize(640, 480);
constexpr int kGalleryPhotos = 1000;
constexpr int kFramesPerStep = 30;      // classified frames each new model must deliver while live
constexpr int kStepTimeoutMs = 120000;

bool writeVideo(const std::string& path)
{
    cv::VideoWriter writer(path, cv::CAP_OPENCV_MJPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), kVideoFps, kVideoSize);
    if (!writer.isOpened())
        return false;
    const cv::Mat photo = cv::imread(resourcesPath("samples/cat.jpg"));
    for (int i = 0; i < kVideoFrames; ++i) {
        cv::Mat frame;
        if (photo.empty())
            frame = cv::Mat(kVideoSize, CV_8UC3, cv::Scalar(40 + i, 90, 200 - i));
        else   // a slow pan over the photo, as a hand-held camera gives
            cv::resize(photo(cv::Rect(i % 40, i % 30, photo.cols - 40, photo.rows - 30)), frame, kVideoSize);
        writer.write(frame);
    }
    return true;
}

// Photos at the sizes phone and web cameras give, cut from the bundled samples, each one different.
bool writePhotos(const QString& folder, int count)
{
    const QStringList samples = QDir(QString::fromStdString(resourcesPath("samples"))).entryList({"*.jpg"}, QDir::Files);
    std::vector<cv::Mat> sources;
    for (const QString& name : samples)
        sources.push_back(cv::imread(resourcesPath("samples/" + name.toStdString())));
    if (sources.empty())
        return false;
    const cv::Size sizes[] = {{640, 480}, {1024, 768}, {1280, 960}, {1920, 1080}};
    for (int i = 0; i < count; ++i) {
        const cv::Mat& source = sources[i % sources.size()];
        const int cut = i % 17;
        cv::Mat photo;
        cv::resize(source(cv::Rect(cut, cut, source.cols - 2 * cut, source.rows - 2 * cut)), photo, sizes[i % 4]);
        if (!cv::imwrite(QDir(folder).filePath(QString("photo_%1.jpg").arg(i, 4, 10, QChar('0'))).toStdString(), photo,
                         {cv::IMWRITE_JPEG_QUALITY, 90}))
            return false;
    }
    return true;
}

void saveScreenshot(QWidget* window, const QString& name)
{
    const QString dir = qEnvironmentVariable("EFFICIENTNET_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QDir().mkpath(dir);
    const QString path = QDir(dir).filePath(name + ".png");
    if (!window->grab().save(path))
        qWarning("could not save %s", qPrintable(path));
}

FrameResult frameAt(const QSignalSpy& spy, int i) { return spy.at(i).at(0).value<FrameResult>(); }

} // namespace

class TestDesktopCuda : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_video;

    AppOptions options() const
    {
        AppOptions o;
        o.model = "efficientnet_b0";
        o.device = "cuda";
        o.precision = "fp16";
        o.settingsFile = m_dir.filePath("settings.ini");
        o.paceVideoFiles = true;
        o.loopVideoFiles = true;
        return o;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (efficientnet::runtimeInfo().gpu == "none")
            QSKIP("no CUDA device here: this suite runs on the GPU machine (benchmarks/gpu_desktop.sh)");
        QVERIFY(m_dir.isValid());
        // The models' checkpoints where a user's downloads are: the reference's weights (torchvision's layout).
        const QString cache = m_dir.filePath("cache");
        QVERIFY(QDir().mkpath(cache));
        qputenv("EFFICIENTNET_CACHE_DIR", cache.toUtf8());
        qputenv("TORCH_HOME", m_dir.filePath("torch").toUtf8());
        for (const char* model : {"efficientnet_b0", "efficientnet_b3", "efficientnet_v2_s"})
            QVERIFY(QFile::copy(QString::fromStdString(referencePath(std::string(model) + ".pth")),
                                QDir(cache).filePath(QString(model) + ".pth")));
        m_video = m_dir.filePath("pan.avi");
        QVERIFY(writeVideo(m_video.toStdString()));
    }

    void liveModeKeepsClassifyingThroughModelDeviceAndPrecisionChanges()
    {
        auto app = efficientnet::desktop::test::startedApp(options());
        QVERIFY(app);
        app->window()->resize(1280, 800);
        QVERIFY2(app->currentModel().device.startsWith("cuda"), qPrintable(app->currentModel().device));
        QSignalSpy results(app->inference(), &InferenceController::frameClassified);
        QSignalSpy displayed(app.get(), &DesktopApp::frameDisplayed);
        QSignalSpy stopped(app.get(), &DesktopApp::liveStopped);
        app->startCamera(m_video);

        struct Step {
            const char* action;
            const char* argument;
            const char* model;
            const char* device;
            const char* precision;
        };
        const Step steps[] = {
            {"start", "", "efficientnet_b0", "cuda", "fp16"},
            {"model", "efficientnet_b3", "efficientnet_b3", "cuda", "fp16"},
            {"model", "efficientnet_v2_s", "efficientnet_v2_s", "cuda", "fp16"},
            {"device", "cpu", "efficientnet_v2_s", "cpu", "fp32"},
            {"device", "cuda", "efficientnet_v2_s", "cuda", "fp16"},
            {"model", "efficientnet_b0", "efficientnet_b0", "cuda", "fp16"},
            {"precision", "bf16", "efficientnet_b0", "cuda", "bf16"},
            {"precision", "fp32", "efficientnet_b0", "cuda", "fp32"},
            {"precision", "fp16", "efficientnet_b0", "cuda", "fp16"},
        };
        for (const Step& step : steps) {
            const QString what = QString("%1 %2").arg(step.action, step.argument);
            QSignalSpy loaded(app->inference(), &InferenceController::modelLoaded);
            QSignalSpy failed(app->inference(), &InferenceController::modelLoadFailed);
            if (QString(step.action) == "model")
                app->chooseModel(step.argument);
            else if (QString(step.action) == "device")
                app->chooseDevice(step.argument);
            else if (QString(step.action) == "precision")
                app->choosePrecision(step.argument);
            if (QString(step.action) != "start")
                QVERIFY2(loaded.wait(kLoadTimeoutMs), qPrintable(what + ": no model loaded; " +
                                                              app->window()->errorText() + app->window()->offerText()));
            QVERIFY2(failed.isEmpty(), qPrintable(what + ": " + failed.value(0).value(0).toString()));
            const ModelInfo& info = app->currentModel();
            QCOMPARE(info.model, QString(step.model));
            QVERIFY2(info.device.startsWith(step.device), qPrintable(what + ": " + info.device));
            QCOMPARE(info.precision, QString(step.precision));
            QVERIFY(!info.randomWeights);

            // Frames classified by the new model: those that arrive after the load (the spies are emptied at each
            // step: each result holds its frame).
            results.clear();
            displayed.clear();
            const quint64 droppedBefore = app->frames().dropped();
            QElapsedTimer clock;
            clock.start();
            QTRY_VERIFY_WITH_TIMEOUT(results.count() >= kFramesPerStep, kStepTimeoutMs);
            const double seconds = clock.elapsed() / 1000.0;
            QVERIFY2(stopped.isEmpty(), qPrintable(what + ": live mode stopped: " + stopped.value(0).value(0).toString()));
            QVERIFY(app->camera()->isActive());
            double forward = 0, preprocess = 0, upload = 0;
            int nonFinite = 0;   // the reference's random weights can overflow fp16/bf16; fp32 must stay finite
            quint64 previous = 0;
            for (int i = 0; i < results.count(); ++i) {
                const FrameResult r = frameAt(results, i);
                QVERIFY2(r.error.isEmpty(), qPrintable(what + ": " + r.error));
                QCOMPARE(r.predictions.size(), size_t(InferenceWorker::kResultTopK));
                for (const auto& p : r.predictions)
                    nonFinite += std::isfinite(p.probability) ? 0 : 1;
                QVERIFY(r.sequence > previous);
                previous = r.sequence;
                forward += r.times.forwardMs;
                preprocess += r.times.preprocessMs;
                upload += r.times.uploadMs;
            }
            const int n = results.count();
            if (QString(step.precision) == "fp32")
                QVERIFY2(nonFinite == 0, qPrintable(what + ": probabilities that are not finite in fp32"));
            else if (nonFinite)
                qInfo("%s: %d probabilities not finite (random weights overflowing %s)", qPrintable(what), nonFinite,
                      step.precision);
            qInfo("%-22s %s %s %s: %d frames classified in %.2f s (%.1f/s), %d displayed (%.1f/s), %llu dropped; "
                  "per frame: preprocess %.2f ms, upload %.2f ms, forward %.2f ms | status: %s",
                  qPrintable(what), qPrintable(info.model), qPrintable(info.device), qPrintable(info.precision), n,
                  seconds, n / seconds, int(displayed.count()), displayed.count() / seconds,
                  static_cast<unsigned long long>(app->frames().dropped() - droppedBefore), preprocess / n, upload / n,
                  forward / n, qPrintable(app->window()->statusText()));
            saveScreenshot(app->window(), QString("desktop-cuda-live-%1-%2-%3")
                                              .arg(step.model, QString(step.device), QString(step.precision)));
        }
        app->stopCamera();
        QVERIFY(app->window()->errorText().isEmpty());
    }

    void aThousandPhotosFillTheGallery()
    {
        const QString folder = m_dir.filePath("photos");
        QVERIFY(QDir().mkpath(folder));
        QVERIFY(writePhotos(folder, kGalleryPhotos));
        auto app = efficientnet::desktop::test::startedApp(options());
        QVERIFY(app);
        app->window()->resize(1280, 800);
        QSignalSpy finished(app->inference(), &InferenceController::jobFinished);
        QElapsedTimer clock;
        clock.start();
        app->openFiles({folder});
        QVERIFY(finished.wait(kStepTimeoutMs * 2));
        const double seconds = clock.elapsed() / 1000.0;
        QCOMPARE(finished.at(0).at(1).toBool(), false);   // not cancelled
        QCOMPARE(int(app->fileResults().size()), kGalleryPhotos);
        for (const FileResult& r : app->fileResults())
            QVERIFY2(r.error.isEmpty(), qPrintable(r.path + ": " + r.error));
        efficientnet::ui::GalleryPanel* gallery = app->window()->galleryPanel();
        QCOMPARE(gallery->count(), kGalleryPhotos);
        QVERIFY(gallery->entryText(0).startsWith("photo_0000.jpg"));
        QVERIFY(gallery->entryText(kGalleryPhotos - 1).startsWith("photo_0999.jpg"));
        double decode = 0, forward = 0;
        for (const FileResult& r : app->fileResults()) {
            decode += r.times.decodeMs;
            forward += r.times.forwardMs;
        }
        qInfo("gallery: %d photos (640x480 to 1920x1080 JPEG) classified and shown in %.1f s (%.0f photos/s) on %s %s; "
              "per photo: decode %.2f ms, forward %.2f ms",
              kGalleryPhotos, seconds, kGalleryPhotos / seconds, qPrintable(app->currentModel().device),
              qPrintable(app->currentModel().precision), decode / kGalleryPhotos, forward / kGalleryPhotos);
        QTest::qWait(500);   // the last thumbnails painted
        saveScreenshot(app->window(), "desktop-cuda-gallery-1000");
        // A model change with the gallery full: marked stale, nothing lost.
        QSignalSpy loaded(app->inference(), &InferenceController::modelLoaded);
        app->chooseModel("efficientnet_b3");
        QVERIFY(loaded.wait(kLoadTimeoutMs));
        QCOMPARE(gallery->count(), kGalleryPhotos);
        QCOMPARE(int(app->fileResults().size()), kGalleryPhotos);
    }
};

QTEST_MAIN(TestDesktopCuda)
#include "test_desktop_cuda.moc"
