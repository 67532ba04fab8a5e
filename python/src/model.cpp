// The model side of efficientnet_libtorch._C: the memory-efficient swish, EfficientNet bound as a torch module,
// its state dict under torchvision's keys, and the project's safe checkpoint readers.
#include <torch/python.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "efficientnet/checkpoint.h"
#include "efficientnet/checkpoint_info.h"
#include "efficientnet/errors.h"
#include "efficientnet/model.h"
#include "efficientnet/swish.h"
#include "efficientnet/variants.h"
#include "efficientnet/weights.h"

namespace efficientnet::python {
namespace {

// The same name rules as the console tool's --model: torchvision, timm and lukemelas names; tf_ and lukemelas
// names mean TensorFlow SAME padding and BatchNorm eps 1e-3, so their checkpoints load into the right network.
std::shared_ptr<EfficientNetImpl> makeModel(const std::string& name, int64_t numClasses)
{
    if (numClasses < 1 || numClasses > kMaxClasses)
        throw ConfigError("num_classes must be between 1 and " + std::to_string(kMaxClasses) + ", not " +
                          std::to_string(numClasses));
    const ModelName resolved = resolveModelName(name);
    return std::make_shared<EfficientNetImpl>(EfficientNetOptions(resolved.spec->name)
                                                  .numClasses(numClasses)
                                                  .padding(resolved.padding)
                                                  .bnEps(resolved.bnEps));
}

// torch.nn.Module.state_dict's order: modules in pre-order, each with its own parameters, then its own buffers.
// The keys are the module names, which are torchvision's (model.h). efficientnet::stateDict lists all parameters
// before all buffers; the same entries, in another order.
NamedTensors stateDictItems(EfficientNetImpl& model)
{
    NamedTensors items;
    for (const auto& entry : model.named_modules("", /*include_self=*/true)) {
        const std::string prefix = entry.key().empty() ? std::string() : entry.key() + ".";
        for (const auto& parameter : entry.value()->named_parameters(/*recurse=*/false))
            items.emplace_back(prefix + parameter.key(), parameter.value());
        for (const auto& buffer : entry.value()->named_buffers(/*recurse=*/false))
            items.emplace_back(prefix + buffer.key(), buffer.value());
    }
    return items;
}

NamedTensors namedTensorsOf(const py::dict& tensors)
{
    NamedTensors named;
    for (const auto& item : tensors)
        named.emplace_back(item.first.cast<std::string>(), item.second.cast<torch::Tensor>());
    return named;
}

py::dict dictOf(const NamedTensors& tensors)
{
    py::dict dict;
    for (const auto& [name, tensor] : tensors)
        dict[py::str(name)] = tensor;
    return dict;
}

} // namespace

std::optional<WeightSource> parseSource(const std::optional<std::string>& text)
{
    if (!text)
        return std::nullopt;
    for (const auto source : {WeightSource::Torchvision, WeightSource::Timm, WeightSource::Lukemelas})
        if (*text == toString(source))
            return source;
    throw ConfigError("source must be None (tell from the keys), 'torchvision', 'timm' or 'lukemelas', not '" + *text +
                      "'");
}

py::dict preprocessingDict(const Preprocessing& p)
{
    py::dict d;
    d["resize"] = p.resizeSize;
    d["resize_mode"] = p.resizeMode == ResizeMode::Squash ? "squash" : "shorter";
    d["crop"] = p.cropSize;
    d["interpolation"] = toString(p.interpolation);
    d["mean"] = py::make_tuple(p.mean[0], p.mean[1], p.mean[2]);
    d["std"] = py::make_tuple(p.std[0], p.std[1], p.std[2]);
    return d;
}

void bindActivation(py::module_& module)
{
    module.def("swish", &activation::swish, py::arg("x"),
               "x * sigmoid(x), saving only x for backward (see efficientnet_libtorch.activation.swish)");
}

void bindModel(py::module_& module)
{
    // torch::python::bind_module makes EfficientNetImpl a pybind11 class deriving from torch._C's torch::nn::Module,
    // and module.EfficientNet a torch.nn.cpp.ModuleWrapper subclass (a torch.nn.Module) around it. force_enable: its
    // forward is bound below instead, releasing the GIL for the C++ forward as torch's own operators do.
    torch::python::bind_module<EfficientNetImpl, /*force_enable=*/true>(module, "EfficientNet")
        .def(py::init(&makeModel), py::arg("name") = "efficientnet_b0", py::arg("num_classes") = 1000)
        .def(
            "forward",
            [](EfficientNetImpl& model, const torch::Tensor& x) {
                py::gil_scoped_release released;
                return model.forward(x);
            },
            py::arg("x"))
        .def_property_readonly("variant", [](const EfficientNetImpl& model) { return model.spec().name; })
        .def_property_readonly("num_classes",
                               [](const EfficientNetImpl& model) { return model.options().numClasses(); })
        .def_property_readonly("padding",
                               [](const EfficientNetImpl& model) { return toString(model.options().padding()); })
        .def("_state_dict_items", &stateDictItems)
        .def("_load_state_dict", [](const std::shared_ptr<EfficientNetImpl>& impl, const py::dict& tensors) {
            NamedTensors named = namedTensorsOf(tensors);
            EfficientNet model(impl);
            py::gil_scoped_release released;
            loadStateDict(model, named, "state_dict");
        });

    // type() named the wrapper class after the module that was importing when bind_module ran (importlib's).
    module.attr("EfficientNet").attr("__module__") = module.attr("__name__");

    module.def(
        "read_checkpoint",
        [](const std::string& path) {
            NamedTensors tensors;
            {
                py::gil_scoped_release released;
                tensors = readCheckpoint(path);
            }
            return dictOf(tensors);
        },
        py::arg("path"));

    module.def(
        "load_weights",
        [](const std::shared_ptr<EfficientNetImpl>& impl, const std::string& path, const std::optional<std::string>& source) {
            const auto parsed = parseSource(source);
            EfficientNet model(impl);
            LoadedWeights loaded;
            {
                py::gil_scoped_release released;
                loaded = loadWeights(model, path, parsed);
            }
            return py::make_tuple(toString(loaded.source), loaded.tensors);
        },
        py::arg("model"), py::arg("path"), py::arg("source") = py::none());

    module.def("models", [] {
        py::list models;
        for (const auto& v : allVariants()) {
            py::dict m;
            m["name"] = v.name;
            m["parameters"] = v.numParams;
            m["transform"] = preprocessingDict(v.preprocessing);
            models.append(m);
        }
        return models;
    });
}

} // namespace efficientnet::python
