#include "engine/cpu/onednn_network.h"

#include <torch/torch.h>

#include "efficientnet/errors.h"

#ifdef EFFICIENTNET_WITH_ONEDNN
#include <ATen/Parallel.h>

#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <variant>

#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace efficientnet::onednn {

#ifndef EFFICIENTNET_WITH_ONEDNN

bool compiled() { return false; }
std::string version() { return {}; }
struct Network::Impl {};
Network::Network(const EfficientNet&) { throw ConfigError("this build has no oneDNN engine (oneDNN was not found)"); }
Network::~Network() = default;
torch::Tensor Network::forward(const torch::Tensor&) { return {}; }
std::vector<std::string> Network::implementations(int64_t, int64_t) { return {}; }

#else

// Why oneDNN directly, not through LibTorch: LibTorch runs the same oneDNN convolutions, but each through ATen's
// dispatch with a fresh output, and SiLU, the residual add and the squeeze-excitation as separate ATen operations
// (its oneDNN tensors have no SiLU and cannot broadcast), which at two threads costs as much as the convolutions
// themselves (BENCHMARKS.md, "What bounds the CPU engine at 2 threads"). Here those are post-ops of the
// convolutions, and nothing is allocated or dispatched per forward. The network is still defined once: layers,
// weights and padding come from the LibTorch model.
namespace {

using dnnl::algorithm;
using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;
constexpr size_t kMaxPlans = 4;   // input sizes kept; the classifier uses one, tests a few
constexpr memory::dim kLongestSum = 1024;   // pixels a mean sums in one run (globalAverage)
constexpr memory::dim kLargestTile = 16;

struct SqueezeWeights {
    torch::Tensor w1, b1, w2, b2;   // fc1 [squeezed, C], fc2 [C, squeezed], fp32
};
using Layer = std::variant<FoldedConv, SqueezeWeights>;
struct Block {
    std::vector<Layer> layers;
    bool addsInput = false;   // the last convolution adds the block's input
};

// oneDNN 3 builds primitive descriptors directly and renamed a few calls; 2.x (Debian 12's, the one its LibTorch
// links) describes the operation first. These wrappers are the only places that differ.
memory::dims dimsOf(const memory& m)
{
#if DNNL_VERSION_MAJOR >= 3
    return m.get_desc().get_dims();
#else
    return m.get_desc().dims();
#endif
}

void appendEltwise(dnnl::post_ops& ops, algorithm kind)
{
#if DNNL_VERSION_MAJOR >= 3
    ops.append_eltwise(kind, 1.f, 0.f);
#else
    ops.append_eltwise(1.f, kind, 1.f, 0.f);
#endif
}

dnnl::convolution_forward::primitive_desc convolutionDesc(const dnnl::engine& engine, const memory::desc& src,
                                                          const memory::desc& weights, const memory::desc& bias,
                                                          const memory::desc& dst, const memory::dims& strides,
                                                          const memory::dims& padBegin, const memory::dims& padEnd,
                                                          const dnnl::primitive_attr& attr)
{
#if DNNL_VERSION_MAJOR >= 3
    return {engine, dnnl::prop_kind::forward_inference, algorithm::convolution_direct, src, weights, bias, dst,
            strides, padBegin, padEnd, attr};
#else
    return {{dnnl::prop_kind::forward_inference, algorithm::convolution_direct, src, weights, bias, dst, strides,
             padBegin, padEnd},
            attr, engine};
#endif
}

dnnl::pooling_forward::primitive_desc averageDesc(const dnnl::engine& engine, const memory::desc& src,
                                                  const memory::desc& dst, const memory::dims& kernel)
{
#if DNNL_VERSION_MAJOR >= 3
    return {engine, dnnl::prop_kind::forward_inference, algorithm::pooling_avg_exclude_padding, src, dst, kernel,
            kernel, {0, 0}, {0, 0}, {0, 0}};
#else
    return {{dnnl::prop_kind::forward_inference, algorithm::pooling_avg_exclude_padding, src, dst, kernel, kernel,
             {0, 0}, {0, 0}},
            engine};
#endif
}

dnnl::inner_product_forward::primitive_desc innerProductDesc(const dnnl::engine& engine, const memory::desc& src,
                                                             const memory::desc& weights, const memory::desc& bias,
                                                             const memory::desc& dst, const dnnl::primitive_attr& attr)
{
#if DNNL_VERSION_MAJOR >= 3
    return {engine, dnnl::prop_kind::forward_inference, src, weights, bias, dst, attr};
#else
    return {{dnnl::prop_kind::forward_inference, src, weights, bias, dst}, attr, engine};
#endif
}

dnnl::binary::primitive_desc binaryDesc(const dnnl::engine& engine, algorithm kind, const memory::desc& src0,
                                        const memory::desc& src1, const memory::desc& dst)
{
#if DNNL_VERSION_MAJOR >= 3
    return {engine, kind, src0, src1, dst};
#else
    return {{kind, src0, src1, dst}, engine};
#endif
}

struct Step {
    dnnl::primitive op;
    std::unordered_map<int, memory> args;
    std::string implementation;
};

// The network for one input size: its primitives in order, their buffers and weights in the layouts they chose.
struct Plan {
    memory input;    // [1, 3, H, W] plain; pointed at the caller's tensor per forward
    memory logits;   // [1, classes]; pointed at the result per forward
    std::vector<Step> steps;
};

// Builds a Plan layer by layer. Activations live in oneDNN's channel-blocked layout (8 or 16 channels, the ISA's
// vector width) from the stem to the head: oneDNN 2.6's JIT depthwise convolution, pooling and broadcast multiply
// exist for it, while a depthwise convolution left to choose its layout takes channels-last and falls to the
// reference code, and so does a multiply whose broadcast operand is in another layout (17-61 ms per B0 forward,
// measured: BENCHMARKS.md).
class Planner {
public:
    Planner(const dnnl::engine& engine, dnnl::stream& stream, Tag activations, Plan& plan)
        : m_engine(engine), m_stream(stream), m_activations(activations), m_plan(plan)
    {
    }

    // Convolution + bias [+ SiLU] [+ residual], the BatchNorm folded into weight and bias.
    memory convolution(const memory& src, const FoldedConv& conv, const memory* residual)
    {
        const auto in = dimsOf(src);
        const int64_t kernel = conv.kernel(), stride = conv.stride, groups = conv.groups;
        const int64_t out = conv.weight.size(0);
        const auto [top, bottom] = conv.padding(in[2]);
        const auto [left, right] = conv.padding(in[3]);
        const memory::dims dst{in[0], out, (in[2] + top + bottom - kernel) / stride + 1,
                               (in[3] + left + right - kernel) / stride + 1};
        // torch's [out, in / groups, k, k] is oneDNN's goihw [groups, out / groups, in / groups, k, k], same bytes.
        const memory::dims weights = groups == 1
                                         ? memory::dims{out, in[1], kernel, kernel}
                                         : memory::dims{groups, out / groups, in[1] / groups, kernel, kernel};
        dnnl::post_ops ops;
        if (conv.activation)
            appendEltwise(ops, algorithm::eltwise_swish);   // x * sigmoid(alpha x), alpha 1: SiLU
        if (residual)
            ops.append_binary(algorithm::binary_add, residual->get_desc());   // after the SiLU, as torchvision adds
        dnnl::primitive_attr attr;
        attr.set_post_ops(ops);
        const auto pd = convolutionDesc(m_engine, src.get_desc(), memory::desc(weights, kF32, Tag::any),
                                        memory::desc({out}, kF32, Tag::x), memory::desc(dst, kF32, m_activations),
                                        {stride, stride}, {top, left}, {bottom, right}, attr);
        memory result(pd.dst_desc(), m_engine);
        std::unordered_map<int, memory> args{
            {DNNL_ARG_SRC, src},
            {DNNL_ARG_WEIGHTS, reordered(conv.weight, weights, groups == 1 ? Tag::oihw : Tag::goihw, pd.weights_desc())},
            {DNNL_ARG_BIAS, wrap(conv.bias, {out}, Tag::x)},
            {DNNL_ARG_DST, result}};
        if (residual) {
            const int residualPostOp = conv.activation ? 1 : 0;
            args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(residualPostOp) | DNNL_ARG_SRC_1] = *residual;
        }
        add(dnnl::convolution_forward(pd), std::move(args), pd.impl_info_str());
        return result;
    }

    // x *= sigmoid(fc2(silu(fc1(mean over H, W of x)))), in place, x in the blocked layout. Batch 1 only: the pooled
    // [1, C, 1, 1] map in a blocked layout holds its C channels in order in its first C floats, which is what lets the
    // inner products read and write it as a plain [1, C] matrix.
    void squeezeExcite(const memory& x, const SqueezeWeights& se)
    {
        const auto d = dimsOf(x);
        const memory::dims pooled{d[0], d[1], 1, 1};
        const memory means = globalAverage(x);
        const memory meansFlat(memory::desc({d[0], d[1]}, kF32, Tag::nc), m_engine, means.get_data_handle());
        const memory hidden = innerProduct(meansFlat, se.w1, se.b1, algorithm::eltwise_swish, nullptr);
        // The gate in x's own layout (a broadcast operand in another one sends the multiply to reference code); the
        // blocked layout's padding channels stay zero.
        const memory gate(memory::desc(pooled, kF32, m_activations), m_engine);
        std::memset(gate.get_data_handle(), 0, gate.get_desc().get_size());
        innerProduct(hidden, se.w2, se.b2, algorithm::eltwise_logistic, &gate);
        const auto pd = binaryDesc(m_engine, algorithm::binary_mul, x.get_desc(), gate.get_desc(), x.get_desc());
        add(dnnl::binary(pd), {{DNNL_ARG_SRC_0, x}, {DNNL_ARG_SRC_1, gate}, {DNNL_ARG_DST, x}}, pd.impl_info_str());
    }

    // Global average pooling (a whole-map average pooling: oneDNN 2.6's reduction has only reference code for these
    // layouts) and the classifier, into plan.logits.
    void classifier(const memory& features, const torch::Tensor& weight, const torch::Tensor& bias)
    {
        const auto d = dimsOf(features);
        const memory pooled = globalAverage(features);
        const memory flat(memory::desc({d[0], d[1]}, kF32, Tag::nc), m_engine, pooled.get_data_handle());
        m_plan.logits = innerProduct(flat, weight, bias, std::nullopt, nullptr);
    }

private:
    // The per-channel mean of a map. oneDNN's pooling sums a window in order, in fp32: over a large map (B6's first
    // stage: 264x264) that loses more than torchvision's mean, which sums in blocks. So a large map is first averaged
    // in tiles of k x k (the largest k up to 16 that divides both sides), then the tile means are averaged: the same
    // mean, summed in two shorter runs.
    memory globalAverage(const memory& x)
    {
        memory source = x;
        auto d = dimsOf(x);
        if (d[2] * d[3] > kLongestSum) {
            for (memory::dim k = kLargestTile; k > 1; --k) {
                if (d[2] % k != 0 || d[3] % k != 0)
                    continue;
                source = average(x, {k, k}, {d[0], d[1], d[2] / k, d[3] / k});
                d = dimsOf(source);
                break;
            }
        }
        return average(source, {d[2], d[3]}, {d[0], d[1], 1, 1});
    }

    memory average(const memory& x, const memory::dims& kernel, const memory::dims& out)
    {
        const auto pd = averageDesc(m_engine, x.get_desc(), memory::desc(out, kF32, m_activations), kernel);
        memory result(pd.dst_desc(), m_engine);
        add(dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, result}}, pd.impl_info_str());
        return result;
    }

    // src [1, in] -> [1, out] with bias and an optional activation; into `into`'s first `out` floats when given.
    memory innerProduct(const memory& src, const torch::Tensor& weight, const torch::Tensor& bias,
                        std::optional<algorithm> activation, const memory* into)
    {
        const int64_t out = weight.size(0), in = weight.size(1);
        dnnl::post_ops ops;
        if (activation)
            appendEltwise(ops, *activation);
        dnnl::primitive_attr attr;
        attr.set_post_ops(ops);
        const auto pd = innerProductDesc(m_engine, src.get_desc(), memory::desc({out, in}, kF32, Tag::any),
                                         memory::desc({out}, kF32, Tag::x),
                                         memory::desc({dimsOf(src)[0], out}, kF32, Tag::nc), attr);
        const memory dst = into ? memory(pd.dst_desc(), m_engine, into->get_data_handle()) : memory(pd.dst_desc(), m_engine);
        add(dnnl::inner_product_forward(pd),
            {{DNNL_ARG_SRC, src},
             {DNNL_ARG_WEIGHTS, reordered(weight, {out, in}, Tag::oi, pd.weights_desc())},
             {DNNL_ARG_BIAS, wrap(bias, {out}, Tag::x)},
             {DNNL_ARG_DST, dst}},
            pd.impl_info_str());
        return dst;
    }

    // A plain fp32 tensor as oneDNN memory, without a copy (the Network keeps the tensor).
    memory wrap(const torch::Tensor& t, const memory::dims& dims, Tag tag)
    {
        return memory(memory::desc(dims, kF32, tag), m_engine, t.data_ptr());
    }

    // Weights in the layout the primitive chose, reordered once here.
    memory reordered(const torch::Tensor& t, const memory::dims& dims, Tag plain, const memory::desc& chosen)
    {
        memory source = wrap(t, dims, plain);
        if (source.get_desc() == chosen)
            return source;
        memory target(chosen, m_engine);
        dnnl::reorder(source, target).execute(m_stream, source, target);
        m_stream.wait();
        return target;
    }

    void add(dnnl::primitive op, std::unordered_map<int, memory> args, const char* implementation)
    {
        m_plan.steps.push_back({std::move(op), std::move(args), implementation});
    }

    const dnnl::engine& m_engine;
    dnnl::stream& m_stream;
    Tag m_activations;
    Plan& m_plan;
};

// Blocks of 16 channels where the CPU has 512-bit vectors, of 8 otherwise: the one whose JIT depthwise convolution
// oneDNN has (its reference code is 10x slower), probed on a small depthwise convolution.
Tag activationLayout(const dnnl::engine& engine)
{
    const memory::desc map({1, 32, 8, 8}, kF32, Tag::nChw16c);
    dnnl::primitive_attr attr;
    const auto pd = convolutionDesc(engine, map, memory::desc({32, 1, 1, 3, 3}, kF32, Tag::any),
                                    memory::desc({32}, kF32, Tag::x), map, {1, 1}, {1, 1}, {1, 1}, attr);
    return std::string(pd.impl_info_str()).rfind("ref", 0) == 0 ? Tag::nChw8c : Tag::nChw16c;
}

} // namespace

bool compiled() { return true; }

std::string version()
{
    const auto* v = dnnl_version();
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

struct Network::Impl {
    dnnl::engine engine{dnnl::engine::kind::cpu, 0};
    dnnl::stream stream{engine};
    Tag activations = Tag::nChw16c;
    std::vector<Block> blocks;                 // stem, MBConv / FusedMBConv blocks, head
    torch::Tensor classifierWeight, classifierBias;
    std::map<std::pair<int64_t, int64_t>, std::unique_ptr<Plan>> plans;
    std::mutex mutex;

    Plan& planFor(int64_t height, int64_t width)
    {
        const std::pair<int64_t, int64_t> size{height, width};
        if (const auto found = plans.find(size); found != plans.end())
            return *found->second;
        if (plans.size() >= kMaxPlans)
            plans.clear();
        try {
            return *plans.emplace(size, build(height, width)).first->second;
        } catch (const dnnl::error& e) {
            throw ConfigError("oneDNN cannot run this network on a " + std::to_string(height) + "x" +
                              std::to_string(width) + " input: " + e.what());
        }
    }

    std::unique_ptr<Plan> build(int64_t height, int64_t width)
    {
        auto plan = std::make_unique<Plan>();
        Planner planner(engine, stream, activations, *plan);
        plan->input = memory(memory::desc({1, 3, height, width}, kF32, Tag::nchw), engine, nullptr);
        memory x = plan->input;
        for (const Block& block : blocks) {
            const memory blockInput = x;
            for (size_t i = 0; i < block.layers.size(); ++i) {
                const bool last = i + 1 == block.layers.size();
                if (const auto* conv = std::get_if<FoldedConv>(&block.layers[i]))
                    x = planner.convolution(x, *conv, last && block.addsInput ? &blockInput : nullptr);
                else
                    planner.squeezeExcite(x, std::get<SqueezeWeights>(block.layers[i]));
            }
        }
        planner.classifier(x, classifierWeight, classifierBias);
        return plan;
    }
};

namespace {

torch::Tensor plainFloat(const torch::Tensor& t)
{
    return t.detach().to(torch::kCPU, torch::kFloat).contiguous();
}

SqueezeWeights squeezeWeights(const SqueezeExcitationImpl& se)
{
    return {plainFloat(se.fc1()->weight.flatten(1)), plainFloat(se.fc1()->bias),
            plainFloat(se.fc2()->weight.flatten(1)), plainFloat(se.fc2()->bias)};
}

} // namespace

Network::Network(const EfficientNet& model)
    : m_impl(std::make_unique<Impl>())
{
    torch::NoGradGuard noGrad;
    m_impl->activations = activationLayout(m_impl->engine);
    for (const auto& feature : model->features()->children()) {
        if (const auto* conv = feature->as<ConvNormActivation>()) {   // stem, head
            m_impl->blocks.push_back({{conv->folded()}, false});
            continue;
        }
        for (const auto& child : feature->children()) {
            const auto* mbconv = child->as<MBConv>();
            if (!mbconv)
                throw ConfigError("the oneDNN engine does not know the layer " + child->name());
            Block block{{}, mbconv->addsInput()};
            for (const auto& layer : mbconv->block()->children()) {
                if (const auto* conv = layer->as<ConvNormActivation>())
                    block.layers.emplace_back(conv->folded());
                else if (const auto* se = layer->as<SqueezeExcitation>())
                    block.layers.emplace_back(squeezeWeights(*se));
                else
                    throw ConfigError("the oneDNN engine does not know the layer " + layer->name());
            }
            m_impl->blocks.push_back(std::move(block));
        }
    }
    for (const auto& layer : model->classifier()->children())
        if (const auto* linear = layer->as<torch::nn::Linear>()) {
            m_impl->classifierWeight = plainFloat(linear->weight);
            m_impl->classifierBias = plainFloat(linear->bias);
        }
}

Network::~Network() = default;

torch::Tensor Network::forward(const torch::Tensor& image)
{
    if (image.dim() != 4 || image.size(0) != 1 || image.size(1) != 3 || !image.device().is_cpu())
        throw ConfigError("the oneDNN engine takes one RGB image [1, 3, H, W] on the CPU");
    const auto input = image.to(torch::kFloat).contiguous();
    auto logits = torch::empty({1, m_impl->classifierWeight.size(0)});
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    Plan& plan = m_impl->planFor(input.size(2), input.size(3));
    plan.input.set_data_handle(input.data_ptr());
    plan.logits.set_data_handle(logits.data_ptr());
    // oneDNN's OpenMP threads: as many as LibTorch's on this thread (set_num_threads reaches OpenMP lazily).
    at::internal::lazy_init_num_threads();
    for (auto& step : plan.steps)
        step.op.execute(m_impl->stream, step.args);
    m_impl->stream.wait();
    return logits;
}

std::vector<std::string> Network::implementations(int64_t height, int64_t width)
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    std::vector<std::string> names;
    for (const auto& step : m_impl->planFor(height, width).steps)
        names.push_back(step.implementation);
    return names;
}

#endif

} // namespace efficientnet::onednn
