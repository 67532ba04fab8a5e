"""Importing efficientnet_libtorch: the order of imports does not matter (the seed's "unknown base type
torch::nn::Module"), another torch than the build's is one clear ImportError before the extension is loaded (the seed's
unresolved symbols), and the type stub and docstrings describe what is there."""
import ast
import inspect
import os
import subprocess
import sys

import efficientnet_libtorch as enl


def fresh_interpreter(code):
    """Runs `code` in a new interpreter (the package found as this one finds it); returns (status, output)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ),
                          check=False, timeout=300)
    return done.returncode, done.stdout + done.stderr


def test_importing_the_package_without_importing_torch_first_works():
    status, output = fresh_interpreter(
        "import sys\n"
        "assert 'torch' not in sys.modules\n"
        "import efficientnet_libtorch as enl\n"
        "import torch\n"
        "model = enl.create('efficientnet_b0', num_classes=3)\n"
        "assert isinstance(model, torch.nn.Module)\n"
        "print(tuple(model(torch.randn(1, 3, 64, 64)).shape))\n")
    assert status == 0 and "(1, 3)" in output, output


def test_importing_the_extension_directly_works_too():
    status, output = fresh_interpreter("import efficientnet_libtorch._C as c; print(c.EfficientNet.__mro__)")
    assert status == 0 and "torch.nn.modules.module.Module" in output, output


def mismatch_message(patch):
    status, output = fresh_interpreter(
        "import sys, torch\n" + patch + "\n"
        "try:\n"
        "    import efficientnet_libtorch\n"
        "except ImportError as error:\n"
        "    print('IMPORTERROR', error)\n"
        "    print('LOADED', 'efficientnet_libtorch._C' in sys.modules)\n")
    assert status == 0, output
    return output


def test_another_torch_version_is_one_import_error_naming_both_and_how_to_rebuild():
    built = enl.build_info()["torch_version"]
    output = mismatch_message("torch.__version__ = '0.0.1+elsewhere'")
    assert "IMPORTERROR" in output, output
    assert "built against torch %s" % built in output and "imports torch 0.0.1+elsewhere" in output, output
    assert "pip install --no-build-isolation" in output, output
    assert "LOADED False" in output, "the extension was loaded before the check: " + output


def test_another_cxx_abi_is_an_import_error_too():
    abi = enl.build_info()["torch_cxx11_abi"]
    output = mismatch_message("torch._C._GLIBCXX_USE_CXX11_ABI = %r" % (not abi))
    assert "IMPORTERROR" in output and "C++11 ABI %s" % (not abi) in output, output
    assert "LOADED False" in output, output


def stub_names(node):
    return {n.name if not isinstance(n, ast.AnnAssign) else n.target.id
            for n in node.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AnnAssign))}


def test_the_type_stub_lists_exactly_what_the_extension_defines():
    with open(os.path.join(os.path.dirname(enl.__file__), "_C.pyi")) as f:
        stub = ast.parse(f.read())
    public = {name for name in vars(enl._C) if not name.startswith("_")} | {"__version__"}
    assert stub_names(stub) == public
    classifier_stub = next(n for n in stub.body if isinstance(n, ast.ClassDef) and n.name == "Classifier")
    assert stub_names(classifier_stub) == {n for n in vars(enl._C.Classifier) if not n.startswith("_")} | {"__init__"}


def test_the_public_interface_is_documented():
    undocumented = [name for name in enl.__all__ if not inspect.getdoc(getattr(enl, name))]
    assert not undocumented
    for cls in (enl.EfficientNet, enl.Classifier):
        for name, member in vars(cls).items():
            if not name.startswith("_") and callable(member):
                assert inspect.getdoc(member), "%s.%s has no docstring" % (cls.__name__, name)
    assert os.path.exists(os.path.join(os.path.dirname(enl.__file__), "py.typed"))


def test_build_info_says_what_it_was_built_against():
    import torch
    info = enl.build_info()
    assert info["torch_version"] == str(torch.__version__)
    assert info["version"] == enl.__version__ == enl._C.__version__
