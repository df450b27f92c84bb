//! Loudness metering cost at 48 kHz stereo in 64-sample blocks (M, S, I, LRA, sample and true
//! peak), with the readings queried every 100 ms as a meter display does (a query sums the whole
//! 400 ms / 3 s window, so querying per block would dominate the cost). Criterion's statistics,
//! then ns/sample (per stereo frame) and percent of one core.

use criterion::{black_box, criterion_group, Criterion};
use dsp_core::loudness::LoudnessMeter;
use dsp_core::noise::PinkNoise;

mod common;

const SAMPLE_RATE: u32 = 48_000;
const BLOCK: usize = 64;

fn programme() -> Vec<Vec<f32>> {
    (0..2)
        .map(|c| PinkNoise::generate(11 + c, SAMPLE_RATE as usize, 0.5))
        .collect()
}

fn meter_second(meter: &mut LoudnessMeter, input: &[Vec<f32>]) {
    let blocks_per_query = SAMPLE_RATE as usize / 10 / BLOCK;
    for (i, (l, r)) in input[0]
        .chunks(BLOCK)
        .zip(input[1].chunks(BLOCK))
        .enumerate()
    {
        meter.process(&[l, r]);
        if i % blocks_per_query == 0 {
            black_box(meter.reading());
        }
    }
}

fn bench(c: &mut Criterion) {
    let input = programme();
    let mut meter = LoudnessMeter::new(SAMPLE_RATE, 2).unwrap();
    c.bench_function("loudness meter 48k stereo 64", |b| {
        b.iter(|| meter_second(&mut meter, &input))
    });
}

fn summary() {
    let input = programme();
    let mut meter = LoudnessMeter::new(SAMPLE_RATE, 2).unwrap();
    let best = common::best_second(|| meter_second(&mut meter, &input));
    println!(
        "
Loudness meter, 48 kHz stereo, {BLOCK}-sample blocks, readings every 100 ms:"
    );
    common::report("M/S/I/LRA/TP", best, SAMPLE_RATE as f64);
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
