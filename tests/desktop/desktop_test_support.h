#pragma once
// Shared by the desktop app's suites: an app started on the given options, with its first model loaded; the
// reference data's paths and what torchvision answers for the sample photos.
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <memory>

#include "desktop_app.h"
#include "efficientnet/ui/main_window.h"
#include "test_support.h"

namespace efficientnet::desktop::test {

constexpr int kLoadTimeoutMs = 120000;
constexpr int kClassifyTimeoutMs = 60000;

// Shows the window and starts the app; nullptr when the model did not load within kLoadTimeoutMs.
inline std::unique_ptr<DesktopApp> startedApp(const AppOptions& options)
{
    auto app = std::make_unique<DesktopApp>(options);
    QSignalSpy loaded(app->inference(), &InferenceController::modelLoaded);
    app->window()->show();
    app->start();
    if (!loaded.wait(kLoadTimeoutMs))
        return nullptr;
    return app;
}

inline QString ref(const char* name) { return QString::fromStdString(efficientnet::test::referencePath(name)); }
inline QString sample(const char* name)
{
    return QString::fromStdString(efficientnet::test::resourcesPath(std::string("samples/") + name));
}

// What torchvision answers for a sample photo with the reference weights e2e_b0.pth (tests/reference/
// make_reference.py); top1 is -1 when the reference data has no answer for it.
struct Expected {
    int top1 = -1;
    double probability = 0;
};
inline Expected expectedFor(const QString& path)
{
    QFile file(ref("e2e_reference.json"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const auto results = QJsonDocument::fromJson(file.readAll()).object()["results"].toArray();
    for (const auto& r : results) {
        const auto o = r.toObject();
        if (QFileInfo(o["path"].toString()).fileName() == QFileInfo(path).fileName())
            return {o["top5"].toArray()[0].toInt(), o["probabilities"].toArray()[0].toDouble()};
    }
    return {};
}

inline FileResult resultAt(const QSignalSpy& spy, int i) { return spy.at(i).at(0).value<FileResult>(); }

} // namespace efficientnet::desktop::test
