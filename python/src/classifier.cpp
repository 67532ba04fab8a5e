// The Classifier of efficientnet_libtorch._C: the core's Classifier (model, weights, the checkpoint's own transform
// and labels, device and precision) fed with image files or numpy arrays. The GIL is released while images are
// decoded and classified, so other Python threads run meanwhile; the core serialises its own calls.
#include <torch/python.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "efficientnet/classifier.h"
#include "efficientnet/errors.h"
#include "efficientnet/imaging.h"

namespace efficientnet::python {
namespace {

constexpr const char* kDefaultModel = "efficientnet_b0";

// As `efficientnet-cli classify` chooses its weights: the given file, else a cached checkpoint for the model (the
// weights cache, torch.hub's), else random weights only when asked for, since their predictions mean nothing.
std::unique_ptr<Classifier> makeClassifier(const std::string& model, const std::string& weights, bool randomWeights,
                                           const std::string& device, const std::string& precision,
                                           const std::optional<std::string>& source, const std::string& labels,
                                           const std::string& imagenetLabels)
{
    ClassifierOptions options;
    options.model = model;
    options.weights = weights;
    options.randomWeights = randomWeights;
    options.device = device;
    options.precision = precision;
    options.source = parseSource(source);
    options.labelsFile = labels;
    py::gil_scoped_release released;
    options.imagenetLabels = readLabels(imagenetLabels);
    const std::string cachedName = model.empty() ? std::string(kDefaultModel) : resolveModelName(model).architecture;
    if (options.weights.empty() && !randomWeights)
        options.weights = findCachedWeights(cachedName);
    if (options.weights.empty() && !randomWeights)
        throw ConfigError("no weights for " + cachedName + ": none given with weights= and none cached in " +
                          weightsCacheDir() + " or torch.hub's checkpoints folder. Give weights=FILE (a .pth or "
                          ".safetensors checkpoint, or a Hugging Face model folder), or random_weights=True to try "
                          "it (predictions meaningless).");
    return std::make_unique<Classifier>(options);
}

// An RGB numpy array as the core's Image (one copy: the core keeps its pixels in its own vector).
Image imageOf(const py::array& array, size_t position)
{
    const std::string item = "item " + std::to_string(position);
    if (!array.dtype().is(py::dtype::of<std::uint8_t>()))
        throw py::type_error(item + ": numpy arrays must be uint8 RGB pixels (0-255), not " +
                             py::str(array.dtype()).cast<std::string>() +
                             "; scale to 0-255 and convert with .astype(numpy.uint8)");
    if (array.ndim() != 3 || array.shape(2) != 3 || array.shape(0) < 1 || array.shape(1) < 1)
        throw py::value_error(item + ": numpy arrays must have the shape (height, width, 3), RGB, not " +
                              py::str(py::cast(std::vector<py::ssize_t>(array.shape(), array.shape() + array.ndim())))
                                  .cast<std::string>());
    const auto pixels = py::array_t<std::uint8_t, py::array::c_style>::ensure(array);   // copies only when strided
    Image image;
    image.height = static_cast<int>(pixels.shape(0));
    image.width = static_cast<int>(pixels.shape(1));
    image.rgb.resize(static_cast<size_t>(pixels.size()));
    std::memcpy(image.rgb.data(), pixels.data(), image.rgb.size());
    return image;
}

Image decodeFile(const std::string& path)
{
#ifdef EFFICIENTNET_PYTHON_IMAGING
    return decodeImageFile(path);
#else
    throw ConfigError(path + ": this build of efficientnet_libtorch cannot read image files (it was built without "
                             "OpenCV); decode the image yourself and pass a numpy uint8 array of shape (height, width, 3)");
#endif
}

// classify(items, topk) -> (predictions per item: [(index, label, probability), ...], stage times in ms). The items
// are str paths or numpy arrays (the Python layer has turned path-likes into str).
py::tuple classify(Classifier& classifier, const py::list& items, int topk)
{
    std::vector<Image> images(items.size());
    std::vector<std::pair<size_t, std::string>> files;
    for (size_t i = 0; i < items.size(); ++i) {
        const py::handle item = items[i];
        if (py::isinstance<py::str>(item))
            files.emplace_back(i, item.cast<std::string>());
        else if (py::isinstance<py::array>(item))
            images[i] = imageOf(py::reinterpret_borrow<py::array>(item), i);
        else
            throw py::type_error("item " + std::to_string(i) + ": classify takes image file paths (str or "
                                 "os.PathLike) and numpy uint8 arrays of shape (height, width, 3), not " +
                                 py::str(py::type::of(item)).cast<std::string>());
    }
    Classifier::BatchResult result;
    {
        py::gil_scoped_release released;
        double decodeMs = 0;   // arrays come decoded
        if (!files.empty()) {
            const auto start = std::chrono::steady_clock::now();
            for (auto& [i, path] : files)
                images[i] = decodeFile(path);
            decodeMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        }
        result = classifier.classifyBatch(images, topk);
        result.times.decodeMs = decodeMs;
    }
    py::list predictions;
    for (const auto& list : result.predictions) {
        py::list one;
        for (const auto& p : list)
            one.append(py::make_tuple(p.index, p.label, p.probability));
        predictions.append(one);
    }
    const auto& t = result.times;
    return py::make_tuple(predictions,
                          py::make_tuple(t.decodeMs, t.preprocessMs, t.uploadMs, t.forwardMs, t.postprocessMs));
}

py::dict infoOf(const Classifier& classifier)
{
    const CheckpointInfo& info = classifier.info();
    py::dict transform = preprocessingDict(info.transform.preprocessing);
    transform["origin"] = info.transform.origin;
    py::dict d;
    d["model"] = info.name.display();
    d["variant"] = info.name.spec->name;
    d["padding"] = toString(info.name.padding);
    d["network_from"] = info.nameOrigin;
    d["format"] = info.format;
    d["keys"] = info.format == "random" ? py::object(py::none()) : py::object(py::str(toString(info.keys)));
    d["trained_by"] = info.format == "random" ? py::object(py::none()) : py::object(py::str(toString(info.trainedBy)));
    d["classes"] = info.numClasses;
    d["labels"] = info.labels.names;
    d["labels_origin"] = info.labels.origin;
    d["transform"] = transform;
    return d;
}

} // namespace

void bindClassifier(py::module_& module)
{
    py::class_<Classifier>(module, "Classifier")
        .def(py::init(&makeClassifier), py::arg("model"), py::arg("weights"), py::arg("random_weights"),
             py::arg("device"), py::arg("precision"), py::arg("source"), py::arg("labels"),
             py::arg("imagenet_labels"))
        .def("classify", &classify, py::arg("items"), py::arg("topk"))
        .def_property_readonly("model", [](const Classifier& c) { return c.model().display(); })
        .def_property_readonly("device", &Classifier::deviceName)
        .def_property_readonly("precision", &Classifier::precision)
        .def_property_readonly("input_size", &Classifier::inputSize)
        .def_property_readonly("weights", &Classifier::weightsDescription)
        .def_property_readonly("info", &infoOf);
}

} // namespace efficientnet::python
