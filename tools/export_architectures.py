#!/usr/bin/env python3
"""Exports standard architectures to ONNX in the layout of ONNX's own model tests.

Each model goes to OUT/<name>/model.onnx with OUT/<name>/test_data_set_N/{input_0,output_0}.pb:
inputs are smooth random images (low-frequency noise, as natural images are), outputs are what
PyTorch computes, so ONNX Runtime's FP32 run is checked against an independent reference too.
Weights are random (seeded); BatchNorm statistics are collected on the same kind of images first,
so activations have realistic ranges. Needs Debian's python3-torch and python3-torchvision.

    python3 tools/export_architectures.py target/architectures
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import numpy_helper

SETS = 8  # test_data_set_N folders per model, batch 2 each: 16 calibration images


class SmallUNet(nn.Module):
    """A two-level U-Net: strided encoder, bilinear Resize up, Concat skips (segmentation-style)."""

    def __init__(self, classes=4):
        super().__init__()

        def block(i, o):
            return nn.Sequential(
                nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
                nn.Conv2d(o, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True))

        self.e1, self.e2, self.e3 = block(3, 16), block(16, 32), block(32, 64)
        self.d2, self.d1 = block(64 + 32, 32), block(32 + 16, 16)
        self.head = nn.Conv2d(16, classes, 1)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(F.max_pool2d(e1, 2))
        e3 = self.e3(F.max_pool2d(e2, 2))
        up2 = F.interpolate(e3, scale_factor=2.0, mode="bilinear", align_corners=False)
        d2 = self.d2(torch.cat([up2, e2], 1))
        up1 = F.interpolate(d2, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.head(self.d1(torch.cat([up1, e1], 1)))


def images(n, size, generator):
    """Low-frequency noise normalized as ImageNet images are: mean 0, unit spread per channel."""
    coarse = torch.randn(n, 3, size // 16, size // 16, generator=generator)
    x = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)
    x = x + 0.1 * torch.randn(n, 3, size, size, generator=generator)
    return (x - x.mean(dim=(2, 3), keepdim=True)) / x.std(dim=(2, 3), keepdim=True)


def export(name, model, size, out, generator):
    model.train()
    with torch.no_grad():  # BatchNorm statistics from images like the test inputs
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = None  # cumulative average
        for _ in range(8):
            model(images(8, size, generator))
    model.eval()
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    torch.onnx.export(
        model, images(1, size, generator), os.path.join(folder, "model.onnx"),
        input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=13)
    with torch.no_grad():
        for k in range(SETS):
            x = images(2, size, generator)
            y = model(x)
            d = os.path.join(folder, "test_data_set_%d" % k)
            os.makedirs(d, exist_ok=True)
            for file, t, n in (("input_0.pb", x, "input"), ("output_0.pb", y, "output")):
                with open(os.path.join(d, file), "wb") as f:
                    f.write(numpy_helper.from_array(t.numpy(), n).SerializeToString())
    print("exported", name, sum(p.numel() for p in model.parameters()), "parameters")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "target/architectures"
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    export("resnet18", torchvision.models.resnet18(weights=None), 224, out, g)
    export("mobilenet_v2", torchvision.models.mobilenet_v2(weights=None), 224, out, g)
    export("squeezenet1_1", torchvision.models.squeezenet1_1(weights=None), 224, out, g)
    export("unet_small", SmallUNet(), 128, out, g)


if __name__ == "__main__":
    main()
