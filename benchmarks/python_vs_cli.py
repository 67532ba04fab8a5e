#!/usr/bin/env python3
"""efficientnet_libtorch.Classifier against `efficientnet-cli classify` on the same photos, same machine, same run.

Wall times, median of --repeat runs each, interleaved (cli, python, cli, python, ...) so that a load change on a
shared machine hits both:
- cli: the whole `efficientnet-cli classify --json` process: start, model load, decode, classify, print;
- python load+classify: `Classifier(...)` + `classify(photos)` in this process (torch already imported);
- python classify: `classify(photos)` on a loaded Classifier, what a long-running Python program pays per call;
and the predictions of both, which must agree. Run with the package importable (installed, or PYTHONPATH=<build>/
python-package), e.g.

    PYTHONPATH=build/python-package /usr/bin/python3 benchmarks/python_vs_cli.py --cli build/app/cli/efficientnet-cli \\
        --weights build/tests/reference/e2e_b0.pth
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

import efficientnet_libtorch as enl

REPOSITORY = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli", required=True, help="the efficientnet-cli executable")
    parser.add_argument("--weights", required=True, help="a B0 checkpoint")
    parser.add_argument("--model", default="efficientnet_b0")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("photos", nargs="*", help="default: resources/samples/*.jpg")
    args = parser.parse_args()
    photos = args.photos or sorted(glob.glob(os.path.join(REPOSITORY, "resources", "samples", "*.jpg")))
    command = [args.cli, "classify", "--model", args.model, "--weights", args.weights, "--device", args.device,
               "--json", "--no-progress"] + photos

    cli_times, load_times, classify_times = [], [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        cli_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        classifier = enl.Classifier(args.model, args.weights, device=args.device)
        result = classifier.classify(photos)
        load_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        classifier.classify(photos)
        classify_times.append(time.perf_counter() - start)

    cli_top1 = [r["predictions"][0]["index"] for r in json.loads(done.stdout)["results"]]
    python_top1 = [p[0].index for p in result.predictions]
    print("photos: %d (%s); device %s; torch threads %d; %d runs each, medians"
          % (len(photos), ", ".join(os.path.basename(p) for p in photos), classifier.device,
             __import__("torch").get_num_threads(), args.repeat))
    cli, load, classify = (statistics.median(t) for t in (cli_times, load_times, classify_times))
    print("cli process              %8.3f s" % cli)
    print("python load+classify     %8.3f s  (%.2fx the cli's wall time)" % (load, load / cli))
    print("python classify          %8.3f s  (%.2fx the cli's wall time)" % (classify, classify / cli))
    print("top-1 agree: %s" % (cli_top1 == python_top1))
    return 0 if cli_top1 == python_top1 else 1


if __name__ == "__main__":
    sys.exit(main())
