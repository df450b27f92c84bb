//! Running window statistics used by envelope followers: a sliding minimum and a moving average.

/// Minimum over the last `window` samples, exactly, with no data-dependent branches (van Herk /
/// Gil-Werman): the input is cut into blocks of `window` samples; the window ending at sample `i`
/// is the tail of the previous block plus the head of the current one, so its minimum is the
/// previous block's suffix minimum at the window start combined with the current block's running
/// prefix minimum. Suffix minimums are computed once per completed block: about three `min`s per
/// sample whatever the signal, where a monotonic deque branches unpredictably on noise.
/// Allocation happens only in `new`.
#[derive(Clone, Debug)]
pub struct SlidingMin {
    /// Suffix minimums of the previous complete block (`+inf` before one exists), then `+inf`
    /// at `window` (the window that is the whole current block takes nothing from it).
    previous_suffix: Vec<f32>,
    /// The current block's values so far.
    current: Vec<f32>,
    /// Position in the current block, and the running minimum of its values so far.
    position: usize,
    prefix: f32,
    /// Current window length in samples (1..=max_window).
    window: usize,
}

impl SlidingMin {
    /// A sliding minimum that can be set to windows of up to `max_window` samples.
    pub fn new(max_window: usize, window: usize) -> Self {
        let max_window = max_window.max(1);
        let mut min = Self {
            previous_suffix: vec![f32::INFINITY; max_window + 1],
            current: vec![0.0; max_window],
            position: 0,
            prefix: f32::INFINITY,
            window: window.clamp(1, max_window),
        };
        min.reset();
        min
    }

    /// Sets the window length and clears the state.
    pub fn set_window(&mut self, window: usize) {
        self.window = window.clamp(1, self.current.len());
        self.reset();
    }

    pub fn window(&self) -> usize {
        self.window
    }

    /// Takes over `other`'s window and contents without allocating (same capacity required).
    pub fn copy_from(&mut self, other: &Self) {
        self.previous_suffix.copy_from_slice(&other.previous_suffix);
        self.current.copy_from_slice(&other.current);
        self.position = other.position;
        self.prefix = other.prefix;
        self.window = other.window;
    }

    /// Forgets all values: until `window` values have been pushed, the minimum is over those
    /// pushed so far.
    pub fn reset(&mut self) {
        self.previous_suffix[..=self.window].fill(f32::INFINITY);
        self.position = 0;
        self.prefix = f32::INFINITY;
    }

    /// Pushes `value` and returns the minimum of the last `window` values pushed (fewer just
    /// after a reset).
    #[inline(always)]
    pub fn process(&mut self, value: f32) -> f32 {
        let window = self.window;
        self.current[self.position] = value;
        self.prefix = self.prefix.min(value);
        // The window starts `position + 1` samples into the previous block (or is the whole
        // current block when that block is just complete).
        let tail = if self.position + 1 < window {
            self.previous_suffix[self.position + 1]
        } else {
            f32::INFINITY
        };
        let minimum = tail.min(self.prefix);
        self.position += 1;
        if self.position == window {
            self.complete_block();
        }
        minimum
    }

    /// The current block is complete: its suffix minimums for the windows that start in it, and
    /// a new block.
    #[inline(always)]
    fn complete_block(&mut self) {
        let window = self.window;
        let mut running = f32::INFINITY;
        for (suffix, &v) in self.previous_suffix[..window]
            .iter_mut()
            .zip(&self.current[..window])
            .rev()
        {
            running = running.min(v);
            *suffix = running;
        }
        self.position = 0;
        self.prefix = f32::INFINITY;
    }

    /// [`SlidingMin::process`] on each of `values` in turn, in place: the same minimums, a
    /// stretch up to the end of the current block at a time, so that no sample branches.
    pub fn process_block(&mut self, values: &mut [f32]) {
        let window = self.window;
        let mut start = 0;
        while start < values.len() {
            let position = self.position;
            let n = (window - position).min(values.len() - start);
            let stretch = &mut values[start..start + n];
            self.current[position..position + n].copy_from_slice(stretch);
            let tails = &self.previous_suffix[position + 1..position + n + 1];
            let mut prefix = self.prefix;
            for (v, &tail) in stretch.iter_mut().zip(tails) {
                prefix = prefix.min(*v);
                *v = tail.min(prefix);
            }
            self.prefix = prefix;
            self.position += n;
            if self.position == window {
                self.complete_block();
            }
            start += n;
        }
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
        self.stepper().process(value)
    }

    /// The average with its position and sum in locals (registers) until the stepper is
    /// dropped, when they are written back: for a loop over many samples, where the stores into
    /// the history would otherwise keep the compiler from holding the sum in a register (a
    /// store and a reload on the running sum's sample-to-sample chain).
    #[inline(always)]
    pub fn stepper(&mut self) -> AverageStepper<'_> {
        let Self {
            buffer,
            pos,
            window,
            inverse_window,
            sum,
            rest,
        } = self;
        AverageStepper {
            buffer: &mut buffer[..*window],
            position: *pos,
            total: *sum,
            inverse_window: *inverse_window,
            rest: *rest,
            pos,
            sum,
        }
    }
}

/// A [`MovingAverage`] in locals ([`MovingAverage::stepper`]).
pub struct AverageStepper<'a> {
    buffer: &'a mut [f32],
    position: usize,
    total: f64,
    inverse_window: f64,
    rest: f32,
    pos: &'a mut usize,
    sum: &'a mut f64,
}

impl AverageStepper<'_> {
    /// [`MovingAverage::process`].
    #[inline(always)]
    pub fn process(&mut self, value: f32) -> f32 {
        let window = self.buffer.len();
        // At rest (every value in the window equals `rest`) and fed `rest`, nothing changes.
        if value == self.rest && self.total == self.rest as f64 * window as f64 {
            return self.rest;
        }
        self.total += value as f64 - self.buffer[self.position] as f64;
        self.buffer[self.position] = value;
        self.position += 1;
        if self.position == window {
            self.position = 0;
        }
        (self.total * self.inverse_window) as f32
    }
}

impl Drop for AverageStepper<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        *self.pos = self.position;
        *self.sum = self.total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
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
        fn sliding_min_in_blocks_matches_brute_force(
            values in proptest::collection::vec(-10.0f32..10.0, 1..400),
            window in 1usize..40,
            blocks in proptest::collection::vec(1usize..90, 1..20),
            per_sample in 0usize..400,
        ) {
            // A longer window first leaves values behind that the new one must forget.
            let mut min = SlidingMin::new(64, 64);
            values.iter().for_each(|&v| _ = min.process(v - 20.0));
            min.set_window(window);
            let mut got = values.clone();
            // Blocks of the given sizes, the first `per_sample` values one at a time (the two
            // ways share one state).
            let mut start = 0;
            for &block in blocks.iter().cycle() {
                if start == values.len() {
                    break;
                }
                if start < per_sample {
                    got[start] = min.process(values[start]);
                    start += 1;
                    continue;
                }
                let end = (start + block).min(values.len());
                min.process_block(&mut got[start..end]);
                start = end;
            }
            for i in 0..values.len() {
                let first = (i + 1).saturating_sub(window);
                let expected = values[first..=i].iter().cloned().fold(f32::INFINITY, f32::min);
                prop_assert_eq!(got[i], expected, "sample {}", i);
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
