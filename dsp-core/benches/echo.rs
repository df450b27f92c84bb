//! Delay cost at 48 kHz stereo in 64-sample blocks: the default echo, and the heaviest settings
//! (ping-pong, saturation, ducking, modulation).

use common::Processor;
use dsp_core::echo::{Echo, EchoSettings};

mod common;

const SAMPLE_RATE: f32 = 48_000.0;
const BLOCK: usize = 64;

fn processors() -> Vec<(&'static str, Processor)> {
    let mut plain = Echo::new(SAMPLE_RATE, EchoSettings::default());
    let mut heavy = Echo::new(
        SAMPLE_RATE,
        EchoSettings {
            ping_pong: true,
            saturation: 0.5,
            duck: 0.5,
            mod_depth: 0.5,
            feedback: 0.7,
            ..EchoSettings::default()
        },
    );
    vec![
        ("delay", Box::new(move |l, r| plain.process(l, r))),
        (
            "delay, all features",
            Box::new(move |l, r| heavy.process(l, r)),
        ),
    ]
}

fn main() {
    common::run_stereo_benches(
        "Delay, 48 kHz stereo, 64-sample blocks",
        SAMPLE_RATE,
        BLOCK,
        processors,
    );
}
