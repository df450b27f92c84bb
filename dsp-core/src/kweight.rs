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

    pub fn magnitude(&self, sample_rate: f64, hz: f64) -> f64 {
        self.shelf.coeffs.response(sample_rate, hz).norm()
            * self.highpass.coeffs.response(sample_rate, hz).norm()
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
