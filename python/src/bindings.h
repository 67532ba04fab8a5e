#pragma once
// The parts of efficientnet_libtorch._C, each bound by its own translation unit (module.cpp calls them in order).
#include <torch/python.h>

#include <optional>
#include <string>

#include <pybind11/pybind11.h>

#include "efficientnet/variants.h"

namespace efficientnet::python {

namespace py = pybind11;

void bindActivation(py::module_& module);   // model.cpp: swish
void bindModel(py::module_& module);        // model.cpp: EfficientNet, state dicts, checkpoints, models()
void bindClassifier(py::module_& module);   // classifier.cpp: Classifier

// Shared by both (model.cpp): a checkpoint source as Python names it (None: tell from the keys), and a transform as a
// dict with the console tool's JSON names.
std::optional<WeightSource> parseSource(const std::optional<std::string>& text);
py::dict preprocessingDict(const Preprocessing& preprocessing);

} // namespace efficientnet::python
