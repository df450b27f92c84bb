//! Parameters of Lathe Compressor. The `#[id]`s are stable forever. Ranges come from
//! `dsp_core::dynamics::range`; the DSP smooths every change and clamps what a host sends.

use dsp_core::dynamics::{range, CompressorSettings, Detection, StereoMode};
use lathe_ui::format;
use lathe_ui::params::{db_param, hz_param, ms_param, percent_param, ratio_param, ratio_value};
use nice_plug::prelude::*;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectorChoice {
    #[id = "peak"]
    #[name = "Peak"]
    Peak,
    #[id = "rms"]
    #[name = "RMS"]
    Rms,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeChoice {
    #[id = "stereo"]
    #[name = "Stereo"]
    Stereo,
    #[id = "ms"]
    #[name = "Mid/Side"]
    MidSide,
}

#[derive(Params)]
pub struct CompressorParams {
    /// Bypass: the input delayed by the same latency.
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[nested(group = "Compression")]
    pub curve: CurveParams,
    #[nested(group = "Timing")]
    pub timing: TimingParams,
    #[nested(group = "Output")]
    pub output: OutputParams,
    #[nested(group = "Sidechain")]
    pub sidechain: SidechainParams,
    #[nested(group = "Readings")]
    pub readings: ReadingParams,
}

#[derive(Params)]
pub struct CurveParams {
    /// dBFS, −60..0.
    #[id = "threshold"]
    pub threshold: FloatParam,
    /// 1..100, where 100 is ∞:1.
    #[id = "ratio"]
    pub ratio: FloatParam,
    /// Soft-knee width, dB, 0..24.
    #[id = "knee"]
    pub knee: FloatParam,
    /// Largest reduction, dB, 0..60.
    #[id = "range"]
    pub range: FloatParam,
    #[id = "detector"]
    pub detector: EnumParam<DetectorChoice>,
    #[id = "mode"]
    pub mode: EnumParam<ModeChoice>,
    /// 0..1, shown 0–100 %.
    #[id = "link"]
    pub link: FloatParam,
}

#[derive(Params)]
pub struct TimingParams {
    #[id = "attack"]
    pub attack: FloatParam,
    #[id = "release"]
    pub release: FloatParam,
    #[id = "auto_rel"]
    pub auto_release: BoolParam,
    #[id = "hold"]
    pub hold: FloatParam,
    /// Changes the latency.
    #[id = "lookahead"]
    pub lookahead: FloatParam,
}

#[derive(Params)]
pub struct OutputParams {
    #[id = "makeup"]
    pub makeup: FloatParam,
    #[id = "auto_makeup"]
    pub auto_makeup: BoolParam,
    /// 0..1, shown 0–100 %.
    #[id = "mix"]
    pub mix: FloatParam,
}

#[derive(Params)]
pub struct SidechainParams {
    /// Detect from the auxiliary sidechain input.
    #[id = "sc_ext"]
    pub external: BoolParam,
    #[id = "sc_hp"]
    pub highpass: BoolParam,
    #[id = "sc_hp_hz"]
    pub highpass_hz: FloatParam,
    #[id = "sc_lp"]
    pub lowpass: BoolParam,
    #[id = "sc_lp_hz"]
    pub lowpass_hz: FloatParam,
    /// Hear the detector signal.
    #[id = "sc_listen"]
    pub listen: BoolParam,
}

/// Readings reported to the host as read-only output parameters (not saved).
#[derive(Params)]
pub struct ReadingParams {
    /// The most gain reduction of each 50 ms, in dB (0 when the compressor is idle).
    #[id = "out_gain_reduction"]
    pub gain_reduction: FloatParam,
}

impl Default for CompressorParams {
    fn default() -> Self {
        let d = CompressorSettings::default();
        Self {
            bypass: lathe_ui::plugin::bypass_param(),
            curve: CurveParams {
                threshold: db_param("Threshold", d.threshold_db, range::THRESHOLD_DB),
                ratio: ratio_param("Ratio", d.ratio),
                knee: db_param("Knee", d.knee_db, range::KNEE_DB),
                range: db_param("Range", d.range_db, range::RANGE_DB),
                detector: EnumParam::new("Detector", DetectorChoice::Peak),
                mode: EnumParam::new("Stereo Mode", ModeChoice::Stereo),
                link: percent_param("Stereo Link", d.stereo_link, range::STEREO_LINK),
            },
            timing: TimingParams {
                attack: ms_param("Attack", d.attack_ms, range::ATTACK_MS),
                release: ms_param("Release", d.release_ms, range::RELEASE_MS),
                auto_release: BoolParam::new("Auto Release", d.auto_release),
                hold: ms_param("Hold", d.hold_ms, range::HOLD_MS),
                lookahead: FloatParam::new(
                    "Lookahead",
                    d.lookahead_ms,
                    FloatRange::Linear {
                        min: range::LOOKAHEAD_MS.0,
                        max: range::LOOKAHEAD_MS.1,
                    },
                )
                .with_step_size(0.01)
                .with_value_to_string(format::v2s_ms())
                .with_string_to_value(format::s2v_ms()),
            },
            output: OutputParams {
                makeup: db_param("Makeup", d.makeup_db, range::MAKEUP_DB),
                auto_makeup: BoolParam::new("Auto Makeup", d.auto_makeup),
                mix: percent_param("Mix", d.mix, range::MIX),
            },
            sidechain: SidechainParams {
                external: BoolParam::new("External Sidechain", d.external_sidechain),
                highpass: BoolParam::new("SC High-Pass", d.sidechain_highpass),
                highpass_hz: hz_param(
                    "SC High-Pass Freq",
                    d.sidechain_highpass_hz,
                    range::SIDECHAIN_HIGHPASS_HZ,
                ),
                lowpass: BoolParam::new("SC Low-Pass", d.sidechain_lowpass),
                lowpass_hz: hz_param(
                    "SC Low-Pass Freq",
                    d.sidechain_lowpass_hz,
                    range::SIDECHAIN_LOWPASS_HZ,
                ),
                listen: BoolParam::new("SC Listen", d.sidechain_listen),
            },
            readings: ReadingParams {
                gain_reduction: lathe_ui::params::reading_param(
                    "Gain Reduction",
                    "dB",
                    (0.0, 60.0),
                ),
            },
        }
    }
}

impl CompressorParams {
    /// The DSP settings these parameters describe.
    pub fn settings(&self) -> CompressorSettings {
        CompressorSettings {
            threshold_db: self.curve.threshold.value(),
            ratio: ratio_value(&self.curve.ratio),
            knee_db: self.curve.knee.value(),
            attack_ms: self.timing.attack.value(),
            release_ms: self.timing.release.value(),
            auto_release: self.timing.auto_release.value(),
            hold_ms: self.timing.hold.value(),
            range_db: self.curve.range.value(),
            lookahead_ms: self.timing.lookahead.value(),
            makeup_db: self.output.makeup.value(),
            auto_makeup: self.output.auto_makeup.value(),
            mix: self.output.mix.value(),
            stereo_link: self.curve.link.value(),
            detection: match self.curve.detector.value() {
                DetectorChoice::Peak => Detection::Peak,
                DetectorChoice::Rms => Detection::Rms,
            },
            stereo_mode: match self.curve.mode.value() {
                ModeChoice::Stereo => StereoMode::LeftRight,
                ModeChoice::MidSide => StereoMode::MidSide,
            },
            external_sidechain: self.sidechain.external.value(),
            sidechain_highpass: self.sidechain.highpass.value(),
            sidechain_highpass_hz: self.sidechain.highpass_hz.value(),
            sidechain_lowpass: self.sidechain.lowpass.value(),
            sidechain_lowpass_hz: self.sidechain.lowpass_hz.value(),
            sidechain_listen: self.sidechain.listen.value(),
            bypass: self.bypass.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_dsp() {
        assert_eq!(
            CompressorParams::default().settings(),
            CompressorSettings::default()
        );
    }
}
