//! The mastering EQ around both engines: auto gain against measured loudness (BS.1770 on pink
//! noise), latency per mode as measured, bypass that keeps the latency, and mode switches.

use dsp_core::eq::{BandSettings, EqSettings, FilterType, Route, MAX_BANDS};
use dsp_core::linear_phase::Resolution;
use dsp_core::loudness::LoudnessMeter;
use dsp_core::master_eq::{MasterEq, MasterEqSettings, PhaseMode};

mod common;
use common::pink_noise;

fn settings(list: &[BandSettings], mode: PhaseMode, auto_gain: bool) -> MasterEqSettings {
    let mut bands = [BandSettings {
        enabled: false,
        ..Default::default()
    }; MAX_BANDS];
    bands[..list.len()].copy_from_slice(list);
    MasterEqSettings {
        eq: EqSettings {
            bands,
            ..Default::default()
        },
        mode,
        auto_gain,
    }
}

fn band(kind: FilterType, freq_hz: f32, gain_db: f32, q: f32) -> BandSettings {
    BandSettings {
        kind,
        freq_hz,
        gain_db,
        q,
        ..Default::default()
    }
}

fn integrated(left: &[f32], right: &[f32], rate: u32) -> f64 {
    let mut meter = LoudnessMeter::new(rate, 2).unwrap();
    for (l, r) in left.chunks(4800).zip(right.chunks(4800)) {
        meter.process(&[l, r]);
    }
    meter.reading().integrated
}

/// With auto gain on, strong curves change the integrated loudness of pink noise by at most
/// 0.25 LU (without it: by 1 to 1.5 LU), in both modes.
#[test]
fn auto_gain_keeps_loudness() {
    let rate = 48_000u32;
    let x = pink_noise(rate as usize * 12, 0.25, 11);
    let reference = integrated(&x, &x, rate);
    let curves = [
        vec![band(FilterType::LowShelf, 150.0, 6.0, 0.7)],
        vec![band(FilterType::HighShelf, 6_000.0, -6.0, 0.7)],
        vec![
            band(FilterType::Bell, 2_500.0, 5.0, 0.8),
            band(FilterType::Tilt, 1_000.0, -4.0, 1.0),
        ],
    ];
    for mode in [PhaseMode::ZeroLatency, PhaseMode::Linear(Resolution::Low)] {
        for curve in &curves {
            let mut changes = [0.0; 2];
            for (auto, change) in [false, true].into_iter().zip(&mut changes) {
                let mut eq = MasterEq::new(rate as f32, settings(curve, mode, auto));
                let (mut l, mut r) = (x.clone(), x.clone());
                for (cl, cr) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
                    eq.process(cl, cr);
                }
                let latency = eq.latency() as usize;
                *change = integrated(&l[latency..], &r[latency..], rate) - reference;
            }
            assert!(
                changes[0].abs() > 0.5,
                "{mode:?} {curve:?}: the curve itself {changes:?}"
            );
            eprintln!("{mode:?}: without/with auto gain {changes:?}");
            assert!(
                changes[1].abs() <= 0.25,
                "{mode:?} {curve:?}: with auto gain {changes:?}"
            );
        }
    }
}

/// Latency as reported in each mode (impulse position), and bypass keeps it.
#[test]
fn latency_is_reported_and_bypass_keeps_it() {
    for rate in [44_100.0, 96_000.0] {
        for mode in [
            PhaseMode::ZeroLatency,
            PhaseMode::Linear(Resolution::Low),
            PhaseMode::Linear(Resolution::Medium),
            PhaseMode::Linear(Resolution::High),
        ] {
            for bypass in [false, true] {
                let mut s = settings(&[band(FilterType::Bell, 3_000.0, 2.0, 1.0)], mode, false);
                s.eq.bypass = bypass;
                let mut eq = MasterEq::new(rate, s);
                let latency = eq.latency() as usize;
                let len = latency + 4096;
                let mut l = vec![0.0f32; len];
                l[0] = 1.0;
                let mut r = l.clone();
                eq.process(&mut l, &mut r);
                let peak = (0..len)
                    .max_by(|&a, &b| l[a].abs().total_cmp(&l[b].abs()))
                    .unwrap();
                if mode == PhaseMode::ZeroLatency {
                    assert_eq!(peak, 0, "{rate} {mode:?} bypass {bypass}");
                } else {
                    assert_eq!(peak, latency, "{rate} {mode:?} bypass {bypass}");
                }
                if bypass {
                    assert_eq!(l[latency], 1.0, "bypass passes the input, delayed");
                }
            }
        }
    }
}

/// Switching modes reports the latency change; a side band in linear phase acts on side only.
#[test]
fn mode_switch_reports_latency() {
    let s = settings(
        &[band(FilterType::Bell, 1_000.0, 3.0, 1.0)],
        PhaseMode::ZeroLatency,
        false,
    );
    let mut eq = MasterEq::new(48_000.0, s);
    assert_eq!(eq.latency(), 0);
    let mut linear = s;
    linear.mode = PhaseMode::Linear(Resolution::Medium);
    assert!(eq.set_settings(&linear));
    assert_eq!(eq.latency(), 8192 / 2 - 1 + 256);
    let mut louder = linear;
    louder.eq.bands[0].gain_db = 4.0;
    assert!(
        !eq.set_settings(&louder),
        "a curve change keeps the latency"
    );
    let mut side = louder;
    side.eq.bands[0].route = Route::Side;
    assert!(!eq.set_settings(&side));
    assert!(eq.set_settings(&s));
    assert_eq!(eq.latency(), 0);
}
