// The optimisation step of fine-tuning (training_step.h) on the CPU: its dynamic loss scaling, which LibTorch lacks
// and the project writes itself (GradScaler's rules). A clean step applies the unscaled gradient exactly; a step
// whose scaled gradients overflow is skipped, leaves the weights alone and halves the scale. The autocast half of
// the step is CUDA's, checked in tests/cuda/test_cuda.cpp on the GPU machine.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <limits>

#include "efficientnet/training_step.h"

using namespace efficientnet;

namespace {

constexpr double kLabelSmoothing = 0.1;
constexpr double kInitialScale = 65536.0;

struct Setup {
    torch::nn::Linear layer{nullptr};
    torch::Tensor input, target;
};

Setup setup()
{
    torch::manual_seed(11);
    Setup s;
    s.layer = torch::nn::Linear(8, 3);
    s.input = torch::randn({5, 8});
    s.target = torch::tensor(std::vector<int64_t>{0, 1, 2, 1, 0});
    return s;
}

torch::Tensor weightsOf(const torch::nn::Linear& layer)
{
    return torch::cat({layer->weight.detach().flatten(), layer->bias.detach().flatten()}).clone();
}

} // namespace

class TestTrainingStep : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // With scaling on (fp16's setting), the step's update equals the unscaled step's to float rounding: the loss is
    // multiplied by 2^16 for backward and every gradient divided by it before the optimiser reads it.
    void scaledStepEqualsUnscaledStep()
    {
        Setup plain = setup(), scaled = setup();
        torch::optim::SGD plainOptimizer(plain.layer->parameters(), torch::optim::SGDOptions(0.5));
        torch::optim::SGD scaledOptimizer(scaled.layer->parameters(), torch::optim::SGDOptions(0.5));
        training::LossScaler off(false), on(true);
        QCOMPARE(on.scale(), kInitialScale);
        const torch::Device cpu(torch::kCPU);
        const auto a = training::optimisationStep(plainOptimizer, [&] { return plain.layer->forward(plain.input); },
                                                  plain.target, kLabelSmoothing, Precision::Float32, cpu, off);
        const auto b = training::optimisationStep(scaledOptimizer, [&] { return scaled.layer->forward(scaled.input); },
                                                  scaled.target, kLabelSmoothing, Precision::Float32, cpu, on);
        QVERIFY(a.applied && b.applied);
        QCOMPARE(a.loss.item<double>(), b.loss.item<double>());
        const auto before = weightsOf(setup().layer);
        const double moved = (weightsOf(plain.layer) - before).abs().max().item<double>();
        const double difference = (weightsOf(plain.layer) - weightsOf(scaled.layer)).abs().max().item<double>();
        QVERIFY2(moved > 1e-3, qPrintable(QString("the step moved the weights by %1").arg(moved)));
        QVERIFY2(difference < 1e-6, qPrintable(QString("scaled and unscaled updates differ by %1").arg(difference)));
        QCOMPARE(on.scale(), kInitialScale);   // one clean step does not grow it (2000 do)
    }

    // Gradients that overflow once scaled: the step is skipped, the weights stay, the scale halves; at a smaller
    // scale the same step goes through. Inputs of 1e36 give weight gradients near 1e36, and 2^16 times that is inf in fp32.
    void overflowingStepIsSkippedAndHalvesTheScale()
    {
        Setup s = setup();
        torch::optim::SGD optimizer(s.layer->parameters(), torch::optim::SGDOptions(1e-40));
        training::LossScaler scaler(true);
        const auto before = weightsOf(s.layer);
        const torch::Device cpu(torch::kCPU);
        const auto huge = [&] { return s.layer->forward(s.input * 1e36); };
        const auto first = training::optimisationStep(optimizer, huge, s.target, kLabelSmoothing, Precision::Float32,
                                                      cpu, scaler);
        QVERIFY(!first.applied);
        QVERIFY(torch::equal(weightsOf(s.layer), before));
        QCOMPARE(scaler.scale(), kInitialScale / 2);
        int skipped = 1;
        bool applied = false;
        while (!applied && skipped < 40) {
            applied = training::optimisationStep(optimizer, huge, s.target, kLabelSmoothing, Precision::Float32, cpu,
                                                 scaler).applied;
            skipped += applied ? 0 : 1;
        }
        QVERIFY2(applied, "the step never went through as the scale fell");
        QVERIFY(std::isfinite(weightsOf(s.layer).abs().max().item<double>()));
        QVERIFY(scaler.scale() < kInitialScale / 2);
    }

    // The multi-tensor AdamW makes torch::optim::AdamW's update with the same operations: equal to the bit over
    // steps, with two parameter groups (decayed weights, undecayed biases) at different learning rates.
    void multiTensorAdamWEqualsLibTorchAdamW()
    {
        Setup a = setup(), b = setup();
        const auto groupsOf = [](const torch::nn::Linear& layer) {
            std::vector<torch::optim::OptimizerParamGroup> groups;
            groups.emplace_back(std::vector<torch::Tensor>{layer->weight},
                                std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(1e-2).weight_decay(0.05)));
            groups.emplace_back(std::vector<torch::Tensor>{layer->bias},
                                std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(3e-3).weight_decay(0.0)));
            return groups;
        };
        torch::optim::AdamW reference(groupsOf(a.layer));
        training::MultiTensorAdamW multi(groupsOf(b.layer));
        training::LossScaler off(false);
        const torch::Device cpu(torch::kCPU);
        for (int step = 0; step < 4; ++step) {
            training::optimisationStep(reference, [&] { return a.layer->forward(a.input); }, a.target, kLabelSmoothing,
                                       Precision::Float32, cpu, off);
            training::optimisationStep(multi, [&] { return b.layer->forward(b.input); }, b.target, kLabelSmoothing,
                                       Precision::Float32, cpu, off);
        }
        QVERIFY(!torch::equal(weightsOf(a.layer), weightsOf(setup().layer)));
        QVERIFY2(torch::equal(weightsOf(a.layer), weightsOf(b.layer)),
                 qPrintable(QString("max difference %1")
                                .arg((weightsOf(a.layer) - weightsOf(b.layer)).abs().max().item<double>())));
    }

    void fp32AutocastIsANoOpAndHalfPrecisionNamesItself()
    {
        QCOMPARE(std::string(toString(parsePrecision("bf16"))), std::string("bf16"));
        QVERIFY_EXCEPTION_THROWN(parsePrecision("fp8"), std::exception);
        // On the CPU the scope changes nothing: a matmul stays fp32.
        training::AutocastScope scope(Precision::Float16, torch::Device(torch::kCPU));
        QCOMPARE(torch::matmul(torch::ones({2, 2}), torch::ones({2, 2})).scalar_type(), torch::kFloat32);
    }
};

QTEST_APPLESS_MAIN(TestTrainingStep)
#include "test_training_step.moc"
