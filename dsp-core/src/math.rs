//! Small numeric helpers that avoid library calls in inner loops.

/// `x.round()` (halfway cases away from zero, bit for bit, signed zeros included) without the
/// library call that `f64::round` becomes on x86-64 CPUs without SSE4.1: truncation through an
/// integer, then the exact fractional part decides.
#[inline]
pub fn round(x: f64) -> f64 {
    // At or above 2^52 every f64 is a whole number; NaN passes through as well.
    const WHOLE: f64 = 4_503_599_627_370_496.0;
    if x.abs() >= WHOLE || x.is_nan() {
        return x;
    }
    let truncated = (x as i64 as f64).copysign(x);
    let fraction = x - truncated; // exact: the bits of x below its units place
    if fraction >= 0.5 {
        truncated + 1.0
    } else if fraction <= -0.5 {
        truncated - 1.0
    } else {
        truncated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_matches_the_library_at_the_edges() {
        let edges = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -2.5,
            0.499_999_999_999_999_94,
            -0.499_999_999_999_999_94,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9.007_199_254_740_993e15,
            1e300,
            -1e300,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for x in edges {
            assert_eq!(round(x).to_bits(), x.round().to_bits(), "{x}");
        }
        assert!(round(f64::NAN).is_nan());
    }

    proptest! {
        #[test]
        fn round_matches_the_library(x in -1e6f64..1e6, bits in any::<u64>()) {
            prop_assert_eq!(round(x).to_bits(), x.round().to_bits());
            let any = f64::from_bits(bits);
            if !any.is_nan() {
                prop_assert_eq!(round(any).to_bits(), any.round().to_bits());
            }
            // Exact halves.
            let half = (x * 2.0).trunc() / 2.0;
            prop_assert_eq!(round(half).to_bits(), half.round().to_bits());
        }
    }
}
