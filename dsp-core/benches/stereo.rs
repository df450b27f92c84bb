//! Imager and Channel cost at 48 kHz stereo in 64-sample blocks, at their heaviest settings
//! (imager: four bands, bass mono; channel: 48 dB/oct low and high cut, DC block, width, pan).
//! Criterion's statistics, then ns/sample (per stereo frame) and percent of one core.

use common::Processor;
use dsp_core::channel::{Channel, ChannelSettings, PanMode};
use dsp_core::imager::{Imager, ImagerSettings};

mod common;

const SAMPLE_RATE: f32 = 48_000.0;
const BLOCK: usize = 64;

fn processors() -> Vec<(&'static str, Processor)> {
    let mut imager = Imager::new(
        SAMPLE_RATE,
        ImagerSettings {
            bands: 4,
            widths: [0.0, 0.8, 1.2, 1.6],
            bass_mono: true,
            ..ImagerSettings::default()
        },
    );
    let mut channel = Channel::new(
        SAMPLE_RATE,
        ChannelSettings {
            low_cut: true,
            low_cut_slope_db: 48,
            high_cut: true,
            high_cut_slope_db: 48,
            dc_block: true,
            width: 1.3,
            pan: 0.2,
            pan_mode: PanMode::Pan,
            ..ChannelSettings::default()
        },
    );
    let mut neutral = Channel::new(SAMPLE_RATE, ChannelSettings::default());
    vec![
        ("imager 4 bands", Box::new(move |l, r| imager.process(l, r))),
        (
            "channel all on",
            Box::new(move |l, r| channel.process(l, r)),
        ),
        (
            "channel neutral",
            Box::new(move |l, r| neutral.process(l, r)),
        ),
    ]
}

fn main() {
    common::run_stereo_benches(
        "Imager and Channel, 48 kHz stereo, 64-sample blocks",
        SAMPLE_RATE,
        BLOCK,
        processors,
    );
}
