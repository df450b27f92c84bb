//! Parameters of Lathe Limiter. The `#[id]`s are stable forever: hosts store automation and state
//! under them. Ranges come from `dsp_core::limiter::range`, so the DSP and the host agree.
//! Smoothing is done by the DSP (10 ms), which also clamps whatever a host sends.

use dsp_core::limiter::range;
use dsp_core::oversampling::Oversampling;
use dsp_core::LimiterSettings;
use lathe_ui::format;
use lathe_ui::params::{db_param, ms_param};
use nice_plug::prelude::*;

/// Oversampling of the true-peak detection, as offered to the user.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OversamplingChoice {
    #[id = "x4"]
    #[name = "4x (BS.1770)"]
    X4,
    #[id = "x8"]
    #[name = "8x"]
    X8,
    #[id = "x16"]
    #[name = "16x"]
    X16,
}

#[derive(Params)]
pub struct LimiterParams {
    /// Bypass: the input delayed by the same latency (hosts map their bypass button to it).
    #[id = "bypass"]
    pub bypass: BoolParam,

    #[nested(group = "Gain")]
    pub gain: GainParams,
    #[nested(group = "Dynamics")]
    pub dynamics: DynamicsParams,
    #[nested(group = "Detection")]
    pub detection: DetectionParams,
    #[nested(group = "Monitoring")]
    pub monitoring: MonitoringParams,
    #[nested(group = "Readings")]
    pub readings: ReadingParams,
}

#[derive(Params)]
pub struct GainParams {
    /// Drive into the limiter, dB.
    #[id = "in_gain"]
    pub input_gain: FloatParam,
    /// Output ceiling, dBTP (dBFS sample peak when true peak is off).
    #[id = "ceiling"]
    pub ceiling: FloatParam,
    /// Gain after limiting, dB (never above the ceiling).
    #[id = "out_trim"]
    pub output_trim: FloatParam,
}

#[derive(Params)]
pub struct DynamicsParams {
    /// Release time constant, ms.
    #[id = "release"]
    pub release: FloatParam,
    /// Program-dependent two-stage release.
    #[id = "auto_rel"]
    pub auto_release: BoolParam,
    /// Lookahead (attack), ms. Changing it changes the latency.
    #[id = "lookahead"]
    pub lookahead: FloatParam,
    /// Stereo link, 0..1 (shown in %).
    #[id = "link"]
    pub stereo_link: FloatParam,
}

#[derive(Params)]
pub struct DetectionParams {
    /// True-peak (oversampled) detection; off = sample peak. Changes the latency.
    #[id = "true_peak"]
    pub true_peak: BoolParam,
    /// Oversampling of the detection at 44.1/48 kHz. Changes the latency.
    #[id = "oversampling"]
    pub oversampling: EnumParam<OversamplingChoice>,
}

/// Readings reported to the host as read-only output parameters (not saved).
#[derive(Params)]
pub struct ReadingParams {
    /// The most gain reduction of each 50 ms, in dB (0 when the limiter is idle).
    #[id = "out_gain_reduction"]
    pub gain_reduction: FloatParam,
}

#[derive(Params)]
pub struct MonitoringParams {
    /// Unity-gain listen: the output matched to the input loudness.
    #[id = "listen"]
    pub listen: BoolParam,
}

impl Default for LimiterParams {
    fn default() -> Self {
        let defaults = LimiterSettings::default();
        Self {
            bypass: lathe_ui::plugin::bypass_param(),
            gain: GainParams {
                input_gain: db_param("Input Gain", defaults.input_gain_db, range::INPUT_GAIN_DB),
                ceiling: db_param("Ceiling", defaults.ceiling_db, range::CEILING_DB)
                    .with_value_to_string(std::sync::Arc::new(|db| format!("{db:.2} dBTP"))),
                output_trim: db_param(
                    "Output Trim",
                    defaults.output_trim_db,
                    range::OUTPUT_TRIM_DB,
                ),
            },
            dynamics: DynamicsParams {
                release: ms_param("Release", defaults.release_ms, range::RELEASE_MS),
                auto_release: BoolParam::new("Auto Release", defaults.auto_release),
                lookahead: ms_param("Lookahead", defaults.lookahead_ms, range::LOOKAHEAD_MS),
                stereo_link: FloatParam::new(
                    "Stereo Link",
                    defaults.stereo_link,
                    FloatRange::Linear { min: 0.0, max: 1.0 },
                )
                .with_value_to_string(format::v2s_percent())
                .with_string_to_value(format::s2v_percent()),
            },
            detection: DetectionParams {
                true_peak: BoolParam::new("True Peak", true),
                oversampling: EnumParam::new("Oversampling", OversamplingChoice::X8),
            },
            monitoring: MonitoringParams {
                listen: BoolParam::new("Unity-Gain Listen", defaults.listen),
            },
            readings: ReadingParams {
                gain_reduction: lathe_ui::params::reading_param(
                    "Gain Reduction",
                    "dB",
                    (0.0, 40.0),
                ),
            },
        }
    }
}

impl LimiterParams {
    /// The DSP settings these parameters describe (plain values; the DSP clamps and smooths).
    pub fn settings(&self) -> LimiterSettings {
        let oversampling = if !self.detection.true_peak.value() {
            Oversampling::Off
        } else {
            match self.detection.oversampling.value() {
                OversamplingChoice::X4 => Oversampling::X4,
                OversamplingChoice::X8 => Oversampling::X8,
                OversamplingChoice::X16 => Oversampling::X16,
            }
        };
        LimiterSettings {
            input_gain_db: self.gain.input_gain.value(),
            ceiling_db: self.gain.ceiling.value(),
            release_ms: self.dynamics.release.value(),
            auto_release: self.dynamics.auto_release.value(),
            lookahead_ms: self.dynamics.lookahead.value(),
            stereo_link: self.dynamics.stereo_link.value(),
            oversampling,
            output_trim_db: self.gain.output_trim.value(),
            listen: self.monitoring.listen.value(),
            bypass: self.bypass.value(),
        }
    }
}
