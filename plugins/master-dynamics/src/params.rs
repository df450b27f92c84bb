//! Parameters of Lathe Master Dynamics. The `#[id]`s are stable forever; band parameters carry
//! the band number as a suffix (`thr_1` … `thr_4`). Ranges come from dsp-core; the DSP smooths
//! every change and clamps what a host sends.

use dsp_core::crossover::{MAX_BANDS, MAX_SPLITS};
use dsp_core::dynamics::{range as comp, Detection, StereoMode};
use dsp_core::multiband::{range, BandSettings, MultibandSettings};
use lathe_ui::params::{db_param, hz_param, ms_param, percent_param, ratio_param, ratio_value};
use nice_plug::prelude::*;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeChoice {
    #[id = "stereo"]
    #[name = "Stereo"]
    Stereo,
    #[id = "ms"]
    #[name = "Mid/Side"]
    MidSide,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectorChoice {
    #[id = "peak"]
    #[name = "Peak"]
    Peak,
    #[id = "rms"]
    #[name = "RMS"]
    Rms,
}

#[derive(Params)]
pub struct MasterDynamicsParams {
    /// Bypass: the input unchanged (zero latency either way).
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[nested(group = "Global")]
    pub global: GlobalParams,
    #[nested(group = "Crossovers")]
    pub crossovers: CrossoverParams,
    #[nested(array, group = "Band")]
    pub band: [BandParams; MAX_BANDS],
    #[nested(group = "Readings")]
    pub readings: ReadingParams,
}

/// Readings reported to the host as read-only output parameters (not saved): each band's most
/// gain reduction of each 50 ms, in dB (0 for a band not in use).
#[derive(Params)]
pub struct ReadingParams {
    #[id = "out_reduction_1"]
    pub reduction_1: FloatParam,
    #[id = "out_reduction_2"]
    pub reduction_2: FloatParam,
    #[id = "out_reduction_3"]
    pub reduction_3: FloatParam,
    #[id = "out_reduction_4"]
    pub reduction_4: FloatParam,
}

impl ReadingParams {
    /// The readings, band by band.
    pub fn reductions(&self) -> [&FloatParam; MAX_BANDS] {
        [
            &self.reduction_1,
            &self.reduction_2,
            &self.reduction_3,
            &self.reduction_4,
        ]
    }
}

#[derive(Params)]
pub struct GlobalParams {
    /// 1 (bus compressor) .. 4.
    #[id = "bands"]
    pub bands: IntParam,
    #[id = "mode"]
    pub mode: EnumParam<ModeChoice>,
    #[id = "detector"]
    pub detector: EnumParam<DetectorChoice>,
    /// 0..1, shown 0–100 %.
    #[id = "mix"]
    pub mix: FloatParam,
    #[id = "output"]
    pub output: FloatParam,
}

#[derive(Params)]
pub struct CrossoverParams {
    #[id = "xover1"]
    pub xover1: FloatParam,
    #[id = "xover2"]
    pub xover2: FloatParam,
    #[id = "xover3"]
    pub xover3: FloatParam,
}

#[derive(Params)]
pub struct BandParams {
    #[id = "thr"]
    pub threshold: FloatParam,
    #[id = "ratio"]
    pub ratio: FloatParam,
    #[id = "knee"]
    pub knee: FloatParam,
    #[id = "att"]
    pub attack: FloatParam,
    #[id = "rel"]
    pub release: FloatParam,
    #[id = "makeup"]
    pub makeup: FloatParam,
    #[id = "band_byp"]
    pub bypass: BoolParam,
    #[id = "solo"]
    pub solo: BoolParam,
}

impl BandParams {
    fn new(band: usize) -> Self {
        let d = BandSettings::default();
        let n = band + 1;
        Self {
            threshold: db_param(
                &format!("Threshold {n}"),
                d.threshold_db,
                comp::THRESHOLD_DB,
            ),
            ratio: ratio_param(format!("Ratio {n}"), d.ratio),
            knee: db_param(&format!("Knee {n}"), d.knee_db, comp::KNEE_DB),
            attack: ms_param(&format!("Attack {n}"), d.attack_ms, comp::ATTACK_MS),
            release: ms_param(&format!("Release {n}"), d.release_ms, comp::RELEASE_MS),
            makeup: db_param(&format!("Makeup {n}"), d.makeup_db, comp::MAKEUP_DB),
            bypass: BoolParam::new(format!("Bypass {n}"), d.bypass),
            solo: BoolParam::new(format!("Solo {n}"), d.solo),
        }
    }

    fn settings(&self) -> BandSettings {
        BandSettings {
            threshold_db: self.threshold.value(),
            ratio: ratio_value(&self.ratio),
            knee_db: self.knee.value(),
            attack_ms: self.attack.value(),
            release_ms: self.release.value(),
            makeup_db: self.makeup.value(),
            bypass: self.bypass.value(),
            solo: self.solo.value(),
        }
    }
}

impl Default for MasterDynamicsParams {
    fn default() -> Self {
        let d = MultibandSettings::default();
        let xover = |n: usize| {
            hz_param(
                &format!("Crossover {}", n + 1),
                d.crossovers_hz[n],
                range::CROSSOVER_HZ,
            )
        };
        Self {
            bypass: lathe_ui::plugin::bypass_param(),
            global: GlobalParams {
                bands: IntParam::new(
                    "Bands",
                    d.bands as i32,
                    IntRange::Linear {
                        min: range::BANDS.0 as i32,
                        max: range::BANDS.1 as i32,
                    },
                ),
                mode: EnumParam::new("Stereo Mode", ModeChoice::Stereo),
                detector: EnumParam::new("Detector", DetectorChoice::Rms),
                mix: percent_param("Mix", d.mix, comp::MIX),
                output: db_param("Output", d.output_db, range::OUTPUT_DB),
            },
            crossovers: CrossoverParams {
                xover1: xover(0),
                xover2: xover(1),
                xover3: xover(2),
            },
            band: std::array::from_fn(BandParams::new),
            readings: {
                let reading = |n: usize| {
                    lathe_ui::params::reading_param(
                        &format!("Band {n} Reduction"),
                        "dB",
                        (0.0, 60.0),
                    )
                };
                ReadingParams {
                    reduction_1: reading(1),
                    reduction_2: reading(2),
                    reduction_3: reading(3),
                    reduction_4: reading(4),
                }
            },
        }
    }
}

impl MasterDynamicsParams {
    /// The DSP settings these parameters describe.
    pub fn settings(&self) -> MultibandSettings {
        let x = &self.crossovers;
        let crossovers_hz: [f32; MAX_SPLITS] =
            [x.xover1.value(), x.xover2.value(), x.xover3.value()];
        MultibandSettings {
            bands: self.global.bands.value().clamp(1, MAX_BANDS as i32) as usize,
            crossovers_hz,
            band: std::array::from_fn(|b| self.band[b].settings()),
            detection: match self.global.detector.value() {
                DetectorChoice::Peak => Detection::Peak,
                DetectorChoice::Rms => Detection::Rms,
            },
            stereo_mode: match self.global.mode.value() {
                ModeChoice::Stereo => StereoMode::LeftRight,
                ModeChoice::MidSide => StereoMode::MidSide,
            },
            mix: self.global.mix.value(),
            output_db: self.global.output.value(),
            bypass: self.bypass.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_dsp_and_ids_are_suffixed() {
        let params = MasterDynamicsParams::default();
        assert_eq!(params.settings(), MultibandSettings::default());
        let ids: Vec<String> = params
            .param_map()
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        for id in ["thr_1", "thr_4", "solo_2", "band_byp_3", "xover3", "bands"] {
            assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
        }
    }
}
