// fft2l_rows_c2r.wgsl: inverse complex-to-real FFT along half-spectrum rows
// for N = N1 * 32, with normalisation and a per-channel affine map (prepend
// fft2l_core.wgsl). Same contract as fft_rows_c2r.wgsl:
//
// Bindings:
//   @binding(0) tw      (core) twiddles exp(-2 pi i k / N), k < N
//   @binding(1) params  uniform { rows: u32, planeRows: u32, channels: u32, norm: f32 }
//   @binding(2) src     array<vec2f>: [Z, rows, BS] half spectra (Hermitian rows;
//                        BINS = N/2+1 bins used, row stride BS = BINS+1)
//   @binding(3) dst     array<vec4f>: [Z, rows, N] real output (N % 4 == 0)
//   @binding(4) chan    array<vec2f>: (scale, offset) per channel
// Rows 2p, 2p+1 are inverted together: Z[k] = A[k] + i B[k] (A, B extended by
// Hermitian symmetry, imaginary parts of bins 0 and N/2 dropped), computed as
// conj(fft(conj(Z))). Output a[n] * norm * scale[c] + offset[c], staged in
// workgroup memory and written as vec4 (fewer, wider global stores).
// Workgroup: 32*T invocations, T row pairs. Dispatch: x = ceil(rows / (2 T)), z = mask.

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

var<private> gRow0: u32;
var<private> gSrc: u32;

// Bin k of a Hermitian row from its half spectrum; branch-free, so that
// lanes on both sides of the half share one load.
fn half_bin(row: u32, k: u32) -> vec2f {
  let bins = N / 2u + 1u;
  let low = k < bins;
  let z = src[gSrc + row * BS + select(N - k, k, low)];
  let keepIm = low && k != 0u && 2u * k != N;
  return vec2f(z.x, select(select(-z.y, 0.0, k == 0u || 2u * k == N), z.y, keepIm));
}

fn fft_input(t: u32, n: u32) -> vec2f {
  let ra = gRow0 + 2u * t;
  var a = vec2f(0.0);
  var b = vec2f(0.0);
  if (ra < params.rows) {
    a = half_bin(ra, n);
  }
  if (ra + 1u < params.rows) {
    b = half_bin(ra + 1u, n);
  }
  return vec2f(a.x - b.y, -(a.y + b.x));
}

fn fft_output(t: u32, k: u32, z: vec2f) {
  sh[t * N + k] = z;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let rows = params.rows;
  gRow0 = wid.x * 2u * T;
  gSrc = wid.z * rows * BS;
  fft_step_a(lid / 32u, lid % 32u);
  workgroupBarrier();
  fft_step_b(lid);
  workgroupBarrier();
  let dst4 = wid.z * rows * (N / 4u);
  let quads = N / 4u;
  for (var i = lid; i < T * quads; i += WG) {
    let t = i / quads;
    let q = i - t * quads;
    let ra = gRow0 + 2u * t;
    let s0 = sh[t * N + 4u * q];
    let s1 = sh[t * N + 4u * q + 1u];
    let s2 = sh[t * N + 4u * q + 2u];
    let s3 = sh[t * N + 4u * q + 3u];
    if (ra < rows) {
      let c = chan[(ra / params.planeRows) % params.channels];
      dst[dst4 + ra * quads + q] = vec4f(s0.x, s1.x, s2.x, s3.x) * (c.x * params.norm) + c.y;
    }
    if (ra + 1u < rows) {
      let c = chan[((ra + 1u) / params.planeRows) % params.channels];
      dst[dst4 + (ra + 1u) * quads + q] = vec4f(s0.y, s1.y, s2.y, s3.y) * (-c.x * params.norm) + c.y;
    }
  }
}
