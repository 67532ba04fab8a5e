#include "weights_server.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonDocument>

namespace efficientnet::test {
namespace {

constexpr int kServerStartMs = 20000;
constexpr int kServerStopMs = 5000;
constexpr int kServerLifetimeSeconds = 900;   // the server's own deadline, should a test die without stopping it
const char* const kProxyVariables[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};

} // namespace

QString sha256Hex(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(&file);
    return QString::fromLatin1(hash.result().toHex());
}

QJsonObject registryEntry(const QString& model, const QString& url, const QString& file, const QString& sha256)
{
    return {{"source", "torchvision"}, {"model", model}, {"url", url}, {"file", file}, {"sha256", sha256}};
}

void writeRegistry(const QString& path, const QJsonObject& variants)
{
    const QJsonObject doc{{"format", "efficientnet-weights-registry"}, {"version", 1}, {"variants", variants}};
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(doc).toJson()) < 0)
        qFatal("cannot write %s", qPrintable(path));
}

QProcessEnvironment withoutProxies(QProcessEnvironment env)
{
    for (const char* proxy : kProxyVariables)
        env.remove(proxy);
    env.insert("no_proxy", "*");
    return env;
}

void removeProxiesFromThisProcess()
{
    for (const char* proxy : kProxyVariables)
        qunsetenv(proxy);
    qputenv("no_proxy", "*");
}

WeightsServer::~WeightsServer()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.closeWriteChannel();
    if (!m_process.waitForFinished(kServerStopMs)) {
        m_process.kill();
        m_process.waitForFinished(kServerStopMs);
    }
}

QString WeightsServer::start(const QString& folder, const QString& log)
{
    m_log = log;
    // stdin stays open: the server exits when it closes, so a crashed test does not leave it running.
    m_process.start(QStringLiteral(EFFICIENTNET_PYTHON),
                    {QStringLiteral(EFFICIENTNET_WEIGHTS_SERVER), "--dir", folder, "--log", log, "--lifetime",
                     QString::number(kServerLifetimeSeconds)});
    if (!m_process.waitForStarted(kServerStartMs))
        return "cannot start " EFFICIENTNET_WEIGHTS_SERVER ": " + m_process.errorString();
    while (!m_process.canReadLine() && m_process.waitForReadyRead(kServerStartMs)) {
    }
    const QByteArray line = m_process.readLine().trimmed();
    if (!line.startsWith("PORT "))
        return "weights_server.py did not say its port: '" + QString::fromUtf8(line) + "' " +
               QString::fromUtf8(m_process.readAllStandardError());
    m_base = "http://127.0.0.1:" + QString::fromLatin1(line.mid(5));
    return {};
}

QString WeightsServer::url(const QString& kind, const QString& file) const { return m_base + "/" + kind + "/" + file; }

QList<QJsonObject> WeightsServer::requests() const
{
    QList<QJsonObject> lines;
    QFile log(m_log);
    if (log.open(QIODevice::ReadOnly))
        for (const auto& line : log.readAll().split('\n'))
            if (!line.isEmpty())
                lines << QJsonDocument::fromJson(line).object();
    return lines;
}

} // namespace efficientnet::test
