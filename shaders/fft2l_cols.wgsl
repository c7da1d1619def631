// fft2l_cols.wgsl: complex FFT along the columns of half-spectrum planes for
// N = N1 * 32 (prepend fft2l_core.wgsl); the inverse multiplies by a gain
// first. Same contract as fft_cols.wgsl:
//
// Bindings:
//   @binding(0) tw      (core) twiddles exp(-2 pi i k / N), k < N
//   @binding(1) params  uniform { planes: u32, inverse: u32, gainStride: u32 }
//   @binding(2) src     array<vec2f>: planes [P, N, BS] (BINS = N/2+1 bins used,
//                        row stride BS = BINS+1)
//   @binding(3) dst     array<vec4f>: [Z, P, N, BS], Z = workgroups in z; written
//                        as bin pairs (vec4) from workgroup memory
//   @binding(4) gain    array<f32>: [M, gainStride], each [N, BS] unshifted;
//                        inverse only, mask workgroup_id.z
// params.inverse != 0: conj(fft(conj(gain * src))), unnormalised (the 1/N is
// applied by the row kernel). Workgroup: 32*T invocations, T columns (T even).
// Dispatch: x = ceil(BINS / T), y = plane, z = mask in chunk.

struct ColParams {
  planes: u32,
  inverse: u32,
  gainStride: u32,
}

@group(0) @binding(1) var<uniform> params: ColParams;
@group(0) @binding(2) var<storage, read> src: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(4) var<storage, read> gain: array<f32>;

var<private> gV0: u32;
var<private> gSrc: u32;
var<private> gGain: u32;
var<private> gDst: u32;
var<private> gInverse: bool;

fn fft_input(t: u32, n: u32) -> vec2f {
  let bins = N / 2u + 1u;
  let v = gV0 + t;
  var z = vec2f(0.0);
  if (v < bins) {
    z = src[gSrc + n * BS + v];
    if (gInverse) {
      z = conj2(z * gain[gGain + n * BS + v]);
    }
  }
  return z;
}

fn fft_output(t: u32, k: u32, z: vec2f) {
  sh[t * N + k] = z;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let bins = N / 2u + 1u;
  gV0 = wid.x * T;
  gSrc = wid.y * N * BS;
  gGain = wid.z * params.gainStride;
  gDst = (wid.z * params.planes + wid.y) * N * BS;
  gInverse = params.inverse != 0u;
  fft_step_a(lid / 32u, lid % 32u);
  workgroupBarrier();
  fft_step_b(lid);
  workgroupBarrier();
  let half = T / 2u;
  for (var i = lid; i < N * half; i += WG) {
    let k = i / half;
    let p = i - k * half;
    let v = gV0 + 2u * p;
    if (v < bins) {
      var z0 = sh[2u * p * N + k];
      var z1 = sh[(2u * p + 1u) * N + k];
      if (gInverse) {
        z0 = conj2(z0);
        z1 = conj2(z1);
      }
      dst[(gDst + k * BS + v) / 2u] = vec4f(z0, z1);
    }
  }
}
