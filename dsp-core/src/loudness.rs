//! Loudness metering after ITU-R BS.1770-4 and EBU R 128 (Tech 3341 / 3342): momentary (400 ms),
//! short-term (3 s), integrated (gated at −70 LUFS absolute and −10 LU relative), loudness range
//! (Tech 3342), sample peak and true peak, and PLR.
//!
//! Loudness comes from the `ebur128` crate (a maintained Rust implementation of libebur128) in
//! histogram mode: integrated loudness and LRA come from fixed-size histograms of block energies,
//! so memory does not grow with programme length and nothing allocates while metering (tested
//! with a counting allocator). K-weighting is derived for the actual sample rate.
//!
//! True peak does not come from the crate: its interpolator over-reads a sine at fs/6 by 0.36 dB
//! at 44.1 kHz, outside Tech 3341's +0.2 dB tolerance (case 17). Our own detector
//! ([`crate::oversampling`], 8x scaled by rate, interpolation only) reads it within 0.01 dB.
//!
//! Blocks that contain NaN or ±inf are not metered (they would poison the filters and the
//! integration); they are counted instead, so a host or the CLI can report them.

use crate::oversampling::{Oversampling, TruePeakDetector};
use ebur128::{Channel as EbuChannel, EbuR128, Mode};

/// A delivery target: integrated loudness and the true-peak limit that goes with it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoudnessTarget {
    pub name: &'static str,
    /// Integrated loudness, LUFS.
    pub integrated: f64,
    /// Highest true peak, dBTP.
    pub true_peak: f64,
}

/// Common streaming and broadcast targets (published platform guidance; EBU R 128, ATSC A/85).
pub const TARGETS: &[LoudnessTarget] = &[
    LoudnessTarget {
        name: "Spotify",
        integrated: -14.0,
        true_peak: -1.0,
    },
    LoudnessTarget {
        name: "Apple Music",
        integrated: -16.0,
        true_peak: -1.0,
    },
    LoudnessTarget {
        name: "YouTube",
        integrated: -14.0,
        true_peak: -1.0,
    },
    LoudnessTarget {
        name: "Amazon Music",
        integrated: -14.0,
        true_peak: -2.0,
    },
    LoudnessTarget {
        name: "Tidal",
        integrated: -14.0,
        true_peak: -1.0,
    },
    LoudnessTarget {
        name: "Deezer",
        integrated: -15.0,
        true_peak: -1.0,
    },
    LoudnessTarget {
        name: "EBU R 128",
        integrated: -23.0,
        true_peak: -1.0,
    },
    LoudnessTarget {
        name: "ATSC A/85",
        integrated: -24.0,
        true_peak: -2.0,
    },
];

/// Loudness of silence / no measurement yet.
pub const NO_LOUDNESS: f64 = f64::NEG_INFINITY;

/// A BS.1770 / EBU R 128 loudness meter for 1 to 8 channels.
pub struct LoudnessMeter {
    meter: EbuR128,
    channels: usize,
    sample_rate: u32,
    /// Blocks skipped because they held non-finite samples.
    skipped_blocks: u64,
    /// True-peak detector and the largest reading since the reset, per channel.
    detectors: Vec<TruePeakDetector>,
    true_peaks: Vec<f32>,
}

impl std::fmt::Debug for LoudnessMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoudnessMeter")
            .field("channels", &self.channels)
            .field("sample_rate", &self.sample_rate)
            .finish()
    }
}

/// What the meter reads now, in LUFS / LU / dBTP / dBFS (`-inf` where there is nothing yet).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoudnessReading {
    pub momentary: f64,
    pub short_term: f64,
    pub integrated: f64,
    pub range: f64,
    pub true_peak_db: f64,
    pub sample_peak_db: f64,
}

impl LoudnessReading {
    /// Peak-to-loudness ratio: true peak minus integrated loudness (LU), when both exist.
    pub fn plr(&self) -> Option<f64> {
        (self.true_peak_db.is_finite() && self.integrated.is_finite())
            .then_some(self.true_peak_db - self.integrated)
    }
}

impl LoudnessMeter {
    /// A meter for `channels` channels at `sample_rate` Hz. Channels are weighted as BS.1770
    /// prescribes for their position: for 1–2 channels, (left, right); for 5, (L, R, C, Ls, Rs)
    /// with the surround channels at +1.5 dB; for 6, (L, R, C, LFE (not counted), Ls, Rs).
    pub fn new(sample_rate: u32, channels: usize) -> Result<Self, String> {
        let channels = channels.clamp(1, 8);
        let mode = Mode::M | Mode::S | Mode::I | Mode::LRA | Mode::SAMPLE_PEAK | Mode::HISTOGRAM;
        let mut meter = EbuR128::new(channels as u32, sample_rate, mode)
            .map_err(|e| format!("cannot meter {channels} channels at {sample_rate} Hz: {e}"))?;
        if channels == 6 {
            let map = [
                EbuChannel::Left,
                EbuChannel::Right,
                EbuChannel::Center,
                EbuChannel::Unused,
                EbuChannel::LeftSurround,
                EbuChannel::RightSurround,
            ];
            meter.set_channel_map(&map).map_err(|e| e.to_string())?;
        }
        let detector = TruePeakDetector::new(sample_rate as f32, Oversampling::X8).accurate();
        Ok(Self {
            meter,
            channels,
            sample_rate,
            skipped_blocks: 0,
            detectors: vec![detector; channels],
            true_peaks: vec![0.0; channels],
        })
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Forgets everything measured (integration, range, peaks).
    pub fn reset(&mut self) {
        self.meter.reset();
        self.skipped_blocks = 0;
        self.detectors.iter_mut().for_each(TruePeakDetector::reset);
        self.true_peaks.fill(0.0);
    }

    /// Number of blocks skipped because they contained NaN or inf.
    pub fn skipped_blocks(&self) -> u64 {
        self.skipped_blocks
    }

    /// Meters one block of planar audio (one slice per channel, equal lengths). A block with any
    /// non-finite sample is skipped and counted.
    pub fn process(&mut self, channels: &[&[f32]]) {
        let used = &channels[..channels.len().min(self.channels)];
        if used.len() < self.channels || used.iter().any(|c| c.iter().any(|x| !x.is_finite())) {
            self.skipped_blocks += 1;
            return;
        }
        // Cannot fail: channel count and lengths are consistent and the mode is fixed.
        let _ = self.meter.add_frames_planar_f32(used);
        for ((channel, detector), peak) in used
            .iter()
            .zip(&mut self.detectors)
            .zip(&mut self.true_peaks)
        {
            *peak = peak.max(detector.block_peak(channel));
        }
    }

    /// Momentary loudness (400 ms), LUFS.
    pub fn momentary(&self) -> f64 {
        self.meter.loudness_momentary().unwrap_or(NO_LOUDNESS)
    }

    /// Short-term loudness (3 s), LUFS.
    pub fn short_term(&self) -> f64 {
        self.meter.loudness_shortterm().unwrap_or(NO_LOUDNESS)
    }

    /// Integrated (gated) loudness since the last reset, LUFS.
    pub fn integrated(&self) -> f64 {
        self.meter.loudness_global().unwrap_or(NO_LOUDNESS)
    }

    /// Loudness range (EBU Tech 3342), LU.
    pub fn range(&self) -> f64 {
        self.meter.loudness_range().unwrap_or(0.0)
    }

    /// Largest true peak over all channels since the last reset, dBTP.
    pub fn true_peak_db(&self) -> f64 {
        let largest = self.true_peaks.iter().fold(0.0f32, |m, &p| m.max(p)) as f64;
        if largest > 0.0 {
            20.0 * largest.log10()
        } else {
            NO_LOUDNESS
        }
    }

    /// Largest sample peak over all channels since the last reset, dBFS.
    pub fn sample_peak_db(&self) -> f64 {
        self.peak_db(|meter, c| meter.sample_peak(c))
    }

    fn peak_db(&self, peak: impl Fn(&EbuR128, u32) -> Result<f64, ebur128::Error>) -> f64 {
        let largest = (0..self.channels as u32)
            .filter_map(|c| peak(&self.meter, c).ok())
            .fold(0.0f64, f64::max);
        if largest > 0.0 {
            20.0 * largest.log10()
        } else {
            NO_LOUDNESS
        }
    }

    /// Everything at once.
    pub fn reading(&self) -> LoudnessReading {
        LoudnessReading {
            momentary: self.momentary(),
            short_term: self.short_term(),
            integrated: self.integrated(),
            range: self.range(),
            true_peak_db: self.true_peak_db(),
            sample_peak_db: self.sample_peak_db(),
        }
    }
}
