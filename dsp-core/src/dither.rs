//! Word-length reduction with dither and noise shaping.
//!
//! Quantisation to `bits` bits rounds to multiples of the LSB `q = 2^(1 − bits)` (full scale ±1).
//! Plain rounding leaves an error that depends on the signal: harmonics and noise modulation.
//! Adding dither before rounding makes the error signal-independent noise:
//! - RPDF (uniform, 1 LSB peak-to-peak) removes the error's dependence on the signal's first
//!   moment only;
//! - TPDF (sum of two uniforms, 2 LSB peak-to-peak) also makes the error power independent of the
//!   signal: total error power `q²/12 + 2·q²/12 = q²/4`, i.e. an RMS of `q/2` (−96.3 dBFS at
//!   16 bits);
//! - high-pass TPDF (the difference of successive uniforms) has the same distribution with its
//!   power tilted towards high frequencies, where hearing is less sensitive.
//!
//! Noise shaping feeds the total error back through a filter `H(z)`, so the output error has the
//! spectrum of `(1 − H(z))` times white noise: less in the 1–5 kHz region where hearing is most
//! sensitive, more near Nyquist. Filters (coefficients `h_k` of `H(z) = Σ h_k z^−k`):
//! - first order: `h = [1]`, a +6 dB/octave rise (no psychoacoustic weighting);
//! - F-weighted, 9 taps, and modified E-weighted, 9 taps: R. A. Wannamaker, "Psychoacoustically
//!   optimal noise shaping", JAES 40(7/8), 1992, designed for 44.1 kHz (as used by SoX).
//!
//! The psychoacoustic filters are designed for 44.1 kHz and stay close to right at 48 kHz. At
//! higher rates their notch would move above the region it is meant for, so above 50 kHz they fall
//! back to first-order shaping (which pushes noise upwards at any rate).
//!
//! Auto-blank: after `AUTO_BLANK_MS` of silence at the input the output is exact zeros (no
//! dither hiss in pauses); the first sound resumes dithering. Silence is anything under
//! [`SILENCE_BELOW_LSB`] of the output's LSB: digital silence, and also what the word length
//! cannot carry, such as the tails of filters and reverbs decaying through −140 dBFS towards
//! zero after a track ends, which would otherwise keep the hiss on for up to half a second more.
//! The time before the first sample (and before a reset) counts as silence, so a programme that
//! opens with digital silence opens with exact zeros, not a quarter second of hiss.

use crate::noise::WhiteNoise;

/// Silence needed before the output blanks.
pub const AUTO_BLANK_MS: f32 = 250.0;

/// Input below this fraction of the LSB counts as silence for auto-blank: 48 dB under the LSB,
/// about 42 dB under the TPDF dither's own noise (−138 dBFS at 16 bits, −186 dBFS at 24).
pub const SILENCE_BELOW_LSB: f64 = 1.0 / 256.0;

/// The silence count a channel starts with: the time before the first sample counts as
/// silence (see the module docs).
const SILENT_BEFORE_START: usize = usize::MAX;

/// Dither probability density.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DitherKind {
    /// No dither: plain rounding (for comparison; not for release masters).
    None,
    /// Rectangular, ±0.5 LSB.
    Rpdf,
    /// Triangular, ±1 LSB.
    Tpdf,
    /// Triangular from successive differences of one uniform sequence (high-pass spectrum).
    HighPassTpdf,
}

/// Noise-shaping filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoiseShaping {
    None,
    FirstOrder,
    /// Wannamaker's 9-tap F-weighted filter (44.1 kHz).
    FWeighted,
    /// Wannamaker's 9-tap modified E-weighted filter (44.1 kHz).
    ModifiedEWeighted,
}

/// Wannamaker 1992, F-weighted 9-tap error-feedback coefficients (44.1 kHz).
const F_WEIGHTED: [f64; 9] = [
    2.412, -3.370, 3.937, -4.174, 3.353, -2.205, 1.281, -0.569, 0.0847,
];
/// Wannamaker 1992, modified E-weighted 9-tap error-feedback coefficients (44.1 kHz).
const MODIFIED_E_WEIGHTED: [f64; 9] = [
    1.662, -1.263, 0.4827, -0.2913, 0.1268, -0.1124, 0.03252, -0.01265, -0.03524,
];
const FIRST_ORDER: [f64; 1] = [1.0];
/// Taps of the longest error-feedback filter.
const SHAPING_TAPS: usize = 9;

/// The filter a shaping setting uses at `sample_rate` (empty: none).
fn shaping_filter(shaping: NoiseShaping, sample_rate: f32) -> &'static [f64] {
    let psychoacoustic_rate = sample_rate <= 50_000.0;
    match shaping {
        NoiseShaping::None => &[],
        NoiseShaping::FirstOrder => &FIRST_ORDER,
        NoiseShaping::FWeighted if psychoacoustic_rate => &F_WEIGHTED,
        NoiseShaping::ModifiedEWeighted if psychoacoustic_rate => &MODIFIED_E_WEIGHTED,
        _ => &FIRST_ORDER,
    }
}

/// Gain of the noise-shaping transfer function `|1 − H(e^jω)|` at `hz`, in dB relative to
/// unshaped noise (what the editor draws).
pub fn shaping_response_db(shaping: NoiseShaping, sample_rate: f32, hz: f32) -> f32 {
    let w = 2.0 * std::f64::consts::PI * hz as f64 / sample_rate as f64;
    let (mut re, mut im) = (1.0f64, 0.0f64);
    for (k, h) in shaping_filter(shaping, sample_rate).iter().enumerate() {
        let phase = w * (k + 1) as f64;
        re -= h * phase.cos();
        im += h * phase.sin();
    }
    (10.0 * (re * re + im * im).max(1e-30).log10()) as f32
}

/// Total dither + quantisation noise of the output (RMS, dBFS) for flat TPDF at `bits`: the
/// error RMS is half an LSB (−96.3 dBFS at 16 bits).
pub fn tpdf_noise_floor_db(bits: u32) -> f32 {
    (20.0 * (2f64.powi(1 - bits.clamp(8, 24) as i32) / 2.0).log10()) as f32
}

/// Settings of a [`Dither`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DitherSettings {
    /// Target word length, 8..=24 bits.
    pub bits: u32,
    pub kind: DitherKind,
    pub shaping: NoiseShaping,
    /// Blank the output after digital silence.
    pub auto_blank: bool,
}

impl Default for DitherSettings {
    fn default() -> Self {
        Self {
            bits: 16,
            kind: DitherKind::Tpdf,
            shaping: NoiseShaping::None,
            auto_blank: true,
        }
    }
}

/// Per-channel state.
#[derive(Clone, Debug)]
struct Channel {
    noise: WhiteNoise,
    /// Previous uniform value (high-pass TPDF).
    previous_uniform: f64,
    /// Recent total errors in LSBs, newest first.
    errors: [f64; SHAPING_TAPS],
    /// Consecutive digital-silence samples at the input.
    silent_samples: usize,
}

/// Dither and noise-shaped quantiser for up to [`crate::MAX_CHANNELS`] channels, each with its
/// own noise sequence.
#[derive(Clone, Debug)]
pub struct Dither {
    settings: DitherSettings,
    /// LSB of the target word length.
    lsb: f64,
    /// `1 / lsb` (exact: the LSB is a power of two).
    inverse_lsb: f64,
    /// Error-feedback coefficients in use, padded with zeros to the longest filter's length so
    /// that the feedback sum has a fixed length.
    shaping: [f64; SHAPING_TAPS],
    blank_after: usize,
    channels: Vec<Channel>,
    /// Whether stereo may run in SSE lanes (always, except in the test that compares both).
    lanes: bool,
}

impl Dither {
    /// A dither for `channels` channels at `sample_rate`; `seed` makes the noise reproducible.
    pub fn new(sample_rate: f32, channels: usize, settings: DitherSettings, seed: u64) -> Self {
        let channels = (0..channels.clamp(1, crate::MAX_CHANNELS))
            .map(|c| Channel {
                noise: WhiteNoise::new(
                    seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                        .wrapping_add(c as u64 + 1),
                ),
                previous_uniform: 0.0,
                errors: [0.0; SHAPING_TAPS],
                silent_samples: SILENT_BEFORE_START,
            })
            .collect();
        let mut dither = Self {
            settings,
            lsb: 0.0,
            inverse_lsb: 0.0,
            shaping: [0.0; SHAPING_TAPS],
            blank_after: 0,
            channels,
            lanes: true,
        };
        dither.set_settings(sample_rate, settings);
        dither
    }

    /// Applies new settings (bits clamped to 8..=24).
    pub fn set_settings(&mut self, sample_rate: f32, settings: DitherSettings) {
        let bits = settings.bits.clamp(8, 24);
        self.settings = DitherSettings { bits, ..settings };
        self.lsb = 2f64.powi(1 - bits as i32);
        self.inverse_lsb = 2f64.powi(bits as i32 - 1);
        let filter = shaping_filter(settings.shaping, sample_rate);
        self.shaping = [0.0; SHAPING_TAPS];
        self.shaping[..filter.len()].copy_from_slice(filter);
        self.blank_after = (AUTO_BLANK_MS * 0.001 * sample_rate) as usize;
    }

    pub fn settings(&self) -> &DitherSettings {
        &self.settings
    }

    /// The quantisation step (LSB) of the target word length.
    pub fn lsb(&self) -> f64 {
        self.lsb
    }

    pub fn reset(&mut self) {
        for channel in &mut self.channels {
            channel.previous_uniform = 0.0;
            channel.errors = [0.0; SHAPING_TAPS];
            channel.silent_samples = SILENT_BEFORE_START;
        }
    }

    /// Quantises a block in place. Every output sample is an exact multiple of the LSB within
    /// [−1, 1 − LSB].
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let q = Quantiser {
            lsb: self.lsb,
            inverse_lsb: self.inverse_lsb,
            highest: 1.0 - self.lsb,
            kind: self.settings.kind,
            auto_blank: self.settings.auto_blank,
            blank_after: self.blank_after,
            quiet: self.lsb * SILENCE_BELOW_LSB,
            shaping: self.shaping,
        };
        match (&mut self.channels[..], channels) {
            // Stereo in lockstep: the two channels' error-feedback sums overlap in time.
            ([left_state, right_state], [left, right]) => {
                let n = left.len().min(right.len());
                let mut i = 0;
                while i < n {
                    #[cfg(target_arch = "x86_64")]
                    if self.lanes
                        && std::arch::is_x86_feature_detected!("sse4.1")
                        && std::arch::is_x86_feature_detected!("fma")
                    {
                        // SAFETY: the CPU has SSE4.1 and FMA (checked above).
                        i += unsafe {
                            quantise_pair(
                                [left_state, right_state],
                                [&mut left[i..n], &mut right[i..n]],
                                &q,
                            )
                        };
                        if i == n {
                            break;
                        }
                    }
                    // A sample the pair leaves to the scalar code (one that blanks), or all of
                    // them without SSE4.1 and FMA.
                    left_state.quantise(&mut left[i], &q);
                    right_state.quantise(&mut right[i], &q);
                    i += 1;
                }
                left[n..]
                    .iter_mut()
                    .for_each(|x| left_state.quantise(x, &q));
                right[n..]
                    .iter_mut()
                    .for_each(|x| right_state.quantise(x, &q));
            }
            (states, channels) => {
                for (state, samples) in states.iter_mut().zip(channels.iter_mut()) {
                    samples.iter_mut().for_each(|x| state.quantise(x, &q));
                }
            }
        }
    }
}

/// [`Channel::quantise`] on a left and a right channel at once, in the two lanes of SSE
/// registers with the error history held in them: each lane meets the scalar arithmetic in its
/// order, so the output is bit for bit the same. Stops before a sample where either channel
/// would blank (for the scalar code to take) and returns how many samples it quantised.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.1,fma")]
fn quantise_pair(states: [&mut Channel; 2], samples: [&mut [f32]; 2], q: &Quantiser) -> usize {
    use crate::lanes::pair::clamp;
    const ONE_BITS: i64 = 0x3ff0_0000_0000_0000;
    const TWO_BITS: i64 = 0x4000_0000_0000_0000;
    use std::arch::x86_64::*;
    let [left_state, right_state] = states;
    let [left, right] = samples;
    let pair = |l: f64, r: f64| _mm_set_pd(r, l);
    let lsb = _mm_set1_pd(q.lsb);
    let inverse_lsb = _mm_set1_pd(q.inverse_lsb);
    // The errors oldest first, each sample's appended after them, moved back to the start
    // every `CHUNK` samples: no shifting of the whole history per sample, whose stores and wider
    // reloads sat on the loop's chain. The newest error stays in a register.
    const CHUNK: usize = 64;
    const OLDER: usize = SHAPING_TAPS - 1;
    let mut history = [_mm_setzero_pd(); CHUNK + SHAPING_TAPS];
    for (k, slot) in history[..SHAPING_TAPS].iter_mut().rev().enumerate() {
        *slot = pair(left_state.errors[k], right_state.errors[k]);
    }
    let mut newest = history[OLDER];
    let mut at = 0;
    let shaping = q.shaping.map(|h| _mm_set1_pd(h));
    let (lowest, highest) = (
        _mm_set1_pd(-q.inverse_lsb),
        _mm_set1_pd(q.highest * q.inverse_lsb),
    );
    let (error_low, error_high) = (_mm_set1_pd(-2.0), _mm_set1_pd(2.0));
    // Both channels' noise generators in the two 64-bit lanes, each drawn as `WhiteNoise`.
    let mut noise = _mm_set_epi64x(
        right_state.noise.state as i64,
        left_state.noise.state as i64,
    );
    let mut previous_uniform = pair(left_state.previous_uniform, right_state.previous_uniform);
    let mut next_uniform = || {
        noise = _mm_xor_si128(noise, _mm_slli_epi64::<13>(noise));
        noise = _mm_xor_si128(noise, _mm_srli_epi64::<7>(noise));
        noise = _mm_xor_si128(noise, _mm_slli_epi64::<17>(noise));
        // `(state >> 11) as f64 / 2^52 − 1` (`WhiteNoise::next_f64`) from the bits: with `u` the
        // 53 bits and `m` its low 52, `1 + m / 2^52` is the f64 with mantissa `m` and exponent
        // 0; less 1 when `u`'s top bit is set (`u / 2^52 = 1 + m / 2^52`), less 2 when it is not
        // (`u / 2^52 = m / 2^52`). Both subtractions are exact, as the reference's are.
        let u = _mm_srli_epi64::<11>(noise);
        let mantissa = _mm_and_si128(u, _mm_set1_epi64x((1 << 52) - 1));
        let one_and_fraction = _mm_or_si128(mantissa, _mm_set1_epi64x(ONE_BITS));
        // The bits of 2.0 less the top bit (at the exponent's lowest bit): those of 1.0 when set.
        let less = _mm_sub_epi64(
            _mm_set1_epi64x(TWO_BITS),
            _mm_and_si128(u, _mm_set1_epi64x(1 << 52)),
        );
        _mm_sub_pd(_mm_castsi128_pd(one_and_fraction), _mm_castsi128_pd(less))
    };
    let half = _mm_set1_pd(0.5);
    let mut done = 0;
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        let ((x_l, silent_l), (x_r, silent_r)) =
            (left_state.read(*l, q.quiet), right_state.read(*r, q.quiet));
        if q.auto_blank && (silent_l > q.blank_after || silent_r > q.blank_after) {
            break;
        }
        (left_state.silent_samples, right_state.silent_samples) = (silent_l, silent_r);
        if at == CHUNK {
            history.copy_within(CHUNK.., 0);
            at = 0;
        }
        // The older errors' feedback from the oldest tap (`Sum` starts from −0.0, which the
        // first product keeps; `errors[j]` is the error of `OLDER + 1 − j` samples ago), then the
        // newest error's in fused multiply-adds.
        let errors: &[__m128d; OLDER] = history[at..at + OLDER].try_into().unwrap();
        let mut older = _mm_mul_pd(shaping[OLDER], errors[0]);
        for k in (1..OLDER).rev() {
            older = _mm_add_pd(older, _mm_mul_pd(shaping[k], errors[OLDER - k]));
        }
        let base = _mm_sub_pd(_mm_mul_pd(pair(x_l, x_r), inverse_lsb), older);
        // `Channel::dither` in both lanes.
        let dither = match q.kind {
            DitherKind::None => _mm_setzero_pd(),
            DitherKind::Rpdf => _mm_mul_pd(half, next_uniform()),
            DitherKind::Tpdf => {
                let first = next_uniform();
                _mm_mul_pd(half, _mm_add_pd(first, next_uniform()))
            }
            DitherKind::HighPassTpdf => {
                let uniform = _mm_mul_pd(half, next_uniform());
                let d = _mm_sub_pd(uniform, previous_uniform);
                previous_uniform = uniform;
                d
            }
        };
        let wanted = _mm_fnmadd_pd(shaping[0], newest, base);
        let v = _mm_fnmadd_pd(shaping[0], newest, _mm_add_pd(base, dither));
        let rounded = _mm_round_pd::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v);
        let y = clamp(rounded, lowest, highest);
        newest = clamp(_mm_sub_pd(y, wanted), error_low, error_high);
        history[at + SHAPING_TAPS] = newest;
        at += 1;
        let y = _mm_mul_pd(y, lsb);
        *l = _mm_cvtsd_f64(y) as f32;
        *r = _mm_cvtsd_f64(_mm_unpackhi_pd(y, y)) as f32;
        done += 1;
    }
    for (k, e) in history[at..at + SHAPING_TAPS].iter().rev().enumerate() {
        left_state.errors[k] = _mm_cvtsd_f64(*e);
        right_state.errors[k] = _mm_cvtsd_f64(_mm_unpackhi_pd(*e, *e));
    }
    let mut states = [0u64; 2];
    // SAFETY: a store of two u64.
    unsafe { _mm_storeu_si128(states.as_mut_ptr().cast(), noise) };
    (left_state.noise.state, right_state.noise.state) = (states[0], states[1]);
    left_state.previous_uniform = _mm_cvtsd_f64(previous_uniform);
    right_state.previous_uniform =
        _mm_cvtsd_f64(_mm_unpackhi_pd(previous_uniform, previous_uniform));
    done
}

/// What [`Channel::quantise`] needs of the settings.
struct Quantiser {
    lsb: f64,
    inverse_lsb: f64,
    /// The largest output, `1 − lsb`.
    highest: f64,
    kind: DitherKind,
    auto_blank: bool,
    blank_after: usize,
    /// Input magnitudes below this count as silence ([`SILENCE_BELOW_LSB`] of the LSB).
    quiet: f64,
    shaping: [f64; SHAPING_TAPS],
}

impl Channel {
    /// The next dither value, in LSBs.
    #[inline(always)]
    fn dither(&mut self, kind: DitherKind) -> f64 {
        match kind {
            DitherKind::None => 0.0,
            DitherKind::Rpdf => 0.5 * self.noise.next_f64(),
            DitherKind::Tpdf => 0.5 * (self.noise.next_f64() + self.noise.next_f64()),
            DitherKind::HighPassTpdf => {
                let uniform = 0.5 * self.noise.next_f64();
                let d = uniform - self.previous_uniform;
                self.previous_uniform = uniform;
                d
            }
        }
    }

    /// The input as the quantiser reads it (non-finite values as silence) and the silence count
    /// it leads to (magnitudes under `quiet` count as silence).
    #[inline(always)]
    fn read(&self, sample: f32, quiet: f64) -> (f64, usize) {
        let x = if sample.is_finite() {
            sample as f64
        } else {
            0.0
        };
        let silent = if x.abs() < quiet {
            self.silent_samples.saturating_add(1)
        } else {
            0
        };
        (x, silent)
    }

    /// Dithers, noise-shapes and quantises one sample in place.
    #[inline(always)]
    fn quantise(&mut self, sample: &mut f32, q: &Quantiser) {
        let lsb = q.lsb;
        let x;
        (x, self.silent_samples) = self.read(*sample, q.quiet);
        if q.auto_blank && self.silent_samples > q.blank_after {
            *sample = 0.0;
            self.errors = [0.0; SHAPING_TAPS];
            return;
        }
        // The feedback from the oldest error to the second newest, then the newest, which the
        // previous sample has only just made, in one fused multiply-add right before the
        // quantiser, not through the whole sum: this loop's speed is the latency of the chain
        // from one sample's error to the next (fused multiply-add, rounding, two clamps and a
        // subtraction). In LSBs: the LSB is a power of two, so the scalings are exact, and none
        // is on that chain. The value quantised takes the dither before the newest error, so
        // that it too is one operation from it.
        let older: f64 = q.shaping[1..]
            .iter()
            .zip(&self.errors[1..])
            .rev()
            .map(|(h, e)| h * e)
            .sum();
        let base = x * q.inverse_lsb - older;
        let newest = -q.shaping[0];
        let wanted = newest.mul_add(self.errors[0], base);
        let v = newest.mul_add(self.errors[0], base + self.dither(q.kind));
        // Halfway cases (of no consequence under dither) to even, as the hardware rounds.
        let y = v
            .round_ties_even()
            .clamp(-q.inverse_lsb, q.highest * q.inverse_lsb);
        // Total error of this sample (quantisation and dither), fed back next time. It is within
        // ±1.5 LSB unless the output clipped; bounding it keeps the shaping loop stable through
        // clipping.
        self.errors.copy_within(0..SHAPING_TAPS - 1, 1);
        self.errors[0] = (y - wanted).clamp(-2.0, 2.0);
        *sample = (y * lsb) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A channel of stretches: quiet and loud noise, digital silence long enough to blank, full
    /// scale and beyond, NaN and infinity.
    fn stretches(seed: u64, len: usize) -> Vec<f32> {
        let mut noise = WhiteNoise::new(seed);
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let kind = (noise.next_f64() * 3.0 + 3.0) as usize;
            // Silence runs sometimes past the blanking point (11,025 samples at 44.1 kHz).
            let longest = if kind == 0 { 8_000.0 } else { 2_000.0 };
            let run = (noise.next_f64() * longest + longest + 100.0) as usize;
            for _ in 0..run.min(len - out.len()) {
                let u = noise.next_f64();
                out.push(match kind {
                    0 => 0.0,
                    1 => (u * 1e-4) as f32,
                    2 => (u * 0.9) as f32,
                    3 => (u * 3.0) as f32,
                    4 => [f32::NAN, f32::INFINITY, -0.0, 1e30][(u.abs() * 3.99) as usize],
                    _ => (u * 2e-5) as f32,
                });
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Stereo in SSE lanes is the per-channel scalar quantiser bit for bit: every kind,
        /// shaping and word length, through blanking in one channel or both, and any block size.
        #[test]
        fn stereo_lanes_are_the_scalar_quantiser_bit_for_bit(
            bits in 8u32..=24,
            kind in 0usize..4,
            shaping in 0usize..4,
            auto_blank in any::<bool>(),
            seeds in any::<(u64, u64, u64)>(),
            block in 1usize..3000,
        ) {
            let settings = DitherSettings {
                bits,
                kind: [DitherKind::None, DitherKind::Rpdf, DitherKind::Tpdf, DitherKind::HighPassTpdf][kind],
                shaping: [NoiseShaping::None, NoiseShaping::FirstOrder, NoiseShaping::FWeighted, NoiseShaping::ModifiedEWeighted][shaping],
                auto_blank,
            };
            let len = 60_000;
            let input = [stretches(seeds.0, len), stretches(seeds.1, len)];
            let mut lanes = Dither::new(44_100.0, 2, settings, seeds.2);
            let mut scalar = lanes.clone();
            scalar.lanes = false;
            let mut out = [input.clone(), input.clone()];
            for (dither, [l, r]) in [&mut lanes, &mut scalar].into_iter().zip(out.iter_mut()) {
                for (l, r) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
                    dither.process(&mut [l, r]);
                }
            }
            for (c, (a, b)) in out[0].iter().zip(&out[1]).enumerate() {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    prop_assert_eq!(x.to_bits(), y.to_bits(), "channel {} sample {}", c, i);
                }
            }
        }
    }
}
