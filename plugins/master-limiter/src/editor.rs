//! The Limiter's editor: gain-reduction history, input/output peak and true-peak meters, a GR
//! bar, and the controls, readable at a glance. Resizable; everything scales with the window.

use crate::meters::{take, Meters, HISTORY_INTERVAL_S, HISTORY_POINTS};
use crate::params::LimiterParams;
use dsp_core::gain_to_db;
use egui::{vec2, RichText};
use lathe_ui::editor::{EditorBody, EditorSize, Shell};
use lathe_ui::{theme, Ballistics, MeterStyle};
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub const SIZE: EditorSize = EditorSize {
    default: (880.0, 440.0),
    min: (620.0, 380.0),
};
/// Width of a parameter slider in the controls grid.
const CONTROL_WIDTH: f32 = 64.0;
/// The GR scale of the history and the bar, dB.
const REDUCTION_RANGE_DB: f32 = 24.0;

pub fn create(
    params: Arc<LimiterParams>,
    meters: Arc<Meters>,
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
) -> Option<EguiEditor<Shell<LimiterEditor>>> {
    lathe_ui::editor::create(
        state,
        repaint,
        "Lathe Limiter",
        SIZE,
        LimiterEditor {
            params,
            meters,
            input: [Ballistics::default(), Ballistics::default()],
            input_true_peak: Ballistics::default(),
            output: [Ballistics::default(), Ballistics::default()],
            output_true_peak: [Ballistics::default(), Ballistics::default()],
            reduction: Ballistics::with_fall(30.0),
            history: Vec::with_capacity(HISTORY_POINTS),
            target: 0,
        },
    )
}

pub struct LimiterEditor {
    params: Arc<LimiterParams>,
    meters: Arc<Meters>,
    input: [Ballistics; 2],
    input_true_peak: Ballistics,
    output: [Ballistics; 2],
    output_true_peak: [Ballistics; 2],
    /// Gain reduction as a positive number of dB.
    reduction: Ballistics,
    history: Vec<f32>,
    /// Index into `dsp_core::loudness::TARGETS` (editor state, not saved).
    target: usize,
}

impl EditorBody for LimiterEditor {
    /// Pulls the peaks published since the last frame into the ballistics.
    fn update(&mut self, dt: f32) {
        let m = &self.meters;
        for c in 0..2 {
            self.input[c].update(gain_to_db(take(&m.input_peak[c], 0.0)), dt);
            self.output[c].update(gain_to_db(take(&m.output_peak[c], 0.0)), dt);
            self.output_true_peak[c].update(gain_to_db(take(&m.output_true_peak[c], 0.0)), dt);
        }
        self.input_true_peak
            .update(gain_to_db(take(&m.input_true_peak, 0.0)), dt);
        let reduction_db = -gain_to_db(take(&m.min_gain, 1.0));
        self.reduction.update(reduction_db.max(0.0), dt);
        m.reduction_history.read_into(&mut self.history);
    }

    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        self.layout(ui, setter)
    }
}

impl LimiterEditor {
    /// Output loudness (M, S, I, true peak) against a delivery target, so the input gain can be
    /// set until the target is met.
    fn loudness_panel(&mut self, ui: &mut egui::Ui) {
        use dsp_core::loudness::TARGETS;
        let read = |i: usize| self.meters.loudness[i].load(Ordering::Relaxed);
        let show = |value: f32, unit: &str| {
            if value.is_finite() {
                format!("{value:.1} {unit}")
            } else {
                format!("– {unit}")
            }
        };
        ui.vertical(|ui| {
            ui.label(RichText::new("Output loudness").strong());
            egui::Grid::new("loudness").num_columns(2).show(ui, |ui| {
                for (label, index, unit) in [
                    ("M", 0, "LUFS"),
                    ("S", 1, "LUFS"),
                    ("I", 2, "LUFS"),
                    // The largest since Reset (the "Output TP" readout holds for seconds).
                    ("TP max", 3, "dBTP"),
                ] {
                    ui.label(RichText::new(label).color(theme::MUTED));
                    ui.label(
                        RichText::new(show(read(index), unit))
                            .monospace()
                            .size(14.0),
                    );
                    ui.end_row();
                }
            });
            ui.add_space(4.0);
            let target = TARGETS[self.target.min(TARGETS.len() - 1)];
            egui::ComboBox::from_id_salt("target")
                .selected_text(target.name)
                .width(120.0)
                .show_ui(ui, |ui| {
                    for (i, t) in TARGETS.iter().enumerate() {
                        ui.selectable_value(
                            &mut self.target,
                            i,
                            format!("{} ({} LUFS)", t.name, t.integrated),
                        );
                    }
                });
            let integrated = read(2);
            let true_peak = read(3);
            if integrated.is_finite() {
                let (text, colour) =
                    lathe_ui::meter::target_distance(integrated, target.integrated);
                ui.label(RichText::new(text).color(colour));
            } else {
                ui.label(
                    RichText::new(format!("target {} LUFS", target.integrated)).color(theme::MUTED),
                );
            }
            if true_peak.is_finite() {
                let over = true_peak as f64 > target.true_peak;
                ui.label(
                    RichText::new(format!(
                        "TP limit {:.1} dBTP {}",
                        target.true_peak,
                        if over { "over" } else { "ok" }
                    ))
                    .color(if over { theme::OVER } else { theme::LEVEL }),
                );
            }
            if ui.button("Reset").clicked() {
                self.meters.loudness_reset.store(true, Ordering::Relaxed);
            }
        });
    }

    fn layout(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = self.params.clone();
        ui.horizontal(|ui| {
            ui.label(
                RichText::new("LATHE LIMITER")
                    .strong()
                    .size(16.0)
                    .color(theme::ACCENT),
            );
            ui.add_space(24.0);
            ui.label("Unity-gain listen");
            ui.add(ParamSlider::for_param(&p.monitoring.listen, setter).with_width(60.0));
            ui.add_space(12.0);
            ui.label("Bypass");
            ui.add(ParamSlider::for_param(&p.bypass, setter).with_width(60.0));
        });
        ui.separator();

        let available = ui.available_size();
        let meter_height = (available.y - 150.0).max(180.0);
        ui.horizontal(|ui| {
            // Gain-reduction history over the last 6 s.
            let plot_width = (available.x - 470.0).max(200.0);
            lathe_ui::reduction_history(
                ui,
                &self.history,
                HISTORY_POINTS as f32 * HISTORY_INTERVAL_S,
                REDUCTION_RANGE_DB,
                vec2(plot_width, meter_height),
            );
            let style = MeterStyle {
                range_db: (-36.0, 3.0),
                hot_db: -6.0,
                over_db: p.gain.ceiling.value(),
            };
            let input: Vec<(f32, f32)> =
                self.input.iter().map(|b| (b.value_db, b.hold_db)).collect();
            lathe_ui::level_meter(ui, "IN", &input, style, meter_height);
            lathe_ui::gain_reduction_meter(
                ui,
                self.reduction.value_db,
                self.reduction.hold_db,
                REDUCTION_RANGE_DB,
                meter_height,
            );
            let output: Vec<(f32, f32)> = self
                .output
                .iter()
                .map(|b| (b.value_db, b.hold_db))
                .collect();
            lathe_ui::level_meter(ui, "OUT", &output, style, meter_height);
            let tp: Vec<(f32, f32)> = self
                .output_true_peak
                .iter()
                .map(|b| (b.value_db, b.hold_db))
                .collect();
            lathe_ui::level_meter(ui, "OUT TP", &tp, style, meter_height);
            ui.vertical(|ui| {
                ui.label(RichText::new("Input TP").color(theme::MUTED));
                ui.label(
                    RichText::new(format!("{:.1} dBTP", self.input_true_peak.hold_db)).monospace(),
                );
                ui.add_space(6.0);
                ui.label(RichText::new("Output TP").color(theme::MUTED));
                let out_tp = self
                    .output_true_peak
                    .iter()
                    .map(|b| b.hold_db)
                    .fold(-150.0f32, f32::max);
                ui.label(RichText::new(format!("{out_tp:.1} dBTP")).monospace());
                ui.add_space(6.0);
                ui.label(RichText::new("Latency").color(theme::MUTED));
                let samples = self.meters.latency_samples.load(Ordering::Relaxed);
                let rate = self.meters.sample_rate.load(Ordering::Relaxed).max(1.0);
                ui.label(
                    RichText::new(format!("{:.2} ms", samples as f32 * 1000.0 / rate)).monospace(),
                );
                ui.label(RichText::new(format!("{samples} samples")).color(theme::MUTED));
            });
            ui.separator();
            self.loudness_panel(ui);
        });
        ui.separator();

        egui::Grid::new("controls")
            .num_columns(6)
            .spacing(vec2(10.0, 6.0))
            .show(ui, |ui| {
                ui.label(RichText::new("Input").strong());
                ui.add(
                    ParamSlider::for_param(&p.gain.input_gain, setter).with_width(CONTROL_WIDTH),
                );
                ui.label(RichText::new("Ceiling").strong());
                ui.add(ParamSlider::for_param(&p.gain.ceiling, setter).with_width(CONTROL_WIDTH));
                ui.label("Output trim");
                ui.add(
                    ParamSlider::for_param(&p.gain.output_trim, setter).with_width(CONTROL_WIDTH),
                );
                ui.end_row();
                ui.label(RichText::new("Release").strong());
                ui.add(
                    ParamSlider::for_param(&p.dynamics.release, setter).with_width(CONTROL_WIDTH),
                );
                ui.label("Auto release");
                ui.add(
                    ParamSlider::for_param(&p.dynamics.auto_release, setter)
                        .with_width(CONTROL_WIDTH),
                );
                ui.label("Lookahead");
                ui.add(
                    ParamSlider::for_param(&p.dynamics.lookahead, setter).with_width(CONTROL_WIDTH),
                );
                ui.end_row();
                ui.label("Stereo link");
                ui.add(
                    ParamSlider::for_param(&p.dynamics.stereo_link, setter)
                        .with_width(CONTROL_WIDTH),
                );
                ui.label("True peak");
                ui.add(
                    ParamSlider::for_param(&p.detection.true_peak, setter)
                        .with_width(CONTROL_WIDTH),
                );
                ui.label("Oversampling");
                ui.add(
                    ParamSlider::for_param(&p.detection.oversampling, setter)
                        .with_width(CONTROL_WIDTH),
                );
                ui.end_row();
            });
    }
}
