"""Oracle fixtures for src/data/preprocess.ts: PIL's antialiased resizes.

Writes, next to this script:
- `img_<name>.npy` (uint8 [H, W, 3]): the inputs;
- `out_<name>_<interp>_<mode>_<S>.npy` (uint8 [S, S, 3]), PIL's result of
  `Image.resize(..., BILINEAR | BICUBIC)` (squash: straight to S x S; crop:
  shorter side to floor(S / 0.875) as torchvision `Resize(int)`, then the
  centre S x S window as `CenterCrop`, offsets round((dim - S) / 2));
- `manifest.json`: the cases and the PIL version.

Run: /usr/bin/python3 tests/data/pil_resize/make_fixtures.py [imagenet.jpg]
The natural image is a crop of the given JPEG (decoded by PIL), stored as
raw pixels, so no JPEG decoder difference enters the comparison.
"""
import json
import math
import os
import sys

import numpy as np
import PIL
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
CROP_PCT = 0.875


def synthetic():
    """High-contrast 61x47: saturated edges and stripes (bicubic overshoots)."""
    h, w = 47, 61
    y, x = np.mgrid[0:h, 0:w]
    r = np.where((x // 3 + y // 5) % 2 == 0, 255, 0)
    g = np.clip(x * 255 // (w - 1), 0, 255)
    b = np.where((x - 30) ** 2 + (y - 23) ** 2 < 150, 250, 5)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def tiny():
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, size=(9, 13, 3), dtype=np.uint8)


def natural(path):
    im = Image.open(path).convert("RGB")
    w, h = im.size
    left, top = (w - 120) // 2, (h - 90) // 2
    return np.asarray(im.crop((left, top, left + 120, top + 90)), dtype=np.uint8)


def resize(arr, s, interp, mode):
    im = Image.fromarray(arr, "RGB")
    f = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[interp]
    if mode == "squash":
        return np.asarray(im.resize((s, s), f))
    w, h = im.size
    short = math.floor(s / CROP_PCT + 1e-9)
    if w <= h:
        rw, rh = short, (short * h) // w
    else:
        rh, rw = short, (short * w) // h
    rw, rh = max(rw, s), max(rh, s)
    left, top = round((rw - s) / 2), round((rh - s) / 2)
    out = im.resize((rw, rh), f).crop((left, top, left + s, top + s))
    return np.asarray(out)


def main():
    images = {"synthetic": synthetic(), "tiny": tiny()}
    if len(sys.argv) > 1:
        images["natural"] = natural(sys.argv[1])
    sizes = {"synthetic": [24], "tiny": [20], "natural": [48]}
    cases = []
    for name, arr in images.items():
        np.save(os.path.join(HERE, f"img_{name}.npy"), arr)
        for s in sizes[name]:
            for interp in ["bilinear", "bicubic"]:
                for mode in ["squash", "crop"]:
                    out = resize(arr, s, interp, mode)
                    assert out.shape == (s, s, 3), out.shape
                    fn = f"out_{name}_{interp}_{mode}_{s}.npy"
                    np.save(os.path.join(HERE, fn), out)
                    cases.append({"image": f"img_{name}.npy", "size": s,
                                  "interpolation": interp, "resize": mode,
                                  "crop_pct": CROP_PCT, "output": fn})
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump({"pil_version": PIL.__version__, "natural_source": os.path.basename(sys.argv[1]) if len(sys.argv) > 1 else None, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
