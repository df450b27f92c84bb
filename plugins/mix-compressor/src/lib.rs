//! Lathe Compressor: a feed-forward compressor for mixing, with lookahead, peak/RMS detection,
//! auto release and makeup, parallel mix, stereo link, mid/side and an external sidechain input
//! with filters and listen. A thin nice-plug wrapper around `dsp_core::dynamics::Compressor`.

use atomic_float::AtomicF32;
use dsp_core::dynamics::Compressor;
use lathe_ui::params::{report, PeakReading};
use lathe_ui::SharedHistory;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

pub mod editor;
pub mod params;

use params::CompressorParams;

/// Gain-reduction history: one point per `HISTORY_INTERVAL_S`, `HISTORY_POINTS` points (6 s).
pub const HISTORY_POINTS: usize = 600;
pub const HISTORY_INTERVAL_S: f32 = 0.01;

/// What the editor shows; written by the audio thread only while the editor is open.
pub struct Meters {
    /// Peaks since the editor last read them (linear).
    pub input_peak: [AtomicF32; 2],
    pub output_peak: [AtomicF32; 2],
    /// Largest gain reduction since the last read, dB (≥ 0).
    pub reduction_db: AtomicF32,
    /// Highest detector level since the last read, dB: the dot on the transfer curve.
    pub level_db: AtomicF32,
    /// Gain reduction per history point, dB (≤ 0).
    pub reduction_history: SharedHistory,
    pub latency_samples: AtomicU32,
    pub sample_rate: AtomicF32,
}

impl Default for Meters {
    fn default() -> Self {
        Self {
            input_peak: Default::default(),
            output_peak: Default::default(),
            reduction_db: AtomicF32::new(0.0),
            level_db: AtomicF32::new(-200.0),
            reduction_history: SharedHistory::new(HISTORY_POINTS, 0.0),
            latency_samples: AtomicU32::new(0),
            sample_rate: AtomicF32::new(48_000.0),
        }
    }
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

/// Everything sized in `activate`.
struct Dsp {
    compressor: Compressor,
    history_interval: usize,
    history_count: usize,
    history_reduction: f32,
    /// The gain-reduction reading for the host (dB).
    reduction: PeakReading,
}

pub struct LatheCompressor {
    params: Arc<CompressorParams>,
    meters: Arc<Meters>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    dsp: Option<Dsp>,
}

impl Default for LatheCompressor {
    fn default() -> Self {
        Self {
            params: Arc::new(CompressorParams::default()),
            meters: Arc::new(Meters::default()),
            editor_state: editor::SIZE.state(),
            repaint: RepaintNotifier::new(),
            dsp: None,
        }
    }
}

impl Plugin for LatheCompressor {
    lathe_ui::plugin_common!("Lathe Compressor");

    /// Stereo in/out with a stereo sidechain input.
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[AudioIOLayout {
        main_input_channels: NonZeroU32::new(2),
        main_output_channels: NonZeroU32::new(2),
        aux_input_ports: &[new_nonzero_u32(2)],
        aux_output_ports: &[],
        names: PortNames {
            layout: Some("Stereo with sidechain"),
            main_input: Some("Input"),
            main_output: Some("Output"),
            aux_inputs: &["Sidechain"],
            aux_outputs: &[],
        },
    }];

    type Editor = EguiEditor<lathe_ui::editor::Shell<editor::CompressorEditor>>;

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let rate = buffer_config.sample_rate;
        let compressor = Compressor::new(rate, self.params.settings());
        context.set_latency_samples(compressor.latency());
        self.meters
            .latency_samples
            .store(compressor.latency(), Ordering::Relaxed);
        self.meters.sample_rate.store(rate, Ordering::Relaxed);
        self.dsp = Some(Dsp {
            compressor,
            history_interval: ((HISTORY_INTERVAL_S * rate) as usize).max(1),
            history_count: 0,
            history_reduction: 0.0,
            reduction: PeakReading::new(rate),
        });
        true
    }

    fn reset(&mut self) {
        if let Some(dsp) = &mut self.dsp {
            dsp.compressor.reset();
            dsp.reduction.reset();
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some(dsp) = &mut self.dsp else {
            return ProcessStatus::Error("process() before activate()");
        };
        let settings = self.params.settings();
        if *dsp.compressor.settings() != settings.clamped()
            && dsp.compressor.set_settings(&settings)
        {
            let latency = dsp.compressor.latency();
            context.set_latency_samples(latency);
            self.meters
                .latency_samples
                .store(latency, Ordering::Relaxed);
        }
        let [left, right] = buffer.as_slice() else {
            return ProcessStatus::Error("Lathe Compressor needs two channels");
        };
        let sidechain = match aux.inputs.first_mut().map(|b| b.as_slice_immutable()) {
            Some([sl, sr, ..]) => Some((&sl[..], &sr[..])),
            Some([mono]) => Some((&mono[..], &mono[..])),
            _ => None,
        };
        let metering = self.editor_state.is_open();
        if metering {
            raise(&self.meters.input_peak[0], block_peak(left));
            raise(&self.meters.input_peak[1], block_peak(right));
        }
        let stats = dsp.compressor.process(left, right, sidechain);
        // The host's gain-reduction reading, whether or not the editor is open.
        if let Some(db) = dsp.reduction.add(stats.max_reduction_db, left.len()) {
            report(&self.params.readings.gain_reduction, db, context);
        }
        if metering {
            let m = &self.meters;
            raise(&m.output_peak[0], block_peak(left));
            raise(&m.output_peak[1], block_peak(right));
            raise(&m.reduction_db, stats.max_reduction_db);
            raise(&m.level_db, stats.max_level_db);
            dsp.history_reduction = dsp.history_reduction.max(stats.max_reduction_db);
            dsp.history_count += left.len();
            if dsp.history_count >= dsp.history_interval {
                m.reduction_history.push(-dsp.history_reduction);
                dsp.history_count = 0;
                dsp.history_reduction = 0.0;
            }
            self.repaint.request_repaint();
        }
        // The lookahead delay and the release still sound after the input stops.
        ProcessStatus::Tail(dsp.compressor.latency())
    }
}

impl ClapPlugin for LatheCompressor {
    const CLAP_ID: &'static str = "audio.lathe.compressor";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Feed-forward compressor with lookahead, parallel mix and external sidechain");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Compressor,
        ClapFeature::Mixing,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for LatheCompressor {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheCompress001";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Dynamics];
}

nice_export_clap!(LatheCompressor);
nice_export_vst3!(LatheCompressor);
