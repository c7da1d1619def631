;; ImageMagick's motion blur (see src/corrupt/motion.ts, `motionBlur`) as a
;; WebAssembly SIMD kernel. Every tap offset is a whole number of pixels, so
;; each output sample of a row is the weighted sum of the samples at fixed
;; distances from its own place in the padded image, whatever its channel:
;; sixteen neighbouring samples are summed at once in eight f64x2 lanes.
;;
;; Exports
;;   memory: the module's one memory; the caller grows it and lays it out.
;;   to_f64(src, dst, n): n bytes at src to float64 at dst, eight at a time
;;     (n rounded up to a multiple of 8; those bytes must be readable).
;;   blur(F, base, stride, len, height, W, Off, taps, out)
;;
;; Memory layout (byte addresses, all 16-aligned)
;;   F:   the padded image (edge pixels repeated by the largest offset r),
;;        float64 samples; output row y reads from F + base + y·stride
;;        (base = ((r·pw + r)·channels)·8, stride = pw·channels·8), and 16
;;        samples past the end must be readable and finite.
;;   W:   taps float64 weights, in the order the sum adds them.
;;   Off: taps i32 byte offsets in F, (dy·pw + dx)·channels·8.
;;   out: height rows of len bytes, plus 16 spare bytes: the blocks of 16
;;        samples run past each row's end into the next row, which is
;;        written afterwards.
;;
;; Per sample, exactly the float64 operations of the scalar sum, in the same
;; order (lanes are independent, no fused multiply-add):
;;   acc = 0;  acc = acc + w_j·x_j for each tap j;
;;   byte = clamp(floor(floor(acc·257 + 0.5) / 257), 0, 255).
(module
  (memory (export "memory") 1)

  (func (export "to_f64") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $b v128) (local $h v128)
    (local.set $end (i32.add (local.get $src) (local.get $n)))
    (block $done
      (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
      (loop $blk
        (local.set $b
          (i16x8.extend_low_i8x16_u (v128.load64_zero (local.get $src))))
        (local.set $h (i32x4.extend_low_i16x8_u (local.get $b)))
        (v128.store (local.get $dst)
          (f64x2.convert_low_i32x4_u (local.get $h)))
        (v128.store offset=16 (local.get $dst)
          (f64x2.convert_low_i32x4_u
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
              (local.get $h) (local.get $h))))
        (local.set $h (i32x4.extend_high_i16x8_u (local.get $b)))
        (v128.store offset=32 (local.get $dst)
          (f64x2.convert_low_i32x4_u (local.get $h)))
        (v128.store offset=48 (local.get $dst)
          (f64x2.convert_low_i32x4_u
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
              (local.get $h) (local.get $h))))
        (local.set $src (i32.add (local.get $src) (i32.const 8)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (br_if $blk (i32.lt_u (local.get $src) (local.get $end))))))

  ;; Two sums to their bytes as i32 lanes 0, 1 (lanes 2, 3 zero).
  (func $quantum (param $a v128) (result v128)
    (i32x4.trunc_sat_f64x2_s_zero
      (f64x2.floor
        (f64x2.div
          (f64x2.floor
            (f64x2.add
              (f64x2.mul (local.get $a) (f64x2.splat (f64.const 257)))
              (f64x2.splat (f64.const 0.5))))
          (f64x2.splat (f64.const 257))))))

  ;; Four sums to four i32 lanes.
  (func $quad (param $a v128) (param $b v128) (result v128)
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (call $quantum (local.get $a)) (call $quantum (local.get $b))))

  (func (export "blur")
    (param $F i32) (param $base i32) (param $stride i32) (param $len i32)
    (param $height i32) (param $W i32) (param $Off i32) (param $taps i32)
    (param $out i32)
    (local $y i32) (local $row i32) (local $p i32) (local $o i32)
    (local $end i32) (local $j i32) (local $a i32) (local $w v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local.set $row (i32.add (local.get $F) (local.get $base)))
    (local.set $o (local.get $out))
    (block $rows_done
      (br_if $rows_done (i32.eqz (local.get $height)))
      (loop $rows
        (local.set $p (local.get $row))
        (local.set $end (i32.add (local.get $o) (local.get $len)))
        (loop $blocks
          (local.set $a0 (v128.const i64x2 0 0))
          (local.set $a1 (v128.const i64x2 0 0))
          (local.set $a2 (v128.const i64x2 0 0))
          (local.set $a3 (v128.const i64x2 0 0))
          (local.set $a4 (v128.const i64x2 0 0))
          (local.set $a5 (v128.const i64x2 0 0))
          (local.set $a6 (v128.const i64x2 0 0))
          (local.set $a7 (v128.const i64x2 0 0))
          (local.set $j (i32.const 0))
          (loop $tap
            (local.set $w
              (v128.load64_splat
                (i32.add (local.get $W) (i32.shl (local.get $j) (i32.const 3)))))
            (local.set $a
              (i32.add (local.get $p)
                (i32.load
                  (i32.add (local.get $Off)
                    (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $a0 (f64x2.add (local.get $a0)
              (f64x2.mul (local.get $w) (v128.load (local.get $a)))))
            (local.set $a1 (f64x2.add (local.get $a1)
              (f64x2.mul (local.get $w) (v128.load offset=16 (local.get $a)))))
            (local.set $a2 (f64x2.add (local.get $a2)
              (f64x2.mul (local.get $w) (v128.load offset=32 (local.get $a)))))
            (local.set $a3 (f64x2.add (local.get $a3)
              (f64x2.mul (local.get $w) (v128.load offset=48 (local.get $a)))))
            (local.set $a4 (f64x2.add (local.get $a4)
              (f64x2.mul (local.get $w) (v128.load offset=64 (local.get $a)))))
            (local.set $a5 (f64x2.add (local.get $a5)
              (f64x2.mul (local.get $w) (v128.load offset=80 (local.get $a)))))
            (local.set $a6 (f64x2.add (local.get $a6)
              (f64x2.mul (local.get $w) (v128.load offset=96 (local.get $a)))))
            (local.set $a7 (f64x2.add (local.get $a7)
              (f64x2.mul (local.get $w) (v128.load offset=112 (local.get $a)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $tap (i32.lt_u (local.get $j) (local.get $taps))))
          (v128.store (local.get $o)
            (i8x16.narrow_i16x8_u
              (i16x8.narrow_i32x4_s
                (call $quad (local.get $a0) (local.get $a1))
                (call $quad (local.get $a2) (local.get $a3)))
              (i16x8.narrow_i32x4_s
                (call $quad (local.get $a4) (local.get $a5))
                (call $quad (local.get $a6) (local.get $a7)))))
          (local.set $p (i32.add (local.get $p) (i32.const 128)))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $blocks (i32.lt_u (local.get $o) (local.get $end))))
        (local.set $o (local.get $end))
        (local.set $row (i32.add (local.get $row) (local.get $stride)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $y) (local.get $height)))))))
