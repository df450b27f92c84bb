//! True-peak lookahead limiter.
//!
//! # How it works
//! The input is scaled by `drive = input gain / ceiling`, so the job becomes "keep the true peak at
//! or below 1.0"; the ceiling is multiplied back in at the output. For every sample:
//!
//! 1. `TruePeakDetector` estimates the true peak of the driven signal (oversampled, see
//!    [`crate::oversampling`]) around the sample `G` samples ago.
//! 2. The *required gain* is `min(1, 1/peak)` (less the headroom of [`DETECTION_LIMIT`] and, in
//!    true-peak mode, [`TRUE_PEAK_MARGIN_DB`]); channels are linked by mixing each channel's
//!    requirement with the smallest one (`link` 0..1). Mixing values that are each ≤ a channel's
//!    own requirement keeps it ≤ that requirement.
//! 3. A sliding minimum over `W = L + 2H` samples (`L` = lookahead, `H` = hold) holds each
//!    requirement for the whole window, then the release lets the gain recover (fixed: one-pole;
//!    auto: two-stage, see below). The released envelope never exceeds the windowed minimum.
//! 4. Two cascaded moving averages spanning `L` samples turn the held steps into S-shaped ramps
//!    (the attack). An average of values that are all ≤ `r` is ≤ `r`, so for the `2H + 1` samples
//!    centred on a
//!    peak the gain is at most that peak's requirement: the ceiling holds by construction, and the
//!    hold keeps the gain flat across the span of the reconstruction filter a true-peak meter uses.
//! 5. The audio is delayed by `latency = G + L − 1 + H` to line up with its gain.
//!
//! The input gain as applied (`drive · ceiling`) goes through a delay line with the audio, so a
//! ceiling change can never let a peak that was detected under the old ceiling through above the
//! new one. Fully linked channels share one envelope.
//!
//! Auto release (program-dependent): a slow envelope follows the required gain with an attack of
//! 3× and a release of 10× the set release time; the fast envelope releases towards the slow one
//! instead of towards unity. An isolated transient barely moves the slow envelope, so the gain
//! recovers at the set release time; sustained limiting pulls the slow envelope down, and the
//! remaining reduction then recovers slowly, which avoids pumping and distortion on dense material
//! (the two-stage release described by Giannoulis, Massberg & Reiss, JAES 2012, §3).
//!
//! Unity-gain listen: the output is scaled by the ratio of the K-weighted (ITU-R BS.1770) mean
//! square of the input and the output, averaged over 3 s, so the limited signal is heard at the
//! loudness of the unprocessed one.
//!
//! Bypass crossfades to the input delayed by the same latency, so bypassing never changes timing.

use crate::db::db_to_gain;
use crate::delay::DelayLine;
use crate::denormal::sanitize;
use crate::kweight::KWeighting;
use crate::minmax::{MovingAverage, SlidingMin};
use crate::oversampling::{self, Oversampling, TruePeakDetector};
use crate::smoother::Smoother;
use crate::MAX_CHANNELS;

/// Parameter ranges, in the units of [`LimiterSettings`]. Setters clamp to these.
pub mod range {
    pub const INPUT_GAIN_DB: (f32, f32) = (0.0, 24.0);
    pub const CEILING_DB: (f32, f32) = (-12.0, 0.0);
    pub const RELEASE_MS: (f32, f32) = (1.0, 1000.0);
    pub const LOOKAHEAD_MS: (f32, f32) = (0.1, 10.0);
    pub const STEREO_LINK: (f32, f32) = (0.0, 1.0);
    pub const OUTPUT_TRIM_DB: (f32, f32) = (-24.0, 0.0);
}

/// The level, relative to the ceiling, that the detected sample peak is limited to: −0.001 dB,
/// which absorbs the `f32` rounding between detection and output (measured at up to 0.0002 dB).
const DETECTION_LIMIT: f32 = 0.999_885;
/// Extra headroom in true-peak mode, dB: keeps the output under the ceiling on a BS.1770 4x meter
/// as well as on the detector's own reconstruction, whose readings of the same heavily limited
/// noise differ by up to ~0.1 dB. (Disagreement between reconstructions about band-edge content
/// is bounded in the detector itself, see [`crate::oversampling`].)
const TRUE_PEAK_MARGIN_DB: f32 = 0.1;
/// Hold `H` in true-peak mode: samples on each side of a detected peak over which the gain is held
/// at or below its requirement, so that the gain is flat across the main lobe of a meter's
/// reconstruction filter (the BS.1770 filter spans ±6 samples).
const TRUE_PEAK_HOLD: usize = 16;
/// Smoothed values are computed this many samples at a time.
const SUB_BLOCK: usize = 64;
/// Smoothing time constant for gains and mixes.
const SMOOTHING_MS: f32 = 10.0;
/// Averaging time of the unity-gain listen loudness estimates.
const LISTEN_AVERAGE_MS: f32 = 3000.0;
/// Bounds of the listen gain.
const LISTEN_GAIN_RANGE_DB: (f32, f32) = (-48.0, 24.0);

/// Everything a user can set, in physical units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LimiterSettings {
    /// Gain before the limiter, dB (0..24).
    pub input_gain_db: f32,
    /// Highest true peak of the output, dBTP (−12..0).
    pub ceiling_db: f32,
    /// Release time constant, ms (1..1000).
    pub release_ms: f32,
    /// Program-dependent two-stage release.
    pub auto_release: bool,
    /// Lookahead (attack ramp length), ms (0.1..10).
    pub lookahead_ms: f32,
    /// Stereo link, 0 (independent) .. 1 (fully linked).
    pub stereo_link: f32,
    /// Peak detection: `Off` is sample peak, otherwise true peak at that oversampling.
    pub oversampling: Oversampling,
    /// Gain after the limiter, dB (−24..0; never above the ceiling).
    pub output_trim_db: f32,
    /// Unity-gain listen: output matched to the input loudness.
    pub listen: bool,
    /// Bypass: the input, delayed by the same latency.
    pub bypass: bool,
}

impl Default for LimiterSettings {
    fn default() -> Self {
        Self {
            input_gain_db: 0.0,
            ceiling_db: -1.0,
            release_ms: 100.0,
            auto_release: true,
            lookahead_ms: 2.0,
            stereo_link: 1.0,
            oversampling: Oversampling::X8,
            output_trim_db: 0.0,
            listen: false,
            bypass: false,
        }
    }
}

impl LimiterSettings {
    /// The settings with every value clamped into its range (NaN becomes the default).
    pub fn clamped(&self) -> Self {
        let default = Self::default();
        let clamp = crate::clamp_or;
        Self {
            input_gain_db: clamp(
                self.input_gain_db,
                range::INPUT_GAIN_DB,
                default.input_gain_db,
            ),
            ceiling_db: clamp(self.ceiling_db, range::CEILING_DB, default.ceiling_db),
            release_ms: clamp(self.release_ms, range::RELEASE_MS, default.release_ms),
            lookahead_ms: clamp(self.lookahead_ms, range::LOOKAHEAD_MS, default.lookahead_ms),
            stereo_link: clamp(self.stereo_link, range::STEREO_LINK, default.stereo_link),
            output_trim_db: clamp(
                self.output_trim_db,
                range::OUTPUT_TRIM_DB,
                default.output_trim_db,
            ),
            ..*self
        }
    }
}

/// What happened during one `process` call, for meters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LimiterStats {
    /// Smallest gain applied by the limiter (1 = no reduction).
    pub min_gain: f32,
    /// Largest sample magnitude of the driven input (before limiting), linear.
    pub input_peak: f32,
    /// Number of NaN/inf input samples replaced by silence.
    pub non_finite: u32,
}

impl Default for LimiterStats {
    fn default() -> Self {
        Self {
            min_gain: 1.0,
            input_peak: 0.0,
            non_finite: 0,
        }
    }
}

/// The gain envelope of one channel (or of both, when fully linked): hold, release, attack.
#[derive(Clone, Debug)]
struct Envelope {
    /// Required gain held over the window.
    window_min: SlidingMin,
    /// Attack ramp: two cascaded moving averages (lengths `L1 + L2 − 1 = L`), an S-shaped ramp
    /// with a continuous slope, whose corners spread far less energy to the band edge than a
    /// linear ramp's.
    average: MovingAverage,
    average2: MovingAverage,
    /// Released gain (fast stage).
    release: f32,
    /// Slow stage of the auto release.
    slow: f32,
}

impl Envelope {
    fn reset(&mut self) {
        self.window_min.reset();
        self.average.reset();
        self.average2.reset();
        self.release = 1.0;
        self.slow = 1.0;
    }

    /// Takes over another envelope's state without allocating.
    fn copy_from(&mut self, other: &Envelope) {
        self.window_min.copy_from(&other.window_min);
        self.average.copy_from(&other.average);
        self.average2.copy_from(&other.average2);
        self.release = other.release;
        self.slow = other.slow;
    }

    /// One sample: the required gain in, the gain to apply (to the delayed audio) out.
    #[inline(always)]
    fn process(&mut self, required: f32, poles: &ReleasePoles, auto_release: bool) -> f32 {
        let held = self.window_min.process(required);
        self.release_and_ramp(held, poles, auto_release)
    }

    /// [`Envelope::process`] after the hold: the held requirement in.
    #[inline(always)]
    fn release_and_ramp(&mut self, held: f32, poles: &ReleasePoles, auto_release: bool) -> f32 {
        let mut gain = [0.0];
        self.release_and_ramp_block(&[held], &mut gain, poles, auto_release);
        gain[0]
    }

    /// [`Envelope::release_and_ramp`] over a block, `gains[j]` from `held[j]`: stage after
    /// stage over the block (the release, then each moving average), each with its state in
    /// locals, so that every stage's sample-to-sample chain stays in registers.
    #[inline(always)]
    fn release_and_ramp_block(
        &mut self,
        held: &[f32],
        gains: &mut [f32],
        poles: &ReleasePoles,
        auto_release: bool,
    ) {
        let (mut release, mut slow) = (self.release, self.slow);
        for (&held, gain) in held.iter().zip(gains.iter_mut()) {
            let released = if auto_release {
                slow = if held < slow {
                    held + (slow - held) * poles.slow_attack
                } else {
                    1.0 - (1.0 - slow) * poles.slow_release
                };
                slow - (slow - release) * poles.release
            } else {
                1.0 - (1.0 - release) * poles.release
            };
            // `f32::min` for a requirement that is never NaN (a gain of 1 or limit / peak): one
            // `minss`, where `min` also tests `released` for NaN on the release's chain.
            release = if released < held { released } else { held };
            *gain = release;
        }
        (self.release, self.slow) = (release, slow);
        for average in [&mut self.average, &mut self.average2] {
            let mut stepper = average.stepper();
            for gain in gains.iter_mut() {
                *gain = stepper.process(*gain);
            }
        }
    }
}

/// A detection reduced to what a fully linked limiter's gain depends on: per sample the
/// largest reading over the channels and over the limiter's hold window (made by
/// [`Limiter::peak_hold`], read by [`Limiter::gains_held`]). It does not depend on the input
/// gain or the ceiling (the required gain falls as the reading rises, so the window's smallest
/// requirement is the one of its largest reading, exactly), so an offline search reduces a
/// detection once and skips the window on every gain it tries.
#[derive(Clone, Debug)]
pub struct PeakHold {
    window: SlidingMin,
}

impl PeakHold {
    /// `held[j]` from the readings `peaks[c][j]` (one slice per channel, each at least as long).
    pub fn process(&mut self, peaks: &[&[f32]], held: &mut [f32]) {
        // The window holds the negated largest reading: its smallest is the largest.
        match peaks {
            [left, right] => {
                assert!(
                    left.len().min(right.len()) >= held.len(),
                    "a reading per sample"
                );
                for ((h, &l), &r) in held.iter_mut().zip(&left[..]).zip(&right[..]) {
                    *h = -0.0f32.max(l).max(r);
                }
            }
            _ => {
                for (j, h) in held.iter_mut().enumerate() {
                    *h = -peaks.iter().fold(0.0f32, |m, p| m.max(p[j]));
                }
            }
        }
        self.window.process_block(held);
        held.iter_mut().for_each(|h| *h = -*h);
    }

    /// The hold window, in samples: after this many zero readings the held value is zero.
    pub fn window(&self) -> usize {
        self.window.window()
    }
}

/// Per-sample poles of the release stages.
#[derive(Clone, Copy, Debug, Default)]
struct ReleasePoles {
    release: f32,
    slow_attack: f32,
    slow_release: f32,
}

/// Per-channel state.
#[derive(Clone, Debug)]
struct Channel {
    detector: TruePeakDetector,
    /// Raw input, delayed by the latency: the limited path and the bypass path both read it.
    delay: DelayLine,
    envelope: Envelope,
    /// Loudness weighting of input and output for unity-gain listen.
    k_in: KWeighting,
    k_out: KWeighting,
}

/// The true-peak lookahead limiter. See the module documentation.
#[derive(Clone, Debug)]
pub struct Limiter {
    sample_rate: f32,
    channels: Vec<Channel>,
    settings: LimiterSettings,

    /// Level the detected peak is limited to (relative to the ceiling).
    detection_limit: f32,
    /// Lookahead `L`, hold `H` and detector delay `G`, in samples.
    lookahead: usize,
    hold: usize,
    detector_latency: usize,

    poles: ReleasePoles,
    /// Whether the channels ran as one envelope in the previous sample (fully linked).
    was_linked: bool,

    /// `input gain / ceiling`, applied before detection.
    drive: Smoother,
    /// Ceiling gain at the input side.
    ceiling: Smoother,
    /// `drive · ceiling` (the input gain as applied), delayed with the audio to the output.
    scale_delay: DelayLine,
    /// Output trim gain.
    trim: Smoother,
    /// 1 = limiter output, 0 = bypassed (delayed input).
    active_mix: Smoother,
    /// 1 = listen gain applied.
    listen_mix: Smoother,
    /// Unity-gain listen: smoothed gain and the two K-weighted mean squares.
    listen_gain: Smoother,
    listen_pole: f64,
    listen_ms_in: f64,
    listen_ms_out: f64,
    /// Whether the listen estimates were running in the previous block.
    listen_running: bool,
}

impl Limiter {
    /// A limiter for `channels` channels (1 or 2) at `sample_rate` Hz. Allocates everything for the
    /// largest lookahead at this rate; nothing allocates afterwards.
    pub fn new(sample_rate: f32, channels: usize, settings: LimiterSettings) -> Self {
        let channels = channels.clamp(1, MAX_CHANNELS);
        let settings = settings.clamped();
        let max_lookahead = ms_to_samples(sample_rate, range::LOOKAHEAD_MS.1);
        let max_window = max_lookahead + 2 * TRUE_PEAK_HOLD;
        let max_latency = oversampling::MAX_LATENCY + max_lookahead + TRUE_PEAK_HOLD;
        let channel = Channel {
            detector: TruePeakDetector::new(sample_rate, settings.oversampling),
            delay: DelayLine::new(max_latency, 0),
            envelope: Envelope {
                window_min: SlidingMin::new(max_window, 1),
                average: MovingAverage::new(max_lookahead, 1, 1.0),
                average2: MovingAverage::new(max_lookahead, 1, 1.0),
                release: 1.0,
                slow: 1.0,
            },
            k_in: KWeighting::new(sample_rate as f64),
            k_out: KWeighting::new(sample_rate as f64),
        };
        let mut limiter = Self {
            sample_rate,
            channels: vec![channel; channels],
            settings,
            detection_limit: DETECTION_LIMIT,
            lookahead: 1,
            hold: 0,
            detector_latency: 0,
            poles: ReleasePoles::default(),
            was_linked: true,
            drive: Smoother::new(sample_rate, SMOOTHING_MS, 1.0),
            ceiling: Smoother::new(sample_rate, SMOOTHING_MS, 1.0),
            scale_delay: DelayLine::new(max_latency, 0),
            trim: Smoother::new(sample_rate, SMOOTHING_MS, 1.0),
            active_mix: Smoother::new(sample_rate, SMOOTHING_MS, 1.0),
            listen_mix: Smoother::new(sample_rate, SMOOTHING_MS, 0.0),
            listen_gain: Smoother::new(sample_rate, 50.0, 1.0),
            listen_pole: 0.0,
            listen_ms_in: 0.0,
            listen_ms_out: 0.0,
            listen_running: false,
        };
        limiter.configure();
        limiter.apply_continuous_settings();
        limiter.jump_to_targets();
        limiter
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    pub fn num_channels(&self) -> usize {
        self.channels.len()
    }

    pub fn settings(&self) -> &LimiterSettings {
        &self.settings
    }

    /// Latency in samples: the detector delay, the lookahead and the hold.
    pub fn latency(&self) -> u32 {
        (self.detector_latency + self.lookahead - 1 + self.hold) as u32
    }

    /// The latency the given settings would have at this sample rate (for hosts that want to know
    /// before switching).
    pub fn latency_for(sample_rate: f32, settings: &LimiterSettings) -> u32 {
        let settings = settings.clamped();
        let detector = TruePeakDetector::latency_for(sample_rate, settings.oversampling);
        let hold = if detector > 0 { TRUE_PEAK_HOLD } else { 0 };
        let lookahead = ms_to_samples(sample_rate, settings.lookahead_ms);
        (detector + lookahead - 1 + hold) as u32
    }

    /// Applies new settings. Gains, release, link, listen and bypass change smoothly. A change of
    /// lookahead or oversampling changes the latency: the limiter is then reconfigured and reset,
    /// and `true` is returned so the caller can report the new latency.
    pub fn set_settings(&mut self, settings: &LimiterSettings) -> bool {
        let settings = settings.clamped();
        let structural = settings.lookahead_ms != self.settings.lookahead_ms
            || settings.oversampling != self.settings.oversampling;
        self.settings = settings;
        if structural {
            let old_latency = self.latency();
            self.configure();
            self.apply_continuous_settings();
            self.reset();
            return self.latency() != old_latency;
        }
        self.apply_continuous_settings();
        false
    }

    /// Sizes the detector, windows and delays for the lookahead and oversampling.
    fn configure(&mut self) {
        let sample_rate = self.sample_rate;
        self.lookahead = ms_to_samples(sample_rate, self.settings.lookahead_ms);
        for channel in &mut self.channels {
            channel
                .detector
                .set_oversampling(sample_rate, self.settings.oversampling);
        }
        self.detector_latency = self.channels[0].detector.latency();
        let true_peak = self.channels[0].detector.factor() > 1;
        self.hold = if true_peak { TRUE_PEAK_HOLD } else { 0 };
        self.detection_limit = if true_peak {
            DETECTION_LIMIT * db_to_gain(-TRUE_PEAK_MARGIN_DB)
        } else {
            DETECTION_LIMIT
        };
        let latency = self.latency() as usize;
        let window = self.lookahead + 2 * self.hold;
        let (first, second) = split_ramp(self.lookahead);
        for channel in &mut self.channels {
            channel.delay.set_delay(latency);
            channel.envelope.window_min.set_window(window);
            channel.envelope.average.set_window(first);
            channel.envelope.average2.set_window(second);
        }
        self.scale_delay.set_delay(latency);
    }

    /// Sets the smoother targets and per-sample poles from the settings.
    fn apply_continuous_settings(&mut self) {
        let s = self.settings;
        let ceiling = db_to_gain(s.ceiling_db);
        self.drive.set_target(db_to_gain(s.input_gain_db) / ceiling);
        self.ceiling.set_target(ceiling);
        self.trim.set_target(db_to_gain(s.output_trim_db));
        self.active_mix.set_target(if s.bypass { 0.0 } else { 1.0 });
        self.listen_mix.set_target(if s.listen { 1.0 } else { 0.0 });
        let pole = |ms: f32| (-1.0 / (ms * 0.001 * self.sample_rate)).exp();
        self.poles = ReleasePoles {
            release: pole(s.release_ms),
            slow_attack: pole(3.0 * s.release_ms),
            slow_release: pole(10.0 * s.release_ms),
        };
        self.listen_pole =
            (-1.0 / (LISTEN_AVERAGE_MS as f64 * 0.001 * self.sample_rate as f64)).exp();
    }

    /// Moves every smoother straight to its target (on construction and reset).
    fn jump_to_targets(&mut self) {
        for smoother in [
            &mut self.drive,
            &mut self.ceiling,
            &mut self.trim,
            &mut self.active_mix,
            &mut self.listen_mix,
        ] {
            smoother.reset(smoother.target());
        }
        self.listen_gain.reset(self.listen_prior());
    }

    /// The listen gain to start from before loudness has been measured: undo the input gain and
    /// the trim.
    fn listen_prior(&self) -> f32 {
        1.0 / (db_to_gain(self.settings.input_gain_db) * db_to_gain(self.settings.output_trim_db))
    }

    /// Clears all signal state; settings are kept and smoothers jump to their targets.
    pub fn reset(&mut self) {
        for channel in &mut self.channels {
            channel.detector.reset();
            channel.delay.reset();
            channel.envelope.reset();
        }
        self.scale_delay.reset();
        self.restart_listen();
        self.jump_to_targets();
    }

    fn restart_listen(&mut self) {
        for channel in &mut self.channels {
            channel.k_in.reset();
            channel.k_out.reset();
        }
        self.listen_ms_in = 0.0;
        self.listen_ms_out = 0.0;
        self.listen_gain.reset(self.listen_prior());
    }

    /// Processes a block in place. `channels` holds one slice per channel, all the same length;
    /// channels beyond the configured count pass through untouched.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) -> LimiterStats {
        self.process_with(channels, None)
    }

    /// The largest detected peak, at the limiter's input before its input gain, that the
    /// limiter leaves alone at its current settings (ceiling and input gain targets): while every
    /// reading stays at or under it the gain stays at unity.
    pub fn threshold(&self) -> f32 {
        self.detection_limit / self.drive.target()
    }

    /// A fresh detector exactly like the limiter's own (rate, oversampling, latency).
    pub fn detector(&self) -> TruePeakDetector {
        let mut detector = self.channels[0].detector.clone();
        detector.reset();
        detector
    }

    /// [`Limiter::process`] with the detection done beforehand: `peaks[c][j]` is what
    /// [`Limiter::detector`] returned for sample `j` of channel `c` of this input *before the
    /// limiter's input gain*, fed from the same starting point (a reset). The detector is
    /// linear, so the limiter scales each reading by its drive: while the input gain and ceiling
    /// stay put the output equals `process`'s to `f32` rounding. An offline renderer that tries
    /// many input gains on one signal detects once instead of on every pass. Use one of
    /// `process` and `process_detected` between resets, not both.
    pub fn process_detected(
        &mut self,
        channels: &mut [&mut [f32]],
        peaks: &[&[f32]],
    ) -> LimiterStats {
        self.process_with(channels, Some(peaks))
    }

    /// What the gain of this limiter depends on in a detection made beforehand (as for
    /// [`Limiter::process_detected`]), for [`Limiter::gains_held`].
    pub fn peak_hold(&self) -> PeakHold {
        let window = self.channels[0].envelope.window_min.window();
        PeakHold {
            window: SlidingMin::new(window, window),
        }
    }

    /// The limiter's gain alone, from a detection reduced by [`Limiter::peak_hold`]: `gains[j]`
    /// is the factor by which the output scales the input delayed by the latency, so
    /// `process_detected` would give `delayed · gains` (to `f32` rounding; unity-gain listen is
    /// left out). The audio is not read and the held peaks already carry the envelope's
    /// window, so this costs a small fraction of a render: for an offline search that needs
    /// only the loudness of the result, with its input's loudness weighting known.
    ///
    /// Only for a fully linked limiter whose settings have not changed since its reset (the
    /// held peaks are reduced before the input gain). Use it between resets without the other
    /// process calls (the audio delay does not move). `input_peak` in the stats stays 0.
    pub fn gains_held(&mut self, held: &[f32], gains: &mut [f32]) -> LimiterStats {
        assert!(
            self.settings.stereo_link >= 1.0 || self.channels.len() == 1,
            "held peaks serve a fully linked limiter"
        );
        assert!(
            self.drive.is_settled(),
            "held peaks need a steady input gain"
        );
        let mut stats = LimiterStats::default();
        let len = held.len().min(gains.len());
        let drive = self.drive.target();
        let (poles, auto_release) = (self.poles, self.settings.auto_release);
        let mut sub_start = 0;
        while sub_start < len {
            let n = (len - sub_start).min(SUB_BLOCK);
            let mut ceilings = [0.0f32; SUB_BLOCK];
            let mut trims = [0.0f32; SUB_BLOCK];
            let mut actives = [0.0f32; SUB_BLOCK];
            self.ceiling.fill(&mut ceilings[..n]);
            self.trim.fill(&mut trims[..n]);
            self.active_mix.fill(&mut actives[..n]);
            let applied: [f32; SUB_BLOCK] = std::array::from_fn(|j| drive * ceilings[j]);
            let mut scales = [0.0f32; SUB_BLOCK];
            self.scale_delay
                .process_into(&applied[..n], &mut scales[..n]);
            let mut driven = [0.0f32; SUB_BLOCK];
            for (d, &h) in driven.iter_mut().zip(&held[sub_start..sub_start + n]) {
                *d = h * drive;
            }
            let mut required = [1.0f32; SUB_BLOCK];
            self.require(&driven[..n], &mut required);
            let envelope = &mut self.channels[0].envelope;
            let out = &mut gains[sub_start..sub_start + n];
            envelope.release_and_ramp_block(&required[..n], out, &poles, auto_release);
            for (j, gain) in out.iter_mut().enumerate() {
                let g = *gain;
                // `f32::min` for a gain that is never NaN: one `minss` on the statistic's chain.
                stats.min_gain = if g < stats.min_gain {
                    g
                } else {
                    stats.min_gain
                };
                // The mix with unity is exact at either end (the full gain when active).
                *gain = scales[j] * g * trims[j] * actives[j] + (1.0 - actives[j]);
            }
            sub_start += n;
        }
        stats
    }

    // The sample index addresses the caller's channel slices and the per-channel state together.
    #[allow(clippy::needless_range_loop)]
    fn process_with(
        &mut self,
        channels: &mut [&mut [f32]],
        detected: Option<&[&[f32]]>,
    ) -> LimiterStats {
        let mut stats = LimiterStats::default();
        let num_channels = channels.len().min(self.channels.len());
        if num_channels == 0 {
            return stats;
        }
        let mut len = channels[..num_channels]
            .iter()
            .map(|c| c.len())
            .min()
            .unwrap_or(0);
        if let Some(peaks) = detected {
            assert!(peaks.len() >= num_channels, "one peak slice per channel");
            len = peaks[..num_channels]
                .iter()
                .fold(len, |len, p| len.min(p.len()));
        }
        let listen_active = self.settings.listen || !self.listen_mix.is_settled();
        if listen_active && !self.listen_running {
            // Start measuring afresh; until then the prior (undo input gain and trim) is used.
            self.restart_listen();
        }
        self.listen_running = listen_active;
        // Fully linked channels share one envelope: compute it once. When linking is relaxed, the
        // other channels continue from the shared envelope's state.
        let link = self.settings.stereo_link;
        let auto_release = self.settings.auto_release;
        let linked = link >= 1.0 || num_channels == 1;
        if !linked && self.was_linked {
            let (first, rest) = self.channels.split_at_mut(1);
            for channel in rest {
                channel.envelope.copy_from(&first[0].envelope);
            }
        }
        self.was_linked = linked;
        let poles = self.poles;

        // Work a sub-block at a time, one stage after another: smoothed values, then per channel
        // sanitising, delay and detection, then the shared envelope, then the output. Each sample
        // sees exactly the arithmetic of a sample-by-sample loop; grouping it keeps each stage's
        // loop tight (and the output stage vectorisable).
        let mut sub_start = 0;
        while sub_start < len {
            let n = (len - sub_start).min(SUB_BLOCK);
            let range = sub_start..sub_start + n;
            let mut drives = [0.0f32; SUB_BLOCK];
            let mut ceilings = [0.0f32; SUB_BLOCK];
            let mut trims = [0.0f32; SUB_BLOCK];
            let mut actives = [0.0f32; SUB_BLOCK];
            let mut listen_mixes = [0.0f32; SUB_BLOCK];
            let mut listen_gains = [0.0f32; SUB_BLOCK];
            self.drive.fill(&mut drives[..n]);
            self.ceiling.fill(&mut ceilings[..n]);
            self.trim.fill(&mut trims[..n]);
            self.active_mix.fill(&mut actives[..n]);
            self.listen_mix.fill(&mut listen_mixes[..n]);
            self.listen_gain.fill(&mut listen_gains[..n]);

            // The input gain as applied, delayed with the audio.
            let mut applied = [0.0f32; SUB_BLOCK];
            for j in 0..n {
                applied[j] = drives[j] * ceilings[j];
            }
            let mut scales = [0.0f32; SUB_BLOCK];
            self.scale_delay
                .process_into(&applied[..n], &mut scales[..n]);

            // Per channel: sanitise, delay, detect.
            let mut dry = [[0.0f32; SUB_BLOCK]; MAX_CHANNELS];
            let mut delayed = [[0.0f32; SUB_BLOCK]; MAX_CHANNELS];
            let mut required = [[1.0f32; SUB_BLOCK]; MAX_CHANNELS];
            for c in 0..num_channels {
                let channel = &mut self.channels[c];
                let input = &channels[c][range.clone()];
                for j in 0..n {
                    let (x, bad) = sanitize(input[j]);
                    stats.non_finite += bad as u32;
                    dry[c][j] = x;
                }
                channel
                    .delay
                    .process_into(&dry[c][..n], &mut delayed[c][..n]);
                let mut driven = [0.0f32; SUB_BLOCK];
                for j in 0..n {
                    driven[j] = dry[c][j] * drives[j];
                    // Inputs are sanitised: plain comparisons, not NaN-aware max().
                    if driven[j].abs() > stats.input_peak {
                        stats.input_peak = driven[j].abs();
                    }
                }
                let mut peaks = [0.0f32; SUB_BLOCK];
                match detected {
                    Some(given) => {
                        for j in 0..n {
                            peaks[j] = given[c][sub_start + j] * drives[j];
                        }
                    }
                    None => channel
                        .detector
                        .process_block(&driven[..n], &mut peaks[..n]),
                }
                self.require(&peaks[..n], &mut required[c]);
            }

            // Envelope: one shared when fully linked. Linking mixes each requirement with the
            // smallest, which keeps it ≤ each channel's own requirement.
            let mut gains = [[1.0f32; SUB_BLOCK]; MAX_CHANNELS];
            for j in 0..n {
                let mut smallest = 1.0f32;
                for req in &required[..num_channels] {
                    if req[j] < smallest {
                        smallest = req[j];
                    }
                }
                if linked {
                    gains[0][j] = self.channels[0]
                        .envelope
                        .process(smallest, &poles, auto_release);
                } else {
                    for c in 0..num_channels {
                        let linked_required = required[c][j] + link * (smallest - required[c][j]);
                        gains[c][j] = self.channels[c].envelope.process(
                            linked_required,
                            &poles,
                            auto_release,
                        );
                    }
                }
            }
            if linked {
                for c in 1..num_channels {
                    gains[c] = gains[0];
                }
            }

            // Output.
            for c in 0..num_channels {
                for &g in &gains[c][..n] {
                    if g < stats.min_gain {
                        stats.min_gain = g;
                    }
                }
                let output = &mut channels[c][range.clone()];
                for j in 0..n {
                    let limited = delayed[c][j] * scales[j] * gains[c][j] * trims[j];
                    // A mix exact at either end: deep limiting keeps every bit of its output.
                    output[j] = limited * actives[j] + delayed[c][j] * (1.0 - actives[j]);
                }
            }

            // Unity-gain listen: loudness of input and output, and the matching gain.
            if listen_active {
                for j in 0..n {
                    let mut loud_in = 0.0f64;
                    let mut loud_out = 0.0f64;
                    for c in 0..num_channels {
                        let channel = &mut self.channels[c];
                        let limited = delayed[c][j] * scales[j] * gains[c][j] * trims[j];
                        let weighted_in = channel.k_in.process(dry[c][j] as f64);
                        let weighted_out = channel.k_out.process(limited as f64);
                        loud_in += weighted_in * weighted_in;
                        loud_out += weighted_out * weighted_out;
                        let out = limited * (1.0 + listen_mixes[j] * (listen_gains[j] - 1.0));
                        channels[c][sub_start + j] =
                            out * actives[j] + delayed[c][j] * (1.0 - actives[j]);
                    }
                    let pole = self.listen_pole;
                    self.listen_ms_in = loud_in + pole * (self.listen_ms_in - loud_in);
                    self.listen_ms_out = loud_out + pole * (self.listen_ms_out - loud_out);
                }
            }
            sub_start += n;
        }

        if listen_active {
            self.update_listen_gain();
        }
        stats
    }

    /// The gain each driven detector reading requires (1 where it is under the limit).
    fn require(&self, peaks: &[f32], required: &mut [f32; SUB_BLOCK]) {
        let detection_limit = self.detection_limit;
        for (&peak, required) in peaks.iter().zip(required.iter_mut()) {
            if peak > detection_limit {
                *required = detection_limit / peak;
            }
        }
    }

    /// Retargets the listen gain from the loudness estimates (once per block).
    fn update_listen_gain(&mut self) {
        // Below about −100 LUFS there is nothing meaningful to match.
        const FLOOR: f64 = 1e-10;
        if self.listen_ms_in > FLOOR && self.listen_ms_out > FLOOR {
            let db = 10.0 * (self.listen_ms_in / self.listen_ms_out).log10();
            let db = (db as f32).clamp(LISTEN_GAIN_RANGE_DB.0, LISTEN_GAIN_RANGE_DB.1);
            self.listen_gain.set_target(db_to_gain(db));
        }
    }
}

/// Input gains [`HeldGainLanes`] works on at once.
pub const GAIN_LANES: usize = 8;

/// [`Limiter::gains_held`] at [`GAIN_LANES`] input gains at once, for an offline search that
/// wants the loudness at several gains from one read of the held detection. Lane `l` gives
/// exactly (bit for bit) what a freshly reset limiter's `gains_held` gives for the held peaks
/// scaled by `input_gains[l]`: the same operations in the same order, one lane per gain, all
/// eight in one AVX register where the CPU has AVX2.
#[derive(Clone, Debug)]
pub struct HeldGainLanes {
    input_gains: [f32; GAIN_LANES],
    drive: f32,
    detection_limit: f32,
    poles: ReleasePoles,
    auto_release: bool,
    /// `drive · ceiling`, trim and active mix (all settled).
    scale: f32,
    trim: f32,
    active: f32,
    /// Samples the delayed scale still reads as 0, as the scale delay does after a reset.
    unscaled: usize,
    release: [f32; GAIN_LANES],
    slow: [f32; GAIN_LANES],
    averages: [LaneAverage; 2],
}

/// [`MovingAverage`] (at rest on 1.0 after a reset) per lane.
#[derive(Clone, Debug)]
struct LaneAverage {
    buffer: Vec<[f32; GAIN_LANES]>,
    pos: usize,
    inverse_window: f64,
    sum: [f64; GAIN_LANES],
}

impl LaneAverage {
    fn new(window: usize) -> Self {
        Self {
            buffer: vec![[1.0; GAIN_LANES]; window],
            pos: 0,
            inverse_window: 1.0 / window as f64,
            sum: [window as f64; GAIN_LANES],
        }
    }

    /// [`MovingAverage::process`] per lane. Its shortcut at rest returns the rest value without
    /// moving on; here the lanes always move on, which gives the same outputs: at rest every
    /// value in the window is the rest value, so the sum does not change and reads as the rest
    /// value, and where the ring starts does not matter.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn process(&mut self, value: [f32; GAIN_LANES]) -> [f32; GAIN_LANES] {
        let old = &mut self.buffer[self.pos];
        let mut out = [0.0; GAIN_LANES];
        for l in 0..GAIN_LANES {
            self.sum[l] += value[l] as f64 - old[l] as f64;
            out[l] = (self.sum[l] * self.inverse_window) as f32;
        }
        *old = value;
        self.pos += 1;
        if self.pos == self.buffer.len() {
            self.pos = 0;
        }
        out
    }
}

impl Limiter {
    /// Lanes for [`Limiter::gains_held`] at `input_gains` (factors applied to the held peaks),
    /// each starting as this limiter does after a reset. Same conditions as `gains_held`, and
    /// the ceiling, trim and bypass must be settled too. Allocates the ramp's history.
    pub fn held_gain_lanes(&self, input_gains: [f32; GAIN_LANES]) -> HeldGainLanes {
        assert!(
            self.settings.stereo_link >= 1.0 || self.channels.len() == 1,
            "held peaks serve a fully linked limiter"
        );
        assert!(
            self.drive.is_settled()
                && self.ceiling.is_settled()
                && self.trim.is_settled()
                && self.active_mix.is_settled(),
            "lanes need steady gains"
        );
        let envelope = &self.channels[0].envelope;
        HeldGainLanes {
            input_gains,
            drive: self.drive.target(),
            detection_limit: self.detection_limit,
            poles: self.poles,
            auto_release: self.settings.auto_release,
            scale: self.drive.target() * self.ceiling.target(),
            trim: self.trim.target(),
            active: self.active_mix.target(),
            unscaled: self.scale_delay.delay(),
            release: [1.0; GAIN_LANES],
            slow: [1.0; GAIN_LANES],
            averages: [
                LaneAverage::new(envelope.average.window()),
                LaneAverage::new(envelope.average2.window()),
            ],
        }
    }
}

impl HeldGainLanes {
    /// `gains[j][l]`: what `gains_held` gives at sample `j` for the held peaks times
    /// `input_gains[l]`. Call in order through the held detection, in blocks of any size.
    pub fn process(&mut self, held: &[f32], gains: &mut [[f32; GAIN_LANES]]) {
        #[cfg(target_arch = "x86_64")]
        if crate::kernels::has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 (checked above).
            unsafe { self.process_avx2(held, gains) };
            return;
        }
        self.process_lanes(held, gains);
    }

    /// The delayed `drive · ceiling` at the next sample.
    #[inline(always)]
    fn next_scale(&mut self) -> f32 {
        if self.unscaled > 0 {
            self.unscaled -= 1;
            0.0
        } else {
            self.scale
        }
    }

    /// [`HeldGainLanes::process_lanes`] in AVX registers, operation for operation.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn process_avx2(&mut self, held: &[f32], gains: &mut [[f32; GAIN_LANES]]) {
        use std::arch::x86_64::*;
        let splat = _mm256_set1_ps;
        let one = splat(1.0);
        let input_gains = _mm256_loadu_ps(self.input_gains.as_ptr());
        let drive = splat(self.drive);
        let limit = splat(self.detection_limit);
        let (release_pole, slow_attack, slow_release) = (
            splat(self.poles.release),
            splat(self.poles.slow_attack),
            splat(self.poles.slow_release),
        );
        let (active, trim) = (splat(self.active), splat(self.trim));
        let mut release = _mm256_loadu_ps(self.release.as_ptr());
        let mut slow = _mm256_loadu_ps(self.slow.as_ptr());
        // Each moving average's sums as two f64 halves.
        let mut sums = self.averages.each_ref().map(|a| {
            [
                _mm256_loadu_pd(a.sum.as_ptr()),
                _mm256_loadu_pd(a.sum.as_ptr().add(4)),
            ]
        });
        let inverse = self
            .averages
            .each_ref()
            .map(|a| _mm256_set1_pd(a.inverse_window));
        // Stage after stage over stretches that stay in the first-level cache (the release,
        // each moving average, the scaling), each stage's state in registers: one loop for all
        // of them ran out of registers and kept the sums' chains in memory.
        const STRETCH: usize = 256;
        let n = held.len().min(gains.len());
        for (held, gains) in held[..n]
            .chunks(STRETCH)
            .zip(gains[..n].chunks_mut(STRETCH))
        {
            for (&h, out) in held.iter().zip(gains.iter_mut()) {
                let driven = _mm256_mul_ps(_mm256_mul_ps(splat(h), input_gains), drive);
                let required = _mm256_blendv_ps(
                    one,
                    _mm256_div_ps(limit, driven),
                    _mm256_cmp_ps::<_CMP_GT_OQ>(driven, limit),
                );
                let released = if self.auto_release {
                    let attacking = _mm256_add_ps(
                        required,
                        _mm256_mul_ps(_mm256_sub_ps(slow, required), slow_attack),
                    );
                    let recovering =
                        _mm256_sub_ps(one, _mm256_mul_ps(_mm256_sub_ps(one, slow), slow_release));
                    slow = _mm256_blendv_ps(
                        recovering,
                        attacking,
                        _mm256_cmp_ps::<_CMP_LT_OQ>(required, slow),
                    );
                    _mm256_sub_ps(
                        slow,
                        _mm256_mul_ps(_mm256_sub_ps(slow, release), release_pole),
                    )
                } else {
                    _mm256_sub_ps(
                        one,
                        _mm256_mul_ps(_mm256_sub_ps(one, release), release_pole),
                    )
                };
                // `f32::min` of values that are never NaN: the first where it is smaller (minps
                // returns its second operand unless the first is less).
                release = _mm256_min_ps(released, required);
                _mm256_storeu_ps(out.as_mut_ptr(), release);
            }
            for (k, average) in self.averages.iter_mut().enumerate() {
                let [mut low, mut high] = sums[k];
                let mut pos = average.pos;
                for out in gains.iter_mut() {
                    let value = _mm256_loadu_ps(out.as_ptr());
                    let slot = average.buffer[pos].as_mut_ptr();
                    let old = _mm256_loadu_ps(slot);
                    _mm256_storeu_ps(slot, value);
                    pos += 1;
                    if pos == average.buffer.len() {
                        pos = 0;
                    }
                    let half = |sum: &mut __m256d, value: __m128, old: __m128| {
                        let difference =
                            _mm256_sub_pd(_mm256_cvtps_pd(value), _mm256_cvtps_pd(old));
                        *sum = _mm256_add_pd(*sum, difference);
                        _mm256_cvtpd_ps(_mm256_mul_pd(*sum, inverse[k]))
                    };
                    let averaged_low = half(
                        &mut low,
                        _mm256_castps256_ps128(value),
                        _mm256_castps256_ps128(old),
                    );
                    let averaged_high = half(
                        &mut high,
                        _mm256_extractf128_ps::<1>(value),
                        _mm256_extractf128_ps::<1>(old),
                    );
                    _mm256_storeu_ps(
                        out.as_mut_ptr(),
                        _mm256_set_m128(averaged_high, averaged_low),
                    );
                }
                sums[k] = [low, high];
                average.pos = pos;
            }
            for out in gains.iter_mut() {
                let scale = self.next_scale();
                let ramped = _mm256_loadu_ps(out.as_ptr());
                let scaled = _mm256_mul_ps(_mm256_mul_ps(splat(scale), ramped), trim);
                let gain = _mm256_add_ps(_mm256_mul_ps(scaled, active), _mm256_sub_ps(one, active));
                _mm256_storeu_ps(out.as_mut_ptr(), gain);
            }
        }
        _mm256_storeu_ps(self.release.as_mut_ptr(), release);
        _mm256_storeu_ps(self.slow.as_mut_ptr(), slow);
        for (average, [low, high]) in self.averages.iter_mut().zip(sums) {
            _mm256_storeu_pd(average.sum.as_mut_ptr(), low);
            _mm256_storeu_pd(average.sum.as_mut_ptr().add(4), high);
        }
    }

    /// The lanes in plain code (no fused operations, so every path rounds alike).
    // A lane index addresses the state arrays and the gains together.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn process_lanes(&mut self, held: &[f32], gains: &mut [[f32; GAIN_LANES]]) {
        let poles = self.poles;
        for (&h, out) in held.iter().zip(gains.iter_mut()) {
            let scale = self.next_scale();
            let mut released = [0.0f32; GAIN_LANES];
            for l in 0..GAIN_LANES {
                // `require`, then `Envelope::release_and_ramp` up to the ramp.
                let driven = h * self.input_gains[l] * self.drive;
                let required = if driven > self.detection_limit {
                    self.detection_limit / driven
                } else {
                    1.0
                };
                let release = if self.auto_release {
                    let slow = self.slow[l];
                    self.slow[l] = if required < slow {
                        required + (slow - required) * poles.slow_attack
                    } else {
                        1.0 - (1.0 - slow) * poles.slow_release
                    };
                    self.slow[l] - (self.slow[l] - self.release[l]) * poles.release
                } else {
                    1.0 - (1.0 - self.release[l]) * poles.release
                };
                self.release[l] = release.min(required);
                released[l] = self.release[l];
            }
            let [first, second] = &mut self.averages;
            let ramped = second.process(first.process(released));
            for l in 0..GAIN_LANES {
                out[l] = scale * ramped[l] * self.trim * self.active + (1.0 - self.active);
            }
        }
    }
}

/// Splits a ramp of `lookahead` samples into two moving averages whose cascade spans it:
/// `first + second − 1 == lookahead`.
fn split_ramp(lookahead: usize) -> (usize, usize) {
    let first = lookahead.div_ceil(2);
    (first, lookahead + 1 - first)
}

/// Milliseconds to a whole number of samples, at least 1.
fn ms_to_samples(sample_rate: f32, ms: f32) -> usize {
    ((ms * 0.001 * sample_rate).round() as usize).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX lanes are the plain lanes (the path of CPUs without AVX2) bit for bit, with and
    /// without auto release, across resting, limiting and recovering stretches.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn gain_lanes_in_registers_are_the_plain_lanes() {
        if !crate::kernels::has_avx2_fma() {
            return;
        }
        let mut noise = crate::noise::WhiteNoise::new(11);
        let held: Vec<f32> = (0..20_000)
            .map(|n| {
                let level = [0.2, 1.5, 0.05, 3.0][(n / 2_500) % 4];
                (noise.next_f64().abs() * level) as f32
            })
            .collect();
        let gains = [0.5, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0];
        for auto_release in [false, true] {
            let settings = LimiterSettings {
                auto_release,
                ..LimiterSettings::default()
            };
            let limiter = Limiter::new(48_000.0, 2, settings);
            let mut plain = limiter.held_gain_lanes(gains);
            let mut registers = plain.clone();
            let mut want = vec![[0.0f32; GAIN_LANES]; held.len()];
            let mut got = want.clone();
            for (h, (w, g)) in held
                .chunks(700)
                .zip(want.chunks_mut(700).zip(got.chunks_mut(700)))
            {
                plain.process_lanes(h, w);
                // SAFETY: AVX2 is there (checked above).
                unsafe { registers.process_avx2(h, g) };
            }
            for (j, (w, g)) in want.iter().zip(&got).enumerate() {
                assert_eq!(
                    w.map(f32::to_bits),
                    g.map(f32::to_bits),
                    "auto release {auto_release}, sample {j}"
                );
            }
            assert!(want.iter().any(|w| w[7] < 0.2), "limits");
        }
    }
}
