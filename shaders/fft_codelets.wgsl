// fft_codelets.wgsl: complex helpers and small straight-line DFTs (radix 2,
// 3, 4, 5, 7, 8) on vec2f (re, im), shared by the three FFT cores: prepended
// (plain concatenation) before fft_core.wgsl, fft2l_core.wgsl or
// fftr_core.wgsl by src/gpu/kernels/_fft_shared.ts. Forward, unnormalised:
// X[k] = sum_n x[n] exp(-2 pi i k n / N). No bindings, no overrides.

fn cmul(a: vec2f, b: vec2f) -> vec2f {
  return vec2f(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// Multiply by -i.
fn mni(a: vec2f) -> vec2f {
  return vec2f(a.y, -a.x);
}

fn conj2(a: vec2f) -> vec2f {
  return vec2f(a.x, -a.y);
}

const kS2 = 0.70710678118654752;
const kC3 = -0.5;
const kS3 = 0.86602540378443865;
const kC51 = 0.30901699437494742;
const kS51 = 0.95105651629515357;
const kC52 = -0.80901699437494742;
const kS52 = 0.58778525229247313;
const kC71 = 0.62348980185873353;
const kC72 = -0.22252093395631440;
const kC73 = -0.90096886790241913;
const kS71 = 0.78183148246802981;
const kS72 = 0.97492791218182361;
const kS73 = 0.43388373911755812;

fn dft4(v0: vec2f, v1: vec2f, v2: vec2f, v3: vec2f) -> array<vec2f, 4> {
  let t0 = v0 + v2;
  let t1 = v0 - v2;
  let t2 = v1 + v3;
  let t3 = mni(v1 - v3);
  return array<vec2f, 4>(t0 + t2, t1 + t3, t0 - t2, t1 - t3);
}

fn dft8(
  v0: vec2f, v1: vec2f, v2: vec2f, v3: vec2f,
  v4: vec2f, v5: vec2f, v6: vec2f, v7: vec2f,
) -> array<vec2f, 8> {
  let E = dft4(v0, v2, v4, v6);
  let O = dft4(v1, v3, v5, v7);
  let W1 = vec2f(O[1].x + O[1].y, O[1].y - O[1].x) * kS2;
  let W2 = mni(O[2]);
  let W3 = vec2f(O[3].y - O[3].x, -O[3].x - O[3].y) * kS2;
  return array<vec2f, 8>(
    E[0] + O[0], E[1] + W1, E[2] + W2, E[3] + W3,
    E[0] - O[0], E[1] - W1, E[2] - W2, E[3] - W3,
  );
}

fn dft3(v0: vec2f, v1: vec2f, v2: vec2f) -> array<vec2f, 3> {
  let s1 = v1 + v2;
  let d1 = mni(v1 - v2) * kS3;
  let m = v0 + kC3 * s1;
  return array<vec2f, 3>(v0 + s1, m + d1, m - d1);
}

fn dft5(v0: vec2f, v1: vec2f, v2: vec2f, v3: vec2f, v4: vec2f) -> array<vec2f, 5> {
  let s1 = v1 + v4;
  let d1 = mni(v1 - v4);
  let s2 = v2 + v3;
  let d2 = mni(v2 - v3);
  let a1 = v0 + kC51 * s1 + kC52 * s2;
  let b1 = kS51 * d1 + kS52 * d2;
  let a2 = v0 + kC52 * s1 + kC51 * s2;
  let b2 = kS52 * d1 - kS51 * d2;
  return array<vec2f, 5>(v0 + s1 + s2, a1 + b1, a2 + b2, a2 - b2, a1 - b1);
}

fn dft7(
  v0: vec2f, v1: vec2f, v2: vec2f, v3: vec2f, v4: vec2f, v5: vec2f, v6: vec2f,
) -> array<vec2f, 7> {
  let s1 = v1 + v6;
  let d1 = mni(v1 - v6);
  let s2 = v2 + v5;
  let d2 = mni(v2 - v5);
  let s3 = v3 + v4;
  let d3 = mni(v3 - v4);
  let a1 = v0 + kC71 * s1 + kC72 * s2 + kC73 * s3;
  let b1 = kS71 * d1 + kS72 * d2 + kS73 * d3;
  let a2 = v0 + kC72 * s1 + kC73 * s2 + kC71 * s3;
  let b2 = kS72 * d1 - kS73 * d2 - kS71 * d3;
  let a3 = v0 + kC73 * s1 + kC71 * s2 + kC72 * s3;
  let b3 = kS73 * d1 - kS71 * d2 + kS72 * d3;
  return array<vec2f, 7>(v0 + s1 + s2 + s3, a1 + b1, a2 + b2, a3 + b3, a3 - b3, a2 - b2, a1 - b1);
}

fn dft2(v0: vec2f, v1: vec2f) -> array<vec2f, 2> {
  return array<vec2f, 2>(v0 + v1, v0 - v1);
}
