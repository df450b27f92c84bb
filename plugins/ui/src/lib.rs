//! Widgets and parameter helpers shared by every Lathe plugin's editor: level and gain-reduction
//! meters with ballistics, history plots, labelled parameter rows, and the value formatters that
//! give parameters their units and text entry ("-3 dB", "250 ms", "1.5 s", "50 %").

pub mod editor;
pub mod eqparams;
pub mod eqplot;
pub mod format;
pub mod meter;
pub mod params;
pub mod plugin;
pub mod scope;
pub mod theme;
pub mod transfer;

pub use meter::{
    gain_reduction_meter, history_plot, level_meter, reduction_history, Ballistics, MeterStyle,
    SharedHistory,
};
pub use transfer::transfer_curve;
