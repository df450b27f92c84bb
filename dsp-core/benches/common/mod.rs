//! Shared by the benchmarks: the best of several timed runs, reported per sample.
#![allow(dead_code)]

use std::time::Instant;

/// Runs `run` (which processes one second of audio) once to warm up, then 15 times, and returns
/// the best time in seconds: with one second of audio, that is also the fraction of one core.
pub fn best_second(mut run: impl FnMut()) -> f64 {
    run();
    (0..15)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Prints one result line: ns per sample (stereo frame) and percent of one core.
pub fn report(name: &str, seconds: f64, sample_rate: f64) {
    println!(
        "  {name:<16} {:7.1} ns/sample  {:6.3}% of one core  ({:.0}x realtime)",
        seconds * 1e9 / sample_rate,
        seconds * 100.0,
        1.0 / seconds
    );
}

/// A stereo block processor under test.
pub type Processor = Box<dyn FnMut(&mut [f32], &mut [f32])>;

/// Stereo pink noise, one second at `sample_rate`.
pub fn stereo_pink(sample_rate: f32) -> Vec<Vec<f32>> {
    (0..2)
        .map(|c| dsp_core::noise::PinkNoise::generate(31 + c, sample_rate as usize, 0.5))
        .collect()
}

/// Copies `input` to `work` and processes it in `block`-sample blocks.
pub fn process_second(
    process: &mut Processor,
    input: &[Vec<f32>],
    work: &mut [Vec<f32>],
    block: usize,
) {
    for (w, i) in work.iter_mut().zip(input) {
        w.copy_from_slice(i);
    }
    let (left, right) = work.split_at_mut(1);
    for (l, r) in left[0].chunks_mut(block).zip(right[0].chunks_mut(block)) {
        process(l, r);
    }
    criterion::black_box(&work);
}

/// Criterion statistics for each processor on one second of stereo pink noise, then a summary
/// in ns/sample and percent of one core (best of 15 runs).
pub fn run_stereo_benches(
    title: &str,
    sample_rate: f32,
    block: usize,
    processors: impl Fn() -> Vec<(&'static str, Processor)>,
) {
    let input = stereo_pink(sample_rate);
    let mut work = input.clone();
    let mut criterion = criterion::Criterion::default().configure_from_args();
    {
        let mut group = criterion.benchmark_group(title);
        group.sample_size(20);
        for (name, mut process) in processors() {
            group.bench_function(name, |b| {
                b.iter(|| process_second(&mut process, &input, &mut work, block))
            });
        }
        group.finish();
    }
    criterion.final_summary();
    println!("\n{title} (best of 15 runs of 1 s):");
    for (name, mut process) in processors() {
        let best = best_second(|| process_second(&mut process, &input, &mut work, block));
        report(name, best, sample_rate as f64);
    }
}
