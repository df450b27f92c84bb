//! Feed-forward dynamics: the gain computer, level detection and ballistics shared by the mixing
//! [`Compressor`] and the multiband [`crate::multiband::MultibandDynamics`].
//!
//! The design follows Giannoulis, Massberg & Reiss, "Digital Dynamic Range Compressor Design — A
//! Tutorial and Analysis", JAES 60(6), 2012 (GMR below):
//!
//! 1. **Level**: peak (`|x|`) or RMS (a one-pole mean square with a [`RMS_TIME_MS`] time
//!    constant), in dB.
//! 2. **Gain computer** in the dB domain (GMR eq. 4): below `T − W/2` the gain is 0 dB, above
//!    `T + W/2` the output level is `T + (x − T)/R`, and in between a quadratic knee
//!    `x + (1/R − 1)(x − T + W/2)² / (2W)` joins the two smoothly. `R = ∞` gives a limiter slope.
//!    The reduction is limited to `range` dB.
//! 3. **Ballistics** on the gain reduction in dB (`y_L ≥ 0`): the smooth branching peak detector
//!    (GMR eq. 17): `y_L ← α_A·y_L + (1 − α_A)·x_L` while the reduction rises, `α_R` while it
//!    falls, `α = exp(−1 / (τ·fs))`. Attack and release are therefore exact time constants
//!    (63 % of a step in dB) at every sample rate. A hold keeps the reduction for `hold` after
//!    its last rise before releasing.
//! 4. **Auto release** (program-dependent, after GMR's two-stage release): a slow stage follows
//!    the target reduction with an attack of [`AUTO_SLOW_ATTACK`] × release and a release of
//!    [`AUTO_SLOW_RELEASE`] × release; the fast stage releases towards the slow one instead of
//!    towards 0 dB. A short transient barely charges the slow stage, so it recovers at the set
//!    release; sustained compression charges it, and the last part of the recovery is slow (no
//!    pumping).
//! 5. **Makeup** (manual, or automatic: half of the static reduction of a 0 dBFS signal, so that a
//!    loud mix keeps roughly its level), **mix** (parallel compression against the dry signal
//!    delayed by the same latency) and **lookahead** (the audio is delayed, the detector is not).

use crate::biquad::{CutFilter, CutKind};
use crate::delay::DelayLine;
use crate::denormal::sanitize;
use crate::smoother::Smoother;
use crate::MAX_CHANNELS;

/// Parameter ranges, in the units of [`CompressorSettings`]. Setters clamp to these.
pub mod range {
    pub const THRESHOLD_DB: (f32, f32) = (-60.0, 0.0);
    /// Ratio `n:1`; `f32::INFINITY` is allowed (∞:1).
    pub const RATIO: (f32, f32) = (1.0, f32::INFINITY);
    pub const KNEE_DB: (f32, f32) = (0.0, 24.0);
    pub const ATTACK_MS: (f32, f32) = (0.01, 300.0);
    pub const RELEASE_MS: (f32, f32) = (5.0, 5000.0);
    pub const HOLD_MS: (f32, f32) = (0.0, 500.0);
    pub const RANGE_DB: (f32, f32) = (0.0, 60.0);
    pub const LOOKAHEAD_MS: (f32, f32) = (0.0, 10.0);
    pub const MAKEUP_DB: (f32, f32) = (-24.0, 24.0);
    pub const MIX: (f32, f32) = (0.0, 1.0);
    pub const STEREO_LINK: (f32, f32) = (0.0, 1.0);
    pub const SIDECHAIN_HIGHPASS_HZ: (f32, f32) = (20.0, 2_000.0);
    pub const SIDECHAIN_LOWPASS_HZ: (f32, f32) = (500.0, 20_000.0);
}

/// Time constant of the RMS detector's mean square.
pub const RMS_TIME_MS: f32 = 10.0;
/// Auto release: the slow stage's attack, as a multiple of the release time.
pub const AUTO_SLOW_ATTACK: f32 = 3.0;
/// Auto release: the slow stage's release, as a multiple of the release time.
pub const AUTO_SLOW_RELEASE: f32 = 8.0;
/// Smoothing time constant of threshold, ratio, knee, makeup, mix and switches.
pub const SMOOTHING_MS: f32 = 10.0;
/// The lowest level the detector represents, dB (digital silence reads as this).
const LEVEL_FLOOR_DB: f64 = -200.0;
/// Butterworth order of the sidechain filters (12 dB/oct).
const SIDECHAIN_FILTER_ORDER: usize = 2;

/// The static curve: threshold, ratio and knee in dB (GMR eq. 4), plus the range limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GainComputer {
    pub threshold_db: f64,
    /// `1/R`: 1 is no compression, 0 is ∞:1.
    pub slope: f64,
    /// Knee width `W`, dB.
    pub knee_db: f64,
    /// Largest reduction, dB (≥ 0).
    pub range_db: f64,
}

impl GainComputer {
    pub fn new(threshold_db: f32, ratio: f32, knee_db: f32, range_db: f32) -> Self {
        Self {
            threshold_db: threshold_db as f64,
            slope: 1.0 / ratio.max(1.0) as f64,
            knee_db: knee_db.max(0.0) as f64,
            range_db: range_db.max(0.0) as f64,
        }
    }

    /// Output level for an input level, dB, without the range limit (GMR eq. 4).
    #[inline]
    pub fn output_db(&self, level_db: f64) -> f64 {
        let over = level_db - self.threshold_db;
        let half_knee = 0.5 * self.knee_db;
        if 2.0 * over < -self.knee_db {
            level_db
        } else if 2.0 * over.abs() <= self.knee_db && self.knee_db > 0.0 {
            let k = over + half_knee;
            level_db + (self.slope - 1.0) * k * k / (2.0 * self.knee_db)
        } else {
            self.threshold_db + over * self.slope
        }
    }

    /// Gain reduction for an input level, dB (≥ 0, at most `range_db`).
    #[inline]
    pub fn reduction_db(&self, level_db: f64) -> f64 {
        (level_db - self.output_db(level_db)).clamp(0.0, self.range_db)
    }

    /// The static gain (≤ 0 dB) the curve applies to a steady input level: what the transfer
    /// curve in an editor draws (add the makeup).
    pub fn gain_db(&self, level_db: f64) -> f64 {
        -self.reduction_db(level_db)
    }

    /// A detected power (linear, mean square) below which the curve certainly reduces nothing:
    /// the knee's lower edge, less a margin of 1e-9 that covers the rounding of
    /// [`power_db`] (within 2e-11 dB) and of this value, so that comparing the power with it
    /// gives exactly the reduction the curve would give (zero) without taking the logarithm.
    pub fn quiet_power(&self) -> f64 {
        db_to_gain_f64(2.0 * (self.threshold_db - 0.5 * self.knee_db)) * (1.0 - 1e-9)
    }

    /// Automatic makeup: half of the reduction of a 0 dBFS level.
    pub fn auto_makeup_db(&self) -> f64 {
        0.5 * self.reduction_db(0.0)
    }
}

/// A running mean square under this is exactly zero ([`Envelope::flush`]).
const MEAN_SQUARE_FLOOR: f64 = 1e-30;
/// A reduction under this, dB, is exactly zero ([`Envelope::flush`]).
const REDUCTION_FLOOR_DB: f64 = 1e-12;

/// How the detector measures level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    /// Instantaneous `|x|`.
    Peak,
    /// Mean square averaged with a [`RMS_TIME_MS`] time constant.
    Rms,
}

/// Ballistics settings in physical units; converted to per-sample poles by [`Ballistics::new`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BallisticsSettings {
    pub attack_ms: f32,
    pub release_ms: f32,
    pub hold_ms: f32,
    pub auto_release: bool,
}

/// Per-sample coefficients of the ballistics at one sample rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ballistics {
    pub(crate) attack: f64,
    pub(crate) release: f64,
    slow_attack: f64,
    slow_release: f64,
    pub(crate) hold_samples: u32,
    pub(crate) auto_release: bool,
}

/// `exp(−1 / (τ·fs))` for a time constant in ms (0 ms: no smoothing).
fn pole(sample_rate: f32, time_ms: f32) -> f64 {
    let samples = time_ms as f64 * 0.001 * sample_rate as f64;
    if samples < 1e-6 {
        0.0
    } else {
        (-1.0 / samples).exp()
    }
}

impl Ballistics {
    pub fn new(sample_rate: f32, s: &BallisticsSettings) -> Self {
        Self {
            attack: pole(sample_rate, s.attack_ms),
            release: pole(sample_rate, s.release_ms),
            slow_attack: pole(sample_rate, s.release_ms * AUTO_SLOW_ATTACK),
            slow_release: pole(sample_rate, s.release_ms * AUTO_SLOW_RELEASE),
            hold_samples: (s.hold_ms.max(0.0) * 0.001 * sample_rate).round() as u32,
            auto_release: s.auto_release,
        }
    }
}

/// The detector state of one channel (or one band of one channel): the RMS mean square, the
/// smoothed reduction `y_L` (dB, ≥ 0), the slow auto-release stage and the hold counter.
#[derive(Clone, Copy, Debug, Default)]
pub struct Envelope {
    pub(crate) mean_square: f64,
    pub(crate) reduction_db: f64,
    pub(crate) slow_db: f64,
    pub(crate) hold_left: u32,
}

impl Envelope {
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// The detected level of `x` in dB (updates the RMS state in RMS mode).
    #[inline]
    pub fn level_db(&mut self, x: f64, detection: Detection, rms_pole: f64) -> f64 {
        power_db(self.power(x, detection, rms_pole))
    }

    /// The detected power of `x`: `x²`, or the running mean square in RMS mode (updated).
    #[inline]
    pub fn power(&mut self, x: f64, detection: Detection, rms_pole: f64) -> f64 {
        let power = self.power_unflushed(x, detection, rms_pole);
        if detection == Detection::Rms && self.mean_square < MEAN_SQUARE_FLOOR {
            self.mean_square = 0.0;
            return 0.0;
        }
        power
    }

    /// [`Envelope::power`] leaving a tiny mean square as it is: for a caller that runs
    /// [`Envelope::flush`] every block instead, so that the test is not on the detector's
    /// sample-to-sample chain.
    #[inline]
    pub fn power_unflushed(&mut self, x: f64, detection: Detection, rms_pole: f64) -> f64 {
        match detection {
            Detection::Peak => x * x,
            Detection::Rms => {
                self.mean_square = rms_pole * self.mean_square + (1.0 - rms_pole) * x * x;
                self.mean_square
            }
        }
    }

    /// What [`Envelope::power`] and [`Envelope::follow`] do to tiny values each sample: a mean
    /// square under 1e-30 and reductions under 1e-12 dB become exactly zero (no denormals, and
    /// no reduction is the exact zero that skips the gain's exponential).
    #[inline]
    pub fn flush(&mut self) {
        if self.mean_square < MEAN_SQUARE_FLOOR {
            self.mean_square = 0.0;
        }
        self.flush_reductions();
    }

    /// The reductions' part of [`Envelope::flush`].
    #[inline]
    fn flush_reductions(&mut self) {
        if self.reduction_db < REDUCTION_FLOOR_DB {
            self.reduction_db = 0.0;
        }
        if self.slow_db < REDUCTION_FLOOR_DB {
            self.slow_db = 0.0;
        }
    }

    /// Takes over `leader`'s ballistics state (gain reduction, slow stage, hold), keeping this
    /// channel's own RMS state: how a linked channel follows the channel that computes the gain.
    #[inline]
    pub fn follow_linked(&mut self, leader: &Envelope) {
        self.reduction_db = leader.reduction_db;
        self.slow_db = leader.slow_db;
        self.hold_left = leader.hold_left;
    }

    /// Advances the ballistics by one sample towards the target reduction `target_db` (≥ 0) and
    /// returns the smoothed reduction in dB.
    #[inline]
    pub fn follow(&mut self, target_db: f64, b: &Ballistics) -> f64 {
        self.follow_unflushed(target_db, b);
        self.flush_reductions();
        self.reduction_db
    }

    /// [`Envelope::follow`] leaving tiny reductions as they are (see
    /// [`Envelope::power_unflushed`]).
    #[inline]
    pub fn follow_unflushed(&mut self, target_db: f64, b: &Ballistics) -> f64 {
        let y = self.reduction_db;
        if b.auto_release {
            let pole = if target_db > self.slow_db {
                b.slow_attack
            } else {
                b.slow_release
            };
            self.slow_db = pole * self.slow_db + (1.0 - pole) * target_db;
        }
        self.reduction_db = if target_db >= y {
            self.hold_left = b.hold_samples;
            b.attack * y + (1.0 - b.attack) * target_db
        } else if self.hold_left > 0 {
            self.hold_left -= 1;
            y
        } else {
            // Auto release: fall towards the slow stage, never below the target.
            let floor = if b.auto_release {
                target_db.max(self.slow_db.min(y))
            } else {
                target_db
            };
            b.release * y + (1.0 - b.release) * floor
        };
        self.reduction_db
    }

    /// The current smoothed reduction, dB.
    pub fn reduction_db(&self) -> f64 {
        self.reduction_db
    }
}

/// A detected power in dB (`10·log10`); −200 dB for anything below that.
#[inline]
pub fn power_db(power: f64) -> f64 {
    if power <= 1e-20 {
        LEVEL_FLOOR_DB
    } else {
        ln_normal(power) * (10.0 / std::f64::consts::LN_10)
    }
}

/// Natural logarithm of a positive normal `x`, to within 2e-11 (absolute), without a library
/// call (the detector takes one per sample per band): the exponent from the bits, then the
/// mantissa `m` in [√½, √2) by `ln m = 2·atanh(s)`, `s = (m − 1)/(m + 1)`, `|s| ≤ 0.172`, whose
/// series stops after the `s¹¹` term (the first left out is below `2·0.172¹³/13`).
#[inline]
pub(crate) fn ln_normal(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        exponent += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series =
        1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 / 11.0))));
    exponent as f64 * std::f64::consts::LN_2 + 2.0 * s * series
}

/// Whether the compressor works on left/right or on mid/side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StereoMode {
    LeftRight,
    /// Mid `(L+R)/2` and side `(L−R)/2` are detected and compressed separately.
    MidSide,
}

/// Everything a user can set on the [`Compressor`], in physical units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompressorSettings {
    /// dBFS (−60..0).
    pub threshold_db: f32,
    /// `n:1` (1..∞).
    pub ratio: f32,
    /// Soft-knee width, dB (0..24).
    pub knee_db: f32,
    /// Attack time constant, ms (0.01..300).
    pub attack_ms: f32,
    /// Release time constant, ms (5..5000).
    pub release_ms: f32,
    /// Program-dependent two-stage release.
    pub auto_release: bool,
    /// Hold before releasing, ms (0..500).
    pub hold_ms: f32,
    /// Largest gain reduction, dB (0..60).
    pub range_db: f32,
    /// Lookahead (the audio is delayed by this, which is the latency), ms (0..10).
    pub lookahead_ms: f32,
    /// Gain after compression, dB (−24..24); added to the automatic makeup when that is on.
    pub makeup_db: f32,
    pub auto_makeup: bool,
    /// Compressed share of the output, 0 (dry) .. 1 (fully compressed).
    pub mix: f32,
    /// 0 (each channel its own reduction) .. 1 (both channels the same reduction).
    pub stereo_link: f32,
    pub detection: Detection,
    pub stereo_mode: StereoMode,
    /// Detect from the external sidechain input instead of the main input.
    pub external_sidechain: bool,
    /// Sidechain high-pass (12 dB/oct), Hz (20..2000), when on.
    pub sidechain_highpass: bool,
    pub sidechain_highpass_hz: f32,
    /// Sidechain low-pass (12 dB/oct), Hz (500..20000), when on.
    pub sidechain_lowpass: bool,
    pub sidechain_lowpass_hz: f32,
    /// Output the (filtered) detector signal instead of the audio.
    pub sidechain_listen: bool,
    /// Bypass: the input delayed by the same latency.
    pub bypass: bool,
}

impl Default for CompressorSettings {
    fn default() -> Self {
        Self {
            threshold_db: -18.0,
            ratio: 4.0,
            knee_db: 6.0,
            attack_ms: 10.0,
            release_ms: 100.0,
            auto_release: false,
            hold_ms: 0.0,
            range_db: 60.0,
            lookahead_ms: 0.0,
            makeup_db: 0.0,
            auto_makeup: false,
            mix: 1.0,
            stereo_link: 1.0,
            detection: Detection::Peak,
            stereo_mode: StereoMode::LeftRight,
            external_sidechain: false,
            sidechain_highpass: false,
            sidechain_highpass_hz: 80.0,
            sidechain_lowpass: false,
            sidechain_lowpass_hz: 12_000.0,
            sidechain_listen: false,
            bypass: false,
        }
    }
}

impl CompressorSettings {
    /// The settings with every value clamped into its range (NaN becomes the default).
    pub fn clamped(&self) -> Self {
        let d = Self::default();
        let c = crate::clamp_or;
        Self {
            threshold_db: c(self.threshold_db, range::THRESHOLD_DB, d.threshold_db),
            ratio: c(self.ratio, range::RATIO, d.ratio),
            knee_db: c(self.knee_db, range::KNEE_DB, d.knee_db),
            attack_ms: c(self.attack_ms, range::ATTACK_MS, d.attack_ms),
            release_ms: c(self.release_ms, range::RELEASE_MS, d.release_ms),
            hold_ms: c(self.hold_ms, range::HOLD_MS, d.hold_ms),
            range_db: c(self.range_db, range::RANGE_DB, d.range_db),
            lookahead_ms: c(self.lookahead_ms, range::LOOKAHEAD_MS, d.lookahead_ms),
            makeup_db: c(self.makeup_db, range::MAKEUP_DB, d.makeup_db),
            mix: c(self.mix, range::MIX, d.mix),
            stereo_link: c(self.stereo_link, range::STEREO_LINK, d.stereo_link),
            sidechain_highpass_hz: c(
                self.sidechain_highpass_hz,
                range::SIDECHAIN_HIGHPASS_HZ,
                d.sidechain_highpass_hz,
            ),
            sidechain_lowpass_hz: c(
                self.sidechain_lowpass_hz,
                range::SIDECHAIN_LOWPASS_HZ,
                d.sidechain_lowpass_hz,
            ),
            ..*self
        }
    }

    pub fn gain_computer(&self) -> GainComputer {
        GainComputer::new(self.threshold_db, self.ratio, self.knee_db, self.range_db)
    }

    pub fn ballistics(&self) -> BallisticsSettings {
        BallisticsSettings {
            attack_ms: self.attack_ms,
            release_ms: self.release_ms,
            hold_ms: self.hold_ms,
            auto_release: self.auto_release,
        }
    }

    /// Total makeup gain, dB.
    pub fn total_makeup_db(&self) -> f32 {
        let auto = if self.auto_makeup {
            self.gain_computer().auto_makeup_db() as f32
        } else {
            0.0
        };
        self.makeup_db + auto
    }
}

/// What a block of processing measured, for meters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CompressorStats {
    /// Largest gain reduction in the block, dB (≥ 0).
    pub max_reduction_db: f32,
    /// Highest detector level in the block, dB (what the transfer curve's dot shows).
    pub max_level_db: f32,
}

/// Smoothed parameters of the gain computer and output stage.
#[derive(Clone, Debug)]
struct Smoothed {
    threshold_db: Smoother,
    slope: Smoother,
    knee_db: Smoother,
    makeup: Smoother,
    mix: Smoother,
    /// 1 = processed, 0 = bypassed (the delayed input).
    active: Smoother,
    /// 1 = sidechain listen.
    listen: Smoother,
}

impl Smoothed {
    /// Sets every target from `s`; `snap` jumps there (construction and `reset()`).
    fn aim(&mut self, s: &CompressorSettings, snap: bool) {
        let gc = s.gain_computer();
        let switch = |on: bool| if on { 1.0 } else { 0.0 };
        for (smoother, target) in [
            (&mut self.threshold_db, gc.threshold_db as f32),
            (&mut self.slope, gc.slope as f32),
            (&mut self.knee_db, gc.knee_db as f32),
            (&mut self.makeup, crate::db_to_gain(s.total_makeup_db())),
            (&mut self.mix, s.mix),
            (&mut self.active, switch(!s.bypass)),
            (&mut self.listen, switch(s.sidechain_listen)),
        ] {
            if snap {
                smoother.reset(target);
            } else {
                smoother.set_target(target);
            }
        }
    }
}

/// A stereo feed-forward compressor with lookahead, external sidechain and parallel mix.
#[derive(Clone, Debug)]
pub struct Compressor {
    sample_rate: f32,
    settings: CompressorSettings,
    ballistics: Ballistics,
    rms_pole: f64,
    smoothed: Smoothed,
    envelopes: [Envelope; MAX_CHANNELS],
    sidechain_highpass: [CutFilter; MAX_CHANNELS],
    sidechain_lowpass: [CutFilter; MAX_CHANNELS],
    /// Audio delay (lookahead) per channel, and the detector signal's, for listening.
    audio_delay: [DelayLine; MAX_CHANNELS],
    listen_delay: [DelayLine; MAX_CHANNELS],
}

impl Compressor {
    /// A compressor at `sample_rate`; everything (delay lines for the longest lookahead) is
    /// allocated here.
    pub fn new(sample_rate: f32, settings: CompressorSettings) -> Self {
        let s = settings.clamped();
        let fs = sample_rate as f64;
        let max_delay = lookahead_samples(sample_rate, range::LOOKAHEAD_MS.1) as usize;
        let delay = lookahead_samples(sample_rate, s.lookahead_ms) as usize;
        let smoother = || Smoother::new(sample_rate, SMOOTHING_MS, 0.0);
        let mut compressor = Self {
            sample_rate,
            settings: s,
            ballistics: Ballistics::new(sample_rate, &s.ballistics()),
            rms_pole: pole(sample_rate, RMS_TIME_MS),
            smoothed: Smoothed {
                threshold_db: smoother(),
                slope: smoother(),
                knee_db: smoother(),
                makeup: smoother(),
                mix: smoother(),
                active: smoother(),
                listen: smoother(),
            },
            envelopes: [Envelope::default(); MAX_CHANNELS],
            sidechain_highpass: [CutFilter::new(
                fs,
                CutKind::LowCut,
                s.sidechain_highpass_hz as f64,
                SIDECHAIN_FILTER_ORDER,
            ); MAX_CHANNELS],
            sidechain_lowpass: [CutFilter::new(
                fs,
                CutKind::HighCut,
                s.sidechain_lowpass_hz as f64,
                SIDECHAIN_FILTER_ORDER,
            ); MAX_CHANNELS],
            audio_delay: std::array::from_fn(|_| DelayLine::new(max_delay, delay)),
            listen_delay: std::array::from_fn(|_| DelayLine::new(max_delay, delay)),
        };
        compressor.set_settings(&s);
        compressor.smoothed.aim(&s, true);
        compressor
    }

    pub fn settings(&self) -> &CompressorSettings {
        &self.settings
    }

    /// Latency in samples: the lookahead.
    pub fn latency(&self) -> u32 {
        self.audio_delay[0].delay() as u32
    }

    /// Applies new settings (clamped); returns true when the latency changed.
    pub fn set_settings(&mut self, settings: &CompressorSettings) -> bool {
        let s = settings.clamped();
        let fs = self.sample_rate as f64;
        let before = self.latency();
        self.ballistics = Ballistics::new(self.sample_rate, &s.ballistics());
        self.smoothed.aim(&s, false);
        if s.sidechain_highpass_hz != self.settings.sidechain_highpass_hz {
            for f in &mut self.sidechain_highpass {
                f.set(
                    fs,
                    CutKind::LowCut,
                    s.sidechain_highpass_hz as f64,
                    SIDECHAIN_FILTER_ORDER,
                );
            }
        }
        if s.sidechain_lowpass_hz != self.settings.sidechain_lowpass_hz {
            for f in &mut self.sidechain_lowpass {
                f.set(
                    fs,
                    CutKind::HighCut,
                    s.sidechain_lowpass_hz as f64,
                    SIDECHAIN_FILTER_ORDER,
                );
            }
        }
        let delay = lookahead_samples(self.sample_rate, s.lookahead_ms) as usize;
        for line in self.audio_delay.iter_mut().chain(&mut self.listen_delay) {
            line.set_delay(delay);
        }
        self.settings = s;
        self.latency() != before
    }

    pub fn reset(&mut self) {
        self.envelopes.iter_mut().for_each(Envelope::reset);
        self.sidechain_highpass
            .iter_mut()
            .chain(&mut self.sidechain_lowpass)
            .for_each(CutFilter::reset);
        self.audio_delay
            .iter_mut()
            .chain(&mut self.listen_delay)
            .for_each(DelayLine::reset);
        let settings = self.settings;
        self.smoothed.aim(&settings, true);
    }

    /// The current smoothed gain reduction of each channel, dB (≥ 0).
    pub fn reduction_db(&self) -> [f32; MAX_CHANNELS] {
        std::array::from_fn(|c| self.envelopes[c].reduction_db() as f32)
    }

    /// Compresses a stereo block in place. `sidechain` is the external detector input (used when
    /// the settings ask for it; silence is assumed when the host gives none).
    pub fn process(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        sidechain: Option<(&[f32], &[f32])>,
    ) -> CompressorStats {
        let s = self.settings;
        let mid_side = s.stereo_mode == StereoMode::MidSide;
        let link = s.stereo_link as f64;
        let filters = (s.sidechain_highpass, s.sidechain_lowpass);
        let mut stats = CompressorStats {
            max_reduction_db: 0.0,
            max_level_db: LEVEL_FLOOR_DB as f32,
        };
        let to_pair = |a: f64, b: f64| {
            if mid_side {
                (0.5 * (a + b), 0.5 * (a - b))
            } else {
                (a, b)
            }
        };
        for i in 0..left.len().min(right.len()) {
            let (l, _) = sanitize(left[i]);
            let (r, _) = sanitize(right[i]);
            // Detector input: the main signal or the external sidechain, in the working pair.
            let (dl, dr) = match (s.external_sidechain, sidechain) {
                (true, Some((sl, sr))) => (
                    sanitize(sl.get(i).copied().unwrap_or(0.0)).0,
                    sanitize(sr.get(i).copied().unwrap_or(0.0)).0,
                ),
                (true, None) => (0.0, 0.0),
                (false, _) => (l, r),
            };
            let mut detect = {
                let (a, b) = to_pair(dl as f64, dr as f64);
                [a, b]
            };
            for (c, x) in detect.iter_mut().enumerate() {
                if filters.0 {
                    *x = self.sidechain_highpass[c].process(*x);
                }
                if filters.1 {
                    *x = self.sidechain_lowpass[c].process(*x);
                }
            }

            // Gain computer on each channel's level and on the louder one (link).
            let sm = &mut self.smoothed;
            let gc = GainComputer {
                threshold_db: sm.threshold_db.tick() as f64,
                slope: sm.slope.tick() as f64,
                knee_db: sm.knee_db.tick() as f64,
                range_db: s.range_db as f64,
            };
            let levels = [
                self.envelopes[0].level_db(detect[0], s.detection, self.rms_pole),
                self.envelopes[1].level_db(detect[1], s.detection, self.rms_pole),
            ];
            let loudest = levels[0].max(levels[1]);
            stats.max_level_db = stats.max_level_db.max(loudest as f32);
            let linked = gc.reduction_db(loudest);
            let mut gains = [1.0f64; MAX_CHANNELS];
            for c in 0..MAX_CHANNELS {
                let own = gc.reduction_db(levels[c]);
                let target = own + link * (linked - own);
                let reduction = self.envelopes[c].follow(target, &self.ballistics);
                stats.max_reduction_db = stats.max_reduction_db.max(reduction as f32);
                gains[c] = db_to_gain_f64(-reduction);
            }

            // The audio, delayed by the lookahead, with its gain.
            let dry_l = self.audio_delay[0].process(l) as f64;
            let dry_r = self.audio_delay[1].process(r) as f64;
            let makeup = sm.makeup.tick() as f64;
            let (a, b) = to_pair(dry_l, dry_r);
            let (a, b) = (a * gains[0] * makeup, b * gains[1] * makeup);
            let (wet_l, wet_r) = if mid_side { (a + b, a - b) } else { (a, b) };
            let mix = sm.mix.tick() as f64;
            let mut out_l = dry_l + mix * (wet_l - dry_l);
            let mut out_r = dry_r + mix * (wet_r - dry_r);

            let listen = sm.listen.tick() as f64;
            let heard_l = self.listen_delay[0].process(detect[0] as f32) as f64;
            let heard_r = self.listen_delay[1].process(detect[1] as f32) as f64;
            if listen > 0.0 {
                let (hl, hr) = if mid_side {
                    (heard_l + heard_r, heard_l - heard_r)
                } else {
                    (heard_l, heard_r)
                };
                out_l += listen * (hl - out_l);
                out_r += listen * (hr - out_r);
            }
            let active = sm.active.tick() as f64;
            left[i] = (dry_l + active * (out_l - dry_l)) as f32;
            right[i] = (dry_r + active * (out_r - dry_r)) as f32;
        }
        stats
    }
}

/// The lookahead in whole samples.
pub fn lookahead_samples(sample_rate: f32, lookahead_ms: f32) -> u32 {
    (lookahead_ms.max(0.0) as f64 * 0.001 * sample_rate as f64).round() as u32
}

/// `10^(db/20)` to within 1e-12 (relative) for |db| ≤ 600, without a library call: `2^x` split
/// into a whole power, set in the exponent bits, and `2^f`, |f| ≤ ½, by its Taylor series to the
/// 11th power (the first left out is below `(½·ln 2)^12/12! < 1e-14`).
#[inline]
pub(crate) fn db_to_gain_f64(db: f64) -> f64 {
    let x = (db * (std::f64::consts::LOG2_10 / 20.0)).clamp(-1000.0, 1000.0);
    let whole = crate::math::round(x);
    let t = (x - whole) * std::f64::consts::LN_2;
    let fraction = INVERSE_FACTORIALS.iter().fold(0.0, |p, &c| p * t + c);
    fraction * f64::from_bits(((whole as i64 + 1023) as u64) << 52)
}

/// 1/k! for k = 11 down to 0, in Horner's order (the series of [`db_to_gain_f64`]).
pub(crate) const INVERSE_FACTORIALS: [f64; 12] = [
    2.505_210_838_544_172e-8,
    2.755_731_922_398_589e-7,
    2.755_731_922_398_589_3e-6,
    2.480_158_730_158_73e-5,
    1.984_126_984_126_984e-4,
    1.388_888_888_888_889e-3,
    8.333_333_333_333_333e-3,
    4.166_666_666_666_666_4e-2,
    0.166_666_666_666_666_66,
    0.5,
    1.0,
    1.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Below the quiet power the curve reduces nothing, so the shortcut gives exactly what the
    /// logarithm would; the margin is small: a little above the knee's edge it reduces.
    #[test]
    fn quiet_power_is_a_safe_and_tight_bound() {
        for k in 0..170 {
            let threshold = -60.0 + 0.37 * k as f32;
            for knee in [0.0, 0.5, 6.0, 24.0] {
                let gc = GainComputer::new(threshold, 4.0, knee, 40.0);
                let quiet = gc.quiet_power();
                for below in [1e-15, 1e-12, 1e-10, 1e-6, 0.5] {
                    let power = quiet * (1.0 - below);
                    assert_eq!(
                        gc.reduction_db(power_db(power)),
                        0.0,
                        "{threshold} {knee} {below}"
                    );
                }
                let edge = 10f64.powf((gc.threshold_db - 0.5 * gc.knee_db) / 10.0);
                assert!((quiet / edge - 1.0).abs() < 2e-9, "{quiet} vs {edge}");
                assert!(gc.reduction_db(power_db(edge * 1.001)) > 0.0);
            }
        }
    }

    /// The library-free logarithm and exponential against the standard library's.
    #[test]
    fn power_db_and_gain_match_the_library() {
        let mut x = 1.1e-20f64;
        while x < 1e20 {
            let want = 10.0 * x.log10();
            assert!(
                (power_db(x) - want).abs() < 1e-9,
                "{x}: {} vs {want}",
                power_db(x)
            );
            x *= 1.0137;
        }
        let mut db = -600.0f64;
        while db <= 600.0 {
            let want = (db * std::f64::consts::LN_10 / 20.0).exp();
            let got = db_to_gain_f64(db);
            assert!(((got - want) / want).abs() < 1e-12, "{db}: {got} vs {want}");
            db += 0.0731;
        }
        assert_eq!(db_to_gain_f64(0.0), 1.0);
    }
}
