//! Lathe EQ's editor: the response curve with draggable band nodes over a pre/post spectrum
//! analyzer, and every band's parameters in a grid below (editable by text).

use crate::params::EqParams;
use crate::{Meters, ANALYZER_SIZE};
use dsp_core::eq::{range, MAX_BANDS};
use egui::{vec2, Color32, RichText};
use lathe_ui::editor::{EditorBody, EditorSize, Shell};
use lathe_ui::eqplot::{Analyzer, NodeParams};
use lathe_ui::theme;
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{EguiEditor, EguiEditorState, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub const SIZE: EditorSize = EditorSize {
    default: (1000.0, 640.0),
    min: (900.0, 560.0),
};
const CONTROL_WIDTH: f32 = 56.0;
pub const BAND_COLOURS: [Color32; MAX_BANDS] = [
    Color32::from_rgb(235, 90, 80),
    Color32::from_rgb(240, 150, 60),
    Color32::from_rgb(236, 206, 80),
    Color32::from_rgb(130, 210, 90),
    Color32::from_rgb(70, 200, 170),
    Color32::from_rgb(80, 160, 240),
    Color32::from_rgb(150, 120, 240),
    Color32::from_rgb(220, 110, 200),
];
const PRE_COLOUR: Color32 = Color32::from_rgb(90, 96, 110);
const POST_COLOUR: Color32 = Color32::from_rgb(150, 190, 220);

pub fn create(
    params: Arc<EqParams>,
    meters: Arc<Meters>,
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
) -> Option<EguiEditor<Shell<EqEditor>>> {
    lathe_ui::editor::create(
        state,
        repaint,
        "Lathe EQ",
        SIZE,
        EqEditor {
            params,
            meters,
            pre: Analyzer::new(ANALYZER_SIZE),
            post: Analyzer::new(ANALYZER_SIZE),
            dragging: None,
        },
    )
}

pub struct EqEditor {
    params: Arc<EqParams>,
    meters: Arc<Meters>,
    pre: Analyzer,
    post: Analyzer,
    dragging: Option<usize>,
}

impl EditorBody for EqEditor {
    fn update(&mut self, dt: f32) {
        self.pre.update(&self.meters.pre, dt);
        self.post.update(&self.meters.post, dt);
    }

    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = self.params.clone();
        lathe_ui::plugin::header(ui, "LATHE EQ", &p.bypass, setter, |ui| {
            ui.add_space(16.0);
            ui.label("Output");
            ui.add(ParamSlider::for_param(&p.global.output, setter).with_width(CONTROL_WIDTH));
            ui.add_space(16.0);
            ui.label(RichText::new("Analyzer:").color(theme::MUTED));
            ui.label(RichText::new("pre").color(PRE_COLOUR));
            ui.label(RichText::new("post").color(POST_COLOUR));
        });
        let sample_rate = self.meters.sample_rate.load(Ordering::Relaxed) as f64;
        let settings = p.settings();
        let available = ui.available_size();
        let size = vec2(available.x, (available.y - 250.0).max(220.0));
        let edits = lathe_ui::eqplot::show_eq(
            ui,
            size,
            sample_rate,
            &settings.bands,
            settings.output_db as f64,
            range::GAIN_DB.1,
            &BAND_COLOURS,
            &[(&self.pre, PRE_COLOUR), (&self.post, POST_COLOUR)],
            &mut self.dragging,
        );
        let handles: Vec<NodeParams> = p
            .band
            .iter()
            .zip(&settings.bands)
            .map(|(band, s)| NodeParams {
                freq: &band.freq,
                gain: &band.gain,
                q: &band.q,
                uses_gain: s.kind.uses_gain(),
            })
            .collect();
        lathe_ui::eqplot::apply_node_edits(setter, &edits, &handles);
        ui.add_space(6.0);
        self.controls(ui, setter);
    }
}

impl EqEditor {
    fn controls(&self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = &self.params;
        macro_rules! cell {
            ($field:ident) => {
                &|ui: &mut egui::Ui, b: usize| {
                    ui.add(
                        ParamSlider::for_param(&p.band[b].$field, setter).with_width(CONTROL_WIDTH),
                    );
                }
            };
        }
        lathe_ui::editor::band_grid(
            ui,
            "bands",
            &BAND_COLOURS,
            &[
                ("On", cell!(enabled)),
                ("Type", cell!(kind)),
                ("Frequency", cell!(freq)),
                ("Gain", cell!(gain)),
                ("Q", cell!(q)),
                ("Slope", cell!(slope)),
                ("Shape", cell!(shape)),
                ("Route", cell!(route)),
            ],
        );
    }
}
