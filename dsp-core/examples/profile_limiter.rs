//! Runs the limiter on 10 s of loud stereo noise at 48 kHz in 64-sample blocks, for profilers
//! (`perf record`, `valgrind --tool=callgrind`). Argument: off | 4 | 8 | 16.
use dsp_core::oversampling::Oversampling;
use dsp_core::{Limiter, LimiterSettings};

fn main() {
    let oversampling = match std::env::args().nth(1).as_deref() {
        Some("off") => Oversampling::Off,
        Some("4") => Oversampling::X4,
        Some("16") => Oversampling::X16,
        _ => Oversampling::X8,
    };
    // A second argument "listen" also turns on unity-gain listen and a 50% stereo link.
    let listen = std::env::args().nth(2).as_deref() == Some("listen");
    let settings = LimiterSettings {
        input_gain_db: 6.0,
        oversampling,
        listen,
        stereo_link: if listen { 0.5 } else { 1.0 },
        ..LimiterSettings::default()
    };
    let mut limiter = Limiter::new(48_000.0, 2, settings);
    let mut state = 0x1234_5678_u32;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as f32 / u32::MAX as f32 * 2.0 - 1.0
    };
    let input: Vec<Vec<f32>> = (0..2)
        .map(|_| (0..48_000).map(|_| noise()).collect())
        .collect();
    let mut work = input.clone();
    let mut sum = 0.0f32;
    let mut checksum = 0u64;
    for _ in 0..10 {
        work.clone_from(&input);
        let (l, r) = work.split_at_mut(1);
        for (a, b) in l[0].chunks_mut(64).zip(r[0].chunks_mut(64)) {
            sum += limiter.process(&mut [a, b]).min_gain;
            for x in a.iter().chain(b.iter()) {
                checksum = checksum.wrapping_mul(31).wrapping_add(x.to_bits() as u64);
            }
        }
    }
    println!("{sum} {checksum:x}");
}
