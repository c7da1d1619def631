;; Defocus blur's passes over every sample (see src/corrupt/defocus.ts):
;; the packed prefix sums and disk sums, the alias Gaussian g along x, the
;; fold correction's prefix tables, and (`fused`, where the disk kernel
;; folds) g along y with the first-stage bracket, the bytes it decides and
;; the list of those it leaves, which `refine` narrows with the second
;; stage. Float64 operations are those of the scalar form in the same
;; order (f64x2 lanes are independent, no fused multiply-add); sums of
;; integer values below 2^53 are exact in any order.
;;
;; Exports
;;   memory: the module's one memory; the caller grows it and lays it out.
;;   fused(n, T, g0, g1, g2, g3, g4, w, lo1, hi1, out, at, rv)
;;     -> number of undecided samples m.
;;   vp_rows(n, G0, G1, G2, p, o0, o1, o2, o3, o4, rs, prev, b, b2): two
;;     rows of the prefix table down columns, n samples (rounded up to
;;     even: reads and writes past n must lie in memory): with x_j = byte
;;     at p + o_j + i and y_j = byte at p + o_j + rs + i (the image's rows
;;     under g, and the rows one below),
;;       b[i] = prev[i] + G0·(x0 + x4) + G1·(x1 + x3) + G2·x2,
;;       b2[i] = b[i] + G0·(y0 + y4) + G1·(y1 + y3) + G2·y2
;;     (byte sums are exact integers; the float operations left to right).
;;   hp_row(n, G0, G1, G2, p, dst): a row of the prefix table along rows
;;     of an RGB image, n pixels: with x_j = the three bytes at p + 3j + 3k
;;     (the pixels under g for output pixel k),
;;       t_k = G0·(x0 + x4) + G1·(x1 + x3) + G2·x2 per channel, and
;;       dst[3k + c] = dst[3k + c − 3] + t_k[c] in order (from 0);
;;     the running sums in registers, the window of five pixels too, one
;;     new pixel a step (the bytes of pixel n + 4 are read, unused).
;;   A three-tap g (g0, g1, g0) is G = (0, g0, g1) with x0, x4 any bytes
;;   (vp_rows: o0 = o4; hp_row: the window starts one pixel early): the
;;   zero term adds +0, which leaves every sum's bits as they are.
;;   refine(m, nt, Wt, A, lo2, hi2, at, rv, out) -> undecided count k:
;;     for each of the m samples i = at[j] (r = rv[2j], v = rv[2j + 1]),
;;     v = v + Wt[t]·(f64 at A[2t] + 8i − f64 at A[2t + 1] + 8i) for t in
;;     [0, nt) in order; out[i] = byte(v + lo2) where byte(v + hi2) is the
;;     same, else (i, r) is kept: at[k] = i, rv[2k] = r (in place, in order).
;;   disk_gx(m, lag, G0, G1, G2, G3, G4, scale, sums, h): the g pass along x
;;     of a row of m packed disk sums (c0 + c1·2^17 + c2·2^34 per pixel,
;;     fields below 2^17): per pixel x, the fields by floor (scaling by
;;     2^-34 and 2^-17 is exact, the same as dividing), each divided by
;;     scale, into a window of five pixels a..e (e newest); for x ≥ lag,
;;       h[3(x − lag) + c] = G0·a + G1·b + G2·c + G3·d + G4·e  (left to
;;     right; a three-tap g is G = (0, 0, g0, g1, g2), lag 2: the zero
;;     terms add +0 first, which leaves the sum's bits as they are).
;;   prefix_row(pw, src, idx, PS, dst, a, d): a padded row's prefix sums of
;;     packed RGB pixels: dst[0] = 0, dst[x + 1] = dst[x] + ((p0 + p1·2^17)
;;     + p2·2^34) for the bytes p at src + idx[x] (i32 byte offsets),
;;     x in [0, pw); then, where d ≠ −1, the pair row d[i] = a[i] + dst[i]
;;     for i in [0, PS) (integers below 2^53: exact).
;;   disk_sums(n, nj, S, sums): sums[x] = Σ_t (f64 at S[2t] + 8x − f64 at
;;     S[2t + 1] + 8x) over t in [0, nj), for x in [0, n) rounded up to a
;;     multiple of 4 (the reads and writes past n must lie in memory).
;;
;; Memory layout (byte addresses; float64 arrays 8-aligned)
;;   T: 21 i32 addresses of float64 rows, each n samples long: h0..h4 (the
;;      rows of the g pass along x under g; for a three-tap g, h3 and h4
;;      are any finite rows), then the first stage's span reads p0..p3,
;;      q0..q3 (rows of the prefix table along rows), r0..r3, s0..s3 (of
;;      the prefix table down columns).
;;   out: n bytes, the row's bytes (undecided ones hold the bracket's low
;;      end).
;;   at: i32 per undecided sample, its index in the row, in order;
;;   rv: two float64 per undecided sample: r and v below.
;;   S: nj pairs of i32 addresses of float64 rows (disk_sums).
;;
;; disk_sums adds integer-valued float64s whose partial sums all lie below
;; 2^53 (see `PackedRows` in defocus.ts): exact in any order.
;;
;; Per sample i, exactly the float64 operations of the scalar form, in the
;; same order (lanes are independent, no fused multiply-add):
;;   r = g0·h0 + g1·h1 + g2·h2 + g3·h3 + g4·h4 (a three-tap g has
;;       g3 = g4 = 0: r + 0·h = r, the same bits, h being finite and r ≥ 0);
;;   d = (p0 − q0) + (p1 − q1) − (p2 − q2) − (p3 − q3)
;;       + (r0 − s0) + (r1 − s1) − (r2 − s2) − (r3 − s3);
;;   v = r + w·d;  byte(x) = trunc(min(max(x, 0), 1)·255);
;;   out = byte(v + lo1), undecided where byte(v + hi1) differs.
;; With n odd, the last pair is samples n − 2 and n − 1 (sample n − 2 is
;; computed again, the same bits, and not listed twice).
(module
  (memory (export "memory") 1)

  (func (export "fused")
    (param $n i32) (param $T i32)
    (param $g0 f64) (param $g1 f64) (param $g2 f64) (param $g3 f64)
    (param $g4 f64) (param $w f64) (param $lo1 f64) (param $hi1 f64)
    (param $out i32) (param $at i32) (param $rv i32)
    (result i32)
    (local $i i32) (local $end i32) (local $m i32) (local $skip0 i32)
    (local $h0 i32) (local $h1 i32) (local $h2 i32) (local $h3 i32)
    (local $h4 i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $q0 i32) (local $q1 i32) (local $q2 i32) (local $q3 i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $G0 v128) (local $G1 v128) (local $G2 v128) (local $G3 v128)
    (local $G4 v128) (local $W v128) (local $L v128) (local $H v128)
    (local $zero v128) (local $one v128) (local $c255 v128)
    (local $r v128) (local $d v128) (local $v v128) (local $lo v128)
    (local $hi v128) (local $b v128) (local $ne v128)
    (local.set $h0 (i32.load offset=0 (local.get $T)))
    (local.set $h1 (i32.load offset=4 (local.get $T)))
    (local.set $h2 (i32.load offset=8 (local.get $T)))
    (local.set $h3 (i32.load offset=12 (local.get $T)))
    (local.set $h4 (i32.load offset=16 (local.get $T)))
    (local.set $p0 (i32.load offset=20 (local.get $T)))
    (local.set $p1 (i32.load offset=24 (local.get $T)))
    (local.set $p2 (i32.load offset=28 (local.get $T)))
    (local.set $p3 (i32.load offset=32 (local.get $T)))
    (local.set $q0 (i32.load offset=36 (local.get $T)))
    (local.set $q1 (i32.load offset=40 (local.get $T)))
    (local.set $q2 (i32.load offset=44 (local.get $T)))
    (local.set $q3 (i32.load offset=48 (local.get $T)))
    (local.set $r0 (i32.load offset=52 (local.get $T)))
    (local.set $r1 (i32.load offset=56 (local.get $T)))
    (local.set $r2 (i32.load offset=60 (local.get $T)))
    (local.set $r3 (i32.load offset=64 (local.get $T)))
    (local.set $s0 (i32.load offset=68 (local.get $T)))
    (local.set $s1 (i32.load offset=72 (local.get $T)))
    (local.set $s2 (i32.load offset=76 (local.get $T)))
    (local.set $s3 (i32.load offset=80 (local.get $T)))
    (local.set $G0 (f64x2.splat (local.get $g0)))
    (local.set $G1 (f64x2.splat (local.get $g1)))
    (local.set $G2 (f64x2.splat (local.get $g2)))
    (local.set $G3 (f64x2.splat (local.get $g3)))
    (local.set $G4 (f64x2.splat (local.get $g4)))
    (local.set $W (f64x2.splat (local.get $w)))
    (local.set $L (f64x2.splat (local.get $lo1)))
    (local.set $H (f64x2.splat (local.get $hi1)))
    (local.set $zero (f64x2.splat (f64.const 0)))
    (local.set $one (f64x2.splat (f64.const 1)))
    (local.set $c255 (f64x2.splat (f64.const 255)))
    (local.set $end (i32.shl (local.get $n) (i32.const 3)))
    (block $exit
      (loop $pass
        (loop $pair
          ;; r: the g pass along y.
          (local.set $r
            (f64x2.add
              (f64x2.add
                (f64x2.mul (local.get $G0)
                  (v128.load (i32.add (local.get $h0) (local.get $i))))
                (f64x2.mul (local.get $G1)
                  (v128.load (i32.add (local.get $h1) (local.get $i)))))
              (f64x2.mul (local.get $G2)
                (v128.load (i32.add (local.get $h2) (local.get $i))))))
          (local.set $r
            (f64x2.add
              (f64x2.add (local.get $r)
                (f64x2.mul (local.get $G3)
                  (v128.load (i32.add (local.get $h3) (local.get $i)))))
              (f64x2.mul (local.get $G4)
                (v128.load (i32.add (local.get $h4) (local.get $i))))))
          ;; d: the eight span terms of one weight, left to right.
          (local.set $d
            (f64x2.add
              (f64x2.sub
                (v128.load (i32.add (local.get $p0) (local.get $i)))
                (v128.load (i32.add (local.get $q0) (local.get $i))))
              (f64x2.sub
                (v128.load (i32.add (local.get $p1) (local.get $i)))
                (v128.load (i32.add (local.get $q1) (local.get $i))))))
          (local.set $d
            (f64x2.sub (local.get $d)
              (f64x2.sub
                (v128.load (i32.add (local.get $p2) (local.get $i)))
                (v128.load (i32.add (local.get $q2) (local.get $i))))))
          (local.set $d
            (f64x2.sub (local.get $d)
              (f64x2.sub
                (v128.load (i32.add (local.get $p3) (local.get $i)))
                (v128.load (i32.add (local.get $q3) (local.get $i))))))
          (local.set $d
            (f64x2.add (local.get $d)
              (f64x2.sub
                (v128.load (i32.add (local.get $r0) (local.get $i)))
                (v128.load (i32.add (local.get $s0) (local.get $i))))))
          (local.set $d
            (f64x2.add (local.get $d)
              (f64x2.sub
                (v128.load (i32.add (local.get $r1) (local.get $i)))
                (v128.load (i32.add (local.get $s1) (local.get $i))))))
          (local.set $d
            (f64x2.sub (local.get $d)
              (f64x2.sub
                (v128.load (i32.add (local.get $r2) (local.get $i)))
                (v128.load (i32.add (local.get $s2) (local.get $i))))))
          (local.set $d
            (f64x2.sub (local.get $d)
              (f64x2.sub
                (v128.load (i32.add (local.get $r3) (local.get $i)))
                (v128.load (i32.add (local.get $s3) (local.get $i))))))
          (local.set $v
            (f64x2.add (local.get $r) (f64x2.mul (local.get $W) (local.get $d))))
          ;; The bytes of both ends of the bracket (lanes 0 and 1 of i32x4).
          (local.set $lo
            (f64x2.trunc
              (f64x2.mul
                (f64x2.pmin (local.get $one)
                  (f64x2.pmax (local.get $zero)
                    (f64x2.add (local.get $v) (local.get $L))))
                (local.get $c255))))
          (local.set $hi
            (f64x2.trunc
              (f64x2.mul
                (f64x2.pmin (local.get $one)
                  (f64x2.pmax (local.get $zero)
                    (f64x2.add (local.get $v) (local.get $H))))
                (local.get $c255))))
          (local.set $b (i32x4.trunc_sat_f64x2_s_zero (local.get $lo)))
          (i32.store8
            (i32.add (local.get $out) (i32.shr_u (local.get $i) (i32.const 3)))
            (i32x4.extract_lane 0 (local.get $b)))
          (i32.store8 offset=1
            (i32.add (local.get $out) (i32.shr_u (local.get $i) (i32.const 3)))
            (i32x4.extract_lane 1 (local.get $b)))
          (local.set $ne (f64x2.ne (local.get $lo) (local.get $hi)))
          (if (v128.any_true (local.get $ne))
            (then
              (if (i32.and
                    (i32.eqz (local.get $skip0))
                    (i32x4.extract_lane 0 (local.get $ne)))
                (then
                  (i32.store
                    (i32.add (local.get $at)
                      (i32.shl (local.get $m) (i32.const 2)))
                    (i32.shr_u (local.get $i) (i32.const 3)))
                  (f64.store
                    (i32.add (local.get $rv)
                      (i32.shl (local.get $m) (i32.const 4)))
                    (f64x2.extract_lane 0 (local.get $r)))
                  (f64.store offset=8
                    (i32.add (local.get $rv)
                      (i32.shl (local.get $m) (i32.const 4)))
                    (f64x2.extract_lane 0 (local.get $v)))
                  (local.set $m (i32.add (local.get $m) (i32.const 1)))))
              (if (i32x4.extract_lane 2 (local.get $ne))
                (then
                  (i32.store
                    (i32.add (local.get $at)
                      (i32.shl (local.get $m) (i32.const 2)))
                    (i32.add (i32.shr_u (local.get $i) (i32.const 3))
                      (i32.const 1)))
                  (f64.store
                    (i32.add (local.get $rv)
                      (i32.shl (local.get $m) (i32.const 4)))
                    (f64x2.extract_lane 1 (local.get $r)))
                  (f64.store offset=8
                    (i32.add (local.get $rv)
                      (i32.shl (local.get $m) (i32.const 4)))
                    (f64x2.extract_lane 1 (local.get $v)))
                  (local.set $m (i32.add (local.get $m) (i32.const 1)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $pair
            (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end))))
        ;; n even, or the last pair done: finished; else the last pair.
        (br_if $exit (i32.eq (local.get $i) (local.get $end)))
        (br_if $exit (local.get $skip0))
        (local.set $i (i32.sub (local.get $end) (i32.const 16)))
        (local.set $skip0 (i32.const 1))
        (br $pass)))
    (local.get $m))

  ;; Bytes at a and a + 1 as the low two lanes of i32x4.
  (func $bytes2 (param $a i32) (result v128)
    (i32x4.extend_low_i16x8_u
      (i16x8.extend_low_i8x16_u (v128.load16_splat (local.get $a)))))

  ;; G0·(x0 + x4) + G1·(x1 + x3) + G2·x2 for the bytes at a + o_j, a + o_j + 1.
  (func $taps
    (param $a i32) (param $o0 i32) (param $o1 i32) (param $o2 i32)
    (param $o3 i32) (param $o4 i32) (param $G0 v128) (param $G1 v128)
    (param $G2 v128) (result v128)
    (f64x2.add
      (f64x2.add
        (f64x2.mul (local.get $G0)
          (f64x2.convert_low_i32x4_s
            (i32x4.add (call $bytes2 (i32.add (local.get $a) (local.get $o0)))
              (call $bytes2 (i32.add (local.get $a) (local.get $o4))))))
        (f64x2.mul (local.get $G1)
          (f64x2.convert_low_i32x4_s
            (i32x4.add (call $bytes2 (i32.add (local.get $a) (local.get $o1)))
              (call $bytes2 (i32.add (local.get $a) (local.get $o3)))))))
      (f64x2.mul (local.get $G2)
        (f64x2.convert_low_i32x4_s
          (call $bytes2 (i32.add (local.get $a) (local.get $o2)))))))

  (func (export "vp_rows")
    (param $n i32) (param $g0 f64) (param $g1 f64) (param $g2 f64)
    (param $p i32) (param $o0 i32) (param $o1 i32) (param $o2 i32)
    (param $o3 i32) (param $o4 i32) (param $rs i32) (param $prev i32)
    (param $b i32) (param $b2 i32)
    (local $o i32) (local $end i32) (local $v v128)
    (local $G0 v128) (local $G1 v128) (local $G2 v128)
    (local.set $G0 (f64x2.splat (local.get $g0)))
    (local.set $G1 (f64x2.splat (local.get $g1)))
    (local.set $G2 (f64x2.splat (local.get $g2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 3)))
    (loop $pair
      ;; ((prev + G0·…) + G1·…) + G2·…, left to right.
      (local.set $v
        (f64x2.add
          (f64x2.add
            (f64x2.add
              (v128.load (i32.add (local.get $prev) (local.get $o)))
              (f64x2.mul (local.get $G0)
                (f64x2.convert_low_i32x4_s
                  (i32x4.add
                    (call $bytes2 (i32.add (local.get $p) (local.get $o0)))
                    (call $bytes2 (i32.add (local.get $p) (local.get $o4)))))))
            (f64x2.mul (local.get $G1)
              (f64x2.convert_low_i32x4_s
                (i32x4.add
                  (call $bytes2 (i32.add (local.get $p) (local.get $o1)))
                  (call $bytes2 (i32.add (local.get $p) (local.get $o3)))))))
          (f64x2.mul (local.get $G2)
            (f64x2.convert_low_i32x4_s
              (call $bytes2 (i32.add (local.get $p) (local.get $o2)))))))
      (v128.store (i32.add (local.get $b) (local.get $o)) (local.get $v))
      (v128.store (i32.add (local.get $b2) (local.get $o))
        (f64x2.add
          (f64x2.add
            (f64x2.add (local.get $v)
              (f64x2.mul (local.get $G0)
                (f64x2.convert_low_i32x4_s
                  (i32x4.add
                    (call $bytes2
                      (i32.add (i32.add (local.get $p) (local.get $rs))
                        (local.get $o0)))
                    (call $bytes2
                      (i32.add (i32.add (local.get $p) (local.get $rs))
                        (local.get $o4)))))))
            (f64x2.mul (local.get $G1)
              (f64x2.convert_low_i32x4_s
                (i32x4.add
                  (call $bytes2
                    (i32.add (i32.add (local.get $p) (local.get $rs))
                      (local.get $o1)))
                  (call $bytes2
                    (i32.add (i32.add (local.get $p) (local.get $rs))
                      (local.get $o3)))))))
          (f64x2.mul (local.get $G2)
            (f64x2.convert_low_i32x4_s
              (call $bytes2
                (i32.add (i32.add (local.get $p) (local.get $rs))
                  (local.get $o2)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br_if $pair (i32.lt_u (local.get $o) (local.get $end)))))

  (func (export "hp_row")
    (param $n i32) (param $g0 f64) (param $g1 f64) (param $g2 f64)
    (param $p i32) (param $dst i32)
    (local $end i32)
    (local $G0 v128) (local $G1 v128) (local $G2 v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $e v128) (local $a2 f64) (local $b2 f64) (local $c2 f64)
    (local $d2 f64) (local $e2 f64) (local $s v128) (local $s2 f64)
    (local.set $G0 (f64x2.splat (local.get $g0)))
    (local.set $G1 (f64x2.splat (local.get $g1)))
    (local.set $G2 (f64x2.splat (local.get $g2)))
    ;; Channels 0 and 1 in f64x2 lanes (as i32 lanes 0, 1 until converted,
    ;; byte sums exact), channel 2 in f64.
    (local.set $a (call $bytes2 (local.get $p)))
    (local.set $b (call $bytes2 (i32.add (local.get $p) (i32.const 3))))
    (local.set $c (call $bytes2 (i32.add (local.get $p) (i32.const 6))))
    (local.set $d (call $bytes2 (i32.add (local.get $p) (i32.const 9))))
    (local.set $a2 (f64.convert_i32_u (i32.load8_u offset=2 (local.get $p))))
    (local.set $b2 (f64.convert_i32_u (i32.load8_u offset=5 (local.get $p))))
    (local.set $c2 (f64.convert_i32_u (i32.load8_u offset=8 (local.get $p))))
    (local.set $d2 (f64.convert_i32_u (i32.load8_u offset=11 (local.get $p))))
    (local.set $end
      (i32.add (local.get $dst) (i32.mul (local.get $n) (i32.const 24))))
    (loop $px
      (local.set $e (call $bytes2 (i32.add (local.get $p) (i32.const 12))))
      (local.set $e2
        (f64.convert_i32_u (i32.load8_u offset=14 (local.get $p))))
      (local.set $s
        (f64x2.add (local.get $s)
          (f64x2.add
            (f64x2.add
              (f64x2.mul (local.get $G0)
                (f64x2.convert_low_i32x4_s
                  (i32x4.add (local.get $a) (local.get $e))))
              (f64x2.mul (local.get $G1)
                (f64x2.convert_low_i32x4_s
                  (i32x4.add (local.get $b) (local.get $d)))))
            (f64x2.mul (local.get $G2)
              (f64x2.convert_low_i32x4_s (local.get $c))))))
      (local.set $s2
        (f64.add (local.get $s2)
          (f64.add
            (f64.add
              (f64.mul (local.get $g0) (f64.add (local.get $a2) (local.get $e2)))
              (f64.mul (local.get $g1) (f64.add (local.get $b2) (local.get $d2))))
            (f64.mul (local.get $g2) (local.get $c2)))))
      (v128.store (local.get $dst) (local.get $s))
      (f64.store offset=16 (local.get $dst) (local.get $s2))
      (local.set $a (local.get $b)) (local.set $b (local.get $c))
      (local.set $c (local.get $d)) (local.set $d (local.get $e))
      (local.set $a2 (local.get $b2)) (local.set $b2 (local.get $c2))
      (local.set $c2 (local.get $d2)) (local.set $d2 (local.get $e2))
      (local.set $p (i32.add (local.get $p) (i32.const 3)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 24)))
      (br_if $px (i32.lt_u (local.get $dst) (local.get $end)))))

  (func $byte (param $x f64) (result i32)
    (i32.trunc_f64_s
      (f64.mul
        (f64.min (f64.max (local.get $x) (f64.const 0)) (f64.const 1))
        (f64.const 255))))

  (func (export "refine")
    (param $m i32) (param $nt i32) (param $Wt i32) (param $A i32)
    (param $lo2 f64) (param $hi2 f64) (param $at i32) (param $rv i32)
    (param $out i32) (result i32)
    (local $j i32) (local $k i32) (local $t i32) (local $i8 i32)
    (local $i i32) (local $v f64) (local $lo i32) (local $w i32)
    (local $a i32)
    (block $done
      (br_if $done (i32.eqz (local.get $m)))
      (loop $sample
        (local.set $i
          (i32.load (i32.add (local.get $at) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $i8 (i32.shl (local.get $i) (i32.const 3)))
        (local.set $v
          (f64.load offset=8
            (i32.add (local.get $rv) (i32.shl (local.get $j) (i32.const 4)))))
        (local.set $t (i32.const 0))
        (local.set $w (local.get $Wt))
        (local.set $a (local.get $A))
        (block $terms
          (br_if $terms (i32.eqz (local.get $nt)))
          (loop $term
            (local.set $v
              (f64.add (local.get $v)
                (f64.mul (f64.load (local.get $w))
                  (f64.sub
                    (f64.load (i32.add (i32.load (local.get $a)) (local.get $i8)))
                    (f64.load
                      (i32.add (i32.load offset=4 (local.get $a))
                        (local.get $i8)))))))
            (local.set $w (i32.add (local.get $w) (i32.const 8)))
            (local.set $a (i32.add (local.get $a) (i32.const 8)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br_if $term (i32.lt_u (local.get $t) (local.get $nt)))))
        (local.set $lo (call $byte (f64.add (local.get $v) (local.get $lo2))))
        (if (i32.eq (local.get $lo)
              (call $byte (f64.add (local.get $v) (local.get $hi2))))
          (then
            (i32.store8 (i32.add (local.get $out) (local.get $i)) (local.get $lo)))
          (else
            (i32.store
              (i32.add (local.get $at) (i32.shl (local.get $k) (i32.const 2)))
              (local.get $i))
            (f64.store
              (i32.add (local.get $rv) (i32.shl (local.get $k) (i32.const 4)))
              (f64.load
                (i32.add (local.get $rv) (i32.shl (local.get $j) (i32.const 4)))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $sample (i32.lt_u (local.get $j) (local.get $m)))))
    (local.get $k))

  (func (export "disk_gx")
    (param $m i32) (param $lag i32) (param $g0 f64) (param $g1 f64)
    (param $g2 f64) (param $g3 f64) (param $g4 f64) (param $scale f64)
    (param $sums i32) (param $h i32)
    (local $x i32) (local $v f64) (local $f2 f64) (local $r f64)
    (local $f1 f64) (local $S v128)
    (local $G0 v128) (local $G1 v128) (local $G2 v128) (local $G3 v128)
    (local $G4 v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $e v128) (local $a2 f64) (local $b2 f64) (local $c2 f64)
    (local $d2 f64) (local $e2 f64)
    (local.set $G0 (f64x2.splat (local.get $g0)))
    (local.set $G1 (f64x2.splat (local.get $g1)))
    (local.set $G2 (f64x2.splat (local.get $g2)))
    (local.set $G3 (f64x2.splat (local.get $g3)))
    (local.set $G4 (f64x2.splat (local.get $g4)))
    (local.set $S (f64x2.splat (local.get $scale)))
    (loop $px
      (local.set $v (f64.load (local.get $sums)))
      (local.set $f2
        (f64.floor (f64.mul (local.get $v) (f64.const 0x1p-34))))
      (local.set $r
        (f64.sub (local.get $v) (f64.mul (local.get $f2) (f64.const 0x1p34))))
      (local.set $f1
        (f64.floor (f64.mul (local.get $r) (f64.const 0x1p-17))))
      (local.set $a (local.get $b)) (local.set $b (local.get $c))
      (local.set $c (local.get $d)) (local.set $d (local.get $e))
      (local.set $a2 (local.get $b2)) (local.set $b2 (local.get $c2))
      (local.set $c2 (local.get $d2)) (local.set $d2 (local.get $e2))
      ;; Channels 0 and 1 in f64x2 lanes, channel 2 in f64.
      (local.set $e
        (f64x2.div
          (f64x2.replace_lane 1
            (f64x2.splat
              (f64.sub (local.get $r)
                (f64.mul (local.get $f1) (f64.const 0x1p17))))
            (local.get $f1))
          (local.get $S)))
      (local.set $e2 (f64.div (local.get $f2) (local.get $scale)))
      (if (i32.ge_u (local.get $x) (local.get $lag))
        (then
          (v128.store (local.get $h)
            (f64x2.add
              (f64x2.add
                (f64x2.add
                  (f64x2.add
                    (f64x2.mul (local.get $G0) (local.get $a))
                    (f64x2.mul (local.get $G1) (local.get $b)))
                  (f64x2.mul (local.get $G2) (local.get $c)))
                (f64x2.mul (local.get $G3) (local.get $d)))
              (f64x2.mul (local.get $G4) (local.get $e))))
          (f64.store offset=16 (local.get $h)
            (f64.add
              (f64.add
                (f64.add
                  (f64.add
                    (f64.mul (local.get $g0) (local.get $a2))
                    (f64.mul (local.get $g1) (local.get $b2)))
                  (f64.mul (local.get $g2) (local.get $c2)))
                (f64.mul (local.get $g3) (local.get $d2)))
              (f64.mul (local.get $g4) (local.get $e2))))
          (local.set $h (i32.add (local.get $h) (i32.const 24)))))
      (local.set $sums (i32.add (local.get $sums) (i32.const 8)))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br_if $px (i32.lt_u (local.get $x) (local.get $m)))))

  (func (export "prefix_row")
    (param $pw i32) (param $src i32) (param $idx i32) (param $PS i32)
    (param $dst i32) (param $a i32) (param $d i32)
    (local $x i32) (local $q i32) (local $s f64) (local $o i32)
    (local $end i32)
    (f64.store (local.get $dst) (f64.const 0))
    (local.set $o (local.get $dst))
    (local.set $end (i32.add (local.get $idx) (i32.shl (local.get $pw) (i32.const 2))))
    (loop $px
      (local.set $q (i32.add (local.get $src) (i32.load (local.get $idx))))
      (local.set $s
        (f64.add (local.get $s)
          (f64.add
            (f64.add
              (f64.convert_i32_u (i32.load8_u (local.get $q)))
              (f64.mul (f64.convert_i32_u (i32.load8_u offset=1 (local.get $q)))
                (f64.const 0x1p17)))
            (f64.mul (f64.convert_i32_u (i32.load8_u offset=2 (local.get $q)))
              (f64.const 0x1p34)))))
      (local.set $o (i32.add (local.get $o) (i32.const 8)))
      (f64.store (local.get $o) (local.get $s))
      (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
      (br_if $px (i32.lt_u (local.get $idx) (local.get $end))))
    (if (i32.ne (local.get $d) (i32.const -1))
      (then
        (local.set $end
          (i32.add (local.get $d) (i32.shl (local.get $PS) (i32.const 3))))
        (loop $pair
          (f64.store (local.get $d)
            (f64.add (f64.load (local.get $a)) (f64.load (local.get $dst))))
          (local.set $a (i32.add (local.get $a) (i32.const 8)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
          (local.set $d (i32.add (local.get $d) (i32.const 8)))
          (br_if $pair (i32.lt_u (local.get $d) (local.get $end)))))))

  (func (export "disk_sums")
    (param $n i32) (param $nj i32) (param $S i32) (param $sums i32)
    (local $x i32) (local $end i32) (local $t i32) (local $tend i32)
    (local $a i32) (local $b i32) (local $s0 v128) (local $s1 v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 3)))
    (local.set $tend
      (i32.add (local.get $S) (i32.shl (local.get $nj) (i32.const 3))))
    (loop $px
      (local.set $s0 (f64x2.splat (f64.const 0)))
      (local.set $s1 (f64x2.splat (f64.const 0)))
      (local.set $t (local.get $S))
      (loop $row
        (local.set $a (i32.add (i32.load (local.get $t)) (local.get $x)))
        (local.set $b
          (i32.add (i32.load offset=4 (local.get $t)) (local.get $x)))
        (local.set $s0
          (f64x2.add (local.get $s0)
            (f64x2.sub (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $s1
          (f64x2.add (local.get $s1)
            (f64x2.sub (v128.load offset=16 (local.get $a))
              (v128.load offset=16 (local.get $b)))))
        (local.set $t (i32.add (local.get $t) (i32.const 8)))
        (br_if $row (i32.lt_u (local.get $t) (local.get $tend))))
      (v128.store (i32.add (local.get $sums) (local.get $x)) (local.get $s0))
      (v128.store offset=16 (i32.add (local.get $sums) (local.get $x))
        (local.get $s1))
      (local.set $x (i32.add (local.get $x) (i32.const 32)))
      (br_if $px (i32.lt_u (local.get $x) (local.get $end)))))
)
