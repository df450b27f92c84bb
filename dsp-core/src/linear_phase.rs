//! Linear-phase EQ: the magnitude of the minimum-phase band chain realised as a symmetric FIR
//! filter, run by uniformly partitioned overlap-save FFT convolution (`realfft`).
//!
//! # Design
//! The target magnitude `|H(f)|` (the product of the bands' [`Design`] magnitudes, the same
//! curves the minimum-phase EQ has) is sampled on an `N`-point grid, given zero phase and
//! transformed back: a real, even impulse response. Shifted by `c = N/2 − 1` and multiplied by a
//! Hann window centred there (it smooths less than a Blackman: 0.06 against 0.10 dB at
//! 40 Hz next to a 25 Hz cut at the medium resolution), it becomes an `N − 1`-tap filter symmetric about `c`: linear
//! phase, delay `c` samples. `N` is the resolution (4096, 8192 or 16384 at 44.1/48 kHz, scaled
//! with the rate so that the frequency resolution stays the same).
//!
//! # Convolution
//! Uniformly partitioned overlap-save: blocks of `B` = [`PARTITION`] samples, FFTs of `2B`, the
//! filter cut into `N/B` partitions whose spectra multiply a frequency-domain delay line of
//! input spectra. Input and output are buffered per block, so the total latency is `c + B`
//! samples, whatever the host's block size. Mid and side have their own filters (bands routed
//! to mid or side only touch one of them).
//!
//! # Changes
//! A new filter is designed at most once per block (allocation-free: every buffer and FFT plan
//! exists from construction) and crossfaded in over the next block, computed with both the old
//! and the new filter.

use crate::eq::{BandSettings, Design, Route, MAX_BANDS};
use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// The convolution block size: part of the latency.
pub const PARTITION: usize = 256;

/// How finely the linear-phase filter resolves frequency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// 4096 taps at 44.1/48 kHz (11.7 Hz bins at 48 kHz).
    Low,
    /// 8192 taps at 44.1/48 kHz.
    Medium,
    /// 16384 taps at 44.1/48 kHz.
    High,
}

impl Resolution {
    /// The FIR length `N` at `sample_rate` (a power of two, at least 4 partitions).
    pub fn taps(self, sample_rate: f32) -> usize {
        let base = match self {
            Self::Low => 4096,
            Self::Medium => 8192,
            Self::High => 16384,
        };
        let scale = (sample_rate / 48_000.0).max(0.5);
        ((base as f32 * scale).round() as usize)
            .next_power_of_two()
            .max(4 * PARTITION)
    }
}

/// One channel's filter as partition spectra.
struct Kernel {
    /// `partitions × (B + 1)` bins.
    spectra: Vec<Complex32>,
}

/// A linear-phase filter pair (mid and side) with its convolution state.
pub struct LinearPhase {
    sample_rate: f64,
    taps: usize,
    partitions: usize,
    // Design buffers (N points).
    design_ifft: Arc<dyn ComplexToReal<f64>>,
    design_spectrum: Vec<realfft::num_complex::Complex<f64>>,
    design_time: Vec<f64>,
    design_scratch: Vec<realfft::num_complex::Complex<f64>>,
    window: Vec<f64>,
    /// `[φ0, φ1, φ2]` per design bin, for fast section magnitudes.
    phis: Vec<[f64; 3]>,
    magnitude: [Vec<f64>; 2],
    // Convolution (2B points).
    fft: Arc<dyn RealToComplex<f32>>,
    ifft: Arc<dyn ComplexToReal<f32>>,
    fft_scratch: Vec<Complex32>,
    frame: Vec<f32>,
    /// Current and incoming kernels per channel.
    kernels: [[Kernel; 2]; 2],
    current: usize,
    /// Whether the other kernel is being faded in during the next block.
    fading: bool,
    /// Input spectra, a ring of `partitions` per channel.
    delay_line: [Vec<Complex32>; 2],
    newest: usize,
    accumulator: [Vec<Complex32>; 2],
    output_block: [Vec<f32>; 2],
    faded_block: [Vec<f32>; 2],
    /// The previous input block per channel (first half of the frame).
    previous: [Vec<f32>; 2],
    input_fifo: [Vec<f32>; 2],
    output_fifo: [Vec<f32>; 2],
    position: usize,
}

impl LinearPhase {
    pub fn new(sample_rate: f32, resolution: Resolution) -> Self {
        let taps = resolution.taps(sample_rate);
        let b = PARTITION;
        let partitions = taps / b;
        let mut planner64 = RealFftPlanner::<f64>::new();
        let design_ifft = planner64.plan_fft_inverse(taps);
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(2 * b);
        let ifft = planner.plan_fft_inverse(2 * b);
        let centre = taps / 2 - 1;
        // Hann window over the 2c + 1 = N − 1 taps, centred on c.
        let window = (0..taps)
            .map(|n| {
                if n > 2 * centre {
                    return 0.0;
                }
                let x = std::f64::consts::TAU * n as f64 / (2 * centre) as f64;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        let phis = (0..=taps / 2)
            .map(|k| {
                let s = (std::f64::consts::PI * k as f64 / taps as f64)
                    .sin()
                    .powi(2);
                [1.0 - s, s, 4.0 * (1.0 - s) * s]
            })
            .collect();
        let kernel = || Kernel {
            spectra: vec![Complex32::new(0.0, 0.0); partitions * (b + 1)],
        };
        let zeros = |n: usize| vec![0.0f32; n];
        let bins = |n: usize| vec![Complex32::new(0.0, 0.0); n];
        let scratch_len = fft.get_scratch_len().max(ifft.get_scratch_len());
        let mut lp = Self {
            sample_rate: sample_rate as f64,
            taps,
            partitions,
            design_spectrum: design_ifft.make_input_vec(),
            design_time: design_ifft.make_output_vec(),
            design_scratch: design_ifft.make_scratch_vec(),
            design_ifft,
            window,
            phis,
            magnitude: [vec![1.0; taps / 2 + 1], vec![1.0; taps / 2 + 1]],
            fft,
            ifft,
            fft_scratch: bins(scratch_len),
            frame: zeros(2 * b),
            kernels: [[kernel(), kernel()], [kernel(), kernel()]],
            current: 0,
            fading: false,
            delay_line: [bins(partitions * (b + 1)), bins(partitions * (b + 1))],
            newest: 0,
            accumulator: [bins(b + 1), bins(b + 1)],
            output_block: [zeros(2 * b), zeros(2 * b)],
            faded_block: [zeros(2 * b), zeros(2 * b)],
            previous: [zeros(b), zeros(b)],
            input_fifo: [zeros(b), zeros(b)],
            output_fifo: [zeros(b), zeros(b)],
            position: 0,
        };
        // Start as a pure delay.
        let flat = [BandSettings {
            enabled: false,
            ..BandSettings::default()
        }; MAX_BANDS];
        lp.design(&flat, 0.0);
        lp.current = 1 - lp.current;
        lp.fading = false;
        lp
    }

    /// Samples of delay: the FIR's centre plus one block.
    pub fn latency(&self) -> u32 {
        (self.taps / 2 - 1 + PARTITION) as u32
    }

    pub fn taps(&self) -> usize {
        self.taps
    }

    pub fn reset(&mut self) {
        for c in 0..2 {
            self.delay_line[c].fill(Complex32::new(0.0, 0.0));
            self.previous[c].fill(0.0);
            self.input_fifo[c].fill(0.0);
            self.output_fifo[c].fill(0.0);
        }
        if self.fading {
            self.current = 1 - self.current;
            self.fading = false;
        }
        self.position = 0;
    }

    /// Designs the filters for `bands` (and `output_db`) and fades them in over the next block.
    /// The target is each band's minimum-phase magnitude: stereo bands in both filters, mid
    /// bands in the mid filter, side bands in the side one (left/right routes act as stereo).
    pub fn design(&mut self, bands: &[BandSettings; MAX_BANDS], output_db: f32) {
        let gain = 10f64.powf(output_db as f64 / 20.0);
        for m in &mut self.magnitude {
            m.fill(gain);
        }
        for band in bands.iter().filter(|b| !b.is_neutral()) {
            let design = Design::new(band, self.sample_rate);
            let targets: &[usize] = match band.route {
                Route::Mid => &[0],
                Route::Side => &[1],
                _ => &[0, 1],
            };
            for section in design.sections() {
                let big_b = [
                    (section.b[0] + section.b[1] + section.b[2]).powi(2),
                    (section.b[0] - section.b[1] + section.b[2]).powi(2),
                    -4.0 * section.b[0] * section.b[2],
                ];
                let big_a = [
                    (1.0 + section.a[0] + section.a[1]).powi(2),
                    (1.0 - section.a[0] + section.a[1]).powi(2),
                    -4.0 * section.a[1],
                ];
                for (k, phi) in self.phis.iter().enumerate() {
                    let num = big_b[0] * phi[0] + big_b[1] * phi[1] + big_b[2] * phi[2];
                    let den = big_a[0] * phi[0] + big_a[1] * phi[1] + big_a[2] * phi[2];
                    let h = (num.max(0.0) / den).sqrt();
                    for &t in targets {
                        self.magnitude[t][k] *= h;
                    }
                }
            }
        }
        let next = 1 - self.current;
        for channel in 0..2 {
            self.design_channel(channel, next);
        }
        self.fading = true;
    }

    /// The target magnitude of `channel` (0 = mid, 1 = side) at design bin `k` (`k·fs/N` Hz).
    pub fn target(&self, channel: usize, k: usize) -> f64 {
        self.magnitude[channel][k]
    }

    fn design_channel(&mut self, channel: usize, slot: usize) {
        let n = self.taps;
        for (bin, &m) in self
            .design_spectrum
            .iter_mut()
            .zip(&self.magnitude[channel])
        {
            *bin = realfft::num_complex::Complex::new(m, 0.0);
        }
        // The DC and Nyquist bins of a real signal are real already.
        let _ = self.design_ifft.process_with_scratch(
            &mut self.design_spectrum,
            &mut self.design_time,
            &mut self.design_scratch,
        );
        // Even impulse response h0[m]; the filter is h[n] = w[n]·h0[n − c] (mod N), scaled by
        // 1/N (the inverse FFT is unnormalised).
        let centre = n / 2 - 1;
        let b = PARTITION;
        let norm = 1.0 / n as f64;
        let kernel = &mut self.kernels[channel][slot];
        for p in 0..self.partitions {
            for i in 0..b {
                let tap = p * b + i;
                let h0 = self.design_time[(tap + n - centre) % n];
                self.frame[i] = (h0 * self.window[tap] * norm) as f32;
            }
            self.frame[b..].fill(0.0);
            let spectrum = &mut kernel.spectra[p * (b + 1)..(p + 1) * (b + 1)];
            let _ = self
                .fft
                .process_with_scratch(&mut self.frame, spectrum, &mut self.fft_scratch);
        }
    }

    /// Processes a stereo block in place (any length).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let (x0, x1) = (
                crate::denormal::sanitize(*l).0,
                crate::denormal::sanitize(*r).0,
            );
            let pos = self.position;
            self.input_fifo[0][pos] = 0.5 * (x0 + x1);
            self.input_fifo[1][pos] = 0.5 * (x0 - x1);
            let (m, s) = (self.output_fifo[0][pos], self.output_fifo[1][pos]);
            *l = m + s;
            *r = m - s;
            self.position += 1;
            if self.position == PARTITION {
                self.position = 0;
                self.run_block();
            }
        }
    }

    /// Convolves the block just gathered; its output is played during the next one.
    fn run_block(&mut self) {
        let b = PARTITION;
        let bins = b + 1;
        self.newest = (self.newest + 1) % self.partitions;
        for c in 0..2 {
            self.frame[..b].copy_from_slice(&self.previous[c]);
            self.frame[b..].copy_from_slice(&self.input_fifo[c]);
            self.previous[c].copy_from_slice(&self.input_fifo[c]);
            let slot = &mut self.delay_line[c][self.newest * bins..(self.newest + 1) * bins];
            let _ = self
                .fft
                .process_with_scratch(&mut self.frame, slot, &mut self.fft_scratch);
        }
        let slots: &[usize] = if self.fading {
            &[self.current, 1 - self.current]
        } else {
            &[self.current]
        };
        for (which, &slot) in slots.iter().enumerate() {
            for c in 0..2 {
                self.convolve(c, slot);
                let out = if which == 0 {
                    &mut self.output_block[c]
                } else {
                    &mut self.faded_block[c]
                };
                let _ = self.ifft.process_with_scratch(
                    &mut self.accumulator[c],
                    out,
                    &mut self.fft_scratch,
                );
            }
        }
        let norm = 1.0 / (2 * b) as f32;
        for c in 0..2 {
            if self.fading {
                // Raised-cosine crossfade from the old filter's output to the new one's.
                for i in 0..b {
                    let t = (i as f32 + 0.5) / b as f32;
                    let fade = 0.5 - 0.5 * (std::f32::consts::PI * t).cos();
                    let old = self.output_block[c][b + i];
                    let new = self.faded_block[c][b + i];
                    self.output_fifo[c][i] = norm * (old + fade * (new - old));
                }
            } else {
                for i in 0..b {
                    self.output_fifo[c][i] = norm * self.output_block[c][b + i];
                }
            }
        }
        if self.fading {
            self.current = 1 - self.current;
            self.fading = false;
        }
    }

    /// Sums the partitions' products into the accumulator of channel `c` with kernel `slot`.
    fn convolve(&mut self, c: usize, slot: usize) {
        let bins = PARTITION + 1;
        let acc = &mut self.accumulator[c];
        acc.fill(Complex32::new(0.0, 0.0));
        let kernel = &self.kernels[c][slot].spectra;
        let line = &self.delay_line[c];
        for p in 0..self.partitions {
            // Partition p meets the input block from p blocks ago.
            let age = (self.newest + self.partitions - p) % self.partitions;
            let x = &line[age * bins..(age + 1) * bins];
            let h = &kernel[p * bins..(p + 1) * bins];
            for ((a, x), h) in acc.iter_mut().zip(x).zip(h) {
                *a += x * h;
            }
        }
        // The inverse real FFT needs real DC and Nyquist bins.
        acc[0].im = 0.0;
        acc[bins - 1].im = 0.0;
    }
}
