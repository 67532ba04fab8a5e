#!/usr/bin/env python3
"""The engine's CPU speed against ONNX Runtime's CPU execution provider (issue 15's anchor), alternately, in one run.

For each model, batch and thread count: torchvision's model exported to ONNX (benchmarks/onnx_export.py, run with a
python that has torch), one ONNX Runtime session kept open in a runner process (ort_runner.mjs through the npm
package onnxruntime-node, or ort_runner.py through the Python package onnxruntime), and `efficientnet-bench --device
cpu --only tensors` started once per round. Rounds alternate who goes first; within a round each side runs WARMUP
untimed calls and then ITERATIONS timed ones on a ready input tensor (the model alone, no preprocessing), with the same
batch and thread count. This machine's kind of drift (+-20% between runs on the project's 2-core box) moves both
sides of a round alike, so the per-round ratio is what the table reports, with the medians.

Only the standard library here, so any python3 runs it; benchmarks/onnx_anchor.sh sets up the rest. Prints progress as
"#" lines on stderr and a markdown table on stdout (and in --out).
"""
import argparse
import datetime
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# torchvision's evaluation crop per variant, as the engine's variant table has it (core/src/model/variants.cpp, the
# size efficientnet-bench feeds): both sides must see the same input shape.
INPUT_SIZE = {"efficientnet_b0": 224, "efficientnet_b3": 300, "efficientnet_v2_s": 384}


def log(text):
    print(f"# {text}", file=sys.stderr, flush=True)


def int_list(text):
    return [int(v) for v in text.split(",") if v]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", required=True, help="path of efficientnet-bench")
    p.add_argument("--runner", choices=["node", "python"], default="node",
                   help="ONNX Runtime through onnxruntime-node (needs --node-modules) or the Python package")
    p.add_argument("--node-modules", help="the node_modules folder holding onnxruntime-node")
    p.add_argument("--runner-python", default=sys.executable, help="python with onnxruntime, for --runner python")
    p.add_argument("--torch-python", default="/usr/bin/python3", help="python with torch + torchvision, for the export")
    p.add_argument("--models", default="efficientnet_b0,efficientnet_b3,efficientnet_v2_s")
    p.add_argument("--batches", type=int_list, default=[1, 8])
    p.add_argument("--threads", type=int_list, default=[1, 2])
    p.add_argument("--rounds", type=int, default=6, help="rounds per configuration (who goes first alternates)")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls per side and round")
    p.add_argument("--iterations", type=int, default=0,
                   help="timed calls per side and round; 0: as many as fit --seconds (at least 1)")
    p.add_argument("--seconds", type=float, default=30.0,
                   help="with --iterations 0: the timed calls of one configuration take about this long")
    p.add_argument("--max-iterations", type=int, default=50)
    p.add_argument("--deadline", type=float, default=0,
                   help="start no configuration after this many seconds (0: no limit); the table says which were not")
    p.add_argument("--models-dir", required=True, help="where the exported .onnx files are kept (and reused)")
    p.add_argument("--export-only", action="store_true", help="export the models and stop")
    p.add_argument("--out", help="also write the markdown table here")
    p.add_argument("--command", help="the command to name in the table (onnx_anchor.sh passes its own)")
    return p.parse_args()


def model_path(args, model, batch):
    return Path(args.models_dir) / f"{model}-b{batch}-{INPUT_SIZE[model]}.onnx"


def export(args, models):
    Path(args.models_dir).mkdir(parents=True, exist_ok=True)
    for model in models:
        for batch in args.batches:
            path = model_path(args, model, batch)
            if path.exists():
                continue
            tmp = path.with_suffix(".tmp")
            subprocess.run([args.torch_python, str(HERE / "onnx_export.py"), model, str(batch), str(INPUT_SIZE[model]),
                            str(tmp)], check=True, stdout=sys.stderr)
            tmp.rename(path)


class Runner:
    """One ONNX Runtime session in its own process (see ort_runner.mjs for the protocol)."""

    def __init__(self, args, model, batch, threads):
        path = str(model_path(args, model, batch))
        size = str(INPUT_SIZE[model])
        if args.runner == "node":
            env = dict(os.environ, NODE_PATH=args.node_modules or "")
            cmd = ["node", str(HERE / "ort_runner.mjs"), path, str(batch), size, str(threads)]
        else:
            env = dict(os.environ)
            cmd = [args.runner_python, str(HERE / "ort_runner.py"), path, str(batch), size, str(threads)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.version = self._read("ready")

    def _read(self, tag):
        line = self.proc.stdout.readline()
        if not line.startswith(tag + " "):
            raise RuntimeError(f"ONNX Runtime runner: expected '{tag} ...', got {line!r} (exit {self.proc.poll()})")
        return line[len(tag) + 1:].strip()

    def times(self, warmup, iterations):
        self.proc.stdin.write(f"{warmup} {iterations}\n")
        self.proc.stdin.flush()
        return [float(v) for v in self._read("times").split()]

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def engine_ms(args, model, batch, threads, warmup, iterations):
    """efficientnet-bench's median of ITERATIONS calls after WARMUP (a new process: it builds and folds the model,
    then times the tensor path only). Returns (median ms, its header line)."""
    cmd = [args.bench, "--model", model, "--device", "cpu", "--precision", "fp32", "--threads", str(threads),
           "--batches", str(batch), "--only", "tensors", "--warmup", str(warmup), "--iterations", str(iterations)]
    # OMP_NUM_THREADS as well: where oneDNN's OpenMP is not LibTorch's (Debian's libdnnl beside pip's LibTorch, which
    # bundles its own libgomp), --threads reaches only LibTorch's.
    run = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    if run.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({run.returncode}): {run.stderr.strip()}")
    header = " ".join(l.lstrip("# ") for l in run.stdout.splitlines()
                      if l.startswith("# efficientnet-bench") or l.startswith("# tensor path"))
    for line in run.stdout.splitlines():
        fields = line.split()
        if fields and fields[0] == "tensor":
            return float(fields[fields.index("ms") - 1]), header
    raise RuntimeError(f"no 'tensor' line in the output of {shlex.join(cmd)}:\n{run.stdout}")


def measure(args, model, batch, threads):
    runner = Runner(args, model, batch, threads)
    try:
        engine, ort, ratios = [], [], []
        header = ""

        def run_round(first, warmup, iterations, label=None):
            nonlocal header
            for side in ("engine", "ort") if first == "engine" else ("ort", "engine"):
                if side == "engine":
                    ms, header = engine_ms(args, model, batch, threads, warmup, iterations)
                    engine.append(ms)
                else:
                    # The upper median, as efficientnet-bench takes it.
                    ort.append(statistics.median_high(runner.times(warmup, iterations)))
            ratios.append(engine[-1] / ort[-1])
            log(f"{model} batch {batch} threads {threads} {label or f'round {len(ratios)}'} ({warmup} warm-up + {iterations} "
                f"timed calls each, {first} first): engine {engine[-1]:.3f} ms, ORT {ort[-1]:.3f} ms, "
                f"engine/ORT {ratios[-1]:.2f}")

        t0 = time.monotonic()
        iterations, warmup = args.iterations, args.warmup
        if iterations <= 0:
            # A first round of one timed call each sets how many calls fit the time given to this configuration;
            # where that is one, it was already a round of the measurement and counts.
            run_round("engine", warmup, 1, "first round, sizing the rest")
            per_round = args.seconds * 1000 / args.rounds
            iterations = max(1, min(args.max_iterations, int(per_round / (engine[0] + ort[0]))))
            if iterations > 1:
                engine.clear(), ort.clear(), ratios.clear()
        while len(ratios) < args.rounds:
            # Slow configurations stop early, after three rounds, once they have used half again their time.
            if len(ratios) >= 3 and time.monotonic() - t0 > 1.5 * args.seconds:
                break
            run_round("engine" if len(ratios) % 2 == 0 else "ort", warmup, iterations)
        return dict(model=model, batch=batch, threads=threads, warmup=warmup, iterations=iterations, engine=engine,
                    ort=ort, ratios=ratios, version=runner.version, header=header)
    finally:
        runner.close()


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def table(args, results, skipped, started, elapsed):
    affinity = sorted(os.sched_getaffinity(0))
    lines = [
        f"ONNX Runtime anchor, {started:%Y-%m-%d %H:%M} UTC, {elapsed:.0f} s: {cpu_name()}, {os.cpu_count()} logical "
        f"CPUs, this run on CPUs {','.join(map(str, affinity))}; {results[0]['version'] if results else '?'} "
        f"(CPU EP); engine: `{results[0]['header'].lstrip('# ') if results else '?'}` (threads as in the table).",
        "",
        f"Command: `{args.command or shlex.join(sys.argv)}`",
        "",
        "fp32, random weights, input tensor ready (no preprocessing). Medians over rounds of each round's median; "
        "engine/ORT: median of the per-round ratios (above 1: ONNX Runtime faster), with their range.",
        "",
        "| model | input | batch | threads | engine ms | ONNX Runtime ms | engine/ORT | range | rounds x timed calls |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        size = INPUT_SIZE[r["model"]]
        lines.append(
            f"| {r['model']} | {size}x{size} | {r['batch']} | {r['threads']} | {statistics.median(r['engine']):.2f} | "
            f"{statistics.median(r['ort']):.2f} | **{statistics.median(r['ratios']):.2f}** | "
            f"{min(r['ratios']):.2f}-{max(r['ratios']):.2f} | {len(r['ratios'])} x {r['iterations']} |")
    for m, b, t in skipped:
        lines.append(f"| {m} | {INPUT_SIZE[m]}x{INPUT_SIZE[m]} | {b} | {t} | not measured: past --deadline | | | | |")
    return "\n".join(lines) + "\n"


def main():
    args = parse_args()
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in INPUT_SIZE:
            sys.exit(f"onnx_anchor.py: unknown model {m}; known: {', '.join(INPUT_SIZE)}")
    if args.runner == "node" and not args.node_modules:
        sys.exit("onnx_anchor.py: --runner node needs --node-modules (benchmarks/onnx_anchor.sh installs it)")
    export(args, models)
    if args.export_only:
        return
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    configurations = [(m, b, t) for m in models for b in args.batches for t in args.threads]
    results, skipped = [], []
    for m, b, t in configurations:
        if args.deadline and time.monotonic() - t0 > args.deadline:
            skipped.append((m, b, t))
            continue
        results.append(measure(args, m, b, t))
        if args.out:   # after every configuration, so that a run stopped from outside leaves what it measured
            Path(args.out).write_text(table(args, results, [], started, time.monotonic() - t0))
    text = table(args, results, skipped, started, time.monotonic() - t0)
    sys.stdout.write(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
