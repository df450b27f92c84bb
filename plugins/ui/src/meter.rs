//! Meters: time-based ballistics (the same speed at any frame rate), vertical level and
//! gain-reduction bars with scales, and a scrolling history plot fed lock-free from the audio
//! thread.

use crate::theme;
use atomic_float::AtomicF32;
use egui::{pos2, vec2, Align2, Color32, FontId, Rect, Sense, Stroke, Ui};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Peak-meter ballistics: instant rise, a peak hold, then a fall at a fixed rate in dB/s. All
/// times are in seconds, so the meter moves at the same speed whatever the repaint rate.
#[derive(Clone, Debug)]
pub struct Ballistics {
    /// Displayed value, dB.
    pub value_db: f32,
    /// Held peak, dB.
    pub hold_db: f32,
    hold_left_s: f32,
    /// Fall rate of the bar, dB per second.
    pub fall_db_per_s: f32,
    /// How long the peak marker holds before falling, seconds.
    pub hold_s: f32,
}

impl Default for Ballistics {
    fn default() -> Self {
        Self {
            value_db: -150.0,
            hold_db: -150.0,
            hold_left_s: 0.0,
            fall_db_per_s: 20.0,
            hold_s: 1.5,
        }
    }
}

impl Ballistics {
    /// Ballistics with the bar falling at `fall_db_per_s`.
    pub fn with_fall(fall_db_per_s: f32) -> Self {
        Self {
            fall_db_per_s,
            ..Self::default()
        }
    }

    /// Feeds the largest level seen since the last frame, `dt` seconds after the last call.
    pub fn update(&mut self, peak_db: f32, dt: f32) {
        let dt = dt.clamp(0.0, 0.5);
        self.value_db = peak_db.max(self.value_db - self.fall_db_per_s * dt);
        if peak_db >= self.hold_db {
            self.hold_db = peak_db;
            self.hold_left_s = self.hold_s;
        } else if self.hold_left_s > 0.0 {
            self.hold_left_s -= dt;
        } else {
            self.hold_db = (self.hold_db - self.fall_db_per_s * dt).max(self.value_db);
        }
    }
}

/// How a bar meter is drawn.
#[derive(Clone, Copy, Debug)]
pub struct MeterStyle {
    /// Bottom and top of the scale, dB.
    pub range_db: (f32, f32),
    /// Level above which the bar turns to the warning colour, dB.
    pub hot_db: f32,
    /// Level above which it is over, dB.
    pub over_db: f32,
}

impl Default for MeterStyle {
    fn default() -> Self {
        Self {
            range_db: (-48.0, 0.0),
            hot_db: -6.0,
            over_db: 0.0,
        }
    }
}

fn y_for(db: f32, (lo, hi): (f32, f32), rect: Rect) -> f32 {
    let t = ((db - lo) / (hi - lo)).clamp(0.0, 1.0);
    rect.bottom() - t * rect.height()
}

fn scale_ticks(ui: &Ui, rect: Rect, range: (f32, f32), step: f32) {
    let painter = ui.painter();
    let mut db = range.1;
    while db >= range.0 - 1e-3 {
        let y = y_for(db, range, rect);
        painter.line_segment(
            [pos2(rect.left() - 3.0, y), pos2(rect.left(), y)],
            Stroke::new(1.0, theme::MUTED),
        );
        painter.text(
            pos2(rect.left() - 5.0, y),
            Align2::RIGHT_CENTER,
            format!("{db:.0}"),
            FontId::proportional(9.0),
            theme::MUTED,
        );
        db -= step;
    }
}

/// A vertical level meter for one or more channels: bars from the bottom, a held-peak line, a scale
/// on the left and the held value printed above. `levels` holds (bar, hold) per channel in dB.
pub fn level_meter(
    ui: &mut Ui,
    label: &str,
    levels: &[(f32, f32)],
    style: MeterStyle,
    height: f32,
) {
    let bar_width = 9.0;
    let width = 30.0 + levels.len() as f32 * (bar_width + 3.0);
    let (rect, _) = ui.allocate_exact_size(vec2(width, height), Sense::hover());
    let painter = ui.painter();
    let meter = Rect::from_min_max(
        pos2(rect.left() + 26.0, rect.top() + 28.0),
        pos2(rect.right() - 2.0, rect.bottom() - 4.0),
    );
    painter.rect_filled(meter, 2.0, theme::PANEL);
    scale_ticks(ui, meter, style.range_db, 6.0);
    let painter = ui.painter();
    let hold_max = levels.iter().map(|l| l.1).fold(-150.0f32, f32::max);
    painter.text(
        pos2(meter.center().x, rect.top()),
        Align2::CENTER_TOP,
        label,
        FontId::proportional(11.0),
        theme::MUTED,
    );
    painter.text(
        pos2(meter.center().x, rect.top() + 13.0),
        Align2::CENTER_TOP,
        if hold_max <= -150.0 {
            "-inf".to_string()
        } else {
            format!("{hold_max:.1}")
        },
        FontId::monospace(11.0),
        if hold_max > style.over_db {
            theme::OVER
        } else {
            theme::TEXT
        },
    );
    for (i, &(value, hold)) in levels.iter().enumerate() {
        let x = meter.left() + 2.0 + i as f32 * (bar_width + 3.0);
        let column = Rect::from_min_max(pos2(x, meter.top()), pos2(x + bar_width, meter.bottom()));
        let colour = if value > style.over_db {
            theme::OVER
        } else if value > style.hot_db {
            theme::LEVEL_HOT
        } else {
            theme::LEVEL
        };
        let top = y_for(value, style.range_db, column);
        painter.rect_filled(
            Rect::from_min_max(pos2(column.left(), top), column.right_bottom()),
            1.0,
            colour,
        );
        if hold > style.range_db.0 {
            let y = y_for(hold, style.range_db, column);
            painter.line_segment(
                [pos2(column.left(), y), pos2(column.right(), y)],
                Stroke::new(
                    2.0,
                    if hold > style.over_db {
                        theme::OVER
                    } else {
                        theme::TEXT
                    },
                ),
            );
        }
    }
}

/// A gain-reduction bar growing down from 0 dB, with the held maximum printed above.
pub fn gain_reduction_meter(
    ui: &mut Ui,
    reduction_db: f32,
    hold_db: f32,
    range_db: f32,
    height: f32,
) {
    let (rect, _) = ui.allocate_exact_size(vec2(46.0, height), Sense::hover());
    let meter = Rect::from_min_max(
        pos2(rect.left() + 26.0, rect.top() + 28.0),
        pos2(rect.right() - 4.0, rect.bottom() - 4.0),
    );
    let range = (-range_db, 0.0);
    ui.painter().rect_filled(meter, 2.0, theme::PANEL);
    scale_ticks(ui, meter, range, 3.0);
    let painter = ui.painter();
    painter.text(
        pos2(meter.center().x, rect.top()),
        Align2::CENTER_TOP,
        "GR",
        FontId::proportional(11.0),
        theme::MUTED,
    );
    painter.text(
        pos2(meter.center().x, rect.top() + 13.0),
        Align2::CENTER_TOP,
        format!("{:.1}", -hold_db.abs()),
        FontId::monospace(11.0),
        theme::TEXT,
    );
    let bottom = y_for(-reduction_db.abs(), range, meter);
    painter.rect_filled(
        Rect::from_min_max(meter.left_top(), pos2(meter.right(), bottom)),
        1.0,
        theme::REDUCTION,
    );
    let y = y_for(-hold_db.abs(), range, meter);
    painter.line_segment(
        [pos2(meter.left(), y), pos2(meter.right(), y)],
        Stroke::new(2.0, theme::TEXT),
    );
}

/// A fixed-size ring of values written by the audio thread and read by the editor, lock-free. One
/// writer; readers may see a value being overwritten, which a meter can live with.
pub struct SharedHistory {
    values: Box<[AtomicF32]>,
    /// Total number of values ever pushed.
    written: AtomicUsize,
}

impl SharedHistory {
    pub fn new(len: usize, initial: f32) -> Self {
        Self {
            values: (0..len.max(1)).map(|_| AtomicF32::new(initial)).collect(),
            written: AtomicUsize::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends a value (audio thread; wait-free, no allocation).
    pub fn push(&self, value: f32) {
        let n = self.written.load(Ordering::Relaxed);
        self.values[n % self.values.len()].store(value, Ordering::Relaxed);
        self.written.store(n + 1, Ordering::Release);
    }

    /// Copies the history, oldest first, into `out` (editor thread).
    pub fn read_into(&self, out: &mut Vec<f32>) {
        out.clear();
        let n = self.written.load(Ordering::Acquire);
        let len = self.values.len();
        for i in 0..len {
            out.push(self.values[(n + i) % len].load(Ordering::Relaxed));
        }
    }
}

/// A scrolling plot of `values` (oldest first) in dB, newest at the right. `fill_from_top` draws
/// reduction-style (hanging from 0 dB); otherwise a filled level curve from the bottom.
pub fn history_plot(
    ui: &mut Ui,
    values: &[f32],
    range_db: (f32, f32),
    fill_from_top: bool,
    colour: Color32,
    size: egui::Vec2,
) {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let plot = Rect::from_min_max(pos2(rect.left() + 26.0, rect.top()), rect.right_bottom());
    ui.painter().rect_filled(plot, 2.0, theme::PANEL);
    let painter = ui.painter();
    let mut db = range_db.1;
    let step = if range_db.1 - range_db.0 > 30.0 {
        6.0
    } else {
        3.0
    };
    while db >= range_db.0 {
        let y = y_for(db, range_db, plot);
        painter.line_segment(
            [pos2(plot.left(), y), pos2(plot.right(), y)],
            Stroke::new(1.0, theme::GRID),
        );
        painter.text(
            pos2(plot.left() - 4.0, y),
            Align2::RIGHT_CENTER,
            format!("{db:.0}"),
            FontId::proportional(9.0),
            theme::MUTED,
        );
        db -= step;
    }
    if values.len() < 2 {
        return;
    }
    let dx = plot.width() / (values.len() - 1) as f32;
    let anchor = if fill_from_top {
        plot.top()
    } else {
        plot.bottom()
    };
    for (i, pair) in values.windows(2).enumerate() {
        let x0 = plot.left() + i as f32 * dx;
        let y0 = y_for(pair[0], range_db, plot);
        let y1 = y_for(pair[1], range_db, plot);
        let quad = vec![
            pos2(x0, anchor),
            pos2(x0, y0),
            pos2(x0 + dx, y1),
            pos2(x0 + dx, anchor),
        ];
        painter.add(egui::Shape::convex_polygon(
            quad,
            colour.gamma_multiply(0.45),
            Stroke::NONE,
        ));
        painter.line_segment([pos2(x0, y0), pos2(x0 + dx, y1)], Stroke::new(1.5, colour));
    }
}

/// A labelled gain-reduction history ("Gain reduction, last 6 s"), filled down from 0 dB.
pub fn reduction_history(
    ui: &mut Ui,
    values: &[f32],
    seconds: f32,
    range_db: f32,
    size: egui::Vec2,
) {
    ui.vertical(|ui| {
        ui.label(
            egui::RichText::new(format!("Gain reduction, last {seconds:.0} s")).color(theme::MUTED),
        );
        history_plot(
            ui,
            values,
            (-range_db, 0.0),
            true,
            theme::REDUCTION,
            vec2(size.x, size.y - 18.0),
        );
    });
}

/// The distance of an integrated loudness from a target, said plainly ("2.3 LU louder than −14
/// LUFS"), with its colour: the level colour within ±0.5 LU, the hot colour beyond.
pub fn target_distance(integrated: f32, target_lufs: f64) -> (String, Color32) {
    if !integrated.is_finite() {
        return ("measuring…".to_string(), theme::MUTED);
    }
    let distance = integrated as f64 - target_lufs;
    let colour = if distance.abs() <= 0.5 {
        theme::LEVEL
    } else {
        theme::LEVEL_HOT
    };
    let text = if distance.abs() < 0.05 {
        format!("on target ({target_lufs} LUFS)")
    } else if distance > 0.0 {
        format!("{distance:.1} LU louder than {target_lufs} LUFS")
    } else {
        format!("{:.1} LU quieter than {target_lufs} LUFS", -distance)
    };
    (text, colour)
}

/// Raises `meter` to the block's peak of `samples` (the audio thread's side of a peak meter;
/// the editor swaps it back to 0 when it reads it).
pub fn raise_peak(meter: &AtomicF32, samples: &[f32]) {
    let peak = samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if peak > meter.load(Ordering::Relaxed) {
        meter.store(peak, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballistics_fall_at_the_set_rate_whatever_the_frame_rate() {
        for frames_per_second in [30.0f32, 60.0, 144.0] {
            let mut meter = Ballistics::default();
            meter.update(0.0, 0.0);
            let dt = 1.0 / frames_per_second;
            for _ in 0..(frames_per_second as usize) {
                meter.update(-150.0, dt);
            }
            // One second at 20 dB/s.
            assert!(
                (meter.value_db + 20.0).abs() < 0.5,
                "{frames_per_second}: {}",
                meter.value_db
            );
        }
    }

    #[test]
    fn history_reads_oldest_first() {
        let history = SharedHistory::new(4, 0.0);
        for v in 1..=6 {
            history.push(v as f32);
        }
        let mut out = Vec::new();
        history.read_into(&mut out);
        assert_eq!(out, vec![3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn target_distance_is_said_plainly() {
        assert_eq!(
            target_distance(-5.3, -14.0).0,
            "8.7 LU louder than -14 LUFS"
        );
        assert_eq!(
            target_distance(-16.04, -14.0).0,
            "2.0 LU quieter than -14 LUFS"
        );
        assert_eq!(target_distance(-14.04, -14.0).0, "on target (-14 LUFS)");
        assert_eq!(target_distance(-14.4, -14.0).1, theme::LEVEL);
        assert_eq!(target_distance(-13.4, -14.0).1, theme::LEVEL_HOT);
        assert_eq!(target_distance(f32::NEG_INFINITY, -23.0).0, "measuring…");
    }
}
