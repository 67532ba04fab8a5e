// Every checkpoint a user brings gives its own source's answers end to end (issue 10): a fine-tuned 5-class
// torchvision model with its labels, lukemelas's models through lukemelas's transform, timm tags through their
// pretrained_cfg (crop_pct, test size, Inception normalisation), a Hugging Face folder with config.json, a 21,843-class
// head; files written by convert classify alone; labels and configs that are wrong or hostile are refused with the
// file named. The reference answers come from tests/reference/sources.py (PIL + each source's transform).
#include <algorithm>

#include <torch/torch.h>

#include <QtTest/QtTest>

#include <QLocale>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include "efficientnet/checkpoint_info.h"
#include "efficientnet/errors.h"
#include "efficientnet/model.h"
#include "efficientnet/weights.h"
#include "test_support.h"

using namespace efficientnet;
using efficientnet::test::readFloats;
using efficientnet::test::referencePath;
using efficientnet::test::runCli;

namespace {

constexpr double kProbabilityTolerance = 1e-4;   // float rounding: the resize is Pillow's, byte for byte
constexpr int kIn21kClasses = 21843;

QString ref(const std::string& name) { return QString::fromStdString(referencePath("sources/" + name)); }

QJsonObject readJson(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

QJsonObject parseJson(const QByteArray& text)
{
    QJsonParseError error;
    const auto doc = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError)
        qWarning("not JSON: %s\n%s", qPrintable(error.errorString()), text.constData());
    return doc.object();
}

QJsonObject cases() { return readJson(ref("cases.json")); }

bool writeText(const QString& path, const QByteArray& text)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(text) == text.size();
}

// Agreement of `run`'s JSON results with the reference results: photos whose top-k indices (and labels) are equal.
struct Agreement {
    int agreed = 0;
    int total = 0;
    double maxDifference = 0;   // of the top-k probabilities, over the photos that agree in classes
    QString first;   // the first difference, for the message
};

Agreement compare(const QJsonObject& reference, const QJsonObject& document)
{
    Agreement a;
    const auto expected = reference["results"].toArray();
    const auto got = document["results"].toArray();
    const auto labels = reference["labels"].toArray();
    for (int i = 0; i < expected.size(); ++i) {
        ++a.total;
        const auto e = expected[i].toObject();
        const auto g = i < got.size() ? got[i].toObject() : QJsonObject();
        const auto topk = e["topk"].toArray();
        const auto predictions = g["predictions"].toArray();
        bool same = predictions.size() == topk.size();
        for (int k = 0; same && k < topk.size(); ++k) {
            const auto p = predictions[k].toObject();
            if (p["index"].toInt() == topk[k].toInt())
                a.maxDifference = std::max(a.maxDifference, std::abs(p["probability"].toDouble() -
                                                                     e["probabilities"].toArray()[k].toDouble()));
            same = p["index"].toInt() == topk[k].toInt() &&
                   std::abs(p["probability"].toDouble() - e["probabilities"].toArray()[k].toDouble()) <
                       kProbabilityTolerance &&
                   (labels.isEmpty() || p["label"].toString() == labels[topk[k].toInt()].toString());
        }
        if (same)
            ++a.agreed;
        else if (a.first.isEmpty())
            a.first = e["path"].toString() + ": expected " + QJsonDocument(topk).toJson(QJsonDocument::Compact) +
                      ", got " + QJsonDocument(predictions).toJson(QJsonDocument::Compact);
    }
    return a;
}

QStringList classifyArgs(const QJsonObject& c, const QStringList& photos)
{
    // The CPU in fp32, as the reference ran: on a GPU machine auto would be fp16 (test_cuda compares that path).
    QStringList args{"classify", "--json", "--device", "cpu", "--topk", QString::number(c["results"].toArray()[0].toObject()["topk"]
                                                                         .toArray().size()),
                     "--weights", c["weights"].toString()};
    if (!c["model"].isNull())
        args << "--model" << c["model"].toString();
    return args + photos;
}

QStringList photos()
{
    QStringList list;
    for (const auto& p : cases()["photos"].toArray())
        list << p.toString();
    return list;
}

QString failureOf(const QStringList& args)
{
    const auto run = runCli(args);
    return run.exitCode == 1 ? QString::fromUtf8(run.err) : QString("exit %1: %2").arg(run.exitCode).arg(QString::fromUtf8(run.err));
}

} // namespace

class TestSources : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void eachSourceGivesItsReferenceAnswers_data()
    {
        QTest::addColumn<QJsonObject>("reference");
        const auto list = cases()["cases"].toArray();
        QVERIFY2(list.size() >= 8, "the reference data has no sources/cases.json (did reference_data run?)");
        for (const auto& c : list)
            QTest::newRow(qPrintable(c.toObject()["name"].toString())) << c.toObject();
    }

    void eachSourceGivesItsReferenceAnswers()
    {
        QFETCH(QJsonObject, reference);
        const auto run = runCli(classifyArgs(reference, photos()));
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const Agreement a = compare(reference, parseJson(run.out));
        qInfo("%s: %d of %d photos agree with the reference pipeline (top-%d and labels); max |probability "
              "difference| %.2g", qPrintable(reference["name"].toString()), a.agreed, a.total,
              int(reference["results"].toArray()[0].toObject()["topk"].toArray().size()), a.maxDifference);
        QVERIFY2(a.agreed == a.total, qPrintable(a.first));
        // The transform in use is said, and it is the source's own.
        QVERIFY2(run.err.contains("transform:") && run.err.contains(reference["transform"].toString().toUtf8()),
                 run.err.constData());
    }

    void theWrongTransformDoesNotGiveTheseAnswers()
    {
        // Proof that the test above can fail: V2-S through torchvision's transform (resize 384 bilinear, ImageNet
        // normalisation) instead of its timm tag's (bicubic, mean = std = 0.5) disagrees with the reference.
        for (const auto& c : cases()["cases"].toArray()) {
            const auto reference = c.toObject();
            if (reference["model"].toString() != "tf_efficientnetv2_s.in1k")
                continue;
            auto args = classifyArgs(reference, photos());
            args << "--interpolation" << "bilinear" << "--mean" << "0.485,0.456,0.406" << "--std" << "0.229,0.224,0.225";
            const auto run = runCli(args);
            QVERIFY2(run.exitCode == 0, run.err.constData());
            const Agreement a = compare(reference, parseJson(run.out));
            QVERIFY2(a.agreed < a.total, "ImageNet normalisation gave the same answers as the tag's own");
            return;
        }
        QFAIL("no tf_efficientnetv2_s.in1k case");
    }

    void convertedFilesClassifyAlone()
    {
        // convert stores the network, padding, transform and labels: the file alone, moved away from its sidecar
        // labels and given no --model, answers as the original.
        QTemporaryDir dir;
        for (const auto& c : cases()["cases"].toArray()) {
            auto reference = c.toObject();
            const QString name = reference["name"].toString();
            if (!name.startsWith("lukemelas efficientnet_b2") && !name.startsWith("own") && !name.startsWith("Hugging"))
                continue;
            const QString out = dir.filePath(QString::number(qHash(name)) + ".safetensors");
            QStringList convert{"convert", "--from", reference["weights"].toString(), "--to", out};
            if (!reference["model"].isNull())
                convert << "--model" << reference["model"].toString();
            const auto converted = runCli(convert);
            QVERIFY2(converted.exitCode == 0, converted.err.constData());
            reference["weights"] = out;
            reference["model"] = QJsonValue();
            const auto run = runCli(classifyArgs(reference, photos()));
            QVERIFY2(run.exitCode == 0, run.err.constData());
            const Agreement a = compare(reference, parseJson(run.out));
            QVERIFY2(a.agreed == a.total, qPrintable(name + ": " + a.first));
        }
    }

    void labelsComeFromWhereTheUserSays()
    {
        const QString weights = ref("own5_b0.pth");
        const auto inspect = [&](const QStringList& extra) {
            const auto run = runCli(QStringList{"inspect", "--json", weights} + extra);
            return run.exitCode == 0 ? parseJson(run.out) : QJsonObject{{"error", QString::fromUtf8(run.err)}};
        };
        // The sidecar own5_b0.labels.txt, then --labels in the id2label form.
        auto doc = inspect({});
        QCOMPARE(doc["classes"].toInt(), 5);
        QCOMPARE(doc["labels"].toObject()["first"].toArray()[0].toString(), QString("tabby"));
        QVERIFY(doc["labels"].toObject()["origin"].toString().endsWith("own5_b0.labels.txt"));
        QTemporaryDir dir;
        const QString list = dir.filePath("names.json");
        QVERIFY(writeText(list, R"(["a", "b", "c", "d", "e"])"));
        doc = inspect({"--labels", list});
        QCOMPARE(doc["labels"].toObject()["first"].toArray()[4].toString(), QString("e"));
        doc = inspect({"--labels", ref("own5_labels.json")});
        QCOMPARE(doc["labels"].toObject()["first"].toArray()[1].toString(), QString("rocket"));
    }

    void wrongLabelsAndConfigsAreRefusedNamingTheFile_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("problem");
        QTest::newRow("labels: too few") << "labels.txt" << QByteArray("a\nb\nc\n") << "has 3 class names but";
        QTest::newRow("labels: malformed JSON") << "labels.json" << QByteArray(R"(["a", "b",)") << "not valid JSON";
        QTest::newRow("labels: not names") << "labels.json" << QByteArray(R"([1, 2, 3, 4, 5])") << "not text";
        QTest::newRow("labels: index gap") << "labels.json" << QByteArray(R"({"0":"a","1":"b","2":"c","3":"d","7":"e"})")
                                           << "not one of the indices";
        QTest::newRow("labels: deep") << "labels.json" << QByteArray(2000, '[') << "deeper than 64";
        QTest::newRow("config: huge num_classes") << "config.json"
                                                  << QByteArray(R"({"architecture": "tf_efficientnet_b0", "num_classes": 1000000000000})")
                                                  << "num_classes is 1000000000000";
        QTest::newRow("config: wrong num_classes") << "config.json"
                                                   << QByteArray(R"({"architecture": "tf_efficientnet_b0", "num_classes": 7})")
                                                   << "says num_classes 7 but";
        QTest::newRow("config: architecture not text") << "config.json" << QByteArray(R"({"architecture": ["x"]})")
                                                       << "architecture is a list";
        QTest::newRow("config: another network") << "config.json" << QByteArray(R"({"architecture": "tf_efficientnet_b3"})")
                                                 << "not efficientnet_b3, as";
        QTest::newRow("config: unknown architecture") << "config.json" << QByteArray(R"({"architecture": "resnet50"})")
                                                      << "cannot build";
        QTest::newRow("config: pretrained_cfg types") << "config.json"
                                                      << QByteArray(R"({"pretrained_cfg": {"input_size": "big"}})")
                                                      << "pretrained_cfg.input_size";
        QTest::newRow("config: crop_pct") << "config.json"
                                          << QByteArray(R"({"pretrained_cfg": {"input_size": [3, 224, 224], "crop_pct": 7}})")
                                          << "pretrained_cfg.crop_pct";
        QTest::newRow("config: label count") << "config.json" << QByteArray(R"({"label_names": ["a", "b"]})")
                                             << "has 2 class names but";
        QTest::newRow("config: not JSON") << "config.json" << QByteArray("\x1b[2J{") << "not valid JSON";
    }

    void wrongLabelsAndConfigsAreRefusedNamingTheFile()
    {
        QFETCH(QString, file);
        QFETCH(QByteArray, content);
        QFETCH(QString, problem);
        QTemporaryDir dir;
        const QString path = dir.filePath(file);
        QVERIFY(writeText(path, content));
        QStringList args{"inspect"};
        if (file == "config.json") {   // a Hugging Face folder with this config beside the reference weights
            QVERIFY(QFile::copy(ref("hf_tf_efficientnet_b0/model.safetensors"), dir.filePath("model.safetensors")));
            args << dir.path();
        } else {
            args << ref("own5_b0.pth") << "--labels" << path;
        }
        const QString error = failureOf(args);
        QVERIFY2(error.contains(path) && error.contains(problem), qPrintable(error));
        QVERIFY2(!error.contains('\x1b'), qPrintable(error));
    }

    void anyNumberOfClassesMatchesTheReference()
    {
        // A 21,843-class head (timm's in21k size): the class count comes from the checkpoint, the logits match.
        ModelRequest request;
        request.weights = referencePath("sources/in21k_b0.pth");
        const CheckpointInfo info = inspectCheckpoint(request);
        QCOMPARE(info.numClasses, kIn21kClasses);
        QCOMPARE(info.labels.names.at(21842), std::string("class 21842"));
        EfficientNet model(EfficientNetOptions("efficientnet_b0").numClasses(info.numClasses));
        loadWeights(model, request.weights);
        model->eval();
        const auto input = readFloats(referencePath("efficientnet_b0.input.f32"));
        const auto expected = readFloats(referencePath("sources/in21k_b0.logits.f32"));
        const auto x = torch::from_blob(const_cast<float*>(input.data()), {2, 3, 224, 224}).clone();
        torch::NoGradGuard noGrad;
        const auto logits = model->forward(x);
        const auto reference = torch::from_blob(const_cast<float*>(expected.data()), {2, kIn21kClasses});
        QVERIFY(logits.sizes() == reference.sizes());
        const double error = (logits - reference).abs().max().item<double>();
        QVERIFY2(error < 1e-3, qPrintable(QString("max |logits - reference| = %1").arg(error)));
    }

    void timmTagsHaveTheirPublishedTransforms()
    {
        // Values from timm 1.0.29 timm/models/efficientnet.py default_cfgs, evaluated as resolve_data_config
        // (use_test_size=True) + transforms_imagenet_eval do: resize floor(size / crop_pct), crop size.
        const auto run = runCli({"models", "--json"});
        QVERIFY(run.exitCode == 0);
        QMap<QString, QJsonObject> tags;
        for (const auto& t : parseJson(run.out)["timm_tags"].toArray())
            tags[t.toObject()["name"].toString()] = t.toObject();
        const auto check = [&](const char* tag, int resize, int crop, double mean, const char* mode) {
            const auto transform = tags.value(tag)["transform"].toObject();
            QVERIFY2(!transform.isEmpty(), tag);
            QCOMPARE(transform["resize"].toInt(), resize);
            QCOMPARE(transform["crop"].toInt(), crop);
            QCOMPARE(transform["interpolation"].toString(), QString("bicubic"));
            QVERIFY(std::abs(transform["mean"].toArray()[0].toDouble() - mean) < 1e-6);
            QCOMPARE(transform["resize_mode"].toString(), QString(mode));
        };
        check("tf_efficientnetv2_s.in1k", 384, 384, 0.5, "shorter");      // test size 384, crop_pct 1.0
        check("tf_efficientnet_b3.in1k", 331, 300, 0.485, "shorter");     // 300 / 0.904
        check("efficientnet_b3.ra2_in1k", 320, 320, 0.485, "shorter");    // test size 320, test_crop_pct 1.0
        check("tf_efficientnet_b0.ap_in1k", 256, 224, 0.5, "shorter");    // Inception normalisation
        check("tf_efficientnetv2_m.in1k", 480, 480, 0.5, "squash");       // crop_mode squash
        QVERIFY(tags.value("tf_efficientnet_b0.ns_jft_in1k")["default"].toBool());   // timm's default tag
        QCOMPARE(tags.value("tf_efficientnetv2_s.in21k")["classes"].toInt(), kIn21kClasses);
    }

    void huggingFaceFolderIsReadWhole()
    {
        const auto run = runCli({"inspect", "--json", ref("hf_tf_efficientnet_b0")});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const auto doc = parseJson(run.out);
        QCOMPARE(doc["architecture"].toString(), QString("tf_efficientnet_b0"));
        QCOMPARE(doc["padding"].toString(), QString("tf-same"));
        QCOMPARE(doc["classes"].toInt(), 5);
        QCOMPARE(doc["labels"].toObject()["first"].toArray()[0].toString(), QString("tabby"));
        QVERIFY(doc["config"].toString().endsWith("config.json"));
        QCOMPARE(doc["transform"].toObject()["mean"].toArray()[0].toDouble(), 0.5);
        QVERIFY(doc["sha256"].toString().size() == 64 || doc["sha256"].toString().startsWith("(not computed"));
    }

    // Found by using it: inspect counted BatchNorm's running statistics and step counters as parameters. The figure
    // to match is torch's own, `sum(p.numel() for p in model.parameters())`, on torchvision's model of the network
    // the file holds, worked out by the reference Python here (b0: 5,288,548).
    void inspectCountsParametersAsTorchDoes_data()
    {
        QTest::addColumn<QString>("weights");
        QTest::addColumn<QString>("architecture");
        QTest::addColumn<int>("classes");
        const auto top = [](const char* name) { return QString::fromStdString(referencePath(name)); };
        QTest::newRow("torchvision b0, pth") << top("efficientnet_b0.pth") << "efficientnet_b0" << 1000;
        QTest::newRow("torchvision b0, safetensors") << top("efficientnet_b0.safetensors") << "efficientnet_b0" << 1000;
        QTest::newRow("timm keys b0") << top("efficientnet_b0.timm.pth") << "efficientnet_b0" << 1000;
        QTest::newRow("lukemelas keys b0") << top("efficientnet_b0.lukemelas.pth") << "efficientnet_b0" << 1000;
        QTest::newRow("b0, 5 classes") << ref("own5_b0.pth") << "efficientnet_b0" << 5;
        QTest::newRow("torchvision v2-s") << top("efficientnet_v2_s.pth") << "efficientnet_v2_s" << 1000;
    }

    void inspectCountsParametersAsTorchDoes()
    {
        QFETCH(QString, weights);
        QFETCH(QString, architecture);
        QFETCH(int, classes);
        QProcess python;
        python.start(QString(EFFICIENTNET_PYTHON),
                     {"-c", QString("import torchvision; m = torchvision.models.%1(num_classes=%2); "
                                    "print(sum(p.numel() for p in m.parameters()))").arg(architecture).arg(classes)});
        QVERIFY(python.waitForFinished(120000));
        QVERIFY2(python.exitCode() == 0, python.readAllStandardError().constData());
        bool isNumber = false;
        const qint64 torchCount = python.readAllStandardOutput().trimmed().toLongLong(&isNumber);
        QVERIFY(isNumber);
        const auto run = runCli({"inspect", "--json", weights});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QCOMPARE(static_cast<qint64>(parseJson(run.out)["parameters"].toDouble()), torchCount);
        // The text form says the same number, in groups of three digits (5,288,548).
        const auto text = runCli({"inspect", weights});
        const QString grouped = QLocale(QLocale::English).toString(torchCount);
        QVERIFY2(QRegularExpression("\\nparameters +" + QRegularExpression::escape(grouped) + "\\n")
                     .match(QString::fromUtf8(text.out)).hasMatch(), text.out.constData());
        // torchvision's own name stands alone; "efficientnet_b0 = efficientnet_b0" said nothing.
        QVERIFY2(!QString::fromUtf8(text.out).contains(QRegularExpression("network +(\\S+) = \\1,")), text.out.constData());
    }

    void overridesChangeTheTransform()
    {
        const auto run = runCli({"inspect", "--json", ref("own5_b0.pth"), "--resize", "300", "--crop", "288",
                                 "--interpolation", "bilinear", "--resize-mode", "squash"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const auto t = parseJson(run.out)["transform"].toObject();
        QCOMPARE(t["resize"].toInt(), 300);
        QCOMPARE(t["crop"].toInt(), 288);
        QCOMPARE(t["interpolation"].toString(), QString("bilinear"));
        QCOMPARE(t["resize_mode"].toString(), QString("squash"));
        QVERIFY(t["origin"].toString().contains("changed by hand"));
        QVERIFY(failureOf({"inspect", ref("own5_b0.pth"), "--crop", "400", "--resize", "300"}).contains("crop <= resize"));
        QVERIFY(failureOf({"inspect", ref("own5_b0.pth"), "--std", "1,0,1"}).contains("std must be positive"));
    }
};

QTEST_GUILESS_MAIN(TestSources)
#include "test_sources.moc"
