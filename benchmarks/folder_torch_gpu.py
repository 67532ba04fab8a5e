#!/usr/bin/env python3
"""The PyTorch anchor for folder classification on a GPU (issue 16, point 3): torchvision's EfficientNet in fp16
channels_last on CUDA, fed as well as PyTorch itself can, in one of two ways:
  dataloader  PIL decode + the reference transform (Resize 256 bicubic, CenterCrop 224, Normalize) in DataLoader
              workers (one per core), pinned batches of 64 copied without blocking;
  nvjpeg      files read on the CPU, decoded in batches on the GPU by torchvision.io.decode_jpeg(device="cuda")
              (nvJPEG), resized (bicubic, antialiased), cropped and normalised there.
Prints the top-1 class per file to stdout when asked, and to stderr one line: images, seconds and images/s over the
whole run (imports and model load included, as a command's wall time is) and over the classification alone."""
import argparse
import os
import pathlib
import sys
import time

t0 = time.perf_counter()
import torch  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision import transforms  # noqa: E402
from torchvision.transforms import functional as F  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class Photos(torch.utils.data.Dataset):
    def __init__(self, files):
        self.files = files
        self.transform = transforms.Compose([
            transforms.Resize(256, interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize(MEAN, STD),
        ])

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with Image.open(self.files[i]) as image:
            return self.transform(image.convert("RGB"))


def batches_dataloader(files, batch):
    loader = torch.utils.data.DataLoader(Photos(files), batch_size=batch, num_workers=os.cpu_count(), pin_memory=True,
                                         prefetch_factor=4, persistent_workers=False)
    for x in loader:
        yield x.cuda(non_blocking=True)


def batches_nvjpeg(files, batch):
    mean = torch.tensor(MEAN, device="cuda").view(1, 3, 1, 1)
    std = torch.tensor(STD, device="cuda").view(1, 3, 1, 1)
    for start in range(0, len(files), batch):
        data = [torchvision.io.read_file(str(f)) for f in files[start:start + batch]]
        images = torchvision.io.decode_jpeg(data, device="cuda", mode=torchvision.io.ImageReadMode.RGB)
        out = torch.empty(len(images), 3, 224, 224, device="cuda")
        for i, image in enumerate(images):
            resized = F.resize(image.float().unsqueeze(0), 256, interpolation=F.InterpolationMode.BICUBIC,
                               antialias=True)
            out[i] = F.center_crop(resized, 224)[0]
        yield (out / 255 - mean) / std


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--mode", choices=["dataloader", "nvjpeg"], default="dataloader")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--print", action="store_true", help="print each file's top-1 class")
    parser.add_argument("--cudnn-benchmark", choices=["on", "off"], default="on",
                        help="cuDNN times its algorithms at each new batch shape first (on) or its heuristics choose (off)")
    parser.add_argument("folder")
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = args.cudnn_benchmark == "on"
    model = torchvision.models.efficientnet_b0()
    model.load_state_dict(torch.load(args.weights, weights_only=True))
    model = model.eval().cuda().half().to(memory_format=torch.channels_last)
    files = sorted(pathlib.Path(args.folder).glob("*.jpg"))
    feed = batches_dataloader if args.mode == "dataloader" else batches_nvjpeg
    t1 = time.perf_counter()
    tops = []
    with torch.inference_mode():
        for x in feed(files, args.batch):
            x = x.half().contiguous(memory_format=torch.channels_last)
            tops.append(torch.softmax(model(x).float(), 1).topk(5).indices.cpu())
    torch.cuda.synchronize()
    t2 = time.perf_counter()
    if args.print:
        for f, top in zip(files, torch.cat(tops)):
            print(f.name, top.tolist())
    n = len(files)
    print(f"torch {args.mode} (cudnn.benchmark {args.cudnn_benchmark}): {n} images; whole run {t2 - t0:.2f} s = {n / (t2 - t0):.0f} img/s; "
          f"classification alone {t2 - t1:.2f} s = {n / (t2 - t1):.0f} img/s", file=sys.stderr)


if __name__ == "__main__":
    main()
