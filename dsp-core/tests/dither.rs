//! Dither measured against quantisation theory: the TPDF noise floor, noise modulation,
//! harmonics of a −90 dBFS sine (with plain rounding as the control that shows them), the
//! shaping gain in the 1–5 kHz region, the output grid and auto-blank.

mod common;

use common::power_spectrum;
use dsp_core::dither::{Dither, DitherKind, DitherSettings, NoiseShaping};
use std::f64::consts::PI;

const FS: f32 = 44_100.0;

fn settings(bits: u32, kind: DitherKind, shaping: NoiseShaping) -> DitherSettings {
    DitherSettings {
        bits,
        kind,
        shaping,
        auto_blank: false,
    }
}

fn sine(hz: f64, db: f64, len: usize) -> Vec<f32> {
    let amplitude = 10f64.powf(db / 20.0);
    (0..len)
        .map(|n| (amplitude * (2.0 * PI * hz * n as f64 / FS as f64 + 0.3).sin()) as f32)
        .collect()
}

/// Runs one channel through a fresh dither; returns the output.
fn run(settings: DitherSettings, input: &[f32]) -> Vec<f32> {
    let mut dither = Dither::new(FS, 1, settings, 42);
    let mut output = input.to_vec();
    for block in output.chunks_mut(512) {
        dither.process(&mut [block]);
    }
    output
}

fn error(input: &[f32], output: &[f32]) -> Vec<f64> {
    input
        .iter()
        .zip(output)
        .map(|(&x, &y)| y as f64 - x as f64)
        .collect()
}

fn rms_db(values: &[f64]) -> f64 {
    10.0 * (values.iter().map(|v| v * v).sum::<f64>() / values.len() as f64).log10()
}

/// Flat 16-bit TPDF: total error RMS is q/2, i.e. −96.3 dBFS (±0.2 dB).
#[test]
fn tpdf_16_bit_floor() {
    let input = sine(997.0, -20.0, 441_000);
    let output = run(settings(16, DitherKind::Tpdf, NoiseShaping::None), &input);
    let floor = rms_db(&error(&input, &output));
    let theory = 20.0 * (2f64.powi(-15) / 2.0).log10();
    assert!((theory + 96.33).abs() < 0.01);
    assert!(
        (floor - theory).abs() < 0.2,
        "floor {floor:.2} dBFS, theory {theory:.2}"
    );
}

/// Every output sample is an exact multiple of the target LSB, for every word length, dither
/// and shaping.
#[test]
fn output_is_on_the_grid() {
    let input: Vec<f32> = dsp_core::noise::PinkNoise::generate(3, 20_000, 1.2);
    for bits in [8, 12, 16, 20, 24] {
        for kind in [
            DitherKind::None,
            DitherKind::Rpdf,
            DitherKind::Tpdf,
            DitherKind::HighPassTpdf,
        ] {
            for shaping in [
                NoiseShaping::None,
                NoiseShaping::FirstOrder,
                NoiseShaping::FWeighted,
                NoiseShaping::ModifiedEWeighted,
            ] {
                let output = run(settings(bits, kind, shaping), &input);
                let steps = 2f64.powi(bits as i32 - 1);
                for &y in &output {
                    let k = y as f64 * steps;
                    assert_eq!(k, k.round(), "{bits} bits {kind:?} {shaping:?}: {y}");
                    assert!((-1.0..1.0).contains(&y));
                }
            }
        }
    }
}

/// Noise modulation: the error power of a −90 dBFS 1 kHz sine, measured per phase of the sine
/// (16 bins), varies by less than 0.5 dB with TPDF; with RPDF (the control) it varies by more.
#[test]
fn tpdf_has_no_noise_modulation() {
    let hz = 1000.0;
    let input = sine(hz, -90.0, 441_000 * 2);
    let modulation = |kind| {
        let output = run(settings(16, kind, NoiseShaping::None), &input);
        let errors = error(&input, &output);
        let mut bins = [(0.0f64, 0usize); 16];
        for (n, e) in errors.iter().enumerate() {
            let phase = (hz * n as f64 / FS as f64 + 0.3 / (2.0 * PI)).fract();
            let bin = &mut bins[(phase * 16.0) as usize % 16];
            bin.0 += e * e;
            bin.1 += 1;
        }
        let db: Vec<f64> = bins
            .iter()
            .map(|(p, c)| 10.0 * (p / *c as f64).log10())
            .collect();
        db.iter().cloned().fold(f64::MIN, f64::max) - db.iter().cloned().fold(f64::MAX, f64::min)
    };
    let tpdf = modulation(DitherKind::Tpdf);
    let rpdf = modulation(DitherKind::Rpdf);
    assert!(tpdf < 0.5, "TPDF noise modulation {tpdf:.2} dB");
    assert!(
        rpdf > 1.0,
        "the control (RPDF) should modulate: {rpdf:.2} dB"
    );
}

/// A −90 dBFS sine at 16 bits: with TPDF no harmonic rises above the noise floor in a long FFT;
/// plain rounding (the control) shows them far above it.
#[test]
fn no_harmonics_with_tpdf() {
    let n = 65_536;
    let bin = 1486; // 999.96 Hz, exactly on a bin
    let hz = bin as f64 * FS as f64 / n as f64;
    let input = sine(hz, -90.0, n * 8);
    let harmonic_excess = |kind| {
        let output = run(settings(16, kind, NoiseShaping::None), &input);
        let spectrum = power_spectrum(&output.iter().map(|&y| y as f64).collect::<Vec<_>>(), n);
        let mut worst = f64::MIN;
        for h in 2..=10 {
            let k = h * bin;
            // Floor: median of the bins around the harmonic, away from it.
            let mut around: Vec<f64> = (k - 200..k - 10)
                .chain(k + 10..k + 200)
                .map(|i| spectrum[i])
                .collect();
            around.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let floor = around[around.len() / 2];
            let peak = spectrum[k - 2..=k + 2].iter().cloned().fold(0.0, f64::max);
            worst = worst.max(10.0 * (peak / floor).log10());
        }
        worst
    };
    let dithered = harmonic_excess(DitherKind::Tpdf);
    let rounded = harmonic_excess(DitherKind::None);
    // Averaging 8 frames leaves some scatter: 8 dB above the median floor is noise, not a tone.
    assert!(
        dithered < 8.0,
        "TPDF: a harmonic {dithered:.1} dB above the floor"
    );
    assert!(
        rounded > 20.0,
        "control: rounding should show harmonics ({rounded:.1} dB)"
    );
}

/// Shaped dither lowers the error in the 1–5 kHz region by at least 12 dB against flat TPDF (at
/// 44.1 kHz, the rate the filters are designed for). First-order shaping only tilts.
#[test]
fn shaping_lowers_the_sensitive_region() {
    let n = 8192;
    let input: Vec<f32> = dsp_core::noise::PinkNoise::generate(9, n * 32, 0.01);
    let band_db = |shaping| {
        let output = run(settings(16, DitherKind::Tpdf, shaping), &input);
        let spectrum = power_spectrum(&error(&input, &output), n);
        let (lo, hi) = (1000 * n / FS as usize, 5000 * n / FS as usize);
        10.0 * (spectrum[lo..hi].iter().sum::<f64>() / (hi - lo) as f64).log10()
    };
    let flat = band_db(NoiseShaping::None);
    for shaping in [NoiseShaping::FWeighted, NoiseShaping::ModifiedEWeighted] {
        let shaped = band_db(shaping);
        assert!(
            flat - shaped >= 12.0,
            "{shaping:?}: only {:.1} dB lower",
            flat - shaped
        );
    }
}

/// Digital silence in gives exact silence out (after the blanking delay) with auto-blank; the
/// first non-zero input resumes dithering. A programme that opens with silence opens with exact
/// zeros, also after a reset, and from its first sound is dithered exactly as if it had started
/// there. Without auto-blank, silence is dithered.
#[test]
fn auto_blank() {
    let blanking = DitherSettings {
        auto_blank: true,
        ..settings(16, DitherKind::Tpdf, NoiseShaping::FWeighted)
    };
    let sound = sine(440.0, -30.0, 4_410);
    let mut opening = vec![0.0f32; 22_050];
    opening.extend(&sound);
    let mut dither = Dither::new(FS, 1, blanking, 3);
    let mut output = opening.clone();
    dither.process(&mut [&mut output]);
    assert!(output[..22_050].iter().all(|&y| y == 0.0));
    let mut started_there = sound.clone();
    Dither::new(FS, 1, blanking, 3).process(&mut [&mut started_there]);
    assert_eq!(output[22_050..], started_there[..]);
    dither.reset();
    let mut output = opening.clone();
    dither.process(&mut [&mut output]);
    assert!(output[..22_050].iter().all(|&y| y == 0.0));
    assert!(output[22_050..].iter().any(|&y| y != 0.0));
    let mut input = sine(440.0, -30.0, 44_100);
    input.extend(std::iter::repeat_n(0.0, 44_100));
    input.extend(sine(440.0, -30.0, 4_410));
    let output = run(blanking, &input);
    let blank_from = 44_100 + (0.25 * 44_100.0) as usize + 1;
    assert!(output[blank_from..88_200].iter().all(|&y| y == 0.0));
    assert!(output[88_200..].iter().any(|&y| y != 0.0));
    let unblanked = run(settings(16, DitherKind::Tpdf, NoiseShaping::None), &input);
    assert!(unblanked[blank_from..88_200].iter().any(|&y| y != 0.0));
}

/// A filter's tail decaying towards zero after the music counts as silence once it is under
/// 1/256 LSB (−138 dBFS at 16 bits), so the output blanks 250 ms later rather than dithering the
/// whole f32 decay. A steady signal at a tenth of an LSB (−110 dBFS) is far above that: it is
/// dithered throughout and carried at its level (it is why there is dither at all).
#[test]
fn auto_blank_treats_a_decaying_tail_as_silence() {
    let blanking = DitherSettings {
        auto_blank: true,
        ..settings(16, DitherKind::Tpdf, NoiseShaping::FWeighted)
    };
    let lsb = 2f64.powi(-15);
    let mut input = sine(440.0, -30.0, 44_100);
    // An exponential tail from −60 dBFS, 8.7 dB per 10 ms, for 0.5 s (to −490 dBFS: f32 keeps
    // it non-zero).
    let tail: Vec<f32> = (0..22_050)
        .map(|n| {
            let t = n as f64 / FS as f64;
            (1e-3 * (-t / 0.01).exp() * (2.0 * PI * 50.0 * t).cos()) as f32
        })
        .collect();
    let quiet_from = tail
        .iter()
        .rposition(|&x| x.abs() as f64 >= lsb / 256.0)
        .unwrap()
        + 1;
    assert!(
        tail[22_049] != 0.0,
        "the tail must still be non-zero at its end"
    );
    input.extend(&tail);
    let output = run(blanking, &input);
    let blank_from = 44_100 + quiet_from + (0.25 * 44_100.0) as usize + 1;
    assert!(output[blank_from..].iter().all(|&y| y == 0.0));
    assert!(output[blank_from - 4_410..blank_from - 1]
        .iter()
        .any(|&y| y != 0.0));
    // The blanking starts within 0.45 s of the tail's start (−60 dBFS), not after the f32 decay.
    assert!(
        blank_from - 44_100 < (0.45 * 44_100.0) as usize,
        "{blank_from}"
    );

    let faint = sine(997.0, -110.0, 88_200);
    let output = run(blanking, &faint);
    for window in output.chunks(4_410) {
        assert!(window.iter().any(|&y| y != 0.0));
    }
    // The tone's level read back from the output by correlation: within 1 dB of −110 dBFS.
    let (mut xy, mut xx) = (0.0f64, 0.0f64);
    for (&x, &y) in faint.iter().zip(&output) {
        xy += x as f64 * y as f64;
        xx += x as f64 * x as f64;
    }
    let level_db = 20.0 * (xy / xx).log10();
    assert!(
        level_db.abs() < 1.0,
        "gain of the faint tone {level_db:.2} dB"
    );
}

/// Each channel gets its own noise: the errors of two channels fed the same signal are
/// uncorrelated.
#[test]
fn channels_are_independent() {
    let input = sine(997.0, -40.0, 100_000);
    let mut left = input.clone();
    let mut right = input.clone();
    let mut dither = Dither::new(FS, 2, settings(16, DitherKind::Tpdf, NoiseShaping::None), 7);
    dither.process(&mut [&mut left, &mut right]);
    let (el, er) = (error(&input, &left), error(&input, &right));
    let dot: f64 = el.iter().zip(&er).map(|(a, b)| a * b).sum();
    let norm =
        (el.iter().map(|a| a * a).sum::<f64>() * er.iter().map(|b| b * b).sum::<f64>()).sqrt();
    assert!((dot / norm).abs() < 0.02, "correlation {}", dot / norm);
}

/// The psychoacoustic filters are designed for 44.1 kHz: at 48 kHz they are used, above 50 kHz
/// they fall back to first-order shaping (their notch would sit above the sensitive region).
#[test]
fn shaping_adapts_to_the_rate() {
    let input: Vec<f32> = dsp_core::noise::PinkNoise::generate(5, 20_000, 0.1);
    let at = |rate: f32, shaping| {
        let mut dither = Dither::new(rate, 1, settings(16, DitherKind::Tpdf, shaping), 1);
        let mut output = input.clone();
        dither.process(&mut [&mut output]);
        output
    };
    for shaping in [NoiseShaping::FWeighted, NoiseShaping::ModifiedEWeighted] {
        assert_eq!(
            at(96_000.0, shaping),
            at(96_000.0, NoiseShaping::FirstOrder)
        );
        assert_ne!(
            at(48_000.0, shaping),
            at(48_000.0, NoiseShaping::FirstOrder)
        );
    }
}

/// The response the editor draws is the one the noise has: the measured error spectrum of
/// F-weighted shaping follows `shaping_response_db` (band averages within 1 dB).
#[test]
fn drawn_response_matches_the_noise() {
    use dsp_core::dither::shaping_response_db;
    let n = 4096;
    let input: Vec<f32> = dsp_core::noise::PinkNoise::generate(4, n * 64, 0.01);
    let shaped = run(
        settings(16, DitherKind::Tpdf, NoiseShaping::FWeighted),
        &input,
    );
    let flat = run(settings(16, DitherKind::Tpdf, NoiseShaping::None), &input);
    let s_shaped = power_spectrum(&error(&input, &shaped), n);
    let s_flat = power_spectrum(&error(&input, &flat), n);
    for (lo, hi) in [
        (500.0, 1500.0),
        (3000.0, 4000.0),
        (8000.0, 10000.0),
        (15000.0, 18000.0),
    ] {
        let (a, b) = (
            (lo * n as f64 / FS as f64) as usize,
            (hi * n as f64 / FS as f64) as usize,
        );
        let measured =
            10.0 * (s_shaped[a..b].iter().sum::<f64>() / s_flat[a..b].iter().sum::<f64>()).log10();
        let predicted = 10.0
            * ((a..b)
                .map(|k| {
                    10f64.powf(
                        shaping_response_db(
                            NoiseShaping::FWeighted,
                            FS,
                            (k as f64 * FS as f64 / n as f64) as f32,
                        ) as f64
                            / 10.0,
                    )
                })
                .sum::<f64>()
                / (b - a) as f64)
                .log10();
        assert!(
            (measured - predicted).abs() < 1.0,
            "{lo}-{hi} Hz: measured {measured:.1} dB, drawn {predicted:.1} dB"
        );
    }
}
