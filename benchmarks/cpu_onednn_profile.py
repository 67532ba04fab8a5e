#!/usr/bin/env python3
"""Where B0's CPU time goes at 1 and 2 threads (issue 15): oneDNN's own execution time per primitive kind, from
ONEDNN_VERBOSE, for a Python copy of the engine's CPU forward (BatchNorm folded into the convolutions, weights
reordered once, activations in oneDNN's blocked layout between convolutions, SiLU as sigmoid + in-place multiply,
the squeeze-excitation on dense tensors), which matches torchvision's B0 to float rounding. Same LibTorch as the
engine here (Debian's torch 1.13 and its oneDNN), so the primitives and their costs are the engine's; what happens
outside oneDNN (Python here, C++ in the engine) is not attributed.
Usage: /usr/bin/python3 benchmarks/cpu_onednn_profile.py [--forwards 8]    (prints a Markdown table)"""
import argparse
import collections
import os
import subprocess
import sys


def forward_fn():
    import torch
    import torchvision
    aten = torch.ops.aten
    torch.manual_seed(0)
    model = torchvision.models.efficientnet_b0().eval()

    def fold(cna):
        conv, bn = cna[0], cna[1]
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        weight = (conv.weight * scale.view(-1, 1, 1, 1)).contiguous()
        padding = [conv.padding[0]] * 2
        return dict(w=aten.mkldnn_reorder_conv2d_weight(weight.to_mkldnn(), padding, list(conv.stride),
                                                        list(conv.dilation), conv.groups),
                    b=(bn.bias - bn.running_mean * scale).to_mkldnn(), p=padding, s=list(conv.stride),
                    d=list(conv.dilation), g=conv.groups, act=len(cna) > 2 and not isinstance(cna[2], torch.nn.Identity))

    def cna(f, x, residual=None):
        x = aten.mkldnn_convolution(x if x.is_mkldnn else x.to_mkldnn(), f["w"], f["b"], f["p"], f["s"], f["d"], f["g"])
        if f["act"]:
            x.mul_(torch.sigmoid(x))
        return x if residual is None else x + residual

    def squeeze_excite(se, x):
        x = x.to_dense()
        s = torch.nn.functional.silu(torch.nn.functional.linear(x.mean((2, 3)), se.fc1.weight.flatten(1), se.fc1.bias))
        s = torch.sigmoid(torch.nn.functional.linear(s, se.fc2.weight.flatten(1), se.fc2.bias))
        return x.mul_(s.view(s.size(0), s.size(1), 1, 1))

    with torch.no_grad():
        stem, head, blocks = fold(model.features[0]), fold(model.features[-1]), []
        for stage in model.features[1:-1]:
            for block in stage:
                blocks.append((block.use_res_connect, [("se", l) if isinstance(l, torchvision.ops.SqueezeExcitation)
                                                       else ("cna", fold(l)) for l in block.block]))

    def forward(x):
        x = cna(stem, x)
        for residual, layers in blocks:
            h = x
            for i, (kind, layer) in enumerate(layers):
                h = squeeze_excite(layer, h) if kind == "se" else cna(
                    layer, h, x if residual and i == len(layers) - 1 else None)
            x = h
        x = cna(head, x).to_dense()
        return model.classifier(torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1))
    return model, forward


def retain_freed_memory():
    """What the engine's platform::retainFreedMemory() does (glibc's mallopt): without it each forward page-faults its
    activations back in, and the large maps' first-touching primitives (the sigmoids) look 10x slower than they are."""
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 32 << 20)
    libc.mallopt(m_trim_threshold, 64 << 20)


def child(threads, forwards):
    retain_freed_memory()
    import torch
    model, forward = forward_fn()
    x = torch.randn(1, 3, 224, 224)
    torch.set_num_threads(threads)
    with torch.inference_mode():
        reference = model(x)
        error = ((forward(x) - reference).abs().max() / reference.abs().max()).item()
        print(f"=== relative difference from torchvision {error:.1e}", flush=True)
        for _ in range(5):
            forward(x)
        print("=== START", flush=True)
        for _ in range(forwards):
            forward(x)


def per_kind(log, forwards):
    times = collections.defaultdict(list)
    for line in log.split("=== START")[1].splitlines():
        if line.startswith("onednn_verbose,exec"):
            f = line.split(",")
            times[(f[3] + ":" + f[4], f[9])].append(float(f[10]))
    kinds = collections.defaultdict(lambda: [0.0, 0.0])   # ms per forward (median of each call site), calls
    for (kind, _), values in times.items():
        values.sort()
        kinds[kind][0] += values[len(values) // 2] * len(values) / forwards
        kinds[kind][1] += len(values) / forwards
    return kinds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--forwards", type=int, default=8)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.forwards)
    env = dict(os.environ, ONEDNN_VERBOSE="1", DNNL_VERBOSE="1")
    logs = {t: subprocess.run([sys.executable, __file__, "--child", str(t), "--forwards", str(args.forwards)],
                              env=env, capture_output=True, text=True, check=True).stdout for t in (1, 2)}
    one, two = per_kind(logs[1], args.forwards), per_kind(logs[2], args.forwards)
    print(next(l for l in logs[1].splitlines() if l.startswith("=== relative")).strip("= "))
    print("| oneDNN primitive:implementation | calls | 1 thread (ms) | 2 threads (ms) | speed-up |")
    print("|---|---|---|---|---|")
    for kind, (ms, calls) in sorted(one.items(), key=lambda kv: -kv[1][0]):
        ms2 = two.get(kind, [0.0])[0]
        print(f"| {kind} | {calls:.0f} | {ms:.2f} | {ms2:.2f} | {ms / ms2 if ms2 else 0:.2f} |")
    print(f"| total inside oneDNN | | {sum(v[0] for v in one.values()):.2f} | {sum(v[0] for v in two.values()):.2f} | |")


if __name__ == "__main__":
    main()
