//! Translation monitoring: how a master might sound on other playback systems and in parts of
//! the stereo image. It only changes what is heard; a loudness meter reads the signal before it.
//!
//! Each device voicing is a small, documented filter set that approximates the typical response
//! of that class of device: where its low end stops, where it has a broad resonance and how its
//! top end falls. They are listening aids for translation checks, not measurements of a
//! particular product. Sources for the shapes:
//! - Phone speaker: micro-loudspeakers of smartphones have their resonance around 700–1000 Hz and
//!   fall steeply below it (second-order high-pass of a closed box, plus the roll-off of the
//!   amplifier's protection filter), with little useful output under ~300–400 Hz, a presence
//!   peak in the upper midrange and one driver (mono). (Klippel, "Loudspeaker nonlinearities –
//!   causes, parameters, symptoms", JAES 2006; published micro-speaker datasheets.)
//! - Earbuds: open-fit earbuds lose the sub-bass that a sealed fit would keep (leakage acts as a
//!   high-pass around 60–100 Hz) and show the ear-canal resonance near 3 kHz. (Hiipakka et al.,
//!   "Modeling of external ear acoustics for insert headphone usage", JAES 2010.)
//! - Laptop: small stereo drivers close together: a steep high-pass around 150–200 Hz, a bump
//!   near 1 kHz, a dip in the upper mids and a gentle treble roll-off; the image narrows.
//! - Car: cabin gain raises the low end below ~80 Hz by several dB (pressure-field effect of a
//!   small closed space), door-mounted woofers leave a dip in the low mids, and absorption
//!   softens the top. (Bech & Zacharov, "Perceptual Audio Evaluation", ch. on automotive
//!   listening; typical in-car target curves.)
//!
//! Channel solos: left or right alone on both speakers, mid `(L+R)/2`, side `(L−R)/2`.

use crate::biquad::{Biquad, Coeffs, CutFilter, CutKind};
use crate::denormal::sanitize;

/// What the monitor plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Voicing {
    /// The input unchanged (bit-transparent).
    Off,
    Mono,
    Phone,
    Earbuds,
    Laptop,
    Car,
    Left,
    Right,
    Mid,
    Side,
}

/// How a voicing treats the stereo image before its filters.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Matrix {
    Stereo,
    /// `(L+R)/2` on both.
    Mono,
    /// Side scaled by this width (laptop: narrower image).
    Width(f64),
    Left,
    Right,
    Side,
}

/// The most biquad sections a voicing uses after its cut filters.
const MAX_SECTIONS: usize = 4;

/// One voicing's design: matrix, high-pass, low-pass and extra sections.
#[derive(Clone, Copy, Debug)]
struct Design {
    matrix: Matrix,
    /// (Hz, Butterworth order).
    highpass: Option<(f64, usize)>,
    lowpass: Option<(f64, usize)>,
    sections: [Coeffs; MAX_SECTIONS],
}

impl Design {
    fn new(voicing: Voicing, sample_rate: f64) -> Self {
        let fs = sample_rate;
        let mut sections = [Coeffs::IDENTITY; MAX_SECTIONS];
        let (matrix, highpass, lowpass) = match voicing {
            Voicing::Off => (Matrix::Stereo, None, None),
            Voicing::Mono | Voicing::Mid => (Matrix::Mono, None, None),
            Voicing::Left => (Matrix::Left, None, None),
            Voicing::Right => (Matrix::Right, None, None),
            Voicing::Side => (Matrix::Side, None, None),
            Voicing::Phone => {
                sections[0] = Coeffs::peaking(fs, 900.0, 1.4, 5.0);
                sections[1] = Coeffs::peaking(fs, 3_000.0, 1.2, 3.0);
                (Matrix::Mono, Some((450.0, 4)), Some((9_000.0, 2)))
            }
            Voicing::Earbuds => {
                sections[0] = Coeffs::peaking(fs, 3_000.0, 1.5, 4.0);
                sections[1] = Coeffs::high_shelf(fs, 9_000.0, -3.0);
                (Matrix::Stereo, Some((80.0, 2)), Some((16_000.0, 2)))
            }
            Voicing::Laptop => {
                sections[0] = Coeffs::peaking(fs, 1_000.0, 1.0, 3.0);
                sections[1] = Coeffs::peaking(fs, 3_500.0, 1.5, -4.0);
                (Matrix::Width(0.5), Some((180.0, 4)), Some((13_000.0, 2)))
            }
            Voicing::Car => {
                sections[0] = Coeffs::low_shelf(fs, 80.0, 6.0);
                sections[1] = Coeffs::peaking(fs, 250.0, 1.4, -3.0);
                sections[2] = Coeffs::high_shelf(fs, 8_000.0, -4.0);
                (Matrix::Stereo, Some((30.0, 2)), None)
            }
        };
        Self {
            matrix,
            highpass,
            lowpass,
            sections,
        }
    }
}

/// One channel's filters.
#[derive(Clone, Copy, Debug)]
struct Filters {
    highpass: CutFilter,
    lowpass: CutFilter,
    sections: [Biquad; MAX_SECTIONS],
}

/// The translation monitor for a stereo pair.
#[derive(Clone, Debug)]
pub struct Monitor {
    sample_rate: f64,
    voicing: Voicing,
    design: Design,
    filters: [Filters; 2],
}

impl Monitor {
    pub fn new(sample_rate: f32, voicing: Voicing) -> Self {
        let fs = sample_rate as f64;
        let identity = Filters {
            highpass: CutFilter::new(fs, CutKind::LowCut, 20.0, 1),
            lowpass: CutFilter::new(fs, CutKind::HighCut, 20_000.0, 1),
            sections: [Biquad::default(); MAX_SECTIONS],
        };
        let mut monitor = Self {
            sample_rate: fs,
            voicing: Voicing::Off,
            design: Design::new(Voicing::Off, fs),
            filters: [identity; 2],
        };
        monitor.set_voicing(voicing);
        monitor
    }

    pub fn voicing(&self) -> Voicing {
        self.voicing
    }

    /// Switches voicing (clears the filters: a monitoring switch, not a musical parameter).
    pub fn set_voicing(&mut self, voicing: Voicing) {
        if voicing == self.voicing {
            return;
        }
        self.voicing = voicing;
        self.design = Design::new(voicing, self.sample_rate);
        for filters in &mut self.filters {
            if let Some((hz, order)) = self.design.highpass {
                filters
                    .highpass
                    .set(self.sample_rate, CutKind::LowCut, hz, order);
            }
            if let Some((hz, order)) = self.design.lowpass {
                filters
                    .lowpass
                    .set(self.sample_rate, CutKind::HighCut, hz, order);
            }
            for (section, coeffs) in filters.sections.iter_mut().zip(self.design.sections) {
                section.set_coeffs(coeffs);
            }
        }
        self.reset();
    }

    pub fn reset(&mut self) {
        for filters in &mut self.filters {
            filters.highpass.reset();
            filters.lowpass.reset();
            filters.sections.iter_mut().for_each(Biquad::reset);
        }
    }

    /// The voicing's magnitude response at `hz` for a signal on one channel (matrix aside), dB.
    pub fn response_db(&self, hz: f64) -> f64 {
        let f = &self.filters[0];
        let mut h = crate::biquad::Complex::ONE;
        if self.design.highpass.is_some() {
            h = h * f.highpass.response(self.sample_rate, hz);
        }
        if self.design.lowpass.is_some() {
            h = h * f.lowpass.response(self.sample_rate, hz);
        }
        for section in &f.sections {
            h = h * section.coeffs.response(self.sample_rate, hz);
        }
        h.db()
    }

    /// Processes a stereo block in place. Non-finite input samples become silence (finite input
    /// passes bit-identical when the monitor is off).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if self.voicing == Voicing::Off {
            for x in left.iter_mut().chain(right.iter_mut()) {
                if !x.is_finite() {
                    *x = 0.0;
                }
            }
            return;
        }
        let design = self.design;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let (x, y) = (sanitize(*l).0 as f64, sanitize(*r).0 as f64);
            let (mut a, mut b) = match design.matrix {
                Matrix::Stereo => (x, y),
                Matrix::Mono => {
                    let m = 0.5 * (x + y);
                    (m, m)
                }
                Matrix::Width(w) => {
                    let (m, s) = (0.5 * (x + y), 0.5 * (x - y) * w);
                    (m + s, m - s)
                }
                Matrix::Left => (x, x),
                Matrix::Right => (y, y),
                Matrix::Side => {
                    let s = 0.5 * (x - y);
                    (s, s)
                }
            };
            for (value, filters) in [&mut a, &mut b].into_iter().zip(&mut self.filters) {
                let mut v = *value;
                if design.highpass.is_some() {
                    v = filters.highpass.process(v);
                }
                if design.lowpass.is_some() {
                    v = filters.lowpass.process(v);
                }
                for section in &mut filters.sections {
                    v = section.process(v);
                }
                *value = v;
            }
            *l = a as f32;
            *r = b as f32;
        }
    }
}
