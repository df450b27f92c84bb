//! Inner loops shared by the processors, each with a plain scalar reference. Where a SIMD version
//! exists it is tested against the reference at many lengths and offsets.
//!
//! The FIR kernels run across time: eight consecutive outputs share one vector, each lane sums
//! its own output's taps in tap order. Every output is then computed the same way wherever it
//! falls in a block (a whole vector or the scalar tail), so a filter run over a signal in blocks
//! of any size gives exactly the same outputs. The taps are broadcast, the inputs are unaligned
//! loads, and several groups of outputs are in flight at once, so the loop is bound by the
//! multiply-add throughput rather than by the latency of one chain of additions. Where the CPU
//! has AVX-512 the same loops run sixteen outputs to a vector: each lane's arithmetic (fused
//! multiply-adds in tap order) is the same, so the outputs are bit for bit those of AVX2.

/// `out[j] = Σ_{t < coeffs.len()} coeffs[t] · src[newest + j − t]`: an FIR filter whose newest
/// input for output `j` is `src[newest + j]`. Needs `newest + 1 >= coeffs.len()` and
/// `newest + out.len() <= src.len()`.
#[inline]
pub fn fir(coeffs: &[f32], src: &[f32], newest: usize, out: &mut [f32]) {
    check_fir(coeffs.len(), 1, src.len(), newest, out.len());
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU supports AVX-512F (checked above); the bounds are checked above.
        unsafe { fir_avx512(coeffs, src, newest, out) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above); the bounds are checked above.
        unsafe { fir_avx2(coeffs, src, newest, out) };
        return;
    }
    fir_scalar(coeffs, src, newest, out);
}

/// The reference for [`fir`] (multiply, then add, in tap order; the AVX2 version fuses them).
pub fn fir_scalar(coeffs: &[f32], src: &[f32], newest: usize, out: &mut [f32]) {
    for (j, y) in out.iter_mut().enumerate() {
        let mut sum = 0.0f32;
        for (t, &c) in coeffs.iter().enumerate() {
            sum += c * src[newest + j - t];
        }
        *y = sum;
    }
}

/// `out[j] = max(out[j], max_p |Σ_t coeffs[t·phases + p] · src[newest + j − t]|)`: the largest
/// magnitude over the `phases` branches of a polyphase filter that share one input (tap-major
/// coefficients, `coeffs.len() / phases` taps), on top of what `out` holds. `phases` is 4 or 8.
#[inline]
pub fn fir_max_abs(coeffs: &[f32], phases: usize, src: &[f32], newest: usize, out: &mut [f32]) {
    assert!(phases == 4 || phases == 8, "{phases} phases");
    assert!(coeffs.len().is_multiple_of(phases));
    check_fir(coeffs.len() / phases, phases, src.len(), newest, out.len());
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU supports AVX-512F (checked above); the bounds are checked above.
        unsafe {
            match phases {
                4 => fir_max_abs_avx512::<4, 4>(coeffs, src, newest, out),
                _ => fir_max_abs_avx512::<8, 2>(coeffs, src, newest, out),
            }
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above); the bounds are checked above.
        unsafe {
            match phases {
                4 => fir_max_abs_avx2::<4, 2>(coeffs, src, newest, out),
                _ => fir_max_abs_avx2::<8, 1>(coeffs, src, newest, out),
            }
        }
        return;
    }
    fir_max_abs_scalar(coeffs, phases, src, newest, out);
}

/// The reference for [`fir_max_abs`].
pub fn fir_max_abs_scalar(
    coeffs: &[f32],
    phases: usize,
    src: &[f32],
    newest: usize,
    out: &mut [f32],
) {
    for (j, y) in out.iter_mut().enumerate() {
        for p in 0..phases {
            let mut sum = 0.0f32;
            for (t, taps) in coeffs.chunks_exact(phases).enumerate() {
                sum += taps[p] * src[newest + j - t];
            }
            if sum.abs() > *y {
                *y = sum.abs();
            }
        }
    }
}

fn check_fir(taps: usize, phases: usize, src: usize, newest: usize, out: usize) {
    assert!(taps >= 1 && phases >= 1, "an empty filter");
    assert!(
        newest + 1 >= taps && newest + out <= src,
        "{taps} taps, newest {newest}, {out} outputs from {src} inputs"
    );
}

/// Whether this CPU has AVX2 and FMA (detected once, then a cached atomic load).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Whether the kernels use AVX-512 here: AVX-512F (with AVX2 and FMA for the tails) on a CPU
/// that also has VBMI2, which marks the generations (Intel Ice Lake and later, AMD Zen 4 and
/// later) where 512-bit arithmetic no longer lowers the core's clock much. On the first Intel
/// AVX-512 parts (Skylake-SP to Cooper Lake) it could cost every other plugin on that core
/// more than the kernels save, so they keep to AVX2 there.
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512vbmi2")
        && has_avx2_fma()
}

/// Groups of eight outputs [`fir_avx2`] keeps in flight.
#[cfg(target_arch = "x86_64")]
const FIR_GROUPS: usize = 4;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fir_avx2(coeffs: &[f32], src: &[f32], newest: usize, out: &mut [f32]) {
    use std::arch::x86_64::*;
    let taps = coeffs.len();
    // SAFETY: output j reads src[newest + j - t] for t < taps, inside `src` for j < out.len()
    // (checked by the caller); vector loads cover outputs j..j + 8 with j + 8 <= out.len().
    unsafe {
        let x = src.as_ptr().add(newest);
        let c = coeffs.as_ptr();
        let y = out.as_mut_ptr();
        let mut j = 0;
        while j + 8 * FIR_GROUPS <= out.len() {
            let mut acc = [_mm256_setzero_ps(); FIR_GROUPS];
            for t in 0..taps {
                let tap = _mm256_set1_ps(*c.add(t));
                let at = x.add(j).sub(t);
                for (g, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(tap, _mm256_loadu_ps(at.add(8 * g)), *a);
                }
            }
            for (g, a) in acc.iter().enumerate() {
                _mm256_storeu_ps(y.add(j + 8 * g), *a);
            }
            j += 8 * FIR_GROUPS;
        }
        while j + 8 <= out.len() {
            let mut acc = _mm256_setzero_ps();
            for t in 0..taps {
                acc = _mm256_fmadd_ps(
                    _mm256_set1_ps(*c.add(t)),
                    _mm256_loadu_ps(x.add(j).sub(t)),
                    acc,
                );
            }
            _mm256_storeu_ps(y.add(j), acc);
            j += 8;
        }
        // The tail, one lane at a time with the same fused rounding.
        while j < out.len() {
            let mut acc = _mm_setzero_ps();
            for t in 0..taps {
                acc = _mm_fmadd_ss(_mm_set_ss(*c.add(t)), _mm_set_ss(*x.add(j).sub(t)), acc);
            }
            *y.add(j) = _mm_cvtss_f32(acc);
            j += 1;
        }
    }
}

/// `P` phases, `G` groups of eight outputs in flight (`P · G` accumulators).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fir_max_abs_avx2<const P: usize, const G: usize>(
    coeffs: &[f32],
    src: &[f32],
    newest: usize,
    out: &mut [f32],
) {
    use std::arch::x86_64::*;
    let taps = coeffs.len() / P;
    // SAFETY: as in `fir_avx2`; coefficient t·P + p < coeffs.len() for t < taps, p < P.
    unsafe {
        let x = src.as_ptr().add(newest);
        let c = coeffs.as_ptr();
        let y = out.as_mut_ptr();
        let abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let mut j = 0;
        while j + 8 * G <= out.len() {
            let mut acc = [[_mm256_setzero_ps(); P]; G];
            for t in 0..taps {
                let at = x.add(j).sub(t);
                for (g, group) in acc.iter_mut().enumerate() {
                    let input = _mm256_loadu_ps(at.add(8 * g));
                    for (p, a) in group.iter_mut().enumerate() {
                        *a = _mm256_fmadd_ps(_mm256_set1_ps(*c.add(t * P + p)), input, *a);
                    }
                }
            }
            for (g, group) in acc.iter().enumerate() {
                let mut peak = _mm256_loadu_ps(y.add(j + 8 * g));
                for a in group {
                    // A NaN sum leaves the peak as it is, as the scalar comparisons do.
                    peak = _mm256_max_ps(_mm256_and_ps(*a, abs), peak);
                }
                _mm256_storeu_ps(y.add(j + 8 * g), peak);
            }
            j += 8 * G;
        }
        while j < out.len() {
            let mut peak = *y.add(j);
            for p in 0..P {
                let mut acc = _mm_setzero_ps();
                for t in 0..taps {
                    acc = _mm_fmadd_ss(
                        _mm_set_ss(*c.add(t * P + p)),
                        _mm_set_ss(*x.add(j).sub(t)),
                        acc,
                    );
                }
                let magnitude = _mm_cvtss_f32(acc).abs();
                if magnitude > peak {
                    peak = magnitude;
                }
            }
            *y.add(j) = peak;
            j += 1;
        }
    }
}

/// [`fir_avx2`] with sixteen outputs to a vector; the outputs it leaves (fewer than a group of
/// vectors, none in the detectors' whole chunks) go to [`fir_avx2`], which computes each the
/// same way.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn fir_avx512(coeffs: &[f32], src: &[f32], newest: usize, out: &mut [f32]) {
    use std::arch::x86_64::*;
    let taps = coeffs.len();
    // SAFETY: as in `fir_avx2`, with vector loads covering outputs j..j + 16·FIR_GROUPS.
    unsafe {
        let x = src.as_ptr().add(newest);
        let c = coeffs.as_ptr();
        let y = out.as_mut_ptr();
        let mut j = 0;
        while j + 16 * FIR_GROUPS <= out.len() {
            let mut acc = [_mm512_setzero_ps(); FIR_GROUPS];
            for t in 0..taps {
                let tap = _mm512_set1_ps(*c.add(t));
                let at = x.add(j).sub(t);
                for (g, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_fmadd_ps(tap, _mm512_loadu_ps(at.add(16 * g)), *a);
                }
            }
            for (g, a) in acc.iter().enumerate() {
                _mm512_storeu_ps(y.add(j + 16 * g), *a);
            }
            j += 16 * FIR_GROUPS;
        }
        fir_avx2(coeffs, src, newest + j, &mut out[j..]);
    }
}

/// [`fir_max_abs_avx2`] with sixteen outputs to a vector (`P · G` accumulators of AVX-512's
/// thirty-two registers); the outputs it leaves go to [`fir_max_abs_avx2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn fir_max_abs_avx512<const P: usize, const G: usize>(
    coeffs: &[f32],
    src: &[f32],
    newest: usize,
    out: &mut [f32],
) {
    use std::arch::x86_64::*;
    let taps = coeffs.len() / P;
    // SAFETY: as in `fir_max_abs_avx2`, with vector loads covering outputs j..j + 16·G.
    unsafe {
        let x = src.as_ptr().add(newest);
        let c = coeffs.as_ptr();
        let y = out.as_mut_ptr();
        let mut j = 0;
        while j + 16 * G <= out.len() {
            let mut acc = [[_mm512_setzero_ps(); P]; G];
            for t in 0..taps {
                let at = x.add(j).sub(t);
                for (g, group) in acc.iter_mut().enumerate() {
                    let input = _mm512_loadu_ps(at.add(16 * g));
                    for (p, a) in group.iter_mut().enumerate() {
                        *a = _mm512_fmadd_ps(_mm512_set1_ps(*c.add(t * P + p)), input, *a);
                    }
                }
            }
            for (g, group) in acc.iter().enumerate() {
                let mut peak = _mm512_loadu_ps(y.add(j + 16 * g));
                for a in group {
                    // A NaN sum leaves the peak as it is, as the scalar comparisons do.
                    peak = _mm512_max_ps(_mm512_abs_ps(*a), peak);
                }
                _mm512_storeu_ps(y.add(j + 16 * g), peak);
            }
            j += 16 * G;
        }
        let rest = &mut out[j..];
        match P {
            4 => fir_max_abs_avx2::<4, 2>(coeffs, src, newest + j, rest),
            _ => fir_max_abs_avx2::<8, 1>(coeffs, src, newest + j, rest),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The filter in f64, straight from its definition.
    fn fir_f64(coeffs: &[f32], phases: usize, src: &[f32], newest: usize, j: usize) -> Vec<f64> {
        (0..phases)
            .map(|p| {
                coeffs
                    .chunks_exact(phases)
                    .enumerate()
                    .map(|(t, taps)| taps[p] as f64 * src[newest + j - t] as f64)
                    .sum()
            })
            .collect()
    }

    /// Rounding allowance for a sum of `taps` products of magnitude ≤ 1.
    fn allowance(taps: usize) -> f32 {
        2.0 * f32::EPSILON * taps as f32
    }

    proptest! {
        /// Every output within rounding of the exact sum, for any tap count, output count and
        /// offset (whole vectors, groups in flight and the scalar tail).
        #[test]
        fn fir_matches_its_definition(
            values in proptest::collection::vec(-1.0f32..1.0, 300),
            taps in 1usize..100,
            outputs in 0usize..80,
            extra in 0usize..20,
        ) {
            let coeffs = &values[..taps];
            let src = &values[100..];
            let newest = taps - 1 + extra;
            let mut fast = vec![0.0; outputs];
            let mut reference = vec![0.0; outputs];
            fir(coeffs, src, newest, &mut fast);
            fir_scalar(coeffs, src, newest, &mut reference);
            for j in 0..outputs {
                let exact = fir_f64(coeffs, 1, src, newest, j)[0];
                prop_assert!((fast[j] as f64 - exact).abs() <= allowance(taps) as f64);
                prop_assert!((reference[j] as f64 - exact).abs() <= allowance(taps) as f64);
            }
        }

        /// The same for the phase maximum, starting from a floor.
        #[test]
        fn fir_max_abs_matches_its_definition(
            values in proptest::collection::vec(-1.0f32..1.0, 300),
            eight in any::<bool>(),
            taps in 1usize..20,
            outputs in 0usize..60,
            floor in 0.0f32..1.0,
        ) {
            let phases = if eight { 8 } else { 4 };
            let coeffs = &values[..taps * phases];
            let src = &values[160..];
            let newest = taps - 1;
            let mut fast = vec![floor; outputs];
            let mut reference = vec![floor; outputs];
            fir_max_abs(coeffs, phases, src, newest, &mut fast);
            fir_max_abs_scalar(coeffs, phases, src, newest, &mut reference);
            for j in 0..outputs {
                let exact = fir_f64(coeffs, phases, src, newest, j)
                    .into_iter()
                    .fold(floor as f64, |m, y| m.max(y.abs()));
                prop_assert!((fast[j] as f64 - exact).abs() <= allowance(taps) as f64);
                prop_assert!((reference[j] as f64 - exact).abs() <= allowance(taps) as f64);
            }
        }

        /// An output does not depend on where it falls in a block: whole runs and runs split
        /// anywhere give the same bits.
        #[test]
        fn outputs_do_not_depend_on_the_block(
            values in proptest::collection::vec(-1.0f32..1.0, 300),
            split in 0usize..100,
        ) {
            let (coeffs, src) = (&values[..40], &values[100..]);
            let mut whole = vec![0.0; 100];
            fir(coeffs, src, 39, &mut whole);
            let mut parts = vec![0.0; 100];
            let (first, second) = parts.split_at_mut(split);
            fir(coeffs, src, 39, first);
            fir(coeffs, src, 39 + split, second);
            prop_assert_eq!(&whole, &parts);

            let coeffs = &values[..64];
            let mut whole = vec![0.0; 100];
            fir_max_abs(coeffs, 4, src, 15, &mut whole);
            let mut parts = vec![0.0; 100];
            let (first, second) = parts.split_at_mut(split);
            fir_max_abs(coeffs, 4, src, 15, first);
            fir_max_abs(coeffs, 4, src, 15 + split, second);
            prop_assert_eq!(whole, parts);
        }
    }

    /// The AVX-512 kernels give the AVX2 kernels' bits (the proptests above hold whichever
    /// runs to the definition), at every output count around their vector and group sizes.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_kernels_are_the_avx2_kernels_bit_for_bit() {
        if !has_avx512() {
            eprintln!("no AVX-512 on this CPU: nothing to compare");
            return;
        }
        let mut noise = crate::noise::WhiteNoise::new(7);
        let values: Vec<f32> = (0..600).map(|_| noise.next_f64() as f32).collect();
        for taps in [1, 12, 16, 48, 96] {
            for outputs in (0..=140).chain([255, 256, 512]) {
                let (coeffs, src) = (&values[..taps], &values[80..]);
                let newest = taps - 1 + outputs % 3;
                let (mut wide, mut narrow) = (vec![0.0; outputs], vec![0.0; outputs]);
                // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked above); the bounds
                // hold: newest + 1 ≥ taps and newest + outputs ≤ 520.
                unsafe {
                    fir_avx512(coeffs, src, newest, &mut wide);
                    fir_avx2(coeffs, src, newest, &mut narrow);
                }
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&wide),
                    bits(&narrow),
                    "fir, {taps} taps, {outputs} outputs"
                );
                for phases in [4, 8] {
                    let coeffs = &values[..(taps.min(16)) * phases];
                    let floor = |j: usize| if j.is_multiple_of(5) { 0.5 } else { 0.0 };
                    let mut wide: Vec<f32> = (0..outputs).map(floor).collect();
                    let mut narrow = wide.clone();
                    let newest = taps.min(16) - 1 + outputs % 3;
                    // SAFETY: as above, with newest + 1 ≥ the taps per phase.
                    unsafe {
                        if phases == 4 {
                            fir_max_abs_avx512::<4, 4>(coeffs, src, newest, &mut wide);
                            fir_max_abs_avx2::<4, 2>(coeffs, src, newest, &mut narrow);
                        } else {
                            fir_max_abs_avx512::<8, 2>(coeffs, src, newest, &mut wide);
                            fir_max_abs_avx2::<8, 1>(coeffs, src, newest, &mut narrow);
                        }
                    }
                    assert_eq!(
                        bits(&wide),
                        bits(&narrow),
                        "fir_max_abs, {phases} phases, {taps} taps, {outputs} outputs"
                    );
                }
            }
        }
    }

    #[test]
    fn fir_known_values() {
        // A three-tap moving sum of 1, 2, 3, ...
        let src: Vec<f32> = (1..=10).map(|x| x as f32).collect();
        let mut out = [0.0; 8];
        fir(&[1.0, 1.0, 1.0], &src, 2, &mut out);
        assert_eq!(out, [6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 27.0]);
    }
}
