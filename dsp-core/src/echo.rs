//! Stereo delay (echo): per-side times with a smoothly gliding read head, stereo or ping-pong
//! feedback with low/high cut and optional saturation in the loop, a soft limit that keeps
//! feedback above 100% bounded, ducking of the wet signal by the dry input, modulation, width
//! and mix.
//!
//! # Read head
//! A time change never jumps: the read position glides to the new time (two one-pole stages
//! of `GLIDE_MS`/2 in `f64`), read through 4-point Hermite interpolation, like a tape machine's varispeed (the
//! echoes bend in pitch briefly instead of clicking). Tempo-synced times are worked out by the
//! plugin from the host tempo and arrive here in ms, so tempo changes glide the same way.
//!
//! # Feedback loop
//! `loop_in = input + feedback · shape(filters(echo))`: the echo (or, in ping-pong, the other
//! side's echo) passes the low and high cut (12 dB/oct Butterworth) and, with saturation on, a
//! `tanh` drive stage; a soft limiter (`x / √(1 + (x/1.5)²)`: −0.02 dB at −20 dBFS, −0.12 dB
//! at −12 dBFS) is always in the loop, so feedback up to 110% grows into saturation rather
//! than to infinity.
//!
//! # Ducking
//! The wet signal is turned down by up to `duck` (0–1, i.e. to −∞ dB) while the dry input is
//! loud: a peak envelope (5 ms attack, 150 ms release) of the input maps to the reduction (none
//! below −50 dBFS, all of it from −20 dBFS), so echoes bloom in the gaps.

use crate::biquad::{Biquad, Coeffs};
use crate::denormal::{flush, sanitize};
use crate::smoother::Smoother;
use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// Longest delay time, ms (4 bars at 60 bpm) plus modulation room.
pub const MAX_TIME_MS: f32 = 16_000.0;
/// Read-head glide time constant, ms.
pub const GLIDE_MS: f32 = 80.0;

/// Parameter ranges, shared with the plugin.
pub mod range {
    pub const TIME_MS: (f32, f32) = (1.0, super::MAX_TIME_MS);
    pub const OFFSET_MS: (f32, f32) = (-50.0, 50.0);
    pub const FEEDBACK: (f32, f32) = (0.0, 1.1);
    pub const LOW_CUT_HZ: (f32, f32) = (20.0, 2_000.0);
    pub const HIGH_CUT_HZ: (f32, f32) = (1_000.0, 20_000.0);
    pub const UNIT: (f32, f32) = (0.0, 1.0);
    pub const MOD_RATE_HZ: (f32, f32) = (0.05, 5.0);
    pub const WIDTH: (f32, f32) = (0.0, 2.0);
    pub const OUTPUT_DB: (f32, f32) = (-24.0, 12.0);
}

/// Peak modulation at depth 1, ms.
const MOD_MS: f64 = 2.0;
/// Soft-limit knee of the loop (`x / √(1 + (x/K)²)`).
const LIMIT_KNEE: f32 = 1.5;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EchoSettings {
    /// Delay time, ms (the left side; the right side adds `offset_ms`).
    pub time_ms: f32,
    /// Right-side time offset, ms.
    pub offset_ms: f32,
    /// Ping-pong: each side's echo feeds the other side, the input enters on the left.
    pub ping_pong: bool,
    /// Loop gain, 0–1.1.
    pub feedback: f32,
    pub low_cut_hz: f32,
    pub high_cut_hz: f32,
    /// 0–1: `tanh` drive in the loop (0 = clean).
    pub saturation: f32,
    /// 0–1: how far the dry input turns the wet signal down.
    pub duck: f32,
    /// 0–1: delay modulation depth (up to ±2 ms).
    pub mod_depth: f32,
    pub mod_rate_hz: f32,
    /// 0–2: stereo width of the wet signal.
    pub width: f32,
    /// 0 = dry, 1 = wet.
    pub mix: f32,
    /// Output level, dB (after the mix; 0 dB and mix 0 pass the input bit for bit).
    pub output_db: f32,
    pub bypass: bool,
}

impl Default for EchoSettings {
    fn default() -> Self {
        Self {
            time_ms: 375.0,
            offset_ms: 0.0,
            ping_pong: false,
            feedback: 0.35,
            low_cut_hz: 80.0,
            high_cut_hz: 8_000.0,
            saturation: 0.0,
            duck: 0.0,
            mod_depth: 0.0,
            mod_rate_hz: 0.5,
            width: 1.0,
            mix: 0.3,
            output_db: 0.0,
            bypass: false,
        }
    }
}

impl EchoSettings {
    /// Every field clamped into its range (NaN → default).
    pub fn clamped(&self) -> Self {
        let d = Self::default();
        let c = crate::clamp_or;
        Self {
            time_ms: c(self.time_ms, range::TIME_MS, d.time_ms),
            offset_ms: c(self.offset_ms, range::OFFSET_MS, d.offset_ms),
            ping_pong: self.ping_pong,
            feedback: c(self.feedback, range::FEEDBACK, d.feedback),
            low_cut_hz: c(self.low_cut_hz, range::LOW_CUT_HZ, d.low_cut_hz),
            high_cut_hz: c(self.high_cut_hz, range::HIGH_CUT_HZ, d.high_cut_hz),
            saturation: c(self.saturation, range::UNIT, d.saturation),
            duck: c(self.duck, range::UNIT, d.duck),
            mod_depth: c(self.mod_depth, range::UNIT, d.mod_depth),
            mod_rate_hz: c(self.mod_rate_hz, range::MOD_RATE_HZ, d.mod_rate_hz),
            width: c(self.width, range::WIDTH, d.width),
            mix: c(self.mix, range::UNIT, d.mix),
            output_db: c(self.output_db, range::OUTPUT_DB, d.output_db),
            bypass: self.bypass,
        }
    }

    /// The delay times of the two sides, ms.
    pub fn times_ms(&self) -> [f32; 2] {
        let s = self.clamped();
        [
            s.time_ms,
            (s.time_ms + s.offset_ms).clamp(range::TIME_MS.0, MAX_TIME_MS),
        ]
    }

    /// How long the echoes last after the input stops, seconds: until the loop has lost 60 dB
    /// (at most a minute; feedback at or above 100% never ends).
    pub fn tail_s(&self) -> Option<f64> {
        let s = self.clamped();
        let longest = s.times_ms()[0].max(s.times_ms()[1]) as f64 * 1e-3;
        if s.feedback >= 1.0 {
            return None;
        }
        let passes = if s.feedback <= 1e-3 {
            1.0
        } else {
            (-60.0 / (20.0 * (s.feedback as f64).log10())).ceil() + 1.0
        };
        Some((passes * longest).min(60.0))
    }
}

/// 4-point Hermite read of `buffer` (ring, power-of-two length): the value `delay` (≥ 1)
/// samples older than the one at index `newest`.
#[inline]
fn hermite(buffer: &[f32], newest: usize, delay: f64) -> f32 {
    let mask = buffer.len() - 1;
    let whole = delay.floor();
    let frac = (delay - whole) as f32;
    let i = newest.wrapping_sub(whole as usize);
    // Around the read point, from newer to older: x[-1], x0, x1, x2.
    let xm1 = buffer[i.wrapping_add(1) & mask];
    let x0 = buffer[i & mask];
    let x1 = buffer[i.wrapping_sub(1) & mask];
    let x2 = buffer[i.wrapping_sub(2) & mask];
    let c1 = 0.5 * (x1 - xm1);
    let c2 = xm1 - 2.5 * x0 + 2.0 * x1 - 0.5 * x2;
    let c3 = 0.5 * (x2 - xm1) + 1.5 * (x0 - x1);
    ((c3 * frac + c2) * frac + c1) * frac + x0
}

/// The stereo delay. See the module docs.
pub struct Echo {
    sample_rate: f32,
    settings: EchoSettings,
    buffers: [Vec<f32>; 2],
    write: usize,
    /// Read-head positions (samples), gliding to the set times.
    times: [Glide; 2],
    low_cut: [Biquad; 2],
    high_cut: [Biquad; 2],
    feedback: Smoother,
    saturation: Smoother,
    duck: Smoother,
    mod_depth: Smoother,
    width: Smoother,
    mix: Smoother,
    output: Smoother,
    /// Modulation phase (radians) and per-sample step.
    phase: f64,
    step: f64,
    /// Ducking envelope of the dry input (linear peak).
    envelope: f32,
    attack: f32,
    release: f32,
}

impl Echo {
    pub fn new(sample_rate: f32, settings: EchoSettings) -> Self {
        let s = settings.clamped();
        let len = ((MAX_TIME_MS as f64 + 60.0 + MOD_MS) * 1e-3 * sample_rate as f64) as usize + 8;
        let len = len.next_power_of_two();
        // ms · fs / 1000 keeps whole-sample times exact in f32.
        let samples = |ms: f32| ms * sample_rate / 1000.0;
        let times = s.times_ms();
        let smoother = |v: f32| Smoother::new(sample_rate, 20.0, v);
        let coefficient = |ms: f32| (-1.0 / (ms * 1e-3 * sample_rate)).exp();
        let mut echo = Self {
            sample_rate,
            settings: s,
            buffers: [vec![0.0; len], vec![0.0; len]],
            write: 0,
            times: times.map(|t| Glide::new(sample_rate, samples(t) as f64)),
            low_cut: [Biquad::default(); 2],
            high_cut: [Biquad::default(); 2],
            feedback: smoother(s.feedback),
            saturation: smoother(s.saturation),
            duck: smoother(s.duck),
            mod_depth: smoother(s.mod_depth),
            width: smoother(s.width),
            mix: smoother(if s.bypass { 0.0 } else { s.mix }),
            output: smoother(output_gain(&s)),
            phase: 0.0,
            step: 0.0,
            envelope: 0.0,
            attack: coefficient(5.0),
            release: coefficient(150.0),
        };
        echo.update_filters();
        echo
    }

    pub fn settings(&self) -> &EchoSettings {
        &self.settings
    }

    /// Zero: the dry signal is not delayed.
    pub fn latency(&self) -> u32 {
        0
    }

    /// Samples of tail after the input stops (`None`: feedback ≥ 100%, it does not end).
    pub fn tail_samples(&self) -> Option<u32> {
        self.settings
            .tail_s()
            .map(|s| (s * self.sample_rate as f64).ceil() as u32)
    }

    pub fn set_settings(&mut self, settings: &EchoSettings) {
        let s = settings.clamped();
        let samples = |ms: f32| ms * self.sample_rate / 1000.0;
        for (glide, t) in self.times.iter_mut().zip(s.times_ms()) {
            glide.target = samples(t) as f64;
        }
        self.feedback.set_target(s.feedback);
        self.saturation.set_target(s.saturation);
        self.duck.set_target(s.duck);
        self.mod_depth.set_target(s.mod_depth);
        self.width.set_target(s.width);
        self.mix.set_target(if s.bypass { 0.0 } else { s.mix });
        self.output.set_target(output_gain(&s));
        self.settings = s;
        self.update_filters();
    }

    pub fn reset(&mut self) {
        for b in &mut self.buffers {
            b.fill(0.0);
        }
        for f in self.low_cut.iter_mut().chain(&mut self.high_cut) {
            f.reset();
        }
        for glide in &mut self.times {
            glide.snap();
        }
        for s in [
            &mut self.feedback,
            &mut self.saturation,
            &mut self.duck,
            &mut self.mod_depth,
            &mut self.width,
            &mut self.mix,
            &mut self.output,
        ] {
            s.reset(s.target());
        }
        self.envelope = 0.0;
        self.phase = 0.0;
    }

    fn update_filters(&mut self) {
        let fs = self.sample_rate as f64;
        let s = &self.settings;
        let low = Coeffs::highpass(fs, s.low_cut_hz as f64, FRAC_1_SQRT_2);
        let high = Coeffs::lowpass(fs, (s.high_cut_hz as f64).min(0.45 * fs), FRAC_1_SQRT_2);
        for c in 0..2 {
            self.low_cut[c].set_coeffs(low);
            self.high_cut[c].set_coeffs(high);
        }
        self.step = 2.0 * PI * s.mod_rate_hz as f64 / fs;
    }

    /// Processes a stereo block in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let mask = self.buffers[0].len() - 1;
        let mod_samples = MOD_MS * 1e-3 * self.sample_rate as f64;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let (dry_l, _) = sanitize(*l);
            let (dry_r, _) = sanitize(*r);
            let depth = self.mod_depth.tick() as f64 * mod_samples;
            self.phase += self.step;
            if self.phase > 2.0 * PI {
                self.phase -= 2.0 * PI;
            }
            let wobble = depth * (1.0 + self.phase.sin());
            let mut echo = [0.0f32; 2];
            for (c, e) in echo.iter_mut().enumerate() {
                // `write` holds the previous input, x[n−1]: x[n−d] is d − 1 older.
                let delay = (self.times[c].tick() + wobble).max(2.0);
                *e = hermite(&self.buffers[c], self.write, delay - 1.0);
            }
            // The loop: filters, drive, soft limit.
            let feedback = self.feedback.tick();
            let drive = self.saturation.tick();
            let mut back = [0.0f32; 2];
            for c in 0..2 {
                let x = self.low_cut[c].process(echo[c] as f64);
                let mut x = self.high_cut[c].process(x) as f32;
                if drive > 0.0 {
                    // Unity for small signals, rounding off loud ones harder with more drive.
                    let gain = 1.0 + 4.0 * drive;
                    x = (x * gain).tanh() / gain;
                }
                back[c] = soft_limit(x * feedback);
            }
            let input = if self.settings.ping_pong {
                [dry_l + dry_r + back[1], back[0]]
            } else {
                [dry_l + back[0], dry_r + back[1]]
            };
            self.write = (self.write + 1) & mask;
            self.buffers[0][self.write] = flush(input[0]);
            self.buffers[1][self.write] = flush(input[1]);
            // Ducking by the dry level.
            let peak = dry_l.abs().max(dry_r.abs());
            let coefficient = if peak > self.envelope {
                self.attack
            } else {
                self.release
            };
            self.envelope = flush(peak + (self.envelope - peak) * coefficient);
            let duck = self.duck.tick();
            let wet_gain = if duck > 0.0 {
                1.0 - duck * duck_amount(self.envelope)
            } else {
                1.0
            };
            let width = self.width.tick();
            let (mid, side) = (
                0.5 * (echo[0] + echo[1]) * wet_gain,
                0.5 * (echo[0] - echo[1]) * wet_gain * width,
            );
            let mix = self.mix.tick();
            let output = self.output.tick();
            if mix == 0.0 && output == 1.0 {
                *l = if l.is_finite() { *l } else { 0.0 };
                *r = if r.is_finite() { *r } else { 0.0 };
                continue;
            }
            *l = (dry_l * (1.0 - mix) + (mid + side) * mix) * output;
            *r = (dry_r * (1.0 - mix) + (mid - side) * mix) * output;
        }
    }
}

/// The read head's glide: two one-pole stages in `f64` (time constant `GLIDE_MS`/2 each), so
/// the head also starts and stops moving smoothly (no kink in the pitch) and lands exactly (an
/// `f32` smoother's last step at ~10⁴ samples can be a sample or two: a click).
#[derive(Clone, Copy, Debug)]
struct Glide {
    first: f64,
    second: f64,
    target: f64,
    k: f64,
}

impl Glide {
    fn new(sample_rate: f32, value: f64) -> Self {
        Self {
            first: value,
            second: value,
            target: value,
            k: 1.0 - (-1.0 / (0.5 * GLIDE_MS as f64 * 1e-3 * sample_rate as f64)).exp(),
        }
    }

    fn snap(&mut self) {
        (self.first, self.second) = (self.target, self.target);
    }

    #[inline]
    fn tick(&mut self) -> f64 {
        if self.second != self.target {
            self.first += (self.target - self.first) * self.k;
            self.second += (self.first - self.second) * self.k;
            if (self.second - self.target).abs() < 1e-9 && (self.first - self.target).abs() < 1e-9 {
                self.snap();
            }
        }
        self.second
    }
}

/// How far the dry envelope ducks: none below −50 dBFS, fully from −20 dBFS, linear in dB
/// between.
#[inline]
fn duck_amount(envelope: f32) -> f32 {
    if envelope <= 0.003_162_3 {
        return 0.0;
    }
    ((20.0 * envelope.log10() + 50.0) / 30.0).min(1.0)
}

/// The loop's soft limit: unity for small signals, approaching ±`LIMIT_KNEE`.
#[inline]
fn soft_limit(x: f32) -> f32 {
    let k = x / LIMIT_KNEE;
    x / (1.0 + k * k).sqrt()
}

/// The output gain: the set level, or unity when bypassed (bypass passes the input unchanged).
fn output_gain(s: &EchoSettings) -> f32 {
    if s.bypass {
        1.0
    } else {
        crate::db_to_gain(s.output_db)
    }
}
