;; The short-kernel route of the elastic transform's field smoothing (see
;; src/corrupt/reflect_convolve.ts): the correlation of two n x n float64
;; images A and B with a kernel under scipy's mode="reflect", as direct
;; sums, with the two images in the two f64x2 lanes. Per output sample,
;; exactly the scalar sums: acc = 0, then acc = acc + w_t · x_t over the
;; output's taps in order (no fused multiply-add).
;;
;; Exports
;;   memory: the module's one memory; the caller grows it and lays it out.
;;   interleave(A, B, I, count): I[k] = (A[k], B[k]) for k < count.
;;   deinterleave(I, A, B, count): the inverse.
;;   correlate(n, src, dst, along, across, TS, TI, TW): for every output
;;     index i < n along the axis and every j < n across it,
;;     dst[i·along + j·across] = Σ_t TW[t] · src[TI[t]·along + j·across]
;;     over t in [TS[2i], TS[2i] + TS[2i + 1]); along and across are byte
;;     strides (16 and 16·n, or 16·n and 16).
;;
;; Memory layout (byte addresses, 16-aligned)
;;   A, B: n·n float64 each, row-major.
;;   I, T: n·n f64x2 (A, B) pairs each, row-major.
;;   TS: per output index, i32 first tap and i32 tap count.
;;   TI: i32 input index per tap; TW: float64 weight per tap.
(module
  (memory (export "memory") 1)

  (func (export "interleave") (param $A i32) (param $B i32) (param $I i32)
    (param $count i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $A) (i32.shl (local.get $count) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $A) (local.get $end)))
      (loop $k
        (v128.store (local.get $I)
          (f64x2.replace_lane 1 (v128.load64_zero (local.get $A))
            (f64.load (local.get $B))))
        (local.set $A (i32.add (local.get $A) (i32.const 8)))
        (local.set $B (i32.add (local.get $B) (i32.const 8)))
        (local.set $I (i32.add (local.get $I) (i32.const 16)))
        (br_if $k (i32.lt_u (local.get $A) (local.get $end))))))

  (func (export "deinterleave") (param $I i32) (param $A i32) (param $B i32)
    (param $count i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $A) (i32.shl (local.get $count) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $A) (local.get $end)))
      (loop $k
        (local.set $v (v128.load (local.get $I)))
        (v128.store64_lane 0 (local.get $A) (local.get $v))
        (v128.store64_lane 1 (local.get $B) (local.get $v))
        (local.set $A (i32.add (local.get $A) (i32.const 8)))
        (local.set $B (i32.add (local.get $B) (i32.const 8)))
        (local.set $I (i32.add (local.get $I) (i32.const 16)))
        (br_if $k (i32.lt_u (local.get $A) (local.get $end))))))

  (func (export "correlate")
    (param $n i32) (param $src i32) (param $dst i32) (param $along i32)
    (param $across i32) (param $TS i32) (param $TI i32) (param $TW i32)
    (local $i i32) (local $j i32) (local $t i32) (local $tend i32)
    (local $p i32) (local $o i32) (local $j4 i32) (local $a2 i32)
    (local $a3 i32)
    (local $w v128) (local $s0 v128) (local $s1 v128) (local $s2 v128)
    (local $s3 v128)
    (local.set $j4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $a2 (i32.shl (local.get $across) (i32.const 1)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $across)))
    (local.set $i (i32.const 0))
    (block $rows_done
      (br_if $rows_done (i32.le_s (local.get $n) (i32.const 0)))
      (loop $rows
        (local.set $t (i32.load (i32.add (local.get $TS) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $tend (i32.add (local.get $t)
          (i32.load offset=4 (i32.add (local.get $TS) (i32.shl (local.get $i) (i32.const 3))))))
        ;; Four outputs across at a time, then one at a time.
        (local.set $j (i32.const 0))
        (block $quads_done
          (br_if $quads_done (i32.ge_s (local.get $j) (local.get $j4)))
          (loop $quads
            (local.set $s0 (v128.const i64x2 0 0))
            (local.set $s1 (v128.const i64x2 0 0))
            (local.set $s2 (v128.const i64x2 0 0))
            (local.set $s3 (v128.const i64x2 0 0))
            (local.set $o (local.get $t))
            (block $taps_done
              (br_if $taps_done (i32.ge_s (local.get $o) (local.get $tend)))
              (loop $taps
                (local.set $w (v128.load64_splat
                  (i32.add (local.get $TW) (i32.shl (local.get $o) (i32.const 3)))))
                (local.set $p (i32.add (local.get $src)
                  (i32.add
                    (i32.mul (i32.load (i32.add (local.get $TI) (i32.shl (local.get $o) (i32.const 2))))
                      (local.get $along))
                    (i32.mul (local.get $j) (local.get $across)))))
                (local.set $s0 (f64x2.add (local.get $s0)
                  (f64x2.mul (local.get $w) (v128.load (local.get $p)))))
                (local.set $s1 (f64x2.add (local.get $s1)
                  (f64x2.mul (local.get $w)
                    (v128.load (i32.add (local.get $p) (local.get $across))))))
                (local.set $s2 (f64x2.add (local.get $s2)
                  (f64x2.mul (local.get $w)
                    (v128.load (i32.add (local.get $p) (local.get $a2))))))
                (local.set $s3 (f64x2.add (local.get $s3)
                  (f64x2.mul (local.get $w)
                    (v128.load (i32.add (local.get $p) (local.get $a3))))))
                (local.set $o (i32.add (local.get $o) (i32.const 1)))
                (br_if $taps (i32.lt_s (local.get $o) (local.get $tend)))))
            (local.set $p (i32.add (local.get $dst)
              (i32.add (i32.mul (local.get $i) (local.get $along))
                (i32.mul (local.get $j) (local.get $across)))))
            (v128.store (local.get $p) (local.get $s0))
            (v128.store (i32.add (local.get $p) (local.get $across)) (local.get $s1))
            (v128.store (i32.add (local.get $p) (local.get $a2)) (local.get $s2))
            (v128.store (i32.add (local.get $p) (local.get $a3)) (local.get $s3))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br_if $quads (i32.lt_s (local.get $j) (local.get $j4)))))
        (block $ones_done
          (br_if $ones_done (i32.ge_s (local.get $j) (local.get $n)))
          (loop $ones
            (local.set $s0 (v128.const i64x2 0 0))
            (local.set $o (local.get $t))
            (block $taps1_done
              (br_if $taps1_done (i32.ge_s (local.get $o) (local.get $tend)))
              (loop $taps1
                (local.set $s0 (f64x2.add (local.get $s0)
                  (f64x2.mul
                    (v128.load64_splat
                      (i32.add (local.get $TW) (i32.shl (local.get $o) (i32.const 3))))
                    (v128.load (i32.add (local.get $src)
                      (i32.add
                        (i32.mul
                          (i32.load (i32.add (local.get $TI) (i32.shl (local.get $o) (i32.const 2))))
                          (local.get $along))
                        (i32.mul (local.get $j) (local.get $across))))))))
                (local.set $o (i32.add (local.get $o) (i32.const 1)))
                (br_if $taps1 (i32.lt_s (local.get $o) (local.get $tend)))))
            (v128.store (i32.add (local.get $dst)
              (i32.add (i32.mul (local.get $i) (local.get $along))
                (i32.mul (local.get $j) (local.get $across))))
              (local.get $s0))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $ones (i32.lt_s (local.get $j) (local.get $n)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $rows (i32.lt_s (local.get $i) (local.get $n))))))
)
