;; The long-kernel route of the elastic transform's field smoothing (see
;; src/corrupt/reflect_convolve.ts): y = IDCT(λ · DCT(x)) along every column
;; or every row of two n x n float64 images A and B, in place, with two lines
;; (L, L + 1) in the two f64x2 lanes. Each lane runs exactly the scalar
;; route's float64 operations in its order (no fused multiply-add; products
;; by sg = ±1 kept as products): Makhoul's permutation of a + ib, an n-point
;; complex FFT (n = q·2^p: a radix-q step, straight-line for q = 7, then
;; radix-4 passes and a last radix-2 into natural order), the 2x2 spectral
;; map per m ≤ n/2, the inverse FFT (scaled by 1/n), the permutation back.
;;
;; Export
;;   memory: the module's one memory; the caller grows it and lays it out.
;;   pass(n, q, m, A, B, cols, RE, IM, AR, AI, TW, REV, W2R, W2I, CQ, SQ, PQ,
;;     C7, AL, BE, GA, invn): one pass over the columns (cols = 1) or rows of
;;     A and B (n even, n = q·m, m a power of two ≥ 2).
;;
;; Memory layout (byte addresses, 16-aligned)
;;   A, B: n·n float64, row-major.
;;   RE, IM, AR, AI: n f64x2 each (work lines).
;;   TW: per (k1, n2), k1 < q, n2 < m, at (k1·m + n2)·16: cos and sin of
;;       −2π((k1·n2) mod n)/n as float64.
;;   REV: m i32, the p-bit reversal.
;;   W2R, W2I: max(m, 2) float64: at h + j (h a power of two < m, j < h),
;;       cos and sin of −πj/h.
;;   CQ, SQ: q·q float64, cos and sin of 2π((j·k) mod q)/q at j·q + k.
;;   PQ: (q + 1)/2 · 64 bytes of scratch.
;;   C7: cos 2π/7, cos 4π/7, cos 6π/7, sin 2π/7, sin 4π/7, sin 6π/7.
;;   AL, BE, GA: n/2 + 1 float64, the spectral map's α, β, γ per m.
(module
  (memory (export "memory") 1)

  ;; Step 1 for any odd q: per n2 the q-point DFT over n1 of x[m·n1 + n2]
  ;; (pairs n1, q − n1 share cosines and sines), twiddled, bit-reversed
  ;; within row k1. PQ holds pr, pi, dr, di per j (64 bytes each).
  (func $radixq (param $q i32) (param $m i32) (param $RE i32) (param $IM i32)
    (param $AR i32) (param $AI i32) (param $TW i32) (param $REV i32)
    (param $CQ i32) (param $SQ i32) (param $PQ i32) (param $sg f64)
    (local $n2 i32) (local $dst i32) (local $j i32) (local $k i32) (local $a i32) (local $b i32) (local $o i32) (local $hq i32) (local $tt i32) (local $oo i32)
    (local $x0r v128) (local $x0i v128) (local $s0r v128) (local $s0i v128) (local $Ar v128) (local $Ai v128) (local $Br v128) (local $Bi v128) (local $cc v128) (local $ss v128) (local $sgv v128) (local $tr v128) (local $ti v128) (local $xr_ v128) (local $xi_ v128)
    (local.set $sgv (f64x2.splat (local.get $sg)))
    (local.set $hq (i32.shr_u (i32.sub (local.get $q) (i32.const 1)) (i32.const 1)))
    (local.set $n2 (i32.const 0))
(block $n2_done
  (br_if $n2_done (i32.ge_s (local.get $n2) (local.get $m)))
  (loop $n2
    
    (local.set $dst (i32.load (i32.add (local.get $REV) (i32.shl (local.get $n2) (i32.const 2)))))
    (local.set $x0r (v128.load (i32.add (local.get $RE) (i32.shl (local.get $n2) (i32.const 4)))))
    (local.set $x0i (v128.load (i32.add (local.get $IM) (i32.shl (local.get $n2) (i32.const 4)))))
    (local.set $s0r (local.get $x0r))
    (local.set $s0i (local.get $x0i))
    (local.set $j (i32.const 1))
(block $j1_done
  (br_if $j1_done (i32.ge_s (local.get $j) (i32.add (local.get $hq) (i32.const 1))))
  (loop $j1
    
      (local.set $a (i32.shl (i32.add (i32.mul (local.get $m) (local.get $j)) (local.get $n2)) (i32.const 4)))
      (local.set $b (i32.shl (i32.add (i32.mul (local.get $m) (i32.sub (local.get $q) (local.get $j))) (local.get $n2)) (i32.const 4)))
      (local.set $o (i32.shl (local.get $j) (i32.const 6)))
      (v128.store (i32.add (local.get $PQ) (local.get $o)) (f64x2.add (v128.load (i32.add (local.get $RE) (local.get $a))) (v128.load (i32.add (local.get $RE) (local.get $b)))))
      (v128.store offset=16 (i32.add (local.get $PQ) (local.get $o)) (f64x2.add (v128.load (i32.add (local.get $IM) (local.get $a))) (v128.load (i32.add (local.get $IM) (local.get $b)))))
      (v128.store offset=32 (i32.add (local.get $PQ) (local.get $o)) (f64x2.sub (v128.load (i32.add (local.get $RE) (local.get $a))) (v128.load (i32.add (local.get $RE) (local.get $b)))))
      (v128.store offset=48 (i32.add (local.get $PQ) (local.get $o)) (f64x2.sub (v128.load (i32.add (local.get $IM) (local.get $a))) (v128.load (i32.add (local.get $IM) (local.get $b)))))
      (local.set $s0r (f64x2.add (local.get $s0r) (v128.load (i32.add (local.get $PQ) (local.get $o)))))
      (local.set $s0i (f64x2.add (local.get $s0i) (v128.load offset=16 (i32.add (local.get $PQ) (local.get $o)))))
    (local.set $j (i32.add (local.get $j) (i32.const 1)))
    (br_if $j1 (i32.lt_s (local.get $j) (i32.add (local.get $hq) (i32.const 1))))))
    (v128.store (i32.add (local.get $AR) (i32.shl (local.get $dst) (i32.const 4))) (local.get $s0r))
    (v128.store (i32.add (local.get $AI) (i32.shl (local.get $dst) (i32.const 4))) (local.get $s0i))
    (local.set $k (i32.const 1))
(block $kk_done
  (br_if $kk_done (i32.ge_s (local.get $k) (i32.add (local.get $hq) (i32.const 1))))
  (loop $kk
    
      (local.set $Ar (local.get $x0r))
      (local.set $Ai (local.get $x0i))
      (local.set $Br (v128.const i64x2 0 0))
      (local.set $Bi (v128.const i64x2 0 0))
      (local.set $j (i32.const 1))
(block $kj_done
  (br_if $kj_done (i32.ge_s (local.get $j) (i32.add (local.get $hq) (i32.const 1))))
  (loop $kj
    
          (local.set $o (i32.shl (local.get $j) (i32.const 6)))
          (local.set $cc (f64x2.splat (f64.load (i32.add (local.get $CQ) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $q)) (local.get $k)) (i32.const 3))))))
          (local.set $ss (f64x2.splat (f64.load (i32.add (local.get $SQ) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $q)) (local.get $k)) (i32.const 3))))))
          (local.set $Ar (f64x2.add (local.get $Ar) (f64x2.mul (v128.load (i32.add (local.get $PQ) (local.get $o))) (local.get $cc))))
          (local.set $Ai (f64x2.add (local.get $Ai) (f64x2.mul (v128.load offset=16 (i32.add (local.get $PQ) (local.get $o))) (local.get $cc))))
          (local.set $Br (f64x2.add (local.get $Br) (f64x2.mul (v128.load offset=32 (i32.add (local.get $PQ) (local.get $o))) (local.get $ss))))
          (local.set $Bi (f64x2.add (local.get $Bi) (f64x2.mul (v128.load offset=48 (i32.add (local.get $PQ) (local.get $o))) (local.get $ss))))
    (local.set $j (i32.add (local.get $j) (i32.const 1)))
    (br_if $kj (i32.lt_s (local.get $j) (i32.add (local.get $hq) (i32.const 1))))))
      
      (local.set $tt (i32.add (local.get $TW) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $m)) (local.get $n2)) (i32.const 4))))
      (local.set $tr (f64x2.splat (f64.load (local.get $tt))))
      (local.set $ti (f64x2.splat (f64.mul (local.get $sg) (f64.load offset=8 (local.get $tt)))))
      (local.set $xr_ (f64x2.add (local.get $Ar) (f64x2.mul (local.get $sgv) (local.get $Bi))))
      (local.set $xi_ (f64x2.sub (local.get $Ai) (f64x2.mul (local.get $sgv) (local.get $Br))))
      (local.set $oo (i32.shl (i32.add (i32.mul (local.get $k) (local.get $m)) (local.get $dst)) (i32.const 4)))
      (v128.store (i32.add (local.get $AR) (local.get $oo)) (f64x2.sub (f64x2.mul (local.get $xr_) (local.get $tr)) (f64x2.mul (local.get $xi_) (local.get $ti))))
      (v128.store (i32.add (local.get $AI) (local.get $oo)) (f64x2.add (f64x2.mul (local.get $xr_) (local.get $ti)) (f64x2.mul (local.get $xi_) (local.get $tr))))
      
      (local.set $tt (i32.add (local.get $TW) (i32.shl (i32.add (i32.mul (i32.sub (local.get $q) (local.get $k)) (local.get $m)) (local.get $n2)) (i32.const 4))))
      (local.set $tr (f64x2.splat (f64.load (local.get $tt))))
      (local.set $ti (f64x2.splat (f64.mul (local.get $sg) (f64.load offset=8 (local.get $tt)))))
      (local.set $xr_ (f64x2.sub (local.get $Ar) (f64x2.mul (local.get $sgv) (local.get $Bi))))
      (local.set $xi_ (f64x2.add (local.get $Ai) (f64x2.mul (local.get $sgv) (local.get $Br))))
      (local.set $oo (i32.shl (i32.add (i32.mul (i32.sub (local.get $q) (local.get $k)) (local.get $m)) (local.get $dst)) (i32.const 4)))
      (v128.store (i32.add (local.get $AR) (local.get $oo)) (f64x2.sub (f64x2.mul (local.get $xr_) (local.get $tr)) (f64x2.mul (local.get $xi_) (local.get $ti))))
      (v128.store (i32.add (local.get $AI) (local.get $oo)) (f64x2.add (f64x2.mul (local.get $xr_) (local.get $ti)) (f64x2.mul (local.get $xi_) (local.get $tr))))
    (local.set $k (i32.add (local.get $k) (i32.const 1)))
    (br_if $kk (i32.lt_s (local.get $k) (i32.add (local.get $hq) (i32.const 1))))))
    (local.set $n2 (i32.add (local.get $n2) (i32.const 1)))
    (br_if $n2 (i32.lt_s (local.get $n2) (local.get $m))))))

  ;; Step 1 for q = 7, straight-line (the scalar code's cosines c1..c3 and
  ;; sines s1..s3 of 2πj/7 at C7, in that order, and its operation order).
  (func $radix7 (param $m i32) (param $RE i32) (param $IM i32)
    (param $AR i32) (param $AI i32) (param $TW i32) (param $REV i32)
    (param $C7 i32) (param $sg f64)
    (local $n2 i32) (local $dst i32) (local $tt i32) (local $oo i32)
    (local $x0r v128) (local $x0i v128) (local $x1r v128) (local $x1i v128) (local $x2r v128) (local $x2i v128) (local $x3r v128) (local $x3i v128) (local $x4r v128) (local $x4i v128) (local $x5r v128) (local $x5i v128) (local $x6r v128) (local $x6i v128) (local $p1r v128) (local $p1i v128) (local $p2r v128) (local $p2i v128) (local $p3r v128) (local $p3i v128) (local $d1r v128) (local $d1i v128) (local $d2r v128) (local $d2i v128) (local $d3r v128) (local $d3i v128) (local $Ar v128) (local $Ai v128) (local $Br v128) (local $Bi v128) (local $sgv v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $tr v128) (local $ti v128) (local $xr_ v128) (local $xi_ v128)
    (local.set $sgv (f64x2.splat (local.get $sg)))
    (local.set $c1 (v128.load64_splat (local.get $C7)))
    (local.set $c2 (v128.load64_splat offset=8 (local.get $C7)))
    (local.set $c3 (v128.load64_splat offset=16 (local.get $C7)))
    (local.set $s1 (v128.load64_splat offset=24 (local.get $C7)))
    (local.set $s2 (v128.load64_splat offset=32 (local.get $C7)))
    (local.set $s3 (v128.load64_splat offset=40 (local.get $C7)))
    (local.set $n2 (i32.const 0))
(block $n2_done
  (br_if $n2_done (i32.ge_s (local.get $n2) (local.get $m)))
  (loop $n2
        (local.set $dst (i32.load (i32.add (local.get $REV) (i32.shl (local.get $n2) (i32.const 2)))))
    (local.set $x0r (v128.load (i32.add (local.get $RE) (i32.shl (local.get $n2) (i32.const 4)))))
    (local.set $x0i (v128.load (i32.add (local.get $IM) (i32.shl (local.get $n2) (i32.const 4)))))
    (local.set $x1r (v128.load (i32.add (local.get $RE) (i32.shl (i32.add (i32.mul (i32.const 1) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $x1i (v128.load (i32.add (local.get $IM) (i32.shl (i32.add (i32.mul (i32.const 1) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $x2r (v128.load (i32.add (local.get $RE) (i32.shl (i32.add (i32.mul (i32.const 2) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $x2i (v128.load (i32.add (local.get $IM) (i32.shl (i32.add (i32.mul (i32.const 2) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $x3r (v128.load (i32.add (local.get $RE) (i32.shl (i32.add (i32.mul (i32.const 3) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $x3i (v128.load (i32.add (local.get $IM) (i32.shl (i32.add (i32.mul (i32.const 3) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $x4r (v128.load (i32.add (local.get $RE) (i32.shl (i32.add (i32.mul (i32.const 4) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $x4i (v128.load (i32.add (local.get $IM) (i32.shl (i32.add (i32.mul (i32.const 4) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $x5r (v128.load (i32.add (local.get $RE) (i32.shl (i32.add (i32.mul (i32.const 5) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $x5i (v128.load (i32.add (local.get $IM) (i32.shl (i32.add (i32.mul (i32.const 5) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $x6r (v128.load (i32.add (local.get $RE) (i32.shl (i32.add (i32.mul (i32.const 6) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $x6i (v128.load (i32.add (local.get $IM) (i32.shl (i32.add (i32.mul (i32.const 6) (local.get $m)) (local.get $n2)) (i32.const 4)))))
    (local.set $p1r (f64x2.add (local.get $x1r) (local.get $x6r)))
    (local.set $d1r (f64x2.sub (local.get $x1r) (local.get $x6r)))
    (local.set $p1i (f64x2.add (local.get $x1i) (local.get $x6i)))
    (local.set $d1i (f64x2.sub (local.get $x1i) (local.get $x6i)))
    (local.set $p2r (f64x2.add (local.get $x2r) (local.get $x5r)))
    (local.set $d2r (f64x2.sub (local.get $x2r) (local.get $x5r)))
    (local.set $p2i (f64x2.add (local.get $x2i) (local.get $x5i)))
    (local.set $d2i (f64x2.sub (local.get $x2i) (local.get $x5i)))
    (local.set $p3r (f64x2.add (local.get $x3r) (local.get $x4r)))
    (local.set $d3r (f64x2.sub (local.get $x3r) (local.get $x4r)))
    (local.set $p3i (f64x2.add (local.get $x3i) (local.get $x4i)))
    (local.set $d3i (f64x2.sub (local.get $x3i) (local.get $x4i)))
    (v128.store (i32.add (local.get $AR) (i32.shl (local.get $dst) (i32.const 4))) (f64x2.add (f64x2.add (f64x2.add (local.get $x0r) (local.get $p1r)) (local.get $p2r)) (local.get $p3r)))
    (v128.store (i32.add (local.get $AI) (i32.shl (local.get $dst) (i32.const 4))) (f64x2.add (f64x2.add (f64x2.add (local.get $x0i) (local.get $p1i)) (local.get $p2i)) (local.get $p3i)))
    (local.set $Ar (f64x2.add (f64x2.add (f64x2.add (local.get $x0r) (f64x2.mul (local.get $p1r) (local.get $c1))) (f64x2.mul (local.get $p2r) (local.get $c2))) (f64x2.mul (local.get $p3r) (local.get $c3))))
    (local.set $Br (f64x2.add (f64x2.add (f64x2.mul (local.get $d1r) (local.get $s1)) (f64x2.mul (local.get $d2r) (local.get $s2))) (f64x2.mul (local.get $d3r) (local.get $s3))))
    (local.set $Ai (f64x2.add (f64x2.add (f64x2.add (local.get $x0i) (f64x2.mul (local.get $p1i) (local.get $c1))) (f64x2.mul (local.get $p2i) (local.get $c2))) (f64x2.mul (local.get $p3i) (local.get $c3))))
    (local.set $Bi (f64x2.add (f64x2.add (f64x2.mul (local.get $d1i) (local.get $s1)) (f64x2.mul (local.get $d2i) (local.get $s2))) (f64x2.mul (local.get $d3i) (local.get $s3))))
    
      (local.set $tt (i32.add (local.get $TW) (i32.shl (i32.add (i32.mul (i32.const 1) (local.get $m)) (local.get $n2)) (i32.const 4))))
      (local.set $tr (f64x2.splat (f64.load (local.get $tt))))
      (local.set $ti (f64x2.splat (f64.mul (local.get $sg) (f64.load offset=8 (local.get $tt)))))
      (local.set $xr_ (f64x2.add (local.get $Ar) (f64x2.mul (local.get $sgv) (local.get $Bi))))
      (local.set $xi_ (f64x2.sub (local.get $Ai) (f64x2.mul (local.get $sgv) (local.get $Br))))
      (local.set $oo (i32.shl (i32.add (i32.mul (i32.const 1) (local.get $m)) (local.get $dst)) (i32.const 4)))
      (v128.store (i32.add (local.get $AR) (local.get $oo)) (f64x2.sub (f64x2.mul (local.get $xr_) (local.get $tr)) (f64x2.mul (local.get $xi_) (local.get $ti))))
      (v128.store (i32.add (local.get $AI) (local.get $oo)) (f64x2.add (f64x2.mul (local.get $xr_) (local.get $ti)) (f64x2.mul (local.get $xi_) (local.get $tr))))
    
      (local.set $tt (i32.add (local.get $TW) (i32.shl (i32.add (i32.mul (i32.const 6) (local.get $m)) (local.get $n2)) (i32.const 4))))
      (local.set $tr (f64x2.splat (f64.load (local.get $tt))))
      (local.set $ti (f64x2.splat (f64.mul (local.get $sg) (f64.load offset=8 (local.get $tt)))))
      (local.set $xr_ (f64x2.sub (local.get $Ar) (f64x2.mul (local.get $sgv) (local.get $Bi))))
      (local.set $xi_ (f64x2.add (local.get $Ai) (f64x2.mul (local.get $sgv) (local.get $Br))))
      (local.set $oo (i32.shl (i32.add (i32.mul (i32.const 6) (local.get $m)) (local.get $dst)) (i32.const 4)))
      (v128.store (i32.add (local.get $AR) (local.get $oo)) (f64x2.sub (f64x2.mul (local.get $xr_) (local.get $tr)) (f64x2.mul (local.get $xi_) (local.get $ti))))
      (v128.store (i32.add (local.get $AI) (local.get $oo)) (f64x2.add (f64x2.mul (local.get $xr_) (local.get $ti)) (f64x2.mul (local.get $xi_) (local.get $tr))))
    (local.set $Ar (f64x2.add (f64x2.add (f64x2.add (local.get $x0r) (f64x2.mul (local.get $p1r) (local.get $c2))) (f64x2.mul (local.get $p2r) (local.get $c3))) (f64x2.mul (local.get $p3r) (local.get $c1))))
    (local.set $Br (f64x2.sub (f64x2.sub (f64x2.mul (local.get $d1r) (local.get $s2)) (f64x2.mul (local.get $d2r) (local.get $s3))) (f64x2.mul (local.get $d3r) (local.get $s1))))
    (local.set $Ai (f64x2.add (f64x2.add (f64x2.add (local.get $x0i) (f64x2.mul (local.get $p1i) (local.get $c2))) (f64x2.mul (local.get $p2i) (local.get $c3))) (f64x2.mul (local.get $p3i) (local.get $c1))))
    (local.set $Bi (f64x2.sub (f64x2.sub (f64x2.mul (local.get $d1i) (local.get $s2)) (f64x2.mul (local.get $d2i) (local.get $s3))) (f64x2.mul (local.get $d3i) (local.get $s1))))
    
      (local.set $tt (i32.add (local.get $TW) (i32.shl (i32.add (i32.mul (i32.const 2) (local.get $m)) (local.get $n2)) (i32.const 4))))
      (local.set $tr (f64x2.splat (f64.load (local.get $tt))))
      (local.set $ti (f64x2.splat (f64.mul (local.get $sg) (f64.load offset=8 (local.get $tt)))))
      (local.set $xr_ (f64x2.add (local.get $Ar) (f64x2.mul (local.get $sgv) (local.get $Bi))))
      (local.set $xi_ (f64x2.sub (local.get $Ai) (f64x2.mul (local.get $sgv) (local.get $Br))))
      (local.set $oo (i32.shl (i32.add (i32.mul (i32.const 2) (local.get $m)) (local.get $dst)) (i32.const 4)))
      (v128.store (i32.add (local.get $AR) (local.get $oo)) (f64x2.sub (f64x2.mul (local.get $xr_) (local.get $tr)) (f64x2.mul (local.get $xi_) (local.get $ti))))
      (v128.store (i32.add (local.get $AI) (local.get $oo)) (f64x2.add (f64x2.mul (local.get $xr_) (local.get $ti)) (f64x2.mul (local.get $xi_) (local.get $tr))))
    
      (local.set $tt (i32.add (local.get $TW) (i32.shl (i32.add (i32.mul (i32.const 5) (local.get $m)) (local.get $n2)) (i32.const 4))))
      (local.set $tr (f64x2.splat (f64.load (local.get $tt))))
      (local.set $ti (f64x2.splat (f64.mul (local.get $sg) (f64.load offset=8 (local.get $tt)))))
      (local.set $xr_ (f64x2.sub (local.get $Ar) (f64x2.mul (local.get $sgv) (local.get $Bi))))
      (local.set $xi_ (f64x2.add (local.get $Ai) (f64x2.mul (local.get $sgv) (local.get $Br))))
      (local.set $oo (i32.shl (i32.add (i32.mul (i32.const 5) (local.get $m)) (local.get $dst)) (i32.const 4)))
      (v128.store (i32.add (local.get $AR) (local.get $oo)) (f64x2.sub (f64x2.mul (local.get $xr_) (local.get $tr)) (f64x2.mul (local.get $xi_) (local.get $ti))))
      (v128.store (i32.add (local.get $AI) (local.get $oo)) (f64x2.add (f64x2.mul (local.get $xr_) (local.get $ti)) (f64x2.mul (local.get $xi_) (local.get $tr))))
    (local.set $Ar (f64x2.add (f64x2.add (f64x2.add (local.get $x0r) (f64x2.mul (local.get $p1r) (local.get $c3))) (f64x2.mul (local.get $p2r) (local.get $c1))) (f64x2.mul (local.get $p3r) (local.get $c2))))
    (local.set $Br (f64x2.add (f64x2.sub (f64x2.mul (local.get $d1r) (local.get $s3)) (f64x2.mul (local.get $d2r) (local.get $s1))) (f64x2.mul (local.get $d3r) (local.get $s2))))
    (local.set $Ai (f64x2.add (f64x2.add (f64x2.add (local.get $x0i) (f64x2.mul (local.get $p1i) (local.get $c3))) (f64x2.mul (local.get $p2i) (local.get $c1))) (f64x2.mul (local.get $p3i) (local.get $c2))))
    (local.set $Bi (f64x2.add (f64x2.sub (f64x2.mul (local.get $d1i) (local.get $s3)) (f64x2.mul (local.get $d2i) (local.get $s1))) (f64x2.mul (local.get $d3i) (local.get $s2))))
    
      (local.set $tt (i32.add (local.get $TW) (i32.shl (i32.add (i32.mul (i32.const 3) (local.get $m)) (local.get $n2)) (i32.const 4))))
      (local.set $tr (f64x2.splat (f64.load (local.get $tt))))
      (local.set $ti (f64x2.splat (f64.mul (local.get $sg) (f64.load offset=8 (local.get $tt)))))
      (local.set $xr_ (f64x2.add (local.get $Ar) (f64x2.mul (local.get $sgv) (local.get $Bi))))
      (local.set $xi_ (f64x2.sub (local.get $Ai) (f64x2.mul (local.get $sgv) (local.get $Br))))
      (local.set $oo (i32.shl (i32.add (i32.mul (i32.const 3) (local.get $m)) (local.get $dst)) (i32.const 4)))
      (v128.store (i32.add (local.get $AR) (local.get $oo)) (f64x2.sub (f64x2.mul (local.get $xr_) (local.get $tr)) (f64x2.mul (local.get $xi_) (local.get $ti))))
      (v128.store (i32.add (local.get $AI) (local.get $oo)) (f64x2.add (f64x2.mul (local.get $xr_) (local.get $ti)) (f64x2.mul (local.get $xi_) (local.get $tr))))
    
      (local.set $tt (i32.add (local.get $TW) (i32.shl (i32.add (i32.mul (i32.const 4) (local.get $m)) (local.get $n2)) (i32.const 4))))
      (local.set $tr (f64x2.splat (f64.load (local.get $tt))))
      (local.set $ti (f64x2.splat (f64.mul (local.get $sg) (f64.load offset=8 (local.get $tt)))))
      (local.set $xr_ (f64x2.sub (local.get $Ar) (f64x2.mul (local.get $sgv) (local.get $Bi))))
      (local.set $xi_ (f64x2.add (local.get $Ai) (f64x2.mul (local.get $sgv) (local.get $Br))))
      (local.set $oo (i32.shl (i32.add (i32.mul (i32.const 4) (local.get $m)) (local.get $dst)) (i32.const 4)))
      (v128.store (i32.add (local.get $AR) (local.get $oo)) (f64x2.sub (f64x2.mul (local.get $xr_) (local.get $tr)) (f64x2.mul (local.get $xi_) (local.get $ti))))
      (v128.store (i32.add (local.get $AI) (local.get $oo)) (f64x2.add (f64x2.mul (local.get $xr_) (local.get $ti)) (f64x2.mul (local.get $xi_) (local.get $tr))))
    (local.set $n2 (i32.add (local.get $n2) (i32.const 1)))
    (br_if $n2 (i32.lt_s (local.get $n2) (local.get $m))))))

  ;; Step 2: radix-2 FFT of each row k1 of (AR, AI) (radix-4 passes, then a
  ;; last radix-2), X[k1 + q·k2] = row[k2] · scale into (RE, IM).
  (func $radix2 (param $q i32) (param $m i32) (param $RE i32) (param $IM i32)
    (param $AR i32) (param $AI i32) (param $W2R i32) (param $W2I i32)
    (param $sg f64) (param $scale f64)
    (local $k1 i32) (local $o i32) (local $h i32) (local $i i32) (local $j i32) (local $i0 i32) (local $i1 i32) (local $i2 i32) (local $i3 i32)
    (local $sgv v128) (local $nsgv v128) (local $scv v128) (local $x0r v128) (local $x0i v128) (local $x1r v128) (local $x1i v128) (local $x2r v128) (local $x2i v128) (local $x3r v128) (local $x3i v128) (local $b0r v128) (local $b0i v128) (local $b1r v128) (local $b1i v128) (local $b2r v128) (local $b2i v128) (local $b3r v128) (local $b3i v128) (local $tr v128) (local $ti v128) (local $t1r v128) (local $t1i v128) (local $t3r v128) (local $t3i v128) (local $w1r v128) (local $w1i v128) (local $w2r v128) (local $w2i v128)
    (local.set $sgv (f64x2.splat (local.get $sg)))
    (local.set $nsgv (f64x2.splat (f64.neg (local.get $sg))))
    (local.set $scv (f64x2.splat (local.get $scale)))
    (local.set $k1 (i32.const 0))
(block $k1_done
  (br_if $k1_done (i32.ge_s (local.get $k1) (local.get $q)))
  (loop $k1
    
    (local.set $o (i32.mul (local.get $k1) (local.get $m)))
    (local.set $h (i32.const 1))
    (if (i32.ge_s (local.get $m) (i32.const 4))
      (then
        (local.set $i (local.get $o))
(block $r4f_done
  (br_if $r4f_done (i32.ge_s (local.get $i) (i32.add (local.get $o) (local.get $m))))
  (loop $r4f
    
      (local.set $x0r (v128.load (i32.add (local.get $AR) (i32.shl (local.get $i) (i32.const 4))))) (local.set $x1r (v128.load offset=16 (i32.add (local.get $AR) (i32.shl (local.get $i) (i32.const 4)))))
      (local.set $x2r (v128.load offset=32 (i32.add (local.get $AR) (i32.shl (local.get $i) (i32.const 4))))) (local.set $x3r (v128.load offset=48 (i32.add (local.get $AR) (i32.shl (local.get $i) (i32.const 4)))))
      (local.set $x0i (v128.load (i32.add (local.get $AI) (i32.shl (local.get $i) (i32.const 4))))) (local.set $x1i (v128.load offset=16 (i32.add (local.get $AI) (i32.shl (local.get $i) (i32.const 4)))))
      (local.set $x2i (v128.load offset=32 (i32.add (local.get $AI) (i32.shl (local.get $i) (i32.const 4))))) (local.set $x3i (v128.load offset=48 (i32.add (local.get $AI) (i32.shl (local.get $i) (i32.const 4)))))
      (local.set $b0r (f64x2.add (local.get $x0r) (local.get $x1r))) (local.set $b0i (f64x2.add (local.get $x0i) (local.get $x1i)))
      (local.set $b1r (f64x2.sub (local.get $x0r) (local.get $x1r))) (local.set $b1i (f64x2.sub (local.get $x0i) (local.get $x1i)))
      (local.set $b2r (f64x2.add (local.get $x2r) (local.get $x3r))) (local.set $b2i (f64x2.add (local.get $x2i) (local.get $x3i)))
      (local.set $b3r (f64x2.sub (local.get $x2r) (local.get $x3r))) (local.set $b3i (f64x2.sub (local.get $x2i) (local.get $x3i)))
      (local.set $tr (f64x2.mul (local.get $sgv) (local.get $b3i))) (local.set $ti (f64x2.mul (local.get $nsgv) (local.get $b3r)))
      (v128.store (i32.add (local.get $AR) (i32.shl (local.get $i) (i32.const 4))) (f64x2.add (local.get $b0r) (local.get $b2r)))
      (v128.store (i32.add (local.get $AI) (i32.shl (local.get $i) (i32.const 4))) (f64x2.add (local.get $b0i) (local.get $b2i)))
      (v128.store offset=32 (i32.add (local.get $AR) (i32.shl (local.get $i) (i32.const 4))) (f64x2.sub (local.get $b0r) (local.get $b2r)))
      (v128.store offset=32 (i32.add (local.get $AI) (i32.shl (local.get $i) (i32.const 4))) (f64x2.sub (local.get $b0i) (local.get $b2i)))
      (v128.store offset=16 (i32.add (local.get $AR) (i32.shl (local.get $i) (i32.const 4))) (f64x2.add (local.get $b1r) (local.get $tr)))
      (v128.store offset=16 (i32.add (local.get $AI) (i32.shl (local.get $i) (i32.const 4))) (f64x2.add (local.get $b1i) (local.get $ti)))
      (v128.store offset=48 (i32.add (local.get $AR) (i32.shl (local.get $i) (i32.const 4))) (f64x2.sub (local.get $b1r) (local.get $tr)))
      (v128.store offset=48 (i32.add (local.get $AI) (i32.shl (local.get $i) (i32.const 4))) (f64x2.sub (local.get $b1i) (local.get $ti)))
    (local.set $i (i32.add (local.get $i) (i32.const 4)))
    (br_if $r4f (i32.lt_s (local.get $i) (i32.add (local.get $o) (local.get $m))))))
        (local.set $h (i32.const 4))))
    (block $r4_done
      (br_if $r4_done (i32.gt_s (i32.shl (local.get $h) (i32.const 2)) (local.get $m)))
      (loop $r4
        (local.set $i (local.get $o))
(block $r4i_done
  (br_if $r4i_done (i32.ge_s (local.get $i) (i32.add (local.get $o) (local.get $m))))
  (loop $r4i
    (local.set $j (i32.const 0))
(block $r4j_done
  (br_if $r4j_done (i32.ge_s (local.get $j) (local.get $h)))
  (loop $r4j
    
          (local.set $w1r (f64x2.splat (f64.load (i32.add (local.get $W2R) (i32.shl (i32.add (local.get $h) (local.get $j)) (i32.const 3))))))
          (local.set $w1i (f64x2.splat (f64.mul (local.get $sg) (f64.load (i32.add (local.get $W2I) (i32.shl (i32.add (local.get $h) (local.get $j)) (i32.const 3)))))))
          (local.set $w2r (f64x2.splat (f64.load (i32.add (local.get $W2R) (i32.shl (i32.add (i32.shl (local.get $h) (i32.const 1)) (local.get $j)) (i32.const 3))))))
          (local.set $w2i (f64x2.splat (f64.mul (local.get $sg) (f64.load (i32.add (local.get $W2I) (i32.shl (i32.add (i32.shl (local.get $h) (i32.const 1)) (local.get $j)) (i32.const 3)))))))
          (local.set $i0 (i32.add (local.get $i) (local.get $j))) (local.set $i1 (i32.add (local.get $i0) (local.get $h)))
          (local.set $i2 (i32.add (local.get $i1) (local.get $h))) (local.set $i3 (i32.add (local.get $i2) (local.get $h)))
          (local.set $x0r (v128.load (i32.add (local.get $AR) (i32.shl (local.get $i0) (i32.const 4))))) (local.set $x0i (v128.load (i32.add (local.get $AI) (i32.shl (local.get $i0) (i32.const 4)))))
          (local.set $x1r (v128.load (i32.add (local.get $AR) (i32.shl (local.get $i1) (i32.const 4))))) (local.set $x1i (v128.load (i32.add (local.get $AI) (i32.shl (local.get $i1) (i32.const 4)))))
          (local.set $x2r (v128.load (i32.add (local.get $AR) (i32.shl (local.get $i2) (i32.const 4))))) (local.set $x2i (v128.load (i32.add (local.get $AI) (i32.shl (local.get $i2) (i32.const 4)))))
          (local.set $x3r (v128.load (i32.add (local.get $AR) (i32.shl (local.get $i3) (i32.const 4))))) (local.set $x3i (v128.load (i32.add (local.get $AI) (i32.shl (local.get $i3) (i32.const 4)))))
          (local.set $t1r (f64x2.sub (f64x2.mul (local.get $x1r) (local.get $w1r)) (f64x2.mul (local.get $x1i) (local.get $w1i))))
          (local.set $t1i (f64x2.add (f64x2.mul (local.get $x1r) (local.get $w1i)) (f64x2.mul (local.get $x1i) (local.get $w1r))))
          (local.set $t3r (f64x2.sub (f64x2.mul (local.get $x3r) (local.get $w1r)) (f64x2.mul (local.get $x3i) (local.get $w1i))))
          (local.set $t3i (f64x2.add (f64x2.mul (local.get $x3r) (local.get $w1i)) (f64x2.mul (local.get $x3i) (local.get $w1r))))
          (local.set $b0r (f64x2.add (local.get $x0r) (local.get $t1r))) (local.set $b0i (f64x2.add (local.get $x0i) (local.get $t1i)))
          (local.set $b1r (f64x2.sub (local.get $x0r) (local.get $t1r))) (local.set $b1i (f64x2.sub (local.get $x0i) (local.get $t1i)))
          (local.set $b2r (f64x2.add (local.get $x2r) (local.get $t3r))) (local.set $b2i (f64x2.add (local.get $x2i) (local.get $t3i)))
          (local.set $b3r (f64x2.sub (local.get $x2r) (local.get $t3r))) (local.set $b3i (f64x2.sub (local.get $x2i) (local.get $t3i)))
          (local.set $tr (f64x2.sub (f64x2.mul (local.get $b2r) (local.get $w2r)) (f64x2.mul (local.get $b2i) (local.get $w2i))))
          (local.set $ti (f64x2.add (f64x2.mul (local.get $b2r) (local.get $w2i)) (f64x2.mul (local.get $b2i) (local.get $w2r))))
          (local.set $t1r (f64x2.sub (f64x2.mul (local.get $b3r) (local.get $w2r)) (f64x2.mul (local.get $b3i) (local.get $w2i))))
          (local.set $t1i (f64x2.add (f64x2.mul (local.get $b3r) (local.get $w2i)) (f64x2.mul (local.get $b3i) (local.get $w2r))))
          (local.set $t3r (f64x2.mul (local.get $sgv) (local.get $t1i))) (local.set $t3i (f64x2.mul (local.get $nsgv) (local.get $t1r)))
          (v128.store (i32.add (local.get $AR) (i32.shl (local.get $i0) (i32.const 4))) (f64x2.add (local.get $b0r) (local.get $tr)))
          (v128.store (i32.add (local.get $AI) (i32.shl (local.get $i0) (i32.const 4))) (f64x2.add (local.get $b0i) (local.get $ti)))
          (v128.store (i32.add (local.get $AR) (i32.shl (local.get $i2) (i32.const 4))) (f64x2.sub (local.get $b0r) (local.get $tr)))
          (v128.store (i32.add (local.get $AI) (i32.shl (local.get $i2) (i32.const 4))) (f64x2.sub (local.get $b0i) (local.get $ti)))
          (v128.store (i32.add (local.get $AR) (i32.shl (local.get $i1) (i32.const 4))) (f64x2.add (local.get $b1r) (local.get $t3r)))
          (v128.store (i32.add (local.get $AI) (i32.shl (local.get $i1) (i32.const 4))) (f64x2.add (local.get $b1i) (local.get $t3i)))
          (v128.store (i32.add (local.get $AR) (i32.shl (local.get $i3) (i32.const 4))) (f64x2.sub (local.get $b1r) (local.get $t3r)))
          (v128.store (i32.add (local.get $AI) (i32.shl (local.get $i3) (i32.const 4))) (f64x2.sub (local.get $b1i) (local.get $t3i)))
    (local.set $j (i32.add (local.get $j) (i32.const 1)))
    (br_if $r4j (i32.lt_s (local.get $j) (local.get $h)))))
    (local.set $i (i32.add (local.get $i) (i32.shl (local.get $h) (i32.const 2))))
    (br_if $r4i (i32.lt_s (local.get $i) (i32.add (local.get $o) (local.get $m))))))
        (local.set $h (i32.shl (local.get $h) (i32.const 2)))
        (br_if $r4 (i32.le_s (i32.shl (local.get $h) (i32.const 2)) (local.get $m)))))
    (block $r2_done
      (br_if $r2_done (i32.ge_s (i32.shl (local.get $h) (i32.const 1)) (local.get $m)))
      (loop $r2
        (local.set $i (local.get $o))
(block $r2i_done
  (br_if $r2i_done (i32.ge_s (local.get $i) (i32.add (local.get $o) (local.get $m))))
  (loop $r2i
    (local.set $j (i32.const 0))
(block $r2j_done
  (br_if $r2j_done (i32.ge_s (local.get $j) (local.get $h)))
  (loop $r2j
    
          (local.set $w1r (f64x2.splat (f64.load (i32.add (local.get $W2R) (i32.shl (i32.add (local.get $h) (local.get $j)) (i32.const 3))))))
          (local.set $w1i (f64x2.splat (f64.mul (local.get $sg) (f64.load (i32.add (local.get $W2I) (i32.shl (i32.add (local.get $h) (local.get $j)) (i32.const 3)))))))
          (local.set $i0 (i32.add (local.get $i) (local.get $j))) (local.set $i1 (i32.add (local.get $i0) (local.get $h)))
          (local.set $x1r (v128.load (i32.add (local.get $AR) (i32.shl (local.get $i1) (i32.const 4))))) (local.set $x1i (v128.load (i32.add (local.get $AI) (i32.shl (local.get $i1) (i32.const 4)))))
          (local.set $tr (f64x2.sub (f64x2.mul (local.get $x1r) (local.get $w1r)) (f64x2.mul (local.get $x1i) (local.get $w1i))))
          (local.set $ti (f64x2.add (f64x2.mul (local.get $x1r) (local.get $w1i)) (f64x2.mul (local.get $x1i) (local.get $w1r))))
          (local.set $x0r (v128.load (i32.add (local.get $AR) (i32.shl (local.get $i0) (i32.const 4))))) (local.set $x0i (v128.load (i32.add (local.get $AI) (i32.shl (local.get $i0) (i32.const 4)))))
          (v128.store (i32.add (local.get $AR) (i32.shl (local.get $i1) (i32.const 4))) (f64x2.sub (local.get $x0r) (local.get $tr)))
          (v128.store (i32.add (local.get $AI) (i32.shl (local.get $i1) (i32.const 4))) (f64x2.sub (local.get $x0i) (local.get $ti)))
          (v128.store (i32.add (local.get $AR) (i32.shl (local.get $i0) (i32.const 4))) (f64x2.add (local.get $x0r) (local.get $tr)))
          (v128.store (i32.add (local.get $AI) (i32.shl (local.get $i0) (i32.const 4))) (f64x2.add (local.get $x0i) (local.get $ti)))
    (local.set $j (i32.add (local.get $j) (i32.const 1)))
    (br_if $r2j (i32.lt_s (local.get $j) (local.get $h)))))
    (local.set $i (i32.add (local.get $i) (i32.shl (local.get $h) (i32.const 1))))
    (br_if $r2i (i32.lt_s (local.get $i) (i32.add (local.get $o) (local.get $m))))))
        (local.set $h (i32.shl (local.get $h) (i32.const 1)))
        (br_if $r2 (i32.lt_s (i32.shl (local.get $h) (i32.const 1)) (local.get $m)))))
    (if (i32.eq (i32.shl (local.get $h) (i32.const 1)) (local.get $m))
      (then
        (local.set $j (i32.const 0))
(block $lj_done
  (br_if $lj_done (i32.ge_s (local.get $j) (local.get $h)))
  (loop $lj
    
        (local.set $w1r (f64x2.splat (f64.load (i32.add (local.get $W2R) (i32.shl (i32.add (local.get $h) (local.get $j)) (i32.const 3))))))
        (local.set $w1i (f64x2.splat (f64.mul (local.get $sg) (f64.load (i32.add (local.get $W2I) (i32.shl (i32.add (local.get $h) (local.get $j)) (i32.const 3)))))))
        (local.set $i0 (i32.add (local.get $o) (local.get $j))) (local.set $i1 (i32.add (local.get $i0) (local.get $h)))
        (local.set $x1r (v128.load (i32.add (local.get $AR) (i32.shl (local.get $i1) (i32.const 4))))) (local.set $x1i (v128.load (i32.add (local.get $AI) (i32.shl (local.get $i1) (i32.const 4)))))
        (local.set $tr (f64x2.sub (f64x2.mul (local.get $x1r) (local.get $w1r)) (f64x2.mul (local.get $x1i) (local.get $w1i))))
        (local.set $ti (f64x2.add (f64x2.mul (local.get $x1r) (local.get $w1i)) (f64x2.mul (local.get $x1i) (local.get $w1r))))
        (local.set $x0r (v128.load (i32.add (local.get $AR) (i32.shl (local.get $i0) (i32.const 4))))) (local.set $x0i (v128.load (i32.add (local.get $AI) (i32.shl (local.get $i0) (i32.const 4)))))
        (local.set $i2 (i32.add (local.get $k1) (i32.mul (local.get $q) (local.get $j))))
        (local.set $i3 (i32.add (local.get $i2) (i32.mul (local.get $q) (local.get $h))))
        (v128.store (i32.add (local.get $RE) (i32.shl (local.get $i3) (i32.const 4))) (f64x2.mul (f64x2.sub (local.get $x0r) (local.get $tr)) (local.get $scv)))
        (v128.store (i32.add (local.get $IM) (i32.shl (local.get $i3) (i32.const 4))) (f64x2.mul (f64x2.sub (local.get $x0i) (local.get $ti)) (local.get $scv)))
        (v128.store (i32.add (local.get $RE) (i32.shl (local.get $i2) (i32.const 4))) (f64x2.mul (f64x2.add (local.get $x0r) (local.get $tr)) (local.get $scv)))
        (v128.store (i32.add (local.get $IM) (i32.shl (local.get $i2) (i32.const 4))) (f64x2.mul (f64x2.add (local.get $x0i) (local.get $ti)) (local.get $scv)))
    (local.set $j (i32.add (local.get $j) (i32.const 1)))
    (br_if $lj (i32.lt_s (local.get $j) (local.get $h))))))
      (else
        (local.set $j (i32.const 0))
(block $cj_done
  (br_if $cj_done (i32.ge_s (local.get $j) (local.get $m)))
  (loop $cj
    
        (local.set $i2 (i32.add (local.get $k1) (i32.mul (local.get $q) (local.get $j))))
        (v128.store (i32.add (local.get $RE) (i32.shl (local.get $i2) (i32.const 4))) (f64x2.mul (v128.load (i32.add (local.get $AR) (i32.shl (i32.add (local.get $o) (local.get $j)) (i32.const 4)))) (local.get $scv)))
        (v128.store (i32.add (local.get $IM) (i32.shl (local.get $i2) (i32.const 4))) (f64x2.mul (v128.load (i32.add (local.get $AI) (i32.shl (i32.add (local.get $o) (local.get $j)) (i32.const 4)))) (local.get $scv)))
    (local.set $j (i32.add (local.get $j) (i32.const 1)))
    (br_if $cj (i32.lt_s (local.get $j) (local.get $m)))))))
    (local.set $k1 (i32.add (local.get $k1) (i32.const 1)))
    (br_if $k1 (i32.lt_s (local.get $k1) (local.get $q))))))

  ;; The FFT of (RE, IM) in place: step 1 (radix 7 or any odd q), step 2.
  (func $fft (param $q i32) (param $m i32) (param $RE i32) (param $IM i32)
    (param $AR i32) (param $AI i32) (param $TW i32) (param $REV i32)
    (param $W2R i32) (param $W2I i32) (param $CQ i32) (param $SQ i32)
    (param $PQ i32) (param $C7 i32) (param $sg f64) (param $scale f64)
    (if (i32.eq (local.get $q) (i32.const 7))
      (then (call $radix7 (local.get $m) (local.get $RE) (local.get $IM)
        (local.get $AR) (local.get $AI) (local.get $TW) (local.get $REV)
        (local.get $C7) (local.get $sg)))
      (else (call $radixq (local.get $q) (local.get $m) (local.get $RE)
        (local.get $IM) (local.get $AR) (local.get $AI) (local.get $TW)
        (local.get $REV) (local.get $CQ) (local.get $SQ) (local.get $PQ)
        (local.get $sg))))
    (call $radix2 (local.get $q) (local.get $m) (local.get $RE) (local.get $IM)
      (local.get $AR) (local.get $AI) (local.get $W2R) (local.get $W2I)
      (local.get $sg) (local.get $scale)))

  (func (export "pass")
    (param $n i32) (param $q i32) (param $m i32) (param $A i32) (param $B i32)
    (param $cols i32) (param $RE i32) (param $IM i32) (param $AR i32)
    (param $AI i32) (param $TW i32) (param $REV i32) (param $W2R i32)
    (param $W2I i32) (param $CQ i32) (param $SQ i32) (param $PQ i32)
    (param $C7 i32) (param $AL i32) (param $BE i32) (param $GA i32)
    (param $invn f64)
    (local $L i32) (local $k i32) (local $e i32) (local $r i32) (local $t i32) (local $h i32) (local $mm i32)
    (local $vr v128) (local $vi v128) (local $wr v128) (local $wi v128) (local $al v128) (local $be v128) (local $ga v128) (local $sR v128) (local $dI v128) (local $sI v128) (local $dR v128) (local $Ar v128) (local $Ai v128) (local $Br v128) (local $Bi v128) (local $va v128) (local $vb v128)
    (local.set $h (i32.shr_u (local.get $n) (i32.const 1)))
    (local.set $L (i32.const 0))
(block $L_done
  (br_if $L_done (i32.ge_s (local.get $L) (local.get $n)))
  (loop $L
    
    (if (local.get $cols)
      (then (local.set $k (i32.const 0))
(block $pic_done
  (br_if $pic_done (i32.ge_s (local.get $k) (local.get $h)))
  (loop $pic
    
      (local.set $e (i32.shl (local.get $k) (i32.const 1)))
      (local.set $t (i32.sub (i32.sub (local.get $n) (i32.const 1)) (local.get $k)))
      (v128.store (i32.add (local.get $RE) (i32.shl (local.get $k) (i32.const 4))) (v128.load (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (local.get $e) (local.get $n)) (local.get $L)) (i32.const 3)))))
      (v128.store (i32.add (local.get $RE) (i32.shl (local.get $t) (i32.const 4))) (v128.load (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (i32.add (local.get $e) (i32.const 1)) (local.get $n)) (local.get $L)) (i32.const 3)))))
      (v128.store (i32.add (local.get $IM) (i32.shl (local.get $k) (i32.const 4))) (v128.load (i32.add (local.get $B) (i32.shl (i32.add (i32.mul (local.get $e) (local.get $n)) (local.get $L)) (i32.const 3)))))
      (v128.store (i32.add (local.get $IM) (i32.shl (local.get $t) (i32.const 4))) (v128.load (i32.add (local.get $B) (i32.shl (i32.add (i32.mul (i32.add (local.get $e) (i32.const 1)) (local.get $n)) (local.get $L)) (i32.const 3)))))
    (local.set $k (i32.add (local.get $k) (i32.const 1)))
    (br_if $pic (i32.lt_s (local.get $k) (local.get $h))))))
      (else (local.set $k (i32.const 0))
(block $pir_done
  (br_if $pir_done (i32.ge_s (local.get $k) (local.get $h)))
  (loop $pir
    
      (local.set $e (i32.shl (local.get $k) (i32.const 1)))
      (local.set $t (i32.sub (i32.sub (local.get $n) (i32.const 1)) (local.get $k)))
      (local.set $va (v128.load (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (local.get $L) (local.get $n)) (local.get $e)) (i32.const 3)))))
      (local.set $vb (v128.load (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (i32.add (local.get $L) (i32.const 1)) (local.get $n)) (local.get $e)) (i32.const 3)))))
      (v128.store (i32.add (local.get $RE) (i32.shl (local.get $k) (i32.const 4))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $va) (local.get $vb)))
      (v128.store (i32.add (local.get $RE) (i32.shl (local.get $t) (i32.const 4))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $va) (local.get $vb)))
      (local.set $va (v128.load (i32.add (local.get $B) (i32.shl (i32.add (i32.mul (local.get $L) (local.get $n)) (local.get $e)) (i32.const 3)))))
      (local.set $vb (v128.load (i32.add (local.get $B) (i32.shl (i32.add (i32.mul (i32.add (local.get $L) (i32.const 1)) (local.get $n)) (local.get $e)) (i32.const 3)))))
      (v128.store (i32.add (local.get $IM) (i32.shl (local.get $k) (i32.const 4))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $va) (local.get $vb)))
      (v128.store (i32.add (local.get $IM) (i32.shl (local.get $t) (i32.const 4))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $va) (local.get $vb)))
    (local.set $k (i32.add (local.get $k) (i32.const 1)))
    (br_if $pir (i32.lt_s (local.get $k) (local.get $h)))))))
    (call $fft (local.get $q) (local.get $m) (local.get $RE) (local.get $IM) (local.get $AR) (local.get $AI) (local.get $TW) (local.get $REV) (local.get $W2R) (local.get $W2I) (local.get $CQ) (local.get $SQ) (local.get $PQ) (local.get $C7) (f64.const 1) (f64.const 1))
    (local.set $mm (i32.const 0))
(block $sp_done
  (br_if $sp_done (i32.ge_s (local.get $mm) (i32.add (local.get $h) (i32.const 1))))
  (loop $sp
    
      (local.set $t (select (i32.const 0) (i32.sub (local.get $n) (local.get $mm)) (i32.eqz (local.get $mm))))
      (local.set $vr (v128.load (i32.add (local.get $RE) (i32.shl (local.get $mm) (i32.const 4))))) (local.set $vi (v128.load (i32.add (local.get $IM) (i32.shl (local.get $mm) (i32.const 4)))))
      (local.set $wr (v128.load (i32.add (local.get $RE) (i32.shl (local.get $t) (i32.const 4))))) (local.set $wi (v128.load (i32.add (local.get $IM) (i32.shl (local.get $t) (i32.const 4)))))
      (local.set $al (f64x2.splat (f64.load (i32.add (local.get $AL) (i32.shl (local.get $mm) (i32.const 3))))))
      (local.set $be (f64x2.splat (f64.load (i32.add (local.get $BE) (i32.shl (local.get $mm) (i32.const 3))))))
      (local.set $ga (f64x2.splat (f64.load (i32.add (local.get $GA) (i32.shl (local.get $mm) (i32.const 3))))))
      (local.set $sR (f64x2.add (local.get $vr) (local.get $wr))) (local.set $dI (f64x2.sub (local.get $vi) (local.get $wi)))
      (local.set $sI (f64x2.add (local.get $vi) (local.get $wi))) (local.set $dR (f64x2.sub (local.get $wr) (local.get $vr)))
      (local.set $Ar (f64x2.add (f64x2.mul (local.get $al) (local.get $sR)) (f64x2.mul (local.get $be) (local.get $dI))))
      (local.set $Ai (f64x2.add (f64x2.mul (local.get $be) (local.get $sR)) (f64x2.mul (local.get $ga) (local.get $dI))))
      (local.set $Br (f64x2.add (f64x2.mul (local.get $al) (local.get $sI)) (f64x2.mul (local.get $be) (local.get $dR))))
      (local.set $Bi (f64x2.add (f64x2.mul (local.get $be) (local.get $sI)) (f64x2.mul (local.get $ga) (local.get $dR))))
      (v128.store (i32.add (local.get $RE) (i32.shl (local.get $mm) (i32.const 4))) (f64x2.sub (local.get $Ar) (local.get $Bi)))
      (v128.store (i32.add (local.get $IM) (i32.shl (local.get $mm) (i32.const 4))) (f64x2.add (local.get $Ai) (local.get $Br)))
      (if (i32.and (i32.ne (local.get $t) (local.get $mm)) (i32.ne (local.get $mm) (i32.const 0)))
        (then
          (v128.store (i32.add (local.get $RE) (i32.shl (local.get $t) (i32.const 4))) (f64x2.add (local.get $Ar) (local.get $Bi)))
          (v128.store (i32.add (local.get $IM) (i32.shl (local.get $t) (i32.const 4))) (f64x2.sub (local.get $Br) (local.get $Ai)))))
    (local.set $mm (i32.add (local.get $mm) (i32.const 1)))
    (br_if $sp (i32.lt_s (local.get $mm) (i32.add (local.get $h) (i32.const 1))))))
    (call $fft (local.get $q) (local.get $m) (local.get $RE) (local.get $IM) (local.get $AR) (local.get $AI) (local.get $TW) (local.get $REV) (local.get $W2R) (local.get $W2I) (local.get $CQ) (local.get $SQ) (local.get $PQ) (local.get $C7) (f64.const -1) (local.get $invn))
    (if (local.get $cols)
      (then (local.set $k (i32.const 0))
(block $poc_done
  (br_if $poc_done (i32.ge_s (local.get $k) (local.get $h)))
  (loop $poc
    
      (local.set $e (i32.shl (local.get $k) (i32.const 1)))
      (local.set $t (i32.sub (i32.sub (local.get $n) (i32.const 1)) (local.get $k)))
      (v128.store (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (local.get $e) (local.get $n)) (local.get $L)) (i32.const 3))) (v128.load (i32.add (local.get $RE) (i32.shl (local.get $k) (i32.const 4)))))
      (v128.store (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (i32.add (local.get $e) (i32.const 1)) (local.get $n)) (local.get $L)) (i32.const 3))) (v128.load (i32.add (local.get $RE) (i32.shl (local.get $t) (i32.const 4)))))
      (v128.store (i32.add (local.get $B) (i32.shl (i32.add (i32.mul (local.get $e) (local.get $n)) (local.get $L)) (i32.const 3))) (v128.load (i32.add (local.get $IM) (i32.shl (local.get $k) (i32.const 4)))))
      (v128.store (i32.add (local.get $B) (i32.shl (i32.add (i32.mul (i32.add (local.get $e) (i32.const 1)) (local.get $n)) (local.get $L)) (i32.const 3))) (v128.load (i32.add (local.get $IM) (i32.shl (local.get $t) (i32.const 4)))))
    (local.set $k (i32.add (local.get $k) (i32.const 1)))
    (br_if $poc (i32.lt_s (local.get $k) (local.get $h))))))
      (else (local.set $k (i32.const 0))
(block $por_done
  (br_if $por_done (i32.ge_s (local.get $k) (local.get $h)))
  (loop $por
    
      (local.set $e (i32.shl (local.get $k) (i32.const 1)))
      (local.set $t (i32.sub (i32.sub (local.get $n) (i32.const 1)) (local.get $k)))
      (local.set $va (v128.load (i32.add (local.get $RE) (i32.shl (local.get $k) (i32.const 4)))))
      (local.set $vb (v128.load (i32.add (local.get $RE) (i32.shl (local.get $t) (i32.const 4)))))
      (v128.store (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (local.get $L) (local.get $n)) (local.get $e)) (i32.const 3))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $va) (local.get $vb)))
      (v128.store (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (i32.add (local.get $L) (i32.const 1)) (local.get $n)) (local.get $e)) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $va) (local.get $vb)))
      (local.set $va (v128.load (i32.add (local.get $IM) (i32.shl (local.get $k) (i32.const 4)))))
      (local.set $vb (v128.load (i32.add (local.get $IM) (i32.shl (local.get $t) (i32.const 4)))))
      (v128.store (i32.add (local.get $B) (i32.shl (i32.add (i32.mul (local.get $L) (local.get $n)) (local.get $e)) (i32.const 3))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $va) (local.get $vb)))
      (v128.store (i32.add (local.get $B) (i32.shl (i32.add (i32.mul (i32.add (local.get $L) (i32.const 1)) (local.get $n)) (local.get $e)) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $va) (local.get $vb)))
    (local.set $k (i32.add (local.get $k) (i32.const 1)))
    (br_if $por (i32.lt_s (local.get $k) (local.get $h)))))))
    (local.set $L (i32.add (local.get $L) (i32.const 2)))
    (br_if $L (i32.lt_s (local.get $L) (local.get $n))))))
)
