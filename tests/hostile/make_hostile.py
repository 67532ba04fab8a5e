#!/usr/bin/env python3
"""Writes the hostile files the readers are tested against: one or more per class of attack found by fuzzing and
by hand (issue 9), each small and deterministic. Standard library only: the pickles are made by Python's own pickle
module with stand-in `torch` modules (so the bytes are what torch.save would write for such objects), or assembled
opcode by opcode where no real writer could produce them.

Usage: make_hostile.py --out DIR --jpeg resources/samples/cat.jpg
"""
import argparse
import collections
import io
import os
import struct
import sys
import zipfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from torch_files import (ZIP_DATE_TIME, Storage, Tensor, dumps, legacy_checkpoint,  # noqa: E402
                         safetensors, zip_checkpoint, zip_of)

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31m\u202e"   # set the terminal title, clear the screen, red, right-to-left


# ---------------------------------------------------------------------------------------------------------------
# One function per class of finding (issue 9), each returning {file name: bytes}.

def deep_json():
    """1. Nested brackets in a safetensors header: recursion on attacker-controlled depth (dump() in messages)."""
    depth = 100_000
    nested = "[" * depth + "]" * depth
    return {
        "deep_json_shape.safetensors":
            safetensors('{"a":{"dtype":"F32","shape":%s,"data_offsets":[0,0]}}' % nested),
        "deep_json_metadata.safetensors":
            safetensors('{"__metadata__":{"k":%s}}' % nested),
        "deep_json_registry.json":
            ('{"format":"efficientnet-weights-registry","version":1,"variants":%s}' % nested).encode(),
    }


def legacy_dtype_twice():
    """2. One storage key declared as float and as double: the record is sized by one, copied by the other."""
    shared_float = Storage("0", "FloatStorage", 4, struct.pack("<4f", 1, 2, 3, 4))
    shared_double = Storage("0", "DoubleStorage", 4)
    # The float declaration comes first in the pickle ("extra"), the double tensor is the first one read.
    obj = collections.OrderedDict([
        ("extra", [Tensor(shared_float, [4], [1])]),
        ("state_dict", collections.OrderedDict([("w", Tensor(shared_double, [4], [1]))])),
    ])
    return {"legacy_dtype_twice.pth": legacy_checkpoint(obj)}


def impossible_sizes():
    """3. Sizes whose product overflows but that hold no element (one dimension is 0): LibTorch throws inside."""
    storage = Storage("0", "FloatStorage", 4)
    obj = collections.OrderedDict([("w", Tensor(storage, [2 ** 62, 2 ** 62, 0], [1, 1, 1]))])
    return {"impossible_sizes_legacy.pth": legacy_checkpoint(obj),
            "impossible_sizes.pth": zip_checkpoint(obj)}


def memo_string_keys():
    """4. One long memoised string used as the key of many dicts: ~6 file bytes per copy of the whole string."""
    key = ("k" * 200_000).encode()
    ops = io.BytesIO()
    ops.write(b"\x80\x02")                                   # PROTO 2
    ops.write(b"X" + struct.pack("<I", len(key)) + key)      # BINUNICODE
    ops.write(b"q\x01" + b"0")                               # BINPUT 1, POP
    ops.write(b"]")                                          # EMPTY_LIST
    for _ in range(20_000):
        ops.write(b"}h\x01Nsa")                              # EMPTY_DICT, BINGET 1, NONE, SETITEM, APPEND
    ops.write(b".")                                          # STOP
    return {"memo_string_keys.pth": zip_of([("archive/data.pkl", ops.getvalue()), ("archive/version", b"3\n")])}


def zip_bombs():
    """5. Records that inflate to a gigabyte from a megabyte: LibTorch inflates before anything is checked."""
    gib = 1 << 30
    storage = Storage("0", "FloatStorage", gib // 4, data=b"")   # its bytes are streamed by _zip_streamed
    obj = collections.OrderedDict([("w", Tensor(storage, [gib // 4], [1]))])
    files = {"zip_bomb_storage.pth": _zip_streamed(obj, bomb="archive/data/0")}
    files["zip_bomb_pickle.pth"] = _zip_streamed(None, bomb="archive/data.pkl")
    return files


def _zip_streamed(obj, bomb):
    chunk = bytes(1 << 22)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if obj is not None:
            data_pkl, _ = dumps(obj, legacy=False)
            z.writestr(zipfile.ZipInfo("archive/data.pkl", date_time=ZIP_DATE_TIME), data_pkl)
        info = zipfile.ZipInfo(bomb, date_time=ZIP_DATE_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            for _ in range((1 << 30) // len(chunk)):
                f.write(chunk)
        z.writestr(zipfile.ZipInfo("archive/version", date_time=ZIP_DATE_TIME), b"3\n")
    return buf.getvalue()


def huge_images(jpeg_path):
    """6. Small files whose headers declare gigapixel images: decoding allocates before the size is checked."""
    with open(jpeg_path, "rb") as f:
        jpeg = bytearray(f.read())
    files = {"huge_dims.jpg": _patch_jpeg_size(jpeg, 32767, 32767)}

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    files["huge_dims.png"] = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    # BITMAPFILEHEADER + BITMAPINFOHEADER, 24-bit, 50000 x -50000 (top-down), no pixel data
    info = struct.pack("<IiiHHIIiiII", 40, 50_000, -50_000, 1, 24, 0, 0, 2835, 2835, 0, 0)
    files["huge_dims.bmp"] = b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info
    # WebP extended format: VP8X canvas 16384 x 16384
    vp8x = struct.pack("<I", 0) + (16383).to_bytes(3, "little") + (16383).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    files["huge_dims.webp"] = b"RIFF" + struct.pack("<I", len(body)) + body
    # Little-endian TIFF: one IFD with ImageWidth and ImageLength 40000 (LONG)
    entries = [(256, 4, 1, 40_000), (257, 4, 1, 40_000)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0" * 4
    files["huge_dims.tif"] = b"II*\0" + struct.pack("<I", 8) + ifd
    files["huge_dims.ppm"] = b"P6\n# comment\n60000 60000\n255\n" + bytes(64)
    return files


def _patch_jpeg_size(jpeg, width, height):
    pos = 2
    while pos + 4 <= len(jpeg):
        if jpeg[pos] != 0xFF:
            raise SystemExit("make_hostile.py: unexpected JPEG layout")
        marker = jpeg[pos + 1]
        length = struct.unpack(">H", jpeg[pos + 2:pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            jpeg[pos + 5:pos + 9] = struct.pack(">HH", height, width)
            return bytes(jpeg)
        pos += 2 + length
    raise SystemExit("make_hostile.py: no frame header in the JPEG")


def escapes():
    """7. File content that would reach the terminal raw: names and globals carrying escape sequences."""
    name = "features" + ESCAPES + "\nfake line"
    files = {
        "escape_dtype.safetensors":
            safetensors('{"%s":{"dtype":"X%s","shape":[1],"data_offsets":[0,4]}}'
                        % (_json_escape(name), _json_escape(ESCAPES)), b"\0" * 4),
        "escape_keys.safetensors":
            safetensors('{"%s":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' % _json_escape(name), b"\0" * 4),
    }
    ops = io.BytesIO()
    module, attr = ("os" + ESCAPES).encode(), ("system" + ESCAPES).encode()
    ops.write(b"\x80\x02")
    ops.write(b"X" + struct.pack("<I", len(module)) + module)
    ops.write(b"X" + struct.pack("<I", len(attr)) + attr)
    ops.write(b"\x93" + b")" + b"R" + b".")                     # STACK_GLOBAL, EMPTY_TUPLE, REDUCE, STOP
    files["escape_global.pth"] = zip_of([("archive/data.pkl", ops.getvalue()), ("archive/version", b"3\n")])
    return files


def _json_escape(text):
    return "".join(c if 0x20 <= ord(c) < 0x7f and c not in '"\\' else "\\u%04x" % ord(c) for c in text)


def fuzz_findings():
    """Inputs the long fuzzing runs found (docs/ROBUSTNESS.md), kept as regressions."""
    return {
        # fuzz_registry, UBSan: a version too large for any integer type parses as a double; reading it as an int
        # was undefined behaviour.
        "huge_version_registry.json":
            b'{"format":"efficientnet-weights-registry","version":17777777777777777777777777,"variants":{}}',
    }


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--jpeg", required=True, help="a real JPEG whose frame header is patched")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    files = {}
    for make in (deep_json, legacy_dtype_twice, impossible_sizes, memo_string_keys, zip_bombs, escapes,
                 fuzz_findings):
        files.update(make())
    files.update(huge_images(args.jpeg))
    for name, data in sorted(files.items()):
        path = os.path.join(args.out, name)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
    print("make_hostile.py: %d files in %s" % (len(files), args.out))


if __name__ == "__main__":
    main(sys.argv[1:])
