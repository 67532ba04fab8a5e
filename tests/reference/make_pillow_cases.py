#!/usr/bin/python3
"""Preprocessing cases for test_imaging: images and what torchvision's eval transform on PIL makes of them.

The core's preprocessing reproduces Pillow's resampling byte for byte (core/src/imaging/pillow_resize.cpp); these
cases prove it against the reference itself. Each case is an RGB image (a sample photo as PIL decodes it, with its
EXIF orientation applied, or seeded noise of an awkward size) and a transform (resize, crop, interpolation, mode);
the expected output is torchvision's Resize + CenterCrop + ToTensor + Normalize on the PIL image, float32 [3, crop,
crop]. Writes OUT/cases.json, OUT/<case>.rgb (height x width x 3 bytes) and OUT/<case>.f32.

Run with the reference Python (Debian's /usr/bin/python3 with python3-torchvision); tests/CMakeLists.txt does, as
the `pillow_cases` fixture.
"""
import argparse
import glob
import json
import os
import sys

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
# (name, interpolation, resize, crop, mode): torchvision b0 and b3, a bilinear V2, timm's "squash", an odd crop.
TRANSFORMS = [
    ("b0_bicubic_256_224", "bicubic", 256, 224, "shorter"),
    ("b3_bicubic_320_300", "bicubic", 320, 300, "shorter"),
    ("v2_bilinear_384_384", "bilinear", 384, 384, "shorter"),
    ("squash_bicubic_288_288", "bicubic", 288, 288, "squash"),
    ("odd_bilinear_233_201", "bilinear", 233, 201, "shorter"),
]
# Noise images: (width, height). Smaller than the resize (upscaling), one side already the resize (one pass),
# extreme aspect ratios, a single pixel.
NOISE_SIZES = [(1, 1), (3, 2), (500, 5), (7, 640), (257, 193), (341, 256), (224, 224), (1283, 961)]


def write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--photos", required=True, help="folder of sample photos (JPEG)")
    args = ap.parse_args(argv)
    import numpy as np
    import torch
    import torchvision
    from PIL import Image, ImageOps
    import torchvision.transforms as T

    os.makedirs(args.out, exist_ok=True)
    images = []
    for path in sorted(glob.glob(os.path.join(args.photos, "*.jpg"))):
        img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        images.append(("photo_" + os.path.splitext(os.path.basename(path))[0], img))
    if not images:
        sys.exit("make_pillow_cases.py: no .jpg photos in %s" % args.photos)
    rng = np.random.default_rng(20261201)
    for width, height in NOISE_SIZES:
        noise = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        # Smooth areas next to noise: both sides of the filters' negative lobes are exercised.
        noise[: height // 2, : width // 2] = 200
        images.append(("noise_%dx%d" % (width, height), Image.fromarray(noise, "RGB")))

    cases = []
    for image_name, img in images:
        rgb_file = image_name + ".rgb"
        write(os.path.join(args.out, rgb_file), np.asarray(img, dtype=np.uint8).tobytes())
        for name, interpolation, resize, crop, mode in TRANSFORMS:
            mode_enum = {"bicubic": T.InterpolationMode.BICUBIC, "bilinear": T.InterpolationMode.BILINEAR}[interpolation]
            size = resize if mode == "shorter" else (resize, resize)
            transform = T.Compose([T.Resize(size, interpolation=mode_enum), T.CenterCrop(crop), T.ToTensor(),
                                   T.Normalize(MEAN, STD)])
            x = transform(img).to(torch.float32).contiguous()
            if list(x.shape) != [3, crop, crop]:
                sys.exit("make_pillow_cases.py: %s %s gave %s" % (image_name, name, list(x.shape)))
            case = "%s.%s" % (image_name, name)
            write(os.path.join(args.out, case + ".f32"), x.numpy().astype("<f4").tobytes())
            cases.append({"case": case, "image": rgb_file, "width": img.width, "height": img.height,
                          "interpolation": interpolation, "resize": resize, "crop": crop, "mode": mode,
                          "mean": MEAN, "std": STD, "expected": case + ".f32"})
    write(os.path.join(args.out, "cases.json"),
          json.dumps({"torchvision": torchvision.__version__, "pillow": Image.__version__, "cases": cases},
                     indent=1).encode())
    print("make_pillow_cases.py: %d cases (%d images x %d transforms), torchvision %s, Pillow %s, in %s"
          % (len(cases), len(images), len(TRANSFORMS), torchvision.__version__, Image.__version__, args.out))


if __name__ == "__main__":
    main(sys.argv[1:])
