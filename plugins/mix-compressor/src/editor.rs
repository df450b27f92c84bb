//! Lathe Compressor's editor: the transfer curve with the live detector level, the gain-reduction
//! history, input / gain-reduction / output meters and the controls, grouped as the parameters are.

use crate::params::CompressorParams;
use crate::{Meters, HISTORY_INTERVAL_S, HISTORY_POINTS};
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
    default: (940.0, 560.0),
    min: (760.0, 480.0),
};
const CONTROL_WIDTH: f32 = 64.0;
/// Scale of the GR history and meter, dB.
const REDUCTION_RANGE_DB: f32 = 24.0;
/// Both axes of the transfer curve, dB.
const CURVE_RANGE_DB: (f32, f32) = (-60.0, 0.0);

pub fn create(
    params: Arc<CompressorParams>,
    meters: Arc<Meters>,
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
) -> Option<EguiEditor<Shell<CompressorEditor>>> {
    lathe_ui::editor::create(
        state,
        repaint,
        "Lathe Compressor",
        SIZE,
        CompressorEditor {
            params,
            meters,
            input: Default::default(),
            output: Default::default(),
            reduction: Ballistics::with_fall(30.0),
            level: Ballistics::with_fall(40.0),
            history: Vec::with_capacity(HISTORY_POINTS),
        },
    )
}

pub struct CompressorEditor {
    params: Arc<CompressorParams>,
    meters: Arc<Meters>,
    input: [Ballistics; 2],
    output: [Ballistics; 2],
    /// Gain reduction as a positive number of dB.
    reduction: Ballistics,
    /// Detector level, dB.
    level: Ballistics,
    history: Vec<f32>,
}

impl EditorBody for CompressorEditor {
    fn update(&mut self, dt: f32) {
        let m = &self.meters;
        for c in 0..2 {
            self.input[c].update(gain_to_db(m.input_peak[c].swap(0.0, Ordering::Relaxed)), dt);
            self.output[c].update(
                gain_to_db(m.output_peak[c].swap(0.0, Ordering::Relaxed)),
                dt,
            );
        }
        self.reduction
            .update(m.reduction_db.swap(0.0, Ordering::Relaxed), dt);
        self.level
            .update(m.level_db.swap(-200.0, Ordering::Relaxed), dt);
        m.reduction_history.read_into(&mut self.history);
    }

    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = self.params.clone();
        lathe_ui::plugin::header(ui, "LATHE COMPRESSOR", &p.bypass, setter, |ui| {
            ui.add_space(16.0);
            let samples = self.meters.latency_samples.load(Ordering::Relaxed);
            let rate = self.meters.sample_rate.load(Ordering::Relaxed).max(1.0);
            ui.label(
                RichText::new(format!(
                    "latency {:.2} ms ({samples} samples)",
                    samples as f32 * 1000.0 / rate
                ))
                .color(theme::MUTED),
            );
        });
        let available = ui.available_size();
        let top_height = (available.y - 190.0).max(220.0);
        ui.horizontal(|ui| {
            let settings = p.settings().clamped();
            let curve = settings.gain_computer();
            let makeup = settings.total_makeup_db() as f64;
            let side = top_height.min(available.x * 0.4);
            ui.vertical(|ui| {
                ui.label(RichText::new("Transfer curve").color(theme::MUTED));
                lathe_ui::transfer_curve(
                    ui,
                    vec2(side, side - 18.0),
                    CURVE_RANGE_DB,
                    settings.threshold_db,
                    |input| (input as f64 + curve.gain_db(input as f64) + makeup) as f32,
                    Some(self.level.value_db),
                );
            });
            let plot_width = (available.x - side - 220.0).max(160.0);
            lathe_ui::reduction_history(
                ui,
                &self.history,
                HISTORY_POINTS as f32 * HISTORY_INTERVAL_S,
                REDUCTION_RANGE_DB,
                vec2(plot_width, top_height),
            );
            let style = MeterStyle {
                range_db: (-48.0, 6.0),
                hot_db: -6.0,
                over_db: 0.0,
            };
            let levels = |b: &[Ballistics; 2]| -> Vec<(f32, f32)> {
                b.iter().map(|b| (b.value_db, b.hold_db)).collect()
            };
            lathe_ui::level_meter(ui, "IN", &levels(&self.input), style, top_height);
            lathe_ui::gain_reduction_meter(
                ui,
                self.reduction.value_db,
                self.reduction.hold_db,
                REDUCTION_RANGE_DB,
                top_height,
            );
            lathe_ui::level_meter(ui, "OUT", &levels(&self.output), style, top_height);
        });
        ui.separator();
        self.controls(ui, setter);
    }
}

impl CompressorEditor {
    fn controls(&self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = &self.params;
        let slider = |ui: &mut egui::Ui, label: &str, param: &dyn ParamWidget| {
            ui.label(label);
            param.add(ui, setter);
        };
        egui::Grid::new("controls")
            .num_columns(8)
            .spacing(vec2(10.0, 6.0))
            .show(ui, |ui| {
                slider(ui, "Threshold", &&p.curve.threshold);
                slider(ui, "Ratio", &&p.curve.ratio);
                slider(ui, "Knee", &&p.curve.knee);
                slider(ui, "Range", &&p.curve.range);
                ui.end_row();
                slider(ui, "Attack", &&p.timing.attack);
                slider(ui, "Release", &&p.timing.release);
                slider(ui, "Auto release", &&p.timing.auto_release);
                slider(ui, "Hold", &&p.timing.hold);
                ui.end_row();
                slider(ui, "Lookahead", &&p.timing.lookahead);
                slider(ui, "Detector", &&p.curve.detector);
                slider(ui, "Stereo mode", &&p.curve.mode);
                slider(ui, "Stereo link", &&p.curve.link);
                ui.end_row();
                slider(ui, "Makeup", &&p.output.makeup);
                slider(ui, "Auto makeup", &&p.output.auto_makeup);
                slider(ui, "Mix", &&p.output.mix);
                ui.end_row();
                slider(ui, "Sidechain", &&p.sidechain.external);
                slider(ui, "SC high-pass", &&p.sidechain.highpass);
                slider(ui, "SC HP freq", &&p.sidechain.highpass_hz);
                slider(ui, "SC listen", &&p.sidechain.listen);
                ui.end_row();
                ui.label("");
                ui.label("");
                slider(ui, "SC low-pass", &&p.sidechain.lowpass);
                slider(ui, "SC LP freq", &&p.sidechain.lowpass_hz);
                ui.end_row();
            });
    }
}

/// A parameter that can be drawn as a slider (any nice-plug parameter type).
trait ParamWidget {
    fn add(&self, ui: &mut egui::Ui, setter: &ParamSetter);
}

impl<P: Param> ParamWidget for &P {
    fn add(&self, ui: &mut egui::Ui, setter: &ParamSetter) {
        ui.add(ParamSlider::for_param(*self, setter).with_width(CONTROL_WIDTH));
    }
}
