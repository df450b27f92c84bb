//! Every plugin in `plugins.toml`, loaded from its built `.clap` bundle through the CLAP ABI
//! (clack-host) and checked the way a DAW would use it. The bundles are debug builds with
//! `assert_process_allocs`: an allocation inside `process()` aborts the test process.

use host_tests::signals::{null_db, rms_db, stereo_noise, tech3341_case1};
use host_tests::{check_case1_reports, param_hash, plugin, plugins, Instance};

const RATES: [f64; 4] = [44_100.0, 48_000.0, 96_000.0, 192_000.0];
/// Fixed block sizes, then a pattern that varies on every call.
const BLOCKS: [&[usize]; 6] = [
    &[1],
    &[17],
    &[64],
    &[512],
    &[4096],
    &[1, 300, 64, 4096, 17, 999, 2],
];

fn max_block(blocks: &[usize]) -> usize {
    blocks.iter().copied().max().unwrap()
}

#[test]
fn describes_itself() {
    for config in plugins() {
        let mut plugin = Instance::load(&config);
        assert_eq!(plugin.name, config.bundle, "display name");
        for feature in &config.features {
            assert!(
                plugin.features.contains(feature),
                "{}: missing feature {feature}",
                config.bundle
            );
        }
        let infos = plugin.param_infos();
        // Stable ids: every id listed must exist (lists only ever grow).
        for id in &config.param_ids {
            assert!(
                infos.iter().any(|p| p.id == param_hash(id)),
                "{}: parameter id {id:?} vanished",
                config.bundle
            );
        }
        assert_eq!(
            infos.len(),
            config.param_ids.len(),
            "{}: update param_ids in plugins.toml",
            config.bundle
        );
        assert_eq!(
            infos.iter().filter(|p| p.is_bypass).count(),
            1,
            "exactly one bypass parameter"
        );
        for info in &infos {
            assert!(!info.name.is_empty());
            let output = config.output_ids.iter().any(|id| param_hash(id) == info.id);
            assert_eq!(
                info.is_read_only, output,
                "{}: {} is read-only exactly when it is an output",
                config.bundle, info.name
            );
            assert_eq!(
                info.is_automatable, !output,
                "{}: {} is automatable unless it is an output",
                config.bundle, info.name
            );
            assert!(
                info.is_bypass || !info.group.is_empty(),
                "{} belongs to a group",
                info.name
            );
        }
    }
}

/// Processing at 44.1/48/96/192 kHz with blocks of 1, 17, 64, 512, 4096 and varying sizes: the
/// output is finite, and a transparent default passes the input delayed by the latency.
#[test]
fn processes_at_every_rate_and_block_size() {
    for config in plugins() {
        let mut plugin = Instance::load(&config);
        for rate in RATES {
            for blocks in BLOCKS {
                plugin.activate(rate, max_block(blocks));
                let input = stereo_noise((rate * 0.25) as usize, -20.0);
                let output = plugin.process(&input, blocks, &[]);
                let latency = plugin.latency() as usize;
                for (i, o) in input.iter().zip(&output) {
                    assert!(
                        o.iter().all(|x| x.is_finite()),
                        "{} {rate} {blocks:?}: non-finite",
                        config.bundle
                    );
                    if config.transparent {
                        let null = null_db(i, o, latency);
                        assert!(
                            null < -120.0,
                            "{} {rate} Hz blocks {blocks:?}: null {null:.1} dB",
                            config.bundle
                        );
                    }
                }
            }
        }
    }
}

/// The reported latency is where an impulse comes out, at every rate; bypass keeps it.
#[test]
fn latency_matches_a_measured_impulse() {
    for config in plugins().into_iter().filter(|c| c.impulse_passes) {
        let mut plugin = Instance::load(&config);
        for rate in RATES {
            for bypass in [0.0, 1.0] {
                plugin.activate(rate, 512);
                let latency = plugin.latency() as usize;
                let mut signal = [vec![0.0f32; latency + 2048], vec![0.0f32; latency + 2048]];
                signal[0][100] = 0.1;
                signal[1][100] = 0.1;
                let events = [(0, param_hash("bypass"), bypass)];
                let output = plugin.process(&signal, &[512], &events);
                let at = output[0]
                    .iter()
                    .position(|&x| x.abs() > 0.05)
                    .expect("impulse comes out");
                assert_eq!(
                    at,
                    100 + latency,
                    "{} at {rate} Hz (bypass {bypass})",
                    config.bundle
                );
            }
        }
    }
}

/// A parameter that changes the latency makes the plugin report it: the host is told (latency
/// changed / restart requested), and after re-activation the new figure matches a measured impulse.
#[test]
fn latency_changes_are_reported() {
    for config in plugins() {
        let Some(param) = &config.latency_param else {
            continue;
        };
        let mut plugin = Instance::load(&config);
        plugin.activate(48_000.0, 512);
        let before = plugin.latency();
        let value = plugin.text_to_value(&param.id, &param.text);
        let silence = [vec![0.0f32; 2048], vec![0.0f32; 2048]];
        plugin.process(&silence, &[512], &[(0, param_hash(&param.id), value)]);
        let shared = plugin.shared();
        assert!(
            shared
                .restart_requested
                .load(std::sync::atomic::Ordering::SeqCst)
                || shared
                    .latency_changed
                    .load(std::sync::atomic::Ordering::SeqCst),
            "{}: the host was not told the latency changed",
            config.bundle
        );
        // What a host does on request_restart: deactivate and activate again.
        plugin.activate(48_000.0, 512);
        let after = plugin.latency();
        assert_ne!(before, after, "{}: latency did not change", config.bundle);
        let mut signal = [
            vec![0.0f32; after as usize + 2048],
            vec![0.0f32; after as usize + 2048],
        ];
        signal[0][10] = 0.1;
        signal[1][10] = 0.1;
        let output = plugin.process(&signal, &[512], &[]);
        let at = output[0].iter().position(|&x| x.abs() > 0.05).unwrap();
        assert_eq!(
            at,
            10 + after as usize,
            "{}: new latency measured",
            config.bundle
        );
    }
}

/// Automation is sample-accurate: an event in the middle of a block changes nothing before its
/// time, takes effect right after it, and settles at the expected gain.
#[test]
fn automation_is_sample_accurate() {
    for config in plugins() {
        let mut plugin = Instance::load(&config);
        let id = param_hash(&config.automate.id);
        let value = plugin.text_to_value(&config.automate.id, &config.automate.text);
        let default = plugin
            .param_infos()
            .iter()
            .find(|p| p.id == id)
            .expect("automated parameter exists")
            .default;
        // Parameter values outlive activations: put the parameter back to its default, then
        // activate afresh, so both runs start from the same state.
        let fresh_at_default = |plugin: &mut Instance| {
            plugin.activate(48_000.0, 512);
            let silence = [vec![0.0f32; 64], vec![0.0f32; 64]];
            plugin.process(&silence, &[64], &[(0, id, default)]);
            plugin.activate(48_000.0, 512);
        };
        for event_at in [200usize, 4_321] {
            let input = stereo_noise(48_000, -20.0);
            fresh_at_default(&mut plugin);
            let plain = plugin.process(&input, &[512], &[]);
            fresh_at_default(&mut plugin);
            let automated = plugin.process(&input, &[512], &[(event_at, id, value)]);
            let first_change = plain[0]
                .iter()
                .zip(&automated[0])
                .position(|(a, b)| a != b)
                .expect("the automation changes the output");
            let latency = plugin.latency() as usize;
            assert!(
                first_change >= event_at,
                "{}: changed at {first_change}, before the event at {event_at}",
                config.bundle
            );
            assert!(
                first_change <= event_at + latency + 1,
                "{}: event at {event_at} took effect only at {first_change}",
                config.bundle
            );
            let tail = 24_000..48_000;
            let level = |output: &[f32]| match config.automate.measure.as_str() {
                "error" => {
                    let error: Vec<f32> = output[tail.clone()]
                        .iter()
                        .zip(&input[0][tail.clone()])
                        .map(|(y, x)| y - x)
                        .collect();
                    rms_db(&error)
                }
                _ => rms_db(&output[tail.clone()]),
            };
            let change = level(&automated[0]) - level(&plain[0]);
            assert!(
                (change - config.automate.gain_db).abs() < config.automate.tolerance_db,
                "{}: gain change {change:.3} dB, expected {}",
                config.bundle,
                config.automate.gain_db
            );
        }
    }
}

/// Saving state, loading it into a fresh instance, and processing gives bit-identical output.
#[test]
fn state_round_trips_bit_exactly() {
    for config in plugins() {
        let mut first = Instance::load(&config);
        first.activate(48_000.0, 512);
        // Move every non-bypass parameter off its default (to 0.3 of its range).
        let infos = first.param_infos();
        let events: Vec<(usize, u32, f64)> = infos
            .iter()
            .filter(|p| !p.is_bypass)
            .map(|p| (0, p.id, p.min + 0.3 * (p.max - p.min)))
            .collect();
        let warm = stereo_noise(4_800, -20.0);
        first.process(&warm, &[512], &events);
        let state = first.save_state();
        // Output parameters (meter readings) are not settings: the state leaves them out.
        for id in &config.output_ids {
            assert!(
                !String::from_utf8_lossy(&state).contains(&format!("\"{id}\"")),
                "{}: output {id} saved in the state",
                config.bundle
            );
        }
        let settings: Vec<_> = infos.iter().filter(|p| !p.is_read_only).collect();
        let values: Vec<f64> = settings.iter().map(|p| first.value_by_hash(p.id)).collect();

        let mut second = Instance::load(&config);
        second.load_state(&state).expect("state loads");
        let loaded: Vec<f64> = settings
            .iter()
            .map(|p| second.value_by_hash(p.id))
            .collect();
        assert_eq!(
            values, loaded,
            "{}: parameter values after loading",
            config.bundle
        );
        // Same state, same audio, from a fresh activation on both.
        first.activate(48_000.0, 512);
        second.activate(48_000.0, 512);
        let input = stereo_noise(48_000, -6.0);
        let a = first.process(&input, &[256], &[]);
        let b = second.process(&input, &[256], &[]);
        assert!(
            a == b,
            "{}: output differs after a state round trip",
            config.bundle
        );
        // And the saved state itself is stable.
        assert_eq!(
            state,
            second.save_state(),
            "{}: state re-saves identically",
            config.bundle
        );
    }
}

/// Malformed state is rejected without crashing, and the defaults are kept.
#[test]
fn malformed_state_is_rejected() {
    for config in plugins() {
        let mut plugin = Instance::load(&config);
        let infos = plugin.param_infos();
        let defaults: Vec<f64> = infos.iter().map(|p| plugin.value_by_hash(p.id)).collect();
        for garbage in [
            b"".to_vec(),
            b"{not json".to_vec(),
            vec![0xff; 1000],
            br#"{"params": {"ceiling": "loud"}}"#.to_vec(),
        ] {
            let _ = plugin.load_state(&garbage);
            let now: Vec<f64> = infos.iter().map(|p| plugin.value_by_hash(p.id)).collect();
            assert_eq!(
                defaults, now,
                "{}: malformed state changed parameters",
                config.bundle
            );
        }
        assert!(
            plugin.load_state(b"{not json").is_err(),
            "{}: garbage accepted",
            config.bundle
        );
        plugin.activate(48_000.0, 512);
        let output = plugin.process(&stereo_noise(4_800, -20.0), &[512], &[]);
        assert!(output.iter().flatten().all(|x| x.is_finite()));
    }
}

/// Absurd parameter values from a host (far outside 0..1, NaN, ±inf) are clamped: output stays
/// finite and no louder than full scale.
#[test]
fn absurd_parameter_values_are_clamped() {
    for config in plugins() {
        let mut plugin = Instance::load(&config);
        plugin.activate(48_000.0, 512);
        let infos = plugin.param_infos();
        let mut events = Vec::new();
        for (i, value) in [-1e9, 1e9, f64::NAN, f64::INFINITY, f64::NEG_INFINITY]
            .iter()
            .enumerate()
        {
            for p in infos.iter().filter(|p| !p.is_bypass) {
                events.push((i * 4_800, p.id, *value));
            }
        }
        let output = plugin.process(&stereo_noise(48_000, 0.0), &[512], &events);
        assert!(
            output.iter().flatten().all(|x| x.is_finite()),
            "{}: non-finite",
            config.bundle
        );
        for p in &infos {
            let v = plugin.value_by_hash(p.id);
            assert!(
                v.is_finite() && v >= p.min && v <= p.max,
                "{}: {} = {v}",
                config.bundle,
                p.name
            );
        }
    }
}

/// NaN and inf in the input never stick: the output is finite throughout and recovers.
#[test]
fn non_finite_input_does_not_stick() {
    for config in plugins() {
        let mut plugin = Instance::load(&config);
        plugin.activate(48_000.0, 512);
        let mut input = stereo_noise(48_000, -20.0);
        input[0][1_000..1_064].fill(f32::NAN);
        input[1][1_000..1_064].fill(f32::INFINITY);
        let output = plugin.process(&input, &[64], &[]);
        assert!(
            output.iter().flatten().all(|x| x.is_finite()),
            "{}: non-finite output",
            config.bundle
        );
        let tail = &output[0][24_000..];
        assert!(
            rms_db(tail) > -40.0,
            "{}: the output did not recover",
            config.bundle
        );
    }
}

/// A plugin with a sidechain input port: with the sidechain selected, a loud key on the second
/// input bus and a quiet main input, the output is turned down; a silent key leaves the quiet
/// input untouched. (Every other test feeds the sidechain port silence.)
#[test]
fn sidechain_input_drives_the_plugin() {
    for config in plugins() {
        let Some(sidechain) = &config.sidechain else {
            continue;
        };
        let mut plugin = Instance::load(&config);
        assert!(
            plugin.has_sidechain(),
            "{}: no sidechain input port",
            config.bundle
        );
        let on = plugin.text_to_value(&sidechain.id, &sidechain.text);
        let select = [(0, param_hash(&sidechain.id), on)];
        let main = stereo_noise(48_000, -30.0);
        let key = stereo_noise(48_000, 0.0);
        let tail = |x: &[f32]| rms_db(&x[24_000..]);
        plugin.activate(48_000.0, 512);
        let silent_key = plugin.process_with_sidechain(&main, None, &[512], &select);
        assert!(
            (tail(&silent_key[0]) - tail(&main[0])).abs() < 0.1,
            "{}: a silent key changed the level",
            config.bundle
        );
        plugin.activate(48_000.0, 512);
        let keyed = plugin.process_with_sidechain(&main, Some(&key), &[512], &select);
        let reduction = tail(&main[0]) - tail(&keyed[0]);
        assert!(
            reduction >= sidechain.reduces_db,
            "{}: the key reduced the output by {reduction:.1} dB",
            config.bundle
        );
    }
}

/// A plugin with tempo-synced times follows the host's transport: set to a note value, an
/// impulse comes out that note value later (within a sample, at 48 kHz) at 90, 120 and
/// 133 bpm, from the very first block.
#[test]
fn synced_times_follow_the_host_tempo() {
    for config in plugins() {
        let Some(sync) = &config.tempo_sync else {
            continue;
        };
        for bpm in [90.0, 120.0, 133.0] {
            let mut plugin = Instance::load(&config);
            let events: Vec<(usize, u32, f64)> = sync
                .set
                .iter()
                .map(|(id, text)| (0, param_hash(id), plugin.text_to_value(id, text)))
                .collect();
            plugin.set_transport(bpm, 4, 4);
            plugin.activate(48_000.0, 512);
            let expected = (sync.quarters * 60.0 / bpm * 48_000.0).round() as usize;
            let len = expected + 4_800;
            let mut signal = [vec![0.0f32; len], vec![0.0f32; len]];
            signal[0][0] = 0.5;
            signal[1][0] = 0.5;
            let out = plugin.process(&signal, &[512], &events);
            let peak = (1..len)
                .max_by(|&a, &b| out[0][a].abs().total_cmp(&out[0][b].abs()))
                .unwrap();
            assert!(
                peak.abs_diff(expected) <= 1,
                "{} at {bpm} bpm: echo at sample {peak}, expected {expected}",
                config.bundle
            );
        }
    }
}

/// Lathe Loudness reports its readings to the host as read-only output parameters, as CLAP
/// parameter-value output events: EBU Tech 3341 case 1 reads as it should (see
/// `check_case1_reports`), and a host trying to set a reading is ignored.
#[test]
fn output_parameters_report_the_meter() {
    let config = plugin("audio.lathe.loudness");
    let mut plugin = Instance::load(&config);
    plugin.activate(48_000.0, 512);
    let sine = tech3341_case1(10);
    let signal = [sine.clone(), sine];
    plugin.take_reports();
    plugin.process(&signal, &[512, 333], &[]);
    let reports = plugin.take_reports();
    // With the meter paused (so nothing is reported), the host tries to set the integrated
    // reading to the top of its range: it keeps the measured value.
    let events = [
        (0, param_hash("pause"), 1.0),
        (100, param_hash("out_integrated"), 1.0),
    ];
    plugin.process(&signal, &[512], &events);
    assert!(
        plugin.take_reports().is_empty(),
        "a paused meter reports nothing"
    );
    let plugin = std::cell::RefCell::new(plugin);
    check_case1_reports(
        &reports,
        signal[0].len(),
        &config.output_ids,
        |id| plugin.borrow_mut().value_by_hash(id),
        |id, value| plugin.borrow_mut().value_to_text_by_hash(id, value),
    );
}

/// Dynamics plugins report their gain reduction to the host as a read-only output parameter
/// (the most of each 50 ms). On a 1 kHz sine at −6 dBFS, 3 s long, the last reading before the
/// sine ends matches the reduction measured on the audio (input level + the plugin's gain −
/// output level, over the last half second) within 0.3 dB and the static curve's value within
/// 0.5 dB; it is first reported within 100 ms; 6 s after the input stops it reads 0.
#[test]
fn gain_reduction_readings_match_the_audio() {
    for config in plugins() {
        let Some(check) = &config.gain_reduction else {
            continue;
        };
        let mut plugin = Instance::load(&config);
        plugin.activate(48_000.0, 512);
        let set: Vec<(usize, u32, f64)> = check
            .set
            .iter()
            .map(|(id, text)| (0, param_hash(id), plugin.text_to_value(id, text)))
            .collect();
        let amplitude = 10f32.powf(-6.0 / 20.0);
        let sine_len = 3 * 48_000;
        let mut sine: Vec<f32> = (0..sine_len)
            .map(|n| amplitude * (std::f32::consts::TAU * 1000.0 * n as f32 / 48_000.0).sin())
            .collect();
        sine.resize(9 * 48_000, 0.0);
        let signal = [sine.clone(), sine];
        plugin.take_reports();
        let output = plugin.process(&signal, &[512, 97], &set);
        let hash = param_hash(&check.id);
        let reports: Vec<_> = plugin
            .take_reports()
            .into_iter()
            .filter(|r| r.1 == hash)
            .collect();
        let db = |plugin: &mut Instance, value: f64| -> f64 {
            let text = plugin.value_to_text_by_hash(hash, value);
            text.trim_end_matches(" dB")
                .parse()
                .unwrap_or_else(|_| panic!("{}: reduction reads {text:?}", config.bundle))
        };
        let first = reports.first().expect("gain reduction reported");
        assert!(
            first.0 <= 4_800,
            "{}: first reported at sample {}",
            config.bundle,
            first.0
        );
        let last_during = reports
            .iter()
            .rfind(|r| r.0 < sine_len)
            .expect("reported during the sine");
        let reported = db(&mut plugin, last_during.2);
        let latency = plugin.latency() as usize;
        let tail = sine_len - 24_000..sine_len;
        let delayed = tail.start + latency..tail.end + latency;
        let measured = rms_db(&signal[0][tail]) + check.gain_db - rms_db(&output[0][delayed]);
        assert!(
            (reported - measured).abs() <= 0.3,
            "{}: reads {reported} dB, the audio {measured:.2} dB",
            config.bundle
        );
        assert!(
            (reported - check.expect_db).abs() <= 0.5,
            "{}: reads {reported} dB, the curve gives {} dB",
            config.bundle,
            check.expect_db
        );
        let now = plugin.value_by_hash(hash);
        assert_eq!(
            db(&mut plugin, now),
            0.0,
            "{}: no reduction after the input stops",
            config.bundle
        );
    }
}
