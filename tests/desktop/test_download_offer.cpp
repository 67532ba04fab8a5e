// The app's weights download against a local server (tests/support/weights_server.py on 127.0.0.1), a registry
// pointing there and an empty weights cache: the random-weights banner offers the download; taking it (the offer's
// button or File > Download weights) downloads on a thread of its own with increasing progress, the file lands in
// the cache and the model reloads on it (banner and offer gone, the reference's answers back); a hash mismatch or a
// server error is reported naming the URL and leaves nothing under the final name; a cancel mid-transfer leaves no
// file and the app classifying; a model chosen without weights offers its download instead of running on random
// ones; an unreadable registry offers nothing and says why.
#include <QtTest/QtTest>

#include <QStatusBar>

#include <QAction>
#include <QPushButton>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <memory>

#include "desktop_app.h"
#include "desktop_test_support.h"
#include "efficientnet/ui/main_window.h"
#include "weights_server.h"

using namespace efficientnet::desktop;
using namespace efficientnet::desktop::test;
using efficientnet::test::registryEntry;
using efficientnet::test::sha256Hex;

namespace {

constexpr int kDownloadTimeoutMs = 120000;
constexpr const char* kModel = "efficientnet_b0";
constexpr const char* kServed = "e2e_b0.pth";              // the reference weights e2e_reference.json answers with
constexpr const char* kOtherModel = "efficientnet_b1";
constexpr const char* kOtherServed = "efficientnet_b1.pth";
constexpr int kHubPrefixDigits = 8;
constexpr double kSizeTolerance = 0.05;                    // the offer's size is an estimate from the parameters

// The cache name the registry gives a served file: the model's name first, as findCachedWeights needs.
QString cacheName(const QString& model, const QString& sha256)
{
    return model + "_test-" + sha256.left(kHubPrefixDigits) + ".pth";
}

QPushButton* button(const DesktopApp& app, const char* name) { return app.window()->findChild<QPushButton*>(name); }

} // namespace

class TestDownloadOffer : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    efficientnet::test::WeightsServer m_server;
    QString m_sha256;        // of kServed
    QString m_otherSha256;   // of kOtherServed
    qint64 m_size = 0;

    // Each test and data row gets its own empty cache and registry.
    QString scratch(const QString& name) const
    {
        const QString tag = QTest::currentDataTag() ? QString(QTest::currentDataTag()).replace(' ', '_') : QString();
        return m_dir.filePath(QString("%1-%2-%3").arg(QTest::currentTestFunction(), tag, name));
    }
    QString cacheDir() const { return scratch("cache"); }
    QString cached() const { return cacheDir() + "/" + cacheName(kModel, m_sha256); }

    // An app on an empty cache whose registry serves efficientnet_b0 (and b1) through the server's `kind` of URL.
    std::unique_ptr<DesktopApp> startApp(const QString& kind, const QString& weights = {})
    {
        qputenv("EFFICIENTNET_CACHE_DIR", cacheDir().toUtf8());
        efficientnet::test::writeRegistry(
            scratch("registry.json"),
            {{kModel, QJsonArray{registryEntry(kModel, m_server.url(kind, kServed), cacheName(kModel, m_sha256), m_sha256)}},
             {kOtherModel, QJsonArray{registryEntry(kOtherModel, m_server.url(kind, kOtherServed),
                                                    cacheName(kOtherModel, m_otherSha256), m_otherSha256)}}});
        AppOptions o;
        o.model = kModel;
        o.weights = weights;
        o.device = "cpu";
        o.settingsFile = scratch("settings.ini");
        o.registryFile = scratch("registry.json");
        return startedApp(o);
    }

    // Classifies a sample and checks the reference weights' answer.
    void classifiesLikeTheReference(DesktopApp& app)
    {
        QSignalSpy results(app.inference(), &InferenceController::fileClassified);
        app.openFiles({sample("cat.jpg")});
        QVERIFY(results.wait(kClassifyTimeoutMs));
        const FileResult r = resultAt(results, 0);
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.predictions.front().index, expectedFor(sample("cat.jpg")).top1);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // Nothing the developer has cached may leak in, and the app's libcurl goes straight to 127.0.0.1.
        qputenv("TORCH_HOME", m_dir.filePath("torch").toUtf8());
        qputenv("XDG_CACHE_HOME", m_dir.filePath("xdg").toUtf8());
        efficientnet::test::removeProxiesFromThisProcess();
        QVERIFY(QDir().mkpath(m_dir.filePath("www")));
        for (const char* file : {kServed, kOtherServed})
            QVERIFY(QFile::copy(ref(file), m_dir.filePath("www/") + file));
        m_sha256 = sha256Hex(ref(kServed));
        m_otherSha256 = sha256Hex(ref(kOtherServed));
        m_size = QFileInfo(ref(kServed)).size();
        QVERIFY(m_size > 0 && !m_otherSha256.isEmpty());
        const QString error = m_server.start(m_dir.filePath("www"), m_dir.filePath("requests.log"));
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void offerDownloadsAndReloadsTheModel_data()
    {
        QTest::addColumn<bool>("fromMenu");
        QTest::newRow("the banner's offer") << false;
        QTest::newRow("File > Download weights") << true;
    }
    void offerDownloadsAndReloadsTheModel()
    {
        QFETCH(bool, fromMenu);
        auto app = startApp("good");
        QVERIFY(app);
        QVERIFY(app->currentModel().randomWeights);
        QVERIFY(app->window()->warningText().contains("RANDOM weights"));
        const QString offer = app->window()->downloadOfferText();
        const auto size = QRegularExpression("^Download efficientnet_b0 weights \\(about (\\d+) MB\\)$").match(offer);
        QVERIFY2(size.hasMatch(), qPrintable(offer));
        QVERIFY2(qAbs(size.captured(1).toDouble() * 1e6 - m_size) < kSizeTolerance * m_size, qPrintable(offer));

        QThread* downloadedOn = nullptr;
        connect(app->download()->worker(), &DownloadWorker::progress, this,
                [&] { downloadedOn = QThread::currentThread(); }, Qt::DirectConnection);
        QSignalSpy progress(app->download(), &DownloadController::progress);
        QSignalSpy finished(app->download(), &DownloadController::finished);
        QSignalSpy loaded(app->inference(), &InferenceController::modelLoaded);
        if (fromMenu)
            app->window()->findChild<QAction*>("downloadAction")->trigger();
        else
            button(*app, "downloadButton")->click();
        QVERIFY(app->window()->downloadProgressText().startsWith("Downloading efficientnet_b0 weights"));
        QCOMPARE(app->window()->downloadOfferText(), QString());
        QVERIFY(finished.wait(kDownloadTimeoutMs));

        // Progress: several reports, bytes rising to the whole file, from the download thread.
        QVERIFY2(progress.count() >= 2, qPrintable(QString::number(progress.count())));
        for (int i = 1; i < progress.count(); ++i)
            QVERIFY(progress.at(i).at(1).toLongLong() > progress.at(i - 1).at(1).toLongLong());
        QCOMPARE(progress.last().at(1).toLongLong(), m_size);
        QCOMPARE(progress.last().at(2).toLongLong(), m_size);
        QVERIFY(downloadedOn);
        QCOMPARE(downloadedOn, app->download()->workerThread());
        QVERIFY(downloadedOn != QCoreApplication::instance()->thread());
        QVERIFY(downloadedOn != app->inference()->workerThread());

        // The verified file is in the cache under its final name, and the model reloads on it.
        QCOMPARE(finished.at(0).at(1).toString(), cached());
        QCOMPARE(finished.at(0).at(2).toString(), QString());   // verified: no warning
        QCOMPARE(sha256Hex(cached()), m_sha256);
        QVERIFY(!QFile::exists(cached() + ".part"));
        QVERIFY(!loaded.isEmpty() || loaded.wait(kLoadTimeoutMs));   // the reload follows the download
        QVERIFY(!app->currentModel().randomWeights);
        QVERIFY2(app->currentModel().weights.contains(cacheName(kModel, m_sha256)), qPrintable(app->currentModel().weights));
        QCOMPARE(app->window()->warningText(), QString());
        QCOMPARE(app->window()->downloadOfferText(), QString());
        QCOMPARE(app->window()->downloadProgressText(), QString());
        classifiesLikeTheReference(*app);
    }

    void failedDownloadIsReportedAndNothingCached_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("problem");
        QTest::newRow("hash mismatch") << "corrupt" << "SHA-256 mismatch";
        QTest::newRow("server error") << "error" << "HTTP 500";
    }
    void failedDownloadIsReportedAndNothingCached()
    {
        QFETCH(QString, kind);
        QFETCH(QString, problem);
        auto app = startApp(kind);
        QVERIFY(app);
        const QString offer = app->window()->downloadOfferText();
        QVERIFY(!offer.isEmpty());
        QSignalSpy failed(app->download(), &DownloadController::failed);
        QSignalSpy loaded(app->inference(), &InferenceController::modelLoaded);
        button(*app, "downloadButton")->click();
        QVERIFY(failed.wait(kDownloadTimeoutMs));
        QCOMPARE(failed.at(0).at(2).toBool(), false);   // not cancelled
        const QString error = app->window()->errorText();
        QVERIFY2(error.contains(m_server.url(kind, kServed)) && error.contains(problem), qPrintable(error));
        QVERIFY(!QFile::exists(cached()));
        QVERIFY(!QFile::exists(cached() + ".part"));   // a corrupt file is not kept to resume from
        // Still on random weights, with the offer back to try again.
        QVERIFY(app->currentModel().randomWeights);
        QVERIFY(app->window()->warningText().contains("RANDOM weights"));
        QCOMPARE(app->window()->downloadOfferText(), offer);
        QCOMPARE(app->window()->downloadProgressText(), QString());
        QCOMPARE(loaded.count(), 0);
    }

    void cancelMidTransferLeavesNoFileAndTheAppUsable()
    {
        auto app = startApp("slow");   // ~16 s for the whole file
        QVERIFY(app);
        QSignalSpy progress(app->download(), &DownloadController::progress);
        QSignalSpy failed(app->download(), &DownloadController::failed);
        button(*app, "downloadButton")->click();
        QTRY_VERIFY_WITH_TIMEOUT(progress.count() > 0 && progress.last().at(1).toLongLong() > 0, kDownloadTimeoutMs);
        QPushButton* cancel = button(*app, "downloadCancelButton");
        QVERIFY(cancel && cancel->isVisible());
        cancel->click();
        QVERIFY(failed.wait(kDownloadTimeoutMs));
        QCOMPARE(failed.at(0).at(2).toBool(), true);
        QVERIFY(progress.last().at(1).toLongLong() < m_size);   // it really stopped mid-transfer
        // What the user asked for is said in the status bar, not shown as an error.
        QCOMPARE(app->window()->errorText(), QString());
        QVERIFY2(app->window()->statusBar()->currentMessage().contains("cancelled"),
                 qPrintable(app->window()->statusBar()->currentMessage()));
        QVERIFY(!QFile::exists(cached()));
        QVERIFY(app->currentModel().randomWeights);
        QVERIFY(!app->window()->downloadOfferText().isEmpty());
        QVERIFY(!cancel->isVisible());
        // The app goes on classifying (on random weights: any answer, but an answer).
        QSignalSpy shown(app.get(), &DesktopApp::fileShown);
        app->openFiles({sample("cat.jpg")});
        QVERIFY(shown.wait(kClassifyTimeoutMs));
    }

    void modelWithoutWeightsOffersItsDownload()
    {
        auto app = startApp("good", ref(kServed));
        QVERIFY(app);
        QVERIFY(!app->currentModel().randomWeights);
        QCOMPARE(app->window()->downloadOfferText(), QString());   // real weights: nothing to offer
        app->chooseModel(kOtherModel);   // refused at once: nothing to load
        // Not silently random: the window says so, the old model stays, and the new one's download is offered, with
        // random weights as the other choice.
        QVERIFY2(app->window()->offerText().contains("Still using efficientnet_b0"), qPrintable(app->window()->offerText()));
        QCOMPARE(app->currentModel().config.model, QString(kModel));
        QVERIFY(!app->currentModel().randomWeights);
        QVERIFY2(app->window()->downloadOfferText().startsWith("Download efficientnet_b1 weights"),
                 qPrintable(app->window()->downloadOfferText()));
        classifiesLikeTheReference(*app);   // inference is not held up by the offer

        QSignalSpy finished(app->download(), &DownloadController::finished);
        QSignalSpy loaded(app->inference(), &InferenceController::modelLoaded);
        button(*app, "downloadButton")->click();
        QVERIFY(finished.wait(kDownloadTimeoutMs));
        QVERIFY(!loaded.isEmpty() || loaded.wait(kLoadTimeoutMs));   // the reload follows the download
        QCOMPARE(app->currentModel().config.model, QString(kOtherModel));
        QVERIFY(!app->currentModel().randomWeights);
        QVERIFY(app->currentModel().weights.contains(cacheName(kOtherModel, m_otherSha256)));
        QCOMPARE(sha256Hex(cacheDir() + "/" + cacheName(kOtherModel, m_otherSha256)), m_otherSha256);
        QCOMPARE(app->window()->downloadOfferText(), QString());
        QCOMPARE(app->window()->errorText(), QString());
    }

    void unreadableRegistryOffersNothingAndSaysWhy()
    {
        qputenv("EFFICIENTNET_CACHE_DIR", cacheDir().toUtf8());
        const QString missing = scratch("no_such_registry.json");
        AppOptions o;
        o.model = kModel;
        o.device = "cpu";
        o.settingsFile = scratch("settings.ini");
        o.registryFile = missing;
        auto app = startedApp(o);
        QVERIFY(app);
        QVERIFY(app->currentModel().randomWeights);
        QCOMPARE(app->window()->downloadOfferText(), QString());
        const QString banner = app->window()->warningText();
        QVERIFY2(banner.contains("No download is offered") && banner.contains(missing), qPrintable(banner));
        // File > Download weights says the same rather than doing nothing.
        app->window()->findChild<QAction*>("downloadAction")->trigger();
        QVERIFY2(app->window()->errorText().contains(missing), qPrintable(app->window()->errorText()));
        QVERIFY(!app->download()->isRunning());
    }
};

QTEST_MAIN(TestDownloadOffer)
#include "test_download_offer.moc"
