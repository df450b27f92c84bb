//! Channel utility: input gain, polarity, swap, DC block, low/high cut, width, mono, pan or
//! balance with a selectable pan law, volume and mute. Zero latency.
//!
//! Signal order: input gain and polarity → swap → DC block → low cut → high cut → width → mono →
//! pan/balance → volume and mute.
//!
//! Every stage is written so that at its neutral setting it computes nothing but exact identities
//! (gains of exactly 1, `x + 0·y`, switched filters crossfaded out and skipped), so the default
//! settings are bit-transparent. Switches crossfade over [`SMOOTHING_MS`]; filter corners glide in
//! octaves.
//!
//! # Pan laws
//! `p` is the pan position (−1 = hard left, +1 = hard right), `θ = (p + 1)·π/4`. The gain at the
//! centre is what names the law; every law is 1 on the near side and 0 on the far side when
//! panned hard.
//!
//! | law | left gain | right gain | centre |
//! |---|---|---|---|
//! | 0 dB | `min(1, 1 − p)` | `min(1, 1 + p)` | 0 dB |
//! | −3 dB (constant power) | `cos θ` | `sin θ` | −3.01 dB |
//! | −4.5 dB (geometric mean of −3 and −6) | `√(cos θ · (1 − p)/2)` | `√(sin θ · (1 + p)/2)` | −4.52 dB |
//! | −6 dB (linear) | `(1 − p)/2` | `(1 + p)/2` | −6.02 dB |
//!
//! Pan mode applies these gains to the left and right channels (for a mono source on both
//! channels this is the classic mono pan). Balance mode, for stereo sources, keeps both channels
//! at 0 dB in the centre and attenuates only the far channel, along the law's curve normalised to
//! its centre gain.

use crate::biquad::{Biquad, Coeffs, CutFilter, CutKind};
use crate::db::db_to_gain;
use crate::denormal::sanitize;
use crate::smoother::{Glide, Smoother};
use std::f64::consts::FRAC_PI_4;

/// Parameter ranges, in the units of [`ChannelSettings`].
pub mod range {
    pub const INPUT_GAIN_DB: (f32, f32) = (-24.0, 24.0);
    /// Volume; the bottom of the range is silence (−∞ dB).
    pub const VOLUME_DB: (f32, f32) = (-80.0, 24.0);
    pub const PAN: (f32, f32) = (-1.0, 1.0);
    pub const WIDTH: (f32, f32) = (0.0, 2.0);
    pub const LOW_CUT_HZ: (f32, f32) = (10.0, 2_000.0);
    pub const HIGH_CUT_HZ: (f32, f32) = (1_000.0, 22_000.0);
    /// Cut slopes, dB/oct, in steps of 6.
    pub const SLOPE_DB: (u32, u32) = (6, 48);
}

/// Corner of the DC blocker (first-order high-pass).
pub const DC_BLOCK_HZ: f64 = 5.0;
/// Smoothing of gains and switches.
pub const SMOOTHING_MS: f32 = 20.0;
/// Filter coefficients follow a moving corner every this many samples.
const COEFF_INTERVAL: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanLaw {
    ZeroDb,
    Minus3Db,
    Minus4_5Db,
    Minus6Db,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanMode {
    /// The law's gains on left and right (centre attenuated by the law).
    Pan,
    /// 0 dB in the centre; only the far channel is attenuated.
    Balance,
}

impl PanLaw {
    /// `(left, right)` gains at pan position `pan` (−1..1). See the module table.
    pub fn gains(self, pan: f32) -> (f32, f32) {
        let p = pan.clamp(-1.0, 1.0) as f64;
        let theta = (p + 1.0) * FRAC_PI_4;
        let (l, r) = match self {
            PanLaw::ZeroDb => ((1.0 - p).min(1.0), (1.0 + p).min(1.0)),
            PanLaw::Minus3Db => (theta.cos(), theta.sin()),
            PanLaw::Minus4_5Db => (
                (theta.cos() * (1.0 - p) * 0.5).sqrt(),
                (theta.sin() * (1.0 + p) * 0.5).sqrt(),
            ),
            PanLaw::Minus6Db => ((1.0 - p) * 0.5, (1.0 + p) * 0.5),
        };
        // Exact zeros on the far side (cos(π/2) is 6e-17, not 0).
        let clean = |g: f64| if g < 1e-12 { 0.0 } else { g as f32 };
        (clean(l), clean(r))
    }

    /// Balance-mode gains: the law's curve divided by its centre gain, never above 1.
    pub fn balance_gains(self, pan: f32) -> (f32, f32) {
        let (centre, _) = self.gains(0.0);
        let (l, r) = self.gains(pan);
        ((l / centre).min(1.0), (r / centre).min(1.0))
    }
}

/// Everything a user can set, in physical units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChannelSettings {
    /// dB, −24..24.
    pub input_gain_db: f32,
    /// dB, −80..24; −80 is silence.
    pub volume_db: f32,
    /// −1 (left) .. 1 (right).
    pub pan: f32,
    pub pan_law: PanLaw,
    pub pan_mode: PanMode,
    pub invert_left: bool,
    pub invert_right: bool,
    pub swap: bool,
    pub mono: bool,
    /// Stereo width, 0 (mono) .. 2; 1 = unchanged.
    pub width: f32,
    pub low_cut: bool,
    pub low_cut_hz: f32,
    /// dB/oct, 6..48 in steps of 6.
    pub low_cut_slope_db: u32,
    pub high_cut: bool,
    pub high_cut_hz: f32,
    pub high_cut_slope_db: u32,
    pub dc_block: bool,
    pub mute: bool,
    pub bypass: bool,
}

impl Default for ChannelSettings {
    fn default() -> Self {
        Self {
            input_gain_db: 0.0,
            volume_db: 0.0,
            pan: 0.0,
            pan_law: PanLaw::Minus3Db,
            pan_mode: PanMode::Balance,
            invert_left: false,
            invert_right: false,
            swap: false,
            mono: false,
            width: 1.0,
            low_cut: false,
            low_cut_hz: 80.0,
            low_cut_slope_db: 12,
            high_cut: false,
            high_cut_hz: 18_000.0,
            high_cut_slope_db: 12,
            dc_block: false,
            mute: false,
            bypass: false,
        }
    }
}

impl ChannelSettings {
    /// Every value in range; NaN becomes the default.
    pub fn clamped(&self) -> Self {
        let d = Self::default();
        let clamp = crate::clamp_or;
        let slope = |db: u32| (db.clamp(range::SLOPE_DB.0, range::SLOPE_DB.1) / 6) * 6;
        Self {
            input_gain_db: clamp(self.input_gain_db, range::INPUT_GAIN_DB, d.input_gain_db),
            volume_db: clamp(self.volume_db, range::VOLUME_DB, d.volume_db),
            pan: clamp(self.pan, range::PAN, 0.0),
            width: clamp(self.width, range::WIDTH, 1.0),
            low_cut_hz: clamp(self.low_cut_hz, range::LOW_CUT_HZ, d.low_cut_hz),
            low_cut_slope_db: slope(self.low_cut_slope_db),
            high_cut_hz: clamp(self.high_cut_hz, range::HIGH_CUT_HZ, d.high_cut_hz),
            high_cut_slope_db: slope(self.high_cut_slope_db),
            ..*self
        }
    }

    /// The volume as a linear gain (0 at the bottom of the range).
    pub fn volume_gain(&self) -> f32 {
        if self.volume_db <= range::VOLUME_DB.0 {
            0.0
        } else {
            db_to_gain(self.volume_db)
        }
    }
}

/// `a` crossfaded towards `b` by `t`, exact at both ends.
#[inline]
fn mix(a: f64, b: f64, t: f32) -> f64 {
    if t == 0.0 {
        a
    } else if t == 1.0 {
        b
    } else {
        a + t as f64 * (b - a)
    }
}

/// A switchable stereo filter stage: crossfaded in and out, skipped (and cleared) when out.
#[derive(Clone, Debug)]
struct SwitchedCut {
    kind: CutKind,
    filters: [CutFilter; 2],
    glide: Glide,
    order: usize,
    mix: Smoother,
}

impl SwitchedCut {
    fn new(sample_rate: f32, kind: CutKind, hz: f32, order: usize) -> Self {
        Self {
            kind,
            filters: [CutFilter::new(sample_rate as f64, kind, hz as f64, order); 2],
            glide: Glide::new(sample_rate, SMOOTHING_MS, hz),
            order,
            mix: Smoother::new(sample_rate, SMOOTHING_MS, 0.0),
        }
    }

    fn set(&mut self, on: bool, hz: f32, order: usize) {
        self.mix.set_target(if on { 1.0 } else { 0.0 });
        self.glide.set_target(hz);
        self.order = order;
    }

    fn is_out(&self) -> bool {
        self.mix.is_settled() && self.mix.current() == 0.0
    }

    /// Moves the corner along its glide (or redesigns outright if `force`).
    fn update(&mut self, sample_rate: f32, samples: usize, force: bool) {
        if self.glide.advance(samples) || force {
            for filter in &mut self.filters {
                filter.set(sample_rate as f64, self.kind, self.glide.hz(), self.order);
            }
        }
    }

    fn reset(&mut self) {
        self.filters.iter_mut().for_each(CutFilter::reset);
    }

    #[inline]
    fn process(&mut self, l: f64, r: f64) -> (f64, f64) {
        let t = self.mix.tick();
        let fl = self.filters[0].process(l);
        let fr = self.filters[1].process(r);
        (mix(l, fl, t), mix(r, fr, t))
    }
}

/// The channel utility. See the module documentation.
#[derive(Clone, Debug)]
pub struct Channel {
    sample_rate: f32,
    settings: ChannelSettings,
    /// Input gain × polarity, per channel.
    input: [Smoother; 2],
    swap: Smoother,
    dc_block: [Biquad; 2],
    dc_mix: Smoother,
    low_cut: SwitchedCut,
    high_cut: SwitchedCut,
    width: Smoother,
    mono: Smoother,
    /// Pan/balance gain × volume × mute, per channel.
    output: [Smoother; 2],
    /// 1 = processed, 0 = bypassed.
    active: Smoother,
}

impl Channel {
    pub fn new(sample_rate: f32, settings: ChannelSettings) -> Self {
        let s = settings.clamped();
        let smoother = |v: f32| Smoother::new(sample_rate, SMOOTHING_MS, v);
        let dc = Biquad::new(Coeffs::highpass1(sample_rate as f64, DC_BLOCK_HZ));
        let mut channel = Self {
            sample_rate,
            settings: s,
            input: [smoother(1.0), smoother(1.0)],
            swap: smoother(0.0),
            dc_block: [dc; 2],
            dc_mix: smoother(0.0),
            low_cut: SwitchedCut::new(
                sample_rate,
                CutKind::LowCut,
                s.low_cut_hz,
                (s.low_cut_slope_db / 6) as usize,
            ),
            high_cut: SwitchedCut::new(
                sample_rate,
                CutKind::HighCut,
                s.high_cut_hz,
                (s.high_cut_slope_db / 6) as usize,
            ),
            width: smoother(1.0),
            mono: smoother(0.0),
            output: [smoother(1.0), smoother(1.0)],
            active: smoother(1.0),
        };
        channel.set_settings(&s);
        channel.reset();
        channel
    }

    pub fn settings(&self) -> &ChannelSettings {
        &self.settings
    }

    /// Latency: none.
    pub fn latency(&self) -> u32 {
        0
    }

    /// Applies new settings; every change is smoothed.
    pub fn set_settings(&mut self, settings: &ChannelSettings) {
        let s = settings.clamped();
        let order_changed = s.low_cut_slope_db != self.settings.low_cut_slope_db
            || s.high_cut_slope_db != self.settings.high_cut_slope_db;
        self.settings = s;
        let input = db_to_gain(s.input_gain_db);
        let polarity = |invert: bool| if invert { -1.0 } else { 1.0 };
        self.input[0].set_target(input * polarity(s.invert_left));
        self.input[1].set_target(input * polarity(s.invert_right));
        let switch = |on: bool| if on { 1.0 } else { 0.0 };
        self.swap.set_target(switch(s.swap));
        self.dc_mix.set_target(switch(s.dc_block));
        self.low_cut
            .set(s.low_cut, s.low_cut_hz, (s.low_cut_slope_db / 6) as usize);
        self.high_cut.set(
            s.high_cut,
            s.high_cut_hz,
            (s.high_cut_slope_db / 6) as usize,
        );
        if order_changed {
            self.low_cut.update(self.sample_rate, 0, true);
            self.high_cut.update(self.sample_rate, 0, true);
        }
        self.width.set_target(s.width);
        self.mono.set_target(switch(s.mono));
        let (pan_l, pan_r) = match s.pan_mode {
            PanMode::Pan => s.pan_law.gains(s.pan),
            PanMode::Balance => s.pan_law.balance_gains(s.pan),
        };
        let volume = if s.mute { 0.0 } else { s.volume_gain() };
        self.output[0].set_target(pan_l * volume);
        self.output[1].set_target(pan_r * volume);
        self.active.set_target(switch(!s.bypass));
    }

    /// Clears the filters and settles every smoothed value at its target.
    pub fn reset(&mut self) {
        self.dc_block.iter_mut().for_each(Biquad::reset);
        self.low_cut.reset();
        self.high_cut.reset();
        self.low_cut.glide.jump();
        self.high_cut.glide.jump();
        self.low_cut.update(self.sample_rate, 0, true);
        self.high_cut.update(self.sample_rate, 0, true);
        for smoother in self.input.iter_mut().chain(self.output.iter_mut()).chain([
            &mut self.swap,
            &mut self.dc_mix,
            &mut self.low_cut.mix,
            &mut self.high_cut.mix,
            &mut self.width,
            &mut self.mono,
            &mut self.active,
        ]) {
            smoother.reset(smoother.target());
        }
    }

    /// Processes a stereo block in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let len = left.len().min(right.len());
        let mut start = 0;
        while start < len {
            let end = (start + COEFF_INTERVAL).min(len);
            let samples = end - start;
            self.low_cut.update(self.sample_rate, samples, false);
            self.high_cut.update(self.sample_rate, samples, false);
            // Filters that are switched out are skipped and cleared, so they restart clean.
            let dc_on = !(self.dc_mix.is_settled() && self.dc_mix.current() == 0.0);
            let low_on = !self.low_cut.is_out();
            let high_on = !self.high_cut.is_out();
            if !dc_on {
                self.dc_block.iter_mut().for_each(Biquad::reset);
            }
            if !low_on {
                self.low_cut.reset();
            }
            if !high_on {
                self.high_cut.reset();
            }
            for n in start..end {
                let (l, r) = self.process_sample(left[n], right[n], dc_on, low_on, high_on);
                left[n] = l;
                right[n] = r;
            }
            start = end;
        }
    }

    #[inline]
    fn process_sample(
        &mut self,
        left: f32,
        right: f32,
        dc_on: bool,
        low_on: bool,
        high_on: bool,
    ) -> (f32, f32) {
        let (left, _) = sanitize(left);
        let (right, _) = sanitize(right);
        let mut l = left as f64 * self.input[0].tick() as f64;
        let mut r = right as f64 * self.input[1].tick() as f64;
        let swap = self.swap.tick();
        (l, r) = (mix(l, r, swap), mix(r, l, swap));
        if dc_on {
            let t = self.dc_mix.tick();
            let (fl, fr) = (self.dc_block[0].process(l), self.dc_block[1].process(r));
            (l, r) = (mix(l, fl, t), mix(r, fr, t));
        }
        if low_on {
            (l, r) = self.low_cut.process(l, r);
        }
        if high_on {
            (l, r) = self.high_cut.process(l, r);
        }
        let extra_width = self.width.tick() as f64 - 1.0;
        let side = 0.5 * (l - r);
        l += extra_width * side;
        r -= extra_width * side;
        let mono = self.mono.tick();
        let sum = 0.5 * (l + r);
        (l, r) = (mix(l, sum, mono), mix(r, sum, mono));
        l *= self.output[0].tick() as f64;
        r *= self.output[1].tick() as f64;
        let active = self.active.tick();
        (
            mix(left as f64, l, active) as f32,
            mix(right as f64, r, active) as f32,
        )
    }
}
