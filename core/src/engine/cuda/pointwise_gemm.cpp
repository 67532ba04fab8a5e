#include "engine/cuda/pointwise_gemm.h"

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cublasLt.h>

// cuBLASLt rather than ATen: ATen's matmuls with an epilogue (addmm's bias) take no third matrix, and the residual is
// what this is for. cuBLASLt is the library ATen's own GEMMs run on, linked by every CUDA LibTorch.
namespace efficientnet::cuda {
namespace {

void check(cublasStatus_t status, const char* what)
{
    TORCH_CHECK(status == CUBLAS_STATUS_SUCCESS, "cuBLASLt: ", what, " failed with status ", static_cast<int>(status));
}

cudaDataType dataType(at::ScalarType type)
{
    switch (type) {
    case at::kHalf:
        return CUDA_R_16F;
    case at::kBFloat16:
        return CUDA_R_16BF;
    default:
        return CUDA_R_32F;
    }
}

// The largest power of two up to 256 that divides the address. cuBLASLt's heuristics assume 256-byte alignment of
// every matrix unless told otherwise, and a kernel chosen for that would fault on a view that starts elsewhere.
uint32_t alignment(const void* address)
{
    const auto a = reinterpret_cast<std::uintptr_t>(address);
    uint32_t bytes = 256;
    while (bytes > 1 && a % bytes != 0)
        bytes /= 2;
    return bytes;
}

// Owners of cuBLASLt's descriptors.
struct Matmul {
    cublasLtMatmulDesc_t desc = nullptr;
    ~Matmul() { cublasLtMatmulDescDestroy(desc); }
};
struct Layout {
    cublasLtMatrixLayout_t desc = nullptr;
    ~Layout() { cublasLtMatrixLayoutDestroy(desc); }
};
struct Preference {
    cublasLtMatmulPreference_t desc = nullptr;
    ~Preference() { cublasLtMatmulPreferenceDestroy(desc); }
};

// A column-major matrix rows x columns with leading dimension `leading`, `batch` of them `stride` elements apart.
void describe(Layout& layout, cudaDataType type, int64_t rows, int64_t columns, int64_t leading, int32_t batch,
              int64_t stride)
{
    check(cublasLtMatrixLayoutCreate(&layout.desc, type, rows, columns, leading), "layout");
    if (batch > 1) {
        check(cublasLtMatrixLayoutSetAttribute(layout.desc, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof(batch)),
              "batch count");
        check(cublasLtMatrixLayoutSetAttribute(layout.desc, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                               sizeof(stride)),
              "batch stride");
    }
}

// One handle per device, made on first use and kept for the process (destroying it at exit could outlive the CUDA
// context).
cublasLtHandle_t handle(c10::DeviceIndex device)
{
    static std::mutex mutex;
    static std::array<cublasLtHandle_t, 64> handles{};
    TORCH_CHECK(device >= 0 && device < static_cast<c10::DeviceIndex>(handles.size()), "cuBLASLt: device ", device);
    const std::lock_guard<std::mutex> lock(mutex);
    if (!handles[device])
        check(cublasLtCreate(&handles[device]), "create");
    return handles[device];
}

// The heuristic's first choice per problem, asked once: asking costs more CPU time than the launch.
using Problem = std::tuple<int, int, int64_t, int64_t, int64_t, int32_t, bool, bool, uint32_t, uint32_t, uint32_t,
                           uint32_t>;
struct Choice {
    bool found = false;
    cublasLtMatmulHeuristicResult_t result{};
};

constexpr uint64_t kMaxWorkspace = 32u << 20;   // what ATen gives cuBLAS on Hopper

} // namespace

std::optional<at::Tensor> pointwiseProjection(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                              const at::Tensor& residual)
{
    const auto type = x.scalar_type();
    if (!x.is_cuda() || x.dim() != 4 || (type != at::kHalf && type != at::kBFloat16 && type != at::kFloat) ||
        weight.scalar_type() != type || bias.scalar_type() != type)
        return std::nullopt;
    const int64_t n = x.size(0), in = x.size(1), h = x.size(2), w = x.size(3);
    const bool perSample = weight.dim() == 3;
    const int64_t out = weight.size(-2);
    TORCH_CHECK(weight.size(-1) == in && (!perSample || weight.size(0) == n) && bias.numel() == out,
                "pointwiseProjection: weight ", weight.sizes(), " and bias ", bias.sizes(), " for input ", x.sizes());
    TORCH_CHECK(!residual.defined() || residual.sizes() == at::IntArrayRef({n, out, h, w}),
                "pointwiseProjection: residual ", residual.sizes(), " for output [", n, ", ", out, ", ", h, ", ", w, "]");
    const c10::cuda::CUDAGuard guard(x.device());

    // NCHW in channels_last memory is NHWC: rows of pixels. In cuBLAS's column-major terms the output (pixels x out,
    // row-major) is D = out x pixels, the product of the weight transposed (stored in x in row-major = in x out
    // column-major) and the pixels (in x pixels).
    const auto rows = x.permute({0, 2, 3, 1}).reshape({n * h * w, in}).contiguous();
    const auto weights = weight.contiguous();
    const auto residualRows =
        residual.defined() ? residual.permute({0, 2, 3, 1}).reshape({n * h * w, out}).contiguous() : at::Tensor();
    auto y = at::empty({n * h * w, out}, x.options());
    const int32_t batch = perSample ? static_cast<int32_t>(n) : 1;
    const int64_t columns = perSample ? h * w : n * h * w;
    const auto* c = residual.defined() ? residualRows.data_ptr() : y.data_ptr();

    const auto data = dataType(type);
    Matmul matmul;
    check(cublasLtMatmulDescCreate(&matmul.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul");
    const cublasOperation_t transposed = CUBLAS_OP_T, plain = CUBLAS_OP_N;
    check(cublasLtMatmulDescSetAttribute(matmul.desc, CUBLASLT_MATMUL_DESC_TRANSA, &transposed, sizeof(transposed)),
          "transpose A");
    check(cublasLtMatmulDescSetAttribute(matmul.desc, CUBLASLT_MATMUL_DESC_TRANSB, &plain, sizeof(plain)),
          "transpose B");
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;   // bias of D's type, one per row of D (per output)
    check(cublasLtMatmulDescSetAttribute(matmul.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)),
          "epilogue");
    const void* biasData = bias.data_ptr();
    check(cublasLtMatmulDescSetAttribute(matmul.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &biasData, sizeof(biasData)),
          "bias");
    Layout a, b, cd;
    describe(a, data, in, out, in, batch, out * in);
    describe(b, data, in, columns, in, batch, columns * in);
    describe(cd, data, out, columns, out, batch, columns * out);

    const Problem problem{x.get_device(), static_cast<int>(type), out, columns, in, batch, residual.defined(),
                          perSample, alignment(weights.data_ptr()), alignment(rows.data_ptr()), alignment(c),
                          alignment(y.data_ptr())};
    static std::mutex mutex;
    static std::map<Problem, Choice> choices;
    const auto lt = handle(x.get_device());
    Choice choice;
    {
        const std::lock_guard<std::mutex> lock(mutex);
        const auto known = choices.find(problem);
        if (known != choices.end()) {
            choice = known->second;
        } else {
            Preference preference;
            check(cublasLtMatmulPreferenceCreate(&preference.desc), "preference");
            check(cublasLtMatmulPreferenceSetAttribute(preference.desc, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                       &kMaxWorkspace, sizeof(kMaxWorkspace)),
                  "workspace");
            const std::array<std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t>, 4> alignments{{
                {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, std::get<8>(problem)},
                {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, std::get<9>(problem)},
                {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, std::get<10>(problem)},
                {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, std::get<11>(problem)},
            }};
            for (const auto& [attribute, bytes] : alignments)
                check(cublasLtMatmulPreferenceSetAttribute(preference.desc, attribute, &bytes, sizeof(bytes)),
                      "alignment");
            int found = 0;
            const auto status = cublasLtMatmulAlgoGetHeuristic(lt, matmul.desc, a.desc, b.desc, cd.desc, cd.desc,
                                                               preference.desc, 1, &choice.result, &found);
            choice.found = status == CUBLAS_STATUS_SUCCESS && found > 0;
            choices.emplace(problem, choice);
        }
    }
    if (!choice.found)
        return std::nullopt;

    const float one = 1.0f, beta = residual.defined() ? 1.0f : 0.0f;
    const auto workspace = at::empty({static_cast<int64_t>(choice.result.workspaceSize)}, x.options().dtype(at::kByte));
    check(cublasLtMatmul(lt, matmul.desc, &one, weights.data_ptr(), a.desc, rows.data_ptr(), b.desc, &beta, c, cd.desc,
                         y.data_ptr(), cd.desc, &choice.result.algo, workspace.data_ptr(), choice.result.workspaceSize,
                         c10::cuda::getCurrentCUDAStream(x.get_device()).stream()),
          "matmul");
    return y.view({n, h, w, out}).permute({0, 3, 1, 2});
}

} // namespace efficientnet::cuda
