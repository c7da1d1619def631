;; The per-pixel phases of the elastic transform (see src/corrupt/digital.ts,
;; `elasticTransform`) on an n x n RGB image, with the three channels of a
;; pixel in two f64x2 lanes (R, G) and (B, x): OpenCV's affine warp and
;; scipy's order-1 map_coordinates. The displacement fields are computed in
;; JavaScript between the two.
;;
;; Exports
;;   memory: the module's one memory; the caller grows it and lays it out.
;;   to_rgbx(src, dst, npix): npix RGB bytes at src (one byte readable past
;;     the end) to RGBx float32 pixels float32(v / 255) at dst (16 bytes each;
;;     x holds a finite value that no output depends on).
;;   warp(n, F, Wt, Tx, Ty, W): cv2.warpAffine(INTER_LINEAR,
;;     BORDER_REFLECT_101) of F into W, in OpenCV's fixed point.
;;   sample(n, W, DX, DY, out): map_coordinates(order=1, mode="reflect") of W
;;     at (y + DY, x + DX), to bytes.
;;
;; Memory layout (byte addresses, all 16-aligned)
;;   F, W: n·n RGBx float32 pixels (16 bytes each), row-major.
;;   Wt: OpenCV's bilinear weights on its 1/32-pixel grid, float32 values as
;;       float64, 32 bytes per cell (fy·32 + fx): taps (0,0), (0,1), (1,0),
;;       (1,1).
;;   Tx: per column x, i32 pair (round(a0·x·1024), round(a3·x·1024)).
;;   Ty: per row y, i32 pair (round((a1·y + a2)·1024) + 16,
;;       round((a4·y + a5)·1024) + 16).
;;   DX, DY: n·n float32 displacements, row-major.
;;   out: n·n·3 bytes plus one spare (written, then overwritten or unused).
;;
;; Per pixel, exactly the operations of the scalar code, in the same order
;; (lanes are independent, no fused multiply-add):
;;   warp: X = (Ty.x + Tx.x) >> 5, Y = (Ty.y + Tx.y) >> 5; taps at
;;     (X >> 5, Y >> 5) and + 1, reflected (101) where outside [0, n − 1);
;;     v = float32(((t00·w0 + t01·w1) + t10·w2) + t11·w3) in float64.
;;   sample: c = y + dy, f = floor(c), t = c − f (float64, both axes); taps at
;;     f and f + 1, reflected where outside [0, n − 1);
;;     v = float32((1 − ty)·((1 − tx)·t00 + tx·t01) + ty·((1 − tx)·t10 + tx·t11));
;;     byte = trunc(float32((v < 0 ? 0 : v > 1 ? 1 : v)·255)) (the product
;;     taken in float32: the same rounding of the same exact product).
;;   Displacements are far below 2^31 (|d| ≤ alpha), so floor(c) fits an i32.
(module
  (memory (export "memory") 1)

  ;; BORDER_REFLECT_101 of index i on an axis of n.
  (func $reflect101 (param $i i32) (param $n i32) (result i32)
    (local $p i32) (local $j i32)
    (if (i32.le_s (local.get $n) (i32.const 1)) (then (return (i32.const 0))))
    (local.set $p (i32.sub (i32.shl (local.get $n) (i32.const 1)) (i32.const 2)))
    (local.set $j (i32.rem_s (local.get $i) (local.get $p)))
    (if (i32.lt_s (local.get $j) (i32.const 0))
      (then (local.set $j (i32.add (local.get $j) (local.get $p)))))
    (if (i32.ge_s (local.get $j) (local.get $n))
      (then (local.set $j (i32.sub (local.get $p) (local.get $j)))))
    (local.get $j))

  ;; scipy's mode="reflect" (half-sample symmetric) of index i on an axis of n.
  (func $reflect (param $i i32) (param $n i32) (result i32)
    (local $p i32) (local $j i32)
    (local.set $p (i32.shl (local.get $n) (i32.const 1)))
    (local.set $j (i32.rem_s (local.get $i) (local.get $p)))
    (if (i32.lt_s (local.get $j) (i32.const 0))
      (then (local.set $j (i32.add (local.get $j) (local.get $p)))))
    (if (i32.ge_s (local.get $j) (local.get $n))
      (then (local.set $j
        (i32.sub (i32.sub (local.get $p) (i32.const 1)) (local.get $j)))))
    (local.get $j))

  ;; Lanes 2, 3 of an f32x4 moved to lanes 0, 1.
  (func $hi (param $v v128) (result v128)
    (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
      (local.get $v) (local.get $v)))

  ;; Two f64x2 (lo: lanes 0, 1; hi: lanes 2, 3) rounded to one f32x4.
  (func $pack (param $lo v128) (param $hi v128) (result v128)
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $lo))
      (f32x4.demote_f64x2_zero (local.get $hi))))

  (func (export "to_rgbx") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $v v128) (local $c255 v128)
    (local.set $c255 (f64x2.splat (f64.const 255)))
    (local.set $end
      (i32.add (local.get $src) (i32.mul (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
      (loop $px
        (local.set $v
          (i32x4.extend_low_i16x8_u
            (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $src)))))
        (v128.store (local.get $dst)
          (call $pack
            (f64x2.div (f64x2.convert_low_i32x4_u (local.get $v))
              (local.get $c255))
            (f64x2.div
              (f64x2.convert_low_i32x4_u
                (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
                  (local.get $v) (local.get $v)))
              (local.get $c255))))
        (local.set $src (i32.add (local.get $src) (i32.const 3)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br_if $px (i32.lt_u (local.get $src) (local.get $end))))))

  (func (export "warp")
    (param $n i32) (param $F i32) (param $Wt i32) (param $Tx i32)
    (param $Ty i32) (param $W i32)
    (local $y i32) (local $x i32) (local $last i32) (local $row i32)
    (local $x0 i32) (local $y0 i32) (local $X i32) (local $Y i32)
    (local $ix i32) (local $iy i32) (local $xa i32) (local $xb i32)
    (local $ra i32) (local $rb i32) (local $wo i32) (local $o i32)
    (local $tx i32)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local.set $last (i32.sub (local.get $n) (i32.const 1)))
    (local.set $row (i32.shl (local.get $n) (i32.const 4)))
    (local.set $o (local.get $W))
    (local.set $y (i32.const 0))
    (block $rows_done
      (br_if $rows_done (i32.le_s (local.get $n) (i32.const 0)))
      (loop $rows
        (local.set $x0 (i32.load (i32.add (local.get $Ty)
          (i32.shl (local.get $y) (i32.const 3)))))
        (local.set $y0 (i32.load offset=4 (i32.add (local.get $Ty)
          (i32.shl (local.get $y) (i32.const 3)))))
        (local.set $x (i32.const 0))
        (local.set $tx (local.get $Tx))
        (loop $cols
          (local.set $X (i32.shr_s
            (i32.add (local.get $x0) (i32.load (local.get $tx))) (i32.const 5)))
          (local.set $Y (i32.shr_s
            (i32.add (local.get $y0) (i32.load offset=4 (local.get $tx)))
            (i32.const 5)))
          (local.set $ix (i32.shr_s (local.get $X) (i32.const 5)))
          (local.set $iy (i32.shr_s (local.get $Y) (i32.const 5)))
          (local.set $wo (i32.add (local.get $Wt)
            (i32.shl
              (i32.or (i32.shl (i32.and (local.get $Y) (i32.const 31)) (i32.const 5))
                (i32.and (local.get $X) (i32.const 31)))
              (i32.const 5))))
          (local.set $xa (local.get $ix))
          (local.set $xb (i32.add (local.get $ix) (i32.const 1)))
          (if (i32.or (i32.lt_s (local.get $ix) (i32.const 0))
                (i32.ge_s (local.get $ix) (local.get $last)))
            (then
              (local.set $xa (call $reflect101 (local.get $ix) (local.get $n)))
              (local.set $xb (call $reflect101
                (i32.add (local.get $ix) (i32.const 1)) (local.get $n)))))
          (local.set $ra (local.get $iy))
          (local.set $rb (i32.add (local.get $iy) (i32.const 1)))
          (if (i32.or (i32.lt_s (local.get $iy) (i32.const 0))
                (i32.ge_s (local.get $iy) (local.get $last)))
            (then
              (local.set $ra (call $reflect101 (local.get $iy) (local.get $n)))
              (local.set $rb (call $reflect101
                (i32.add (local.get $iy) (i32.const 1)) (local.get $n)))))
          (local.set $ra (i32.add (local.get $F) (i32.mul (local.get $ra) (local.get $row))))
          (local.set $rb (i32.add (local.get $F) (i32.mul (local.get $rb) (local.get $row))))
          (local.set $xa (i32.shl (local.get $xa) (i32.const 4)))
          (local.set $xb (i32.shl (local.get $xb) (i32.const 4)))
          (local.set $a (v128.load (i32.add (local.get $ra) (local.get $xa))))
          (local.set $b (v128.load (i32.add (local.get $ra) (local.get $xb))))
          (local.set $c (v128.load (i32.add (local.get $rb) (local.get $xa))))
          (local.set $d (v128.load (i32.add (local.get $rb) (local.get $xb))))
          (local.set $w0 (v128.load64_splat (local.get $wo)))
          (local.set $w1 (v128.load64_splat offset=8 (local.get $wo)))
          (local.set $w2 (v128.load64_splat offset=16 (local.get $wo)))
          (local.set $w3 (v128.load64_splat offset=24 (local.get $wo)))
          (v128.store (local.get $o)
            (call $pack
              (f64x2.add
                (f64x2.add
                  (f64x2.add
                    (f64x2.mul (f64x2.promote_low_f32x4 (local.get $a)) (local.get $w0))
                    (f64x2.mul (f64x2.promote_low_f32x4 (local.get $b)) (local.get $w1)))
                  (f64x2.mul (f64x2.promote_low_f32x4 (local.get $c)) (local.get $w2)))
                (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (local.get $w3)))
              (f64x2.add
                (f64x2.add
                  (f64x2.add
                    (f64x2.mul (f64x2.promote_low_f32x4 (call $hi (local.get $a))) (local.get $w0))
                    (f64x2.mul (f64x2.promote_low_f32x4 (call $hi (local.get $b))) (local.get $w1)))
                  (f64x2.mul (f64x2.promote_low_f32x4 (call $hi (local.get $c))) (local.get $w2)))
                (f64x2.mul (f64x2.promote_low_f32x4 (call $hi (local.get $d))) (local.get $w3)))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (local.set $tx (i32.add (local.get $tx) (i32.const 8)))
          (local.set $x (i32.add (local.get $x) (i32.const 1)))
          (br_if $cols (i32.lt_s (local.get $x) (local.get $n))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br_if $rows (i32.lt_s (local.get $y) (local.get $n))))))

  (func (export "sample")
    (param $n i32) (param $W i32) (param $DX i32) (param $DY i32) (param $out i32)
    (local $y i32) (local $x i32) (local $last i32) (local $row i32)
    (local $p i32) (local $o i32) (local $fy f64) (local $fx f64)
    (local $cy f64) (local $cx f64) (local $ix i32) (local $iy i32)
    (local $xa i32) (local $xb i32) (local $ra i32) (local $rb i32)
    (local $yf f64)
    (local $sy v128) (local $ty v128) (local $sx v128) (local $tx v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $v v128) (local $zero v128) (local $one v128) (local $c255 v128)
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $c255 (f32x4.splat (f32.const 255)))
    (local.set $last (i32.sub (local.get $n) (i32.const 1)))
    (local.set $row (i32.shl (local.get $n) (i32.const 4)))
    (local.set $p (i32.const 0))
    (local.set $o (local.get $out))
    (local.set $y (i32.const 0))
    (block $rows_done
      (br_if $rows_done (i32.le_s (local.get $n) (i32.const 0)))
      (loop $rows
        (local.set $yf (f64.convert_i32_s (local.get $y)))
        (local.set $x (i32.const 0))
        (loop $cols
          (local.set $cy (f64.add (local.get $yf)
            (f64.promote_f32 (f32.load (i32.add (local.get $DY) (local.get $p))))))
          (local.set $cx (f64.add (f64.convert_i32_s (local.get $x))
            (f64.promote_f32 (f32.load (i32.add (local.get $DX) (local.get $p))))))
          (local.set $fy (f64.floor (local.get $cy)))
          (local.set $fx (f64.floor (local.get $cx)))
          (local.set $ty (f64x2.splat (f64.sub (local.get $cy) (local.get $fy))))
          (local.set $tx (f64x2.splat (f64.sub (local.get $cx) (local.get $fx))))
          (local.set $sy (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $ty)))
          (local.set $sx (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $tx)))
          (local.set $iy (i32.trunc_sat_f64_s (local.get $fy)))
          (local.set $ix (i32.trunc_sat_f64_s (local.get $fx)))
          (local.set $xa (local.get $ix))
          (local.set $xb (i32.add (local.get $ix) (i32.const 1)))
          (if (i32.or (i32.lt_s (local.get $ix) (i32.const 0))
                (i32.ge_s (local.get $ix) (local.get $last)))
            (then
              (local.set $xa (call $reflect (local.get $ix) (local.get $n)))
              (local.set $xb (call $reflect
                (i32.add (local.get $ix) (i32.const 1)) (local.get $n)))))
          (local.set $ra (local.get $iy))
          (local.set $rb (i32.add (local.get $iy) (i32.const 1)))
          (if (i32.or (i32.lt_s (local.get $iy) (i32.const 0))
                (i32.ge_s (local.get $iy) (local.get $last)))
            (then
              (local.set $ra (call $reflect (local.get $iy) (local.get $n)))
              (local.set $rb (call $reflect
                (i32.add (local.get $iy) (i32.const 1)) (local.get $n)))))
          (local.set $ra (i32.add (local.get $W) (i32.mul (local.get $ra) (local.get $row))))
          (local.set $rb (i32.add (local.get $W) (i32.mul (local.get $rb) (local.get $row))))
          (local.set $xa (i32.shl (local.get $xa) (i32.const 4)))
          (local.set $xb (i32.shl (local.get $xb) (i32.const 4)))
          (local.set $a (v128.load (i32.add (local.get $ra) (local.get $xa))))
          (local.set $b (v128.load (i32.add (local.get $ra) (local.get $xb))))
          (local.set $c (v128.load (i32.add (local.get $rb) (local.get $xa))))
          (local.set $d (v128.load (i32.add (local.get $rb) (local.get $xb))))
          ;; v = sy·(sx·a + tx·b) + ty·(sx·c + tx·d), rounded to float32.
          (local.set $v
            (call $pack
              (f64x2.add
                (f64x2.mul (local.get $sy)
                  (f64x2.add
                    (f64x2.mul (local.get $sx) (f64x2.promote_low_f32x4 (local.get $a)))
                    (f64x2.mul (local.get $tx) (f64x2.promote_low_f32x4 (local.get $b)))))
                (f64x2.mul (local.get $ty)
                  (f64x2.add
                    (f64x2.mul (local.get $sx) (f64x2.promote_low_f32x4 (local.get $c)))
                    (f64x2.mul (local.get $tx) (f64x2.promote_low_f32x4 (local.get $d))))))
              (f64x2.add
                (f64x2.mul (local.get $sy)
                  (f64x2.add
                    (f64x2.mul (local.get $sx)
                      (f64x2.promote_low_f32x4 (call $hi (local.get $a))))
                    (f64x2.mul (local.get $tx)
                      (f64x2.promote_low_f32x4 (call $hi (local.get $b))))))
                (f64x2.mul (local.get $ty)
                  (f64x2.add
                    (f64x2.mul (local.get $sx)
                      (f64x2.promote_low_f32x4 (call $hi (local.get $c))))
                    (f64x2.mul (local.get $tx)
                      (f64x2.promote_low_f32x4 (call $hi (local.get $d)))))))))
          ;; Clipped to [0, 1] (pmax, pmin: `v < 0 ? 0 : v > 1 ? 1 : v`), times
          ;; 255 rounded to float32, truncated to bytes; 4 bytes stored, the
          ;; 4th overwritten next. The float32 product is the float64 one
          ;; rounded to float32: v (24-bit significand) · 255 (8 bits) is
          ;; exact in float64, and both round that exact product once.
          (local.set $v
            (f32x4.pmin (f32x4.pmax (local.get $v) (local.get $zero)) (local.get $one)))
          (local.set $v
            (i32x4.trunc_sat_f32x4_u (f32x4.mul (local.get $v) (local.get $c255))))
          (v128.store32_lane 0 (local.get $o)
            (i8x16.narrow_i16x8_u
              (i16x8.narrow_i32x4_u (local.get $v) (local.get $v))
              (local.get $zero)))
          (local.set $o (i32.add (local.get $o) (i32.const 3)))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (local.set $x (i32.add (local.get $x) (i32.const 1)))
          (br_if $cols (i32.lt_s (local.get $x) (local.get $n))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br_if $rows (i32.lt_s (local.get $y) (local.get $n))))))
)
