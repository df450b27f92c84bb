//! The channel utility measured: pan laws against their documented gains, exact polarity / swap /
//! mono, bit-transparency when neutral, Butterworth cut slopes, DC block, volume and mute.

mod common;

use common::{assert_identical, noise, sine};
use dsp_core::channel::{Channel, ChannelSettings, PanLaw, PanMode};

const FS: f32 = 48_000.0;

fn run(channel: &mut Channel, left: &[f32], right: &[f32], block: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut l, mut r) = (left.to_vec(), right.to_vec());
    for (cl, cr) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
        channel.process(cl, cr);
    }
    (l, r)
}

fn with(f: impl FnOnce(&mut ChannelSettings)) -> ChannelSettings {
    let mut settings = ChannelSettings::default();
    f(&mut settings);
    settings
}

fn rms_db(x: &[f32]) -> f64 {
    let ms = x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64;
    10.0 * ms.log10()
}

/// Gains at centre and hard left/right, in dB, for every law, as documented in
/// `dsp_core::channel`: centre 0 / −3.01 / −4.52 / −6.02 dB; near side 0 dB, far side silent.
/// Checked on the law functions and through the processor on a mono source.
#[test]
fn pan_laws_give_their_documented_gains() {
    let centre_db = [
        (PanLaw::ZeroDb, 0.0),
        (PanLaw::Minus3Db, -3.0103),
        (PanLaw::Minus4_5Db, -4.5154),
        (PanLaw::Minus6Db, -6.0206),
    ];
    let db = |g: f32| 20.0 * (g as f64).log10();
    let tone = sine(FS as f64, 1000.0, 0.0, 0.5, 4800);
    for (law, centre) in centre_db {
        let (l, r) = law.gains(0.0);
        assert!(
            (db(l) - centre).abs() < 1e-3 && (db(r) - centre).abs() < 1e-3,
            "{law:?}"
        );
        assert_eq!(law.gains(-1.0), (1.0, 0.0), "{law:?} hard left");
        assert_eq!(law.gains(1.0), (0.0, 1.0), "{law:?} hard right");
        for (pan, want_l, want_r) in [
            (0.0, centre, centre),
            (-1.0, 0.0, -999.0),
            (1.0, -999.0, 0.0),
        ] {
            let settings = with(|s| {
                s.pan_mode = PanMode::Pan;
                s.pan_law = law;
                s.pan = pan;
            });
            let (out_l, out_r) = run(&mut Channel::new(FS, settings), &tone, &tone, 64);
            for (out, want) in [(&out_l, want_l), (&out_r, want_r)] {
                let got = rms_db(out) - rms_db(&tone);
                if want < -900.0 {
                    assert!(out.iter().all(|&x| x == 0.0), "{law:?} {pan}: not silent");
                } else {
                    assert!((got - want).abs() < 1e-3, "{law:?} {pan}: {got} dB");
                }
            }
        }
        // Balance mode: 0 dB in the centre and on the near side for every law.
        assert_eq!(law.balance_gains(0.0), (1.0, 1.0), "{law:?}");
        assert_eq!(law.balance_gains(-0.5).0, 1.0, "{law:?}");
        assert_eq!(law.balance_gains(1.0), (0.0, 1.0), "{law:?}");
    }
}

#[test]
fn neutral_is_bit_transparent() {
    let (left, right) = (noise(20_000, 1), noise(20_000, 2));
    let (l, r) = run(
        &mut Channel::new(FS, ChannelSettings::default()),
        &left,
        &right,
        64,
    );
    assert_identical(&l, &left, "left");
    assert_identical(&r, &right, "right");
    // After a trip through every stage and back.
    let busy = with(|s| {
        s.input_gain_db = 3.0;
        s.low_cut = true;
        s.high_cut = true;
        s.dc_block = true;
        s.width = 1.5;
        s.pan = 0.3;
        s.mono = true;
        s.swap = true;
    });
    let mut channel = Channel::new(FS, busy);
    run(&mut channel, &left, &right, 64);
    channel.set_settings(&ChannelSettings::default());
    for _ in 0..3 {
        run(&mut channel, &left, &right, 64);
    }
    let (l, r) = run(&mut channel, &left, &right, 64);
    assert_identical(&l, &left, "back to neutral, left");
    assert_identical(&r, &right, "back to neutral, right");
}

#[test]
fn polarity_swap_and_mono_are_exact() {
    let (left, right) = (noise(4800, 3), noise(4800, 4));
    let negate = |x: &[f32]| x.iter().map(|v| -v).collect::<Vec<_>>();
    let (l, r) = run(
        &mut Channel::new(FS, with(|s| s.invert_left = true)),
        &left,
        &right,
        64,
    );
    assert_identical(&l, &negate(&left), "invert left");
    assert_identical(&r, &right, "invert left, right");
    let (l, r) = run(
        &mut Channel::new(FS, with(|s| s.invert_right = true)),
        &left,
        &right,
        64,
    );
    assert_identical(&l, &left, "invert right, left");
    assert_identical(&r, &negate(&right), "invert right");
    let (l, r) = run(
        &mut Channel::new(FS, with(|s| s.swap = true)),
        &left,
        &right,
        64,
    );
    assert_identical(&l, &right, "swap");
    assert_identical(&r, &left, "swap");
    let (l, r) = run(
        &mut Channel::new(FS, with(|s| s.mono = true)),
        &left,
        &right,
        64,
    );
    let sum: Vec<f32> = left
        .iter()
        .zip(&right)
        .map(|(&a, &b)| (0.5 * (a as f64 + b as f64)) as f32)
        .collect();
    assert_identical(&l, &sum, "mono left");
    assert_identical(&r, &sum, "mono right");
}

/// Low and high cut follow the Butterworth magnitude `1/√(1 + (fc/f)^(2N))` (N = slope / 6),
/// measured with sines, for every slope.
#[test]
fn cuts_have_butterworth_slopes() {
    let len = 24_000;
    for slope in (6..=48).step_by(6) {
        let order = (slope / 6) as i32;
        for (low, fc, hz) in [
            (true, 100.0, 50.0),
            (true, 100.0, 100.0),
            (true, 100.0, 400.0),
            (false, 4000.0, 8000.0),
            (false, 4000.0, 4000.0),
        ] {
            let settings = with(|s| {
                if low {
                    s.low_cut = true;
                    s.low_cut_hz = fc as f32;
                    s.low_cut_slope_db = slope;
                } else {
                    s.high_cut = true;
                    s.high_cut_hz = fc as f32;
                    s.high_cut_slope_db = slope;
                }
            });
            let tone = sine(FS as f64, hz, 0.0, 0.5, len);
            let (l, _) = run(&mut Channel::new(FS, settings), &tone, &tone, 64);
            let got = rms_db(&l[len / 2..]) - rms_db(&tone[len / 2..]);
            // The bilinear transform warps frequency: compare at the warped ratio.
            let warp = |f: f64| (std::f64::consts::PI * f / FS as f64).tan();
            let ratio = if low {
                warp(fc) / warp(hz)
            } else {
                warp(hz) / warp(fc)
            };
            let want = -10.0 * (1.0 + ratio.powi(2 * order)).log10();
            assert!(
                (got - want).abs() < 0.05,
                "{} {slope} dB/oct at {hz} Hz: {got:.3} vs {want:.3}",
                if low { "low cut" } else { "high cut" }
            );
        }
    }
}

#[test]
fn dc_block_removes_offset() {
    let len = 96_000;
    let input: Vec<f32> = sine(FS as f64, 440.0, 0.0, 0.3, len)
        .iter()
        .map(|x| x + 0.25)
        .collect();
    let (l, _) = run(
        &mut Channel::new(FS, with(|s| s.dc_block = true)),
        &input,
        &input,
        64,
    );
    let tail = &l[len - 48_000..];
    let mean = tail.iter().map(|&x| x as f64).sum::<f64>() / tail.len() as f64;
    assert!(mean.abs() < 1e-4, "mean {mean}");
    // The 440 Hz tone passes (first-order high-pass at 5 Hz: −0.0006 dB).
    let tone_db = rms_db(tail) - 20.0 * (0.3f64 / 2f64.sqrt()).log10();
    assert!(tone_db.abs() < 0.01, "{tone_db}");
}

#[test]
fn volume_mute_and_width() {
    let (left, right) = (noise(9600, 5), noise(9600, 6));
    let (l, _) = run(
        &mut Channel::new(FS, with(|s| s.volume_db = 6.0)),
        &left,
        &right,
        64,
    );
    assert!((rms_db(&l) - rms_db(&left) - 6.0).abs() < 1e-4);
    for settings in [with(|s| s.mute = true), with(|s| s.volume_db = -80.0)] {
        let (l, r) = run(&mut Channel::new(FS, settings), &left, &right, 64);
        assert!(l.iter().chain(&r).all(|&x| x == 0.0));
    }
    let (l, r) = run(
        &mut Channel::new(FS, with(|s| s.width = 0.0)),
        &left,
        &right,
        64,
    );
    assert!(l.iter().zip(&r).all(|(a, b)| (a - b).abs() < 1e-7));
}

#[test]
fn block_size_does_not_matter_and_nan_does_not_stick() {
    let (left, right) = (noise(10_000, 7), noise(10_000, 8));
    let settings = with(|s| {
        s.low_cut = true;
        s.high_cut = true;
        s.dc_block = true;
        s.pan = -0.4;
        s.width = 1.4;
        s.input_gain_db = -2.0;
    });
    let reference = run(&mut Channel::new(FS, settings), &left, &right, 10_000);
    for block in [1, 7, 64, 65, 999] {
        assert_eq!(
            run(&mut Channel::new(FS, settings), &left, &right, block),
            reference,
            "block {block}"
        );
    }
    let mut poisoned = left.clone();
    poisoned[10] = f32::NAN;
    poisoned[20] = f32::NEG_INFINITY;
    let (l, r) = run(&mut Channel::new(FS, settings), &poisoned, &right, 64);
    assert!(l.iter().chain(&r).all(|x| x.is_finite()));
}
