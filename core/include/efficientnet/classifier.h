#pragma once
// The classifier: a model with its weights on a device, its reference preprocessing and its labels.
// Torch stays behind this header (pimpl), so the console tool and the app compile without it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "efficientnet/checkpoint_info.h"
#include "efficientnet/imaging.h"
#include "efficientnet/transforms.h"
#include "efficientnet/variants.h"

namespace efficientnet {

struct ClassifierOptions {
    std::string model;                         // any name resolveModelName() accepts; empty: what the weights say
                                               // (their metadata, config.json or shapes), else efficientnet_b0
    bool modelIsPreference = false;            // use `model` only if the weights fit its variant, else theirs
    std::string weights;                       // checkpoint file or Hugging Face model folder; empty: random weights
                                               // (only with randomWeights)
    bool randomWeights = false;                // allow running without weights (predictions are meaningless)
    std::string device = "auto";               // auto | cpu | cuda
    std::optional<WeightSource> source;        // checkpoint key naming; nullopt: detect from the keys
    std::vector<std::string> imagenetLabels;   // names for a 1000-class head without names of its own
    std::string labelsFile;                    // class names given by hand (checkpoint_info.h readLabelsFile)
    TransformOverrides overrides;              // transform values given by hand
    std::string precision = "auto";            // auto (fp16 on CUDA, fp32 on CPU) | fp32 | fp16 | bf16
    bool cudaGraphs = true;                    // replay a CUDA graph per batch size
    bool autotune = true;                      // CUDA: cuDNN times its algorithms for each new batch size, once
                                               // (seconds): pays for a camera's endless frames, not for a folder
    bool channelsLast = true;
    bool warmup = true;                        // run (and on CUDA capture) batch 1 once at load
};

// Milliseconds per stage of one call. decode is filled by callers that decode (the classifier gets pixels).
struct StageTimes {
    double decodeMs = 0;
    double preprocessMs = 0;
    double uploadMs = 0;        // host-to-device copy (CUDA)
    double forwardMs = 0;
    double postprocessMs = 0;   // softmax, top-k, copy back
};

struct Prediction {
    int index;
    std::string label;
    float probability;
};

// Threading contract: every public member may be called from any thread; calls that run the model are
// serialised by an internal mutex (one model, one CUDA stream), so many callers can share one Classifier and each
// gets its own answers. Construct it on the thread that will run most inference: CUDA state (stream, graphs)
// is created lazily on first use.
class Classifier {
public:
    // Builds the model and loads its weights. Throws ConfigError (name, device) or CheckpointError (weights).
    explicit Classifier(const ClassifierOptions& options);
    ~Classifier();
    Classifier(Classifier&&) noexcept;
    Classifier& operator=(Classifier&&) noexcept;

    // Top-k softmax predictions, highest first.
    std::vector<Prediction> classify(const Image& image, int topk);

    struct BatchResult {
        std::vector<std::vector<Prediction>> predictions;   // one list per image, in order
        StageTimes times;
    };
    // Many images in one forward. On CUDA the uint8 pixels go through pinned memory to the GPU, where they are
    // resized, cropped and normalised; equally sized frames are preprocessed as one batch. A batch that does not fit
    // in the device's memory is classified in halves (recursively), with the same answers; OutOfMemoryError only
    // when one image alone does not fit. Stage times are then the sums over the parts.
    BatchResult classifyBatch(const std::vector<Image>& images, int topk);

    // JPEG files decoded on the GPU's hardware JPEG decoder (nvJPEG; A100/H100/H200-class GPUs have one) instead of
    // on CPU threads, then classified as classifyBatch classifies pixels. Its pixels are not libjpeg's (the
    // reference's decoder): IDCT and chroma upsampling round differently, so probabilities move a little. Files it
    // does not take come back as nullopt, for the caller to decode on the CPU: anything but an 8-bit three-component
    // baseline JPEG, EXIF-rotated ones (nvJPEG does not rotate), too large or cut-off files, and every file when the
    // GPU has no hardware decoder or this build no nvJPEG. decodeMs is the GPU's decode. Throws what classifyBatch
    // throws, and Error when a batch fails to decode (a corrupt file among them): decode those on the CPU.
    // The decode runs outside the model's mutex, on a stream of the decoder's: a batch given by a second thread
    // decodes while this one is preprocessed and classified (two at once; a third call waits for a decoder).
    struct JpegBatchResult {
        std::vector<std::optional<std::vector<Prediction>>> predictions;   // one per file, in order
        StageTimes times;
    };
    JpegBatchResult classifyJpegs(const std::vector<const std::vector<std::uint8_t>*>& files, int topk);
    // Whether classifyJpegs can decode here; when not, `why` says why (no hardware decoder, the CPU, the build).
    bool decodesJpegOnGpu(std::string* why = nullptr);

    std::string precision() const;             // fp32 | fp16 | bf16
    int inputSize() const;                     // the transform's crop size
    const ModelName& model() const;
    // What was loaded and how it is used: classes and their names, the transform and where each came from.
    const CheckpointInfo& info() const;
    std::string deviceName() const;            // "cpu" or "cuda:0 (GPU name)"
    std::string weightsDescription() const;    // file and detected source, or "random (meaningless)"

private:
    BatchResult classifyImages(const std::vector<const Image*>& images, int topk);

    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Where downloaded weights live (UTF-8): $EFFICIENTNET_CACHE_DIR, else on Linux $XDG_CACHE_HOME/efficientnet-libtorch
// or ~/.cache/efficientnet-libtorch, on Windows %LOCALAPPDATA%\efficientnet-libtorch. Throws Error when there is no
// home folder to put it in. (core/src/model/weights_cache.cpp, torch-free.)
std::string weightsCacheDir();

// A cached checkpoint for a model name: a .pth or .safetensors file whose name starts with the name (e.g.
// efficientnet_b0_rwightman-7f5810bc.pth) in the weights cache or torch.hub's checkpoints folder
// ($TORCH_HOME/hub/checkpoints, as torch.hub computes it: ~/.cache/torch/hub/checkpoints, on Windows
// %USERPROFILE%\.cache\torch\hub\checkpoints), then in `bundledFolders` (weights shipped with a package: the user's
// own downloads win). Empty if none.
std::string findCachedWeights(const std::string& modelName, const std::vector<std::string>& bundledFolders = {});

// What this process runs on, for About boxes and bug reports. CUDA fields say "none" without a CUDA device.
struct RuntimeInfo {
    std::string libtorch;    // e.g. "2.11.0"
    std::string cuda;        // CUDA runtime version, e.g. "13.0"
    std::string cudnn;       // e.g. "9.19.0"
    std::string gpu;         // name of device 0
};
RuntimeInfo runtimeInfo();

// Why `--device auto` means the CPU in a build that could use a GPU, in words for the user ("no NVIDIA GPU driver was
// found", "the GPU runtime is not installed in ..."); empty when a CUDA device is usable or this build has no CUDA.
std::string gpuUnavailableReason();

// Threads LibTorch uses for CPU operators (default: the machine's physical cores).
void setComputeThreads(int threads);

// Reads class names, one per line. Throws Error naming the file.
std::vector<std::string> readLabels(const std::string& path);

} // namespace efficientnet
