#!/usr/bin/env python3
"""PyTorch anchors for efficientnet-bench, measured on the same machine in the same run.

GPU: torchvision eager fp32 (TF32 on), eager fp16 channels_last, a CUDA graph of eager fp16 channels_last, and
torch.compile (mode reduce-overhead; max-autotune with --max-autotune, which compiles for minutes).
With --profile-trace DIR: only eager fp16 channels_last, timed and then traced by torch.profiler per batch (the
comparison in benchmarks/gpu_profile.sh).
CPU: eager and TorchScript optimize_for_inference.
Prints one line per configuration: "anchor <name> batch <N> <ms> ms <img/s> img/s". Random weights: speed does not
depend on their values.
"""
import argparse
import statistics
import time

import torch
import torchvision


def cuda_time_ms(fn, x, warmup, iterations):
    for _ in range(warmup):
        fn(x)
    torch.cuda.synchronize()
    times = []
    for _ in range(iterations):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn(x)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def cpu_time_ms(fn, x, warmup, iterations):
    for _ in range(warmup):
        fn(x)
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn(x)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def report(name, batch, ms):
    print(f"anchor {name:40s} batch {batch:4d} {ms:10.3f} ms {batch * 1000 / ms:12.1f} img/s", flush=True)


def cuda_graph(model, example):
    static_in = example.clone()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            model(static_in)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = model(static_in)

    def run(x):
        static_in.copy_(x)
        graph.replay()
        return static_out
    return run


PROFILED_FORWARDS = 20   # the same count as efficientnet-bench --profile-trace


def profile_trace(fn, x, path):
    """Chrome trace of PROFILED_FORWARDS calls, each in a "forward" scope that waits for the GPU, so that calls do not
    overlap (the same layout as efficientnet-bench --profile-trace writes; benchmarks/profile_table.py reads both)."""
    from torch.profiler import ProfilerActivity, profile, record_function
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA], record_shapes=True) as prof:
        for _ in range(PROFILED_FORWARDS):
            with record_function("forward"):
                fn(x)
                torch.cuda.synchronize()
    prof.export_chrome_trace(path)
    print(f"#   trace of {PROFILED_FORWARDS} calls: {path}", flush=True)


def gpu_profile(args):
    torch.backends.cudnn.benchmark = True
    print(f"# GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, torchvision {torchvision.__version__}")
    with torch.inference_mode():
        fp16 = getattr(torchvision.models, args.model)().eval().cuda().half().to(memory_format=torch.channels_last)
        for batch in args.batches:
            x16 = torch.randn(batch, 3, args.size, args.size, device="cuda").half().to(memory_format=torch.channels_last)
            report("torchvision eager fp16 channels_last", batch, cuda_time_ms(fp16, x16, args.warmup, args.iterations))
            profile_trace(fp16, x16, f"{args.profile_trace}/torchvision-{args.model}-fp16-b{batch}-eager.json")


def gpu(args):
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    print(f"# GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, torchvision {torchvision.__version__}")
    build = getattr(torchvision.models, args.model)
    size = args.size
    with torch.inference_mode():
        fp32 = build().eval().cuda()
        fp16 = build().eval().cuda().half().to(memory_format=torch.channels_last)
        for batch in args.batches:
            x32 = torch.randn(batch, 3, size, size, device="cuda")
            x16 = x32.half().to(memory_format=torch.channels_last)
            report("torchvision eager fp32 (TF32)", batch, cuda_time_ms(fp32, x32, args.warmup, args.iterations))
            report("torchvision eager fp16 channels_last", batch, cuda_time_ms(fp16, x16, args.warmup, args.iterations))
            report("CUDA graph eager fp16 channels_last", batch,
                   cuda_time_ms(cuda_graph(fp16, x16), x16, args.warmup, args.iterations))
    if args.compile:
        modes = args.compile_modes.split(",") if args.compile_modes else \
            ["reduce-overhead"] + (["max-autotune"] if args.max_autotune else [])
        for mode in modes:
            for batch in args.compile_batches:
                torch._dynamo.reset()
                compiled = torch.compile(build().eval().cuda().half().to(memory_format=torch.channels_last), mode=mode)
                x16 = torch.randn(batch, 3, size, size, device="cuda").half().to(memory_format=torch.channels_last)
                t0 = time.time()
                with torch.no_grad():
                    compiled(x16)
                    compiled(x16)
                    print(f"# torch.compile {mode} batch {batch}: compiled in {time.time() - t0:.0f} s", flush=True)
                    report(f"torch.compile {mode} fp16 channels_last", batch,
                           cuda_time_ms(compiled, x16, args.warmup, args.iterations))


def profile_cpu(optimized, args):
    """Where optimize_for_inference spends batch-1 time, by operator (the engine's CPU layout choice rests on it)."""
    x = torch.randn(1, 3, args.size, args.size)
    with torch.no_grad():
        for _ in range(args.warmup):
            optimized(x)
        with torch.autograd.profiler.profile() as prof:
            for _ in range(args.iterations):
                optimized(x)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    layout = sum(e.self_cpu_time_total for e in events if e.key in ("aten::_to_dense", "aten::to_dense", "aten::to_mkldnn"))
    print(events.table(sort_by="self_cpu_time_total", row_limit=8))
    print(f"# layout conversions (to_dense/to_mkldnn): {100 * layout / total:.1f}% of self CPU time")


def cpu(args):
    torch.set_num_threads(args.threads)
    print(f"# CPU: torch {torch.__version__}, threads {torch.get_num_threads()}")
    model = getattr(torchvision.models, args.model)().eval()
    optimized = torch.jit.optimize_for_inference(torch.jit.script(model))
    if args.profile:
        profile_cpu(optimized, args)
        return
    with torch.no_grad():
        for batch in args.batches:
            x = torch.randn(batch, 3, args.size, args.size)
            report("torchvision eager fp32", batch, cpu_time_ms(model, x, args.warmup, args.iterations))
            report("TorchScript optimize_for_inference", batch, cpu_time_ms(optimized, x, args.warmup, args.iterations))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--model", default="efficientnet_b0")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batches", default="1,256")
    parser.add_argument("--compile-batches", default="1,256")
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-compile", dest="compile", action="store_false")
    parser.add_argument("--max-autotune", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="CPU: profile optimize_for_inference at batch 1 by operator instead of timing")
    parser.add_argument("--profile-trace", metavar="DIR",
                        help="GPU: time and trace eager fp16 channels_last per batch into DIR, nothing else")
    parser.add_argument("--compile-modes", help="comma-separated torch.compile modes instead of the default set")
    parser.add_argument("--save-scripted", metavar="FILE",
                        help="only save torch.jit.script of the torchvision model (eval) for efficientnet-bench "
                             "--paired-anchor, which applies optimize_for_inference itself, and exit")
    args = parser.parse_args()
    if args.save_scripted:
        torch.jit.script(getattr(torchvision.models, args.model)().eval()).save(args.save_scripted)
        return
    args.batches = [int(b) for b in args.batches.split(",")]
    args.compile_batches = [int(b) for b in args.compile_batches.split(",")]
    if args.device == "cpu":
        cpu(args)
    elif args.profile_trace:
        gpu_profile(args)
    else:
        gpu(args)


if __name__ == "__main__":
    main()
