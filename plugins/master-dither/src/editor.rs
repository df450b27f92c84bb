//! Lathe Dither's editor: the controls, the noise floor the settings give, the shaped noise
//! spectrum (drawn from the same function the DSP tests check) and the output peak.

use crate::params::DitherParams;
use crate::Meters;
use dsp_core::dither::{shaping_response_db, tpdf_noise_floor_db};
use dsp_core::gain_to_db;
use egui::{pos2, vec2, Align2, FontId, RichText, Sense, Stroke};
use lathe_ui::editor::{EditorBody, EditorSize, Shell};
use lathe_ui::{theme, Ballistics, MeterStyle};
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub const SIZE: EditorSize = EditorSize {
    default: (640.0, 400.0),
    min: (520.0, 340.0),
};

pub fn create(
    params: Arc<DitherParams>,
    meters: Arc<Meters>,
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
) -> Option<EguiEditor<Shell<DitherEditor>>> {
    lathe_ui::editor::create(
        state,
        repaint,
        "Lathe Dither",
        SIZE,
        DitherEditor {
            params,
            meters,
            output: Ballistics::default(),
        },
    )
}

pub struct DitherEditor {
    params: Arc<DitherParams>,
    meters: Arc<Meters>,
    output: Ballistics,
}

impl EditorBody for DitherEditor {
    fn update(&mut self, dt: f32) {
        let peak = self.meters.output_peak.swap(0.0, Ordering::Relaxed);
        self.output.update(gain_to_db(peak), dt);
    }

    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        self.layout(ui, setter)
    }
}

impl DitherEditor {
    fn layout(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = &self.params;
        let settings = p.settings();
        let rate = self.meters.sample_rate.load(Ordering::Relaxed).max(8_000.0);
        ui.horizontal(|ui| {
            ui.label(
                RichText::new("LATHE DITHER")
                    .strong()
                    .size(16.0)
                    .color(theme::ACCENT),
            );
            ui.add_space(24.0);
            ui.label("Bypass");
            ui.add(ParamSlider::for_param(&p.bypass, setter).with_width(60.0));
        });
        ui.separator();
        ui.horizontal(|ui| {
            egui::Grid::new("dither controls")
                .num_columns(2)
                .spacing(vec2(10.0, 8.0))
                .show(ui, |ui| {
                    ui.label(RichText::new("Word length").strong());
                    ui.add(ParamSlider::for_param(&p.dither.bits, setter).with_width(90.0));
                    ui.end_row();
                    ui.label(RichText::new("Dither").strong());
                    ui.add(ParamSlider::for_param(&p.dither.kind, setter).with_width(90.0));
                    ui.end_row();
                    ui.label(RichText::new("Noise shaping").strong());
                    ui.add(ParamSlider::for_param(&p.dither.shaping, setter).with_width(90.0));
                    ui.end_row();
                    ui.label("Auto-blank");
                    ui.add(ParamSlider::for_param(&p.dither.auto_blank, setter).with_width(90.0));
                    ui.end_row();
                    ui.label(RichText::new("Flat noise floor").color(theme::MUTED));
                    ui.label(
                        RichText::new(format!(
                            "{:.1} dBFS RMS",
                            tpdf_noise_floor_db(settings.bits)
                        ))
                        .monospace(),
                    );
                    ui.end_row();
                });
            ui.add_space(12.0);
            let levels = [(self.output.value_db, self.output.hold_db)];
            lathe_ui::level_meter(
                ui,
                "OUT",
                &levels,
                MeterStyle {
                    range_db: (-48.0, 0.0),
                    hot_db: -6.0,
                    over_db: -0.01,
                },
                190.0,
            );
        });
        ui.add_space(6.0);
        ui.label(
            RichText::new("Shaped noise relative to flat dither (dB), 0 Hz to Nyquist")
                .color(theme::MUTED),
        );
        let size = vec2(
            ui.available_width(),
            (ui.available_height() - 4.0).max(80.0),
        );
        let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
        let painter = ui.painter();
        painter.rect_filled(rect, 2.0, theme::PANEL);
        let (lo, hi) = (-30.0f32, 30.0f32);
        let y_of =
            |db: f32| rect.bottom() - ((db - lo) / (hi - lo)).clamp(0.0, 1.0) * rect.height();
        for db in [-20.0f32, -10.0, 0.0, 10.0, 20.0] {
            let y = y_of(db);
            painter.line_segment(
                [pos2(rect.left(), y), pos2(rect.right(), y)],
                Stroke::new(1.0, theme::GRID),
            );
            painter.text(
                pos2(rect.left() + 4.0, y),
                Align2::LEFT_BOTTOM,
                format!("{db:+.0}"),
                FontId::proportional(9.0),
                theme::MUTED,
            );
        }
        let nyquist = rate * 0.5;
        for khz in [5.0f32, 10.0, 15.0, 20.0] {
            if khz * 1000.0 < nyquist {
                let x = rect.left() + rect.width() * khz * 1000.0 / nyquist;
                painter.line_segment(
                    [pos2(x, rect.top()), pos2(x, rect.bottom())],
                    Stroke::new(1.0, theme::GRID),
                );
                painter.text(
                    pos2(x + 2.0, rect.bottom() - 2.0),
                    Align2::LEFT_BOTTOM,
                    format!("{khz:.0}k"),
                    FontId::proportional(9.0),
                    theme::MUTED,
                );
            }
        }
        let points: Vec<egui::Pos2> = (0..=200)
            .map(|i| {
                let hz = nyquist * i as f32 / 200.0;
                let db = shaping_response_db(settings.shaping, rate, hz.max(1.0));
                pos2(rect.left() + rect.width() * i as f32 / 200.0, y_of(db))
            })
            .collect();
        painter.add(egui::Shape::line(points, Stroke::new(2.0, theme::ACCENT)));
    }
}
