"""efficientnet_libtorch.activation: the memory-efficient swish is x * sigmoid(x) in value and gradient, saves only its
input for backward, and so keeps less memory in a training forward than the plain expression (as little as
torch.nn.SiLU, which also saves only its input)."""
import pytest
import torch
import torchvision

import efficientnet_libtorch as enl
from efficientnet_libtorch.activation import Swish, swish

MEMORY_BATCH = 4          # B0 at 224x224: about 0.4 GB of saved tensors with SiLU
MEMORY_SIZE = 224


def reference_swish(x):
    return x * torch.sigmoid(x)


def wide_range_input(dtype, device="cpu"):
    # Large magnitudes too, where sigmoid saturates and a wrong formula shows.
    generator = torch.Generator().manual_seed(13)
    x = torch.randn(4, 8, 5, 7, generator=generator, dtype=torch.float64) * 6
    x[0, 0, 0, :3] = torch.tensor([-40.0, 0.0, 40.0], dtype=torch.float64)
    return x.to(device=device, dtype=dtype)


def check_forward_and_backward(device):
    x = wide_range_input(torch.float32, device).requires_grad_()
    y = swish(x)
    grad_out = torch.randn_like(y)
    y.backward(grad_out)
    x_ref = x.detach().clone().requires_grad_()
    y_ref = reference_swish(x_ref)
    y_ref.backward(grad_out)
    torch.testing.assert_close(y, y_ref, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-5, atol=1e-6)


def test_swish_forward_and_backward_equal_x_times_sigmoid_x():
    check_forward_and_backward("cpu")


def test_swish_on_cuda_equals_x_times_sigmoid_x(cuda):
    check_forward_and_backward(cuda)


def test_swish_passes_gradcheck_in_float64():
    x = wide_range_input(torch.float64)[:1, :2].clone().requires_grad_()
    assert torch.autograd.gradcheck(swish, (x,), eps=1e-6, atol=1e-8, rtol=1e-6)
    assert torch.autograd.gradcheck(Swish(), (x,), eps=1e-6, atol=1e-8, rtol=1e-6)


def test_swish_saves_only_its_input_for_backward():
    saved = []

    def pack(tensor):
        saved.append(tensor)
        return tensor

    x = torch.randn(3, 16, 8, 8, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        y = swish(x)
    assert len(saved) == 1, "swish saved %d tensors" % len(saved)
    assert saved[0].data_ptr() == x.data_ptr() and saved[0].shape == x.shape, "swish saved something other than x"
    y.sum().backward()   # and backward works from that alone
    torch.testing.assert_close(x.grad, torch.autograd.grad(reference_swish(x).sum(), x)[0])

    # The hooks see what the plain expression keeps: x and sigmoid(x), so the count above could have failed.
    saved.clear()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        reference_swish(x)
    assert len({t.data_ptr() for t in saved}) == 2


def test_swish_without_autograd_saves_nothing_and_equals_silu():
    x = torch.randn(2, 5, 4, 4)
    with torch.no_grad():
        x.requires_grad_()
        y = swish(x)
    assert y.grad_fn is None
    torch.testing.assert_close(y, torch.nn.functional.silu(x.detach()))


def test_swish_module_is_a_drop_in_for_silu():
    x = torch.randn(2, 5, 4, 4)
    module = Swish()
    assert isinstance(module, torch.nn.Module)
    torch.testing.assert_close(module(x), torch.nn.SiLU()(x))
    assert enl.activation.Swish is Swish


class PlainSwish(torch.nn.Module):
    """The expression autograd differentiates by itself: keeps x and sigmoid(x)."""

    def forward(self, x):
        return x * torch.sigmoid(x)


def storage_of(tensor):
    storage = tensor.untyped_storage() if hasattr(tensor, "untyped_storage") else tensor.storage()
    return storage.data_ptr(), storage.nbytes()


def saved_bytes(model, x):
    """(bytes of the distinct storages kept for backward, bytes of all saves) of one training forward."""
    storages = {}
    total = [0]

    def pack(tensor):
        pointer, size = storage_of(tensor)
        storages[pointer] = max(storages.get(pointer, 0), size)
        total[0] += tensor.numel() * tensor.element_size()
        return tensor

    model.train()
    torch.manual_seed(0)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        output = model(x)
    assert output.requires_grad
    return sum(storages.values()), total[0]


def torchvision_b0(activation):
    torch.manual_seed(0)
    model = torchvision.models.efficientnet_b0()
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.SiLU):
                setattr(module, name, activation())
    return model


def test_b0_training_forward_keeps_less_with_swish_than_with_the_plain_expression(record):
    x = torch.randn(MEMORY_BATCH, 3, MEMORY_SIZE, MEMORY_SIZE)
    silu, silu_all = saved_bytes(torchvision_b0(torch.nn.SiLU), x)
    ours, ours_all = saved_bytes(torchvision_b0(Swish), x)
    plain, plain_all = saved_bytes(torchvision_b0(PlainSwish), x)
    bound, bound_all = saved_bytes(enl.create("efficientnet_b0"), x)
    mib = 1 << 20
    record("saved for backward, torchvision B0 train forward, batch %d at %d: nn.SiLU %.1f MiB, Swish %.1f MiB, "
           "x*sigmoid(x) %.1f MiB; the C++ model (bound) %.1f MiB"
           % (MEMORY_BATCH, MEMORY_SIZE, silu / mib, ours / mib, plain / mib, bound / mib),
           "Swish/x*sigmoid(x) %.3f, Swish/nn.SiLU %.3f, bound C++ model/torchvision with nn.SiLU %.3f"
           % (ours / plain, ours / silu, bound / silu))
    record("same, counting every save (a tensor saved twice counts twice)",
           "Swish/x*sigmoid(x) %.3f, Swish/nn.SiLU %.3f, bound/nn.SiLU %.3f"
           % (ours_all / plain_all, ours_all / silu_all, bound_all / silu_all))
    # One saved tensor per activation instead of two; activations are a large share of what B0 saves.
    assert ours < 0.85 * plain
    # torch.nn.SiLU saves only its input too (derivatives.yaml: silu_backward(grad, self)): equal, not less.
    assert ours <= silu
    assert bound <= silu
