//! Lathe Master Dynamics: a bus ("glue") compressor, or up to four Linkwitz-Riley bands with a
//! compressor each, stereo-linked or mid/side, with a global mix and output. Zero latency. A thin
//! nice-plug wrapper around `dsp_core::multiband::MultibandDynamics`.

use atomic_float::AtomicF32;
use dsp_core::crossover::MAX_BANDS;
use dsp_core::multiband::MultibandDynamics;
use lathe_ui::params::{report, PeakReading};
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub mod editor;
pub mod params;

use params::MasterDynamicsParams;

/// What the editor shows; written by the audio thread only while the editor is open.
#[derive(Default)]
pub struct Meters {
    /// Peaks since the editor last read them (linear).
    pub input_peak: [AtomicF32; 2],
    pub output_peak: [AtomicF32; 2],
    /// Largest gain reduction of each band since the last read, dB (≥ 0).
    pub reduction_db: [AtomicF32; MAX_BANDS],
}

/// Raises `meter` to `value` if larger (audio thread; single writer).
fn raise(meter: &AtomicF32, value: f32) {
    if value > meter.load(Ordering::Relaxed) {
        meter.store(value, Ordering::Relaxed);
    }
}

fn block_peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

pub struct LatheMasterDynamics {
    params: Arc<MasterDynamicsParams>,
    meters: Arc<Meters>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    /// Created in `activate`.
    dsp: Option<MultibandDynamics>,
    /// Each band's gain-reduction reading for the host (dB).
    reductions: [PeakReading; MAX_BANDS],
}

impl Default for LatheMasterDynamics {
    fn default() -> Self {
        Self {
            params: Arc::new(MasterDynamicsParams::default()),
            meters: Arc::new(Meters::default()),
            editor_state: editor::SIZE.state(),
            repaint: RepaintNotifier::new(),
            dsp: None,
            reductions: std::array::from_fn(|_| PeakReading::new(48_000.0)),
        }
    }
}

impl Plugin for LatheMasterDynamics {
    lathe_ui::plugin_common!("Lathe Master Dynamics");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = lathe_ui::plugin::STEREO;

    type Editor = EguiEditor<lathe_ui::editor::Shell<editor::MasterDynamicsEditor>>;

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let dsp = MultibandDynamics::new(buffer_config.sample_rate, self.params.settings());
        self.reductions = std::array::from_fn(|_| PeakReading::new(buffer_config.sample_rate));
        context.set_latency_samples(dsp.latency());
        self.dsp = Some(dsp);
        true
    }

    fn reset(&mut self) {
        if let Some(dsp) = &mut self.dsp {
            dsp.reset();
        }
        self.reductions.iter_mut().for_each(PeakReading::reset);
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
        let settings = self.params.settings();
        if *dsp.settings() != settings.clamped() {
            dsp.set_settings(&settings);
        }
        let [left, right] = buffer.as_slice() else {
            return ProcessStatus::Error("Lathe Master Dynamics needs two channels");
        };
        let metering = self.editor_state.is_open();
        if metering {
            raise(&self.meters.input_peak[0], block_peak(left));
            raise(&self.meters.input_peak[1], block_peak(right));
        }
        let stats = dsp.process(left, right);
        // The host's gain-reduction readings, whether or not the editor is open.
        for ((reading, param), db) in self
            .reductions
            .iter_mut()
            .zip(self.params.readings.reductions())
            .zip(stats.max_reduction_db)
        {
            if let Some(db) = reading.add(db, left.len()) {
                report(param, db, context);
            }
        }
        if metering {
            let m = &self.meters;
            raise(&m.output_peak[0], block_peak(left));
            raise(&m.output_peak[1], block_peak(right));
            for (meter, reduction) in m.reduction_db.iter().zip(stats.max_reduction_db) {
                raise(meter, reduction);
            }
            self.repaint.request_repaint();
        }
        ProcessStatus::Normal
    }
}

impl ClapPlugin for LatheMasterDynamics {
    const CLAP_ID: &'static str = "audio.lathe.master-dynamics";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Bus compressor or up to four Linkwitz-Riley bands, stereo or mid/side");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Compressor,
        ClapFeature::Mastering,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for LatheMasterDynamics {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheMasterDyn01";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Dynamics,
        Vst3SubCategory::Mastering,
    ];
}

nice_export_clap!(LatheMasterDynamics);
nice_export_vst3!(LatheMasterDynamics);
