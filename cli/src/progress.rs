//! Progress bars on stderr (hidden with `--quiet` or when stderr is not a terminal).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Clone)]
pub struct Progress {
    bars: MultiProgress,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Self {
            bars: MultiProgress::with_draw_target(target),
        }
    }

    /// A bar counting seconds of audio for `name`.
    pub fn bar(&self, name: &str, seconds: f64) -> ProgressBar {
        let bar = self
            .bars
            .add(ProgressBar::new(seconds.max(0.0).ceil() as u64));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:<28!} {msg:<14!} [{bar:30}] {pos:>5}/{len:5} s {elapsed:>4}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_owned());
        bar
    }
}

/// Advances `bar` by `frames` at `rate`, keeping the fraction between calls.
pub struct Ticker {
    pub bar: ProgressBar,
    frames: u64,
    rate: u64,
}

impl Ticker {
    pub fn new(bar: ProgressBar, rate: u32) -> Self {
        Self {
            bar,
            frames: 0,
            rate: rate as u64,
        }
    }

    pub fn stage(&mut self, message: &str) {
        self.frames = 0;
        self.bar.set_position(0);
        self.bar.set_message(message.to_owned());
    }

    pub fn advance(&mut self, frames: usize) {
        self.frames += frames as u64;
        self.bar.set_position(self.frames / self.rate.max(1));
    }
}
