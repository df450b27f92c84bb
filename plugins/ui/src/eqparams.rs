//! Parameter pieces both Lathe EQs share: cut slopes, cut shapes and the `Q` parameter.

use dsp_core::eq::CutShape;
use nice_plug::prelude::*;
use std::sync::Arc;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlopeChoice {
    #[id = "6"]
    #[name = "6 dB/oct"]
    Db6,
    #[id = "12"]
    #[name = "12 dB/oct"]
    Db12,
    #[id = "18"]
    #[name = "18 dB/oct"]
    Db18,
    #[id = "24"]
    #[name = "24 dB/oct"]
    Db24,
    #[id = "30"]
    #[name = "30 dB/oct"]
    Db30,
    #[id = "36"]
    #[name = "36 dB/oct"]
    Db36,
    #[id = "42"]
    #[name = "42 dB/oct"]
    Db42,
    #[id = "48"]
    #[name = "48 dB/oct"]
    Db48,
}

impl SlopeChoice {
    pub fn db_per_octave(self) -> u32 {
        6 * (self as u32 + 1)
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeChoice {
    #[id = "butterworth"]
    #[name = "Butterworth"]
    Butterworth,
    #[id = "linkwitz_riley"]
    #[name = "Linkwitz-Riley"]
    LinkwitzRiley,
}

impl ShapeChoice {
    pub fn shape(self) -> CutShape {
        match self {
            Self::Butterworth => CutShape::Butterworth,
            Self::LinkwitzRiley => CutShape::LinkwitzRiley,
        }
    }
}

/// A `Q` parameter, logarithmic ("0.71", "4").
pub fn q_param(name: &str, default: f32, (min, max): (f32, f32)) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(-2.0),
        },
    )
    .with_step_size(0.01)
    .with_value_to_string(Arc::new(|q| format!("{q:.2}")))
    .with_string_to_value(Arc::new(|text| {
        text.trim()
            .trim_start_matches(['Q', 'q'])
            .trim()
            .parse()
            .ok()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_text_entry_and_slopes() {
        let q = q_param("Q", 1.0, (0.1, 18.0));
        assert_eq!(
            q.string_to_normalized_value("4"),
            Some(q.preview_normalized(4.0))
        );
        assert_eq!(
            q.string_to_normalized_value("Q 0.5"),
            Some(q.preview_normalized(0.5))
        );
        assert_eq!(SlopeChoice::Db48.db_per_octave(), 48);
        assert_eq!(SlopeChoice::Db6.db_per_octave(), 6);
    }
}
