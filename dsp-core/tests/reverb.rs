//! Reverb: decay times measured by Schroeder backward integration on octave-filtered impulse
//! responses (ISO 3382 T30), echo density (Abel & Huang), freeze, silence and transparency.
//! The octave filters and the measurements are written here, in `f64`, from their
//! definitions.

use dsp_core::reverb::{Reverb, ReverbSettings};

mod common;
use common::{assert_identical, noise};

/// A second-order section from the bilinear transform (pre-warped), `f64`.
struct Section {
    b: [f64; 3],
    a: [f64; 2],
    s: [f64; 2],
}

impl Section {
    /// Butterworth-family high- or low-pass at `hz` with quality `q`.
    fn new(fs: f64, hz: f64, q: f64, high: bool) -> Self {
        let w = 2.0 * std::f64::consts::PI * hz / fs;
        let (cos, alpha) = (w.cos(), w.sin() / (2.0 * q));
        let a0 = 1.0 + alpha;
        let b = if high {
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0]
        } else {
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0]
        };
        Self {
            b: b.map(|v| v / a0),
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
            s: [0.0; 2],
        }
    }

    fn run(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.s[0];
        self.s[0] = self.b[1] * x - self.a[0] * y + self.s[1];
        self.s[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// The octave band around `centre`: 4th-order Butterworth high-pass at `centre/√2` and low-pass
/// at `centre·√2` (IEC 61260-like band edges).
fn octave(signal: &[f32], fs: f64, centre: f64) -> Vec<f64> {
    let (q1, q2) = (0.541_196_1, 1.306_563);
    let edge = std::f64::consts::SQRT_2;
    let mut sections = [
        Section::new(fs, centre / edge, q1, true),
        Section::new(fs, centre / edge, q2, true),
        Section::new(fs, centre * edge, q1, false),
        Section::new(fs, centre * edge, q2, false),
    ];
    signal
        .iter()
        .map(|&x| sections.iter_mut().fold(x as f64, |v, s| s.run(v)))
        .collect()
}

/// T30 (s): the Schroeder energy decay curve (of both channels' energy) least-squares slope
/// between −5 and −35 dB, extrapolated to 60 dB.
fn t30(h: &[Vec<f64>; 2], fs: f64) -> f64 {
    let len = h[0].len();
    let mut edc = vec![0.0; len];
    let mut acc = 0.0;
    for i in (0..len).rev() {
        acc += h[0][i] * h[0][i] + h[1][i] * h[1][i];
        edc[i] = acc;
    }
    let total = edc[0];
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &e) in edc.iter().enumerate() {
        let level = 10.0 * (e / total).log10();
        if (-35.0..=-5.0).contains(&level) {
            let t = i as f64 / fs;
            n += 1.0;
            sx += t;
            sy += level;
            sxx += t * t;
            sxy += t * level;
        }
    }
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    -60.0 / slope
}

fn wet(settings: ReverbSettings) -> ReverbSettings {
    ReverbSettings {
        mix: 1.0,
        predelay_ms: 0.0,
        ..settings
    }
}

/// The impulse responses (left, right), `seconds` long, of a reverb fed a unit impulse on both
/// sides.
fn impulse_response(settings: ReverbSettings, fs: f32, seconds: f64) -> [Vec<f32>; 2] {
    let mut reverb = Reverb::new(fs, settings);
    let len = (seconds * fs as f64) as usize;
    let mut left = vec![0.0f32; len];
    let mut right = vec![0.0f32; len];
    left[0] = 1.0;
    right[0] = 1.0;
    for (l, r) in left.chunks_mut(256).zip(right.chunks_mut(256)) {
        reverb.process(l, r);
    }
    [left, right]
}

/// Both channels in the octave band around `centre`.
fn octaves(h: &[Vec<f32>; 2], fs: f64, centre: f64) -> [Vec<f64>; 2] {
    [octave(&h[0], fs, centre), octave(&h[1], fs, centre)]
}

/// The late tail decays in T30 within ±5% of the set decay in the 500 Hz, 1 kHz and 2 kHz
/// octaves, for decays of 0.3–20 s and sizes 0–1 (multipliers at 1, default modulation).
#[test]
fn t30_matches_the_set_decay() {
    let fs = 48_000.0;
    for size in [0.0, 0.6, 1.0] {
        for decay in [0.3f32, 1.0, 3.0, 8.0, 20.0] {
            let settings = wet(ReverbSettings {
                size,
                decay_s: decay,
                low_mult: 1.0,
                high_mult: 1.0,
                early_late: 1.0,
                ..Default::default()
            });
            let h = impulse_response(settings, fs, 0.75 * decay as f64 + 0.3);
            for centre in [500.0, 1_000.0, 2_000.0] {
                let measured = t30(&octaves(&h, fs as f64, centre), fs as f64);
                let error = measured / decay as f64 - 1.0;
                assert!(
                    error.abs() <= 0.05,
                    "size {size}, decay {decay} s, {centre} Hz: T30 {measured:.3} s"
                );
            }
        }
    }
}

/// The T30 an octave band shows when the decay time varies across it: energy decays as
/// `exp(−13.8·t/T(f))` at each frequency (flat input spectrum), the band's Schroeder curve is the
/// sum over the band weighted by the octave filter's response, and T30 is fitted to it as to a
/// measurement. `decay(f)` is the design's RT60 at `f`.
fn expected_t30(decay: impl Fn(f64) -> f64, centre: f64) -> f64 {
    let bins: Vec<(f64, f64)> = (0..400)
        .map(|i| {
            let hz = centre / 4.0 * 16f64.powf(i as f64 / 399.0);
            // The 4th-order Butterworth band-pass magnitude² and the bin's width (∝ hz).
            let (lo, hi) = (
                centre / std::f64::consts::SQRT_2,
                centre * std::f64::consts::SQRT_2,
            );
            let band = 1.0 / (1.0 + (lo / hz).powi(8)) / (1.0 + (hz / hi).powi(8));
            (band * hz, decay(hz))
        })
        .collect();
    let step = 1e-3;
    let curve: Vec<f64> = (0..200_000)
        .map(|i| {
            let t = i as f64 * step;
            bins.iter()
                .map(|&(w, rt)| w * rt * (-13.8155 * t / rt).exp())
                .sum()
        })
        .take_while(|&e| e > 0.0)
        .collect();
    let total = curve[0];
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &e) in curve.iter().enumerate() {
        let level = 10.0 * (e / total).log10();
        if level < -35.0 {
            break;
        }
        if level <= -5.0 {
            let t = i as f64 * step;
            (n, sx, sy, sxx, sxy) = (n + 1.0, sx + t, sy + level, sxx + t * t, sxy + t * level);
        }
    }
    -60.0 / ((n * sxy - sx * sy) / (n * sxx - sx * sx))
}

/// Low and high multipliers move the low and high octaves. Measured T30 per octave (63 Hz to
/// 16 kHz) is within ±7% of what the design's decay curve predicts for that octave (see
/// [`expected_t30`]); the 1 kHz octave stays at the set decay (±5%); the 63 Hz octave decays
/// at least 1.7× as long as the mid (multiplier 2) and the 16 kHz octave at most 0.55× (0.4).
#[test]
fn decay_multipliers_shift_low_and_high_octaves() {
    let fs = 48_000.0;
    let settings = wet(ReverbSettings {
        decay_s: 2.0,
        low_mult: 2.0,
        low_xover_hz: 250.0,
        high_mult: 0.4,
        high_xover_hz: 3_000.0,
        damping: 0.0,
        early_late: 1.0,
        ..Default::default()
    });
    let h = impulse_response(settings, fs, 4.5);
    let t = |centre: f64| t30(&octaves(&h, fs as f64, centre), fs as f64);
    for centre in [
        63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4_000.0, 8_000.0, 16_000.0,
    ] {
        let expected = expected_t30(|hz| settings.decay_at(fs, hz), centre);
        let measured = t(centre);
        assert!(
            (measured / expected - 1.0).abs() <= 0.07,
            "{centre} Hz: T30 {measured:.3} s, expected {expected:.3} s"
        );
    }
    assert!(
        (t(1_000.0) / 2.0 - 1.0).abs() <= 0.05,
        "1 kHz: {}",
        t(1_000.0)
    );
    assert!(t(63.0) >= 1.7 * 2.0, "63 Hz: {}", t(63.0));
    assert!(t(16_000.0) <= 0.55 * 2.0, "16 kHz: {}", t(16_000.0));
}

/// Normalized echo density (Abel & Huang, AES 121st Convention, 2006): the share of samples
/// outside one standard deviation in a 20 ms window, over erfc(1/√2). A Gaussian (diffuse)
/// tail gives 1. With the default settings it gets there within 100 ms.
#[test]
fn echo_density_reaches_a_diffuse_tail_within_100_ms() {
    let fs = 48_000.0;
    let settings = wet(ReverbSettings::default());
    let [h, _] = impulse_response(settings, fs, 0.3);
    let ned = |centre_ms: f64| {
        let centre = (centre_ms * 1e-3 * fs as f64) as usize;
        let half = (0.01 * fs as f64) as usize;
        let w = &h[centre - half..centre + half];
        let sigma = (w.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
        let outside = w.iter().filter(|v| (v.abs() as f64) > sigma).count();
        outside as f64 / w.len() as f64 / 0.317_310_507_862_9
    };
    for at in [100.0, 150.0, 250.0] {
        let d = ned(at);
        assert!((0.9..=1.1).contains(&d), "NED at {at} ms: {d:.3}");
    }
}

/// After loud input, 60 s of silence: every output finite and never subnormal, and with a 2 s
/// decay the output has reached exact zero.
#[test]
fn silence_after_loud_input_stays_clean() {
    let fs = 48_000.0;
    for decay in [2.0, 20.0] {
        let mut reverb = Reverb::new(
            fs,
            wet(ReverbSettings {
                decay_s: decay,
                ..Default::default()
            }),
        );
        let mut left = noise(48_000, 1).iter().map(|v| v * 4.0).collect::<Vec<_>>();
        let mut right = noise(48_000, 2);
        reverb.process(&mut left, &mut right);
        let mut last = 0.0f32;
        for _ in 0..60 {
            let (mut l, mut r) = (vec![0.0f32; 48_000], vec![0.0f32; 48_000]);
            reverb.process(&mut l, &mut r);
            for v in l.iter().chain(&r) {
                assert!(v.is_finite() && !v.is_subnormal(), "{decay} s: {v}");
            }
            last = l.iter().chain(&r).fold(0.0f32, |m, v| m.max(v.abs()));
        }
        if decay == 2.0 {
            assert_eq!(last, 0.0, "still {last} after 60 s");
        }
    }
}

/// Freeze keeps the tail's energy (±0.5 dB over 10 s, in 1 s windows) while the input keeps
/// coming (and is kept out).
#[test]
fn freeze_holds_the_energy() {
    let fs = 48_000.0;
    let mut settings = wet(ReverbSettings {
        decay_s: 3.0,
        early_late: 1.0,
        ..Default::default()
    });
    let mut reverb = Reverb::new(fs, settings);
    let second = 48_000;
    let (mut l, mut r) = (noise(second, 3), noise(second, 4));
    reverb.process(&mut l, &mut r);
    settings.freeze = true;
    reverb.set_settings(&settings);
    assert_eq!(reverb.tail_samples(), None);
    let mut levels = Vec::new();
    for k in 0..11 {
        let (mut l, mut r) = (noise(second, 10 + k), noise(second, 40 + k));
        reverb.process(&mut l, &mut r);
        let energy: f64 = l.iter().chain(&r).map(|v| (*v as f64).powi(2)).sum();
        levels.push(10.0 * energy.log10());
    }
    // The first second lets the freeze glide in.
    for (k, level) in levels.iter().enumerate().skip(2) {
        assert!(
            (level - levels[1]).abs() <= 0.5,
            "second {k}: {:.2} dB vs {:.2} dB",
            level,
            levels[1]
        );
    }
    assert!(
        levels[1] > -40.0,
        "the frozen tail is there: {:.1} dB",
        levels[1]
    );
}

/// Mix 0 passes the input bit for bit; NaN and inf input does not stick; any block size gives
/// the same output.
#[test]
fn mix_zero_is_transparent_and_blocks_do_not_matter() {
    let fs = 44_100.0;
    let input_l = noise(20_000, 5);
    let input_r = noise(20_000, 6);
    let mut reverb = Reverb::new(
        fs,
        ReverbSettings {
            mix: 0.0,
            ..Default::default()
        },
    );
    let (mut l, mut r) = (input_l.clone(), input_r.clone());
    reverb.process(&mut l, &mut r);
    assert_identical(&l, &input_l, "left");
    assert_identical(&r, &input_r, "right");
    // Bypass passes the input unchanged, whatever the output level.
    let mut bypassed = Reverb::new(
        fs,
        ReverbSettings {
            bypass: true,
            output_db: -6.0,
            ..Default::default()
        },
    );
    let (mut l, mut r) = (input_l.clone(), input_r.clone());
    bypassed.process(&mut l, &mut r);
    assert_identical(&l, &input_l, "bypass left");
    assert_identical(&r, &input_r, "bypass right");

    let run = |block: usize, poison: bool| {
        let mut reverb = Reverb::new(fs, ReverbSettings::default());
        let (mut l, mut r) = (input_l.clone(), input_r.clone());
        if poison {
            l[50] = f32::NAN;
            r[60] = f32::INFINITY;
        }
        for (a, b) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
            reverb.process(a, b);
        }
        (l, r)
    };
    let reference = run(20_000, false);
    for block in [1, 17, 64, 1000] {
        assert_eq!(run(block, false), reference, "block {block}");
    }
    let (l, r) = run(64, true);
    assert!(l.iter().chain(&r).all(|v| v.is_finite()));
}
