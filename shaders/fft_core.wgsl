// fft_core.wgsl: shared Stockham core, prepended (plain concatenation, no
// templating) to fft_rows_r2c.wgsl, fft_cols.wgsl and fft_rows_c2r.wgsl,
// and preceded by fft_codelets.wgsl (complex helpers, small DFTs).
//
// Bindings used by the core: @group(0) @binding(0) `tw`, the N twiddles
// tw[k] = exp(-2 pi i k / N) as vec2f (re, im), computed in float64 on the CPU.
//
// Workgroup memory: `buf`, two ping-pong halves of T*N complex (vec2f) values.
// Element n of transform t lives at half_offset + n*T + t (t fastest, so
// neighbouring invocations touch neighbouring words).
//
// The core computes the unnormalised forward DFT
//   X[k] = sum_n x[n] exp(-2 pi i k n / N)
// of T transforms at once with a Stockham autosort: stage s has radix Rs and
// sub-transform length ns = R0*...*R(s-1). Inverse transforms are done by the
// kernels as conj(fft(conj(x))); all normalisation is applied by the kernels.
//
// Overrides: N (length), T (transforms per workgroup), WG (invocations per
// workgroup), R0..R7 (radices in {2,3,4,5,7,8}; 0 = no stage).

override N: u32 = 224u;
override T: u32 = 8u;
override WG: u32 = 256u;
override R0: u32 = 0u;
override R1: u32 = 0u;
override R2: u32 = 0u;
override R3: u32 = 0u;
override R4: u32 = 0u;
override R5: u32 = 0u;
override R6: u32 = 0u;
override R7: u32 = 0u;
// 1 when the number of stages is odd (the result is then in half 1).
override STAGES_ODD: u32 = 0u;

@group(0) @binding(0) var<storage, read> tw: array<vec2f>;

var<workgroup> buf: array<vec2f, 2u * T * N>;

// Load input q of butterfly j (sub-transform position k) with its twiddle.
fn ld(src: u32, j: u32, t: u32, q: u32, R: u32, twStep: u32, k: u32) -> vec2f {
  let v = buf[src + (j + q * (N / R)) * T + t];
  if (twStep == 0u || q == 0u) {
    return v;
  }
  return cmul(v, tw[q * k * twStep]);
}

fn st(dst: u32, base: u32, t: u32, q: u32, ns: u32, v: vec2f) {
  buf[dst + (base + q * ns) * T + t] = v;
}

// One Stockham stage of radix R over all T transforms.
fn stage(R: u32, ns: u32, src: u32, dst: u32, lid: u32) {
  let m = N / R;
  // twiddle index step: exp(-2 pi i q k / (ns R)) = tw[q k N/(ns R)]
  var twStep = N / (ns * R);
  if (ns == 1u) {
    twStep = 0u;
  }
  for (var i = lid; i < T * m; i += WG) {
    let j = i / T;
    let t = i - j * T;
    let k = j % ns;
    let base = (j - k) * R + k;
    // Butterflies: the straight-line DFTs of fft_codelets.wgsl.
    switch R {
      case 2u: {
        let v0 = ld(src, j, t, 0u, R, twStep, k);
        let v1 = ld(src, j, t, 1u, R, twStep, k);
        let y = dft2(v0, v1);
        st(dst, base, t, 0u, ns, y[0]);
        st(dst, base, t, 1u, ns, y[1]);
      }
      case 3u: {
        let v0 = ld(src, j, t, 0u, R, twStep, k);
        let v1 = ld(src, j, t, 1u, R, twStep, k);
        let v2 = ld(src, j, t, 2u, R, twStep, k);
        let y = dft3(v0, v1, v2);
        st(dst, base, t, 0u, ns, y[0]);
        st(dst, base, t, 1u, ns, y[1]);
        st(dst, base, t, 2u, ns, y[2]);
      }
      case 4u: {
        let v0 = ld(src, j, t, 0u, R, twStep, k);
        let v1 = ld(src, j, t, 1u, R, twStep, k);
        let v2 = ld(src, j, t, 2u, R, twStep, k);
        let v3 = ld(src, j, t, 3u, R, twStep, k);
        let y = dft4(v0, v1, v2, v3);
        st(dst, base, t, 0u, ns, y[0]);
        st(dst, base, t, 1u, ns, y[1]);
        st(dst, base, t, 2u, ns, y[2]);
        st(dst, base, t, 3u, ns, y[3]);
      }
      case 5u: {
        let v0 = ld(src, j, t, 0u, R, twStep, k);
        let v1 = ld(src, j, t, 1u, R, twStep, k);
        let v2 = ld(src, j, t, 2u, R, twStep, k);
        let v3 = ld(src, j, t, 3u, R, twStep, k);
        let v4 = ld(src, j, t, 4u, R, twStep, k);
        let y = dft5(v0, v1, v2, v3, v4);
        st(dst, base, t, 0u, ns, y[0]);
        st(dst, base, t, 1u, ns, y[1]);
        st(dst, base, t, 2u, ns, y[2]);
        st(dst, base, t, 3u, ns, y[3]);
        st(dst, base, t, 4u, ns, y[4]);
      }
      case 7u: {
        let v0 = ld(src, j, t, 0u, R, twStep, k);
        let v1 = ld(src, j, t, 1u, R, twStep, k);
        let v2 = ld(src, j, t, 2u, R, twStep, k);
        let v3 = ld(src, j, t, 3u, R, twStep, k);
        let v4 = ld(src, j, t, 4u, R, twStep, k);
        let v5 = ld(src, j, t, 5u, R, twStep, k);
        let v6 = ld(src, j, t, 6u, R, twStep, k);
        let y = dft7(v0, v1, v2, v3, v4, v5, v6);
        st(dst, base, t, 0u, ns, y[0]);
        st(dst, base, t, 1u, ns, y[1]);
        st(dst, base, t, 2u, ns, y[2]);
        st(dst, base, t, 3u, ns, y[3]);
        st(dst, base, t, 4u, ns, y[4]);
        st(dst, base, t, 5u, ns, y[5]);
        st(dst, base, t, 6u, ns, y[6]);
      }
      case 8u: {
        let v0 = ld(src, j, t, 0u, R, twStep, k);
        let v1 = ld(src, j, t, 1u, R, twStep, k);
        let v2 = ld(src, j, t, 2u, R, twStep, k);
        let v3 = ld(src, j, t, 3u, R, twStep, k);
        let v4 = ld(src, j, t, 4u, R, twStep, k);
        let v5 = ld(src, j, t, 5u, R, twStep, k);
        let v6 = ld(src, j, t, 6u, R, twStep, k);
        let v7 = ld(src, j, t, 7u, R, twStep, k);
        let y = dft8(v0, v1, v2, v3, v4, v5, v6, v7);
        st(dst, base, t, 0u, ns, y[0]);
        st(dst, base, t, 1u, ns, y[1]);
        st(dst, base, t, 2u, ns, y[2]);
        st(dst, base, t, 3u, ns, y[3]);
        st(dst, base, t, 4u, ns, y[4]);
        st(dst, base, t, 5u, ns, y[5]);
        st(dst, base, t, 6u, ns, y[6]);
        st(dst, base, t, 7u, ns, y[7]);
      }
      default: {}
    }
  }
}

// Run every planned stage on the data in half 0; returns the offset of the
// half holding the result. Starts and ends with a barrier. The stages are
// written out one by one so that every radix, sub-transform length and
// division is a constant after override specialisation.
fn fft_stages(lid: u32) -> u32 {
  let half = T * N;
  workgroupBarrier();
  if (R0 > 1u) {
    stage(R0, 1u, 0u, half, lid);
    workgroupBarrier();
  }
  if (R1 > 1u) {
    stage(R1, R0, half, 0u, lid);
    workgroupBarrier();
  }
  if (R2 > 1u) {
    stage(R2, R0 * R1, 0u, half, lid);
    workgroupBarrier();
  }
  if (R3 > 1u) {
    stage(R3, R0 * R1 * R2, half, 0u, lid);
    workgroupBarrier();
  }
  if (R4 > 1u) {
    stage(R4, R0 * R1 * R2 * R3, 0u, half, lid);
    workgroupBarrier();
  }
  if (R5 > 1u) {
    stage(R5, R0 * R1 * R2 * R3 * R4, half, 0u, lid);
    workgroupBarrier();
  }
  if (R6 > 1u) {
    stage(R6, R0 * R1 * R2 * R3 * R4 * R5, 0u, half, lid);
    workgroupBarrier();
  }
  if (R7 > 1u) {
    stage(R7, R0 * R1 * R2 * R3 * R4 * R5 * R6, half, 0u, lid);
    workgroupBarrier();
  }
  return STAGES_ODD * half;
}
