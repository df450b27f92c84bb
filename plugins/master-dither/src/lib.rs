//! Lathe Dither: reduces the word length of the master (8–24 bits) with RPDF, TPDF or high-pass
//! TPDF dither and optional noise shaping. A thin nice-plug wrapper around
//! `dsp_core::dither::Dither`; zero latency.

use atomic_float::AtomicF32;
use dsp_core::dither::Dither;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub mod editor;
pub mod params;

use params::DitherParams;

/// Values the editor shows: output peak since the last read, and the rate in use.
#[derive(Default)]
pub struct Meters {
    pub output_peak: AtomicF32,
    pub sample_rate: AtomicF32,
}

pub struct LatheDither {
    params: Arc<DitherParams>,
    meters: Arc<Meters>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    /// Created in `activate`.
    dsp: Option<Dither>,
    sample_rate: f32,
}

impl Default for LatheDither {
    fn default() -> Self {
        Self {
            params: Arc::new(DitherParams::default()),
            meters: Arc::new(Meters::default()),
            editor_state: editor::SIZE.state(),
            repaint: RepaintNotifier::new(),
            dsp: None,
            sample_rate: 48_000.0,
        }
    }
}

impl Plugin for LatheDither {
    lathe_ui::plugin_common!("Lathe Dither");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = lathe_ui::plugin::STEREO_OR_MONO;

    type Editor = EguiEditor<lathe_ui::editor::Shell<editor::DitherEditor>>;

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let channels = audio_io_layout
            .main_output_channels
            .map(NonZeroU32::get)
            .unwrap_or(2) as usize;
        self.sample_rate = buffer_config.sample_rate;
        self.meters
            .sample_rate
            .store(self.sample_rate, Ordering::Relaxed);
        // Fixed seed: the same input and settings always give the same output (state round
        // trips and renders are reproducible); channels still get independent noise.
        self.dsp = Some(Dither::new(
            self.sample_rate,
            channels,
            self.params.settings(),
            0x1a7e,
        ));
        context.set_latency_samples(0);
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
        let channels = buffer.as_slice();
        if self.params.bypass.value() {
            // Bypassed: the input unchanged (zero latency either way).
            return ProcessStatus::Normal;
        }
        let settings = self.params.settings();
        if *dsp.settings() != settings {
            dsp.set_settings(self.sample_rate, settings);
        }
        dsp.process(channels);
        if self.editor_state.is_open() {
            let peak = channels
                .iter()
                .flat_map(|c| c.iter())
                .fold(0.0f32, |m, x| m.max(x.abs()));
            if peak > self.meters.output_peak.load(Ordering::Relaxed) {
                self.meters.output_peak.store(peak, Ordering::Relaxed);
            }
            self.repaint.request_repaint();
        }
        ProcessStatus::Normal
    }
}

impl ClapPlugin for LatheDither {
    const CLAP_ID: &'static str = "audio.lathe.dither";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Word-length reduction with TPDF dither and noise shaping");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Mastering,
        ClapFeature::Utility,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for LatheDither {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheDither00001";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Mastering,
        Vst3SubCategory::Tools,
    ];
}

nice_export_clap!(LatheDither);
nice_export_vst3!(LatheDither);
