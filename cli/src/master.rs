//! `lathe master`: one file through the chain to a loudness target, and the steps `album` shares.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use dsp_core::dither::DitherSettings;
use dsp_core::loudness::LoudnessMeter;
use dsp_core::{Oversampling, TruePeakDetector};
use serde::Serialize;

use crate::audio::{check_output, Output, OutputBits, Writer};
use crate::chain::{self, ChainConfig, PreChain};
use crate::engine::{self, Cache, Fades, FileStream, Measurement, Resampled, Stream};
use crate::progress::{Progress, Ticker};
use crate::target::{self, Evaluation, Target};

/// The pre-limiter signal of one programme, cached, with its loudness.
pub struct Prepared {
    pub cache: Cache,
    /// Loudness of the cached (pre-limiter) signal, as the output will be metered.
    pub pre: LoudnessMeter,
    /// Channels of the output: 1 (the cache holds dual mono) or 2.
    pub channels: usize,
}

/// Meters a stereo block as the output will hold it: the left alone when the output is mono.
fn meter_as_output(meter: &mut LoudnessMeter, channels: usize, left: &[f32], right: &[f32]) {
    if channels == 1 {
        meter.process(&[left]);
    } else {
        meter.process(&[left, right]);
    }
}

/// Runs `source` through the chain's processors before the limiter into a cache in `dir`.
pub fn prepare(
    source: &mut dyn Stream,
    config: &ChainConfig,
    dir: &Path,
    channels: usize,
    ticker: &mut Ticker,
) -> Result<Prepared> {
    let rate = source.rate();
    let mut pre_chain = PreChain::new(config, rate as f32)?;
    // The limiter's detection is made here, once, for every gain the search will try.
    let limiter = chain::limiter(config, 0.0, rate as f32)?;
    let mut cache = Cache::new(dir, rate, limiter.as_ref())?;
    let mut pre = LoudnessMeter::new(rate, channels).map_err(anyhow::Error::msg)?;
    // Its true peak decides only a chain without a limiter (see `gain_for`).
    pre.set_peaks(config.limiter.is_none());
    let latency = pre_chain.latency() as usize;
    let mut kept = vec![0.0; engine::BLOCK];
    engine::run_aligned(
        source,
        latency,
        &mut |l, r| pre_chain.process(l, r),
        &mut |l, r| {
            ticker.advance(l.len());
            if !cache.keeps_contributions() {
                meter_as_output(&mut pre, channels, l, r);
                return cache.push(l, r, None);
            }
            let kept = &mut kept[..l.len()];
            if channels == 1 {
                pre.process_keeping(&[l], kept);
            } else {
                pre.process_keeping(&[l, r], kept);
            }
            cache.push(l, r, Some(kept))
        },
    )?;
    cache.finish()?;
    pre.finish();
    Ok(Prepared {
        cache,
        pre,
        channels,
    })
}

/// How the cached signal is finished: gain into the limiter, then fades.
#[derive(Clone)]
pub struct Finish<'a> {
    pub config: &'a ChainConfig,
    pub ceiling: f64,
    pub fades: Fades,
}

impl Finish<'_> {
    /// Renders the cached signal at `gain_db` through a fresh limiter and the fades into `sink`.
    fn render(
        &self,
        prepared: &mut Prepared,
        gain_db: f64,
        sink: &mut engine::BlockSinkMut<'_>,
    ) -> Result<()> {
        let rate = prepared.cache.rate();
        let mut limiter = chain::limiter(self.config, self.ceiling as f32, rate as f32)?;
        let fades = Fades {
            total: prepared.cache.frames(),
            ..self.fades
        };
        engine::render(&mut prepared.cache, gain_db, limiter.as_mut(), fades, sink)
    }

    /// Whether the loudness at `gain_db` follows from the unlimited loudness without a render:
    /// there are no fades (they take loudness off) and the limiter would not touch the cached
    /// signal, its detection's largest reading staying under the limiter's threshold (by a margin
    /// for rounding).
    pub fn needs_no_render(&self, prepared: &Prepared, gain_db: f64) -> Result<bool> {
        const MARGIN: f32 = 0.999;
        if !self.fades.is_none() {
            return Ok(false);
        }
        let rate = prepared.cache.rate() as f32;
        let (Some(limiter), Some(peak)) = (
            chain::limiter(self.config, self.ceiling as f32, rate)?,
            prepared.cache.detected_peak(),
        ) else {
            return Ok(false);
        };
        if limiter.settings().output_trim_db != 0.0 {
            // Trimmed after the limiting: never the unlimited loudness.
            return Ok(false);
        }
        let gain = 10f64.powf(gain_db / 20.0) as f32;
        Ok(peak * gain <= limiter.threshold() * MARGIN)
    }

    /// The loudness after limiter and fades at `gain_db` (nothing written).
    pub fn measure(&self, prepared: &mut Prepared, gain_db: f64) -> Result<LoudnessMeter> {
        let channels = prepared.channels;
        let mut meter =
            LoudnessMeter::new(prepared.cache.rate(), channels).map_err(anyhow::Error::msg)?;
        meter.set_peaks(false);
        self.render(prepared, gain_db, &mut |l, r| {
            meter_as_output(&mut meter, channels, l, r);
            Ok(())
        })?;
        Ok(meter)
    }

    /// The loudness after limiter and fades at [`target::LANES`] gains, estimated from one read
    /// of the cache without rendering ([`engine::estimate_lanes`]); `None` when the cache cannot
    /// estimate (no limiter).
    pub fn estimate_lanes(
        &self,
        prepared: &mut Prepared,
        gains_db: &[f64; target::LANES],
    ) -> Result<Option<[LoudnessMeter; target::LANES]>> {
        let rate = prepared.cache.rate();
        let Some(mut limiter) = chain::limiter(self.config, self.ceiling as f32, rate as f32)?
        else {
            return Ok(None);
        };
        let mut meters = Vec::with_capacity(target::LANES);
        for _ in 0..target::LANES {
            meters.push(LoudnessMeter::new(rate, prepared.channels).map_err(anyhow::Error::msg)?);
        }
        let mut meters: [LoudnessMeter; target::LANES] = meters
            .try_into()
            .map_err(|_| anyhow::anyhow!("one meter per lane"))?;
        let fades = Fades {
            total: prepared.cache.frames(),
            ..self.fades
        };
        let estimated = engine::estimate_lanes(
            &mut prepared.cache,
            gains_db,
            &mut limiter,
            fades,
            &mut meters,
        )?;
        Ok(estimated.then_some(meters))
    }

    /// [`Finish::estimate_lanes`] for a search, which only asks where the cache can estimate,
    /// showing the gains on `ticker`.
    pub fn estimates(
        &self,
        prepared: &mut Prepared,
        ticker: &mut Ticker,
        gains_db: &[f64; target::LANES],
    ) -> Result<[LoudnessMeter; target::LANES]> {
        ticker.stage(&format!(
            "estimate {:+.1}…{:+.1} dB",
            gains_db[0],
            gains_db[target::LANES - 1]
        ));
        let meters = self.estimate_lanes(prepared, gains_db)?;
        Ok(meters.expect("the search estimates where the cache keeps contributions"))
    }

    /// Renders at `gain_db`, dithers for `dither`, writes to `writer` (one or two channels: a
    /// mono writer takes the left) and
    /// meters what was written, including its true peak at 16x.
    pub fn write(
        &self,
        prepared: &mut Prepared,
        gain_db: f64,
        dither: Option<DitherSettings>,
        seed: u64,
        writer: &mut Writer,
        ticker: &mut Ticker,
    ) -> Result<Written> {
        let channels = writer.channels();
        let rate = prepared.cache.rate();
        let mut dither = engine::make_dither(dither, rate, seed);
        let mut detectors = std::array::from_fn::<_, 2, _>(|_| {
            TruePeakDetector::new(rate as f32, Oversampling::X16)
        });
        let mut peak = 0.0f32;
        let mut meter = LoudnessMeter::new(rate, channels).map_err(anyhow::Error::msg)?;
        self.render(prepared, gain_db, &mut |l, r| {
            if channels == 1 {
                if let Some(d) = &mut dither {
                    d.process(&mut [&mut *l]);
                }
                meter.process(&[l]);
                peak = detectors[0].block_peak_above(l, peak);
                writer.write(&[l])?;
            } else {
                if let Some(d) = &mut dither {
                    d.process(&mut [&mut *l, &mut *r]);
                }
                meter.process(&[l, r]);
                peak = detectors[0].block_peak_above(l, peak);
                peak = detectors[1].block_peak_above(r, peak);
                writer.write(&[l, r])?;
            }
            ticker.advance(l.len());
            Ok(())
        })?;
        // The end: what the detectors' latency held back.
        meter.finish();
        for detector in &mut detectors[..channels] {
            peak = peak.max(detector.finish());
        }
        Ok(Written {
            meter,
            true_peak_db: 20.0 * (peak.max(1e-10) as f64).log10(),
        })
    }
}

/// What a write measured.
pub struct Written {
    pub meter: LoudnessMeter,
    /// True peak by a 16x reconstruction (under-reads by at most 0.04 dB), dBTP.
    pub true_peak_db: f64,
}

/// How far under the ceiling the written true peak must stay, dB, so that 4x meters, whose
/// reconstruction filters over-read dense limited material (libebur128's by up to 0.085 dB in
/// the tests), also read it at or under the ceiling.
pub const PEAK_SAFETY_DB: f64 = 0.1;
/// How close a search evaluation must come before `write_verified` writes at the predicted next
/// gain instead of rendering it first, LU: one secant step from there lands within a few
/// hundredths, and the write is measured anyway.
const PREDICT_WITHIN: f64 = 0.3;
/// How far under the asked ceiling the limiter may be aimed before the verification gives up,
/// dB.
const GIVE_UP_BELOW_DB: f64 = 6.0;
/// Tries at a lowered limiter ceiling before giving up.
const CEILING_ATTEMPTS: usize = 4;

/// Writes `prepared` to `path`, verifying the true peak of what was written at 16x: when the
/// limiter's own detection let an over through (dense band-edge content), the limiter ceiling is
/// lowered by the excess and the gain found again, so the file that lands is within the ceiling.
#[allow(clippy::too_many_arguments)]
pub fn write_verified(
    output: &Output,
    config: &ChainConfig,
    ceiling: f64,
    fades: Fades,
    target: Option<Target>,
    fixed_gain: Option<f64>,
    prepared: &mut Prepared,
    seed: u64,
    ticker: &mut Ticker,
) -> Result<(Written, f64, usize)> {
    let Output {
        path,
        bits,
        channels,
        tags,
    } = output;
    let dither = bits
        .integer_bits()
        .map(|b| chain::dither(config, b))
        .transpose()?;
    let allowed = ceiling - PEAK_SAFETY_DB;
    // The limiter aims a little under the ceiling from the start, so that the verification
    // rarely has to send it round again.
    let mut limiter_ceiling = ceiling - PEAK_SAFETY_DB / 2.0;
    let mut gain = fixed_gain;
    let mut passes = 0;
    let mut missed_by = 0.0;
    // LU per dB near the gain, for correcting a miss (unity without a search).
    let mut slope = 1.0;
    for _ in 0..CEILING_ATTEMPTS {
        let finish = Finish {
            config,
            ceiling: limiter_ceiling,
            fades,
        };
        let this_gain = match gain {
            Some(gain) => gain,
            None => {
                // The search may stop short and predict the gain: the write measures it.
                let found = gain_for(target, &finish, prepared, ticker, PREDICT_WITHIN)?;
                passes += found.evaluations;
                slope = found.slope;
                found.gain_db
            }
        };
        ticker.stage("write");
        let rate = prepared.cache.rate();
        let mut writer = Writer::create(path, rate, *channels, *bits, tags)?;
        let written = finish.write(prepared, this_gain, dither, seed, &mut writer, ticker)?;
        passes += 1;
        let peak_over = written.true_peak_db - allowed;
        // A lowered ceiling changes the loudness a little; what was written must be on target.
        let loudness_off = match (target, fixed_gain) {
            (Some(t), None) if config.limiter.is_some() => {
                Some(written.meter.integrated() - t.lufs).filter(|e| e.abs() > target::TOLERANCE)
            }
            _ => None,
        };
        missed_by = loudness_off.unwrap_or(0.0);
        if peak_over <= 0.0 && loudness_off.is_none() {
            writer.finish()?;
            return Ok((written, this_gain, passes));
        }
        drop(writer);
        if peak_over > 0.0 {
            if config.limiter.is_none() {
                bail!(
                    "the true peak would be {:.2} dBTP, above the {ceiling:.1} dBTP ceiling, and the chain has no [limiter]",
                    written.true_peak_db
                );
            }
            limiter_ceiling -= peak_over + 0.02;
            if limiter_ceiling < ceiling - GIVE_UP_BELOW_DB {
                break;
            }
        }
        // Close to the target already: a step along the search's slope corrects a small miss.
        gain = fixed_gain.or(loudness_off.map(|error| this_gain - error / slope));
    }
    if missed_by != 0.0 {
        bail!("the written loudness still missed the target by {missed_by:+.2} LU after {CEILING_ATTEMPTS} writes");
    }
    bail!("the limiter could not hold the {ceiling:.1} dBTP ceiling")
}

/// Length of one gating block of integrated loudness (BS.1770), s.
const GATING_BLOCK_SECONDS: f64 = 0.4;

/// The gain that meets `target` (or 0 dB without one); `within` as in
/// [`target::find_gain_estimating`]: above [`target::TOLERANCE`] the caller renders and
/// measures the answer, which may then be an estimate's ([`Finish::estimates`]) that no render
/// has checked.
pub fn gain_for(
    target: Option<Target>,
    finish: &Finish<'_>,
    prepared: &mut Prepared,
    ticker: &mut Ticker,
    within: f64,
) -> Result<target::Found> {
    let unchanged = |gain_db| target::Found {
        gain_db,
        evaluations: 0,
        slope: 1.0,
    };
    let Some(target) = target else {
        return Ok(unchanged(0.0));
    };
    let unlimited = prepared.pre.integrated();
    if !unlimited.is_finite() {
        let seconds = prepared.cache.frames() as f64 / prepared.cache.rate() as f64;
        if seconds < GATING_BLOCK_SECONDS {
            // A few samples read as a fraction of a millisecond, not "0 ms".
            let ms = seconds * 1000.0;
            let digits = if ms < 10.0 { 2 } else { 0 };
            bail!(
                "the programme is {ms:.digits$} ms long; integrated loudness needs at least {:.0} ms (one gating block), so no gain can be found for {:.1} LUFS",
                GATING_BLOCK_SECONDS * 1000.0,
                target.lufs
            );
        }
        bail!(
            "the programme is silent (below the −70 LUFS gate); no gain can reach {:.1} LUFS",
            target.lufs
        );
    }
    if finish.config.limiter.is_none() {
        // Without a limiter the loudness follows the gain exactly; only the peak can object.
        // Fades take a little loudness off: then it is measured with them.
        let unlimited = if finish.fades.is_none() {
            unlimited
        } else {
            finish.measure(prepared, 0.0)?.integrated()
        };
        if !unlimited.is_finite() {
            bail!(
                "with its fades the programme is silent (below the −70 LUFS gate); no gain can reach {:.1} LUFS",
                target.lufs
            );
        }
        let gain = target.lufs - unlimited;
        let peak = prepared.pre.true_peak_db() + gain;
        if peak > finish.ceiling {
            bail!(
                "target {:.1} LUFS cannot be reached without limiting: the true peak would be {peak:.1} dBTP, above the {:.1} dBTP ceiling (add a [limiter] to the chain)",
                target.lufs,
                finish.ceiling
            );
        }
        return Ok(unchanged(gain));
    }
    // Where the limiter would leave the whole programme alone at the gain that meets the target
    // without it, that gain is the answer (the loudness follows it exactly) and nothing needs
    // rendering.
    let unlimited_gain = target.lufs - unlimited;
    if finish.needs_no_render(prepared, unlimited_gain)? {
        return Ok(unchanged(unlimited_gain));
    }
    // Estimates (passes of eight gains, a fraction of a render each, see
    // `engine::estimate_lanes`) find the gain; renders check it. Every render runs the limiter
    // from the detection made once in `prepare`.
    let can_estimate = prepared.cache.keeps_contributions();
    target::find_gain_estimating(unlimited, target.lufs, within, can_estimate, |evaluation| {
        match evaluation {
            Evaluation::Estimates(gains) => {
                let meters = finish.estimates(prepared, ticker, gains)?;
                Ok(meters.iter().map(LoudnessMeter::integrated).collect())
            }
            Evaluation::Measure(gain) => {
                ticker.stage(&format!("search {gain:+.1} dB"));
                Ok(vec![finish.measure(prepared, gain)?.integrated()])
            }
        }
    })
}

/// Bit depth when none is asked for: 16-bit sources stay 16-bit, everything else becomes 24.
pub fn default_bits(source_bits: Option<u32>) -> OutputBits {
    match source_bits {
        Some(16) | Some(8) => OutputBits::Int16,
        _ => OutputBits::Int24,
    }
}

/// The chain from `--chain FILE`, `--preset NAME`, or the `clean` preset.
pub fn load_chain(preset: Option<&str>, file: Option<&Path>) -> Result<ChainConfig> {
    match (preset, file) {
        (Some(_), Some(_)) => bail!("give --preset or --chain, not both"),
        (None, Some(path)) => ChainConfig::load(path),
        (Some(name), None) => ChainConfig::preset(name),
        (None, None) => ChainConfig::preset("clean"),
    }
}

/// The ceiling: asked for, else the target's, else the chain's, else −1 dBTP.
pub fn ceiling(asked: Option<f64>, target: Option<Target>, config: &ChainConfig) -> f64 {
    asked
        .or(target.map(|t| t.ceiling))
        .or(config
            .limiter
            .as_ref()
            .and_then(|l| l.ceiling.map(f64::from)))
        .unwrap_or(-1.0)
}

pub struct MasterArgs {
    pub input: PathBuf,
    pub output: PathBuf,
    pub preset: Option<String>,
    pub chain: Option<PathBuf>,
    pub target: Option<String>,
    pub ceiling: Option<f64>,
    pub rate: Option<u32>,
    pub bits: Option<String>,
    pub force: bool,
    pub quiet: bool,
    pub json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    input: &'a Path,
    output: &'a Path,
    target_lufs: Option<f64>,
    ceiling_dbtp: f64,
    gain_db: f64,
    passes: usize,
    sample_rate: u32,
    bits: &'static str,
    before: Measurement,
    after: Measurement,
}

pub fn run(args: MasterArgs) -> Result<()> {
    let config = load_chain(args.preset.as_deref(), args.chain.as_deref())?;
    let target = args.target.as_deref().map(Target::parse).transpose()?;
    let ceiling = ceiling(args.ceiling, target, &config);
    if !(-12.0..=0.0).contains(&ceiling) {
        bail!("ceiling {ceiling} dBTP is outside −12..0 dBTP");
    }
    check_output(&args.output, &[&args.input], args.force)?;
    crate::audio::Container::for_path(&args.output)?;
    let mut file = FileStream::open(&args.input, true)?;
    let info = file.reader().info().clone();
    let tags = file.reader().tags().clone();
    let bits = match &args.bits {
        Some(text) => OutputBits::parse(text)?,
        None => default_bits(info.bits),
    };
    let rate = args.rate.unwrap_or(info.sample_rate);
    let (low, high) = engine::RATES;
    if !(low..=high).contains(&rate) {
        match args.rate {
            Some(_) => bail!("--rate {rate} is outside {low}–{high} Hz"),
            None => bail!(
                "{}: {rate} Hz is outside the {low}–{high} Hz the chain works at (resample it with --rate)",
                args.input.display()
            ),
        }
    }
    let dir = output_dir(&args.output);
    let progress = Progress::new(args.quiet);
    let seconds = info.frames.unwrap_or(0) as f64 / info.sample_rate as f64;
    let name = args.input.file_name().unwrap_or_default().to_string_lossy();
    let mut ticker = Ticker::new(progress.bar(&name, seconds), info.sample_rate);
    ticker.stage("analyse");

    let channels = info.channels.min(2);
    let mut prepared = if rate == info.sample_rate {
        let prepared = prepare(&mut file, &config, &dir, channels, &mut ticker)?;
        (prepared, file.meter.take())
    } else {
        let mut resampled = Resampled::new(file, rate)?;
        let prepared = prepare(&mut resampled, &config, &dir, channels, &mut ticker)?;
        (prepared, resampled.into_inner().meter)
    };
    // The input as decoded, at its own rate.
    let mut before_meter = prepared.1.take().expect("the input is metered");
    before_meter.finish();
    let before = Measurement::of(&before_meter, info.frames.unwrap_or(0));
    let mut prepared = prepared.0;
    ticker = Ticker::new(ticker.bar, rate);

    let output = Output {
        path: &args.output,
        bits,
        channels,
        tags,
    };
    let (written, gain_db, passes) = write_verified(
        &output,
        &config,
        ceiling,
        Fades::default(),
        target,
        None,
        &mut prepared,
        0x1a7e,
        &mut ticker,
    )?;
    let frames = prepared.cache.frames();
    ticker.bar.finish_and_clear();
    let after = Measurement::of(&written.meter, frames);
    let report = Report {
        input: &args.input,
        output: &args.output,
        target_lufs: target.map(|t| t.lufs),
        ceiling_dbtp: ceiling,
        gain_db: (gain_db * 100.0).round() / 100.0,
        passes,
        sample_rate: rate,
        bits: bits.label(),
        before,
        after,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if !args.quiet {
        print_report(&report);
    }
    Ok(())
}

fn print_report(r: &Report<'_>) {
    println!("{} -> {}", r.input.display(), r.output.display());
    println!("{:<20}{:>12}{:>12}", "", "before", "after");
    let rows: [(&str, Option<f64>, Option<f64>, &str); 6] = [
        (
            "integrated",
            r.before.integrated,
            r.after.integrated,
            "LUFS",
        ),
        (
            "short-term max",
            r.before.short_term_max,
            r.after.short_term_max,
            "LUFS",
        ),
        (
            "momentary max",
            r.before.momentary_max,
            r.after.momentary_max,
            "LUFS",
        ),
        (
            "loudness range",
            Some(r.before.range),
            Some(r.after.range),
            "LU",
        ),
        ("true peak", r.before.true_peak, r.after.true_peak, "dBTP"),
        ("PLR", r.before.plr, r.after.plr, "LU"),
    ];
    for (label, before, after, unit) in rows {
        println!(
            "{label:<20}{:>12}{:>12} {unit}",
            engine::show(before),
            engine::show(after)
        );
    }
    let target = r.target_lufs.map_or("no loudness target".into(), |t| {
        format!("target {t:.1} LUFS")
    });
    let passes = match r.passes {
        1 => "1 search pass".to_owned(),
        n => format!("{n} search passes"),
    };
    println!(
        "{target}, ceiling {:.1} dBTP, gain {:+.2} dB ({passes}), {} Hz {}",
        r.ceiling_dbtp, r.gain_db, r.sample_rate, r.bits
    );
}

/// The directory an output goes to (temporary work files go there too).
pub fn output_dir(output: &Path) -> PathBuf {
    output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("."))
}
