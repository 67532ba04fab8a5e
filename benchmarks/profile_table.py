#!/usr/bin/env python3
"""Per-kernel breakdown of EfficientNet forwards from Chrome traces (efficientnet-bench --profile-trace, anchors.py
--profile-trace; benchmarks/gpu_profile.sh runs both): every GPU activity (kernel, copy, memset) of each traced call is
put in one category of the network's structure, and per call the script reports each category's count, GPU time,
share, and the bytes its operators read and write (from the operators' input shapes).

A kernel's category comes from the operator that launched it, with that operator's input shapes: a convolution whose
weight is 1x1 is a pointwise GEMM, one with one input channel per group is depthwise, one on a 1x1 map is a
squeeze-excitation FC (torchvision writes those as convolutions), and so on. A trace of a CUDA-graph replay names no
operators, so its kernels take the categories of the same kernels, in the same order, in the eager trace of the same
batch (efficientnet-bench records both in one process, so cuDNN's autotuning picked the same kernels).

Usage: profile_table.py TRACE_DIR [--timing-log LOG ...] [--kernels FILE]
Prints markdown to stdout; --kernels writes the heaviest kernels of every trace with their categories.
"""
import argparse
import ast
import bisect
import collections
import difflib
import glob
import json
import math
import os
import re
import statistics

CATEGORIES = [
    ("conv1x1", "1x1 conv GEMMs (expand, project, head)"),
    ("dwconv", "depthwise conv"),
    ("stem", "stem 3x3 conv"),
    ("elementwise", "BN / bias / SiLU / residual add (elementwise)"),
    ("se_squeeze", "SE squeeze (spatial mean)"),
    ("se_excite", "SE excitation (2 FCs, SiLU, sigmoid)"),
    ("se_gate", "SE gate multiply"),
    ("classifier", "final pooling + classifier"),
    ("copy", "copies / format conversions"),
    ("other", "other"),
]
LABEL = dict(CATEGORIES)
GPU_CATEGORIES = ("kernel", "gpu_memcpy", "gpu_memset")
TRACE_NAME = re.compile(r"^(engine|torchvision)-(.+)-(fp16|bf16|fp32)-b(\d+)-(graph|eager)\.json(\.gz)?$")
DTYPE_BYTES = {"c10::Half": 2, "c10::BFloat16": 2, "float": 4, "double": 8, "long int": 8, "int": 4, "bool": 1,
               "unsigned char": 1}
POOL_OPS = {"aten::mean", "aten::adaptive_avg_pool2d", "aten::_adaptive_avg_pool2d", "aten::avg_pool2d", "aten::sum"}
FC_OPS = {"aten::linear", "aten::addmm", "aten::mm", "aten::matmul", "aten::bmm"}
COPY_OPS = {"aten::copy_", "aten::to", "aten::_to_copy", "aten::contiguous", "aten::clone"}
CONVERSION_KERNEL = re.compile(r"nchwToNhwc|nhwcToNchw|transpose|Memcpy|memcpy", re.I)
EPILOGUE_KERNEL = re.compile(r"biasActivation\w*<[^<>]*?,\s*(true|false),\s*(true|false)\s*>")


def numel(shape):
    return math.prod(shape) if shape else 0


def load(path):
    import gzip
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        data = json.load(f)
    return data["traceEvents"] if isinstance(data, dict) else data


def op_args(op):
    args = op.get("args", {})
    dims = args.get("Input Dims", [])
    types = args.get("Input type", [])
    concrete = args.get("Concrete Inputs", [])
    return dims, types, concrete


def element_size(types, i):
    return DTYPE_BYTES.get(types[i], 2) if i < len(types) else 2


def tensor_bytes(dims, types):
    return sum(numel(d) * element_size(types, i) for i, d in enumerate(dims) if isinstance(d, list) and d
               and all(isinstance(v, int) for v in d))


def int_list(text):
    try:
        value = ast.literal_eval(text) if text else None
    except (ValueError, SyntaxError):
        return None
    return list(value) if isinstance(value, (list, tuple)) else None


def conv_output_shape(op):
    """N, O, H', W' of a convolution operator, from its input shapes and (when the trace has them) stride, padding
    and dilation. aten::conv2d / aten::convolution order: input, weight, bias, stride, padding, dilation, ..."""
    dims, _, concrete = op_args(op)
    x, w = dims[0], dims[1]
    stride, padding, dilation = [1, 1], [w[2] // 2, w[3] // 2], [1, 1]
    if op["name"] in ("aten::conv2d", "aten::convolution", "aten::_convolution") and len(concrete) > 5:
        stride = int_list(concrete[3]) or stride
        padding = int_list(concrete[4]) or padding
        dilation = int_list(concrete[5]) or dilation
    out = [(x[2 + k] + 2 * padding[k] - dilation[k] * (w[2 + k] - 1) - 1) // stride[k] + 1 for k in range(2)]
    return [x[0], w[0]] + out


def is_conv(op):
    dims = op_args(op)[0]
    return "conv" in op["name"] and len(dims) >= 2 and len(dims[0]) == 4 and len(dims[1]) == 4


def classify(kernel, chain):
    """(category, bytes, operator) for a kernel of an eager trace. chain: the operators around the launch, innermost
    first. bytes: what the launching operator reads and writes, to be counted once per operator (cuDNN and cuBLAS
    may run an operator as several kernels); operator: the one those bytes belong to, or None. Pooling and FCs are
    told apart from the classifier later, by position (the last pooling of a call is the classifier's)."""
    name = kernel["name"]
    args = kernel.get("args", {})
    if kernel.get("cat") == "gpu_memcpy":
        return "copy", args.get("bytes", 0) * 2, None
    if kernel.get("cat") == "gpu_memset":   # a workspace cleared for the operator around it
        category = classify({"name": "", "cat": "kernel"}, chain)[0] if chain else "other"
        return category, args.get("bytes", 0), None
    if EPILOGUE_KERNEL.search(name):
        return "elementwise", None, None   # bytes: from the convolution before it (see Trace.annotate)
    if CONVERSION_KERNEL.search(name):
        return "copy", 0, None
    convs = [op for op in chain if is_conv(op)]
    if convs:
        conv = convs[-1]   # the outermost: aten::conv2d / convolution, whose arguments are in the documented order
        dims, types, _ = op_args(conv)
        x, w = dims[0], dims[1]
        moved = tensor_bytes(dims[:3], types) + numel(conv_output_shape(conv)) * element_size(types, 0)
        if x[2] * x[3] == 1:
            return "se_fc", moved, conv
        if w[2] * w[3] == 1:
            return "conv1x1", moved, conv
        if w[1] == 1:
            return "dwconv", moved, conv
        return "stem", moved, conv
    # Inference batch norm runs as several kernels (parameter copies, 1/sqrt(var + eps), the transform): all BN.
    norms = [op for op in chain if "batch_norm" in op["name"]]
    if norms:
        dims, types, _ = op_args(norms[-1])
        return "elementwise", tensor_bytes(dims, types) + numel(dims[0]) * element_size(types, 0), norms[-1]
    for op in chain:
        op_name = op["name"]
        dims, types, _ = op_args(op)
        tensors = [d for d in dims if isinstance(d, list) and d]
        largest = max((numel(d) for d in tensors), default=0)
        reads = tensor_bytes(dims, types)
        if op_name in COPY_OPS:
            return "copy", 2 * reads if op_name != "aten::copy_" else reads, op
        if op_name in POOL_OPS:
            return "pool", reads, op
        if op_name in FC_OPS:
            return "fc", reads, op
        if op_name.startswith("aten::") and tensors:
            # Elementwise: reads every input, writes the broadcast shape (in place or not).
            moved = reads + largest * element_size(types, 0)
            spatial = [d for d in tensors if len(d) == 4 and d[2] * d[3] > 1]
            if not spatial:
                return "se_excite", moved, op   # [N, C] or [N, C, 1, 1]: the excitation's small tensors
            if any(len(d) == 2 or (len(d) == 4 and d[2] * d[3] == 1) for d in tensors):
                return "se_gate", moved, op     # a feature map times a per-channel gate
            return "elementwise", moved, op
    return "other", 0, None


class Trace:
    def __init__(self, path):
        self.path = path
        events = [e for e in load(path) if e.get("ph") == "X"]
        self.forwards = sorted((e for e in events if e.get("cat") == "user_annotation" and e["name"] == "forward"),
                               key=lambda e: e["ts"])
        gpu = sorted((e for e in events if e.get("cat") in GPU_CATEGORIES), key=lambda e: e["ts"])
        ops = [e for e in events if e.get("cat") in ("cpu_op", "user_annotation")]
        self.by_external = {e["args"]["External id"]: e for e in ops if "External id" in e.get("args", {})}
        self.parent = self._parents(ops)
        # Kernels that cuDNN or cuBLAS start through the driver API may lack an External id: then the launch call
        # (same correlation id) is placed inside the operators running on its thread at that time.
        self.launches = {e["args"]["correlation"]: e for e in events
                         if e.get("cat") in ("cuda_runtime", "cuda_driver") and "correlation" in e.get("args", {})}
        self.thread_ops = collections.defaultdict(list)
        for op in sorted(ops, key=lambda e: (e["ts"], -e.get("dur", 0))):
            self.thread_ops[op.get("tid")].append(op)
        self.thread_starts = {tid: [op["ts"] for op in thread] for tid, thread in self.thread_ops.items()}
        # Each call's GPU activities, in launch order: a call's scope waits for the GPU, so its activities start
        # inside it.
        self.calls = [[] for _ in self.forwards]
        starts = [f["ts"] for f in self.forwards]
        for g in gpu:
            index = max((i for i, s in enumerate(starts) if s <= g["ts"]), default=None)
            if index is not None:
                self.calls[index].append(g)

    @staticmethod
    def _parents(ops):
        parent = {}
        by_thread = collections.defaultdict(list)
        for op in ops:
            by_thread[op.get("tid")].append(op)
        for thread_ops in by_thread.values():
            stack = []
            for op in sorted(thread_ops, key=lambda e: (e["ts"], -e.get("dur", 0))):
                while stack and stack[-1]["ts"] + stack[-1].get("dur", 0) < op["ts"] + op.get("dur", 0):
                    stack.pop()
                parent[id(op)] = stack[-1] if stack else None
                stack.append(op)
        return parent

    def enclosing(self, event):
        """The innermost operator on the event's thread that encloses it, or None."""
        thread = self.thread_ops.get(event.get("tid"), [])
        index = bisect.bisect_right(self.thread_starts.get(event.get("tid"), []), event["ts"]) - 1
        op = thread[index] if index >= 0 else None
        while op is not None and op["ts"] + op.get("dur", 0) < event["ts"] + event.get("dur", 0):
            op = self.parent.get(id(op))
        return op

    def chain(self, kernel):
        args = kernel.get("args", {})
        op = self.by_external.get(args.get("External id"))
        if op is None or op.get("cat") == "user_annotation":
            launch = self.launches.get(args.get("correlation"))
            op = (self.enclosing(launch) if launch else None) or op
        chain = []
        while op is not None:
            chain.append(op)
            op = self.parent.get(id(op))
        return chain

    def typical_call(self):
        """The most common kernel-name sequence among the calls (they are all the same in a steady state)."""
        sequences = collections.Counter(tuple(k["name"] for k in call) for call in self.calls if call)
        return list(sequences.most_common(1)[0][0]) if sequences else []

    def annotate(self):
        """[(category, bytes)] for the typical call's activities, from the operators (eager traces)."""
        names = self.typical_call()
        call = next(c for c in self.calls if [k["name"] for k in c] == names)
        result = []
        last_conv_out = 0
        counted = set()   # operators whose bytes are counted already (at their first kernel)
        for kernel in call:
            category, moved, op = classify(kernel, self.chain(kernel))
            if op is not None:
                if id(op) in counted:
                    moved = 0
                counted.add(id(op))
            if category in ("conv1x1", "dwconv", "stem") and op is not None:
                dims, types, _ = op_args(op)
                last_conv_out = numel(conv_output_shape(op)) * element_size(types, 0)
            if moved is None:   # the engine's epilogue: reads the conv output (and residual), writes it back
                match = EPILOGUE_KERNEL.search(kernel["name"])
                moved = last_conv_out * (3 if match and match.group(2) == "true" else 2)
            result.append([category, moved])
        # The last pooling of a call is the classifier's, and so is every FC after it; earlier ones are the SE's.
        pools = [i for i, (c, _) in enumerate(result) if c == "pool"]
        last_pool = pools[-1] if pools else len(result)
        for i, entry in enumerate(result):
            if i >= last_pool and entry[0] in ("pool", "fc", "se_excite", "elementwise"):
                entry[0] = "classifier"
            elif entry[0] == "pool":
                entry[0] = "se_squeeze"
            elif entry[0] in ("fc", "se_fc"):
                entry[0] = "se_excite"
        return names, [tuple(e) for e in result]

    def stats(self, labels):
        """Per call: {category: [count, GPU us, bytes]}, GPU busy us, GPU span us (first start to last end)."""
        per_category = collections.defaultdict(lambda: [0.0, 0.0, 0.0])
        calls = [c for c in self.calls if c]
        for call in calls:
            call_labels = labels(call)
            for kernel, (category, moved) in zip(call, call_labels):
                entry = per_category[category]
                entry[0] += 1
                entry[1] += kernel.get("dur", 0)
                entry[2] += moved or 0
        n = max(len(calls), 1)
        busy = sum(k.get("dur", 0) for c in calls for k in c) / n
        span = statistics.median(max(k["ts"] + k.get("dur", 0) for k in c) - c[0]["ts"] for c in calls) if calls else 0
        typical = statistics.median(k.get("dur", 0) for c in calls for k in c) if calls else 0
        return {k: [v / n for v in values] for k, values in per_category.items()}, busy, span, len(calls), typical


def labeller(reference_names, reference_labels):
    """Labels for a call's activities: aligned by kernel name and order with the eager reference call, else by the
    kernel name's most common label there, else by name alone."""
    by_name = collections.defaultdict(collections.Counter)
    for name, label in zip(reference_names, reference_labels):
        by_name[name][label] += 1

    def labels(call):
        names = [k["name"] for k in call]
        result = [None] * len(names)
        matcher = difflib.SequenceMatcher(None, reference_names, names, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                result[block.b + k] = reference_labels[block.a + k]
        for i, kernel in enumerate(call):
            if result[i] is None:
                if by_name[kernel["name"]]:
                    result[i] = by_name[kernel["name"]].most_common(1)[0][0]
                else:
                    category, moved, _ = classify(kernel, [])
                    result[i] = (category if category in LABEL else "other", moved or 0)
        return result
    return labels


def read_timings(paths):
    """End-to-end medians from efficientnet-bench and anchors.py output: {(configuration, batch): ms}."""
    timings = {}
    bench = re.compile(r"^(tensor|nograph)\s+\S+\s+.*?\s(fp16|bf16|fp32)\s+(\d+)\s+([\d.]+) ms")
    anchor = re.compile(r"^anchor torchvision eager fp16 channels_last\s+batch\s+(\d+)\s+([\d.]+) ms")
    for path in paths:
        with open(path) as f:
            for line in f:
                if m := bench.match(line):
                    config = "engine-graph" if m.group(1) == "tensor" else "engine-eager"
                    timings[(config, int(m.group(3)))] = float(m.group(4))
                elif m := anchor.match(line):
                    timings[("torchvision-eager", int(m.group(1)))] = float(m.group(2))
    return timings


TITLES = {
    "engine-graph": "This project's engine (efficientnet-bench, CUDA graph replay, as it runs)",
    "engine-eager": "This project's engine without CUDA graphs (--no-cuda-graphs path; the graph's kernels, launched one by one)",
    "torchvision-eager": "torchvision eager fp16 channels_last (anchors.py)",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trace_dir")
    parser.add_argument("--timing-log", action="append", default=[])
    parser.add_argument("--kernels", help="write the heaviest kernels of every trace, with categories, here")
    args = parser.parse_args()
    timings = read_timings(args.timing_log)

    traces = {}
    for path in sorted(glob.glob(os.path.join(args.trace_dir, "*.json*"))):
        m = TRACE_NAME.match(os.path.basename(path))
        if m:
            traces[(f"{m.group(1)}-{m.group(5)}", int(m.group(4)))] = (m.group(2), m.group(3), Trace(path))

    references = {}   # (source, batch) -> (names, labels) of the eager trace
    for (config, batch), (_, _, trace) in traces.items():
        if config.endswith("-eager"):
            names, annotated = trace.annotate()
            references[(config.split("-")[0], batch)] = (names, annotated)

    results = {}
    kernel_lines = []
    for (config, batch), (model, precision, trace) in sorted(traces.items()):
        reference = references.get((config.split("-")[0], batch))
        if reference is None:
            labels = labeller([], [])
        else:
            labels = labeller(reference[0], reference[1])
        per_category, busy, span, calls, typical = trace.stats(labels)
        results[(config, batch)] = (per_category, busy, span, calls, model, precision, typical)
        heaviest = collections.defaultdict(lambda: [0, 0.0, collections.Counter()])
        for call in trace.calls:
            for kernel, (category, _) in zip(call, labels(call)):
                entry = heaviest[kernel["name"]]
                entry[0] += 1
                entry[1] += kernel.get("dur", 0)
                entry[2][category] += 1
        kernel_lines.append(f"\n## {config} batch {batch} ({os.path.basename(trace.path)}, {calls} calls)")
        for name, (count, total, categories) in sorted(heaviest.items(), key=lambda kv: -kv[1][1])[:40]:
            category = "+".join(c for c, _ in categories.most_common())
            kernel_lines.append(f"{total / max(calls, 1):10.1f} us/call {count / max(calls, 1):6.1f} x  "
                                f"{category:22s} {name[:200]}")
    if args.kernels:
        with open(args.kernels, "w") as f:
            f.write("\n".join(kernel_lines) + "\n")

    configs = [c for c in TITLES if any(k[0] == c for k in results)]
    for config in configs:
        batches = sorted(b for c, b in results if c == config)
        model, precision = results[(config, batches[0])][4:6]
        print(f"\n### {TITLES[config]}: {model} {precision}\n")
        header = "| category |" + "".join(f" b{b} kernels/call | b{b} GPU us/call | b{b} share |" for b in batches)
        if batches[-1] > 1:
            header += f" b{batches[-1]} MB/image | b{batches[-1]} GB/s |"
        print(header)
        print("|---" * (header.count("|") - 1) + "|")
        for key, label in CATEGORIES:
            if not any(key in results[(config, b)][0] for b in batches):
                continue
            row = f"| {label} |"
            for b in batches:
                per_category, busy = results[(config, b)][0], results[(config, b)][1]
                count, us, _ = per_category.get(key, [0, 0, 0])
                row += f" {count:.0f} | {us:,.1f} | {100 * us / busy if busy else 0:.1f}% |"
            if batches[-1] > 1:
                count, us, moved = results[(config, batches[-1])][0].get(key, [0, 0, 0])
                row += f" {moved / batches[-1] / 1e6:.2f} | {moved / us / 1e3 if us else 0:,.0f} |"
            print(row)
        row = "| **all GPU activities** |"
        for b in batches:
            per_category, busy = results[(config, b)][0], results[(config, b)][1]
            row += f" **{sum(v[0] for v in per_category.values()):.0f}** | **{busy:,.1f}** | 100% |"
        if batches[-1] > 1:
            per_category, busy = results[(config, batches[-1])][0], results[(config, batches[-1])][1]
            moved = sum(v[2] for v in per_category.values())
            row += f" **{moved / batches[-1] / 1e6:.2f}** | {moved / busy / 1e3 if busy else 0:,.0f} |"
        print(row)
        for b in batches:
            _, busy, span, calls = results[(config, b)][:4]
            typical = results[(config, b)][6]
            wall = timings.get((config, b))
            wall_text = f"{wall:.3f} ms per call ({b * 1000 / wall:,.0f} img/s)" if wall else "not in the logs"
            print(f"\nBatch {b}: {calls} traced calls; GPU busy {busy / 1000:.3f} ms per call (median activity "
                  f"{typical:.1f} us), first start to last end {span / 1000:.3f} ms under the profiler; end to end "
                  f"without the profiler, same run: {wall_text}.")


if __name__ == "__main__":
    main()
