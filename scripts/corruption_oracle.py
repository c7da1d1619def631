#!/usr/bin/python3
"""Independent oracle for hfss's ImageNet-C corruptions.

A transcription of the corruption functions of the original generator
(hendrycks/robustness, ImageNet-C/create_c/make_imagenet_c.py) onto numpy,
scipy, scikit-image, Pillow and ImageMagick's `convert` (Debian:
python3-numpy python3-scipy python3-skimage python3-pil imagemagick). OpenCV
and Wand, which the original also calls, are replaced by their definitions:
`cv2.filter2D`/`GaussianBlur` by scipy correlation with border "mirror"
(OpenCV's reflect-101), `cv2.warpAffine` by `map_coordinates` through the
inverse affine map, `cv2.cvtColor(RGB2GRAY)` by its weights, Wand's
`motion_blur` by `convert -motion-blur`.

Each function takes a random source `rs` with numpy's RandomState API
(`normal`, `uniform`, `randint`, `poisson`, `random`). Two sources:

- `Stream(seed, key...)`: replays hfss's own seeded stream (xoshiro128**,
  `src/rng.ts`) in the order hfss consumes it, so both sides see the same
  noise fields and must agree pixel for pixel;
- `numpy.random.RandomState(seed)`: numpy's own samplers, for statistical
  comparison (mean, std, PSNR against the clean image).

Usage:
  corruption_oracle.py fixtures OUT_DIR [NAME...]
      write the test fixtures (or refresh only the named corruptions)
  corruption_oracle.py compare OURS.npy CLEAN.npy SEED KEYS...
      OURS [N,14,5,224,224,3] uint8 from hfss, CLEAN [N,224,224,3]; prints a
      per-corruption table (PSNR of ours vs oracle, mean absolute difference)
  corruption_oracle.py frost-textures DIR
      write synthetic frost textures (frost1.png ... frost5.jpg) for tests
  corruption_oracle.py frost-fixtures OUT_DIR [TEXTURE_DIR]
      write the frost fixtures (rows, draws, texture hashes)
  corruption_oracle.py frost-compare OURS.npy CLEAN.npy SEED TEXTURE_DIR KEYS...
      OURS [N,5,224,224,3] uint8 (hfss's frost), CLEAN [N,224,224,3]
"""
import io
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import skimage as sk
import skimage.color
import skimage.util
from PIL import Image, ImageOps
from scipy.ndimage import correlate, correlate1d, map_coordinates
from scipy.ndimage import zoom as scizoom
from skimage.filters import gaussian

# ----------------------------------------------------------------- stream --

M32 = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & M32


def _mix32(x):
    x = _imul(x ^ (x >> 16), 0x7FEB352D)
    x = _imul(x ^ (x >> 15), 0x846CA68B)
    return (x ^ (x >> 16)) & M32


def _hash_keys(seed, keys):
    h = _mix32((seed & M32) ^ 0x9E3779B9)
    for key in keys:
        s = ("#%d" % key) if isinstance(key, int) else ("$" + key)
        units = s.encode("utf-16-le")
        for i in range(0, len(units), 2):
            c = units[i] | (units[i + 1] << 8)
            h = _mix32(((h ^ c) + 0x9E3779B9) & M32)
        h = _mix32(h ^ 0x85EBCA6B)
    return h


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Stream:
    """hfss's `new Rng(seed).fork(...keys)`, with numpy-like draws."""

    def __init__(self, seed, *keys):
        x = _hash_keys(seed, list(keys))
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & M32
            s.append(_mix32(x))
        if not any(s):
            s[0] = 1
        self.s = s

    def u32(self):
        s = self.s
        result = _imul(_rotl(_imul(s[1], 5), 7), 9)
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 11)
        return result

    def float(self):
        return self.u32() / 4294967296.0

    def int(self, n):
        limit = 4294967296 - (4294967296 % n)
        while True:
            x = self.u32()
            if x < limit:
                return x % n

    # numpy RandomState API, C order, as hfss consumes the stream.
    def random(self, size):
        n = int(np.prod(size))
        return np.array([self.float() for _ in range(n)]).reshape(size)

    def uniform(self, low=0.0, high=1.0, size=None):
        if size is None:
            return low + (high - low) * self.float()
        return low + (high - low) * self.random(size)

    def std_normal(self):
        """`Rng.normal()`: Box-Muller, the cosine output only."""
        u = 1 - self.float()
        v = self.float()
        return math.sqrt(-2 * math.log(u)) * math.cos(2 * math.pi * v)

    def normal(self, loc=0.0, scale=1.0, size=None):
        n = int(np.prod(size))
        z = np.array([self.std_normal() for _ in range(n)]).reshape(size)
        return z * scale + loc if loc else z * scale

    def randint(self, low, high=None, size=None):
        if high is None:
            low, high = 0, low
        if size is None:
            return low + self.int(high - low)
        n = int(np.prod(size))
        return np.array([low + self.int(high - low) for _ in range(n)]).reshape(size)

    def poisson(self, lam):
        """Poisson by CDF inversion, one uniform per element (vectorised)."""
        lam = np.asarray(lam, dtype=np.float64)
        u = self.random(lam.shape)
        p = np.exp(-lam)
        f = p.copy()
        k = np.zeros(lam.shape, dtype=np.int64)
        active = u > f
        kk = 0
        while active.any() and kk < 1000:
            kk += 1
            p = np.where(active, p * (lam / kk), p)
            f = np.where(active, f + p, f)
            k = np.where(active, kk, k)
            active = active & (u > f) & ~((p == 0) & (kk > lam))
        return k

    def sp_masks(self, shape, amount):
        n = int(np.prod(shape))
        flipped = np.empty(n, dtype=bool)
        salted = np.empty(n, dtype=bool)
        for i in range(n):
            flipped[i] = self.float() < amount
            salted[i] = self.float() < 0.5
        return flipped.reshape(shape), salted.reshape(shape)


# ---------------------------------------------------------------- helpers --


def cv2_gaussian_kernel(n, sigma):
    x = np.arange(n) - (n - 1) * 0.5
    g = np.exp(-0.5 / sigma**2 * x**2)
    return g / g.sum()


def disk(radius, alias_blur=0.1, dtype=np.float32):
    if radius <= 8:
        L = np.arange(-8, 8 + 1)
        ksize = (3, 3)
    else:
        L = np.arange(-radius, radius + 1)
        ksize = (5, 5)
    X, Y = np.meshgrid(L, L)
    aliased_disk = np.array((X**2 + Y**2) <= radius**2, dtype=dtype)
    aliased_disk /= np.sum(aliased_disk)
    # cv2.GaussianBlur(aliased_disk, ksize, sigmaX=alias_blur), reflect-101
    g = cv2_gaussian_kernel(ksize[0], alias_blur)
    out = correlate1d(aliased_disk.astype(np.float64), g, axis=1, mode="mirror")
    return correlate1d(out, g, axis=0, mode="mirror")


def im_motion_blur(img_u8, radius, sigma, angle):
    """Wand's MagickMotionBlurImage through ImageMagick's convert."""
    mode = "L" if img_u8.ndim == 2 else "RGB"
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "in.png"), os.path.join(d, "out.png")
        Image.fromarray(img_u8, mode=mode).save(src)
        subprocess.run(
            ["/usr/bin/convert", src, "-motion-blur",
             "%rx%r+%r" % (radius, sigma, angle), dst],
            check=True,
        )
        return np.array(Image.open(dst).convert(mode))


def plasma_fractal(rs, mapsize=256, wibbledecay=3):
    assert mapsize & (mapsize - 1) == 0
    maparray = np.empty((mapsize, mapsize), dtype=np.float64)
    maparray[0, 0] = 0
    stepsize = mapsize
    wibble = 100

    def wibbledmean(array):
        return array / 4 + wibble * rs.uniform(-wibble, wibble, array.shape)

    def fillsquares():
        cornerref = maparray[0:mapsize:stepsize, 0:mapsize:stepsize]
        squareaccum = cornerref + np.roll(cornerref, shift=-1, axis=0)
        squareaccum += np.roll(squareaccum, shift=-1, axis=1)
        maparray[stepsize // 2:mapsize:stepsize,
                 stepsize // 2:mapsize:stepsize] = wibbledmean(squareaccum)

    def filldiamonds():
        mapsize_ = maparray.shape[0]
        drgrid = maparray[stepsize // 2:mapsize_:stepsize, stepsize // 2:mapsize_:stepsize]
        ulgrid = maparray[0:mapsize_:stepsize, 0:mapsize_:stepsize]
        ldrsum = drgrid + np.roll(drgrid, 1, axis=0)
        lulsum = ulgrid + np.roll(ulgrid, -1, axis=1)
        ltsum = ldrsum + lulsum
        maparray[0:mapsize_:stepsize, stepsize // 2:mapsize_:stepsize] = wibbledmean(ltsum)
        tdrsum = drgrid + np.roll(drgrid, 1, axis=1)
        tulsum = ulgrid + np.roll(ulgrid, -1, axis=0)
        ttsum = tdrsum + tulsum
        maparray[stepsize // 2:mapsize_:stepsize, 0:mapsize_:stepsize] = wibbledmean(ttsum)

    while stepsize >= 2:
        fillsquares()
        filldiamonds()
        stepsize //= 2
        wibble /= wibbledecay

    maparray -= maparray.min()
    return maparray / maparray.max()


def clipped_zoom(img, zoom_factor):
    h = img.shape[0]
    ch = int(np.ceil(h / zoom_factor))
    top = (h - ch) // 2
    img = scizoom(img[top:top + ch, top:top + ch], (zoom_factor, zoom_factor, 1), order=1)
    trim_top = (img.shape[0] - h) // 2
    return img[trim_top:trim_top + h, trim_top:trim_top + h]


def rgb2gray_cv2(x):
    return (x[..., 0] * np.float32(0.299) + x[..., 1] * np.float32(0.587)
            + x[..., 2] * np.float32(0.114)).astype(np.float32)


def warp_affine(image, M):
    """cv2.warpAffine(image, M, size, INTER_LINEAR, BORDER_REFLECT_101)."""
    A = np.vstack([M, [0, 0, 1]])
    inv = np.linalg.inv(A)
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    sx = inv[0, 0] * xx + inv[0, 1] * yy + inv[0, 2]
    sy = inv[1, 0] * xx + inv[1, 1] * yy + inv[1, 2]
    out = np.empty_like(image)
    for c in range(image.shape[2]):
        out[..., c] = map_coordinates(image[..., c], [sy, sx], order=1, mode="mirror")
    return out


# ----------------------------------------------------------- corruptions --


def gaussian_noise(x, severity, rs):
    c = [.08, .12, 0.18, 0.26, 0.38][severity - 1]
    x = np.array(x) / 255.
    return np.clip(x + rs.normal(size=x.shape, scale=c), 0, 1) * 255


def shot_noise(x, severity, rs):
    c = [60, 25, 12, 5, 3][severity - 1]
    x = np.array(x) / 255.
    return np.clip(rs.poisson(x * c) / c, 0, 1) * 255


def impulse_noise(x, severity, rs):
    c = [.03, .06, .09, 0.17, 0.27][severity - 1]
    x = np.array(x) / 255.
    if isinstance(rs, Stream):
        flipped, salted = rs.sp_masks(x.shape, c)
        x = x.copy()
        x[flipped & salted] = 1
        x[flipped & ~salted] = 0
    else:
        x = sk.util.random_noise(x, mode="s&p", amount=c, seed=rs.randint(0, 2**31))
    return np.clip(x, 0, 1) * 255


def defocus_blur(x, severity, rs=None):
    c = [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)][severity - 1]
    x = np.array(x) / 255.
    kernel = disk(radius=c[0], alias_blur=c[1])
    channels = [correlate(x[:, :, d], kernel, mode="mirror") for d in range(3)]
    channels = np.array(channels).transpose((1, 2, 0))
    return np.clip(channels, 0, 1) * 255


def glass_blur(x, severity, rs):
    c = [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)][severity - 1]
    x = np.uint8(gaussian(np.array(x) / 255., sigma=c[0], channel_axis=-1) * 255)
    for i in range(c[2]):
        for h in range(224 - c[1], c[1], -1):
            for w in range(224 - c[1], c[1], -1):
                dx, dy = rs.randint(-c[1], c[1], size=(2,))
                h_prime, w_prime = h + dy, w + dx
                # swap (through numpy views: a copy, as in the original)
                x[h, w], x[h_prime, w_prime] = x[h_prime, w_prime], x[h, w]
    return np.clip(gaussian(x / 255., sigma=c[0], channel_axis=-1), 0, 1) * 255


def motion_blur(x, severity, rs):
    c = [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)][severity - 1]
    angle = rs.uniform(-45, 45)
    return im_motion_blur(np.array(x, dtype=np.uint8), c[0], c[1], angle)


def zoom_blur(x, severity, rs=None):
    c = [np.arange(1, 1.11, 0.01),
         np.arange(1, 1.16, 0.01),
         np.arange(1, 1.21, 0.02),
         np.arange(1, 1.26, 0.02),
         np.arange(1, 1.31, 0.03)][severity - 1]
    x = (np.array(x) / 255.).astype(np.float32)
    out = np.zeros_like(x)
    for zoom_factor in c:
        out += clipped_zoom(x, zoom_factor)
    x = (x + out) / (len(c) + 1)
    return np.clip(x, 0, 1) * 255


FROST_FILES = ["frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg", "frost6.jpg"]


def cv2_imread(path):
    """cv2.imread(path) with IMREAD_COLOR: 8-bit BGR, EXIF orientation
    applied, alpha dropped; decoded by Pillow (libjpeg, as OpenCV)."""
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    return np.array(im)[..., ::-1]


def frost(x, severity, rs, textures_dir):
    c = [(1, 0.4),
         (0.8, 0.6),
         (0.7, 0.7),
         (0.65, 0.7),
         (0.6, 0.75)][severity - 1]
    idx = rs.randint(5)
    filename = [os.path.join(textures_dir, f) for f in FROST_FILES][idx]
    frost = cv2_imread(filename)
    # randomly crop and convert to rgb
    x_start, y_start = rs.randint(0, frost.shape[0] - 224), rs.randint(0, frost.shape[1] - 224)
    frost = frost[x_start:x_start + 224, y_start:y_start + 224][..., [2, 1, 0]]
    return np.clip(c[0] * np.array(x) + c[1] * frost, 0, 255)


def snow(x, severity, rs):
    c = [(0.1, 0.3, 3, 0.5, 10, 4, 0.8),
         (0.2, 0.3, 2, 0.5, 12, 4, 0.7),
         (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
         (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65),
         (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55)][severity - 1]
    x = np.array(x, dtype=np.float32) / 255.
    snow_layer = rs.normal(size=x.shape[:2], loc=c[0], scale=c[1])
    snow_layer = clipped_zoom(snow_layer[..., np.newaxis], c[2])
    snow_layer[snow_layer < c[3]] = 0
    snow_layer = (np.clip(snow_layer.squeeze(), 0, 1) * 255).astype(np.uint8)
    snow_layer = im_motion_blur(snow_layer, c[4], c[5], rs.uniform(-135, -45)) / 255.
    snow_layer = snow_layer[..., np.newaxis]
    x = c[6] * x + (1 - c[6]) * np.maximum(x, rgb2gray_cv2(x).reshape(224, 224, 1) * 1.5 + 0.5)
    return np.clip(x + snow_layer + np.rot90(snow_layer, k=2), 0, 1) * 255


def fog(x, severity, rs):
    c = [(1.5, 2), (2, 2), (2.5, 1.7), (2.5, 1.5), (3, 1.4)][severity - 1]
    x = np.array(x) / 255.
    max_val = x.max()
    x += c[0] * plasma_fractal(rs, wibbledecay=c[1])[:224, :224][..., np.newaxis]
    return np.clip(x * max_val / (max_val + c[0]), 0, 1) * 255


def brightness(x, severity, rs=None):
    c = [.1, .2, .3, .4, .5][severity - 1]
    x = np.array(x) / 255.
    x = sk.color.rgb2hsv(x)
    x[:, :, 2] = np.clip(x[:, :, 2] + c, 0, 1)
    x = sk.color.hsv2rgb(x)
    return np.clip(x, 0, 1) * 255


def contrast(x, severity, rs=None):
    c = [0.4, .3, .2, .1, .05][severity - 1]
    x = np.array(x) / 255.
    means = np.mean(x, axis=(0, 1), keepdims=True)
    return np.clip((x - means) * c + means, 0, 1) * 255


def elastic_transform(image, severity, rs):
    c = [(244 * 2, 244 * 0.7, 244 * 0.1),
         (244 * 2, 244 * 0.08, 244 * 0.2),
         (244 * 0.05, 244 * 0.01, 244 * 0.02),
         (244 * 0.07, 244 * 0.01, 244 * 0.02),
         (244 * 0.12, 244 * 0.01, 244 * 0.02)][severity - 1]
    image = np.array(image, dtype=np.float32) / 255.
    shape = image.shape
    shape_size = shape[:2]
    center_square = np.float32(shape_size) // 2
    square_size = min(shape_size) // 3
    pts1 = np.float32([center_square + square_size,
                       [center_square[0] + square_size, center_square[1] - square_size],
                       center_square - square_size])
    pts2 = pts1 + rs.uniform(-c[2], c[2], size=pts1.shape).astype(np.float32)
    # cv2.getAffineTransform(pts1, pts2)
    A = np.hstack([pts1.astype(np.float64), np.ones((3, 1))])
    M = np.linalg.solve(A, pts2.astype(np.float64)).T
    image = warp_affine(image, M)
    dx = (gaussian(rs.uniform(-1, 1, size=shape[:2]), c[1], mode="reflect", truncate=3) * c[0]).astype(np.float32)
    dy = (gaussian(rs.uniform(-1, 1, size=shape[:2]), c[1], mode="reflect", truncate=3) * c[0]).astype(np.float32)
    dx, dy = dx[..., np.newaxis], dy[..., np.newaxis]
    x, y, z = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]), np.arange(shape[2]))
    indices = np.reshape(y + dy, (-1, 1)), np.reshape(x + dx, (-1, 1)), np.reshape(z, (-1, 1))
    return np.clip(map_coordinates(image, indices, order=1, mode="reflect").reshape(shape), 0, 1) * 255


def pixelate(x, severity, rs=None):
    c = [0.6, 0.5, 0.4, 0.3, 0.25][severity - 1]
    x = Image.fromarray(np.array(x, dtype=np.uint8))
    x = x.resize((int(224 * c), int(224 * c)), Image.BOX)
    x = x.resize((224, 224), Image.BOX)
    return np.array(x)


def jpeg_compression(x, severity, rs=None):
    c = [25, 18, 15, 10, 7][severity - 1]
    output = io.BytesIO()
    Image.fromarray(np.array(x, dtype=np.uint8)).save(output, "JPEG", quality=c)
    return np.array(Image.open(output))


CORRUPTIONS = [
    ("gaussian_noise", gaussian_noise, True),
    ("shot_noise", shot_noise, True),
    ("impulse_noise", impulse_noise, True),
    ("defocus_blur", defocus_blur, False),
    ("glass_blur", glass_blur, True),
    ("motion_blur", motion_blur, True),
    ("zoom_blur", zoom_blur, False),
    ("snow", snow, True),
    ("fog", fog, True),
    ("brightness", brightness, False),
    ("contrast", contrast, False),
    ("elastic_transform", elastic_transform, True),
    ("pixelate", pixelate, False),
    ("jpeg_compression", jpeg_compression, False),
]


def corrupt(name, x, severity, rs):
    fn = dict((n, f) for n, f, _ in CORRUPTIONS)[name]
    # The original saves np.uint8(output): truncation.
    return np.uint8(fn(x, severity, rs))


# --------------------------------------------------------------- fixtures --

ROWS = [0, 32, 64, 96, 128, 160, 192, 223]
SEED = 7
STAT_DRAWS = 6


def synthetic_images():
    """Two 224x224 test pictures: gradients, shapes, texture, flat and saturated areas."""
    rng = np.random.RandomState(2019)
    yy, xx = np.mgrid[0:224, 0:224] / 223.0
    a = np.stack([xx, yy, 1 - xx * yy], -1)
    a[40:110, 30:120] = [0.9, 0.2, 0.1]
    r = np.hypot(yy - 0.65, xx - 0.7)
    a[r < 0.18] = [0.1, 0.5, 0.95]
    a[150:200, 20:80] = 1.0
    a[10:40, 150:210] = 0.0
    a += 0.04 * rng.standard_normal(a.shape) * (xx[..., None] > 0.5)
    b = 0.5 + 0.35 * np.sin(xx[..., None] * np.array([9, 17, 23]) + yy[..., None] * np.array([13, 5, 29]))
    b[100:124, :] = [0.2, 0.8, 0.3]
    b[:, 100:110] = [0.95, 0.9, 0.1]
    return [np.uint8(np.clip(a, 0, 1) * 255 + 0.5), np.uint8(np.clip(b, 0, 1) * 255 + 0.5)]


def stats(out, clean):
    o = out.astype(np.float64)
    mse = np.mean((o - clean.astype(np.float64)) ** 2)
    return [o.mean(), o.std(), 10 * math.log10(255**2 / mse) if mse > 0 else 99.0]


def write_fixtures(out_dir, only=None):
    """Write every fixture, or with `only` (corruption names) refresh those
    corruptions' rows and statistics in the existing files."""
    os.makedirs(out_dir, exist_ok=True)
    imgs = synthetic_images()
    rows_path = os.path.join(out_dir, "expected_rows.npy")
    meta_path = os.path.join(out_dir, "oracle.json")
    if only:
        rows = np.load(rows_path)
        with open(meta_path) as f:
            stat = json.load(f)["stats_mean_std_psnr"]
    else:
        for k, img in enumerate(imgs):
            Image.fromarray(img).save(os.path.join(out_dir, "clean_%d.png" % k), optimize=True)
        rows = np.zeros((len(imgs), len(CORRUPTIONS), 5, len(ROWS), 224, 3), dtype=np.uint8)
        stat = {}
    for k, img in enumerate(imgs):
        for ci, (name, _, random) in enumerate(CORRUPTIONS):
            if only and name not in only:
                continue
            for s in range(1, 6):
                out = corrupt(name, img, s, Stream(SEED, "corrupt", "clean_%d" % k, name, s))
                rows[k, ci, s - 1] = out[ROWS]
                if random:
                    draws = [stats(corrupt(name, img, s, np.random.RandomState(1000 * s + d)), img)
                             for d in range(STAT_DRAWS)]
                    stat["%d/%s/%d" % (k, name, s)] = np.mean(draws, axis=0).tolist()
            print("image %d %s" % (k, name), file=sys.stderr)
    np.save(rows_path, rows)
    with open(meta_path, "w") as f:
        json.dump({
            "seed": SEED,
            "rows": ROWS,
            "corruptions": [n for n, _, _ in CORRUPTIONS],
            "stat_draws": STAT_DRAWS,
            "stats_mean_std_psnr": stat,
        }, f, indent=1, sort_keys=True)


# ---------------------------------------------------------------- frost --

# Synthetic stand-ins for the original's frost photographs (which hfss does
# not ship): (file, height, width). frost3 leaves offsets of 0-4 and 0-1.
FROST_FIXTURE_TEXTURES = [
    ("frost1.png", 250, 300),
    ("frost2.png", 310, 240),
    ("frost3.png", 229, 226),
    ("frost4.jpg", 240, 330),
    ("frost5.jpg", 300, 280),
]
FROST_KEYS = 3


def write_frost_textures(out_dir):
    """Deterministic test textures: PNGs of wrapping ramps (a few KB), JPEGs
    (quality 75, 4:2:0; frost5 progressive) of smooth sinusoids."""
    os.makedirs(out_dir, exist_ok=True)
    for n, (name, h, w) in enumerate(FROST_FIXTURE_TEXTURES):
        rng = np.random.RandomState(100 + n)
        yy, xx = np.mgrid[0:h, 0:w]
        if name.endswith(".png"):
            a = rng.randint(1, 9, size=(3, 2))
            c = rng.randint(0, 256, size=3)
            img = np.stack([(a[k, 0] * xx + a[k, 1] * yy + c[k]) & 255 for k in range(3)], -1)
            img[(yy // 20 + xx // 20) % 2 == 0, 1] //= 2
            Image.fromarray(img.astype(np.uint8)).save(os.path.join(out_dir, name), optimize=True)
        else:
            acc = np.zeros((h, w, 3))
            for k in range(3):
                for _ in range(4):
                    fx, fy, ph = rng.uniform(0.01, 0.08), rng.uniform(0.01, 0.08), rng.uniform(0, 6.28)
                    acc[..., k] += np.sin(fx * xx + fy * yy + ph)
            img = np.uint8(np.clip(128 + 30 * acc, 0, 255))
            Image.fromarray(img).save(os.path.join(out_dir, name), quality=75,
                                      progressive=name == "frost5.jpg")


class Recording:
    """A random source that records what it returned (the frost draws)."""

    def __init__(self, rs):
        self.rs, self.draws = rs, []

    def randint(self, *a, **k):
        v = self.rs.randint(*a, **k)
        self.draws.append(int(v))
        return v


def write_frost_fixtures(out_dir, textures_dir):
    """Rows of frost on the two test pictures, `FROST_KEYS` image keys each,
    every severity, hfss's stream replayed; the draws; the textures' hashes
    (file bytes, and the RGB pixels Pillow decodes)."""
    import hashlib
    imgs = synthetic_images()
    rows = np.zeros((len(imgs), FROST_KEYS, 5, len(ROWS), 224, 3), dtype=np.uint8)
    draws = {}
    for k, img in enumerate(imgs):
        for j in range(FROST_KEYS):
            key = "frost_%d_%d" % (k, j)
            for s in range(1, 6):
                rs = Recording(Stream(SEED, "corrupt", key, "frost", s))
                out = np.uint8(frost(img, s, rs, textures_dir))
                rows[k, j, s - 1] = out[ROWS]
                draws["%s/%d" % (key, s)] = rs.draws
    np.save(os.path.join(out_dir, "expected_rows.npy"), rows)
    textures = {}
    for name, _, _ in FROST_FIXTURE_TEXTURES:
        path = os.path.join(textures_dir, name)
        with open(path, "rb") as f:
            raw = f.read()
        rgb = np.ascontiguousarray(cv2_imread(path)[..., ::-1])
        textures[name] = {
            "sha256": hashlib.sha256(raw).hexdigest(),
            "rgb_sha256": hashlib.sha256(rgb.tobytes()).hexdigest(),
            "shape": list(rgb.shape),
        }
    with open(os.path.join(out_dir, "oracle.json"), "w") as f:
        json.dump({
            "seed": SEED,
            "rows": ROWS,
            "keys": ["frost_%d_%d" % (k, j) for k in range(len(imgs)) for j in range(FROST_KEYS)],
            "draws_index_top_left": draws,
            "textures": textures,
        }, f, indent=2, sort_keys=True)
        f.write("\n")


def frost_compare(ours_path, clean_path, seed, textures_dir, keys):
    """OURS [N,5,224,224,3] uint8 (hfss's frost, lossless), CLEAN [N,224,224,3]."""
    ours = np.load(ours_path)
    clean = np.load(clean_path)
    print("severity\tpsnr_vs_oracle_db\tmad_8bit\tmax_abs\tidentical_images")
    for s in range(1, 6):
        mses, mads, mx, same = [], [], 0, 0
        for k in range(len(keys)):
            ref = np.uint8(frost(clean[k], s, Stream(seed, "corrupt", keys[k], "frost", s), textures_dir))
            d = ours[k, s - 1].astype(np.float64) - ref.astype(np.float64)
            mses.append(np.mean(d**2))
            mads.append(np.mean(np.abs(d)))
            mx = max(mx, np.abs(d).max())
            same += int(not d.any())
        mse = np.mean(mses)
        psnr = 10 * math.log10(255**2 / mse) if mse > 0 else float("inf")
        print("%d\t%.2f\t%.4f\t%d\t%d/%d" % (s, psnr, np.mean(mads), mx, same, len(keys)), flush=True)


def compare(ours_path, clean_path, seed, keys):
    ours = np.load(ours_path)
    clean = np.load(clean_path)
    print("corruption\tseverity\tpsnr_vs_oracle_db\tmad_8bit\tmax_abs")
    res = {}
    for ci, (name, _, _) in enumerate(CORRUPTIONS):
        for s in range(1, 6):
            mses, mads, mx = [], [], 0
            for k in range(len(keys)):
                ref = corrupt(name, clean[k], s, Stream(seed, "corrupt", keys[k], name, s)).astype(np.float64)
                d = ours[k, ci, s - 1].astype(np.float64) - ref
                mses.append(np.mean(d**2))
                mads.append(np.mean(np.abs(d)))
                mx = max(mx, np.abs(d).max())
            mse = np.mean(mses)
            psnr = 10 * math.log10(255**2 / mse) if mse > 0 else float("inf")
            res["%s/%d" % (name, s)] = [psnr, float(np.mean(mads)), float(mx)]
            print("%s\t%d\t%.2f\t%.4f\t%d" % (name, s, psnr, np.mean(mads), mx), flush=True)
    return res


if __name__ == "__main__":
    if sys.argv[1] == "fixtures":
        write_fixtures(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:])
    elif sys.argv[1] == "frost-textures":
        write_frost_textures(sys.argv[2])
    elif sys.argv[1] == "frost-fixtures":
        write_frost_fixtures(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else sys.argv[2])
    elif sys.argv[1] == "frost-compare":
        frost_compare(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6:])
    else:
        sys.exit(__doc__)
