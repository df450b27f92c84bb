//! Lathe Master EQ: six bands of bells, shelves, cuts and tilt with mastering ranges, each on
//! stereo, mid or side, run zero-latency (minimum phase) or linear phase, with an auto gain
//! that keeps loudness constant while the curve changes. A thin nice-plug wrapper around
//! `dsp_core::master_eq::MasterEq`.

use atomic_float::AtomicF32;
use dsp_core::master_eq::MasterEq;
use lathe_ui::scope::SharedScope;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

pub mod editor;
pub mod params;

use params::MasterEqParams;

/// Samples the analyzers look at (a power of two).
pub const ANALYZER_SIZE: usize = 8192;

/// What the editor shows; written by the audio thread.
pub struct Meters {
    pub sample_rate: AtomicF32,
    pub latency_samples: AtomicU32,
    pub auto_gain_db: AtomicF32,
    /// Input and output samples for the pre/post analyzers (while the editor is open).
    pub pre: SharedScope,
    pub post: SharedScope,
}

impl Default for Meters {
    fn default() -> Self {
        Self {
            sample_rate: AtomicF32::new(48_000.0),
            latency_samples: AtomicU32::new(0),
            auto_gain_db: AtomicF32::new(0.0),
            pre: SharedScope::new(ANALYZER_SIZE),
            post: SharedScope::new(ANALYZER_SIZE),
        }
    }
}

pub struct LatheMasterEq {
    params: Arc<MasterEqParams>,
    meters: Arc<Meters>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    /// Created in `activate`.
    dsp: Option<MasterEq>,
}

impl Default for LatheMasterEq {
    fn default() -> Self {
        Self {
            params: Arc::new(MasterEqParams::default()),
            meters: Arc::new(Meters::default()),
            editor_state: editor::SIZE.state(),
            repaint: RepaintNotifier::new(),
            dsp: None,
        }
    }
}

/// Publishes the latency and the auto gain for the editor.
fn publish(meters: &Meters, dsp: &MasterEq) {
    meters
        .latency_samples
        .store(dsp.latency(), Ordering::Relaxed);
    meters
        .auto_gain_db
        .store(dsp.auto_gain_db(), Ordering::Relaxed);
}

impl Plugin for LatheMasterEq {
    lathe_ui::plugin_common!("Lathe Master EQ");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = lathe_ui::plugin::STEREO;

    type Editor = EguiEditor<lathe_ui::editor::Shell<editor::MasterEqEditor>>;

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let dsp = MasterEq::new(buffer_config.sample_rate, self.params.settings());
        context.set_latency_samples(dsp.latency());
        self.meters
            .sample_rate
            .store(buffer_config.sample_rate, Ordering::Relaxed);
        publish(&self.meters, &dsp);
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
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some(dsp) = &mut self.dsp else {
            return ProcessStatus::Error("process() before activate()");
        };
        if dsp.set_settings(&self.params.settings()) {
            context.set_latency_samples(dsp.latency());
        }
        let [left, right] = buffer.as_slice() else {
            return ProcessStatus::Error("Lathe Master EQ needs two channels");
        };
        let metering = self.editor_state.is_open();
        if metering {
            self.meters.pre.push_block(left, right, 1);
        }
        dsp.process(left, right);
        if metering {
            self.meters.post.push_block(left, right, 1);
            publish(&self.meters, dsp);
            self.repaint.request_repaint();
        }
        // After the input stops, the delayed audio still comes out for `latency` samples.
        ProcessStatus::Tail(dsp.latency())
    }
}

impl ClapPlugin for LatheMasterEq {
    const CLAP_ID: &'static str = "audio.lathe.master-eq";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Six-band mastering EQ, zero-latency or linear phase, mid/side, auto gain");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Equalizer,
        ClapFeature::Mastering,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for LatheMasterEq {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheMasterEq001";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Eq,
        Vst3SubCategory::Mastering,
    ];
}

nice_export_clap!(LatheMasterEq);
nice_export_vst3!(LatheMasterEq);
