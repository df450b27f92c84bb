//! The mastering chain: EQ → dynamics → imager → limiter → dither, each optional, described by a
//! TOML file or a named preset and built from dsp-core's processors.

use std::path::Path;

use anyhow::{bail, Context, Result};
use dsp_core::dither::{DitherKind, DitherSettings, NoiseShaping};
use dsp_core::dynamics::{Detection, StereoMode};
use dsp_core::eq::{self, CutShape, FilterType, Route};
use dsp_core::imager::{Imager, ImagerSettings};
use dsp_core::linear_phase::Resolution;
use dsp_core::master_eq::{MasterEq, MasterEqSettings, PhaseMode};
use dsp_core::multiband::{MultibandDynamics, MultibandSettings};
use dsp_core::{Limiter, LimiterSettings, Oversampling};
use serde::Deserialize;

/// A chain as written in TOML. Every section is optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// Gain before everything else, dB (a stem's level in the sum).
    #[serde(default)]
    pub gain: f32,
    pub eq: Option<EqConfig>,
    pub dynamics: Option<DynamicsConfig>,
    pub imager: Option<ImagerConfig>,
    pub limiter: Option<LimiterConfig>,
    pub dither: Option<DitherConfig>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EqConfig {
    /// "minimum" (zero latency) or "linear-low" / "linear" (medium) / "linear-high".
    #[serde(default = "default_eq_mode")]
    pub mode: String,
    #[serde(default)]
    pub auto_gain: bool,
    #[serde(default)]
    pub output: f32,
    #[serde(default)]
    pub band: Vec<EqBandConfig>,
}

fn default_eq_mode() -> String {
    "minimum".into()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EqBandConfig {
    #[serde(rename = "type")]
    pub kind: String,
    pub freq: f32,
    #[serde(default)]
    pub gain: f32,
    #[serde(default = "default_q")]
    pub q: f32,
    #[serde(default = "default_slope")]
    pub slope: u32,
    #[serde(default = "default_shape")]
    pub shape: String,
    #[serde(default = "default_route")]
    pub route: String,
}

fn default_q() -> f32 {
    0.707
}
fn default_slope() -> u32 {
    12
}
fn default_shape() -> String {
    "butterworth".into()
}
fn default_route() -> String {
    "stereo".into()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicsConfig {
    /// Split frequencies, Hz: one fewer than the bands.
    #[serde(default)]
    pub crossovers: Vec<f32>,
    /// "lr" or "ms".
    #[serde(default = "default_stereo")]
    pub stereo: String,
    /// "rms" or "peak".
    #[serde(default = "default_detection")]
    pub detection: String,
    #[serde(default = "one")]
    pub mix: f32,
    #[serde(default)]
    pub output: f32,
    pub band: Vec<DynamicsBandConfig>,
}

fn default_stereo() -> String {
    "lr".into()
}
fn default_detection() -> String {
    "rms".into()
}
fn one() -> f32 {
    1.0
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicsBandConfig {
    pub threshold: f32,
    pub ratio: f32,
    #[serde(default = "default_knee")]
    pub knee: f32,
    #[serde(default = "default_attack")]
    pub attack: f32,
    #[serde(default = "default_release")]
    pub release: f32,
    #[serde(default)]
    pub makeup: f32,
}

fn default_knee() -> f32 {
    6.0
}
fn default_attack() -> f32 {
    30.0
}
fn default_release() -> f32 {
    200.0
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagerConfig {
    #[serde(default)]
    pub crossovers: Vec<f32>,
    /// Width per band, 0..2 (1 = unchanged); one more than the crossovers.
    pub widths: Vec<f32>,
    /// Mono below this frequency, Hz.
    pub bass_mono: Option<f32>,
    #[serde(default)]
    pub balance: f32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimiterConfig {
    /// dBTP; `--ceiling` or the target's limit overrides it.
    pub ceiling: Option<f32>,
    #[serde(default = "default_limiter_release")]
    pub release: f32,
    #[serde(default = "yes")]
    pub auto_release: bool,
    #[serde(default = "default_lookahead")]
    pub lookahead: f32,
    /// True-peak oversampling: 1 (sample peak), 4, 8 or 16.
    #[serde(default = "default_oversampling")]
    pub oversampling: u32,
    #[serde(default = "one")]
    pub link: f32,
}

fn default_limiter_release() -> f32 {
    100.0
}
fn yes() -> bool {
    true
}
fn default_lookahead() -> f32 {
    2.0
}
/// 8x, as the Limiter plugin: 4x detection lets band-edge overs through on dense material.
fn default_oversampling() -> u32 {
    8
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DitherConfig {
    /// "tpdf", "rpdf", "hp-tpdf" or "none" (plain rounding).
    #[serde(default = "default_dither_kind")]
    pub kind: String,
    /// "none", "first-order", "f-weighted" or "e-weighted".
    #[serde(default = "default_shaping")]
    pub shaping: String,
}

fn default_dither_kind() -> String {
    "tpdf".into()
}
fn default_shaping() -> String {
    "none".into()
}

/// Named chains, for `--preset`.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "clean",
        "True-peak limiter only: loudness from the limiter alone, the mix otherwise untouched.",
    ),
    (
        "glue",
        "Gentle bus compression (1.5:1, slow attack, auto release) into the limiter.",
    ),
    (
        "polish",
        "25 Hz low cut, a touch of air (+1 dB shelf at 12 kHz), glue compression, bass in mono below 100 Hz, limiter.",
    ),
];

const CLEAN: &str = "[limiter]\n";
const GLUE: &str = r#"
[dynamics]
band = [{ threshold = -20.0, ratio = 1.5, knee = 6.0, attack = 30.0, release = 300.0 }]
[limiter]
"#;
const POLISH: &str = r#"
[eq]
band = [
    { type = "low-cut", freq = 25.0, slope = 12 },
    { type = "high-shelf", freq = 12000.0, gain = 1.0, q = 0.707 },
]
[dynamics]
band = [{ threshold = -20.0, ratio = 1.5, knee = 6.0, attack = 30.0, release = 300.0 }]
[imager]
widths = [1.0]
bass_mono = 100.0
[limiter]
"#;

impl ChainConfig {
    pub fn preset(name: &str) -> Result<Self> {
        let text = match name {
            "clean" => CLEAN,
            "glue" => GLUE,
            "polish" => POLISH,
            other => bail!(
                "unknown preset '{other}'; presets are: {}",
                PRESETS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
            ),
        };
        Self::parse(text, Path::new(name))
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the chain file", path.display()))?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, origin: &Path) -> Result<Self> {
        let config: Self = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{}: invalid chain: {e}", origin.display()))?;
        config
            .validate()
            .with_context(|| format!("{}: invalid chain", origin.display()))?;
        Ok(config)
    }

    /// Checks every value against what the processors accept, so nothing is silently clamped.
    pub fn validate(&self) -> Result<()> {
        in_range("gain", self.gain, (-48.0, 24.0))?;
        if let Some(eq) = &self.eq {
            eq_settings(eq)?;
        }
        if let Some(dynamics) = &self.dynamics {
            dynamics_settings(dynamics)?;
        }
        if let Some(imager) = &self.imager {
            imager_settings(imager)?;
        }
        if let Some(limiter) = &self.limiter {
            limiter_settings(limiter, limiter.ceiling.unwrap_or(-1.0))?;
        }
        if let Some(dither) = &self.dither {
            dither_kind(dither, 16)?;
        }
        Ok(())
    }
}

fn in_range(name: &str, value: f32, (lo, hi): (f32, f32)) -> Result<()> {
    if !(value >= lo && value <= hi) {
        bail!("{name} = {value} is outside {lo}..{hi}");
    }
    Ok(())
}

fn eq_settings(config: &EqConfig) -> Result<MasterEqSettings> {
    let mode = match config.mode.as_str() {
        "minimum" | "zero-latency" => PhaseMode::ZeroLatency,
        "linear-low" => PhaseMode::Linear(Resolution::Low),
        "linear" | "linear-medium" => PhaseMode::Linear(Resolution::Medium),
        "linear-high" => PhaseMode::Linear(Resolution::High),
        other => {
            bail!("[eq] mode = '{other}': use minimum, linear-low, linear-medium or linear-high")
        }
    };
    if config.band.len() > eq::MAX_BANDS {
        bail!(
            "[eq] has {} bands; at most {}",
            config.band.len(),
            eq::MAX_BANDS
        );
    }
    in_range("[eq] output", config.output, (-24.0, 24.0))?;
    let mut settings = eq::EqSettings::default();
    for band in settings.bands.iter_mut() {
        band.enabled = false;
    }
    settings.output_db = config.output;
    for (n, (band, b)) in settings.bands.iter_mut().zip(&config.band).enumerate() {
        let label = |what: &str| format!("[eq] band {} {what}", n + 1);
        band.enabled = true;
        band.kind = match b.kind.as_str() {
            "bell" => FilterType::Bell,
            "low-shelf" => FilterType::LowShelf,
            "high-shelf" => FilterType::HighShelf,
            "low-cut" => FilterType::LowCut,
            "high-cut" => FilterType::HighCut,
            "notch" => FilterType::Notch,
            "band-pass" => FilterType::BandPass,
            "tilt" => FilterType::Tilt,
            other => bail!(
                "{} '{other}': use bell, low-shelf, high-shelf, low-cut, high-cut, notch, band-pass or tilt",
                label("type")
            ),
        };
        in_range(&label("freq"), b.freq, eq::range::FREQ_HZ)?;
        in_range(&label("gain"), b.gain, eq::range::GAIN_DB)?;
        in_range(&label("q"), b.q, eq::range::Q)?;
        band.freq_hz = b.freq;
        band.gain_db = b.gain;
        band.q = b.q;
        band.shape = match b.shape.as_str() {
            "butterworth" => CutShape::Butterworth,
            "linkwitz-riley" => CutShape::LinkwitzRiley,
            other => bail!(
                "{} '{other}': use butterworth or linkwitz-riley",
                label("shape")
            ),
        };
        let step = if band.shape == CutShape::LinkwitzRiley {
            12
        } else {
            6
        };
        if !(step..=48).contains(&b.slope) || b.slope % step != 0 {
            bail!(
                "{} = {}: use {step}..48 dB/oct in steps of {step}",
                label("slope"),
                b.slope
            );
        }
        band.slope_db = b.slope;
        band.route = match b.route.as_str() {
            "stereo" => Route::Stereo,
            "left" => Route::Left,
            "right" => Route::Right,
            "mid" => Route::Mid,
            "side" => Route::Side,
            other => bail!(
                "{} '{other}': use stereo, left, right, mid or side",
                label("route")
            ),
        };
    }
    Ok(MasterEqSettings {
        eq: settings,
        mode,
        auto_gain: config.auto_gain,
    })
}

/// Checks `crossovers` for `bands` bands (one fewer, rising, 20 Hz–20 kHz) and returns them as
/// the processors' split array.
fn split_points(
    section: &str,
    what: &str,
    bands: usize,
    crossovers: &[f32],
) -> Result<[f32; dsp_core::crossover::MAX_SPLITS]> {
    if !(1..=dsp_core::crossover::MAX_BANDS).contains(&bands) {
        bail!("{section} needs 1 to 4 {what}, has {bands}");
    }
    if crossovers.len() != bands - 1 {
        bail!(
            "{section} {bands} {what} need {} crossovers, {} given",
            bands - 1,
            crossovers.len()
        );
    }
    if crossovers.windows(2).any(|w| w[1] <= w[0]) {
        bail!("{section} crossovers must rise");
    }
    let mut splits = [20_000.0; dsp_core::crossover::MAX_SPLITS];
    for (split, &hz) in splits.iter_mut().zip(crossovers) {
        in_range(&format!("{section} crossover"), hz, (20.0, 20_000.0))?;
        *split = hz;
    }
    Ok(splits)
}

fn dynamics_settings(config: &DynamicsConfig) -> Result<MultibandSettings> {
    use dsp_core::dynamics::range as comp;
    let bands = config.band.len();
    let mut settings = MultibandSettings {
        bands,
        crossovers_hz: split_points("[dynamics]", "bands", bands, &config.crossovers)?,
        ..Default::default()
    };
    for (n, (band, b)) in settings.band.iter_mut().zip(&config.band).enumerate() {
        let label = |what: &str| format!("[dynamics] band {} {what}", n + 1);
        in_range(&label("threshold"), b.threshold, comp::THRESHOLD_DB)?;
        in_range(&label("ratio"), b.ratio, comp::RATIO)?;
        in_range(&label("knee"), b.knee, comp::KNEE_DB)?;
        in_range(&label("attack"), b.attack, comp::ATTACK_MS)?;
        in_range(&label("release"), b.release, comp::RELEASE_MS)?;
        in_range(&label("makeup"), b.makeup, comp::MAKEUP_DB)?;
        band.threshold_db = b.threshold;
        band.ratio = b.ratio;
        band.knee_db = b.knee;
        band.attack_ms = b.attack;
        band.release_ms = b.release;
        band.makeup_db = b.makeup;
    }
    settings.stereo_mode = match config.stereo.as_str() {
        "lr" => StereoMode::LeftRight,
        "ms" => StereoMode::MidSide,
        other => bail!("[dynamics] stereo = '{other}': use lr or ms"),
    };
    settings.detection = match config.detection.as_str() {
        "rms" => Detection::Rms,
        "peak" => Detection::Peak,
        other => bail!("[dynamics] detection = '{other}': use rms or peak"),
    };
    in_range("[dynamics] mix", config.mix, (0.0, 1.0))?;
    in_range("[dynamics] output", config.output, (-24.0, 24.0))?;
    settings.mix = config.mix;
    settings.output_db = config.output;
    Ok(settings)
}

fn imager_settings(config: &ImagerConfig) -> Result<ImagerSettings> {
    let bands = config.widths.len();
    let mut settings = ImagerSettings {
        bands,
        crossovers_hz: split_points("[imager]", "widths", bands, &config.crossovers)?,
        ..Default::default()
    };
    for (n, &width) in config.widths.iter().enumerate() {
        in_range("[imager] width", width, (0.0, 2.0))?;
        settings.widths[n] = width;
    }
    if let Some(hz) = config.bass_mono {
        in_range("[imager] bass_mono", hz, (20.0, 500.0))?;
        settings.bass_mono = true;
        settings.bass_mono_hz = hz;
    }
    in_range("[imager] balance", config.balance, (-1.0, 1.0))?;
    settings.balance = config.balance;
    Ok(settings)
}

fn limiter_settings(config: &LimiterConfig, ceiling_db: f32) -> Result<LimiterSettings> {
    use dsp_core::limiter::range;
    in_range("ceiling", ceiling_db, range::CEILING_DB)?;
    in_range("[limiter] release", config.release, range::RELEASE_MS)?;
    in_range("[limiter] lookahead", config.lookahead, range::LOOKAHEAD_MS)?;
    in_range("[limiter] link", config.link, range::STEREO_LINK)?;
    let oversampling = match config.oversampling {
        1 => Oversampling::Off,
        4 => Oversampling::X4,
        8 => Oversampling::X8,
        16 => Oversampling::X16,
        other => bail!("[limiter] oversampling = {other}: use 1, 4, 8 or 16"),
    };
    Ok(LimiterSettings {
        ceiling_db,
        release_ms: config.release,
        auto_release: config.auto_release,
        lookahead_ms: config.lookahead,
        stereo_link: config.link,
        oversampling,
        ..Default::default()
    })
}

fn dither_kind(config: &DitherConfig, bits: u32) -> Result<DitherSettings> {
    let kind = match config.kind.as_str() {
        "tpdf" => DitherKind::Tpdf,
        "rpdf" => DitherKind::Rpdf,
        "hp-tpdf" => DitherKind::HighPassTpdf,
        "none" => DitherKind::None,
        other => bail!("[dither] kind = '{other}': use tpdf, rpdf, hp-tpdf or none"),
    };
    let shaping = match config.shaping.as_str() {
        "none" => NoiseShaping::None,
        "first-order" => NoiseShaping::FirstOrder,
        "f-weighted" => NoiseShaping::FWeighted,
        "e-weighted" => NoiseShaping::ModifiedEWeighted,
        other => {
            bail!("[dither] shaping = '{other}': use none, first-order, f-weighted or e-weighted")
        }
    };
    Ok(DitherSettings {
        bits,
        kind,
        shaping,
        // Offline, a fade to digital silence should stay digital silence.
        auto_blank: true,
    })
}

/// The processors before the limiter, on a stereo pair. Their output does not depend on the
/// loudness gain, so it is computed once per file and the gain search runs on it.
pub struct PreChain {
    gain: f32,
    eq: Option<MasterEq>,
    dynamics: Option<MultibandDynamics>,
    imager: Option<Imager>,
}

impl PreChain {
    pub fn new(config: &ChainConfig, sample_rate: f32) -> Result<Self> {
        Ok(Self {
            gain: dsp_core::db_to_gain(config.gain),
            eq: match &config.eq {
                Some(eq) => Some(MasterEq::new(sample_rate, eq_settings(eq)?)),
                None => None,
            },
            dynamics: match &config.dynamics {
                Some(d) => {
                    let mut dynamics = MultibandDynamics::new(sample_rate, dynamics_settings(d)?);
                    dynamics.compute_only_used_splits();
                    Some(dynamics)
                }
                None => None,
            },
            imager: match &config.imager {
                Some(i) => {
                    let mut imager = Imager::new(sample_rate, imager_settings(i)?);
                    imager.compute_only_used_splits();
                    imager.set_metering(false);
                    Some(imager)
                }
                None => None,
            },
        })
    }

    /// Samples by which the output lags the input.
    pub fn latency(&self) -> u32 {
        self.eq.as_ref().map_or(0, |e| e.latency())
            + self.dynamics.as_ref().map_or(0, |d| d.latency())
            + self.imager.as_ref().map_or(0, |i| i.latency())
    }

    pub fn is_identity(&self) -> bool {
        self.gain == 1.0 && self.eq.is_none() && self.dynamics.is_none() && self.imager.is_none()
    }

    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if self.gain != 1.0 {
            left.iter_mut().for_each(|x| *x *= self.gain);
            right.iter_mut().for_each(|x| *x *= self.gain);
        }
        if let Some(eq) = &mut self.eq {
            eq.process(left, right);
        }
        if let Some(dynamics) = &mut self.dynamics {
            dynamics.process(left, right);
        }
        if let Some(imager) = &mut self.imager {
            imager.process(left, right);
        }
    }
}

/// The chain's limiter at `ceiling_db`, or `None` when the chain has no limiter.
pub fn limiter(config: &ChainConfig, ceiling_db: f32, sample_rate: f32) -> Result<Option<Limiter>> {
    let Some(l) = &config.limiter else {
        return Ok(None);
    };
    // The search and the true-peak verification aim the limiter a little under the ceiling
    // asked for, which may be the lowest the limiter takes: the rest becomes its output trim, a
    // gain after the limiting that lowers every peak with it.
    let lowest = dsp_core::limiter::range::CEILING_DB.0;
    let (ceiling_db, trim_db) = if ceiling_db < lowest {
        (lowest, ceiling_db - lowest)
    } else {
        (ceiling_db, 0.0)
    };
    let settings = LimiterSettings {
        output_trim_db: trim_db,
        ..limiter_settings(l, ceiling_db)?
    };
    Ok(Some(Limiter::new(sample_rate, 2, settings)))
}

/// Dither settings for an integer output of `bits` (TPDF, no shaping unless the chain says).
pub fn dither(config: &ChainConfig, bits: u32) -> Result<DitherSettings> {
    let default = DitherConfig {
        kind: default_dither_kind(),
        shaping: default_shaping(),
    };
    dither_kind(config.dither.as_ref().unwrap_or(&default), bits)
}
