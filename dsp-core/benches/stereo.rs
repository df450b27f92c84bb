//! Imager and Channel cost at 48 kHz stereo in 64-sample blocks, at their heaviest settings
//! (imager: four bands, bass mono; channel: 48 dB/oct low and high cut, DC block, width, pan).
//! Criterion's statistics, then ns/sample (per stereo frame) and percent of one core.

use criterion::{black_box, criterion_group, Criterion};
use dsp_core::channel::{Channel, ChannelSettings, PanMode};
use dsp_core::imager::{Imager, ImagerSettings};
use dsp_core::noise::PinkNoise;

mod common;

const SAMPLE_RATE: f32 = 48_000.0;
const BLOCK: usize = 64;

/// A stereo block processor under test.
type Processor = Box<dyn FnMut(&mut [f32], &mut [f32])>;

fn processors() -> Vec<(&'static str, Processor)> {
    let mut imager = Imager::new(
        SAMPLE_RATE,
        ImagerSettings {
            bands: 4,
            widths: [0.0, 0.8, 1.2, 1.6],
            bass_mono: true,
            ..ImagerSettings::default()
        },
    );
    let mut channel = Channel::new(
        SAMPLE_RATE,
        ChannelSettings {
            low_cut: true,
            low_cut_slope_db: 48,
            high_cut: true,
            high_cut_slope_db: 48,
            dc_block: true,
            width: 1.3,
            pan: 0.2,
            pan_mode: PanMode::Pan,
            ..ChannelSettings::default()
        },
    );
    let mut neutral = Channel::new(SAMPLE_RATE, ChannelSettings::default());
    vec![
        ("imager 4 bands", Box::new(move |l, r| imager.process(l, r))),
        (
            "channel all on",
            Box::new(move |l, r| channel.process(l, r)),
        ),
        (
            "channel neutral",
            Box::new(move |l, r| neutral.process(l, r)),
        ),
    ]
}

fn process_second(process: &mut Processor, input: &[Vec<f32>], work: &mut [Vec<f32>]) {
    for (w, i) in work.iter_mut().zip(input) {
        w.copy_from_slice(i);
    }
    let (left, right) = work.split_at_mut(1);
    for (l, r) in left[0].chunks_mut(BLOCK).zip(right[0].chunks_mut(BLOCK)) {
        process(l, r);
    }
    black_box(&work);
}

fn input() -> Vec<Vec<f32>> {
    (0..2)
        .map(|c| PinkNoise::generate(31 + c, SAMPLE_RATE as usize, 0.5))
        .collect()
}

fn bench(c: &mut Criterion) {
    let input = input();
    let mut work = input.clone();
    let mut group = c.benchmark_group("stereo tools 48k stereo 64");
    group.sample_size(20);
    for (name, mut process) in processors() {
        group.bench_function(name, |b| {
            b.iter(|| process_second(&mut process, &input, &mut work))
        });
    }
    group.finish();
}

fn summary() {
    let input = input();
    let mut work = input.clone();
    println!(
        "\nImager and Channel, 48 kHz stereo, {BLOCK}-sample blocks (best of 15 runs of 1 s):"
    );
    for (name, mut process) in processors() {
        let best = common::best_second(|| process_second(&mut process, &input, &mut work));
        common::report(name, best, SAMPLE_RATE as f64);
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
