//! Compressor and Master Dynamics cost at 48 kHz stereo in 64-sample blocks, on pink noise that
//! keeps them compressing: the compressor with lookahead and sidechain filters, peak and RMS;
//! Master Dynamics as a bus compressor and with four bands.

use common::Processor;
use dsp_core::dynamics::{Compressor, CompressorSettings, Detection};
use dsp_core::multiband::{BandSettings, MultibandDynamics, MultibandSettings};

mod common;

const SAMPLE_RATE: f32 = 48_000.0;
const BLOCK: usize = 64;

fn processors() -> Vec<(&'static str, Processor)> {
    let compressing = CompressorSettings {
        threshold_db: -30.0,
        ratio: 4.0,
        lookahead_ms: 2.0,
        auto_release: true,
        sidechain_highpass: true,
        mix: 0.8,
        ..Default::default()
    };
    let mut peak = Compressor::new(SAMPLE_RATE, compressing);
    let mut rms = Compressor::new(
        SAMPLE_RATE,
        CompressorSettings {
            detection: Detection::Rms,
            ..compressing
        },
    );
    let band = BandSettings {
        threshold_db: -30.0,
        ratio: 3.0,
        ..Default::default()
    };
    let mut bus = MultibandDynamics::new(
        SAMPLE_RATE,
        MultibandSettings {
            bands: 1,
            band: [band; 4],
            ..Default::default()
        },
    );
    let mut four = MultibandDynamics::new(
        SAMPLE_RATE,
        MultibandSettings {
            bands: 4,
            band: [band; 4],
            mix: 0.9,
            ..Default::default()
        },
    );
    vec![
        (
            "compressor peak",
            Box::new(move |l, r| {
                peak.process(l, r, None);
            }),
        ),
        (
            "compressor rms",
            Box::new(move |l, r| {
                rms.process(l, r, None);
            }),
        ),
        (
            "master bus 1 band",
            Box::new(move |l, r| {
                bus.process(l, r);
            }),
        ),
        (
            "master 4 bands",
            Box::new(move |l, r| {
                four.process(l, r);
            }),
        ),
    ]
}

fn main() {
    common::run_stereo_benches(
        "Compressor and Master Dynamics, 48 kHz stereo, 64-sample blocks",
        SAMPLE_RATE,
        BLOCK,
        processors,
    );
}
