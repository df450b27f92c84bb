//! A fixed-capacity delay line.

/// An integer-sample delay with capacity fixed at construction. Changing the delay never
/// allocates; delays above the capacity are clamped to it.
#[derive(Clone, Debug)]
pub struct DelayLine {
    /// Ring buffer; its length is the capacity plus one.
    buffer: Vec<f32>,
    /// Next write position.
    write: usize,
    /// Current delay in samples (0..=capacity).
    delay: usize,
}

impl DelayLine {
    /// A delay line that can delay by up to `max_delay` samples, set to `delay` samples.
    pub fn new(max_delay: usize, delay: usize) -> Self {
        Self {
            buffer: vec![0.0; max_delay + 1],
            write: 0,
            delay: delay.min(max_delay),
        }
    }

    /// The largest delay this line can be set to.
    pub fn capacity(&self) -> usize {
        self.buffer.len() - 1
    }

    /// Sets the delay in samples (clamped to the capacity). The contents are kept, so a change
    /// jumps the read position: reset or crossfade around it when that matters.
    pub fn set_delay(&mut self, delay: usize) {
        self.delay = delay.min(self.capacity());
    }

    /// The delay in samples.
    pub fn delay(&self) -> usize {
        self.delay
    }

    /// Clears the contents.
    pub fn reset(&mut self) {
        self.buffer.fill(0.0);
        self.write = 0;
    }

    /// Writes one sample and returns the sample written `delay` samples ago.
    #[inline]
    pub fn process(&mut self, input: f32) -> f32 {
        let len = self.buffer.len();
        self.buffer[self.write] = input;
        let read = if self.write >= self.delay {
            self.write - self.delay
        } else {
            self.write + len - self.delay
        };
        let output = self.buffer[read];
        self.write += 1;
        if self.write == len {
            self.write = 0;
        }
        output
    }

    /// Delays a block in place.
    pub fn process_block(&mut self, block: &mut [f32]) {
        for sample in block {
            *sample = self.process(*sample);
        }
    }

    /// Delays `input` into `output` (same length): exactly what calling [`DelayLine::process`]
    /// per sample gives, done as slice copies. The first `delay` outputs come from the ring (read
    /// before the block is written), the rest straight from the input.
    pub fn process_into(&mut self, input: &[f32], output: &mut [f32]) {
        let n = input.len();
        debug_assert_eq!(n, output.len());
        let len = self.buffer.len();
        let from_ring = self.delay.min(n);
        if from_ring > 0 {
            let start = (self.write + len - self.delay) % len;
            let first = from_ring.min(len - start);
            output[..first].copy_from_slice(&self.buffer[start..start + first]);
            output[first..from_ring].copy_from_slice(&self.buffer[..from_ring - first]);
        }
        output[from_ring..].copy_from_slice(&input[..n - from_ring]);
        // Store the block; only its last `len` samples can ever be read again.
        let skip = n.saturating_sub(len);
        let position = (self.write + skip) % len;
        let stored = &input[skip..];
        let first = stored.len().min(len - position);
        self.buffer[position..position + first].copy_from_slice(&stored[..first]);
        self.buffer[..stored.len() - first].copy_from_slice(&stored[first..]);
        self.write = (self.write + n) % len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_an_impulse_exactly() {
        for delay in [0, 1, 5, 64, 100] {
            let mut line = DelayLine::new(100, delay);
            let mut block = vec![0.0; 256];
            block[3] = 1.0;
            line.process_block(&mut block);
            let at = block.iter().position(|&x| x == 1.0).unwrap();
            assert_eq!(at, 3 + delay);
            assert_eq!(block.iter().filter(|&&x| x != 0.0).count(), 1);
        }
    }

    /// Block delays equal the per-sample reference for any block size, delay and position.
    #[test]
    fn process_into_matches_per_sample() {
        for capacity in [0, 1, 7, 64, 100] {
            for delay in [0, 1, 3, capacity / 2, capacity] {
                for block in [1, 2, 7, 63, 64, 65, 101, 150] {
                    let mut reference = DelayLine::new(capacity, delay);
                    let mut blocked = DelayLine::new(capacity, delay);
                    let input: Vec<f32> = (0..1000).map(|i| i as f32).collect();
                    let expected: Vec<f32> = input.iter().map(|&x| reference.process(x)).collect();
                    let mut output = vec![0.0; input.len()];
                    for (i, o) in input.chunks(block).zip(output.chunks_mut(block)) {
                        blocked.process_into(i, o);
                    }
                    assert_eq!(
                        output, expected,
                        "capacity {capacity} delay {delay} block {block}"
                    );
                }
            }
        }
    }

    #[test]
    fn clamps_to_capacity() {
        let mut line = DelayLine::new(8, 50);
        assert_eq!(line.delay(), 8);
        line.set_delay(1000);
        assert_eq!(line.delay(), 8);
    }
}
