//! Parameters of Lathe Delay. The `#[id]`s are stable forever. Ranges come from
//! `dsp_core::echo::range`; the DSP smooths every change (the read head glides) and clamps what
//! a host sends.

use dsp_core::echo::{range, EchoSettings, MAX_TIME_MS};
use lathe_ui::params::{db_param, hz_param, ms_param, percent_param};
use nice_plug::prelude::*;
use std::sync::Arc;

/// The delay time as a note value at the host tempo, or free in ms.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteChoice {
    #[id = "off"]
    #[name = "Off (ms)"]
    Off,
    #[id = "1_64"]
    #[name = "1/64"]
    N64,
    #[id = "1_32t"]
    #[name = "1/32 T"]
    N32T,
    #[id = "1_32"]
    #[name = "1/32"]
    N32,
    #[id = "1_32d"]
    #[name = "1/32 D"]
    N32D,
    #[id = "1_16t"]
    #[name = "1/16 T"]
    N16T,
    #[id = "1_16"]
    #[name = "1/16"]
    N16,
    #[id = "1_16d"]
    #[name = "1/16 D"]
    N16D,
    #[id = "1_8t"]
    #[name = "1/8 T"]
    N8T,
    #[id = "1_8"]
    #[name = "1/8"]
    N8,
    #[id = "1_8d"]
    #[name = "1/8 D"]
    N8D,
    #[id = "1_4t"]
    #[name = "1/4 T"]
    N4T,
    #[id = "1_4"]
    #[name = "1/4"]
    N4,
    #[id = "1_4d"]
    #[name = "1/4 D"]
    N4D,
    #[id = "1_2t"]
    #[name = "1/2 T"]
    N2T,
    #[id = "1_2"]
    #[name = "1/2"]
    N2,
    #[id = "1_2d"]
    #[name = "1/2 D"]
    N2D,
    #[id = "1_bar"]
    #[name = "1 bar"]
    Bar1,
    #[id = "2_bars"]
    #[name = "2 bars"]
    Bar2,
    #[id = "4_bars"]
    #[name = "4 bars"]
    Bar4,
}

impl NoteChoice {
    /// The note length in quarter notes (bars in the given time signature), if synced.
    pub fn quarters(self, quarters_per_bar: f64) -> Option<f64> {
        use NoteChoice::*;
        let (base, factor) = match self {
            Off => return None,
            N64 => (1.0 / 16.0, 1.0),
            N32T => (0.125, 2.0 / 3.0),
            N32 => (0.125, 1.0),
            N32D => (0.125, 1.5),
            N16T => (0.25, 2.0 / 3.0),
            N16 => (0.25, 1.0),
            N16D => (0.25, 1.5),
            N8T => (0.5, 2.0 / 3.0),
            N8 => (0.5, 1.0),
            N8D => (0.5, 1.5),
            N4T => (1.0, 2.0 / 3.0),
            N4 => (1.0, 1.0),
            N4D => (1.0, 1.5),
            N2T => (2.0, 2.0 / 3.0),
            N2 => (2.0, 1.0),
            N2D => (2.0, 1.5),
            Bar1 => (quarters_per_bar, 1.0),
            Bar2 => (2.0 * quarters_per_bar, 1.0),
            Bar4 => (4.0 * quarters_per_bar, 1.0),
        };
        Some(base * factor)
    }
}

/// The host's tempo and time signature, as far as it tells them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tempo {
    pub bpm: Option<f64>,
    /// Quarter notes per bar (4/4: 4, 6/8: 3).
    pub quarters_per_bar: Option<f64>,
}

/// The delay time in ms: the note value at the tempo when synced and the host gives a tempo
/// (clamped to the longest delay), otherwise `free_ms`.
pub fn delay_ms(note: NoteChoice, free_ms: f32, tempo: Tempo) -> f32 {
    match (
        note.quarters(tempo.quarters_per_bar.unwrap_or(4.0)),
        tempo.bpm,
    ) {
        (Some(quarters), Some(bpm)) if bpm > 0.0 => {
            ((quarters * 60_000.0 / bpm) as f32).min(MAX_TIME_MS)
        }
        _ => free_ms,
    }
}

#[derive(Params)]
pub struct DelayParams {
    /// Bypass: the echoes fade out (zero latency either way).
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[nested(group = "Time")]
    pub time: TimeParams,
    #[nested(group = "Feedback")]
    pub feedback: FeedbackParams,
    #[nested(group = "Output")]
    pub output: OutputParams,
}

#[derive(Params)]
pub struct TimeParams {
    #[id = "time"]
    pub time: FloatParam,
    #[id = "sync"]
    pub sync: EnumParam<NoteChoice>,
    /// Right-side offset, ms.
    #[id = "offset"]
    pub offset: FloatParam,
    #[id = "ping_pong"]
    pub ping_pong: BoolParam,
}

#[derive(Params)]
pub struct FeedbackParams {
    /// 0..1.1, shown in percent.
    #[id = "feedback"]
    pub amount: FloatParam,
    #[id = "low_cut"]
    pub low_cut: FloatParam,
    #[id = "high_cut"]
    pub high_cut: FloatParam,
    #[id = "saturation"]
    pub saturation: FloatParam,
}

#[derive(Params)]
pub struct OutputParams {
    #[id = "duck"]
    pub duck: FloatParam,
    #[id = "mod_depth"]
    pub mod_depth: FloatParam,
    #[id = "mod_rate"]
    pub mod_rate: FloatParam,
    #[id = "width"]
    pub width: FloatParam,
    #[id = "mix"]
    pub mix: FloatParam,
    #[id = "output"]
    pub output: FloatParam,
}

impl Default for DelayParams {
    fn default() -> Self {
        let d = EchoSettings::default();
        Self {
            bypass: lathe_ui::plugin::bypass_param(),
            time: TimeParams {
                time: ms_param("Time", d.time_ms, range::TIME_MS),
                sync: EnumParam::new("Sync", NoteChoice::Off),
                offset: FloatParam::new(
                    "R Offset",
                    d.offset_ms,
                    FloatRange::Linear {
                        min: range::OFFSET_MS.0,
                        max: range::OFFSET_MS.1,
                    },
                )
                .with_step_size(0.1)
                .with_value_to_string(lathe_ui::format::v2s_ms())
                .with_string_to_value(lathe_ui::format::s2v_ms()),
                ping_pong: BoolParam::new("Ping-Pong", d.ping_pong),
            },
            feedback: FeedbackParams {
                amount: percent_param("Feedback", d.feedback, range::FEEDBACK),
                low_cut: hz_param("Low Cut", d.low_cut_hz, range::LOW_CUT_HZ),
                high_cut: hz_param("High Cut", d.high_cut_hz, range::HIGH_CUT_HZ),
                saturation: percent_param("Saturation", d.saturation, range::UNIT),
            },
            output: OutputParams {
                duck: percent_param("Ducking", d.duck, range::UNIT),
                mod_depth: percent_param("Mod Depth", d.mod_depth, range::UNIT),
                mod_rate: hz_param("Mod Rate", d.mod_rate_hz, range::MOD_RATE_HZ)
                    // Slow rates need the decimals ("0.50 Hz").
                    .with_value_to_string(Arc::new(|hz| format!("{hz:.2} Hz"))),
                width: percent_param("Width", d.width, range::WIDTH),
                mix: percent_param("Mix", d.mix, range::UNIT),
                output: db_param("Output", d.output_db, range::OUTPUT_DB),
            },
        }
    }
}

impl DelayParams {
    /// The DSP settings these parameters describe at the host's `tempo`.
    pub fn settings(&self, tempo: Tempo) -> EchoSettings {
        EchoSettings {
            time_ms: delay_ms(self.time.sync.value(), self.time.time.value(), tempo),
            offset_ms: self.time.offset.value(),
            ping_pong: self.time.ping_pong.value(),
            feedback: self.feedback.amount.value(),
            low_cut_hz: self.feedback.low_cut.value(),
            high_cut_hz: self.feedback.high_cut.value(),
            saturation: self.feedback.saturation.value(),
            duck: self.output.duck.value(),
            mod_depth: self.output.mod_depth.value(),
            mod_rate_hz: self.output.mod_rate.value(),
            width: self.output.width.value(),
            mix: self.output.mix.value(),
            output_db: self.output.output.value(),
            bypass: self.bypass.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_dsp() {
        assert_eq!(
            DelayParams::default().settings(Tempo::default()),
            EchoSettings::default()
        );
    }

    #[test]
    fn note_values_follow_tempo_and_time_signature() {
        let at = |bpm: f64, per_bar: f64| Tempo {
            bpm: Some(bpm),
            quarters_per_bar: Some(per_bar),
        };
        let close = |a: f32, b: f32| (a - b).abs() < 1e-3;
        assert!(close(delay_ms(NoteChoice::N8D, 1.0, at(120.0, 4.0)), 375.0));
        assert!(close(
            delay_ms(NoteChoice::N4T, 1.0, at(90.0, 4.0)),
            444.444
        ));
        assert!(close(delay_ms(NoteChoice::N64, 1.0, at(120.0, 4.0)), 31.25));
        assert!(close(
            delay_ms(NoteChoice::Bar1, 1.0, at(120.0, 3.0)),
            1_500.0
        ));
        // Four bars at 40 bpm would be 24 s: clamped to the longest delay.
        assert_eq!(delay_ms(NoteChoice::Bar4, 1.0, at(40.0, 4.0)), MAX_TIME_MS);
        // No tempo, or free: the ms value.
        assert_eq!(delay_ms(NoteChoice::N8, 250.0, Tempo::default()), 250.0);
        assert_eq!(delay_ms(NoteChoice::Off, 250.0, at(120.0, 4.0)), 250.0);
    }
}
