"""efficientnet_libtorch.read_checkpoint and load_weights go through the core's safe readers: they read what torch.save
and safetensors write, and refuse, naming the file and the problem, every hostile file the C++ tests refuse - a
pickle naming os.system or builtins.eval among them - without running anything from it."""
import glob
import os
import pathlib

import pytest
import torch

import efficientnet_libtorch as enl

# The C++ tests' tables (tests/core/test_checkpoint.cpp, tests/core/test_hostile_files.cpp): file and problem.
REFERENCE_BAD_FILES = [
    ("truncated.pth", "truncated"),
    ("not_a_checkpoint.pth", "not a checkpoint"),
    ("bad_offsets.safetensors", "past the end of the data"),
    ("overlap.safetensors", "overlap"),
    ("huge_header.safetensors", "header length"),
    ("size_mismatch.safetensors", "shape [2, 4] of F32 needs 32 bytes but its data_offsets"),
]
HOSTILE_FILES = [
    ("deep_json_shape.safetensors", "deeper than 64 levels"),
    ("deep_json_metadata.safetensors", "deeper than 64 levels"),
    ("legacy_dtype_twice.pth", "declared as both Float and Double"),
    ("impossible_sizes_legacy.pth", "impossible size"),
    ("impossible_sizes.pth", "impossible size"),
    ("memo_string_keys.pth", "not a state_dict"),
    ("zip_bomb_storage.pth", "zip bomb"),
    ("zip_bomb_pickle.pth", "zip bomb"),
    ("escape_dtype.safetensors", "\\x1b]0;pwned\\x07"),
    ("escape_global.pth", "refuses to load"),
]


def refusal(path):
    with pytest.raises(enl.CheckpointError) as error:
        enl.read_checkpoint(path)
    assert isinstance(error.value, ValueError)
    assert error.value.path == path
    return str(error.value)


@pytest.mark.parametrize("name", ["efficientnet_b0.pth", "efficientnet_b0.legacy.pth", "efficientnet_b0.nested.pth",
                                  "efficientnet_b0.safetensors"])
def test_read_checkpoint_gives_the_state_dict_torch_saved(reference_dir, name):
    expected = torch.load(os.path.join(reference_dir, "efficientnet_b0.pth"))   # our own file: safe to unpickle
    tensors = enl.read_checkpoint(pathlib.Path(reference_dir) / name)
    assert list(tensors) == list(expected)
    for key, tensor in expected.items():
        assert tensors[key].dtype == tensor.dtype and torch.equal(tensors[key], tensor), key


@pytest.mark.parametrize("name, global_name", [("malicious_system.pth", "os.system"),
                                               ("malicious_eval.pth", "builtins.eval")])
def test_code_executing_pickles_are_refused_and_nothing_runs(reference_dir, name, global_name):
    pwned = os.path.join(reference_dir, "PWNED")   # what the pickles' commands would create
    assert not os.path.exists(pwned), "PWNED exists before the test: remove it"
    path = os.path.join(reference_dir, name)
    message = refusal(path)
    assert path in message and global_name in message and "could execute code" in message, message
    with pytest.raises(enl.CheckpointError, match="could execute code"):
        enl.load_weights(enl.create("efficientnet_b0"), path)
    assert not os.path.exists(pwned), "the pickle's code ran"


@pytest.mark.parametrize("name, problem", REFERENCE_BAD_FILES)
def test_broken_files_are_refused_with_the_problem(reference_dir, name, problem):
    path = os.path.join(reference_dir, name)
    message = refusal(path)
    assert path in message and problem in message, message


@pytest.mark.parametrize("name, problem", HOSTILE_FILES)
def test_hostile_files_are_refused_with_the_problem(hostile_dir, name, problem):
    path = os.path.join(hostile_dir, name)
    message = refusal(path)
    assert message.startswith(path + ": ") and problem in message, message
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in message), "raw control characters in %r" % message


def test_every_hostile_checkpoint_is_refused_by_load_weights(hostile_dir):
    # Files added to make_hostile.py later are covered too. escape_keys.safetensors is a well-formed file whose key
    # carries escape sequences: read_checkpoint gives the key as it is (it is data), load_weights refuses it with the
    # key escaped.
    files = sorted(glob.glob(os.path.join(hostile_dir, "*.pth")) + glob.glob(os.path.join(hostile_dir, "*.safetensors")))
    assert len(files) > len(HOSTILE_FILES)
    for path in files:
        with pytest.raises(enl.CheckpointError) as error:
            enl.load_weights(enl.create("efficientnet_b0"), path)
        message = str(error.value)
        assert message.startswith(path + ": "), message
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in message), "raw control characters in %r" % message
    (key,) = enl.read_checkpoint(os.path.join(hostile_dir, "escape_keys.safetensors"))
    assert "\x1b" in key and "\nfake line" in key


def test_load_weights_names_the_variant_a_checkpoint_is(reference_dir):
    path = os.path.join(reference_dir, "efficientnet_b1.pth")
    if not os.path.exists(path):
        pytest.fail("%s is missing: make_reference.py was run without efficientnet_b1" % path)
    with pytest.raises(enl.CheckpointError, match="efficientnet_b1") as error:
        enl.load_weights(enl.create("efficientnet_b0"), path)
    assert error.value.path == path
    with pytest.raises(enl.ConfigError, match="source"):
        enl.load_weights(enl.create("efficientnet_b0"), path, source="keras")
    with pytest.raises(TypeError):
        enl.load_weights(torch.nn.Linear(2, 2), path)


def test_a_missing_file_is_a_checkpoint_error_naming_it(tmp_path):
    path = str(tmp_path / "nowhere.pth")
    assert path in refusal(path)
