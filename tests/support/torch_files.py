"""Writers of torch.save files (zip and legacy) and safetensors without torch, for the hostile-file and fuzzing
seed generators. Python's own pickle module writes the pickles, with stand-in `torch` modules so that it emits
GLOBAL torch._utils._rebuild_tensor_v2 and torch.FloatStorage exactly as torch.save does (torch/serialization.py:
_save for the zip layout, _legacy_save for the legacy stream).
"""
import collections
import io
import pickle
import struct
import sys
import types
import zipfile

ZIP_DATE_TIME = (2020, 1, 1, 0, 0, 0)           # fixed: reproducible bytes
LEGACY_MAGIC = 0x1950a86a20f9469cfc6c          # torch/serialization.py MAGIC_NUMBER
LEGACY_PROTOCOL = 1001                          # torch/serialization.py PROTOCOL_VERSION


def _stand_in_modules():
    torch_mod = types.ModuleType("torch")
    utils_mod = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("never called")
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils_mod._rebuild_tensor_v2 = _rebuild_tensor_v2
    storage_types = {}
    for name, size in (("FloatStorage", 4), ("DoubleStorage", 8), ("HalfStorage", 2), ("BFloat16Storage", 2),
                       ("LongStorage", 8), ("IntStorage", 4), ("ByteStorage", 1), ("BoolStorage", 1)):
        cls = type(name, (), {"element_size": size})
        cls.__module__ = "torch"
        setattr(torch_mod, name, cls)
        storage_types[name] = cls
    torch_mod._utils = utils_mod
    sys.modules.setdefault("torch", torch_mod)
    sys.modules.setdefault("torch._utils", utils_mod)
    if sys.modules["torch"] is not torch_mod:
        sys.exit("torch_files.py: run it without the real torch imported")
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
    """A safetensors file from its header text (padded to 8 bytes, as the reference writer does) and data."""
    raw = header_json.encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    return struct.pack("<Q", len(raw)) + raw + data




def zip_of(records):
    """A zip of (name, bytes) records, stored, with fixed dates."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in records:
            z.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME), data)
    return buf.getvalue()
