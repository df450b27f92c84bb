//! Master dynamics measured: neutral bands sum flat at the reported (zero) latency, one band is
//! bit-transparent, compression stays in its band, solo / bypass / mix / M/S do what they say,
//! the bus compressor follows GMR's static curve, and changing the band count never jumps.

mod common;

use common::{assert_identical, db, noise, sine};
use dsp_core::biquad::Complex;
use dsp_core::dynamics::{Detection, StereoMode};
use dsp_core::multiband::{BandSettings, MultibandDynamics, MultibandSettings};
use std::f64::consts::PI;

const FS: f32 = 48_000.0;

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

fn run(settings: MultibandSettings, left: &[f32], right: &[f32], block: usize) -> [Vec<f32>; 2] {
    let mut m = MultibandDynamics::new(FS, settings);
    let (mut l, mut r) = (left.to_vec(), right.to_vec());
    for (a, b) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
        m.process(a, b);
    }
    [l, r]
}

/// Bands that never compress: ratio 1.
fn neutral(bands: usize) -> MultibandSettings {
    MultibandSettings {
        bands,
        band: [BandSettings {
            ratio: 1.0,
            ..Default::default()
        }; 4],
        ..Default::default()
    }
}

fn dft(signal: &[f32], hz: f64) -> Complex {
    signal
        .iter()
        .enumerate()
        .fold(Complex::new(0.0, 0.0), |acc, (n, &y)| {
            acc + Complex::from_angle(-2.0 * PI * hz * n as f64 / FS as f64) * y as f64
        })
}

#[test]
fn one_neutral_band_is_bit_transparent() {
    let (left, right) = (noise(24_000, 1), noise(24_000, 2));
    for mode in [StereoMode::LeftRight, StereoMode::MidSide] {
        let settings = MultibandSettings {
            stereo_mode: mode,
            ..neutral(1)
        };
        let [l, r] = run(settings, &left, &right, 100);
        if mode == StereoMode::LeftRight {
            assert_identical(&l, &left, "left");
            assert_identical(&r, &right, "right");
        } else {
            // Mid/side and back: exact to the last bit or two of f32.
            let err = l
                .iter()
                .zip(&left)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(err < 1e-7, "{err}");
        }
    }
}

#[test]
fn neutral_bands_sum_flat_at_the_reported_latency() {
    for bands in 2..=4 {
        for crossovers_hz in [[120.0, 1_000.0, 6_000.0], [40.0, 300.0, 15_000.0]] {
            let settings = MultibandSettings {
                crossovers_hz,
                ..neutral(bands)
            };
            let len = 1 << 15;
            let mut impulse = vec![0.0f32; len];
            impulse[0] = 1.0;
            let [l, _] = run(settings, &impulse, &impulse, 512);
            let mut worst = 0.0f64;
            let mut hz = 20.0;
            while hz <= 20_000.0 {
                worst = worst.max(dft(&l, hz).db().abs());
                hz *= 2f64.powf(1.0 / 12.0);
            }
            assert!(
                worst <= 0.05,
                "{bands} bands {crossovers_hz:?}: {worst:.4} dB"
            );
            // Zero latency: the output is exactly the crossover's allpass (the analytic product
            // of its split allpasses, phase included; any added delay d would add −ωd of phase),
            // and causal from sample 0.
            let m = MultibandDynamics::new(FS, settings);
            assert_eq!(m.latency(), 0);
            for hz in [50.0, 120.0, 700.0, 1_000.0, 5_000.0, 15_000.0] {
                let want = (0..4).fold(Complex::new(0.0, 0.0), |sum, b| {
                    sum + m.crossover().band_response(b, hz)
                });
                let got = dft(&l, hz);
                let error = (got.re - want.re).hypot(got.im - want.im);
                assert!(
                    error < 1e-5,
                    "{bands} bands at {hz} Hz: {got:?} vs {want:?}"
                );
            }
            assert!(l[0] != 0.0);
        }
    }
}

#[test]
fn compression_stays_in_its_band() {
    let mut settings = neutral(4);
    settings.detection = Detection::Rms;
    settings.band[2] = BandSettings {
        threshold_db: -30.0,
        ratio: f32::INFINITY,
        knee_db: 0.0,
        attack_ms: 1.0,
        release_ms: 300.0,
        ..Default::default()
    };
    let tail = 24_000..48_000;
    let gain = |hz: f64| {
        let x = sine(FS as f64, hz, 0.0, 0.1, 48_000);
        let [l, r] = run(settings, &x, &x, 256);
        (
            db(rms(&l[tail.clone()]) / rms(&x[tail.clone()])),
            db(rms(&r[tail.clone()]) / rms(&x[tail.clone()])),
        )
    };
    // 3 kHz at −23 dB RMS sits in band 2 (1–6 kHz): pushed down to about the −30 dB threshold.
    let (l, r) = gain(3_000.0);
    assert!(
        (-8.0..=-5.0).contains(&l) && (l - r).abs() < 1e-6,
        "3 kHz: {l:.2} dB"
    );
    // 100 Hz and 12 kHz are in other bands: untouched.
    for hz in [100.0, 12_000.0] {
        let (l, _) = gain(hz);
        assert!(l.abs() < 0.05, "{hz} Hz: {l:.3} dB");
    }
    // The per-band meters say where the reduction happened.
    let x = sine(FS as f64, 3_000.0, 0.0, 0.1, 48_000);
    let mut m = MultibandDynamics::new(FS, settings);
    let (mut l, mut r) = (x.clone(), x.clone());
    let stats = m.process(&mut l, &mut r);
    assert!(stats.max_reduction_db[2] > 5.0);
    assert_eq!(stats.max_reduction_db[0], 0.0);
    assert_eq!(stats.max_reduction_db[1], 0.0);
}

#[test]
fn solo_bypass_and_mix() {
    let low = sine(FS as f64, 60.0, 0.0, 0.1, 48_000);
    let high = sine(FS as f64, 3_000.0, 0.0, 0.1, 48_000);
    let both: Vec<f32> = low.iter().zip(&high).map(|(a, b)| a + b).collect();
    let tail = 24_000..48_000;
    // Solo the lowest band: the 3 kHz tone is gone (LR4: > 60 dB down two octaves away ...).
    let mut settings = neutral(4);
    settings.band[0].solo = true;
    let [l, _] = run(settings, &both, &both, 256);
    // The soloed band is the LR4 low-pass at 120 Hz: 1/(1 + (f/fc)⁴) at 60 Hz.
    let low_gain = db(rms(&l[tail.clone()]) / rms(&low[tail.clone()]));
    let want = -20.0 * (1.0 + (60.0f64 / 120.0).powi(4)).log10();
    assert!(
        (low_gain - want).abs() < 0.02,
        "soloed low band {low_gain:.3} vs {want:.3} dB"
    );
    let high_leak =
        db(dft(&l[tail.clone()], 3_000.0).norm() / dft(&high[tail.clone()], 3_000.0).norm());
    assert!(
        high_leak < -60.0,
        "3 kHz through the low band solo: {high_leak:.1} dB"
    );

    // Heavy compression in band 2 ...
    let mut squash = neutral(4);
    squash.detection = Detection::Rms;
    squash.band[2] = BandSettings {
        threshold_db: -40.0,
        ratio: f32::INFINITY,
        ..Default::default()
    };
    let [l, _] = run(squash, &high, &high, 256);
    assert!(db(rms(&l[tail.clone()]) / rms(&high[tail.clone()])) < -10.0);
    // ... is gone when the band is bypassed, and with mix 0 (the allpassed dry signal, flat).
    for settings in [
        MultibandSettings {
            band: {
                let mut b = squash.band;
                b[2].bypass = true;
                b
            },
            ..squash
        },
        MultibandSettings { mix: 0.0, ..squash },
    ] {
        let [l, _] = run(settings, &high, &high, 256);
        let g = db(rms(&l[tail.clone()]) / rms(&high[tail.clone()]));
        assert!(g.abs() < 0.01, "{g}");
    }
    // Mix 50 %: between, on the dB scale of amplitudes (phase-aligned dry, no comb filtering).
    let [full, _] = run(squash, &high, &high, 256);
    let [half, _] = run(MultibandSettings { mix: 0.5, ..squash }, &high, &high, 256);
    let (a_full, a_half) = (
        rms(&full[tail.clone()]) / rms(&high[tail.clone()]),
        rms(&half[tail.clone()]) / rms(&high[tail.clone()]),
    );
    assert!(
        (a_half - 0.5 * (1.0 + a_full)).abs() < 0.01,
        "{a_half} vs {a_full}"
    );
}

/// GMR eq. 4, written out independently of the code under test.
fn reference_gain_db(x: f64, threshold: f64, ratio: f64, knee: f64) -> f64 {
    let slope = 1.0 / ratio;
    let y = if 2.0 * (x - threshold) < -knee {
        x
    } else if knee > 0.0 && 2.0 * (x - threshold).abs() <= knee {
        x + (slope - 1.0) * (x - threshold + knee / 2.0).powi(2) / (2.0 * knee)
    } else {
        threshold + (x - threshold) * slope
    };
    y - x
}

#[test]
fn bus_compressor_follows_the_static_curve() {
    let settings = MultibandSettings {
        bands: 1,
        detection: Detection::Rms,
        band: [BandSettings {
            threshold_db: -24.0,
            ratio: 3.0,
            knee_db: 10.0,
            attack_ms: 1.0,
            release_ms: 300.0,
            makeup_db: 2.0,
            ..Default::default()
        }; 4],
        ..Default::default()
    };
    for level in (-40..=0).step_by(2).map(|l| l as f64) {
        let x = sine(
            FS as f64,
            1000.0,
            0.0,
            10f64.powf(level / 20.0) * 2f64.sqrt(),
            24_000,
        );
        let [l, _] = run(settings, &x, &x, 333);
        let tail = 19_200..24_000;
        let gain = db(rms(&l[tail.clone()]) / rms(&x[tail]));
        let want = reference_gain_db(level, -24.0, 3.0, 10.0) + 2.0;
        assert!(
            (gain - want).abs() <= 0.1,
            "{level} dB: {gain:.3} vs {want:.3}"
        );
    }
}

#[test]
fn mid_side_compresses_mid_and_side_independently() {
    let loud = sine(FS as f64, 500.0, 0.0, 0.5, 24_000);
    let quiet = sine(FS as f64, 700.0, 0.0, 0.01, 24_000);
    let left: Vec<f32> = loud.iter().zip(&quiet).map(|(s, m)| m + s).collect();
    let right: Vec<f32> = loud.iter().zip(&quiet).map(|(s, m)| m - s).collect();
    let settings = MultibandSettings {
        bands: 1,
        stereo_mode: StereoMode::MidSide,
        detection: Detection::Rms,
        band: [BandSettings {
            threshold_db: -20.0,
            ratio: f32::INFINITY,
            knee_db: 0.0,
            ..Default::default()
        }; 4],
        ..Default::default()
    };
    let [l, r] = run(settings, &left, &right, 256);
    let tail = 19_200..24_000;
    let mid: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
    let side: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a - b)).collect();
    let g = |y: &[f32], x: &[f32]| db(rms(&y[tail.clone()]) / rms(&x[tail.clone()]));
    assert!(g(&mid, &quiet).abs() < 1e-3, "mid {}", g(&mid, &quiet));
    // Side at −9 dB RMS, threshold −20, ∞:1: about 11 dB down.
    assert!(
        (g(&side, &loud) + 11.0).abs() < 0.2,
        "side {}",
        g(&side, &loud)
    );
}

#[test]
fn changing_the_band_count_never_jumps() {
    let x = sine(FS as f64, 1_000.0, 0.0, 0.5, 48_000);
    let max_step_in = x
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    let mut m = MultibandDynamics::new(FS, neutral(1));
    let (mut l, mut r) = (x.clone(), x.clone());
    for (k, (a, b)) in l.chunks_mut(480).zip(r.chunks_mut(480)).enumerate() {
        // 1 → 4 → 2 → 1 bands, every 250 ms, while a tone at the middle crossover plays.
        let bands = [1, 4, 2, 1][(k / 25) % 4];
        m.set_settings(&neutral(bands));
        m.process(a, b);
    }
    let max_step = l
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    assert!(
        max_step <= 1.05 * max_step_in,
        "{max_step} vs {max_step_in}"
    );
}

#[test]
fn block_size_independence_reset_silence_and_nan() {
    let (left, right) = (noise(20_000, 3), noise(20_000, 4));
    let mut settings = neutral(3);
    for b in &mut settings.band {
        b.threshold_db = -30.0;
        b.ratio = 4.0;
    }
    settings.mix = 0.8;
    settings.stereo_mode = StereoMode::MidSide;
    let want = run(settings, &left, &right, 20_000);
    for block in [1, 7, 64, 65, 999] {
        let got = run(settings, &left, &right, block);
        assert_identical(&got[0], &want[0], "left");
        assert_identical(&got[1], &want[1], "right");
    }
    // Changes while running (a band-count crossfade, thresholds and a band bypass gliding) land
    // on the same sample whatever the block size, and so must give the same output.
    let mut changed = settings;
    changed.bands = 1;
    changed.band[0].threshold_db = -12.0;
    changed.band[0].bypass = true;
    let run_changing = |block: usize| {
        let mut m = MultibandDynamics::new(FS, settings);
        let (mut l, mut r) = (left.clone(), right.clone());
        for (k, (a, b)) in l.chunks_mut(block).zip(r.chunks_mut(block)).enumerate() {
            if k * block == 6_336 {
                m.set_settings(&changed);
            }
            m.process(a, b);
        }
        [l, r]
    };
    let want_changing = run_changing(1);
    for block in [64, 96, 6_336] {
        let got = run_changing(block);
        assert_identical(&got[0], &want_changing[0], "left, changing");
        assert_identical(&got[1], &want_changing[1], "right, changing");
    }

    let mut m = MultibandDynamics::new(FS, settings);
    let (mut l, mut r) = (left.clone(), right.clone());
    m.process(&mut l, &mut r);
    m.reset();
    let (mut l, mut r) = (left.clone(), right.clone());
    m.process(&mut l, &mut r);
    assert_identical(&l, &want[0], "after reset");

    // NaN and inf become silence; 60 s of silence afterwards stays exactly silent.
    let mut l = vec![0.0f32; 48_000 * 60];
    let mut r = l.clone();
    l[10] = f32::NAN;
    r[20] = f32::NEG_INFINITY;
    m.process(&mut l, &mut r);
    assert!(l.iter().chain(&r).all(|x| x.is_finite()));
    assert!(l[48_000..].iter().chain(&r[48_000..]).all(|&x| x == 0.0));
}

/// Computing only the splits the bands in use need (offline rendering) changes the phase, not
/// the level: a tone in each band comes out at the same level, compressed or not, within
/// 0.02 dB.
#[test]
fn only_used_splits_keep_every_band_level() {
    let mut settings = neutral(3);
    settings.crossovers_hz = [150.0, 2500.0, 8000.0];
    settings.detection = Detection::Rms;
    settings.band[1] = BandSettings {
        threshold_db: -30.0,
        ratio: 4.0,
        ..Default::default()
    };
    let tail = 24_000..48_000;
    for hz in [60.0, 1_000.0, 5_000.0, 12_000.0] {
        let x = sine(FS as f64, hz, 0.0, 0.1, 48_000);
        let [all, _] = run(settings, &x, &x, 256);
        let mut m = MultibandDynamics::new(FS, settings);
        m.compute_only_used_splits();
        let (mut l, mut r) = (x.clone(), x.clone());
        m.process(&mut l, &mut r);
        let level = |y: &[f32]| db(rms(&y[tail.clone()]) / rms(&x[tail.clone()]));
        let (want, got) = (level(&all), level(&l));
        assert!(
            (want - got).abs() < 0.02,
            "{hz} Hz: {got:.3} vs {want:.3} dB"
        );
        if hz == 1_000.0 {
            assert!(want < -3.0, "band 1 compresses: {want:.2} dB");
        }
    }
}
