// fft_cols.wgsl: complex FFT along the columns of half-spectrum planes, with
// an optional per-bin gain (the mask) applied before an inverse transform
// (prepend fft_core.wgsl).
//
// Bindings:
//   @binding(0) tw      (core) twiddles exp(-2 pi i k / N), k < N
//   @binding(1) params  uniform { planes: u32, inverse: u32, gainStride: u32 }
//   @binding(2) src     array<vec2f>: planes [P, N, BINS] (row-major, BINS = N/2+1)
//   @binding(3) dst     array<vec2f>: [Z, P, N, BINS], Z = workgroups in z
//   @binding(4) gain    array<f32>: gains [M, gainStride], each [N, BINS] (unshifted layout),
//                        used by the inverse; mask workgroup_id.z
// params.inverse != 0: conjugate-trick inverse, unnormalised (the 1/N is
// applied by fft_rows_c2r), with src multiplied by the gain first. (Flags are
// uniforms, not overrides: naga 29 panics on override-controlled branches
// here.)
// Dispatch: x = ceil(BINS / T) column groups, y = plane, z = mask in chunk.

struct ColParams {
  planes: u32,
  inverse: u32,
  gainStride: u32,
}

@group(0) @binding(1) var<uniform> params: ColParams;
@group(0) @binding(2) var<storage, read> src: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec2f>;
@group(0) @binding(4) var<storage, read> gain: array<f32>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let bins = N / 2u + 1u;
  let plane = wid.y;
  let v0 = wid.x * T;
  let srcBase = plane * N * bins;
  let gainBase = wid.z * params.gainStride;
  let inverse = params.inverse != 0u;
  let dstBase = (wid.z * params.planes + plane) * N * bins;
  for (var i = lid; i < T * N; i += WG) {
    let n = i / T;
    let t = i - n * T;
    let v = v0 + t;
    var z = vec2f(0.0);
    if (v < bins) {
      z = src[srcBase + n * bins + v];
      if (inverse) {
        z = conj2(z * gain[gainBase + n * bins + v]);
      }
    }
    buf[i] = z;
  }
  let res = fft_stages(lid);
  for (var i = lid; i < T * N; i += WG) {
    let n = i / T;
    let t = i - n * T;
    let v = v0 + t;
    if (v < bins) {
      var z = buf[res + i];
      if (inverse) {
        z = conj2(z);
      }
      dst[dstBase + n * bins + v] = z;
    }
  }
}
