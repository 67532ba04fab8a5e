#!/usr/bin/env python3
"""What LibTorch keeps per CUDA stream (issue 16's memory over model switches): a Linear layer run once on each of 36
new streams, device memory in use (cudaMemGetInfo) and LibTorch's reserved bytes every 6 streams, then after
empty_cache() and after clearing cuBLAS's workspaces. On the H200: +34 MiB per new stream, kept by empty_cache()."""
import torch


def mib():
    free, total = torch.cuda.mem_get_info()
    return f"in use {(total - free) >> 20} MiB, reserved {torch.cuda.memory_reserved() >> 20} MiB"


def main():
    linear = torch.nn.Linear(1280, 1000).cuda().half()
    x = torch.randn(8, 1280, device="cuda", dtype=torch.half)
    torch.cuda.synchronize()
    print("start:", mib())
    for i in range(36):
        stream = torch.cuda.Stream()   # from LibTorch's pool of 32, in turn
        with torch.cuda.stream(stream):
            linear(x)
        torch.cuda.synchronize()
        if i % 6 == 5:
            print(f"{i + 1} streams:", mib())
    torch.cuda.empty_cache()
    print("after empty_cache:", mib())
    torch._C._cuda_clearCublasWorkspaces()
    torch.cuda.empty_cache()
    print("after clearing cuBLAS workspaces:", mib())


if __name__ == "__main__":
    main()
