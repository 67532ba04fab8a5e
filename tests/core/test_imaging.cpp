// Image decoding applies EXIF orientation and refuses bad files with a message naming them; preprocessing gives
// the reference transform's geometry and normalisation.
#include <cstring>

#include <torch/torch.h>

#include <QtTest/QtTest>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "efficientnet/decode_ahead.h"
#include "efficientnet/errors.h"
#include "efficientnet/imaging.h"
#include "efficientnet/preprocess.h"
#include "engine/frame_plan.h"
#include "imaging/image_header.h"
#include "imaging/pillow_resize.h"
#include "test_support.h"

using namespace efficientnet;
using efficientnet::test::referencePath;
using efficientnet::test::resourcesPath;

class TestImaging : public QObject {
    Q_OBJECT

    static void loadPillowCase(const QJsonObject& pillowCase, Image& image, Preprocessing& p, torch::Tensor& want)
    {
        const QString dir = QString(EFFICIENTNET_PILLOW_DIR) + "/";
        QFile rgb(dir + pillowCase["image"].toString());
        QVERIFY(rgb.open(QIODevice::ReadOnly));
        const QByteArray bytes = rgb.readAll();
        image.width = pillowCase["width"].toInt();
        image.height = pillowCase["height"].toInt();
        QCOMPARE(bytes.size(), image.width * image.height * 3);
        image.rgb.assign(bytes.begin(), bytes.end());
        p.cropSize = pillowCase["crop"].toInt();
        p.resizeSize = pillowCase["resize"].toInt();
        p.interpolation = pillowCase["interpolation"].toString() == "bicubic" ? Interpolation::Bicubic
                                                                              : Interpolation::Bilinear;
        p.resizeMode = pillowCase["mode"].toString() == "squash" ? ResizeMode::Squash : ResizeMode::ShorterSide;
        for (int c = 0; c < 3; ++c) {
            p.mean[c] = static_cast<float>(pillowCase["mean"].toArray()[c].toDouble());
            p.std[c] = static_cast<float>(pillowCase["std"].toArray()[c].toDouble());
        }
        const std::vector<float> expected =
            efficientnet::test::readFloats((dir + pillowCase["expected"].toString()).toStdString());
        want = torch::from_blob(const_cast<float*>(expected.data()), {3, p.cropSize, p.cropSize}).clone();
    }

    // One level of one channel is 1/255/std ~ 0.017: anything above float rounding is a wrong pixel.
    static bool sameValues(const torch::Tensor& got, const torch::Tensor& want)
    {
        return (got - want).abs().gt(1e-6).sum().item<int64_t>() == 0;
    }

    static QString differences(const torch::Tensor& got, const torch::Tensor& want)
    {
        return QString("%1 of %2 values differ, max |diff| %3")
            .arg((got - want).abs().gt(1e-6).sum().item<int64_t>())
            .arg(want.numel())
            .arg((got - want).abs().max().item<float>());
    }

private Q_SLOTS:
    void exifOrientationIsApplied()
    {
        // The generator stored the cat photo's pixels rotated by 90 degrees with an EXIF tag that undoes it.
        const auto upright = decodeImageFile(resourcesPath("samples/cat.jpg"));
        const auto tagged = decodeImageFile(referencePath("images/exif_rotated.jpg"));
        QCOMPARE(tagged.width, upright.width);
        QCOMPARE(tagged.height, upright.height);
        QVERIFY(upright.width != upright.height);
        QCOMPARE(static_cast<int>(tagged.rgb.size()), upright.width * upright.height * 3);
    }

    void badFilesAreRefusedByName_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("problem");
        QTest::newRow("empty") << QString::fromStdString(referencePath("images/zero.jpg")) << "empty";
        QTest::newRow("truncated") << QString::fromStdString(referencePath("images/truncated.jpg")) << "truncated";
        QTest::newRow("text") << QString::fromStdString(referencePath("images/not_an_image.jpg")) << "not an image";
        QTest::newRow("folder") << QString::fromStdString(referencePath("images")) << "folder";
        QTest::newRow("missing") << QString::fromStdString(referencePath("images/none.png")) << "no such file";
    }

    void badFilesAreRefusedByName()
    {
        QFETCH(QString, file);
        QFETCH(QString, problem);
        try {
            decodeImageFile(file.toStdString());
            QFAIL("decoded a bad file");
        } catch (const ImageError& e) {
            const QString message = e.what();
            QVERIFY2(message.startsWith(file) && message.contains(problem), qPrintable(message));
        }
    }

    void preprocessingResizesTheShorterSideCropsAndNormalises()
    {
        Image grey;
        grey.width = 500;
        grey.height = 300;
        grey.rgb.assign(static_cast<size_t>(grey.width * grey.height * 3), 128);
        const auto& p = variant("efficientnet_b0").preprocessing;
        const auto x = preprocess(grey, p);
        QCOMPARE(x.sizes().vec(), (std::vector<int64_t>{3, p.cropSize, p.cropSize}));
        for (int c = 0; c < 3; ++c) {
            const float expected = (128.0f / 255.0f - p.mean[c]) / p.std[c];
            QVERIFY(torch::allclose(x[c], torch::full_like(x[c], expected), 1e-5, 1e-5));
        }
    }

    // The reference's own transform (torchvision Resize + CenterCrop + ToTensor + Normalize on a PIL image), for
    // photos and awkward noise images under five transforms: preprocess gives exactly its floats.
    void preprocessingEqualsTorchvisionOnPil_data()
    {
        QTest::addColumn<QJsonObject>("pillowCase");
        QFile file(QString(EFFICIENTNET_PILLOW_DIR) + "/cases.json");
        QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
        const QJsonArray cases = QJsonDocument::fromJson(file.readAll()).object()["cases"].toArray();
        QVERIFY(cases.size() >= 50);
        for (const auto& c : cases)
            QTest::newRow(qPrintable(c.toObject()["case"].toString())) << c.toObject();
    }

    void preprocessingEqualsTorchvisionOnPil()
    {
        QFETCH(QJsonObject, pillowCase);
        Image image;
        Preprocessing p{};
        torch::Tensor want;
        loadPillowCase(pillowCase, image, p, want);
        const auto got = preprocess(image, p);
        QCOMPARE(got.sizes().vec(), want.sizes().vec());
        QVERIFY2(sameValues(got, want), qPrintable(differences(got, want)));
    }

    // The GPU's preprocessing (engine/cuda/frame_preprocess.cu) run here: the same plan (the window of the frame that
    // is uploaded, Pillow's tables), the same per-sample functions, in the kernels' order. On the GPU machine
    // test_cuda checks the kernels against preprocess(); here every Pillow case checks the arithmetic they run.
    void gpuPreprocessingArithmeticEqualsTorchvisionOnPil_data() { preprocessingEqualsTorchvisionOnPil_data(); }

    void gpuPreprocessingArithmeticEqualsTorchvisionOnPil()
    {
        QFETCH(QJsonObject, pillowCase);
        Image image;
        Preprocessing p{};
        torch::Tensor want;
        loadPillowCase(pillowCase, image, p, want);
        const FramePlan plan = planFrames(image.height, image.width, p);
        QVERIFY(plan.left >= 0 && plan.top >= 0 && plan.left + plan.width <= image.width &&
                plan.top + plan.height <= image.height);
        std::vector<std::uint8_t> window(static_cast<size_t>(plan.width) * plan.height * 3);
        for (int y = 0; y < plan.height; ++y)
            std::memcpy(&window[static_cast<size_t>(y) * plan.width * 3],
                        &image.rgb[(static_cast<size_t>(plan.top + y) * image.width + plan.left) * 3],
                        static_cast<size_t>(plan.width) * 3);
        const int columnRow = 2 + plan.columnTaps, rowRow = 2 + plan.rowTaps;
        const auto cropWidth = static_cast<int>(plan.columns.size()) / columnRow;
        const auto cropHeight = static_cast<int>(plan.rows.size()) / rowRow;
        const int* columns = plan.columns.data();
        const int* rows = plan.rows.data();
        std::vector<std::uint8_t> middle(static_cast<size_t>(plan.height) * cropWidth * 3);   // horizontalKernel
        for (int y = 0; y < plan.height; ++y)
            for (int x = 0; x < cropWidth; ++x)
                for (int c = 0; c < 3; ++c)
                    middle[(static_cast<size_t>(y) * cropWidth + x) * 3 + c] = imaging::resampleSample(
                        &window[static_cast<size_t>(y) * plan.width * 3 + c], 3, plan.left, columns + x * columnRow);
        auto got = torch::empty({3, cropHeight, cropWidth});   // verticalKernel
        auto out = got.accessor<float, 3>();
        for (int y = 0; y < cropHeight; ++y)
            for (int x = 0; x < cropWidth; ++x)
                for (int c = 0; c < 3; ++c)
                    out[c][y][x] = imaging::normaliseByte(
                        imaging::resampleSample(&middle[static_cast<size_t>(x) * 3 + c], static_cast<std::ptrdiff_t>(cropWidth) * 3,
                                                plan.top, rows + y * rowRow),
                        p.mean[static_cast<size_t>(c)], p.std[static_cast<size_t>(c)]);
        QCOMPARE(got.sizes().vec(), want.sizes().vec());
        QVERIFY2(sameValues(got, want), qPrintable(differences(got, want)));
    }

    // The header probe reads the same size as the decoder, in every format the product opens: a limit of exactly
    // width x height pixels decodes, one pixel less is refused before decoding.
    void pixelLimitUsesTheHeaderSize_data()
    {
        QTest::addColumn<QString>("extension");
        for (const char* extension : {".jpg", ".png", ".bmp", ".webp", ".tif", ".ppm", ".pgm"})
            QTest::newRow(extension) << QString(extension);
    }

    void pixelLimitUsesTheHeaderSize()
    {
        QFETCH(QString, extension);
        const bool grey = extension == ".pgm";   // PGM holds one channel
        const cv::Mat photo = cv::imread(resourcesPath("samples/cat.jpg"), grey ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
        QVERIFY(!photo.empty());
        std::vector<uint8_t> encoded;
        // An OpenCV built without this format's library (e.g. no libwebp) throws from imencode: say so instead.
        QVERIFY2(cv::haveImageWriter("x" + extension.toStdString()),
                 qPrintable("this OpenCV cannot write " + extension + ": it was built without that format's library"));
        QVERIFY(cv::imencode(extension.toStdString(), photo, encoded));
        const uint64_t pixels = static_cast<uint64_t>(photo.cols) * static_cast<uint64_t>(photo.rows);
        const std::string name = "in-memory" + extension.toStdString();
        setMaxImagePixels(pixels);
        const Image image = decodeImageBytes(encoded.data(), encoded.size(), name);
        QCOMPARE(image.width, photo.cols);
        QCOMPARE(image.height, photo.rows);
        setMaxImagePixels(pixels - 1);
        QString refusal;
        try {
            decodeImageBytes(encoded.data(), encoded.size(), name);
        } catch (const ImageError& e) {
            refusal = e.what();
        }
        setMaxImagePixels(kDefaultMaxImagePixels);
        QVERIFY2(refusal.startsWith(QString::fromStdString(name)) && refusal.contains("image too large"),
                 qPrintable(refusal));
    }

    void exifRotatedSizeIsCheckedBeforeRotation()
    {
        // The limit concerns pixels, which rotation does not change: the rotated photo passes at its own size.
        const auto upright = decodeImageFile(resourcesPath("samples/cat.jpg"));
        setMaxImagePixels(static_cast<uint64_t>(upright.width) * static_cast<uint64_t>(upright.height));
        const auto rotated = decodeImageFile(referencePath("images/exif_rotated.jpg"));
        setMaxImagePixels(kDefaultMaxImagePixels);
        QCOMPARE(rotated.width, upright.width);
    }

    void jpegLayoutTellsWhatAGpuDecoderWouldGet()
    {
        // The GPU decoding path takes only 8-bit three-component baseline/extended JPEGs without rotation; the rest go
        // to the CPU decoder. The probe must see each of those properties in files written by other encoders.
        const auto read = [](const std::string& path) {
            QFile file(QString::fromStdString(path));
            if (!file.open(QIODevice::ReadOnly))
                qFatal("cannot read %s", path.c_str());
            const QByteArray bytes = file.readAll();
            return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
        };
        const auto probe = [](const std::vector<std::uint8_t>& bytes) { return probeJpegLayout(bytes.data(), bytes.size()); };
        const auto upright = decodeImageFile(resourcesPath("samples/cat.jpg"));
        const auto plain = probe(read(resourcesPath("samples/cat.jpg")));
        QVERIFY(plain.has_value());
        QVERIFY(plain->frameMarker == kJpegBaselineFrame || plain->frameMarker == kJpegExtendedFrame);
        QCOMPARE(plain->precision, 8);
        QCOMPARE(plain->components, 3);
        QCOMPARE(plain->orientation, 1);
        QCOMPARE(static_cast<int>(plain->width), upright.width);
        QCOMPARE(static_cast<int>(plain->height), upright.height);
        // PIL wrote this one with EXIF orientation 6 (make_reference.py); its stored frame is the rotated one.
        const auto rotated = probe(read(referencePath("images/exif_rotated.jpg")));
        QVERIFY(rotated.has_value());
        QCOMPARE(rotated->orientation, 6);
        QCOMPARE(static_cast<int>(rotated->width), upright.height);
        // libjpeg through OpenCV: progressive, and greyscale.
        const cv::Mat bgr(upright.height, upright.width, CV_8UC3, const_cast<std::uint8_t*>(upright.rgb.data()));
        std::vector<std::uint8_t> progressive, grey;
        QVERIFY(cv::imencode(".jpg", bgr, progressive, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
        cv::Mat greyPixels;
        cv::extractChannel(bgr, greyPixels, 0);
        QVERIFY(cv::imencode(".jpg", greyPixels, grey));
        QCOMPARE(probe(progressive)->frameMarker, kJpegProgressiveFrame);
        QCOMPARE(probe(grey)->components, 1);
        // Not a JPEG, or one cut off before its frame header: no layout.
        QVERIFY(!probe(read(referencePath("images/not_an_image.jpg"))).has_value());
        const std::vector<std::uint8_t> head(progressive.begin(), progressive.begin() + 20);
        QVERIFY(!probe(head).has_value());
        // EXIF cut off inside IFD0: orientation 0 (unknown), so the GPU path leaves the file to the CPU.
        std::vector<std::uint8_t> cut = {0xff, 0xd8, 0xff, 0xe1, 0x00, 0x12, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0,
                                         0, 0, 5, 0, 0xff, 0xc0, 0x00, 0x11, 8, 0, 16, 0, 16, 3};
        QCOMPARE(probe(cut)->orientation, 0);
    }

    void decodeAheadGivesEveryFileInOrderWithItsOwnError()
    {
        // Four decoders over samples and missing files interleaved: results come back in the list's order, each with
        // its own image or its own error, whatever order the decoders finish in; asking for more files at once than
        // the window holds does not wait forever; stopping with files left joins the decoders.
        const std::vector<std::string> samples = {resourcesPath("samples/cat.jpg"), resourcesPath("samples/coffee.jpg"),
                                                  resourcesPath("samples/rocket.jpg")};
        std::vector<std::string> files;
        for (int i = 0; i < 30; ++i)
            files.push_back(i % 4 == 3 ? "/nonexistent/missing_" + std::to_string(i) + ".jpg" : samples[i % 3]);
        std::vector<std::pair<int, int>> sizes;
        for (const auto& sample : samples) {
            const auto image = decodeImageFile(sample);
            sizes.emplace_back(image.width, image.height);
        }
        DecodeAhead ahead(files, 3, 4);
        size_t index = 0;
        for (size_t count : {1, 7, 2, 10, 100}) {   // 7 and 10 exceed the window of 3; 100 runs past the end
            const auto taken = ahead.take(count);
            QCOMPARE(taken.size(), std::min(count, files.size() - index));
            for (const auto& decoded : taken) {
                const std::string& file = files[index];
                if (file.rfind("/nonexistent/", 0) == 0) {
                    QVERIFY2(decoded.image.empty() && decoded.error.find(file) != std::string::npos, decoded.error.c_str());
                } else {
                    QVERIFY2(decoded.error.empty(), decoded.error.c_str());
                    const auto& size = sizes[index % 3];
                    QCOMPARE(std::make_pair(decoded.image.width, decoded.image.height), size);
                }
                ++index;
            }
        }
        QCOMPARE(index, files.size());
        QCOMPARE(ahead.remaining(), size_t(0));
        DecodeAhead abandoned(files, 2, 3);
        QCOMPARE(abandoned.take(1).size(), size_t(1));
        QCOMPARE(abandoned.remaining(), files.size() - 1);
    }   // `abandoned` stops with 29 files left: its decoders must be joined, not left waiting for room

    void imageExtensions()
    {
        QVERIFY(hasImageExtension("a/b/photo.JPG"));
        QVERIFY(hasImageExtension("x.webp"));
        QVERIFY(!hasImageExtension("weights.pth"));
        QVERIFY(!hasImageExtension("README"));
    }
};

QTEST_GUILESS_MAIN(TestImaging)
#include "test_imaging.moc"
