//! Multiband stereo imager: per-band width, bass mono, balance, mono check, correlation meters.
//!
//! # How it works
//! The input is turned into mid `M = (L + R)/2` and side `S = (L − R)/2`. Both go through the same
//! 4-band Linkwitz-Riley tree ([`Crossover`]); band `b`'s side is scaled by its width `w_b`
//! (0 = mono, 1 = unchanged, 2 = doubled side). Because mid and side pass through identical
//! filters their phase relation, and so the stereo image, is kept at every frequency; the bands
//! sum to an allpass.
//!
//! Bass mono removes the side below a frequency with a 72 dB/oct (LR12) high-pass (steep enough
//! that white side noise keeps less than −80 dB of its energy below half the cutoff); the mid goes
//! through the matching allpass, and when bass mono is off the side goes through that allpass
//! too, so switching it crossfades between two signals of identical phase above the cutoff.
//!
//! Balance attenuates the opposite channel linearly (−100%: right silent, +100%: left silent,
//! 0 dB on the favoured side). Mono check sums the output to mono for listening.
//!
//! When nothing would change the signal (every width in use at 100%, balance centred, bass mono
//! and mono check off) or when bypassed, the output crossfades to the untouched input and is then
//! bit-identical to it; the filters keep running, so leaving that state is seamless. Latency is
//! zero.
//!
//! Correlation: `r = ΣLR / √(ΣL²·ΣR²)` over an exponential window of [`CORRELATION_MS`], on the
//! output, overall and per band (each band with its width applied, before bass mono).

use crate::biquad::StereoBiquad;
use crate::crossover::{Crossover, Slope, Split, SplitAllpass, SplitDesign, MAX_BANDS, MAX_SPLITS};
use crate::denormal::sanitize;
use crate::smoother::{Glide, Smoother};

/// Parameter ranges, in the units of [`ImagerSettings`].
pub mod range {
    pub const CROSSOVER_HZ: (f32, f32) = (20.0, 20_000.0);
    pub const WIDTH: (f32, f32) = (0.0, 2.0);
    pub const BASS_MONO_HZ: (f32, f32) = (20.0, 500.0);
    pub const BALANCE: (f32, f32) = (-1.0, 1.0);
}

/// Averaging time of the correlation meters.
pub const CORRELATION_MS: f32 = 300.0;
/// Smoothing of widths, balance and switches.
const SMOOTHING_MS: f32 = 20.0;
/// Smoothing of crossover and bass-mono frequencies (in octaves).
const FREQUENCY_SMOOTHING_MS: f32 = 30.0;
/// Filter coefficients follow a moving frequency every this many samples.
const COEFF_INTERVAL: usize = 32;

/// Everything a user can set, in physical units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImagerSettings {
    /// Bands in use, 1–4.
    pub bands: usize,
    /// Split points between bands, Hz, ascending (only the first `bands − 1` matter).
    pub crossovers_hz: [f32; MAX_SPLITS],
    /// Width per band, 0..2 (1 = unchanged).
    pub widths: [f32; MAX_BANDS],
    /// Mono below `bass_mono_hz`.
    pub bass_mono: bool,
    pub bass_mono_hz: f32,
    /// −1 (left only) .. 1 (right only).
    pub balance: f32,
    /// Output summed to mono, for listening.
    pub mono_check: bool,
    pub bypass: bool,
}

impl Default for ImagerSettings {
    fn default() -> Self {
        Self {
            bands: 1,
            crossovers_hz: [150.0, 1500.0, 7000.0],
            widths: [1.0; MAX_BANDS],
            bass_mono: false,
            bass_mono_hz: 120.0,
            balance: 0.0,
            mono_check: false,
            bypass: false,
        }
    }
}

impl ImagerSettings {
    /// Every value in range; NaN becomes the default; crossovers sorted.
    pub fn clamped(&self) -> Self {
        let default = Self::default();
        let clamp = crate::clamp_or;
        let mut crossovers_hz = self.crossovers_hz;
        let mut previous = range::CROSSOVER_HZ.0;
        for (k, hz) in crossovers_hz.iter_mut().enumerate() {
            *hz = clamp(*hz, range::CROSSOVER_HZ, default.crossovers_hz[k]).max(previous);
            previous = *hz;
        }
        let mut widths = self.widths;
        for w in &mut widths {
            *w = clamp(*w, range::WIDTH, 1.0);
        }
        Self {
            bands: self.bands.clamp(1, MAX_BANDS),
            crossovers_hz,
            widths,
            bass_mono_hz: clamp(self.bass_mono_hz, range::BASS_MONO_HZ, default.bass_mono_hz),
            balance: clamp(self.balance, range::BALANCE, 0.0),
            ..*self
        }
    }

    /// The width each of the four internal bands gets: bands above the last one in use take its
    /// width.
    fn internal_widths(&self) -> [f32; MAX_BANDS] {
        std::array::from_fn(|b| self.widths[b.min(self.bands - 1)])
    }

    /// Whether these settings leave the signal untouched.
    pub fn is_neutral(&self) -> bool {
        self.bypass
            || (self.internal_widths().iter().all(|&w| w == 1.0)
                && self.balance == 0.0
                && !self.bass_mono
                && !self.mono_check)
    }
}

/// `r = ΣLR / √(ΣL²·ΣR²)` over an exponential window.
#[derive(Clone, Copy, Debug)]
pub struct CorrelationMeter {
    pole: f64,
    lr: f64,
    ll: f64,
    rr: f64,
}

impl CorrelationMeter {
    pub fn new(sample_rate: f32, window_ms: f32) -> Self {
        Self {
            pole: (-1000.0 / (window_ms as f64 * sample_rate as f64)).exp(),
            lr: 0.0,
            ll: 0.0,
            rr: 0.0,
        }
    }

    pub fn reset(&mut self) {
        self.lr = 0.0;
        self.ll = 0.0;
        self.rr = 0.0;
    }

    #[inline]
    pub fn push(&mut self, left: f64, right: f64) {
        let p = self.pole;
        self.lr = crate::denormal::flush_f64(self.lr * p + left * right);
        self.ll = crate::denormal::flush_f64(self.ll * p + left * left);
        self.rr = crate::denormal::flush_f64(self.rr * p + right * right);
    }

    /// The correlation, −1..1; 0 when either channel is silent.
    pub fn value(&self) -> f32 {
        let energy = self.ll * self.rr;
        if energy <= 1e-30 {
            0.0
        } else {
            (self.lr / energy.sqrt()).clamp(-1.0, 1.0) as f32
        }
    }
}

/// The multiband imager. See the module documentation.
#[derive(Clone, Debug)]
pub struct Imager {
    sample_rate: f32,
    settings: ImagerSettings,
    crossover: Crossover,
    crossover_glides: [Glide; MAX_SPLITS],
    /// Bass mono: LR12 split of the side, the matching allpass on the mid and on the side (one
    /// pair of lanes, `[mid, side]`).
    bass_design: SplitDesign,
    bass_split: Split,
    bass_allpass: SplitAllpass<StereoBiquad>,
    bass_glide: Glide,
    widths: [Smoother; MAX_BANDS],
    bass_mono_mix: Smoother,
    balance: Smoother,
    mono: Smoother,
    /// 1 = processed, 0 = the untouched input.
    active: Smoother,
    correlation: CorrelationMeter,
    band_correlation: [CorrelationMeter; MAX_BANDS],
    /// Whether the correlation meters run (see [`Imager::set_metering`]).
    metering: bool,
    /// See [`Imager::compute_only_used_splits`].
    only_used_splits: bool,
}

impl Imager {
    pub fn new(sample_rate: f32, settings: ImagerSettings) -> Self {
        let settings = settings.clamped();
        let fs = sample_rate as f64;
        let crossover = Crossover::new(fs, settings.crossovers_hz.map(|hz| hz as f64));
        let bass_design = SplitDesign::new(fs, settings.bass_mono_hz as f64, Slope::Db72);
        let smoother = |value: f32| Smoother::new(sample_rate, SMOOTHING_MS, value);
        let mut imager = Self {
            sample_rate,
            settings,
            crossover,
            crossover_glides: settings
                .crossovers_hz
                .map(|hz| Glide::new(sample_rate, FREQUENCY_SMOOTHING_MS, hz)),
            bass_design,
            bass_split: Split::new(&bass_design),
            bass_allpass: SplitAllpass::new(&bass_design),
            bass_glide: Glide::new(sample_rate, FREQUENCY_SMOOTHING_MS, settings.bass_mono_hz),
            widths: std::array::from_fn(|_| smoother(1.0)),
            bass_mono_mix: smoother(0.0),
            balance: smoother(0.0),
            mono: smoother(0.0),
            active: smoother(0.0),
            correlation: CorrelationMeter::new(sample_rate, CORRELATION_MS),
            band_correlation: [CorrelationMeter::new(sample_rate, CORRELATION_MS); MAX_BANDS],
            metering: true,
            only_used_splits: false,
        };
        imager.set_settings(&settings);
        imager.jump_to_targets();
        imager
    }

    pub fn settings(&self) -> &ImagerSettings {
        &self.settings
    }

    /// Latency: none.
    pub fn latency(&self) -> u32 {
        0
    }

    /// For offline rendering, where the band count is known before the first sample: the
    /// crossover computes only the split points the bands in use need
    /// ([`Crossover::set_splits_used`]; the unused splits' allpass phase is left out, the
    /// magnitude response is the same). Band-count changes afterwards follow it, with a click.
    pub fn compute_only_used_splits(&mut self) {
        self.only_used_splits = true;
        self.crossover.set_splits_used(self.settings.bands - 1);
    }

    /// Whether the correlation meters run (on by default). Offline rendering, where nobody reads
    /// them, turns them off; the audio is the same either way.
    pub fn set_metering(&mut self, on: bool) {
        self.metering = on;
    }

    /// Applies new settings; every change is smoothed.
    pub fn set_settings(&mut self, settings: &ImagerSettings) {
        let s = settings.clamped();
        self.settings = s;
        if self.only_used_splits {
            self.crossover.set_splits_used(s.bands - 1);
        }
        for (glide, &hz) in self.crossover_glides.iter_mut().zip(&s.crossovers_hz) {
            glide.set_target(hz);
        }
        self.bass_glide.set_target(s.bass_mono_hz);
        for (smoother, w) in self.widths.iter_mut().zip(s.internal_widths()) {
            smoother.set_target(w);
        }
        self.bass_mono_mix
            .set_target(if s.bass_mono { 1.0 } else { 0.0 });
        self.balance.set_target(s.balance);
        self.mono.set_target(if s.mono_check { 1.0 } else { 0.0 });
        self.active
            .set_target(if s.is_neutral() { 0.0 } else { 1.0 });
    }

    fn jump_to_targets(&mut self) {
        self.crossover_glides.iter_mut().for_each(Glide::jump);
        self.bass_glide.jump();
        self.update_filters(0, true);
        for smoother in self.widths.iter_mut().chain([
            &mut self.bass_mono_mix,
            &mut self.balance,
            &mut self.mono,
            &mut self.active,
        ]) {
            smoother.reset(smoother.target());
        }
    }

    /// Clears the filters and meters and settles every smoothed value.
    pub fn reset(&mut self) {
        self.crossover.reset();
        self.bass_split.reset();
        self.bass_allpass.reset();
        self.correlation.reset();
        self.band_correlation
            .iter_mut()
            .for_each(CorrelationMeter::reset);
        self.jump_to_targets();
    }

    /// Output correlation, −1..1.
    pub fn correlation(&self) -> f32 {
        self.correlation.value()
    }

    /// Correlation of band `band` (bands beyond those in use are merged into the last one).
    pub fn band_correlation(&self, band: usize) -> f32 {
        self.band_correlation[band.min(MAX_BANDS - 1)].value()
    }

    /// Moves the crossover and bass-mono filters `samples` samples along their glides (or sets
    /// them to where the glides are, if `force`).
    fn update_filters(&mut self, samples: usize, force: bool) {
        let mut moved = force;
        for glide in &mut self.crossover_glides {
            moved |= glide.advance(samples);
        }
        if moved {
            self.crossover
                .set_frequencies(self.crossover_glides.each_ref().map(Glide::hz));
        }
        if self.bass_glide.advance(samples) || force {
            let fs = self.sample_rate as f64;
            self.bass_design = SplitDesign::new(fs, self.bass_glide.hz(), Slope::Db72);
            self.bass_split.set(&self.bass_design);
            self.bass_allpass.set(&self.bass_design);
        }
    }

    /// Processes a stereo block in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let len = left.len().min(right.len());
        let mut start = 0;
        while start < len {
            let end = (start + COEFF_INTERVAL).min(len);
            self.update_filters(end - start, false);
            let mut mid_side = [[0.0; 2]; COEFF_INTERVAL];
            for (n, frame) in (start..end).zip(&mut mid_side) {
                (left[n], right[n]) = (sanitize(left[n]).0, sanitize(right[n]).0);
                let (l, r) = (left[n] as f64, right[n] as f64);
                *frame = [0.5 * (l + r), 0.5 * (l - r)];
            }
            let mut bands = [[[0.0; 2]; MAX_BANDS]; COEFF_INTERVAL];
            self.crossover
                .process_block(&mid_side[..end - start], &mut bands[..end - start]);
            // Settled knobs stay put for the chunk: read once instead of ticked per sample.
            let settled = self.widths.iter().all(Smoother::is_settled)
                && [&self.bass_mono_mix, &self.balance, &self.mono, &self.active]
                    .iter()
                    .all(|s| s.is_settled());
            // Stage after stage over the chunk (each keeps its own state, so every sample meets
            // the arithmetic of a sample-by-sample loop): the bands summed, the bass filters,
            // the output.
            let chunk = end - start;
            let mut summed = [[0.0; 2]; COEFF_INTERVAL];
            let mut side_high = [0.0; COEFF_INTERVAL];
            if settled && !self.metering {
                // Settled and unmetered (offline rendering): the knobs are constants and the
                // band count a type parameter, so the sums unroll; the same arithmetic.
                let knobs = self.tick_knobs();
                let (bands, widths) = (&bands[..chunk], &knobs.widths);
                let (sums, highs) = (&mut summed[..chunk], &mut side_high[..chunk]);
                match self.settings.bands {
                    1 => sum_settled::<0>(bands, widths, sums, highs),
                    2 => sum_settled::<1>(bands, widths, sums, highs),
                    3 => sum_settled::<2>(bands, widths, sums, highs),
                    _ => sum_settled::<3>(bands, widths, sums, highs),
                }
                crate::crossover::bass_mono_block(
                    &mut self.bass_split,
                    &mut self.bass_allpass,
                    &mut side_high[..chunk],
                    &mut summed[..chunk],
                );
                output_settled(
                    &mut left[start..end],
                    &mut right[start..end],
                    &summed[..chunk],
                    &side_high[..chunk],
                    &knobs,
                );
            } else {
                let fixed = settled.then(|| self.tick_knobs());
                let mut knobs = [fixed.unwrap_or_else(|| self.tick_knobs()); COEFF_INTERVAL];
                if fixed.is_none() {
                    knobs[1..end - start].fill_with(|| self.tick_knobs());
                }
                for (i, (bands, knobs)) in bands.iter().zip(&knobs).enumerate().take(chunk) {
                    summed[i] = self.sum_bands(bands, knobs);
                    side_high[i] = summed[i][1];
                }
                self.bass_and_output(
                    &mut left[start..end],
                    &mut right[start..end],
                    &mut summed[..chunk],
                    &mut side_high[..chunk],
                    |i| &knobs[i],
                );
            }
            self.crossover.flush();
            self.bass_split.flush();
            self.bass_allpass.flush();
            start = end;
        }
    }

    /// The last stages of a chunk: the bass filters on the summed bands, then the output frames
    /// (`knobs(i)` the knobs at frame `i`).
    #[inline(always)]
    fn bass_and_output<'k>(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        summed: &mut [[f64; 2]],
        side_high: &mut [f64],
        knobs: impl Fn(usize) -> &'k Knobs,
    ) {
        crate::crossover::bass_mono_block(
            &mut self.bass_split,
            &mut self.bass_allpass,
            side_high,
            summed,
        );
        for (i, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
            (*l, *r) = self.output(*l, *r, summed[i], side_high[i], knobs(i));
        }
    }

    /// The smoothed knobs for the next sample (advancing their glides).
    #[inline]
    fn tick_knobs(&mut self) -> Knobs {
        Knobs {
            widths: std::array::from_fn(|b| self.widths[b].tick() as f64),
            bass: self.bass_mono_mix.tick() as f64,
            balance: self.balance.tick() as f64,
            mono: self.mono.tick() as f64,
            active: self.active.tick(),
        }
    }

    /// Mid and side of one frame: its crossover bands summed, each band's side scaled by its
    /// width (bands above the last one in use are merged into it).
    #[inline]
    fn sum_bands(&mut self, bands: &[[f64; 2]; MAX_BANDS], knobs: &Knobs) -> [f64; 2] {
        let mut band_mid = [0.0; MAX_BANDS];
        let mut band_side = [0.0; MAX_BANDS];
        let last = self.settings.bands - 1;
        for b in 0..MAX_BANDS {
            let w = knobs.widths[b];
            band_mid[b.min(last)] += bands[b][0];
            band_side[b.min(last)] += w * bands[b][1];
        }
        let mut m = 0.0;
        let mut s = 0.0;
        for b in 0..=last {
            let (bm, bs) = (band_mid[b], band_side[b]);
            if self.metering {
                self.band_correlation[b].push(bm + bs, bm - bs);
            }
            m += bm;
            s += bs;
        }
        [m, s]
    }

    /// One output frame from its (sanitized) input, its mid and side through the bass
    /// allpass, and its side through the bass high-pass.
    #[inline]
    fn output(
        &mut self,
        left: f32,
        right: f32,
        [m, side_all]: [f64; 2],
        side_high: f64,
        knobs: &Knobs,
    ) -> (f32, f32) {
        let (out_l, out_r) = if knobs.active == 0.0 {
            (left, right)
        } else {
            mix(left, right, [m, side_all], side_high, knobs)
        };
        if self.metering {
            self.correlation.push(out_l as f64, out_r as f64);
        }
        (out_l, out_r)
    }
}

/// An output frame (active, so not the input as it came) from its (sanitized) input, its mid
/// and side through the bass allpass, and its side through the bass high-pass.
#[inline(always)]
fn mix(left: f32, right: f32, [m, side_all]: [f64; 2], side_high: f64, k: &Knobs) -> (f32, f32) {
    let s = side_all + k.bass * (side_high - side_all);
    let (mut out_l, mut out_r) = (m + s, m - s);
    out_l *= (1.0 - k.balance).min(1.0);
    out_r *= (1.0 + k.balance).min(1.0);
    let sum = 0.5 * (out_l + out_r);
    out_l += k.mono * (sum - out_l);
    out_r += k.mono * (sum - out_r);
    (
        left + k.active * (out_l as f32 - left),
        right + k.active * (out_r as f32 - right),
    )
}

/// [`Imager::output`] over a chunk with settled knobs and no metering: the same arithmetic,
/// without per-frame branches, so that it vectorises.
fn output_settled(
    left: &mut [f32],
    right: &mut [f32],
    summed: &[[f64; 2]],
    side_high: &[f64],
    knobs: &Knobs,
) {
    if knobs.active == 0.0 {
        // Bypassed: the (sanitized) input stays.
        return;
    }
    let frames = left
        .iter_mut()
        .zip(right.iter_mut())
        .zip(summed)
        .zip(side_high);
    for (((l, r), &summed), &side_high) in frames {
        (*l, *r) = mix(*l, *r, summed, side_high, knobs);
    }
}

/// [`Imager::sum_bands`] without metering, frame after frame, for `LAST + 1` bands in use: the
/// same additions in the same order, unrolled. Also copies each frame's side to `side_high`.
fn sum_settled<const LAST: usize>(
    bands: &[[[f64; 2]; MAX_BANDS]],
    widths: &[f64; MAX_BANDS],
    summed: &mut [[f64; 2]],
    side_high: &mut [f64],
) {
    for ((bands, sum), high) in bands.iter().zip(summed).zip(side_high) {
        let mut band_mid = [0.0; MAX_BANDS];
        let mut band_side = [0.0; MAX_BANDS];
        for b in 0..MAX_BANDS {
            band_mid[b.min(LAST)] += bands[b][0];
            band_side[b.min(LAST)] += widths[b] * bands[b][1];
        }
        let mut m = 0.0;
        let mut s = 0.0;
        for b in 0..=LAST {
            m += band_mid[b];
            s += band_side[b];
        }
        *sum = [m, s];
        *high = s;
    }
}

/// The smoothed knobs at one sample.
#[derive(Clone, Copy, Debug)]
struct Knobs {
    widths: [f64; MAX_BANDS],
    bass: f64,
    balance: f64,
    mono: f64,
    active: f32,
}
