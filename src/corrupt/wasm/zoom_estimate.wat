;; The float64 estimate of zoom blur (see src/corrupt/zoom.ts, `zoomBlur`),
;; three channels at a time in f64x2 lanes: it decides the bytes that the
;; estimate bound proves and lists the samples it cannot decide.
;;
;; Exports
;;   memory: the module's one memory; the caller grows it and lays it out.
;;   to_rgbx(src, dst, npix): npix RGB bytes at src (one byte readable past
;;     the end) to RGBx float64 pixels at dst (32 bytes each, x = 0).
;;   estimate(h, np, w0, inv, d, white, F, Yt, Zt, Xt, out, miss, counts)
;;     -> number of undecided samples.
;;
;; Memory layout (byte addresses, all 16-aligned; j = zoom 0..np-1 besides
;; zoom 1, in the order the sum adds them)
;;   F:  the h x h image, RGBx float64 in byte units (to_rgbx).
;;   Yt: per output row y, per zoom j, 16 bytes at Yt + (y·np + j)·16:
;;       i32 address in F of source row lo_j(y), i32 of row hi_j(y), f64 t_j(y).
;;   Zt: per zoom j, 16 bytes: i32 address of U_j, i32 first and i32 end
;;       byte offset within a row of the zoom's crop columns ([top, top + ch)
;;       pixels, times 32).
;;   Xt: per output column x, per zoom j, 16 bytes at Xt + (x·np + j)·16:
;;       i32 address of pixel lo_j(x) in U_j, f64 weight of pixel lo_j(x) + 1
;;       (0 where the original's second tap is lo_j(x) itself).
;;   U_j: h + 1 RGBx float64 pixels per zoom: the crop columns of the current
;;       row interpolated along y (where zoom j + 1 reads the same two rows,
;;       over zoom j's wider crop too); pixel top + ch (read with weight 0)
;;       must hold finite values.
;;   out: h·h·3 bytes plus one spare: the decided bytes (undecided ones hold
;;       anything).
;;   miss: i32 sample indices (y·h·3 + 3x + c) of the undecided samples, in
;;       order; counts: i32 per row, how many of them lie in that row.
;;
;; Per sample, exactly the float64 operations of the scalar estimate, in the
;; same order (lanes are independent, no fused multiply-add):
;;   U = a + (b − a)·t_y;  e = w0·x;  e = e + (U0 + (U1 − U0)·t_x) per zoom;
;;   w = e·inv;  k = trunc(w − d);  byte k where w + d < k + 1 and k < 255,
;;   else 255 where e ≥ white, else undecided.
(module
  (memory (export "memory") 1)

  (func (export "to_rgbx") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $v v128)
    (local.set $end
      (i32.add (local.get $src) (i32.mul (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
      (loop $px
        (local.set $v
          (i32x4.replace_lane 3
            (i32x4.extend_low_i16x8_u
              (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $src))))
            (i32.const 0)))
        (v128.store (local.get $dst)
          (f64x2.convert_low_i32x4_u (local.get $v)))
        (v128.store offset=16 (local.get $dst)
          (f64x2.convert_low_i32x4_u
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
              (local.get $v) (local.get $v))))
        (local.set $src (i32.add (local.get $src) (i32.const 3)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br_if $px (i32.lt_u (local.get $src) (local.get $end))))))

  (func (export "estimate")
    (param $h i32) (param $np i32)
    (param $w0 f64) (param $inv f64) (param $d f64) (param $white f64)
    (param $F i32) (param $Yt i32) (param $Zt i32) (param $Xt i32)
    (param $out i32) (param $miss i32) (param $counts i32)
    (result i32)
    (local $y i32) (local $x i32) (local $yp i32) (local $zp i32)
    (local $zend i32) (local $r0 i32) (local $r1 i32) (local $ub i32)
    (local $c i32) (local $cend i32) (local $fp i32) (local $p i32)
    (local $o i32) (local $xp i32) (local $xe i32) (local $s i32)
    (local $si i32) (local $nm i32) (local $row0 i32) (local $m i32)
    (local $rowbytes i32) (local $recs i32) (local $ub2 i32) (local $t2 v128)
    (local $t v128) (local $a0 v128) (local $a1 v128) (local $b0 v128)
    (local $b1 v128) (local $e0 v128) (local $e1 v128) (local $q0 v128)
    (local $q1 v128) (local $k0 v128) (local $k1 v128) (local $k v128)
    (local $ok v128) (local $wh v128)
    (local $w0v v128) (local $invv v128) (local $dv v128) (local $whitev v128)
    (local $one v128) (local $c255 v128)
    (local.set $w0v (f64x2.splat (local.get $w0)))
    (local.set $invv (f64x2.splat (local.get $inv)))
    (local.set $dv (f64x2.splat (local.get $d)))
    (local.set $whitev (f64x2.splat (local.get $white)))
    (local.set $one (f64x2.splat (f64.const 1)))
    (local.set $c255 (i32x4.splat (i32.const 255)))
    (local.set $rowbytes (i32.shl (local.get $h) (i32.const 5)))
    (local.set $recs (i32.shl (local.get $np) (i32.const 4)))
    (local.set $zend (i32.add (local.get $Zt) (local.get $recs)))
    (local.set $yp (local.get $Yt))
    (local.set $fp (local.get $F))
    (local.set $o (local.get $out))
    (block $rows_done
      (br_if $rows_done (i32.eqz (local.get $h)))
      (loop $rows
        (local.set $row0 (local.get $nm))
        ;; y pass: U_j = a + (b − a)·t over the crop columns of each zoom.
        (local.set $zp (local.get $Zt))
        (block $zooms_done
          (br_if $zooms_done (i32.ge_u (local.get $zp) (local.get $zend)))
          (loop $zooms
            (local.set $r0 (i32.load (local.get $yp)))
            (local.set $r1 (i32.load offset=4 (local.get $yp)))
            (local.set $t (v128.load64_splat offset=8 (local.get $yp)))
            (local.set $ub (i32.load (local.get $zp)))
            (local.set $c (i32.load offset=4 (local.get $zp)))
            (local.set $cend (i32.load offset=8 (local.get $zp)))
            (if (i32.and
                  (i32.lt_u (i32.add (local.get $zp) (i32.const 16)) (local.get $zend))
                  (i32.and
                    (i32.eq (local.get $r0) (i32.load offset=16 (local.get $yp)))
                    (i32.eq (local.get $r1) (i32.load offset=20 (local.get $yp)))))
              (then
                ;; The next zoom reads the same two rows: one load for both,
                ;; over this zoom's (wider) crop.
                (local.set $t2 (v128.load64_splat offset=24 (local.get $yp)))
                (local.set $ub2 (i32.load offset=16 (local.get $zp)))
                (block $pcols_done
                  (br_if $pcols_done (i32.ge_u (local.get $c) (local.get $cend)))
                  (loop $pcols
                    (local.set $a0
                      (v128.load (i32.add (local.get $r0) (local.get $c))))
                    (local.set $a1
                      (v128.load offset=16 (i32.add (local.get $r0) (local.get $c))))
                    (local.set $b0
                      (f64x2.sub (v128.load (i32.add (local.get $r1) (local.get $c)))
                        (local.get $a0)))
                    (local.set $b1
                      (f64x2.sub (v128.load offset=16 (i32.add (local.get $r1) (local.get $c)))
                        (local.get $a1)))
                    (v128.store (i32.add (local.get $ub) (local.get $c))
                      (f64x2.add (local.get $a0) (f64x2.mul (local.get $b0) (local.get $t))))
                    (v128.store offset=16 (i32.add (local.get $ub) (local.get $c))
                      (f64x2.add (local.get $a1) (f64x2.mul (local.get $b1) (local.get $t))))
                    (v128.store (i32.add (local.get $ub2) (local.get $c))
                      (f64x2.add (local.get $a0) (f64x2.mul (local.get $b0) (local.get $t2))))
                    (v128.store offset=16 (i32.add (local.get $ub2) (local.get $c))
                      (f64x2.add (local.get $a1) (f64x2.mul (local.get $b1) (local.get $t2))))
                    (local.set $c (i32.add (local.get $c) (i32.const 32)))
                    (br_if $pcols (i32.lt_u (local.get $c) (local.get $cend)))))
                (local.set $yp (i32.add (local.get $yp) (i32.const 16)))
                (local.set $zp (i32.add (local.get $zp) (i32.const 16))))
              (else
                (block $cols_done
                  (br_if $cols_done (i32.ge_u (local.get $c) (local.get $cend)))
                  (loop $cols
                    (local.set $a0
                      (v128.load (i32.add (local.get $r0) (local.get $c))))
                    (local.set $a1
                      (v128.load offset=16 (i32.add (local.get $r0) (local.get $c))))
                    (local.set $b0
                      (v128.load (i32.add (local.get $r1) (local.get $c))))
                    (local.set $b1
                      (v128.load offset=16 (i32.add (local.get $r1) (local.get $c))))
                    (v128.store (i32.add (local.get $ub) (local.get $c))
                      (f64x2.add (local.get $a0)
                        (f64x2.mul (f64x2.sub (local.get $b0) (local.get $a0))
                          (local.get $t))))
                    (v128.store offset=16 (i32.add (local.get $ub) (local.get $c))
                      (f64x2.add (local.get $a1)
                        (f64x2.mul (f64x2.sub (local.get $b1) (local.get $a1))
                          (local.get $t))))
                    (local.set $c (i32.add (local.get $c) (i32.const 32)))
                    (br_if $cols (i32.lt_u (local.get $c) (local.get $cend)))))))
            (local.set $yp (i32.add (local.get $yp) (i32.const 16)))
            (local.set $zp (i32.add (local.get $zp) (i32.const 16)))
            (br_if $zooms (i32.lt_u (local.get $zp) (local.get $zend)))))
        ;; x pass: per pixel, the zooms added in order, then the bytes.
        (local.set $xp (local.get $Xt))
        (local.set $p (local.get $fp))
        (local.set $x (i32.const 0))
        (loop $cols
          (local.set $e0 (f64x2.mul (local.get $w0v) (v128.load (local.get $p))))
          (local.set $e1
            (f64x2.mul (local.get $w0v) (v128.load offset=16 (local.get $p))))
          (local.set $xe (i32.add (local.get $xp) (local.get $recs)))
          (block $taps_done
            (br_if $taps_done (i32.ge_u (local.get $xp) (local.get $xe)))
            (loop $taps
              (local.set $s (i32.load (local.get $xp)))
              (local.set $t (v128.load64_splat offset=8 (local.get $xp)))
              (local.set $a0 (v128.load (local.get $s)))
              (local.set $a1 (v128.load offset=16 (local.get $s)))
              (local.set $b0 (v128.load offset=32 (local.get $s)))
              (local.set $b1 (v128.load offset=48 (local.get $s)))
              (local.set $e0
                (f64x2.add (local.get $e0)
                  (f64x2.add (local.get $a0)
                    (f64x2.mul (f64x2.sub (local.get $b0) (local.get $a0))
                      (local.get $t)))))
              (local.set $e1
                (f64x2.add (local.get $e1)
                  (f64x2.add (local.get $a1)
                    (f64x2.mul (f64x2.sub (local.get $b1) (local.get $a1))
                      (local.get $t)))))
              (local.set $xp (i32.add (local.get $xp) (i32.const 16)))
              (br_if $taps (i32.lt_u (local.get $xp) (local.get $xe)))))
          ;; w = e·inv; k = trunc(w − d); decided where w + d < k + 1.
          (local.set $q0 (f64x2.mul (local.get $e0) (local.get $invv)))
          (local.set $q1 (f64x2.mul (local.get $e1) (local.get $invv)))
          (local.set $k0
            (i32x4.trunc_sat_f64x2_s_zero
              (f64x2.sub (local.get $q0) (local.get $dv))))
          (local.set $k1
            (i32x4.trunc_sat_f64x2_s_zero
              (f64x2.sub (local.get $q1) (local.get $dv))))
          (local.set $k
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (local.get $k0) (local.get $k1)))
          (local.set $ok
            (v128.and
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                (f64x2.lt (f64x2.add (local.get $q0) (local.get $dv))
                  (f64x2.add (f64x2.convert_low_i32x4_s (local.get $k0))
                    (local.get $one)))
                (f64x2.lt (f64x2.add (local.get $q1) (local.get $dv))
                  (f64x2.add (f64x2.convert_low_i32x4_s (local.get $k1))
                    (local.get $one))))
              (i32x4.lt_s (local.get $k) (local.get $c255))))
          (local.set $wh
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
              (f64x2.ge (local.get $e0) (local.get $whitev))
              (f64x2.ge (local.get $e1) (local.get $whitev))))
          ;; Four bytes stored, the fourth overwritten by the next pixel.
          (v128.store32_lane 0 (local.get $o)
            (i8x16.narrow_i16x8_u
              (i16x8.narrow_i32x4_u
                (v128.bitselect (local.get $k) (local.get $c255) (local.get $ok))
                (local.get $c255))
              (local.get $c255)))
          (local.set $m
            (i32.and
              (i32x4.bitmask (v128.not (v128.or (local.get $ok) (local.get $wh))))
              (i32.const 7)))
          (if (local.get $m)
            (then
              (if (i32.and (local.get $m) (i32.const 1))
                (then
                  (i32.store
                    (i32.add (local.get $miss) (i32.shl (local.get $nm) (i32.const 2)))
                    (local.get $si))
                  (local.set $nm (i32.add (local.get $nm) (i32.const 1)))))
              (if (i32.and (local.get $m) (i32.const 2))
                (then
                  (i32.store
                    (i32.add (local.get $miss) (i32.shl (local.get $nm) (i32.const 2)))
                    (i32.add (local.get $si) (i32.const 1)))
                  (local.set $nm (i32.add (local.get $nm) (i32.const 1)))))
              (if (i32.and (local.get $m) (i32.const 4))
                (then
                  (i32.store
                    (i32.add (local.get $miss) (i32.shl (local.get $nm) (i32.const 2)))
                    (i32.add (local.get $si) (i32.const 2)))
                  (local.set $nm (i32.add (local.get $nm) (i32.const 1)))))))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (local.set $o (i32.add (local.get $o) (i32.const 3)))
          (local.set $si (i32.add (local.get $si) (i32.const 3)))
          (local.set $x (i32.add (local.get $x) (i32.const 1)))
          (br_if $cols (i32.lt_u (local.get $x) (local.get $h))))
        (i32.store
          (i32.add (local.get $counts) (i32.shl (local.get $y) (i32.const 2)))
          (i32.sub (local.get $nm) (local.get $row0)))
        (local.set $fp (i32.add (local.get $fp) (local.get $rowbytes)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $y) (local.get $h)))))
    (local.get $nm)))
