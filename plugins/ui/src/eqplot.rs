//! The EQ display both Lathe EQs use: a log-frequency plot with a real-time spectrum analyzer
//! (pre and post), the total response curve, each band's own curve, and band nodes that can be
//! dragged (frequency and gain) and scrolled (Q).
//!
//! The analyzer runs entirely on the editor thread: the audio thread only copies samples into a
//! lock-free ring ([`SharedScope`]) while the editor is open; the FFT, windowing and smoothing
//! happen here, once per frame.

use crate::scope::SharedScope;
use crate::theme;
use dsp_core::eq::{BandSettings, Design};
use egui::{pos2, Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Ui};
use nice_plug::prelude::{FloatParam, ParamSetter};
use realfft::num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Lowest and highest frequency drawn.
pub const MIN_HZ: f64 = 20.0;
pub const MAX_HZ: f64 = 20_000.0;
/// The analyzer's dB range (bottom to top of the plot).
const SPECTRUM_DB: (f32, f32) = (-96.0, 0.0);
/// The analyzer scale's label spacing, dB.
const SPECTRUM_SCALE_STEP_DB: f32 = 12.0;
/// Time constant of the analyzer's power average, seconds: a steady tone reads steady, noise
/// reads its mean level rather than the random peaks of each frame, and a stopped signal falls
/// by 4.3 dB per time constant (14 dB/s).
const SPECTRUM_AVERAGE_S: f32 = 0.3;

/// A spectrum analyzer over the newest samples of a [`SharedScope`] (mono sum of its pairs):
/// Hann window, FFT, power per bin scaled so a full-scale sine reads 0 dB, averaged over time
/// ([`SPECTRUM_AVERAGE_S`]).
pub struct Analyzer {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    pairs: Vec<(f32, f32)>,
    input: Vec<f32>,
    output: Vec<Complex32>,
    /// The averaged power of each bin (full-scale sine = 1), and the same in dB.
    power: Vec<f32>,
    db: Vec<f32>,
    /// No frame has been averaged yet: the first is taken as it is.
    fresh: bool,
}

impl Analyzer {
    /// An analyzer of `size` points (a power of two no longer than the scope's ring).
    pub fn new(size: usize) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(size);
        let window = (0..size)
            .map(|n| {
                let x = std::f32::consts::TAU * n as f32 / size as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        let output = fft.make_output_vec();
        let db = vec![SPECTRUM_DB.0; output.len()];
        Self {
            input: fft.make_input_vec(),
            fft,
            window,
            pairs: Vec::with_capacity(size),
            power: vec![0.0; output.len()],
            output,
            db,
            fresh: true,
        }
    }

    /// Reads the newest samples and updates the averaged spectrum (`dt`: seconds since the last
    /// update).
    pub fn update(&mut self, scope: &SharedScope, dt: f32) {
        scope.read_into(&mut self.pairs);
        let size = self.input.len();
        let start = self.pairs.len().saturating_sub(size);
        for (i, x) in self.input.iter_mut().enumerate() {
            let (l, r) = self.pairs.get(start + i).copied().unwrap_or((0.0, 0.0));
            *x = 0.5 * (l + r) * self.window[i];
        }
        if self.fft.process(&mut self.input, &mut self.output).is_err() {
            return;
        }
        // A Hann-windowed full-scale sine peaks at size/4 in its bin.
        let norm = (4.0 / size as f32).powi(2);
        let weight = if self.fresh {
            1.0
        } else {
            1.0 - (-dt.max(0.0) / SPECTRUM_AVERAGE_S).exp()
        };
        self.fresh = false;
        for ((power, db), bin) in self.power.iter_mut().zip(&mut self.db).zip(&self.output) {
            *power += weight * (bin.norm_sqr() * norm - *power);
            *db = (10.0 * power.max(1e-12).log10()).max(SPECTRUM_DB.0);
        }
    }

    /// The level of each of `columns` pixel columns log-spaced from [`MIN_HZ`] to [`MAX_HZ`]
    /// (the centre frequency of each and its level, dB), as the display draws them.
    pub fn columns(&self, columns: usize, sample_rate: f64) -> Vec<(f64, f32)> {
        let (lo, hi) = (MIN_HZ.log10(), MAX_HZ.log10());
        let edge = |i: usize| 10f64.powf(lo + (hi - lo) * i as f64 / columns as f64);
        (0..columns)
            .map(|i| {
                let (from, to) = (edge(i), edge(i + 1));
                let centre = (from * to).sqrt();
                (centre, self.db_between(from, to, sample_rate))
            })
            .collect()
    }

    /// The level shown for the column from `lo` to `hi` Hz, dB: the loudest bin in it, so a sine
    /// reads its level at any frequency however many bins a column spans (averaging them would
    /// read a 10 kHz tone some 9 dB low on a wide plot). A column narrower than a bin reads the
    /// level interpolated between the bins either side of its centre, so low frequencies draw
    /// as a curve rather than in steps.
    fn db_between(&self, lo: f64, hi: f64, sample_rate: f64) -> f32 {
        let per_bin = sample_rate / self.input.len() as f64;
        let last = self.db.len() - 1;
        let first = (lo / per_bin).ceil() as usize;
        let end = ((hi / per_bin).floor() as usize).min(last);
        if first <= end {
            return self.db[first..=end]
                .iter()
                .copied()
                .fold(SPECTRUM_DB.0, f32::max);
        }
        let position = ((lo * hi).sqrt() / per_bin).min(last as f64);
        let below = position.floor() as usize;
        let above = (below + 1).min(last);
        let t = (position - below as f64) as f32;
        self.db[below] + t * (self.db[above] - self.db[below])
    }
}

/// A band's handle on the plot.
#[derive(Clone, Copy, Debug)]
pub struct Node {
    pub hz: f32,
    /// Where the node sits vertically (the band's gain; 0 dB for types without one).
    pub db: f32,
    pub colour: Color32,
    pub enabled: bool,
}

/// What the user did to a node this frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NodeEdit {
    /// A drag started on node `index`.
    Begin(usize),
    /// Node `index` was moved to this frequency and gain.
    Move { index: usize, hz: f32, db: f32 },
    /// The drag ended.
    End(usize),
    /// Scrolled over node `index`: multiply its Q by this factor.
    Scale { index: usize, factor: f32 },
}

/// What the plot shows.
pub struct EqPlot<'a> {
    pub sample_rate: f64,
    /// The gain range, ± dB.
    pub range_db: f32,
    /// Analyzers and their colours, drawn first (pre, then post).
    pub spectra: &'a [(&'a Analyzer, Color32)],
    /// The total response in dB at a frequency.
    pub total: &'a dyn Fn(f64) -> f64,
    /// Each band's response in dB at a frequency (`None` for bands not drawn).
    pub band: &'a dyn Fn(usize, f64) -> Option<f64>,
    pub nodes: &'a [Node],
}

impl EqPlot<'_> {
    /// Draws the plot at `size`; `dragging` is the editor's drag state (the node being dragged).
    pub fn show(
        &self,
        ui: &mut Ui,
        size: egui::Vec2,
        dragging: &mut Option<usize>,
    ) -> Vec<NodeEdit> {
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        let plot = Rect::from_min_max(
            pos2(rect.left() + 28.0, rect.top()),
            pos2(rect.right(), rect.bottom() - 14.0),
        );
        let painter = ui.painter_at(rect);
        painter.rect_filled(plot, 2.0, theme::PANEL);
        let (lo, hi) = (MIN_HZ.log10(), MAX_HZ.log10());
        let x_for = |hz: f64| plot.left() + ((hz.log10() - lo) / (hi - lo)) as f32 * plot.width();
        let hz_for =
            |x: f32| 10f64.powf(lo + (hi - lo) * ((x - plot.left()) / plot.width()) as f64);
        let range = self.range_db;
        let y_for =
            |db: f32| plot.center().y - db.clamp(-range, range) / range * 0.5 * plot.height();
        let db_for = |y: f32| (plot.center().y - y) / (0.5 * plot.height()) * range;

        // Grid: decades and the usual landmarks; dB lines every 6 (or 3) dB.
        for hz in [30.0, 50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 1e4] {
            let x = x_for(hz);
            painter.line_segment(
                [pos2(x, plot.top()), pos2(x, plot.bottom())],
                Stroke::new(1.0, theme::GRID),
            );
            let label = if hz >= 1000.0 {
                format!("{}k", hz / 1000.0)
            } else {
                format!("{hz}")
            };
            painter.text(
                pos2(x, plot.bottom() + 2.0),
                Align2::CENTER_TOP,
                label,
                FontId::proportional(9.0),
                theme::MUTED,
            );
        }
        let step = if range > 12.0 { 6.0 } else { 3.0 };
        let mut db = -range;
        while db <= range + 1e-3 {
            let y = y_for(db);
            let colour = if db == 0.0 { theme::MUTED } else { theme::GRID };
            painter.line_segment(
                [pos2(plot.left(), y), pos2(plot.right(), y)],
                Stroke::new(1.0, colour),
            );
            painter.text(
                pos2(plot.left() - 4.0, y),
                Align2::RIGHT_CENTER,
                format!("{db:+.0}"),
                FontId::proportional(9.0),
                theme::MUTED,
            );
            db += step;
        }

        // Spectra on their own scale (−96..0 dB over the height).
        let steps = plot.width().max(2.0) as usize;
        let freq_at = |i: usize| 10f64.powf(lo + (hi - lo) * i as f64 / steps as f64);
        let spectrum_y = |db: f32| {
            let t = (db - SPECTRUM_DB.0) / (SPECTRUM_DB.1 - SPECTRUM_DB.0);
            plot.bottom() - t.clamp(0.0, 1.0) * plot.height()
        };
        for (analyzer, colour) in self.spectra {
            let points = analyzer
                .columns(steps, self.sample_rate)
                .into_iter()
                .map(|(hz, level)| pos2(x_for(hz), spectrum_y(level)))
                .collect();
            painter.add(Shape::line(points, Stroke::new(1.0, *colour)));
        }
        if let Some((_, colour)) = self.spectra.first() {
            // The spectrum's own scale, inside the right edge.
            let mut db = SPECTRUM_DB.1 - SPECTRUM_SCALE_STEP_DB;
            while db > SPECTRUM_DB.0 {
                painter.text(
                    pos2(plot.right() - 3.0, spectrum_y(db)),
                    Align2::RIGHT_CENTER,
                    format!("{db:.0}"),
                    FontId::proportional(8.0),
                    colour.gamma_multiply(0.6),
                );
                db -= SPECTRUM_SCALE_STEP_DB;
            }
        }

        // Band curves, then the total.
        for (index, node) in self.nodes.iter().enumerate() {
            let line: Vec<Pos2> = (0..=steps)
                .filter_map(|i| {
                    let hz = freq_at(i);
                    (self.band)(index, hz).map(|db| pos2(x_for(hz), y_for(db as f32)))
                })
                .collect();
            if line.len() > 1 {
                painter.add(Shape::line(
                    line,
                    Stroke::new(1.0, node.colour.gamma_multiply(0.6)),
                ));
            }
        }
        let total: Vec<Pos2> = (0..=steps)
            .map(|i| {
                let hz = freq_at(i);
                pos2(x_for(hz), y_for((self.total)(hz) as f32))
            })
            .collect();
        painter.add(Shape::line(total, Stroke::new(2.0, theme::ACCENT)));

        // Nodes.
        let node_pos = |n: &Node| pos2(x_for(n.hz as f64), y_for(n.db));
        for (index, node) in self.nodes.iter().enumerate() {
            let centre = node_pos(node);
            let fill = if node.enabled {
                node.colour
            } else {
                node.colour.gamma_multiply(0.3)
            };
            painter.circle(centre, 7.0, fill, Stroke::new(1.0, theme::TEXT));
            painter.text(
                centre,
                Align2::CENTER_CENTER,
                format!("{}", index + 1),
                FontId::proportional(9.0),
                theme::BACKGROUND,
            );
        }

        // Interaction: the nearest node within 12 px is picked up by a drag.
        let nearest = |pointer: Pos2| {
            self.nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (i, node_pos(n).distance(pointer)))
                .filter(|(_, d)| *d < 12.0)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i)
        };
        let mut edits = Vec::new();
        if response.drag_started() {
            if let Some(index) = response.interact_pointer_pos().and_then(nearest) {
                *dragging = Some(index);
                edits.push(NodeEdit::Begin(index));
            }
        }
        if let (Some(index), Some(pointer)) = (*dragging, response.interact_pointer_pos()) {
            if response.dragged() {
                let x = pointer.x.clamp(plot.left(), plot.right());
                edits.push(NodeEdit::Move {
                    index,
                    hz: hz_for(x) as f32,
                    db: db_for(pointer.y).clamp(-range, range),
                });
            }
        }
        if response.drag_stopped() {
            if let Some(index) = dragging.take() {
                edits.push(NodeEdit::End(index));
            }
        }
        if let Some(pointer) = response.hover_pos() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 {
                if let Some(index) = nearest(pointer) {
                    edits.push(NodeEdit::Scale {
                        index,
                        factor: 2f32.powf(scroll / 200.0),
                    });
                }
            }
            let hz = hz_for(pointer.x);
            let text = if hz >= 1000.0 {
                format!("{:.2} kHz  {:+.1} dB", hz / 1000.0, db_for(pointer.y))
            } else {
                format!("{hz:.0} Hz  {:+.1} dB", db_for(pointer.y))
            };
            painter.text(
                pos2(plot.right() - 6.0, plot.top() + 4.0),
                Align2::RIGHT_TOP,
                text,
                FontId::monospace(10.0),
                theme::MUTED,
            );
        }
        edits
    }
}

/// Draws an EQ's bands (their designs at `sample_rate`, as the DSP runs them), its total curve
/// with `output_db`, the analyzers and one node per band, coloured by `colours`.
#[allow(clippy::too_many_arguments)]
pub fn show_eq(
    ui: &mut Ui,
    size: egui::Vec2,
    sample_rate: f64,
    bands: &[BandSettings],
    output_db: f64,
    range_db: f32,
    colours: &[Color32],
    spectra: &[(&Analyzer, Color32)],
    dragging: &mut Option<usize>,
) -> Vec<NodeEdit> {
    let designs: Vec<Design> = bands.iter().map(|b| Design::new(b, sample_rate)).collect();
    let total = |hz: f64| {
        output_db
            + designs
                .iter()
                .map(|d| d.response(sample_rate, hz).db())
                .sum::<f64>()
    };
    let band = |b: usize, hz: f64| {
        (!bands[b].is_neutral()).then(|| designs[b].response(sample_rate, hz).db())
    };
    let nodes: Vec<Node> = bands
        .iter()
        .zip(colours)
        .map(|(b, &colour)| Node {
            hz: b.freq_hz,
            db: if b.kind.uses_gain() { b.gain_db } else { 0.0 },
            colour,
            enabled: b.enabled,
        })
        .collect();
    EqPlot {
        sample_rate,
        range_db,
        spectra,
        total: &total,
        band: &band,
        nodes: &nodes,
    }
    .show(ui, size, dragging)
}

/// The parameters a band node moves.
pub struct NodeParams<'a> {
    pub freq: &'a FloatParam,
    pub gain: &'a FloatParam,
    pub q: &'a FloatParam,
    /// Whether dragging up and down changes the gain (types with a gain).
    pub uses_gain: bool,
}

/// Turns node edits into parameter changes, as one host gesture per drag.
pub fn apply_node_edits(setter: &ParamSetter, edits: &[NodeEdit], bands: &[NodeParams]) {
    for edit in edits {
        match *edit {
            NodeEdit::Begin(i) => {
                setter.begin_set_parameter(bands[i].freq);
                setter.begin_set_parameter(bands[i].gain);
            }
            NodeEdit::Move { index, hz, db } => {
                let band = &bands[index];
                setter.set_parameter(band.freq, hz);
                if band.uses_gain {
                    setter.set_parameter(band.gain, (db * 10.0).round() / 10.0);
                }
            }
            NodeEdit::End(i) => {
                setter.end_set_parameter(bands[i].freq);
                setter.end_set_parameter(bands[i].gain);
            }
            NodeEdit::Scale { index, factor } => {
                let q = bands[index].q;
                setter.begin_set_parameter(q);
                setter.set_parameter(q, q.value() * factor);
                setter.end_set_parameter(q);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 48_000.0;
    /// About as many columns as a full-width plot has pixels.
    const COLUMNS: usize = 960;

    /// An analyzer of `size` points that has seen a full-scale sine at `hz` on both channels.
    fn analyzer_of_sine(size: usize, hz: f64) -> Analyzer {
        let scope = SharedScope::new(size);
        let sine: Vec<f32> = (0..size)
            .map(|n| (std::f64::consts::TAU * hz * n as f64 / RATE).sin() as f32)
            .collect();
        scope.push_block(&sine, &sine, 1);
        let mut analyzer = Analyzer::new(size);
        analyzer.update(&scope, 0.0);
        analyzer
    }

    /// The column whose span holds `hz`.
    fn column_at(columns: &[(f64, f32)], hz: f64) -> usize {
        let step = (MAX_HZ / MIN_HZ).log10() / columns.len() as f64;
        ((hz / MIN_HZ).log10() / step) as usize
    }

    #[test]
    fn a_full_scale_sine_reads_zero_db_at_its_frequency_across_the_range() {
        for size in [4096, 8192] {
            let per_bin = RATE / size as f64;
            // On a bin centre (no scalloping), at low, middle and high frequencies: a column
            // there spans from a fraction of a bin to a dozen bins.
            for wanted in [40.0, 250.0, 1_000.0, 5_000.0, 10_000.0, 18_000.0] {
                let hz = (wanted / per_bin).round() * per_bin;
                let columns = analyzer_of_sine(size, hz).columns(COLUMNS, RATE);
                let (centre, level) = columns[column_at(&columns, hz)];
                assert!(
                    level.abs() < 0.05,
                    "{size} points, {hz:.1} Hz (column at {centre:.1} Hz): {level:.2} dB"
                );
                let loudest = columns.iter().map(|c| c.1).fold(f32::MIN, f32::max);
                assert!(loudest < 0.05, "{hz:.1} Hz: {loudest:.2} dB somewhere");
            }
        }
    }

    /// White noise of standard deviation 0.1, a new independent frame every 1/60 s: after 2 s
    /// the bins read the noise's mean level per bin within a fraction of a dB of one another
    /// (one frame alone scatters them by ~5.6 dB, a chi-square with two degrees of freedom).
    #[test]
    fn noise_reads_its_mean_level_steadily() {
        let size = 4096;
        let scope = SharedScope::new(size);
        let mut analyzer = Analyzer::new(size);
        // dsp-core's white noise is uniform in [-1, 1): variance 1/3, scaled to sigma.
        let mut white = dsp_core::noise::WhiteNoise::new(0x2545_f491_4f6c_dd1d);
        let sigma = 0.1;
        let mut sample = || sigma * 3f64.sqrt() * white.next_f64();
        let spread_of = |analyzer: &Analyzer| {
            // Bins 100..1500 (1.2-17.6 kHz at 48 kHz): mean and standard deviation, dB.
            let band = &analyzer.db[100..1500];
            let mean = band.iter().sum::<f32>() / band.len() as f32;
            let var = band.iter().map(|d| (d - mean).powi(2)).sum::<f32>() / band.len() as f32;
            (mean, var.sqrt())
        };
        let mut first_spread = 0.0;
        for frame in 0..120 {
            let noise: Vec<f32> = (0..size).map(|_| sample() as f32).collect();
            scope.push_block(&noise, &noise, 1);
            analyzer.update(&scope, 1.0 / 60.0);
            if frame == 0 {
                first_spread = spread_of(&analyzer).1;
            }
        }
        let (mean, spread) = spread_of(&analyzer);
        // E|X_k|^2 = sigma^2 * sum(w^2) = sigma^2 * 3N/8 for a Hann window; scaled by (4/N)^2.
        let expected = 10.0 * (6.0 * sigma * sigma / size as f64).log10() as f32;
        assert!(
            first_spread > 4.0,
            "one frame scatters by {first_spread:.2} dB"
        );
        assert!(spread < 1.2, "averaged bins scatter by {spread:.2} dB");
        assert!(
            (mean - expected).abs() < 0.5,
            "mean {mean:.2} dB, theory {expected:.2} dB"
        );
    }

    /// A sine that stops falls by one time constant's worth, 10·log10(e) = 4.34 dB, in 0.3 s.
    #[test]
    fn a_stopped_tone_falls_at_the_average_rate() {
        let size = 4096;
        let bin = 100;
        let hz = bin as f64 * RATE / size as f64;
        let mut analyzer = analyzer_of_sine(size, hz);
        assert!(analyzer.db[bin].abs() < 0.05);
        let scope = SharedScope::new(size);
        scope.push_block(&vec![0.0; size], &vec![0.0; size], 1);
        for _ in 0..30 {
            analyzer.update(&scope, SPECTRUM_AVERAGE_S / 30.0);
        }
        let fallen = -analyzer.db[bin];
        assert!((fallen - 4.343).abs() < 0.05, "fell {fallen:.3} dB");
    }

    #[test]
    fn columns_narrower_than_a_bin_draw_a_slope_not_a_step() {
        // A sine on bin 7 (41 Hz at 4096 points): the columns between bins 7 and 8 fall from its
        // level towards the next bin's without two neighbours at the same level.
        let size = 4096;
        let per_bin = RATE / size as f64;
        let columns = analyzer_of_sine(size, 7.0 * per_bin).columns(COLUMNS, RATE);
        let between: Vec<f32> = columns
            .iter()
            .filter(|(hz, _)| *hz > 7.05 * per_bin && *hz < 7.95 * per_bin)
            .map(|c| c.1)
            .collect();
        assert!(between.len() > 10, "{} columns", between.len());
        for pair in between.windows(2) {
            assert!(pair[1] < pair[0], "{between:?}");
        }
        // The Hann window's neighbour bin of a centred sine is 6 dB down.
        let next = columns[column_at(&columns, 8.0 * per_bin)].1;
        assert!((next + 6.02).abs() < 0.3, "next bin {next:.2} dB");
    }
}
