// fft_rows_c2r.wgsl: inverse complex-to-real FFT along half-spectrum rows,
// with the 2D normalisation and a per-channel affine map (prepend fft_core.wgsl).
//
// Bindings:
//   @binding(0) tw      (core) twiddles exp(-2 pi i k / N), k < N
//   @binding(1) params  uniform { rows: u32, planeRows: u32, channels: u32, norm: f32 }
//                        rows = real rows per mask (B*C*S), planeRows = S
//   @binding(2) src     array<vec2f>: [Z, rows, BINS] half spectra (Hermitian rows)
//   @binding(3) dst     array<f32>: [Z, rows, N] real output
//   @binding(4) chan    array<vec2f>: (scale, offset) per channel
// Rows 2p, 2p+1 are inverted together: Z[k] = A[k] + i B[k] over all k (A, B
// extended by Hermitian symmetry, imaginary parts of bins 0 and N/2 dropped);
// ifft(Z) = a + i b. Output: a[n] * norm * scale[c] + offset[c], c the channel
// of the row ((row / planeRows) % channels); norm = 1/(S*S) for a 2D inverse.
// Dispatch: x = ceil(rows / (2 T)), z = mask in chunk.

struct C2rParams {
  rows: u32,
  planeRows: u32,
  channels: u32,
  norm: f32,
}

@group(0) @binding(1) var<uniform> params: C2rParams;
@group(0) @binding(2) var<storage, read> src: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<storage, read> chan: array<vec2f>;

fn half_bin(row: u32, k: u32, bins: u32, base: u32) -> vec2f {
  var z: vec2f;
  if (k < bins) {
    z = src[base + row * bins + k];
  } else {
    z = conj2(src[base + row * bins + (N - k)]);
  }
  if (k == 0u || 2u * k == N) {
    z.y = 0.0;
  }
  return z;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let rows = params.rows;
  let bins = N / 2u + 1u;
  let p0 = wid.x * T;
  let srcBase = wid.z * rows * bins;
  let dstBase = wid.z * rows * N;
  for (var i = lid; i < T * N; i += WG) {
    let t = i / N;
    let k = i - t * N;
    let ra = 2u * (p0 + t);
    var a = vec2f(0.0);
    var b = vec2f(0.0);
    if (ra < rows) {
      a = half_bin(ra, k, bins, srcBase);
    }
    if (ra + 1u < rows) {
      b = half_bin(ra + 1u, k, bins, srcBase);
    }
    // conj(a + i b) feeds the forward core: ifft(Z) = conj(fft(conj(Z))).
    buf[k * T + t] = vec2f(a.x - b.y, -(a.y + b.x));
  }
  let res = fft_stages(lid);
  for (var i = lid; i < T * N; i += WG) {
    let t = i / N;
    let n = i - t * N;
    let ra = 2u * (p0 + t);
    let z = buf[res + n * T + t];
    if (ra < rows) {
      let c = chan[(ra / params.planeRows) % params.channels];
      dst[dstBase + ra * N + n] = z.x * params.norm * c.x + c.y;
    }
    if (ra + 1u < rows) {
      let c = chan[((ra + 1u) / params.planeRows) % params.channels];
      dst[dstBase + (ra + 1u) * N + n] = -z.y * params.norm * c.x + c.y;
    }
  }
}
