//! Reverb cost at 48 kHz stereo in 64-sample blocks: default settings (16 lines, modulation,
//! early reflections), and the same while the decay time is automated (line filters redesigned
//! every 16 samples).

use common::Processor;
use dsp_core::reverb::{Reverb, ReverbSettings};

mod common;

const SAMPLE_RATE: f32 = 48_000.0;
const BLOCK: usize = 64;

fn processors() -> Vec<(&'static str, Processor)> {
    let mut settled = Reverb::new(SAMPLE_RATE, ReverbSettings::default());
    let mut automated = Reverb::new(SAMPLE_RATE, ReverbSettings::default());
    let mut block = 0usize;
    vec![
        ("reverb", Box::new(move |l, r| settled.process(l, r))),
        (
            "reverb, decay automated",
            Box::new(move |l, r| {
                block = (block + 1) % 1000;
                let settings = ReverbSettings {
                    decay_s: 1.0 + block as f32 * 0.005,
                    ..ReverbSettings::default()
                };
                automated.set_settings(&settings);
                automated.process(l, r);
            }),
        ),
    ]
}

fn main() {
    common::run_stereo_benches(
        "Reverb, 48 kHz stereo, 64-sample blocks",
        SAMPLE_RATE,
        BLOCK,
        processors,
    );
}
