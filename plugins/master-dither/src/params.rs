//! Parameters of Lathe Dither. The `#[id]`s are stable forever.

use dsp_core::dither::{DitherKind, DitherSettings, NoiseShaping};
use nice_plug::prelude::*;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bits {
    #[id = "8"]
    #[name = "8 bit"]
    B8,
    #[id = "12"]
    #[name = "12 bit"]
    B12,
    #[id = "16"]
    #[name = "16 bit"]
    B16,
    #[id = "20"]
    #[name = "20 bit"]
    B20,
    #[id = "24"]
    #[name = "24 bit"]
    B24,
}

impl Bits {
    pub fn count(self) -> u32 {
        match self {
            Bits::B8 => 8,
            Bits::B12 => 12,
            Bits::B16 => 16,
            Bits::B20 => 20,
            Bits::B24 => 24,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    #[id = "rpdf"]
    #[name = "RPDF"]
    Rpdf,
    #[id = "tpdf"]
    #[name = "TPDF"]
    Tpdf,
    #[id = "hp_tpdf"]
    #[name = "High-pass TPDF"]
    HighPassTpdf,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shaping {
    #[id = "none"]
    #[name = "None"]
    None,
    #[id = "first"]
    #[name = "First order"]
    FirstOrder,
    #[id = "f_weighted"]
    #[name = "F-weighted"]
    FWeighted,
    #[id = "mod_e"]
    #[name = "Modified E-weighted"]
    ModifiedEWeighted,
}

impl Shaping {
    pub fn dsp(self) -> NoiseShaping {
        match self {
            Shaping::None => NoiseShaping::None,
            Shaping::FirstOrder => NoiseShaping::FirstOrder,
            Shaping::FWeighted => NoiseShaping::FWeighted,
            Shaping::ModifiedEWeighted => NoiseShaping::ModifiedEWeighted,
        }
    }
}

#[derive(Params)]
pub struct DitherParams {
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[nested(group = "Dither")]
    pub dither: DitherGroup,
}

#[derive(Params)]
pub struct DitherGroup {
    /// Target word length.
    #[id = "bits"]
    pub bits: EnumParam<Bits>,
    /// Dither probability density.
    #[id = "type"]
    pub kind: EnumParam<Kind>,
    /// Noise shaping.
    #[id = "shaping"]
    pub shaping: EnumParam<Shaping>,
    /// Output exact silence after 250 ms of silence (input under 1/256 LSB).
    #[id = "auto_blank"]
    pub auto_blank: BoolParam,
}

impl Default for DitherParams {
    fn default() -> Self {
        Self {
            bypass: lathe_ui::plugin::bypass_param(),
            dither: DitherGroup {
                bits: EnumParam::new("Bits", Bits::B16),
                kind: EnumParam::new("Dither", Kind::Tpdf),
                shaping: EnumParam::new("Noise Shaping", Shaping::None),
                auto_blank: BoolParam::new("Auto-Blank", true),
            },
        }
    }
}

impl DitherParams {
    pub fn settings(&self) -> DitherSettings {
        DitherSettings {
            bits: self.dither.bits.value().count(),
            kind: match self.dither.kind.value() {
                Kind::Rpdf => DitherKind::Rpdf,
                Kind::Tpdf => DitherKind::Tpdf,
                Kind::HighPassTpdf => DitherKind::HighPassTpdf,
            },
            shaping: self.dither.shaping.value().dsp(),
            auto_blank: self.dither.auto_blank.value(),
        }
    }
}
