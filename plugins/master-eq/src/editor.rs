//! Lathe Master EQ's editor: the response curve with draggable band nodes over a pre/post
//! spectrum analyzer, the mode, resolution, latency and auto gain, and the band grid.

use crate::params::{MasterEqParams, BANDS, GAIN_DB};
use crate::{Meters, ANALYZER_SIZE};
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
    min: (860.0, 560.0),
};
const CONTROL_WIDTH: f32 = 60.0;
const BAND_COLOURS: [Color32; BANDS] = [
    Color32::from_rgb(235, 90, 80),
    Color32::from_rgb(240, 150, 60),
    Color32::from_rgb(236, 206, 80),
    Color32::from_rgb(92, 200, 140),
    Color32::from_rgb(80, 160, 240),
    Color32::from_rgb(170, 120, 240),
];
const PRE_COLOUR: Color32 = Color32::from_rgb(90, 96, 110);
const POST_COLOUR: Color32 = Color32::from_rgb(150, 190, 220);

pub fn create(
    params: Arc<MasterEqParams>,
    meters: Arc<Meters>,
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
) -> Option<EguiEditor<Shell<MasterEqEditor>>> {
    lathe_ui::editor::create(
        state,
        repaint,
        "Lathe Master EQ",
        SIZE,
        MasterEqEditor {
            params,
            meters,
            pre: Analyzer::new(ANALYZER_SIZE),
            post: Analyzer::new(ANALYZER_SIZE),
            dragging: None,
        },
    )
}

pub struct MasterEqEditor {
    params: Arc<MasterEqParams>,
    meters: Arc<Meters>,
    pre: Analyzer,
    post: Analyzer,
    dragging: Option<usize>,
}

impl EditorBody for MasterEqEditor {
    fn update(&mut self, dt: f32) {
        self.pre.update(&self.meters.pre, dt);
        self.post.update(&self.meters.post, dt);
    }

    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = self.params.clone();
        let g = &p.global;
        let sample_rate = self.meters.sample_rate.load(Ordering::Relaxed);
        lathe_ui::plugin::header(ui, "LATHE MASTER EQ", &p.bypass, setter, |ui| {
            ui.add_space(16.0);
            ui.label("Mode");
            ui.add(ParamSlider::for_param(&g.mode, setter).with_width(CONTROL_WIDTH));
            ui.label("Resolution");
            ui.add(ParamSlider::for_param(&g.resolution, setter).with_width(CONTROL_WIDTH));
            let latency = self.meters.latency_samples.load(Ordering::Relaxed);
            ui.label(
                RichText::new(format!(
                    "latency {:.1} ms",
                    latency as f32 * 1000.0 / sample_rate
                ))
                .color(theme::MUTED),
            );
        });
        ui.horizontal(|ui| {
            ui.label("Output");
            ui.add(ParamSlider::for_param(&g.output, setter).with_width(CONTROL_WIDTH));
            ui.label("Auto Gain");
            ui.add(ParamSlider::for_param(&g.auto_gain, setter).with_width(CONTROL_WIDTH));
            if g.auto_gain.value() {
                let gain = self.meters.auto_gain_db.load(Ordering::Relaxed);
                ui.label(RichText::new(format!("{gain:+.2} dB")).color(theme::ACCENT));
            }
            ui.add_space(16.0);
            ui.label(RichText::new("Analyzer:").color(theme::MUTED));
            ui.label(RichText::new("pre").color(PRE_COLOUR));
            ui.label(RichText::new("post").color(POST_COLOUR));
        });
        let settings = p.settings();
        let bands = &settings.eq.bands[..BANDS];
        let available = ui.available_size();
        let size = vec2(available.x, (available.y - 230.0).max(220.0));
        let edits = lathe_ui::eqplot::show_eq(
            ui,
            size,
            sample_rate as f64,
            bands,
            (settings.eq.output_db + self.meters.auto_gain_db.load(Ordering::Relaxed)) as f64,
            GAIN_DB.1,
            &BAND_COLOURS,
            &[(&self.pre, PRE_COLOUR), (&self.post, POST_COLOUR)],
            &mut self.dragging,
        );
        let handles: Vec<NodeParams> = p
            .band
            .iter()
            .zip(bands)
            .map(|(band, s)| NodeParams {
                freq: &band.freq,
                gain: &band.gain,
                q: &band.q,
                uses_gain: s.kind.uses_gain(),
            })
            .collect();
        lathe_ui::eqplot::apply_node_edits(setter, &edits, &handles);
        ui.add_space(6.0);
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
                ("Route", cell!(route)),
            ],
        );
    }
}
