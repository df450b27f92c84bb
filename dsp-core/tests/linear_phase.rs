//! The linear-phase EQ: its measured magnitude against the minimum-phase bands' (the target),
//! a symmetric impulse response, latency as reported, mid/side routing, click-free filter
//! changes and no allocation while designing or processing (a counting allocator).

use dsp_core::biquad::Complex;
use dsp_core::eq::{BandSettings, CutShape, Design, FilterType, Route, MAX_BANDS};
use dsp_core::linear_phase::{LinearPhase, Resolution};
use realfft::RealFftPlanner;

mod common;
use common::{allocations, noise, sine};

#[global_allocator]
static GLOBAL: common::CountingAllocator = common::CountingAllocator;

fn bands(list: &[BandSettings]) -> [BandSettings; MAX_BANDS] {
    let mut all = [BandSettings {
        enabled: false,
        ..Default::default()
    }; MAX_BANDS];
    all[..list.len()].copy_from_slice(list);
    all
}

fn band(kind: FilterType, freq_hz: f32, gain_db: f32, q: f32, route: Route) -> BandSettings {
    BandSettings {
        kind,
        freq_hz,
        gain_db,
        q,
        route,
        ..Default::default()
    }
}

fn mastering_curve() -> [BandSettings; MAX_BANDS] {
    bands(&[
        BandSettings {
            slope_db: 12,
            shape: CutShape::Butterworth,
            ..band(FilterType::LowCut, 25.0, 0.0, 1.0, Route::Stereo)
        },
        band(FilterType::LowShelf, 100.0, 2.5, 0.7, Route::Stereo),
        band(FilterType::Bell, 350.0, -2.0, 1.2, Route::Stereo),
        band(FilterType::Bell, 3_000.0, 1.5, 0.8, Route::Mid),
        band(FilterType::HighShelf, 9_000.0, -3.0, 0.7, Route::Side),
        band(FilterType::Bell, 12_000.0, 2.0, 1.0, Route::Stereo),
    ])
}

/// The impulse responses (left and right outputs) to an impulse on `left` and `right`.
fn impulse_response(
    lp: &mut LinearPhase,
    on_left: f32,
    on_right: f32,
    len: usize,
) -> [Vec<f32>; 2] {
    let mut left = vec![0.0f32; len];
    let mut right = vec![0.0f32; len];
    left[0] = on_left;
    right[0] = on_right;
    for (l, r) in left.chunks_mut(100).zip(right.chunks_mut(100)) {
        lp.process(l, r);
    }
    [left, right]
}

/// The target: the product of the minimum-phase bands' magnitudes on a route's signal.
fn target(bands: &[BandSettings; MAX_BANDS], side: bool, fs: f64, hz: f64) -> f64 {
    bands
        .iter()
        .filter(|b| match b.route {
            Route::Mid => !side,
            Route::Side => side,
            _ => true,
        })
        .map(|b| Design::new(b, fs).response(fs, hz).norm())
        .product()
}

/// With every band flat the filter is a pure delay of exactly the reported latency.
#[test]
fn flat_is_a_delay_of_the_reported_latency() {
    for (fs, resolution) in [
        (44_100.0, Resolution::Low),
        (48_000.0, Resolution::Medium),
        (96_000.0, Resolution::High),
    ] {
        let mut lp = LinearPhase::new(fs, resolution);
        let latency = lp.latency() as usize;
        let len = latency + 2_000;
        let [l, r] = impulse_response(&mut lp, 1.0, 0.5, len);
        for (n, (&a, &b)) in l.iter().zip(&r).enumerate() {
            let (want_l, want_r) = if n == latency { (1.0, 0.5) } else { (0.0, 0.0) };
            assert!(
                (a - want_l).abs() < 1e-6 && (b - want_r).abs() < 1e-6,
                "{fs}: {n}"
            );
        }
    }
}

/// The measured magnitude (FFT of the impulse response) is within 0.1 dB of the minimum-phase
/// bands' magnitude from 40 Hz to 20 kHz, on mid and on side, and the impulse response is
/// symmetric about the latency (linear phase).
#[test]
fn magnitude_matches_the_target_and_the_response_is_symmetric() {
    let fs = 48_000.0;
    let settings = mastering_curve();
    let mut lp = LinearPhase::new(fs, Resolution::Medium);
    lp.design(&settings, 0.0);
    let latency = lp.latency() as usize;
    let taps = lp.taps();
    let n = 1 << 16;
    for (side, (on_l, on_r)) in [(false, (1.0, 1.0)), (true, (1.0, -1.0))] {
        let mut lp = LinearPhase::new(fs, Resolution::Medium);
        lp.design(&settings, 0.0);
        let [l, r] = impulse_response(&mut lp, on_l, on_r, latency + taps);
        // Mid (or side) output: (l ± r)/2.
        let h: Vec<f64> = l
            .iter()
            .zip(&r)
            .map(|(&a, &b)| if side { 0.5 * (a - b) } else { 0.5 * (a + b) } as f64)
            .collect();
        let peak = h.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for j in 1..taps / 2 - 1 {
            let (after, before) = (h[latency + j], h[latency - j]);
            assert!((after - before).abs() <= 1e-6 * peak, "asymmetric at ±{j}");
        }
        let mut padded = vec![0.0f64; n];
        padded[..h.len().min(n)].copy_from_slice(&h[..h.len().min(n)]);
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
        let mut spectrum = fft.make_output_vec();
        fft.process(&mut padded, &mut spectrum).unwrap();
        let mut worst = (0.0f64, 0.0);
        for (k, bin) in spectrum.iter().enumerate() {
            let hz = k as f64 * fs as f64 / n as f64;
            if !(40.0..=20_000.0).contains(&hz) {
                continue;
            }
            let measured = Complex::new(bin.re, bin.im).db();
            let want = 20.0 * target(&settings, side, fs as f64, hz).log10();
            if (measured - want).abs() > worst.0 {
                worst = ((measured - want).abs(), hz);
            }
        }
        eprintln!("side {side}: worst {:.4} dB at {:.0} Hz", worst.0, worst.1);
        assert!(
            worst.0 <= 0.1,
            "side {side}: {:.3} dB at {:.0} Hz",
            worst.0,
            worst.1
        );
    }
}

/// A side-only band leaves a mono signal alone (delayed); a mid-only band leaves pure side.
#[test]
fn mid_and_side_bands_touch_only_their_signal() {
    let fs = 48_000.0;
    let x = noise(20_000, 3);
    for (route, sign) in [(Route::Side, 1.0f32), (Route::Mid, -1.0)] {
        let mut lp = LinearPhase::new(fs, Resolution::Low);
        lp.design(
            &bands(&[band(FilterType::Bell, 1_000.0, 9.0, 1.0, route)]),
            0.0,
        );
        let latency = lp.latency() as usize;
        let mut l = x.clone();
        let mut r: Vec<f32> = x.iter().map(|v| sign * v).collect();
        lp.process(&mut l, &mut r);
        for i in 0..x.len() - latency {
            assert!((l[i + latency] - x[i]).abs() < 1e-5, "{route:?} at {i}");
        }
    }
}

/// A new filter fades in over one block: stepping a bell to +9 dB on a 1 kHz sine never makes
/// the output's second difference exceed that of the settled, louder sine.
#[test]
fn filter_changes_do_not_click() {
    let fs = 48_000.0;
    let x = sine(fs as f64, 1_000.0, 0.0, 0.2, 96_000);
    let mut lp = LinearPhase::new(fs, Resolution::Low);
    let mut y = x.clone();
    let mut other = x.clone();
    for (i, (l, r)) in y.chunks_mut(64).zip(other.chunks_mut(64)).enumerate() {
        if i == 500 {
            lp.design(
                &bands(&[band(FilterType::Bell, 1_000.0, 9.0, 1.0, Route::Stereo)]),
                0.0,
            );
        }
        lp.process(l, r);
    }
    let second = |range: std::ops::Range<usize>| {
        range
            .map(|i| (y[i + 1] as f64 - 2.0 * y[i] as f64 + y[i - 1] as f64).abs())
            .fold(0.0, f64::max)
    };
    let during = second(30_000..50_000);
    let settled = second(80_000..95_000);
    assert!(during <= settled * 1.01, "{during} vs {settled}");
}

/// Designing and processing allocate nothing; any block size gives the same output.
#[test]
fn no_allocation_and_block_size_independence() {
    let fs = 44_100.0;
    let settings = mastering_curve();
    let left = noise(30_000, 8);
    let right = noise(30_000, 9);
    let mut reference_lp = LinearPhase::new(fs, Resolution::Low);
    reference_lp.design(&settings, -1.0);
    let (mut rl, mut rr) = (left.clone(), right.clone());
    reference_lp.process(&mut rl, &mut rr);
    for block in [1, 7, 256, 1000, 8192] {
        let mut lp = LinearPhase::new(fs, Resolution::Low);
        let (mut l, mut r) = (left.clone(), right.clone());
        let before = allocations();
        lp.design(&settings, -1.0);
        for (cl, cr) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
            lp.process(cl, cr);
        }
        let after = allocations();
        assert_eq!(after - before, 0, "allocations with block {block}");
        assert_eq!((l, r), (rl.clone(), rr.clone()), "block {block}");
    }
}
