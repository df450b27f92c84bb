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
