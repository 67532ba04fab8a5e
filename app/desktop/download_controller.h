#pragma once
// Owns the download thread and its worker (Qt's worker pattern, as InferenceController): a download of pretrained
// weights from the registry runs on a thread of its own, so neither the GUI nor inference waits for it. Cancel is a
// flag the transfer polls; the destructor sets it, then quit() and wait().
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>
#include <optional>

#include "download_worker.h"

namespace efficientnet::desktop {

class DownloadController : public QObject {
    Q_OBJECT

public:
    // registryFile: resources/weights_registry.json's format, read each time an offer is asked for.
    explicit DownloadController(const QString& registryFile, QObject* parent = nullptr);
    ~DownloadController() override;

    // Whether this build can download at all (libcurl and OpenSSL were found).
    static bool supported();

    // The registry's download for a model name (any name the model chooser or --model takes); nullopt when there
    // is none, with the reason in *why: no download in this build, a registry that cannot be read (named), or no
    // entry for the model.
    std::optional<WeightsOffer> offerFor(const QString& model, QString* why = nullptr) const;
    // Starts downloading into the weights cache (weightsCacheDir()); false while another download runs.
    bool start(const WeightsOffer& offer);
    void cancel();
    bool finish(unsigned long timeoutMs);   // cancels, ends the thread; false when it did not end in time
    bool isRunning() const { return m_running; }
    const QString& registryFile() const { return m_registryFile; }
    const QThread* workerThread() const { return &m_thread; }
    DownloadWorker* worker() const { return m_worker; }

Q_SIGNALS:
    void progress(const QString& model, qint64 done, qint64 total);
    void finished(const QString& model, const QString& path, const QString& warning);
    void failed(const QString& model, const QString& error, bool cancelled);

private:
    QString m_registryFile;
    QThread m_thread;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    DownloadWorker* m_worker;   // lives on m_thread; deleted there when it finishes
    bool m_running = false;
};

} // namespace efficientnet::desktop
