#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, written in the build (nothing generated is committed): small valid inputs of
each format, so that mutations start from files the readers accept and reach their deeper checks.

Usage: make_seeds.py --out DIR --resources resources/
Writes DIR/<target>/<seed> for the targets unpickler, torch_zip, torch_legacy, safetensors, image, registry, labels,
hub_config.
JPEG and WebP seeds need Pillow (Debian's python3-pil); without it those two formats are left out, saying so.
"""
import argparse
import collections
import os
import shutil
import struct
import sys
import zipfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from torch_files import Storage, Tensor, dumps, legacy_checkpoint, safetensors, zip_checkpoint  # noqa: E402


def state_dicts():
    """A few tiny state_dicts in the shapes real ones take: weights and biases, a BatchNorm's buffers, a view."""
    conv = Storage("0", "FloatStorage", 12, struct.pack("<12f", *range(12)))
    bias = Storage("1", "FloatStorage", 3, struct.pack("<3f", 0.5, -0.5, 1.0))
    steps = Storage("2", "LongStorage", 1, struct.pack("<q", 7))
    half = Storage("3", "HalfStorage", 4, struct.pack("<4e", 1.0, 2.0, -1.0, 0.25))
    plain = collections.OrderedDict([
        ("features.0.0.weight", Tensor(conv, [3, 1, 2, 2], [4, 4, 2, 1])),
        ("features.0.1.bias", Tensor(bias, [3], [1])),
        ("features.0.1.num_batches_tracked", Tensor(steps, [], [])),
    ])
    view = collections.OrderedDict([("a", Tensor(conv, [2, 3], [3, 1], offset=6)), ("b", Tensor(half, [4], [1]))])
    nested = {"epoch": 3, "state_dict": plain, "arch": "efficientnet_b0"}
    return {"plain": plain, "view": view, "nested": nested}


def unpickler_seeds(out):
    for name, obj in state_dicts().items():
        write(out, "unpickler", name + ".pkl", dumps(obj, legacy=False)[0])
        write(out, "unpickler", name + "_legacy.pkl", dumps(obj, legacy=True)[0])


def torch_seeds(out):
    for name, obj in state_dicts().items():
        write(out, "torch_zip", name + ".pth", zip_checkpoint(obj))
        write(out, "torch_legacy", name + ".pth", legacy_checkpoint(obj))
    deflated = {"archive/data.pkl": zipfile.ZIP_DEFLATED, "archive/data/0": zipfile.ZIP_DEFLATED}
    write(out, "torch_zip", "deflated.pth", zip_checkpoint(state_dicts()["plain"], compress=deflated))


def safetensors_seeds(out):
    data = struct.pack("<6f", *range(6)) + struct.pack("<2e", 1.0, -2.0) + struct.pack("<q", 5)
    header = ('{"__metadata__":{"format":"pt","variant":"efficientnet_b0"},'
              '"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},'
              '"b":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},'
              '"c":{"dtype":"I64","shape":[],"data_offsets":[28,36]}}')
    write(out, "safetensors", "three.safetensors", safetensors(header, data))
    write(out, "safetensors", "empty.safetensors", safetensors("{}"))


def image_seeds(out, resources):
    width, height = 5, 3
    rgb = bytes((x * 40 + y * 7 + c * 90) % 256 for y in range(height) for x in range(width) for c in range(3))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    write(out, "image", "tiny.png", png)
    stride = (width * 3 + 3) & ~3
    bgr_rows = b"".join(bytes(rgb[(y * width + x) * 3 + 2 - c] for x in range(width) for c in range(3)).ljust(stride, b"\0")
                        for y in reversed(range(height)))
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(bgr_rows), 2835, 2835, 0, 0)
    write(out, "image", "tiny.bmp", b"BM" + struct.pack("<IHHI", 54 + len(bgr_rows), 0, 0, 54) + info + bgr_rows)
    write(out, "image", "tiny.ppm", b"P6\n%d %d\n255\n" % (width, height) + rgb)
    write(out, "image", "tiny.pgm", b"P5\n# grey\n%d %d\n255\n" % (width, height) + rgb[::3])
    entries = [(256, 3, 1, width), (257, 3, 1, height), (258, 3, 3, 0), (259, 3, 1, 1), (262, 3, 1, 2),
               (273, 4, 1, 0), (277, 3, 1, 3), (278, 3, 1, height), (279, 4, 1, len(rgb))]
    ifd_size = 2 + 12 * len(entries) + 4
    bits_at, data_at = 8 + ifd_size, 8 + ifd_size + 6
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        value = bits_at if tag == 258 else data_at if tag == 273 else value
        ifd += struct.pack("<HHI", tag, kind, count) + (struct.pack("<HH", value, 0) if kind == 3 and tag != 258
                                                          else struct.pack("<I", value))
    write(out, "image", "tiny.tif", b"II*\0" + struct.pack("<I", 8) + ifd + b"\0" * 4 + struct.pack("<3H", 8, 8, 8) + rgb)
    try:
        from PIL import Image
    except ImportError:
        print("make_seeds.py: no Pillow: the image corpus has no JPEG or WebP seed", file=sys.stderr)
        return
    import io
    picture = Image.frombytes("RGB", (width, height), rgb).resize((24, 16))
    for fmt, ext in (("JPEG", "jpg"), ("WEBP", "webp")):
        buf = io.BytesIO()
        picture.save(buf, fmt)
        write(out, "image", "tiny." + ext, buf.getvalue())
    buf = io.BytesIO()
    picture.save(buf, "JPEG", progressive=True, exif=_orientation_exif(6))
    write(out, "image", "rotated_progressive.jpg", buf.getvalue())


def _orientation_exif(value):
    """A minimal EXIF block (TIFF little-endian, one IFD entry: Orientation)."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, value, 0) + b"\0" * 4
    return b"II*\0" + struct.pack("<I", 8) + ifd


def registry_seeds(out, resources):
    shutil.copyfile(os.path.join(resources, "weights_registry.json"), target(out, "registry", "project.json"))
    write(out, "registry", "minimal.json", (
        b'{"format":"efficientnet-weights-registry","version":1,"variants":{"efficientnet_b0":[{"source":"torchvision",'
        b'"model":"efficientnet_b0","url":"https://example.org/efficientnet_b0-7f5810bc.pth",'
        b'"file":"efficientnet_b0-7f5810bc.pth","sha256":"7f5810bc","sha256_prefix":true}]}}'))


def labels_seeds(out, resources):
    shutil.copyfile(os.path.join(resources, "imagenet_classes.txt"), target(out, "labels", "imagenet.txt"))
    write(out, "labels", "list.json", b'["cat", "dog", "caf\xc3\xa9"]')
    write(out, "labels", "index.json", b'{"0": "cat", "1": "dog"}')
    write(out, "labels", "id2label.json", b'{"id2label": {"0": "cat", "1": "dog"}, "label2id": {"cat": 0}}')
    write(out, "labels", "crlf.txt", b"\xef\xbb\xbfcat\r\ndog\r\n\r\n")


def hub_config_seeds(out):
    # timm push_to_hf_hub's config.json (timm/models/_hub.py), and the transform JSON convert writes.
    write(out, "hub_config", "timm.json", (
        b'{"architecture": "tf_efficientnet_b0", "num_classes": 5, "num_features": 1280, "global_pool": "avg", '
        b'"pretrained_cfg": {"tag": "ap_in1k", "custom_load": false, "input_size": [3, 224, 224], '
        b'"test_input_size": [3, 256, 256], "fixed_input_size": false, "interpolation": "bicubic", "crop_pct": 0.875, '
        b'"test_crop_pct": 1.0, "crop_mode": "center", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], '
        b'"num_classes": 5, "pool_size": [7, 7], "first_conv": "conv_stem", "classifier": "classifier"}, '
        b'"label_names": ["a", "b", "c", "d", "e"]}'))
    write(out, "hub_config", "squash.json", (
        b'{"architecture": "tf_efficientnetv2_m", "pretrained_cfg": {"input_size": [3, 384, 384], '
        b'"test_input_size": [3, 480, 480], "crop_pct": 1.0, "crop_mode": "squash", "interpolation": "bilinear"}}'))
    write(out, "hub_config", "transform.json", (
        b'{"resize": 256, "crop": 224, "interpolation": "bicubic", "resize_mode": "shorter", '
        b'"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}'))


def target(out, corpus, name):
    folder = os.path.join(out, corpus)
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, name)


def write(out, corpus, name, data):
    with open(target(out, corpus, name), "wb") as f:
        f.write(data)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--resources", required=True)
    args = parser.parse_args(argv)
    unpickler_seeds(args.out)
    torch_seeds(args.out)
    safetensors_seeds(args.out)
    image_seeds(args.out, args.resources)
    registry_seeds(args.out, args.resources)
    labels_seeds(args.out, args.resources)
    hub_config_seeds(args.out)
    counts = {d: len(os.listdir(os.path.join(args.out, d))) for d in sorted(os.listdir(args.out))}
    print("make_seeds.py: " + ", ".join("%s %d" % item for item in counts.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
