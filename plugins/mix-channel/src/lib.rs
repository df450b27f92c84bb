//! Lathe Channel: the utility on every track: input gain, polarity, swap, DC block, low and high
//! cut, width, mono, pan or balance with a selectable pan law, volume and mute. A thin nice-plug
//! wrapper around `dsp_core::channel::Channel`; zero latency.

use atomic_float::AtomicF32;
use dsp_core::channel::Channel;
use dsp_core::imager::{CorrelationMeter, CORRELATION_MS};
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub mod editor;
pub mod params;

use params::ChannelParams;

/// What the editor shows: peaks since the editor last read them, and the output correlation.
#[derive(Default)]
pub struct Meters {
    pub input_peak: [AtomicF32; 2],
    pub output_peak: [AtomicF32; 2],
    pub correlation: AtomicF32,
}

pub struct LatheChannel {
    params: Arc<ChannelParams>,
    meters: Arc<Meters>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    /// Created in `activate`.
    dsp: Option<(Channel, CorrelationMeter)>,
}

impl Default for LatheChannel {
    fn default() -> Self {
        Self {
            params: Arc::new(ChannelParams::default()),
            meters: Arc::new(Meters::default()),
            editor_state: editor::SIZE.state(),
            repaint: RepaintNotifier::new(),
            dsp: None,
        }
    }
}

impl Plugin for LatheChannel {
    lathe_ui::plugin_common!("Lathe Channel");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = lathe_ui::plugin::STEREO;

    type Editor = EguiEditor<lathe_ui::editor::Shell<editor::ChannelEditor>>;

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let rate = buffer_config.sample_rate;
        self.dsp = Some((
            Channel::new(rate, self.params.settings()),
            CorrelationMeter::new(rate, CORRELATION_MS),
        ));
        context.set_latency_samples(0);
        true
    }

    fn reset(&mut self) {
        if let Some((dsp, correlation)) = &mut self.dsp {
            dsp.reset();
            correlation.reset();
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some((dsp, correlation)) = &mut self.dsp else {
            return ProcessStatus::Error("process() before activate()");
        };
        let settings = self.params.settings();
        if *dsp.settings() != settings.clamped() {
            dsp.set_settings(&settings);
        }
        let [left, right] = buffer.as_slice() else {
            return ProcessStatus::Error("Lathe Channel needs two channels");
        };
        let metering = self.editor_state.is_open();
        if metering {
            lathe_ui::meter::raise_peak(&self.meters.input_peak[0], left);
            lathe_ui::meter::raise_peak(&self.meters.input_peak[1], right);
        }
        dsp.process(left, right);
        if metering {
            lathe_ui::meter::raise_peak(&self.meters.output_peak[0], left);
            lathe_ui::meter::raise_peak(&self.meters.output_peak[1], right);
            for (&l, &r) in left.iter().zip(right.iter()) {
                correlation.push(l as f64, r as f64);
            }
            self.meters
                .correlation
                .store(correlation.value(), Ordering::Relaxed);
            self.repaint.request_repaint();
        }
        ProcessStatus::Normal
    }
}

impl ClapPlugin for LatheChannel {
    const CLAP_ID: &'static str = "audio.lathe.channel";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Channel utility: gain, pan law, width, polarity, low/high cut, DC block");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Mixing,
        ClapFeature::Utility,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for LatheChannel {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheChannel0001";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Tools];
}

nice_export_clap!(LatheChannel);
nice_export_vst3!(LatheChannel);
