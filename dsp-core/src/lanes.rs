//! Four f64 lanes (AVX2) for loops that run one scalar computation on four independent streams
//! at once, such as the bands of a multiband compressor. Each function here gives every lane
//! exactly the operations of the scalar function it mirrors, in the same order and without fused
//! multiply-adds, so each lane's result is bit for bit the scalar result (tested below). Lanes are
//! `__m256d`; comparisons and selections follow the scalar `if`s, both sides computed.
//!
//! The functions carry `#[target_feature(enable = "avx2")]`: callers check
//! [`crate::kernels::has_avx2_fma`] before entering a function that has the feature.

#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;

/// All four lanes set to `v`.
#[inline]
#[target_feature(enable = "avx2")]
pub fn splat(v: f64) -> __m256d {
    _mm256_set1_pd(v)
}

/// The lanes as an array (lane 0 first).
#[inline]
#[target_feature(enable = "avx2")]
pub fn to_array(v: __m256d) -> [f64; 4] {
    let mut out = [0.0; 4];
    // SAFETY: `out` has room for four f64 (unaligned store).
    unsafe { _mm256_storeu_pd(out.as_mut_ptr(), v) };
    out
}

/// An array as lanes (element 0 in lane 0).
#[inline]
#[target_feature(enable = "avx2")]
pub fn from_array(a: [f64; 4]) -> __m256d {
    // SAFETY: `a` holds four f64 (unaligned load).
    unsafe { _mm256_loadu_pd(a.as_ptr()) }
}

/// `if mask { yes } else { no }` lane by lane (`mask` from a comparison).
#[inline]
#[target_feature(enable = "avx2")]
pub fn select(mask: __m256d, yes: __m256d, no: __m256d) -> __m256d {
    _mm256_blendv_pd(no, yes, mask)
}

/// `a < b` (ordered: false with a NaN, as in Rust).
#[inline]
#[target_feature(enable = "avx2")]
pub fn lt(a: __m256d, b: __m256d) -> __m256d {
    _mm256_cmp_pd::<_CMP_LT_OQ>(a, b)
}

/// `a <= b` (ordered).
#[inline]
#[target_feature(enable = "avx2")]
pub fn le(a: __m256d, b: __m256d) -> __m256d {
    _mm256_cmp_pd::<_CMP_LE_OQ>(a, b)
}

/// `a >= b` (ordered).
#[inline]
#[target_feature(enable = "avx2")]
pub fn ge(a: __m256d, b: __m256d) -> __m256d {
    _mm256_cmp_pd::<_CMP_GE_OQ>(a, b)
}

/// `a == b` (ordered).
#[inline]
#[target_feature(enable = "avx2")]
pub fn eq(a: __m256d, b: __m256d) -> __m256d {
    _mm256_cmp_pd::<_CMP_EQ_OQ>(a, b)
}

/// `x.clamp(min, max)` for `min <= max`: `min` below it, `max` above it, NaN stays NaN.
#[inline]
#[target_feature(enable = "avx2")]
pub fn clamp(x: __m256d, min: __m256d, max: __m256d) -> __m256d {
    // maxpd/minpd return their second operand when the comparison fails (NaN included).
    _mm256_min_pd(max, _mm256_max_pd(min, x))
}

/// `|x|` (clears the sign bit, as `f64::abs`).
#[inline]
#[target_feature(enable = "avx2")]
pub fn abs(x: __m256d) -> __m256d {
    _mm256_andnot_pd(splat(-0.0), x)
}

/// `-x` (flips the sign bit, as unary minus).
#[inline]
#[target_feature(enable = "avx2")]
pub fn neg(x: __m256d) -> __m256d {
    _mm256_xor_pd(splat(-0.0), x)
}

/// Four rows of four lanes as four columns: lane `j` of output `k` is lane `k` of row `j`.
#[inline]
#[target_feature(enable = "avx2")]
pub fn transpose(rows: [__m256d; 4]) -> [__m256d; 4] {
    let [r0, r1, r2, r3] = rows;
    let (low01, high01) = (_mm256_unpacklo_pd(r0, r1), _mm256_unpackhi_pd(r0, r1));
    let (low23, high23) = (_mm256_unpacklo_pd(r2, r3), _mm256_unpackhi_pd(r2, r3));
    [
        _mm256_permute2f128_pd::<0x20>(low01, low23),
        _mm256_permute2f128_pd::<0x20>(high01, high23),
        _mm256_permute2f128_pd::<0x31>(low01, low23),
        _mm256_permute2f128_pd::<0x31>(high01, high23),
    ]
}

/// `i as f64` for whole numbers `0 <= i < 2^52` held as 64-bit integers: set as the mantissa of
/// 2^52, then 2^52 taken away (both exact).
#[inline]
#[target_feature(enable = "avx2")]
fn small_int_to_f64(i: __m256i) -> __m256d {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let biased = _mm256_or_si256(i, _mm256_castpd_si256(splat(TWO_52)));
    _mm256_sub_pd(_mm256_castsi256_pd(biased), splat(TWO_52))
}

/// The largest f64 under ½: added with the sign of `x` before truncating, it rounds halfway
/// cases away from zero and nothing else up (the sum rounds to nearest, ties to even).
const JUST_UNDER_HALF: f64 = 0.499_999_999_999_999_94;

/// [`crate::math::round`] (halfway cases away from zero) as `trunc(x ± JUST_UNDER_HALF)`: two
/// operations where comparing the fraction takes five.
#[inline]
#[target_feature(enable = "avx2")]
pub fn round(x: __m256d) -> __m256d {
    let half = _mm256_or_pd(_mm256_and_pd(x, splat(-0.0)), splat(JUST_UNDER_HALF));
    _mm256_round_pd::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(_mm256_add_pd(x, half))
}

/// [`crate::dynamics::ln_normal`]: the natural logarithm of a positive normal number.
#[inline]
#[target_feature(enable = "avx2")]
pub fn ln_normal(x: __m256d) -> __m256d {
    let bits = _mm256_castpd_si256(x);
    let biased = _mm256_and_si256(_mm256_srli_epi64::<52>(bits), _mm256_set1_epi64x(0x7ff));
    let exponent = _mm256_sub_pd(small_int_to_f64(biased), splat(1023.0));
    let mantissa = _mm256_or_si256(
        _mm256_and_si256(bits, _mm256_set1_epi64x(0x000f_ffff_ffff_ffff)),
        _mm256_set1_epi64x(0x3ff0_0000_0000_0000),
    );
    let m = _mm256_castsi256_pd(mantissa);
    let high = _mm256_cmp_pd::<_CMP_GT_OQ>(m, splat(std::f64::consts::SQRT_2));
    let m = select(high, _mm256_mul_pd(m, splat(0.5)), m);
    let exponent = select(high, _mm256_add_pd(exponent, splat(1.0)), exponent);
    let s = _mm256_div_pd(_mm256_sub_pd(m, splat(1.0)), _mm256_add_pd(m, splat(1.0)));
    let s2 = _mm256_mul_pd(s, s);
    // 1 + s2·(1/3 + s2·(1/5 + s2·(1/7 + s2·(1/9 + s2/11)))), innermost first.
    let mut series = _mm256_add_pd(splat(1.0 / 9.0), _mm256_div_pd(s2, splat(11.0)));
    for c in [1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0] {
        series = _mm256_add_pd(splat(c), _mm256_mul_pd(s2, series));
    }
    _mm256_add_pd(
        _mm256_mul_pd(exponent, splat(std::f64::consts::LN_2)),
        _mm256_mul_pd(_mm256_mul_pd(splat(2.0), s), series),
    )
}

/// [`crate::dynamics::power_db`]: `10·log10(power)`, −200 dB at or below 1e-20.
#[inline]
#[target_feature(enable = "avx2")]
pub fn power_db(power: __m256d) -> __m256d {
    let db = _mm256_mul_pd(ln_normal(power), splat(10.0 / std::f64::consts::LN_10));
    select(le(power, splat(1e-20)), splat(-200.0), db)
}

/// [`crate::dynamics::db_to_gain_f64`]: `10^(db/20)`.
#[inline]
#[target_feature(enable = "avx2")]
pub fn db_to_gain(db: __m256d) -> __m256d {
    let x = clamp(
        _mm256_mul_pd(db, splat(std::f64::consts::LOG2_10 / 20.0)),
        splat(-1000.0),
        splat(1000.0),
    );
    let whole = round(x);
    let t = _mm256_mul_pd(_mm256_sub_pd(x, whole), splat(std::f64::consts::LN_2));
    let mut fraction = splat(0.0);
    for c in crate::dynamics::INVERSE_FACTORIALS {
        fraction = _mm256_add_pd(_mm256_mul_pd(fraction, t), splat(c));
    }
    // 2^whole: whole + 1023 as the mantissa bits of 2^52 + whole + 1023, shifted into the
    // exponent field (the bits of 2^52 itself shift out).
    let biased = _mm256_add_pd(
        _mm256_add_pd(whole, splat(1023.0)),
        splat(4_503_599_627_370_496.0),
    );
    let scale = _mm256_slli_epi64::<52>(_mm256_castpd_si256(biased));
    _mm256_mul_pd(fraction, _mm256_castsi256_pd(scale))
}

/// Eight f64 lanes (AVX-512F) for the widest loops: the same mirrors as above, comparisons
/// giving masks. Callers check [`crate::kernels::has_avx512`].
pub mod wide {
    use std::arch::x86_64::*;

    /// All eight lanes set to `v`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn splat(v: f64) -> __m512d {
        _mm512_set1_pd(v)
    }

    /// `if mask { yes } else { no }` lane by lane.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn select(mask: __mmask8, yes: __m512d, no: __m512d) -> __m512d {
        _mm512_mask_blend_pd(mask, no, yes)
    }

    /// `a == b` (ordered).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn eq(a: __m512d, b: __m512d) -> __mmask8 {
        _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(a, b)
    }

    /// [`super::clamp`].
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn clamp(x: __m512d, min: __m512d, max: __m512d) -> __m512d {
        _mm512_min_pd(max, _mm512_max_pd(min, x))
    }

    /// [`super::neg`].
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn neg(x: __m512d) -> __m512d {
        let sign = _mm512_set1_epi64(i64::MIN);
        _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(x), sign))
    }

    /// [`super::round`].
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn round(x: __m512d) -> __m512d {
        let bits = _mm512_castpd_si512(x);
        let sign = _mm512_and_si512(bits, _mm512_set1_epi64(i64::MIN));
        let half = _mm512_or_si512(sign, _mm512_castpd_si512(splat(super::JUST_UNDER_HALF)));
        _mm512_roundscale_pd::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(_mm512_add_pd(
            x,
            _mm512_castsi512_pd(half),
        ))
    }

    /// [`super::db_to_gain`].
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn db_to_gain(db: __m512d) -> __m512d {
        let x = clamp(
            _mm512_mul_pd(db, splat(std::f64::consts::LOG2_10 / 20.0)),
            splat(-1000.0),
            splat(1000.0),
        );
        let whole = round(x);
        let t = _mm512_mul_pd(_mm512_sub_pd(x, whole), splat(std::f64::consts::LN_2));
        let mut fraction = splat(0.0);
        for c in crate::dynamics::INVERSE_FACTORIALS {
            fraction = _mm512_add_pd(_mm512_mul_pd(fraction, t), splat(c));
        }
        let biased = _mm512_add_pd(
            _mm512_add_pd(whole, splat(1023.0)),
            splat(4_503_599_627_370_496.0),
        );
        let scale = _mm512_slli_epi64::<52>(_mm512_castpd_si512(biased));
        _mm512_mul_pd(fraction, _mm512_castsi512_pd(scale))
    }
}

/// Two f64 lanes (SSE4.1) for loops over a stereo pair: the same mirrors as above.
pub mod pair {
    use std::arch::x86_64::*;

    /// [`super::clamp`] on two lanes.
    #[inline]
    #[target_feature(enable = "sse4.1")]
    pub fn clamp(x: __m128d, min: __m128d, max: __m128d) -> __m128d {
        _mm_min_pd(max, _mm_max_pd(min, x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::has_avx2_fma;
    use proptest::prelude::*;

    /// Runs a lane function on four values and checks each lane against the scalar function,
    /// bit for bit.
    fn check(
        lanes: unsafe fn(__m256d) -> __m256d,
        scalar: fn(f64) -> f64,
        inputs: [f64; 4],
    ) -> Result<(), TestCaseError> {
        if !has_avx2_fma() {
            return Ok(());
        }
        // SAFETY: the CPU has AVX2 (checked above).
        let got = unsafe { to_array(lanes(from_array(inputs))) };
        for (x, y) in inputs.into_iter().zip(got) {
            let want = scalar(x);
            prop_assert!(
                y.to_bits() == want.to_bits() || (y.is_nan() && want.is_nan()),
                "{x:e}: lanes {y:e}, scalar {want:e}"
            );
        }
        Ok(())
    }

    /// Values that take each branch of the functions: whole and half numbers, the logarithm's
    /// mantissa switch at √2, the floors and clamps, signed zeros.
    const EDGES: [f64; 32] = [
        // Where adding just under ½ before truncating could go wrong: sums that round across a
        // whole number, halves at the top of the binades, beyond 2^52.
        1.499_999_999_999_999_8,
        0.500_000_000_000_000_1,
        2_251_799_813_685_248.5,
        -4_503_599_627_370_495.5,
        4_503_599_627_370_495.5,
        9.007_199_254_740_993e15,
        f64::INFINITY,
        -2.499_999_999_999_999_6,
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.5,
        -2.5,
        0.499_999_999_999_999_94,
        1.0,
        std::f64::consts::SQRT_2,
        1.414_213_562_373_095_3,
        1e-20,
        1.000_000_000_000_000_1e-20,
        1e-30,
        f64::MIN_POSITIVE,
        f64::MAX,
        6020.0,
        -6020.0,
        6000.0,
        -12_000.0,
        12_000.0,
        -200.0,
        3.0,
        -3.0,
        0.1,
    ];

    /// `lanes` (the `wide` function) against `scalar` on eight inputs, bit for bit.
    fn check_wide(
        lanes: unsafe fn(std::arch::x86_64::__m512d) -> std::arch::x86_64::__m512d,
        scalar: fn(f64) -> f64,
        inputs: [f64; 8],
    ) -> Result<(), TestCaseError> {
        if !crate::kernels::has_avx512() {
            return Ok(());
        }
        let mut got = [0.0; 8];
        // SAFETY: the CPU has AVX-512F (checked above); eight f64 loaded and stored.
        unsafe { _mm512_storeu_pd(got.as_mut_ptr(), lanes(_mm512_loadu_pd(inputs.as_ptr()))) };
        for (x, y) in inputs.into_iter().zip(got) {
            let want = scalar(x);
            prop_assert!(
                y.to_bits() == want.to_bits() || (y.is_nan() && want.is_nan()),
                "{x:e}: wide {y:e}, scalar {want:e}"
            );
        }
        Ok(())
    }

    #[test]
    fn wide_lanes_match_the_scalar_functions_at_the_edges() {
        for chunk in EDGES.chunks_exact(8) {
            let x: [f64; 8] = chunk.try_into().unwrap();
            check_wide(wide::round, crate::math::round, x).unwrap();
            check_wide(wide::db_to_gain, crate::dynamics::db_to_gain_f64, x).unwrap();
        }
    }

    #[test]
    fn lanes_match_the_scalar_functions_at_the_edges() {
        for chunk in EDGES.chunks_exact(4) {
            let x: [f64; 4] = chunk.try_into().unwrap();
            check(round, crate::math::round, x).unwrap();
            check(db_to_gain, crate::dynamics::db_to_gain_f64, x).unwrap();
            let positive = x.map(|v| v.abs().max(f64::MIN_POSITIVE));
            check(ln_normal, crate::dynamics::ln_normal, positive).unwrap();
            check(power_db, crate::dynamics::power_db, x.map(f64::abs)).unwrap();
        }
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        if !has_avx2_fma() {
            return;
        }
        let rows: [[f64; 4]; 4] =
            std::array::from_fn(|j| std::array::from_fn(|k| (10 * j + k) as f64));
        // SAFETY: the CPU has AVX2 (checked above).
        let columns = unsafe { transpose(rows.map(|r| from_array(r))).map(|c| to_array(c)) };
        for (k, column) in columns.iter().enumerate() {
            for (j, &v) in column.iter().enumerate() {
                assert_eq!(v, rows[j][k], "column {k} lane {j}");
            }
        }
    }

    proptest! {
        #[test]
        fn lanes_match_the_scalar_functions(
            db in prop::array::uniform4(-700.0f64..700.0),
            halves in prop::array::uniform4(-2000i32..2000),
            powers in prop::array::uniform4(-700.0f64..30.0),
            bits in prop::array::uniform4(any::<u64>()),
        ) {
            check(round, crate::math::round, bits.map(f64::from_bits))?;
            check(db_to_gain, crate::dynamics::db_to_gain_f64, db)?;
            let eight = [db, halves.map(|h| h as f64 / 2.0)].concat();
            check_wide(wide::db_to_gain, crate::dynamics::db_to_gain_f64, eight.clone().try_into().unwrap())?;
            check_wide(wide::round, crate::math::round, eight.try_into().unwrap())?;
            check(round, crate::math::round, db)?;
            check(round, crate::math::round, halves.map(|h| h as f64 / 2.0))?;
            let powers = powers.map(|e| 10f64.powf(e / 10.0));
            check(ln_normal, crate::dynamics::ln_normal, powers)?;
            check(power_db, crate::dynamics::power_db, powers)?;
        }
    }
}
