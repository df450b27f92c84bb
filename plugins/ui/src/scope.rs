//! Stereo displays: a lock-free ring of sample pairs for the vectorscope, the vectorscope itself
//! (Lissajous or polar) and a correlation meter.

use crate::theme;
use egui::{pos2, vec2, Align2, Color32, FontId, Rect, Sense, Stroke, Ui};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// Stereo sample pairs written by the audio thread, read by the editor; lock-free and
/// allocation-free after construction. One writer.
pub struct SharedScope {
    left: Box<[AtomicU32]>,
    right: Box<[AtomicU32]>,
    written: AtomicUsize,
}

impl SharedScope {
    pub fn new(len: usize) -> Self {
        let ring = |n: usize| (0..n.max(1)).map(|_| AtomicU32::new(0)).collect();
        Self {
            left: ring(len),
            right: ring(len),
            written: AtomicUsize::new(0),
        }
    }

    /// Appends every `step`-th pair of a block (audio thread).
    pub fn push_block(&self, left: &[f32], right: &[f32], step: usize) {
        let len = self.left.len();
        let mut n = self.written.load(Ordering::Relaxed);
        for (l, r) in left.iter().zip(right).step_by(step.max(1)) {
            self.left[n % len].store(l.to_bits(), Ordering::Relaxed);
            self.right[n % len].store(r.to_bits(), Ordering::Relaxed);
            n += 1;
        }
        self.written.store(n, Ordering::Release);
    }

    /// Copies the ring, oldest first, into `out` (editor thread).
    pub fn read_into(&self, out: &mut Vec<(f32, f32)>) {
        out.clear();
        let n = self.written.load(Ordering::Acquire);
        let len = self.left.len();
        for i in 0..len {
            let k = (n + i) % len;
            out.push((
                f32::from_bits(self.left[k].load(Ordering::Relaxed)),
                f32::from_bits(self.right[k].load(Ordering::Relaxed)),
            ));
        }
    }
}

/// How the vectorscope draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeMode {
    /// Mid up, side across (the classic goniometer).
    Lissajous,
    /// Each pair as a ray in a half circle: angle = stereo position, length = level.
    Polar,
}

/// A square vectorscope of `points` (oldest first), auto-scaled to their peak.
pub fn vectorscope(ui: &mut Ui, points: &[(f32, f32)], mode: ScopeMode, size: f32) {
    let (rect, _) = ui.allocate_exact_size(vec2(size, size), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, theme::PANEL);
    let centre = match mode {
        ScopeMode::Lissajous => rect.center(),
        ScopeMode::Polar => pos2(rect.center().x, rect.bottom() - 6.0),
    };
    let radius = match mode {
        ScopeMode::Lissajous => rect.width() * 0.46,
        ScopeMode::Polar => rect.width() * 0.48,
    };
    let grid = Stroke::new(1.0, theme::GRID);
    match mode {
        ScopeMode::Lissajous => {
            painter.line_segment(
                [centre - vec2(0.0, radius), centre + vec2(0.0, radius)],
                grid,
            );
            painter.line_segment(
                [centre - vec2(radius, 0.0), centre + vec2(radius, 0.0)],
                grid,
            );
            let d = radius * std::f32::consts::FRAC_1_SQRT_2;
            painter.line_segment([centre + vec2(-d, -d), centre + vec2(d, d)], grid);
            painter.line_segment([centre + vec2(d, -d), centre + vec2(-d, d)], grid);
        }
        ScopeMode::Polar => {
            for angle in [0.0f32, 45.0, 90.0, 135.0, 180.0] {
                let a = angle.to_radians();
                painter.line_segment([centre, centre + vec2(-a.cos(), -a.sin()) * radius], grid);
            }
        }
    }
    let label = |text: &str, pos, align| {
        painter.text(pos, align, text, FontId::proportional(10.0), theme::MUTED)
    };
    label("L", rect.left_top() + vec2(4.0, 2.0), Align2::LEFT_TOP);
    label("R", rect.right_top() + vec2(-4.0, 2.0), Align2::RIGHT_TOP);
    let peak = points
        .iter()
        .fold(1e-6f32, |m, &(l, r)| m.max(l.abs()).max(r.abs()));
    let scale = radius / (peak * std::f32::consts::SQRT_2);
    let dot = Color32::from_rgba_unmultiplied(92, 200, 140, 90);
    for &(l, r) in points {
        let mid = (l + r) * std::f32::consts::FRAC_1_SQRT_2;
        let side = (r - l) * std::f32::consts::FRAC_1_SQRT_2;
        let pos = match mode {
            ScopeMode::Lissajous => centre + vec2(side, -mid) * scale,
            ScopeMode::Polar => {
                // Fold out-of-phase content into the upper half plane.
                let (mid, side) = if mid < 0.0 {
                    (-mid, -side)
                } else {
                    (mid, side)
                };
                centre + vec2(side, -mid) * scale
            }
        };
        if rect.contains(pos) {
            painter.rect_filled(Rect::from_center_size(pos, vec2(1.5, 1.5)), 0.0, dot);
        }
    }
}

/// A horizontal correlation bar from −1 to +1 with its value printed.
pub fn correlation_meter(ui: &mut Ui, label: &str, value: f32, width: f32) {
    let (rect, _) = ui.allocate_exact_size(vec2(width, 16.0), Sense::hover());
    let painter = ui.painter();
    let bar = Rect::from_min_max(
        pos2(rect.left() + 46.0, rect.top() + 3.0),
        pos2(rect.right() - 40.0, rect.bottom() - 3.0),
    );
    painter.text(
        pos2(rect.left(), rect.center().y),
        Align2::LEFT_CENTER,
        label,
        FontId::proportional(11.0),
        theme::MUTED,
    );
    painter.rect_filled(bar, 2.0, theme::PANEL);
    let x_of = |v: f32| bar.left() + (v.clamp(-1.0, 1.0) + 1.0) * 0.5 * bar.width();
    let zero = x_of(0.0);
    let x = x_of(value);
    let colour = if value < 0.0 {
        theme::OVER
    } else {
        theme::LEVEL
    };
    painter.rect_filled(
        Rect::from_min_max(
            pos2(zero.min(x), bar.top()),
            pos2(zero.max(x), bar.bottom()),
        ),
        1.0,
        colour,
    );
    painter.line_segment(
        [pos2(zero, bar.top() - 2.0), pos2(zero, bar.bottom() + 2.0)],
        Stroke::new(1.0, theme::GRID),
    );
    painter.text(
        pos2(rect.right(), rect.center().y),
        Align2::RIGHT_CENTER,
        format!("{value:+.2}"),
        FontId::monospace(11.0),
        theme::TEXT,
    );
}
