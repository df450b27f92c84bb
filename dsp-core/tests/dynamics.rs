//! The compressor measured against its definition: the static curve against GMR eq. 4 written out
//! here, attack / release / hold times from step responses, exact nulls, latency by impulse,
//! sidechain behaviour against analytic filter responses, and chunking independence.

mod common;

use common::{assert_identical, db, noise, sine};
use dsp_core::dynamics::{
    Compressor, CompressorSettings, Detection, StereoMode, AUTO_SLOW_RELEASE,
};

const FS: f32 = 48_000.0;

/// GMR eq. 4, the reference static curve: output level for input level `x` (dB).
fn reference_output_db(x: f64, threshold: f64, ratio: f64, knee: f64) -> f64 {
    let slope = if ratio.is_infinite() {
        0.0
    } else {
        1.0 / ratio
    };
    if 2.0 * (x - threshold) < -knee {
        x
    } else if knee > 0.0 && 2.0 * (x - threshold).abs() <= knee {
        x + (slope - 1.0) * (x - threshold + knee / 2.0).powi(2) / (2.0 * knee)
    } else {
        threshold + (x - threshold) * slope
    }
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Runs a stereo signal (same on both channels unless `right` is given) through a compressor in
/// blocks of `block` samples; returns both outputs.
fn run(
    settings: CompressorSettings,
    left: &[f32],
    right: Option<&[f32]>,
    sidechain: Option<(&[f32], &[f32])>,
    block: usize,
) -> (Vec<f32>, Vec<f32>) {
    let mut c = Compressor::new(FS, settings);
    let mut l = left.to_vec();
    let mut r = right.unwrap_or(left).to_vec();
    let mut start = 0;
    while start < l.len() {
        let end = (start + block).min(l.len());
        let sc = sidechain.map(|(a, b)| (&a[start..end], &b[start..end]));
        c.process(&mut l[start..end], &mut r[start..end], sc);
        start = end;
    }
    (l, r)
}

fn hard(settings: CompressorSettings) -> CompressorSettings {
    CompressorSettings {
        knee_db: 0.0,
        ..settings
    }
}

#[test]
fn static_curve_matches_the_formula() {
    let threshold = -20.0;
    let mut worst = 0.0f64;
    for detection in [Detection::Peak, Detection::Rms] {
        for ratio in [1.5f32, 4.0, f32::INFINITY] {
            for knee in [0.0f32, 6.0, 12.0] {
                let settings = CompressorSettings {
                    threshold_db: threshold as f32,
                    ratio,
                    knee_db: knee,
                    attack_ms: 1.0,
                    release_ms: 300.0,
                    // Peak detection of a tone: hold across the troughs between its peaks.
                    hold_ms: if detection == Detection::Peak {
                        5.0
                    } else {
                        0.0
                    },
                    detection,
                    ..Default::default()
                };
                for level in (-40..=0).map(|l| l as f64) {
                    // The detector's level of a sine: its peak, or its RMS (3.01 dB lower).
                    let amplitude = match detection {
                        Detection::Peak => 10f64.powf(level / 20.0),
                        Detection::Rms => 10f64.powf(level / 20.0) * 2f64.sqrt(),
                    };
                    let input = sine(FS as f64, 1000.0, 0.3, amplitude, 24_000);
                    let (out, _) = run(settings, &input, None, None, 512);
                    let tail = 19_200..24_000;
                    let gain = db(rms(&out[tail.clone()]) / rms(&input[tail]));
                    let want =
                        reference_output_db(level, threshold, ratio as f64, knee as f64) - level;
                    let error = (gain - want).abs();
                    worst = worst.max(error);
                    assert!(
                        error <= 0.1,
                        "{detection:?} ratio {ratio} knee {knee} at {level} dB: gain {gain:.3} dB, \
                         formula {want:.3} dB"
                    );
                }
            }
        }
    }
    println!("static curve: worst error {worst:.4} dB");
}

/// Peak detection with a slow attack lets a short transient through and does not duck what
/// follows it: a one-sample click 12 dB over the threshold, in a quiet (−40 dBFS) signal, leaves
/// under 0.1 dB of reduction with a 10 ms attack. (A detector that holds the click's peak and
/// attacks towards it, as one that reads steady tones at their peak must, ducks the next 100 ms
/// by up to 7 dB.)
#[test]
fn peak_detection_lets_a_click_through() {
    let settings = hard(CompressorSettings {
        threshold_db: -20.0,
        ratio: 4.0,
        attack_ms: 10.0,
        release_ms: 100.0,
        detection: Detection::Peak,
        ..Default::default()
    });
    let mut input = vec![0.01f32; 24_000];
    input[1_000] = 10f32.powf(-8.0 / 20.0);
    let r = dc_reduction(settings, &input);
    let most = r[1_001..].iter().fold(0.0f64, |m, &x| m.max(x));
    assert!(most < 0.1, "{most:.2} dB of reduction after a click");
}

/// The reduction (dB) per sample of a positive signal, from output / input.
fn dc_reduction(settings: CompressorSettings, input: &[f32]) -> Vec<f64> {
    let (out, _) = run(settings, input, None, None, 64);
    out.iter()
        .zip(input)
        .map(|(&y, &x)| -db(y as f64 / x as f64))
        .collect()
}

/// The time for the reduction (in dB) to cover 63.2 % of a step, from the gain of a DC signal.
fn time_constant_ms(reduction_db: &[f64], from: usize, start_db: f64, end_db: f64) -> f64 {
    let target = start_db + (1.0 - (-1.0f64).exp()) * (end_db - start_db);
    let rising = end_db > start_db;
    let n = reduction_db[from..]
        .iter()
        .position(|&r| if rising { r >= target } else { r <= target })
        .expect("reaches 63 %");
    // Linear interpolation between the two samples around the crossing.
    let k = from + n;
    let (a, b) = (reduction_db[k - 1], reduction_db[k]);
    let frac = (target - a) / (b - a);
    ((n as f64 - 1.0) + frac + 1.0) * 1000.0 / FS as f64
}

/// A DC step from −40 dBFS (under the threshold) to 0 dBFS and back; returns the reduction (dB)
/// per sample, from output / input.
fn dc_step_reduction(settings: CompressorSettings, high_len: usize, len: usize) -> Vec<f64> {
    let input: Vec<f32> = (0..len)
        .map(|n| {
            if (1000..1000 + high_len).contains(&n) {
                1.0
            } else {
                0.01
            }
        })
        .collect();
    let (out, _) = run(settings, &input, None, None, 64);
    out.iter()
        .zip(&input)
        .map(|(&y, &x)| -db(y as f64 / x as f64))
        .collect()
}

#[test]
fn attack_and_release_time_constants_match() {
    for (attack, release) in [(1.0f32, 50.0f32), (10.0, 200.0), (50.0, 1000.0)] {
        let settings = hard(CompressorSettings {
            threshold_db: -20.0,
            ratio: f32::INFINITY,
            attack_ms: attack,
            release_ms: release,
            ..Default::default()
        });
        let high = (FS * 0.5) as usize;
        let r = dc_step_reduction(settings, high, 1000 + high + (FS * 6.0) as usize);
        let full = 20.0;
        let measured_attack = time_constant_ms(&r, 1000, 0.0, full);
        let start = r[1000 + high - 1];
        assert!((start - full).abs() < 0.01, "settled at {start}");
        let measured_release = time_constant_ms(&r, 1000 + high, full, 0.0);
        println!(
            "attack {attack} ms: {measured_attack:.3}; release {release}: {measured_release:.2}"
        );
        assert!(
            (measured_attack / attack as f64 - 1.0).abs() <= 0.05,
            "attack {attack} ms measured {measured_attack} ms"
        );
        assert!(
            (measured_release / release as f64 - 1.0).abs() <= 0.05,
            "release {release} ms measured {measured_release} ms"
        );
    }
}

#[test]
fn hold_delays_the_release() {
    let settings = hard(CompressorSettings {
        threshold_db: -20.0,
        ratio: f32::INFINITY,
        attack_ms: 1.0,
        release_ms: 50.0,
        hold_ms: 40.0,
        ..Default::default()
    });
    let high = 4800;
    let r = dc_step_reduction(settings, high, 1000 + high + 9600);
    let end = 1000 + high;
    let hold = (0.040 * FS) as usize;
    // Fully held for 40 ms, then the normal release.
    assert!(r[end + hold - 2] > 19.99, "{}", r[end + hold - 2]);
    let release = time_constant_ms(&r, end + hold, 20.0, 0.0);
    assert!(
        (release / 50.0 - 1.0).abs() < 0.05,
        "release after hold {release}"
    );
}

#[test]
fn auto_release_is_program_dependent() {
    let settings = hard(CompressorSettings {
        threshold_db: -20.0,
        ratio: f32::INFINITY,
        attack_ms: 1.0,
        release_ms: 100.0,
        auto_release: true,
        ..Default::default()
    });
    // A 10 ms transient recovers at about the set release ...
    let short = 480;
    let r = dc_step_reduction(settings, short, 1000 + short + 48_000);
    let peak = r[1000 + short - 1];
    let transient = time_constant_ms(&r, 1000 + short, peak, 0.0);
    // ... and 3 s of sustained reduction recovers much more slowly.
    let long = 144_000;
    let r = dc_step_reduction(settings, long, 1000 + long + 480_000);
    let sustained = time_constant_ms(&r, 1000 + long, 20.0, 0.0);
    println!("auto release: transient {transient:.1} ms, sustained {sustained:.1} ms");
    assert!((80.0..=130.0).contains(&transient), "{transient}");
    assert!(sustained > 3.0 * 100.0, "{sustained}");
    assert!(
        sustained < AUTO_SLOW_RELEASE as f64 * 100.0 * 1.2,
        "{sustained}"
    );
}

#[test]
fn range_limits_the_reduction_and_auto_makeup_follows_the_curve() {
    let settings = hard(CompressorSettings {
        threshold_db: -30.0,
        ratio: f32::INFINITY,
        range_db: 6.0,
        ..Default::default()
    });
    let r = dc_step_reduction(settings, 24_000, 30_000);
    assert!((r[24_000] - 6.0).abs() < 0.01, "{}", r[24_000]);

    // Threshold −20, 4:1: a 0 dBFS signal is reduced by 15 dB, auto makeup is +7.5 dB; below
    // the threshold the gain is exactly the makeup.
    let settings = hard(CompressorSettings {
        threshold_db: -20.0,
        ratio: 4.0,
        auto_makeup: true,
        makeup_db: 1.0,
        ..Default::default()
    });
    let input = vec![0.01f32; 9600];
    let (out, _) = run(settings, &input, None, None, 64);
    let gain = db(out[9000] as f64 / 0.01);
    assert!((gain - 8.5).abs() < 1e-4, "{gain}");
}

#[test]
fn mix_zero_and_ratio_one_give_the_delayed_input() {
    let left = noise(48_000, 1);
    let right = noise(48_000, 2);
    for mode in [StereoMode::LeftRight, StereoMode::MidSide] {
        for (label, settings) in [
            (
                "mix 0",
                CompressorSettings {
                    threshold_db: -40.0,
                    ratio: 10.0,
                    mix: 0.0,
                    lookahead_ms: 5.0,
                    stereo_mode: mode,
                    ..Default::default()
                },
            ),
            (
                "ratio 1",
                CompressorSettings {
                    threshold_db: -40.0,
                    ratio: 1.0,
                    lookahead_ms: 5.0,
                    stereo_mode: mode,
                    ..Default::default()
                },
            ),
        ] {
            let latency = Compressor::new(FS, settings).latency() as usize;
            assert_eq!(latency, 240);
            let (l, r) = run(settings, &left, Some(&right), None, 100);
            for (out, input) in [(&l, &left), (&r, &right)] {
                let error: Vec<f32> = out[latency..]
                    .iter()
                    .zip(&input[..input.len() - latency])
                    .map(|(a, b)| a - b)
                    .collect();
                let null = db(rms(&error) / rms(input));
                assert!(null <= -120.0, "{label} {mode:?}: null {null:.1} dB");
            }
        }
    }
}

#[test]
fn latency_equals_the_impulse_position() {
    for rate in [22_050.0f32, 44_100.0, 96_000.0, 384_000.0] {
        for lookahead in [0.0f32, 0.5, 3.0, 10.0] {
            let settings = CompressorSettings {
                lookahead_ms: lookahead,
                ratio: 1.0,
                ..Default::default()
            };
            let mut c = Compressor::new(rate, settings);
            let latency = c.latency() as usize;
            assert_eq!(
                latency,
                (lookahead as f64 * rate as f64 / 1000.0).round() as usize
            );
            let mut l = vec![0.0f32; latency + 10];
            l[0] = 1.0;
            let mut r = l.clone();
            c.process(&mut l, &mut r, None);
            let at = l.iter().position(|&x| x != 0.0).unwrap();
            assert_eq!(at, latency, "{rate} Hz, {lookahead} ms");
            assert_eq!(l[at], 1.0);
        }
    }
}

#[test]
fn lookahead_reduces_before_the_onset() {
    let base = hard(CompressorSettings {
        threshold_db: -20.0,
        ratio: f32::INFINITY,
        attack_ms: 1.0,
        ..Default::default()
    });
    let input: Vec<f32> = (0..9600)
        .map(|n| if n >= 4800 { 1.0 } else { 0.0 })
        .collect();
    let (plain, _) = run(base, &input, None, None, 64);
    let ahead = CompressorSettings {
        lookahead_ms: 5.0,
        ..base
    };
    let (early, _) = run(ahead, &input, None, None, 64);
    // Without lookahead the onset passes almost at full level (one sample of a 1 ms attack:
    // 0.4 dB); with 5 ms (5 attack time constants) the reduction is already at 99 % (−19.9 dB of
    // 20) when the onset comes out.
    assert!(db(plain[4800] as f64) > -0.5, "{}", db(plain[4800] as f64));
    let onset = 4800 + 240;
    assert!(
        db(early[onset] as f64) < -19.8,
        "{}",
        db(early[onset] as f64)
    );
}

/// −20 dB threshold, ∞:1, hard knee, with a hold across a tone's troughs: a steady tone comes out
/// exactly at the threshold.
fn brick_wall_for_tones() -> CompressorSettings {
    hard(CompressorSettings {
        threshold_db: -20.0,
        ratio: f32::INFINITY,
        attack_ms: 1.0,
        release_ms: 300.0,
        hold_ms: 5.0,
        ..Default::default()
    })
}

#[test]
fn stereo_link_and_mid_side() {
    let loud = sine(FS as f64, 500.0, 0.0, 1.0, 24_000);
    let quiet = sine(FS as f64, 700.0, 0.0, 0.01, 24_000);
    let base = brick_wall_for_tones();
    let tail = 19_200..24_000;
    let gain = |out: &[f32], input: &[f32]| db(rms(&out[tail.clone()]) / rms(&input[tail.clone()]));
    // Linked: the quiet channel gets the loud one's 20 dB; unlinked: it is untouched.
    let (l, r) = run(base, &loud, Some(&quiet), None, 256);
    assert!((gain(&l, &loud) + 20.0).abs() < 0.1);
    assert!((gain(&r, &quiet) + 20.0).abs() < 0.1);
    let (_, r) = run(
        CompressorSettings {
            stereo_link: 0.0,
            ..base
        },
        &loud,
        Some(&quiet),
        None,
        256,
    );
    assert!(gain(&r, &quiet).abs() < 1e-3);
    let (_, r) = run(
        CompressorSettings {
            stereo_link: 0.5,
            ..base
        },
        &loud,
        Some(&quiet),
        None,
        256,
    );
    assert!((gain(&r, &quiet) + 10.0).abs() < 0.1);

    // M/S, unlinked: loud side (L = −R), quiet mid: only the side is compressed.
    let left: Vec<f32> = loud.iter().zip(&quiet).map(|(s, m)| m + s).collect();
    let right: Vec<f32> = loud.iter().zip(&quiet).map(|(s, m)| m - s).collect();
    let (l, r) = run(
        CompressorSettings {
            stereo_mode: StereoMode::MidSide,
            stereo_link: 0.0,
            ..base
        },
        &left,
        Some(&right),
        None,
        256,
    );
    let mid: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
    let side: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a - b)).collect();
    assert!(
        gain(&mid, &quiet).abs() < 1e-3,
        "mid {}",
        gain(&mid, &quiet)
    );
    assert!(
        (gain(&side, &loud) + 20.0).abs() < 0.1,
        "side {}",
        gain(&side, &loud)
    );
}

#[test]
fn external_sidechain_drives_the_reduction() {
    let main = sine(FS as f64, 440.0, 0.0, 0.03, 24_000); // −30 dB: under the threshold
    let key = sine(FS as f64, 1000.0, 0.0, 1.0, 24_000);
    let silent = vec![0.0f32; 24_000];
    let base = brick_wall_for_tones();
    let tail = 19_200..24_000;
    let gain = |out: &[f32]| db(rms(&out[tail.clone()]) / rms(&main[tail.clone()]));
    let external = CompressorSettings {
        external_sidechain: true,
        ..base
    };
    // The key is 20 dB over the threshold: the quiet main signal is reduced by 20 dB.
    let (l, _) = run(external, &main, None, Some((&key, &key)), 128);
    assert!((gain(&l) + 20.0).abs() < 0.1, "{}", gain(&l));
    // Internal detection: the quiet signal alone is not reduced.
    let (l, _) = run(base, &main, None, Some((&key, &key)), 128);
    assert!(gain(&l).abs() < 1e-4);
    // External with a silent key, or none given: no reduction, even for a loud main signal.
    let loud = sine(FS as f64, 440.0, 0.0, 1.0, 24_000);
    let (l, _) = run(external, &loud, None, Some((&silent, &silent)), 128);
    assert_identical(&l, &loud, "silent key");
    let (l, _) = run(external, &loud, None, None, 128);
    assert_identical(&l, &loud, "no key");
}

#[test]
fn sidechain_filters_and_listen() {
    // Listen plays the filtered key: a 100 Hz key through the 1 kHz, 12 dB/oct high-pass comes out
    // at the analog Butterworth magnitude 1/√(1 + (fc/f)⁴) = −40.0 dB (bilinear warping at
    // 48 kHz moves this by < 0.01 dB).
    let key = sine(FS as f64, 100.0, 0.0, 0.5, 48_000);
    let main = noise(48_000, 3);
    let settings = CompressorSettings {
        external_sidechain: true,
        sidechain_highpass: true,
        sidechain_highpass_hz: 1000.0,
        sidechain_listen: true,
        ..Default::default()
    };
    let (l, _) = run(settings, &main, None, Some((&key, &key)), 128);
    let tail = 24_000..48_000;
    let got = db(rms(&l[tail.clone()]) / rms(&key[tail.clone()]));
    let want = -10.0 * (1.0f64 + (1000.0f64 / 100.0).powi(4)).log10();
    assert!((got - want).abs() < 0.05, "high-pass {got:.3} vs {want:.3}");

    let settings = CompressorSettings {
        sidechain_highpass: false,
        sidechain_lowpass: true,
        sidechain_lowpass_hz: 500.0,
        ..settings
    };
    let key = sine(FS as f64, 5000.0, 0.0, 0.5, 48_000);
    let (l, _) = run(settings, &main, None, Some((&key, &key)), 128);
    let got = db(rms(&l[tail.clone()]) / rms(&key[tail]));
    let want = -10.0 * (1.0f64 + (5000.0f64 / 500.0).powi(4)).log10();
    // The bilinear transform's zero at Nyquist deepens the low-pass at 5 kHz a little.
    assert!(
        got < want + 0.05 && got > want - 1.0,
        "low-pass {got:.3} vs {want:.3}"
    );

    // A bass key filtered away no longer triggers the compressor.
    let bass = sine(FS as f64, 60.0, 0.0, 1.0, 48_000);
    let quiet = sine(FS as f64, 440.0, 0.0, 0.03, 48_000);
    let detect = CompressorSettings {
        external_sidechain: true,
        threshold_db: -20.0,
        ratio: f32::INFINITY,
        knee_db: 0.0,
        ..Default::default()
    };
    let (unfiltered, _) = run(detect, &quiet, None, Some((&bass, &bass)), 128);
    let filtered_settings = CompressorSettings {
        sidechain_highpass: true,
        sidechain_highpass_hz: 1000.0,
        ..detect
    };
    let (filtered, _) = run(filtered_settings, &quiet, None, Some((&bass, &bass)), 128);
    let t = 24_000..48_000;
    let g = |o: &[f32]| db(rms(&o[t.clone()]) / rms(&quiet[t.clone()]));
    assert!(g(&unfiltered) < -15.0, "{}", g(&unfiltered));
    assert!(g(&filtered).abs() < 1e-3, "{}", g(&filtered));
}

#[test]
fn output_is_independent_of_block_size_and_reset_reproduces_it() {
    let left = noise(20_000, 4);
    let right = noise(20_000, 5);
    let settings = CompressorSettings {
        threshold_db: -30.0,
        ratio: 6.0,
        attack_ms: 2.0,
        release_ms: 80.0,
        auto_release: true,
        hold_ms: 3.0,
        lookahead_ms: 2.0,
        mix: 0.7,
        stereo_link: 0.6,
        detection: Detection::Rms,
        stereo_mode: StereoMode::MidSide,
        ..Default::default()
    };
    let (want_l, want_r) = run(settings, &left, Some(&right), None, 20_000);
    for block in [1, 7, 64, 65, 999] {
        let (l, r) = run(settings, &left, Some(&right), None, block);
        assert_identical(&l, &want_l, "left");
        assert_identical(&r, &want_r, "right");
    }
    let mut c = Compressor::new(FS, settings);
    let (mut l, mut r) = (left.clone(), right.clone());
    c.process(&mut l, &mut r, None);
    c.reset();
    let (mut l, mut r) = (left.clone(), right.clone());
    c.process(&mut l, &mut r, None);
    assert_identical(&l, &want_l, "after reset");
    assert_identical(&r, &want_r, "after reset");
}

#[test]
fn silence_stays_silent_and_nan_does_not_stick() {
    let settings = CompressorSettings {
        threshold_db: -40.0,
        lookahead_ms: 1.0,
        detection: Detection::Rms,
        sidechain_highpass: true,
        ..Default::default()
    };
    let mut c = Compressor::new(FS, settings);
    let mut loud = noise(48_000, 6);
    let mut loud_r = loud.clone();
    c.process(&mut loud, &mut loud_r, None);
    let mut l = vec![0.0f32; 480_000];
    let mut r = l.clone();
    l[100] = f32::NAN;
    r[200] = f32::INFINITY;
    c.process(&mut l, &mut r, None);
    // The loud tail fades, then everything is exact zeros: no NaN, no denormals.
    for x in l[48_000..].iter().chain(&r[48_000..]) {
        assert_eq!(*x, 0.0);
    }
    assert!(l.iter().chain(&r).all(|x| x.is_finite()));
    assert_eq!(c.reduction_db(), [0.0, 0.0]);
}
