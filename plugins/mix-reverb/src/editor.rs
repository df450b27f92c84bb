//! Lathe Reverb's editor: the decay time across frequency (what the line filters are designed
//! for: the set decay shaped by the low and high multipliers), the output meter and the
//! controls grouped as the sound forms.

use crate::params::ReverbParams;
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
    default: (980.0, 460.0),
    min: (900.0, 420.0),
};

pub fn create(
    params: Arc<ReverbParams>,
    meters: Arc<Meters>,
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
) -> Option<EguiEditor<Shell<ReverbEditor>>> {
    lathe_ui::editor::create(
        state,
        repaint,
        "Lathe Reverb",
        SIZE,
        ReverbEditor {
            params,
            meters,
            output: Default::default(),
        },
    )
}

pub struct ReverbEditor {
    params: Arc<ReverbParams>,
    meters: Arc<Meters>,
    output: [Ballistics; 2],
}

impl EditorBody for ReverbEditor {
    fn update(&mut self, dt: f32) {
        for (ballistics, peak) in self.output.iter_mut().zip(&self.meters.output_peak) {
            ballistics.update(gain_to_db(peak.swap(0.0, Ordering::Relaxed)), dt);
        }
    }

    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = self.params.clone();
        lathe_ui::plugin::header(ui, "LATHE REVERB", &p.bypass, setter, |_| {});
        ui.horizontal_top(|ui| {
            let height = (ui.available_height() - 20.0).max(200.0);
            ui.vertical(|ui| {
                self.decay_curve(ui, vec2(360.0, 200.0));
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

impl ReverbEditor {
    /// Decay time (s) against frequency, 20 Hz–20 kHz, with the set decay and the crossovers
    /// marked.
    fn decay_curve(&self, ui: &mut egui::Ui, size: egui::Vec2) {
        let settings = self.params.settings(None);
        let rate = match self.meters.sample_rate.load(Ordering::Relaxed) {
            r if r > 0.0 => r,
            _ => 48_000.0,
        };
        let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, theme::PANEL);
        let points: Vec<(f64, f64)> = (0..=120)
            .map(|i| {
                let hz = 20.0 * 1000f64.powf(i as f64 / 120.0);
                (hz, settings.decay_at(rate, hz.min(0.49 * rate as f64)))
            })
            .collect();
        let top = points
            .iter()
            .fold(settings.decay_s as f64, |m, p| m.max(p.1))
            * 1.15;
        let x = |hz: f64| rect.left() + rect.width() * ((hz / 20.0).log10() / 3.0) as f32;
        let y = |s: f64| rect.bottom() - rect.height() * (s / top) as f32;
        let grid = Stroke::new(1.0, theme::GRID);
        for hz in [100.0, 1_000.0, 10_000.0] {
            painter.line_segment([pos2(x(hz), rect.top()), pos2(x(hz), rect.bottom())], grid);
            painter.text(
                pos2(x(hz) + 3.0, rect.bottom() - 3.0),
                egui::Align2::LEFT_BOTTOM,
                if hz >= 1_000.0 {
                    format!("{}k", hz / 1_000.0)
                } else {
                    format!("{hz}")
                },
                egui::FontId::proportional(11.0),
                theme::MUTED,
            );
        }
        for xover in [settings.low_xover_hz, settings.high_xover_hz] {
            let px = x(xover as f64);
            painter.line_segment(
                [pos2(px, rect.top()), pos2(px, rect.bottom())],
                Stroke::new(1.0, theme::ACCENT.gamma_multiply(0.4)),
            );
        }
        let set = y(settings.decay_s as f64);
        painter.line_segment([pos2(rect.left(), set), pos2(rect.right(), set)], grid);
        let line: Vec<egui::Pos2> = points.iter().map(|&(hz, s)| pos2(x(hz), y(s))).collect();
        painter.add(egui::Shape::line(line, Stroke::new(2.0, theme::ACCENT)));
        painter.text(
            rect.left_top() + vec2(6.0, 4.0),
            egui::Align2::LEFT_TOP,
            format!(
                "Decay {:.2} s  (low {:.2} s, high {:.2} s)",
                settings.decay_s,
                settings.decay_at(rate, 40.0),
                settings.decay_at(rate, 15_000.0f64.min(0.45 * rate as f64)),
            ),
            egui::FontId::proportional(13.0),
            theme::TEXT,
        );
    }
}

fn controls(ui: &mut egui::Ui, p: &ReverbParams, setter: &ParamSetter) {
    egui::Grid::new("reverb controls")
        .num_columns(8)
        .spacing(vec2(8.0, 6.0))
        .show(ui, |ui| {
            grid_heading(ui, "Time");
            grid_heading(ui, "Decay bands");
            grid_heading(ui, "Character");
            grid_heading(ui, "Output");
            ui.end_row();
            grid_slider(ui, "Predelay", &p.time.predelay, setter);
            grid_slider(ui, "Low", &p.bands.low_mult, setter);
            grid_slider(ui, "Damping", &p.character.damping, setter);
            grid_slider(ui, "Mix", &p.output.mix, setter);
            ui.end_row();
            grid_slider(ui, "Sync", &p.time.predelay_sync, setter);
            grid_slider(ui, "Low xover", &p.bands.low_xover, setter);
            grid_slider(ui, "Early/Late", &p.character.early_late, setter);
            grid_slider(ui, "Width", &p.output.width, setter);
            ui.end_row();
            grid_slider(ui, "Size", &p.time.size, setter);
            grid_slider(ui, "High", &p.bands.high_mult, setter);
            grid_slider(ui, "Diffusion", &p.character.diffusion, setter);
            grid_slider(ui, "Low cut", &p.output.wet_low_cut, setter);
            ui.end_row();
            grid_slider(ui, "Decay", &p.time.decay, setter);
            grid_slider(ui, "High xover", &p.bands.high_xover, setter);
            grid_slider(ui, "Mod depth", &p.character.mod_depth, setter);
            grid_slider(ui, "High cut", &p.output.wet_high_cut, setter);
            ui.end_row();
            grid_slider(ui, "Freeze", &p.time.freeze, setter);
            ui.label("");
            ui.label("");
            grid_slider(ui, "Mod rate", &p.character.mod_rate, setter);
            grid_slider(ui, "Output", &p.output.output, setter);
            ui.end_row();
        });
}
