//! Denormal and non-finite protection.
//!
//! nice-plug enables flush-to-zero at most (not denormals-are-zero), and the CLI enables nothing,
//! so recursive state is flushed explicitly and input is sanitised at the edge of each processor.

/// Values smaller than this in magnitude are flushed to zero in recursive state. Far below any
/// audible level (−600 dBFS) yet far above the denormal range of `f32` (~1.2e-38).
pub const FLUSH_THRESHOLD: f32 = 1e-30;

/// Flushes tiny values (including denormals) to zero.
#[inline]
pub fn flush(x: f32) -> f32 {
    if x.abs() < FLUSH_THRESHOLD {
        0.0
    } else {
        x
    }
}

/// Flushes tiny values to zero, `f64` version.
#[inline]
pub fn flush_f64(x: f64) -> f64 {
    if x.abs() < FLUSH_THRESHOLD as f64 {
        0.0
    } else {
        x
    }
}

/// Input sanitiser: NaN and ±inf become 0, denormals become 0; everything else passes unchanged.
/// Returns the cleaned sample and whether it had to be replaced because it was not finite.
#[inline]
pub fn sanitize(x: f32) -> (f32, bool) {
    if !x.is_finite() {
        (0.0, true)
    } else {
        (flush(x), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flushes_and_sanitises() {
        assert_eq!(flush(1e-35), 0.0);
        assert_eq!(flush(f32::MIN_POSITIVE / 2.0), 0.0);
        assert_eq!(flush(1e-6), 1e-6);
        assert_eq!(sanitize(f32::NAN), (0.0, true));
        assert_eq!(sanitize(f32::INFINITY), (0.0, true));
        assert_eq!(sanitize(f32::NEG_INFINITY), (0.0, true));
        assert_eq!(sanitize(-0.25), (-0.25, false));
    }
}
