// fft_rows_r2c.wgsl: forward real-to-complex FFT along the rows of real
// images (prepend fft_core.wgsl).
//
// Bindings:
//   @binding(0) tw      (core) twiddles exp(-2 pi i k / N), k < N
//   @binding(1) params  uniform { rows: u32 }: number of real rows in `src`
//   @binding(2) src     array<f32>: real rows of length N, row r at r*N
//                        (an image batch [B,C,S,S] is B*C*S rows)
//   @binding(3) dst     array<vec2f>: half-spectrum rows, BINS = N/2+1 complex
//                        bins per row, row r at r*BINS
// Two real rows 2p and 2p+1 travel as one complex row z = a + i b (one FFT);
// A[k] = (Z[k] + conj(Z[-k]))/2, B[k] = -i (Z[k] - conj(Z[-k]))/2.
// Normalisation: none (unnormalised forward DFT).
// Dispatch: x = ceil(rows / (2 T)) workgroups.

struct RowParams {
  rows: u32,
}

@group(0) @binding(1) var<uniform> params: RowParams;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec2f>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let rows = params.rows;
  let bins = N / 2u + 1u;
  let p0 = wid.x * T;
  for (var i = lid; i < T * N; i += WG) {
    let t = i / N;
    let n = i - t * N;
    let ra = 2u * (p0 + t);
    var a = 0.0;
    var b = 0.0;
    if (ra < rows) {
      a = src[ra * N + n];
    }
    if (ra + 1u < rows) {
      b = src[(ra + 1u) * N + n];
    }
    buf[n * T + t] = vec2f(a, b);
  }
  let res = fft_stages(lid);
  for (var i = lid; i < T * bins; i += WG) {
    let t = i / bins;
    let k = i - t * bins;
    let ra = 2u * (p0 + t);
    let z = buf[res + k * T + t];
    let zc = conj2(buf[res + ((N - k) % N) * T + t]);
    if (ra < rows) {
      dst[ra * bins + k] = (z + zc) * 0.5;
    }
    if (ra + 1u < rows) {
      dst[(ra + 1u) * bins + k] = mni(z - zc) * 0.5;
    }
  }
}
