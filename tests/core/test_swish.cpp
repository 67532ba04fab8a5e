// The memory-efficient swish computes x * sigmoid(x) and its gradient equals autograd's through the plain formula,
// while keeping only its input for backward.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include "efficientnet/swish.h"

using efficientnet::activation::swish;

class TestSwish : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void forwardEqualsXTimesSigmoid()
    {
        const auto x = torch::linspace(-20, 20, 4001, torch::kDouble);
        QVERIFY(torch::allclose(swish(x), x * torch::sigmoid(x), 0.0, 1e-12));
    }

    void gradientEqualsAutogradOfTheFormula()
    {
        torch::manual_seed(0);
        const auto base = torch::randn({64, 33}, torch::kDouble) * 6;
        auto a = base.clone().requires_grad_(true);
        auto b = base.clone().requires_grad_(true);
        const auto weights = torch::randn({64, 33}, torch::kDouble);
        (swish(a) * weights).sum().backward();
        (b * torch::sigmoid(b) * weights).sum().backward();
        QVERIFY(torch::allclose(a.grad(), b.grad(), 0.0, 1e-12));
    }

    void gradcheckPasses()
    {
        auto x = torch::randn({5, 7}, torch::kDouble).requires_grad_(true);
        // Central differences against the custom backward.
        const double h = 1e-6;
        auto y = swish(x);
        const auto grad = torch::autograd::grad({y.sum()}, {x})[0];
        const auto numeric = (swish(x.detach() + h) - swish(x.detach() - h)) / (2 * h);
        QVERIFY(torch::allclose(grad, numeric, 1e-6, 1e-8));
    }

    void savesOnlyItsInput()
    {
        auto x = torch::randn({8}, torch::kDouble).requires_grad_(true);
        const auto y = swish(x);
        const auto node = y.grad_fn();
        QVERIFY(node != nullptr);
        // A CppNode of our function, not autograd's MulBackward of x * sigmoid(x) (which saves both factors).
        QVERIFY2(node->name().find("SwishFunction") != std::string::npos, node->name().c_str());
    }

    void withoutGradientItIsSilu()
    {
        torch::NoGradGuard noGrad;
        const auto x = torch::randn({100});
        QVERIFY(torch::allclose(swish(x), torch::silu(x)));
        QVERIFY(!swish(x).requires_grad());
    }
};

QTEST_GUILESS_MAIN(TestSwish)
#include "test_swish.moc"
