//! Lathe Imager's editor: vectorscope (Lissajous or polar), correlation overall and per band,
//! width per band, and the controls.

use crate::params::ImagerParams;
use crate::Meters;
use egui::{pos2, vec2, Align2, FontId, Rect, RichText, Sense, Stroke};
use lathe_ui::editor::{EditorBody, EditorSize, Shell};
use lathe_ui::scope::{correlation_meter, vectorscope, ScopeMode};
use lathe_ui::theme;
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub const SIZE: EditorSize = EditorSize {
    default: (780.0, 440.0),
    min: (680.0, 400.0),
};

pub fn create(
    params: Arc<ImagerParams>,
    meters: Arc<Meters>,
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
) -> Option<EguiEditor<Shell<ImagerEditor>>> {
    lathe_ui::editor::create(
        state,
        repaint,
        "Lathe Imager",
        SIZE,
        ImagerEditor {
            params,
            meters,
            mode: ScopeMode::Lissajous,
            points: Vec::with_capacity(crate::SCOPE_POINTS),
        },
    )
}

pub struct ImagerEditor {
    params: Arc<ImagerParams>,
    meters: Arc<Meters>,
    mode: ScopeMode,
    points: Vec<(f32, f32)>,
}

impl EditorBody for ImagerEditor {
    fn update(&mut self, _dt: f32) {
        self.meters.scope.read_into(&mut self.points);
    }

    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        self.layout(ui, setter)
    }
}

impl ImagerEditor {
    fn layout(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = self.params.clone();
        lathe_ui::plugin::header(ui, "LATHE IMAGER", &p.bypass, setter, |_| {});
        let bands = p.bands.count.value().clamp(1, 4) as usize;
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.mode, ScopeMode::Lissajous, "Lissajous");
                    ui.selectable_value(&mut self.mode, ScopeMode::Polar, "Polar");
                });
                let size = (ui.available_height() - 100.0).clamp(180.0, 420.0);
                vectorscope(ui, &self.points, self.mode, size);
                ui.add_space(4.0);
                let m = &self.meters;
                correlation_meter(ui, "Overall", m.correlation.load(Ordering::Relaxed), size);
                for band in 0..bands {
                    let value = m.band_correlation[band].load(Ordering::Relaxed);
                    correlation_meter(ui, &format!("Band {}", band + 1), value, size);
                }
            });
            ui.add_space(12.0);
            ui.vertical(|ui| {
                self.width_display(ui, bands);
                ui.add_space(8.0);
                egui::Grid::new("imager controls")
                    .num_columns(4)
                    .spacing(vec2(10.0, 6.0))
                    .show(ui, |ui| {
                        ui.label(RichText::new("Bands").strong());
                        ui.add(ParamSlider::for_param(&p.bands.count, setter).with_width(90.0));
                        ui.label("Bass mono");
                        ui.add(
                            ParamSlider::for_param(&p.stereo.bass_mono, setter).with_width(90.0),
                        );
                        ui.end_row();
                        for (k, crossover) in p.crossovers().into_iter().enumerate() {
                            ui.label(format!("Split {}–{}", k + 1, k + 2));
                            ui.add_enabled(
                                k + 1 < bands,
                                ParamSlider::for_param(crossover, setter).with_width(90.0),
                            );
                            match k {
                                0 => {
                                    ui.label("Mono below");
                                    ui.add(
                                        ParamSlider::for_param(&p.stereo.bass_mono_hz, setter)
                                            .with_width(90.0),
                                    );
                                }
                                1 => {
                                    ui.label("Balance");
                                    ui.add(
                                        ParamSlider::for_param(&p.stereo.balance, setter)
                                            .with_width(90.0),
                                    );
                                }
                                _ => {
                                    ui.label("Mono check");
                                    ui.add(
                                        ParamSlider::for_param(&p.stereo.mono_check, setter)
                                            .with_width(90.0),
                                    );
                                }
                            }
                            ui.end_row();
                        }
                        for (band, width) in p.widths().into_iter().enumerate() {
                            if band % 2 == 0 {
                                ui.end_row();
                            }
                            ui.label(format!("Width {}", band + 1));
                            ui.add_enabled(
                                band < bands,
                                ParamSlider::for_param(width, setter).with_width(90.0),
                            );
                        }
                    });
            });
        });
    }

    /// Width per band in use: a bar from 0 to 200 % over the band's frequency span.
    fn width_display(&self, ui: &mut egui::Ui, bands: usize) {
        let size = vec2(ui.available_width().max(200.0), 130.0);
        let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 3.0, theme::PANEL);
        let (lo, hi) = (20.0f32.log10(), 20_000.0f32.log10());
        let x_of = |hz: f32| rect.left() + (hz.log10() - lo) / (hi - lo) * rect.width();
        let y_of = |width: f32| rect.bottom() - (width / 2.0).clamp(0.0, 1.0) * rect.height();
        painter.line_segment(
            [pos2(rect.left(), y_of(1.0)), pos2(rect.right(), y_of(1.0))],
            Stroke::new(1.0, theme::GRID),
        );
        let crossovers = self.params.crossovers().map(|p| p.value());
        let widths = self.params.widths().map(|p| p.value());
        for band in 0..bands {
            let from = if band == 0 {
                20.0
            } else {
                crossovers[band - 1]
            };
            let to = if band + 1 == bands {
                20_000.0
            } else {
                crossovers[band]
            };
            let band_rect = Rect::from_min_max(
                pos2(x_of(from) + 1.0, y_of(widths[band])),
                pos2(x_of(to) - 1.0, rect.bottom()),
            );
            painter.rect_filled(band_rect, 2.0, theme::LEVEL.gamma_multiply(0.5));
            painter.text(
                pos2(band_rect.center().x, band_rect.top() - 2.0),
                Align2::CENTER_BOTTOM,
                format!("{:.0} %", widths[band] * 100.0),
                FontId::monospace(11.0),
                theme::TEXT,
            );
        }
        if self.params.stereo.bass_mono.value() {
            let x = x_of(self.params.stereo.bass_mono_hz.value());
            painter.rect_filled(
                Rect::from_min_max(rect.left_top(), pos2(x, rect.bottom())),
                0.0,
                theme::REDUCTION.gamma_multiply(0.25),
            );
            painter.text(
                pos2(rect.left() + 4.0, rect.top() + 4.0),
                Align2::LEFT_TOP,
                "mono",
                FontId::proportional(10.0),
                theme::TEXT,
            );
        }
        for hz in [100.0f32, 1000.0, 10_000.0] {
            painter.text(
                pos2(x_of(hz), rect.bottom() - 2.0),
                Align2::CENTER_BOTTOM,
                if hz >= 1000.0 {
                    format!("{:.0}k", hz / 1000.0)
                } else {
                    format!("{hz:.0}")
                },
                FontId::proportional(9.0),
                theme::MUTED,
            );
        }
    }
}
