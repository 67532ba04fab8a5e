#include "download_worker.h"

#include <exception>
#include <optional>

#include "core_paths.h"
#include "efficientnet/classifier.h"
#include "efficientnet/errors.h"

namespace efficientnet::desktop {
namespace {

constexpr std::uint64_t kProgressSteps = 100;                        // signals per download of known size
constexpr std::uint64_t kUnknownSizeStepBytes = std::uint64_t(1) << 20;

} // namespace

DownloadWorker::DownloadWorker(std::shared_ptr<const std::atomic<bool>> cancel)
    : m_cancel(std::move(cancel))
{
}

void DownloadWorker::download(const WeightsOffer& offer, const QString& cacheDir)
{
#ifdef EFFICIENTNET_HAVE_DOWNLOAD
    std::optional<std::uint64_t> lastDone;
    std::uint64_t lastStep = 0;
    // libcurl calls back for every buffer it receives (and while idle); the GUI needs a bar that moves, not thousands
    // of events: the first bytes, each step, and the last bytes, each once.
    const auto onProgress = [&](std::uint64_t done, std::uint64_t total) {
        const std::uint64_t step = total > 0 ? done * kProgressSteps / total : done / kUnknownSizeStepBytes;
        if (lastDone && (done == *lastDone || (step == lastStep && done != total)))
            return;
        lastDone = done;
        lastStep = step;
        Q_EMIT progress(offer.model, static_cast<qint64>(done), static_cast<qint64>(total));
    };
    try {
        const std::string folder = cacheDir.isEmpty() ? weightsCacheDir() : toCorePath(cacheDir);
        const DownloadResult result = downloadWeights(offer.entry, folder, onProgress, m_cancel.get());
        QString warning;
        if (!result.verified)
            warning = tr("%1 is NOT VERIFIED: the registry has no SHA-256 for it (%2). Its SHA-256 is %3; compare it "
                         "with a source you trust.")
                          .arg(fromCorePath(result.path), QString::fromStdString(offer.entry.note),
                               QString::fromStdString(result.sha256));
        Q_EMIT finished(offer.model, fromCorePath(result.path), warning);
    } catch (const DownloadError& e) {   // names the URL
        Q_EMIT failed(offer.model, QString::fromUtf8(e.what()), m_cancel->load());
    } catch (const std::exception& e) {   // the cache folder cannot be made, the disk is full, ...
        Q_EMIT failed(offer.model, QString::fromStdString(offer.entry.url) + ": " + QString::fromUtf8(e.what()),
                      m_cancel->load());
    }
#else
    Q_UNUSED(cacheDir);
    Q_EMIT failed(offer.model, tr("this build cannot download (it was built without libcurl)"), false);
#endif
}

} // namespace efficientnet::desktop
