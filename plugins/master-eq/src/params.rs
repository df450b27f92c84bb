//! Parameters of Lathe Master EQ. The `#[id]`s are stable forever; band parameters carry the
//! band number as a suffix (`freq_1` … `freq_6`). Mastering ranges: ±12 dB, Q 0.1–6.

use dsp_core::eq::{range, BandSettings, EqSettings, FilterType, Route, MAX_BANDS};
use dsp_core::linear_phase::Resolution;
use dsp_core::master_eq::{MasterEqSettings, PhaseMode};
use lathe_ui::eqparams::{q_param, SlopeChoice};
use lathe_ui::params::{db_param, hz_param};
use nice_plug::prelude::*;

/// Bands of the Master EQ.
pub const BANDS: usize = 6;
pub const GAIN_DB: (f32, f32) = (-12.0, 12.0);
pub const Q: (f32, f32) = (0.1, 6.0);

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeChoice {
    #[id = "bell"]
    #[name = "Bell"]
    Bell,
    #[id = "low_shelf"]
    #[name = "Low Shelf"]
    LowShelf,
    #[id = "high_shelf"]
    #[name = "High Shelf"]
    HighShelf,
    #[id = "low_cut"]
    #[name = "Low Cut"]
    LowCut,
    #[id = "high_cut"]
    #[name = "High Cut"]
    HighCut,
    #[id = "tilt"]
    #[name = "Tilt"]
    Tilt,
}

impl TypeChoice {
    fn kind(self) -> FilterType {
        match self {
            Self::Bell => FilterType::Bell,
            Self::LowShelf => FilterType::LowShelf,
            Self::HighShelf => FilterType::HighShelf,
            Self::LowCut => FilterType::LowCut,
            Self::HighCut => FilterType::HighCut,
            Self::Tilt => FilterType::Tilt,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteChoice {
    #[id = "stereo"]
    #[name = "Stereo"]
    Stereo,
    #[id = "mid"]
    #[name = "Mid"]
    Mid,
    #[id = "side"]
    #[name = "Side"]
    Side,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeChoice {
    #[id = "zero_latency"]
    #[name = "Zero Latency"]
    ZeroLatency,
    #[id = "linear_phase"]
    #[name = "Linear Phase"]
    LinearPhase,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolutionChoice {
    #[id = "low"]
    #[name = "Low"]
    Low,
    #[id = "medium"]
    #[name = "Medium"]
    Medium,
    #[id = "high"]
    #[name = "High"]
    High,
}

#[derive(Params)]
pub struct MasterEqParams {
    /// Bypass: the input, delayed by the same latency.
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[nested(group = "Global")]
    pub global: GlobalParams,
    #[nested(array, group = "Band")]
    pub band: [BandParams; BANDS],
}

#[derive(Params)]
pub struct GlobalParams {
    #[id = "output"]
    pub output: FloatParam,
    #[id = "mode"]
    pub mode: EnumParam<ModeChoice>,
    #[id = "resolution"]
    pub resolution: EnumParam<ResolutionChoice>,
    #[id = "auto_gain"]
    pub auto_gain: BoolParam,
}

#[derive(Params)]
pub struct BandParams {
    #[id = "on"]
    pub enabled: BoolParam,
    #[id = "type"]
    pub kind: EnumParam<TypeChoice>,
    #[id = "freq"]
    pub freq: FloatParam,
    #[id = "gain"]
    pub gain: FloatParam,
    #[id = "q"]
    pub q: FloatParam,
    #[id = "slope"]
    pub slope: EnumParam<SlopeChoice>,
    #[id = "route"]
    pub route: EnumParam<RouteChoice>,
}

/// The starting layout: a low cut (off), shelves and three bells, all flat.
const DEFAULTS: [(TypeChoice, f32, bool); BANDS] = [
    (TypeChoice::LowCut, 20.0, false),
    (TypeChoice::LowShelf, 80.0, true),
    (TypeChoice::Bell, 300.0, true),
    (TypeChoice::Bell, 1_500.0, true),
    (TypeChoice::Bell, 5_000.0, true),
    (TypeChoice::HighShelf, 12_000.0, true),
];

impl BandParams {
    fn new(band: usize) -> Self {
        let (kind, freq, enabled) = DEFAULTS[band];
        let n = band + 1;
        let q = match kind {
            TypeChoice::LowShelf | TypeChoice::HighShelf => 0.71,
            _ => 0.8,
        };
        Self {
            enabled: BoolParam::new(format!("On {n}"), enabled),
            kind: EnumParam::new(format!("Type {n}"), kind),
            freq: hz_param(&format!("Frequency {n}"), freq, range::FREQ_HZ),
            gain: db_param(&format!("Gain {n}"), 0.0, GAIN_DB),
            q: q_param(&format!("Q {n}"), q, Q),
            slope: EnumParam::new(format!("Slope {n}"), SlopeChoice::Db12),
            route: EnumParam::new(format!("Route {n}"), RouteChoice::Stereo),
        }
    }

    fn settings(&self) -> BandSettings {
        BandSettings {
            enabled: self.enabled.value(),
            kind: self.kind.value().kind(),
            freq_hz: self.freq.value(),
            gain_db: self.gain.value().clamp(GAIN_DB.0, GAIN_DB.1),
            q: self.q.value().clamp(Q.0, Q.1),
            slope_db: self.slope.value().db_per_octave(),
            route: match self.route.value() {
                RouteChoice::Stereo => Route::Stereo,
                RouteChoice::Mid => Route::Mid,
                RouteChoice::Side => Route::Side,
            },
            ..BandSettings::default()
        }
    }
}

impl Default for MasterEqParams {
    fn default() -> Self {
        Self {
            bypass: lathe_ui::plugin::bypass_param(),
            global: GlobalParams {
                output: db_param("Output", 0.0, GAIN_DB),
                mode: EnumParam::new("Mode", ModeChoice::ZeroLatency),
                resolution: EnumParam::new("Resolution", ResolutionChoice::Medium),
                auto_gain: BoolParam::new("Auto Gain", false),
            },
            band: std::array::from_fn(BandParams::new),
        }
    }
}

impl MasterEqParams {
    /// The DSP settings these parameters describe (bands 7 and 8 of the engine stay off).
    pub fn settings(&self) -> MasterEqSettings {
        let off = BandSettings {
            enabled: false,
            ..BandSettings::default()
        };
        let bands: [BandSettings; MAX_BANDS] = std::array::from_fn(|b| {
            if b < BANDS {
                self.band[b].settings()
            } else {
                off
            }
        });
        let g = &self.global;
        MasterEqSettings {
            eq: EqSettings {
                bands,
                output_db: g.output.value(),
                bypass: self.bypass.value(),
            },
            mode: match g.mode.value() {
                ModeChoice::ZeroLatency => PhaseMode::ZeroLatency,
                ModeChoice::LinearPhase => PhaseMode::Linear(match g.resolution.value() {
                    ResolutionChoice::Low => Resolution::Low,
                    ResolutionChoice::Medium => Resolution::Medium,
                    ResolutionChoice::High => Resolution::High,
                }),
            },
            auto_gain: g.auto_gain.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_flat_zero_latency_and_ids_are_suffixed() {
        let params = MasterEqParams::default();
        let settings = params.settings();
        assert!(settings.eq.bands.iter().all(BandSettings::is_neutral));
        assert_eq!(settings.mode, PhaseMode::ZeroLatency);
        let ids: Vec<String> = params
            .param_map()
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        for id in [
            "freq_1",
            "gain_6",
            "route_3",
            "mode",
            "resolution",
            "auto_gain",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
        }
        assert!(!ids.iter().any(|i| i == "freq_7"));
    }
}
