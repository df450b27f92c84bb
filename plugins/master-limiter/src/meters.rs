//! Values the audio thread publishes for the editor: lock-free atomics, written only while the
//! editor is open.

use atomic_float::AtomicF32;
use dsp_core::TruePeakDetector;
use lathe_ui::SharedHistory;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Gain-reduction history: one point per `HISTORY_INTERVAL_S`, `HISTORY_POINTS` points (6 s).
pub const HISTORY_POINTS: usize = 600;
pub const HISTORY_INTERVAL_S: f32 = 0.01;

/// Largest levels seen since the editor last read them (linear), and the GR history (dB).
pub struct Meters {
    pub input_peak: [AtomicF32; 2],
    pub input_true_peak: AtomicF32,
    pub output_peak: [AtomicF32; 2],
    pub output_true_peak: [AtomicF32; 2],
    /// Smallest limiter gain since the last read (1 = no reduction).
    pub min_gain: AtomicF32,
    pub reduction_history: SharedHistory,
    /// The latency the plugin reports, and the rate it runs at, for the latency readout.
    pub latency_samples: AtomicU32,
    pub sample_rate: AtomicF32,
    /// Output loudness while the editor is open: momentary, short-term, integrated (LUFS) and
    /// true peak (dBTP); `-inf` until measured.
    pub loudness: [AtomicF32; 4],
    /// Set by the editor's reset button, cleared by the audio thread when it has reset.
    pub loudness_reset: AtomicBool,
}

impl Default for Meters {
    fn default() -> Self {
        Self {
            input_peak: Default::default(),
            input_true_peak: AtomicF32::new(0.0),
            output_peak: Default::default(),
            output_true_peak: Default::default(),
            min_gain: AtomicF32::new(1.0),
            reduction_history: SharedHistory::new(HISTORY_POINTS, 0.0),
            latency_samples: AtomicU32::new(0),
            sample_rate: AtomicF32::new(48_000.0),
            loudness: std::array::from_fn(|_| AtomicF32::new(f32::NEG_INFINITY)),
            loudness_reset: AtomicBool::new(false),
        }
    }
}

/// Raises an atomic to `value` if it is larger (audio thread; single writer).
pub fn raise(atomic: &AtomicF32, value: f32) {
    if value > atomic.load(Ordering::Relaxed) {
        atomic.store(value, Ordering::Relaxed);
    }
}

/// The input's true peak after the drive (linear): the largest BS.1770 (4x) reading of any
/// channel in this block, times `drive` (the meters are linear, so metering the input and
/// scaling is metering the driven input). A meter of its own, whatever the limiter detects with
/// (8x with its band-edge bound, or sample peaks with True Peak off).
pub fn input_true_peak(
    detectors: &mut [TruePeakDetector],
    channels: &[&mut [f32]],
    drive: f32,
) -> f32 {
    detectors
        .iter_mut()
        .zip(channels)
        .map(|(detector, channel)| detector.block_peak(channel) * drive)
        .fold(0.0, f32::max)
}

/// Lowers an atomic to `value` if it is smaller (audio thread; single writer).
pub fn lower(atomic: &AtomicF32, value: f32) {
    if value < atomic.load(Ordering::Relaxed) {
        atomic.store(value, Ordering::Relaxed);
    }
}

/// Reads and resets a peak (editor thread).
pub fn take(atomic: &AtomicF32, reset_to: f32) -> f32 {
    atomic.swap(reset_to, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsp_core::oversampling::Oversampling;

    /// A sine at fs/4 sampled at 45°: its samples peak 3 dB under its true peak. Driven by
    /// 6.02 dB from half scale, the input meter reads 0 dBTP (within the 4x filter's 0.05 dB),
    /// not the −3 dB of its samples.
    #[test]
    fn input_true_peak_reads_the_driven_inter_sample_peak() {
        let rate = 48_000.0;
        let signal: Vec<f32> = (0..4_800)
            .map(|n| {
                let phase = std::f64::consts::FRAC_PI_2 * n as f64 + std::f64::consts::FRAC_PI_4;
                (0.5 * phase.sin()) as f32
            })
            .collect();
        let sample_peak = signal.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!((20.0 * (2.0 * sample_peak).log10() + 3.01).abs() < 0.01);
        let mut detectors = [
            TruePeakDetector::new(rate, Oversampling::X4),
            TruePeakDetector::new(rate, Oversampling::X4),
        ];
        let (mut left, mut right) = (signal.clone(), signal);
        let (left_onset, left_steady) = left.split_at_mut(2_400);
        let (right_onset, right_steady) = right.split_at_mut(2_400);
        // The onset rings (the tone starts at full level); the steady half is measured.
        input_true_peak(&mut detectors, &[left_onset, right_onset], 2.0);
        let peak = input_true_peak(&mut detectors, &[left_steady, right_steady], 2.0);
        let db = 20.0 * peak.log10();
        assert!(db.abs() < 0.05, "{db} dBTP");
    }
}
