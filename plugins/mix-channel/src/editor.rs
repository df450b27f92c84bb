//! Lathe Channel's editor: input and output meters, output correlation, the pan position and the
//! controls grouped as the signal flows.

use crate::params::ChannelParams;
use crate::Meters;
use dsp_core::gain_to_db;
use egui::vec2;
use lathe_ui::editor::{grid_heading, grid_slider, EditorBody, EditorSize, Shell};
use lathe_ui::scope::correlation_meter;
use lathe_ui::{Ballistics, MeterStyle};
use nice_plug::prelude::*;
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
                egui::Grid::new("channel controls")
                    .num_columns(6)
                    .spacing(vec2(10.0, 8.0))
                    .show(ui, |ui| {
                        grid_heading(ui, "Gain");
                        grid_heading(ui, "Pan");
                        grid_heading(ui, "Stereo");
                        ui.end_row();
                        grid_slider(ui, "Input", &p.gain.input_gain, setter);
                        grid_slider(ui, "Position", &p.pan.position, setter);
                        grid_slider(ui, "Width", &p.stereo.width, setter);
                        ui.end_row();
                        grid_slider(ui, "Volume", &p.gain.volume, setter);
                        grid_slider(ui, "Mode", &p.pan.mode, setter);
                        grid_slider(ui, "Mono", &p.stereo.mono, setter);
                        ui.end_row();
                        grid_slider(ui, "Mute", &p.gain.mute, setter);
                        grid_slider(ui, "Law", &p.pan.law, setter);
                        grid_slider(ui, "Swap L/R", &p.stereo.swap, setter);
                        ui.end_row();
                        grid_heading(ui, "Filters");
                        ui.label("");
                        ui.label("");
                        grid_slider(ui, "Invert L", &p.stereo.invert_left, setter);
                        ui.end_row();
                        grid_slider(ui, "Low cut", &p.filters.low_cut, setter);
                        grid_slider(ui, "High cut", &p.filters.high_cut, setter);
                        grid_slider(ui, "Invert R", &p.stereo.invert_right, setter);
                        ui.end_row();
                        grid_slider(ui, "Frequency", &p.filters.low_cut_hz, setter);
                        grid_slider(ui, "Frequency", &p.filters.high_cut_hz, setter);
                        grid_slider(ui, "DC block", &p.filters.dc_block, setter);
                        ui.end_row();
                        grid_slider(ui, "Slope", &p.filters.low_cut_slope, setter);
                        grid_slider(ui, "Slope", &p.filters.high_cut_slope, setter);
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
