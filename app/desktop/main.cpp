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

// Saves the window once, at the first of the outcomes connected below, and quits: 0 for results on screen, 1 for an
// error on screen (the screenshot then shows it) or a screenshot that could not be written.
class Screenshot {
public:
    Screenshot(QWidget* window, QString path) : m_window(window), m_path(std::move(path)) {}

    void take(const QString& error = {})
    {
        if (m_taken)
            return;
        m_taken = true;
        if (!error.isEmpty())
            qCritical("efficientnet-demo: %s", qPrintable(error));
        QTimer::singleShot(kScreenshotDelayMs, m_window, [this, failed = !error.isEmpty()] {
            const bool ok = m_window->grab().save(m_path);
            if (!ok)
                qCritical("efficientnet-demo: cannot write the screenshot %s", qPrintable(m_path));
            QCoreApplication::exit(ok && !failed ? 0 : 1);
        });
    }

private:
    QWidget* m_window;
    QString m_path;
    bool m_taken = false;
};

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
    const QCommandLineOption screenshot("screenshot", "Save the window to FILE once the first results (or an error) show, then quit.", "FILE");
    const QCommandLineOption settings("settings", "Read and write settings in FILE (INI) instead of the user's.", "FILE");
    const QCommandLineOption registry("registry", "Download weights as the registry FILE says (default: the installed "
                                      "weights_registry.json). They go to $EFFICIENTNET_CACHE_DIR, else the user's cache.",
                                      "FILE");
    parser.addOptions({model, weights, random, device, precision, camera, loop, screenshot, settings, registry});
    parser.addPositionalArgument("FILE", "Images or folders to classify at start; a checkpoint among them is the weights.", "[FILE...]");
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
    std::unique_ptr<Screenshot> shot;
    if (parser.isSet(screenshot)) {
        using efficientnet::desktop::DesktopApp;
        using efficientnet::desktop::InferenceController;
        shot = std::make_unique<Screenshot>(demo.window(), parser.value(screenshot));
        Screenshot* s = shot.get();
        QWidget* window = demo.window();
        if (!options.camera.isEmpty())
            QObject::connect(&demo, &DesktopApp::frameShown, window, [s](quint64 n) {
                if (n >= kScreenshotLiveFrames)
                    s->take();
            });
        else
            QObject::connect(&demo, &DesktopApp::fileShown, window, [s] { s->take(); });
        // What ends without results is taken too, at once, rather than waited for until the timeout: a model that
        // cannot load, live mode that stopped (a video shorter than the frames above, or a source that cannot be
        // opened), files that all failed.
        QObject::connect(demo.inference(), &InferenceController::modelLoadFailed, window,
                         [s](const QString& error) { s->take(error); });
        QObject::connect(&demo, &DesktopApp::liveStopped, window,
                         [s](const QString& reason, bool error) { s->take(error ? reason : QString()); });
        QObject::connect(demo.inference(), &InferenceController::jobFinished, window,
                         [s] { s->take(QStringLiteral("no image could be classified")); });
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
