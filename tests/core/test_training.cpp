// Fine-tuning (issue 14, training.h and `efficientnet-cli train`) on a data set the test draws itself: three classes
// of coloured shapes on noisy backgrounds, in the ImageFolder layout, with a corrupt file among them. Proves that
// head-only training on a random-weight B0 learns them, that a seed fixes the result to the byte, that frozen layers
// (BatchNorm statistics included) do not move, that cancelling keeps the best epoch, and that the checkpoint
// classifies with the new class names through the normal loading path and the console tool, and that `evaluate`
// counts what `classify` answers.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "efficientnet/checkpoint.h"
#include "efficientnet/classifier.h"
#include "efficientnet/errors.h"
#include "efficientnet/imaging.h"
#include "efficientnet/training.h"
#include "test_support.h"

using namespace efficientnet;
using efficientnet::test::runCli;

namespace {

constexpr int kSide = 64;                 // images and the transform's crop: small, so a CPU trains in seconds
constexpr int kTrainPerClass = 20;
constexpr int kValPerClass = 10;
constexpr double kChance = 1.0 / 3.0;
// Head-only training on a random-weight B0 (issue 14 asks for 0.9). Its features are tiny (about 1e-14: with unit
// BatchNorm statistics every depthwise convolution shrinks the signal) but, standardised, they separate the shapes;
// re-estimating the BatchNorm statistics makes them larger and worse (measured 0.50), as a random deep network with
// normalised activations scrambles its input.
constexpr double kRequiredAccuracy = 0.9;
const QStringList kClasses{"circle", "square", "triangle"};   // sorted, as ImageFolder orders them
constexpr char kCorrupt[] = "broken.png";

struct Pixels {
    std::vector<std::uint8_t> rgb = std::vector<std::uint8_t>(kSide * kSide * 3);
    void set(int x, int y, int r, int g, int b)
    {
        auto* p = &rgb[(y * kSide + x) * 3];
        p[0] = static_cast<std::uint8_t>(r), p[1] = static_cast<std::uint8_t>(g), p[2] = static_cast<std::uint8_t>(b);
    }
};

// A filled circle, square or triangle (class 0, 1, 2) of a class colour, with jittered size, place and colour, on
// grey noise.
Pixels drawShape(int cls, std::mt19937& random)
{
    std::uniform_int_distribution<int> level(110, 140), noise(-25, 25), jitter(-30, 30), size(kSide * 35 / 100, kSide * 6 / 10);
    Pixels image;
    const int background = level(random);
    for (int y = 0; y < kSide; ++y)
        for (int x = 0; x < kSide; ++x) {
            const int grey = background + noise(random);
            image.set(x, y, grey, grey, grey);
        }
    const int s = size(random);
    std::uniform_int_distribution<int> position(0, kSide - s);
    const int left = position(random), top = position(random);
    static const int base[3][3] = {{220, 40, 40}, {40, 200, 60}, {50, 70, 230}};
    const auto channel = [&](int v) { return std::clamp(v + jitter(random), 0, 255); };
    const int r = channel(base[cls][0]), g = channel(base[cls][1]), b = channel(base[cls][2]);
    for (int y = top; y < top + s; ++y)
        for (int x = left; x < left + s; ++x) {
            const double u = (x - left + 0.5) / s, v = (y - top + 0.5) / s;   // in the shape's box, 0..1
            const bool inside = cls == 0   ? (u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5) <= 0.25
                                : cls == 1 ? true
                                           : std::abs(u - 0.5) <= v / 2;   // apex at the top centre
            if (inside)
                image.set(x, y, r, g, b);
        }
    return image;
}

// Binary PPM (Netpbm P6), which the core decodes like any other image.
bool writePpm(const QString& path, const Pixels& image)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    file.write(QString("P6\n%1 %1\n255\n").arg(kSide).toLatin1());
    return file.write(reinterpret_cast<const char*>(image.rgb.data()), static_cast<qint64>(image.rgb.size())) ==
           static_cast<qint64>(image.rgb.size());
}

// root/train/<class>/NN.ppm (and one corrupt file), root/val/<class>/NN.ppm.
void writeDataSet(const QString& root)
{
    QDir(root).removeRecursively();
    std::mt19937 random(14);
    for (int cls = 0; cls < kClasses.size(); ++cls) {
        for (const auto& [split, count] : {std::pair<QString, int>{"train", kTrainPerClass}, {"val", kValPerClass}}) {
            const QString folder = root + "/" + split + "/" + kClasses[cls];
            QVERIFY(QDir().mkpath(folder));
            for (int i = 0; i < count; ++i)
                QVERIFY(writePpm(folder + QString("/%1.ppm").arg(i, 2, 10, QChar('0')), drawShape(cls, random)));
        }
    }
    QFile corrupt(root + "/train/square/" + kCorrupt);
    QVERIFY(corrupt.open(QIODevice::WriteOnly));
    corrupt.write("\x89PNG\r\n\x1a\nnot really a png");
}

TrainingOptions smallOptions(const QString& root)
{
    TrainingOptions options;
    options.base.model = "efficientnet_b0";
    options.randomWeights = true;
    options.base.overrides.resize = kSide;
    options.base.overrides.crop = kSide;
    options.trainDir = (root + "/train").toStdString();
    options.valDir = (root + "/val").toStdString();
    options.epochs = 30;
    options.batchSize = 16;
    options.seed = 3;
    return options;
}

QByteArray fileBytes(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

torch::Tensor tensorNamed(const NamedTensors& tensors, const std::string& key)
{
    for (const auto& [name, tensor] : tensors)
        if (name == key)
            return tensor;
    return {};
}

} // namespace

class TestTraining : public QObject {
    Q_OBJECT

private:
    // In the build (kept after the run, for a look at what was trained on), made afresh by each run.
    const QString m_dir = QStringLiteral(EFFICIENTNET_TRAINING_DIR);
    QString m_root;
    double m_keptAccuracy = -1;   // the head's, as training measured it

    QString path(const QString& name) const { return m_dir + "/" + name; }

private Q_SLOTS:
    void initTestCase()
    {
        QDir(m_dir).removeRecursively();
        QVERIFY(QDir().mkpath(m_dir));
        m_root = path("shapes");
        writeDataSet(m_root);
    }

    void headOnlyTrainingOnARandomBackboneLearnsTheShapes()
    {
        auto options = smallOptions(m_root);
        options.reestimateBatchNorm = true;
        const auto reestimated = trainClassifier(options, path("reestimated.safetensors").toStdString());
        const double reestimatedAccuracy = *reestimated.epochs.at(reestimated.keptEpoch - 1).valAccuracy;

        const auto start = std::chrono::steady_clock::now();
        std::vector<TrainingProgress> evaluated;
        const auto result = trainClassifier(smallOptions(m_root), path("head.safetensors").toStdString(),
                                            [&](const TrainingProgress& p) {
                                                if (p.phase == TrainingProgress::Phase::Evaluated)
                                                    evaluated.push_back(p);
                                            });
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        QCOMPARE(result.classes, (std::vector<std::string>{"circle", "square", "triangle"}));
        QCOMPARE(result.trainImages, 3 * kTrainPerClass);
        QCOMPARE(result.valImages, 3 * kValPerClass);
        QCOMPARE(static_cast<int>(result.epochs.size()), 30);
        QCOMPARE(static_cast<int>(evaluated.size()), 30);
        QVERIFY(!result.cancelled);
        const double first = *result.epochs.front().valAccuracy;
        m_keptAccuracy = *result.epochs.at(result.keptEpoch - 1).valAccuracy;
        const double last = *result.epochs.back().valAccuracy;
        qInfo("head only, random B0, %d px, %d training images: val top-1 %.3f after epoch 1, %.3f at the end, %.3f "
              "kept (epoch %d), loss %.3f -> %.3f; preparation %.2f s, total %.2f s; with BatchNorm statistics "
              "re-estimated: %.3f",
              kSide, result.trainImages, first, last, m_keptAccuracy,
              result.keptEpoch, result.epochs.front().trainLoss, result.epochs.back().trainLoss,
              result.preparationSeconds, seconds, reestimatedAccuracy);
        QVERIFY2(m_keptAccuracy >= kRequiredAccuracy, qPrintable(QString("val top-1 %1").arg(m_keptAccuracy)));
        QVERIFY(m_keptAccuracy >= first);
        QVERIFY(result.epochs.back().trainLoss < result.epochs.front().trainLoss);
        // The corrupt file is left out and named; the other 20 squares are used.
        QCOMPARE(static_cast<int>(result.skipped.size()), 1);
        QVERIFY(QString::fromStdString(result.skipped[0].path).endsWith(QString("square/") + kCorrupt));
        QVERIFY(!result.skipped[0].reason.empty());
    }

    void theSameSeedGivesTheSameWeights()
    {
        auto options = smallOptions(m_root);
        options.epochs = 3;
        trainClassifier(options, path("seed_a.safetensors").toStdString());
        trainClassifier(options, path("seed_b.safetensors").toStdString());
        options.seed = 4;
        trainClassifier(options, path("seed_c.safetensors").toStdString());
        const auto a = fileBytes(path("seed_a.safetensors"));
        QVERIFY(a.size() > 1'000'000);   // B0's backbone: about 16 MB of float32
        QCOMPARE(fileBytes(path("seed_b.safetensors")), a);
        QVERIFY(fileBytes(path("seed_c.safetensors")) != a);
    }

    void theCheckpointClassifiesWithItsClassNames()
    {
        if (!QFile::exists(path("head.safetensors")))
            QSKIP("needs headOnlyTrainingOnARandomBackboneLearnsTheShapes' checkpoint");
        ClassifierOptions options;
        options.weights = path("head.safetensors").toStdString();
        options.device = "cpu";
        Classifier classifier(options);   // the model, classes, names and transform from the file alone
        QCOMPARE(classifier.info().numClasses, 3);
        QCOMPARE(classifier.info().labels.names, (std::vector<std::string>{"circle", "square", "triangle"}));
        QCOMPARE(classifier.info().transform.preprocessing.cropSize, kSide);
        int correct = 0;
        for (int cls = 0; cls < kClasses.size(); ++cls)
            for (int i = 0; i < kValPerClass; ++i) {
                const auto image = decodeImageFile(
                    (m_root + "/val/" + kClasses[cls] + QString("/%1.ppm").arg(i, 2, 10, QChar('0'))).toStdString());
                const auto top = classifier.classify(image, 1);
                correct += top.at(0).label == kClasses[cls].toStdString();
            }
        // The same answers as training measured: the file's weights, BatchNorm statistics and transform are the ones
        // trained with. (The inference form folds BatchNorms into the convolutions, which may turn a near tie.)
        const double accuracy = static_cast<double>(correct) / (3 * kValPerClass);
        qInfo("classified through Classifier: %.3f (training measured %.3f)", accuracy, m_keptAccuracy);
        QVERIFY2(std::abs(accuracy - m_keptAccuracy) <= 2.0 / (3 * kValPerClass) + 1e-9,
                 qPrintable(QString("%1 correct, training measured %2").arg(correct).arg(m_keptAccuracy)));

        const auto run = runCli({"classify", "--json", "--weights", path("head.safetensors"),
                                 m_root + "/val/triangle/00.ppm", m_root + "/val/circle/00.ppm"});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.contains("\"label\":\"triangle\"") || run.out.contains("\"label\": \"triangle\""),
                 run.out.constData());
        QVERIFY(run.err.contains("3 classes"));
    }

    void frozenLayersAndTheirBatchNormsDoNotMove()
    {
        if (!QFile::exists(path("head.safetensors")))
            QSKIP("needs headOnlyTrainingOnARandomBackboneLearnsTheShapes' checkpoint");
        auto options = smallOptions(m_root);
        options.base.weights = path("head.safetensors").toStdString();
        options.randomWeights = false;
        options.reestimateBatchNorm = false;
        options.scope = parseTrainScope("stages:2");
        options.epochs = 2;
        options.learningRate = 1e-3;
        const auto result = trainClassifier(options, path("stages.safetensors").toStdString());
        QCOMPARE(static_cast<int>(result.epochs.size()), 2);
        const auto before = readSafetensors(path("head.safetensors").toStdString());
        const auto after = readSafetensors(path("stages.safetensors").toStdString());
        QCOMPARE(after.size(), before.size());
        // B0: features.0 stem, 1-7 stages, 8 the head convolution; stages:2 trains 7, 8 and the classifier.
        for (const char* frozen : {"features.0.1.running_mean", "features.0.1.running_var", "features.6.0.block.0.0.weight",
                                   "features.6.3.block.1.1.running_var"})
            QVERIFY2(torch::equal(tensorNamed(after, frozen), tensorNamed(before, frozen)), frozen);
        for (const char* trained : {"features.7.0.block.0.0.weight", "features.8.1.running_mean", "classifier.1.weight"})
            QVERIFY2(!torch::equal(tensorNamed(after, trained), tensorNamed(before, trained)), trained);
    }

    void cancellingKeepsTheBestEpochOrWritesNothing()
    {
        auto options = smallOptions(m_root);
        options.epochs = 5;
        int epochsSeen = 0;
        const auto result = trainClassifier(
            options, path("cancelled.safetensors").toStdString(),
            [&](const TrainingProgress& p) { epochsSeen += p.phase == TrainingProgress::Phase::Evaluated; },
            [&] { return epochsSeen >= 2; });
        QVERIFY(result.cancelled);
        QCOMPARE(static_cast<int>(result.epochs.size()), 2);
        QVERIFY(result.keptEpoch >= 1 && result.keptEpoch <= 2);
        QVERIFY(QFile::exists(path("cancelled.safetensors")));

        QVERIFY_THROWS_EXCEPTION(TrainingCancelled,
                                 trainClassifier(options, path("never.safetensors").toStdString(), {}, [] { return true; }));
        QVERIFY(!QFile::exists(path("never.safetensors")));
    }

    void badLayoutsAreRefusedWithTheirFolder()
    {
        QVERIFY(QDir().mkpath(path("one/only")));
        std::mt19937 random(1);
        QVERIFY(writePpm(path("one/only/a.ppm"), drawShape(0, random)));
        auto options = smallOptions(m_root);
        options.trainDir = path("one").toStdString();
        options.valDir.clear();
        try {
            trainClassifier(options, path("x.safetensors").toStdString());
            QFAIL("one class was accepted");
        } catch (const ConfigError& e) {
            QVERIFY2(QString(e.what()).contains("at least two"), e.what());
        }
        QVERIFY(QDir().mkpath(path("one/empty")));
        try {
            trainClassifier(options, path("x.safetensors").toStdString());
            QFAIL("a class without images was accepted");
        } catch (const ConfigError& e) {
            QVERIFY2(QString(e.what()).contains("'empty'"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(ConfigError, parseTrainScope("stages:x"));
    }

    void consoleToolTrainsReportsAndNamesTheUnreadable()
    {
        const auto run = runCli({"train", m_root + "/train", "--random-weights", "--model", "efficientnet_b0",
                                 "--resize", QString::number(kSide), "--crop", QString::number(kSide), "--val",
                                 m_root + "/val", "--epochs", "3", "--batch-size", "16", "--lr", "0.01", "--seed", "3",
                                 "--out", path("cli.safetensors"), "--report", path("cli.json")});
        QCOMPARE(run.exitCode, 2);   // written, but an input could not be used
        for (int epoch = 1; epoch <= 3; ++epoch)
            QVERIFY2(run.out.contains(QString("epoch %1/3  train loss").arg(epoch).toUtf8()), run.out.constData());
        QVERIFY(run.out.contains("val top-1"));
        QVERIFY2(run.err.contains(QByteArray("square/") + kCorrupt), run.err.constData());
        QVERIFY2(run.err.contains("1 unreadable image was skipped"), run.err.constData());
        QFile reportFile(path("cli.json"));
        QVERIFY(reportFile.open(QIODevice::ReadOnly));
        const auto report = QJsonDocument::fromJson(reportFile.readAll()).object();
        QCOMPARE(report["epochs"].toArray().size(), 3);
        QCOMPARE(report["train_images"].toInt(), 3 * kTrainPerClass);
        QCOMPARE(report["skipped"].toArray().size(), 1);
        QVERIFY(report["skipped"].toArray()[0].toObject()["path"].toString().endsWith(kCorrupt));
        QCOMPARE(report["classes"].toArray().size(), 3);

        const auto classify = runCli({"classify", "--weights", path("cli.safetensors"), m_root + "/val/square/00.ppm"});
        QCOMPARE(classify.exitCode, 0);
        QVERIFY2(classify.out.contains("circle") || classify.out.contains("square") || classify.out.contains("triangle"),
                 classify.out.constData());

        const auto usage = runCli({"train", m_root + "/train", "--random-weights", "--out", path("x.pth")});
        QCOMPARE(usage.exitCode, 1);
        QVERIFY(usage.err.contains(".safetensors"));

        // Found by using it: an --out or --report that cannot be written was said only after training, which was
        // then lost. Now before the images are read, naming the option and the path.
        QVERIFY(QDir().mkpath(path("folder.safetensors")));
        const struct {
            QStringList args;
            QByteArray said;
        } unwritable[] = {
            {{"--out", path("missing/x.safetensors")}, "cannot write --out " + path("missing/x.safetensors").toUtf8()},
            {{"--out", path("folder.safetensors")}, "cannot write --out " + path("folder.safetensors").toUtf8() + ": it is a folder"},
            {{"--out", path("y.safetensors"), "--report", path("missing/r.json")}, "cannot write --report"},
        };
        for (const auto& c : unwritable) {
            const auto run = runCli(QStringList{"train", m_root + "/train", "--random-weights", "--no-progress"} + c.args);
            QCOMPARE(run.exitCode, 1);
            QVERIFY2(run.err.contains(c.said) && !run.err.contains("reading ") && !run.out.contains("epoch"),
                     run.err.constData());
        }
        QVERIFY(!QFile::exists(path("y.safetensors")));
    }

    // `evaluate --json` on the validation folder against `classify --json` on the same images with the same
    // checkpoint: the same per-image answers, counted by the folder each image is in.
    void evaluateAgreesWithClassifyPerImage()
    {
        if (!QFile::exists(path("head.safetensors")))
            QSKIP("needs headOnlyTrainingOnARandomBackboneLearnsTheShapes' checkpoint");
        const QString weights = path("head.safetensors");
        const auto evaluated = runCli({"evaluate", "--json", "--no-progress", "--weights", weights, m_root + "/val"});
        QCOMPARE(evaluated.exitCode, 0);
        const auto report = QJsonDocument::fromJson(evaluated.out).object();
        QVERIFY2(!report.isEmpty(), evaluated.out.constData());
        const auto classified = runCli({"classify", "--json", "--no-progress", "--topk", "3", "--weights", weights,
                                        m_root + "/val"});
        QCOMPARE(classified.exitCode, 0);
        const auto results = QJsonDocument::fromJson(classified.out).object()["results"].toArray();
        QCOMPARE(results.size(), 3 * kValPerClass);

        // What classify's answers say, per true class (the image's folder) and predicted class.
        QMap<QString, int> images, right;
        QMap<QString, QMap<QString, int>> confusion;
        for (const auto& value : results) {
            const auto r = value.toObject();
            const QString truth = QFileInfo(r["path"].toString()).dir().dirName();
            const QString predicted = r["predictions"].toArray()[0].toObject()["label"].toString();
            ++images[truth];
            right[truth] += predicted == truth;
            ++confusion[truth][predicted];
        }

        QCOMPARE(report["images"].toInt(), static_cast<int>(results.size()));
        QCOMPARE(report["topk"].toInt(), 3);   // min(5, classes)
        QCOMPARE(report["skipped"].toArray().size(), 0);
        const auto classes = report["classes"].toArray();
        QCOMPARE(classes.size(), kClasses.size());
        int rowImages = 0, rowTop1 = 0, rowTop5 = 0;
        for (int c = 0; c < kClasses.size(); ++c) {
            const auto row = classes[c].toObject();
            QCOMPARE(row["name"].toString(), kClasses[c]);
            QCOMPARE(row["images"].toInt(), images[kClasses[c]]);
            QCOMPARE(row["top1_correct"].toInt(), right[kClasses[c]]);
            QCOMPARE(row["top5_correct"].toInt(), images[kClasses[c]]);   // top-3 of 3 classes holds every answer
            QCOMPARE(row["top1"].toDouble(), static_cast<double>(right[kClasses[c]]) / images[kClasses[c]]);
            rowImages += row["images"].toInt();
            rowTop1 += row["top1_correct"].toInt();
            rowTop5 += row["top5_correct"].toInt();
        }
        QCOMPARE(rowImages, report["images"].toInt());
        QCOMPARE(rowTop1, report["top1_correct"].toInt());
        QCOMPARE(rowTop5, report["top5_correct"].toInt());
        QCOMPARE(report["top1"].toDouble(), static_cast<double>(rowTop1) / rowImages);

        // The matrix: a row per true class, a column per class (no "(other)": the model has exactly these classes).
        const auto matrix = report["confusion"].toObject();
        const auto columns = matrix["columns"].toArray();
        QCOMPARE(columns.size(), kClasses.size());
        QCOMPARE(matrix["rows"].toArray().size(), kClasses.size());
        const auto counts = matrix["counts"].toArray();
        QCOMPARE(counts.size(), kClasses.size());
        int total = 0;
        for (int row = 0; row < kClasses.size(); ++row) {
            QCOMPARE(columns[row].toString(), kClasses[row]);
            QCOMPARE(matrix["rows"].toArray()[row].toString(), kClasses[row]);
            const auto line = counts[row].toArray();
            QCOMPARE(line.size(), kClasses.size());
            int rowSum = 0;
            for (int column = 0; column < kClasses.size(); ++column) {
                QCOMPARE(line[column].toInt(), confusion[kClasses[row]][kClasses[column]]);
                rowSum += line[column].toInt();
            }
            QCOMPARE(rowSum, classes[row].toObject()["images"].toInt());
            QCOMPARE(line[row].toInt(), classes[row].toObject()["top1_correct"].toInt());
            total += rowSum;
        }
        QCOMPARE(total, report["images"].toInt());
        qInfo("evaluate: top-1 %.3f on %d validation images", report["top1"].toDouble(), report["images"].toInt());

        // The text form: the summary, the per-class table and the matrix.
        const auto text = runCli({"evaluate", "--no-progress", "--weights", weights, m_root + "/val"});
        QCOMPARE(text.exitCode, 0);
        for (const char* part : {"top-1", "confusion matrix", "circle", "square", "triangle"})
            QVERIFY2(text.out.contains(part), text.out.constData());
    }

    void evaluateNamesUnreadableImagesAndUnknownFolders()
    {
        if (!QFile::exists(path("head.safetensors")))
            QSKIP("needs headOnlyTrainingOnARandomBackboneLearnsTheShapes' checkpoint");
        const QString weights = path("head.safetensors");
        // The training folder holds the corrupt file: skipped, named, exit 2, the others counted.
        const auto run = runCli({"evaluate", "--json", "--no-progress", "--weights", weights, m_root + "/train"});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains(QByteArray("square/") + kCorrupt), run.err.constData());
        const auto report = QJsonDocument::fromJson(run.out).object();
        QCOMPARE(report["images"].toInt(), 3 * kTrainPerClass);
        QCOMPARE(report["skipped"].toArray().size(), 1);
        QVERIFY(report["skipped"].toArray()[0].toObject()["path"].toString().endsWith(kCorrupt));

        // A folder that is no class of the model: an error naming it, nothing evaluated.
        const QString unknown = path("unknown");
        std::mt19937 random(2);
        for (const char* folder : {"circle", "hexagon"}) {
            QVERIFY(QDir().mkpath(unknown + "/" + folder));
            QVERIFY(writePpm(unknown + "/" + folder + "/a.ppm", drawShape(0, random)));
        }
        const auto refused = runCli({"evaluate", "--no-progress", "--weights", weights, unknown});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("hexagon") && refused.err.contains("is not a class of the model"),
                 refused.err.constData());
        QVERIFY(refused.out.isEmpty());
    }
};

QTEST_APPLESS_MAIN(TestTraining)
#include "test_training.moc"
