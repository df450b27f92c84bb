//! Polyphase oversampling for true-peak detection (ITU-R BS.1770-4, Annex 2).
//!
//! BS.1770-4 estimates the true peak by upsampling 4x at 48 kHz and taking the largest magnitude.
//! The factor is relative to 44.1/48 kHz: at higher rates fewer extra points are needed for the
//! same accuracy, so the factor halves per doubling of the rate (4x at 48k, 2x at 96k, 1x at
//! 192k). A true peak between two points `1/N` input samples apart can exceed the larger of them
//! by up to `1/cos(π·f/(N·fs))`: 0.69 dB at 4x near Nyquist, 0.17 dB at 8x, 0.04 dB at 16x. The
//! limiter therefore offers 8x and 16x as well as the 4x of the standard.
//!
//! The interpolator is a Kaiser-windowed sinc split into `N` phases; each phase is normalised to
//! unity DC gain so a constant input reads exactly.
//!
//! The 48-tap filter printed in BS.1770-4 is not flat: its half- and quarter-sample phases have up
//! to +0.22 dB of passband ripple, so a standard meter over-reads some signals (a sine at fs/4 by
//! about 0.04 dB, one at fs/10 by up to 0.2 dB). A limiter that only knew the true peak would then
//! read slightly over its ceiling on every compliant meter. The detector therefore also evaluates
//! the standard's own filter and reports the larger of the two readings.
//!
//! Band-edge uncertainty: the true peak of material with strong content between ~0.45·fs and
//! Nyquist (clipped mixes, full-band noise) is not one number. Reconstruction filters that all
//! agree below 0.45·fs (DAC interpolators, meters, our 96-tap stage) pass that band differently,
//! and on clipped drums their peak readings differ locally by up to ~0.3 dB. For the limiter the
//! detector therefore bounds the reading over such filters: at each half-sample point it takes the
//! difference between its steep stage 1 and a short interpolator that already rolls off there
//! ([`BAND_EDGE_TAPS`]), an estimate of the band-edge content at that point, and adds its
//! magnitude to the peak. Material with little band-edge content (nearly all music) reads
//! unchanged; on full-band noise driven 20 dB into the limiter it costs about 0.1 dB of level, and
//! it brings the limiter's output under a ceiling + 0.1 dB on an independent reference (see
//! `tests/limiter.rs`) where it read up to +0.19 dB without it.

use std::f64::consts::PI;

/// Oversampling factor at 44.1/48 kHz; scaled down at higher rates (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Oversampling {
    /// Sample peak only: no interpolation and no added latency.
    Off,
    /// 4x, as specified by ITU-R BS.1770-4.
    X4,
    /// 8x: worst-case under-read 0.17 dB at Nyquist.
    X8,
    /// 16x: worst-case under-read 0.04 dB at Nyquist.
    X16,
}

impl Oversampling {
    /// The nominal factor at 44.1/48 kHz.
    pub fn nominal_factor(self) -> usize {
        match self {
            Oversampling::Off => 1,
            Oversampling::X4 => 4,
            Oversampling::X8 => 8,
            Oversampling::X16 => 16,
        }
    }

    /// The factor used at `sample_rate`: the nominal factor halved for every doubling of the rate
    /// above 48 kHz (88.2/96 kHz halve it, 176.4/192 kHz quarter it, ...), never below 1.
    pub fn factor_at(self, sample_rate: f32) -> usize {
        let mut factor = self.nominal_factor();
        let mut rate = sample_rate;
        while rate > 60_000.0 && factor > 1 {
            rate *= 0.5;
            factor /= 2;
        }
        factor
    }
}

/// Stage 1 (input → 2x): taps of the half-sample branch (the other branch is the input itself).
/// With a Kaiser β of 6 it is within ±0.01 dB of an ideal half-sample delay up to 0.48·fs and
/// −2.1 dB at 0.49·fs, so broadband full-scale material (clipped mixes) is read correctly right up
/// to the band edge; 64 taps (flat to 0.47·fs) under-read clipped drums by 0.3 dB.
pub const STAGE1_TAPS: usize = 96;
const STAGE1_BETA: f64 = 6.0;
/// Relative margin on the skip bounds of [`TruePeakDetector::block_peak_above`] for the `f32`
/// rounding of the sums they bound (16 products: well under 1e-6 of the sum of magnitudes).
const ROUNDING_MARGIN: f32 = 1e-5;
/// Taps of the short half-sample interpolator whose disagreement with stage 1 estimates the
/// band-edge content (Kaiser β as stage 1; flat to about 0.4·fs). Shorter, earlier-rolling filters
/// bound more conservatively (measured worst output over the ceiling on the reference: 16 taps
/// +0.074 dB, 24 taps +0.089 dB, 32 taps +0.101 dB) and cost more level on bright material.
pub const BAND_EDGE_TAPS: usize = 24;
/// Stage 2 (2x → N·x): taps per branch. After stage 1 the content lies below a quarter of the 2x
/// rate, so short branches interpolate it to within 0.01 dB.
pub const STAGE2_TAPS: usize = 16;
const STAGE2_BETA: f64 = 7.0;
/// Largest stage-2 factor (16x overall).
const STAGE2_MAX_FACTOR: usize = 8;
/// Inputs kept from earlier chunks: the longest look-back (stage 1's, the others' are shorter).
const INPUT_HISTORY: usize = STAGE1_TAPS - 1;
/// 2x samples kept from earlier chunks (stage 2's look-back).
const DOUBLED_HISTORY: usize = STAGE2_TAPS - 1;
/// The detector works through its input in chunks of up to this many samples.
const CHUNK: usize = 256;
/// Latency of the two-stage interpolator: stage 1 delays by half its length, stage 2 by half its
/// length at the 2x rate.
const TWO_STAGE_LATENCY: usize = STAGE1_TAPS / 2 + STAGE2_TAPS / 4;
/// Latency of the standard's filter alone: its centre lies between taps 5 and 6.
const STANDARD_LATENCY: usize = 6;
/// The largest detector latency of any setting.
pub const MAX_LATENCY: usize = TWO_STAGE_LATENCY;

/// ITU-R BS.1770-4 Annex 2: the 48-tap interpolation filter of the 4x true-peak meter, one row
/// per phase, as printed (phases 2 and 3 are phases 1 and 0 reversed).
#[allow(clippy::excessive_precision)] // the digits as printed in the standard
pub const BS1770_PHASES: [[f32; 12]; 4] = [
    [
        0.0017089843750,
        0.0109863281250,
        -0.0196533203125,
        0.0332031250000,
        -0.0594482421875,
        0.1373291015625,
        0.9721679687500,
        -0.1022949218750,
        0.0476074218750,
        -0.0266113281250,
        0.0148925781250,
        -0.0083007812500,
    ],
    [
        -0.0291748046875,
        0.0292968750000,
        -0.0517578125000,
        0.0891113281250,
        -0.1665039062500,
        0.4650878906250,
        0.7797851562500,
        -0.2003173828125,
        0.1015625000000,
        -0.0582275390625,
        0.0330810546875,
        -0.0189208984375,
    ],
    [
        -0.0189208984375,
        0.0330810546875,
        -0.0582275390625,
        0.1015625000000,
        -0.2003173828125,
        0.7797851562500,
        0.4650878906250,
        -0.1665039062500,
        0.0891113281250,
        -0.0517578125000,
        0.0292968750000,
        -0.0291748046875,
    ],
    [
        -0.0083007812500,
        0.0148925781250,
        -0.0266113281250,
        0.0476074218750,
        -0.1022949218750,
        0.9721679687500,
        0.1373291015625,
        -0.0594482421875,
        0.0332031250000,
        -0.0196533203125,
        0.0109863281250,
        0.0017089843750,
    ],
];

/// The largest sum of absolute tap values of any BS.1770 phase (2.0228, the half-sample phases),
/// rounded up: no output of the standard's filter exceeds this times the largest input it covers.
pub const BS1770_MAX_GAIN: f32 = 2.0229;

/// Zeroth-order modified Bessel function of the first kind (power series).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..50 {
        term *= (half / k as f64) * (half / k as f64);
        sum += term;
        if term < 1e-12 * sum {
            break;
        }
    }
    sum
}

/// Designs a polyphase interpolator by `factor` with `taps` taps per branch (Kaiser-windowed sinc,
/// cut off at the input Nyquist frequency) into `coeffs`, tap-major: `coeffs[t·factor + p]` is tap
/// `t` of branch `p`. The centre sits on a multiple of `factor`, so branch 0 is the input delayed
/// by `taps / 2` and branch `p` lies `p/factor` of a sample after it. Each branch is normalised to
/// unity DC gain.
fn design(factor: usize, taps: usize, beta: f64, coeffs: &mut [f32]) {
    let centre = ((taps / 2) * factor) as f64;
    let cutoff = 0.5 / factor as f64; // cycles per upsampled sample
    let norm = bessel_i0(beta);
    let prototype = |i: usize| {
        let x = i as f64 - centre;
        let sinc = if x == 0.0 {
            2.0 * cutoff
        } else {
            (2.0 * PI * cutoff * x).sin() / (PI * x)
        };
        let r = x / centre;
        sinc * bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / norm
    };
    for phase in 0..factor {
        let sum: f64 = (0..taps).map(|t| prototype(t * factor + phase)).sum();
        for t in 0..taps {
            coeffs[t * factor + phase] = (prototype(t * factor + phase) / sum) as f32;
        }
    }
}

/// The detector's working lines, chronological: what is kept from earlier chunks, then the
/// current chunk. Every filter output is a function of these alone (see [`crate::kernels`]), so
/// the readings do not depend on how the input is split into blocks.
#[derive(Clone, Debug)]
struct Lines {
    /// `input[INPUT_HISTORY + j]` is the chunk's sample `j`.
    input: Vec<f32>,
    /// The 2x signal: `doubled[DOUBLED_HISTORY + 2j]` is the input `STAGE1_TAPS / 2` samples
    /// before the chunk's sample `j`, `doubled[DOUBLED_HISTORY + 2j + 1]` the half-sample point
    /// after it.
    doubled: Vec<f32>,
    /// The chunk's half-sample points.
    half: Vec<f32>,
    /// The largest stage-2 magnitude at each 2x sample of the chunk.
    doubled_peaks: Vec<f32>,
    /// The chunk's band-edge interpolation, then the standard filter's reading.
    scratch: Vec<f32>,
    /// The chunk's readings.
    readings: Vec<f32>,
}

impl Lines {
    fn new() -> Self {
        Self {
            input: vec![0.0; INPUT_HISTORY + CHUNK],
            doubled: vec![0.0; DOUBLED_HISTORY + 2 * CHUNK],
            half: vec![0.0; CHUNK],
            doubled_peaks: vec![0.0; 2 * CHUNK],
            scratch: vec![0.0; CHUNK],
            readings: vec![0.0; CHUNK],
        }
    }

    /// Appends `chunk` (at most [`CHUNK`] samples) to the input line.
    fn append(&mut self, chunk: &[f32]) {
        self.input[INPUT_HISTORY..INPUT_HISTORY + chunk.len()].copy_from_slice(chunk);
    }

    /// Keeps the newest history of both lines for the next chunk of `n` samples.
    fn advance(&mut self, n: usize, doubled: bool) {
        self.input.copy_within(n..n + INPUT_HISTORY, 0);
        if doubled {
            self.doubled.copy_within(2 * n..2 * n + DOUBLED_HISTORY, 0);
        }
    }

    fn reset(&mut self) {
        self.input.fill(0.0);
        self.doubled.fill(0.0);
    }
}

/// How the detector estimates the peak at the current setting and rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// |x|: no interpolation, no latency.
    SamplePeak,
    /// The BS.1770-4 4x filter alone (the "4x" setting): exactly what a standard meter reads.
    Standard,
    /// Stage 1 (2x), then `stage2_factor` branches, and the standard's filter as well.
    TwoStage { stage2_factor: usize },
}

impl Mode {
    fn new(sample_rate: f32, oversampling: Oversampling) -> Self {
        let factor = oversampling.factor_at(sample_rate);
        match (oversampling, factor) {
            (_, 1) | (Oversampling::Off, _) => Mode::SamplePeak,
            (Oversampling::X4, _) => Mode::Standard,
            (_, factor) => Mode::TwoStage {
                stage2_factor: factor / 2,
            },
        }
    }

    fn latency(self) -> usize {
        match self {
            Mode::SamplePeak => 0,
            Mode::Standard => STANDARD_LATENCY,
            Mode::TwoStage { .. } => TWO_STAGE_LATENCY,
        }
    }
}

/// True-peak detector: for each input sample it returns the largest magnitude of the band-limited
/// signal between the input `latency()` samples earlier and the one after it.
///
/// "4x" is the BS.1770-4 filter itself. 8x and 16x use two stages, a steep 2x half-band
/// interpolator and then `factor/2` branches on the 2x signal, and evaluate the standard's filter
/// as well (see the module docs); the larger reading wins.
#[derive(Clone, Debug)]
pub struct TruePeakDetector {
    mode: Mode,
    /// Stage-1 half-sample branch.
    stage1: Vec<f32>,
    /// Half-sample branch of the short interpolator, centred like stage 1 (band-edge estimate).
    band_edge: Vec<f32>,
    /// Stage-2 coefficients, tap-major (`stage2[t·P + p]`, `P` the branch count rounded up to 4,
    /// extra branches zero), capacity for the largest factor.
    stage2: Vec<f32>,
    /// Branches per tap in `stage2` (a multiple of 4).
    stage2_stride: usize,
    /// The largest sum of magnitudes of a stage-2 branch: no stage-2 output exceeds the largest
    /// input it covers by more than this factor.
    stage2_gain: f32,
    /// The standard's four phases, tap-major (`standard[t·4 + p]`).
    standard: [f32; 48],
    lines: Lines,
    /// Whether the 8x/16x modes bound the reading for a limiter: they also evaluate the
    /// standard's filter (compliance with standard meters) and add the band-edge uncertainty.
    /// A meter that wants the estimate of the true peak itself turns it off.
    bounding: bool,
}

impl TruePeakDetector {
    /// A detector at `sample_rate` set to `oversampling`. Allocates for the largest factor, so
    /// `set_oversampling` never allocates.
    pub fn new(sample_rate: f32, oversampling: Oversampling) -> Self {
        let mut stage1 = vec![0.0; 2 * STAGE1_TAPS];
        design(2, STAGE1_TAPS, STAGE1_BETA, &mut stage1);
        // Keep only the half-sample branch (branch 1); branch 0 is a pure delay.
        let stage1 = stage1.chunks_exact(2).map(|pair| pair[1]).collect();
        let mut band_edge = vec![0.0; 2 * BAND_EDGE_TAPS];
        design(2, BAND_EDGE_TAPS, STAGE1_BETA, &mut band_edge);
        let band_edge = band_edge.chunks_exact(2).map(|pair| pair[1]).collect();
        let mut standard = [0.0f32; 48];
        for (p, phase) in BS1770_PHASES.iter().enumerate() {
            for (t, &c) in phase.iter().enumerate() {
                standard[t * 4 + p] = c;
            }
        }
        let mut detector = Self {
            mode: Mode::SamplePeak,
            stage1,
            band_edge,
            stage2: vec![0.0; STAGE2_MAX_FACTOR * STAGE2_TAPS],
            stage2_stride: 4,
            stage2_gain: 1.0,
            standard,
            lines: Lines::new(),
            bounding: true,
        };
        detector.set_oversampling(sample_rate, oversampling);
        detector
    }

    /// The same detector reading only its own interpolation in the 8x/16x modes (no BS.1770
    /// filter, whose passband ripple over-reads by up to 0.22 dB, and no band-edge bound): the
    /// true peak itself, for meters. The 4x setting is the standard's filter either way.
    pub fn accurate(mut self) -> Self {
        self.bounding = false;
        self
    }

    /// The latency a detector at this rate and setting has.
    pub fn latency_for(sample_rate: f32, oversampling: Oversampling) -> usize {
        Mode::new(sample_rate, oversampling).latency()
    }

    /// Re-designs the filters for a new setting or sample rate and clears the history.
    pub fn set_oversampling(&mut self, sample_rate: f32, oversampling: Oversampling) {
        self.mode = Mode::new(sample_rate, oversampling);
        if let Mode::TwoStage { stage2_factor } = self.mode {
            if stage2_factor > 1 {
                let mut designed = [0.0f32; STAGE2_MAX_FACTOR * STAGE2_TAPS];
                let len = stage2_factor * STAGE2_TAPS;
                design(
                    stage2_factor,
                    STAGE2_TAPS,
                    STAGE2_BETA,
                    &mut designed[..len],
                );
                let stride = stage2_factor.next_multiple_of(4);
                self.stage2_stride = stride;
                self.stage2.fill(0.0);
                for t in 0..STAGE2_TAPS {
                    for p in 0..stage2_factor {
                        self.stage2[t * stride + p] = designed[t * stage2_factor + p];
                    }
                }
                self.stage2_gain = (0..stage2_factor)
                    .map(|p| {
                        (0..STAGE2_TAPS)
                            .map(|t| designed[t * stage2_factor + p].abs() as f64)
                            .sum::<f64>()
                    })
                    .fold(1.0, f64::max) as f32;
            }
        }
        self.reset();
    }

    /// The overall interpolation factor in use (1 = sample peak).
    pub fn factor(&self) -> usize {
        match self.mode {
            Mode::SamplePeak => 1,
            Mode::Standard => 4,
            Mode::TwoStage { stage2_factor } => 2 * stage2_factor,
        }
    }

    /// Samples between an input sample and the output that describes it.
    pub fn latency(&self) -> usize {
        self.mode.latency()
    }

    pub fn reset(&mut self) {
        self.lines.reset();
    }

    /// Pushes one sample; returns the largest magnitude between the sample `latency()` ago and the
    /// one after it. (A block at a time is much faster: [`TruePeakDetector::process_block`].)
    pub fn process(&mut self, input: f32) -> f32 {
        self.process_chunk(&[input], 0.0);
        self.lines.readings[0]
    }

    /// [`TruePeakDetector::process`] for each sample of `input` into `output` (the same length),
    /// with exactly the same readings however the input is split into blocks.
    pub fn process_block(&mut self, input: &[f32], output: &mut [f32]) {
        assert_eq!(input.len(), output.len());
        for (x, y) in input.chunks(CHUNK).zip(output.chunks_mut(CHUNK)) {
            self.process_chunk(x, 0.0);
            y.copy_from_slice(&self.lines.readings[..x.len()]);
        }
    }

    /// The largest true peak of a whole block (for meters); the last `latency()` samples of the
    /// block are accounted for in the next call.
    pub fn block_peak(&mut self, block: &[f32]) -> f32 {
        // Nothing is skipped above a floor of zero that a reading could raise.
        self.block_peak_above(block, 0.0)
    }

    /// The largest reading still held back when a signal ends: feeds the silence that follows
    /// it through the interpolator (twice the latency: the readings of the last samples, then the
    /// filters' ringing after them, as a player reconstructs the end) and returns the largest.
    /// The detector is left as after that silence.
    pub fn finish(&mut self) -> f32 {
        let zeros = [0.0f32; CHUNK];
        let mut left = 2 * self.latency() + 1;
        let mut peak = 0.0f32;
        while left > 0 {
            let n = left.min(CHUNK);
            peak = peak.max(self.block_peak(&zeros[..n]));
            left -= n;
        }
        peak
    }

    /// Readings of one chunk (at most [`CHUNK`] samples) into `lines.readings`. With a positive
    /// `floor`, readings that certainly stay at or under it may be left out (read as zero), for
    /// a caller that only wants the maximum above `floor`.
    fn process_chunk(&mut self, chunk: &[f32], floor: f32) {
        use crate::kernels::{fir, fir_max_abs};
        let n = chunk.len();
        let h = INPUT_HISTORY;
        self.lines.append(chunk);
        let Lines {
            input,
            doubled,
            half,
            doubled_peaks,
            scratch,
            readings,
        } = &mut self.lines;
        let (half, scratch, readings) = (&mut half[..n], &mut scratch[..n], &mut readings[..n]);
        // `delayed(k)[j]`: the input k samples before the chunk's sample j.
        let delayed = |k: usize| &input[h - k..h - k + n];
        match self.mode {
            Mode::SamplePeak => {
                for (y, x) in readings.iter_mut().zip(chunk) {
                    *y = x.abs();
                }
            }
            Mode::Standard => {
                for (y, x) in readings.iter_mut().zip(delayed(STANDARD_LATENCY)) {
                    *y = x.abs();
                }
                fir_max_abs(&self.standard, 4, input, h, readings);
            }
            Mode::TwoStage { stage2_factor } => {
                // Stage 1: the half-sample points; the on-sample points are the input delayed.
                fir(&self.stage1, input, h, half);
                if self.bounding {
                    // The short interpolator's half-sample points, for the band-edge term.
                    fir(
                        &self.band_edge,
                        input,
                        h - (STAGE1_TAPS - BAND_EDGE_TAPS) / 2,
                        scratch,
                    );
                }
                let on_sample = delayed(STAGE1_TAPS / 2);
                if stage2_factor == 1 {
                    for ((y, on), half) in readings.iter_mut().zip(on_sample).zip(&*half) {
                        *y = on.abs().max(half.abs());
                    }
                } else {
                    let d = DOUBLED_HISTORY;
                    let pairs = doubled[d..d + 2 * n].chunks_exact_mut(2);
                    for ((pair, &on), &half) in pairs.zip(on_sample).zip(&*half) {
                        pair[0] = on;
                        pair[1] = half;
                    }
                    // Every stage-2 output is a sum of 16 points of the 2x line weighted by one
                    // branch, so it is at most `stage2_gain` times the largest of them; with the
                    // band-edge term on top, a chunk whose bound stays under `floor` cannot raise
                    // a maximum that is already there, and its stage 2 is skipped.
                    let skip = floor > 0.0 && {
                        let covered = doubled[..d + 2 * n]
                            .iter()
                            .fold(0.0f32, |m, x| m.max(x.abs()));
                        let edge = if self.bounding {
                            half.iter()
                                .zip(&*scratch)
                                .fold(0.0f32, |m, (h, e)| m.max((h - e).abs()))
                        } else {
                            0.0
                        };
                        (covered * self.stage2_gain + edge) * (1.0 + ROUNDING_MARGIN) <= floor
                    };
                    if skip {
                        readings.fill(0.0);
                    } else {
                        let stride = self.stage2_stride;
                        let peaks = &mut doubled_peaks[..2 * n];
                        peaks.fill(0.0);
                        fir_max_abs(
                            &self.stage2[..stride * STAGE2_TAPS],
                            stride,
                            doubled,
                            d,
                            peaks,
                        );
                        for (y, pair) in readings.iter_mut().zip(peaks.chunks_exact(2)) {
                            *y = pair[0].max(pair[1]);
                        }
                    }
                }
                if !self.bounding {
                    for (y, x) in readings.iter_mut().zip(delayed(TWO_STAGE_LATENCY)) {
                        *y = y.max(x.abs());
                    }
                } else {
                    // The band-edge uncertainty (computed above): stage 1 less the short
                    // interpolator.
                    let edge = &*scratch;
                    for ((y, half), edge) in readings.iter_mut().zip(&*half).zip(edge) {
                        *y += (half - edge).abs();
                    }
                    // The standard's filter over the same stretch, starting from its sample.
                    let standard = &mut *scratch;
                    for (s, x) in standard.iter_mut().zip(delayed(TWO_STAGE_LATENCY)) {
                        *s = x.abs();
                    }
                    fir_max_abs(
                        &self.standard,
                        4,
                        input,
                        h - (TWO_STAGE_LATENCY - STANDARD_LATENCY),
                        standard,
                    );
                    // `s > y ? s : y`, a vector maximum (which keeps `y` where either is NaN).
                    for (y, &s) in readings.iter_mut().zip(&*standard) {
                        *y = if s > *y { s } else { *y };
                    }
                }
            }
        }
        let doubled = matches!(self.mode, Mode::TwoStage { stage2_factor } if stage2_factor > 1);
        self.lines.advance(n, doubled);
    }

    /// `max(floor, block_peak(block))`, for a meter that holds its maximum: it skips the
    /// interpolation where no interpolated value can exceed the maximum so far. In the 4x setting
    /// each output is a sum of 12 inputs weighted by one of the standard's phases, so it is at
    /// most [`BS1770_MAX_GAIN`] times the largest input magnitude it covers, and a block under
    /// that bound only feeds the history; at 8x and 16x a chunk's stage 2 (most of the work) is
    /// skipped when its bound, from the 2x points it covers, stays under. The result is identical
    /// to `block_peak`'s.
    pub fn block_peak_above(&mut self, block: &[f32], floor: f32) -> f32 {
        if self.mode == Mode::Standard {
            let covered = self.lines.input[INPUT_HISTORY - 11..INPUT_HISTORY]
                .iter()
                .chain(block)
                .fold(0.0f32, |m, x| m.max(x.abs()));
            if covered * BS1770_MAX_GAIN <= floor {
                for chunk in block.chunks(CHUNK) {
                    self.lines.append(chunk);
                    self.lines.advance(chunk.len(), false);
                }
                return floor;
            }
        }
        let mut peak = floor;
        for x in block.chunks(CHUNK) {
            self.process_chunk(x, peak);
            peak = self.lines.readings[..x.len()]
                .iter()
                .fold(peak, |m, &y| m.max(y));
        }
        peak
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::gain_to_db_f64;

    fn sine(sample_rate: f64, hz: f64, phase: f64, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| (2.0 * PI * hz * n as f64 / sample_rate + phase).sin() as f32)
            .collect()
    }

    /// Reads a full-scale sine's true peak (analytically 0 dBFS) after the filter settles.
    fn read_db(sample_rate: f32, oversampling: Oversampling, hz: f64, phase: f64) -> f64 {
        let signal = sine(sample_rate as f64, hz, phase, 4096);
        let mut detector = TruePeakDetector::new(sample_rate, oversampling);
        let peak = signal
            .iter()
            .enumerate()
            .map(|(i, &x)| (i, detector.process(x)))
            .filter(|&(i, _)| i > 256)
            .fold(0.0f32, |m, (_, p)| m.max(p));
        gain_to_db_f64(peak as f64)
    }

    #[test]
    fn factor_scales_with_rate() {
        assert_eq!(Oversampling::X4.factor_at(44_100.0), 4);
        assert_eq!(Oversampling::X4.factor_at(48_000.0), 4);
        assert_eq!(Oversampling::X4.factor_at(96_000.0), 2);
        assert_eq!(Oversampling::X4.factor_at(192_000.0), 1);
        assert_eq!(Oversampling::X8.factor_at(96_000.0), 4);
        assert_eq!(Oversampling::X16.factor_at(384_000.0), 2);
        assert_eq!(Oversampling::Off.factor_at(48_000.0), 1);
    }

    /// Our phases have unity DC gain; the standard's filter, as printed, has a DC gain of up to
    /// 1.0016 (+0.014 dB), and that is what a constant reads.
    #[test]
    fn constant_input_reads_at_most_the_standard_dc_gain() {
        let largest_dc: f32 = BS1770_PHASES
            .iter()
            .map(|phase| phase.iter().sum::<f32>())
            .fold(1.0, f32::max);
        let mut detector = TruePeakDetector::new(48_000.0, Oversampling::X8);
        let mut peak = 0.0;
        for _ in 0..100 {
            peak = detector.process(0.5);
        }
        assert!((peak - 0.5 * largest_dc).abs() < 1e-6, "{peak}");
        assert!(largest_dc < 1.002);
    }

    /// The classic inter-sample peak: a sine at fs/4 sampled at 45° reads −3 dB as sample peak and
    /// 0 dB as true peak.
    #[test]
    fn fs_over_4_at_45_degrees_reads_0_dbtp() {
        for rate in [44_100.0, 48_000.0] {
            let hz = rate as f64 / 4.0;
            let sample_peak = read_db(rate, Oversampling::Off, hz, PI / 4.0);
            assert!((sample_peak + 3.01).abs() < 0.02, "{sample_peak}");
            for os in [Oversampling::X4, Oversampling::X8, Oversampling::X16] {
                let tp = read_db(rate, os, hz, PI / 4.0);
                assert!(tp.abs() < 0.05, "{os:?} at {rate}: {tp} dB");
            }
        }
    }

    /// Accuracy over frequency and phase against the analytic true peak (0 dBFS): never more than
    /// the interpolation bound under, and never more than the standard filter's ripple over.
    #[test]
    fn accuracy_against_analytic_sines() {
        for rate in [44_100.0f32, 48_000.0, 96_000.0, 192_000.0] {
            for (os, max_under_db) in [
                (Oversampling::X4, 0.70),
                (Oversampling::X8, 0.20),
                (Oversampling::X16, 0.08),
            ] {
                let factor = os.factor_at(rate) as f64;
                for &hz in &[100.0, 997.0, 5_000.0, 10_000.0, 15_000.0, 19_000.0] {
                    // Worst case between two interpolated points.
                    let bound = -gain_to_db_f64((PI * hz / (factor * rate as f64)).cos());
                    for k in 0..8 {
                        let phase = k as f64 * PI / 8.0 + 0.1;
                        let db = read_db(rate, os, hz, phase);
                        assert!(
                            db >= -(bound.min(max_under_db) + 0.05) && db <= 0.23,
                            "{os:?} {rate} Hz {hz} Hz phase {phase}: {db} dB (bound {bound})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn max_gain_bounds_every_phase() {
        let largest = BS1770_PHASES
            .iter()
            .map(|phase| phase.iter().map(|c| c.abs()).sum::<f32>())
            .fold(0.0f32, f32::max);
        assert!(
            largest <= BS1770_MAX_GAIN && largest > BS1770_MAX_GAIN - 1e-3,
            "{largest}"
        );
    }

    /// The skipping block peak gives exactly what the full interpolation gives, for loud and
    /// quiet passages and any block size, and where only the interpolation finds each new
    /// maximum: a sine at 0.45·fs rising by 0.05 dB per 256 samples, whose 2x points read up to
    /// 1.3 dB under its peak (a bound that left out the interpolation's gain would skip it).
    #[test]
    fn block_peak_above_is_exact() {
        let mut noise = crate::noise::WhiteNoise::new(3);
        let mut signal: Vec<f32> = (0..12_000)
            .map(|n| {
                let level = 10f64.powf((n / 256) as f64 * 0.05 / 20.0);
                (0.5 * level * (2.0 * PI * 0.45 * n as f64 + 0.3).sin()) as f32
            })
            .collect();
        signal.extend((0..48_000).map(|n| {
            let level = if (n / 4_000) % 2 == 0 { 0.9 } else { 0.05 };
            (noise.next_f64() * level) as f32
        }));
        let settings = [Oversampling::X4, Oversampling::X8, Oversampling::X16];
        for (rate, os) in [48_000.0, 96_000.0]
            .into_iter()
            .flat_map(|rate| settings.map(|os| (rate, os)))
        {
            for accurate in [false, true] {
                for block in [1, 7, 64, 500] {
                    let mut full = TruePeakDetector::new(rate, os);
                    if accurate {
                        full = full.accurate();
                    }
                    let mut skipping = full.clone();
                    let (mut a, mut b) = (0.0f32, 0.0f32);
                    for chunk in signal.chunks(block) {
                        a = a.max(full.block_peak(chunk));
                        b = skipping.block_peak_above(chunk, b);
                        assert_eq!(a, b, "{os:?} at {rate}, accurate {accurate}, block {block}");
                    }
                }
            }
        }
    }

    /// The skip bound of the two-stage modes holds and is tight: through the stage-2 kernel, the
    /// worst case for each branch (unit inputs with the signs of its taps) reads at most
    /// `stage2_gain`, and the worst branch reads exactly that.
    #[test]
    fn stage2_gain_bounds_every_branch() {
        use crate::kernels::fir_max_abs;
        for os in [Oversampling::X8, Oversampling::X16] {
            let detector = TruePeakDetector::new(48_000.0, os);
            let stride = detector.stage2_stride;
            let coeffs = &detector.stage2[..stride * STAGE2_TAPS];
            let gain = detector.stage2_gain;
            let mut worst = 0.0f32;
            for p in 0..stride {
                // `src[newest − t]` meets tap `t`: give it the sign of branch p's tap t.
                let src: Vec<f32> = (0..STAGE2_TAPS)
                    .rev()
                    .map(|t| coeffs[t * stride + p].signum())
                    .collect();
                let mut out = [0.0f32];
                fir_max_abs(coeffs, stride, &src, STAGE2_TAPS - 1, &mut out);
                assert!(
                    out[0] <= gain * (1.0 + ROUNDING_MARGIN),
                    "{os:?} branch {p}"
                );
                worst = worst.max(out[0]);
            }
            assert!(
                (worst / gain - 1.0).abs() < 1e-5,
                "{os:?}: {worst} vs {gain}"
            );
        }
    }

    /// The block paths give exactly the per-sample readings, in every mode and at rates that
    /// use every stage-2 factor (8x at 192 kHz is stage 1 alone).
    #[test]
    fn block_paths_match_per_sample() {
        let mut noise = crate::noise::WhiteNoise::new(9);
        let signal: Vec<f32> = (0..5_000).map(|_| noise.next_f64() as f32).collect();
        let settings = [
            Oversampling::Off,
            Oversampling::X4,
            Oversampling::X8,
            Oversampling::X16,
        ];
        for (rate, os) in [48_000.0, 96_000.0, 192_000.0]
            .into_iter()
            .flat_map(|rate| settings.map(|os| (rate, os)))
        {
            for accurate in [false, true] {
                let mut detector = TruePeakDetector::new(rate, os);
                if accurate {
                    detector = detector.accurate();
                }
                let mut single = detector.clone();
                let want: Vec<f32> = signal.iter().map(|&x| single.process(x)).collect();
                let mut blocks = detector.clone();
                let mut got = vec![0.0; signal.len()];
                for (input, output) in signal.chunks(333).zip(got.chunks_mut(333)) {
                    blocks.process_block(input, output);
                }
                assert_eq!(got, want, "{os:?} at {rate} Hz, accurate {accurate}");
                let mut peaks = detector.clone();
                let peak = signal
                    .chunks(100)
                    .fold(0.0f32, |m, block| m.max(peaks.block_peak(block)));
                assert_eq!(peak, want.iter().fold(0.0f32, |m, &x| m.max(x)));
            }
        }
    }

    #[test]
    fn reports_its_latency() {
        for os in [Oversampling::Off, Oversampling::X4, Oversampling::X8] {
            let mut detector = TruePeakDetector::new(48_000.0, os);
            let outputs: Vec<f32> = (0..64)
                .map(|n| detector.process(if n == 10 { 1.0 } else { 0.0 }))
                .collect();
            let at = outputs
                .iter()
                .enumerate()
                .fold(
                    (0, 0.0),
                    |best, (i, &y)| if y > best.1 { (i, y) } else { best },
                )
                .0;
            assert_eq!(at, 10 + detector.latency(), "{os:?}");
        }
    }
}
