#!/usr/bin/env python3
"""How fast this machine decodes the folder benchmark's photos on the CPU, with 1, 4 and every core (issue 16,
point 3: every folder contender ran near one core's decoding rate on the GPU machine). Each worker process opens,
decodes and resizes to the reference's 256 px (PIL, as the DataLoader script does) its share of the files; prints
photos/s per worker count, and the CPU limits the machine sets (cgroup quota, affinity)."""
import multiprocessing
import os
import pathlib
import sys
import time

from PIL import Image


def decode(files):
    for f in files:
        with Image.open(f) as image:
            image = image.convert("RGB")
            w, h = image.size
            scale = 256 / min(w, h)
            image.resize((round(w * scale), round(h * scale)), Image.BICUBIC)
    return len(files)


def main():
    files = sorted(pathlib.Path(sys.argv[1]).glob("*.jpg"))
    quota = pathlib.Path("/sys/fs/cgroup/cpu.max")
    print(f"{len(files)} photos; os.cpu_count {os.cpu_count()}, affinity {len(os.sched_getaffinity(0))} cores, "
          f"cgroup cpu.max: {quota.read_text().strip() if quota.exists() else 'none'}")
    for workers in sorted({1, 4, os.cpu_count()}):
        share = files[: max(workers * 20, min(len(files), workers * 60))]
        chunks = [share[i::workers] for i in range(workers)]
        start = time.perf_counter()
        with multiprocessing.Pool(workers) as pool:
            done = sum(pool.map(decode, chunks))
        seconds = time.perf_counter() - start
        print(f"{workers:3d} processes: {done} photos in {seconds:.2f} s = {done / seconds:.0f} photos/s")


if __name__ == "__main__":
    main()
