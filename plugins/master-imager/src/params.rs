//! Parameters of Lathe Imager. The `#[id]`s are stable forever. Ranges come from
//! `dsp_core::imager::range`; the DSP smooths every change and clamps what a host sends.

use dsp_core::imager::{range, ImagerSettings};
use lathe_ui::params::{hz_param, pan_param, percent_param};
use nice_plug::prelude::*;

#[derive(Params)]
pub struct ImagerParams {
    /// Bypass: crossfades to the untouched input (zero latency either way).
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[nested(group = "Bands")]
    pub bands: BandParams,
    #[nested(group = "Stereo")]
    pub stereo: StereoParams,
}

#[derive(Params)]
pub struct BandParams {
    /// Number of bands, 1–4.
    #[id = "bands"]
    pub count: IntParam,
    /// Split between bands 1 and 2, Hz.
    #[id = "xover1"]
    pub crossover1: FloatParam,
    /// Split between bands 2 and 3, Hz.
    #[id = "xover2"]
    pub crossover2: FloatParam,
    /// Split between bands 3 and 4, Hz.
    #[id = "xover3"]
    pub crossover3: FloatParam,
    /// Width of each band, 0..2 (shown 0–200 %).
    #[id = "width1"]
    pub width1: FloatParam,
    #[id = "width2"]
    pub width2: FloatParam,
    #[id = "width3"]
    pub width3: FloatParam,
    #[id = "width4"]
    pub width4: FloatParam,
}

#[derive(Params)]
pub struct StereoParams {
    /// Mono below `bass_mono_hz`.
    #[id = "bass_mono"]
    pub bass_mono: BoolParam,
    #[id = "bass_mono_hz"]
    pub bass_mono_hz: FloatParam,
    /// −1 (left only) .. 1 (right only).
    #[id = "balance"]
    pub balance: FloatParam,
    /// Output summed to mono, for listening.
    #[id = "mono_check"]
    pub mono_check: BoolParam,
}

impl Default for ImagerParams {
    fn default() -> Self {
        let d = ImagerSettings::default();
        let width = |n: usize| percent_param(&format!("Width {n}"), 1.0, range::WIDTH);
        Self {
            bypass: lathe_ui::plugin::bypass_param(),
            bands: BandParams {
                count: IntParam::new("Bands", d.bands as i32, IntRange::Linear { min: 1, max: 4 }),
                crossover1: hz_param("Crossover 1", d.crossovers_hz[0], range::CROSSOVER_HZ),
                crossover2: hz_param("Crossover 2", d.crossovers_hz[1], range::CROSSOVER_HZ),
                crossover3: hz_param("Crossover 3", d.crossovers_hz[2], range::CROSSOVER_HZ),
                width1: width(1),
                width2: width(2),
                width3: width(3),
                width4: width(4),
            },
            stereo: StereoParams {
                bass_mono: BoolParam::new("Bass Mono", d.bass_mono),
                bass_mono_hz: hz_param("Bass Mono Below", d.bass_mono_hz, range::BASS_MONO_HZ),
                balance: pan_param("Balance", d.balance),
                mono_check: BoolParam::new("Mono Check", d.mono_check),
            },
        }
    }
}

impl ImagerParams {
    pub fn widths(&self) -> [&FloatParam; 4] {
        let b = &self.bands;
        [&b.width1, &b.width2, &b.width3, &b.width4]
    }

    pub fn crossovers(&self) -> [&FloatParam; 3] {
        let b = &self.bands;
        [&b.crossover1, &b.crossover2, &b.crossover3]
    }

    /// The DSP settings these parameters describe.
    pub fn settings(&self) -> ImagerSettings {
        ImagerSettings {
            bands: self.bands.count.value().clamp(1, 4) as usize,
            crossovers_hz: self.crossovers().map(|p| p.value()),
            widths: self.widths().map(|p| p.value()),
            bass_mono: self.stereo.bass_mono.value(),
            bass_mono_hz: self.stereo.bass_mono_hz.value(),
            balance: self.stereo.balance.value(),
            mono_check: self.stereo.mono_check.value(),
            bypass: self.bypass.value(),
        }
    }
}
