// corrupt_zoom.wgsl: ImageNet-C zoom blur, the mean of an image and its
// centre zooms (scipy.ndimage.zoom, order 1, corner-aligned), per pixel.
//
// For zoom k with crop side ch_k, crop origin top_k, output trim trim_k and
// ratio r_k = (ch_k - 1) / (round(ch_k * z_k) - 1), output pixel (y, x) reads
// the crop at ((y + trim_k) * r_k, (x + trim_k) * r_k) bilinearly; the result is
// (src + sum_k zoom_k) / (K + 1).
//
// Bindings:
//   @binding(0) src   array<f32>   (read)       [B, S, S, 3] HWC in [0, 1]
//   @binding(1) zooms array<vec4f> (read)       [K] (ratio, top, trim, ch)
//   @binding(2) dst   array<f32>   (read_write) [B, S, S, 3]
//   @binding(3) p     uniform Params
// Normalisation: divides by K + 1. Accumulates in f32 (as the original).
// Dispatch: x = ceil(S*S / WG), y = B.

override WG: u32 = 64u;

struct Params {
  size: u32,
  zooms: u32,
  images: u32,
  pad: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> zooms: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn px(base: u32, y: u32, x: u32) -> vec3f {
  let q = base + (y * p.size + x) * 3u;
  return vec3f(src[q], src[q + 1u], src[q + 2u]);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.size;
  let pix = gid.x;
  let b = gid.y;
  if (pix >= s * s || b >= p.images) {
    return;
  }
  let y = pix / s;
  let x = pix % s;
  let base = b * s * s * 3u;
  var acc = vec3f(0.0);
  for (var k = 0u; k < p.zooms; k++) {
    let z = zooms[k];
    let top = u32(z.y);
    let ch = u32(z.w);
    let cy = f32(y + u32(z.z)) * z.x;
    let cx = f32(x + u32(z.z)) * z.x;
    let fy = min(u32(floor(cy)), ch - 1u);
    let fx = min(u32(floor(cx)), ch - 1u);
    let ty = cy - f32(fy);
    let tx = cx - f32(fx);
    let y0 = top + fy;
    let x0 = top + fx;
    let y1 = top + min(fy + 1u, ch - 1u);
    let x1 = top + min(fx + 1u, ch - 1u);
    let a = px(base, y0, x0) * (1.0 - tx) + px(base, y0, x1) * tx;
    let c = px(base, y1, x0) * (1.0 - tx) + px(base, y1, x1) * tx;
    acc += a * (1.0 - ty) + c * ty;
  }
  let o = base + pix * 3u;
  let v = (px(base, y, x) + acc) / f32(p.zooms + 1u);
  dst[o] = v.x;
  dst[o + 1u] = v.y;
  dst[o + 2u] = v.z;
}
