#!/usr/bin/env python3
"""Makes N photo-like JPEGs for the folder benchmark from the bundled sample photos (random crops, scales and
flips, 400-1000 px on the long side unless told otherwise), so that the benchmark needs no download. Deterministic."""
import argparse
import pathlib
import random

from PIL import Image, ImageOps


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0, help="another seed gives other photos (for parallel runs)")
    parser.add_argument("--prefix", default="photo", help="file names are PREFIX_NNNN.jpg")
    parser.add_argument("--long-side", default="400,1000",
                        help="range of the long side in pixels, MIN,MAX (camera-like: 1280,1920)")
    parser.add_argument("--size", help="every photo exactly WxH (one camera's folder), instead of --long-side")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    low, high = (int(v) for v in args.long_side.split(","))
    sources = [Image.open(p).convert("RGB") for p in sorted(pathlib.Path(args.samples).glob("*.jpg"))]
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        image = rng.choice(sources)
        w, h = image.size
        cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        crop = image.crop((x, y, x + cw, y + ch))
        scale = rng.uniform(low, high) / max(cw, ch)
        size = (max(1, int(cw * scale)), max(1, int(ch * scale)))
        if args.size:
            size = tuple(int(v) for v in args.size.split("x"))
        crop = crop.resize(size, Image.BICUBIC)
        if rng.random() < 0.5:
            crop = ImageOps.mirror(crop)
        crop.save(out / f"{args.prefix}_{i:04d}.jpg", quality=90)


if __name__ == "__main__":
    main()
