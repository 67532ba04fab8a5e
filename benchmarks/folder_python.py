#!/usr/bin/env python3
"""The anchor for folder classification: a plain Python torchvision script (PIL decode + the reference transform +
the model, one image at a time), as a user would write it. Prints images/s over the whole run, model load included."""
import argparse
import pathlib
import sys
import time

t0 = time.perf_counter()
import torch  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision import transforms  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", required=True)
    parser.add_argument("folder")
    args = parser.parse_args()
    model = torchvision.models.efficientnet_b0()
    model.load_state_dict(torch.load(args.weights))
    model.eval()
    transform = transforms.Compose([
        transforms.Resize(256, interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    files = sorted(pathlib.Path(args.folder).glob("*.jpg"))
    with torch.no_grad():
        for path in files:
            x = transform(Image.open(path).convert("RGB")).unsqueeze(0)
            top = torch.softmax(model(x), 1).topk(5)
            print(path.name, top.indices[0].tolist())
    seconds = time.perf_counter() - t0
    print(f"python torchvision script: {len(files)} images in {seconds:.2f} s = {len(files) / seconds:.2f} img/s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
