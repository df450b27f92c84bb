//! The mastering EQ: the band chain of [`crate::eq`] run either minimum phase (zero latency) or
//! linear phase ([`crate::linear_phase`]) at a chosen resolution, with an automatic gain that
//! keeps loudness constant while the curve changes, and a bypass that keeps the latency.
//!
//! # Auto gain
//! The loudness change a curve causes depends on the programme; Lathe estimates it for the
//! spectrum of typical music, pink noise, as BS.1770 hears it: the K-weighted power of pink
//! noise through the curve, relative to without it,
//! `ΔL = 10·log10(Σ K²(f)·|H(f)|² / Σ K²(f))` over 1/12-octave points from 20 Hz to 20 kHz
//! (equal weights per point are pink). Mid and side curves are weighted 0.9/0.1 (side about
//! 10 dB below mid, as in most mixes). The output is lowered by `ΔL`. The estimate depends
//! only on the settings, so the gain moves only when the curve does (never with the programme);
//! the tests check it against measured loudness on pink noise.

use crate::delay::DelayLine;
use crate::eq::{Design, EqSettings, Equalizer, Route, MAX_BANDS};
use crate::kweight::KWeighting;
use crate::linear_phase::{LinearPhase, Resolution};
use crate::smoother::Smoother;

/// How the EQ realises its curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhaseMode {
    /// Minimum phase, zero latency.
    ZeroLatency,
    /// Linear phase at a resolution (latency: half the FIR plus one block).
    Linear(Resolution),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MasterEqSettings {
    pub eq: EqSettings,
    pub mode: PhaseMode,
    pub auto_gain: bool,
}

impl Default for MasterEqSettings {
    fn default() -> Self {
        Self {
            eq: EqSettings::default(),
            mode: PhaseMode::ZeroLatency,
            auto_gain: false,
        }
    }
}

const RESOLUTIONS: [Resolution; 3] = [Resolution::Low, Resolution::Medium, Resolution::High];
/// Scratch size: blocks are processed in pieces of at most this many samples.
const CHUNK: usize = 1024;
/// Bypass crossfade time constant, ms.
const BYPASS_MS: f32 = 10.0;

fn resolution_index(r: Resolution) -> usize {
    match r {
        Resolution::Low => 0,
        Resolution::Medium => 1,
        Resolution::High => 2,
    }
}

/// The loudness change, dB, the bands of `eq` (without its output gain) cause on pink noise as
/// K-weighting hears it (see the module docs).
pub fn loudness_change_db(eq: &EqSettings, sample_rate: f32) -> f64 {
    let fs = sample_rate as f64;
    let k = KWeighting::new(fs);
    let designs: [Option<(Design, Route)>; MAX_BANDS] = std::array::from_fn(|b| {
        let band = &eq.bands[b];
        (!band.is_neutral()).then(|| (Design::new(band, fs), band.route))
    });
    let (mut reference, mut mid, mut side) = (0.0, 0.0, 0.0);
    let points = 120;
    for i in 0..=points {
        let hz = 20.0 * 1000f64.powf(i as f64 / points as f64);
        if hz >= 0.5 * fs {
            break;
        }
        let weight = k.magnitude(fs, hz).powi(2);
        let (mut hm, mut hs) = (1.0, 1.0);
        for (design, route) in designs.iter().flatten() {
            let h = design.response(fs, hz).norm().powi(2);
            match route {
                Route::Mid => hm *= h,
                Route::Side => hs *= h,
                _ => {
                    hm *= h;
                    hs *= h;
                }
            }
        }
        reference += weight;
        mid += weight * hm;
        side += weight * hs;
    }
    10.0 * ((0.9 * mid + 0.1 * side) / reference).log10()
}

pub struct MasterEq {
    sample_rate: f32,
    settings: MasterEqSettings,
    /// The settings the engines run (output gain includes the auto gain).
    applied: EqSettings,
    minimum: Equalizer,
    linear: [LinearPhase; 3],
    /// The delayed input, for bypass in linear-phase mode.
    dry: [DelayLine; 2],
    scratch: [Vec<f32>; 2],
    /// 1 = processed, 0 = bypassed (linear-phase mode).
    active: Smoother,
    auto_gain_db: f32,
    /// Settings arrived that the engines do not have yet.
    pending: bool,
    /// Samples since the last redesign.
    since_design: usize,
}

impl MasterEq {
    /// All three linear-phase resolutions are prepared here, so switching allocates nothing.
    pub fn new(sample_rate: f32, settings: MasterEqSettings) -> Self {
        let linear = RESOLUTIONS.map(|r| LinearPhase::new(sample_rate, r));
        let longest = linear.iter().map(|l| l.latency()).max().unwrap_or(0) as usize;
        let mut eq = Self {
            sample_rate,
            settings,
            applied: settings.eq,
            minimum: Equalizer::new(sample_rate, settings.eq),
            linear,
            dry: [
                DelayLine::new(longest, longest),
                DelayLine::new(longest, longest),
            ],
            scratch: [vec![0.0; CHUNK], vec![0.0; CHUNK]],
            active: Smoother::new(
                sample_rate,
                BYPASS_MS,
                if settings.eq.bypass { 0.0 } else { 1.0 },
            ),
            auto_gain_db: 0.0,
            pending: false,
            since_design: 0,
        };
        eq.apply(settings, true);
        eq.minimum.reset();
        eq
    }

    pub fn settings(&self) -> &MasterEqSettings {
        &self.settings
    }

    /// The gain auto gain currently applies, dB.
    pub fn auto_gain_db(&self) -> f32 {
        self.auto_gain_db
    }

    pub fn latency(&self) -> u32 {
        match self.settings.mode {
            PhaseMode::ZeroLatency => 0,
            PhaseMode::Linear(r) => self.linear[resolution_index(r)].latency(),
        }
    }

    /// New settings; returns whether the latency changed (the host must be told). Curve
    /// changes reach the linear-phase filter and the auto gain at most once per
    /// [`crate::linear_phase::PARTITION`] samples (each redesign is faded in over one block).
    pub fn set_settings(&mut self, settings: &MasterEqSettings) -> bool {
        if *settings == self.settings {
            return false;
        }
        let before = self.latency();
        let mode_changed = settings.mode != self.settings.mode;
        if mode_changed || settings.auto_gain != self.settings.auto_gain {
            self.apply(*settings, mode_changed);
        } else {
            self.settings = *settings;
            self.pending = true;
            // The minimum-phase chain glides by itself: give it the curve at once.
            let mut applied = settings.eq;
            applied.output_db += self.auto_gain_db;
            self.minimum.set_settings(&applied);
            self.active
                .set_target(if settings.eq.bypass { 0.0 } else { 1.0 });
        }
        before != self.latency()
    }

    fn apply(&mut self, settings: MasterEqSettings, mode_changed: bool) {
        self.pending = false;
        self.since_design = 0;
        if settings.eq.bands != self.applied.bands
            || settings.auto_gain != self.settings.auto_gain
            || mode_changed
        {
            self.auto_gain_db = if settings.auto_gain {
                -loudness_change_db(&settings.eq, self.sample_rate) as f32
            } else {
                0.0
            };
        }
        let mut applied = settings.eq;
        applied.output_db = settings.eq.output_db + self.auto_gain_db;
        self.settings = settings;
        self.active
            .set_target(if settings.eq.bypass { 0.0 } else { 1.0 });
        self.minimum.set_settings(&applied);
        if mode_changed {
            self.minimum.reset();
        }
        if let PhaseMode::Linear(r) = settings.mode {
            let i = resolution_index(r);
            let curve_changed =
                applied.bands != self.applied.bands || applied.output_db != self.applied.output_db;
            if mode_changed || curve_changed {
                self.linear[i].design(&applied.bands, applied.output_db);
            }
            if mode_changed {
                self.linear[i].reset();
                let latency = self.linear[i].latency() as usize;
                for d in &mut self.dry {
                    d.set_delay(latency);
                    d.reset();
                }
                self.active.reset(self.active.target());
            }
        }
        self.applied = applied;
    }

    pub fn reset(&mut self) {
        self.minimum.reset();
        self.linear.iter_mut().for_each(LinearPhase::reset);
        self.dry.iter_mut().for_each(DelayLine::reset);
        self.active.reset(self.active.target());
    }

    /// Processes a stereo block in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if self.pending && self.since_design >= crate::linear_phase::PARTITION {
            self.apply(self.settings, false);
        }
        self.since_design = self.since_design.saturating_add(left.len());
        let PhaseMode::Linear(r) = self.settings.mode else {
            self.minimum.process(left, right);
            return;
        };
        let lp = &mut self.linear[resolution_index(r)];
        for (l, r) in left.chunks_mut(CHUNK).zip(right.chunks_mut(CHUNK)) {
            let n = l.len();
            let [dl, dr] = &mut self.scratch;
            self.dry[0].process_into(l, &mut dl[..n]);
            self.dry[1].process_into(r, &mut dr[..n]);
            lp.process(l, r);
            if self.active.is_settled() && self.active.current() == 1.0 {
                continue;
            }
            for i in 0..n {
                let a = self.active.tick();
                l[i] = dl[i] + a * (l[i] - dl[i]);
                r[i] = dr[i] + a * (r[i] - dr[i]);
            }
        }
    }
}
