//! Running window statistics used by envelope followers: a sliding minimum and a moving average.

/// Minimum over the last `window` samples, in amortised O(1) per sample (a monotonic deque kept in
/// a fixed ring buffer: no allocation after construction).
#[derive(Clone, Debug)]
pub struct SlidingMin {
    /// Candidates (value, sample index), values increasing from front to back. The capacity is a
    /// power of two so ring positions wrap with a mask.
    entries: Vec<(f32, u32)>,
    mask: usize,
    /// Ring positions of the deque's front and its length.
    head: usize,
    len: usize,
    /// Current window length in samples (1..=max_window).
    window: usize,
    max_window: usize,
    /// Index of the next sample (wrapping; only differences are used).
    now: u32,
}

impl SlidingMin {
    /// A sliding minimum that can be set to windows of up to `max_window` samples.
    pub fn new(max_window: usize, window: usize) -> Self {
        let max_window = max_window.max(1);
        let capacity = (max_window + 1).next_power_of_two();
        Self {
            entries: vec![(0.0, 0); capacity],
            mask: capacity - 1,
            head: 0,
            len: 0,
            window: window.clamp(1, max_window),
            max_window,
            now: 0,
        }
    }

    /// Sets the window length and clears the state.
    pub fn set_window(&mut self, window: usize) {
        self.window = window.clamp(1, self.max_window);
        self.reset();
    }

    pub fn window(&self) -> usize {
        self.window
    }

    /// Takes over `other`'s window and contents without allocating (same capacity required).
    pub fn copy_from(&mut self, other: &Self) {
        self.entries.copy_from_slice(&other.entries);
        self.head = other.head;
        self.len = other.len;
        self.window = other.window;
        self.now = other.now;
    }

    pub fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
        self.now = 0;
    }

    /// Drops the front entries that have left the window ending at the current sample.
    #[inline(always)]
    fn expire(&mut self) {
        while self.len > 0
            && self.now.wrapping_sub(self.entries[self.head].1) as usize >= self.window
        {
            self.head = (self.head + 1) & self.mask;
            self.len -= 1;
        }
    }

    /// Like [`SlidingMin::process`] for inputs that never exceed `ceiling`: a value equal to the
    /// ceiling can never be a window's minimum while anything smaller is in the window, and an
    /// empty window's minimum is the ceiling, so such values are not stored. Identical results,
    /// much cheaper when most inputs sit at the ceiling (a limiter's "no reduction needed").
    #[inline(always)]
    pub fn process_below(&mut self, value: f32, ceiling: f32) -> f32 {
        if value < ceiling {
            return self.process(value);
        }
        self.expire();
        self.now = self.now.wrapping_add(1);
        if self.len > 0 {
            self.entries[self.head].0
        } else {
            ceiling
        }
    }

    /// Pushes `value` and returns the minimum of the last `window` values pushed (fewer just
    /// after a reset).
    #[inline(always)]
    pub fn process(&mut self, value: f32) -> f32 {
        // Drop candidates that can never be the minimum again.
        while self.len > 0 && self.entries[(self.head + self.len - 1) & self.mask].0 >= value {
            self.len -= 1;
        }
        self.entries[(self.head + self.len) & self.mask] = (value, self.now);
        self.len += 1;
        self.expire();
        self.now = self.now.wrapping_add(1);
        self.entries[self.head].0
    }
}

/// Moving average over the last `window` samples (a box FIR), with an `f64` running sum so it does
/// not drift over hours of audio.
#[derive(Clone, Debug)]
pub struct MovingAverage {
    buffer: Vec<f32>,
    pos: usize,
    window: usize,
    /// `1 / window`, so averaging is a multiplication.
    inverse_window: f64,
    sum: f64,
    /// Value the history is filled with on reset.
    rest: f32,
}

impl MovingAverage {
    /// A moving average that can be set to windows of up to `max_window` samples; after a reset the
    /// history holds `rest` (so the output starts at `rest`, not at 0).
    pub fn new(max_window: usize, window: usize, rest: f32) -> Self {
        let mut average = Self {
            buffer: vec![rest; max_window.max(1)],
            pos: 0,
            window: window.clamp(1, max_window.max(1)),
            inverse_window: 1.0,
            sum: 0.0,
            rest,
        };
        average.reset();
        average
    }

    /// Sets the window length and clears the state.
    pub fn set_window(&mut self, window: usize) {
        self.window = window.clamp(1, self.buffer.len());
        self.reset();
    }

    pub fn window(&self) -> usize {
        self.window
    }

    /// Takes over `other`'s window and contents without allocating (same capacity required).
    pub fn copy_from(&mut self, other: &Self) {
        self.buffer.copy_from_slice(&other.buffer);
        self.pos = other.pos;
        self.window = other.window;
        self.inverse_window = other.inverse_window;
        self.sum = other.sum;
    }

    pub fn reset(&mut self) {
        self.buffer[..self.window].fill(self.rest);
        self.pos = 0;
        self.sum = self.rest as f64 * self.window as f64;
        self.inverse_window = 1.0 / self.window as f64;
    }

    #[inline]
    pub fn process(&mut self, value: f32) -> f32 {
        // At rest (every value in the window equals `rest`) and fed `rest`, nothing changes.
        if value == self.rest && self.sum == self.rest as f64 * self.window as f64 {
            return self.rest;
        }
        self.sum += value as f64 - self.buffer[self.pos] as f64;
        self.buffer[self.pos] = value;
        self.pos += 1;
        if self.pos == self.window {
            self.pos = 0;
        }
        (self.sum * self.inverse_window) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Skipping values at the ceiling gives exactly the plain sliding minimum.
        #[test]
        fn process_below_equals_process(
            values in proptest::collection::vec(prop_oneof![Just(1.0f32), 0.0f32..1.0], 1..400),
            window in 1usize..40,
        ) {
            let mut plain = SlidingMin::new(64, window);
            let mut skipping = SlidingMin::new(64, window);
            for &value in &values {
                prop_assert_eq!(plain.process(value), skipping.process_below(value, 1.0));
            }
        }

        #[test]
        fn sliding_min_matches_brute_force(
            values in proptest::collection::vec(-10.0f32..10.0, 1..400),
            window in 1usize..40,
        ) {
            let mut min = SlidingMin::new(64, window);
            for (i, &value) in values.iter().enumerate() {
                let got = min.process(value);
                let start = (i + 1).saturating_sub(window);
                let expected = values[start..=i].iter().cloned().fold(f32::INFINITY, f32::min);
                prop_assert_eq!(got, expected);
            }
        }

        #[test]
        fn moving_average_matches_brute_force(
            values in proptest::collection::vec(-1.0f32..1.0, 1..400),
            window in 1usize..40,
        ) {
            let mut average = MovingAverage::new(64, window, 1.0);
            for (i, &value) in values.iter().enumerate() {
                let got = average.process(value) as f64;
                let expected: f64 = (0..window)
                    .map(|k| if i >= k { values[i - k] as f64 } else { 1.0 })
                    .sum::<f64>() / window as f64;
                prop_assert!((got - expected).abs() < 1e-6);
            }
        }
    }
}
