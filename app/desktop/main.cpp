// efficientnet-demo: the desktop app. Drop, open or paste images, or run live on a camera or video; the command line
// mirrors efficientnet-cli's.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include "desktop_app.h"
#include "efficientnet/ui/main_window.h"

namespace {

constexpr int kScreenshotDelayMs = 400;        // lets the last repaint land before the grab
constexpr quint64 kScreenshotLiveFrames = 15;  // live mode: grab once the fps and dropped counters mean something
constexpr int kScreenshotTimeoutMs = 120000;

void saveScreenshotAndQuit(QWidget* window, const QString& path)
{
    QTimer::singleShot(kScreenshotDelayMs, window, [window, path] {
        const bool ok = window->grab().save(path);
        if (!ok)
            qCritical("efficientnet-demo: cannot write the screenshot %s", qPrintable(path));
        QCoreApplication::exit(ok ? 0 : 1);
    });
}

} // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName("EfficientNetLibTorch");
    QCoreApplication::setApplicationName("efficientnet-demo");
    QCoreApplication::setApplicationVersion(EFFICIENTNET_VERSION);

    QCommandLineParser parser;
    parser.setApplicationDescription("EfficientNet image classification: drag and drop, paste, or live camera.");
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption model("model", "Model name (efficientnet_b0 … efficientnet_v2_l, timm or lukemelas names).", "NAME");
    const QCommandLineOption weights("weights", "Checkpoint (.pth or .safetensors). Default: the model's cached one.", "FILE");
    const QCommandLineOption random("random-weights", "Run on random weights (predictions are meaningless).");
    const QCommandLineOption device("device", "auto, cpu or cuda.", "D");
    const QCommandLineOption precision("precision", "auto, fp32, fp16 or bf16.", "P");
    const QCommandLineOption camera("camera", "Start live mode on a camera index, a video file or a stream URL.", "SRC");
    const QCommandLineOption loop("loop", "Loop a video file given with --camera.");
    const QCommandLineOption screenshot("screenshot", "Save the window to FILE once the first results show, then quit.", "FILE");
    const QCommandLineOption settings("settings", "Read and write settings in FILE (INI) instead of the user's.", "FILE");
    const QCommandLineOption registry("registry", "Download weights as the registry FILE says (default: the installed "
                                      "weights_registry.json). They go to $EFFICIENTNET_CACHE_DIR, else the user's cache.",
                                      "FILE");
    parser.addOptions({model, weights, random, device, precision, camera, loop, screenshot, settings, registry});
    parser.addPositionalArgument("FILE", "Images or folders to classify at start.", "[FILE...]");
    parser.process(app);

    efficientnet::desktop::AppOptions options;
    options.model = parser.value(model);
    options.weights = parser.value(weights);
    options.randomWeights = parser.isSet(random);
    options.device = parser.value(device);
    options.precision = parser.value(precision);
    options.camera = parser.value(camera);
    options.loopVideoFiles = parser.isSet(loop);
    options.settingsFile = parser.value(settings);
    options.registryFile = parser.value(registry);
    options.files = parser.positionalArguments();

    efficientnet::desktop::DesktopApp demo(options);
    demo.window()->show();
    if (parser.isSet(screenshot)) {
        const QString path = parser.value(screenshot);
        QWidget* window = demo.window();
        if (!options.camera.isEmpty())
            QObject::connect(&demo, &efficientnet::desktop::DesktopApp::frameShown, window, [=](quint64 n) {
                if (n >= kScreenshotLiveFrames)   // fires once: exit() ends the loop before more frames are shown
                    saveScreenshotAndQuit(window, path);
            });
        else
            QObject::connect(&demo, &efficientnet::desktop::DesktopApp::fileShown, window,
                             [=] { saveScreenshotAndQuit(window, path); }, Qt::SingleShotConnection);
        QTimer::singleShot(kScreenshotTimeoutMs, &app, [] {
            qCritical("efficientnet-demo: no results to take a screenshot of");
            QCoreApplication::exit(1);
        });
    }
    demo.start();
    return app.exec();
}
