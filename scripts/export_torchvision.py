#!/usr/bin/env python3
"""Export torchvision classifiers to ONNX with PyTorch autograd input gradients.

For every model: `<name>.onnx` (torch.onnx.export, dynamic batch), the test
images as uint8 pixels `<name>_pixels.npy` [n,3,S,S], and the autograd
gradient of the summed cross-entropy loss with respect to the normalised
input, `<name>_grad.npy` float32 [n,3,S,S]; `manifest.json` lists them with
the normalisation, labels, opset and the operator types of each graph.

Weights are random (seed 0), then made less regular than torchvision's
initialisation (batch-norm statistics, layer scales, class tokens, position
biases and zero-initialised heads drawn at scales where every branch
contributes to the gradient).

  small (committed test models): reduced widths, inputs of 64-96 pixels,
         10 or 100 classes
  full: resnet18, efficientnet_b0, mobilenet_v3_small, convnext_tiny,
        vit_b_16, swin_t at 224 with 1000 classes, a few at 160/192 with
        10 classes, and two at opset 13

Usage: python3 scripts/export_torchvision.py --set small|full --out DIR
       [--images DIR] [--only NAME,...]
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models import convnext, efficientnet, resnet

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
OPSET = 17


class TinyResNet(nn.Module):
    """ResNet stem, BasicBlocks and a Bottleneck from torchvision at small widths."""

    def __init__(self, num_classes):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8),
            nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        down = lambda i, o, s: nn.Sequential(resnet.conv1x1(i, o, s), nn.BatchNorm2d(o))
        self.layers = nn.Sequential(
            resnet.BasicBlock(8, 8),
            resnet.BasicBlock(8, 16, 2, down(8, 16, 2)),
            resnet.Bottleneck(16, 8, 2, down(16, 32, 2)))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.pool(self.layers(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


def small_models():
    m = torchvision.models
    eff_setting, _ = efficientnet._efficientnet_conf(
        "efficientnet_b0", width_mult=0.25, depth_mult=0.25)
    cn = convnext.CNBlockConfig
    return [
        ("resnet_tiny", lambda: TinyResNet(10), 64),
        ("efficientnet_tiny", lambda: efficientnet.EfficientNet(
            eff_setting, 0.2, num_classes=10), 64),
        ("mobilenet_v3_tiny", lambda: m.mobilenet_v3_small(
            width_mult=0.25, num_classes=100), 64),
        ("convnext_tiny_w16", lambda: m.ConvNeXt(
            [cn(16, 32, 1), cn(32, 64, 1), cn(64, None, 1)], num_classes=10), 64),
        # opset 13: LayerNorm decomposed (ReduceMean, Sub, Pow, Sqrt, Div)
        ("convnext_tiny_w16_opset13", lambda: m.ConvNeXt(
            [cn(16, 32, 1), cn(32, 64, 1), cn(64, None, 1)], num_classes=10), 64, 13),
        ("vit_tiny", lambda: m.VisionTransformer(
            image_size=64, patch_size=16, num_layers=2, num_heads=2,
            hidden_dim=32, mlp_dim=64, num_classes=10), 64),
        ("swin_tiny_w8", lambda: m.SwinTransformer(
            patch_size=[4, 4], embed_dim=8, depths=[2, 2, 1, 1],
            num_heads=[1, 2, 2, 4], window_size=[7, 7], num_classes=10), 96),
    ]


def full_models():
    m = torchvision.models
    return [
        ("resnet18", lambda: m.resnet18(), 224),
        ("efficientnet_b0", lambda: m.efficientnet_b0(), 224),
        ("mobilenet_v3_small", lambda: m.mobilenet_v3_small(), 224),
        ("convnext_tiny", lambda: m.convnext_tiny(), 224),
        ("vit_b_16", lambda: m.vit_b_16(), 224),
        ("swin_t", lambda: m.swin_t(), 224),
        ("resnet18_160_k10", lambda: m.resnet18(num_classes=10), 160),
        ("mobilenet_v3_small_192_k10", lambda: m.mobilenet_v3_small(num_classes=10), 192),
        ("convnext_tiny_192_k10", lambda: m.convnext_tiny(num_classes=10), 192),
        ("vit_b_16_192_k10", lambda: m.vit_b_16(image_size=192, num_classes=10), 192),
        ("swin_t_192_k10", lambda: m.swin_t(num_classes=10), 192),
        # opset 13: HardSwish as HardSigmoid and Mul, LayerNorm decomposed
        ("mobilenet_v3_small_opset13", lambda: m.mobilenet_v3_small(), 224, 13),
        ("convnext_tiny_opset13", lambda: m.convnext_tiny(), 224, 13),
    ]


def roughen(model, gen):
    """Draws the parameters torchvision initialises to constants."""
    def rand(t, lo, hi):
        return torch.rand(t.shape, generator=gen) * (hi - lo) + lo

    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.copy_(torch.randn(mod.running_mean.shape, generator=gen) * 0.1)
                mod.running_var.copy_(rand(mod.running_var, 0.5, 1.5))
                mod.weight.copy_(rand(mod.weight, 0.5, 1.5))
                mod.bias.copy_(torch.randn(mod.bias.shape, generator=gen) * 0.1)
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.copy_(rand(mod.weight, 0.5, 1.5))
                mod.bias.copy_(torch.randn(mod.bias.shape, generator=gen) * 0.1)
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if p.dim() >= 2 and not p.any():
                # zero-initialised heads (ViT) would give constant logits
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in ** 0.5)
            elif leaf == "layer_scale":
                p.copy_(rand(p, 0.2, 0.6))
            elif leaf in ("class_token", "relative_position_bias_table"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)


def load_pixels(images_dir, size, n):
    """n images as uint8 [n,3,S,S]: shared images resized, else seeded noise."""
    files = []
    if images_dir and os.path.isdir(images_dir):
        files = sorted(f for f in os.listdir(images_dir)
                       if f.lower().endswith((".jpg", ".jpeg", ".png")))[:n]
    out = np.zeros((n, 3, size, size), np.uint8)
    rng = np.random.default_rng(7)
    for i in range(n):
        if i < len(files):
            from PIL import Image
            img = Image.open(os.path.join(images_dir, files[i])).convert("RGB")
            img = img.resize((size, size), Image.BILINEAR)
            out[i] = np.asarray(img).transpose(2, 0, 1)
        else:
            out[i] = rng.integers(0, 256, (3, size, size), dtype=np.uint8)
    return out


def normalise(pixels):
    x = pixels.astype(np.float32) / np.float32(255)
    mean = np.array(MEAN, np.float32)[None, :, None, None]
    std = np.array(STD, np.float32)[None, :, None, None]
    return (x - mean) / std


def export_one(name, make, size, out_dir, pixels, opset=OPSET):
    torch.manual_seed(0)
    model = make().eval()
    roughen(model, torch.Generator().manual_seed(1))
    x = torch.from_numpy(normalise(pixels))
    path = os.path.join(out_dir, f"{name}.onnx")
    torch.onnx.export(
        model, x[:1], path, opset_version=opset, input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    with torch.no_grad():
        k = model(x[:1]).shape[1]
    labels = [(7 * i + 3) % k for i in range(len(pixels))]
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    loss = F.cross_entropy(logits, torch.tensor(labels), reduction="none")
    loss.sum().backward()
    grad = xg.grad.detach().numpy().astype(np.float32)
    np.save(os.path.join(out_dir, f"{name}_pixels.npy"), pixels)
    np.save(os.path.join(out_dir, f"{name}_grad.npy"), grad)
    g = onnx.load(path)
    ops = sorted({n.op_type for n in g.graph.node})
    opset = next(o.version for o in g.opset_import if o.domain in ("", "ai.onnx"))
    print(f"{name}: {size}px, {k} classes, opset {opset}, "
          f"{os.path.getsize(path) / 1e6:.2f} MB, ops {' '.join(ops)}", file=sys.stderr)
    return {
        "name": name, "model": f"{name}.onnx", "size": size, "num_classes": k,
        "opset": opset, "mean": MEAN, "std": STD,
        "pixels": f"{name}_pixels.npy", "gradient": f"{name}_grad.npy",
        "labels": labels, "loss": [float(v) for v in loss.detach()],
        "operators": ops,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", choices=["small", "full"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--images", default=os.path.join(
        os.path.dirname(__file__), "..", "..", "shared", "data", "images", "imagenet_val_subset"))
    ap.add_argument("--count", type=int, default=2, help="images per model")
    ap.add_argument("--only", default="", help="comma-separated model names")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    models = small_models() if a.set == "small" else full_models()
    only = set(filter(None, a.only.split(",")))
    entries = []
    for name, make, size, *opset in models:
        if only and name not in only:
            continue
        pixels = load_pixels(a.images, size, a.count)
        entries.append(export_one(name, make, size, a.out, pixels, *opset))
    manifest = {
        "format": "hfss-torchvision-gradients/1",
        "torch": torch.__version__, "torchvision": torchvision.__version__,
        "models": entries,
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
