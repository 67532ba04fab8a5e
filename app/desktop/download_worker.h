#pragma once
// The download worker: lives on the download thread and fetches one checkpoint at a time with the core's verifying
// downloader (download.h), reporting progress, the file or the error by signals. Exceptions stop here: a failure
// becomes an error value naming the URL and the problem.
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>

#include "efficientnet/download.h"

namespace efficientnet::desktop {

// What the registry offers for a model: its entry, and roughly how big the file is before the server says.
struct WeightsOffer {
    QString model;              // as the user named it; loaded with the file once it is in the cache
    WeightsDownload entry;      // URL, name in the cache, expected hash
    qint64 approxBytes = 0;     // four bytes per parameter: fp32 state_dicts are that within a few percent
};

class DownloadWorker : public QObject {
    Q_OBJECT

public:
    // cancel: set by the controller on the GUI thread; the transfer polls it.
    explicit DownloadWorker(std::shared_ptr<const std::atomic<bool>> cancel);

    // Blocking: runs on the download thread, which has nothing else to do meanwhile. cacheDir empty: the weights
    // cache (weightsCacheDir(), asked here so that its failure is reported by failed()).
    void download(const efficientnet::desktop::WeightsOffer& offer, const QString& cacheDir);

Q_SIGNALS:
    // At most about a hundred per download (every percent; every MiB while the size is unknown), and the last bytes.
    void progress(const QString& model, qint64 done, qint64 total);
    // warning: non-empty when the registry had no hash to verify the file against (it says the file's SHA-256).
    void finished(const QString& model, const QString& path, const QString& warning);
    void failed(const QString& model, const QString& error, bool cancelled);

private:
    std::shared_ptr<const std::atomic<bool>> m_cancel;
};

} // namespace efficientnet::desktop
