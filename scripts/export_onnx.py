"""Export a torchvision classifier to ONNX for hfss, with its preprocessing.

    python3 scripts/export_onnx.py resnet18 -o resnet18.onnx
    python3 scripts/export_onnx.py resnet18 --weights none \
        --num-classes 10 --size 160 -o resnet18_k10_160.onnx

Takes the input size, resize/crop, interpolation and mean/std from the
weights' own eval transforms (`weights.transforms()`), exports with
`torch.onnx.export` (opset 17, NCHW float32 input `input` [N,3,S,S] with a
symbolic batch, output `logits` [N,K]), writes `hfss.normalization` into the
ONNX metadata when the mean/std is a preset hfss knows, and prints the hfss
flags that reproduce the rest (crop fraction, interpolation).

`--weights none` builds the architecture with random weights (no download):
useful to check that a model exports and runs, not for its accuracy.
Needs torch and torchvision (any version with the multi-weight API, 0.13+)
and the onnx package.
"""
import argparse
import math
import sys

import onnx
import torch
import torchvision

PRESETS = {
    "imagenet": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    "inception": ([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
}


def preset_of(mean, std):
    for name, (m, s) in PRESETS.items():
        if all(abs(a - b) < 1e-6 for a, b in zip(m + s, list(mean) + list(std))):
            return name
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", help="torchvision model name, e.g. resnet18, convnext_tiny, vit_b_16")
    p.add_argument("--weights", default="DEFAULT",
                   help="weights tag (DEFAULT, IMAGENET1K_V1, ...) or 'none' for random weights")
    p.add_argument("--size", type=int, help="input side S (default: the weights' crop size, else 224)")
    p.add_argument("--num-classes", type=int, help="classes K (only with --weights none)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()

    models = torchvision.models
    kwargs = {}
    if a.weights.lower() == "none":
        weights = None
        if a.num_classes:
            kwargs["num_classes"] = a.num_classes
    else:
        if a.num_classes:
            sys.exit("--num-classes needs --weights none (pretrained heads have 1000 classes)")
        weights = models.get_model_weights(a.model)[a.weights] if a.weights != "DEFAULT" \
            else models.get_model_weights(a.model).DEFAULT
    model = models.get_model(a.model, weights=weights, **kwargs).eval()

    if weights is not None:
        t = weights.transforms()
        crop, resize = t.crop_size[0], t.resize_size[0]
        interpolation = t.interpolation.value  # "bilinear" or "bicubic"
        mean, std = list(t.mean), list(t.std)
    else:  # torchvision's standard ImageNet eval transform
        crop, resize, interpolation = 224, 256, "bilinear"
        mean, std = PRESETS["imagenet"]
    size = a.size or crop
    # hfss resizes the shorter side to floor(S / crop_pct): keep full precision.
    crop_pct = crop / resize
    shorter = math.floor(size / crop_pct + 1e-9)

    x = torch.rand(1, 3, size, size)
    torch.onnx.export(
        model, x, a.output, opset_version=a.opset, do_constant_folding=True,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
    )

    m = onnx.load(a.output)
    norm = preset_of(mean, std)
    props = {
        "hfss.normalization": norm,
        "preprocessing": f"resize shorter side to {shorter} ({interpolation}), "
                         f"centre crop {size}, mean={mean}, std={std}",
        "source": f"torchvision {torchvision.__version__} {a.model} weights={a.weights}",
    }
    for k, v in props.items():
        if v is not None:
            e = m.metadata_props.add()
            e.key, e.value = k, v
    onnx.save(m, a.output)

    with torch.no_grad():
        k = model(x).shape[1]
    flags = f"--resize crop --crop-pct {crop_pct!r} --interpolation {interpolation}"
    if norm is None:
        flags += f" --mean {','.join(map(str, mean))} --std {','.join(map(str, std))}"
    print(f"wrote {a.output}: input [N,3,{size},{size}], {k} classes, opset {a.opset}")
    print(f"hfss flags: {flags}")


if __name__ == "__main__":
    main()
