//! Parameters of Lathe EQ. The `#[id]`s are stable forever; band parameters carry the band
//! number as a suffix (`freq_1` … `freq_8`). Ranges come from dsp-core, which also clamps what
//! a host sends and glides every change.

use dsp_core::eq::{range, BandSettings, EqSettings, FilterType, Route, MAX_BANDS};
use lathe_ui::eqparams::{q_param, ShapeChoice, SlopeChoice};
use lathe_ui::params::{db_param, hz_param};
use nice_plug::prelude::*;

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
    #[id = "notch"]
    #[name = "Notch"]
    Notch,
    #[id = "band_pass"]
    #[name = "Band Pass"]
    BandPass,
    #[id = "tilt"]
    #[name = "Tilt"]
    Tilt,
}

impl TypeChoice {
    pub fn kind(self) -> FilterType {
        match self {
            Self::Bell => FilterType::Bell,
            Self::LowShelf => FilterType::LowShelf,
            Self::HighShelf => FilterType::HighShelf,
            Self::LowCut => FilterType::LowCut,
            Self::HighCut => FilterType::HighCut,
            Self::Notch => FilterType::Notch,
            Self::BandPass => FilterType::BandPass,
            Self::Tilt => FilterType::Tilt,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteChoice {
    #[id = "stereo"]
    #[name = "Stereo"]
    Stereo,
    #[id = "left"]
    #[name = "Left"]
    Left,
    #[id = "right"]
    #[name = "Right"]
    Right,
    #[id = "mid"]
    #[name = "Mid"]
    Mid,
    #[id = "side"]
    #[name = "Side"]
    Side,
}

impl RouteChoice {
    pub fn route(self) -> Route {
        match self {
            Self::Stereo => Route::Stereo,
            Self::Left => Route::Left,
            Self::Right => Route::Right,
            Self::Mid => Route::Mid,
            Self::Side => Route::Side,
        }
    }
}

#[derive(Params)]
pub struct EqParams {
    /// Bypass: the input unchanged (zero latency either way).
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[nested(group = "Global")]
    pub global: GlobalParams,
    #[nested(array, group = "Band")]
    pub band: [BandParams; MAX_BANDS],
}

#[derive(Params)]
pub struct GlobalParams {
    #[id = "output"]
    pub output: FloatParam,
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
    #[id = "shape"]
    pub shape: EnumParam<ShapeChoice>,
    #[id = "route"]
    pub route: EnumParam<RouteChoice>,
}

/// The starting layout: cuts (off) at both ends, shelves and four bells in between, all flat.
const DEFAULTS: [(TypeChoice, f32, bool); MAX_BANDS] = [
    (TypeChoice::LowCut, 30.0, false),
    (TypeChoice::LowShelf, 100.0, true),
    (TypeChoice::Bell, 250.0, true),
    (TypeChoice::Bell, 700.0, true),
    (TypeChoice::Bell, 2_000.0, true),
    (TypeChoice::Bell, 5_000.0, true),
    (TypeChoice::HighShelf, 10_000.0, true),
    (TypeChoice::HighCut, 18_000.0, false),
];

impl BandParams {
    fn new(band: usize) -> Self {
        let (kind, freq, enabled) = DEFAULTS[band];
        let n = band + 1;
        let q = if matches!(kind, TypeChoice::LowShelf | TypeChoice::HighShelf) {
            0.71
        } else {
            1.0
        };
        Self {
            enabled: BoolParam::new(format!("On {n}"), enabled),
            kind: EnumParam::new(format!("Type {n}"), kind),
            freq: hz_param(&format!("Frequency {n}"), freq, range::FREQ_HZ),
            gain: db_param(&format!("Gain {n}"), 0.0, range::GAIN_DB),
            q: q_param(&format!("Q {n}"), q, range::Q),
            slope: EnumParam::new(format!("Slope {n}"), SlopeChoice::Db12),
            shape: EnumParam::new(format!("Shape {n}"), ShapeChoice::Butterworth),
            route: EnumParam::new(format!("Route {n}"), RouteChoice::Stereo),
        }
    }

    pub fn settings(&self) -> BandSettings {
        BandSettings {
            enabled: self.enabled.value(),
            kind: self.kind.value().kind(),
            freq_hz: self.freq.value(),
            gain_db: self.gain.value(),
            q: self.q.value(),
            slope_db: self.slope.value().db_per_octave(),
            shape: self.shape.value().shape(),
            route: self.route.value().route(),
        }
    }
}

impl Default for EqParams {
    fn default() -> Self {
        Self {
            bypass: lathe_ui::plugin::bypass_param(),
            global: GlobalParams {
                output: db_param("Output", 0.0, range::OUTPUT_DB),
            },
            band: std::array::from_fn(BandParams::new),
        }
    }
}

impl EqParams {
    /// The DSP settings these parameters describe.
    pub fn settings(&self) -> EqSettings {
        EqSettings {
            bands: std::array::from_fn(|b| self.band[b].settings()),
            output_db: self.global.output.value(),
            bypass: self.bypass.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_flat_and_ids_are_suffixed() {
        let params = EqParams::default();
        let settings = params.settings();
        assert!(settings.bands.iter().all(BandSettings::is_neutral));
        let ids: Vec<String> = params
            .param_map()
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        for id in [
            "freq_1", "gain_8", "type_3", "route_5", "on_2", "output", "bypass",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
        }
        assert_eq!(SlopeChoice::Db48.db_per_octave(), 48);
    }
}
