//! Loudness targets and the search for the gain that meets one.

use anyhow::{bail, Result};

/// Where the integrated loudness should land, and the true-peak ceiling that goes with it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    pub lufs: f64,
    pub ceiling: f64,
}

/// Named targets (the platforms' published normalisation levels).
pub const NAMED: &[(&str, f64, f64)] = &[
    ("spotify", -14.0, -1.0),
    ("apple", -16.0, -1.0),
    ("youtube", -14.0, -1.0),
    ("amazon", -14.0, -2.0),
    ("tidal", -14.0, -1.0),
    ("deezer", -15.0, -1.0),
    ("ebu", -23.0, -1.0),
    ("atsc", -24.0, -2.0),
];

impl Target {
    /// `spotify`, `apple`, … or a number in LUFS (ceiling −1 dBTP).
    pub fn parse(text: &str) -> Result<Self> {
        let key = text.trim().to_ascii_lowercase();
        if let Some(&(_, lufs, ceiling)) = NAMED.iter().find(|t| t.0 == key) {
            return Ok(Self { lufs, ceiling });
        }
        let number = key.trim_end_matches("lufs").trim();
        match number.parse::<f64>() {
            Ok(lufs) if (-60.0..=0.0).contains(&lufs) => Ok(Self {
                lufs,
                ceiling: -1.0,
            }),
            Ok(lufs) => bail!("target {lufs} LUFS is outside −60..0 LUFS"),
            Err(_) => bail!(
                "unknown target '{text}': use {} or a level in LUFS such as -14",
                NAMED.iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// How close the search gets before it stops, LU: well inside the promised ±0.1 LU, so that
/// dither and rounding cannot push the written file out.
pub const TOLERANCE: f64 = 0.03;
/// Furthest the search goes above the gain that would meet the target without limiting, dB.
const MAX_EXTRA_GAIN: f64 = 30.0;
const MAX_EVALUATIONS: usize = 16;
/// LU per dB assumed for the first step (see [`find_gain`]).
const FIRST_SLOPE: f64 = 0.5;

/// Result of a gain search.
#[derive(Clone, Copy, Debug)]
pub struct Found {
    pub gain_db: f64,
    pub evaluations: usize,
    /// LU per dB near the result (the last secant, or the first step's assumption).
    pub slope: f64,
}

/// How a gain search stops and where it starts.
#[derive(Clone, Copy, Debug)]
pub struct Search {
    /// It stops at an evaluation this close to the target, LU.
    pub tolerance: f64,
    /// As soon as an evaluation is this close (≥ `tolerance`) and the slope is measured (not
    /// the first step's assumption), it returns the next step's gain unevaluated: for a caller
    /// that renders and measures that gain anyway (and corrects a miss along `slope`), which
    /// saves a render.
    pub within: f64,
    /// Where to start, with the slope there (an earlier search's answer); by default at
    /// `target − unlimited`.
    pub from: Option<Found>,
}

impl Search {
    /// Stops within [`TOLERANCE`] at an evaluation, or predicts from within `within`.
    pub fn within(within: f64) -> Self {
        Self {
            tolerance: TOLERANCE,
            within: within.max(TOLERANCE),
            from: None,
        }
    }
}

/// Finds the gain that makes `loudness_at(gain)` (the integrated loudness after the limiter,
/// which rises monotonically with the gain and flattens as limiting deepens) equal to `target`.
/// Starts from `target − unlimited` (right when nothing limits) or `search.from`, then secant
/// steps kept inside a bracket, bisecting when a step would leave it; stops as [`Search`] says.
pub fn find_gain(
    unlimited: f64,
    target: f64,
    search: Search,
    mut loudness_at: impl FnMut(f64) -> Result<f64>,
) -> Result<Found> {
    if !unlimited.is_finite() {
        bail!("the programme is silent (below the −70 LUFS gate); no gain can reach {target} LUFS");
    }
    let Search {
        tolerance,
        within,
        from,
    } = search;
    let first = target - unlimited;
    let max_gain = first + MAX_EXTRA_GAIN;
    let mut lo: Option<(f64, f64)> = None; // (gain, error < 0)
    let mut hi: Option<(f64, f64)> = None; // (gain, error > 0)
    let mut last: Option<(f64, f64)> = None;
    // The first evaluation falls short by exactly the loudness the limiter took. Where it took
    // some, the loudness rises well under 1 dB per dB (0.3–0.55 on the test material and the
    // bench): a step at half a dB per dB then usually passes the target and brackets it, where
    // a unit step would creep up on it from below, one secant at a time.
    let (mut gain, mut slope) =
        from.map_or((first, FIRST_SLOPE), |f| (f.gain_db.min(max_gain), f.slope));
    // Whether `slope` was measured (a secant, or handed on by an earlier search) rather than
    // assumed: only then does `within` predict from it.
    let mut slope_measured = from.is_some();
    for evaluation in 1..=MAX_EVALUATIONS {
        let loudness = loudness_at(gain)?;
        let error = loudness - target;
        // Secant through the last two points (the first step as above).
        if let Some((g, e)) = last {
            if (gain - g).abs() > 1e-9 {
                slope = ((error - e) / (gain - g)).clamp(0.02, 1.5);
                slope_measured = true;
            }
        }
        if error.abs() <= tolerance {
            return Ok(Found {
                gain_db: gain,
                evaluations: evaluation,
                slope,
            });
        }
        if error < 0.0 {
            if gain >= max_gain {
                bail!(
                    "target {target:.1} LUFS cannot be reached at this ceiling: {:.1} LUFS at {gain:+.1} dB of gain, {MAX_EXTRA_GAIN:.0} dB into the limiter",
                    loudness
                );
            }
            lo = Some((gain, error));
        } else {
            hi = Some((gain, error));
        }
        last = Some((gain, error));
        let mut next = gain - error / slope;
        match (lo, hi) {
            (Some((a, _)), Some((b, _))) if !(next > a.min(b) && next < a.max(b)) => {
                next = 0.5 * (a + b);
            }
            _ => {}
        }
        gain = next.min(max_gain);
        if slope_measured && error.abs() <= within {
            return Ok(Found {
                gain_db: gain,
                evaluations: evaluation,
                slope,
            });
        }
    }
    bail!("the loudness search did not settle within {MAX_EVALUATIONS} passes")
}

/// Gains a pass of estimates tries at once.
pub const LANES: usize = dsp_core::GAIN_LANES;
/// The first pass of estimates, dB above the gain that meets the target without limiting: dense
/// where answers usually lie (the loudness rises 0.3–0.55 LU per dB where a limiter works on
/// the test material and the bench, so 1–5 dB up), reaching 12 dB.
const FIRST_LANES: [f64; LANES] = [0.0, 0.75, 1.5, 2.5, 3.75, 5.5, 8.0, 12.0];
/// Steps beyond the furthest gain tried when no estimate reached the target (below the lowest
/// when every one passed it), dB.
const FURTHER_LANES: [f64; LANES] = [1.0, 2.0, 3.5, 5.0, 7.0, 10.0, 14.0, 19.0];
/// Gains around the target this close together, dB, are close enough to interpolate between:
/// the curve bends by at most a few tenths of a LU per dB per dB, so a cubic through four
/// estimates this far apart is off by well under a thousandth of a LU.
const FINE_SPACING: f64 = 0.6;
const MAX_LANE_PASSES: usize = 6;
/// How far two cubics through neighbouring estimates may disagree on the root, LU, for one of
/// them to be the answer without a closer pass.
const INTERPOLATION_TOLERANCE: f64 = 0.002;
/// An estimate this close to the target, LU, is the answer as it stands.
const ESTIMATE_TOLERANCE: f64 = 0.005;

/// What [`find_gain_estimating`] asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Evaluation<'a> {
    /// Estimates of the loudness at these gains: cheaper than a measurement (all of them
    /// together about the cost of one estimate), off by a few hundredths of a LU.
    Estimates(&'a [f64; LANES]),
    /// A measurement at one gain.
    Measure(f64),
}

/// The gain where estimates of the loudness meet `target`, from passes of [`LANES`] gains:
/// the first spread above `target − unlimited`, the next ones spread evenly inside the
/// bracket the earlier ones found (or beyond them, when they did not reach or all passed the
/// target), until estimates [`FINE_SPACING`] apart bracket it, or until cubics through the
/// estimates around the bracket agree on the root ([`INTERPOLATION_TOLERANCE`]). Usually one
/// pass on smooth programme, two where limiting sets in abruptly. The slope handed on is the
/// bracket's secant.
pub fn find_gain_lanes(
    unlimited: f64,
    target: f64,
    mut estimates: impl FnMut(&[f64; LANES]) -> Result<[f64; LANES]>,
) -> Result<Found> {
    if !unlimited.is_finite() {
        bail!("the programme is silent (below the −70 LUFS gate); no gain can reach {target} LUFS");
    }
    let first = target - unlimited;
    let max_gain = first + MAX_EXTRA_GAIN;
    // (gain, estimated loudness − target), by gain.
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut gains = FIRST_LANES.map(|offset| (first + offset).min(max_gain));
    for _ in 0..MAX_LANE_PASSES {
        let loudness = estimates(&gains)?;
        points.extend(gains.iter().zip(loudness).map(|(&g, l)| (g, l - target)));
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points.dedup_by(|a, b| a.0 == b.0);
        if let Some(hit) = points.iter().position(|p| p.1.abs() <= ESTIMATE_TOLERANCE) {
            let (gain, error) = points[hit];
            let (g, e) = points[if hit + 1 < points.len() {
                hit + 1
            } else {
                hit.max(1) - 1
            }];
            let slope = if g == gain {
                FIRST_SLOPE
            } else {
                (e - error) / (g - gain)
            };
            return Ok(Found {
                gain_db: gain,
                evaluations: 0,
                slope: slope.clamp(0.02, 1.5),
            });
        }
        // The first estimate at or over the target; the one before it is under.
        match points.iter().position(|p| p.1 >= 0.0) {
            Some(0) => {
                let lowest = points[0].0;
                gains = FURTHER_LANES.map(|step| lowest - step);
            }
            None => {
                let &(highest, error) = points.last().expect("estimated");
                if highest >= max_gain {
                    bail!(
                        "target {target:.1} LUFS cannot be reached at this ceiling: {:.1} LUFS at {highest:+.1} dB of gain, {MAX_EXTRA_GAIN:.0} dB into the limiter",
                        target + error
                    );
                }
                gains = FURTHER_LANES.map(|step| (highest + step).min(max_gain));
            }
            Some(over) => {
                let (under, above) = (points[over - 1], points[over]);
                let width = above.0 - under.0;
                let slope = ((above.1 - under.1) / width).clamp(0.02, 1.5);
                let slope = if slope.is_nan() { FIRST_SLOPE } else { slope };
                let found = |gain_db| Found {
                    gain_db,
                    evaluations: 0,
                    slope,
                };
                // The stencil of up to four estimates around the bracket; an estimate under the
                // gate (no loudness) bends no curve, so none is drawn through one.
                let near = &points[over.saturating_sub(2)..(over + 2).min(points.len())];
                let finite = |stencil: &[(f64, f64)]| stencil.iter().all(|p| p.1.is_finite());
                if width <= FINE_SPACING {
                    return Ok(found(if finite(near) {
                        root_between(near, under.0, above.0)
                    } else {
                        above.0
                    }));
                }
                // Wider apart, a cubic through the two estimates either side usually still
                // finds the root to a few thousandths of a dB (the bench's programme: 0.0005
                // dB from the next pass's answer). Trusted when every cubic through four
                // neighbouring estimates around the bracket (at least two) agrees with it: where
                // the curve bends sharply (limiting that sets in abruptly) they part.
                let roots: Vec<f64> = (over.saturating_sub(3)..over)
                    .filter(|&start| start + 4 <= points.len())
                    .map(|start| &points[start..start + 4])
                    .filter(|stencil| finite(stencil))
                    .map(|stencil| root_between(stencil, under.0, above.0))
                    .collect();
                let spread = roots
                    .iter()
                    .fold(0.0f64, |m, r| m.max((r - roots[0]).abs()));
                if roots.len() >= 2 && finite(near) && spread * slope <= INTERPOLATION_TOLERANCE {
                    return Ok(found(root_between(near, under.0, above.0)));
                }
                gains =
                    std::array::from_fn(|k| under.0 + width * (k + 1) as f64 / (LANES + 1) as f64);
            }
        }
    }
    bail!("the loudness search on estimates did not settle within {MAX_LANE_PASSES} passes")
}

/// The root in `[low, high]` of the polynomial through `points` (errors of opposite sign at
/// `low` and `high`, which are among them), by bisection.
fn root_between(points: &[(f64, f64)], low: f64, high: f64) -> f64 {
    let at = |x: f64| -> f64 {
        points
            .iter()
            .enumerate()
            .map(|(i, &(xi, yi))| {
                let basis: f64 = points
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, &(xj, _))| (x - xj) / (xi - xj))
                    .product();
                yi * basis
            })
            .sum()
    };
    let (mut low, mut high) = (low, high);
    for _ in 0..60 {
        let middle = 0.5 * (low + high);
        if at(middle) < 0.0 {
            low = middle;
        } else {
            high = middle;
        }
    }
    0.5 * (low + high)
}

/// The gain that meets `target`: on estimates ([`find_gain_lanes`]) when `can_estimate`, then
/// [`find_gain`] on measurements from the estimates' answer, which usually meets the target at
/// the first. With `within` above [`TOLERANCE`] the caller measures the answer itself, so the
/// estimates' answer is returned unmeasured. `evaluations` counts measurements only.
/// `loudness_at` answers an [`Evaluation`] with one loudness per gain.
pub fn find_gain_estimating(
    unlimited: f64,
    target: f64,
    within: f64,
    can_estimate: bool,
    mut loudness_at: impl FnMut(Evaluation) -> Result<Vec<f64>>,
) -> Result<Found> {
    let mut estimated = None;
    if can_estimate {
        let found = find_gain_lanes(unlimited, target, |gains| {
            let loudness = loudness_at(Evaluation::Estimates(gains))?;
            loudness
                .try_into()
                .map_err(|_| anyhow::anyhow!("one estimate per gain"))
        })?;
        if within > TOLERANCE {
            return Ok(found);
        }
        estimated = Some(found);
    }
    let search = Search {
        from: estimated,
        ..Search::within(within)
    };
    find_gain(unlimited, target, search, |gain| {
        Ok(loudness_at(Evaluation::Measure(gain))?[0])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A limiter-like curve: unity slope below −10 LUFS, then compressing 4:1.
    fn curve(gain: f64) -> f64 {
        let linear = -30.0 + gain;
        if linear < -10.0 {
            linear
        } else {
            -10.0 + (linear + 10.0) / 4.0
        }
    }

    #[test]
    fn converges_on_a_limiting_curve() {
        for target in [-23.0, -14.0, -9.0, -6.0] {
            let found =
                find_gain(-30.0, target, Search::within(TOLERANCE), |g| Ok(curve(g))).unwrap();
            assert!(
                (curve(found.gain_db) - target).abs() <= TOLERANCE,
                "{target}: {found:?}"
            );
            assert!(found.evaluations <= 8, "{target}: {found:?}");
        }
    }

    /// Stopping within a looser bound returns a predicted gain closer than the last evaluation,
    /// after no more evaluations than the full search.
    #[test]
    fn a_loose_stop_predicts_the_next_step() {
        for target in [-14.0, -9.0, -6.0] {
            let full =
                find_gain(-30.0, target, Search::within(TOLERANCE), |g| Ok(curve(g))).unwrap();
            let mut last = f64::NAN;
            let loose = find_gain(-30.0, target, Search::within(0.3), |g| {
                last = curve(g);
                Ok(last)
            })
            .unwrap();
            assert!(loose.evaluations <= full.evaluations, "{target}");
            let predicted = (curve(loose.gain_db) - target).abs();
            assert!(predicted <= (last - target).abs(), "{target}: {predicted}");
            assert!(predicted <= 0.1, "{target}: {predicted}");
        }
    }

    /// A `find_gain_estimating` evaluation on the curve, estimates off by `bias`, counting
    /// passes of estimates and measurements.
    fn evaluate(bias: f64, passes: &mut usize, e: Evaluation) -> Result<Vec<f64>> {
        Ok(match e {
            Evaluation::Estimates(gains) => {
                *passes += 1;
                gains.iter().map(|&g| curve(g) + bias).collect()
            }
            Evaluation::Measure(g) => vec![curve(g)],
        })
    }

    /// Estimates off by a few hundredths find the gain in one to three passes of lanes (three
    /// where the first lane already reads over the target); one measurement
    /// confirms it (or a second corrects it), against five or more measurements without
    /// estimates; a caller that measures the answer itself gets it unmeasured. Targets where
    /// the curve is straight (met by the first lane), at its corner and deep into limiting.
    #[test]
    fn estimates_leave_one_measurement() {
        for bias in [-0.02, 0.0, 0.025, 0.05] {
            for target in [-14.0, -10.5, -9.0, -6.0] {
                let mut passes = 0;
                let found = find_gain_estimating(-30.0, target, TOLERANCE, true, |e| {
                    evaluate(bias, &mut passes, e)
                })
                .unwrap();
                assert!(
                    (curve(found.gain_db) - target).abs() <= TOLERANCE,
                    "{bias} {target}"
                );
                let most = if bias.abs() <= 0.025 { 1 } else { 2 };
                assert!(found.evaluations <= most, "{bias} {target}: {found:?}");
                assert!(
                    (1..=3).contains(&passes),
                    "{bias} {target}: {passes} passes"
                );
                let mut passes = 0;
                let unmeasured = find_gain_estimating(-30.0, target, 0.3, true, |e| {
                    assert!(matches!(e, Evaluation::Estimates(_)));
                    evaluate(bias, &mut passes, e)
                })
                .unwrap();
                assert_eq!(unmeasured.evaluations, 0);
                let error = curve(unmeasured.gain_db) + bias - target;
                assert!(error.abs() <= 0.005, "{bias} {target}: {error}");
            }
        }
        let plain = find_gain_estimating(-30.0, -9.0, TOLERANCE, false, |e| {
            assert!(matches!(e, Evaluation::Measure(_)));
            Ok(vec![curve(match e {
                Evaluation::Measure(g) => g,
                Evaluation::Estimates(_) => unreachable!(),
            })])
        })
        .unwrap();
        assert!(plain.evaluations >= 3, "{plain:?}");
    }

    /// The lanes go further when the first pass does not reach the target (deep limiting, or a
    /// programme far under it), and lower when every estimate passes it; estimates under the
    /// gate do not upset them; a target out of reach fails clearly.
    #[test]
    fn lanes_extend_the_search() {
        // Limiting 8:1 above −22 LUFS: −19 LUFS lies 21 dB above the gain that would meet it
        // unlimited, beyond the first pass.
        let steep = |g: f64| {
            let linear = -40.0 + g;
            if linear < -22.0 {
                linear
            } else {
                -22.0 + (linear + 22.0) / 8.0
            }
        };
        let target = -19.0;
        let mut passes = 0;
        let found = find_gain_lanes(-40.0, target, |gains| {
            passes += 1;
            Ok(gains.map(steep))
        })
        .unwrap();
        assert!((steep(found.gain_db) - target).abs() <= 0.002, "{found:?}");
        assert!(passes >= 2, "went beyond the first pass: {passes}");
        // Estimates reading 0.3 LU loud: the first lane is already over the target.
        let found =
            find_gain_lanes(-30.0, -14.0, |gains| Ok(gains.map(|g| curve(g) + 0.3))).unwrap();
        assert!(
            (curve(found.gain_db) + 0.3 + 14.0).abs() <= 0.002,
            "{found:?}"
        );
        // Estimates under the gate (no loudness) bend no cubic: the answer stays finite, at
        // the first gain that reads.
        let gated = |g: f64| {
            if g < 18.0 {
                f64::NEG_INFINITY
            } else {
                curve(g)
            }
        };
        let found = find_gain_lanes(-30.0, -14.0, |gains| Ok(gains.map(gated))).unwrap();
        assert!((18.0..18.5).contains(&found.gain_db), "{found:?}");
        assert!(found.slope.is_finite(), "{found:?}");
        let error = find_gain_lanes(
            -30.0,
            -6.0,
            |gains| Ok(gains.map(|g| (-30.0 + g).min(-8.0))),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("cannot be reached"), "{error}");
    }

    #[test]
    fn unreachable_and_silent_fail_clearly() {
        let saturating = |g: f64| Ok((-30.0 + g).min(-8.0));
        let error = find_gain(-30.0, -6.0, Search::within(TOLERANCE), saturating)
            .unwrap_err()
            .to_string();
        assert!(error.contains("cannot be reached"), "{error}");
        let error = find_gain(f64::NEG_INFINITY, -14.0, Search::within(TOLERANCE), |_| {
            Ok(0.0)
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains("silent"), "{error}");
    }

    #[test]
    fn targets_parse() {
        assert_eq!(Target::parse("Spotify").unwrap().lufs, -14.0);
        assert_eq!(Target::parse("ebu").unwrap().lufs, -23.0);
        assert_eq!(Target::parse("-9.5").unwrap().lufs, -9.5);
        assert!(Target::parse("loud").is_err());
        assert!(Target::parse("5").is_err());
    }
}
