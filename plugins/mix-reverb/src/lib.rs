//! Lathe Reverb: a 16-line feedback-delay-network reverb with per-band decay times, early
//! reflections, diffusion, modulation and freeze. A thin nice-plug wrapper around
//! `dsp_core::reverb::Reverb`; zero latency; the tail is reported to the host.

use atomic_float::AtomicF32;
use dsp_core::reverb::Reverb;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub mod editor;
pub mod params;

use params::ReverbParams;

/// What the editor shows: output peaks since the editor last read them, and the sample rate
/// (for the decay curve).
#[derive(Default)]
pub struct Meters {
    pub output_peak: [AtomicF32; 2],
    pub sample_rate: AtomicF32,
}

pub struct LatheReverb {
    params: Arc<ReverbParams>,
    meters: Arc<Meters>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    /// Set in `activate`: the first block's settings (which know the host tempo) are taken
    /// at once, without gliding from the defaults.
    fresh: bool,
    /// Created in `activate`.
    dsp: Option<Reverb>,
}

impl Default for LatheReverb {
    fn default() -> Self {
        Self {
            params: Arc::new(ReverbParams::default()),
            meters: Arc::new(Meters::default()),
            editor_state: editor::SIZE.state(),
            repaint: RepaintNotifier::new(),
            fresh: true,
            dsp: None,
        }
    }
}

impl Plugin for LatheReverb {
    lathe_ui::plugin_common!("Lathe Reverb");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = lathe_ui::plugin::STEREO;

    type Editor = EguiEditor<lathe_ui::editor::Shell<editor::ReverbEditor>>;

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let rate = buffer_config.sample_rate;
        self.meters.sample_rate.store(rate, Ordering::Relaxed);
        self.dsp = Some(Reverb::new(rate, self.params.settings(None)));
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
        let settings = self.params.settings(context.transport().tempo);
        if *dsp.settings() != settings.clamped() {
            dsp.set_settings(&settings);
        }
        if std::mem::take(&mut self.fresh) {
            // Snaps every glide to the settings (and clears the still-empty lines).
            dsp.reset();
        }
        let [left, right] = buffer.as_slice() else {
            return ProcessStatus::Error("Lathe Reverb needs two channels");
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

impl ClapPlugin for LatheReverb {
    const CLAP_ID: &'static str = "audio.lathe.reverb";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Feedback-delay-network reverb: per-band decay, early reflections, freeze");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Reverb,
        ClapFeature::Mixing,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for LatheReverb {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheReverb00001";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Reverb];
}

nice_export_clap!(LatheReverb);
nice_export_vst3!(LatheReverb);
