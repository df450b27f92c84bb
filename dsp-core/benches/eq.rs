//! EQ cost at 48 kHz stereo in 64-sample blocks: eight active bands of every kind (settled), the
//! same eight while a bell's frequency is swept (coefficients recomputed every 16 samples), one
//! bell, and the Master EQ in linear-phase mode at its default (medium) resolution with six
//! active bands and auto gain.

use common::Processor;
use dsp_core::eq::{BandSettings, CutShape, EqSettings, Equalizer, FilterType, Route};
use dsp_core::linear_phase::Resolution;
use dsp_core::master_eq::{MasterEq, MasterEqSettings, PhaseMode};

mod common;

const SAMPLE_RATE: f32 = 48_000.0;
const BLOCK: usize = 64;

fn eight_bands() -> EqSettings {
    let band = |kind, freq_hz, gain_db, q| BandSettings {
        kind,
        freq_hz,
        gain_db,
        q,
        ..Default::default()
    };
    EqSettings {
        bands: [
            BandSettings {
                slope_db: 24,
                ..band(FilterType::LowCut, 30.0, 0.0, 1.0)
            },
            band(FilterType::LowShelf, 120.0, 2.0, 0.7),
            band(FilterType::Bell, 300.0, -3.0, 1.5),
            BandSettings {
                route: Route::Mid,
                ..band(FilterType::Bell, 1_200.0, 1.5, 1.0)
            },
            band(FilterType::Bell, 4_000.0, -2.0, 4.0),
            BandSettings {
                route: Route::Side,
                ..band(FilterType::HighShelf, 9_000.0, 2.0, 0.7)
            },
            band(FilterType::Notch, 6_500.0, 0.0, 8.0),
            BandSettings {
                slope_db: 12,
                shape: CutShape::Butterworth,
                ..band(FilterType::HighCut, 19_000.0, 0.0, 1.0)
            },
        ],
        ..Default::default()
    }
}

fn processors() -> Vec<(&'static str, Processor)> {
    let mut settled = Equalizer::new(SAMPLE_RATE, eight_bands());
    let mut swept = Equalizer::new(SAMPLE_RATE, eight_bands());
    let mut sweep_block = 0usize;
    let mut one = Equalizer::new(SAMPLE_RATE, {
        let mut s = EqSettings::default();
        s.bands[0].gain_db = 3.0;
        s
    });
    let mut six = eight_bands();
    for band in &mut six.bands[6..] {
        band.enabled = false;
    }
    let mut linear = MasterEq::new(
        SAMPLE_RATE,
        MasterEqSettings {
            eq: six,
            mode: PhaseMode::Linear(Resolution::Medium),
            auto_gain: true,
        },
    );
    vec![
        ("8 bands", Box::new(move |l, r| settled.process(l, r))),
        (
            "8 bands, sweeping",
            Box::new(move |l, r| {
                // A new frequency every block: the glide never settles.
                sweep_block = (sweep_block + 1) % 750;
                let mut s = eight_bands();
                s.bands[2].freq_hz = 100.0 * 2f32.powf(sweep_block as f32 / 100.0);
                swept.set_settings(&s);
                swept.process(l, r);
            }),
        ),
        ("1 bell", Box::new(move |l, r| one.process(l, r))),
        (
            "Master EQ linear phase, medium",
            Box::new(move |l, r| linear.process(l, r)),
        ),
    ]
}

fn main() {
    common::run_stereo_benches(
        "EQ, 48 kHz stereo, 64-sample blocks",
        SAMPLE_RATE,
        BLOCK,
        processors,
    );
}
