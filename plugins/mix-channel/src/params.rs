//! Parameters of Lathe Channel. The `#[id]`s are stable forever. Ranges come from
//! `dsp_core::channel::range`; the DSP smooths every change and clamps what a host sends.

use dsp_core::channel::{range, ChannelSettings, PanLaw, PanMode};
use lathe_ui::format;
use lathe_ui::params::{db_param, hz_param, pan_param, percent_param};
use nice_plug::prelude::*;
use std::sync::Arc;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LawChoice {
    #[id = "0db"]
    #[name = "0 dB"]
    ZeroDb,
    #[id = "m3db"]
    #[name = "-3 dB"]
    Minus3Db,
    #[id = "m4_5db"]
    #[name = "-4.5 dB"]
    Minus4_5Db,
    #[id = "m6db"]
    #[name = "-6 dB"]
    Minus6Db,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeChoice {
    #[id = "balance"]
    #[name = "Balance"]
    Balance,
    #[id = "pan"]
    #[name = "Pan"]
    Pan,
}

#[derive(Params)]
pub struct ChannelParams {
    /// Bypass: crossfades to the untouched input (zero latency either way).
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[nested(group = "Gain")]
    pub gain: GainParams,
    #[nested(group = "Pan")]
    pub pan: PanParams,
    #[nested(group = "Stereo")]
    pub stereo: StereoParams,
    #[nested(group = "Filters")]
    pub filters: FilterParams,
}

#[derive(Params)]
pub struct GainParams {
    /// dB, −24..24.
    #[id = "in_gain"]
    pub input_gain: FloatParam,
    /// dB, −inf..24.
    #[id = "volume"]
    pub volume: FloatParam,
    #[id = "mute"]
    pub mute: BoolParam,
}

#[derive(Params)]
pub struct PanParams {
    /// −1 (left) .. 1 (right).
    #[id = "pan"]
    pub position: FloatParam,
    /// Balance (stereo sources, 0 dB centre) or pan (the law's gains).
    #[id = "pan_mode"]
    pub mode: EnumParam<ModeChoice>,
    #[id = "pan_law"]
    pub law: EnumParam<LawChoice>,
}

#[derive(Params)]
pub struct StereoParams {
    /// 0..2, shown 0–200 %.
    #[id = "width"]
    pub width: FloatParam,
    #[id = "mono"]
    pub mono: BoolParam,
    #[id = "swap"]
    pub swap: BoolParam,
    #[id = "invert_l"]
    pub invert_left: BoolParam,
    #[id = "invert_r"]
    pub invert_right: BoolParam,
}

#[derive(Params)]
pub struct FilterParams {
    #[id = "low_cut"]
    pub low_cut: BoolParam,
    #[id = "low_cut_hz"]
    pub low_cut_hz: FloatParam,
    /// Butterworth order 1–8 (6–48 dB/oct).
    #[id = "low_cut_slope"]
    pub low_cut_slope: IntParam,
    #[id = "high_cut"]
    pub high_cut: BoolParam,
    #[id = "high_cut_hz"]
    pub high_cut_hz: FloatParam,
    #[id = "high_cut_slope"]
    pub high_cut_slope: IntParam,
    #[id = "dc_block"]
    pub dc_block: BoolParam,
}

/// A slope as a Butterworth order 1–8, shown and typed in dB/oct ("24 dB/oct", "24").
fn slope_param(name: &str, default_db: u32) -> IntParam {
    IntParam::new(
        name,
        (default_db / 6) as i32,
        IntRange::Linear {
            min: (range::SLOPE_DB.0 / 6) as i32,
            max: (range::SLOPE_DB.1 / 6) as i32,
        },
    )
    .with_value_to_string(Arc::new(|order| format!("{} dB/oct", order * 6)))
    .with_string_to_value(Arc::new(|text| {
        let (value, unit) = format::parse_number_and_unit(text)?;
        matches!(unit.as_str(), "" | "db" | "db/oct" | "db/octave")
            .then(|| (value / 6.0).round() as i32)
    }))
}

impl Default for ChannelParams {
    fn default() -> Self {
        let d = ChannelSettings::default();
        let floor = range::VOLUME_DB.0;
        Self {
            bypass: lathe_ui::plugin::bypass_param(),
            gain: GainParams {
                input_gain: db_param("Input Gain", d.input_gain_db, range::INPUT_GAIN_DB),
                volume: db_param("Volume", d.volume_db, range::VOLUME_DB)
                    .with_value_to_string(Arc::new(move |db| {
                        if db <= floor {
                            "-inf dB".to_string()
                        } else {
                            format!("{db:.2} dB")
                        }
                    }))
                    .with_string_to_value(Arc::new(move |text| {
                        if text.trim().to_lowercase().starts_with("-inf") {
                            return Some(floor);
                        }
                        format::s2v_db()(text)
                    })),
                mute: BoolParam::new("Mute", d.mute),
            },
            pan: PanParams {
                position: pan_param("Pan", d.pan),
                mode: EnumParam::new("Pan Mode", ModeChoice::Balance),
                law: EnumParam::new("Pan Law", LawChoice::Minus3Db),
            },
            stereo: StereoParams {
                width: percent_param("Width", d.width, range::WIDTH),
                mono: BoolParam::new("Mono", d.mono),
                swap: BoolParam::new("Swap L/R", d.swap),
                invert_left: BoolParam::new("Invert Left", d.invert_left),
                invert_right: BoolParam::new("Invert Right", d.invert_right),
            },
            filters: FilterParams {
                low_cut: BoolParam::new("Low Cut", d.low_cut),
                low_cut_hz: hz_param("Low Cut Freq", d.low_cut_hz, range::LOW_CUT_HZ),
                low_cut_slope: slope_param("Low Cut Slope", d.low_cut_slope_db),
                high_cut: BoolParam::new("High Cut", d.high_cut),
                high_cut_hz: hz_param("High Cut Freq", d.high_cut_hz, range::HIGH_CUT_HZ),
                high_cut_slope: slope_param("High Cut Slope", d.high_cut_slope_db),
                dc_block: BoolParam::new("DC Block", d.dc_block),
            },
        }
    }
}

impl ChannelParams {
    /// The DSP settings these parameters describe.
    pub fn settings(&self) -> ChannelSettings {
        let f = &self.filters;
        ChannelSettings {
            input_gain_db: self.gain.input_gain.value(),
            volume_db: self.gain.volume.value(),
            pan: self.pan.position.value(),
            pan_law: match self.pan.law.value() {
                LawChoice::ZeroDb => PanLaw::ZeroDb,
                LawChoice::Minus3Db => PanLaw::Minus3Db,
                LawChoice::Minus4_5Db => PanLaw::Minus4_5Db,
                LawChoice::Minus6Db => PanLaw::Minus6Db,
            },
            pan_mode: match self.pan.mode.value() {
                ModeChoice::Balance => PanMode::Balance,
                ModeChoice::Pan => PanMode::Pan,
            },
            invert_left: self.stereo.invert_left.value(),
            invert_right: self.stereo.invert_right.value(),
            swap: self.stereo.swap.value(),
            mono: self.stereo.mono.value(),
            width: self.stereo.width.value(),
            low_cut: f.low_cut.value(),
            low_cut_hz: f.low_cut_hz.value(),
            low_cut_slope_db: (f.low_cut_slope.value().max(1) * 6) as u32,
            high_cut: f.high_cut.value(),
            high_cut_hz: f.high_cut_hz.value(),
            high_cut_slope_db: (f.high_cut_slope.value().max(1) * 6) as u32,
            dc_block: f.dc_block.value(),
            mute: self.gain.mute.value(),
            bypass: self.bypass.value(),
        }
    }
}
