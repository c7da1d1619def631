/**
 * Float64 CPU DFT: the test oracle (O(n^2) per axis; small inputs only).
 *
 * Conventions as in `plan.ts`: forward unnormalised with exp(-2 pi i k n / N),
 * inverse with exp(+...) and a 1/N factor. Data are split re/im Float64Arrays,
 * row-major.
 */

/** A complex array as two float64 arrays. */
export interface Complex64 {
  re: Float64Array;
  im: Float64Array;
}

/** Options of {@link dft1d} and {@link dft2d}. */
export interface DftOptions {
  inverse?: boolean;
}

/**
 * 1D DFT along contiguous runs of length `n` (every run of `x`).
 *
 * @example
 * ```ts
 * const y = dft1d({ re: new Float64Array([1, 0]), im: new Float64Array(2) }, 2);
 * // y.re = [1, 1]
 * ```
 */
export function dft1d(
  x: Complex64,
  n: number,
  options: DftOptions = {},
): Complex64 {
  const sign = options.inverse ? 1 : -1;
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = sign * Math.sin((2 * Math.PI * k) / n);
  }
  const scale = options.inverse ? 1 / n : 1;
  const re = new Float64Array(x.re.length);
  const im = new Float64Array(x.re.length);
  for (let base = 0; base < x.re.length; base += n) {
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      for (let j = 0, idx = 0; j < n; j++, idx = (idx + k) % n) {
        const a = x.re[base + j]!;
        const b = x.im[base + j]!;
        const c = cos[idx]!;
        const s = sin[idx]!;
        sr += a * c - b * s;
        si += a * s + b * c;
      }
      re[base + k] = sr * scale;
      im[base + k] = si * scale;
    }
  }
  return { re, im };
}

function transpose(x: Complex64, rows: number, cols: number): Complex64 {
  const re = new Float64Array(x.re.length);
  const im = new Float64Array(x.re.length);
  const plane = rows * cols;
  for (let p = 0; p < x.re.length; p += plane) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        re[p + c * rows + r] = x.re[p + r * cols + c]!;
        im[p + c * rows + r] = x.im[p + r * cols + c]!;
      }
    }
  }
  return { re, im };
}

/** 2D DFT of every `rows x cols` plane of `x`. */
export function dft2d(
  x: Complex64,
  shape: { rows: number; cols: number },
  options: DftOptions = {},
): Complex64 {
  const { rows, cols } = shape;
  const a = dft1d(x, cols, options);
  const b = dft1d(transpose(a, rows, cols), rows, options);
  return transpose(b, cols, rows);
}

/**
 * The reference filter per channel, float64:
 * `real(ifft2(ifftshift(fftshift(fft2(x)) * M)))` for an `[C,S,S]` image and
 * an `[S,S]` mask in the fftshifted layout.
 */
export function referenceFilter(
  image: ArrayLike<number>,
  mask: ArrayLike<number>,
  size: number,
): Float64Array {
  const planes = image.length / (size * size);
  const X = dft2d({
    re: Float64Array.from(image),
    im: new Float64Array(image.length),
  }, {
    rows: size,
    cols: size,
  });
  const h0 = Math.floor(size / 2);
  for (let p = 0; p < planes; p++) {
    for (let u = 0; u < size; u++) {
      for (let v = 0; v < size; v++) {
        const g = mask[((u + h0) % size) * size + ((v + h0) % size)]!;
        const i = p * size * size + u * size + v;
        X.re[i]! *= g;
        X.im[i]! *= g;
      }
    }
  }
  return dft2d(X, { rows: size, cols: size }, { inverse: true }).re;
}
