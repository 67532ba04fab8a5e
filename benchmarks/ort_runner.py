#!/usr/bin/env python3
"""ONNX Runtime (CPU execution provider) side of benchmarks/onnx_anchor.py, through the Python package onnxruntime (the
GPU machine's python3 has it). Same protocol as ort_runner.mjs, one line each on stdin/stdout:
  start:   ort_runner.py MODEL.onnx BATCH SIZE THREADS   -> "ready onnxruntime VERSION" (after 3 calls)
  request: "WARMUP ITERATIONS"                           -> "times MS MS ..." (one per timed call)
  request: "quit"                                        -> exits
"""
import sys
import time

import numpy as np
import onnxruntime as ort

SESSION_WARMUP = 3   # untimed calls before "ready", as in ort_runner.mjs

def main():
    path, batch, size, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads   # counts the calling thread, as torch::set_num_threads does
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feeds = {session.get_inputs()[0].name: np.random.default_rng(0).standard_normal(
        (batch, 3, size, size), dtype=np.float32)}

    def call():
        logits = session.run(None, feeds)[0]
        if logits.shape[0] != batch or not np.isfinite(logits[0, 0]):
            raise RuntimeError(f"{path}: unexpected output {logits.shape}")

    # A fresh session's first calls are several times slower (seen here: 81 ms, then 13 ms for B0); the engine's
    # process has built and folded its model before its first call, so the session is warmed before any round.
    for _ in range(SESSION_WARMUP):
        call()
    print(f"ready onnxruntime {ort.__version__}", flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        warmup, iterations = (int(v) for v in line.split())
        for _ in range(warmup):
            call()
        times = []
        for _ in range(iterations):
            t0 = time.perf_counter()
            call()
            times.append((time.perf_counter() - t0) * 1000)
        print("times " + " ".join(f"{t:.3f}" for t in times), flush=True)


if __name__ == "__main__":
    main()
