#include "download_controller.h"

#include <QDeadlineTimer>
#include <climits>

#include <exception>

#include "core_paths.h"
#include "efficientnet/variants.h"

namespace efficientnet::desktop {
namespace {

constexpr qint64 kBytesPerFloat = 4;

} // namespace

DownloadController::DownloadController(const QString& registryFile, QObject* parent)
    : QObject(parent)
    , m_registryFile(registryFile)
    , m_cancel(std::make_shared<std::atomic<bool>>(false))
    , m_worker(new DownloadWorker(m_cancel))
{
    m_thread.setObjectName("download");
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &DownloadWorker::progress, this, &DownloadController::progress);
    connect(m_worker, &DownloadWorker::finished, this, [this](const QString& model, const QString& path, const QString& warning) {
        m_running = false;
        Q_EMIT finished(model, path, warning);
    });
    connect(m_worker, &DownloadWorker::failed, this, [this](const QString& model, const QString& error, bool cancelled) {
        m_running = false;
        Q_EMIT failed(model, error, cancelled);
    });
    m_thread.start();
}

DownloadController::~DownloadController() { finish(ULONG_MAX); }

bool DownloadController::finish(unsigned long timeoutMs)
{
    // A running transfer sees the flag at its next progress callback and throws; the worker's signals then go
    // nowhere, as this object is going away.
    m_cancel->store(true);
    m_thread.quit();
    return m_thread.wait(QDeadlineTimer(timeoutMs == ULONG_MAX ? qint64(-1) : qint64(timeoutMs)));
}

bool DownloadController::supported()
{
#ifdef EFFICIENTNET_HAVE_DOWNLOAD
    return true;
#else
    return false;
#endif
}

std::optional<WeightsOffer> DownloadController::offerFor(const QString& model, QString* why) const
{
    const auto refuse = [why](const QString& reason) -> std::optional<WeightsOffer> {
        if (why)
            *why = reason;
        return std::nullopt;
    };
#ifdef EFFICIENTNET_HAVE_DOWNLOAD
    try {
        const WeightsRegistry registry = readWeightsRegistry(toCorePath(m_registryFile));
        WeightsOffer offer;
        offer.model = model;
        offer.entry = findDownload(registry, model.toStdString());
        offer.approxBytes = variant(offer.entry.variant).numParams * kBytesPerFloat;
        return offer;
    } catch (const std::exception& e) {   // ConfigError: names the registry file, or what it has for the variant
        return refuse(QString::fromUtf8(e.what()));
    }
#else
    Q_UNUSED(model);
    return refuse(tr("this build cannot download weights (it was built without libcurl)"));
#endif
}

bool DownloadController::start(const WeightsOffer& offer)
{
    if (m_running)
        return false;
    m_running = true;
    m_cancel->store(false);
    // The weights cache (empty: the worker asks weightsCacheDir(), which throws where there is no home folder, and
    // reports that as a failed download rather than letting it cross this slot).
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, offer] { worker->download(offer, QString()); },
                              Qt::QueuedConnection);
    return true;
}

void DownloadController::cancel() { m_cancel->store(true); }

} // namespace efficientnet::desktop
