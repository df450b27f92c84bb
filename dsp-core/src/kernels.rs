//! Inner loops shared by the processors, each with a plain scalar reference. Where a SIMD version
//! exists it is tested against the reference at many lengths and offsets.

/// Independent 8-lane partial sums that consecutive chunks of 8 products are dealt to in turn:
/// four short addition chains instead of one long one, so a dot product is not bound by the
/// latency of its additions.
const DOT_ACCUMULATORS: usize = 4;

/// Dot product of `a` and the first `a.len()` samples of `b`; `a.len()` is a multiple of 8.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert!(a.len().is_multiple_of(8) && b.len() >= a.len());
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx() {
            // SAFETY: the CPU supports AVX (checked above); the lengths are checked above and
            // the loads are unaligned loads within the slices.
            return unsafe { dot_avx(a, &b[..a.len()]) };
        }
        // SAFETY: SSE2 is part of the x86_64 baseline; as above.
        unsafe { dot_sse2(a, &b[..a.len()]) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        dot_scalar(a, &b[..a.len()])
    }
}

/// The reference: chunk `i` of 8 products goes to accumulator `i mod 4`, lane by lane; the
/// accumulators are added pairwise, then the eight lanes pairwise.
pub fn dot_scalar(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [[0.0f32; 8]; DOT_ACCUMULATORS];
    for (i, (x, y)) in a.chunks_exact(8).zip(b.chunks_exact(8)).enumerate() {
        let acc = &mut lanes[i % DOT_ACCUMULATORS];
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let l: [f32; 8] =
        std::array::from_fn(|k| (lanes[0][k] + lanes[1][k]) + (lanes[2][k] + lanes[3][k]));
    ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]))
}

/// Whether this CPU has AVX (detected once, then a cached atomic load).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx() -> bool {
    std::arch::is_x86_feature_detected!("avx")
}

/// Four 8-lane accumulators (multiply, then add: the reference's rounding).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn dot_avx(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let chunks = a.len() / 8;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    // SAFETY: every load reads 8 floats at offsets below `8 · chunks <= a.len() == b.len()`.
    unsafe {
        let product = |i: usize| {
            _mm256_mul_ps(
                _mm256_loadu_ps(pa.add(8 * i)),
                _mm256_loadu_ps(pb.add(8 * i)),
            )
        };
        let mut acc = [_mm256_setzero_ps(); DOT_ACCUMULATORS];
        let mut i = 0;
        while i + DOT_ACCUMULATORS <= chunks {
            acc[0] = _mm256_add_ps(acc[0], product(i));
            acc[1] = _mm256_add_ps(acc[1], product(i + 1));
            acc[2] = _mm256_add_ps(acc[2], product(i + 2));
            acc[3] = _mm256_add_ps(acc[3], product(i + 3));
            i += DOT_ACCUMULATORS;
        }
        for (j, a) in acc.iter_mut().enumerate().take(chunks - i) {
            *a = _mm256_add_ps(*a, product(i + j));
        }
        let l = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        // lanes[k] + lanes[k + 4], then pairwise, as in the reference.
        let sum = _mm_add_ps(_mm256_castps256_ps128(l), _mm256_extractf128_ps::<1>(l));
        let pairs = _mm_add_ps(sum, _mm_shuffle_ps(sum, sum, 0b10_11_00_01));
        _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehl_ps(pairs, pairs)))
    }
}

/// The same partial sums in 4-lane halves.
#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn dot_sse2(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let chunks = a.len() / 8;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    // SAFETY: every load reads 4 floats at offsets below `8 · chunks <= a.len() == b.len()`.
    unsafe {
        let mut low = [_mm_setzero_ps(); DOT_ACCUMULATORS];
        let mut high = [_mm_setzero_ps(); DOT_ACCUMULATORS];
        for i in 0..chunks {
            let offset = i * 8;
            let j = i % DOT_ACCUMULATORS;
            low[j] = _mm_add_ps(
                low[j],
                _mm_mul_ps(_mm_loadu_ps(pa.add(offset)), _mm_loadu_ps(pb.add(offset))),
            );
            high[j] = _mm_add_ps(
                high[j],
                _mm_mul_ps(
                    _mm_loadu_ps(pa.add(offset + 4)),
                    _mm_loadu_ps(pb.add(offset + 4)),
                ),
            );
        }
        let combine = |v: [__m128; DOT_ACCUMULATORS]| {
            _mm_add_ps(_mm_add_ps(v[0], v[1]), _mm_add_ps(v[2], v[3]))
        };
        let sum = _mm_add_ps(combine(low), combine(high));
        let pairs = _mm_add_ps(sum, _mm_shuffle_ps(sum, sum, 0b10_11_00_01));
        _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehl_ps(pairs, pairs)))
    }
}

/// Largest magnitude over `phases` FIR outputs of `TAPS` taps that share one input history: phase
/// `p` is `Σ_t coeffs[t·phases + p] · history[t]` (tap-major coefficients, `phases` a multiple of
/// 4, each sum taken in tap order). Starts from `floor`. `TAPS` is a constant so the tap loop
/// unrolls.
#[inline]
pub fn max_abs_phases<const TAPS: usize>(
    coeffs: &[f32],
    history: &[f32],
    phases: usize,
    floor: f32,
) -> f32 {
    assert!(phases.is_multiple_of(4) && coeffs.len() >= TAPS * phases && history.len() >= TAPS);
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked above); lengths are checked above.
            return unsafe { max_abs_phases_avx2::<TAPS>(coeffs, history, phases, floor) };
        }
        // SAFETY: SSE2 is part of the x86_64 baseline; lengths are checked above.
        unsafe { max_abs_phases_sse2::<TAPS>(coeffs, history, phases, floor) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        max_abs_phases_scalar(&coeffs[..TAPS * phases], &history[..TAPS], phases, floor)
    }
}

/// The reference for [`max_abs_phases`].
pub fn max_abs_phases_scalar(coeffs: &[f32], history: &[f32], phases: usize, floor: f32) -> f32 {
    let mut peak = floor;
    for p in 0..phases {
        let mut sum = 0.0f32;
        for (taps, &x) in coeffs.chunks_exact(phases).zip(history) {
            sum += taps[p] * x;
        }
        if sum.abs() > peak {
            peak = sum.abs();
        }
    }
    peak
}

/// Whether this CPU has AVX2 and FMA (detected once, then a cached atomic load).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// AVX2 + FMA version of [`max_abs_phases`]. Four phases: two taps per 8-lane fused
/// multiply-add; eight or more: eight phases per operation. The taps are summed in several
/// independent accumulators, so the loop is not bound by the latency of one chain of additions.
/// Fused rounding and the split sums make it differ from the reference by a few ulps of the
/// sum's magnitude (tested).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn max_abs_phases_avx2<const TAPS: usize>(
    coeffs: &[f32],
    history: &[f32],
    phases: usize,
    floor: f32,
) -> f32 {
    use std::arch::x86_64::*;
    // SAFETY: as for the SSE2 version; `coeffs` holds TAPS·phases values, `history` TAPS.
    unsafe {
        let sign_mask = _mm_castsi128_ps(_mm_set1_epi32(0x7fff_ffff));
        let h = history.as_ptr();
        let c = coeffs.as_ptr();
        let mut peak;
        if phases == 4 {
            // Taps in pairs, alternate pairs into two accumulators (two short chains).
            let mut acc = [_mm256_setzero_ps(); 2];
            let mut t = 0;
            while t + 1 < TAPS {
                let taps = _mm256_loadu_ps(c.add(t * 4));
                let x = _mm256_insertf128_ps::<1>(
                    _mm256_castps128_ps256(_mm_set1_ps(*h.add(t))),
                    _mm_set1_ps(*h.add(t + 1)),
                );
                let j = (t / 2) % 2;
                acc[j] = _mm256_fmadd_ps(taps, x, acc[j]);
                t += 2;
            }
            let both = _mm256_add_ps(acc[0], acc[1]);
            let mut sum = _mm_add_ps(
                _mm256_castps256_ps128(both),
                _mm256_extractf128_ps::<1>(both),
            );
            if TAPS % 2 == 1 {
                let last = TAPS - 1;
                sum = _mm_fmadd_ps(
                    _mm_loadu_ps(c.add(last * 4)),
                    _mm_set1_ps(*h.add(last)),
                    sum,
                );
            }
            peak = _mm_max_ps(_mm_set1_ps(floor), _mm_and_ps(sum, sign_mask));
        } else {
            // Eight phases per operation; taps dealt to four accumulators in turn.
            let sign_mask8 = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
            let mut peak8 = _mm256_set1_ps(floor);
            let mut group = 0;
            while group + 8 <= phases {
                let mut acc = [_mm256_setzero_ps(); 4];
                for t in 0..TAPS {
                    acc[t % 4] = _mm256_fmadd_ps(
                        _mm256_loadu_ps(c.add(t * phases + group)),
                        _mm256_set1_ps(*h.add(t)),
                        acc[t % 4],
                    );
                }
                let sum =
                    _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
                peak8 = _mm256_max_ps(peak8, _mm256_and_ps(sum, sign_mask8));
                group += 8;
            }
            peak = _mm_max_ps(
                _mm256_castps256_ps128(peak8),
                _mm256_extractf128_ps::<1>(peak8),
            );
            while group < phases {
                let mut acc = [_mm_setzero_ps(); 2];
                for t in 0..TAPS {
                    acc[t % 2] = _mm_fmadd_ps(
                        _mm_loadu_ps(c.add(t * phases + group)),
                        _mm_set1_ps(*h.add(t)),
                        acc[t % 2],
                    );
                }
                peak = _mm_max_ps(peak, _mm_and_ps(_mm_add_ps(acc[0], acc[1]), sign_mask));
                group += 4;
            }
        }
        let high = _mm_max_ps(peak, _mm_movehl_ps(peak, peak));
        _mm_cvtss_f32(_mm_max_ss(high, _mm_shuffle_ps::<0b01>(high, high)))
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn max_abs_phases_sse2<const TAPS: usize>(
    coeffs: &[f32],
    history: &[f32],
    phases: usize,
    floor: f32,
) -> f32 {
    use std::arch::x86_64::*;
    // SAFETY: loads read 4 floats at `t·phases + 4g` with `4g + 4 <= phases` and `t < TAPS`,
    // inside `coeffs` (checked by the caller); `history` holds at least TAPS samples.
    unsafe {
        let sign_mask = _mm_castsi128_ps(_mm_set1_epi32(0x7fff_ffff));
        let mut peak = _mm_set1_ps(floor);
        let h = history.as_ptr();
        let mut group = 0;
        while group < phases {
            let mut acc = _mm_setzero_ps();
            let mut c = coeffs.as_ptr().add(group);
            for t in 0..TAPS {
                acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(c), _mm_set1_ps(*h.add(t))));
                c = c.add(phases);
            }
            peak = _mm_max_ps(peak, _mm_and_ps(acc, sign_mask));
            group += 4;
        }
        let high = _mm_max_ps(peak, _mm_movehl_ps(peak, peak));
        _mm_cvtss_f32(_mm_max_ss(high, _mm_shuffle_ps(high, high, 0b01)))
    }
}

/// The inner loops as one set, so that a caller can be compiled once per instruction set: its
/// hot loop generic over the set, instantiated inside a function with that set's target
/// features, inlines the kernels instead of dispatching and calling on every sample.
pub trait KernelSet: Copy {
    /// As [`dot`].
    fn dot(self, a: &[f32], b: &[f32]) -> f32;
    /// As [`max_abs_phases`].
    fn max_abs_phases<const TAPS: usize>(
        self,
        coeffs: &[f32],
        history: &[f32],
        phases: usize,
        floor: f32,
    ) -> f32;
}

/// Chooses the instruction set on every call (a cached CPU check).
#[derive(Clone, Copy, Debug)]
pub struct Dispatched;

impl KernelSet for Dispatched {
    #[inline]
    fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        dot(a, b)
    }

    #[inline]
    fn max_abs_phases<const TAPS: usize>(
        self,
        coeffs: &[f32],
        history: &[f32],
        phases: usize,
        floor: f32,
    ) -> f32 {
        max_abs_phases::<TAPS>(coeffs, history, phases, floor)
    }
}

/// AVX2 + FMA. A value exists only on a CPU that has them ([`Avx2::detect`]), which is what
/// makes calling the kernels through it sound.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
pub struct Avx2(());

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    pub fn detect() -> Option<Self> {
        has_avx2_fma().then_some(Avx2(()))
    }
}

#[cfg(target_arch = "x86_64")]
impl KernelSet for Avx2 {
    #[inline(always)]
    fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        assert!(a.len().is_multiple_of(8) && b.len() >= a.len());
        // SAFETY: this value proves AVX2 and FMA (so AVX); lengths are checked above.
        unsafe { dot_avx(a, &b[..a.len()]) }
    }

    #[inline(always)]
    fn max_abs_phases<const TAPS: usize>(
        self,
        coeffs: &[f32],
        history: &[f32],
        phases: usize,
        floor: f32,
    ) -> f32 {
        assert!(phases.is_multiple_of(4) && coeffs.len() >= TAPS * phases && history.len() >= TAPS);
        // SAFETY: this value proves AVX2 and FMA; lengths are checked above.
        unsafe { max_abs_phases_avx2::<TAPS>(coeffs, history, phases, floor) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The fast path gives exactly the reference's result, at every multiple-of-8 length up
        /// to 200 and at misaligned offsets into the buffers.
        #[test]
        fn dot_matches_the_reference(
            values in proptest::collection::vec(-1.0f32..1.0, 420),
            chunks in 0usize..25,
            offset_a in 0usize..8,
            offset_b in 0usize..8,
        ) {
            let len = chunks * 8;
            let a = &values[offset_a..offset_a + len];
            let b = &values[200 + offset_b..200 + offset_b + len];
            prop_assert_eq!(dot(a, b).to_bits(), dot_scalar(a, b).to_bits());
            // SAFETY: SSE2 is baseline; the slices hold `len` values each.
            #[cfg(target_arch = "x86_64")]
            prop_assert_eq!(unsafe { dot_sse2(a, b) }.to_bits(), dot_scalar(a, b).to_bits());
        }
    }

    proptest! {
        /// The SIMD phases give exactly the reference's peak for 4, 8 and 16 phases and any
        /// number of taps.
        #[test]
        fn max_abs_phases_matches_the_reference(
            coeffs in proptest::collection::vec(-1.0f32..1.0, 16 * 20),
            history in proptest::collection::vec(-1.0f32..1.0, 20),
            groups in 1usize..5,
            taps in 1usize..20,
            floor in 0.0f32..0.5,
        ) {
            let phases = 4 * groups;
            let reference = |taps: usize| {
                max_abs_phases_scalar(&coeffs[..phases * taps], &history[..taps], phases, floor)
            };
            // The SSE2 path sums in the reference's order: bit-identical.
            #[cfg(target_arch = "x86_64")]
            {
                // SAFETY: SSE2 is baseline; the slices hold 20 taps of up to 16 phases.
                let sse2 = |taps: usize| unsafe {
                    match taps {
                        12 => max_abs_phases_sse2::<12>(&coeffs, &history, phases, floor),
                        16 => max_abs_phases_sse2::<16>(&coeffs, &history, phases, floor),
                        _ => max_abs_phases_sse2::<7>(&coeffs, &history, phases, floor),
                    }
                };
                for taps in [12, 16, 7] {
                    prop_assert_eq!(sse2(taps).to_bits(), reference(taps).to_bits());
                }
            }
            // The dispatched path (AVX2 + FMA where available) agrees to within rounding: a few
            // ulps of the largest partial product sum.
            let bound = |taps: usize| {
                let scale: f32 = history[..taps].iter().map(|x| x.abs()).sum::<f32>();
                4.0 * f32::EPSILON * scale.max(1.0) * taps as f32
            };
            let dispatched = [
                (12, max_abs_phases::<12>(&coeffs, &history, phases, floor)),
                (16, max_abs_phases::<16>(&coeffs, &history, phases, floor)),
                (7, max_abs_phases::<7>(&coeffs, &history, phases, floor)),
            ];
            for (taps, value) in dispatched {
                prop_assert!((value - reference(taps)).abs() <= bound(taps), "{} taps: {} vs {}", taps, value, reference(taps));
            }
            let _ = taps;
        }
    }

    #[test]
    fn dot_known_value() {
        let a: Vec<f32> = (1..=16).map(|x| x as f32).collect();
        let b = vec![1.0f32; 16];
        assert_eq!(dot(&a, &b), 136.0);
    }
}
