//! Lathe Loudness's editor: the readings (M, S, I, LRA, true peak, PLR and the maxima), the
//! distance to the chosen delivery target, a history of short-term (and momentary) loudness on
//! an EBU +9 or +18 scale, reset and pause, and the translation monitor.

use crate::params::LoudnessParams;
use crate::{value, Meters, HISTORY_POINTS, PUBLISH_INTERVAL_S};
use egui::{pos2, vec2, Align2, Color32, FontId, Rect, RichText, Sense, Stroke};
use lathe_ui::editor::{EditorBody, EditorSize, Shell};
use lathe_ui::theme;
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub const SIZE: EditorSize = EditorSize {
    default: (920.0, 500.0),
    min: (780.0, 440.0),
};

pub fn create(
    params: Arc<LoudnessParams>,
    meters: Arc<Meters>,
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
) -> Option<EguiEditor<Shell<LoudnessEditor>>> {
    lathe_ui::editor::create(
        state,
        repaint,
        "Lathe Loudness",
        SIZE,
        LoudnessEditor {
            params,
            meters,
            short_term: Vec::with_capacity(HISTORY_POINTS),
            momentary: Vec::with_capacity(HISTORY_POINTS),
        },
    )
}

pub struct LoudnessEditor {
    params: Arc<LoudnessParams>,
    meters: Arc<Meters>,
    short_term: Vec<f32>,
    momentary: Vec<f32>,
}

impl EditorBody for LoudnessEditor {
    fn update(&mut self, _dt: f32) {
        self.meters
            .short_term_history
            .read_into(&mut self.short_term);
        self.meters.momentary_history.read_into(&mut self.momentary);
    }

    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = self.params.clone();
        let meters = self.meters.clone();
        lathe_ui::plugin::header(ui, "LATHE LOUDNESS", &p.bypass, setter, |ui| {
            ui.add_space(24.0);
            if ui.button("Reset").clicked() {
                meters.reset.store(true, Ordering::Relaxed);
            }
            ui.label("Pause");
            ui.add(ParamSlider::for_param(&p.meter.pause, setter).with_width(50.0));
        });
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(300.0);
                self.readings(ui);
                ui.add_space(8.0);
                self.controls(ui, setter);
            });
            ui.add_space(10.0);
            let size = vec2(ui.available_width(), ui.available_height() - 4.0);
            self.history(ui, size);
        });
    }
}

/// A reading with its unit, or a dash while there is none.
fn show(value: f32, unit: &str) -> String {
    if value.is_finite() {
        format!("{value:.1} {unit}")
    } else {
        format!("– {unit}")
    }
}

impl LoudnessEditor {
    fn read(&self, index: usize) -> f32 {
        self.meters.values[index].load(Ordering::Relaxed)
    }

    fn readings(&self, ui: &mut egui::Ui) {
        let target = self.params.meter.target.value().target();
        let integrated = self.read(value::INTEGRATED);
        ui.label(RichText::new("Integrated").color(theme::MUTED));
        ui.label(
            RichText::new(show(integrated, "LUFS"))
                .monospace()
                .size(30.0)
                .strong(),
        );
        let (text, colour) = lathe_ui::meter::target_distance(integrated, target.integrated);
        ui.label(RichText::new(text).color(colour));
        let true_peak = self.read(value::TRUE_PEAK);
        if true_peak.is_finite() {
            let over = true_peak as f64 - target.true_peak;
            let (text, colour) = if over > 0.0 {
                (
                    format!(
                        "true peak {over:.1} dB over the {} dBTP limit",
                        target.true_peak
                    ),
                    theme::OVER,
                )
            } else {
                (
                    format!(
                        "true peak {:.1} dB under the {} dBTP limit",
                        -over, target.true_peak
                    ),
                    theme::LEVEL,
                )
            };
            ui.label(RichText::new(text).color(colour));
        }
        ui.add_space(6.0);
        egui::Grid::new("loudness readings")
            .num_columns(4)
            .spacing(vec2(12.0, 4.0))
            .show(ui, |ui| {
                let plr = if integrated.is_finite() && true_peak.is_finite() {
                    true_peak - integrated
                } else {
                    f32::NEG_INFINITY
                };
                let rows = [
                    ("Momentary", self.read(value::MOMENTARY), "LUFS"),
                    ("max", self.read(value::MOMENTARY_MAX), "LUFS"),
                    ("Short-term", self.read(value::SHORT_TERM), "LUFS"),
                    ("max", self.read(value::SHORT_TERM_MAX), "LUFS"),
                    ("Range", self.read(value::RANGE), "LU"),
                    ("PLR", plr, "LU"),
                    ("True peak", true_peak, "dBTP"),
                    ("Sample pk", self.read(value::SAMPLE_PEAK), "dBFS"),
                ];
                for (i, (label, v, unit)) in rows.into_iter().enumerate() {
                    ui.label(RichText::new(label).color(theme::MUTED));
                    ui.label(RichText::new(show(v, unit)).monospace().size(14.0));
                    if i % 2 == 1 {
                        ui.end_row();
                    }
                }
            });
    }

    fn controls(&self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = &self.params;
        egui::Grid::new("loudness controls")
            .num_columns(2)
            .spacing(vec2(10.0, 6.0))
            .show(ui, |ui| {
                ui.label("Target");
                ui.add(ParamSlider::for_param(&p.meter.target, setter).with_width(170.0));
                ui.end_row();
                ui.label("Scale");
                ui.add(ParamSlider::for_param(&p.meter.scale, setter).with_width(170.0));
                ui.end_row();
                ui.label("Monitor");
                ui.add(ParamSlider::for_param(&p.monitor.voicing, setter).with_width(170.0));
                ui.end_row();
            });
        if p.monitor.voicing.value() != crate::params::MonitorChoice::Off {
            ui.label(
                RichText::new("Monitoring changes what you hear, not what is measured.")
                    .color(theme::LEVEL_HOT),
            );
        }
    }

    /// Short-term (filled) and momentary (line) loudness over the last three minutes, in LU
    /// relative to the target on the chosen EBU scale, with the target and its tolerance band.
    fn history(&self, ui: &mut egui::Ui, size: egui::Vec2) {
        let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
        let plot = Rect::from_min_max(
            pos2(rect.left() + 34.0, rect.top() + 4.0),
            pos2(rect.right() - 4.0, rect.bottom() - 16.0),
        );
        let painter = ui.painter_at(rect);
        painter.rect_filled(plot, 2.0, theme::PANEL);
        let target = self.params.meter.target.value().target().integrated as f32;
        let (lo, hi) = self.params.meter.scale.value().range_lu();
        let y_of = |lufs: f32| {
            let lu = (lufs - target).clamp(lo, hi);
            plot.bottom() - (lu - lo) / (hi - lo) * plot.height()
        };
        let step = if hi - lo > 30.0 { 6.0 } else { 3.0 };
        let mut lu = hi;
        while lu >= lo {
            let y = y_of(target + lu);
            painter.line_segment(
                [pos2(plot.left(), y), pos2(plot.right(), y)],
                Stroke::new(
                    1.0,
                    if lu == 0.0 {
                        theme::ACCENT
                    } else {
                        theme::GRID
                    },
                ),
            );
            painter.text(
                pos2(plot.left() - 4.0, y),
                Align2::RIGHT_CENTER,
                format!("{lu:+.0}"),
                FontId::proportional(9.0),
                theme::MUTED,
            );
            lu -= step;
        }
        painter.text(
            pos2(plot.right() - 4.0, y_of(target) - 2.0),
            Align2::RIGHT_BOTTOM,
            format!("target {target} LUFS"),
            FontId::proportional(10.0),
            theme::ACCENT,
        );
        let minutes = HISTORY_POINTS as f32 * PUBLISH_INTERVAL_S / 60.0;
        painter.text(
            pos2(plot.left(), rect.bottom()),
            Align2::LEFT_BOTTOM,
            format!("LU re target · last {minutes:.0} min · short-term (filled), momentary (line)"),
            FontId::proportional(9.0),
            theme::MUTED,
        );
        let n = self.short_term.len();
        if n < 2 {
            return;
        }
        let dx = plot.width() / (n - 1) as f32;
        let fill = theme::LEVEL.gamma_multiply(0.35);
        for (i, pair) in self.short_term.windows(2).enumerate() {
            if !(pair[0].is_finite() && pair[1].is_finite()) {
                continue;
            }
            let x0 = plot.left() + i as f32 * dx;
            let quad = vec![
                pos2(x0, plot.bottom()),
                pos2(x0, y_of(pair[0])),
                pos2(x0 + dx, y_of(pair[1])),
                pos2(x0 + dx, plot.bottom()),
            ];
            painter.add(egui::Shape::convex_polygon(quad, fill, Stroke::NONE));
        }
        let line = |values: &[f32], colour: Color32, width: f32| {
            let points: Vec<egui::Pos2> = values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, &v)| pos2(plot.left() + i as f32 * dx, y_of(v)))
                .collect();
            if points.len() > 1 {
                painter.add(egui::Shape::line(points, Stroke::new(width, colour)));
            }
        };
        line(&self.momentary, theme::TEXT.gamma_multiply(0.5), 1.0);
        line(&self.short_term, theme::LEVEL, 1.5);
    }
}
