#!/usr/bin/env python3
"""Exports torchvision's EfficientNet (random weights: speed does not depend on their values) to ONNX for the ONNX
Runtime anchor (benchmarks/onnx_anchor.py), one file per model and batch with static shapes, as a user who exports for
ONNX Runtime would. Needs torch and torchvision (Debian's python3-torch here: /usr/bin/python3; the GPU machine's
python3). No onnx package needed: the TorchScript-based exporter writes the protobuf itself.

Usage: onnx_export.py MODEL BATCH SIZE OUT.onnx
"""
import inspect
import sys

import torch
import torchvision

# Opset 17 is the newest that Debian's torch 1.13 writes; torch 2.x writes it too, so both machines run the same ops.
OPSET = 17


def main():
    name, batch, size, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)().eval()
    example = torch.randn(batch, 3, size, size)
    kwargs = dict(input_names=["input"], output_names=["logits"], opset_version=OPSET, do_constant_folding=True)
    # torch >= 2.9 defaults to the dynamo exporter, which needs onnxscript; the TorchScript one is what torch 1.13 has.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    with torch.no_grad():
        torch.onnx.export(model, example, path, **kwargs)
    print(f"exported {name} batch {batch} {size}x{size} with torch {torch.__version__}, torchvision "
          f"{torchvision.__version__}, opset {OPSET}: {path}", flush=True)


if __name__ == "__main__":
    main()
