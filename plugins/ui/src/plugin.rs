//! What every Lathe plugin declares the same way: vendor details, the stereo-or-mono layout, the
//! bypass parameter and the editor's resizable frame.

use egui::Vec2;
use nice_plug::prelude::*;
use nice_plug_egui::resizable_window::ResizableWindow;
use std::num::NonZeroU32;

pub const VENDOR: &str = "Lathe";
pub const URL: &str = "https://lathe.audio";
pub const EMAIL: &str = "dev@lathe.audio";

/// Stereo in/out, or mono in/out where a host asks for it.
pub const STEREO_OR_MONO: &[AudioIOLayout] = &[
    AudioIOLayout {
        main_input_channels: NonZeroU32::new(2),
        main_output_channels: NonZeroU32::new(2),
        ..AudioIOLayout::const_default()
    },
    AudioIOLayout {
        main_input_channels: NonZeroU32::new(1),
        main_output_channels: NonZeroU32::new(1),
        ..AudioIOLayout::const_default()
    },
];

/// Stereo in/out only (processors that work on the stereo image).
pub const STEREO: &[AudioIOLayout] = &[AudioIOLayout {
    main_input_channels: NonZeroU32::new(2),
    main_output_channels: NonZeroU32::new(2),
    ..AudioIOLayout::const_default()
}];

/// The bypass parameter hosts map their bypass button to.
pub fn bypass_param() -> BoolParam {
    BoolParam::new("Bypass", false)
        .with_value_to_string(formatters::v2s_bool_bypass())
        .with_string_to_value(formatters::s2v_bool_bypass())
        .make_bypass()
}

/// The editor body: a resizable window (corner handle) with a 10 px margin.
pub fn editor_frame(
    ui: &mut egui::Ui,
    id: &str,
    min_size: Vec2,
    contents: impl FnOnce(&mut egui::Ui),
) {
    ResizableWindow::new(id).min_size(min_size).show(ui, |ui| {
        egui::Frame::new()
            .inner_margin(egui::Margin::same(10))
            .show(ui, contents);
    });
}

/// The title row every editor starts with: the plugin name and its bypass switch.
pub fn header(
    ui: &mut egui::Ui,
    title: &str,
    bypass: &BoolParam,
    setter: &ParamSetter,
    extra: impl FnOnce(&mut egui::Ui),
) {
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(title)
                .strong()
                .size(16.0)
                .color(crate::theme::ACCENT),
        );
        ui.add_space(24.0);
        ui.label("Bypass");
        ui.add(nice_plug_egui::widgets::ParamSlider::for_param(bypass, setter).with_width(60.0));
        extra(ui);
    });
    ui.separator();
}

/// The parts of `impl Plugin` that every Lathe plugin writes the same way: name, vendor details,
/// version, sample-accurate automation, no SysEx or background tasks, and `params()` / `editor()`
/// for a plugin struct with the fields `params`, `meters`, `editor_state` and `repaint` and an
/// `editor::create(params, meters, state, repaint)` function.
#[macro_export]
macro_rules! plugin_common {
    ($name:literal) => {
        const NAME: &'static str = $name;
        const VENDOR: &'static str = $crate::plugin::VENDOR;
        const URL: &'static str = $crate::plugin::URL;
        const EMAIL: &'static str = $crate::plugin::EMAIL;
        const VERSION: &'static str = env!("CARGO_PKG_VERSION");
        const SAMPLE_ACCURATE_AUTOMATION: bool = true;

        type SysExMessage = ();
        type BackgroundTask = ();

        fn params(&self) -> std::sync::Arc<dyn Params> {
            self.params.clone()
        }

        fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
            editor::create(
                self.params.clone(),
                self.meters.clone(),
                self.editor_state.clone(),
                self.repaint.clone(),
            )
        }
    };
}
