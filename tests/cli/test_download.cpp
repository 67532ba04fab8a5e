// efficientnet-cli download against a local server (tests/support/weights_server.py on 127.0.0.1) and a registry
// pointing there: a verified file lands in the cache under its final name and classify finds it by model name; a hash
// mismatch, a server error, a refused connection and a truncated transfer exit 1 with the problem and never leave a
// file under the final name; a truncated transfer resumes with a Range request; a cached file is not fetched again.
#include <QtTest/QtTest>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "test_support.h"
#include "weights_server.h"

using efficientnet::test::referencePath;
using efficientnet::test::runCli;
using efficientnet::test::resourcesPath;
using efficientnet::test::sha256Hex;

namespace {

constexpr const char* kModel = "efficientnet_b0";
constexpr const char* kServedFile = "efficientnet_b0.pth";             // torchvision keys
constexpr const char* kServedLukemelas = "efficientnet_b0.lukemelas.pth";
constexpr int kHubPrefixDigits = 8;

QString ref(const char* name) { return QString::fromStdString(referencePath(name)); }

// The tool's environment: this test's cache only, and no proxy between it and 127.0.0.1.
QProcessEnvironment toolEnv(const QString& cacheDir)
{
    auto env = efficientnet::test::withoutProxies(QProcessEnvironment::systemEnvironment());
    env.insert("EFFICIENTNET_CACHE_DIR", cacheDir);
    env.insert("TORCH_HOME", cacheDir + "/torch");
    return env;
}

QJsonObject registryEntry(const QString& url, const QString& file, const QString& sha256)
{
    return efficientnet::test::registryEntry(kModel, url, file, sha256);
}

void writeRegistry(const QString& path, const QJsonArray& entries)
{
    efficientnet::test::writeRegistry(path, {{kModel, entries}});
}

// One download's world: a registry file and an empty cache folder.
struct Scratch {
    QTemporaryDir dir;
    QString registry() const { return dir.filePath("registry.json"); }
    QString cache() const { return dir.filePath("cache"); }
    QString cached(const QString& file) const { return cache() + "/" + file; }
    QStringList download(const QString& name = kModel) const
    {
        return {"download", name, "--registry", registry(), "--cache-dir", cache()};
    }
};

} // namespace

class TestDownload : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    efficientnet::test::WeightsServer m_server;
    QString m_sha256;      // of the served checkpoint
    qint64 m_size = 0;

    QString url(const char* kind, const char* file = kServedFile) const { return m_server.url(kind, file); }
    QString fileName() const { return QString(kModel) + "_test-" + m_sha256.left(kHubPrefixDigits) + ".pth"; }

    QList<QJsonObject> requests() const { return m_server.requests(); }

    efficientnet::test::CliRun classifyCached(const Scratch& s, const QString& model) const
    {
        return runCli({"classify", "--json", "--model", model, QString::fromStdString(resourcesPath("samples/cat.jpg"))},
                      toolEnv(s.cache()));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QDir().mkpath(m_dir.filePath("www")));
        QVERIFY(QFile::copy(ref(kServedFile), m_dir.filePath("www/") + kServedFile));
        QVERIFY(QFile::copy(ref(kServedLukemelas), m_dir.filePath("www/") + kServedLukemelas));
        m_sha256 = sha256Hex(ref(kServedFile));
        m_size = QFileInfo(ref(kServedFile)).size();
        QVERIFY(m_size > 1);

        const QString error = m_server.start(m_dir.filePath("www"), m_dir.filePath("requests.log"));
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void verifiedDownloadIsCachedAndClassifyFindsIt_data()
    {
        QTest::addColumn<bool>("prefix");
        QTest::newRow("full SHA-256") << false;
        QTest::newRow("torch.hub prefix") << true;
    }

    void verifiedDownloadIsCachedAndClassifyFindsIt()
    {
        QFETCH(bool, prefix);
        Scratch s;
        auto entry = registryEntry(url("good"), fileName(), prefix ? m_sha256.left(kHubPrefixDigits) : m_sha256);
        if (prefix)
            entry["sha256_prefix"] = true;
        writeRegistry(s.registry(), {entry});

        const auto run = runCli(s.download(), toolEnv(s.cache()));
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QCOMPARE(QString::fromUtf8(run.out.trimmed()), s.cached(fileName()));
        QCOMPARE(sha256Hex(s.cached(fileName())), m_sha256);
        QVERIFY(!QFile::exists(s.cached(fileName()) + ".part"));
        QVERIFY2(run.err.contains("SHA-256 verified"), run.err.constData());

        const auto classify = classifyCached(s, kModel);
        QVERIFY2(classify.exitCode == 0, classify.err.constData());
        const auto weights = QJsonDocument::fromJson(classify.out).object()["weights"].toString();
        QVERIFY2(weights.contains(fileName()), qPrintable(weights));
    }

    void cachedFileIsNotDownloadedAgain()
    {
        Scratch s;
        writeRegistry(s.registry(), {registryEntry(url("good"), fileName(), m_sha256)});
        const auto first = runCli(s.download(), toolEnv(s.cache()));
        QCOMPARE(first.exitCode, 0);
        const auto requestsBefore = requests().size();
        const auto second = runCli(s.download(), toolEnv(s.cache()));
        QCOMPARE(second.exitCode, 0);
        QCOMPARE(second.out, first.out);
        QCOMPARE(requests().size(), requestsBefore);
        QVERIFY2(second.err.contains("already in the cache"), second.err.constData());
    }

    void hashMismatchIsRejectedAndNothingCached()
    {
        Scratch s;
        writeRegistry(s.registry(), {registryEntry(url("corrupt"), fileName(), m_sha256)});
        const auto run = runCli(s.download(), toolEnv(s.cache()));
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("SHA-256 mismatch") && run.err.contains(url("corrupt").toUtf8()), run.err.constData());
        QVERIFY(!QFile::exists(s.cached(fileName())));
        QVERIFY(!QFile::exists(s.cached(fileName()) + ".part"));   // resuming it would only reproduce it
    }

    void serverErrorExitsOneWithTheStatus()
    {
        Scratch s;
        writeRegistry(s.registry(), {registryEntry(url("error"), fileName(), m_sha256)});
        const auto run = runCli(s.download(), toolEnv(s.cache()));
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("HTTP 500") && run.err.contains(url("error").toUtf8()), run.err.constData());
        QVERIFY(!QFile::exists(s.cached(fileName())));
        QVERIFY(!QFile::exists(s.cached(fileName()) + ".part"));   // nothing was received to resume from
    }

    void refusedConnectionExitsOneNamingTheUrl()
    {
        // Port 1 on the loopback: nothing listens there, so the connection is refused at once.
        const QString refused = "http://127.0.0.1:1/good/" + QString(kServedFile);
        Scratch s;
        writeRegistry(s.registry(), {registryEntry(refused, fileName(), m_sha256)});
        const auto run = runCli(s.download(), toolEnv(s.cache()));
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("connection failed") && run.err.contains(refused.toUtf8()), run.err.constData());
        QVERIFY(!QFile::exists(s.cached(fileName())));
    }

    void truncatedTransferIsKeptAndResumedWithARange()
    {
        Scratch s;
        writeRegistry(s.registry(), {registryEntry(url("truncated"), fileName(), m_sha256)});
        const auto cut = runCli(s.download(), toolEnv(s.cache()));
        QCOMPARE(cut.exitCode, 1);
        QVERIFY2(cut.err.contains("truncated"), cut.err.constData());
        QVERIFY(!QFile::exists(s.cached(fileName())));
        const qint64 kept = QFileInfo(s.cached(fileName()) + ".part").size();
        QCOMPARE(kept, m_size / 2);   // the server sends half, then closes

        const auto resumed = runCli(s.download(), toolEnv(s.cache()));
        QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
        QVERIFY2(resumed.err.contains("resumed"), resumed.err.constData());
        QCOMPARE(requests().last()["path"].toString(), "/truncated/" + QString(kServedFile));
        QCOMPARE(requests().last()["range"].toString(), "bytes=" + QString::number(kept) + "-");
        QCOMPARE(sha256Hex(s.cached(fileName())), m_sha256);
        QVERIFY(!QFile::exists(s.cached(fileName()) + ".part"));
    }

    void entryWithoutHashIsInstalledWithAWarning()
    {
        Scratch s;
        auto entry = registryEntry(url("good"), fileName(), {});
        entry["sha256"] = QJsonValue::Null;
        entry["note"] = "no hash published";
        writeRegistry(s.registry(), {entry});
        const auto run = runCli(s.download(), toolEnv(s.cache()));
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY2(run.err.contains("NOT VERIFIED") && run.err.contains("no hash published") &&
                     run.err.contains(m_sha256.toUtf8()),
                 run.err.constData());
        QCOMPARE(sha256Hex(s.cached(fileName())), m_sha256);
    }

    void lukemelasWeightsAreFoundByTheirModelName()
    {
        Scratch s;
        const QString file = "efficientnet-b0-0123abcd.pth";
        QJsonObject lukemelas{{"source", "lukemelas"}, {"model", "efficientnet-b0"}, {"url", url("good", kServedLukemelas)},
                              {"file", file}, {"sha256", sha256Hex(ref(kServedLukemelas))}};
        writeRegistry(s.registry(), {registryEntry(url("good"), fileName(), m_sha256), lukemelas});
        // Asked by the torchvision name with --source, it says which name to classify with.
        auto run = runCli(s.download() << "--source" << "lukemelas", toolEnv(s.cache()));
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QCOMPARE(QString::fromUtf8(run.out.trimmed()), s.cached(file));
        QVERIFY2(run.err.contains("--model efficientnet-b0"), run.err.constData());
        QVERIFY(!QFile::exists(s.cached(fileName())));
        // Asked by the lukemelas name, the lukemelas entry is the one.
        run = runCli(s.download("efficientnet-b0"), toolEnv(s.cache()));
        QCOMPARE(QString::fromUtf8(run.out.trimmed()), s.cached(file));

        const auto classify = classifyCached(s, "efficientnet-b0");
        QVERIFY2(classify.exitCode == 0, classify.err.constData());
        QVERIFY(QJsonDocument::fromJson(classify.out).object()["weights"].toString().contains(file));
    }

    void brokenRegistryEntriesAreNamed_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QJsonValue>("value");
        QTest::addColumn<QString>("message");
        QTest::newRow("file outside the cache") << "file" << QJsonValue("../efficientnet_b0.pth") << "plain file name";
        QTest::newRow("file classify would not find") << "file" << QJsonValue("b0.pth") << "must start with";
        QTest::newRow("model of another variant") << "model" << QJsonValue("efficientnet_b1") << "not a efficientnet_b0";
        QTest::newRow("short hash") << "sha256" << QJsonValue("7f5810bc") << "64 hex digits";
        QTest::newRow("no hash and no note") << "sha256" << QJsonValue(QJsonValue::Null) << "needs a 'note'";
        QTest::newRow("file URL") << "url" << QJsonValue("file:///etc/passwd") << "http";
        QTest::newRow("misspelt key") << "sha265" << QJsonValue("x") << "unknown key 'sha265'";
    }

    void brokenRegistryEntriesAreNamed()
    {
        QFETCH(QString, key);
        QFETCH(QJsonValue, value);
        QFETCH(QString, message);
        Scratch s;
        auto entry = registryEntry(url("good"), fileName(), m_sha256);
        entry[key] = value;
        writeRegistry(s.registry(), {entry});
        const auto before = requests().size();
        const auto run = runCli(s.download(), toolEnv(s.cache()));
        QCOMPARE(run.exitCode, 1);
        const QString err = QString::fromUtf8(run.err);
        QVERIFY2(err.contains(s.registry()) && err.contains("variants.efficientnet_b0[0]") && err.contains(message),
                 qPrintable(err));
        QCOMPARE(requests().size(), before);
    }

    void unknownModelOrSourceExitsOne()
    {
        Scratch s;
        writeRegistry(s.registry(), {registryEntry(url("good"), fileName(), m_sha256)});
        auto run = runCli(s.download("resnet50"), toolEnv(s.cache()));
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("unknown model 'resnet50'"), run.err.constData());
        run = runCli(s.download() << "--source" << "timm", toolEnv(s.cache()));
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("no download for efficientnet_b0 from timm"), run.err.constData());
        run = runCli({"download"}, toolEnv(s.cache()));
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("model NAME"), run.err.constData());
    }

    void bundledRegistryIsValid()
    {
        // The whole file is validated before an entry is chosen, and a source the variant lacks fails before any
        // request: this checks resources/weights_registry.json without touching the network.
        const auto run = runCli({"download", "efficientnet_v2_s", "--source", "lukemelas", "--cache-dir",
                                 m_dir.filePath("unused")},
                                toolEnv(m_dir.filePath("unused")));
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("weights_registry.json: no download for efficientnet_v2_s from lukemelas; it has "
                                  "efficientnet_v2_s (torchvision)"),
                 run.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestDownload)
#include "test_download.moc"
