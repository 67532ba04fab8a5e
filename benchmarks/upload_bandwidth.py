"""Where the frames path's upload time goes, on the GPU machine: host memory copies into pinned memory at several
thread counts, and pinned host-to-device copies, for one batch of 256 camera frames (whole 640x480 frames, and
the window the 224 crop of the 256 resize reads, 57 % of them). Prints GB/s per configuration.
    python3 benchmarks/upload_bandwidth.py
"""
import time

import torch


def best_ms(fn, repeats=10):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return min(times)


def main():
    frame = 640 * 480 * 3
    for label, size in (("whole frames", 256 * frame), ("crop windows", int(256 * frame * 0.57))):
        pageable = torch.randint(0, 256, (size,), dtype=torch.uint8)
        pinned = torch.empty(size, dtype=torch.uint8, pin_memory=True)
        device = torch.empty(size, dtype=torch.uint8, device="cuda")
        for threads in (1, 4, 8, 16):
            torch.set_num_threads(threads)
            ms = best_ms(lambda: pinned.copy_(pageable))
            print(f"{label}: host copy into pinned, {threads:2d} threads: {ms:6.2f} ms, {size / ms / 1e6:6.1f} GB/s")

        def h2d():
            device.copy_(pinned, non_blocking=True)
            torch.cuda.synchronize()

        ms = best_ms(h2d)
        print(f"{label}: pinned -> device: {ms:6.2f} ms, {size / ms / 1e6:6.1f} GB/s")

        def pageable_h2d():
            device.copy_(pageable)
            torch.cuda.synchronize()

        ms = best_ms(pageable_h2d)
        print(f"{label}: pageable -> device: {ms:6.2f} ms, {size / ms / 1e6:6.1f} GB/s")


if __name__ == "__main__":
    main()
