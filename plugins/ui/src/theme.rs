//! Colours and text styles shared by the editors, so every Lathe plugin looks like one product.

use egui::{Color32, Context, Visuals};

pub const BACKGROUND: Color32 = Color32::from_rgb(24, 26, 31);
pub const PANEL: Color32 = Color32::from_rgb(33, 36, 43);
pub const GRID: Color32 = Color32::from_rgb(58, 62, 72);
pub const TEXT: Color32 = Color32::from_rgb(214, 218, 226);
pub const MUTED: Color32 = Color32::from_rgb(140, 146, 160);
pub const ACCENT: Color32 = Color32::from_rgb(242, 166, 60);
pub const LEVEL: Color32 = Color32::from_rgb(92, 200, 140);
pub const LEVEL_HOT: Color32 = Color32::from_rgb(236, 200, 80);
pub const OVER: Color32 = Color32::from_rgb(235, 80, 70);
pub const REDUCTION: Color32 = Color32::from_rgb(226, 110, 60);

/// Applies the Lathe look to an egui context.
pub fn apply(ctx: &Context) {
    let mut visuals = Visuals::dark();
    visuals.panel_fill = BACKGROUND;
    visuals.window_fill = PANEL;
    visuals.extreme_bg_color = PANEL;
    visuals.override_text_color = Some(TEXT);
    visuals.selection.bg_fill = ACCENT.gamma_multiply(0.6);
    ctx.set_visuals(visuals);
}
