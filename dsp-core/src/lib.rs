//! Lathe's DSP: every processor the plugins and the CLI use, with no plugin framework.
//!
//! # The processor contract
//! Every processor in this crate follows the same shape:
//! - `new(sample_rate, max_block)` (or `new(..)` plus settings) does **all** allocation, sized for
//!   the largest case the processor can be configured for. Nothing allocates, locks or does I/O
//!   afterwards.
//! - `reset()` clears the signal state (delay lines, envelopes) and nothing else.
//! - `process(..)` works in place on a block of any length.
//! - Processors that delay the signal report it with `latency() -> u32` (samples).
//!
//! Parameters are set in physical units (dB, Hz, ms); conversion to per-sample values happens in
//! setters that know the sample rate.

pub mod biquad;
pub mod channel;
pub mod crossover;
pub mod db;
pub mod delay;
pub mod denormal;
pub mod dither;
pub mod dynamics;
pub mod echo;
pub mod eq;
pub mod imager;
pub mod kernels;
pub mod kweight;
pub(crate) mod lanes;
pub mod limiter;
pub mod linear_phase;
pub mod loudness;
pub mod master_eq;
pub mod math;
pub mod minmax;
pub mod monitor;
pub mod multiband;
pub mod noise;
pub mod oversampling;
pub mod reverb;
pub mod smoother;

pub use db::{db_to_gain, gain_to_db};
pub use delay::DelayLine;
pub use limiter::{HeldGainLanes, Limiter, LimiterSettings, LimiterStats, GAIN_LANES};
pub use oversampling::{Oversampling, TruePeakDetector};
pub use smoother::Smoother;

/// `value` clamped into `range` (inclusive), or `fallback` if it is NaN: how every settings
/// struct here sanitises what a host sends.
pub fn clamp_or(value: f32, (lo, hi): (f32, f32), fallback: f32) -> f32 {
    if value.is_nan() {
        fallback
    } else {
        value.clamp(lo, hi)
    }
}

/// The widest channel layout the processors here are written for.
pub const MAX_CHANNELS: usize = 2;
