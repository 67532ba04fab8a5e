#!/usr/bin/env python3
"""Writers interrupted: the product's files are whole or absent under their final names, never half-written.

1. SIGKILL at random moments while each writer works: `convert` (safetensors), `classify --csv` and `--json-file`,
   `download` (into the weights cache) and the desktop app's settings (`efficientnet-demo --settings`). Half of the
   kills land at a uniformly random time of the whole run, half at a random time after the writer's first file
   appears in its folder (so that the writing itself is hit, not only start-up). After each kill the final name
   holds the previous complete file or a new complete one, which the check parses in full.
2. A short write: the file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored, so write() fails with EFBIG as it would
   with ENOSPC on a full disk) cut below the file's size. The tool exits with an error that names the file and the
   problem, and leaves nothing under the final name.

Usage: test_interrupted_writes.py --cli CLI [--demo DEMO] --server tests/support/weights_server.py
                                  --checkpoint b0.pth --photos resources/samples [--iterations N] [--seed S]
Prints, per writer, how many kills landed while its files were being written.
"""
import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

POLL_S = 0.001


def run_killed(cmd, folder, delay, after_first_file, env):
    """Runs cmd, kills it (SIGKILL) `delay` s after it starts or after a new file first appears in `folder`
    (delay None: never). Returns (killed, during_write, write_window): whether it was still running, whether a file
    had appeared by then, and how long the run lasted after the first file appeared (None if none did)."""
    before = set(os.listdir(folder))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    start = time.monotonic()
    appeared = None
    while proc.poll() is None:
        now = time.monotonic()
        if appeared is None and set(os.listdir(folder)) - before:
            appeared = now
        anchor = appeared if after_first_file else start
        if delay is not None and anchor is not None and now - anchor >= delay:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True, appeared is not None, None
        time.sleep(POLL_S)
    return False, appeared is not None, time.monotonic() - appeared if appeared is not None else None


def check_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    assert 8 + length + end == len(data), "data section is %d bytes, header says %d" % (len(data) - 8 - length, end)


def check_csv(path, expected_rows):
    with open(path) as f:
        lines = f.read().splitlines()
    assert lines[0] == "path,rank,index,label,probability,error", lines[0]
    assert len(lines) - 1 == expected_rows, "%d rows, expected %d" % (len(lines) - 1, expected_rows)


def check_json(path, expected_results):
    with open(path) as f:
        doc = json.load(f)
    assert len(doc["results"]) == expected_results, "%d results" % len(doc["results"])


def check_sha(path, digest):
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest, "hash mismatch"


def check_settings(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text.startswith("[") and text.endswith("\n"), "not a whole INI file: %r" % text[-40:]


class Writer:
    def __init__(self, name, cmd, final, check, folder):
        self.name, self.cmd, self.final, self.check, self.folder = name, cmd, final, check, folder


def kill_many(writer, iterations, rng, env, failures):
    during = 0
    for i in range(iterations):
        after_first_file = i % 2 == 1
        delay = rng.uniform(0, writer.window) if after_first_file else rng.uniform(0, writer.duration)
        killed, hit, _ = run_killed(writer.cmd, writer.folder, delay, after_first_file, env)
        during += killed and hit
        for final in writer.final:
            if not os.path.exists(final):
                continue
            try:
                writer.check(final)
            except Exception as error:   # noqa: BLE001 - any way the file is broken is a failure
                failures.append("%s: after a kill at %.3f s %s is broken: %s"
                                % (writer.name, delay, os.path.basename(final), error))
    print("%-10s %d kills, %d while its files were being written" % (writer.name, iterations, during))


def short_write(name, cmd, final, limit, env, failures, keep_partial=()):
    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    for path in final:
        if os.path.exists(path):
            os.unlink(path)
    proc = subprocess.run(cmd, capture_output=True, env=env, preexec_fn=limited)
    err = proc.stderr.decode(errors="replace")
    problems = []
    if proc.returncode == 0:
        problems.append("exit status 0")
    for path in final:
        if os.path.exists(path):
            problems.append("%s exists after the failed write" % os.path.basename(path))
        if os.path.basename(path) not in err:
            problems.append("the message does not name %s" % os.path.basename(path))
        leftovers = [f for f in os.listdir(os.path.dirname(path))
                     if f.startswith(os.path.basename(path) + ".") and not f.endswith(keep_partial)]
        if leftovers:
            problems.append("left behind: %s" % ", ".join(leftovers))
    if "too large" not in err.lower() and "no space" not in err.lower():
        problems.append("the message does not say what went wrong")
    print("%-10s short write: exit %d: %s" % (name, proc.returncode, err.strip().splitlines()[-1] if err.strip() else ""))
    if problems:
        failures.append("%s short write: %s\n  stderr: %s" % (name, "; ".join(problems), err[-600:]))


def start_server(script, folder):
    proc = subprocess.Popen([sys.executable, script, "--dir", folder, "--log", os.path.join(folder, "requests.log")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        sys.exit("weights server did not start: %r" % line)
    return proc, int(line.split()[1])


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", required=True)
    parser.add_argument("--demo")
    parser.add_argument("--server", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--photos", required=True)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FAULT_SEED", "0")) or None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print("seed %d (rerun with --seed %d)" % (seed, seed))
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="interrupted-writes-")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", EFFICIENTNET_CACHE_DIR=os.path.join(work, "cache"))
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(proxy, None)
    env["no_proxy"] = "*"

    photos = os.path.join(work, "photos")
    os.makedirs(photos)
    samples = sorted(f for f in os.listdir(args.photos) if f.lower().endswith((".jpg", ".png")))
    for copy in range(6):
        for name in samples:
            shutil.copyfile(os.path.join(args.photos, name), os.path.join(photos, "%d_%s" % (copy, name)))
    count = len(os.listdir(photos))
    topk = 5

    out = os.path.join(work, "out")
    os.makedirs(out)
    converted = os.path.join(out, "b0.safetensors")
    csv, js = os.path.join(out, "results.csv"), os.path.join(out, "results.json")
    classify = [args.cli, "classify", "--random-weights", "--no-progress", "--threads", "1", "--topk", str(topk)]
    writers = [
        Writer("convert", [args.cli, "convert", "--from", args.checkpoint, "--to", converted], [converted],
               check_safetensors, out),
        Writer("classify", classify + ["--csv", csv, "--json-file", js, photos], [csv, js],
               lambda p: check_csv(p, count * topk) if p.endswith(".csv") else check_json(p, count), out),
    ]

    served = os.path.join(work, "served")
    os.makedirs(served)
    shutil.copyfile(args.checkpoint, os.path.join(served, "efficientnet_b0-ffffffff.pth"))
    with open(args.checkpoint, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    server, port = start_server(args.server, served)
    registry = os.path.join(work, "registry.json")
    with open(registry, "w") as f:
        json.dump({"format": "efficientnet-weights-registry", "version": 1, "variants": {"efficientnet_b0": [{
            "source": "torchvision", "model": "efficientnet_b0", "file": "efficientnet_b0-ffffffff.pth",
            "url": "http://127.0.0.1:%d/good/efficientnet_b0-ffffffff.pth" % port, "sha256": digest}]}}, f)
    cache = os.path.join(work, "dl-cache")
    os.makedirs(cache)
    downloaded = os.path.join(cache, "efficientnet_b0-ffffffff.pth")
    download = Writer("download", [args.cli, "download", "efficientnet_b0", "--registry", registry, "--cache-dir", cache],
                      [downloaded], lambda p: check_sha(p, digest), cache)
    writers.append(download)
    if args.demo:
        settings_dir = os.path.join(work, "settings")
        os.makedirs(settings_dir)
        settings = os.path.join(settings_dir, "settings.ini")
        writers.append(Writer("settings", [args.demo, "--random-weights", "--settings", settings, "--screenshot",
                                           os.path.join(work, "shot.png"), os.path.join(args.photos, samples[0])],
                              [settings], check_settings, settings_dir))

    failures = []
    try:
        for writer in writers:
            start = time.monotonic()
            _, _, window = run_killed(writer.cmd, writer.folder, None, False, env)
            writer.duration = time.monotonic() - start
            writer.window = window if window else writer.duration
            for final in writer.final:
                writer.check(final)   # a complete file is there: every kill below races against it
            if writer is download:
                os.unlink(downloaded)   # a cached file is not fetched again: start each kill from nothing
            kill_many(writer, args.iterations, rng, env, failures)
            if writer is download:
                subprocess.run(writer.cmd, capture_output=True, env=env, check=True)
                check_sha(downloaded, digest)   # and the interrupted downloads resume into a verified file

        short_write("convert", writers[0].cmd, [converted], 1 << 20, env, failures)
        short_write("csv", classify + ["--csv", csv, photos], [csv], 2048, env, failures)
        short_write("json-file", classify + ["--json-file", js, photos], [js], 2048, env, failures)
        short_write("download", download.cmd, [downloaded], 1 << 20, env, failures, keep_partial=(".part",))
    finally:
        server.stdin.close()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        sys.exit("FAILED (seed %d):\n" % seed + "\n".join(failures))


if __name__ == "__main__":
    main(sys.argv[1:])
