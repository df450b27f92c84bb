//! Lathe Imager: up to four bands of stereo width, bass mono, balance and a mono check, with
//! correlation meters and a vectorscope. A thin nice-plug wrapper around
//! `dsp_core::imager::Imager`; zero latency.

use atomic_float::AtomicF32;
use dsp_core::imager::Imager;
use lathe_ui::scope::SharedScope;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub mod editor;
pub mod params;

use params::ImagerParams;

/// Points the vectorscope keeps.
const SCOPE_POINTS: usize = 2048;
/// Rate the vectorscope is fed at (every n-th sample pair so that about this many per second).
const SCOPE_RATE_HZ: f32 = 12_000.0;

/// What the editor shows, written by the audio thread.
pub struct Meters {
    pub correlation: AtomicF32,
    pub band_correlation: [AtomicF32; 4],
    pub scope: SharedScope,
}

impl Default for Meters {
    fn default() -> Self {
        Self {
            correlation: AtomicF32::new(0.0),
            band_correlation: Default::default(),
            scope: SharedScope::new(SCOPE_POINTS),
        }
    }
}

pub struct LatheImager {
    params: Arc<ImagerParams>,
    meters: Arc<Meters>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    /// Created in `activate`.
    dsp: Option<Imager>,
    scope_step: usize,
}

impl Default for LatheImager {
    fn default() -> Self {
        Self {
            params: Arc::new(ImagerParams::default()),
            meters: Arc::new(Meters::default()),
            editor_state: editor::SIZE.state(),
            repaint: RepaintNotifier::new(),
            dsp: None,
            scope_step: 4,
        }
    }
}

impl Plugin for LatheImager {
    lathe_ui::plugin_common!("Lathe Imager");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = lathe_ui::plugin::STEREO;

    type Editor = EguiEditor<lathe_ui::editor::Shell<editor::ImagerEditor>>;

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let rate = buffer_config.sample_rate;
        self.dsp = Some(Imager::new(rate, self.params.settings()));
        self.scope_step = ((rate / SCOPE_RATE_HZ).round() as usize).max(1);
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
        let settings = self.params.settings();
        if *dsp.settings() != settings.clamped() {
            dsp.set_settings(&settings);
        }
        let [left, right] = buffer.as_slice() else {
            return ProcessStatus::Error("Lathe Imager needs two channels");
        };
        dsp.process(left, right);
        if self.editor_state.is_open() {
            let m = &self.meters;
            m.correlation.store(dsp.correlation(), Ordering::Relaxed);
            for (band, meter) in m.band_correlation.iter().enumerate() {
                meter.store(dsp.band_correlation(band), Ordering::Relaxed);
            }
            m.scope.push_block(left, right, self.scope_step);
            self.repaint.request_repaint();
        }
        ProcessStatus::Normal
    }
}

impl ClapPlugin for LatheImager {
    const CLAP_ID: &'static str = "audio.lathe.imager";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Multiband stereo width, bass mono and correlation metering");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Mastering,
        ClapFeature::Utility,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for LatheImager {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheImager00001";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Spatial,
        Vst3SubCategory::Mastering,
    ];
}

nice_export_clap!(LatheImager);
nice_export_vst3!(LatheImager);
