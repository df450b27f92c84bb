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

/// How close a search on estimates gets, LU ([`find_gain_estimating`]).
const ESTIMATE_TOLERANCE: f64 = 0.005;
/// From an estimate this close, LU, the search on estimates returns its next secant step
/// without estimating it: from within a few hundredths that step lands within a few
/// thousandths (0.0004 LU on the bench, from 0.036), an estimate's own error is up to 0.035 LU,
/// and what follows measures the answer anyway.
const ESTIMATE_WITHIN: f64 = 0.05;

/// How [`find_gain_estimating`] asks for a loudness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evaluation {
    /// Cheaper than a measurement, off by a few hundredths of a LU.
    Estimate,
    Measure,
}

/// [`find_gain`] on estimates of the loudness first (when `can_estimate`), then on
/// measurements from the estimate's answer, which usually meets the target at the first. With
/// `within` above [`TOLERANCE`] the caller measures the answer itself, so the estimate's answer
/// is returned unmeasured. `evaluations` counts measurements only.
pub fn find_gain_estimating(
    unlimited: f64,
    target: f64,
    within: f64,
    can_estimate: bool,
    mut loudness_at: impl FnMut(f64, Evaluation) -> Result<f64>,
) -> Result<Found> {
    let mut estimated = None;
    if can_estimate {
        // The slope handed on is the last secant.
        let search = Search {
            tolerance: ESTIMATE_TOLERANCE,
            within: ESTIMATE_WITHIN,
            from: None,
        };
        let found = find_gain(unlimited, target, search, |gain| {
            loudness_at(gain, Evaluation::Estimate)
        })?;
        if within > TOLERANCE {
            return Ok(Found {
                evaluations: 0,
                ..found
            });
        }
        estimated = Some(found);
    }
    let search = Search {
        from: estimated,
        ..Search::within(within)
    };
    find_gain(unlimited, target, search, |gain| {
        loudness_at(gain, Evaluation::Measure)
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

    /// Estimates off by a few hundredths find the gain; one measurement confirms it (or a
    /// second corrects it), against five or more measurements without estimates; a caller that
    /// measures the answer itself gets it unmeasured.
    #[test]
    fn estimates_leave_one_measurement() {
        for bias in [-0.02, 0.0, 0.025, 0.05] {
            for target in [-14.0, -9.0, -6.0] {
                let mut estimates = 0;
                let found = find_gain_estimating(-30.0, target, TOLERANCE, true, |g, e| {
                    Ok(match e {
                        Evaluation::Estimate => {
                            estimates += 1;
                            curve(g) + bias
                        }
                        Evaluation::Measure => curve(g),
                    })
                })
                .unwrap();
                assert!(
                    (curve(found.gain_db) - target).abs() <= TOLERANCE,
                    "{bias} {target}"
                );
                let most = if bias.abs() <= 0.025 { 1 } else { 2 };
                assert!(found.evaluations <= most, "{bias} {target}: {found:?}");
                assert!(estimates >= 1, "{bias} {target}: searched on estimates");
                let unmeasured = find_gain_estimating(-30.0, target, 0.3, true, |g, e| {
                    assert_eq!(e, Evaluation::Estimate);
                    Ok(curve(g) + bias)
                })
                .unwrap();
                assert_eq!(unmeasured.evaluations, 0);
                assert!((curve(unmeasured.gain_db) + bias - target).abs() <= TOLERANCE);
            }
        }
        let plain = find_gain_estimating(-30.0, -9.0, TOLERANCE, false, |g, e| {
            assert_eq!(e, Evaluation::Measure);
            Ok(curve(g))
        })
        .unwrap();
        assert!(plain.evaluations >= 3, "{plain:?}");
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
