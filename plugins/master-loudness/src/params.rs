//! Parameters of Lathe Loudness. The `#[id]`s are stable forever. The target and scale are saved
//! with the project; the monitor only changes what is heard.

use dsp_core::loudness::{LoudnessTarget, TARGETS};
use dsp_core::monitor::Voicing;
use lathe_ui::params::reading_param;
use nice_plug::prelude::*;

/// Delivery target, in the order of `dsp_core::loudness::TARGETS`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetChoice {
    #[id = "spotify"]
    #[name = "Spotify (-14 LUFS)"]
    Spotify,
    #[id = "apple"]
    #[name = "Apple Music (-16 LUFS)"]
    AppleMusic,
    #[id = "youtube"]
    #[name = "YouTube (-14 LUFS)"]
    YouTube,
    #[id = "amazon"]
    #[name = "Amazon Music (-14 LUFS)"]
    Amazon,
    #[id = "tidal"]
    #[name = "Tidal (-14 LUFS)"]
    Tidal,
    #[id = "deezer"]
    #[name = "Deezer (-15 LUFS)"]
    Deezer,
    #[id = "ebu"]
    #[name = "EBU R 128 (-23 LUFS)"]
    Ebu,
    #[id = "atsc"]
    #[name = "ATSC A/85 (-24 LKFS)"]
    Atsc,
}

impl TargetChoice {
    pub fn target(self) -> LoudnessTarget {
        TARGETS[self.to_index()]
    }
}

/// EBU Tech 3341 display scales.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// −18 … +9 LU around the target.
    #[id = "ebu9"]
    #[name = "EBU +9"]
    Plus9,
    /// −36 … +18 LU around the target.
    #[id = "ebu18"]
    #[name = "EBU +18"]
    Plus18,
}

impl Scale {
    /// (bottom, top) in LU relative to the target.
    pub fn range_lu(self) -> (f32, f32) {
        match self {
            Scale::Plus9 => (-18.0, 9.0),
            Scale::Plus18 => (-36.0, 18.0),
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorChoice {
    #[id = "off"]
    #[name = "Off"]
    Off,
    #[id = "mono"]
    #[name = "Mono"]
    Mono,
    #[id = "phone"]
    #[name = "Phone speaker"]
    Phone,
    #[id = "earbuds"]
    #[name = "Earbuds"]
    Earbuds,
    #[id = "laptop"]
    #[name = "Laptop"]
    Laptop,
    #[id = "car"]
    #[name = "Car"]
    Car,
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

impl MonitorChoice {
    pub fn voicing(self) -> Voicing {
        match self {
            MonitorChoice::Off => Voicing::Off,
            MonitorChoice::Mono => Voicing::Mono,
            MonitorChoice::Phone => Voicing::Phone,
            MonitorChoice::Earbuds => Voicing::Earbuds,
            MonitorChoice::Laptop => Voicing::Laptop,
            MonitorChoice::Car => Voicing::Car,
            MonitorChoice::Left => Voicing::Left,
            MonitorChoice::Right => Voicing::Right,
            MonitorChoice::Mid => Voicing::Mid,
            MonitorChoice::Side => Voicing::Side,
        }
    }
}

#[derive(Params)]
pub struct LoudnessParams {
    /// Bypass: the input unchanged (monitoring off); metering continues.
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[nested(group = "Meter")]
    pub meter: MeterParams,
    #[nested(group = "Monitor")]
    pub monitor: MonitorParams,
    /// The meter's readings, reported to the host as read-only output parameters.
    #[nested(group = "Readings")]
    pub readings: ReadingParams,
}

/// The readings as output parameters ([`ParamFlags::OUTPUT`]): read-only for the host, which can
/// record them; not saved with the project. Set by `process()` whenever the meter publishes.
#[derive(Params)]
pub struct ReadingParams {
    #[id = "out_momentary"]
    pub momentary: FloatParam,
    #[id = "out_short_term"]
    pub short_term: FloatParam,
    #[id = "out_integrated"]
    pub integrated: FloatParam,
    #[id = "out_range"]
    pub range: FloatParam,
    #[id = "out_true_peak"]
    pub true_peak: FloatParam,
    #[id = "out_plr"]
    pub plr: FloatParam,
}

/// Lowest loudness an output parameter holds; "-inf" there (silence, or nothing measured yet).
pub const READING_FLOOR_LUFS: f32 = -70.0;

impl ReadingParams {
    /// Sets every reading from the meter's (until measured, the bottom of its range: "-inf", or
    /// 0 for LRA and PLR).
    pub fn report<P: Plugin>(
        &self,
        reading: &dsp_core::loudness::LoudnessReading,
        context: &mut impl ProcessContext<P>,
    ) {
        let values = [
            (&self.momentary, reading.momentary),
            (&self.short_term, reading.short_term),
            (&self.integrated, reading.integrated),
            (&self.range, reading.range),
            (&self.true_peak, reading.true_peak_db),
            (&self.plr, reading.plr().unwrap_or(f64::NAN)),
        ];
        for (param, value) in values {
            lathe_ui::params::report(param, value as f32, context);
        }
    }
}

#[derive(Params)]
pub struct MeterParams {
    #[id = "target"]
    pub target: EnumParam<TargetChoice>,
    #[id = "scale"]
    pub scale: EnumParam<Scale>,
    /// Pause: the meter stops measuring (integration holds).
    #[id = "pause"]
    pub pause: BoolParam,
}

#[derive(Params)]
pub struct MonitorParams {
    /// What is heard (never what is measured). Off by default.
    #[id = "monitor"]
    pub voicing: EnumParam<MonitorChoice>,
}

impl Default for LoudnessParams {
    fn default() -> Self {
        Self {
            bypass: lathe_ui::plugin::bypass_param(),
            meter: MeterParams {
                target: EnumParam::new("Target", TargetChoice::Spotify),
                scale: EnumParam::new("Scale", Scale::Plus9),
                pause: BoolParam::new("Pause", false),
            },
            monitor: MonitorParams {
                voicing: EnumParam::new("Monitor", MonitorChoice::Off),
            },
            readings: ReadingParams {
                momentary: reading_param("Momentary", "LUFS", (READING_FLOOR_LUFS, 10.0)),
                short_term: reading_param("Short-term", "LUFS", (READING_FLOOR_LUFS, 10.0)),
                integrated: reading_param("Integrated", "LUFS", (READING_FLOOR_LUFS, 10.0)),
                range: reading_param("Loudness Range", "LU", (0.0, 60.0)),
                true_peak: reading_param("True Peak Max", "dBTP", (READING_FLOOR_LUFS, 20.0)),
                plr: reading_param("PLR", "LU", (0.0, 80.0)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_choices_follow_the_table() {
        for (i, target) in TARGETS.iter().enumerate() {
            let choice = TargetChoice::from_index(i);
            assert_eq!(choice.target(), *target);
            let name = TargetChoice::variants()[i];
            assert!(name.starts_with(target.name), "{name} vs {}", target.name);
        }
        assert_eq!(TargetChoice::variants().len(), TARGETS.len());
    }
}
