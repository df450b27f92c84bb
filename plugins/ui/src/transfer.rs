//! The transfer curve of a compressor: output level against input level in dB, with the unity
//! line, the threshold, and a dot at the current detector level.

use crate::theme;
use egui::{pos2, Align2, Color32, FontId, Rect, Sense, Stroke, Ui};

/// Draws `output_db(input_db)` over `range_db` on both axes, with a dot at `level_db` when it is
/// inside the range. `threshold_db` is marked with a dashed vertical line.
pub fn transfer_curve(
    ui: &mut Ui,
    size: egui::Vec2,
    range_db: (f32, f32),
    threshold_db: f32,
    output_db: impl Fn(f32) -> f32,
    level_db: Option<f32>,
) {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let plot = Rect::from_min_max(
        pos2(rect.left() + 26.0, rect.top() + 2.0),
        pos2(rect.right() - 2.0, rect.bottom() - 16.0),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(plot, 2.0, theme::PANEL);
    let span = range_db.1 - range_db.0;
    let x_for = |db: f32| plot.left() + (db - range_db.0) / span * plot.width();
    let y_for =
        |db: f32| plot.bottom() - ((db - range_db.0) / span).clamp(0.0, 1.0) * plot.height();
    let mut db = range_db.0;
    while db <= range_db.1 {
        let (x, y) = (x_for(db), y_for(db));
        painter.line_segment(
            [pos2(x, plot.top()), pos2(x, plot.bottom())],
            Stroke::new(1.0, theme::GRID),
        );
        painter.line_segment(
            [pos2(plot.left(), y), pos2(plot.right(), y)],
            Stroke::new(1.0, theme::GRID),
        );
        let label = format!("{db:.0}");
        painter.text(
            pos2(plot.left() - 4.0, y),
            Align2::RIGHT_CENTER,
            &label,
            FontId::proportional(9.0),
            theme::MUTED,
        );
        painter.text(
            pos2(x, plot.bottom() + 2.0),
            Align2::CENTER_TOP,
            label,
            FontId::proportional(9.0),
            theme::MUTED,
        );
        db += 12.0;
    }
    // Unity (no compression) and the threshold.
    painter.line_segment(
        [
            pos2(x_for(range_db.0), y_for(range_db.0)),
            pos2(x_for(range_db.1), y_for(range_db.1)),
        ],
        Stroke::new(1.0, theme::MUTED.gamma_multiply(0.6)),
    );
    let tx = x_for(threshold_db);
    let mut y = plot.top();
    while y < plot.bottom() {
        painter.line_segment(
            [pos2(tx, y), pos2(tx, (y + 4.0).min(plot.bottom()))],
            Stroke::new(1.0, theme::ACCENT.gamma_multiply(0.6)),
        );
        y += 8.0;
    }
    let steps = plot.width().max(2.0) as usize;
    let points: Vec<_> = (0..=steps)
        .map(|i| {
            let input = range_db.0 + span * i as f32 / steps as f32;
            pos2(x_for(input), y_for(output_db(input)))
        })
        .collect();
    painter.add(egui::Shape::line(points, Stroke::new(2.0, theme::ACCENT)));
    if let Some(level) = level_db.filter(|l| (range_db.0..=range_db.1).contains(l)) {
        let centre = pos2(x_for(level), y_for(output_db(level)));
        painter.circle_filled(centre, 5.0, theme::LEVEL);
        painter.circle_stroke(centre, 5.0, Stroke::new(1.0, Color32::BLACK));
    }
}
