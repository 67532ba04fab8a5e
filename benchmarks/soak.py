#!/usr/bin/env python3
"""Memory soaks (issue 9): the process's resident memory sampled while it works for a long time.

  soak.py cli  --cli build/app/cli/efficientnet-cli --weights W.pth --count 10000 [--distinct 500]
      classifies COUNT photos (DISTINCT photo-like JPEGs made by make_photos.py, hard-linked to COUNT names) in one
      `classify` run, RSS sampled every second.
  soak.py live --demo build/app/desktop/efficientnet-demo --weights W.pth --video V.avi [--minutes 30] [--every 10]
      live mode on a looping video, offscreen, RSS sampled every EVERY seconds.

Both print the samples' summary: RSS at 10/25/50/75/100 % of the run, at the end of the warm-up (the first 10% of
the run, at least 60 s for live mode), the largest and the last, then PASS when memory does not grow after the
warm-up: the largest RSS of the last third of the post-warm-up samples is at most 5% above the largest of the first
third, and the least-squares trend of the post-warm-up samples is under 5% of the warm-up level per hour. Peaks, not
single samples, are compared because what a run needs at a moment varies with its input (the CLI's decode window
holds photos of different sizes: the same run's RSS moves by +-20% around a flat level); a leak makes later peaks
higher and the trend positive.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

GROWTH_LIMIT = 0.05


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def sample(proc, every, until=None):
    samples = []
    start = time.monotonic()
    while proc.poll() is None and (until is None or time.monotonic() - start < until):
        try:
            samples.append((time.monotonic() - start, rss_mb(proc.pid)))
        except FileNotFoundError:
            break
        time.sleep(every)
    return samples


def summarise(samples, warmup_s):
    after = [(t, m) for t, m in samples if t >= warmup_s]
    if len(after) < 6:
        sys.exit("too few samples after the warm-up (%d)" % len(after))
    base = after[0][1]
    n = len(after)
    mean_t = sum(t for t, _ in after) / n
    mean_m = sum(m for _, m in after) / n
    slope = sum((t - mean_t) * (m - mean_m) for t, m in after) / max(1e-9, sum((t - mean_t) ** 2 for t, _ in after))
    first_peak = max(m for _, m in after[:n // 3])
    last_peak = max(m for _, m in after[-(n // 3):])
    growth = (last_peak - first_peak) / first_peak
    per_hour = slope * 3600
    print("samples %d over %.0f s; warm-up %.0f s" % (len(samples), samples[-1][0], warmup_s))
    # The shape, not only the extremes: a leak climbs to the end, an allocator plateau or a varying input does not.
    marks = [samples[min(len(samples) - 1, int(f * len(samples)))] for f in (0.1, 0.25, 0.5, 0.75, 1.0)]
    print("RSS at " + ", ".join("%.0f s %.1f MB" % (t, m) for t, m in marks))
    print("RSS after warm-up %.1f MB, largest %.1f MB, last %.1f MB; largest of the first third %.1f MB, of the last "
          "third %.1f MB: growth %+.2f%%; trend %+.2f MB/h (%+.2f%%/h)"
          % (base, max(m for _, m in after), after[-1][1], first_peak, last_peak, 100 * growth, per_hour,
             100 * per_hour / base))
    ok = growth < GROWTH_LIMIT and per_hour / base < GROWTH_LIMIT
    print("PASS" if ok else "FAIL")
    return ok


def soak_cli(args):
    work = tempfile.mkdtemp(prefix="soak-cli-")
    try:
        distinct = os.path.join(work, "distinct")
        subprocess.run(["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "make_photos.py"),
                        "--samples", args.samples, "--out", distinct, "--count", str(args.distinct)], check=True)
        photos = os.path.join(work, "photos")
        os.makedirs(photos)
        names = sorted(os.listdir(distinct))
        for i in range(args.count):
            os.link(os.path.join(distinct, names[i % len(names)]), os.path.join(photos, "%05d.jpg" % i))
        cmd = [args.cli, "classify", "--model", "efficientnet_b0", "--weights", args.weights, "--no-progress",
               "--csv", os.path.join(work, "out.csv"), photos]
        print("$ " + " ".join(cmd[:-2]) + " <%d photos>" % args.count)
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        samples = sample(proc, 1.0)
        proc.wait()
        took = time.monotonic() - start
        print("%d photos in %.0f s (%.1f img/s), exit %d" % (args.count, took, args.count / took, proc.returncode))
        with open(os.path.join(work, "out.csv")) as f:
            rows = sum(1 for _ in f) - 1
        if proc.returncode != 0 or rows != args.count * 5:
            sys.exit("the run did not classify every photo (%d CSV rows)" % rows)
        return summarise(samples, took * 0.1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def soak_live(args):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    settings = tempfile.NamedTemporaryFile(suffix=".ini", delete=False).name
    cmd = [args.demo, "--model", "efficientnet_b0", "--weights", args.weights, "--device", "cpu",
           "--settings", settings, "--camera", args.video, "--loop"]
    print("$ QT_QPA_PLATFORM=offscreen " + " ".join(cmd))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        samples = sample(proc, args.every, until=args.minutes * 60)
        if proc.poll() is not None:
            sys.exit("efficientnet-demo exited early (%d)" % proc.returncode)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        os.unlink(settings)
    return summarise(samples, max(60.0, args.minutes * 60 * 0.1))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    cli = sub.add_parser("cli")
    cli.add_argument("--cli", required=True)
    cli.add_argument("--weights", required=True)
    cli.add_argument("--samples", default=os.path.join(os.path.dirname(__file__), "..", "resources", "samples"))
    cli.add_argument("--count", type=int, default=10000)
    cli.add_argument("--distinct", type=int, default=500)
    live = sub.add_parser("live")
    live.add_argument("--demo", required=True)
    live.add_argument("--weights", required=True)
    live.add_argument("--video", required=True)
    live.add_argument("--minutes", type=float, default=30)
    live.add_argument("--every", type=float, default=10)
    args = parser.parse_args(argv)
    ok = soak_cli(args) if args.mode == "cli" else soak_live(args)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
