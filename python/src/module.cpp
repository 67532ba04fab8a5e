// efficientnet_libtorch._C, the extension module. The Python layer beside it (efficientnet_libtorch/*.py) is the
// public interface; this module holds what needs C++.
#include <torch/python.h>

#include <string>

#include <pybind11/pybind11.h>

#include "bindings.h"
#include "efficientnet/errors.h"

namespace efficientnet::python {
namespace {

// efficientnet_libtorch.errors' classes, looked up once when the module is imported. Plain references that are
// never released: the translator may run until the interpreter's last moment.
struct ErrorTypes {
    PyObject* error = nullptr;
    PyObject* checkpoint = nullptr;
    PyObject* image = nullptr;
    PyObject* config = nullptr;
    PyObject* outOfMemory = nullptr;
};
ErrorTypes errorTypes;

// Raises `type(message)` with the file or URL the message starts with as its `path` attribute (as OSError has
// `filename`), so callers can tell which file failed without parsing the message.
void raise(PyObject* type, const std::string& message, const std::string* path = nullptr)
{
    py::object instance = py::reinterpret_borrow<py::object>(type)(message);
    instance.attr("path") = path ? py::cast(*path) : py::none();
    PyErr_SetObject(type, instance.ptr());
}

// The core's typed errors become the package's exception classes with the same message; LibTorch's become the
// Python exceptions torch itself raises for them, without the C++ stack trace that c10::Error::what() carries.
void translateExceptions(std::exception_ptr exception)
{
    try {
        if (exception)
            std::rethrow_exception(exception);
    } catch (const CheckpointError& e) {
        raise(errorTypes.checkpoint, e.what(), &e.where());
    } catch (const ImageError& e) {
        raise(errorTypes.image, e.what(), &e.where());
    } catch (const LocatedError& e) {
        raise(errorTypes.error, e.what(), &e.where());
    } catch (const ConfigError& e) {
        raise(errorTypes.config, e.what());
    } catch (const OutOfMemoryError& e) {
        raise(errorTypes.outOfMemory, e.what());
    } catch (const Error& e) {
        raise(errorTypes.error, e.what());
    } catch (const c10::IndexError& e) {
        PyErr_SetString(PyExc_IndexError, e.what_without_backtrace());
    } catch (const c10::ValueError& e) {
        PyErr_SetString(PyExc_ValueError, e.what_without_backtrace());
    } catch (const c10::TypeError& e) {
        PyErr_SetString(PyExc_TypeError, e.what_without_backtrace());
    } catch (const c10::NotImplementedError& e) {
        PyErr_SetString(PyExc_NotImplementedError, e.what_without_backtrace());
    } catch (const c10::Error& e) {
        PyErr_SetString(PyExc_RuntimeError, e.what_without_backtrace());
    }
}

PyObject* errorType(const py::module_& errors, const char* name)
{
    return py::object(errors.attr(name)).release().ptr();   // kept for the life of the process (see ErrorTypes)
}

} // namespace
} // namespace efficientnet::python

PYBIND11_MODULE(_C, module)
{
    namespace py = pybind11;
    using namespace efficientnet::python;
    // torch first: bind_module's classes derive from torch::nn::Module, which torch._C registers with pybind11. The
    // seed project bound them before torch was imported and failed with 'generic_type: type "EfficientNet" referenced
    // unknown base type "torch::nn::Module"'. (The package's __init__ imports torch too; this keeps the order right
    // even for a direct import of the extension.)
    py::module_::import("torch");
    const auto errors = py::module_::import("efficientnet_libtorch.errors");
    errorTypes = {errorType(errors, "Error"), errorType(errors, "CheckpointError"), errorType(errors, "ImageError"),
                  errorType(errors, "ConfigError"), errorType(errors, "OutOfMemoryError")};
    py::register_exception_translator(&translateExceptions);

    module.doc() = "efficientnet_libtorch's C++ extension: use the package (import efficientnet_libtorch), not this";
    module.attr("__version__") = EFFICIENTNET_VERSION;
    bindActivation(module);
    bindModel(module);
    bindClassifier(module);
}
