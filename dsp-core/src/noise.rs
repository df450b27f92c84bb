//! Deterministic noise generators (for tests, benchmarks and test signals): white noise from a
//! xorshift64 generator, and pink noise from Paul Kellet's refined filter on it (within ±0.05 dB
//! of −3 dB/octave from 9 Hz to Nyquist at 44.1 kHz).

/// White noise, uniform in [−1, 1), reproducible from its seed.
#[derive(Clone, Debug)]
pub struct WhiteNoise {
    pub(crate) state: u64,
}

impl WhiteNoise {
    pub fn new(seed: u64) -> Self {
        Self { state: seed.max(1) }
    }

    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Pink noise (Paul Kellet's "refined" filter). Unnormalised: its peak is a few units.
#[derive(Clone, Debug)]
pub struct PinkNoise {
    white: WhiteNoise,
    b: [f64; 7],
}

impl PinkNoise {
    pub fn new(seed: u64) -> Self {
        Self {
            white: WhiteNoise::new(seed),
            b: [0.0; 7],
        }
    }

    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        let w = self.white.next_f64();
        let b = &mut self.b;
        b[0] = 0.99886 * b[0] + w * 0.0555179;
        b[1] = 0.99332 * b[1] + w * 0.0750759;
        b[2] = 0.96900 * b[2] + w * 0.153_852;
        b[3] = 0.86650 * b[3] + w * 0.3104856;
        b[4] = 0.55000 * b[4] + w * 0.5329522;
        b[5] = -0.7616 * b[5] - w * 0.0168980;
        let pink = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
        b[6] = w * 0.115926;
        pink
    }

    /// `len` samples scaled so the largest magnitude is `peak`.
    pub fn generate(seed: u64, len: usize, peak: f64) -> Vec<f32> {
        let mut noise = Self::new(seed);
        let raw: Vec<f64> = (0..len).map(|_| noise.next_f64()).collect();
        let max = raw.iter().fold(0.0f64, |m, &x| m.max(x.abs())).max(1e-30);
        raw.iter().map(|&x| (x / max * peak) as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_is_uniform_and_zero_mean() {
        let mut noise = WhiteNoise::new(7);
        let values: Vec<f64> = (0..100_000).map(|_| noise.next_f64()).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let power = values.iter().map(|x| x * x).sum::<f64>() / values.len() as f64;
        assert!(mean.abs() < 0.01);
        assert!(
            (power - 1.0 / 3.0).abs() < 0.01,
            "uniform power is 1/3: {power}"
        );
        assert!(values.iter().all(|x| (-1.0..1.0).contains(x)));
    }

    /// Pink means −3 dB per octave: the mean power density (Hann-windowed periodogram, 64
    /// averaged frames) at 2.0–2.4 kHz is 3 dB below that at 1.0–1.2 kHz.
    #[test]
    fn pink_has_minus_3_db_per_octave() {
        let sample_rate = 44_100.0;
        let n = 4096;
        let frames = 64;
        let mut noise = PinkNoise::new(3);
        let bin = |hz: f64| (hz / sample_rate * n as f64) as usize;
        let bins: Vec<usize> = (bin(1_000.0)..bin(1_200.0))
            .chain(bin(2_000.0)..bin(2_400.0))
            .collect();
        let mut power = vec![0.0f64; n / 2];
        for _ in 0..frames {
            let frame: Vec<f64> = (0..n).map(|_| noise.next_f64()).collect();
            for &k in &bins {
                let p = &mut power[k];
                let w = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
                let (mut re, mut im) = (0.0, 0.0);
                for (i, &x) in frame.iter().enumerate() {
                    let window =
                        0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
                    re += x * window * (w * i as f64).cos();
                    im -= x * window * (w * i as f64).sin();
                }
                *p += re * re + im * im;
            }
        }
        let band = |lo: f64, hi: f64| {
            let (a, b) = (
                (lo / sample_rate * n as f64) as usize,
                (hi / sample_rate * n as f64) as usize,
            );
            power[a..b].iter().sum::<f64>() / (b - a) as f64
        };
        // Mean power density in a band one octave up is half (−3 dB).
        let slope = 10.0 * (band(2_000.0, 2_400.0) / band(1_000.0, 1_200.0)).log10();
        assert!((slope + 3.0).abs() < 0.5, "{slope} dB/octave");
    }
}
