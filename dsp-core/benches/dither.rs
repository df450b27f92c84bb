//! Dither cost at 48 kHz stereo in 64-sample blocks: flat TPDF and F-weighted shaping.
//! Criterion's statistics, then ns/sample (per stereo frame) and percent of one core.

use criterion::{black_box, criterion_group, Criterion};
use dsp_core::dither::{Dither, DitherKind, DitherSettings, NoiseShaping};
use dsp_core::noise::PinkNoise;

mod common;

const SAMPLE_RATE: f32 = 48_000.0;
const BLOCK: usize = 64;

fn configurations() -> [(&'static str, NoiseShaping); 2] {
    [
        ("TPDF flat", NoiseShaping::None),
        ("TPDF F-weighted", NoiseShaping::FWeighted),
    ]
}

fn dither(shaping: NoiseShaping) -> Dither {
    let settings = DitherSettings {
        bits: 16,
        kind: DitherKind::Tpdf,
        shaping,
        auto_blank: true,
    };
    Dither::new(SAMPLE_RATE, 2, settings, 1)
}

fn process_second(dither: &mut Dither, input: &[Vec<f32>], work: &mut [Vec<f32>]) {
    for (w, i) in work.iter_mut().zip(input) {
        w.copy_from_slice(i);
    }
    let (left, right) = work.split_at_mut(1);
    for (l, r) in left[0].chunks_mut(BLOCK).zip(right[0].chunks_mut(BLOCK)) {
        dither.process(&mut [l, r]);
    }
    black_box(&work);
}

fn input() -> Vec<Vec<f32>> {
    (0..2)
        .map(|c| PinkNoise::generate(21 + c, SAMPLE_RATE as usize, 0.5))
        .collect()
}

fn bench(c: &mut Criterion) {
    let input = input();
    let mut work = input.clone();
    let mut group = c.benchmark_group("dither 48k stereo 64");
    group.sample_size(20);
    for (name, shaping) in configurations() {
        let mut d = dither(shaping);
        group.bench_function(name, |b| {
            b.iter(|| process_second(&mut d, &input, &mut work))
        });
    }
    group.finish();
}

fn summary() {
    let input = input();
    let mut work = input.clone();
    println!("\nDither, 48 kHz stereo, {BLOCK}-sample blocks, 16 bit (best of 15 runs of 1 s):");
    for (name, shaping) in configurations() {
        let mut d = dither(shaping);
        let best = common::best_second(|| process_second(&mut d, &input, &mut work));
        common::report(name, best, SAMPLE_RATE as f64);
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
