// fftr_rows_c2r.wgsl: inverse complex-to-real FFT along half-spectrum rows,
// one row pair per invocation, transform in registers (after fftr_core.wgsl
// and the generated fft_run() with "quads" outputs), with normalisation and a
// per-channel affine map. Same contract as fft_rows_c2r.wgsl:
//
// Bindings:
//   @binding(1) params  uniform { rows: u32, planeRows: u32, channels: u32, norm: f32 }
//   @binding(2) src     array<vec2f>: [Z, rows, BS] half spectra (Hermitian rows;
//                        BINS = N/2+1 bins used, row stride BS = BINS+1)
//   @binding(3) dst     array<vec4f>: [Z, rows, N] real output (N % 4 == 0)
//   @binding(4) chan    array<vec2f>: (scale, offset) per channel
// Rows 2p, 2p+1 are inverted together: Z[k] = A[k] + i B[k] (A, B extended by
// Hermitian symmetry, imaginary parts of bins 0 and N/2 dropped), computed as
// conj(fft(conj(Z))). Output a[n] * norm * scale[c] + offset[c].
// Override: WG (invocations per workgroup). Dispatch: x = ceil(rows / (2 WG)), z = mask.

override WG: u32 = 64u;

struct C2rParams {
  rows: u32,
  planeRows: u32,
  channels: u32,
  norm: f32,
}

@group(0) @binding(1) var<uniform> params: C2rParams;
@group(0) @binding(2) var<storage, read> src: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(4) var<storage, read> chan: array<vec2f>;

var<private> gA: u32;
var<private> gB: u32;
var<private> gOutA: u32;
var<private> gOutB: u32;
var<private> gOkB: bool;
var<private> gMapA: vec2f;
var<private> gMapB: vec2f;

// Bin k of a Hermitian row from its half spectrum (k is a constant here).
fn half_bin(base: u32, k: u32) -> vec2f {
  if (k == 0u || 2u * k == N) {
    return vec2f(src[base + k].x, 0.0);
  }
  if (2u * k < N) {
    return src[base + k];
  }
  return conj2(src[base + N - k]);
}

fn fft_input(n: u32) -> vec2f {
  let a = half_bin(gA, n);
  let b = half_bin(gB, n);
  // conj(a + i b)
  return vec2f(a.x - b.y, -(a.y + b.x));
}

fn fft_output_quad(n: u32, z0: vec2f, z1: vec2f, z2: vec2f, z3: vec2f) {
  dst[gOutA + n / 4u] = vec4f(z0.x, z1.x, z2.x, z3.x) * gMapA.x + gMapA.y;
  if (gOkB) {
    dst[gOutB + n / 4u] = vec4f(z0.y, z1.y, z2.y, z3.y) * gMapB.x + gMapB.y;
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
) {
  let rows = params.rows;
  let ra = 2u * gid.x;
  if (ra < rows) {
    let rb = min(ra + 1u, rows - 1u);
    gOkB = ra + 1u < rows;
    gA = (wid.z * rows + ra) * BS;
    gB = (wid.z * rows + rb) * BS;
    gOutA = (wid.z * rows + ra) * (N / 4u);
    gOutB = (wid.z * rows + rb) * (N / 4u);
    let ca = chan[(ra / params.planeRows) % params.channels];
    let cb = chan[(rb / params.planeRows) % params.channels];
    gMapA = vec2f(ca.x * params.norm, ca.y);
    // the imaginary part carries row b with a minus sign (conjugate trick)
    gMapB = vec2f(-cb.x * params.norm, cb.y);
    fft_run();
  }
}
