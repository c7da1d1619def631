;; Glass blur's Gaussian passes over runs of consecutive samples (see
;; src/corrupt/glass.ts): each output is a tap sum along one axis, the
;; samples of a run sharing their taps' pattern. Float64 operations are
;; those of the scalar form in the same order (f64x2 lanes are
;; independent, no fused multiply-add).
;;
;; Exports
;;   memory: the module's one memory; the caller grows it and lays it out.
;;   pass(src, dst, n, st, nt, w): for i in [0, n),
;;     dst[i] = Σ_t w[t]·src[i + t·st], t = 0..nt−1 in order, from 0
;;     (0 + w[0]·s is w[0]·s: the terms are ≥ +0, so never −0);
;;   src, dst, w: byte addresses of float64 arrays; st in samples.
;;   Sixteen outputs a step (eight f64x2 sums), then two, then one.
;;   pass_bytes(src, dst, n, st, nt, w): the same sums, written as the bytes
;;     trunc(255·sum) at dst + i (the sums lie in [0, 1 + 1e-14]: the
;;     truncation is in [0, 255], and the narrowing saturates nothing).
;;   to_float(src, dst, n, table): dst[i] = table[byte src[i]] (float64).
;;   gather(src, map, dst, np, table): dst[3p + c] = table[src[3·map[p] + c]]
;;     for pixel p < np, c < 3 (map: i32 pixel indices).
;;   dot(src, dst, n, rows, rs, off, wt, nt): the border taps: per row r
;;     and i < n, with j = r·rs + i, dst[j] = Σ_t wt[t]·src[j + off[t]]
;;     (off in samples).
(module
  (memory (export "memory") 1)
  (func (export "pass")
    (param $src i32) (param $dst i32) (param $n i32) (param $st i32)
    (param $nt i32) (param $w i32)
    (local $i i32) (local $p i32) (local $q i32) (local $t i32)
    (local $sb i32) (local $wt v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $e v128) (local $f v128) (local $g v128) (local $h v128)
    (local $s f64)
    (local.set $sb (i32.shl (local.get $st) (i32.const 3)))
    ;; Sixteen outputs a step (eight sums in flight hide the adds' latency).
    (block $done16
      (loop $sixteen
        (br_if $done16 (i32.gt_s (i32.add (local.get $i) (i32.const 16)) (local.get $n)))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $a (v128.const f64x2 0 0))
        (local.set $b (v128.const f64x2 0 0))
        (local.set $c (v128.const f64x2 0 0))
        (local.set $d (v128.const f64x2 0 0))
        (local.set $e (v128.const f64x2 0 0))
        (local.set $f (v128.const f64x2 0 0))
        (local.set $g (v128.const f64x2 0 0))
        (local.set $h (v128.const f64x2 0 0))
        (local.set $q (local.get $w))
        (local.set $t (local.get $nt))
        (loop $taps
          (local.set $wt (v128.load64_splat (local.get $q)))
          (local.set $a (f64x2.add (local.get $a)
            (f64x2.mul (local.get $wt) (v128.load (local.get $p)))))
          (local.set $b (f64x2.add (local.get $b)
            (f64x2.mul (local.get $wt) (v128.load offset=16 (local.get $p)))))
          (local.set $c (f64x2.add (local.get $c)
            (f64x2.mul (local.get $wt) (v128.load offset=32 (local.get $p)))))
          (local.set $d (f64x2.add (local.get $d)
            (f64x2.mul (local.get $wt) (v128.load offset=48 (local.get $p)))))
          (local.set $e (f64x2.add (local.get $e)
            (f64x2.mul (local.get $wt) (v128.load offset=64 (local.get $p)))))
          (local.set $f (f64x2.add (local.get $f)
            (f64x2.mul (local.get $wt) (v128.load offset=80 (local.get $p)))))
          (local.set $g (f64x2.add (local.get $g)
            (f64x2.mul (local.get $wt) (v128.load offset=96 (local.get $p)))))
          (local.set $h (f64x2.add (local.get $h)
            (f64x2.mul (local.get $wt) (v128.load offset=112 (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (local.get $sb)))
          (local.set $q (i32.add (local.get $q) (i32.const 8)))
          (br_if $taps (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
        (local.set $p (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3))))
        (v128.store (local.get $p) (local.get $a))
        (v128.store offset=16 (local.get $p) (local.get $b))
        (v128.store offset=32 (local.get $p) (local.get $c))
        (v128.store offset=48 (local.get $p) (local.get $d))
        (v128.store offset=64 (local.get $p) (local.get $e))
        (v128.store offset=80 (local.get $p) (local.get $f))
        (v128.store offset=96 (local.get $p) (local.get $g))
        (v128.store offset=112 (local.get $p) (local.get $h))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $sixteen)))
    ;; Two outputs a step.
    (block $done2
      (loop $two
        (br_if $done2 (i32.gt_s (i32.add (local.get $i) (i32.const 2)) (local.get $n)))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $a (v128.const f64x2 0 0))
        (local.set $q (local.get $w))
        (local.set $t (local.get $nt))
        (loop $taps
          (local.set $a (f64x2.add (local.get $a)
            (f64x2.mul (v128.load64_splat (local.get $q)) (v128.load (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (local.get $sb)))
          (local.set $q (i32.add (local.get $q) (i32.const 8)))
          (br_if $taps (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3)))
          (local.get $a))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $two)))
    ;; The last output, where n is odd.
    (if (i32.lt_s (local.get $i) (local.get $n))
      (then
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $s (f64.const 0))
        (local.set $q (local.get $w))
        (local.set $t (local.get $nt))
        (loop $taps
          (local.set $s (f64.add (local.get $s)
            (f64.mul (f64.load (local.get $q)) (f64.load (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (local.get $sb)))
          (local.set $q (i32.add (local.get $q) (i32.const 8)))
          (br_if $taps (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
        (f64.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3)))
          (local.get $s)))))
  (func (export "pass_bytes")
    (param $src i32) (param $dst i32) (param $n i32) (param $st i32)
    (param $nt i32) (param $w i32)
    (local $i i32) (local $p i32) (local $q i32) (local $t i32)
    (local $sb i32) (local $wt v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $e v128) (local $f v128) (local $g v128) (local $h v128)
    (local $s f64)
    (local $k255 v128)
    (local.set $k255 (v128.const f64x2 255 255))
    (local.set $sb (i32.shl (local.get $st) (i32.const 3)))
    ;; Sixteen outputs a step (eight sums in flight hide the adds' latency).
    (block $done16
      (loop $sixteen
        (br_if $done16 (i32.gt_s (i32.add (local.get $i) (i32.const 16)) (local.get $n)))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $a (v128.const f64x2 0 0))
        (local.set $b (v128.const f64x2 0 0))
        (local.set $c (v128.const f64x2 0 0))
        (local.set $d (v128.const f64x2 0 0))
        (local.set $e (v128.const f64x2 0 0))
        (local.set $f (v128.const f64x2 0 0))
        (local.set $g (v128.const f64x2 0 0))
        (local.set $h (v128.const f64x2 0 0))
        (local.set $q (local.get $w))
        (local.set $t (local.get $nt))
        (loop $taps
          (local.set $wt (v128.load64_splat (local.get $q)))
          (local.set $a (f64x2.add (local.get $a)
            (f64x2.mul (local.get $wt) (v128.load (local.get $p)))))
          (local.set $b (f64x2.add (local.get $b)
            (f64x2.mul (local.get $wt) (v128.load offset=16 (local.get $p)))))
          (local.set $c (f64x2.add (local.get $c)
            (f64x2.mul (local.get $wt) (v128.load offset=32 (local.get $p)))))
          (local.set $d (f64x2.add (local.get $d)
            (f64x2.mul (local.get $wt) (v128.load offset=48 (local.get $p)))))
          (local.set $e (f64x2.add (local.get $e)
            (f64x2.mul (local.get $wt) (v128.load offset=64 (local.get $p)))))
          (local.set $f (f64x2.add (local.get $f)
            (f64x2.mul (local.get $wt) (v128.load offset=80 (local.get $p)))))
          (local.set $g (f64x2.add (local.get $g)
            (f64x2.mul (local.get $wt) (v128.load offset=96 (local.get $p)))))
          (local.set $h (f64x2.add (local.get $h)
            (f64x2.mul (local.get $wt) (v128.load offset=112 (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (local.get $sb)))
          (local.set $q (i32.add (local.get $q) (i32.const 8)))
          (br_if $taps (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
        (local.set $p (i32.add (local.get $dst) (local.get $i)))
        (v128.store (local.get $p)
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (local.get $a) (local.get $k255)))
            (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (local.get $b) (local.get $k255))))
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (local.get $c) (local.get $k255)))
            (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (local.get $d) (local.get $k255)))))
            (i16x8.narrow_i32x4_s
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (local.get $e) (local.get $k255)))
            (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (local.get $f) (local.get $k255))))
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (local.get $g) (local.get $k255)))
            (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (local.get $h) (local.get $k255)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $sixteen)))
    ;; Two outputs a step.
    (block $done2
      (loop $two
        (br_if $done2 (i32.gt_s (i32.add (local.get $i) (i32.const 2)) (local.get $n)))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $a (v128.const f64x2 0 0))
        (local.set $q (local.get $w))
        (local.set $t (local.get $nt))
        (loop $taps
          (local.set $a (f64x2.add (local.get $a)
            (f64x2.mul (v128.load64_splat (local.get $q)) (v128.load (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (local.get $sb)))
          (local.set $q (i32.add (local.get $q) (i32.const 8)))
          (br_if $taps (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
        (local.set $a (i32x4.trunc_sat_f64x2_s_zero
          (f64x2.mul (local.get $a) (local.get $k255))))
        (local.set $p (i32.add (local.get $dst) (local.get $i)))
        (i32.store8 (local.get $p) (i32x4.extract_lane 0 (local.get $a)))
        (i32.store8 offset=1 (local.get $p) (i32x4.extract_lane 1 (local.get $a)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $two)))
    ;; The last output, where n is odd.
    (if (i32.lt_s (local.get $i) (local.get $n))
      (then
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $s (f64.const 0))
        (local.set $q (local.get $w))
        (local.set $t (local.get $nt))
        (loop $taps
          (local.set $s (f64.add (local.get $s)
            (f64.mul (f64.load (local.get $q)) (f64.load (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (local.get $sb)))
          (local.set $q (i32.add (local.get $q) (i32.const 8)))
          (br_if $taps (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
        (i32.store8 (i32.add (local.get $dst) (local.get $i))
          (i32.trunc_sat_f64_s (f64.mul (local.get $s) (f64.const 255)))))))
  ;; to_float(src, dst, n, table): dst[i] = table[byte at src + i].
  (func (export "to_float")
    (param $src i32) (param $dst i32) (param $n i32) (param $table i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $src) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (f64.store (local.get $dst) (f64.load (i32.add (local.get $table)
          (i32.shl (i32.load8_u (local.get $src)) (i32.const 3)))))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
        (br $next))))
  ;; gather(src, map, dst, np, table): for pixel p in [0, np) and c < 3,
  ;; dst[3p + c] = table[byte at src + 3·map[p] + c].
  (func (export "gather")
    (param $src i32) (param $map i32) (param $dst i32) (param $np i32)
    (param $table i32)
    (local $end i32) (local $s i32)
    (local.set $end (i32.add (local.get $map) (i32.shl (local.get $np) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $map) (local.get $end)))
        (local.set $s (i32.add (local.get $src)
          (i32.mul (i32.load (local.get $map)) (i32.const 3))))
        (f64.store (local.get $dst) (f64.load (i32.add (local.get $table)
          (i32.shl (i32.load8_u (local.get $s)) (i32.const 3)))))
        (f64.store offset=8 (local.get $dst) (f64.load (i32.add (local.get $table)
          (i32.shl (i32.load8_u offset=1 (local.get $s)) (i32.const 3)))))
        (f64.store offset=16 (local.get $dst) (f64.load (i32.add (local.get $table)
          (i32.shl (i32.load8_u offset=2 (local.get $s)) (i32.const 3)))))
        (local.set $map (i32.add (local.get $map) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 24)))
        (br $next))))

  ;; dot(src, dst, n, rows, rs, off, wt, nt): for row r < rows and i < n,
  ;; with j = r·rs + i, dst[j] = Σ_t wt[t]·src[j + off[t]], t = 0..nt−1 in
  ;; order, from 0 (off: i32 sample offsets, wt: float64). Two outputs a
  ;; step, then one.
  (func (export "dot")
    (param $src i32) (param $dst i32) (param $n i32) (param $rows i32)
    (param $rs i32) (param $off i32) (param $wt i32) (param $nt i32)
    (local $r i32) (local $i i32) (local $t i32) (local $p i32) (local $d i32)
    (local $a v128) (local $s f64)
    (local.set $rs (i32.shl (local.get $rs) (i32.const 3)))
    (block $rdone
      (loop $row
        (br_if $rdone (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $i (i32.const 0))
        (block $done2
          (loop $two
            (br_if $done2 (i32.gt_s (i32.add (local.get $i) (i32.const 2)) (local.get $n)))
            (local.set $p (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))
            (local.set $a (v128.const f64x2 0 0))
            (local.set $t (i32.const 0))
            (loop $taps
              (local.set $a (f64x2.add (local.get $a) (f64x2.mul
                (v128.load64_splat (i32.add (local.get $wt) (i32.shl (local.get $t) (i32.const 3))))
                (v128.load (i32.add (local.get $p) (i32.shl
                  (i32.load (i32.add (local.get $off) (i32.shl (local.get $t) (i32.const 2))))
                  (i32.const 3)))))))
              (br_if $taps (i32.lt_s (local.tee $t (i32.add (local.get $t) (i32.const 1))) (local.get $nt))))
            (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3)))
              (local.get $a))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br $two)))
        (if (i32.lt_s (local.get $i) (local.get $n))
          (then
            (local.set $p (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))
            (local.set $s (f64.const 0))
            (local.set $t (i32.const 0))
            (loop $taps
              (local.set $s (f64.add (local.get $s) (f64.mul
                (f64.load (i32.add (local.get $wt) (i32.shl (local.get $t) (i32.const 3))))
                (f64.load (i32.add (local.get $p) (i32.shl
                  (i32.load (i32.add (local.get $off) (i32.shl (local.get $t) (i32.const 2))))
                  (i32.const 3)))))))
              (br_if $taps (i32.lt_s (local.tee $t (i32.add (local.get $t) (i32.const 1))) (local.get $nt))))
            (f64.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3)))
              (local.get $s))))
        (local.set $src (i32.add (local.get $src) (local.get $rs)))
        (local.set $dst (i32.add (local.get $dst) (local.get $rs)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))
)
