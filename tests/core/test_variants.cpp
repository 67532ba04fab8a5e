// The variant table and the model built from it match torchvision: parameter counts and state_dict entries
// (REFERENCE.md), key names, output shapes, and the model names of torchvision, timm and lukemelas.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include "efficientnet/errors.h"
#include "efficientnet/model.h"
#include "efficientnet/variants.h"
#include "efficientnet/weights.h"

using namespace efficientnet;

class TestVariants : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parameterCountsAndKeysMatchTorchvision_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto& v : allVariants())
            QTest::newRow(v.name.c_str()) << QString::fromStdString(v.name);
    }

    void parameterCountsAndKeysMatchTorchvision()
    {
        QFETCH(QString, name);
        const auto& spec = variant(name.toStdString());
        EfficientNet model(EfficientNetOptions(spec.name));
        int64_t params = 0;
        for (const auto& p : model->parameters())
            params += p.numel();
        QCOMPARE(params, spec.numParams);
        const auto entries = stateDict(model);
        QCOMPARE(static_cast<int>(entries.size()), spec.stateDictEntries);
        // Spot-check the key layout that torchvision checkpoints use.
        std::set<std::string> keys;
        for (const auto& e : entries)
            keys.insert(e.first);
        const int head = static_cast<int>(spec.stages.size()) + 1;
        for (const std::string key : {std::string("features.0.0.weight"), std::string("features.0.1.running_var"),
                                      std::string("features.1.0.block.0.0.weight"),
                                      "features." + std::to_string(head) + ".1.num_batches_tracked",
                                      std::string("classifier.1.weight"), std::string("classifier.1.bias")})
            QVERIFY2(keys.count(key), key.c_str());
    }

    void forwardGivesOneLogitPerClass()
    {
        for (const char* name : {"efficientnet_b0", "efficientnet_v2_s"}) {
            EfficientNet model(EfficientNetOptions(name).numClasses(10));
            model->eval();
            torch::NoGradGuard noGrad;
            const auto out = model->forward(torch::randn({2, 3, 64, 64}));
            QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{2, 10}));
            QVERIFY(torch::isfinite(out).all().item<bool>());
        }
    }

    void tfSamePaddingKeepsTensorflowOutputSize()
    {
        // SAME padding gives ceil(in / stride) at every stride: 225 -> 113 at the stem (symmetric gives 113 too,
        // but 224 -> 112 and odd sizes differ further down); the features of a 225 input end at ceil(225/32) = 8.
        EfficientNet model(EfficientNetOptions("efficientnet_b0").padding(Padding::TfSame));
        model->eval();
        torch::NoGradGuard noGrad;
        const auto features = model->forwardFeatures(torch::randn({1, 3, 225, 225}));
        QCOMPARE(features.size(2), 8);
        QCOMPARE(features.size(3), 8);
    }

    void stochasticDepthOnlyInTraining()
    {
        EfficientNet model(EfficientNetOptions("efficientnet_b0").stochasticDepthProb(0.9).dropout(0.0));
        torch::NoGradGuard noGrad;
        const auto x = torch::randn({4, 3, 64, 64});
        model->eval();
        QVERIFY(torch::equal(model->forward(x), model->forward(x)));
        model->train();
        torch::manual_seed(1);
        const auto a = model->forward(x);
        torch::manual_seed(2);
        const auto b = model->forward(x);
        QVERIFY(!torch::allclose(a, b));
    }

    void scalingFollowsTorchvision_data()
    {
        QTest::addColumn<int>("channels");
        QTest::addColumn<double>("width");
        QTest::addColumn<int>("expected");
        // torchvision _make_divisible(c * w, 8)
        QTest::newRow("b0 stem") << 32 << 1.0 << 32;
        QTest::newRow("b2 24") << 24 << 1.1 << 24;     // 26.4 -> 24 (>= 90%)
        QTest::newRow("b3 40") << 40 << 1.2 << 48;
        QTest::newRow("b4 112") << 112 << 1.4 << 160;  // 156.8 -> 160
        QTest::newRow("b7 320") << 320 << 2.0 << 640;
        QTest::newRow("b2 16") << 16 << 1.1 << 16;
    }

    void scalingFollowsTorchvision()
    {
        QFETCH(int, channels);
        QFETCH(double, width);
        QFETCH(int, expected);
        QCOMPARE(scaledChannels(channels, width), expected);
    }

    void modelNamesOfEverySource_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("variant");
        QTest::addColumn<int>("padding");
        QTest::addColumn<int>("source");
        QTest::addColumn<double>("bnEps");
        const int sym = static_cast<int>(Padding::Symmetric), same = static_cast<int>(Padding::TfSame);
        const int tv = static_cast<int>(WeightSource::Torchvision), timm = static_cast<int>(WeightSource::Timm),
                  luke = static_cast<int>(WeightSource::Lukemelas);
        QTest::newRow("torchvision b0") << "efficientnet_b0" << "efficientnet_b0" << sym << tv << 1e-5;
        QTest::newRow("torchvision b7") << "efficientnet_b7" << "efficientnet_b7" << sym << tv << 1e-3;
        QTest::newRow("torchvision v2_l") << "efficientnet_v2_l" << "efficientnet_v2_l" << sym << tv << 1e-3;
        QTest::newRow("timm tf b3") << "tf_efficientnet_b3" << "efficientnet_b3" << same << timm << 1e-3;
        QTest::newRow("timm v2") << "efficientnetv2_m" << "efficientnet_v2_m" << sym << timm << 1e-3;
        QTest::newRow("timm tf v2") << "tf_efficientnetv2_s" << "efficientnet_v2_s" << same << timm << 1e-3;
        QTest::newRow("lukemelas b4") << "efficientnet-b4" << "efficientnet_b4" << same << luke << 1e-3;
    }

    void modelNamesOfEverySource()
    {
        QFETCH(QString, name);
        QFETCH(QString, variant);
        QFETCH(int, padding);
        QFETCH(int, source);
        QFETCH(double, bnEps);
        const auto resolved = resolveModelName(name.toStdString());
        QCOMPARE(QString::fromStdString(resolved.spec->name), variant);
        QCOMPARE(static_cast<int>(resolved.padding), padding);
        QCOMPARE(static_cast<int>(resolved.namingHint), source);
        QCOMPARE(resolved.bnEps, bnEps);
    }

    void unknownModelNamesListTheKnownOnes()
    {
        for (const char* bad : {"efficientnet_b9", "resnet50", "efficientnet-b8", ""}) {
            try {
                resolveModelName(bad);
                QFAIL(bad);
            } catch (const ConfigError& e) {
                QVERIFY2(std::string(e.what()).find("efficientnet_v2_l") != std::string::npos, e.what());
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestVariants)
#include "test_variants.moc"
