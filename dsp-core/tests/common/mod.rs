//! Independent references and signal generators for the DSP tests. Nothing here calls the code
//! under test: the meters are written from the standards, in `f64`.
#![allow(dead_code)]

use std::f64::consts::PI;

/// ITU-R BS.1770-4, Annex 2: the 48-tap, 4-phase interpolation filter of the true-peak meter,
/// as printed (one row per phase). Phase 3 is phase 0 reversed, phase 2 is phase 1 reversed.
#[allow(clippy::excessive_precision)] // the digits as printed in the standard
pub const BS1770_4X: [[f64; 12]; 4] = [
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

/// True peak (linear) of a signal on the BS.1770-4 4x meter (the Annex 2 filter, no attenuation
/// stage, sample peaks included).
pub fn bs1770_true_peak(signal: &[f32]) -> f64 {
    let mut peak = signal.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs()));
    for n in 0..signal.len() {
        for phase in &BS1770_4X {
            let mut y = 0.0;
            for (k, &c) in phase.iter().enumerate() {
                if n >= k {
                    y += c * signal[n - k] as f64;
                }
            }
            peak = peak.max(y.abs());
        }
    }
    peak
}

/// Reference 16x true-peak meter: band-limited interpolation by 16, done exactly in the frequency
/// domain (the signal is zero-padded, so its ends are silence, not wrap-around), flat to 0.47·fs
/// with a raised-cosine roll-off to Nyquist. Some roll-off is unavoidable: the band-limited peak of
/// content exactly at Nyquist is not finite (a truncated ±1 alternation's reconstruction grows like
/// (2/π)·ln N), so every real meter's reading there is set by its band edge; this one's is set
/// here, independently of the limiter's filters. Between its points it can under-read by at most
/// 0.04 dB (`1/cos(π/32)`).
pub struct Reference16x;

impl Reference16x {
    pub const FACTOR: usize = 16;

    pub fn new() -> Self {
        Self
    }

    /// The signal interpolated by 16 (`result[16·n] == signal[n]`).
    pub fn upsample(&self, signal: &[f32]) -> Vec<f64> {
        use realfft::RealFftPlanner;
        let len = (signal.len() + 4096).next_power_of_two();
        let up = len * Self::FACTOR;
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(len);
        let inverse = planner.plan_fft_inverse(up);
        let mut time: Vec<f64> = signal.iter().map(|&x| x as f64).collect();
        time.resize(len, 0.0);
        let mut spectrum = forward.make_output_vec();
        forward.process(&mut time, &mut spectrum).unwrap();
        let mut up_spectrum = inverse.make_input_vec();
        const ROLL_OFF_START: f64 = 0.47;
        for (k, (up, &x)) in up_spectrum
            .iter_mut()
            .zip(&spectrum)
            .enumerate()
            .take(len / 2 + 1)
        {
            let f = k as f64 / len as f64;
            let weight = if f <= ROLL_OFF_START {
                1.0
            } else {
                0.5 * (1.0 + (PI * (f - ROLL_OFF_START) / (0.5 - ROLL_OFF_START)).cos())
            };
            *up = x * weight;
        }
        let mut out = inverse.make_output_vec();
        inverse.process(&mut up_spectrum, &mut out).unwrap();
        out.iter_mut().for_each(|y| *y /= len as f64);
        out
    }

    pub fn true_peak(&self, signal: &[f32]) -> f64 {
        self.upsample(signal)
            .iter()
            .fold(0.0f64, |m, &y| m.max(y.abs()))
    }
}

pub fn db(gain: f64) -> f64 {
    20.0 * gain.max(1e-300).log10()
}

/// Deterministic xorshift noise in [−1, 1).
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

pub fn sine(sample_rate: f64, hz: f64, phase: f64, amplitude: f64, len: usize) -> Vec<f32> {
    (0..len)
        .map(|n| (amplitude * (2.0 * PI * hz * n as f64 / sample_rate + phase).sin()) as f32)
        .collect()
}

/// Pink noise scaled to the given peak.
pub fn pink_noise(len: usize, peak: f64, seed: u64) -> Vec<f32> {
    dsp_core::noise::PinkNoise::generate(seed, len, peak)
}

/// Drum-like bursts: decaying low sine thumps plus noise, hard-clipped at ±1 (a clipped mix).
pub fn clipped_drums(sample_rate: f64, len: usize, seed: u64) -> Vec<f32> {
    let mut noise = Noise::new(seed);
    let period = (sample_rate * 0.25) as usize;
    (0..len)
        .map(|n| {
            let t = (n % period) as f64 / sample_rate;
            let env = (-t * 18.0).exp();
            let thump = (2.0 * PI * (55.0 + 80.0 * (-t * 40.0).exp()) * t).sin();
            let x = 2.5 * env * (0.8 * thump + 0.5 * noise.next());
            x.clamp(-1.0, 1.0) as f32
        })
        .collect()
}

/// Alternating full-scale patterns, switched on and off abruptly with silence between them: runs
/// of `k` samples at +1 then `k` at −1, for k = 1 (±1 at Nyquist), 2 (a sine at fs/4 sampled at
/// 45°, true peak +3 dB) and 4 (a square at fs/8).
///
/// k = 3 (a square at fs/6) is left out on purpose: its third harmonic lies exactly at Nyquist,
/// where a band-limited peak is not defined, so its "true peak" depends on the meter's band edge
/// (measured: −1.24 dBTP on the BS.1770 meter and +0.02 dBTP on the reference for the same limiter
/// output at a −1 dBTP ceiling).
pub fn alternating_full_scale(len: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(len);
    let mut runs = [1usize, 2, 4].iter().cycle();
    while out.len() < len {
        let run = *runs.next().unwrap();
        out.extend((0..800).map(|n| {
            if (n / run).is_multiple_of(2) {
                1.0
            } else {
                -1.0
            }
        }));
        out.extend(std::iter::repeat_n(0.0, 400));
    }
    out.truncate(len);
    out
}

/// Splits interleaved-by-channel data into mutable slices and runs `f` on them.
pub fn with_slices<R>(channels: &mut [Vec<f32>], f: impl FnOnce(&mut [&mut [f32]]) -> R) -> R {
    let mut slices: Vec<&mut [f32]> = channels.iter_mut().map(|c| c.as_mut_slice()).collect();
    f(&mut slices)
}

/// Averaged Hann-windowed power spectrum of `signal` in frames of `n` (bins 0..n/2).
pub fn power_spectrum(signal: &[f64], n: usize) -> Vec<f64> {
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(n);
    let mut total = vec![0.0; n / 2 + 1];
    let frames = signal.len() / n;
    for frame in signal.chunks_exact(n) {
        let mut buffer: Vec<f64> = frame
            .iter()
            .enumerate()
            .map(|(i, &x)| x * (0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos()))
            .collect();
        let mut spectrum = fft.make_output_vec();
        fft.process(&mut buffer, &mut spectrum).unwrap();
        for (t, c) in total.iter_mut().zip(&spectrum) {
            *t += c.norm_sqr() / frames as f64;
        }
    }
    total
}

/// Half-scale white noise (uniform in [−0.5, 0.5)), deterministic per seed.
pub fn noise(len: usize, seed: u64) -> Vec<f32> {
    let mut noise = Noise::new(seed);
    (0..len).map(|_| (0.5 * noise.next()) as f32).collect()
}

/// Asserts bit-identical output, naming the first differing sample.
pub fn assert_identical(got: &[f32], want: &[f32], label: &str) {
    assert_eq!(got.len(), want.len(), "{label}: length");
    if let Some(n) = (0..got.len()).find(|&n| got[n].to_bits() != want[n].to_bits()) {
        panic!("{label}: sample {n} is {} instead of {}", got[n], want[n]);
    }
}

/// A global allocator that counts the allocations each thread makes, for tests that check
/// processing never allocates: a test binary declares
/// `#[global_allocator] static GLOBAL: common::CountingAllocator = common::CountingAllocator;`
/// and compares [`allocations`] before and after. Per thread, because the test harness's own
/// thread allocates while it reports, and tests run in parallel.
pub struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn count_allocation() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

/// Allocations made by this thread so far (with [`CountingAllocator`] installed).
pub fn allocations() -> usize {
    ALLOCATIONS.with(std::cell::Cell::get)
}

// SAFETY: forwards to the system allocator and only counts.
unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        count_allocation();
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}
