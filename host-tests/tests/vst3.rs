//! VST3 checks through our own minimal host (`host_tests::vst3_host`), for what pedalboard, the
//! third-party VST3 host of `host-tests/vst3`, does not expose: output parameter changes.

use host_tests::signals::tech3341_case1;
use host_tests::vst3_host::Vst3Instance;
use host_tests::{bundle_dir, check_case1_reports, param_hash, plugin};

/// Lathe Loudness reports its readings in `outputParameterChanges`: the parameters are read-only
/// and not automatable, EBU Tech 3341 case 1 reads as it should (see `check_case1_reports`), the
/// controller holds the last reported values and ignores a host's value for them.
#[test]
fn output_parameters_report_the_meter() {
    let config = plugin("audio.lathe.loudness");
    let bundle = bundle_dir().join(format!("{}.vst3", config.bundle));
    let mut plugin = Vst3Instance::load(&bundle, 48_000.0, 512);
    let outputs: Vec<u32> = config.output_ids.iter().map(|id| param_hash(id)).collect();
    let params = plugin.params();
    assert_eq!(params.len(), config.param_ids.len());
    for p in &params {
        let output = outputs.contains(&p.id);
        assert_eq!(p.read_only, output, "parameter {} read-only", p.id);
        assert_eq!(p.automatable, !output, "parameter {} automatable", p.id);
    }

    let sine = tech3341_case1(10);
    let mut signal = [sine.clone(), sine.clone()];
    let reports = plugin.process(&mut signal, 512);
    assert_eq!(signal[0], sine, "the meter passes the audio unchanged");
    check_case1_reports(
        &reports,
        sine.len(),
        &config.output_ids,
        |id| plugin.normalized(id),
        |id, value| plugin.text(id, value),
    );
    // Stopped (while processing, nice-plug takes parameter changes from the process call
    // only), a host passing a value on to the controller, or trying to set a reading, is
    // accepted but does not change the reading; a setting it sets does change.
    plugin.set_processing(false);
    let integrated = param_hash("out_integrated");
    let held = plugin.normalized(integrated);
    assert!(plugin.set_normalized(integrated, 1.0));
    assert_eq!(
        plugin.normalized(integrated),
        held,
        "a reading set by the host"
    );
    assert!(plugin.set_normalized(param_hash("pause"), 1.0));
    assert_eq!(
        plugin.normalized(param_hash("pause")),
        1.0,
        "a setting set by the host"
    );
}
