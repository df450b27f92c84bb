//! Limiter cost at 48 kHz stereo in 64-sample blocks, for sample peak, 4x, 8x and 16x detection.
//! Criterion's statistics per configuration, then a summary in ns/sample (per stereo frame) and
//! percent of one core.

use criterion::{black_box, criterion_group, Criterion};
use dsp_core::oversampling::Oversampling;
use dsp_core::{Limiter, LimiterSettings};

mod common;

const SAMPLE_RATE: f32 = 48_000.0;
const BLOCK: usize = 64;

/// Deterministic white noise in [−1, 1).
fn white(seed: u32) -> impl FnMut() -> f32 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as f32 / u32::MAX as f32 * 2.0 - 1.0
    }
}

/// Worst case: full-scale white noise driven +6 dB, so the limiter works on every sample.
fn worst_case() -> Vec<Vec<f32>> {
    let mut next = white(0x1234_5678);
    (0..2)
        .map(|_| (0..48_000).map(|_| next()).collect())
        .collect()
}

/// Programme-like: pink noise, peak-normalised and driven +3 dB, so that only its peaks are
/// limited, as on a mastered mix.
fn programme() -> Vec<Vec<f32>> {
    (0..2)
        .map(|c| dsp_core::noise::PinkNoise::generate(0x9e37_79b9 + c, 48_000, 1.0))
        .collect()
}

fn configurations() -> [(&'static str, Oversampling); 4] {
    [
        ("sample peak", Oversampling::Off),
        ("true peak 4x", Oversampling::X4),
        ("true peak 8x", Oversampling::X8),
        ("true peak 16x", Oversampling::X16),
    ]
}

fn limiter(oversampling: Oversampling, input_gain_db: f32) -> Limiter {
    let settings = LimiterSettings {
        input_gain_db,
        oversampling,
        ..LimiterSettings::default()
    };
    Limiter::new(SAMPLE_RATE, 2, settings)
}

fn process_second(limiter: &mut Limiter, input: &[Vec<f32>], work: &mut [Vec<f32>]) {
    for (w, i) in work.iter_mut().zip(input) {
        w.copy_from_slice(i);
    }
    let (left, right) = work.split_at_mut(1);
    for (l, r) in left[0].chunks_mut(BLOCK).zip(right[0].chunks_mut(BLOCK)) {
        black_box(limiter.process(&mut [l, r]));
    }
}

fn bench(c: &mut Criterion) {
    let input = worst_case();
    let mut work = input.clone();
    let mut group = c.benchmark_group("limiter 48k stereo 64 (worst case)");
    group.sample_size(20);
    for (name, oversampling) in configurations() {
        let mut limiter = limiter(oversampling, 6.0);
        group.bench_function(name, |b| {
            b.iter(|| process_second(&mut limiter, &input, &mut work))
        });
    }
    group.finish();
}

/// Best of several one-second runs, as ns per stereo frame and % of one core.
fn summary() {
    for (signal, input, gain_db) in [
        ("worst case: limiting every sample", worst_case(), 6.0),
        ("programme: pink noise, peaks limited", programme(), 3.0),
    ] {
        summarise(signal, &input, gain_db);
    }
}

fn summarise(signal: &str, input: &[Vec<f32>], input_gain_db: f32) {
    let mut work = input.to_vec();
    println!("\nLimiter, 48 kHz stereo, {BLOCK}-sample blocks, {signal} (best of 15 runs of 1 s):");
    for (name, oversampling) in configurations() {
        let mut limiter = limiter(oversampling, input_gain_db);
        let best = common::best_second(|| process_second(&mut limiter, input, &mut work));
        common::report(name, best, SAMPLE_RATE as f64);
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
