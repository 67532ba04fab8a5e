// efficientnet-demo: the desktop app. Drop, open or paste images, or run live on a camera or video; the command line
// mirrors efficientnet-cli's.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "desktop_app.h"
#include "efficientnet/ui/main_window.h"

namespace {

constexpr int kScreenshotDelayMs = 400;        // lets the last repaint land before the grab
constexpr quint64 kScreenshotLiveFrames = 15;  // live mode: grab once the fps and dropped counters mean something
constexpr int kScreenshotTimeoutMs = 120000;
// After the window closes, threads get this long to finish; a model load deep in LibTorch is not waited for (the
// process exits without it, its settings already saved), so closing never lingers.
constexpr int kShutdownBudgetMs = 250;

// --help and --version answer without a display: QApplication would abort first where there is none (a server, a
// script, an ssh session), so they are served by a QCoreApplication.
bool wantsInformationOnly(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i)
        for (const char* option : {"--help", "-h", "--help-all", "-?", "--version", "-v"})
            if (std::strcmp(argv[i], option) == 0)
                return true;
    return false;
}

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
    const bool informationOnly = wantsInformationOnly(argc, argv);
    std::unique_ptr<QCoreApplication> app = informationOnly ? std::make_unique<QCoreApplication>(argc, argv)
                                                            : std::make_unique<QApplication>(argc, argv);
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
    parser.process(*app);   // --help and --version print and exit here

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
        QTimer::singleShot(kScreenshotTimeoutMs, app.get(), [] {
            qCritical("efficientnet-demo: no results to take a screenshot of");
            QCoreApplication::exit(1);
        });
    }
    demo.start();
    const int status = app->exec();
    demo.shutdown(kShutdownBudgetMs);   // settings saved, capture stopped, downloads cancelled
    // What is left is memory and static objects. Destroying them (the model's tensors, LibTorch's and Qt's statics)
    // took ~300 ms after the window had gone, and a thread still busy in a model load would be waited for: the
    // system takes all of it back at once, so the process leaves now.
    std::fflush(nullptr);
    std::_Exit(status);
}
