//! The editor shell every Lathe plugin uses: the theme, the resizable frame, a ~30 fps repaint so
//! meters keep falling while the host is quiet, and the frame time for meter ballistics. A plugin
//! only writes an [`EditorBody`].

use crate::theme;
use egui::Vec2;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, NiceEguiApp, RepaintNotifier,
};
use std::sync::Arc;
use std::time::Instant;

/// What a plugin's editor draws.
pub trait EditorBody: Send + 'static {
    /// Once per frame before drawing, with the seconds since the previous frame (0 on the first):
    /// pull published meter values into their ballistics here.
    fn update(&mut self, dt: f32) {
        let _ = dt;
    }

    /// Draws the editor's contents.
    fn draw(&mut self, ui: &mut egui::Ui, setter: &ParamSetter);
}

/// Size of an editor: the default and the smallest it may be resized to (logical pixels).
#[derive(Clone, Copy, Debug)]
pub struct EditorSize {
    pub default: (f32, f32),
    pub min: (f32, f32),
}

impl EditorSize {
    /// The editor state a plugin keeps (and persists) from construction.
    pub fn state(self) -> Arc<EguiEditorState> {
        EguiEditorState::from_size(LogicalSize::new(self.default.0, self.default.1), 1.0)
    }
}

/// The nice-plug editor app around a body.
pub struct Shell<B> {
    body: B,
    id: &'static str,
    min_size: Vec2,
    gui: Option<GuiContext>,
    last_frame: Option<Instant>,
}

/// Creates the editor for `body`, titled `title`.
pub fn create<B: EditorBody>(
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    title: &'static str,
    size: EditorSize,
    body: B,
) -> Option<EguiEditor<Shell<B>>> {
    let min = LogicalSize::new(size.min.0, size.min.1);
    create_egui_editor(
        state,
        repaint,
        EguiNiceSettings::new()
            .with_tile(title)
            .with_resize_hint(ResizeHint::resizable().with_min_logical_size(min)),
        Shell {
            body,
            id: title,
            min_size: Vec2::new(size.min.0, size.min.1),
            gui: None,
            last_frame: None,
        },
    )
}

impl<B: EditorBody> NiceEguiApp for Shell<B> {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        theme::apply(&egui_ctx);
        self.gui = Some(gui);
        Ok(())
    }

    fn editor_closed(&mut self) {
        self.gui = None;
        self.last_frame = None;
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let Some(gui) = self.gui.clone() else {
            return;
        };
        let setter = gui.param_setter();
        let now = Instant::now();
        let dt = self
            .last_frame
            .map_or(0.0, |t| now.duration_since(t).as_secs_f32());
        self.last_frame = Some(now);
        self.body.update(dt);
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(33));
        let body = &mut self.body;
        crate::plugin::editor_frame(ui, self.id, self.min_size, |ui| body.draw(ui, &setter));
    }
}

/// One row of a [`band_grid`]: a label and what to draw in band `b`'s column.
pub type BandRow<'a> = (&'a str, &'a dyn Fn(&mut egui::Ui, usize));

/// A grid of per-band controls (horizontally scrollable): a header row "Band n" in each band's
/// colour, then one row per parameter, one column per band.
pub fn band_grid(ui: &mut egui::Ui, id: &str, colours: &[egui::Color32], rows: &[BandRow]) {
    egui::ScrollArea::horizontal().id_salt(id).show(ui, |ui| {
        egui::Grid::new(id)
            .num_columns(1 + colours.len())
            .spacing(egui::vec2(8.0, 4.0))
            .show(ui, |ui| {
                ui.label("");
                for (band, colour) in colours.iter().enumerate() {
                    ui.label(
                        egui::RichText::new(format!("Band {}", band + 1))
                            .strong()
                            .color(*colour),
                    );
                }
                ui.end_row();
                for (label, cell) in rows {
                    ui.label(*label);
                    for band in 0..colours.len() {
                        cell(ui, band);
                    }
                    ui.end_row();
                }
            });
    });
}

/// A heading over a label/control column pair of a parameter grid.
pub fn grid_heading(ui: &mut egui::Ui, text: &str) {
    ui.label(egui::RichText::new(text).strong().color(theme::ACCENT));
    ui.label("");
}

/// A label and an 80-px slider for `param`: one column pair of a parameter grid.
pub fn grid_slider<P: Param>(ui: &mut egui::Ui, label: &str, param: &P, setter: &ParamSetter) {
    ui.label(label);
    ui.add(nice_plug_egui::widgets::ParamSlider::for_param(param, setter).with_width(80.0));
}
