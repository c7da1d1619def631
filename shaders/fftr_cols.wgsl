// fftr_cols.wgsl: complex FFT along the columns of half-spectrum planes, two
// adjacent columns per invocation (vec4f = two complex values), transform in
// registers (after fftr_core.wgsl and the generated fft_run() with "full"
// outputs and width 2); the inverse multiplies by a gain first. Same contract
// as fft_cols.wgsl:
//
// Bindings:
//   @binding(1) params  uniform { planes: u32, inverse: u32, gainStride: u32 }
//   @binding(2) src     array<vec4f>: planes [P, N, BS] complex (BINS = N/2+1
//                        bins used, row stride BS = BINS+1, even)
//   @binding(3) dst     array<vec4f>: [Z, P, N, BS], Z = workgroups in z
//   @binding(4) gain    array<vec2f>: [M, gainStride] floats, each mask
//                        [N, BS] unshifted; inverse only, mask workgroup_id.z
// The pad column BINS is transformed too (junk in, junk out, never read as a bin).
// params.inverse != 0: conj(fft(conj(gain * src))), unnormalised (the 1/N is
// applied by the row kernel). Override: WG (invocations per workgroup).
// Dispatch: x = ceil(P * BS/2 / WG), z = mask in chunk.

override WG: u32 = 64u;

struct ColParams {
  planes: u32,
  inverse: u32,
  gainStride: u32,
}

@group(0) @binding(1) var<uniform> params: ColParams;
@group(0) @binding(2) var<storage, read> src: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(4) var<storage, read> gain: array<vec2f>;

// indices in vec4 (= vec2 gain) units
var<private> gSrc: u32;
var<private> gGain: u32;
var<private> gDst: u32;
var<private> gInverse: bool;

fn fft_input(n: u32) -> vec4f {
  var z = src[gSrc + n * (BS / 2u)];
  if (gInverse) {
    let g = gain[gGain + n * (BS / 2u)];
    z = vec4f(z.x * g.x, -z.y * g.x, z.z * g.y, -z.w * g.y);
  }
  return z;
}

fn fft_output(k: u32, z: vec4f) {
  var o = z;
  if (gInverse) {
    o = vec4f(z.x, -z.y, z.z, -z.w);
  }
  dst[gDst + k * (BS / 2u)] = o;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
) {
  let pairs = BS / 2u;
  let plane = gid.x / pairs;
  let p = gid.x - plane * pairs;
  if (plane < params.planes) {
    gSrc = plane * N * pairs + p;
    gGain = wid.z * (params.gainStride / 2u) + p;
    gDst = (wid.z * params.planes + plane) * N * pairs + p;
    gInverse = params.inverse != 0u;
    fft_run();
  }
}
