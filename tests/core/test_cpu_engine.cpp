// The CPU engine in oneDNN used directly (engine/cpu/onednn_network.h) computes what the LibTorch module it is read
// from computes: every variant family, both padding families at odd input sizes (TensorFlow SAME pads those
// asymmetrically), other class counts, tiny maps; no primitive on oneDNN's reference code (the 10x slower path a
// wrong layout falls to); and InferenceModel runs it on the CPU. Run twice by CTest: as the CPU is, and with
// DNNL_MAX_CPU_ISA=AVX2, where activations take 8-channel blocks instead of 16. The reference logits of torchvision
// go through it too: test_parity's inferenceFormMatchesReference.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <cstdlib>

#include "efficientnet/errors.h"
#include "efficientnet/inference.h"
#include "efficientnet/model.h"
#include "engine/cpu/onednn_network.h"

using namespace efficientnet;

namespace {

// Folding BatchNorm and oneDNN's summation order move fp32 logits by float rounding: 1e-4 of their scale at most.
constexpr double kRelativeTolerance = 1e-4;

// A model with random weights and BatchNorm statistics that are not the identity (so the folding is exercised).
EfficientNet randomModel(const std::string& variant, Padding padding, int64_t classes)
{
    torch::manual_seed(7);
    EfficientNet model(EfficientNetOptions(variant).padding(padding).numClasses(classes));
    torch::NoGradGuard noGrad;
    for (auto& module : model->modules(/*include_self=*/false))
        if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
            bn->weight.uniform_(0.5, 1.5);
            bn->bias.normal_(0.0, 0.1);
            bn->running_mean.normal_(0.0, 0.1);
            bn->running_var.uniform_(0.5, 1.5);
        }
    model->eval();
    return model;
}

void compareLogits(const torch::Tensor& actual, const torch::Tensor& expected)
{
    QCOMPARE(actual.sizes().vec(), expected.sizes().vec());
    const double scale = std::max(1.0, expected.abs().max().item<double>());
    const double maxAbs = (actual - expected).abs().max().item<double>();
    qInfo("max abs difference %.3g, logits up to %.3g", maxAbs, scale);
    QVERIFY2(maxAbs <= kRelativeTolerance * scale,
             qPrintable(QString("max abs difference %1 > %2").arg(maxAbs).arg(kRelativeTolerance * scale)));
    QVERIFY(expected.std().item<double>() > 1e-3);   // the comparison is not between two constants
}

torch::Tensor moduleLogits(EfficientNet& model, const torch::Tensor& input)
{
    c10::InferenceMode inference;
    return model->forward(input);
}

} // namespace

class TestCpuEngine : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (!onednn::compiled())
            QSKIP("this build runs the CPU through LibTorch: CMake found no usable oneDNN (cmake/OneDnn.cmake says why)");
        qInfo("%s, DNNL_MAX_CPU_ISA=%s", onednn::version().c_str(),
              std::getenv("DNNL_MAX_CPU_ISA") ? std::getenv("DNNL_MAX_CPU_ISA") : "(not set)");
    }

    void matchesTheModule_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<bool>("tfSame");
        QTest::addColumn<int>("classes");
        QTest::addColumn<int>("height");
        QTest::addColumn<int>("width");
        QTest::newRow("b0 224") << "efficientnet_b0" << false << 1000 << 224 << 224;
        QTest::newRow("b0 SAME 225x197") << "efficientnet_b0" << true << 1000 << 225 << 197;
        QTest::newRow("b2 SAME 260, 3 classes") << "efficientnet_b2" << true << 3 << 260 << 260;
        QTest::newRow("b3 300x221, 7 classes") << "efficientnet_b3" << false << 7 << 300 << 221;
        QTest::newRow("v2_s 160x208") << "efficientnet_v2_s" << false << 1000 << 160 << 208;
        QTest::newRow("v2_s SAME 97x131") << "efficientnet_v2_s" << true << 1000 << 97 << 131;
        QTest::newRow("b1 17x9 (1x1 maps)") << "efficientnet_b1" << false << 1000 << 17 << 9;
    }

    void matchesTheModule()
    {
        QFETCH(QString, variant);
        QFETCH(bool, tfSame);
        QFETCH(int, classes);
        QFETCH(int, height);
        QFETCH(int, width);
        auto model = randomModel(variant.toStdString(), tfSame ? Padding::TfSame : Padding::Symmetric, classes);
        const auto input = torch::randn({1, 3, height, width});
        onednn::Network network(model);
        compareLogits(network.forward(input), moduleLogits(model, input));
    }

    // The input as callers hand it over: another dtype, channels-last, a non-contiguous view.
    void takesAnyFloatLayout()
    {
        auto model = randomModel("efficientnet_b0", Padding::Symmetric, 10);
        const auto input = torch::randn({1, 3, 64, 80});
        onednn::Network network(model);
        const auto expected = moduleLogits(model, input);
        compareLogits(network.forward(input.to(torch::kDouble)), expected);
        compareLogits(network.forward(input.contiguous(torch::MemoryFormat::ChannelsLast)), expected);
        const auto wide = torch::zeros({1, 3, 64, 160});
        wide.slice(3, 0, 160, 2).copy_(input);
        compareLogits(network.forward(wide.slice(3, 0, 160, 2)), expected);
    }

    // More input sizes than the engine keeps plans for: each forward still gives its size's answer.
    void plansForManySizesStayCorrect()
    {
        auto model = randomModel("efficientnet_b0", Padding::TfSame, 5);
        onednn::Network network(model);
        const int sizes[] = {64, 65, 70, 96, 100, 33, 64};
        for (int size : sizes) {
            const auto input = torch::randn({1, 3, size, size});
            compareLogits(network.forward(input), moduleLogits(model, input));
        }
    }

    void noPrimitiveRunsReferenceCode_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<bool>("tfSame");
        QTest::newRow("b0") << "efficientnet_b0" << false;
        QTest::newRow("b0 SAME") << "efficientnet_b0" << true;
        QTest::newRow("b4") << "efficientnet_b4" << false;
        QTest::newRow("v2_s") << "efficientnet_v2_s" << false;
    }

    void noPrimitiveRunsReferenceCode()
    {
        QFETCH(QString, variant);
        QFETCH(bool, tfSame);
        auto model = randomModel(variant.toStdString(), tfSame ? Padding::TfSame : Padding::Symmetric, 1000);
        const int size = model->spec().preprocessing.cropSize;
        onednn::Network network(model);
        const auto names = network.implementations(size, size);
        QVERIFY(names.size() > 50);
        const char* maxIsa = std::getenv("DNNL_MAX_CPU_ISA");
        const bool avx2Only = maxIsa && QString(maxIsa).compare("AVX2", Qt::CaseInsensitive) == 0;
        QMap<QString, int> counts;
        for (const auto& name : names) {
            const auto implementation = QString::fromStdString(name);
            counts[implementation] += 1;
            QVERIFY2(!implementation.startsWith("ref"), qPrintable("a primitive runs " + implementation));
            if (avx2Only)   // the setting took effect: nothing runs 512-bit code
                QVERIFY2(!implementation.contains("avx512"), qPrintable(implementation));
        }
        for (auto it = counts.cbegin(); it != counts.cend(); ++it)
            qInfo("%3d x %s", it.value(), qPrintable(it.key()));
    }

    // InferenceModel runs the network on the CPU, batches one image at a time, and agrees with its LibTorch form.
    void inferenceModelRunsItOnTheCpu()
    {
        auto model = randomModel("efficientnet_b0", Padding::Symmetric, 1000);
        const auto input = torch::randn({3, 3, 96, 96});
        const auto expected = moduleLogits(model, input);
        InferenceModel direct(model, InferenceOptions{});
        QVERIFY2(QString::fromStdString(direct.backend()).startsWith("oneDNN"), direct.backend().c_str());
        compareLogits(direct.forward(input), expected);

        auto again = randomModel("efficientnet_b0", Padding::Symmetric, 1000);
        InferenceOptions throughLibTorch;
        throughLibTorch.directOneDnn = false;
        InferenceModel libtorch(again, throughLibTorch);
        QCOMPARE(QString::fromStdString(libtorch.backend()), QString("LibTorch CPU"));
        compareLogits(libtorch.forward(input), expected);
    }

    void refusesWhatItCannotRun()
    {
        auto model = randomModel("efficientnet_b0", Padding::Symmetric, 1000);
        onednn::Network network(model);
        QVERIFY_THROWS_EXCEPTION(ConfigError, network.forward(torch::randn({2, 3, 32, 32})));
        QVERIFY_THROWS_EXCEPTION(ConfigError, network.forward(torch::randn({1, 1, 32, 32})));
        QVERIFY_THROWS_EXCEPTION(ConfigError, network.forward(torch::randn({3, 32, 32})));
    }
};

QTEST_GUILESS_MAIN(TestCpuEngine)
#include "test_cpu_engine.moc"
