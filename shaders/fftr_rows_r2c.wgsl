// fftr_rows_r2c.wgsl: forward real-to-complex FFT along rows, one row pair
// per invocation, transform in registers (after fftr_core.wgsl and the
// generated fft_run() with "pairs" outputs). Same contract as fft_rows_r2c.wgsl:
//
// Bindings:
//   @binding(1) params  uniform { rows: u32 }: number of real rows in `src`
//   @binding(2) src     array<f32>: real rows of length N, row r at r*N
//   @binding(3) dst     array<vec4f>: half-spectrum rows of BINS = N/2+1
//                        complex bins, row stride BS = BINS+1 complex; bin pairs
//                        (k, k+1) stored as one vec4 (the pad bin gets junk)
// Rows 2p and 2p+1 travel as one complex row z = a + i b;
// A[k] = (Z[k] + conj(Z[-k]))/2, B[k] = -i (Z[k] - conj(Z[-k]))/2.
// Normalisation: none. Override: WG (invocations per workgroup).
// Dispatch: x = ceil(rows / (2 WG)).

override WG: u32 = 64u;

struct RowParams {
  rows: u32,
}

@group(0) @binding(1) var<uniform> params: RowParams;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4f>;

var<private> gA: u32;
var<private> gB: u32;
var<private> gOutA: u32;
var<private> gOutB: u32;
var<private> gOkB: bool;

fn fft_input(n: u32) -> vec2f {
  return vec2f(src[gA + n], src[gB + n]);
}

fn fft_output_pair(k: u32, z0: vec2f, m0: vec2f, z1: vec2f, m1: vec2f) {
  let c0 = conj2(m0);
  let c1 = conj2(m1);
  dst[gOutA + k / 2u] = vec4f(z0 + c0, z1 + c1) * 0.5;
  if (gOkB) {
    dst[gOutB + k / 2u] = vec4f(mni(z0 - c0), mni(z1 - c1)) * 0.5;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let rows = params.rows;
  let ra = 2u * gid.x;
  if (ra < rows) {
    let rb = min(ra + 1u, rows - 1u);
    gOkB = ra + 1u < rows;
    gA = ra * N;
    gB = rb * N;
    gOutA = ra * (BS / 2u);
    gOutB = rb * (BS / 2u);
    fft_run();
  }
}
