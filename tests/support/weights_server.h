#pragma once
// The download tests' world, shared by the console tool's and the desktop app's suites: a local weights server
// (tests/support/weights_server.py on 127.0.0.1) and registries pointing at it.
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>

namespace efficientnet::test {

// SHA-256 of a file as lowercase hex; empty when it cannot be read.
QString sha256Hex(const QString& path);

// A torchvision-keyed registry entry for `model` (resources/weights_registry.md).
QJsonObject registryEntry(const QString& model, const QString& url, const QString& file, const QString& sha256);
// Writes a registry whose `variants` are given as {variant: [entries]}. Fails the process if it cannot write.
void writeRegistry(const QString& path, const QJsonObject& variants);

// An environment whose HTTP traffic goes straight to 127.0.0.1: the proxy variables removed, no_proxy=*.
QProcessEnvironment withoutProxies(QProcessEnvironment env);
// The same for this process (the desktop app downloads in-process).
void removeProxiesFromThisProcess();

// weights_server.py serving a folder. The server exits when this object closes its stdin (destructor), or after
// its own deadline should the test die without that.
class WeightsServer {
public:
    WeightsServer() = default;
    ~WeightsServer();
    WeightsServer(const WeightsServer&) = delete;
    WeightsServer& operator=(const WeightsServer&) = delete;

    // Starts the server on `folder`, logging each request to `log`. Returns what went wrong, or an empty string.
    QString start(const QString& folder, const QString& log);
    // http://127.0.0.1:PORT/KIND/FILE, KIND being one of the server's modes (good, corrupt, error, truncated, slow).
    QString url(const QString& kind, const QString& file) const;
    // Every request so far, oldest first, as the server logged it: {"path", "range"}.
    QList<QJsonObject> requests() const;

private:
    QProcess m_process;
    QString m_base;   // http://127.0.0.1:PORT
    QString m_log;
};

} // namespace efficientnet::test
