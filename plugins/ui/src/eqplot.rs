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
/// How fast the analyzer falls, dB per second.
const SPECTRUM_FALL_DB_PER_S: f32 = 30.0;

/// A spectrum analyzer over the newest samples of a [`SharedScope`] (mono sum of its pairs):
/// Hann window, FFT, dB per bin scaled so a full-scale sine reads 0 dB, with a falling hold.
pub struct Analyzer {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    pairs: Vec<(f32, f32)>,
    input: Vec<f32>,
    output: Vec<Complex32>,
    db: Vec<f32>,
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
            output,
            db,
        }
    }

    /// Reads the newest samples and updates the smoothed spectrum (`dt`: seconds since the last
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
        let norm = 4.0 / size as f32;
        let fall = SPECTRUM_FALL_DB_PER_S * dt;
        for (db, bin) in self.db.iter_mut().zip(&self.output) {
            let level = 20.0 * (bin.norm() * norm).max(1e-9).log10();
            *db = level.max(*db - fall).max(SPECTRUM_DB.0);
        }
    }

    /// The mean power of the bins from `lo` to `hi` Hz (at least the one nearest to their
    /// centre), dB: one pixel column of the display.
    fn db_between(&self, lo: f64, hi: f64, sample_rate: f64) -> f32 {
        let per_bin = sample_rate / self.input.len() as f64;
        let last = self.db.len() - 1;
        let first = ((lo / per_bin).ceil() as usize).min(last);
        let end = ((hi / per_bin).floor() as usize).min(last);
        if end < first {
            let centre = ((0.5 * (lo + hi) / per_bin).round() as usize).min(last);
            return self.db[centre];
        }
        let bins = &self.db[first..=end];
        let power: f32 =
            bins.iter().map(|db| 10f32.powf(db / 10.0)).sum::<f32>() / bins.len() as f32;
        10.0 * power.max(1e-12).log10()
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
        for (analyzer, colour) in self.spectra {
            let mut points = Vec::with_capacity(steps + 3);
            points.push(pos2(plot.left(), plot.bottom()));
            for i in 0..=steps {
                let hz = freq_at(i);
                let half = 0.5 * (freq_at(i + 1) - hz);
                let level = analyzer.db_between(hz - half, hz + half, self.sample_rate);
                let t = (level - SPECTRUM_DB.0) / (SPECTRUM_DB.1 - SPECTRUM_DB.0);
                points.push(pos2(
                    x_for(hz),
                    plot.bottom() - t.clamp(0.0, 1.0) * plot.height(),
                ));
            }
            points.push(pos2(plot.right(), plot.bottom()));
            painter.add(Shape::line(points, Stroke::new(1.0, *colour)));
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
