//! Equalizer filters whose magnitude matches their analog prototypes up to Nyquist, and the
//! minimum-phase band chain both Lathe EQs run.
//!
//! # Designs
//! The bilinear transform squeezes every bell and shelf towards Nyquist ("cramping": a 16 kHz
//! bell at 44.1 kHz comes out several dB short and far too narrow). Here each second-order
//! section is designed by magnitude matching instead (M. Vicanek, "Matched Second Order Digital
//! Filters", 2016). With `φ0 = 1 − sin²(ω/2)`, `φ1 = sin²(ω/2)`, `φ2 = 4φ0φ1`, the squared
//! magnitude of `b0 + b1z⁻¹ + b2z⁻²` is `B0φ0 + B1φ1 + B2φ2` with `B0 = (b0+b1+b2)²`,
//! `B1 = (b0−b1+b2)²`, `B2 = −4b0b2`: linear in `B`, so magnitude conditions are linear
//! equations and `b` follows by factoring (always minimum phase). Candidates:
//! - Vicanek: poles are the analog poles mapped by impulse invariance (`a1 = −2e^{−ζω}cos(ω√(1−ζ²))`,
//!   `a2 = e^{−2ζω}`); zeros match the prototype at DC and in value and slope at `f0` (for a
//!   bell, the peak), or at DC, Nyquist and `f0`;
//! - five-point fits: poles and zeros together, matching DC, Nyquist and three frequencies around
//!   the section's bandwidth (a 3×3 linear solve, then the scale that makes `a0 = 1`);
//! - the bilinear transform pre-warped at `f0`.
//!
//! The realisable candidate closest to the prototype (checked at 32 frequencies, errors below
//! 0.227·fs weighted ten times, as the targets are 0.1 dB there and 1 dB above) is used.
//! First-order sections (tilt) match their pole by impulse invariance and their numerator at
//! DC and Nyquist, or fit the pole too.
//!
//! Near Nyquist one section cannot follow a bell or shelf closely (its squared magnitude is a
//! ratio of quadratics in `sin²(ω/2)`, the prototype's one in `ω²`). Where the best single
//! section misses by more than 0.02 dB below 0.227·fs or 0.2 dB above, two sections are fitted
//! together: quartics `P(s)/Q(s)` in `s = sin²(ω/2)` by iteratively reweighted least squares on
//! the relative error, factored (roots by Durand–Kerner) into two realisable, stable sections,
//! kept if better.
//!
//! Cuts start as Vicanek DC/Nyquist/`f0` sections (and impulse-invariant first-order ones),
//! which drift apart from the prototype in cascade near Nyquist (a 10 kHz 18 dB/oct low cut by
//! 2.7 dB at 3.2 kHz). Their sections are then refitted two at a time with the same fit (a low
//! cut's zeros held at DC; stop bands below −40 dB weighted down; fewer powers of `s` where the
//! pair's order leaves freedom to spare), each pair also absorbing what the pairs before it
//! missed, so errors do not add up.
//!
//! The full designs cost up to about half a millisecond (a 42 dB/oct cut), so mid-glide
//! designs are the quick single sections, and the chain makes at most one full design per
//! 16-sample update once a band settles; the switch is crossfaded over 5 ms where the number
//! of sections changes.
//!
//! Measured at 44.1 kHz (tests/eq.rs): bells 20 Hz–18 kHz (±3…±18 dB, Q 0.3–10), shelves
//! 30 Hz–15 kHz (±6…±15 dB), tilts, and low and high cuts 20 Hz–18 kHz (every slope, both
//! shapes, where the prototype is above −30 dB) are within 0.1 dB of the prototype to 10 kHz
//! and 1 dB to 20 kHz (a 16 kHz Q 1 +12 dB bell: several dB off with the cookbook). Bells at
//! 20 kHz are not there yet.
//!
//! The analog prototypes ([`analog_response`]) are the reference the tests compare against;
//! [`Design::response`] is the digital response the editors draw.
//!
//! # Prototypes (normalised `s = jf/f0`; `A = 10^(gain/40)`)
//! - Bell: `(s² + sA/Q + 1) / (s² + s/(AQ) + 1)`: `gain` at `f0`, bandwidth set by `Q`.
//! - Low shelf: `A(s² + s√A/Q + A) / (As² + s√A/Q + 1)`; high shelf: `A(As² + s√A/Q + 1) /
//!   (s² + s√A/Q + A)` (RBJ's analog shelves; `Q` = 0.707 has no overshoot). Half the gain at
//!   `f0`.
//! - Low/high cut: Butterworth of order 1–8 (6–48 dB/oct, −3 dB at `f0`), or Linkwitz-Riley
//!   (a Butterworth of half the order applied twice: 12–48 dB/oct, −6 dB at `f0`).
//! - Notch: `(s² + 1) / (s² + s/Q + 1)`; band-pass: `(s/Q) / (s² + s/Q + 1)` (0 dB at `f0`).
//! - Tilt: a first-order shelf pair pivoting at `f0`: `−gain/2` at DC, `+gain/2` at high
//!   frequencies, 0 dB at `f0`.

use crate::biquad::{Coeffs, Complex, Section, StereoBiquad};
use crate::smoother::Smoother;
use std::f64::consts::PI;

/// Most second-order sections one band uses (an 8th-order cut), plus one first-order section.
pub const MAX_SECTIONS: usize = 5;
/// The most bands an [`Equalizer`] holds.
pub const MAX_BANDS: usize = 8;
/// Parameter changes glide over this time (frequency in octaves, gain in dB, `Q` in octaves).
pub const SMOOTHING_MS: f32 = 20.0;
/// A design with a different number of sections is crossfaded in over this time.
const FADE_MS: f32 = 5.0;
/// While gliding, coefficients are recomputed every this many samples.
const UPDATE_INTERVAL: usize = 16;
/// Samples per stretch while every band holds still (nothing to design): fewer stretches, each
/// with its set-up, for the same filtering.
const STEADY_STRETCH: usize = 64;

/// What a band does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterType {
    Bell,
    LowShelf,
    HighShelf,
    LowCut,
    HighCut,
    Notch,
    BandPass,
    Tilt,
}

impl FilterType {
    /// Whether the gain parameter means anything for this type.
    pub fn uses_gain(self) -> bool {
        matches!(
            self,
            Self::Bell | Self::LowShelf | Self::HighShelf | Self::Tilt
        )
    }

    /// Whether the `Q` parameter means anything for this type.
    pub fn uses_q(self) -> bool {
        matches!(
            self,
            Self::Bell | Self::LowShelf | Self::HighShelf | Self::Notch | Self::BandPass
        )
    }

    /// Whether the slope parameter means anything for this type.
    pub fn uses_slope(self) -> bool {
        matches!(self, Self::LowCut | Self::HighCut)
    }
}

/// The response family of a cut filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutShape {
    /// Maximally flat, −3 dB at the corner.
    Butterworth,
    /// A Butterworth of half the order, twice: −6 dB at the corner, no overshoot.
    LinkwitzRiley,
}

/// Which signal a band filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Stereo,
    Left,
    Right,
    /// `(L+R)/2`.
    Mid,
    /// `(L−R)/2`.
    Side,
}

/// One band's settings, in physical units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandSettings {
    pub enabled: bool,
    pub kind: FilterType,
    pub freq_hz: f32,
    pub gain_db: f32,
    pub q: f32,
    /// Cut slope, dB/oct: 6..48 in steps of 6 (Linkwitz-Riley: 12..48 in steps of 12).
    pub slope_db: u32,
    pub shape: CutShape,
    pub route: Route,
}

impl Default for BandSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            kind: FilterType::Bell,
            freq_hz: 1_000.0,
            gain_db: 0.0,
            q: 1.0,
            slope_db: 12,
            shape: CutShape::Butterworth,
            route: Route::Stereo,
        }
    }
}

/// Parameter ranges (what [`BandSettings::clamped`] enforces).
pub mod range {
    pub const FREQ_HZ: (f32, f32) = (10.0, 22_000.0);
    pub const GAIN_DB: (f32, f32) = (-24.0, 24.0);
    pub const Q: (f32, f32) = (0.1, 18.0);
    pub const SLOPE_DB: (u32, u32) = (6, 48);
    pub const OUTPUT_DB: (f32, f32) = (-24.0, 24.0);
}

impl BandSettings {
    /// Values forced into their ranges (NaN becomes the default).
    pub fn clamped(&self) -> Self {
        let d = Self::default();
        let slope = self.slope_db.clamp(range::SLOPE_DB.0, range::SLOPE_DB.1);
        let slope = match self.shape {
            CutShape::Butterworth => slope / 6 * 6,
            CutShape::LinkwitzRiley => (slope / 12).max(1) * 12,
        };
        Self {
            freq_hz: crate::clamp_or(self.freq_hz, range::FREQ_HZ, d.freq_hz),
            gain_db: crate::clamp_or(self.gain_db, range::GAIN_DB, d.gain_db),
            q: crate::clamp_or(self.q, range::Q, d.q),
            slope_db: slope,
            ..*self
        }
    }

    /// Whether the band leaves the signal exactly unchanged (and so is skipped).
    pub fn is_neutral(&self) -> bool {
        !self.enabled || (self.kind.uses_gain() && self.gain_db == 0.0)
    }

    /// The cut order (Butterworth order of the whole filter).
    fn order(&self) -> usize {
        (self.slope_db / 6) as usize
    }
}

/// `(ω0 in Hz of the section, ζ)` and the section's analog response, in normalised form: one
/// section of a band's analog prototype.
#[derive(Clone, Copy, Debug)]
enum Prototype {
    /// `(n2 s² + n1 s + n0) / (d2 s² + d1 s + d0)` with `s = jf/f0`.
    Second { f0: f64, n: [f64; 3], d: [f64; 3] },
    /// `(n1 s + n0) / (d1 s + d0)` with `s = jf/f0`.
    First { f0: f64, n: [f64; 2], d: [f64; 2] },
}

impl Prototype {
    /// This section, if it is a second-order shape other than a cut section (bell, shelf,
    /// notch, band-pass): the ones a two-section fit may improve.
    fn second_order_shape(&self) -> Option<Prototype> {
        match *self {
            Prototype::Second { n, .. } if n != [1.0, 0.0, 0.0] && n != [0.0, 0.0, 1.0] => {
                Some(*self)
            }
            _ => None,
        }
    }

    fn order(&self) -> usize {
        match self {
            Prototype::Second { .. } => 2,
            Prototype::First { .. } => 1,
        }
    }

    fn f0(&self) -> f64 {
        match *self {
            Prototype::Second { f0, .. } | Prototype::First { f0, .. } => f0,
        }
    }

    fn response(&self, hz: f64) -> Complex {
        match *self {
            Prototype::Second { f0, n, d } => {
                let w = hz / f0;
                // s = jw: s² = −w².
                let num = Complex::new(n[0] - n[2] * w * w, n[1] * w);
                let den = Complex::new(d[0] - d[2] * w * w, d[1] * w);
                num / den
            }
            Prototype::First { f0, n, d } => {
                let w = hz / f0;
                Complex::new(n[0], n[1] * w) / Complex::new(d[0], d[1] * w)
            }
        }
    }

    /// The bilinear transform, pre-warped at `f0`: exact at `f0`, squeezed towards Nyquist
    /// above it (which suits some cut sections better than matching does).
    fn bilinear(&self, sample_rate: f64) -> Coeffs {
        match *self {
            Prototype::Second { f0, n, d } => {
                let k = 1.0 / (PI * f0.min(0.49 * sample_rate) / sample_rate).tan();
                let poly = |c: [f64; 3]| {
                    let (c2, c1) = (c[2] * k * k, c[1] * k);
                    [c2 + c1 + c[0], 2.0 * (c[0] - c2), c2 - c1 + c[0]]
                };
                let (num, den) = (poly(n), poly(d));
                Coeffs {
                    b: [num[0] / den[0], num[1] / den[0], num[2] / den[0]],
                    a: [den[1] / den[0], den[2] / den[0]],
                }
            }
            Prototype::First { f0, n, d } => {
                let k = 1.0 / (PI * f0.min(0.49 * sample_rate) / sample_rate).tan();
                let (num, den) = (
                    [n[1] * k + n[0], n[0] - n[1] * k],
                    [d[1] * k + d[0], d[0] - d[1] * k],
                );
                Coeffs {
                    b: [num[0] / den[0], num[1] / den[0], 0.0],
                    a: [den[1] / den[0], 0.0],
                }
            }
        }
    }

    /// The matched digital section at `sample_rate`.
    /// `fast`: Vicanek's design only, without the search (for coefficient updates mid-glide).
    fn matched(&self, sample_rate: f64, fast: bool) -> Coeffs {
        let nyquist = 0.5 * sample_rate;
        let mag2 = |hz: f64| {
            let h = self.response(hz);
            h.re * h.re + h.im * h.im
        };
        match *self {
            Prototype::Second { f0, n, d } => {
                let fm = f0.min(0.45 * sample_rate);
                let cut_section = n == [1.0, 0.0, 0.0] || n == [0.0, 0.0, 1.0];
                // The other two points sit around the section's bandwidth (d1/d2 = 1/Q of the
                // poles): near the skirts of a narrow bell, an octave or more out for wide ones,
                // never closer to Nyquist than the geometric mean of `fm` and Nyquist.
                let spread = 1.0 + (d[1] / (d[0] * d[2]).sqrt()).max(0.1);
                let far = (fm * nyquist).sqrt();
                // Poles: s² + 2ζωp s + ωp² with ωp = f0·√(d0/d2), in radians per sample.
                let wp = 2.0 * PI * f0 * (d[0] / d[2]).sqrt() / sample_rate;
                let zeta = d[1] / (2.0 * (d[0] * d[2]).sqrt());
                let (a1, a2) = matched_poles(wp.min(0.98 * PI), zeta);
                if cut_section || fast {
                    // Sections of a cascade: each matched the same way, so that their errors do
                    // not pull in different directions.
                    return if cut_section {
                        dc_nyquist_point(sample_rate, &mag2, a1, a2, fm)
                    } else {
                        three_point(sample_rate, &mag2, a1, a2, fm)
                    };
                }
                // Candidates: Vicanek's (impulse-invariant poles; zeros from DC plus value and
                // slope at fm, or from DC, Nyquist and fm), and five-point fits with the two
                // free points around the section's bandwidth or further out. The realisable
                // one that stays closest to the prototype wins.
                let mut best = three_point(sample_rate, &mag2, a1, a2, fm);
                let mut best_error = fit_error(sample_rate, &mag2, &best, fm);
                let mut consider = |c: Coeffs| {
                    let error = fit_error(sample_rate, &mag2, &c, fm);
                    if error < best_error {
                        (best, best_error) = (c, error);
                    }
                };
                consider(dc_nyquist_point(sample_rate, &mag2, a1, a2, fm));
                consider(self.bilinear(sample_rate));
                for lower in [fm / spread, 0.5 * fm, fm / 1.3, 0.25 * fm] {
                    for upper in [fm * spread, far, fm * 1.3, 0.5 * (fm + nyquist)] {
                        let upper = upper.min(0.47 * sample_rate);
                        if upper > fm * 1.01 {
                            if let Some(c) = five_point(sample_rate, &mag2, [fm, lower, upper]) {
                                consider(c);
                            }
                        }
                    }
                }
                best
            }
            Prototype::First { f0, n, d } => {
                let fm = f0.min(0.45 * sample_rate);
                let (t0, tn, t) = (mag2(0.0), mag2(nyquist), mag2(fm));
                // Impulse-invariant pole s = −ωp (ωp = f0·d0/d1), numerator matched at DC and
                // Nyquist.
                let p = (-2.0 * PI * f0 * d[0] / d[1] / sample_rate).exp();
                let first_order = |a1: f64, at_dc: f64, at_nyquist: f64| Coeffs {
                    b: [0.5 * (at_dc + at_nyquist), 0.5 * (at_dc - at_nyquist), 0.0],
                    a: [a1, 0.0],
                };
                let invariant = first_order(-p, t0.sqrt() * (1.0 - p), tn.sqrt() * (1.0 + p));
                if n == [1.0, 0.0] || n == [0.0, 1.0] {
                    return invariant;
                }
                // Or the pole fitted too: |H|² = (B0φ0 + B1φ1) / (A0φ0 + A1φ1) with
                // A0 = (1+a1)², A1 = (1−a1)²; with A0 = 1, matching DC, Nyquist and fm fixes
                // A1, then scale to a0 = 1.
                let phi = phis(sample_rate, fm);
                let a1_big = (t - t0) * phi[0] / ((tn - t) * phi[1]);
                let mut best = invariant;
                let bilinear = self.bilinear(sample_rate);
                if fit_error(sample_rate, &mag2, &bilinear, fm)
                    < fit_error(sample_rate, &mag2, &best, fm)
                {
                    best = bilinear;
                }
                if a1_big.is_finite() && a1_big > 0.0 {
                    let r = 2.0 / (1.0 + a1_big.sqrt());
                    let fitted = first_order(
                        0.5 * r * (1.0 - a1_big.sqrt()),
                        r * t0.sqrt(),
                        r * (tn * a1_big).sqrt(),
                    );
                    if fit_error(sample_rate, &mag2, &fitted, fm)
                        < fit_error(sample_rate, &mag2, &best, fm)
                    {
                        best = fitted;
                    }
                }
                best
            }
        }
    }
}

/// Given the poles, zeros whose squared magnitude matches the prototype at DC, Nyquist and `fm`.
fn dc_nyquist_point(
    sample_rate: f64,
    mag2: &dyn Fn(f64) -> f64,
    a1: f64,
    a2: f64,
    fm: f64,
) -> Coeffs {
    let big_a = [(1.0 + a1 + a2).powi(2), (1.0 - a1 + a2).powi(2), -4.0 * a2];
    let b0 = big_a[0] * mag2(0.0);
    let b1 = big_a[1] * mag2(0.5 * sample_rate);
    let phi = phis(sample_rate, fm);
    let b2 = (mag2(fm) * dot(big_a, phi) - b0 * phi[0] - b1 * phi[1]) / phi[2];
    let w = 0.5 * (b0.sqrt() + b1.sqrt());
    let b = factor([b0, b1, b2.max(-w * w)]).unwrap_or([1.0, 0.0, 0.0]);
    Coeffs { b, a: [a1, a2] }
}

/// How far section `c` strays from the prototype, at frequencies from six octaves below `fm` up
/// to 0.47·fs: the largest dB error, counted ten times heavier below 0.227·fs (10 kHz at
/// 44.1 kHz, where 0.1 dB is asked for) than above (where 1 dB is). How candidates are compared.
fn fit_error(sample_rate: f64, mag2: &dyn Fn(f64) -> f64, c: &Coeffs, fm: f64) -> f64 {
    cascade_error(sample_rate, mag2, std::slice::from_ref(c), fm)
}

/// [`fit_error`] for sections in cascade.
fn cascade_error(sample_rate: f64, mag2: &dyn Fn(f64) -> f64, sections: &[Coeffs], fm: f64) -> f64 {
    cascade_error_above(sample_rate, mag2, sections, fm, 1e-6)
}

/// [`cascade_error`] counting errors only down to `depth` (in power) below the prototype's
/// largest value (deeper stop bands are not fitted).
fn cascade_error_above(
    sample_rate: f64,
    mag2: &dyn Fn(f64) -> f64,
    sections: &[Coeffs],
    fm: f64,
    depth: f64,
) -> f64 {
    const CHECKS: usize = 32;
    let (lo, hi) = ((fm / 64.0).max(5.0), 0.47 * sample_rate);
    let floor = depth * mag2(fm).max(mag2(0.0)).max(mag2(0.5 * sample_rate));
    let mut worst = 0.0f64;
    for i in 0..CHECKS {
        let hz = lo * (hi / lo).powf(i as f64 / (CHECKS - 1) as f64);
        let phi = phis(sample_rate, hz);
        let digital: f64 = sections.iter().map(|c| section_mag2(c, phi)).product();
        let error = (10.0 * ((digital + floor) / (mag2(hz) + floor)).log10()).abs();
        let weight = if hz <= 0.227 * sample_rate { 10.0 } else { 1.0 };
        worst = worst.max(weight * error);
    }
    worst
}

/// `[φ0, φ1, φ2]` at `hz`: the squared magnitude of `c0 + c1z⁻¹ + c2z⁻²` there is
/// `C0φ0 + C1φ1 + C2φ2` with `C0 = (c0+c1+c2)²`, `C1 = (c0−c1+c2)²`, `C2 = −4c0c2`.
fn phis(sample_rate: f64, hz: f64) -> [f64; 3] {
    let s = (PI * hz / sample_rate).sin().powi(2);
    [1.0 - s, s, 4.0 * (1.0 - s) * s]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// The (minimum-phase) polynomial `c0 + c1z⁻¹ + c2z⁻²` with squared-magnitude coefficients
/// `big` (see [`phis`]); `None` if there is none.
fn factor(big: [f64; 3]) -> Option<[f64; 3]> {
    if big[0] < 0.0 || big[1] < 0.0 {
        return None;
    }
    let (r0, r1) = (big[0].sqrt(), big[1].sqrt());
    let w = 0.5 * (r0 + r1);
    let disc = w * w + big[2];
    // A double root (zeros on the unit circle) may come out a rounding error below zero.
    if disc < -1e-9 * w * w {
        return None;
    }
    let c0 = 0.5 * (w + disc.max(0.0).sqrt());
    let c2 = if c0 != 0.0 { -big[2] / (4.0 * c0) } else { 0.0 };
    Some([c0, 0.5 * (r0 - r1), c2])
}

/// A section whose squared magnitude equals the prototype's at DC, at Nyquist and at the three
/// `points`: five conditions for the five degrees of freedom of a biquad's magnitude, so the
/// poles are fitted along with the zeros. `None` where that has no stable realisation (then
/// [`three_point`] with impulse-invariant poles is used).
fn five_point(sample_rate: f64, mag2: &dyn Fn(f64) -> f64, points: [f64; 3]) -> Option<Coeffs> {
    let t0 = mag2(0.0);
    let tn = mag2(0.5 * sample_rate);
    // With A0 = 1, B0 = t0, B1 = tn·A1: for each point (t, φ),
    // A1(tn − t)φ1 − tφ2·A2 + φ2·B2 = t·φ0 − t0·φ0.
    let mut m = [[0.0; 4]; 3];
    for (row, &hz) in m.iter_mut().zip(&points) {
        let phi = phis(sample_rate, hz);
        let t = mag2(hz);
        *row = [(tn - t) * phi[1], -t * phi[2], phi[2], (t - t0) * phi[0]];
    }
    let [a1_big, a2_big, b2_big] = solve(m)?;
    let a_big = [1.0, a1_big, a2_big];
    if a_big[1] < 0.0 {
        return None;
    }
    // Scale so that the denominator has a0 = 1: √(cA0) + √(cA1) = 2 − cA2/2, with r = √c.
    let sum = a_big[0].sqrt() + a_big[1].sqrt();
    let r = if a_big[2].abs() < 1e-300 {
        2.0 / sum
    } else {
        let disc = sum * sum + 4.0 * a_big[2];
        if disc < 0.0 {
            return None;
        }
        (-sum + disc.sqrt()) / a_big[2]
    };
    let c = r * r;
    if !(c.is_finite() && c > 0.0) {
        return None;
    }
    let a2 = -c * a_big[2] / 4.0;
    let a1 = 0.5 * ((c * a_big[0]).sqrt() - (c * a_big[1]).sqrt());
    // Stability triangle, with a little margin.
    if !(a2.abs() < 0.9999 && a1.abs() < 1.0 + a2 - 1e-9) {
        return None;
    }
    let b = factor([c * t0, c * tn * a_big[1], c * b2_big])?;
    let coeffs = Coeffs { b, a: [a1, a2] };
    coeffs.b.iter().all(|v| v.is_finite()).then_some(coeffs)
}

/// Vicanek's matched section: given the poles, the zeros whose squared magnitude matches the
/// prototype at DC, and both its value and its slope at `fm` (for a bell, `fm` is the peak and
/// the slope there is zero: exactly Vicanek's peaking design). Three conditions, linear in
/// `B`.
fn three_point(sample_rate: f64, mag2: &dyn Fn(f64) -> f64, a1: f64, a2: f64, fm: f64) -> Coeffs {
    let big_a = [(1.0 + a1 + a2).powi(2), (1.0 - a1 + a2).powi(2), -4.0 * a2];
    // φ(ω) and dφ/dω at ω = 2π·fm/fs; d(sin²(ω/2))/dω = sin(ω)/2.
    let w = 2.0 * PI * fm / sample_rate;
    let phi = phis(sample_rate, fm);
    let ds = 0.5 * w.sin();
    let dphi = [-ds, ds, 4.0 * (1.0 - 2.0 * phi[1]) * ds];
    // The prototype's slope in ω (central difference).
    let h = 1e-4 * fm;
    let to_w = 2.0 * PI / sample_rate;
    let t = mag2(fm);
    let dt = (mag2(fm + h) - mag2(fm - h)) / (2.0 * h * to_w);
    let b0 = big_a[0] * mag2(0.0);
    // φ·B = t·D and dφ·B = dt·D + t·dD, with B0 known.
    let d = dot(big_a, phi);
    let dd = dot(big_a, dphi);
    let r1 = t * d - b0 * phi[0];
    let r2 = dt * d + t * dd - b0 * dphi[0];
    let det = phi[1] * dphi[2] - phi[2] * dphi[1];
    let (b1, b2) = if det.abs() > 1e-300 {
        (
            (r1 * dphi[2] - phi[2] * r2) / det,
            (phi[1] * r2 - dphi[1] * r1) / det,
        )
    } else {
        (big_a[1] * mag2(0.5 * sample_rate), 0.0)
    };
    let b1 = b1.max(0.0);
    // W² + B2 < 0 has no real factorisation; the nearest realisable is B2 = −W².
    let w = 0.5 * (b0.sqrt() + b1.sqrt());
    let b = factor([b0, b1, b2.max(-w * w)]).unwrap_or([1.0, 0.0, 0.0]);
    Coeffs { b, a: [a1, a2] }
}

/// A complex number for root finding (the polynomial roots of the two-section fit).
#[derive(Clone, Copy, Debug)]
struct Root {
    re: f64,
    im: f64,
}

impl Root {
    fn mul(self, o: Root) -> Root {
        Root {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
    fn sub(self, o: Root) -> Root {
        Root {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }
    fn div(self, o: Root) -> Root {
        let d = o.re * o.re + o.im * o.im;
        Root {
            re: (self.re * o.re + self.im * o.im) / d,
            im: (self.im * o.re - self.re * o.im) / d,
        }
    }
}

/// The roots of `c[0] + c[1]x + … + c[n]x^n` (degree ≤ 4, leading coefficient non-zero), by
/// Durand–Kerner iteration.
fn poly_roots(c: &[f64]) -> ([Root; 4], usize) {
    let n = c.len() - 1;
    let lead = c[n];
    let mut roots = [Root { re: 0.0, im: 0.0 }; 4];
    let seed = Root { re: 0.4, im: 0.9 };
    let mut power = Root { re: 1.0, im: 0.0 };
    for r in roots.iter_mut().take(n) {
        *r = power;
        power = power.mul(seed);
    }
    let eval = |x: Root| {
        let mut acc = Root {
            re: c[n] / lead,
            im: 0.0,
        };
        for k in (0..n).rev() {
            acc = acc.mul(x);
            acc.re += c[k] / lead;
        }
        acc
    };
    for _ in 0..100 {
        let mut moved = 0.0f64;
        for i in 0..n {
            let mut den = Root { re: 1.0, im: 0.0 };
            for j in 0..n {
                if i != j {
                    den = den.mul(roots[i].sub(roots[j]));
                }
            }
            let step = eval(roots[i]).div(den);
            roots[i] = roots[i].sub(step);
            moved = moved.max(step.re.abs() + step.im.abs());
        }
        if moved < 1e-14 {
            break;
        }
    }
    (roots, n)
}

/// Groups roots into at most two real polynomials (conjugate pairs together, real roots in
/// pairs), each as ascending coefficients `[c0, c1, c2]` of a monic factor.
fn real_factors(roots: &[Root]) -> Option<([[f64; 3]; 2], usize)> {
    let mut reals = [0.0f64; 4];
    let mut n_real = 0;
    let mut factors = [[0.0; 3]; 2];
    let mut count = 0;
    for r in roots {
        if r.im.abs() < 1e-9 * (1.0 + r.re.abs()) {
            reals[n_real] = r.re;
            n_real += 1;
        } else if r.im > 0.0 {
            if count == 2 {
                return None;
            }
            factors[count] = [r.re * r.re + r.im * r.im, -2.0 * r.re, 1.0];
            count += 1;
        }
    }
    let reals = &mut reals[..n_real];
    reals.sort_by(f64::total_cmp);
    for pair in reals.chunks(2) {
        if count == 2 {
            return None;
        }
        factors[count] = if pair.len() == 2 {
            [pair[0] * pair[1], -(pair[0] + pair[1]), 1.0]
        } else {
            [-pair[0], 1.0, 0.0]
        };
        count += 1;
    }
    Some((factors, count))
}

/// A polynomial in `s = sin²(ω/2)`, `g(s) = c0 + c1·s + c2·s²`, as the squared magnitude of a
/// section polynomial: `(C0, C1, C2)` with `C0φ0 + C1φ1 + C2φ2 = g` (see [`phis`]).
fn to_big(g: [f64; 3]) -> [f64; 3] {
    let c2 = -g[2] / 4.0;
    [g[0], g[0] + g[1] + g[2], c2]
}

/// Two sections fitted together to the prototype's squared magnitude: `|H|² = P(s)/Q(s)` with
/// quartics `P`, `Q` in `s = sin²(ω/2)`, fitted by iteratively reweighted linear least squares
/// (Steiglitz–McBride style, error relative to the target plus `floor`, so that stop bands far
/// below `floor` do not spend the fit) on 64 frequencies from `lo` to 0.49·fs, then factored
/// into two realisable, stable sections. `dc_zeros` zeros are kept at DC (`P` divisible by
/// `s^dc_zeros`), as a low cut's are; `P` and `Q` have at most `degree` (≤ 4) powers of `s`.
/// `None` where that fails.
fn fit_two_sections(
    sample_rate: f64,
    mag2: &dyn Fn(f64) -> f64,
    lo: f64,
    floor: f64,
    dc_zeros: usize,
    degree: usize,
) -> Option<[Coeffs; 2]> {
    const POINTS: usize = 64;
    const UNKNOWNS: usize = 9;
    let hi = 0.49 * sample_rate;
    let low_s = (PI * 0.227f64).sin().powi(2);
    let mut s = [0.0; POINTS];
    let mut t = [0.0; POINTS];
    // Half the points log-spaced over the whole range, half evenly over the top octaves,
    // where a single section falls short.
    let top = (0.25 * sample_rate).min(0.5 * hi);
    for i in 0..POINTS {
        let half = POINTS / 2;
        let hz = if i < half {
            lo * (hi / lo).powf(i as f64 / (half - 1) as f64)
        } else {
            top + (hi - top) * (i - half) as f64 / (POINTS - half - 1) as f64
        };
        s[i] = (std::f64::consts::PI * hz / sample_rate).sin().powi(2);
        t[i] = mag2(hz).max(1e-12);
    }
    let mut q_prev = [1.0f64; POINTS];
    let mut x = [0.0; UNKNOWNS];
    for _ in 0..6 {
        let mut normal = [[0.0; UNKNOWNS + 1]; UNKNOWNS];
        for i in 0..POINTS {
            // Below 0.227·fs (10 kHz at 44.1 kHz) a tenth of the error is asked for.
            let emphasis = if s[i] <= low_s { 10.0 } else { 1.0 };
            let w = emphasis / ((t[i] + floor) * q_prev[i].abs().max(1e-12));
            let mut row = [0.0; UNKNOWNS];
            let mut p = 1.0;
            for j in 0..=degree {
                if j >= dc_zeros {
                    row[j] = w * p;
                }
                if j > 0 {
                    row[4 + j] = -w * t[i] * p;
                }
                p *= s[i];
            }
            let rhs = w * t[i];
            for a in 0..UNKNOWNS {
                for b in 0..UNKNOWNS {
                    normal[a][b] += row[a] * row[b];
                }
                normal[a][UNKNOWNS] += row[a] * rhs;
            }
        }
        // Coefficients held at zero: zeros at DC, and powers above `degree`.
        for (j, row) in normal.iter_mut().enumerate() {
            let power = if j < 5 { j } else { j - 4 };
            if (j < 5 && j < dc_zeros) || power > degree {
                row[j] = 1.0;
            }
        }
        x = solve(normal)?;
        for i in 0..POINTS {
            let mut q = 1.0;
            let mut p = s[i];
            for j in 1..5 {
                q += x[4 + j] * p;
                p *= s[i];
            }
            q_prev[i] = q;
        }
    }
    let num = [x[0], x[1], x[2], x[3], x[4]];
    let den = [1.0, x[5], x[6], x[7], x[8]];
    // Roots of `c` (the first `zeros` known to be at s = 0), grouped into real factors.
    let sections = |c: [f64; 5], zeros: usize| -> Option<([[f64; 3]; 2], usize)> {
        let scale = c.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut degree = 4;
        while degree > zeros && c[degree].abs() < 1e-9 * scale {
            degree -= 1;
        }
        let (found, n) = poly_roots(&c[zeros..=degree]);
        let mut roots = [Root { re: 0.0, im: 0.0 }; 4];
        roots[zeros..zeros + n].copy_from_slice(&found[..n]);
        real_factors(&roots[..zeros + n])
    };
    let (nf, n_count) = sections(num, dc_zeros)?;
    let (df, d_count) = sections(den, 0)?;
    let mut out = [Coeffs::IDENTITY; 2];
    // Each factor sign-fixed to be positive inside the band (s = 1/2; a factor with a root at
    // s = 0, such as a low cut's, is zero at DC), then realised as a section polynomial.
    let realise = |mut g: [f64; 3]| {
        // Two real roots around or inside the band (a zero pair on the unit circle, found as
        // two close roots) would make the factor negative between them: merge them into a
        // double root.
        let disc = g[1] * g[1] - 4.0 * g[0] * g[2];
        if g[2] != 0.0 && disc > 0.0 {
            let (mid, half) = (-g[1] / (2.0 * g[2]), disc.sqrt() / (2.0 * g[2].abs()));
            let inside = |r: f64| r > 1e-12 && r < 1.0;
            if inside(mid - half) || inside(mid + half) {
                let mid = mid.clamp(0.0, 1.0);
                g = [g[2] * mid * mid, -2.0 * g[2] * mid, g[2]];
            }
        }
        let sign = if g[0] + 0.5 * g[1] + 0.25 * g[2] < 0.0 {
            -1.0
        } else {
            1.0
        };
        factor(to_big(g.map(|v| sign * v)))
    };
    for k in 0..2 {
        let b = if k < n_count {
            realise(nf[k])?
        } else {
            [1.0, 0.0, 0.0]
        };
        let a = if k < d_count {
            realise(df[k])?
        } else {
            [1.0, 0.0, 0.0]
        };
        if a[0].abs() < 1e-300 {
            return None;
        }
        let (a1, a2) = (a[1] / a[0], a[2] / a[0]);
        if !(a2.abs() < 0.9999 && a1.abs() < 1.0 + a2 - 1e-9) {
            return None;
        }
        out[k] = Coeffs {
            b: [b[0] / a[0], b[1] / a[0], b[2] / a[0]],
            a: [a1, a2],
        };
    }
    // The overall gain: the geometric mean of target over design at the fitted points, those
    // far below `floor` weighted down as in the fit.
    let (mut log_ratio, mut weights) = (0.0, 0.0);
    for i in 0..POINTS {
        let phi = [1.0 - s[i], s[i], 4.0 * (1.0 - s[i]) * s[i]];
        let d: f64 = out.iter().map(|c| section_mag2(c, phi)).product();
        if !(d > 0.0 && d.is_finite()) {
            return None;
        }
        let w = t[i] / (t[i] + floor);
        log_ratio += w * (t[i] / d).ln();
        weights += w;
    }
    let gain = (log_ratio / weights).exp().sqrt();
    out[0].b = out[0].b.map(|v| v * gain);
    out.iter()
        .all(|c| c.b.iter().chain(&c.a).all(|v| v.is_finite()))
        .then_some(out)
}

/// The squared magnitude of section `c` at `phi` (see [`phis`]).
fn section_mag2(c: &Coeffs, phi: [f64; 3]) -> f64 {
    let big_b = [
        (c.b[0] + c.b[1] + c.b[2]).powi(2),
        (c.b[0] - c.b[1] + c.b[2]).powi(2),
        -4.0 * c.b[0] * c.b[2],
    ];
    let big_a = [
        (1.0 + c.a[0] + c.a[1]).powi(2),
        (1.0 - c.a[0] + c.a[1]).powi(2),
        -4.0 * c.a[1],
    ];
    dot(big_b, phi) / dot(big_a, phi)
}

/// Solves `m[i][..N] · x = m[i][N]` (Gaussian elimination with partial pivoting).
fn solve<const N: usize, const M: usize>(mut m: [[f64; M]; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        m.swap(col, pivot);
        if m[col][col].abs() < 1e-300 {
            return None;
        }
        for row in 0..N {
            if row != col {
                let f = m[row][col] / m[col][col];
                let pivot_row = m[col];
                for (value, p) in m[row].iter_mut().zip(pivot_row).skip(col) {
                    *value -= f * p;
                }
            }
        }
    }
    Some(std::array::from_fn(|i| m[i][N] / m[i][i]))
}

/// `(a1, a2)` of the impulse-invariant image of the analog pole pair with natural frequency `w`
/// (radians per sample) and damping `zeta`.
fn matched_poles(w: f64, zeta: f64) -> (f64, f64) {
    let decay = (-zeta * w).exp();
    let a1 = if zeta <= 1.0 {
        -2.0 * decay * (w * (1.0 - zeta * zeta).sqrt()).cos()
    } else {
        -2.0 * decay * (w * (zeta * zeta - 1.0).sqrt()).cosh()
    };
    (a1, decay * decay)
}

/// Butterworth section quality factors for `order` (and whether a first-order section is
/// needed).
fn butterworth(order: usize) -> ([f64; 4], usize, bool) {
    crate::biquad::butterworth_qs(order)
}

/// The analog prototype of a band as its sections (at most [`MAX_SECTIONS`]).
fn prototype(band: &BandSettings, sample_rate: f64) -> ([Prototype; MAX_SECTIONS], usize) {
    let b = band.clamped();
    // Above Nyquist a filter cannot be placed; keep it just below.
    let f0 = (b.freq_hz as f64).min(0.49 * sample_rate);
    let q = b.q as f64;
    let a = 10f64.powf(b.gain_db as f64 / 40.0);
    let identity = Prototype::First {
        f0,
        n: [1.0, 0.0],
        d: [1.0, 0.0],
    };
    let mut sections = [identity; MAX_SECTIONS];
    let mut count = 0;
    let mut push = |p: Prototype| {
        sections[count] = p;
        count += 1;
    };
    match b.kind {
        FilterType::Bell => push(Prototype::Second {
            f0,
            n: [1.0, a / q, 1.0],
            d: [1.0, 1.0 / (a * q), 1.0],
        }),
        FilterType::LowShelf => {
            let r = a.sqrt() / q;
            push(Prototype::Second {
                f0,
                n: [a * a, a * r, a],
                d: [1.0, r, a],
            })
        }
        FilterType::HighShelf => {
            let r = a.sqrt() / q;
            push(Prototype::Second {
                f0,
                n: [a, a * r, a * a],
                d: [a, r, 1.0],
            })
        }
        FilterType::Notch => push(Prototype::Second {
            f0,
            n: [1.0, 0.0, 1.0],
            d: [1.0, 1.0 / q, 1.0],
        }),
        FilterType::BandPass => push(Prototype::Second {
            f0,
            n: [0.0, 1.0 / q, 0.0],
            d: [1.0, 1.0 / q, 1.0],
        }),
        FilterType::Tilt => {
            // Zero at f0/√G, pole at f0·√G (G = A², the full tilt), scaled by 1/√G = 1/A.
            let g = a * a;
            push(Prototype::First {
                f0,
                n: [1.0 / a, g.sqrt() / a],
                d: [1.0, 1.0 / g.sqrt()],
            })
        }
        FilterType::LowCut | FilterType::HighCut => {
            let high_cut = b.kind == FilterType::HighCut;
            let (order, twice) = match b.shape {
                CutShape::Butterworth => (b.order(), 1),
                CutShape::LinkwitzRiley => (b.order() / 2, 2),
            };
            let (qs, second, first) = butterworth(order);
            for _ in 0..twice {
                for &q in &qs[..second] {
                    push(if high_cut {
                        Prototype::Second {
                            f0,
                            n: [1.0, 0.0, 0.0],
                            d: [1.0, 1.0 / q, 1.0],
                        }
                    } else {
                        Prototype::Second {
                            f0,
                            n: [0.0, 0.0, 1.0],
                            d: [1.0, 1.0 / q, 1.0],
                        }
                    });
                }
                if first {
                    push(Prototype::First {
                        f0,
                        n: if high_cut { [1.0, 0.0] } else { [0.0, 1.0] },
                        d: [1.0, 1.0],
                    });
                }
            }
        }
    }
    (sections, count)
}

/// The analog prototype's complex response at `hz`: the reference the digital designs match.
pub fn analog_response(band: &BandSettings, sample_rate: f64, hz: f64) -> Complex {
    if band.is_neutral() {
        return Complex::ONE;
    }
    let (sections, count) = prototype(band, sample_rate);
    sections[..count]
        .iter()
        .fold(Complex::ONE, |h, s| h * s.response(hz))
}

/// The digital sections of one band.
#[derive(Clone, Copy, Debug)]
pub struct Design {
    sections: [Coeffs; MAX_SECTIONS],
    count: usize,
}

impl Design {
    pub fn new(band: &BandSettings, sample_rate: f64) -> Self {
        Self::build(band, sample_rate, false)
    }

    /// A quicker design for coefficient updates while parameters glide (Vicanek's sections
    /// without the candidate search; about 50x cheaper, a little less exact near Nyquist).
    pub fn gliding(band: &BandSettings, sample_rate: f64) -> Self {
        Self::build(band, sample_rate, true)
    }

    fn build(band: &BandSettings, sample_rate: f64, fast: bool) -> Self {
        let mut design = Self {
            sections: [Coeffs::IDENTITY; MAX_SECTIONS],
            count: 0,
        };
        if band.is_neutral() {
            return design;
        }
        let (prototypes, count) = prototype(band, sample_rate);
        for (section, p) in design.sections.iter_mut().zip(&prototypes[..count]) {
            *section = p.matched(sample_rate, fast);
        }
        design.count = count;
        // Near Nyquist one section cannot follow a bell or shelf closely: where the best one
        // misses by more than 0.02 dB (below 0.227·fs) or 0.2 dB (above), two sections fitted
        // together are tried, and kept if they do better.
        if let (false, 1, Some(p)) = (fast, count, prototypes[0].second_order_shape()) {
            let mag2 = |hz: f64| {
                let h = p.response(hz);
                h.re * h.re + h.im * h.im
            };
            let fm = p.f0().min(0.45 * sample_rate);
            let one = fit_error(sample_rate, &mag2, &design.sections[0], fm);
            if one > 0.2 {
                let lo = (fm / 64.0).max(5.0);
                if let Some(two) = fit_two_sections(sample_rate, &mag2, lo, 0.0, 0, 4) {
                    if cascade_error(sample_rate, &mag2, &two, fm) < one {
                        design.sections[..2].copy_from_slice(&two);
                        design.count = 2;
                    }
                }
            }
        }
        if !fast && matches!(band.kind, FilterType::LowCut | FilterType::HighCut) {
            let low_cut = band.kind == FilterType::LowCut;
            design.refit_cut(&prototypes[..count], sample_rate, low_cut);
        }
        design
    }

    /// Cut sections matched one by one drift from the prototype in cascade near Nyquist (a
    /// 10 kHz 18 dB/oct low cut by 2.7 dB at 3.2 kHz). So the sections are refitted in pairs,
    /// each pair's two sections together to the product of its two prototype sections (an odd
    /// one out last is fitted as two sections as well: at most four in all), keeping whichever
    /// is closer to the prototype.
    fn refit_cut(&mut self, prototypes: &[Prototype], sample_rate: f64, low_cut: bool) {
        const GOOD_ENOUGH: f64 = 0.2;
        let matched = *self;
        let mut count = 0;
        let mut start = 0;
        while start < prototypes.len() {
            let end = (start + 2).min(prototypes.len());
            let group = &prototypes[start..end];
            let analog = |ps: &[Prototype], hz: f64| {
                ps.iter().fold(1.0, |m, p| {
                    let h = p.response(hz);
                    m * (h.re * h.re + h.im * h.im)
                })
            };
            // Each pair also takes up what the pairs before it missed (within ±3 dB), so that
            // their errors do not add up.
            let done = &self.sections[..count];
            let mag2 = |hz: f64| {
                let phi = phis(sample_rate, hz);
                let digital: f64 = done.iter().map(|c| section_mag2(c, phi)).product();
                let missed = analog(&prototypes[..start], hz) / digital;
                let missed = if missed.is_finite() {
                    missed.clamp(0.5, 2.0)
                } else {
                    1.0
                };
                analog(group, hz) * missed
            };
            let fm = group[0].f0().min(0.45 * sample_rate);
            let before = &matched.sections[start..end];
            // Judged down to −40 dB: a cut is specified where it is above −30 dB.
            let judge = |c: &[Coeffs]| cascade_error_above(sample_rate, &mag2, c, fm, 1e-4);
            let error = judge(before);
            let order: usize = group.iter().map(Prototype::order).sum();
            let dc_zeros = if low_cut { order } else { 0 };
            let lo = (fm / 64.0).max(5.0);
            // The full fit first; where it has no realisation, or does worse (a group of lower
            // order has degrees of freedom to spare), fewer powers.
            let mut fitted = None;
            let mut best = error;
            for degree in [4, 3, 2] {
                for floor in [1e-4, 1e-3, 1e-5] {
                    // Close enough already (0.02 dB to 0.227·fs, 0.2 dB above): done.
                    if degree < dc_zeros || best <= GOOD_ENOUGH {
                        continue;
                    }
                    let fit = fit_two_sections(sample_rate, &mag2, lo, floor, dc_zeros, degree);
                    let Some(two) = fit else {
                        continue;
                    };
                    let e = judge(&two);
                    if e < best {
                        (fitted, best) = (Some(two), e);
                    }
                }
            }
            match fitted {
                Some(two) => {
                    self.sections[count..count + 2].copy_from_slice(&two);
                    count += 2;
                }
                None => {
                    self.sections[count..count + before.len()].copy_from_slice(before);
                    count += before.len();
                }
            }
            start = end;
        }
        self.count = count;
    }

    pub fn sections(&self) -> &[Coeffs] {
        &self.sections[..self.count]
    }

    /// The complex response at `hz` (what the editor draws; the tests check it against the
    /// measured impulse response).
    pub fn response(&self, sample_rate: f64, hz: f64) -> Complex {
        self.sections()
            .iter()
            .fold(Complex::ONE, |h, c| h * c.response(sample_rate, hz))
    }
}

/// One band while running: its smoothed frequency, gain and `Q`, and the filter state.
#[derive(Clone, Debug)]
struct Band {
    target: BandSettings,
    /// log2 of the frequency.
    octave: Smoother,
    gain_db: Smoother,
    /// log2 of `Q`.
    q_octave: Smoother,
    sections: [StereoBiquad; MAX_SECTIONS],
    count: usize,
    /// Whether the band is currently in the signal path.
    active: bool,
    /// Whether the coefficients are the full design (not a mid-glide one).
    precise: bool,
    /// A design with a different number of sections (one section mid-glide, two fitted ones
    /// once settled) is crossfaded in over `fade_len` samples, running beside the old one.
    next: [StereoBiquad; MAX_SECTIONS],
    next_count: usize,
    fade_left: usize,
    fade_len: usize,
    /// Mid-glide, coefficients move to each new design linearly over the update interval
    /// (per-sample steps), so the glide has no steps (zipper noise).
    steps: [Coeffs; MAX_SECTIONS],
    steps_left: usize,
}

impl Band {
    fn new(sample_rate: f32, settings: &BandSettings) -> Self {
        let s = settings.clamped();
        let smoother = |v: f32| Smoother::new(sample_rate, SMOOTHING_MS, v);
        let mut band = Self {
            target: s,
            octave: smoother(s.freq_hz.log2()),
            gain_db: smoother(if s.is_neutral() { 0.0 } else { s.gain_db }),
            q_octave: smoother(s.q.log2()),
            sections: [StereoBiquad::default(); MAX_SECTIONS],
            count: 0,
            active: false,
            precise: false,
            next: [StereoBiquad::default(); MAX_SECTIONS],
            next_count: 0,
            fade_left: 0,
            fade_len: (FADE_MS * 0.001 * sample_rate) as usize,
            steps: [Coeffs::IDENTITY; MAX_SECTIONS],
            steps_left: 0,
        };
        band.design(sample_rate as f64, true);
        band
    }

    fn gliding(&self) -> bool {
        !(self.octave.is_settled() && self.gain_db.is_settled() && self.q_octave.is_settled())
    }

    /// The settings the filter has right now (mid-glide values).
    fn current(&self) -> BandSettings {
        BandSettings {
            freq_hz: self.octave.current().exp2(),
            gain_db: self.gain_db.current(),
            q: self.q_octave.current().exp2(),
            enabled: true,
            ..self.target
        }
    }

    /// Designs the band's filter for its current settings: the quick design while gliding or
    /// unless `precise` allows the full one (which may cost a few hundred microseconds).
    fn design(&mut self, sample_rate: f64, precise: bool) {
        let now = self.current();
        let gliding = self.gliding();
        let design = if gliding || !precise {
            Design::gliding(&now, sample_rate)
        } else {
            Design::new(&now, sample_rate)
        };
        self.precise = !gliding && precise;
        if self.fade_left > 0 {
            if design.count == self.next_count {
                for (section, coeffs) in self.next.iter_mut().zip(design.sections()) {
                    section.set_coeffs(*coeffs);
                }
                return;
            }
            self.finish_fade();
        }
        if design.count != self.count && self.count > 0 && design.count > 0 && self.fade_len > 0 {
            // Same filter, different structure: run the new one beside the old and crossfade.
            self.next.iter_mut().for_each(StereoBiquad::reset);
            for (section, coeffs) in self.next.iter_mut().zip(design.sections()) {
                section.set_coeffs(*coeffs);
            }
            self.next_count = design.count;
            self.fade_left = self.fade_len;
            return;
        }
        self.steps_left = 0;
        if gliding && design.count == self.count {
            // Ramp from the coefficients in use to the new ones over the next interval.
            for ((step, section), target) in self
                .steps
                .iter_mut()
                .zip(&self.sections)
                .zip(design.sections())
            {
                let n = UPDATE_INTERVAL as f64;
                let c = section.coeffs;
                *step = Coeffs {
                    b: std::array::from_fn(|k| (target.b[k] - c.b[k]) / n),
                    a: std::array::from_fn(|k| (target.a[k] - c.a[k]) / n),
                };
            }
            self.steps_left = UPDATE_INTERVAL;
            return;
        }
        // A band coming in (from 0 dB, where it is the identity) starts from rest.
        if design.count != self.count {
            self.sections.iter_mut().for_each(StereoBiquad::reset);
        }
        for (section, coeffs) in self.sections.iter_mut().zip(design.sections()) {
            section.set_coeffs(*coeffs);
        }
        self.count = design.count;
        self.active = design.count > 0;
    }

    fn finish_fade(&mut self) {
        self.sections = self.next;
        self.count = self.next_count;
        self.fade_left = 0;
        self.active = self.count > 0;
    }

    /// Clears the filter state (and any crossfade).
    fn rest(&mut self) {
        if self.fade_left > 0 {
            self.finish_fade();
        }
        self.sections.iter_mut().for_each(StereoBiquad::reset);
    }

    /// Filters one pair through the band (and its incoming design while crossfading).
    #[inline]
    fn filter(&mut self, pair: [f64; 2]) -> [f64; 2] {
        if self.steps_left > 0 {
            self.steps_left -= 1;
            for (section, step) in self.sections[..self.count].iter_mut().zip(&self.steps) {
                let c = &mut section.coeffs;
                for k in 0..3 {
                    c.b[k] += step.b[k];
                }
                for k in 0..2 {
                    c.a[k] += step.a[k];
                }
            }
        }
        let old = self.sections[..self.count]
            .iter_mut()
            .fold(pair, |v, s| s.process(v));
        if self.fade_left == 0 {
            return old;
        }
        let new = self.next[..self.next_count]
            .iter_mut()
            .fold(pair, |v, s| s.process(v));
        let t = 1.0 - self.fade_left as f64 / self.fade_len as f64;
        let w = 0.5 - 0.5 * (PI * t).cos();
        self.fade_left -= 1;
        if self.fade_left == 0 {
            self.finish_fade();
        }
        [
            old[0] + w * (new[0] - old[0]),
            old[1] + w * (new[1] - old[1]),
        ]
    }

    /// [`Band::filter`] over a stretch of both channels, through the band's route. Between
    /// coefficient steps and crossfades the sections run directly.
    /// Whether the band's sections hold still over the next stretch (no coefficient steps, no
    /// crossfade): then it runs as a plain cascade, [`run_steady`].
    fn steady(&self) -> bool {
        self.steps_left == 0 && self.fade_left == 0
    }

    /// Filters a stretch while the band glides or crossfades (sample by sample).
    fn filter_gliding(&mut self, x0: &mut [f64], x1: &mut [f64]) {
        route_block(self.target.route, x0, x1, |pair| self.filter(pair));
    }

    fn set(&mut self, sample_rate: f32, settings: &BandSettings) {
        let s = settings.clamped();
        let structural = s.kind != self.target.kind
            || s.slope_db != self.target.slope_db
            || s.shape != self.target.shape
            || s.route != self.target.route;
        self.target = s;
        // A disabled band glides to 0 dB (types with a gain) before it leaves the path; types
        // without a gain cannot glide out and switch at once.
        let gain = if s.enabled { s.gain_db } else { 0.0 };
        self.octave.set_target(s.freq_hz.log2());
        self.gain_db.set_target(gain);
        self.q_octave.set_target(s.q.log2());
        if structural || (!s.enabled && !s.kind.uses_gain()) {
            self.snap();
        }
        if structural {
            self.rest();
        }
        // The full design follows in `process`, within its budget.
        self.design(sample_rate as f64, false);
    }

    fn snap(&mut self) {
        for s in [&mut self.octave, &mut self.gain_db, &mut self.q_octave] {
            s.reset(s.target());
        }
    }

    /// Advances the glides by `n` samples.
    fn advance(&mut self, n: usize) {
        for s in [&mut self.octave, &mut self.gain_db, &mut self.q_octave] {
            s.skip(n);
        }
    }

    /// Whether the band passes the signal unchanged right now (and so is skipped): a gain type
    /// at exactly 0 dB (also where a disabled one has glided to), or a disabled cut, notch or
    /// band-pass.
    fn neutral(&self) -> bool {
        if self.target.kind.uses_gain() {
            self.gain_db.current() == 0.0
        } else {
            !self.target.enabled
        }
    }
}

/// The sections in cascade over a stretch, unflushed.
#[inline(always)]
fn cascade(sections: &mut [StereoBiquad], route: Route, x0: &mut [f64], x1: &mut [f64]) {
    route_block(route, x0, x1, |pair| {
        sections
            .iter_mut()
            .fold(pair, |v, s| s.process_unflushed(v))
    });
}

/// The most sections [`run_steady`] runs as one cascade.
const FUSED_SECTIONS: usize = 8;

/// Runs steady bands (`members`, in band order, on one route, stereo unless alone,
/// [`FUSED_SECTIONS`] sections at most between them) over a stretch as one cascade: every
/// sample meets their sections in band order, as band after band would give it, but the
/// sections' recursions overlap in time instead of each band waiting for the last. Unflushed within the stretch (at most
/// STEADY_STRETCH samples), flushed after it.
fn run_steady(bands: &mut [Band], members: &[usize], x0: &mut [f64], x1: &mut [f64]) {
    let route = bands[members[0]].target.route;
    let mut sections = [StereoBiquad::default(); FUSED_SECTIONS];
    let mut count = 0;
    for &b in members {
        let band = &bands[b];
        sections[count..count + band.count].copy_from_slice(&band.sections[..band.count]);
        count += band.count;
    }
    let fused = &mut sections[..count];
    #[cfg(target_arch = "x86_64")]
    if route == Route::Stereo && count >= 2 && std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: AVX is present.
        unsafe {
            match count {
                2 => cascade_skewed::<1>(fused, x0, x1),
                3 | 4 => cascade_skewed::<2>(fused, x0, x1),
                5 | 6 => cascade_skewed::<3>(fused, x0, x1),
                _ => cascade_skewed::<4>(fused, x0, x1),
            }
        }
    } else {
        match fused {
            [a] => cascade_in_registers([a], route, x0, x1),
            [a, b] => cascade_in_registers([a, b], route, x0, x1),
            [a, b, c] => cascade_in_registers([a, b, c], route, x0, x1),
            [a, b, c, d] => cascade_in_registers([a, b, c, d], route, x0, x1),
            [a, b, c, d, e] => cascade_in_registers([a, b, c, d, e], route, x0, x1),
            [a, b, c, d, e, f] => cascade_in_registers([a, b, c, d, e, f], route, x0, x1),
            [a, b, c, d, e, f, g] => cascade_in_registers([a, b, c, d, e, f, g], route, x0, x1),
            [a, b, c, d, e, f, g, h] => {
                cascade_in_registers([a, b, c, d, e, f, g, h], route, x0, x1)
            }
            _ => cascade(fused, route, x0, x1),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    cascade(fused, route, x0, x1);
    fused.iter_mut().for_each(StereoBiquad::flush);
    count = 0;
    for &b in members {
        let band = &mut bands[b];
        let n = band.count;
        band.sections[..n].copy_from_slice(&sections[count..count + n]);
        count += n;
    }
}

/// [`cascade`] on the stereo route for 2 to `2·P` sections, two sections to a 256-bit vector
/// (section `2p` in the low half, `2p + 1` in the high half of pair `p`) and skewed in time:
/// at step `t` section `k` works on sample `t − k`, taking what section `k − 1` gave the step
/// before, so that a step's sections are independent and each vector operation does two
/// sections' work (the plain cascade is bound by how many multiplies it issues, not by its
/// recursions). The steps where a section has no sample (the first and last `sections − 1`)
/// keep its state. Each lane meets the arithmetic of [`StereoBiquad::process_unflushed`] in its
/// order: the same output bit for bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn cascade_skewed<const P: usize>(
    sections: &mut [StereoBiquad],
    x0: &mut [f64],
    x1: &mut [f64],
) {
    use std::arch::x86_64::*;
    let count = sections.len();
    debug_assert!(count >= 2 && count.div_ceil(2) == P);
    let len = x0.len().min(x1.len());
    // An unused high half (odd count) runs a silent section whose output nothing reads.
    let section = |k: usize| {
        sections.get(k).copied().unwrap_or(StereoBiquad {
            coeffs: Coeffs {
                b: [0.0; 3],
                a: [0.0; 2],
            },
            s1: [0.0; 2],
            s2: [0.0; 2],
        })
    };
    let halves = |p: usize, f: &dyn Fn(&StereoBiquad) -> [f64; 2]| {
        let (lo, hi) = (f(&section(2 * p)), f(&section(2 * p + 1)));
        _mm256_set_pd(hi[1], hi[0], lo[1], lo[0])
    };
    let b: [[__m256d; 3]; P] =
        std::array::from_fn(|p| std::array::from_fn(|j| halves(p, &|s| [s.coeffs.b[j]; 2])));
    let a: [[__m256d; 2]; P] =
        std::array::from_fn(|p| std::array::from_fn(|j| halves(p, &|s| [s.coeffs.a[j]; 2])));
    let s1: [__m256d; P] = std::array::from_fn(|p| halves(p, &|s| s.s1));
    let s2: [__m256d; P] = std::array::from_fn(|p| halves(p, &|s| s.s2));
    let last = count - 1;
    let mut state = Skewed {
        b,
        a,
        s1,
        s2,
        out: [_mm256_setzero_pd(); P],
        last,
        len,
    };
    let full = last..len.max(last);
    for t in 0..full.start {
        skewed_step::<P, false>(&mut state, t, x0, x1);
    }
    for t in full.clone() {
        skewed_step::<P, true>(&mut state, t, x0, x1);
    }
    for t in full.end..len + last {
        skewed_step::<P, false>(&mut state, t, x0, x1);
    }
    let (s1, s2) = (state.s1, state.s2);
    for (k, section) in sections.iter_mut().enumerate() {
        let (p, high) = (k / 2, k % 2 == 1);
        let half = |v: __m256d| {
            let h = if high {
                _mm256_extractf128_pd::<1>(v)
            } else {
                _mm256_castpd256_pd128(v)
            };
            [_mm_cvtsd_f64(h), _mm_cvtsd_f64(_mm_unpackhi_pd(h, h))]
        };
        section.s1 = half(s1[p]);
        section.s2 = half(s2[p]);
    }
}

/// What [`cascade_skewed`] carries from step to step.
#[cfg(target_arch = "x86_64")]
struct Skewed<const P: usize> {
    b: [[std::arch::x86_64::__m256d; 3]; P],
    a: [[std::arch::x86_64::__m256d; 2]; P],
    s1: [std::arch::x86_64::__m256d; P],
    s2: [std::arch::x86_64::__m256d; P],
    /// Each pair's outputs of the step before.
    out: [std::arch::x86_64::__m256d; P],
    last: usize,
    len: usize,
}

/// One step of [`cascade_skewed`]: every pair on its sample, from the last pair down so that
/// each reads its neighbour's outputs of the step before, then the last section's output
/// (sample `t − last`) when there is one. `FULL` when every section has a sample this step;
/// otherwise only the lanes of sections that have one move their state.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn skewed_step<const P: usize, const FULL: bool>(
    k: &mut Skewed<P>,
    t: usize,
    x0: &mut [f64],
    x1: &mut [f64],
) {
    use std::arch::x86_64::*;
    // SAFETY: register arithmetic only, inlined into `cascade_skewed` (AVX present).
    unsafe {
        let x = if t < k.len {
            _mm_set_pd(x1[t], x0[t])
        } else {
            _mm_setzero_pd()
        };
        for p in (0..P).rev() {
            let input = if p == 0 {
                _mm256_insertf128_pd::<1>(
                    _mm256_castpd128_pd256(x),
                    _mm256_castpd256_pd128(k.out[0]),
                )
            } else {
                _mm256_permute2f128_pd::<0x21>(k.out[p - 1], k.out[p])
            };
            let [b0, b1, b2] = k.b[p];
            let [a1, a2] = k.a[p];
            let y = _mm256_add_pd(_mm256_mul_pd(b0, input), k.s1[p]);
            let n1 = _mm256_sub_pd(
                _mm256_add_pd(_mm256_mul_pd(b1, input), k.s2[p]),
                _mm256_mul_pd(a1, y),
            );
            let n2 = _mm256_sub_pd(_mm256_mul_pd(b2, input), _mm256_mul_pd(a2, y));
            if FULL {
                (k.s1[p], k.s2[p]) = (n1, n2);
            } else {
                // Section j has sample t − j when 0 ≤ t − j < len.
                let has = |j: usize| if t >= j && t - j < k.len { -1i64 } else { 0 };
                let (lo, hi) = (has(2 * p), has(2 * p + 1));
                let moves = _mm256_castsi256_pd(_mm256_set_epi64x(hi, hi, lo, lo));
                k.s1[p] = _mm256_blendv_pd(k.s1[p], n1, moves);
                k.s2[p] = _mm256_blendv_pd(k.s2[p], n2, moves);
            }
            k.out[p] = y;
        }
        if t >= k.last {
            let y = if k.last % 2 == 1 {
                _mm256_extractf128_pd::<1>(k.out[P - 1])
            } else {
                _mm256_castpd256_pd128(k.out[P - 1])
            };
            let i = t - k.last;
            x0[i] = _mm_cvtsd_f64(y);
            x1[i] = _mm_cvtsd_f64(_mm_unpackhi_pd(y, y));
        }
    }
}

/// [`cascade`] with a known section count, the coefficients and state held in registers for
/// the stretch (each step the arithmetic of [`StereoBiquad::process_unflushed`]).
#[cfg(target_arch = "x86_64")]
fn cascade_in_registers<const N: usize>(
    sections: [&mut StereoBiquad; N],
    route: Route,
    x0: &mut [f64],
    x1: &mut [f64],
) {
    use crate::biquad::Tdf2Lanes2;
    use std::arch::x86_64::*;
    let mut lanes = sections.each_ref().map(|s| Tdf2Lanes2::load(s));
    route_block(route, x0, x1, |pair| {
        // SAFETY: a load and a store of `[f64; 2]`; SSE2 is part of the x86_64 baseline.
        unsafe {
            let y = lanes
                .iter_mut()
                .fold(_mm_loadu_pd(pair.as_ptr()), |v, s| s.step(v));
            let mut out = [0.0; 2];
            _mm_storeu_pd(out.as_mut_ptr(), y);
            out
        }
    });
    for (lanes, section) in lanes.iter().zip(sections) {
        lanes.store(section);
    }
}

/// Runs `filter` on each sample pair of the two channels as `route` presents it, and writes the
/// result back the same way.
fn route_block(
    route: Route,
    x0: &mut [f64],
    x1: &mut [f64],
    mut filter: impl FnMut([f64; 2]) -> [f64; 2],
) {
    // The route is chosen once per stretch, not per sample.
    let pairs = x0.iter_mut().zip(x1.iter_mut());
    match route {
        Route::Stereo => pairs.for_each(|(a, b)| [*a, *b] = filter([*a, *b])),
        Route::Left => pairs.for_each(|(a, b)| *a = filter([*a, *b])[0]),
        Route::Right => pairs.for_each(|(a, b)| *b = filter([*a, *b])[1]),
        Route::Mid => pairs.for_each(|(a, b)| {
            let (mid, side) = (0.5 * (*a + *b), 0.5 * (*a - *b));
            let y = filter([mid, side])[0];
            (*a, *b) = (y + side, y - side);
        }),
        Route::Side => pairs.for_each(|(a, b)| {
            let (mid, side) = (0.5 * (*a + *b), 0.5 * (*a - *b));
            let y = filter([mid, side])[1];
            (*a, *b) = (mid + y, mid - y);
        }),
    }
}

/// Everything a user sets on an [`Equalizer`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EqSettings {
    pub bands: [BandSettings; MAX_BANDS],
    pub output_db: f32,
    pub bypass: bool,
}

impl Default for EqSettings {
    fn default() -> Self {
        Self {
            bands: [BandSettings::default(); MAX_BANDS],
            output_db: 0.0,
            bypass: false,
        }
    }
}

/// The minimum-phase band chain: up to [`MAX_BANDS`] bands in series, each on its route, then
/// the output gain. Zero latency. Bands at 0 dB (or off) are skipped, so an all-flat EQ is
/// bit-transparent.
#[derive(Clone, Debug)]
pub struct Equalizer {
    sample_rate: f32,
    settings: EqSettings,
    bands: [Band; MAX_BANDS],
    output: Smoother,
    /// 1 = processed, 0 = bypassed.
    active: Smoother,
    /// Samples until the next coefficient update of gliding bands.
    until_update: usize,
    /// Whether the stretch under way is a steady one ([`STEADY_STRETCH`]).
    steady_stretch: bool,
    /// Whether steady bands may run as one cascade (always, except in the test that compares
    /// with band after band).
    fuse: bool,
}

impl Equalizer {
    pub fn new(sample_rate: f32, settings: EqSettings) -> Self {
        let smoother = |v: f32| Smoother::new(sample_rate, SMOOTHING_MS, v);
        Self {
            sample_rate,
            settings,
            bands: std::array::from_fn(|b| Band::new(sample_rate, &settings.bands[b])),
            output: smoother(crate::db_to_gain(crate::clamp_or(
                settings.output_db,
                range::OUTPUT_DB,
                0.0,
            ))),
            active: smoother(if settings.bypass { 0.0 } else { 1.0 }),
            until_update: 0,
            steady_stretch: false,
            fuse: true,
        }
    }

    pub fn settings(&self) -> &EqSettings {
        &self.settings
    }

    pub fn latency(&self) -> u32 {
        0
    }

    pub fn set_settings(&mut self, settings: &EqSettings) {
        for (b, band) in self.bands.iter_mut().enumerate() {
            if settings.bands[b] != self.settings.bands[b] {
                band.set(self.sample_rate, &settings.bands[b]);
                if self.steady_stretch {
                    // The glide this starts is designed from the next sample on, not at the end
                    // of a steady stretch.
                    self.until_update = 0;
                    self.steady_stretch = false;
                }
            }
        }
        self.output.set_target(crate::db_to_gain(crate::clamp_or(
            settings.output_db,
            range::OUTPUT_DB,
            0.0,
        )));
        self.active
            .set_target(if settings.bypass { 0.0 } else { 1.0 });
        self.settings = *settings;
    }

    pub fn reset(&mut self) {
        for band in &mut self.bands {
            band.snap();
            band.rest();
            band.design(self.sample_rate as f64, true);
            band.rest();
        }
        self.output.reset(self.output.target());
        self.active.reset(self.active.target());
    }

    /// The response the EQ has once its glides settle, at `hz`.
    pub fn response(&self, hz: f64) -> Complex {
        let fs = self.sample_rate as f64;
        let gain = crate::db_to_gain(self.settings.output_db) as f64;
        self.settings
            .bands
            .iter()
            .fold(Complex::new(gain, 0.0), |h, b| {
                h * Design::new(b, fs).response(fs, hz)
            })
    }

    /// Processes a stereo block in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let len = left.len().min(right.len());
        let mut start = 0;
        while start < len {
            if self.until_update == 0 {
                // Mid-glide: quick designs; once settled: the full design, once, for at most one
                // band per update (bounding the audio thread's work: a full cut design may take
                // half a millisecond; the others keep their quick design a little longer).
                let mut full_designs = 1;
                for band in &mut self.bands {
                    if band.gliding() {
                        band.design(self.sample_rate as f64, false);
                    } else if !band.precise && full_designs > 0 {
                        band.design(self.sample_rate as f64, true);
                        full_designs -= 1;
                    }
                }
                // Nothing left to design: a longer stretch (a settings change ends it).
                self.steady_stretch = self
                    .bands
                    .iter()
                    .all(|b| b.precise && !b.gliding() && b.steady());
                self.until_update = if self.steady_stretch {
                    STEADY_STRETCH
                } else {
                    UPDATE_INTERVAL
                };
            }
            let end = (start + self.until_update).min(len);
            self.process_chunk(&mut left[start..end], &mut right[start..end]);
            for band in &mut self.bands {
                band.advance(end - start);
            }
            self.until_update -= end - start;
            start = end;
        }
    }

    fn process_chunk(&mut self, left: &mut [f32], right: &mut [f32]) {
        // Skipped bands start from rest when they come back.
        let mut any = false;
        for band in &mut self.bands {
            if band.active && !band.neutral() {
                any = true;
            } else {
                band.rest();
            }
        }
        let output_settled = self.output.is_settled() && self.output.current() == 1.0;
        if !any && output_settled && self.active.is_settled() {
            // Every band flat: the input, bit for bit (NaN and inf become silence).
            for x in left.iter_mut().chain(right.iter_mut()) {
                if !x.is_finite() {
                    *x = 0.0;
                }
            }
            return;
        }
        // Band after band over the chunk (at most STEADY_STRETCH samples): each sample meets the
        // same arithmetic in the same order as sample after sample would give it.
        let n = left.len();
        let mut dry = [[0.0f32; STEADY_STRETCH]; 2];
        let mut x = [[0.0f64; STEADY_STRETCH]; 2];
        for i in 0..n {
            for (c, sample) in [left[i], right[i]].into_iter().enumerate() {
                let (clean, _) = crate::denormal::sanitize(sample);
                dry[c][i] = clean;
                x[c][i] = clean as f64;
            }
        }
        let [x0, x1] = &mut x;
        let (x0, x1) = (&mut x0[..n], &mut x1[..n]);
        // Consecutive steady stereo bands run as one cascade (see `run_steady`).
        let mut members = [0; MAX_BANDS];
        let (mut joined, mut sections) = (0, 0);
        for b in 0..MAX_BANDS {
            let band = &self.bands[b];
            if !band.active || band.neutral() {
                continue;
            }
            let steady = band.steady();
            // Stereo only: a mid or side band writes its result back as left and right, which
            // the next band splits again with its own rounding.
            let fits = joined == 0
                || (self.fuse
                    && band.target.route == Route::Stereo
                    && self.bands[members[0]].target.route == Route::Stereo
                    && sections + band.count <= FUSED_SECTIONS);
            if joined > 0 && !(steady && fits) {
                run_steady(&mut self.bands, &members[..joined], x0, x1);
                (joined, sections) = (0, 0);
            }
            if steady {
                members[joined] = b;
                joined += 1;
                sections += self.bands[b].count;
            } else {
                self.bands[b].filter_gliding(x0, x1);
            }
        }
        if joined > 0 {
            run_steady(&mut self.bands, &members[..joined], x0, x1);
        }
        for i in 0..n {
            let gain = self.output.tick() as f64;
            let active = self.active.tick() as f64;
            let (dl, dr) = (dry[0][i] as f64, dry[1][i] as f64);
            left[i] = (dl + active * (gain * x0[i] - dl)) as f32;
            right[i] = (dr + active * (gain * x1[i] - dr)) as f32;
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn band_settings() -> impl Strategy<Value = BandSettings> {
        (
            (any::<bool>(), 0usize..8, 0usize..5, any::<bool>()),
            (20.0f32..20_000.0, -12.0f32..12.0, 0.2f32..8.0, 1u32..=8),
        )
            .prop_map(
                |((enabled, kind, route, lr), (freq_hz, gain_db, q, slope))| {
                    BandSettings {
                        enabled: enabled || kind < 4,
                        kind: [
                            FilterType::Bell,
                            FilterType::LowShelf,
                            FilterType::HighShelf,
                            FilterType::LowCut,
                            FilterType::HighCut,
                            FilterType::Notch,
                            FilterType::BandPass,
                            FilterType::Tilt,
                        ][kind],
                        freq_hz,
                        gain_db,
                        q,
                        slope_db: 6 * slope,
                        shape: if lr {
                            CutShape::LinkwitzRiley
                        } else {
                            CutShape::Butterworth
                        },
                        // Mostly stereo, so that runs of bands fuse; the others break the runs.
                        route: [
                            Route::Stereo,
                            Route::Stereo,
                            Route::Left,
                            Route::Mid,
                            Route::Side,
                        ][route],
                    }
                },
            )
    }

    fn settings() -> impl Strategy<Value = EqSettings> {
        prop::array::uniform8(band_settings()).prop_map(|bands| EqSettings {
            bands,
            ..EqSettings::default()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Steady bands run as one cascade give exactly the output of band after band, through
        /// settings changes (whose glides and crossfades run band by band) and at any block size.
        #[test]
        fn fused_bands_are_band_after_band_bit_for_bit(
            first in settings(),
            second in settings(),
            seed in any::<u64>(),
            block in 1usize..600,
        ) {
            let len = 9_000;
            let mut noise = crate::noise::WhiteNoise::new(seed);
            let input: [Vec<f32>; 2] =
                std::array::from_fn(|_| (0..len).map(|_| 0.5 * noise.next_f64() as f32).collect());
            let mut fused = Equalizer::new(48_000.0, first);
            let mut plain = fused.clone();
            plain.fuse = false;
            let mut out = [input.clone(), input];
            for (eq, [l, r]) in [&mut fused, &mut plain].into_iter().zip(out.iter_mut()) {
                for (start, (l, r)) in l.chunks_mut(block).zip(r.chunks_mut(block)).enumerate() {
                    if start * block <= 3_000 && 3_000 < (start + 1) * block {
                        eq.set_settings(&second);
                    }
                    eq.process(l, r);
                }
            }
            for (c, (a, b)) in out[0].iter().zip(&out[1]).enumerate() {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    prop_assert_eq!(x.to_bits(), y.to_bits(), "channel {} sample {}", c, i);
                }
            }
        }
    }

    /// The skewed cascade (two sections to a vector) is the section-by-section cascade bit for
    /// bit, for every section count it takes, over stretches shorter and longer than the skew,
    /// with its state carried from one stretch to the next.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn skewed_cascade_is_the_plain_cascade() {
        if !std::arch::is_x86_feature_detected!("avx") {
            return;
        }
        let designs = [
            Coeffs::lowpass(48_000.0, 90.0, 0.54),
            Coeffs::highpass(48_000.0, 3_000.0, 1.3),
            Coeffs::allpass(48_000.0, 12_000.0, 0.7),
            Coeffs::peaking(48_000.0, 1_000.0, 2.0, 6.0),
        ];
        let mut noise = crate::noise::WhiteNoise::new(11);
        for count in 2..=FUSED_SECTIONS {
            let mut plain: Vec<StereoBiquad> = (0..count)
                .map(|k| {
                    let mut s = StereoBiquad::default();
                    s.set_coeffs(designs[k % designs.len()]);
                    s
                })
                .collect();
            let mut skewed = plain.clone();
            for stretch in 0..60 {
                let x: [Vec<f64>; 2] = std::array::from_fn(|_| {
                    (0..1 + stretch * 7 % 70)
                        .map(|_| noise.next_f64())
                        .collect()
                });
                let [mut a0, mut a1] = x.clone();
                let [mut b0, mut b1] = x;
                cascade(&mut plain, Route::Stereo, &mut a0, &mut a1);
                // SAFETY: AVX is present.
                unsafe {
                    match count {
                        2 => cascade_skewed::<1>(&mut skewed, &mut b0, &mut b1),
                        3 | 4 => cascade_skewed::<2>(&mut skewed, &mut b0, &mut b1),
                        5 | 6 => cascade_skewed::<3>(&mut skewed, &mut b0, &mut b1),
                        _ => cascade_skewed::<4>(&mut skewed, &mut b0, &mut b1),
                    }
                }
                for (a, b) in a0.iter().chain(&a1).zip(b0.iter().chain(&b1)) {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{count} sections, stretch {stretch}"
                    );
                }
                for (p, q) in plain.iter().zip(&skewed) {
                    assert_eq!(
                        (p.s1, p.s2),
                        (q.s1, q.s2),
                        "{count} sections, stretch {stretch}"
                    );
                }
            }
        }
    }

    /// The cascade held in registers is the section-by-section cascade bit for bit, on every
    /// route, with its state carried from one stretch to the next.
    #[test]
    fn cascade_in_registers_is_the_plain_cascade() {
        let designs = [
            Coeffs::lowpass(48_000.0, 90.0, 0.54),
            Coeffs::highpass(48_000.0, 3_000.0, 1.3),
            Coeffs::allpass(48_000.0, 12_000.0, 0.7),
        ];
        let mut noise = crate::noise::WhiteNoise::new(7);
        for route in [
            Route::Stereo,
            Route::Left,
            Route::Right,
            Route::Mid,
            Route::Side,
        ] {
            let mut plain = designs.map(|c| {
                let mut s = StereoBiquad::default();
                s.set_coeffs(c);
                s
            });
            let mut held = plain;
            for stretch in 0..40 {
                let x: [Vec<f64>; 2] = std::array::from_fn(|_| {
                    (0..1 + stretch % 16).map(|_| noise.next_f64()).collect()
                });
                let [mut a0, mut a1] = x.clone();
                let [mut b0, mut b1] = x;
                cascade(&mut plain, route, &mut a0, &mut a1);
                let [p, q, r] = &mut held;
                cascade_in_registers([p, q, r], route, &mut b0, &mut b1);
                for (a, b) in a0.iter().chain(&a1).zip(b0.iter().chain(&b1)) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{route:?}, stretch {stretch}");
                }
            }
        }
    }
}
