//! Metering never allocates, however long the programme: a counting global allocator watches
//! `process` and every query after construction.

use dsp_core::loudness::LoudnessMeter;

mod common;
use common::allocations;

#[global_allocator]
static GLOBAL: common::CountingAllocator = common::CountingAllocator;

#[test]
fn metering_does_not_allocate() {
    let rate = 48_000;
    let mut meter = LoudnessMeter::new(rate, 2).unwrap();
    let block: Vec<f32> = (0..480)
        .map(|n| (0.1 * (n as f32 * 0.13).sin()) * if n % 7 == 0 { -1.0 } else { 1.0 })
        .collect();
    let loud: Vec<f32> = block.iter().map(|x| x * 8.0).collect();
    let before = allocations();
    // Two minutes of audio in 10 ms blocks, alternating levels, with every query after each.
    let mut finite_readings = 0;
    for i in 0..12_000 {
        let b = if i % 300 < 150 { &block } else { &loud };
        meter.process(&[b, b]);
        let r = meter.reading();
        if r.momentary.is_finite() && r.short_term.is_finite() && r.integrated.is_finite() {
            finite_readings += 1;
        }
    }
    let after = allocations();
    assert!(finite_readings > 11_000);
    assert_eq!(after - before, 0, "allocations while metering");
}
