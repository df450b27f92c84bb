//! Parameters of Lathe Reverb. The `#[id]`s are stable forever. Ranges come from
//! `dsp_core::reverb::range`; the DSP smooths every change and clamps what a host sends.

use dsp_core::reverb::{range, ReverbSettings};
use lathe_ui::format;
use lathe_ui::params::{db_param, hz_param, ms_param, percent_param};
use nice_plug::prelude::*;
use std::sync::Arc;

/// Predelay as a note value synced to the host tempo, or free in ms.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncChoice {
    #[id = "off"]
    #[name = "Off (ms)"]
    Off,
    #[id = "1_64"]
    #[name = "1/64"]
    N64,
    #[id = "1_32"]
    #[name = "1/32"]
    N32,
    #[id = "1_16"]
    #[name = "1/16"]
    N16,
    #[id = "1_8"]
    #[name = "1/8"]
    N8,
    #[id = "1_4"]
    #[name = "1/4"]
    N4,
}

impl SyncChoice {
    /// The note length in quarter notes, if synced.
    pub fn quarters(self) -> Option<f64> {
        match self {
            SyncChoice::Off => None,
            SyncChoice::N64 => Some(1.0 / 16.0),
            SyncChoice::N32 => Some(1.0 / 8.0),
            SyncChoice::N16 => Some(0.25),
            SyncChoice::N8 => Some(0.5),
            SyncChoice::N4 => Some(1.0),
        }
    }
}

#[derive(Params)]
pub struct ReverbParams {
    /// Bypass: the wet signal fades out (zero latency either way).
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[nested(group = "Time")]
    pub time: TimeParams,
    #[nested(group = "Decay Bands")]
    pub bands: BandParams,
    #[nested(group = "Character")]
    pub character: CharacterParams,
    #[nested(group = "Output")]
    pub output: OutputParams,
}

#[derive(Params)]
pub struct TimeParams {
    #[id = "predelay"]
    pub predelay: FloatParam,
    #[id = "predelay_sync"]
    pub predelay_sync: EnumParam<SyncChoice>,
    /// 0..1, shown in percent.
    #[id = "size"]
    pub size: FloatParam,
    /// RT60 at mid frequencies, seconds.
    #[id = "decay"]
    pub decay: FloatParam,
    #[id = "freeze"]
    pub freeze: BoolParam,
}

#[derive(Params)]
pub struct BandParams {
    #[id = "low_mult"]
    pub low_mult: FloatParam,
    #[id = "low_xover"]
    pub low_xover: FloatParam,
    #[id = "high_mult"]
    pub high_mult: FloatParam,
    #[id = "high_xover"]
    pub high_xover: FloatParam,
}

#[derive(Params)]
pub struct CharacterParams {
    #[id = "damping"]
    pub damping: FloatParam,
    /// 0 = early reflections only, 1 = late tail only.
    #[id = "early_late"]
    pub early_late: FloatParam,
    #[id = "diffusion"]
    pub diffusion: FloatParam,
    #[id = "mod_depth"]
    pub mod_depth: FloatParam,
    #[id = "mod_rate"]
    pub mod_rate: FloatParam,
}

#[derive(Params)]
pub struct OutputParams {
    #[id = "width"]
    pub width: FloatParam,
    #[id = "wet_low_cut"]
    pub wet_low_cut: FloatParam,
    #[id = "wet_high_cut"]
    pub wet_high_cut: FloatParam,
    #[id = "mix"]
    pub mix: FloatParam,
    #[id = "output"]
    pub output: FloatParam,
}

/// A decay time in seconds, skewed towards short decays ("2.5 s", "800 ms").
fn seconds_param(name: &str, default: f32, (min, max): (f32, f32)) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(-1.5),
        },
    )
    .with_value_to_string(Arc::new(|s| format!("{s:.2} s")))
    .with_string_to_value(Arc::new(|text| {
        let (value, unit) = format::parse_number_and_unit(text)?;
        match unit.as_str() {
            "" | "s" | "sec" => Some(value),
            "ms" => Some(value / 1000.0),
            _ => None,
        }
    }))
}

/// A decay multiplier ("×1.50"; typed as "1.5" or "x1.5").
fn multiplier_param(name: &str, default: f32, (min, max): (f32, f32)) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(-1.0),
        },
    )
    .with_value_to_string(Arc::new(|m| format!("×{m:.2}")))
    .with_string_to_value(Arc::new(|text| {
        let text = text.trim().trim_start_matches(['x', 'X', '×']);
        let (value, unit) = format::parse_number_and_unit(text)?;
        matches!(unit.as_str(), "" | "x").then_some(value)
    }))
}

impl Default for ReverbParams {
    fn default() -> Self {
        let d = ReverbSettings::default();
        Self {
            bypass: lathe_ui::plugin::bypass_param(),
            time: TimeParams {
                predelay: ms_param("Predelay", d.predelay_ms, range::PREDELAY_MS),
                predelay_sync: EnumParam::new("Predelay Sync", SyncChoice::Off),
                size: percent_param("Size", d.size, range::SIZE),
                decay: seconds_param("Decay", d.decay_s, range::DECAY_S),
                freeze: BoolParam::new("Freeze", d.freeze),
            },
            bands: BandParams {
                low_mult: multiplier_param("Low Decay", d.low_mult, range::LOW_MULT),
                low_xover: hz_param("Low Crossover", d.low_xover_hz, range::LOW_XOVER_HZ),
                high_mult: multiplier_param("High Decay", d.high_mult, range::HIGH_MULT),
                high_xover: hz_param("High Crossover", d.high_xover_hz, range::HIGH_XOVER_HZ),
            },
            character: CharacterParams {
                damping: percent_param("Damping", d.damping, range::UNIT),
                early_late: percent_param("Early/Late", d.early_late, range::UNIT),
                diffusion: percent_param("Diffusion", d.diffusion, range::UNIT),
                mod_depth: percent_param("Mod Depth", d.mod_depth, range::UNIT),
                mod_rate: hz_param("Mod Rate", d.mod_rate_hz, range::MOD_RATE_HZ)
                    // Slow rates need the decimals ("0.50 Hz").
                    .with_value_to_string(Arc::new(|hz| format!("{hz:.2} Hz"))),
            },
            output: OutputParams {
                width: percent_param("Width", d.width, range::WIDTH),
                wet_low_cut: hz_param("Wet Low Cut", d.wet_low_cut_hz, range::WET_LOW_CUT_HZ),
                wet_high_cut: hz_param("Wet High Cut", d.wet_high_cut_hz, range::WET_HIGH_CUT_HZ),
                mix: percent_param("Mix", d.mix, range::UNIT),
                output: db_param("Output", d.output_db, range::OUTPUT_DB),
            },
        }
    }
}

impl ReverbParams {
    /// The DSP settings these parameters describe, with a synced predelay worked out at
    /// `tempo` (beats per minute, if the host gives one).
    pub fn settings(&self, tempo: Option<f64>) -> ReverbSettings {
        let predelay_ms = predelay_ms(
            self.time.predelay_sync.value(),
            self.time.predelay.value(),
            tempo,
        );
        ReverbSettings {
            predelay_ms,
            size: self.time.size.value(),
            decay_s: self.time.decay.value(),
            low_mult: self.bands.low_mult.value(),
            low_xover_hz: self.bands.low_xover.value(),
            high_mult: self.bands.high_mult.value(),
            high_xover_hz: self.bands.high_xover.value(),
            damping: self.character.damping.value(),
            early_late: self.character.early_late.value(),
            diffusion: self.character.diffusion.value(),
            mod_depth: self.character.mod_depth.value(),
            mod_rate_hz: self.character.mod_rate.value(),
            width: self.output.width.value(),
            wet_low_cut_hz: self.output.wet_low_cut.value(),
            wet_high_cut_hz: self.output.wet_high_cut.value(),
            mix: self.output.mix.value(),
            output_db: self.output.output.value(),
            freeze: self.time.freeze.value(),
            bypass: self.bypass.value(),
        }
    }
}

/// The predelay in ms: the note value at `tempo` (bpm) when synced and the host gives a tempo,
/// otherwise `free_ms`.
pub fn predelay_ms(sync: SyncChoice, free_ms: f32, tempo: Option<f64>) -> f32 {
    match (sync.quarters(), tempo) {
        (Some(quarters), Some(bpm)) if bpm > 0.0 => (quarters * 60_000.0 / bpm) as f32,
        _ => free_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_dsp_and_text_entry_parses() {
        let p = ReverbParams::default();
        assert_eq!(p.settings(None), ReverbSettings::default());
        assert_eq!(
            p.time.decay.string_to_normalized_value("2500 ms"),
            p.time.decay.string_to_normalized_value("2.5 s")
        );
        let mult = &p.bands.low_mult;
        assert_eq!(
            mult.string_to_normalized_value("x1.5"),
            mult.string_to_normalized_value("1.5")
        );
        assert!(mult.string_to_normalized_value("1.5").is_some());
    }

    #[test]
    fn synced_predelay_follows_the_tempo() {
        assert!((predelay_ms(SyncChoice::N8, 10.0, Some(120.0)) - 250.0).abs() < 1e-3);
        assert!((predelay_ms(SyncChoice::N16, 10.0, Some(60.0)) - 250.0).abs() < 1e-3);
        assert!((predelay_ms(SyncChoice::N4, 10.0, Some(100.0)) - 600.0).abs() < 1e-3);
        // No tempo, or not synced: the ms value.
        assert_eq!(predelay_ms(SyncChoice::N8, 10.0, None), 10.0);
        assert_eq!(predelay_ms(SyncChoice::Off, 10.0, Some(120.0)), 10.0);
    }
}
