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
