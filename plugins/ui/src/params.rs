//! Parameter constructors with Lathe's units and text entry, shared by every plugin's `params.rs`.

use crate::format;
use nice_plug::prelude::*;

/// A dB parameter, linear in dB, 0.01 dB steps ("-3 dB").
pub fn db_param(name: &str, default: f32, (min, max): (f32, f32)) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min, max })
        .with_step_size(0.01)
        .with_value_to_string(format::v2s_db(2))
        .with_string_to_value(format::s2v_db())
}

/// A time in ms, skewed towards short times ("250 ms", "1.5 s").
pub fn ms_param(name: &str, default: f32, (min, max): (f32, f32)) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(-2.0),
        },
    )
    .with_value_to_string(format::v2s_ms())
    .with_string_to_value(format::s2v_ms())
}

/// A frequency in Hz, logarithmic ("1.5k", "80 Hz").
pub fn hz_param(name: &str, default: f32, (min, max): (f32, f32)) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(-2.0),
        },
    )
    .with_value_to_string(format::v2s_hz())
    .with_string_to_value(format::s2v_hz())
}

/// A 0..max ratio shown in percent ("150 %").
pub fn percent_param(name: &str, default: f32, (min, max): (f32, f32)) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min, max })
        .with_step_size(0.005)
        .with_value_to_string(format::v2s_percent())
        .with_string_to_value(format::s2v_percent())
}

/// A −1..1 position shown as "L 50 %", "C", "R 30 %".
pub fn pan_param(name: &str, default: f32) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Linear {
            min: -1.0,
            max: 1.0,
        },
    )
    .with_step_size(0.005)
    .with_value_to_string(format::v2s_pan())
    .with_string_to_value(format::s2v_pan())
}

/// A compressor ratio's top value, which means ∞:1.
pub const RATIO_INFINITE: f32 = 100.0;

/// A ratio `n:1` from 1 to [`RATIO_INFINITE`], shown "4.00:1" and "inf:1" at the top; accepts
/// "4", "4:1", "inf", "∞".
pub fn ratio_param(name: impl Into<String>, default: f32) -> FloatParam {
    FloatParam::new(
        name,
        default.min(RATIO_INFINITE),
        FloatRange::Skewed {
            min: 1.0,
            max: RATIO_INFINITE,
            factor: FloatRange::skew_factor(-2.0),
        },
    )
    .with_step_size(0.01)
    .with_value_to_string(std::sync::Arc::new(|ratio| {
        if ratio >= RATIO_INFINITE {
            "inf:1".to_string()
        } else {
            format!("{ratio:.2}:1")
        }
    }))
    .with_string_to_value(std::sync::Arc::new(|text| {
        let text = text.trim().to_lowercase();
        let number = text.split(':').next()?.trim();
        if number.starts_with("inf") || number == "∞" {
            return Some(RATIO_INFINITE);
        }
        number
            .parse::<f32>()
            .ok()
            .filter(|r| r.is_finite())
            .map(|r| r.clamp(1.0, RATIO_INFINITE))
    }))
}

/// The DSP's ratio for a [`ratio_param`] value: the top of the range is ∞.
pub fn ratio_value(param: &FloatParam) -> f32 {
    let ratio = param.value();
    if ratio >= RATIO_INFINITE {
        f32::INFINITY
    } else {
        ratio
    }
}

/// A meter reading the plugin reports to the host: a read-only output parameter
/// ([`FloatParam::output`]; not automatable, not saved) in `unit`, 0.01 steps, starting at the
/// bottom of its range. A range that starts below zero shows "-inf" there (nothing measured, or
/// silence); one that starts at zero shows 0.0.
pub fn reading_param(name: &str, unit: &'static str, (min, max): (f32, f32)) -> FloatParam {
    FloatParam::new(name, min, FloatRange::Linear { min, max })
        .with_step_size(0.01)
        .output()
        .with_value_to_string(std::sync::Arc::new(move |v| {
            if min < 0.0 && v <= min {
                format!("-inf {unit}")
            } else {
                format!("{v:.1} {unit}")
            }
        }))
}

/// Reports `value` for an output parameter made by [`reading_param`]: clamped to its range (NaN
/// and `-inf`, "nothing measured", to the bottom), and only when it differs from the value the
/// parameter holds, so a host is not sent the same reading again.
pub fn report<P: Plugin>(param: &FloatParam, value: f32, context: &mut impl ProcessContext<P>) {
    let FloatRange::Linear { min, max } = param.range() else {
        unreachable!("readings are linear")
    };
    let value = if value.is_nan() {
        min
    } else {
        value.clamp(min, max)
    };
    if value != param.value() {
        context.set_output_parameter(param, value);
    }
}

/// The largest value of a reading over each 50 ms of audio, for [`report`]: gain reduction, say,
/// which a host recording it should see at its worst, not sampled.
pub struct PeakReading {
    interval: usize,
    count: usize,
    largest: f32,
}

impl PeakReading {
    /// How often a reading is reported, seconds of audio.
    pub const INTERVAL_S: f32 = 0.05;

    pub fn new(sample_rate: f32) -> Self {
        Self {
            interval: ((Self::INTERVAL_S * sample_rate) as usize).max(1),
            count: 0,
            largest: f32::NEG_INFINITY,
        }
    }

    pub fn reset(&mut self) {
        self.count = 0;
        self.largest = f32::NEG_INFINITY;
    }

    /// Adds a block of `samples` samples whose largest value is `value`; returns the largest
    /// since the last report when one is due.
    pub fn add(&mut self, value: f32, samples: usize) -> Option<f32> {
        self.largest = self.largest.max(value);
        self.count += samples;
        if self.count < self.interval {
            return None;
        }
        let largest = self.largest;
        self.reset();
        Some(largest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_text_round_trips_and_the_top_is_infinite() {
        let p = ratio_param("Ratio", 4.0);
        for (text, want) in [
            ("4", 4.0),
            ("4:1", 4.0),
            ("inf", RATIO_INFINITE),
            ("∞:1", RATIO_INFINITE),
            ("1000", RATIO_INFINITE),
        ] {
            let plain = p
                .string_to_normalized_value(text)
                .map(|n| p.preview_plain(n));
            assert_eq!(plain, Some(want), "{text}");
        }
        assert_eq!(p.normalized_value_to_string(1.0, true), "inf:1");
        assert!(p.string_to_normalized_value("fast").is_none());
        assert_eq!(ratio_value(&p), 4.0);
        let top = ratio_param("Ratio", f32::INFINITY);
        assert_eq!(ratio_value(&top), f32::INFINITY);
    }
}
