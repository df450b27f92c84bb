//! Lathe Delay: a stereo or ping-pong delay in ms or note values synced to the host tempo,
//! with filtered, saturated feedback, ducking and modulation. A thin nice-plug wrapper around
//! `dsp_core::echo::Echo`; zero latency; the tail is reported to the host.

use atomic_float::AtomicF32;
use dsp_core::echo::Echo;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub mod editor;
pub mod params;

use params::{DelayParams, Tempo};

/// What the editor shows: output peaks since the editor last read them, and the sample rate
/// (for the tap display).
#[derive(Default)]
pub struct Meters {
    pub output_peak: [AtomicF32; 2],
    pub sample_rate: AtomicF32,
    /// The delay times in use (ms, after tempo sync) and the host tempo (0 if none).
    pub time_ms: [AtomicF32; 2],
    pub bpm: AtomicF32,
}

pub struct LatheDelay {
    params: Arc<DelayParams>,
    meters: Arc<Meters>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    /// Set in `activate`: the first block's settings (which know the host tempo) are taken
    /// at once, without gliding from the defaults.
    fresh: bool,
    /// Created in `activate`.
    dsp: Option<Echo>,
}

impl Default for LatheDelay {
    fn default() -> Self {
        Self {
            params: Arc::new(DelayParams::default()),
            meters: Arc::new(Meters::default()),
            editor_state: editor::SIZE.state(),
            repaint: RepaintNotifier::new(),
            fresh: true,
            dsp: None,
        }
    }
}

impl Plugin for LatheDelay {
    lathe_ui::plugin_common!("Lathe Delay");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = lathe_ui::plugin::STEREO;

    type Editor = EguiEditor<lathe_ui::editor::Shell<editor::DelayEditor>>;

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let rate = buffer_config.sample_rate;
        self.meters.sample_rate.store(rate, Ordering::Relaxed);
        self.dsp = Some(Echo::new(rate, self.params.settings(Tempo::default())));
        context.set_latency_samples(0);
        self.fresh = true;
        true
    }

    fn reset(&mut self) {
        if let Some(dsp) = &mut self.dsp {
            dsp.reset();
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
        let transport = context.transport();
        let tempo = Tempo {
            bpm: transport.tempo,
            quarters_per_bar: match (transport.time_sig_numerator, transport.time_sig_denominator) {
                (Some(n), Some(d)) if n > 0 && d > 0 => Some(n as f64 * 4.0 / d as f64),
                _ => None,
            },
        };
        let settings = self.params.settings(tempo);
        self.meters.time_ms[0].store(settings.times_ms()[0], Ordering::Relaxed);
        self.meters.time_ms[1].store(settings.times_ms()[1], Ordering::Relaxed);
        if let Some(bpm) = tempo.bpm {
            self.meters.bpm.store(bpm as f32, Ordering::Relaxed);
        }
        if *dsp.settings() != settings.clamped() {
            dsp.set_settings(&settings);
        }
        if std::mem::take(&mut self.fresh) {
            // Snaps every glide to the settings (and clears the still-empty lines).
            dsp.reset();
        }
        let [left, right] = buffer.as_slice() else {
            return ProcessStatus::Error("Lathe Delay needs two channels");
        };
        dsp.process(left, right);
        if self.editor_state.is_open() {
            lathe_ui::meter::raise_peak(&self.meters.output_peak[0], left);
            lathe_ui::meter::raise_peak(&self.meters.output_peak[1], right);
            self.repaint.request_repaint();
        }
        match dsp.tail_samples() {
            Some(samples) => ProcessStatus::Tail(samples),
            None => ProcessStatus::KeepAlive,
        }
    }
}

impl ClapPlugin for LatheDelay {
    const CLAP_ID: &'static str = "audio.lathe.delay";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Stereo and ping-pong delay: synced note values, filtered feedback, ducking");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Delay,
        ClapFeature::Mixing,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for LatheDelay {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheDelay000001";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Delay];
}

nice_export_clap!(LatheDelay);
nice_export_vst3!(LatheDelay);
