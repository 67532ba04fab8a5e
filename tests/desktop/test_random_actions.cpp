// A thousand random user actions fired at the offscreen app, as fast as a restless user and faster: good and hostile
// drops (photos, folders, bad and gigapixel images, missing paths), weights that load and weights that are refused
// (code-executing pickles, a zip bomb), model, device and precision switches, live mode started and stopped on a
// video file, cancels, all interleaved with short waits. At the end the app is alive and consistent: no model load
// or job is left hanging, live mode is off, every captured frame is accounted for, and a photo dropped last is
// classified with the reference answer. FUZZ-like: the seed is printed and RANDOM_ACTIONS_SEED replays a run.
#include <QtTest/QtTest>

#include <QDir>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <functional>
#include <memory>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "desktop_app.h"
#include "desktop_test_support.h"
#include "efficientnet/ui/main_window.h"
#include "test_support.h"

using namespace efficientnet::desktop;
using efficientnet::desktop::test::expectedFor;
using efficientnet::desktop::test::ref;
using efficientnet::desktop::test::resultAt;
using efficientnet::desktop::test::sample;

namespace {

constexpr int kActions = 1000;
constexpr int kMaxPauseMs = 40;
constexpr int kSettleTimeoutMs = 180000;

QString hostile(const char* name) { return QString(EFFICIENTNET_HOSTILE_DIR) + "/" + name; }

bool writeVideo(const std::string& path)
{
    const cv::Size size(160, 120);
    cv::VideoWriter writer(path, cv::CAP_OPENCV_MJPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 30.0, size);
    if (!writer.isOpened())
        return false;
    for (int i = 0; i < 60; ++i) {
        cv::Mat frame(size, CV_8UC3, cv::Scalar(40 + i, 90, 200 - i));
        cv::circle(frame, cv::Point(20 + i * 2, 60), 15, cv::Scalar(20, 220, 240), cv::FILLED);
        writer.write(frame);
    }
    return true;
}

} // namespace

class TestRandomActions : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void thousandRandomActionsLeaveTheAppAliveAndConsistent()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString video = dir.filePath("clip.avi");
        QVERIFY(writeVideo(video.toStdString()));
        QDir(dir.path()).mkdir("mixed");
        for (const char* name : {"cat.jpg", "rocket.jpg"})
            QVERIFY(QFile::copy(sample(name), dir.filePath(QString("mixed/") + name)));
        QVERIFY(QFile::copy(hostile("huge_dims.png"), dir.filePath("mixed/huge.png")));
        QFile text(dir.filePath("mixed/notes.jpg"));
        QVERIFY(text.open(QIODevice::WriteOnly) && text.write("not an image") > 0);
        text.close();

        // The reference weights are "cached" for efficientnet_b0, so choosing that model always finds them.
        QDir(dir.path()).mkdir("cache");
        QVERIFY(QFile::copy(ref("e2e_b0.pth"), dir.filePath("cache/efficientnet_b0_reference.pth")));
        qputenv("EFFICIENTNET_CACHE_DIR", dir.filePath("cache").toUtf8());

        AppOptions options;
        options.model = "efficientnet_b0";
        options.weights = ref("e2e_b0.pth");
        options.device = "cpu";
        options.settingsFile = dir.filePath("settings.ini");
        options.loopVideoFiles = true;
        auto app = efficientnet::desktop::test::startedApp(options);
        QVERIFY(app);

        const quint32 seed = qEnvironmentVariableIsSet("RANDOM_ACTIONS_SEED")
                                 ? qEnvironmentVariableIntValue("RANDOM_ACTIONS_SEED")
                                 : QRandomGenerator::global()->generate();
        qInfo("seed %u (RANDOM_ACTIONS_SEED=%u replays this run)", seed, seed);
        QRandomGenerator random(seed);
        const QStringList photos{sample("cat.jpg"), sample("rocket.jpg"), sample("coffee.jpg")};
        const QStringList badPaths{hostile("huge_dims.jpg"), hostile("huge_dims.webp"), dir.filePath("missing.png"),
                                   dir.filePath("mixed/notes.jpg"), dir.filePath("mixed")};
        const QStringList weights{ref("e2e_b0.pth"), hostile("escape_global.pth"), hostile("zip_bomb_storage.pth"),
                                  hostile("deep_json_shape.safetensors"), ref("malicious_system.pth")};
        const QStringList precisions{"fp32", "fp16", "bf16", "auto"};
        const QStringList devices{"cpu", "cuda", "auto"};
        const auto pick = [&](const QStringList& list) { return list.at(int(random.bounded(quint32(list.size())))); };
        const std::vector<std::pair<int, std::function<void()>>> actions{
            {30, [&] { app->openFiles({pick(photos)}); }},
            {10, [&] { app->openFiles({pick(photos), pick(photos), pick(badPaths)}); }},
            {10, [&] { app->openFiles({pick(badPaths)}); }},
            {6, [&] { app->openFiles({dir.filePath("mixed")}); }},
            {8, [&] { app->cancel(); }},
            {6, [&] { app->loadWeights(pick(weights)); }},
            {4, [&] { app->choosePrecision(pick(precisions)); }},
            {3, [&] { app->chooseDevice(pick(devices)); }},
            {3, [&] { app->chooseModel(random.bounded(2) ? "efficientnet_b0" : "tf_efficientnet_b0"); }},
            {8, [&] { app->startCamera(video); }},
            {8, [&] { app->stopCamera(); }},
            {4, [&] { app->startCamera(pick(badPaths)); }},
        };
        int totalWeight = 0;
        for (const auto& action : actions)
            totalWeight += action.first;
        for (int i = 0; i < kActions; ++i) {
            int roll = int(random.bounded(quint32(totalWeight)));
            for (const auto& [weight, act] : actions) {
                if (roll < weight) {
                    act();
                    break;
                }
                roll -= weight;
            }
            QTest::qWait(int(random.bounded(quint32(kMaxPauseMs))));
        }

        // Settle: live mode off, then the reference weights on the CPU in fp32, and every request answered.
        app->stopCamera();
        QTRY_VERIFY_WITH_TIMEOUT(!app->camera()->isActive(), kSettleTimeoutMs);
        // Every load request is answered, loaded or refused (a switch still in flight may make the next one fail:
        // CUDA without a GPU, fp16 on the CPU); a request that is never answered fails the test.
        InferenceController* inference = app->inference();
        QVERIFY(QTest::qWaitFor([&] { return !inference->isLoading(); }, kSettleTimeoutMs));
        const auto answered = [&](const std::function<void()>& request) {
            request();
            return QTest::qWaitFor([&] { return !inference->isLoading(); }, kSettleTimeoutMs);
        };
        const auto settled = [&] {
            const auto& config = app->currentModel().config;
            return config.model == "efficientnet_b0" && config.device == "cpu" &&
                   (config.precision == "fp32" || config.precision == "auto") &&   // auto is fp32 on the CPU
                   !app->currentModel().randomWeights;
        };
        for (int attempt = 0; attempt < 3 && !settled(); ++attempt) {
            QVERIFY(answered([&] { app->chooseDevice("cpu"); }));
            QVERIFY(answered([&] { app->choosePrecision("fp32"); }));
            QVERIFY(answered([&] { app->chooseModel("efficientnet_b0"); }));   // finds the cached reference weights
        }
        QVERIFY2(settled(), qPrintable(app->currentModel().config.model + " " + app->currentModel().config.device +
                                       " " + app->currentModel().config.precision));
        QVERIFY(!app->currentModel().randomWeights);
        QCOMPARE(app->currentModel().config.model, QString("efficientnet_b0"));
        FrameSlot& frames = app->frames();
        QTRY_VERIFY_WITH_TIMEOUT(frames.captured() - frames.taken() - frames.dropped() <= 1, kSettleTimeoutMs);

        QSignalSpy classified(app->inference(), &InferenceController::fileClassified);
        const QString last = sample("cat.jpg");
        app->openFiles({last});
        QTRY_VERIFY_WITH_TIMEOUT(!classified.isEmpty() && resultAt(classified, classified.count() - 1).path == last,
                                 kSettleTimeoutMs);
        const FileResult result = resultAt(classified, classified.count() - 1);
        QVERIFY2(result.error.isEmpty(), qPrintable(result.error));
        const auto expected = expectedFor(last);
        QVERIFY(expected.top1 >= 0);
        QCOMPARE(result.predictions.front().index, expected.top1);
        QVERIFY(app->window()->isVisible());
    }
};

QTEST_MAIN(TestRandomActions)
#include "test_random_actions.moc"
