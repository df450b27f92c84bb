//! Translation monitor: off is bit-transparent, solos are exact, and every device voicing's
//! measured response (impulse → DFT) equals the response it reports (which the editor draws),
//! with the shape its documentation describes.

mod common;

use common::{assert_identical, noise};
use dsp_core::monitor::{Monitor, Voicing};
use std::f64::consts::PI;

const FS: f32 = 48_000.0;

fn run(voicing: Voicing, left: &[f32], right: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mut monitor = Monitor::new(FS, voicing);
    let (mut l, mut r) = (left.to_vec(), right.to_vec());
    for (cl, cr) in l.chunks_mut(100).zip(r.chunks_mut(100)) {
        monitor.process(cl, cr);
    }
    (l, r)
}

#[test]
fn off_is_transparent_and_solos_are_exact() {
    let (left, right) = (noise(4800, 1), noise(4800, 2));
    let (l, r) = run(Voicing::Off, &left, &right);
    assert_identical(&l, &left, "off left");
    assert_identical(&r, &right, "off right");
    let (l, r) = run(Voicing::Left, &left, &right);
    assert_identical(&l, &left, "left solo");
    assert_identical(&r, &left, "left solo");
    let (l, r) = run(Voicing::Right, &left, &right);
    assert_identical(&l, &right, "right solo");
    assert_identical(&r, &right, "right solo");
    let combine = |f: fn(f64, f64) -> f64| -> Vec<f32> {
        left.iter()
            .zip(&right)
            .map(|(&a, &b)| f(a as f64, b as f64) as f32)
            .collect()
    };
    let mid = combine(|a, b| 0.5 * (a + b));
    let side = combine(|a, b| 0.5 * (a - b));
    for voicing in [Voicing::Mid, Voicing::Mono] {
        let (l, r) = run(voicing, &left, &right);
        assert_identical(&l, &mid, "mid");
        assert_identical(&r, &mid, "mid");
    }
    let (l, r) = run(Voicing::Side, &left, &right);
    assert_identical(&l, &side, "side");
    assert_identical(&r, &side, "side");
}

#[test]
fn device_voicings_match_their_reported_and_documented_response() {
    let n = 1 << 15;
    let mut impulse = vec![0.0f32; n];
    impulse[0] = 1.0;
    // (voicing, frequency, bound): the response there, relative to 1 kHz, is below (negative
    // bound) or above (positive bound) the bound.
    let shapes = [
        (Voicing::Phone, 200.0, -15.0),
        (Voicing::Earbuds, 30.0, -6.0),
        (Voicing::Laptop, 80.0, -20.0),
        (Voicing::Car, 40.0, 4.0),
    ];
    for (voicing, hz, bound) in shapes {
        // A signal on the left only: stereo voicings keep it there, mono ones halve it.
        let (l, _) = run(voicing, &impulse, &vec![0.0; n]);
        let monitor = Monitor::new(FS, voicing);
        let matrix_db = if voicing == Voicing::Phone {
            -6.0206
        } else if voicing == Voicing::Laptop {
            // Width 50 %: the left gets (1 + 0.5)/2 of a left-only signal.
            20.0 * 0.75f64.log10()
        } else {
            0.0
        };
        let measured = |f: f64| {
            let (re, im) = l.iter().enumerate().fold((0.0, 0.0), |(re, im), (k, &y)| {
                let phase = -2.0 * PI * f * k as f64 / FS as f64;
                (re + y as f64 * phase.cos(), im + y as f64 * phase.sin())
            });
            10.0 * (re * re + im * im).log10()
        };
        for f in [50.0, 200.0, 1000.0, 3000.0, 10_000.0] {
            let want = monitor.response_db(f) + matrix_db;
            let got = measured(f);
            assert!(
                (got - want).abs() < 0.01,
                "{voicing:?} at {f}: {got} vs {want}"
            );
        }
        let relative = monitor.response_db(hz) - monitor.response_db(1000.0);
        if bound < 0.0 {
            assert!(relative < bound, "{voicing:?} at {hz}: {relative:.1} dB");
        } else {
            assert!(relative > bound, "{voicing:?} at {hz}: {relative:.1} dB");
        }
    }
}

#[test]
fn non_finite_input_becomes_silence_and_does_not_stick() {
    for voicing in [Voicing::Off, Voicing::Phone, Voicing::Car, Voicing::Side] {
        let (mut left, mut right) = (noise(9600, 7), noise(9600, 8));
        left[100..164].fill(f32::NAN);
        right[100..164].fill(f32::INFINITY);
        let (l, r) = run(voicing, &left, &right);
        assert!(l.iter().chain(&r).all(|x| x.is_finite()), "{voicing:?}");
        if voicing == Voicing::Off {
            assert!(l[100..164].iter().chain(&r[100..164]).all(|&x| x == 0.0));
            assert_identical(&l[164..], &left[164..], "after the NaN");
        }
        let tail_rms = (l[4800..].iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / 4800.0).sqrt();
        assert!(tail_rms > 1e-3, "{voicing:?} did not recover");
    }
}
