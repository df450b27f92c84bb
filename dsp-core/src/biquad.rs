//! Second-order filter sections: coefficients as plain `Copy` values with named constructors and
//! their own complex response, separate from the filter state.
//!
//! The designs here are the bilinear transform with the corner frequency pre-warped (RBJ's Audio
//! EQ Cookbook forms). For cut filters and crossovers that is the right tool: the corner lands
//! exactly where it is set, complementary low/high-pass pairs stay exactly complementary in the
//! digital domain (a Linkwitz-Riley pair sums to an exact digital allpass), and a low-pass's
//! extra attenuation near Nyquist only makes it steeper.

use std::f64::consts::PI;

/// A complex number, for frequency responses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Complex {
    pub re: f64,
    pub im: f64,
}

impl Complex {
    pub const ONE: Complex = Complex { re: 1.0, im: 0.0 };

    pub fn new(re: f64, im: f64) -> Self {
        Self { re, im }
    }

    /// `e^{iθ}`.
    pub fn from_angle(theta: f64) -> Self {
        Self::new(theta.cos(), theta.sin())
    }

    pub fn norm(self) -> f64 {
        self.re.hypot(self.im)
    }

    pub fn db(self) -> f64 {
        20.0 * self.norm().max(1e-300).log10()
    }

    pub fn arg(self) -> f64 {
        self.im.atan2(self.re)
    }
}

impl std::ops::Add for Complex {
    type Output = Complex;
    fn add(self, o: Complex) -> Complex {
        Complex::new(self.re + o.re, self.im + o.im)
    }
}

impl std::ops::Mul for Complex {
    type Output = Complex;
    fn mul(self, o: Complex) -> Complex {
        Complex::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}

impl std::ops::Mul<f64> for Complex {
    type Output = Complex;
    fn mul(self, k: f64) -> Complex {
        Complex::new(self.re * k, self.im * k)
    }
}

impl std::ops::Div for Complex {
    type Output = Complex;
    fn div(self, o: Complex) -> Complex {
        let d = o.re * o.re + o.im * o.im;
        Complex::new(
            (self.re * o.re + self.im * o.im) / d,
            (self.im * o.re - self.re * o.im) / d,
        )
    }
}

/// Normalised coefficients of `H(z) = (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coeffs {
    pub b: [f64; 3],
    /// `a1, a2` (`a0` is 1).
    pub a: [f64; 2],
}

impl Coeffs {
    /// Passes the signal unchanged.
    pub const IDENTITY: Coeffs = Coeffs {
        b: [1.0, 0.0, 0.0],
        a: [0.0, 0.0],
    };

    /// `tan(π·f/fs)`, the pre-warped corner, with `hz` kept inside (0, fs/2).
    fn warp(sample_rate: f64, hz: f64) -> f64 {
        let hz = hz.clamp(1e-3, sample_rate * 0.4999);
        (PI * hz / sample_rate).tan()
    }

    /// Second-order low-pass at `hz` with quality `q` (0.7071 = Butterworth).
    pub fn lowpass(sample_rate: f64, hz: f64, q: f64) -> Self {
        let k = Self::warp(sample_rate, hz);
        let norm = 1.0 / (1.0 + k / q + k * k);
        let b0 = k * k * norm;
        Self {
            b: [b0, 2.0 * b0, b0],
            a: [2.0 * (k * k - 1.0) * norm, (1.0 - k / q + k * k) * norm],
        }
    }

    /// Second-order high-pass at `hz` with quality `q`.
    pub fn highpass(sample_rate: f64, hz: f64, q: f64) -> Self {
        let k = Self::warp(sample_rate, hz);
        let norm = 1.0 / (1.0 + k / q + k * k);
        Self {
            b: [norm, -2.0 * norm, norm],
            a: [2.0 * (k * k - 1.0) * norm, (1.0 - k / q + k * k) * norm],
        }
    }

    /// Second-order allpass at `hz` with quality `q`: the phase of the low-pass and high-pass of
    /// the same `hz` and `q` combined, at unity magnitude.
    pub fn allpass(sample_rate: f64, hz: f64, q: f64) -> Self {
        let k = Self::warp(sample_rate, hz);
        let norm = 1.0 / (1.0 + k / q + k * k);
        let a1 = 2.0 * (k * k - 1.0) * norm;
        let a2 = (1.0 - k / q + k * k) * norm;
        Self {
            b: [a2, a1, 1.0],
            a: [a1, a2],
        }
    }

    /// Peaking (bell) filter at `hz` with quality `q` and gain `gain_db` (RBJ Audio EQ
    /// Cookbook). Its bell is squeezed towards Nyquist (cramping); it serves where the features
    /// sit well below Nyquist, such as the monitor voicings.
    pub fn peaking(sample_rate: f64, hz: f64, q: f64, gain_db: f64) -> Self {
        let a = 10f64.powf(gain_db / 40.0);
        let w = 2.0 * PI * hz.clamp(1e-3, sample_rate * 0.4999) / sample_rate;
        let alpha = w.sin() / (2.0 * q);
        let norm = 1.0 / (1.0 + alpha / a);
        Self {
            b: [
                (1.0 + alpha * a) * norm,
                -2.0 * w.cos() * norm,
                (1.0 - alpha * a) * norm,
            ],
            a: [-2.0 * w.cos() * norm, (1.0 - alpha / a) * norm],
        }
    }

    /// Low shelf (RBJ Audio EQ Cookbook, shelf slope 1) at `hz`, `gain_db` below it.
    pub fn low_shelf(sample_rate: f64, hz: f64, gain_db: f64) -> Self {
        Self::shelf(sample_rate, hz, gain_db, false)
    }

    /// High shelf (RBJ Audio EQ Cookbook, shelf slope 1) at `hz`, `gain_db` above it.
    pub fn high_shelf(sample_rate: f64, hz: f64, gain_db: f64) -> Self {
        Self::shelf(sample_rate, hz, gain_db, true)
    }

    fn shelf(sample_rate: f64, hz: f64, gain_db: f64, high: bool) -> Self {
        let a = 10f64.powf(gain_db / 40.0);
        let w = 2.0 * PI * hz.clamp(1e-3, sample_rate * 0.4999) / sample_rate;
        let (cos, alpha) = (w.cos(), w.sin() / std::f64::consts::SQRT_2);
        let root = 2.0 * a.sqrt() * alpha;
        // The high shelf is the low shelf with the sign of cos flipped in the (A ± 1) terms.
        let s = if high { -1.0 } else { 1.0 };
        let b0 = a * ((a + 1.0) - s * (a - 1.0) * cos + root);
        let b1 = 2.0 * s * a * ((a - 1.0) - s * (a + 1.0) * cos);
        let b2 = a * ((a + 1.0) - s * (a - 1.0) * cos - root);
        let a0 = (a + 1.0) + s * (a - 1.0) * cos + root;
        let a1 = -2.0 * s * ((a - 1.0) + s * (a + 1.0) * cos);
        let a2 = (a + 1.0) + s * (a - 1.0) * cos - root;
        Self {
            b: [b0 / a0, b1 / a0, b2 / a0],
            a: [a1 / a0, a2 / a0],
        }
    }

    /// First-order low-pass at `hz` (6 dB/oct).
    pub fn lowpass1(sample_rate: f64, hz: f64) -> Self {
        let k = Self::warp(sample_rate, hz);
        let norm = 1.0 / (1.0 + k);
        Self {
            b: [k * norm, k * norm, 0.0],
            a: [(k - 1.0) * norm, 0.0],
        }
    }

    /// First-order high-pass at `hz` (6 dB/oct).
    pub fn highpass1(sample_rate: f64, hz: f64) -> Self {
        let k = Self::warp(sample_rate, hz);
        let norm = 1.0 / (1.0 + k);
        Self {
            b: [norm, -norm, 0.0],
            a: [(k - 1.0) * norm, 0.0],
        }
    }

    /// The complex response at `hz`.
    pub fn response(&self, sample_rate: f64, hz: f64) -> Complex {
        let w = 2.0 * PI * hz / sample_rate;
        let z1 = Complex::from_angle(-w);
        let z2 = Complex::from_angle(-2.0 * w);
        let num = Complex::new(self.b[0], 0.0) + z1 * self.b[1] + z2 * self.b[2];
        let den = Complex::ONE + z1 * self.a[0] + z2 * self.a[1];
        num / den
    }
}

/// One second-order section's state, transposed direct form II in `f64` (low corners at high
/// sample rates need the precision).
#[derive(Clone, Copy, Debug)]
pub struct Biquad {
    pub coeffs: Coeffs,
    s1: f64,
    s2: f64,
}

impl Default for Biquad {
    fn default() -> Self {
        Self::new(Coeffs::IDENTITY)
    }
}

impl Biquad {
    pub fn new(coeffs: Coeffs) -> Self {
        Self {
            coeffs,
            s1: 0.0,
            s2: 0.0,
        }
    }

    pub fn reset(&mut self) {
        self.s1 = 0.0;
        self.s2 = 0.0;
    }

    /// Changes the coefficients, keeping the state (for smooth parameter changes).
    #[inline]
    pub fn set_coeffs(&mut self, coeffs: Coeffs) {
        self.coeffs = coeffs;
    }

    #[inline]
    pub fn process(&mut self, x: f64) -> f64 {
        let Coeffs { b, a } = self.coeffs;
        let y = b[0] * x + self.s1;
        self.s1 = b[1] * x + self.s2 - a[0] * y;
        self.s2 = b[2] * x - a[1] * y;
        self.flush();
        y
    }

    /// [`Biquad::process`] without flushing tiny state values, for tight loops that call
    /// [`Biquad::flush`] every few milliseconds instead (an `f64` state needs minutes of decay to
    /// reach the denormal range).
    ///
    /// Transposed direct form II, with `s2` added before the feedback term is taken away: the
    /// chain from one output to the next is then a multiplication, a subtraction and an
    /// addition (every copy of this step, scalar or in lanes, keeps that order).
    #[inline]
    pub fn process_unflushed(&mut self, x: f64) -> f64 {
        let Coeffs { b, a } = self.coeffs;
        let y = b[0] * x + self.s1;
        self.s1 = b[1] * x + self.s2 - a[0] * y;
        self.s2 = b[2] * x - a[1] * y;
        y
    }

    /// [`Biquad::process_unflushed`] for a high-pass whose numerator is exactly `[1, −2, 1]`
    /// (double zero at DC, as BS.1770's RLB filter): the numerator costs no multiplications.
    #[inline]
    pub fn process_unflushed_unit_highpass(&mut self, x: f64) -> f64 {
        #[cfg(test)]
        assert_eq!(self.coeffs.b, [1.0, -2.0, 1.0]);
        let [a1, a2] = self.coeffs.a;
        let y = x + self.s1;
        self.s1 = self.s2 - 2.0 * x - a1 * y;
        self.s2 = x - a2 * y;
        y
    }

    /// The state `[s1, s2]` (for code that runs several sections side by side).
    #[inline]
    pub(crate) fn state(&self) -> [f64; 2] {
        [self.s1, self.s2]
    }

    #[inline]
    pub(crate) fn set_state(&mut self, [s1, s2]: [f64; 2]) {
        (self.s1, self.s2) = (s1, s2);
    }

    /// Flushes the state to zero once both values are tiny. Flushing one alone would break the
    /// recursion: with `s2` zeroed, `y' = −a1·y` grows for any low-frequency section (|a1| ≈ 2),
    /// and the state would hover in a limit cycle just above the threshold instead of decaying.
    #[inline]
    pub fn flush(&mut self) {
        let tiny = crate::denormal::FLUSH_THRESHOLD as f64;
        if self.s1.abs() < tiny && self.s2.abs() < tiny {
            self.s1 = 0.0;
            self.s2 = 0.0;
        }
    }
}

/// A second-order section the crossover tree can be built from: one channel ([`Biquad`]) or
/// two channels in lockstep ([`StereoBiquad`], one SIMD register for both).
pub trait Section: Copy + Default {
    type Sample: Copy;
    fn set_coeffs(&mut self, coeffs: Coeffs);
    fn reset(&mut self);
    fn process(&mut self, x: Self::Sample) -> Self::Sample;
    /// [`Section::process`] without flushing tiny state, for loops that call
    /// [`Section::flush`] every block instead (an `f64` state takes minutes of decay to reach
    /// the denormal range, so a flush per block keeps silence exact and denormals out).
    fn process_unflushed(&mut self, x: Self::Sample) -> Self::Sample;
    /// Zeroes a channel's state once both of its values are tiny.
    fn flush(&mut self);
}

impl Section for Biquad {
    type Sample = f64;
    #[inline]
    fn set_coeffs(&mut self, coeffs: Coeffs) {
        Biquad::set_coeffs(self, coeffs);
    }
    fn reset(&mut self) {
        Biquad::reset(self);
    }
    #[inline]
    fn process(&mut self, x: f64) -> f64 {
        Biquad::process(self, x)
    }
    #[inline]
    fn process_unflushed(&mut self, x: f64) -> f64 {
        Biquad::process_unflushed(self, x)
    }
    fn flush(&mut self) {
        Biquad::flush(self);
    }
}

/// Two channels through the same section (transposed direct form II, `f64`), side by side.
#[derive(Clone, Copy, Debug)]
pub struct StereoBiquad {
    pub coeffs: Coeffs,
    pub(crate) s1: [f64; 2],
    pub(crate) s2: [f64; 2],
}

impl Default for StereoBiquad {
    fn default() -> Self {
        Self {
            coeffs: Coeffs::IDENTITY,
            s1: [0.0; 2],
            s2: [0.0; 2],
        }
    }
}

impl Section for StereoBiquad {
    type Sample = [f64; 2];

    #[inline]
    fn set_coeffs(&mut self, coeffs: Coeffs) {
        self.coeffs = coeffs;
    }

    fn reset(&mut self) {
        self.s1 = [0.0; 2];
        self.s2 = [0.0; 2];
    }

    /// The same arithmetic as [`Biquad::process`] on each channel, flushing a channel's state
    /// once both of its values are tiny.
    #[inline]
    fn process(&mut self, x: [f64; 2]) -> [f64; 2] {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is part of the x86_64 baseline; loads and stores are unaligned ones
            // of two-element arrays.
            unsafe { self.step_sse2::<true>(x) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self.process_scalar(x)
        }
    }

    #[inline]
    fn process_unflushed(&mut self, x: [f64; 2]) -> [f64; 2] {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: as in `process`.
            unsafe { self.step_sse2::<false>(x) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let Coeffs { b, a } = self.coeffs;
            let mut y = [0.0; 2];
            for c in 0..2 {
                y[c] = b[0] * x[c] + self.s1[c];
                self.s1[c] = b[1] * x[c] + self.s2[c] - a[0] * y[c];
                self.s2[c] = b[2] * x[c] - a[1] * y[c];
            }
            y
        }
    }

    fn flush(&mut self) {
        let tiny = crate::denormal::FLUSH_THRESHOLD as f64;
        for c in 0..2 {
            if self.s1[c].abs() < tiny && self.s2[c].abs() < tiny {
                self.s1[c] = 0.0;
                self.s2[c] = 0.0;
            }
        }
    }
}

impl StereoBiquad {
    /// The reference for [`Section::process`].
    #[inline]
    pub fn process_scalar(&mut self, x: [f64; 2]) -> [f64; 2] {
        let Coeffs { b, a } = self.coeffs;
        let tiny = crate::denormal::FLUSH_THRESHOLD as f64;
        let mut y = [0.0; 2];
        for c in 0..2 {
            y[c] = b[0] * x[c] + self.s1[c];
            let s1 = b[1] * x[c] + self.s2[c] - a[0] * y[c];
            let s2 = b[2] * x[c] - a[1] * y[c];
            let keep = s1.abs() >= tiny || s2.abs() >= tiny;
            self.s1[c] = if keep { s1 } else { 0.0 };
            self.s2[c] = if keep { s2 } else { 0.0 };
        }
        y
    }

    /// Both channels in one register, each operation in the reference's order (no fused
    /// multiply-add), the flush (if `FLUSH`) as a mask: bit-identical to
    /// [`StereoBiquad::process_scalar`] without its per-channel branches.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn step_sse2<const FLUSH: bool>(&mut self, x: [f64; 2]) -> [f64; 2] {
        use std::arch::x86_64::*;
        // SAFETY: every load and store is of a `[f64; 2]`.
        unsafe {
            let x = _mm_loadu_pd(x.as_ptr());
            let s1 = _mm_loadu_pd(self.s1.as_ptr());
            let s2 = _mm_loadu_pd(self.s2.as_ptr());
            let (y, mut new_s1, mut new_s2) = tdf2_sse2(&self.coeffs, x, s1, s2);
            if FLUSH {
                let sign = _mm_set1_pd(-0.0);
                let tiny = _mm_set1_pd(crate::denormal::FLUSH_THRESHOLD as f64);
                let keep = _mm_or_pd(
                    _mm_cmpge_pd(_mm_andnot_pd(sign, new_s1), tiny),
                    _mm_cmpge_pd(_mm_andnot_pd(sign, new_s2), tiny),
                );
                new_s1 = _mm_and_pd(new_s1, keep);
                new_s2 = _mm_and_pd(new_s2, keep);
            }
            _mm_storeu_pd(self.s1.as_mut_ptr(), new_s1);
            _mm_storeu_pd(self.s2.as_mut_ptr(), new_s2);
            let mut out = [0.0; 2];
            _mm_storeu_pd(out.as_mut_ptr(), y);
            out
        }
    }
}

/// One transposed-direct-form-II step on two lanes: `(y, s1', s2')`, each operation in the
/// order of [`Biquad::process_unflushed`] (no fused multiply-add), so each lane is bit-identical
/// to it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn tdf2_sse2(
    coeffs: &Coeffs,
    x: std::arch::x86_64::__m128d,
    s1: std::arch::x86_64::__m128d,
    s2: std::arch::x86_64::__m128d,
) -> (
    std::arch::x86_64::__m128d,
    std::arch::x86_64::__m128d,
    std::arch::x86_64::__m128d,
) {
    use std::arch::x86_64::*;
    let Coeffs { b, a } = *coeffs;
    // SAFETY: register arithmetic only; SSE2 is part of the x86_64 baseline.
    unsafe {
        let y = _mm_add_pd(_mm_mul_pd(_mm_set1_pd(b[0]), x), s1);
        let s1 = _mm_sub_pd(
            _mm_add_pd(_mm_mul_pd(_mm_set1_pd(b[1]), x), s2),
            _mm_mul_pd(_mm_set1_pd(a[0]), y),
        );
        let s2 = _mm_sub_pd(
            _mm_mul_pd(_mm_set1_pd(b[2]), x),
            _mm_mul_pd(_mm_set1_pd(a[1]), y),
        );
        (y, s1, s2)
    }
}

/// Two unflushed [`StereoBiquad`]s side by side in four AVX2 lanes (the first in lanes 0–1, the
/// second in lanes 2–3), their coefficients broadcast and their state held in registers for a
/// run of samples: each lane is bit-identical to [`Section::process_unflushed`].
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Tdf2Lanes4 {
    b: [std::arch::x86_64::__m256d; 3],
    a: [std::arch::x86_64::__m256d; 2],
    s1: std::arch::x86_64::__m256d,
    s2: std::arch::x86_64::__m256d,
}

#[cfg(target_arch = "x86_64")]
impl Tdf2Lanes4 {
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn load(first: &StereoBiquad, second: &StereoBiquad) -> Self {
        use std::arch::x86_64::*;
        let pair = |a: f64, b: f64| _mm256_set_pd(b, b, a, a);
        let pack = |a: [f64; 2], b: [f64; 2]| _mm256_set_pd(b[1], b[0], a[1], a[0]);
        let (f, s) = (first.coeffs, second.coeffs);
        Self {
            b: std::array::from_fn(|k| pair(f.b[k], s.b[k])),
            a: std::array::from_fn(|k| pair(f.a[k], s.a[k])),
            s1: pack(first.s1, second.s1),
            s2: pack(first.s2, second.s2),
        }
    }

    /// Writes the state back.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn store(&self, first: &mut StereoBiquad, second: &mut StereoBiquad) {
        let [s1, s2] = [self.s1, self.s2].map(|v| crate::lanes::to_array(v));
        (first.s1, second.s1) = ([s1[0], s1[1]], [s1[2], s1[3]]);
        (first.s2, second.s2) = ([s2[0], s2[1]], [s2[2], s2[3]]);
    }

    /// One step: the operations of [`tdf2_sse2`] in its order.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn step(&mut self, x: std::arch::x86_64::__m256d) -> std::arch::x86_64::__m256d {
        use std::arch::x86_64::*;
        let y = _mm256_add_pd(_mm256_mul_pd(self.b[0], x), self.s1);
        self.s1 = _mm256_sub_pd(
            _mm256_add_pd(_mm256_mul_pd(self.b[1], x), self.s2),
            _mm256_mul_pd(self.a[0], y),
        );
        self.s2 = _mm256_sub_pd(_mm256_mul_pd(self.b[2], x), _mm256_mul_pd(self.a[1], y));
        y
    }
}

/// One unflushed [`StereoBiquad`] with its coefficients broadcast and its state in registers
/// for a run of samples (the two-lane companion of [`Tdf2Lanes4`]).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Tdf2Lanes2 {
    coeffs: Coeffs,
    s1: std::arch::x86_64::__m128d,
    s2: std::arch::x86_64::__m128d,
}

#[cfg(target_arch = "x86_64")]
impl Tdf2Lanes2 {
    #[inline]
    pub(crate) fn load(section: &StereoBiquad) -> Self {
        use std::arch::x86_64::*;
        // SAFETY: loads of `[f64; 2]`; SSE2 is part of the x86_64 baseline.
        unsafe {
            Self {
                coeffs: section.coeffs,
                s1: _mm_loadu_pd(section.s1.as_ptr()),
                s2: _mm_loadu_pd(section.s2.as_ptr()),
            }
        }
    }

    #[inline]
    pub(crate) fn store(&self, section: &mut StereoBiquad) {
        use std::arch::x86_64::*;
        // SAFETY: stores of `[f64; 2]`; SSE2 is part of the x86_64 baseline.
        unsafe {
            _mm_storeu_pd(section.s1.as_mut_ptr(), self.s1);
            _mm_storeu_pd(section.s2.as_mut_ptr(), self.s2);
        }
    }

    #[inline(always)]
    pub(crate) fn step(&mut self, x: std::arch::x86_64::__m128d) -> std::arch::x86_64::__m128d {
        let (y, s1, s2) = tdf2_sse2(&self.coeffs, x, self.s1, self.s2);
        (self.s1, self.s2) = (s1, s2);
        y
    }
}

/// Quality factors of the second-order sections of an `order`-th order Butterworth filter (and
/// whether it needs a first-order section): `Q_k = 1 / (2 cos θ_k)` with the pole angles
/// `θ_k = (2k − 1)π / (2N)` for even `N`, `kπ / N` for odd `N`.
pub fn butterworth_qs(order: usize) -> ([f64; 4], usize, bool) {
    let mut qs = [0.0; 4];
    let sections = order / 2;
    for (k, q) in qs.iter_mut().enumerate().take(sections) {
        let theta = if order.is_multiple_of(2) {
            (2 * k + 1) as f64 * PI / (2 * order) as f64
        } else {
            (k + 1) as f64 * PI / order as f64
        };
        *q = 1.0 / (2.0 * theta.cos());
    }
    (qs, sections, !order.is_multiple_of(2))
}

/// Which side a cut filter removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutKind {
    /// High-pass: removes lows.
    LowCut,
    /// Low-pass: removes highs.
    HighCut,
}

/// The largest Butterworth order a [`CutFilter`] supports (48 dB/oct).
pub const MAX_CUT_ORDER: usize = 8;

/// A Butterworth low-cut or high-cut of order 1–8 (6–48 dB/oct), −3 dB at the corner.
#[derive(Clone, Copy, Debug)]
pub struct CutFilter {
    sections: [Biquad; MAX_CUT_ORDER.div_ceil(2)],
    used: usize,
}

impl CutFilter {
    pub fn new(sample_rate: f64, kind: CutKind, hz: f64, order: usize) -> Self {
        let mut filter = Self {
            sections: [Biquad::default(); MAX_CUT_ORDER.div_ceil(2)],
            used: 0,
        };
        filter.set(sample_rate, kind, hz, order);
        filter
    }

    /// The coefficients of each section for this design (unused sections are identity).
    pub fn design(
        sample_rate: f64,
        kind: CutKind,
        hz: f64,
        order: usize,
    ) -> ([Coeffs; MAX_CUT_ORDER.div_ceil(2)], usize) {
        let order = order.clamp(1, MAX_CUT_ORDER);
        let (qs, pairs, first_order) = butterworth_qs(order);
        let mut coeffs = [Coeffs::IDENTITY; MAX_CUT_ORDER.div_ceil(2)];
        for (c, &q) in coeffs.iter_mut().zip(&qs).take(pairs) {
            *c = match kind {
                CutKind::LowCut => Coeffs::highpass(sample_rate, hz, q),
                CutKind::HighCut => Coeffs::lowpass(sample_rate, hz, q),
            };
        }
        if first_order {
            coeffs[pairs] = match kind {
                CutKind::LowCut => Coeffs::highpass1(sample_rate, hz),
                CutKind::HighCut => Coeffs::lowpass1(sample_rate, hz),
            };
        }
        (coeffs, pairs + first_order as usize)
    }

    /// Re-designs, keeping the state.
    pub fn set(&mut self, sample_rate: f64, kind: CutKind, hz: f64, order: usize) {
        let (coeffs, used) = Self::design(sample_rate, kind, hz, order);
        for (section, c) in self.sections.iter_mut().zip(coeffs) {
            section.set_coeffs(c);
        }
        self.used = used;
    }

    pub fn reset(&mut self) {
        self.sections.iter_mut().for_each(Biquad::reset);
    }

    #[inline]
    pub fn process(&mut self, x: f64) -> f64 {
        self.sections[..self.used]
            .iter_mut()
            .fold(x, |y, section| section.process(y))
    }

    pub fn response(&self, sample_rate: f64, hz: f64) -> Complex {
        self.sections[..self.used]
            .iter()
            .fold(Complex::ONE, |h, s| h * s.coeffs.response(sample_rate, hz))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SIMD stereo section gives exactly the reference's output and state, through signals
    /// that decay into the flush threshold, on channels that differ.
    #[test]
    fn stereo_section_matches_its_reference() {
        let designs = [
            Coeffs::lowpass(48_000.0, 120.0, std::f64::consts::FRAC_1_SQRT_2),
            Coeffs::highpass(48_000.0, 8000.0, 0.5412),
            Coeffs::allpass(48_000.0, 2500.0, 0.9),
            Coeffs::peaking(48_000.0, 1000.0, 2.0, 6.0),
        ];
        for coeffs in designs {
            let mut fast = StereoBiquad::default();
            fast.set_coeffs(coeffs);
            let mut reference = fast;
            for n in 0..200_000 {
                let x = if n < 1000 {
                    [
                        ((n * 7919) % 13) as f64 - 6.0,
                        ((n * 104_729) % 7) as f64 * 1e-3,
                    ]
                } else {
                    [0.0, 0.0]
                };
                let got = fast.process(x);
                let want = reference.process_scalar(x);
                assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{n}");
                assert_eq!(fast.s1.map(f64::to_bits), reference.s1.map(f64::to_bits));
                assert_eq!(fast.s2.map(f64::to_bits), reference.s2.map(f64::to_bits));
            }
            assert_eq!(fast.s1, [0.0; 2], "decays to exact zero");
        }
    }

    /// Unflushed with a flush every 64 samples, the stereo section gives the flushed one's
    /// output bit for bit while its state is above the threshold, and still decays to exact
    /// zero in silence (the scalar `Biquad` likewise).
    #[test]
    fn unflushed_sections_with_a_flush_per_block_match_and_fall_silent() {
        let coeffs = Coeffs::lowpass(48_000.0, 40.0, 0.5412);
        let mut flushed = StereoBiquad::default();
        flushed.set_coeffs(coeffs);
        let mut blockwise = flushed;
        let mut scalar = Biquad::new(coeffs);
        let mut decayed_at = None;
        for n in 0..400_000 {
            let x = if n < 1000 {
                [((n * 7919) % 13) as f64 - 6.0, 0.25]
            } else {
                [0.0, 0.0]
            };
            // Channels whose flushed state is still live must agree bit for bit.
            let live = [0, 1].map(|c| flushed.s1[c] != 0.0 || flushed.s2[c] != 0.0);
            let want = flushed.process(x);
            let got = Section::process_unflushed(&mut blockwise, x);
            let got_scalar = Section::process_unflushed(&mut scalar, x[0]);
            if n % 64 == 63 {
                Section::flush(&mut blockwise);
                Section::flush(&mut scalar);
            }
            for c in 0..2 {
                if live[c] || n < 1000 {
                    assert_eq!(got[c].to_bits(), want[c].to_bits(), "{n} {c}");
                }
            }
            if live[0] || n < 1000 {
                assert_eq!(got_scalar.to_bits(), want[0].to_bits(), "{n}");
            }
            if live == [false, false] && n >= 1000 && decayed_at.is_none() {
                decayed_at = Some(n);
            }
        }
        let decayed_at = decayed_at.expect("the flushed section decays");
        assert!(decayed_at < 390_000, "{decayed_at}");
        assert_eq!(blockwise.s1, [0.0; 2], "decays to exact zero");
        assert_eq!(blockwise.s2, [0.0; 2]);
        assert_eq!(scalar.state(), [0.0; 2]);
    }

    /// Runs an impulse through `process` and returns the response at `hz` by a direct DFT.
    fn measured(mut process: impl FnMut(f64) -> f64, sample_rate: f64, hz: f64) -> Complex {
        let len = 1 << 16;
        let mut sum = Complex::new(0.0, 0.0);
        for n in 0..len {
            let y = process(if n == 0 { 1.0 } else { 0.0 });
            sum = sum + Complex::from_angle(-2.0 * PI * hz * n as f64 / sample_rate) * y;
        }
        sum
    }

    #[test]
    fn butterworth_magnitude_matches_the_analog_formula() {
        // |H|² = 1 / (1 + (f/fc)^(2N)) for a low-pass; the bilinear transform maps f to
        // tan(πf/fs), so the digital response is the analog one at the warped frequency.
        let fs = 48_000.0;
        for order in 1..=MAX_CUT_ORDER {
            for fc in [50.0, 1000.0, 12_000.0] {
                let low = CutFilter::new(fs, CutKind::HighCut, fc, order);
                let high = CutFilter::new(fs, CutKind::LowCut, fc, order);
                for hz in [20.0, 200.0, 1000.0, 5000.0, 15_000.0] {
                    let ratio = (PI * hz / fs).tan() / (PI * fc / fs).tan();
                    let lp = (1.0 / (1.0 + ratio.powi(2 * order as i32))).sqrt();
                    let hp = (1.0 / (1.0 + ratio.powi(-2 * order as i32))).sqrt();
                    let got_lp = low.response(fs, hz).norm();
                    let got_hp = high.response(fs, hz).norm();
                    assert!((got_lp - lp).abs() < 1e-9, "LP{order} {fc} at {hz}");
                    assert!((got_hp - hp).abs() < 1e-9, "HP{order} {fc} at {hz}");
                }
                let at_corner = low.response(fs, fc).db();
                assert!((at_corner + 3.0103).abs() < 1e-3, "{order}: {at_corner}");
            }
        }
    }

    #[test]
    fn reported_response_matches_the_impulse_response() {
        let fs = 44_100.0;
        let designs = [
            Coeffs::lowpass(fs, 800.0, 0.7),
            Coeffs::highpass(fs, 120.0, 1.3),
            Coeffs::allpass(fs, 3000.0, 0.54),
            Coeffs::lowpass1(fs, 5000.0),
            Coeffs::highpass1(fs, 30.0),
        ];
        for coeffs in designs {
            let mut filter = Biquad::new(coeffs);
            for hz in [40.0, 700.0, 6000.0, 19_000.0] {
                let mut f = filter;
                let got = measured(|x| f.process(x), fs, hz);
                let want = coeffs.response(fs, hz);
                assert!(
                    (got.re - want.re).abs() < 1e-9 && (got.im - want.im).abs() < 1e-9,
                    "{coeffs:?} at {hz}: {got:?} vs {want:?}"
                );
            }
            filter.reset();
        }
    }

    /// Bells and shelves reach their gain where they should: the bell's centre, the shelves'
    /// far side, and half the gain (in dB) at a shelf's corner; unity far away.
    #[test]
    fn bells_and_shelves_reach_their_gains() {
        let fs = 48_000.0;
        let bell = Coeffs::peaking(fs, 1000.0, 1.0, 6.0);
        assert!((bell.response(fs, 1000.0).db() - 6.0).abs() < 1e-9);
        assert!(bell.response(fs, 20.0).db().abs() < 0.01);
        let low = Coeffs::low_shelf(fs, 100.0, 6.0);
        assert!((low.response(fs, 5.0).db() - 6.0).abs() < 0.01);
        assert!((low.response(fs, 100.0).db() - 3.0).abs() < 0.01);
        assert!(low.response(fs, 5000.0).db().abs() < 0.01);
        let high = Coeffs::high_shelf(fs, 5000.0, -4.0);
        assert!((high.response(fs, 23_900.0).db() + 4.0).abs() < 0.01);
        assert!((high.response(fs, 5000.0).db() + 2.0).abs() < 0.01);
        assert!(high.response(fs, 50.0).db().abs() < 0.01);
    }

    #[test]
    fn allpass_has_unity_magnitude() {
        let c = Coeffs::allpass(96_000.0, 250.0, std::f64::consts::FRAC_1_SQRT_2);
        for hz in [1.0, 100.0, 250.0, 1000.0, 40_000.0] {
            assert!((c.response(96_000.0, hz).norm() - 1.0).abs() < 1e-12);
        }
    }

    /// After loud input, silence decays to exact zeros: no limit cycle near the flush threshold
    /// (flushing one state value alone used to leave ±1e-29 forever in low-frequency sections).
    #[test]
    fn silence_decays_to_exact_zero() {
        let fs = 48_000.0;
        let mut filters = [
            CutFilter::new(fs, CutKind::LowCut, 20.0, 8),
            CutFilter::new(fs, CutKind::HighCut, 120.0, 4),
            CutFilter::new(fs, CutKind::LowCut, 6_000.0, 2),
        ];
        let mut crossover = crate::crossover::Crossover::new(fs, [120.0, 1_000.0, 6_000.0]);
        let mut noise = crate::noise::WhiteNoise::new(9);
        // The crossover is flushed once per 64-sample block, as its owners do.
        for n in 0..20_000 {
            let x = noise.next_f64();
            filters.iter_mut().for_each(|f| {
                f.process(x);
            });
            crossover.process([x, -x]);
            if n % 64 == 63 {
                crossover.flush();
            }
        }
        let mut last_nonzero = 0;
        for n in 0..6 * 48_000 {
            let outputs = filters.iter_mut().map(|f| f.process(0.0));
            let bands = crossover.process([0.0; 2]).into_iter().flatten();
            if outputs.chain(bands).any(|y| y != 0.0) {
                last_nonzero = n;
            }
            if n % 64 == 63 {
                crossover.flush();
            }
        }
        // The slowest pole (the Q 2.56 section of the 20 Hz 8th-order cut: τ = 2Q/ω = 41 ms) needs
        // ln(1e30) = 69 τ = 2.8 s to fall from 1 to the flush threshold; a limit cycle never ends.
        assert!(
            last_nonzero < 3 * 48_000,
            "still not silent at sample {last_nonzero}"
        );
    }

    /// The unit high-pass path gives the general section's output to the last bit's order.
    #[test]
    fn unit_highpass_matches_the_general_section() {
        let coeffs = Coeffs {
            b: [1.0, -2.0, 1.0],
            a: [-1.99004745483398, 0.99007225036621],
        };
        let (mut general, mut fast) = (Biquad::new(coeffs), Biquad::new(coeffs));
        for n in 0..10_000 {
            let x = ((n * 7919) % 1000) as f64 / 500.0 - 1.0;
            let (a, b) = (
                general.process_unflushed(x),
                fast.process_unflushed_unit_highpass(x),
            );
            assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{n}: {a} vs {b}");
        }
    }
}
