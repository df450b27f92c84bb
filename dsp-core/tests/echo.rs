//! Delay (echo): measured delay times (in ms and as tempo-synced note values), the feedback's
//! decay per pass, click-free time changes, ducking, bounded feedback above 100%, silence and
//! transparency.

use dsp_core::echo::{Echo, EchoSettings};

mod common;
use common::{assert_identical, noise, sine};

/// Wet only, a flat loop (filters wide open), no modulation.
fn wet(settings: EchoSettings) -> EchoSettings {
    EchoSettings {
        mix: 1.0,
        low_cut_hz: 20.0,
        high_cut_hz: 20_000.0,
        mod_depth: 0.0,
        ..settings
    }
}

fn run(echo: &mut Echo, left: &mut [f32], right: &mut [f32], block: usize) {
    for (l, r) in left.chunks_mut(block).zip(right.chunks_mut(block)) {
        echo.process(l, r);
    }
}

fn peak_index(x: &[f32]) -> usize {
    (0..x.len())
        .max_by(|&a, &b| x[a].abs().total_cmp(&x[b].abs()))
        .unwrap()
}

/// A note value at a tempo, ms (quarters × 60 000 / bpm), as the plugin works it out.
fn note_ms(quarters: f64, bpm: f64) -> f32 {
    (quarters * 60_000.0 / bpm) as f32
}

/// The first echo of an impulse arrives exactly the set time later, on each side (the right
/// with its offset), at several rates, in ms and as synced note values at several tempos
/// (dotted eighth at 120 bpm, triplet quarter at 90, a bar at 133).
#[test]
fn measured_delay_is_the_set_time() {
    for fs in [44_100.0f32, 48_000.0, 96_000.0] {
        let times = [
            10.0,
            250.0,
            1_000.0,
            note_ms(0.75, 120.0),
            note_ms(2.0 / 3.0, 90.0),
            note_ms(4.0, 133.0),
        ];
        for time_ms in times {
            let offset_ms = 7.0;
            let settings = wet(EchoSettings {
                time_ms,
                offset_ms,
                feedback: 0.0,
                ..Default::default()
            });
            let mut echo = Echo::new(fs, settings);
            let len = ((time_ms + offset_ms) * 1e-3 * fs) as usize + 100;
            let (mut l, mut r) = (vec![0.0f32; len], vec![0.0f32; len]);
            l[0] = 0.5;
            r[0] = 0.5;
            run(&mut echo, &mut l, &mut r, 64);
            let expect = |ms: f32| (ms as f64 * 1e-3 * fs as f64).round() as usize;
            let (got_l, got_r) = (peak_index(&l), peak_index(&r));
            // Whole-sample times come out exact; others within half a sample (interpolated).
            assert_eq!(got_l, expect(time_ms), "{fs} Hz, {time_ms} ms, left");
            assert_eq!(
                got_r,
                expect(time_ms + offset_ms),
                "{fs} Hz, {time_ms} ms, right"
            );
            if (time_ms as f64 * 1e-3 * fs as f64).fract() == 0.0 {
                assert_eq!(l[got_l], 0.5, "{fs} Hz, {time_ms} ms: exact sample");
            }
        }
    }
}

/// With feedback g, each echo of a 1 kHz burst is 20·log10(g) dB below the one before
/// (±0.1 dB), for g = 0.3, 0.5 and 0.9; in ping-pong the echoes alternate sides.
#[test]
fn feedback_decays_at_the_expected_rate() {
    let fs = 48_000.0f32;
    let period = 4_800; // 100 ms
    for g in [0.3f32, 0.5, 0.9] {
        let settings = wet(EchoSettings {
            time_ms: 100.0,
            feedback: g,
            ..Default::default()
        });
        let mut echo = Echo::new(fs, settings);
        let len = period * 8;
        let mut l = vec![0.0f32; len];
        let burst = sine(fs as f64, 1_000.0, 0.0, 0.1, 960);
        l[..960].copy_from_slice(&burst);
        let mut r = l.clone();
        run(&mut echo, &mut l, &mut r, 64);
        let energy = |k: usize| -> f64 {
            l[k * period..(k + 1) * period]
                .iter()
                .map(|v| (*v as f64).powi(2))
                .sum()
        };
        for k in 2..6 {
            let step = 10.0 * (energy(k + 1) / energy(k)).log10();
            let expected = 20.0 * (g as f64).log10();
            assert!(
                (step - expected).abs() <= 0.1,
                "g {g}: echo {k} -> {}: {step:.3} dB, expected {expected:.3}",
                k + 1
            );
        }
    }
    // Ping-pong: the first echo on the left, the second on the right.
    let mut echo = Echo::new(
        fs,
        wet(EchoSettings {
            time_ms: 100.0,
            feedback: 0.5,
            ping_pong: true,
            width: 1.0,
            ..Default::default()
        }),
    );
    let (mut l, mut r) = (vec![0.0f32; 3 * period], vec![0.0f32; 3 * period]);
    l[0] = 0.5;
    run(&mut echo, &mut l, &mut r, 64);
    assert_eq!(peak_index(&l[..2 * period - 10]), period);
    assert!(r[period].abs() < 1e-6, "first echo is left only");
    assert_eq!(peak_index(&r[period + 10..]) + period + 10, 2 * period);
}

/// Changing the time glides the read head: moving a 1 kHz echo from 300 to 200 ms leaves no
/// click, i.e. no broadband energy: above 6 kHz (48 dB/oct high-pass) the output stays 50 dB
/// below the echo's level (an `f32` glide, whose last step jumped the head by a sample or two,
/// measured −29 dB here).
#[test]
fn time_changes_do_not_click() {
    let fs = 48_000.0f32;
    let settings = wet(EchoSettings {
        time_ms: 300.0,
        feedback: 0.0,
        ..Default::default()
    });
    let mut echo = Echo::new(fs, settings);
    let x = sine(fs as f64, 1_000.0, 0.0, 0.5, 96_000);
    let (mut l, mut r) = (x.clone(), x.clone());
    for (i, (a, b)) in l.chunks_mut(64).zip(r.chunks_mut(64)).enumerate() {
        if i == 500 {
            echo.set_settings(&EchoSettings {
                time_ms: 200.0,
                ..settings
            });
        }
        echo.process(a, b);
    }
    let high_pass = dsp_core::eq::BandSettings {
        kind: dsp_core::eq::FilterType::LowCut,
        freq_hz: 6_000.0,
        slope_db: 48,
        ..Default::default()
    };
    let mut hp = dsp_core::eq::Equalizer::new(
        fs,
        dsp_core::eq::EqSettings {
            bands: {
                let mut bands = [dsp_core::eq::BandSettings {
                    enabled: false,
                    ..Default::default()
                }; dsp_core::eq::MAX_BANDS];
                bands[0] = high_pass;
                bands
            },
            ..Default::default()
        },
    );
    let mut other = l.clone();
    hp.process(&mut l, &mut other);
    let peak = l[20_000..].iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let db = 20.0 * (peak / 0.5).log10();
    assert!(db <= -50.0, "{db:.1} dB above 6 kHz");
}

/// Ducking: while the dry input plays the wet signal is down by more than 40 dB at full duck;
/// once the input stops the echoes come back (feedback 0.8 keeps them going).
#[test]
fn ducking_clears_the_way_for_the_dry_signal() {
    let fs = 48_000.0f32;
    let mut echo = Echo::new(
        fs,
        wet(EchoSettings {
            time_ms: 100.0,
            feedback: 0.8,
            duck: 1.0,
            ..Default::default()
        }),
    );
    let mut l = sine(fs as f64, 440.0, 0.0, 0.5, 48_000);
    l.extend(vec![0.0; 60_000]);
    let mut r = l.clone();
    run(&mut echo, &mut l, &mut r, 64);
    let rms =
        |s: &[f32]| (s.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / s.len() as f64).sqrt();
    let during = 20.0 * (rms(&l[20_000..48_000]) / 0.354).log10();
    // 0.8–1 s after the input stops (envelope below −50 dBFS by then).
    let after = 20.0 * (rms(&l[86_400..96_000]) / 0.354).log10();
    assert!(during < -40.0, "wet while playing: {during:.1} dB");
    assert!(after > -30.0, "echoes after: {after:.1} dB");
}

/// Feedback at 110% grows into the soft limit and stays there: finite, below 1.5 (the limit's
/// asymptote), for 30 s.
#[test]
fn feedback_above_unity_stays_bounded() {
    let fs = 48_000.0f32;
    let mut echo = Echo::new(
        fs,
        wet(EchoSettings {
            time_ms: 50.0,
            feedback: 1.1,
            ..Default::default()
        }),
    );
    assert_eq!(echo.tail_samples(), None);
    let mut peak = 0.0f32;
    for k in 0..30 {
        let (mut l, mut r) = (vec![0.0f32; 48_000], vec![0.0f32; 48_000]);
        if k == 0 {
            l[0] = 1.0;
            r[0] = 1.0;
        }
        run(&mut echo, &mut l, &mut r, 512);
        for v in l.iter().chain(&r) {
            assert!(v.is_finite());
            peak = peak.max(v.abs());
        }
    }
    assert!(peak < 1.5 && peak > 0.5, "peak {peak}");
}

/// Silence in gives silence out, and after loud input the tail ends in exact zeros; mix 0 is
/// bit-transparent; block sizes do not matter; NaN and inf do not stick.
#[test]
fn silence_transparency_blocks_and_nan() {
    let fs = 44_100.0f32;
    let settings = EchoSettings {
        feedback: 0.5,
        ..Default::default()
    };
    let mut echo = Echo::new(fs, settings);
    let (mut l, mut r) = (vec![0.0f32; 44_100], vec![0.0f32; 44_100]);
    run(&mut echo, &mut l, &mut r, 64);
    assert!(l.iter().chain(&r).all(|v| *v == 0.0));
    let (mut l, mut r) = (noise(44_100, 1), noise(44_100, 2));
    run(&mut echo, &mut l, &mut r, 64);
    for _ in 0..60 {
        let (mut l, mut r) = (vec![0.0f32; 44_100], vec![0.0f32; 44_100]);
        run(&mut echo, &mut l, &mut r, 64);
        assert!(l
            .iter()
            .chain(&r)
            .all(|v| v.is_finite() && !v.is_subnormal()));
        if l.iter().chain(&r).all(|v| *v == 0.0) {
            break;
        }
    }
    let (mut l, mut r) = (vec![0.0f32; 44_100], vec![0.0f32; 44_100]);
    run(&mut echo, &mut l, &mut r, 64);
    assert!(l.iter().chain(&r).all(|v| *v == 0.0), "tail did not end");

    let input = (noise(20_000, 3), noise(20_000, 4));
    let mut dry = Echo::new(
        fs,
        EchoSettings {
            mix: 0.0,
            ..settings
        },
    );
    let (mut l, mut r) = input.clone();
    run(&mut dry, &mut l, &mut r, 64);
    assert_identical(&l, &input.0, "mix 0 left");
    assert_identical(&r, &input.1, "mix 0 right");
    // Bypass passes the input unchanged, whatever the output level.
    let mut bypassed = Echo::new(
        fs,
        EchoSettings {
            bypass: true,
            output_db: -6.0,
            ..settings
        },
    );
    let (mut l, mut r) = input.clone();
    run(&mut bypassed, &mut l, &mut r, 64);
    assert_identical(&l, &input.0, "bypass left");
    assert_identical(&r, &input.1, "bypass right");

    let process = |block: usize, poison: bool| {
        let mut echo = Echo::new(
            fs,
            EchoSettings {
                mod_depth: 0.5,
                saturation: 0.5,
                ..settings
            },
        );
        let (mut l, mut r) = input.clone();
        if poison {
            l[10] = f32::NAN;
            r[20] = f32::INFINITY;
        }
        run(&mut echo, &mut l, &mut r, block);
        (l, r)
    };
    let reference = process(20_000, false);
    for block in [1, 17, 64, 1000] {
        assert_eq!(process(block, false), reference, "block {block}");
    }
    let (l, r) = process(64, true);
    assert!(l.iter().chain(&r).all(|v| v.is_finite()));
}
