//! The imager measured: transparency at 100% width, flat band sum, width 0, bass mono, and the
//! correlation meter against `r = ΣLR / √(ΣL²·ΣR²)` computed here.

mod common;

use common::{assert_identical, noise, power_spectrum, sine};
use dsp_core::imager::{CorrelationMeter, Imager, ImagerSettings, CORRELATION_MS};

const FS: f32 = 48_000.0;

fn run(imager: &mut Imager, left: &[f32], right: &[f32], block: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut l, mut r) = (left.to_vec(), right.to_vec());
    for (cl, cr) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
        imager.process(cl, cr);
    }
    (l, r)
}

fn four_bands(widths: [f32; 4]) -> ImagerSettings {
    ImagerSettings {
        bands: 4,
        crossovers_hz: [120.0, 1000.0, 6000.0],
        widths,
        ..ImagerSettings::default()
    }
}

fn energy(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum()
}

fn side(l: &[f32], r: &[f32]) -> Vec<f64> {
    l.iter()
        .zip(r)
        .map(|(&a, &b)| 0.5 * (a as f64 - b as f64))
        .collect()
}

#[test]
fn full_width_everywhere_is_bit_transparent() {
    let (left, right) = (noise(20_000, 1), noise(20_000, 2));
    for bands in 1..=4 {
        let settings = ImagerSettings {
            bands,
            ..four_bands([1.0; 4])
        };
        let mut imager = Imager::new(FS, settings);
        let (l, r) = run(&mut imager, &left, &right, 64);
        assert_identical(&l, &left, &format!("{bands} bands, left"));
        assert_identical(&r, &right, &format!("{bands} bands, right"));
    }
    // Also after leaving and returning to neutral (the crossfade settles back to exact).
    let mut imager = Imager::new(FS, four_bands([0.5, 1.5, 1.0, 0.0]));
    run(&mut imager, &left, &right, 64);
    imager.set_settings(&four_bands([1.0; 4]));
    // The crossfade (20 ms time constant) settles within half a second.
    run(&mut imager, &left, &right, 64);
    run(&mut imager, &left, &right, 64);
    let (l, r) = run(&mut imager, &left, &right, 64);
    assert_identical(&l, &left, "back to neutral, left");
    assert_identical(&r, &right, "back to neutral, right");
}

/// The processed path (here with every band at 200% width on a mono signal, which has no side
/// for the widths to act on) sums its bands flat: the impulse response's magnitude is within
/// ±0.05 dB of 0 dB from 20 Hz to 20 kHz.
#[test]
fn band_split_sums_flat() {
    let n = 1 << 16;
    let mut impulse = vec![0.0f32; n];
    impulse[0] = 1.0;
    let mut imager = Imager::new(FS, four_bands([2.0; 4]));
    let (l, r) = run(&mut imager, &impulse, &impulse, 512);
    assert_eq!(l, r);
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(n);
    let mut buffer: Vec<f64> = l.iter().map(|&x| x as f64).collect();
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut buffer, &mut spectrum).unwrap();
    for (k, bin) in spectrum.iter().enumerate() {
        let hz = k as f64 * FS as f64 / n as f64;
        if (20.0..=20_000.0).contains(&hz) {
            let db = 10.0 * bin.norm_sqr().log10();
            assert!(db.abs() <= 0.05, "{hz:.1} Hz: {db:.4} dB");
        }
    }
}

#[test]
fn zero_width_removes_the_side() {
    let (left, right) = (noise(48_000, 3), noise(48_000, 4));
    for bands in [1, 4] {
        let settings = ImagerSettings {
            bands,
            ..four_bands([0.0; 4])
        };
        let mut imager = Imager::new(FS, settings);
        let (l, r) = run(&mut imager, &left, &right, 100);
        let ratio = energy(&side(&l, &r)) / energy(&side(&left, &right));
        let db = 10.0 * ratio.max(1e-300).log10();
        assert!(db <= -120.0, "{bands} bands: side at {db:.1} dB");
    }
}

/// Width acts per band: widths 0, 100%, 100%, 200%: the side of a tone comes out scaled by
/// `|Σ w_b·H_b(f)|` (the crossover's band responses, themselves checked against impulse
/// responses in `crossover.rs`): gone deep in the low band, kept in the middle, doubled on top.
#[test]
fn width_is_per_band() {
    use dsp_core::crossover::Crossover;
    let len = 48_000;
    let settings = four_bands([0.0, 1.0, 1.0, 2.0]);
    let crossover = Crossover::new(FS as f64, [120.0, 1000.0, 6000.0]);
    for hz in [30.0, 60.0, 300.0, 2500.0, 15_000.0] {
        let expected_db = (0..4)
            .map(|b| crossover.band_response(b, hz) * settings.widths[b] as f64)
            .fold(dsp_core::biquad::Complex::new(0.0, 0.0), |a, h| a + h)
            .db();
        let left = sine(FS as f64, hz, 0.0, 0.5, len);
        let right: Vec<f32> = left.iter().map(|x| -x).collect();
        let mut imager = Imager::new(FS, settings);
        let (l, r) = run(&mut imager, &left, &right, 64);
        let tail = len / 2..len;
        let out = energy(&side(&l[tail.clone()], &r[tail.clone()]));
        let inp = energy(&side(&left[tail.clone()], &right[tail]));
        let db = 10.0 * (out / inp).log10();
        assert!(
            (db - expected_db).abs() < 0.05,
            "{hz} Hz: {db:.3} dB, expected {expected_db:.3}"
        );
    }
}

/// Bass mono at 200 Hz: the side energy below 100 Hz is ≤ −60 dB of the input's (uncorrelated
/// white noise, Hann-windowed spectra), while the side well above the cutoff is kept.
#[test]
fn bass_mono_removes_low_side() {
    let len = 1 << 20;
    let (left, right) = (noise(len, 5), noise(len, 6));
    let cutoff = 200.0f32;
    let settings = ImagerSettings {
        bass_mono: true,
        bass_mono_hz: cutoff,
        ..ImagerSettings::default()
    };
    let mut imager = Imager::new(FS, settings);
    let (l, r) = run(&mut imager, &left, &right, 256);
    let n = 1 << 16;
    let spectrum_in = power_spectrum(&side(&left, &right), n);
    let spectrum_out = power_spectrum(&side(&l, &r), n);
    let bin = |hz: f32| (hz as f64 * n as f64 / FS as f64) as usize;
    let below = |s: &[f64]| s[1..bin(cutoff / 2.0)].iter().sum::<f64>();
    let db = 10.0 * (below(&spectrum_out) / below(&spectrum_in)).log10();
    assert!(db <= -60.0, "side below {} Hz: {db:.1} dB", cutoff / 2.0);
    let above = |s: &[f64]| s[bin(1000.0)..bin(10_000.0)].iter().sum::<f64>();
    let kept = 10.0 * (above(&spectrum_out) / above(&spectrum_in)).log10();
    assert!(kept.abs() < 0.05, "side above: {kept:.3} dB");
}

/// The meter equals `ΣLR / √(ΣL²ΣR²)` with the same exponential weights, computed here directly,
/// and reads the analytic values for identical, inverted, quadrature and partly correlated
/// signals.
#[test]
fn correlation_matches_the_formula() {
    let len = 48_000;
    let a = noise(len, 7);
    let b = noise(len, 8);
    let c = 0.6f32;
    let mixed: Vec<f32> = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| c * x + (1.0 - c * c).sqrt() * y)
        .collect();
    let sine_l = sine(FS as f64, 1000.0, 0.0, 0.5, len);
    let sine_r = sine(FS as f64, 1000.0, std::f64::consts::FRAC_PI_2, 0.5, len);
    let inverted: Vec<f32> = a.iter().map(|x| -x).collect();
    // (name, left, right, analytic r, tolerance)
    type Case<'a> = (&'a str, &'a [f32], &'a [f32], f64, f64);
    let cases: [Case; 5] = [
        ("identical", &a, &a, 1.0, 1e-9),
        ("inverted", &a, &inverted, -1.0, 1e-9),
        ("quadrature sines", &sine_l, &sine_r, 0.0, 0.01),
        ("correlated 0.6", &a, &mixed, 0.6, 0.03),
        ("independent", &a, &b, 0.0, 0.03),
    ];
    let pole = (-1000.0 / (CORRELATION_MS as f64 * FS as f64)).exp();
    for (name, l, r, analytic, tolerance) in cases {
        let mut meter = CorrelationMeter::new(FS, CORRELATION_MS);
        let (mut lr, mut ll, mut rr) = (0.0f64, 0.0f64, 0.0f64);
        for (&x, &y) in l.iter().zip(r) {
            meter.push(x as f64, y as f64);
            lr = lr * pole + x as f64 * y as f64;
            ll = ll * pole + (x as f64).powi(2);
            rr = rr * pole + (y as f64).powi(2);
        }
        let formula = lr / (ll * rr).sqrt();
        let got = meter.value() as f64;
        assert!((got - formula).abs() < 1e-6, "{name}: {got} vs {formula}");
        assert!((got - analytic).abs() < tolerance, "{name}: {got}");
    }
    // The imager's own meters: overall and per band on a mono signal read +1.
    let mut imager = Imager::new(FS, four_bands([0.5, 1.0, 1.0, 1.0]));
    run(&mut imager, &a, &a, 64);
    assert!((imager.correlation() - 1.0).abs() < 1e-6);
    for band in 0..4 {
        assert!((imager.band_correlation(band) - 1.0).abs() < 1e-6, "{band}");
    }
}

/// With metering off (offline rendering, which takes its own path once the knobs settle) the
/// audio is the same, bit for bit, with any number of bands and in blocks of any size, and the
/// meters stay where they were.
#[test]
fn metering_off_changes_nothing_heard() {
    let (left, right) = (noise(48_000, 11), noise(48_000, 12));
    for (bands, block) in (1..=4).zip([1, 65, 999, 7]) {
        let settings = ImagerSettings {
            bands,
            bass_mono: true,
            bass_mono_hz: 150.0,
            ..four_bands([0.5, 1.2, 0.8, 1.5])
        };
        let mut metered = Imager::new(FS, settings);
        let mut quiet = Imager::new(FS, settings);
        quiet.set_metering(false);
        let heard = run(&mut metered, &left, &right, 333);
        let unmetered = run(&mut quiet, &left, &right, block);
        assert_identical(&heard.0, &unmetered.0, &format!("left, {bands} bands"));
        assert_identical(&heard.1, &unmetered.1, &format!("right, {bands} bands"));
        assert!(metered.correlation().abs() > 0.01);
        assert_eq!(quiet.correlation(), 0.0);
        assert_eq!(quiet.band_correlation(0), 0.0);
    }
}

#[test]
fn block_size_does_not_matter_and_nan_does_not_stick() {
    let (left, right) = (noise(10_000, 9), noise(10_000, 10));
    let settings = ImagerSettings {
        bass_mono: true,
        balance: 0.3,
        ..four_bands([0.2, 0.8, 1.3, 1.9])
    };
    let reference = run(&mut Imager::new(FS, settings), &left, &right, 10_000);
    for block in [1, 7, 64, 65, 999] {
        assert_eq!(
            run(&mut Imager::new(FS, settings), &left, &right, block),
            reference,
            "block {block}"
        );
    }
    let mut poisoned = left.clone();
    poisoned[100] = f32::NAN;
    poisoned[200] = f32::INFINITY;
    let (l, r) = run(&mut Imager::new(FS, settings), &poisoned, &right, 64);
    assert!(l.iter().chain(&r).all(|x| x.is_finite()));
}

#[test]
fn balance_and_mono_check() {
    let (left, right) = (noise(96_000, 11), noise(96_000, 12));
    let settings = ImagerSettings {
        balance: 0.5,
        ..ImagerSettings::default()
    };
    // The processed path is an allpass, so compare levels: left −6.02 dB, right unchanged.
    let (l, r) = run(&mut Imager::new(FS, settings), &left, &right, 64);
    let level = |x: &[f32]| energy(&x.iter().map(|&v| v as f64).collect::<Vec<_>>());
    let left_db = 10.0 * (level(&l) / level(&left)).log10();
    let right_db = 10.0 * (level(&r) / level(&right)).log10();
    assert!((left_db + 6.0206).abs() < 0.1, "left {left_db}");
    assert!(right_db.abs() < 0.1, "right {right_db}");
    let settings = ImagerSettings {
        mono_check: true,
        ..ImagerSettings::default()
    };
    let (l, r) = run(&mut Imager::new(FS, settings), &left, &right, 64);
    assert!(l.iter().zip(&r).all(|(a, b)| (a - b).abs() < 1e-6));
}

/// Computing only the splits the bands in use need (offline rendering) keeps each band's width:
/// the side level of a tone in either of two bands is the same within 0.02 dB.
#[test]
fn only_used_splits_keep_every_band_width() {
    let settings = ImagerSettings {
        bands: 2,
        crossovers_hz: [300.0, 1000.0, 6000.0],
        widths: [0.5, 1.5, 1.0, 1.0],
        ..ImagerSettings::default()
    };
    for hz in [80.0, 2_000.0, 9_000.0] {
        let left = sine(FS as f64, hz, 0.0, 0.3, 48_000);
        let right = sine(FS as f64, hz, 1.0, 0.2, 48_000);
        let side_db = |only_used: bool| {
            let mut imager = Imager::new(FS, settings);
            if only_used {
                imager.compute_only_used_splits();
            }
            let (l, r) = run(&mut imager, &left, &right, 512);
            10.0 * energy(&side(&l[24_000..], &r[24_000..])).log10()
        };
        let input = 10.0 * energy(&side(&left[24_000..], &right[24_000..])).log10();
        let (want, got) = (side_db(false), side_db(true));
        assert!(
            (want - got).abs() < 0.02,
            "{hz} Hz: {got:.3} vs {want:.3} dB"
        );
        let expected = if hz < 300.0 { 0.5f64 } else { 1.5 };
        assert!(
            (want - input - 20.0 * expected.log10()).abs() < 0.1,
            "{hz} Hz width"
        );
    }
}
