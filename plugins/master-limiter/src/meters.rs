//! Values the audio thread publishes for the editor: lock-free atomics, written only while the
//! editor is open.

use atomic_float::AtomicF32;
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
