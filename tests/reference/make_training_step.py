#!/usr/bin/python3
"""Reference for one fine-tuning step (issue 14): what PyTorch computes for the trainer's recipe.

Run with Debian's interpreter (python3-torch 1.13, python3-torchvision 0.14):

    /usr/bin/python3 tests/reference/make_training_step.py --out DIR

tests/core/test_training_parity.cpp runs the trainer's own optimiser and step (core/src/training/optimizer.h) from
the same weights on the same batches and compares. The recipe is written out here independently of the C++ code, from what
training.h promises: AdamW (PyTorch's betas and eps) with decoupled weight decay on convolution and Linear weights
only (not on biases nor BatchNorm parameters), label-smoothed cross-entropy averaged over the batch, the whole
network training (scope `all`), BatchNorms in training mode.

Dropout and stochastic depth are built with probability 0: they draw random masks in the forward pass, and LibTorch
and PyTorch draw them in different orders, so with them the two steps would not see the same network. Everything
else about training mode (batch statistics, running-statistics updates) stays.

Two steps on two batches, each compared: the first step of Adam moves each weight by about lr * sign(gradient), the
second exercises the optimiser's state (moments and bias correction). Run in float64 and in float32 from the same
float32 weights: float64 removes rounding, so the comparison there is of the algorithm; float32 is what users run.

Files in DIR:
  initial.pth                      state_dict (torchvision keys, float32) the steps start from
  batches.pth                      {"inputs.K": [BATCH, 3, SIZE, SIZE] float32, "targets.K": [BATCH] int64}, K = 0, 1
  float64.stepN.pth, float32.stepN.pth   state_dict after step N (1, 2), in that dtype
  step.json                        the recipe's numbers and the losses of each step
"""

import argparse
import collections
import hashlib
import json
import os
import sys

# The reference generator's atomic writer and torch.save (files get the usual mode, not mkstemp's 0600).
from make_reference import atomic_write, torch_save  # same folder: the script's directory is on sys.path

VARIANT = "efficientnet_b0"
NUM_CLASSES = 3
SIZE = 64                  # small input: the step takes well under a second
BATCH = 4
STEPS = 2
SEED = 20261201
# The trainer's recipe (training.h TrainingOptions defaults; PyTorch's AdamW defaults for betas and eps).
LEARNING_RATE = 1e-3       # a step moves each weight by about this: 10x the test's tolerance
WEIGHT_DECAY = 0.05
LABEL_SMOOTHING = 0.1
BETAS = (0.9, 0.999)
EPS = 1e-8
STAMP_NAME = "make_training_step.stamp"


def build_model():
    """A random torchvision B0 with a 3-class head, its BatchNorms' affine parameters and running statistics
    randomised (so that their updates are visible), dropout and stochastic depth at 0."""
    import torch
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
    torch.manual_seed(SEED)
    setting, last_channel = _efficientnet_conf(VARIANT, width_mult=1.0, depth_mult=1.0)
    model = EfficientNet(setting, dropout=0.0, stochastic_depth_prob=0.0, num_classes=NUM_CLASSES,
                         last_channel=last_channel)
    gen = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.normal_(0.0, 0.1, generator=gen)
                m.running_mean.normal_(0.0, 0.1, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
    return model


def parameter_groups(model):
    """Decay: the weights of convolutions and Linear layers; no decay: biases and BatchNorm weights and biases."""
    import torch
    decay, no_decay = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            is_weight = name == "weight" and isinstance(module, (torch.nn.Conv2d, torch.nn.Linear))
            (decay if is_weight else no_decay).append(p)
    return [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}]


def run_steps(initial, batches, dtype, out, prefix):
    import torch
    import torch.nn.functional as F
    model = build_model()
    model.load_state_dict(initial)
    model.to(dtype)
    model.train()
    optimizer = torch.optim.AdamW(parameter_groups(model), lr=LEARNING_RATE, betas=BETAS, eps=EPS)
    losses = []
    for k in range(STEPS):
        optimizer.zero_grad()
        logits = model(batches["inputs.%d" % k].to(dtype))
        loss = F.cross_entropy(logits, batches["targets.%d" % k], label_smoothing=LABEL_SMOOTHING)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        state = collections.OrderedDict((key, t.detach().clone()) for key, t in model.state_dict().items())
        torch_save(os.path.join(out, "%s.step%d.pth" % (prefix, k + 1)), state)
    return losses


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with open(__file__, "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest()
    stamp_path = os.path.join(args.out, STAMP_NAME)
    if os.path.exists(stamp_path) and open(stamp_path).read() == stamp:
        print("training step reference up to date in", args.out)
        return 0

    import torch
    torch.set_num_threads(1)   # the same reductions every run
    model = build_model()
    initial = collections.OrderedDict((key, t.detach().clone()) for key, t in model.state_dict().items())
    torch_save(os.path.join(args.out, "initial.pth"), initial)
    gen = torch.Generator().manual_seed(SEED + 2)
    batches = collections.OrderedDict()
    for k in range(STEPS):
        batches["inputs.%d" % k] = torch.randn(BATCH, 3, SIZE, SIZE, generator=gen)
        batches["targets.%d" % k] = torch.randint(0, NUM_CLASSES, (BATCH,), generator=gen)
    torch_save(os.path.join(args.out, "batches.pth"), batches)

    report = {"variant": VARIANT, "classes": NUM_CLASSES, "size": SIZE, "batch": BATCH, "steps": STEPS,
              "learning_rate": LEARNING_RATE, "weight_decay": WEIGHT_DECAY, "label_smoothing": LABEL_SMOOTHING,
              "betas": list(BETAS), "eps": EPS}
    for dtype, prefix in ((torch.float64, "float64"), (torch.float32, "float32")):
        report[prefix] = {"loss": run_steps(initial, batches, dtype, args.out, prefix)}
        print(prefix, "losses", report[prefix]["loss"])
    atomic_write(os.path.join(args.out, "step.json"), lambda f: f.write((json.dumps(report, indent=2) + "\n").encode()))
    atomic_write(stamp_path, lambda f: f.write(stamp.encode()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
