// fft2l_rows_r2c.wgsl: forward real-to-complex FFT along rows for
// N = N1 * 32 (prepend fft2l_core.wgsl). Same contract as fft_rows_r2c.wgsl:
//
// Bindings:
//   @binding(0) tw      (core) twiddles exp(-2 pi i k / N), k < N
//   @binding(1) params  uniform { rows: u32 }: number of real rows in `src`
//   @binding(2) src     array<vec4f>: real rows of length N (N % 4 == 0), row r at r*N floats
//   @binding(3) dst     array<vec4f>: half-spectrum rows of BINS = N/2+1 complex
//                        bins, row r at r*BS complex (BS = BINS+1, even); bin
//                        pairs are stored as one vec4 (the pad bin gets junk)
// Rows 2p and 2p+1 travel as one complex row z = a + i b;
// A[k] = (Z[k] + conj(Z[-k]))/2, B[k] = -i (Z[k] - conj(Z[-k]))/2.
// Normalisation: none. Workgroup: 32*T invocations, T row pairs.
// Dispatch: x = ceil(rows / (2 T)).

struct RowParams {
  rows: u32,
}

@group(0) @binding(1) var<uniform> params: RowParams;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4f>;

var<private> gRow0: u32;

fn fft_input(t: u32, n: u32) -> vec2f {
  let ra = gRow0 + 2u * t;
  var a = 0.0;
  var b = 0.0;
  if (ra < params.rows) {
    a = src[ra * N + n];
  }
  if (ra + 1u < params.rows) {
    b = src[(ra + 1u) * N + n];
  }
  return vec2f(a, b);
}

fn fft_output(t: u32, k: u32, z: vec2f) {
  sh[t * N + k] = z;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  gRow0 = wid.x * 2u * T;
  fft_step_a(lid / 32u, lid % 32u);
  workgroupBarrier();
  fft_step_b(lid);
  workgroupBarrier();
  let rows = params.rows;
  let pairs = BS / 2u;
  for (var i = lid; i < T * pairs; i += WG) {
    let t = i / pairs;
    let k = 2u * (i - t * pairs);
    let ra = gRow0 + 2u * t;
    let z0 = sh[t * N + k];
    let c0 = conj2(sh[t * N + (N - k) % N]);
    let z1 = sh[t * N + k + 1u];
    let c1 = conj2(sh[t * N + (N - k - 1u)]);
    if (ra < rows) {
      dst[ra * pairs + k / 2u] = vec4f(z0 + c0, z1 + c1) * 0.5;
    }
    if (ra + 1u < rows) {
      dst[(ra + 1u) * pairs + k / 2u] = vec4f(mni(z0 - c0), mni(z1 - c1)) * 0.5;
    }
  }
}
