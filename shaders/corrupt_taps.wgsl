// corrupt_taps.wgsl: a sparse 2-D correlation with a per-image tap list, for
// the defocus (disk kernel) and motion (one-sided line) blurs of ImageNet-C.
//
//   dst[b, y, x, c] = sum_t w[b, t] * src[b, border(y + dy[b, t]), border(x + dx[b, t]), c]
//
// Bindings:
//   @binding(0) src   array<f32>   (read)        [B, S, S, 3] HWC, any scale
//   @binding(1) taps  array<vec4f> (read)        [B, T] (dx, dy, w, unused)
//   @binding(2) count array<u32>   (read)        [B] taps used per image (<= T)
//   @binding(3) dst   array<f32>   (read_write)  [B, S, S, 3]
//   @binding(4) p     uniform Params
// Border: 0 = repeat the edge pixel (ImageMagick's default virtual pixels),
// 1 = reflect-101 (OpenCV's BORDER_DEFAULT: d c b | a b c d).
// Normalisation: none (the taps carry the weights). Accumulates in f32.
// Dispatch: x = ceil(S*S / WG), y = B; one invocation per pixel, 3 channels.

override WG: u32 = 64u;

struct Params {
  size: u32,
  stride: u32,
  border: u32,
  images: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> taps: array<vec4f>;
@group(0) @binding(2) var<storage, read> count: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn edge(i: i32, n: i32) -> i32 {
  if (p.border == 0u) {
    return clamp(i, 0, n - 1);
  }
  if (n == 1) {
    return 0;
  }
  let period = 2 * n - 2;
  var j = i % period;
  if (j < 0) {
    j += period;
  }
  if (j >= n) {
    j = period - j;
  }
  return j;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.size;
  let pix = gid.x;
  let b = gid.y;
  if (pix >= s * s || b >= p.images) {
    return;
  }
  let n = i32(s);
  let y = i32(pix / s);
  let x = i32(pix % s);
  let base = b * s * s * 3u;
  let tb = b * p.stride;
  var acc = vec3f(0.0);
  for (var t = 0u; t < count[b]; t++) {
    let tap = taps[tb + t];
    let yy = edge(y + i32(tap.y), n);
    let xx = edge(x + i32(tap.x), n);
    let q = base + (u32(yy) * s + u32(xx)) * 3u;
    acc += tap.z * vec3f(src[q], src[q + 1u], src[q + 2u]);
  }
  let o = base + pix * 3u;
  dst[o] = acc.x;
  dst[o + 1u] = acc.y;
  dst[o + 2u] = acc.z;
}
