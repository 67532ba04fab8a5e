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
import pickle
import struct
import sys
import types
import zipfile
import zlib

ZIP_DATE_TIME = (2020, 1, 1, 0, 0, 0)
LEGACY_MAGIC = 0x1950a86a20f9469cfc6c          # torch/serialization.py MAGIC_NUMBER
LEGACY_PROTOCOL = 1001                          # torch/serialization.py PROTOCOL_VERSION
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31m\u202e"   # set the terminal title, clear the screen, red, right-to-left


# ---------------------------------------------------------------------------------------------------------------
# Stand-ins for torch's classes, so that pickle writes GLOBAL torch._utils._rebuild_tensor_v2 / torch.FloatStorage
# exactly as torch.save does, without torch.

def _stand_in_modules():
    torch_mod = types.ModuleType("torch")
    utils_mod = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("never called")
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils_mod._rebuild_tensor_v2 = _rebuild_tensor_v2
    storage_types = {}
    for name, size in (("FloatStorage", 4), ("DoubleStorage", 8), ("HalfStorage", 2), ("LongStorage", 8)):
        cls = type(name, (), {"element_size": size})
        cls.__module__ = "torch"
        setattr(torch_mod, name, cls)
        storage_types[name] = cls
    torch_mod._utils = utils_mod
    sys.modules.setdefault("torch", torch_mod)
    sys.modules.setdefault("torch._utils", utils_mod)
    if sys.modules["torch"] is not torch_mod:
        sys.exit("make_hostile.py: run it without the real torch imported")
    return utils_mod._rebuild_tensor_v2, storage_types


REBUILD, STORAGE_TYPES = _stand_in_modules()


class Storage:
    def __init__(self, key, type_name, numel, data=None):
        self.key, self.type = key, STORAGE_TYPES[type_name]
        self.numel = numel
        self.data = data if data is not None else bytes(numel * self.type.element_size)


class Tensor:
    def __init__(self, storage, size, stride, offset=0):
        self.storage, self.size, self.stride, self.offset = storage, tuple(size), tuple(stride), offset

    def __reduce_ex__(self, protocol):
        return (REBUILD, (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


def dumps(obj, legacy):
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=2)
    storages = {}

    def persistent_id(o):
        if not isinstance(o, Storage):
            return None
        storages[o.key] = o
        fields = ("storage", o.type, o.key, "cpu", o.numel)
        return fields + (None,) if legacy else fields   # legacy ids carry view metadata
    pickler.persistent_id = persistent_id
    pickler.dump(obj)
    return out.getvalue(), storages


def zip_checkpoint(obj, compress=None):
    """torch.save's zip layout: archive/data.pkl, archive/data/<key>, archive/version, archive/byteorder."""
    data_pkl, storages = dumps(obj, legacy=False)
    records = [("archive/data.pkl", data_pkl)]
    records += [("archive/data/%s" % key, s.data) for key, s in sorted(storages.items())]
    records += [("archive/version", b"3\n"), ("archive/byteorder", b"little")]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in records:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = (compress or {}).get(name, zipfile.ZIP_STORED)
            z.writestr(info, data)
    return buf.getvalue()


def legacy_checkpoint(obj):
    """torch.save(obj, f, _use_new_zipfile_serialization=False): torch/serialization.py _legacy_save."""
    out = io.BytesIO()
    for header in (LEGACY_MAGIC, LEGACY_PROTOCOL,
                   dict(protocol_version=LEGACY_PROTOCOL, little_endian=True,
                        type_sizes=dict(short=2, int=4, long=4))):
        pickle.dump(header, out, protocol=2)
    main, storages = dumps(obj, legacy=True)
    out.write(main)
    keys = sorted(storages)
    pickle.dump(keys, out, protocol=2)
    for key in keys:
        out.write(struct.pack("<q", storages[key].numel))
        out.write(storages[key].data)
    return out.getvalue()


def safetensors(header_json, data=b""):
    raw = header_json.encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


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
    data = ops.getvalue()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, content in (("archive/data.pkl", data), ("archive/version", b"3\n")):
            z.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME), content)
    return {"memo_string_keys.pth": buf.getvalue()}


def zip_bombs():
    """5. Records that inflate to a gigabyte from a megabyte: LibTorch inflates before anything is checked."""
    gib = 1 << 30
    storage = Storage("0", "FloatStorage", gib // 4, data=None)
    storage.data = _ZeroBytes(gib)
    obj = collections.OrderedDict([("w", Tensor(storage, [gib // 4], [1]))])
    files = {"zip_bomb_storage.pth": _zip_streamed(obj, bomb="archive/data/0")}
    files["zip_bomb_pickle.pth"] = _zip_streamed(None, bomb="archive/data.pkl")
    return files


class _ZeroBytes:
    """len() bytes of zeros, produced in chunks by _zip_streamed (never held in memory)."""
    def __init__(self, size):
        self.size = size

    def __len__(self):
        return self.size


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
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for rec, content in (("archive/data.pkl", ops.getvalue()), ("archive/version", b"3\n")):
            z.writestr(zipfile.ZipInfo(rec, date_time=ZIP_DATE_TIME), content)
    files["escape_global.pth"] = buf.getvalue()
    return files


def _json_escape(text):
    return "".join(c if 0x20 <= ord(c) < 0x7f and c not in '"\\' else "\\u%04x" % ord(c) for c in text)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--jpeg", required=True, help="a real JPEG whose frame header is patched")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    files = {}
    for make in (deep_json, legacy_dtype_twice, impossible_sizes, memo_string_keys, zip_bombs, escapes):
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
