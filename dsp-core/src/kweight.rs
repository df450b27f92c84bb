//! K-weighting (ITU-R BS.1770-4, Annex 1): a high-frequency shelf followed by the RLB high-pass.
//!
//! BS.1770 publishes the coefficients for 48 kHz only. The analog-matched design below (the
//! shelf's centre, gain and Q, and the high-pass corner and Q, fitted to the published 48 kHz
//! filters and bilinear-transformed with pre-warping, as done by libebur128) gives the same
//! filters at 48 kHz and the intended response at any other rate.

use crate::biquad::{Biquad, Coeffs};

/// The two K-weighting stages for one channel.
#[derive(Clone, Copy, Debug)]
pub struct KWeighting {
    pub shelf: Biquad,
    pub highpass: Biquad,
}

impl KWeighting {
    pub fn new(sample_rate: f64) -> Self {
        use std::f64::consts::PI;
        // Stage 1: high shelf (+4 dB above ~1.7 kHz, head diffraction).
        let f0 = 1681.974450955533;
        let gain_db = 3.999843853973347;
        let q = 0.7071752369554196;
        let k = (PI * f0 / sample_rate).tan();
        let vh = 10f64.powf(gain_db / 20.0);
        let vb = vh.powf(0.4996667741545416);
        let a0 = 1.0 + k / q + k * k;
        let shelf = Biquad::new(Coeffs {
            b: [
                (vh + vb * k / q + k * k) / a0,
                2.0 * (k * k - vh) / a0,
                (vh - vb * k / q + k * k) / a0,
            ],
            a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
        });
        // Stage 2: RLB high-pass (~38 Hz).
        let f0 = 38.13547087602444;
        let q = 0.5003270373238773;
        let k = (PI * f0 / sample_rate).tan();
        let a0 = 1.0 + k / q + k * k;
        let highpass = Biquad::new(Coeffs {
            b: [1.0, -2.0, 1.0],
            a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
        });
        Self { shelf, highpass }
    }

    pub fn reset(&mut self) {
        self.shelf.reset();
        self.highpass.reset();
    }

    #[inline]
    pub fn process(&mut self, x: f64) -> f64 {
        self.highpass.process(self.shelf.process(x))
    }

    /// [`KWeighting::process`] without per-sample flushing; call [`KWeighting::flush`] every few
    /// milliseconds.
    #[inline]
    pub fn process_unflushed(&mut self, x: f64) -> f64 {
        self.highpass
            .process_unflushed_unit_highpass(self.shelf.process_unflushed(x))
    }

    pub fn flush(&mut self) {
        self.shelf.flush();
        self.highpass.flush();
    }

    /// Both channels of a pair through their K-weighting side by side (one SSE2 register on
    /// x86-64), folding each pair of outputs into an accumulator: `each(acc, left, right)`
    /// returns the next, and the last is returned. The outputs are exactly what
    /// [`KWeighting::process_unflushed`] gives per channel (the same operations in the same
    /// order, two lanes at a time). The accumulator passes by value so that it stays in
    /// registers: a sum kept behind a reference (as a closure that captures it keeps it) makes
    /// a store and a reload on its sample-to-sample chain, which cost more than the filters.
    /// Filters with different coefficients run one after the other.
    pub fn process_pair_fold<A>(
        left: &mut KWeighting,
        right: &mut KWeighting,
        l: &[f32],
        r: &[f32],
        init: A,
        mut each: impl FnMut(A, f64, f64) -> A,
    ) -> A {
        let same = left.shelf.coeffs == right.shelf.coeffs
            && left.highpass.coeffs == right.highpass.coeffs;
        #[cfg(target_arch = "x86_64")]
        if same {
            // SAFETY: SSE2 is part of the x86_64 baseline.
            return unsafe { process_pair_sse2(left, right, l, r, init, each) };
        }
        let _ = same;
        let mut acc = init;
        for (&xl, &xr) in l.iter().zip(r) {
            acc = each(
                acc,
                left.process_unflushed(xl as f64),
                right.process_unflushed(xr as f64),
            );
        }
        acc
    }

    pub fn magnitude(&self, sample_rate: f64, hz: f64) -> f64 {
        self.shelf.coeffs.response(sample_rate, hz).norm()
            * self.highpass.coeffs.response(sample_rate, hz).norm()
    }
}

/// [`KWeighting::process_pair_fold`] with both channels in one register (lane 0 left).
#[cfg(target_arch = "x86_64")]
unsafe fn process_pair_sse2<A>(
    left: &mut KWeighting,
    right: &mut KWeighting,
    l: &[f32],
    r: &[f32],
    init: A,
    mut each: impl FnMut(A, f64, f64) -> A,
) -> A {
    use std::arch::x86_64::*;
    // SAFETY: register arithmetic only; SSE2 is baseline on x86_64.
    unsafe {
        let lanes = |a: [f64; 2], b: [f64; 2], k: usize| _mm_set_pd(b[k], a[k]);
        let shelf = left.shelf.coeffs;
        let [h1, h2] = left.highpass.coeffs.a.map(|c| _mm_set1_pd(c));
        let two = _mm_set1_pd(2.0);
        let (shelf_l, shelf_r) = (left.shelf.state(), right.shelf.state());
        let (high_l, high_r) = (left.highpass.state(), right.highpass.state());
        let (mut s1, mut s2) = (lanes(shelf_l, shelf_r, 0), lanes(shelf_l, shelf_r, 1));
        let (mut t1, mut t2) = (lanes(high_l, high_r, 0), lanes(high_l, high_r, 1));
        let mut acc = init;
        for (&xl, &xr) in l.iter().zip(r) {
            let x = _mm_set_pd(xr as f64, xl as f64);
            // The shelf, as Biquad::process_unflushed.
            let y;
            (y, s1, s2) = crate::biquad::tdf2_sse2(&shelf, x, s1, s2);
            // The high-pass, as Biquad::process_unflushed_unit_highpass.
            let z = _mm_add_pd(y, t1);
            t1 = _mm_sub_pd(_mm_sub_pd(t2, _mm_mul_pd(two, y)), _mm_mul_pd(h1, z));
            t2 = _mm_sub_pd(y, _mm_mul_pd(h2, z));
            acc = each(acc, _mm_cvtsd_f64(z), _mm_cvtsd_f64(_mm_unpackhi_pd(z, z)));
        }
        let store = |v: __m128d| {
            let mut out = [0.0f64; 2];
            _mm_storeu_pd(out.as_mut_ptr(), v);
            out
        };
        let ([s1l, s1r], [s2l, s2r]) = (store(s1), store(s2));
        let ([t1l, t1r], [t2l, t2r]) = (store(t1), store(t2));
        left.shelf.set_state([s1l, s2l]);
        right.shelf.set_state([s1r, s2r]);
        left.highpass.set_state([t1l, t2l]);
        right.highpass.set_state([t1r, t2r]);
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The coefficients printed in ITU-R BS.1770-4, Tables 1 and 2 (48 kHz).
    #[test]
    fn matches_the_published_48k_coefficients() {
        let k = KWeighting::new(48_000.0);
        let shelf_b = [1.53512485958697, -2.69169618940638, 1.19839281085285];
        let shelf_a = [-1.69065929318241, 0.73248077421585];
        let hp_a = [-1.99004745483398, 0.99007225036621];
        for (ours, published) in k.shelf.coeffs.b.iter().zip(shelf_b) {
            assert!(
                (ours - published).abs() < 1e-8,
                "shelf b: {ours} vs {published}"
            );
        }
        for (ours, published) in k.shelf.coeffs.a.iter().zip(shelf_a) {
            assert!(
                (ours - published).abs() < 1e-8,
                "shelf a: {ours} vs {published}"
            );
        }
        for (ours, published) in k.highpass.coeffs.a.iter().zip(hp_a) {
            assert!(
                (ours - published).abs() < 1e-8,
                "high-pass a: {ours} vs {published}"
            );
        }
        assert_eq!(k.highpass.coeffs.b, [1.0, -2.0, 1.0]);
    }

    /// The pair runs give exactly the per-channel outputs and leave the same state, over
    /// stretches of any length, and for filters of different rates (run one after the other).
    #[test]
    fn pairs_match_each_channel_alone() {
        let mut noise = crate::noise::WhiteNoise::new(5);
        let l: Vec<f32> = (0..3_000).map(|_| noise.next_f64() as f32).collect();
        let r: Vec<f32> = (0..3_000)
            .map(|_| (0.3 * noise.next_f64()) as f32)
            .collect();
        for (rate_l, rate_r) in [(48_000.0, 48_000.0), (44_100.0, 48_000.0)] {
            let (mut single_l, mut single_r) = (KWeighting::new(rate_l), KWeighting::new(rate_r));
            let want: Vec<(f64, f64)> = l
                .iter()
                .zip(&r)
                .map(|(&a, &b)| {
                    (
                        single_l.process_unflushed(a as f64),
                        single_r.process_unflushed(b as f64),
                    )
                })
                .collect();
            let (mut pair_l, mut pair_r) = (KWeighting::new(rate_l), KWeighting::new(rate_r));
            let mut got = Vec::new();
            for (a, b) in l.chunks(77).zip(r.chunks(77)) {
                KWeighting::process_pair_fold(&mut pair_l, &mut pair_r, a, b, (), |(), yl, yr| {
                    got.push((yl, yr))
                });
            }
            assert_eq!(got, want, "{rate_l} / {rate_r}");
            for (pair, single) in [(pair_l, single_l), (pair_r, single_r)] {
                assert_eq!(pair.shelf.state(), single.shelf.state());
                assert_eq!(pair.highpass.state(), single.highpass.state());
            }
        }
    }

    /// The response shape is the same at every rate (checked against the 48 kHz design): the
    /// +4 dB shelf, 0 dB near 1 kHz... within 0.05 dB up to 10 kHz.
    #[test]
    fn response_is_rate_independent() {
        let reference = KWeighting::new(48_000.0);
        for rate in [44_100.0, 88_200.0, 96_000.0, 192_000.0] {
            let k = KWeighting::new(rate);
            for hz in [20.0, 50.0, 100.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0] {
                let db = 20.0 * (k.magnitude(rate, hz) / reference.magnitude(48_000.0, hz)).log10();
                assert!(db.abs() < 0.05, "{rate} Hz at {hz} Hz: {db} dB");
            }
        }
    }
}
