//! Lathe Channel's editor: input and output meters, output correlation, the pan position and the
//! controls grouped as the signal flows.

use crate::params::ChannelParams;
use crate::Meters;
use dsp_core::gain_to_db;
use egui::{vec2, RichText};
use lathe_ui::editor::{EditorBody, EditorSize, Shell};
use lathe_ui::scope::correlation_meter;
use lathe_ui::{theme, Ballistics, MeterStyle};
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub const SIZE: EditorSize = EditorSize {
    default: (900.0, 400.0),
    min: (840.0, 360.0),
};

pub fn create(
    params: Arc<ChannelParams>,
    meters: Arc<Meters>,
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
) -> Option<EguiEditor<Shell<ChannelEditor>>> {
    lathe_ui::editor::create(
        state,
        repaint,
        "Lathe Channel",
        SIZE,
        ChannelEditor {
            params,
            meters,
            input: Default::default(),
            output: Default::default(),
        },
    )
}

pub struct ChannelEditor {
    params: Arc<ChannelParams>,
    meters: Arc<Meters>,
    input: [Ballistics; 2],
    output: [Ballistics; 2],
}

impl EditorBody for ChannelEditor {
    fn update(&mut self, dt: f32) {
        for (ballistics, peak) in self
            .input
            .iter_mut()
            .zip(&self.meters.input_peak)
            .chain(self.output.iter_mut().zip(&self.meters.output_peak))
        {
            ballistics.update(gain_to_db(peak.swap(0.0, Ordering::Relaxed)), dt);
        }
    }

    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        self.layout(ui, setter)
    }
}

impl ChannelEditor {
    fn layout(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = self.params.clone();
        lathe_ui::plugin::header(ui, "LATHE CHANNEL", &p.bypass, setter, |_| {});
        let style = MeterStyle {
            range_db: (-60.0, 6.0),
            hot_db: -6.0,
            over_db: 0.0,
        };
        let levels = |meters: &[Ballistics; 2]| meters.each_ref().map(|b| (b.value_db, b.hold_db));
        ui.horizontal_top(|ui| {
            let height = (ui.available_height() - 30.0).max(200.0);
            lathe_ui::level_meter(ui, "IN", &levels(&self.input), style, height);
            ui.add_space(10.0);
            ui.vertical(|ui| {
                let slider = |ui: &mut egui::Ui, label: &str, param: &dyn ParamWidget| {
                    ui.label(label);
                    param.add(ui, setter);
                };
                egui::Grid::new("channel controls")
                    .num_columns(6)
                    .spacing(vec2(10.0, 8.0))
                    .show(ui, |ui| {
                        heading(ui, "Gain");
                        heading(ui, "Pan");
                        heading(ui, "Stereo");
                        ui.end_row();
                        slider(ui, "Input", &p.gain.input_gain);
                        slider(ui, "Position", &p.pan.position);
                        slider(ui, "Width", &p.stereo.width);
                        ui.end_row();
                        slider(ui, "Volume", &p.gain.volume);
                        slider(ui, "Mode", &p.pan.mode);
                        slider(ui, "Mono", &p.stereo.mono);
                        ui.end_row();
                        slider(ui, "Mute", &p.gain.mute);
                        slider(ui, "Law", &p.pan.law);
                        slider(ui, "Swap L/R", &p.stereo.swap);
                        ui.end_row();
                        heading(ui, "Filters");
                        ui.label("");
                        ui.label("");
                        slider(ui, "Invert L", &p.stereo.invert_left);
                        ui.end_row();
                        slider(ui, "Low cut", &p.filters.low_cut);
                        slider(ui, "High cut", &p.filters.high_cut);
                        slider(ui, "Invert R", &p.stereo.invert_right);
                        ui.end_row();
                        slider(ui, "Frequency", &p.filters.low_cut_hz);
                        slider(ui, "Frequency", &p.filters.high_cut_hz);
                        slider(ui, "DC block", &p.filters.dc_block);
                        ui.end_row();
                        slider(ui, "Slope", &p.filters.low_cut_slope);
                        slider(ui, "Slope", &p.filters.high_cut_slope);
                        ui.end_row();
                    });
                ui.add_space(10.0);
                correlation_meter(
                    ui,
                    "Correl.",
                    self.meters.correlation.load(Ordering::Relaxed),
                    360.0,
                );
            });
            ui.add_space(10.0);
            lathe_ui::level_meter(ui, "OUT", &levels(&self.output), style, height);
        });
    }
}

fn heading(ui: &mut egui::Ui, text: &str) {
    ui.label(RichText::new(text).strong().color(theme::ACCENT));
    ui.label("");
}

/// Any parameter that can be drawn as a slider.
trait ParamWidget {
    fn add(&self, ui: &mut egui::Ui, setter: &ParamSetter);
}

impl<P: Param> ParamWidget for P {
    fn add(&self, ui: &mut egui::Ui, setter: &ParamSetter) {
        ui.add(ParamSlider::for_param(self, setter).with_width(80.0));
    }
}
