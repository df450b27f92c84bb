//! Lathe Delay's editor: the taps (each echo's time and level, left and right, ping-pong
//! alternating) with the times in ms and as note values, the output meter and the controls.

use crate::params::{DelayParams, NoteChoice};
use crate::Meters;
use dsp_core::gain_to_db;
use egui::{pos2, vec2, Stroke};
use lathe_ui::editor::{grid_heading, grid_slider, EditorBody, EditorSize, Shell};
use lathe_ui::{theme, Ballistics, MeterStyle};
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub const SIZE: EditorSize = EditorSize {
    default: (900.0, 440.0),
    min: (820.0, 400.0),
};

pub fn create(
    params: Arc<DelayParams>,
    meters: Arc<Meters>,
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
) -> Option<EguiEditor<Shell<DelayEditor>>> {
    lathe_ui::editor::create(
        state,
        repaint,
        "Lathe Delay",
        SIZE,
        DelayEditor {
            params,
            meters,
            output: Default::default(),
        },
    )
}

pub struct DelayEditor {
    params: Arc<DelayParams>,
    meters: Arc<Meters>,
    output: [Ballistics; 2],
}

impl EditorBody for DelayEditor {
    fn update(&mut self, dt: f32) {
        for (ballistics, peak) in self.output.iter_mut().zip(&self.meters.output_peak) {
            ballistics.update(gain_to_db(peak.swap(0.0, Ordering::Relaxed)), dt);
        }
    }

    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = self.params.clone();
        lathe_ui::plugin::header(ui, "LATHE DELAY", &p.bypass, setter, |_| {});
        ui.horizontal_top(|ui| {
            let height = (ui.available_height() - 20.0).max(200.0);
            ui.vertical(|ui| {
                self.taps(ui, vec2(760.0, 170.0));
                ui.add_space(8.0);
                controls(ui, &p, setter);
            });
            ui.add_space(10.0);
            let style = MeterStyle {
                range_db: (-60.0, 6.0),
                hot_db: -6.0,
                over_db: 0.0,
            };
            let levels = self.output.each_ref().map(|b| (b.value_db, b.hold_db));
            lathe_ui::level_meter(ui, "OUT", &levels, style, height);
        });
    }
}

impl DelayEditor {
    /// Echoes over time: left above the centre line, right below, each as tall as its level
    /// (0 to −48 dB), over the first few seconds.
    fn taps(&self, ui: &mut egui::Ui, size: egui::Vec2) {
        let p = &self.params;
        let times = [0, 1].map(|c| self.meters.time_ms[c].load(Ordering::Relaxed));
        let times = if times[0] > 0.0 {
            times
        } else {
            let t = p.time.time.value();
            [t, t + p.time.offset.value()]
        };
        let feedback = p.feedback.amount.value();
        let ping_pong = p.time.ping_pong.value();
        let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, theme::PANEL);
        let span_ms = (times[0].max(times[1]) * 8.0).clamp(500.0, 8_000.0);
        let x = |ms: f32| rect.left() + 8.0 + (rect.width() - 16.0) * ms / span_ms;
        let mid = rect.center().y;
        painter.line_segment(
            [pos2(rect.left(), mid), pos2(rect.right(), mid)],
            Stroke::new(1.0, theme::GRID),
        );
        let half = rect.height() / 2.0 - 18.0;
        let height = |db: f32| half * ((db + 48.0) / 48.0).clamp(0.0, 1.0);
        for k in 1..64 {
            let level_db = 20.0 * feedback.max(1e-6).log10() * (k - 1) as f32;
            if level_db < -48.0 {
                break;
            }
            for side in 0..2 {
                // Ping-pong: odd echoes on the left, even on the right, all a step apart.
                let (t, show) = if ping_pong {
                    (times[0] * k as f32, (k % 2 == 1) == (side == 0))
                } else {
                    (times[side] * k as f32, true)
                };
                if !show || t > span_ms {
                    continue;
                }
                let h = height(level_db);
                let (from, to) = if side == 0 {
                    (mid, mid - h)
                } else {
                    (mid, mid + h)
                };
                painter.line_segment(
                    [pos2(x(t), from), pos2(x(t), to)],
                    Stroke::new(3.0, theme::ACCENT),
                );
            }
        }
        painter.text(
            pos2(rect.left() + 8.0, rect.top() + 4.0),
            egui::Align2::LEFT_TOP,
            format!("L  {}", describe(times[0], p.time.sync.value())),
            egui::FontId::proportional(13.0),
            theme::TEXT,
        );
        painter.text(
            pos2(rect.left() + 8.0, rect.bottom() - 4.0),
            egui::Align2::LEFT_BOTTOM,
            format!("R  {:.1} ms", times[1]),
            egui::FontId::proportional(13.0),
            theme::TEXT,
        );
        let bpm = self.meters.bpm.load(Ordering::Relaxed);
        if bpm > 0.0 {
            painter.text(
                pos2(rect.right() - 8.0, rect.top() + 4.0),
                egui::Align2::RIGHT_TOP,
                format!("{bpm:.1} bpm"),
                egui::FontId::proportional(13.0),
                theme::MUTED,
            );
        }
    }
}

/// "375.0 ms = 1/8 D" when synced, else the ms.
fn describe(ms: f32, note: NoteChoice) -> String {
    if note == NoteChoice::Off {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.1} ms = {}", NoteChoice::variants()[note.to_index()])
    }
}

fn controls(ui: &mut egui::Ui, p: &DelayParams, setter: &ParamSetter) {
    egui::Grid::new("delay controls")
        .num_columns(6)
        .spacing(vec2(8.0, 6.0))
        .show(ui, |ui| {
            grid_heading(ui, "Time");
            grid_heading(ui, "Feedback");
            grid_heading(ui, "Output");
            ui.end_row();
            grid_slider(ui, "Time", &p.time.time, setter);
            grid_slider(ui, "Amount", &p.feedback.amount, setter);
            grid_slider(ui, "Mix", &p.output.mix, setter);
            ui.end_row();
            grid_slider(ui, "Sync", &p.time.sync, setter);
            grid_slider(ui, "Low cut", &p.feedback.low_cut, setter);
            grid_slider(ui, "Ducking", &p.output.duck, setter);
            ui.end_row();
            grid_slider(ui, "R offset", &p.time.offset, setter);
            grid_slider(ui, "High cut", &p.feedback.high_cut, setter);
            grid_slider(ui, "Width", &p.output.width, setter);
            ui.end_row();
            grid_slider(ui, "Ping-pong", &p.time.ping_pong, setter);
            grid_slider(ui, "Saturation", &p.feedback.saturation, setter);
            grid_slider(ui, "Mod depth", &p.output.mod_depth, setter);
            ui.end_row();
            ui.label("");
            ui.label("");
            ui.label("");
            ui.label("");
            grid_slider(ui, "Mod rate", &p.output.mod_rate, setter);
            ui.end_row();
            ui.label("");
            ui.label("");
            ui.label("");
            ui.label("");
            grid_slider(ui, "Output", &p.output.output, setter);
            ui.end_row();
        });
}
