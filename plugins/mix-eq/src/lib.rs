//! Lathe EQ: eight bands of bells, shelves, cuts (6–48 dB/oct), notch, band-pass and tilt, each
//! on stereo, left, right, mid or side, with filters that match their analog prototypes instead
//! of cramping near Nyquist. Zero latency. A thin nice-plug wrapper around
//! `dsp_core::eq::Equalizer`.

use atomic_float::AtomicF32;
use dsp_core::eq::Equalizer;
use lathe_ui::scope::SharedScope;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub mod editor;
pub mod params;

use params::EqParams;

/// Samples the analyzers look at (a power of two).
pub const ANALYZER_SIZE: usize = 4096;

/// What the editor shows; written by the audio thread only while the editor is open.
pub struct Meters {
    pub sample_rate: AtomicF32,
    /// Input and output samples for the pre/post analyzers.
    pub pre: SharedScope,
    pub post: SharedScope,
}

impl Default for Meters {
    fn default() -> Self {
        Self {
            sample_rate: AtomicF32::new(48_000.0),
            pre: SharedScope::new(ANALYZER_SIZE),
            post: SharedScope::new(ANALYZER_SIZE),
        }
    }
}

pub struct LatheEq {
    params: Arc<EqParams>,
    meters: Arc<Meters>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    /// Created in `activate`.
    dsp: Option<Equalizer>,
}

impl Default for LatheEq {
    fn default() -> Self {
        Self {
            params: Arc::new(EqParams::default()),
            meters: Arc::new(Meters::default()),
            editor_state: editor::SIZE.state(),
            repaint: RepaintNotifier::new(),
            dsp: None,
        }
    }
}

impl Plugin for LatheEq {
    lathe_ui::plugin_common!("Lathe EQ");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = lathe_ui::plugin::STEREO;

    type Editor = EguiEditor<lathe_ui::editor::Shell<editor::EqEditor>>;

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let dsp = Equalizer::new(buffer_config.sample_rate, self.params.settings());
        context.set_latency_samples(dsp.latency());
        self.meters
            .sample_rate
            .store(buffer_config.sample_rate, Ordering::Relaxed);
        self.dsp = Some(dsp);
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
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some(dsp) = &mut self.dsp else {
            return ProcessStatus::Error("process() before activate()");
        };
        let settings = self.params.settings();
        if *dsp.settings() != settings {
            dsp.set_settings(&settings);
        }
        let [left, right] = buffer.as_slice() else {
            return ProcessStatus::Error("Lathe EQ needs two channels");
        };
        let metering = self.editor_state.is_open();
        if metering {
            self.meters.pre.push_block(left, right, 1);
        }
        dsp.process(left, right);
        if metering {
            self.meters.post.push_block(left, right, 1);
            self.repaint.request_repaint();
        }
        ProcessStatus::Normal
    }
}

impl ClapPlugin for LatheEq {
    const CLAP_ID: &'static str = "audio.lathe.eq";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Eight-band mixing EQ with analog-matched bells, shelves and cuts");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Equalizer,
        ClapFeature::Mixing,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for LatheEq {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheMixEq000001";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Eq];
}

nice_export_clap!(LatheEq);
nice_export_vst3!(LatheEq);
