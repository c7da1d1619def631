"""PIL comparison, step 2 of 3 (steps 1 and 3: decode.ts, compare.ts here).

What the reference's preprocessing does that hfss does not: PIL decodes JPEGs
with libjpeg-turbo (here: ImageMagick's libjpeg, the same IJG islow decoder
with fancy upsampling) and `Resize((224, 224))` resamples 8-bit images in
fixed point (Resample.c, PRECISION_BITS 22), rounding to 8 bits after the
horizontal and again after the vertical pass; hfss resamples in float. This
script compares the decoders pixel for pixel and writes PIL's resize of the
libjpeg decode as float32 [N,3,224,224] / 255 for compare.ts. Needs numpy
and ImageMagick's `convert`.
"""
import json, subprocess, numpy as np, math
meta = json.load(open("work/pil_resize_check/meta.json"))
root = "../shared/data/images/imagenet_val_subset"
PB = 22  # PRECISION_BITS = 32 - 8 - 2

def coeffs(in_size, out_size):
    scale = in_size / out_size
    fs = max(scale, 1.0)
    support = 1.0 * fs
    ss = 1.0 / fs
    rows = []
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        k = []
        for x in range(xmax):
            t = abs((x + xmin - center + 0.5) * ss)
            k.append(1 - t if t < 1 else 0.0)
        ww = sum(k)
        k = [v / ww for v in k] if ww != 0 else k
        kf = [int(v * (1 << PB) + (-0.5 if v < 0 else 0.5)) for v in k]
        rows.append((xmin, np.array(kf, dtype=np.int64)))
    return rows

def pass1d(a, rows, axis):
    # a: int array [..], resample along axis with 8-bit rounding
    a = np.moveaxis(a, axis, 0).astype(np.int64)
    out = np.empty((len(rows),) + a.shape[1:], dtype=np.int64)
    for i, (xmin, k) in enumerate(rows):
        s = (1 << (PB - 1)) + np.tensordot(k, a[xmin:xmin + len(k)], axes=(0, 0))
        out[i] = np.clip(s >> PB, 0, 255)
    return np.moveaxis(out, 0, axis)

dec_max = 0; dec_sum = 0; dec_n = 0; dec_diff_px = 0
tensors = []
for i, m in enumerate(meta):
    w, h = m["width"], m["height"]
    ours = np.fromfile(f"work/pil_resize_check/dec_{i}.rgb", dtype=np.uint8).reshape(h, w, 3)
    raw = subprocess.run(["convert", f"{root}/{m['file']}", "-depth", "8", "rgb:-"], capture_output=True).stdout
    lj = np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)
    d = np.abs(ours.astype(int) - lj.astype(int))
    dec_max = max(dec_max, int(d.max())); dec_sum += d.sum(); dec_n += d.size; dec_diff_px += int((d > 0).sum())
    img = lj.astype(np.int64)
    img = pass1d(img, coeffs(w, 224), 1)   # horizontal first, as PIL
    img = pass1d(img, coeffs(h, 224), 0)
    tensors.append(np.transpose(img, (2, 0, 1)).astype(np.float32) / 255)
np.save("work/pil_resize_check/pil.npy", np.stack(tensors))
print(json.dumps({"images": len(meta), "decoder_max_abs": dec_max, "decoder_mean_abs": dec_sum / dec_n, "decoder_values_differing": dec_diff_px / dec_n}))
