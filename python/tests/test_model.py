"""efficientnet_libtorch.EfficientNet: the C++ model bound as a torch module gives torchvision's logits and gradients,
has torchvision's state_dict, behaves as a torch.nn.Module (train/eval/to/parameters), and trains."""
import json
import os

import numpy
import pytest
import torch
import torchvision

import efficientnet_libtorch as enl

PARITY_TOLERANCE = 1e-4     # issue 13: forward parity with torchvision within 1e-4
B0_PARAMETERS = 5_288_548   # REFERENCE.md, torchvision num_params
B0_STATE_DICT_ENTRIES = 360
TRAINING_LR = 0.003           # small enough for every step to lower a random B0's loss on one batch
TRAINING_STEPS = 3


def read_f32(path, shape):
    return torch.from_numpy(numpy.fromfile(path, dtype="<f4").reshape(shape).copy())


def reference_case(reference_dir, name="efficientnet_b0"):
    with open(os.path.join(reference_dir, name + ".json")) as f:
        shape = json.load(f)["input_shape"]
    x = read_f32(os.path.join(reference_dir, name + ".input.f32"), shape)
    logits = read_f32(os.path.join(reference_dir, name + ".logits.f32"), (shape[0], 1000))
    return x, logits


def loaded_b0(reference_dir):
    model = enl.create("efficientnet_b0")
    loaded = enl.load_weights(model, os.path.join(reference_dir, "efficientnet_b0.pth"))
    assert loaded == enl.LoadedWeights("torchvision", B0_STATE_DICT_ENTRIES)
    return model.eval()


def torchvision_b0(reference_dir):
    model = torchvision.models.efficientnet_b0()
    # torch.load is safe here: make_reference.py wrote this file with torch.save.
    model.load_state_dict(torch.load(os.path.join(reference_dir, "efficientnet_b0.pth")))
    return model.eval()


def test_forward_matches_torchvision_within_1e_4(reference_dir, record):
    x, reference_logits = reference_case(reference_dir)
    model = loaded_b0(reference_dir)
    with torch.no_grad():
        logits = model(x)
        torchvision_logits = torchvision_b0(reference_dir)(x)
    against_file = float((logits - reference_logits).abs().max())
    against_torchvision = float((logits - torchvision_logits).abs().max())
    record("forward parity, B0 (random reference weights), batch %d at 224" % x.shape[0],
           "max |bound - torchvision| %.3g (logits up to %.1f); max |bound - reference file| %.3g"
           % (against_torchvision, float(reference_logits.abs().max()), against_file))
    assert against_file <= PARITY_TOLERANCE
    assert against_torchvision <= PARITY_TOLERANCE


def test_timm_keys_and_lukemelas_same_padding_give_their_reference_logits(reference_dir):
    x, reference_logits = reference_case(reference_dir)
    timm = enl.create("efficientnet_b0")
    assert enl.load_weights(timm, os.path.join(reference_dir, "efficientnet_b0.timm.pth")).source == "timm"
    # lukemelas names mean TensorFlow SAME padding and BN eps 1e-3: the reference computed that network too.
    lukemelas = enl.create("efficientnet-b0")
    assert lukemelas.padding != timm.padding
    assert enl.load_weights(lukemelas, os.path.join(reference_dir, "efficientnet_b0.lukemelas.pth"),
                            source="lukemelas").source == "lukemelas"
    same_logits = read_f32(os.path.join(reference_dir, "efficientnet_b0.same.logits.f32"), reference_logits.shape)
    with torch.no_grad():
        assert float((timm.eval()(x) - reference_logits).abs().max()) <= PARITY_TOLERANCE
        assert float((lukemelas.eval()(x) - same_logits).abs().max()) <= PARITY_TOLERANCE


def test_state_dict_has_torchvision_keys_and_order_and_torchvision_loads_it(reference_dir):
    model = loaded_b0(reference_dir)
    state = model.state_dict()
    expected = torchvision_b0(reference_dir).state_dict()
    assert list(state) == list(expected)
    assert all(torch.equal(state[key], expected[key]) for key in expected)
    assert all(not tensor.requires_grad for tensor in state.values())
    fresh = torchvision.models.efficientnet_b0()
    fresh.load_state_dict(state)   # strict

    # And back: a state_dict with torchvision's keys loads into the bound model.
    other = enl.create("efficientnet_b0")
    other.load_state_dict(expected)
    assert all(torch.equal(other.state_dict()[key], expected[key]) for key in expected)
    with pytest.raises(enl.CheckpointError, match="classifier.1.bias"):
        other.load_state_dict({k: v for k, v in expected.items() if k != "classifier.1.bias"})


def test_is_a_torch_module_with_its_methods():
    model = enl.create("efficientnet_b0", num_classes=10)
    assert isinstance(model, torch.nn.Module)
    assert isinstance(model, enl.EfficientNet)
    assert (model.variant, model.num_classes) == ("efficientnet_b0", 10)
    parameters = list(model.parameters())
    assert all(p.requires_grad and p.is_leaf for p in parameters)
    named = dict(model.named_parameters())
    assert named["classifier.1.weight"].shape == (10, 1280)
    assert sum(p.numel() for p in enl.create("efficientnet_b0").parameters()) == B0_PARAMETERS
    assert model.train() is model and model.training
    assert model.eval() is model and not model.training
    assert model.train(False) is model and not model.training

    # to(): returns the module, takes dtypes and device strings, converts only floating tensors (as torch.nn does).
    assert model.to(torch.float64) is model
    assert next(model.parameters()).dtype == torch.float64
    assert dict(model.named_buffers())["features.0.1.num_batches_tracked"].dtype == torch.int64
    assert model(torch.randn(1, 3, 64, 64, dtype=torch.float64)).dtype == torch.float64
    assert model.to("cpu", torch.float32) is model and model.float() is model
    assert next(model.parameters()).dtype == torch.float32
    assert "efficientnet_b0" in repr(model)


def train_steps(model, steps):
    """Losses of `steps` SGD steps on one batch, then the loss after them; the same random draws for each model."""
    x = torch.randn(8, 3, 96, 96, generator=torch.Generator().manual_seed(3))
    target = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    optimizer = torch.optim.SGD(model.parameters(), lr=TRAINING_LR)
    losses = []
    for step in range(steps + 1):
        torch.manual_seed(11)   # the same dropout and stochastic-depth draws: one function, minimised
        loss = torch.nn.functional.cross_entropy(model.train()(x), target)
        losses.append(float(loss))
        if step == steps:
            return losses
        optimizer.zero_grad()
        loss.backward()
        if step == 0:
            missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
            assert not missing, "no finite gradient reached %s" % missing[:5]
        optimizer.step()


def test_training_steps_through_the_bound_module_lower_the_loss_as_torchvision_s(record):
    torch.manual_seed(7)
    theirs = torchvision.models.efficientnet_b0(num_classes=4)
    ours = enl.create("efficientnet_b0", num_classes=4)
    ours.load_state_dict(theirs.state_dict())
    our_losses = train_steps(ours, TRAINING_STEPS)
    their_losses = train_steps(theirs, TRAINING_STEPS)
    record("training, B0 4 classes, batch 8 at 96, SGD lr %g, %d steps" % (TRAINING_LR, TRAINING_STEPS),
           "loss bound %s, torchvision %s" % (["%.4f" % l for l in our_losses], ["%.4f" % l for l in their_losses]))
    assert all(after < before for before, after in zip(our_losses, our_losses[1:])), our_losses
    assert our_losses == pytest.approx(their_losses, rel=1e-2, abs=1e-3)


def test_gradients_match_torchvision(reference_dir):
    x, _ = reference_case(reference_dir)
    ours = loaded_b0(reference_dir)
    theirs = torchvision_b0(reference_dir)
    for model in (ours, theirs):   # eval: no dropout or stochastic depth, so the two graphs are the same function
        model.zero_grad()
        model(x).square().mean().backward()
    theirs_grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        expected = theirs_grads[name].grad
        scale = float(expected.abs().max()) + 1e-12
        assert float((p.grad - expected).abs().max()) <= 1e-3 * scale, name


def test_cuda_forward_and_training_step(reference_dir, cuda):
    x, reference_logits = reference_case(reference_dir)
    model = loaded_b0(reference_dir)
    assert model.to(cuda) is model and next(model.parameters()).is_cuda
    # In fp32 proper: cuDNN convolutions use TF32 by default (torch.backends.cudnn.allow_tf32), which alone moves B0's
    # logits by ~2e-2 (measured on an H200); the bound C++ model runs under the same global setting.
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.no_grad():
            logits = model(x.to(cuda)).cpu()
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32
    assert float((logits - reference_logits).abs().max()) <= 1e-3   # other summation orders than the CPU's
    model.train()
    loss = model(x.to(cuda)).logsumexp(1).mean()
    loss.backward()
    assert all(p.grad is not None and p.grad.is_cuda for p in model.parameters())


def test_names_and_class_counts_are_checked():
    with pytest.raises(enl.ConfigError, match="efficientnet_b0") as error:
        enl.create("efficientnet_b9")
    assert isinstance(error.value, ValueError)
    with pytest.raises(enl.ConfigError, match="num_classes"):
        enl.create("efficientnet_b0", num_classes=0)
    assert enl.create("tf_efficientnet_b0").padding == enl.create("efficientnet-b0").padding


def test_models_lists_the_family():
    listed = enl.models()
    assert [m.name for m in listed][:2] == ["efficientnet_b0", "efficientnet_b1"]
    assert len(listed) == 11
    b0 = listed[0]
    assert b0.parameters == B0_PARAMETERS
    assert (b0.transform["crop"], b0.transform["resize"], b0.transform["interpolation"]) == (224, 256, "bicubic")
