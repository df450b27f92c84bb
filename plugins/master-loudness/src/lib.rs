//! Lathe Loudness: an EBU R 128 / ITU-R BS.1770 meter (momentary, short-term, integrated, LRA,
//! true peak, PLR, their history) with delivery targets, and a translation monitor. The audio
//! passes bit-identical unless a monitor voicing is chosen; the meter always reads the input,
//! before monitoring. A thin nice-plug wrapper around `dsp_core::loudness::LoudnessMeter` and
//! `dsp_core::monitor::Monitor`; zero latency.

use atomic_float::AtomicF32;
use dsp_core::loudness::LoudnessMeter;
use dsp_core::monitor::{Monitor, Voicing};
use lathe_ui::SharedHistory;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub mod editor;
pub mod params;

use params::{LoudnessParams, ReadingParams};

/// Readings are published (and the history advances) this often.
pub const PUBLISH_INTERVAL_S: f32 = 0.1;
/// History length: 3 minutes of short-term and momentary loudness.
pub const HISTORY_POINTS: usize = 1800;

/// What the meter publishes for the editor.
pub struct Meters {
    /// Momentary, short-term, integrated (LUFS), range (LU), true-peak max (dBTP), momentary
    /// max, short-term max (LUFS), sample-peak max (dBFS); `-inf` until measured.
    pub values: [AtomicF32; 8],
    pub short_term_history: SharedHistory,
    pub momentary_history: SharedHistory,
    /// Set by the editor's reset button, cleared by the audio thread once it has reset.
    pub reset: AtomicBool,
}

/// Indices into `Meters::values`.
pub mod value {
    pub const MOMENTARY: usize = 0;
    pub const SHORT_TERM: usize = 1;
    pub const INTEGRATED: usize = 2;
    pub const RANGE: usize = 3;
    pub const TRUE_PEAK: usize = 4;
    pub const MOMENTARY_MAX: usize = 5;
    pub const SHORT_TERM_MAX: usize = 6;
    pub const SAMPLE_PEAK: usize = 7;
}

impl Default for Meters {
    fn default() -> Self {
        Self {
            values: std::array::from_fn(|_| AtomicF32::new(f32::NEG_INFINITY)),
            short_term_history: SharedHistory::new(HISTORY_POINTS, f32::NEG_INFINITY),
            momentary_history: SharedHistory::new(HISTORY_POINTS, f32::NEG_INFINITY),
            reset: AtomicBool::new(false),
        }
    }
}

/// Everything sized in `activate`.
struct Dsp {
    meter: LoudnessMeter,
    monitor: Monitor,
    publish_interval: usize,
    since_publish: usize,
}

pub struct LatheLoudness {
    params: Arc<LoudnessParams>,
    meters: Arc<Meters>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    dsp: Option<Dsp>,
}

impl Default for LatheLoudness {
    fn default() -> Self {
        Self {
            params: Arc::new(LoudnessParams::default()),
            meters: Arc::new(Meters::default()),
            editor_state: editor::SIZE.state(),
            repaint: RepaintNotifier::new(),
            dsp: None,
        }
    }
}

impl Dsp {
    /// Publishes the readings (to the editor and, as output parameters, to the host) and advances
    /// the histories.
    fn publish(
        &self,
        meters: &Meters,
        readings: &ReadingParams,
        context: &mut impl ProcessContext<LatheLoudness>,
    ) {
        let r = self.meter.reading();
        readings.report(&r, context);
        let values = [
            r.momentary,
            r.short_term,
            r.integrated,
            r.range,
            r.true_peak_db,
            r.momentary_max,
            r.short_term_max,
            r.sample_peak_db,
        ];
        for (atomic, v) in meters.values.iter().zip(values) {
            atomic.store(v as f32, Ordering::Relaxed);
        }
        meters.short_term_history.push(r.short_term as f32);
        meters.momentary_history.push(r.momentary as f32);
    }
}

impl Plugin for LatheLoudness {
    lathe_ui::plugin_common!("Lathe Loudness");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = lathe_ui::plugin::STEREO;

    type Editor = EguiEditor<lathe_ui::editor::Shell<editor::LoudnessEditor>>;

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let rate = buffer_config.sample_rate;
        let Ok(meter) = LoudnessMeter::new(rate.round() as u32, 2) else {
            return false;
        };
        self.dsp = Some(Dsp {
            meter,
            monitor: Monitor::new(rate, Voicing::Off),
            publish_interval: ((rate * PUBLISH_INTERVAL_S) as usize).max(1),
            since_publish: 0,
        });
        context.set_latency_samples(0);
        true
    }

    fn reset(&mut self) {
        if let Some(dsp) = &mut self.dsp {
            dsp.monitor.reset();
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some(dsp) = &mut self.dsp else {
            return ProcessStatus::Error("process() before activate()");
        };
        let [left, right] = buffer.as_slice() else {
            return ProcessStatus::Error("Lathe Loudness needs two channels");
        };
        if self.meters.reset.swap(false, Ordering::Relaxed) {
            dsp.meter.reset();
            dsp.publish(&self.meters, &self.params.readings, context);
        }
        // Measure what comes in, before anything that only changes what is heard.
        if !self.params.meter.pause.value() {
            dsp.meter.process(&[&left[..], &right[..]]);
            dsp.since_publish += left.len();
            if dsp.since_publish >= dsp.publish_interval {
                dsp.since_publish %= dsp.publish_interval;
                dsp.publish(&self.meters, &self.params.readings, context);
                self.repaint.request_repaint();
            }
        }
        let voicing = if self.params.bypass.value() {
            Voicing::Off
        } else {
            self.params.monitor.voicing.value().voicing()
        };
        dsp.monitor.set_voicing(voicing);
        dsp.monitor.process(left, right);
        ProcessStatus::Normal
    }
}

impl ClapPlugin for LatheLoudness {
    const CLAP_ID: &'static str = "audio.lathe.loudness";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("EBU R 128 loudness meter with delivery targets and a translation monitor");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Analyzer,
        ClapFeature::Mastering,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for LatheLoudness {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheLoudness001";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Analyzer,
        Vst3SubCategory::Mastering,
    ];
}

nice_export_clap!(LatheLoudness);
nice_export_vst3!(LatheLoudness);
