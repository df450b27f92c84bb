//! Decibel helpers. Amplitude decibels throughout: `dB = 20·log10(gain)`.

/// Anything at or below this is treated as silence (−inf dB).
pub const MINUS_INFINITY_DB: f32 = -150.0;

/// Converts amplitude decibels to a linear gain; `MINUS_INFINITY_DB` and below give exactly 0.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    if db <= MINUS_INFINITY_DB {
        0.0
    } else {
        10f32.powf(db * 0.05)
    }
}

/// Converts a linear gain to amplitude decibels, clamped below at `MINUS_INFINITY_DB`.
#[inline]
pub fn gain_to_db(gain: f32) -> f32 {
    let gain = gain.abs();
    if gain <= 1e-30 {
        MINUS_INFINITY_DB
    } else {
        (20.0 * gain.log10()).max(MINUS_INFINITY_DB)
    }
}

/// `gain_to_db` in double precision, for analysis code and tests.
#[inline]
pub fn gain_to_db_f64(gain: f64) -> f64 {
    20.0 * gain.abs().max(1e-300).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((db_to_gain(-6.0206) - 0.5).abs() < 1e-5);
        assert!((db_to_gain(20.0) - 10.0).abs() < 1e-4);
        assert_eq!(db_to_gain(MINUS_INFINITY_DB), 0.0);
        assert!((gain_to_db(0.5) + 6.0206).abs() < 1e-3);
        assert_eq!(gain_to_db(0.0), MINUS_INFINITY_DB);
        assert_eq!(gain_to_db(-1.0), 0.0);
    }

    #[test]
    fn round_trip() {
        for i in -1200..=240 {
            let db = i as f32 * 0.1;
            assert!((gain_to_db(db_to_gain(db)) - db).abs() < 1e-3, "{db}");
        }
    }
}
