//! Lathe Master Dynamics' editor: the crossover bands (their analytic responses, from dsp-core),
//! a gain-reduction meter per band, input/output meters, the transfer curve of the selected band
//! and the band controls side by side.

use crate::params::MasterDynamicsParams;
use crate::Meters;
use dsp_core::crossover::{Crossover, MAX_BANDS};
use dsp_core::gain_to_db;
use egui::{pos2, vec2, Align2, Color32, FontId, Rect, RichText, Sense, Stroke};
use lathe_ui::editor::{EditorBody, EditorSize, Shell};
use lathe_ui::{theme, Ballistics, MeterStyle};
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub const SIZE: EditorSize = EditorSize {
    default: (1000.0, 660.0),
    min: (900.0, 600.0),
};
const CONTROL_WIDTH: f32 = 70.0;
const REDUCTION_RANGE_DB: f32 = 18.0;
const BAND_COLOURS: [Color32; MAX_BANDS] = [
    Color32::from_rgb(90, 160, 240),
    Color32::from_rgb(92, 200, 140),
    Color32::from_rgb(236, 200, 80),
    Color32::from_rgb(226, 110, 60),
];

pub fn create(
    params: Arc<MasterDynamicsParams>,
    meters: Arc<Meters>,
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
) -> Option<EguiEditor<Shell<MasterDynamicsEditor>>> {
    lathe_ui::editor::create(
        state,
        repaint,
        "Lathe Master Dynamics",
        SIZE,
        MasterDynamicsEditor {
            params,
            meters,
            input: Default::default(),
            output: Default::default(),
            reduction: std::array::from_fn(|_| Ballistics::with_fall(30.0)),
            selected: 0,
        },
    )
}

pub struct MasterDynamicsEditor {
    params: Arc<MasterDynamicsParams>,
    meters: Arc<Meters>,
    input: [Ballistics; 2],
    output: [Ballistics; 2],
    /// Gain reduction per band, positive dB.
    reduction: [Ballistics; MAX_BANDS],
    /// The band whose transfer curve is shown (editor state).
    selected: usize,
}

impl EditorBody for MasterDynamicsEditor {
    fn update(&mut self, dt: f32) {
        let m = &self.meters;
        for c in 0..2 {
            self.input[c].update(gain_to_db(m.input_peak[c].swap(0.0, Ordering::Relaxed)), dt);
            self.output[c].update(
                gain_to_db(m.output_peak[c].swap(0.0, Ordering::Relaxed)),
                dt,
            );
        }
        for (b, meter) in self.reduction.iter_mut().enumerate() {
            meter.update(m.reduction_db[b].swap(0.0, Ordering::Relaxed), dt);
        }
    }

    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = self.params.clone();
        let g = &p.global;
        lathe_ui::plugin::header(ui, "LATHE MASTER DYNAMICS", &p.bypass, setter, |ui| {
            ui.add_space(16.0);
            ui.label("Bands");
            ui.add(ParamSlider::for_param(&g.bands, setter).with_width(CONTROL_WIDTH));
            ui.label("Mode");
            ui.add(ParamSlider::for_param(&g.mode, setter).with_width(CONTROL_WIDTH));
        });
        let settings = p.settings().clamped();
        let available = ui.available_size();
        let top_height = (available.y - 290.0).max(200.0);
        let side = (top_height - 24.0).min(220.0);
        ui.horizontal(|ui| {
            // Two level meters (54 px), one gain-reduction meter per band (46 px), the curve.
            let meters = 2.0 * 54.0 + settings.bands as f32 * 46.0;
            let width =
                (available.x - meters - side - 40.0 - 8.0 * ui.spacing().item_spacing.x).max(240.0);
            ui.vertical(|ui| {
                ui.label(RichText::new("Bands").color(theme::MUTED));
                self.band_display(ui, &settings, vec2(width, top_height - 18.0));
            });
            let style = MeterStyle {
                range_db: (-48.0, 6.0),
                hot_db: -6.0,
                over_db: 0.0,
            };
            let levels = |b: &[Ballistics; 2]| -> Vec<(f32, f32)> {
                b.iter().map(|b| (b.value_db, b.hold_db)).collect()
            };
            lathe_ui::level_meter(ui, "IN", &levels(&self.input), style, top_height);
            for band in 0..settings.bands {
                lathe_ui::gain_reduction_meter(
                    ui,
                    self.reduction[band].value_db,
                    self.reduction[band].hold_db,
                    REDUCTION_RANGE_DB,
                    top_height,
                );
            }
            lathe_ui::level_meter(ui, "OUT", &levels(&self.output), style, top_height);
            ui.vertical(|ui| {
                self.selected = self.selected.min(settings.bands - 1);
                ui.horizontal(|ui| {
                    ui.label(RichText::new("Curve of band").color(theme::MUTED));
                    for band in 0..settings.bands {
                        ui.selectable_value(&mut self.selected, band, format!("{}", band + 1));
                    }
                });
                let band = settings.band[self.selected];
                let curve = band.gain_computer();
                let makeup = band.makeup_db as f64;
                lathe_ui::transfer_curve(
                    ui,
                    vec2(side, side),
                    (-60.0, 0.0),
                    band.threshold_db,
                    |input| (input as f64 + curve.gain_db(input as f64) + makeup) as f32,
                    None,
                );
            });
        });
        ui.separator();
        ui.horizontal_top(|ui| {
            self.controls(ui, setter, settings.bands);
            ui.add_space(24.0);
            egui::Grid::new("global")
                .num_columns(2)
                .spacing(vec2(12.0, 4.0))
                .show(ui, |ui| {
                    ui.label(RichText::new("Global").strong());
                    ui.end_row();
                    ui.label("Detector");
                    ui.add(ParamSlider::for_param(&g.detector, setter).with_width(CONTROL_WIDTH));
                    ui.end_row();
                    ui.label("Mix");
                    ui.add(ParamSlider::for_param(&g.mix, setter).with_width(CONTROL_WIDTH));
                    ui.end_row();
                    ui.label("Output");
                    ui.add(ParamSlider::for_param(&g.output, setter).with_width(CONTROL_WIDTH));
                    ui.end_row();
                });
        });
    }
}

impl MasterDynamicsEditor {
    /// The magnitude of each band of the crossover over 20 Hz – 20 kHz, with the band's current
    /// gain reduction subtracted, coloured per band.
    fn band_display(
        &self,
        ui: &mut egui::Ui,
        settings: &dsp_core::multiband::MultibandSettings,
        size: egui::Vec2,
    ) {
        let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
        let plot = Rect::from_min_max(
            pos2(rect.left() + 26.0, rect.top() + 2.0),
            pos2(rect.right() - 2.0, rect.bottom() - 14.0),
        );
        let painter = ui.painter_at(rect);
        painter.rect_filled(plot, 2.0, theme::PANEL);
        let (lo, hi) = (20f64.log10(), 20_000f64.log10());
        let x_for = |hz: f64| plot.left() + ((hz.log10() - lo) / (hi - lo)) as f32 * plot.width();
        let range = (-30.0f32, 6.0f32);
        let y_for = |db: f32| {
            plot.bottom() - ((db - range.0) / (range.1 - range.0)).clamp(0.0, 1.0) * plot.height()
        };
        for hz in [50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 1e4] {
            let x = x_for(hz);
            painter.line_segment(
                [pos2(x, plot.top()), pos2(x, plot.bottom())],
                Stroke::new(1.0, theme::GRID),
            );
            let label = if hz >= 1e3 {
                format!("{}k", hz / 1e3)
            } else {
                format!("{hz}")
            };
            painter.text(
                pos2(x, plot.bottom() + 1.0),
                Align2::CENTER_TOP,
                label,
                FontId::proportional(9.0),
                theme::MUTED,
            );
        }
        for db in [0.0f32, -12.0, -24.0] {
            let y = y_for(db);
            painter.line_segment(
                [pos2(plot.left(), y), pos2(plot.right(), y)],
                Stroke::new(1.0, theme::GRID),
            );
            painter.text(
                pos2(plot.left() - 4.0, y),
                Align2::RIGHT_CENTER,
                format!("{db:.0}"),
                FontId::proportional(9.0),
                theme::MUTED,
            );
        }
        // The same analytic responses the DSP tests check, at the rate they are drawn for.
        let crossover = Crossover::new(48_000.0, settings.crossovers_hz.map(|f| f as f64));
        let steps = plot.width().max(2.0) as usize;
        for (band, colour) in BAND_COLOURS.iter().enumerate().take(settings.bands) {
            let reduction = self.reduction[band].value_db;
            let points: Vec<_> = (0..=steps)
                .map(|i| {
                    let hz = 10f64.powf(lo + (hi - lo) * i as f64 / steps as f64);
                    // Merged bands: the top band covers every split band above it.
                    let h: f64 = if band + 1 == settings.bands {
                        (band..MAX_BANDS)
                            .map(|b| crossover.band_response(b, hz))
                            .fold(dsp_core::biquad::Complex::new(0.0, 0.0), |a, b| a + b)
                            .norm()
                    } else {
                        crossover.band_response(band, hz).norm()
                    };
                    let db = if settings.bands == 1 {
                        0.0
                    } else {
                        dsp_core::db::gain_to_db_f64(h) as f32
                    };
                    pos2(x_for(hz), y_for(db - reduction))
                })
                .collect();
            painter.add(egui::Shape::line(points, Stroke::new(2.0, *colour)));
        }
    }

    fn controls(&self, ui: &mut egui::Ui, setter: &ParamSetter, bands: usize) {
        let p = &self.params;
        egui::Grid::new("bands")
            .num_columns(1 + MAX_BANDS)
            .spacing(vec2(12.0, 4.0))
            .show(ui, |ui| {
                ui.label("");
                for (band, colour) in BAND_COLOURS.iter().enumerate().take(bands) {
                    ui.label(
                        RichText::new(format!("Band {}", band + 1))
                            .strong()
                            .color(*colour),
                    );
                }
                ui.end_row();
                macro_rules! row {
                    ($label:literal, $field:ident) => {
                        ui.label($label);
                        for band in &p.band[..bands] {
                            ui.add(
                                ParamSlider::for_param(&band.$field, setter)
                                    .with_width(CONTROL_WIDTH),
                            );
                        }
                        ui.end_row();
                    };
                }
                row!("Threshold", threshold);
                row!("Ratio", ratio);
                row!("Knee", knee);
                row!("Attack", attack);
                row!("Release", release);
                row!("Makeup", makeup);
                row!("Bypass", bypass);
                row!("Solo", solo);
                if bands > 1 {
                    ui.label("Crossover");
                    let x = &p.crossovers;
                    for param in [&x.xover1, &x.xover2, &x.xover3]
                        .into_iter()
                        .take(bands - 1)
                    {
                        ui.add(ParamSlider::for_param(param, setter).with_width(CONTROL_WIDTH));
                    }
                    ui.end_row();
                }
            });
    }
}
