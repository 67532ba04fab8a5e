#pragma once
// Shared by the desktop app's suites: an app started on the given options, with its first model loaded.
#include <QSignalSpy>
#include <memory>

#include "desktop_app.h"

namespace efficientnet::desktop::test {

constexpr int kLoadTimeoutMs = 120000;

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

} // namespace efficientnet::desktop::test
