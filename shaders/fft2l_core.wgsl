// fft2l_core.wgsl: two-level FFT core for lengths N = N1 * 32 (N1 in
// 1, 2, 3, 4, 5, 7, 8), prepended (plain concatenation, no templating) to
// fft2l_rows_r2c.wgsl, fft2l_cols.wgsl and fft2l_rows_c2r.wgsl, and preceded
// by fft_codelets.wgsl (complex helpers, DFT-3/4/5/7/8).
//
// With n = a + 32 n1 and k = k1 + N1 k2:
//   step A (invocation a, one per a < 32): Y[k1][a] = w_N^(a k1) DFT_N1(x[a + 32 n1])
//   step B (invocation k1, one per k1 < N1): X[k1 + N1 k2] = DFT_32(Y[k1][.])
// Everything within a step stays in registers: workgroup memory is written and
// read once per element (lavapipe, which runs a workgroup on one CPU thread,
// pays per-lane for every memory access, so this is what matters there).
// The DFT-32 codelet (4 x DFT-8, constant twiddles, 8 x DFT-4) is written out
// below (generated once from a small script; edit by hand).
//
// Bindings used by the core: @group(0) @binding(0) `tw`, the N twiddles
// tw[k] = exp(-2 pi i k / N) as vec2f, computed in float64 on the CPU.
// Workgroup memory: `sh`, T*N complex values; Y[k1][a] of transform t at
// t*N + k1*32 + a.
// Kernel hooks (defined by the kernel file): fft_input(t, n) -> vec2f gives
// input element n of transform t; fft_output(t, k, z) receives output bin k.
// Forward, unnormalised: X[k] = sum_n x[n] exp(-2 pi i k n / N).
// Overrides: N1, T (transforms per workgroup); the workgroup size must be 32*T.

override N1: u32 = 7u;
override T: u32 = 8u;
override N: u32 = N1 * 32u;
override WG: u32 = 32u * T;
// Complex values between half-spectrum rows: N/2+1 bins rounded up to even,
// so that pairs of bins can be stored as one vec4.
override BS: u32 = N / 2u + 2u;

@group(0) @binding(0) var<storage, read> tw: array<vec2f>;

var<workgroup> sh: array<vec2f, T * N>;

// Step A for invocation a of transform t: DFT_N1 of x[a + 32 n1], twiddled
// by w_N^(a k1), stored at sh[t*N + k1*32 + a].
fn fft_step_a(t: u32, a: u32) {
  let base = t * N + a;
  let w = tw[a];
  switch N1 {
    case 1u: {
      let v0 = fft_input(t, a + 0u);
      sh[base] = v0;
    }
    case 2u: {
      let v0 = fft_input(t, a);
      let v1 = fft_input(t, a + 32u);
      sh[base] = v0 + v1;
      sh[base + 32u] = cmul(v0 - v1, w);
    }
    case 3u: {
      let v0 = fft_input(t, a + 0u);
      let v1 = fft_input(t, a + 32u);
      let v2 = fft_input(t, a + 64u);
      let y = dft3(v0, v1, v2);
      sh[base] = y[0];
      var p = w;
      sh[base + 32u] = cmul(y[1], p);
      p = cmul(p, w);
      sh[base + 64u] = cmul(y[2], p);
    }
    case 4u: {
      let v0 = fft_input(t, a + 0u);
      let v1 = fft_input(t, a + 32u);
      let v2 = fft_input(t, a + 64u);
      let v3 = fft_input(t, a + 96u);
      let y = dft4(v0, v1, v2, v3);
      sh[base] = y[0];
      var p = w;
      sh[base + 32u] = cmul(y[1], p);
      p = cmul(p, w);
      sh[base + 64u] = cmul(y[2], p);
      p = cmul(p, w);
      sh[base + 96u] = cmul(y[3], p);
    }
    case 5u: {
      let v0 = fft_input(t, a + 0u);
      let v1 = fft_input(t, a + 32u);
      let v2 = fft_input(t, a + 64u);
      let v3 = fft_input(t, a + 96u);
      let v4 = fft_input(t, a + 128u);
      let y = dft5(v0, v1, v2, v3, v4);
      sh[base] = y[0];
      var p = w;
      sh[base + 32u] = cmul(y[1], p);
      p = cmul(p, w);
      sh[base + 64u] = cmul(y[2], p);
      p = cmul(p, w);
      sh[base + 96u] = cmul(y[3], p);
      p = cmul(p, w);
      sh[base + 128u] = cmul(y[4], p);
    }
    case 7u: {
      let v0 = fft_input(t, a + 0u);
      let v1 = fft_input(t, a + 32u);
      let v2 = fft_input(t, a + 64u);
      let v3 = fft_input(t, a + 96u);
      let v4 = fft_input(t, a + 128u);
      let v5 = fft_input(t, a + 160u);
      let v6 = fft_input(t, a + 192u);
      let y = dft7(v0, v1, v2, v3, v4, v5, v6);
      sh[base] = y[0];
      var p = w;
      sh[base + 32u] = cmul(y[1], p);
      p = cmul(p, w);
      sh[base + 64u] = cmul(y[2], p);
      p = cmul(p, w);
      sh[base + 96u] = cmul(y[3], p);
      p = cmul(p, w);
      sh[base + 128u] = cmul(y[4], p);
      p = cmul(p, w);
      sh[base + 160u] = cmul(y[5], p);
      p = cmul(p, w);
      sh[base + 192u] = cmul(y[6], p);
    }
    case 8u: {
      let v0 = fft_input(t, a + 0u);
      let v1 = fft_input(t, a + 32u);
      let v2 = fft_input(t, a + 64u);
      let v3 = fft_input(t, a + 96u);
      let v4 = fft_input(t, a + 128u);
      let v5 = fft_input(t, a + 160u);
      let v6 = fft_input(t, a + 192u);
      let v7 = fft_input(t, a + 224u);
      let y = dft8(v0, v1, v2, v3, v4, v5, v6, v7);
      sh[base] = y[0];
      var p = w;
      sh[base + 32u] = cmul(y[1], p);
      p = cmul(p, w);
      sh[base + 64u] = cmul(y[2], p);
      p = cmul(p, w);
      sh[base + 96u] = cmul(y[3], p);
      p = cmul(p, w);
      sh[base + 128u] = cmul(y[4], p);
      p = cmul(p, w);
      sh[base + 160u] = cmul(y[5], p);
      p = cmul(p, w);
      sh[base + 192u] = cmul(y[6], p);
      p = cmul(p, w);
      sh[base + 224u] = cmul(y[7], p);
    }
    default: {}
  }
}

// Step B: DFT-32 of Y[k1][.] for transform t; output bin k1 + N1*k2 goes to
// fft_output. The 32 reads happen before a workgroup barrier, so fft_output
// may write to `sh`. Call from uniform control flow.
fn fft_step_b(lid: u32) {
  let isActive = lid < N1 * T;
  let t = lid / N1;
  let k1 = lid - t * N1;
  let base = t * N + k1 * 32u;
  var x: array<vec2f, 32>;
  if (isActive) {
    x[0] = sh[base + 0u];
    x[1] = sh[base + 1u];
    x[2] = sh[base + 2u];
    x[3] = sh[base + 3u];
    x[4] = sh[base + 4u];
    x[5] = sh[base + 5u];
    x[6] = sh[base + 6u];
    x[7] = sh[base + 7u];
    x[8] = sh[base + 8u];
    x[9] = sh[base + 9u];
    x[10] = sh[base + 10u];
    x[11] = sh[base + 11u];
    x[12] = sh[base + 12u];
    x[13] = sh[base + 13u];
    x[14] = sh[base + 14u];
    x[15] = sh[base + 15u];
    x[16] = sh[base + 16u];
    x[17] = sh[base + 17u];
    x[18] = sh[base + 18u];
    x[19] = sh[base + 19u];
    x[20] = sh[base + 20u];
    x[21] = sh[base + 21u];
    x[22] = sh[base + 22u];
    x[23] = sh[base + 23u];
    x[24] = sh[base + 24u];
    x[25] = sh[base + 25u];
    x[26] = sh[base + 26u];
    x[27] = sh[base + 27u];
    x[28] = sh[base + 28u];
    x[29] = sh[base + 29u];
    x[30] = sh[base + 30u];
    x[31] = sh[base + 31u];
  }
  workgroupBarrier();
  if (isActive) {
    fft_step_b_compute(t, k1, x);
  }
}

fn fft_step_b_compute(t: u32, k1: u32, x: array<vec2f, 32>) {
  let y0 = dft8(x[0], x[4], x[8], x[12], x[16], x[20], x[24], x[28]);
  let y1 = dft8(x[1], x[5], x[9], x[13], x[17], x[21], x[25], x[29]);
  let y2 = dft8(x[2], x[6], x[10], x[14], x[18], x[22], x[26], x[30]);
  let y3 = dft8(x[3], x[7], x[11], x[15], x[19], x[23], x[27], x[31]);
  let z0 = dft4(y0[0], y1[0], y2[0], y3[0]);
  let z1 = dft4(y0[1], cmul(y1[1], vec2f(0.9807852804032304, -0.19509032201612825)), cmul(y2[1], vec2f(0.9238795325112867, -0.3826834323650898)), cmul(y3[1], vec2f(0.8314696123025452, -0.5555702330196022)));
  let z2 = dft4(y0[2], cmul(y1[2], vec2f(0.9238795325112867, -0.3826834323650898)), cmul(y2[2], vec2f(0.7071067811865476, -0.7071067811865475)), cmul(y3[2], vec2f(0.38268343236508984, -0.9238795325112867)));
  let z3 = dft4(y0[3], cmul(y1[3], vec2f(0.8314696123025452, -0.5555702330196022)), cmul(y2[3], vec2f(0.38268343236508984, -0.9238795325112867)), cmul(y3[3], vec2f(-0.1950903220161282, -0.9807852804032304)));
  let z4 = dft4(y0[4], cmul(y1[4], vec2f(0.7071067811865476, -0.7071067811865475)), cmul(y2[4], vec2f(6.123233995736766e-17, -1.0)), cmul(y3[4], vec2f(-0.7071067811865475, -0.7071067811865476)));
  let z5 = dft4(y0[5], cmul(y1[5], vec2f(0.5555702330196023, -0.8314696123025452)), cmul(y2[5], vec2f(-0.3826834323650897, -0.9238795325112867)), cmul(y3[5], vec2f(-0.9807852804032304, -0.1950903220161286)));
  let z6 = dft4(y0[6], cmul(y1[6], vec2f(0.38268343236508984, -0.9238795325112867)), cmul(y2[6], vec2f(-0.7071067811865475, -0.7071067811865476)), cmul(y3[6], vec2f(-0.9238795325112868, 0.38268343236508967)));
  let z7 = dft4(y0[7], cmul(y1[7], vec2f(0.19509032201612833, -0.9807852804032304)), cmul(y2[7], vec2f(-0.9238795325112867, -0.3826834323650899)), cmul(y3[7], vec2f(-0.5555702330196022, 0.8314696123025452)));
  fft_output(t, k1 + N1 * 0u, z0[0]);
  fft_output(t, k1 + N1 * 8u, z0[1]);
  fft_output(t, k1 + N1 * 16u, z0[2]);
  fft_output(t, k1 + N1 * 24u, z0[3]);
  fft_output(t, k1 + N1 * 1u, z1[0]);
  fft_output(t, k1 + N1 * 9u, z1[1]);
  fft_output(t, k1 + N1 * 17u, z1[2]);
  fft_output(t, k1 + N1 * 25u, z1[3]);
  fft_output(t, k1 + N1 * 2u, z2[0]);
  fft_output(t, k1 + N1 * 10u, z2[1]);
  fft_output(t, k1 + N1 * 18u, z2[2]);
  fft_output(t, k1 + N1 * 26u, z2[3]);
  fft_output(t, k1 + N1 * 3u, z3[0]);
  fft_output(t, k1 + N1 * 11u, z3[1]);
  fft_output(t, k1 + N1 * 19u, z3[2]);
  fft_output(t, k1 + N1 * 27u, z3[3]);
  fft_output(t, k1 + N1 * 4u, z4[0]);
  fft_output(t, k1 + N1 * 12u, z4[1]);
  fft_output(t, k1 + N1 * 20u, z4[2]);
  fft_output(t, k1 + N1 * 28u, z4[3]);
  fft_output(t, k1 + N1 * 5u, z5[0]);
  fft_output(t, k1 + N1 * 13u, z5[1]);
  fft_output(t, k1 + N1 * 21u, z5[2]);
  fft_output(t, k1 + N1 * 29u, z5[3]);
  fft_output(t, k1 + N1 * 6u, z6[0]);
  fft_output(t, k1 + N1 * 14u, z6[1]);
  fft_output(t, k1 + N1 * 22u, z6[2]);
  fft_output(t, k1 + N1 * 30u, z6[3]);
  fft_output(t, k1 + N1 * 7u, z7[0]);
  fft_output(t, k1 + N1 * 15u, z7[1]);
  fft_output(t, k1 + N1 * 23u, z7[2]);
  fft_output(t, k1 + N1 * 31u, z7[3]);
}
