//! Linkwitz-Riley crossovers: band splits whose bands add up to an allpass (flat magnitude).
//!
//! A Linkwitz-Riley filter of order 2N is an N-th order Butterworth applied twice. Its low-pass
//! and high-pass outputs add up to the allpass `B_N(−s) / B_N(s)` (for even N), whose sections
//! are second-order allpasses with the Butterworth section Qs. The bilinear transform keeps that
//! identity exact in the digital domain. (S. H. Linkwitz, "Active crossover networks for
//! noncoincident drivers", JAES 1976; Bohn, "Linkwitz-Riley crossovers: a primer", RaneNote 160.)
//!
//! A multiband split is a tree: band 0 is the low side of split 0, the high side goes to split 1,
//! and so on. Each lower band then goes through the allpasses of every later split, so that all
//! bands carry the same phase and their sum is the product of the split allpasses: magnitude
//! exactly 1, phase smooth.

use crate::biquad::{butterworth_qs, Biquad, Coeffs, Complex, Section, StereoBiquad};
use crate::MAX_CHANNELS;

/// Slope of a Linkwitz-Riley split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slope {
    /// LR4: 24 dB/oct.
    Db24,
    /// LR8: 48 dB/oct.
    Db48,
    /// LR12: 72 dB/oct.
    Db72,
}

impl Slope {
    /// The Butterworth order that is applied twice.
    fn butterworth_order(self) -> usize {
        match self {
            Slope::Db24 => 2,
            Slope::Db48 => 4,
            Slope::Db72 => 6,
        }
    }
}

/// Most second-order Butterworth sections a split uses (LR12: three).
const MAX_SECTIONS: usize = 3;

/// The coefficients of one Linkwitz-Riley split point.
#[derive(Clone, Copy, Debug)]
pub struct SplitDesign {
    lowpass: [Coeffs; MAX_SECTIONS],
    highpass: [Coeffs; MAX_SECTIONS],
    allpass: [Coeffs; MAX_SECTIONS],
    sections: usize,
}

impl SplitDesign {
    pub fn new(sample_rate: f64, hz: f64, slope: Slope) -> Self {
        let (qs, sections, _) = butterworth_qs(slope.butterworth_order());
        let mut design = Self {
            lowpass: [Coeffs::IDENTITY; MAX_SECTIONS],
            highpass: [Coeffs::IDENTITY; MAX_SECTIONS],
            allpass: [Coeffs::IDENTITY; MAX_SECTIONS],
            sections,
        };
        for (k, &q) in qs.iter().enumerate().take(sections) {
            design.lowpass[k] = Coeffs::lowpass(sample_rate, hz, q);
            design.highpass[k] = Coeffs::highpass(sample_rate, hz, q);
            design.allpass[k] = Coeffs::allpass(sample_rate, hz, q);
        }
        design
    }

    /// Responses of the low side, the high side and the allpass at `hz`.
    pub fn response(&self, sample_rate: f64, hz: f64) -> (Complex, Complex, Complex) {
        let mut low = Complex::ONE;
        let mut high = Complex::ONE;
        let mut all = Complex::ONE;
        for k in 0..self.sections {
            let l = self.lowpass[k].response(sample_rate, hz);
            let h = self.highpass[k].response(sample_rate, hz);
            low = low * l * l;
            high = high * h * h;
            all = all * self.allpass[k].response(sample_rate, hz);
        }
        (low, high, all)
    }
}

/// The state of one split point: each Butterworth section twice per side. One channel
/// ([`Biquad`], the default) or two in lockstep ([`StereoBiquad`]). Its sections run unflushed:
/// the owner calls [`Split::flush`] once per block.
#[derive(Clone, Copy, Debug, Default)]
pub struct Split<S: Section = Biquad> {
    low: [[S; 2]; MAX_SECTIONS],
    high: [[S; 2]; MAX_SECTIONS],
    sections: usize,
}

impl<S: Section> Split<S> {
    pub fn new(design: &SplitDesign) -> Self {
        let mut split = Self::default();
        split.set(design);
        split
    }

    /// New coefficients, keeping the state.
    pub fn set(&mut self, design: &SplitDesign) {
        self.sections = design.sections;
        for k in 0..design.sections {
            for twice in 0..2 {
                self.low[k][twice].set_coeffs(design.lowpass[k]);
                self.high[k][twice].set_coeffs(design.highpass[k]);
            }
        }
    }

    pub fn reset(&mut self) {
        self.low.iter_mut().flatten().for_each(S::reset);
        self.high.iter_mut().flatten().for_each(S::reset);
    }

    /// Flushes tiny state: call at least once per few thousand samples ([`Section::flush`]).
    pub fn flush(&mut self) {
        // Sections not in use never run, so they hold nothing to flush.
        let used = self.sections;
        self.low[..used].iter_mut().flatten().for_each(S::flush);
        self.high[..used].iter_mut().flatten().for_each(S::flush);
    }

    /// The high side only (the low-pass sections are not run).
    #[inline]
    pub fn process_high(&mut self, x: S::Sample) -> S::Sample {
        let mut high = x;
        for k in 0..self.sections {
            for twice in 0..2 {
                high = self.high[k][twice].process_unflushed(high);
            }
        }
        high
    }

    /// `(low, high)`.
    /// [`Split::process_high`] over a block in place, the sections held in locals.
    pub fn process_high_block(&mut self, x: &mut [S::Sample]) {
        fn run<S: Section, const SECTIONS: usize>(high: &mut [[S; 2]], x: &mut [S::Sample]) {
            let mut local: [[S; 2]; SECTIONS] = std::array::from_fn(|k| high[k]);
            for v in x.iter_mut() {
                for pair in &mut local {
                    for section in pair {
                        *v = section.process_unflushed(*v);
                    }
                }
            }
            high[..SECTIONS].copy_from_slice(&local);
        }
        match self.sections {
            0 => {}
            1 => run::<S, 1>(&mut self.high, x),
            2 => run::<S, 2>(&mut self.high, x),
            _ => run::<S, MAX_SECTIONS>(&mut self.high, x),
        }
    }

    #[inline]
    pub fn process(&mut self, x: S::Sample) -> (S::Sample, S::Sample) {
        // A constant section count per branch, so that each cascade unrolls.
        match self.sections {
            0 => (x, x),
            1 => self.process_sections::<1>(x),
            2 => self.process_sections::<2>(x),
            _ => self.process_sections::<MAX_SECTIONS>(x),
        }
    }

    #[inline(always)]
    fn process_sections<const SECTIONS: usize>(&mut self, x: S::Sample) -> (S::Sample, S::Sample) {
        let mut low = x;
        let mut high = x;
        for k in 0..SECTIONS {
            for twice in 0..2 {
                low = self.low[k][twice].process_unflushed(low);
                high = self.high[k][twice].process_unflushed(high);
            }
        }
        (low, high)
    }
}

/// The allpass of one split point (one channel, or two in lockstep); unflushed like [`Split`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SplitAllpass<S: Section = Biquad> {
    sections: [S; MAX_SECTIONS],
    used: usize,
}

impl<S: Section> SplitAllpass<S> {
    pub fn new(design: &SplitDesign) -> Self {
        let mut allpass = Self::default();
        allpass.set(design);
        allpass
    }

    pub fn set(&mut self, design: &SplitDesign) {
        self.used = design.sections;
        for k in 0..design.sections {
            self.sections[k].set_coeffs(design.allpass[k]);
        }
    }

    pub fn reset(&mut self) {
        self.sections.iter_mut().for_each(S::reset);
    }

    /// Flushes tiny state: call at least once per few thousand samples ([`Section::flush`]).
    pub fn flush(&mut self) {
        self.sections[..self.used].iter_mut().for_each(S::flush);
    }

    #[inline]
    pub fn process(&mut self, x: S::Sample) -> S::Sample {
        self.sections[..self.used]
            .iter_mut()
            .fold(x, |y, s| s.process_unflushed(y))
    }

    /// [`SplitAllpass::process`] over a block in place, the sections held in locals.
    pub fn process_block(&mut self, x: &mut [S::Sample]) {
        fn run<S: Section, const USED: usize>(sections: &mut [S], x: &mut [S::Sample]) {
            let mut local: [S; USED] = std::array::from_fn(|k| sections[k]);
            for v in x.iter_mut() {
                *v = local.iter_mut().fold(*v, |y, s| s.process_unflushed(y));
            }
            sections[..USED].copy_from_slice(&local);
        }
        match self.used {
            0 => {}
            1 => run::<S, 1>(&mut self.sections, x),
            2 => run::<S, 2>(&mut self.sections, x),
            _ => run::<S, MAX_SECTIONS>(&mut self.sections, x),
        }
    }
}

/// Bass mono's filters over a block, as [`Split::process_high_block`] on `side` and
/// [`SplitAllpass::process_block`] on `mid_side` give them, bit for bit: for a three-section
/// (LR12) split the high side's six sections and the allpass's three on each channel run as six
/// two-lane steps (the first three high-pass sections beside the mid's allpass, the last three
/// beside the side's) instead of six one-lane and three two-lane ones.
pub fn bass_mono_block(
    split: &mut Split,
    allpass: &mut SplitAllpass<StereoBiquad>,
    side: &mut [f64],
    mid_side: &mut [[f64; 2]],
) {
    #[cfg(target_arch = "x86_64")]
    if split.sections == MAX_SECTIONS && allpass.used == MAX_SECTIONS {
        bass_mono_pairs(split, allpass, side, mid_side);
        return;
    }
    split.process_high_block(side);
    allpass.process_block(mid_side);
}

/// [`bass_mono_block`] for three sections, in SSE2 lanes (part of the x86_64 baseline).
#[cfg(target_arch = "x86_64")]
fn bass_mono_pairs(
    split: &mut Split,
    allpass: &mut SplitAllpass<StereoBiquad>,
    side: &mut [f64],
    mid_side: &mut [[f64; 2]],
) {
    use std::arch::x86_64::*;
    // High-pass sections in cascade order; the first three pair with the mid's allpass, the last
    // three with the side's.
    let order = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)];
    // Lane 0 the high-pass, lane 1 the allpass: coefficients and state per step.
    struct Step {
        b: [__m128d; 3],
        a: [__m128d; 2],
        s1: __m128d,
        s2: __m128d,
    }
    let step = |k: usize, channel: usize| {
        let (high, all) = (
            &split.high[order[k].0][order[k].1],
            &allpass.sections[k % 3],
        );
        let (hc, ac) = (high.coeffs, all.coeffs);
        let [h1, h2] = high.state();
        // SAFETY: register set-up only.
        unsafe {
            Step {
                b: std::array::from_fn(|j| _mm_set_pd(ac.b[j], hc.b[j])),
                a: std::array::from_fn(|j| _mm_set_pd(ac.a[j], hc.a[j])),
                s1: _mm_set_pd(all.s1[channel], h1),
                s2: _mm_set_pd(all.s2[channel], h2),
            }
        }
    };
    let mut steps: [Step; 6] = std::array::from_fn(|k| step(k, k / 3));
    // The same operations in the same order as `Biquad::process_unflushed`, lane by lane.
    let run = |s: &mut Step, x: __m128d| {
        // SAFETY: register arithmetic only.
        unsafe {
            let y = _mm_add_pd(_mm_mul_pd(s.b[0], x), s.s1);
            s.s1 = _mm_sub_pd(
                _mm_add_pd(_mm_mul_pd(s.b[1], x), s.s2),
                _mm_mul_pd(s.a[0], y),
            );
            s.s2 = _mm_sub_pd(_mm_mul_pd(s.b[2], x), _mm_mul_pd(s.a[1], y));
            y
        }
    };
    for (high, frame) in side.iter_mut().zip(mid_side.iter_mut()) {
        // SAFETY: register arithmetic and moves only.
        unsafe {
            let (first, second) = steps.split_at_mut(3);
            let mut v = _mm_set_pd(frame[0], *high);
            for s in first.iter_mut() {
                v = run(s, v);
            }
            let mid = _mm_cvtsd_f64(_mm_unpackhi_pd(v, v));
            let mut w = _mm_set_pd(frame[1], _mm_cvtsd_f64(v));
            for s in second.iter_mut() {
                w = run(s, w);
            }
            *high = _mm_cvtsd_f64(w);
            *frame = [mid, _mm_cvtsd_f64(_mm_unpackhi_pd(w, w))];
        }
    }
    for (k, s) in steps.iter().enumerate() {
        let mut s1 = [0.0; 2];
        let mut s2 = [0.0; 2];
        // SAFETY: stores of two-element arrays.
        unsafe {
            _mm_storeu_pd(s1.as_mut_ptr(), s.s1);
            _mm_storeu_pd(s2.as_mut_ptr(), s.s2);
        }
        split.high[order[k].0][order[k].1].set_state([s1[0], s2[0]]);
        let channel = k / 3;
        allpass.sections[k % 3].s1[channel] = s1[1];
        allpass.sections[k % 3].s2[channel] = s2[1];
    }
}

/// Most bands a [`Crossover`] splits into.
pub const MAX_BANDS: usize = 4;
/// Split points of a full crossover.
pub const MAX_SPLITS: usize = MAX_BANDS - 1;

/// The state of the band tree, both channels in lockstep.
#[derive(Clone, Copy, Debug, Default)]
struct Tree {
    splits: [Split<StereoBiquad>; MAX_SPLITS],
    /// `allpass[k][j]`: band `j < k` through split `k`'s allpass.
    allpass: [[SplitAllpass<StereoBiquad>; MAX_SPLITS]; MAX_SPLITS],
}

/// A 2–4 band Linkwitz-Riley (24 dB/oct) crossover for two channels. All split points are
/// always computed, so changing how many bands a user wants never changes the phase or clicks:
/// merged bands are simply added back together. Its sections run unflushed: the owner calls
/// [`Crossover::flush`] once per block.
#[derive(Clone, Debug)]
pub struct Crossover {
    sample_rate: f64,
    designs: [SplitDesign; MAX_SPLITS],
    frequencies_hz: [f64; MAX_SPLITS],
    tree: Tree,
    /// Split points computed (the rest are left out; see [`Crossover::set_splits_used`]).
    splits_used: usize,
}

impl Crossover {
    /// Split points at `frequencies_hz` (sorted upwards; a split below the previous one is moved
    /// up to it).
    pub fn new(sample_rate: f64, frequencies_hz: [f64; MAX_SPLITS]) -> Self {
        let mut crossover = Self {
            sample_rate,
            designs: [SplitDesign::new(sample_rate, 1000.0, Slope::Db24); MAX_SPLITS],
            frequencies_hz: [0.0; MAX_SPLITS],
            tree: Tree::default(),
            splits_used: MAX_SPLITS,
        };
        crossover.set_frequencies(frequencies_hz);
        crossover
    }

    pub fn frequencies_hz(&self) -> [f64; MAX_SPLITS] {
        self.frequencies_hz
    }

    /// Moves the split points (keeps the state, so small moves are smooth; callers ramp larger
    /// moves).
    pub fn set_frequencies(&mut self, frequencies_hz: [f64; MAX_SPLITS]) {
        let mut previous = 0.0f64;
        for (k, &hz) in frequencies_hz.iter().enumerate() {
            let hz = hz.max(previous);
            previous = hz;
            if hz == self.frequencies_hz[k] {
                continue;
            }
            self.frequencies_hz[k] = hz;
            self.designs[k] = SplitDesign::new(self.sample_rate, hz, Slope::Db24);
            let tree = &mut self.tree;
            tree.splits[k].set(&self.designs[k]);
            for allpass in &mut tree.allpass[k][..k] {
                allpass.set(&self.designs[k]);
            }
        }
    }

    /// Computes only the first `splits` split points (0..=3): band `splits` then carries
    /// everything above the last one and the bands above it are silent. Leaving splits out
    /// leaves out their allpass phase too, so changing this while audio runs is a discontinuity:
    /// it is for offline rendering, where the band count is known before the first sample and
    /// the unused splits would only cost time. The default computes all of them.
    pub fn set_splits_used(&mut self, splits: usize) {
        let splits = splits.min(MAX_SPLITS);
        if splits != self.splits_used {
            self.splits_used = splits;
            self.reset();
        }
    }

    pub fn reset(&mut self) {
        let tree = &mut self.tree;
        tree.splits.iter_mut().for_each(Split::reset);
        tree.allpass
            .iter_mut()
            .flatten()
            .for_each(SplitAllpass::reset);
    }

    /// Flushes tiny filter state; [`Crossover::process`] leaves that to this, which must run at
    /// least once per few thousand samples (once per processing block).
    pub fn flush(&mut self) {
        // Only the splits computed run (see `process_splits`).
        let tree = &mut self.tree;
        let used = self.splits_used;
        tree.splits[..used].iter_mut().for_each(Split::flush);
        for (k, allpass) in tree.allpass[..used].iter_mut().enumerate() {
            allpass[..k].iter_mut().for_each(SplitAllpass::flush);
        }
    }

    /// Splits one sample of both channels into the four bands (`[band][channel]`).
    #[inline]
    pub fn process(&mut self, x: [f64; MAX_CHANNELS]) -> [[f64; MAX_CHANNELS]; MAX_BANDS] {
        // A constant split count per branch, so that each tree unrolls.
        match self.splits_used {
            0 => self.process_splits::<0>(x),
            1 => self.process_splits::<1>(x),
            2 => self.process_splits::<2>(x),
            _ => self.process_splits::<MAX_SPLITS>(x),
        }
    }

    #[inline(always)]
    fn process_splits<const SPLITS: usize>(
        &mut self,
        x: [f64; MAX_CHANNELS],
    ) -> [[f64; MAX_CHANNELS]; MAX_BANDS] {
        let tree = &mut self.tree;
        let mut bands = [[0.0; MAX_CHANNELS]; MAX_BANDS];
        let mut rest = x;
        for k in 0..SPLITS {
            let (low, high) = tree.splits[k].process(rest);
            for (j, band) in bands.iter_mut().enumerate().take(k) {
                *band = tree.allpass[k][j].process(*band);
            }
            bands[k] = low;
            rest = high;
        }
        bands[SPLITS] = rest;
        bands
    }

    /// [`Crossover::process`] for each frame of `input`, into `out` (as long): the same values,
    /// computed faster where the CPU has AVX2 (each split's low and high filters side by side in
    /// four lanes, all state in registers for the block).
    pub fn process_block(
        &mut self,
        input: &[[f64; MAX_CHANNELS]],
        out: &mut [[[f64; MAX_CHANNELS]; MAX_BANDS]],
    ) {
        assert_eq!(input.len(), out.len());
        #[cfg(target_arch = "x86_64")]
        if crate::kernels::has_avx2_fma() && self.one_section_each() {
            // SAFETY: the CPU has AVX2 (checked above).
            unsafe {
                match self.splits_used {
                    0 => self.process_block_avx2::<0>(input, out),
                    1 => self.process_block_avx2::<1>(input, out),
                    2 => self.process_block_avx2::<2>(input, out),
                    _ => self.process_block_avx2::<MAX_SPLITS>(input, out),
                }
            }
            return;
        }
        for (x, y) in input.iter().zip(out) {
            *y = self.process(*x);
        }
    }

    /// Whether every filter in the tree is one section (24 dB/oct), the shape
    /// [`Crossover::process_block_avx2`] is written for.
    #[cfg(target_arch = "x86_64")]
    fn one_section_each(&self) -> bool {
        let tree = &self.tree;
        tree.splits.iter().all(|s| s.sections == 1)
            && (0..MAX_SPLITS).all(|k| tree.allpass[k][..k].iter().all(|a| a.used == 1))
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn process_block_avx2<const SPLITS: usize>(
        &mut self,
        input: &[[f64; MAX_CHANNELS]],
        out: &mut [[[f64; MAX_CHANNELS]; MAX_BANDS]],
    ) {
        use crate::biquad::{Tdf2Lanes2, Tdf2Lanes4};
        use std::arch::x86_64::*;
        let tree = &mut self.tree;
        // Split k's two cascaded stages, low in lanes 0–1 and high in lanes 2–3.
        let mut stages: [[Tdf2Lanes4; 2]; SPLITS] = std::array::from_fn(|k| {
            let split = &tree.splits[k];
            std::array::from_fn(|twice| {
                Tdf2Lanes4::load(&split.low[0][twice], &split.high[0][twice])
            })
        });
        let mut allpass: [[Tdf2Lanes2; MAX_SPLITS]; SPLITS] = std::array::from_fn(|k| {
            std::array::from_fn(|j| Tdf2Lanes2::load(&tree.allpass[k][j].sections[0]))
        });
        for (x, y) in input.iter().zip(out.iter_mut()) {
            let mut bands = [_mm_setzero_pd(); MAX_BANDS];
            // SAFETY: a load of `[f64; 2]`.
            let mut rest = unsafe { _mm_loadu_pd(x.as_ptr()) };
            for k in 0..SPLITS {
                let both = _mm256_set_m128d(rest, rest);
                let both = stages[k][0].step(both);
                let both = stages[k][1].step(both);
                for j in 0..k {
                    bands[j] = allpass[k][j].step(bands[j]);
                }
                bands[k] = _mm256_castpd256_pd128(both);
                rest = _mm256_extractf128_pd::<1>(both);
            }
            bands[SPLITS] = rest;
            for (band, value) in y.iter_mut().zip(bands) {
                // SAFETY: a store of `[f64; 2]`.
                unsafe { _mm_storeu_pd(band.as_mut_ptr(), value) };
            }
        }
        for k in 0..SPLITS {
            let split = &mut tree.splits[k];
            for (twice, stage) in stages[k].iter().enumerate() {
                let [low, high] = [&mut split.low[0][twice], &mut split.high[0][twice]];
                stage.store(low, high);
            }
            for (lanes, section) in allpass[k].iter().zip(&mut tree.allpass[k][..k]) {
                lanes.store(&mut section.sections[0]);
            }
        }
    }

    /// The complex response of band `band` at `hz`.
    pub fn band_response(&self, band: usize, hz: f64) -> Complex {
        if band > self.splits_used {
            return Complex::new(0.0, 0.0);
        }
        let mut h = Complex::ONE;
        for (k, design) in self.designs.iter().enumerate().take(self.splits_used) {
            let (low, high, all) = design.response(self.sample_rate, hz);
            h = h * match k.cmp(&band) {
                std::cmp::Ordering::Less => high,
                std::cmp::Ordering::Equal => low,
                std::cmp::Ordering::Greater => all,
            };
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// The paired bass-mono filters are the split's high side and the allpass run apart, bit for
    /// bit, with their state carried from block to block (odd lengths, 0 to 999), for every
    /// slope (LR12 pairs, the others fall back).
    #[test]
    fn bass_mono_block_is_the_split_and_the_allpass() {
        let mut noise = crate::noise::WhiteNoise::new(5);
        for slope in [Slope::Db24, Slope::Db48, Slope::Db72] {
            let design = SplitDesign::new(48_000.0, 120.0, slope);
            let (mut split, mut allpass) = (Split::new(&design), SplitAllpass::new(&design));
            let (mut apart_split, mut apart_allpass) = (split, allpass);
            let lengths = [0, 1, 2, 3, 7, 15, 63, 64, 65, 999, 5, 128];
            for (block, &len) in lengths.iter().cycle().take(36).enumerate() {
                let frames: Vec<[f64; 2]> = (0..len)
                    .map(|_| [noise.next_f64(), noise.next_f64()])
                    .collect();
                let mut side: Vec<f64> = frames.iter().map(|f| f[1]).collect();
                let mut mid_side = frames.clone();
                bass_mono_block(&mut split, &mut allpass, &mut side, &mut mid_side);
                let mut apart_side: Vec<f64> = frames.iter().map(|f| f[1]).collect();
                let mut apart_mid_side = frames;
                apart_split.process_high_block(&mut apart_side);
                apart_allpass.process_block(&mut apart_mid_side);
                for (a, b) in side.iter().zip(&apart_side) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{slope:?}, block {block}");
                }
                for (a, b) in mid_side
                    .iter()
                    .flatten()
                    .zip(apart_mid_side.iter().flatten())
                {
                    assert_eq!(a.to_bits(), b.to_bits(), "{slope:?}, block {block}");
                }
            }
        }
    }

    fn dft(signal: &[f64], sample_rate: f64, hz: f64) -> Complex {
        signal
            .iter()
            .enumerate()
            .fold(Complex::new(0.0, 0.0), |acc, (n, &y)| {
                acc + Complex::from_angle(-2.0 * PI * hz * n as f64 / sample_rate) * y
            })
    }

    /// The bands add up to an allpass: flat within ±0.05 dB (in fact to 1e-9), from the reported
    /// responses and from the measured impulse responses; each band's measured response matches
    /// its reported one.
    #[test]
    fn bands_sum_flat_and_match_their_reported_response() {
        for sample_rate in [44_100.0, 96_000.0] {
            let mut crossover = Crossover::new(sample_rate, [120.0, 1500.0, 8000.0]);
            let len = 1 << 15;
            let mut bands = vec![vec![0.0; len]; MAX_BANDS];
            for n in 0..len {
                // The right channel carries the impulse; the left stays silent.
                let out = crossover.process([0.0, if n == 0 { 1.0 } else { 0.0 }]);
                for (band, value) in bands.iter_mut().zip(out) {
                    assert_eq!(value[0], 0.0);
                    band[n] = value[1];
                }
            }
            let sum: Vec<f64> = (0..len).map(|n| bands.iter().map(|b| b[n]).sum()).collect();
            let mut hz = 10.0;
            while hz < 20_000.0 {
                let reported = (0..MAX_BANDS)
                    .map(|b| crossover.band_response(b, hz))
                    .fold(Complex::new(0.0, 0.0), |a, h| a + h);
                assert!(reported.db().abs() < 1e-9, "reported sum at {hz}");
                let measured = dft(&sum, sample_rate, hz).db();
                assert!(measured.abs() < 0.05, "measured sum {measured} dB at {hz}");
                for (b, band) in bands.iter().enumerate() {
                    let got = dft(band, sample_rate, hz);
                    let want = crossover.band_response(b, hz);
                    assert!(
                        (got.re - want.re).abs() < 1e-6 && (got.im - want.im).abs() < 1e-6,
                        "band {b} at {hz}: {got:?} vs {want:?}"
                    );
                }
                hz *= 1.25;
            }
        }
    }

    /// With fewer splits computed, the bands in use still sum to an allpass and match their
    /// reported responses; the bands above are silent.
    #[test]
    fn fewer_splits_still_sum_flat() {
        let sample_rate = 48_000.0;
        for splits in 0..=MAX_SPLITS {
            let mut crossover = Crossover::new(sample_rate, [150.0, 2500.0, 9000.0]);
            crossover.set_splits_used(splits);
            let len = 1 << 14;
            let mut bands = vec![vec![0.0; len]; MAX_BANDS];
            for n in 0..len {
                let out = crossover.process([if n == 0 { 1.0 } else { 0.0 }; 2]);
                for (band, value) in bands.iter_mut().zip(out) {
                    band[n] = value[0];
                }
            }
            for band in &bands[splits + 1..] {
                assert!(band.iter().all(|&x| x == 0.0), "{splits} splits");
            }
            let sum: Vec<f64> = (0..len).map(|n| bands.iter().map(|b| b[n]).sum()).collect();
            for hz in [30.0, 150.0, 1000.0, 2500.0, 9000.0, 15_000.0] {
                let measured = dft(&sum, sample_rate, hz).db();
                assert!(
                    measured.abs() < 0.01,
                    "{splits} splits: {measured} dB at {hz}"
                );
                for (b, band) in bands.iter().enumerate() {
                    let got = dft(band, sample_rate, hz);
                    let want = crossover.band_response(b, hz);
                    assert!(
                        (got.re - want.re).abs() < 1e-6 && (got.im - want.im).abs() < 1e-6,
                        "{splits} splits, band {b} at {hz}"
                    );
                }
            }
        }
    }

    /// LR4: each band is −6 dB at its split points and falls at 24 dB/oct.
    #[test]
    fn bands_are_linkwitz_riley() {
        let crossover = Crossover::new(48_000.0, [200.0, 2000.0, 10_000.0]);
        assert!((crossover.band_response(0, 200.0).db() + 6.0206).abs() < 1e-3);
        assert!((crossover.band_response(1, 200.0).db() + 6.0206).abs() < 1e-3);
        // Two octaves above the first split the low band is down ~48 dB (LR4 = Butterworth²).
        let two_octaves = crossover.band_response(0, 800.0).db();
        assert!((two_octaves + 48.2).abs() < 0.5, "{two_octaves}");
    }

    #[test]
    fn steep_splits_sum_to_their_allpass() {
        for slope in [Slope::Db48, Slope::Db72] {
            let design = SplitDesign::new(48_000.0, 100.0, slope);
            let mut split = Split::<Biquad>::new(&design);
            let mut high_only = Split::<Biquad>::new(&design);
            let mut allpass = SplitAllpass::<Biquad>::new(&design);
            for n in 0..4096 {
                let x = ((n * 7919) % 13) as f64 - 6.0;
                let (low, high) = split.process(x);
                let a = allpass.process(x);
                assert!((low + high - a).abs() < 1e-9, "{slope:?} {n}");
                assert_eq!(high_only.process_high(x), high);
            }
            // One octave below the split the high side is down by the Butterworth order squared:
            // 10·log10(1 + 2^(2N)) twice (48.2 dB for LR8, 72.2 dB for LR12).
            let order = slope.butterworth_order() as i32;
            let expected = -20.0 * (1.0 + 2f64.powi(2 * order)).log10();
            let (_, high, _) = design.response(48_000.0, 50.0);
            assert!(
                (high.db() - expected).abs() < 0.1,
                "{slope:?}: {}",
                high.db()
            );
        }
    }

    proptest::proptest! {
        /// A block gives exactly the frames that sample after sample gives, for any split
        /// points, split count and block sizes.
        #[test]
        fn blocks_are_frames_bit_for_bit(
            hz in proptest::array::uniform3(20.0f64..20_000.0),
            splits in 0usize..=MAX_SPLITS,
            input in proptest::collection::vec(proptest::array::uniform2(-2.0f64..2.0), 1..600),
            block in 1usize..200,
        ) {
            let mut frames = Crossover::new(96_000.0, hz);
            frames.set_splits_used(splits);
            let mut blocks = frames.clone();
            let want: Vec<_> = input.iter().map(|&x| frames.process(x)).collect();
            let mut got = vec![[[0.0; MAX_CHANNELS]; MAX_BANDS]; input.len()];
            for (x, y) in input.chunks(block).zip(got.chunks_mut(block)) {
                blocks.process_block(x, y);
            }
            for (n, (a, b)) in want.iter().zip(&got).enumerate() {
                let bits = |v: &[[f64; MAX_CHANNELS]; MAX_BANDS]| v.map(|b| b.map(f64::to_bits));
                proptest::prop_assert_eq!(bits(a), bits(b), "frame {}", n);
            }
        }
    }

    proptest::proptest! {
        /// The block forms of a split's high side and of its allpass give the per-sample
        /// values bit for bit, at every slope.
        #[test]
        fn high_and_allpass_blocks_are_samples_bit_for_bit(
            hz in 20.0f64..20_000.0,
            slope in 0usize..3,
            input in proptest::collection::vec(proptest::array::uniform2(-2.0f64..2.0), 1..400),
            block in 1usize..100,
        ) {
            let slope = [Slope::Db24, Slope::Db48, Slope::Db72][slope];
            let design = SplitDesign::new(48_000.0, hz, slope);
            let (mut split, mut allpass) = (Split::<Biquad>::new(&design), SplitAllpass::<StereoBiquad>::new(&design));
            let (mut split_blocks, mut allpass_blocks) = (split, allpass);
            let mono: Vec<f64> = input.iter().map(|x| x[0]).collect();
            let mut high = mono.clone();
            let mut all = input.clone();
            for (h, a) in high.chunks_mut(block).zip(all.chunks_mut(block)) {
                split_blocks.process_high_block(h);
                allpass_blocks.process_block(a);
            }
            for n in 0..input.len() {
                proptest::prop_assert_eq!(split.process_high(mono[n]).to_bits(), high[n].to_bits());
                proptest::prop_assert_eq!(allpass.process(input[n]).map(f64::to_bits), all[n].map(f64::to_bits));
            }
        }
    }
}
