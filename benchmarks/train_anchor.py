#!/usr/bin/env python3
"""PyTorch's own fine-tuning step, the anchor for `efficientnet-bench --train-step` (benchmarks/gpu_train.sh).

torchvision's EfficientNet in train mode, everything training, channels_last, AdamW (lr 1e-4, weight decay 0.05),
cross entropy with label smoothing 0.1, torch.autocast fp16 with torch.amp.GradScaler (PyTorch's AMP recipe) or
bf16/fp32; random images and labels. Each step reads its loss, as the engine's trainer does. Prints
"anchor torchvision-train <model> batch <N> <prec>: <img/s> img/s, <ms>/step, peak <MiB> MiB".
The peak is torch.cuda.max_memory_allocated after a reset at the end of the warm-up: weights, AdamW's moments,
activations and gradients, the same count as the engine's (LibTorch's caching allocator statistics).
"""
import argparse
import time

import torch
import torchvision


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="efficientnet_b0")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--precision", default="fp16", choices=["fp32", "fp16", "bf16"])
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()

    device = torch.device("cuda")
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    model = getattr(torchvision.models, args.model)().to(device).to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.precision]
    scaler = torch.amp.GradScaler("cuda", enabled=args.precision == "fp16")
    images = torch.randn(args.batch, 3, args.size, args.size, device=device).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 1000, (args.batch,), device=device)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=dtype, enabled=args.precision != "fp32"):
            logits = model(images)
        loss = loss_fn(logits.float(), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss.item()

    for _ in range(args.warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(args.iterations):
        loss = step()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(f"anchor torchvision-train {args.model} batch {args.batch} {args.precision}: "
          f"{args.batch * args.iterations / seconds:.1f} img/s, {1000 * seconds / args.iterations:.2f} ms/step, "
          f"peak {torch.cuda.max_memory_allocated() / 2**20:.1f} MiB, loss {loss:.3f}", flush=True)


if __name__ == "__main__":
    main()
