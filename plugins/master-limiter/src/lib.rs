//! Lathe Limiter: a true-peak lookahead limiter for the master bus. A thin nice-plug wrapper
//! around `dsp_core::Limiter`: parameters, state, meters and the editor live here; all DSP lives
//! in dsp-core.

use dsp_core::loudness::LoudnessMeter;
use dsp_core::oversampling::Oversampling;
use dsp_core::{gain_to_db, Limiter, TruePeakDetector};
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub mod editor;
pub mod meters;
pub mod params;

use lathe_ui::params::{report, PeakReading};
use meters::{lower, raise, Meters, HISTORY_INTERVAL_S};
use params::LimiterParams;

pub struct LatheLimiter {
    params: Arc<LimiterParams>,
    meters: Arc<Meters>,
    editor_state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    /// Created in `activate` for the host's sample rate and channel count.
    dsp: Option<Dsp>,
}

/// Everything sized in `activate`, so `process` never allocates.
struct Dsp {
    limiter: Limiter,
    /// BS.1770 4x meters on the input and the output, run only while the editor is open.
    input_meters: [TruePeakDetector; 2],
    output_meters: [TruePeakDetector; 2],
    /// GR history: samples per history point, samples counted, smallest gain in this point.
    history_interval: usize,
    history_count: usize,
    history_min_gain: f32,
    /// Output loudness (BS.1770), run while the editor is open; readings published every
    /// `loudness_interval` samples (a query sums the whole 3 s window).
    loudness: LoudnessMeter,
    loudness_interval: usize,
    loudness_count: usize,
    /// The gain-reduction reading for the host (dB).
    reduction: PeakReading,
}

impl Default for LatheLimiter {
    fn default() -> Self {
        Self {
            params: Arc::new(LimiterParams::default()),
            meters: Arc::new(Meters::default()),
            editor_state: editor::SIZE.state(),
            repaint: RepaintNotifier::new(),
            dsp: None,
        }
    }
}

impl Plugin for LatheLimiter {
    lathe_ui::plugin_common!("Lathe Limiter");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = lathe_ui::plugin::STEREO_OR_MONO;

    type Editor = EguiEditor<lathe_ui::editor::Shell<editor::LimiterEditor>>;

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
        let sample_rate = buffer_config.sample_rate;
        let limiter = Limiter::new(sample_rate, channels, self.params.settings());
        context.set_latency_samples(limiter.latency());
        self.meters
            .latency_samples
            .store(limiter.latency(), Ordering::Relaxed);
        self.meters
            .sample_rate
            .store(sample_rate, Ordering::Relaxed);
        self.dsp = Some(Dsp {
            limiter,
            input_meters: [
                TruePeakDetector::new(sample_rate, Oversampling::X4),
                TruePeakDetector::new(sample_rate, Oversampling::X4),
            ],
            output_meters: [
                TruePeakDetector::new(sample_rate, Oversampling::X4),
                TruePeakDetector::new(sample_rate, Oversampling::X4),
            ],
            history_interval: ((HISTORY_INTERVAL_S * sample_rate) as usize).max(1),
            history_count: 0,
            history_min_gain: 1.0,
            loudness: match LoudnessMeter::new(sample_rate as u32, channels) {
                Ok(meter) => meter,
                Err(_) => return false,
            },
            loudness_interval: (sample_rate / 10.0) as usize,
            loudness_count: 0,
            reduction: PeakReading::new(sample_rate),
        });
        true
    }

    fn reset(&mut self) {
        if let Some(dsp) = &mut self.dsp {
            dsp.limiter.reset();
            dsp.input_meters
                .iter_mut()
                .chain(&mut dsp.output_meters)
                .for_each(TruePeakDetector::reset);
            dsp.reduction.reset();
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
        if dsp.limiter.set_settings(&self.params.settings()) {
            context.set_latency_samples(dsp.limiter.latency());
            self.meters
                .latency_samples
                .store(dsp.limiter.latency(), Ordering::Relaxed);
        }
        let metering = self.editor_state.is_open();
        let channels = buffer.as_slice();
        if metering {
            let drive = dsp_core::db_to_gain(self.params.gain.input_gain.value());
            for (channel, meter) in channels.iter().zip(&self.meters.input_peak) {
                let peak = channel.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                raise(meter, peak * drive);
            }
            raise(
                &self.meters.input_true_peak,
                meters::input_true_peak(&mut dsp.input_meters, channels, drive),
            );
        }

        let stats = dsp.limiter.process(channels);

        // The host's gain-reduction reading, whether or not the editor is open.
        let samples = channels.first().map_or(0, |c| c.len());
        if let Some(db) = dsp.reduction.add(-gain_to_db(stats.min_gain), samples) {
            report(&self.params.readings.gain_reduction, db, context);
        }

        if metering {
            let meters = &self.meters;
            lower(&meters.min_gain, stats.min_gain);
            for ((channel, detector), (peak, true_peak)) in channels
                .iter()
                .zip(&mut dsp.output_meters)
                .zip(meters.output_peak.iter().zip(&meters.output_true_peak))
            {
                raise(peak, channel.iter().fold(0.0f32, |m, x| m.max(x.abs())));
                raise(true_peak, detector.block_peak(channel));
            }
            dsp.history_min_gain = dsp.history_min_gain.min(stats.min_gain);
            dsp.history_count += channels.first().map_or(0, |c| c.len());
            if dsp.history_count >= dsp.history_interval {
                meters
                    .reduction_history
                    .push(gain_to_db(dsp.history_min_gain).min(0.0));
                dsp.history_count = 0;
                dsp.history_min_gain = 1.0;
            }
            if meters.loudness_reset.swap(false, Ordering::Relaxed) {
                dsp.loudness.reset();
            }
            let mut views: [&[f32]; 2] = [&[], &[]];
            for (view, channel) in views.iter_mut().zip(channels.iter()) {
                *view = channel;
            }
            dsp.loudness.process(&views[..channels.len().min(2)]);
            dsp.loudness_count += channels.first().map_or(0, |c| c.len());
            if dsp.loudness_count >= dsp.loudness_interval {
                dsp.loudness_count = 0;
                let reading = dsp.loudness.reading();
                let values = [
                    reading.momentary,
                    reading.short_term,
                    reading.integrated,
                    reading.true_peak_db,
                ];
                for (atomic, value) in meters.loudness.iter().zip(values) {
                    atomic.store(value as f32, Ordering::Relaxed);
                }
            }
            self.repaint.request_repaint();
        }
        // After the input stops, the delayed audio still comes out for `latency` samples.
        ProcessStatus::Tail(dsp.limiter.latency())
    }
}

impl ClapPlugin for LatheLimiter {
    const CLAP_ID: &'static str = "audio.lathe.limiter";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("True-peak lookahead limiter with oversampled detection");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Limiter,
        ClapFeature::Mastering,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for LatheLimiter {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheLimiter0001";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Dynamics,
        Vst3SubCategory::Mastering,
    ];
}

nice_export_clap!(LatheLimiter);
nice_export_vst3!(LatheLimiter);
