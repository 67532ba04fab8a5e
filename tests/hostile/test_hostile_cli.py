#!/usr/bin/env python3
"""The console tool on each hostile file (make_hostile.py): it exits with its documented status (1: the weights
cannot be loaded; 2: some inputs failed), names the file and the problem on stderr, writes no raw control character
to the terminal, finishes in seconds, and its peak memory (ru_maxrss of the child, from wait4) stays within a small
margin of an ordinary run's. Before the fixes of issue 9 these files crashed it (SIGSEGV) or took gigabytes.

Usage: test_hostile_cli.py --cli build/app/cli/efficientnet-cli --hostile DIR --photo resources/samples/cat.jpg
Prints one line per file: exit status, peak RSS, seconds.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 60
MARGIN_KB = 64 * 1024          # the readers' own structures and error paths
RATIO = 1.25                   # run-to-run variation of the baseline


def run(cmd, env):
    """(exit status or -signal, stdout, stderr, peak RSS in KiB, seconds)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        deadline = start + TIMEOUT_S
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = 0     # reaped by wait4; keep Popen from waiting again
        seconds = time.monotonic() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return code, out.read(), err.read(), usage.ru_maxrss, seconds


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", required=True)
    parser.add_argument("--hostile", required=True)
    parser.add_argument("--photo", required=True)
    args = parser.parse_args(argv)
    env = dict(os.environ, EFFICIENTNET_CACHE_DIR=tempfile.mkdtemp(prefix="hostile-cache-"))
    classify = [args.cli, "classify", "--no-progress", "--threads", "1"]

    code, _, err, baseline_kb, seconds = run(classify + ["--random-weights", args.photo], env)
    if code != 0:
        sys.exit("baseline run failed (%d): %s" % (code, err.decode(errors="replace")))
    limit_kb = int(baseline_kb * RATIO) + MARGIN_KB
    print("baseline (random weights, one photo): peak %.0f MB, %.1f s; limit %.0f MB"
          % (baseline_kb / 1024, seconds, limit_kb / 1024))

    has_download = b"unknown command" not in subprocess.run([args.cli, "download"], capture_output=True).stderr
    failures = []
    for name in sorted(os.listdir(args.hostile)):
        path = os.path.join(args.hostile, name)
        if name.endswith((".pth", ".safetensors")):
            cmd, expected = classify + ["--model", "efficientnet_b0", "--weights", path, args.photo], 1
        elif name.endswith(".json"):
            if not has_download:
                print("%-34s skipped: this build has no download command (no libcurl)" % name)
                continue
            cmd, expected = [args.cli, "download", "efficientnet_b0", "--registry", path], 1
        else:
            cmd, expected = classify + ["--random-weights", path], 2
        code, out, err, peak_kb, seconds = run(cmd, env)
        print("%-34s exit %3d  peak %5.0f MB  %5.2f s" % (name, code, peak_kb / 1024, seconds))
        problems = []
        if code != expected:
            problems.append("exit status %d, expected %d" % (code, expected))
        if name.encode() not in err and name.encode() not in out:
            problems.append("the file is not named")
        if any(b < 0x20 and b not in b"\n\r" for b in err + out):
            problems.append("raw control characters reached the terminal")
        if peak_kb > limit_kb:
            problems.append("peak memory %.0f MB over the limit %.0f MB" % (peak_kb / 1024, limit_kb / 1024))
        if problems:
            failures.append("%s: %s\n  stderr: %s" % (name, "; ".join(problems), err.decode(errors="replace")[:500]))
    if failures:
        sys.exit("FAILED:\n" + "\n".join(failures))


if __name__ == "__main__":
    main(sys.argv[1:])
