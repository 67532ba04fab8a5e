// Issue 15, point 2's first candidate, sized before it is built: EfficientNet-B0's forward at batch 1 in oneDNN used
// directly, as the engine would use it — every convolution with its bias and SiLU as post-ops (the projection with the
// residual as a sum post-op), the squeeze-excitation as a mean reduction, two inner products with their activations as
// post-ops and a broadcast multiply, all primitives created once, activations in the blocked layout. Random
// weights (speed does not depend on them); nothing is checked against torchvision: this is a timing of the primitive
// graph, to say whether the candidate can reach ONNX Runtime's time, not an implementation.
// Build (Debian 12: apt-get install libdnnl-dev, the oneDNN 2.6 that LibTorch 1.13 links):
//   g++ -O2 -std=c++17 benchmarks/onednn_b0_skeleton.cpp -ldnnl -o /tmp/onednn_b0_skeleton
// Run: OMP_NUM_THREADS=2 /tmp/onednn_b0_skeleton [iterations]     (prints the median forward time)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

// Activations in oneDNN's 16-channel blocked layout, as ATen's mkldnn tensors (and so the engine today) have them:
// the JIT 1x1 and depthwise convolutions of oneDNN 2.6 are fastest there (channels-last: 2.3x and 5x slower, measured).
constexpr tag kActivations = tag::nChw16c;
engine cpu(engine::kind::cpu, 0);
stream queue(cpu);
std::mt19937 rng(0);

struct Step {
    primitive op;
    std::unordered_map<int, memory> args;
};
std::vector<Step> steps;

memory filled(const memory::desc& desc, float scale)
{
    memory m(desc, cpu);
    std::normal_distribution<float> normal(0.f, scale);
    auto* p = static_cast<float*>(m.get_data_handle());
    for (size_t i = 0; i < desc.get_size() / sizeof(float); ++i)
        p[i] = normal(rng);
    return m;
}

// Weights given in plain layout, reordered once into what the primitive chose.
memory weightsFor(const memory::desc& chosen, const memory::dims& dims, tag plain, float scale)
{
    memory source = filled(memory::desc(dims, dt::f32, plain), scale);
    if (chosen == source.get_desc())
        return source;
    memory target(chosen, cpu);
    reorder(source, target).execute(queue, source, target);
    return target;
}

// Convolution + bias + SiLU (swish, alpha 1) [+ residual as a sum post-op]. Returns the output memory.
memory conv(const memory& src, int outChannels, int kernel, int stride, int groups, bool silu, const memory* residual)
{
    const auto in = src.get_desc().dims();
    const int pad = kernel / 2;
    const memory::dim outSize = (in[2] + 2 * pad - kernel) / stride + 1;
    const memory::dims dst{in[0], outChannels, outSize, outSize};
    const memory::dims weights = groups == 1 ? memory::dims{outChannels, in[1], kernel, kernel}
                                             : memory::dims{groups, 1, 1, kernel, kernel};
    post_ops ops;
    if (residual)
        ops.append_sum(1.f);
    if (silu)
        ops.append_eltwise(1.f, algorithm::eltwise_swish, 1.f, 0.f);
    primitive_attr attr;
    attr.set_post_ops(ops);
    const convolution_forward::desc desc(
        prop_kind::forward_inference, algorithm::convolution_direct, src.get_desc(),
        memory::desc(weights, dt::f32, tag::any), memory::desc({outChannels}, dt::f32, tag::x),
        residual ? residual->get_desc() : memory::desc(dst, dt::f32, kActivations), {stride, stride}, {pad, pad}, {pad, pad});
    const convolution_forward::primitive_desc pd(desc, attr, cpu);
    memory out(pd.dst_desc(), cpu);
    const int fanIn = (groups == 1 ? int(in[1]) : 1) * kernel * kernel;
    Step step{convolution_forward(pd),
              {{DNNL_ARG_SRC, src},
               {DNNL_ARG_WEIGHTS, weightsFor(pd.weights_desc(), weights, groups == 1 ? tag::oihw : tag::goihw,
                                             std::sqrt(2.f / fanIn))},
               {DNNL_ARG_BIAS, filled(memory::desc({outChannels}, dt::f32, tag::x), 0.01f)},
               {DNNL_ARG_DST, out}}};
    if (residual) {
        // The sum post-op accumulates into dst: the residual is copied into it first (oneDNN's in-place sum).
        steps.push_back({reorder(*residual, out), {{DNNL_ARG_FROM, *residual}, {DNNL_ARG_TO, out}}});
    }
    steps.push_back(std::move(step));
    return out;
}

// The squeeze-excitation on x (in its blocked layout): mean over H and W, FC + SiLU, FC + sigmoid, x *= gate.
void squeezeExcite(const memory& x, int squeezed)
{
    const auto d = x.get_desc().dims();
    const memory::dims pooled{d[0], d[1], 1, 1};
    // The mean as average pooling over the whole map: oneDNN 2.6's reduction has only a reference implementation for
    // these layouts (16.8 ms per forward on B0, measured), its pooling a JIT one.
    const pooling_forward::primitive_desc mean(
        pooling_forward::desc(prop_kind::forward_inference, algorithm::pooling_avg_exclude_padding, x.get_desc(),
                              memory::desc(pooled, dt::f32, kActivations), {d[2], d[3]}, {d[2], d[3]}, {0, 0}, {0, 0}),
        cpu);
    memory means(mean.dst_desc(), cpu);
    steps.push_back({pooling_forward(mean), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, means}}});
    // Batch 1, one pixel: the blocked layout's first C floats are the channels in order, as {1, C} plain has them.
    const memory meansFlat(memory::desc({d[0], d[1]}, dt::f32, tag::nc), cpu, means.get_data_handle());
    const auto fc = [&](const memory& src, int out, algorithm act, const memory* into) {
        post_ops ops;
        ops.append_eltwise(1.f, act, 1.f, 0.f);
        primitive_attr attr;
        attr.set_post_ops(ops);
        const auto in = src.get_desc().dims();
        const inner_product_forward::primitive_desc pd(
            inner_product_forward::desc(prop_kind::forward_inference, src.get_desc(),
                                        memory::desc({out, in[1]}, dt::f32, tag::any),
                                        memory::desc({out}, dt::f32, tag::x), memory::desc({in[0], out}, dt::f32, tag::nc)),
            attr, cpu);
        memory dst = into ? memory(pd.dst_desc(), cpu, into->get_data_handle()) : memory(pd.dst_desc(), cpu);
        steps.push_back({inner_product_forward(pd),
                         {{DNNL_ARG_SRC, src},
                          {DNNL_ARG_WEIGHTS, weightsFor(pd.weights_desc(), {out, in[1]}, tag::oi, std::sqrt(1.f / in[1]))},
                          {DNNL_ARG_BIAS, filled(memory::desc({out}, dt::f32, tag::x), 0.01f)},
                          {DNNL_ARG_DST, dst}}});
        return dst;
    };
    // The gate in x's blocked layout (a broadcast operand in another layout sends oneDNN 2.6 to its reference
    // binary: 61 ms per forward, measured); the second FC writes its first C floats, which are the same bytes.
    const memory gate4(memory::desc(pooled, dt::f32, kActivations), cpu);
    const memory hidden = fc(meansFlat, squeezed, algorithm::eltwise_swish, nullptr);
    fc(hidden, int(d[1]), algorithm::eltwise_logistic, &gate4);
    const binary::primitive_desc mul(binary::desc(algorithm::binary_mul, x.get_desc(), gate4.get_desc(), x.get_desc()), cpu);
    steps.push_back({binary(mul), {{DNNL_ARG_SRC_0, x}, {DNNL_ARG_SRC_1, gate4}, {DNNL_ARG_DST, x}}});
}

} // namespace

int main(int argc, char** argv)
{
    const int iterations = argc > 1 ? std::atoi(argv[1]) : 200;
    memory input = filled(memory::desc({1, 3, 224, 224}, dt::f32, tag::nchw), 1.f);
    memory x = conv(input, 32, 3, 2, 1, true, nullptr);   // stem
    struct Stage { int expand, kernel, stride, channels, repeats; };
    const Stage stages[] = {{1, 3, 1, 16, 1}, {6, 3, 2, 24, 2}, {6, 5, 2, 40, 2}, {6, 3, 2, 80, 3},
                            {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4}, {6, 3, 1, 320, 1}};
    int channels = 32;
    for (const Stage& s : stages) {
        for (int r = 0; r < s.repeats; ++r) {
            const int stride = r == 0 ? s.stride : 1;
            const int wide = channels * s.expand;
            memory h = s.expand == 1 ? x : conv(x, wide, 1, 1, 1, true, nullptr);
            h = conv(h, wide, s.kernel, stride, wide, true, nullptr);
            squeezeExcite(h, std::max(1, channels / 4));
            const bool residual = stride == 1 && channels == s.channels;
            x = conv(h, s.channels, 1, 1, 1, false, residual ? &x : nullptr);
            channels = s.channels;
        }
    }
    x = conv(x, 1280, 1, 1, 1, true, nullptr);   // head (pooling and the classifier: ~0.05 ms, left out)

    std::vector<double> times;
    for (int i = 0; i < iterations + 20; ++i) {
        const auto start = std::chrono::steady_clock::now();
        for (auto& step : steps)
            step.op.execute(queue, step.args);
        queue.wait();
        if (i >= 20)
            times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    std::printf("B0 skeleton in oneDNN %d.%d: %zu primitives, median %.2f ms (p10 %.2f, p90 %.2f) over %d forwards\n",
                dnnl_version()->major, dnnl_version()->minor, steps.size(), times[times.size() / 2],
                times[times.size() / 10], times[times.size() * 9 / 10], iterations);
}
