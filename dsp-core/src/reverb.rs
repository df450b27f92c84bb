//! Algorithmic reverb: a 16-line feedback delay network with per-line attenuation filters
//! that set the decay time per band, an early-reflection stage, input diffusion and gentle
//! delay modulation.
//!
//! # Structure
//! Input (both channels) → predelay → damping (first-order low-pass) → early reflections (a
//! tapped delay per side) and, through four series allpass diffusers, the late tank: 16 delay
//! lines of mutually prime lengths (about 11–56 ms at size 1, scaled down to 25% at size 0),
//! fed back through a normalised 16×16 Hadamard matrix (orthogonal, so the loop itself neither
//! gains nor loses energy; computed as a fast Walsh–Hadamard transform: 64 additions).
//!
//! # Decay time per band (Jot's method)
//! A line `d` samples long must lose `60·d/(fs·T60)` dB per pass for the network to decay by
//! 60 dB in `T60` seconds (J.-M. Jot and A. Chaigne, "Digital delay networks for designing
//! artificial reverberators", AES 90th Convention, 1991). Each line's attenuation filter is
//! that gain at mid frequencies times a low shelf and a high shelf (second order) whose
//! plateau gains give `T60·low_mult` below the low crossover and `T60·high_mult` above the
//! high crossover; half the dB difference lands at each crossover. With both multipliers at 1
//! the filter is a plain gain and the decay is exactly `T60` at every frequency. Two shelves
//! cannot give the sharp per-band control of Schlecht & Habets' accurate attenuation filters
//! (graphic-EQ designs, "Accurate reverberation time control in feedback delay networks",
//! DAFx 2017); they are smooth and cheap, and the tests measure what they give.
//!
//! # Modulation
//! Each line's delay moves by up to ±0.6 ms·depth at its own rate (0.85–1.15 × the set rate,
//! spread phases), read through a first-order allpass (Thiran) interpolator, which is
//! lossless: modulation does not change the decay. Freeze holds the modulation still, mutes
//! the input into the tank and glides every line's gain to exactly 1, so the tank keeps its
//! energy.
//!
//! # Output
//! The lines are tapped with two orthogonal ±1 patterns (rows of the Hadamard matrix) for left
//! and right, mixed with the early reflections by `early_late`, shaped by the wet low and high
//! cuts (12 dB/oct Butterworth) and by `width` (mid/side), then mixed with the dry signal
//! (`mix` 0 passes the input bit for bit).

use crate::biquad::{Biquad, Coeffs};
use crate::denormal::{flush, flush_f64, sanitize};
use crate::smoother::Smoother;
use std::f64::consts::PI;

/// Delay lines in the network.
pub const LINES: usize = 16;
/// Longest predelay, ms.
pub const MAX_PREDELAY_MS: f32 = 500.0;

/// Parameter ranges, shared with the plugin.
pub mod range {
    pub const PREDELAY_MS: (f32, f32) = (0.0, super::MAX_PREDELAY_MS);
    pub const SIZE: (f32, f32) = (0.0, 1.0);
    pub const DECAY_S: (f32, f32) = (0.1, 20.0);
    pub const LOW_MULT: (f32, f32) = (0.25, 4.0);
    pub const LOW_XOVER_HZ: (f32, f32) = (50.0, 1_000.0);
    pub const HIGH_MULT: (f32, f32) = (0.1, 2.0);
    pub const HIGH_XOVER_HZ: (f32, f32) = (1_000.0, 16_000.0);
    pub const UNIT: (f32, f32) = (0.0, 1.0);
    pub const MOD_RATE_HZ: (f32, f32) = (0.05, 5.0);
    pub const WIDTH: (f32, f32) = (0.0, 2.0);
    pub const WET_LOW_CUT_HZ: (f32, f32) = (20.0, 2_000.0);
    pub const WET_HIGH_CUT_HZ: (f32, f32) = (1_000.0, 20_000.0);
    pub const OUTPUT_DB: (f32, f32) = (-24.0, 12.0);
}

/// Line lengths at size 1, ms: mutually prime sample counts at 48 kHz spread over 11–56 ms
/// (so that their echoes do not coincide).
const LINE_MS: [f64; LINES] = [
    11.3, 13.7, 16.1, 18.7, 21.1, 23.9, 26.3, 29.3, 31.9, 34.7, 37.9, 40.9, 44.3, 47.9, 51.7, 55.9,
];
/// Diffuser allpass delays at size 1, ms, and their coefficient at diffusion 1.
const DIFFUSER_MS: [f64; 4] = [4.77, 3.59, 2.73, 1.87];
const DIFFUSER_GAIN: f32 = 0.7;
/// Early reflection taps (ms at size 1, gain) per side.
const EARLY_LEFT: [(f64, f32); 8] = [
    (4.3, 0.84),
    (9.7, -0.66),
    (15.1, 0.55),
    (21.7, -0.45),
    (29.3, 0.38),
    (37.1, -0.31),
    (46.9, 0.25),
    (57.1, -0.2),
];
const EARLY_RIGHT: [(f64, f32); 8] = [
    (5.9, 0.8),
    (11.3, -0.63),
    (17.9, 0.52),
    (24.1, -0.43),
    (31.7, 0.36),
    (41.3, -0.29),
    (50.3, 0.24),
    (61.9, -0.19),
];
/// Level of the late tail against the early reflections.
const LATE_GAIN: f32 = 0.35;
/// Smallest size scale (size 0).
const MIN_SCALE: f64 = 0.25;
/// Peak modulation at depth 1, ms.
const MOD_MS: f64 = 0.6;
/// How often the line filters are redesigned while parameters glide, samples.
const UPDATE_INTERVAL: usize = 16;
/// Parameter glide time constant, ms (size glides slower: it moves the read heads).
const SMOOTHING_MS: f32 = 20.0;
const SIZE_SMOOTHING_MS: f32 = 150.0;

/// Everything a user sets on a [`Reverb`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReverbSettings {
    pub predelay_ms: f32,
    /// 0–1: scales every delay from 25% to 100%.
    pub size: f32,
    /// RT60 at mid frequencies, seconds.
    pub decay_s: f32,
    /// Decay below `low_xover_hz` relative to `decay_s`.
    pub low_mult: f32,
    pub low_xover_hz: f32,
    /// Decay above `high_xover_hz` relative to `decay_s`.
    pub high_mult: f32,
    pub high_xover_hz: f32,
    /// 0–1: darkens what enters the room (first-order low-pass from 20 kHz down to 1.5 kHz).
    pub damping: f32,
    /// 0 = early reflections only, 1 = late tail only.
    pub early_late: f32,
    /// 0–1: input diffusion.
    pub diffusion: f32,
    /// 0–1: delay modulation depth.
    pub mod_depth: f32,
    pub mod_rate_hz: f32,
    /// 0–2: stereo width of the wet signal.
    pub width: f32,
    pub wet_low_cut_hz: f32,
    pub wet_high_cut_hz: f32,
    /// 0 = dry, 1 = wet.
    pub mix: f32,
    /// Output level, dB (after the mix; 0 dB and mix 0 pass the input bit for bit).
    pub output_db: f32,
    pub freeze: bool,
    pub bypass: bool,
}

impl Default for ReverbSettings {
    fn default() -> Self {
        Self {
            predelay_ms: 10.0,
            size: 0.6,
            decay_s: 2.0,
            low_mult: 1.2,
            low_xover_hz: 250.0,
            high_mult: 0.6,
            high_xover_hz: 4_000.0,
            damping: 0.3,
            early_late: 0.7,
            diffusion: 0.8,
            mod_depth: 0.3,
            mod_rate_hz: 0.7,
            width: 1.0,
            wet_low_cut_hz: 20.0,
            wet_high_cut_hz: 20_000.0,
            mix: 0.3,
            output_db: 0.0,
            freeze: false,
            bypass: false,
        }
    }
}

impl ReverbSettings {
    /// Every field clamped into its range (NaN → default).
    pub fn clamped(&self) -> Self {
        let d = Self::default();
        let c = crate::clamp_or;
        Self {
            predelay_ms: c(self.predelay_ms, range::PREDELAY_MS, d.predelay_ms),
            size: c(self.size, range::SIZE, d.size),
            decay_s: c(self.decay_s, range::DECAY_S, d.decay_s),
            low_mult: c(self.low_mult, range::LOW_MULT, d.low_mult),
            low_xover_hz: c(self.low_xover_hz, range::LOW_XOVER_HZ, d.low_xover_hz),
            high_mult: c(self.high_mult, range::HIGH_MULT, d.high_mult),
            high_xover_hz: c(self.high_xover_hz, range::HIGH_XOVER_HZ, d.high_xover_hz),
            damping: c(self.damping, range::UNIT, d.damping),
            early_late: c(self.early_late, range::UNIT, d.early_late),
            diffusion: c(self.diffusion, range::UNIT, d.diffusion),
            mod_depth: c(self.mod_depth, range::UNIT, d.mod_depth),
            mod_rate_hz: c(self.mod_rate_hz, range::MOD_RATE_HZ, d.mod_rate_hz),
            width: c(self.width, range::WIDTH, d.width),
            wet_low_cut_hz: c(self.wet_low_cut_hz, range::WET_LOW_CUT_HZ, d.wet_low_cut_hz),
            wet_high_cut_hz: c(
                self.wet_high_cut_hz,
                range::WET_HIGH_CUT_HZ,
                d.wet_high_cut_hz,
            ),
            mix: c(self.mix, range::UNIT, d.mix),
            output_db: c(self.output_db, range::OUTPUT_DB, d.output_db),
            freeze: self.freeze,
            bypass: self.bypass,
        }
    }

    /// The decay time (RT60, s) the network is designed for at `hz`, from the line filters'
    /// own response (what the editor draws): the mid decay shaped by the two shelves.
    pub fn decay_at(&self, sample_rate: f32, hz: f64) -> f64 {
        let s = self.clamped();
        let fs = sample_rate as f64;
        // The loss per second of a typical (30 ms) line, in dB: the per-line filters are gentle,
        // and a shelf's shape depends on its gain.
        let line = 0.03;
        let loss_db = -Attenuation::design(fs, &s, 1.0, line * fs).response_db(fs, hz) / line;
        if loss_db <= 0.0 {
            f64::INFINITY
        } else {
            60.0 / loss_db
        }
    }

    /// The tail after the input stops, seconds: predelay, the reflections and the longest
    /// band's decay to −60 dB.
    pub fn tail_s(&self) -> f64 {
        let s = self.clamped();
        let longest = s.low_mult.max(s.high_mult).max(1.0) as f64 * s.decay_s as f64;
        s.predelay_ms as f64 * 1e-3 + 0.07 + longest
    }
}

/// One line's attenuation: the mid gain, a low shelf and a high shelf (second order, RBJ's
/// cookbook shelves with slope 1: half the dB at the crossover, 12 dB/oct transitions, so the
/// band between the crossovers keeps the set decay).
#[derive(Clone, Copy, Debug)]
struct Attenuation {
    low: Coeffs,
    high: Coeffs,
}

impl Attenuation {
    /// For a line of `samples` at `fs`: the losses that give the settings' decay per band,
    /// scaled by `amount` (0 while frozen: unity).
    fn design(fs: f64, s: &ReverbSettings, amount: f64, samples: f64) -> Self {
        let seconds = samples / fs;
        let db = |t60: f64| -60.0 * seconds / t60 * amount;
        let mid = db(s.decay_s as f64);
        let low = db((s.decay_s * s.low_mult) as f64) - mid;
        let high = db((s.decay_s * s.high_mult) as f64) - mid;
        let gain = 10f64.powf(mid / 20.0);
        let mut low = Coeffs::low_shelf(fs, s.low_xover_hz as f64, low);
        low.b = low.b.map(|v| v * gain);
        let high = Coeffs::high_shelf(fs, (s.high_xover_hz as f64).min(0.45 * fs), high);
        Self { low, high }
    }

    fn response_db(&self, fs: f64, hz: f64) -> f64 {
        self.low.response(fs, hz).db() + self.high.response(fs, hz).db()
    }
}

/// A delay line read at a fractional, moving position through a first-order allpass
/// interpolator.
#[derive(Clone, Debug)]
struct Line {
    buffer: Vec<f32>,
    write: usize,
    /// Allpass interpolator state: its previous output.
    last: f32,
}

impl Line {
    fn new(capacity: usize) -> Self {
        Self {
            buffer: vec![0.0; capacity.next_power_of_two()],
            write: 0,
            last: 0.0,
        }
    }

    fn reset(&mut self) {
        self.buffer.fill(0.0);
        self.write = 0;
        self.last = 0.0;
    }

    /// Where to read a delay of `delay` (≥ 2) samples through a Thiran first-order allpass:
    /// integer part `m` and fraction `f` in [0.5, 1.5), `η = (1−f)/(1+f)`.
    fn read_point(delay: f64) -> (usize, f32) {
        let m = (delay - 0.5) as usize;
        let f = (delay - m as f64) as f32;
        (m, (1.0 - f) / (1.0 + f))
    }

    /// The sample at a [`Line::read_point`]: `y = η·x[n−m] + x[n−m−1] − η·y[n−1]`.
    #[inline]
    fn read(&mut self, (m, eta): (usize, f32)) -> f32 {
        let mask = self.buffer.len() - 1;
        // Read before this sample is pushed: x[n−k] sits k−1 behind the last write.
        let x0 = self.buffer[self.write.wrapping_sub(m - 1) & mask];
        let x1 = self.buffer[self.write.wrapping_sub(m) & mask];
        let y = flush(eta * (x0 - self.last) + x1);
        self.last = y;
        y
    }

    /// After a push: the sample pushed `delay` samples before the last one.
    #[inline]
    fn tap(&self, delay: usize) -> f32 {
        self.buffer[self.write.wrapping_sub(delay) & (self.buffer.len() - 1)]
    }

    #[inline]
    fn push(&mut self, x: f32) {
        self.write = (self.write + 1) & (self.buffer.len() - 1);
        self.buffer[self.write] = x;
    }
}

/// A Schroeder allpass diffuser `y = −g·x + d; buffer ← x + g·y`.
#[derive(Clone, Debug)]
struct Diffuser {
    line: Line,
    delay: usize,
}

impl Diffuser {
    #[inline]
    fn process(&mut self, x: f32, g: f32) -> f32 {
        let delayed = self.line.tap(self.delay);
        let v = flush(x + g * delayed);
        self.line.push(v);
        delayed - g * v
    }
}

/// The fast Walsh–Hadamard transform of 16 values, normalised (÷4): orthogonal.
#[inline]
fn hadamard(x: &mut [f32; LINES]) {
    let mut h = 1;
    while h < LINES {
        for i in (0..LINES).step_by(2 * h) {
            for j in i..i + h {
                let (a, b) = (x[j], x[j + h]);
                x[j] = a + b;
                x[j + h] = a - b;
            }
        }
        h *= 2;
    }
    for v in x.iter_mut() {
        *v *= 0.25;
    }
}

/// Row `row` of the 16×16 Hadamard matrix (±1).
const fn hadamard_row(row: usize) -> [f32; LINES] {
    let mut out = [1.0; LINES];
    let mut col = 0;
    while col < LINES {
        if (row & col).count_ones() % 2 == 1 {
            out[col] = -1.0;
        }
        col += 1;
    }
    out
}

/// How the input enters the lines and how left and right are tapped from them: three rows of
/// the Hadamard matrix (mutually orthogonal).
const FEED_SIGNS: [f32; LINES] = hadamard_row(5);
const LEFT_SIGNS: [f32; LINES] = hadamard_row(3);
const RIGHT_SIGNS: [f32; LINES] = hadamard_row(12);

/// The reverb. See the module docs.
pub struct Reverb {
    sample_rate: f32,
    settings: ReverbSettings,
    predelay: [Line; 2],
    early: [Line; 2],
    diffusers: [Diffuser; 4],
    lines: [Line; LINES],
    /// Line attenuation filters (low shelf with the mid gain, high shelf).
    low: [Biquad; LINES],
    high: [Biquad; LINES],
    /// Line lengths at size 1, samples.
    base: [f64; LINES],
    /// Modulation phasors (cos, sin), advanced once per update interval by `rotation`.
    phasor: [(f64, f64); LINES],
    rotation: [(f64, f64); LINES],
    /// Read points of the lines and early-reflection taps for the current interval (the
    /// modulation and a size glide move them once per update: at most a few hundredths of a
    /// sample).
    reads: [(usize, f32); LINES],
    early_taps: [[usize; 8]; 2],
    damping: [Biquad; 2],
    wet_low: [Biquad; 2],
    wet_high: [Biquad; 2],
    scale: Smoother,
    decay_s: Smoother,
    low_mult: Smoother,
    high_mult: Smoother,
    mod_depth: Smoother,
    /// 1 when frozen (input muted, losses off), 0 otherwise.
    freeze: Smoother,
    early_late: Smoother,
    width: Smoother,
    mix: Smoother,
    predelay_samples: Smoother,
    output: Smoother,
    until_update: usize,
    /// Line filters need a redesign (a setting changed).
    lines_dirty: bool,
}

impl Reverb {
    pub fn new(sample_rate: f32, settings: ReverbSettings) -> Self {
        let fs = sample_rate as f64;
        let s = settings.clamped();
        let ms = |v: f64| v * 1e-3 * fs;
        let mod_room = ms(MOD_MS) as usize + 4;
        let line = |v: f64| Line::new(ms(v) as usize + mod_room);
        let predelay_len = ms(MAX_PREDELAY_MS as f64) as usize + 4;
        let early_len = ms(EARLY_RIGHT[7].0.max(EARLY_LEFT[7].0)) as usize + 4;
        let smoother = |v: f32| Smoother::new(sample_rate, SMOOTHING_MS, v);
        let mut phasor = [(1.0, 0.0); LINES];
        for (i, p) in phasor.iter_mut().enumerate() {
            let angle = 2.0 * PI * i as f64 * 0.618_033_988_7;
            *p = (angle.cos(), angle.sin());
        }
        let mut reverb = Self {
            sample_rate,
            settings: s,
            predelay: [Line::new(predelay_len), Line::new(predelay_len)],
            early: [Line::new(early_len), Line::new(early_len)],
            diffusers: DIFFUSER_MS.map(|d| Diffuser {
                line: line(d),
                delay: ms(d) as usize,
            }),
            lines: LINE_MS.map(line),
            low: [Biquad::default(); LINES],
            high: [Biquad::default(); LINES],
            base: LINE_MS.map(ms),
            phasor,
            rotation: [(1.0, 0.0); LINES],
            reads: [(2, 0.0); LINES],
            early_taps: [[1; 8]; 2],
            damping: [Biquad::default(); 2],
            wet_low: [Biquad::default(); 2],
            wet_high: [Biquad::default(); 2],
            scale: Smoother::new(sample_rate, SIZE_SMOOTHING_MS, size_scale(s.size)),
            decay_s: smoother(s.decay_s),
            low_mult: smoother(s.low_mult),
            high_mult: smoother(s.high_mult),
            mod_depth: smoother(s.mod_depth),
            freeze: smoother(if s.freeze { 1.0 } else { 0.0 }),
            early_late: smoother(s.early_late),
            width: smoother(s.width),
            mix: smoother(if s.bypass { 0.0 } else { s.mix }),
            predelay_samples: smoother(ms(s.predelay_ms as f64) as f32),
            output: smoother(output_gain(&s)),
            until_update: 0,
            lines_dirty: false,
        };
        reverb.update_static();
        reverb.update_lines();
        reverb.update_reads();
        reverb
    }

    pub fn settings(&self) -> &ReverbSettings {
        &self.settings
    }

    /// Zero: the dry signal is not delayed.
    pub fn latency(&self) -> u32 {
        0
    }

    /// The tail after the input stops, in samples (see [`ReverbSettings::tail_s`]); `None`
    /// while frozen (the tail does not end).
    pub fn tail_samples(&self) -> Option<u32> {
        (!self.settings.freeze)
            .then(|| (self.settings.tail_s() * self.sample_rate as f64).ceil() as u32)
    }

    pub fn set_settings(&mut self, settings: &ReverbSettings) {
        let s = settings.clamped();
        let ms = |v: f32| v * 1e-3 * self.sample_rate;
        self.scale.set_target(size_scale(s.size));
        self.decay_s.set_target(s.decay_s);
        self.low_mult.set_target(s.low_mult);
        self.high_mult.set_target(s.high_mult);
        self.mod_depth.set_target(s.mod_depth);
        self.freeze.set_target(if s.freeze { 1.0 } else { 0.0 });
        self.early_late.set_target(s.early_late);
        self.width.set_target(s.width);
        self.mix.set_target(if s.bypass { 0.0 } else { s.mix });
        self.predelay_samples.set_target(ms(s.predelay_ms));
        self.output.set_target(output_gain(&s));
        self.settings = s;
        self.lines_dirty = true;
        self.update_static();
    }

    /// Clears the tail.
    pub fn reset(&mut self) {
        for l in self
            .predelay
            .iter_mut()
            .chain(&mut self.early)
            .chain(&mut self.lines)
        {
            l.reset();
        }
        for d in &mut self.diffusers {
            d.line.reset();
        }
        for b in self
            .low
            .iter_mut()
            .chain(&mut self.high)
            .chain(&mut self.damping)
            .chain(&mut self.wet_low)
            .chain(&mut self.wet_high)
        {
            b.reset();
        }
        for s in [
            &mut self.scale,
            &mut self.decay_s,
            &mut self.low_mult,
            &mut self.high_mult,
            &mut self.mod_depth,
            &mut self.freeze,
            &mut self.early_late,
            &mut self.width,
            &mut self.mix,
            &mut self.predelay_samples,
            &mut self.output,
        ] {
            s.reset(s.target());
        }
        self.update_lines();
        self.until_update = 0;
    }

    /// Filters that follow the settings directly (no glide needed: they are outside the loop
    /// or slow to matter): damping, wet cuts, modulation rates.
    fn update_static(&mut self) {
        let fs = self.sample_rate as f64;
        let s = &self.settings;
        let damping_hz = 20_000.0 * (1_500.0f64 / 20_000.0).powf(s.damping as f64);
        let damping = Coeffs::lowpass1(fs, damping_hz.min(0.45 * fs));
        let wet_low =
            Coeffs::highpass(fs, s.wet_low_cut_hz as f64, std::f64::consts::FRAC_1_SQRT_2);
        let wet_high = Coeffs::lowpass(
            fs,
            (s.wet_high_cut_hz as f64).min(0.45 * fs),
            std::f64::consts::FRAC_1_SQRT_2,
        );
        for c in 0..2 {
            self.damping[c].set_coeffs(damping);
            self.wet_low[c].set_coeffs(wet_low);
            self.wet_high[c].set_coeffs(wet_high);
        }
        for (i, r) in self.rotation.iter_mut().enumerate() {
            let spread = 0.85 + 0.3 * i as f64 / (LINES - 1) as f64;
            let w = 2.0 * PI * s.mod_rate_hz as f64 * spread / fs * UPDATE_INTERVAL as f64;
            *r = (w.cos(), w.sin());
        }
    }

    /// Line gains and shelves for the current (gliding) decay, size and freeze.
    fn update_lines(&mut self) {
        let fs = self.sample_rate as f64;
        let s = ReverbSettings {
            decay_s: self.decay_s.current(),
            low_mult: self.low_mult.current(),
            high_mult: self.high_mult.current(),
            ..self.settings
        };
        let amount = 1.0 - self.freeze.current() as f64;
        let scale = self.scale.current() as f64;
        // The mean delay of each line includes the modulation's offset.
        let depth = self.mod_depth.current() as f64 * MOD_MS * 1e-3 * fs;
        for i in 0..LINES {
            let samples = self.base[i] * scale + depth;
            let a = Attenuation::design(fs, &s, amount, samples);
            self.low[i].set_coeffs(a.low);
            self.high[i].set_coeffs(a.high);
        }
    }

    /// Advances the modulation by one interval and places the read points.
    fn update_reads(&mut self) {
        let fs = self.sample_rate as f64;
        let scale = self.scale.current() as f64;
        let depth = self.mod_depth.current() as f64 * MOD_MS * 1e-3 * fs;
        let moving = self.freeze.current() < 1.0;
        for i in 0..LINES {
            if moving {
                let (c, s) = self.phasor[i];
                let (rc, rs) = self.rotation[i];
                let (c, s) = (c * rc - s * rs, s * rc + c * rs);
                // Renormalised, as rounding drifts the length.
                let n = (c * c + s * s).sqrt();
                self.phasor[i] = (c / n, s / n);
            }
            let delay = self.base[i] * scale + depth * (1.0 + self.phasor[i].1);
            self.reads[i] = Line::read_point(delay.max(2.0));
        }
        let ms = |v: f64| ((v * scale * 1e-3 * fs) as usize).max(1);
        for k in 0..8 {
            self.early_taps[0][k] = ms(EARLY_LEFT[k].0);
            self.early_taps[1][k] = ms(EARLY_RIGHT[k].0);
        }
        for b in self.low.iter_mut().chain(&mut self.high) {
            b.flush();
        }
    }

    /// Whether anything the line filters depend on is still gliding.
    fn lines_gliding(&self) -> bool {
        [
            &self.scale,
            &self.decay_s,
            &self.low_mult,
            &self.high_mult,
            &self.mod_depth,
            &self.freeze,
        ]
        .iter()
        .any(|s| !s.is_settled())
    }

    /// Processes a stereo block in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let len = left.len().min(right.len());
        let mut start = 0;
        while start < len {
            if self.until_update == 0 {
                if self.lines_dirty || self.lines_gliding() {
                    self.update_lines();
                    self.lines_dirty = self.lines_gliding();
                }
                self.update_reads();
                self.until_update = UPDATE_INTERVAL;
            }
            let end = (start + self.until_update).min(len);
            for i in start..end {
                let (l, r) = self.tick(left[i], right[i]);
                left[i] = l;
                right[i] = r;
            }
            self.until_update -= end - start;
            start = end;
        }
    }

    #[inline]
    fn tick(&mut self, left: f32, right: f32) -> (f32, f32) {
        let (dry_l, _) = sanitize(left);
        let (dry_r, _) = sanitize(right);
        self.scale.tick();
        self.mod_depth.tick();
        let freeze = self.freeze.tick();
        // Predelay (whole samples; a gliding predelay moves one sample at a time).
        let predelay = self.predelay_samples.tick().round() as usize;
        self.predelay[0].push(dry_l);
        self.predelay[1].push(dry_r);
        let pre = [
            self.predelay[0].tap(predelay),
            self.predelay[1].tap(predelay),
        ];
        let damped = [
            self.damping[0].process(pre[0] as f64) as f32,
            self.damping[1].process(pre[1] as f64) as f32,
        ];
        // Early reflections.
        self.early[0].push(damped[0]);
        self.early[1].push(damped[1]);
        let mut early = [0.0f32; 2];
        for k in 0..8 {
            early[0] += EARLY_LEFT[k].1 * self.early[0].tap(self.early_taps[0][k]);
            early[1] += EARLY_RIGHT[k].1 * self.early[1].tap(self.early_taps[1][k]);
        }
        let open = 1.0 - freeze;
        // Diffusion into the tank.
        let g = DIFFUSER_GAIN * self.settings.diffusion;
        let mut feed = 0.5 * (damped[0] + damped[1]);
        for d in &mut self.diffusers {
            feed = d.process(feed, g);
        }
        let feed = feed * open * 0.25;
        // The tank.
        let mut y = [0.0f32; LINES];
        for (i, y) in y.iter_mut().enumerate() {
            let out = self.lines[i].read(self.reads[i]) as f64;
            let low = self.low[i].process_unflushed(out);
            *y = self.high[i].process_unflushed(low) as f32;
        }
        let taps = y;
        hadamard(&mut y);
        let mut late = [0.0f32; 2];
        for i in 0..LINES {
            self.lines[i].push(flush(y[i] + feed * FEED_SIGNS[i]));
            late[0] += taps[i] * LEFT_SIGNS[i];
            late[1] += taps[i] * RIGHT_SIGNS[i];
        }
        let balance = self.early_late.tick();
        let mut wet = [0.0f32; 2];
        for c in 0..2 {
            let w = (1.0 - balance) * open * early[c] + balance * LATE_GAIN * late[c];
            let w = self.wet_low[c].process(w as f64);
            wet[c] = flush_f64(self.wet_high[c].process(w)) as f32;
        }
        let width = self.width.tick();
        let (mid, side) = (0.5 * (wet[0] + wet[1]), 0.5 * (wet[0] - wet[1]) * width);
        let mix = self.mix.tick();
        let output = self.output.tick();
        if mix == 0.0 && output == 1.0 {
            // Dry: the input bit for bit (NaN and inf become silence).
            return (dry(left), dry(right));
        }
        (
            (dry_l * (1.0 - mix) + (mid + side) * mix) * output,
            (dry_r * (1.0 - mix) + (mid - side) * mix) * output,
        )
    }
}

/// The input, or silence if it is not finite.
fn dry(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Size 0–1 → delay scale (25%–100%, geometric).
fn size_scale(size: f32) -> f32 {
    (MIN_SCALE as f32) * (1.0 / MIN_SCALE as f32).powf(size)
}

/// The output gain: the set level, or unity when bypassed (bypass passes the input unchanged).
fn output_gain(s: &ReverbSettings) -> f32 {
    if s.bypass {
        1.0
    } else {
        crate::db_to_gain(s.output_db)
    }
}
