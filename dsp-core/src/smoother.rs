//! Parameter smoothing with a time set in milliseconds.

/// A one-pole (exponential) smoother. The time constant `time_ms` is the time to cover 63% of a
/// step; within `5·time_ms` the value is within 1% (−40 dB) of the target. The per-sample
/// coefficient is derived from the sample rate, so the audible time is the same at every rate.
#[derive(Clone, Debug)]
pub struct Smoother {
    /// Per-sample pole, `exp(−1 / (τ·fs))`; 0 means "jump".
    pole: f32,
    /// Current output value.
    current: f32,
    /// Value being approached.
    target: f32,
}

impl Smoother {
    /// A smoother at `sample_rate` Hz with time constant `time_ms`, starting settled at `value`.
    pub fn new(sample_rate: f32, time_ms: f32, value: f32) -> Self {
        let mut smoother = Self {
            pole: 0.0,
            current: value,
            target: value,
        };
        smoother.set_time(sample_rate, time_ms);
        smoother
    }

    /// Changes the time constant (ms) at sample rate `sample_rate` (Hz). Keeps the current value.
    pub fn set_time(&mut self, sample_rate: f32, time_ms: f32) {
        let samples = time_ms.max(0.0) * 0.001 * sample_rate;
        self.pole = if samples < 1e-3 {
            0.0
        } else {
            (-1.0 / samples).exp()
        };
    }

    /// Sets the value to move towards.
    #[inline]
    pub fn set_target(&mut self, target: f32) {
        self.target = target;
    }

    /// Jumps straight to `value` (for `reset()` and initialisation).
    pub fn reset(&mut self, value: f32) {
        self.current = value;
        self.target = value;
    }

    /// The target value.
    #[inline]
    pub fn target(&self) -> f32 {
        self.target
    }

    /// The current value, without advancing.
    #[inline]
    pub fn current(&self) -> f32 {
        self.current
    }

    /// True when the output has reached its target (to within `f32` resolution of it).
    #[inline]
    pub fn is_settled(&self) -> bool {
        self.current == self.target
    }

    /// Advances one sample and returns the new value.
    #[inline]
    pub fn tick(&mut self) -> f32 {
        if self.current != self.target {
            let next = self.target + (self.current - self.target) * self.pole;
            // Snap once the remaining distance no longer changes the value or is inaudible
            // (relative to the target, or below 1e-10 absolute when heading for zero).
            self.current = if next == self.current
                || (next - self.target).abs() <= 1e-7 * self.target.abs().max(1e-3)
            {
                self.target
            } else {
                next
            };
        }
        self.current
    }
}

impl Smoother {
    /// Advances `n` samples at once (to where `n` calls of [`Smoother::tick`] would take it).
    #[inline]
    pub fn skip(&mut self, n: usize) {
        if self.current != self.target {
            for _ in 0..n {
                self.tick();
            }
        }
    }

    /// Fills `out` with the next `out.len()` values (a constant fill when settled).
    #[inline]
    pub fn fill(&mut self, out: &mut [f32]) {
        if self.is_settled() {
            out.fill(self.current);
        } else {
            for value in out {
                *value = self.tick();
            }
        }
    }
}

/// A frequency that glides in octaves (a [`Smoother`] on `log2(hz)`), for filters whose
/// coefficients are recomputed every few samples while it moves.
#[derive(Clone, Debug)]
pub struct Glide {
    octaves: Smoother,
}

impl Glide {
    /// Starts settled at `hz`; `time_ms` is the smoothing time constant.
    pub fn new(sample_rate: f32, time_ms: f32, hz: f32) -> Self {
        Self {
            octaves: Smoother::new(sample_rate, time_ms, hz.max(1e-3).log2()),
        }
    }

    pub fn set_target(&mut self, hz: f32) {
        self.octaves.set_target(hz.max(1e-3).log2());
    }

    /// Jumps to the target.
    pub fn jump(&mut self) {
        self.octaves.reset(self.octaves.target());
    }

    /// Advances `samples` samples; returns whether the frequency moved.
    pub fn advance(&mut self, samples: usize) -> bool {
        if self.octaves.is_settled() {
            return false;
        }
        for _ in 0..samples {
            self.octaves.tick();
        }
        true
    }

    /// The current frequency, Hz.
    pub fn hz(&self) -> f64 {
        2f64.powf(self.octaves.current() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_constant_is_independent_of_sample_rate() {
        for sample_rate in [22_050.0, 44_100.0, 48_000.0, 96_000.0, 384_000.0] {
            let mut smoother = Smoother::new(sample_rate, 10.0, 0.0);
            smoother.set_target(1.0);
            let tau_samples = (0.010 * sample_rate) as usize;
            let mut value = 0.0;
            for _ in 0..tau_samples {
                value = smoother.tick();
            }
            // 1 − e^−1 = 0.632 after one time constant.
            assert!((value - 0.632).abs() < 0.01, "{sample_rate}: {value}");
        }
    }

    #[test]
    fn settles_exactly() {
        let mut smoother = Smoother::new(48_000.0, 5.0, 1.0);
        smoother.set_target(0.25);
        for _ in 0..48_000 {
            smoother.tick();
        }
        assert!(smoother.is_settled());
        assert_eq!(smoother.current(), 0.25);
    }

    #[test]
    fn fill_equals_ticking() {
        let mut a = Smoother::new(48_000.0, 5.0, 0.0);
        let mut b = a.clone();
        a.set_target(1.0);
        b.set_target(1.0);
        let mut block = [0.0f32; 1000];
        for _ in 0..300 {
            a.fill(&mut block);
            for &v in &block {
                assert_eq!(v, b.tick());
            }
        }
    }

    #[test]
    fn zero_time_jumps() {
        let mut smoother = Smoother::new(48_000.0, 0.0, 0.0);
        smoother.set_target(0.7);
        assert_eq!(smoother.tick(), 0.7);
    }
}
