//! `lathe analyze`: loudness, range and peaks per file, as a table or JSON, with optional plots.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use dsp_core::loudness::LoudnessMeter;
use dsp_core::{Oversampling, TruePeakDetector};
use plotters::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use crate::audio::{check_output, Reader, TempFile};
use crate::engine::{self, Measurement};
use crate::progress::{Progress, Ticker};

pub struct AnalyzeArgs {
    pub files: Vec<PathBuf>,
    pub json: bool,
    pub plot: Option<PathBuf>,
    pub force: bool,
    pub quiet: bool,
}

#[derive(Serialize)]
struct FileReport {
    file: PathBuf,
    sample_rate: u32,
    channels: usize,
    #[serde(flatten)]
    measurement: Measurement,
    /// NaN or infinite samples (a damaged float file), measured as silence.
    non_finite_samples: u64,
    /// Where the first is, s.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_non_finite_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plot: Option<PathBuf>,
}

/// Short-term loudness and the true peak of each 100 ms step.
struct History {
    short_term: Vec<f64>,
    true_peak: Vec<f64>,
}

pub fn run(args: AnalyzeArgs) -> Result<()> {
    if let Some(dir) = &args.plot {
        if dir.exists() && !dir.is_dir() {
            bail!("--plot {}: exists and is not a directory", dir.display());
        }
        std::fs::create_dir_all(dir)
            .with_context(|| format!("--plot {}: cannot make the directory", dir.display()))?;
        for file in &args.files {
            check_output(&plot_path(dir, file), &[file.as_path()], args.force)?;
        }
    }
    let progress = Progress::new(args.quiet);
    let results: Vec<Result<FileReport>> = args
        .files
        .par_iter()
        .map(|file| analyse(file, args.plot.as_deref(), &progress))
        .collect();
    let mut reports = Vec::new();
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(report) => reports.push(report),
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else if !reports.is_empty() {
        print_table(&reports);
    }
    match failures.len() {
        0 => Ok(()),
        1 => bail!("{}", failures[0]),
        n => bail!("{n} files failed:\n{}", failures.join("\n")),
    }
}

fn plot_path(dir: &Path, file: &Path) -> PathBuf {
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    dir.join(format!("{stem}.png"))
}

fn analyse(path: &Path, plot: Option<&Path>, progress: &Progress) -> Result<FileReport> {
    let mut reader = Reader::open(path)?;
    let info = reader.info().clone();
    let mut meter =
        LoudnessMeter::new(info.sample_rate, info.channels).map_err(anyhow::Error::msg)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let seconds = info.frames.unwrap_or(0) as f64 / info.sample_rate as f64;
    let mut ticker = Ticker::new(progress.bar(&name, seconds), info.sample_rate);
    ticker.stage("analyse");
    // History steps of 100 ms, read at their ends.
    let step = (info.sample_rate as usize).div_ceil(10);
    let mut history = plot.map(|_| History {
        short_term: Vec::new(),
        true_peak: Vec::new(),
    });
    let mut detectors =
        vec![TruePeakDetector::new(info.sample_rate as f32, Oversampling::X4); info.channels];
    let mut step_peak = 0.0f32;
    let mut buffers = vec![vec![0.0; step]; info.channels];
    let mut frames = 0u64;
    loop {
        let n = reader.read(&mut buffers, step)?;
        if n == 0 {
            break;
        }
        frames += n as u64;
        let slices: Vec<&[f32]> = buffers.iter().map(|b| &b[..n]).collect();
        meter.process(&slices);
        if let Some(history) = &mut history {
            for (detector, channel) in detectors.iter_mut().zip(&slices) {
                step_peak = step_peak.max(detector.block_peak(channel));
            }
            history.short_term.push(meter.short_term());
            history
                .true_peak
                .push(20.0 * (step_peak.max(1e-10) as f64).log10());
            step_peak = 0.0;
        }
        ticker.advance(n);
    }
    ticker.bar.finish_and_clear();
    // The end: what the detectors' latency held back joins the true peak (and the last step's).
    meter.finish();
    if let Some(last) = history.as_mut().and_then(|h| h.true_peak.last_mut()) {
        let tail = detectors.iter_mut().fold(0.0f32, |m, d| m.max(d.finish()));
        *last = last.max(20.0 * (tail.max(1e-10) as f64).log10());
    }
    let measurement = Measurement::of(&meter, frames);
    let plot = match (plot, history) {
        (Some(dir), Some(history)) => {
            let out = plot_path(dir, path);
            draw(&out, &name, &history, &measurement)?;
            Some(out)
        }
        _ => None,
    };
    let non_finite = reader.non_finite();
    Ok(FileReport {
        file: path.to_owned(),
        sample_rate: info.sample_rate,
        channels: info.channels,
        measurement,
        non_finite_samples: non_finite.count,
        first_non_finite_seconds: non_finite
            .first
            .map(|frame| frame as f64 / info.sample_rate as f64),
        plot,
    })
}

fn print_table(reports: &[FileReport]) {
    println!(
        "{:<32}{:>9}{:>9}{:>9}{:>7}{:>9}{:>9}{:>7}",
        "file", "I LUFS", "S max", "M max", "LRA", "TP dBTP", "SP dBFS", "PLR"
    );
    for r in reports {
        let m = &r.measurement;
        let name = r.file.display().to_string();
        let name = if name.chars().count() > 31 {
            let tail: String = name.chars().rev().take(30).collect();
            format!("…{}", tail.chars().rev().collect::<String>())
        } else {
            name
        };
        println!(
            "{name:<32}{:>9}{:>9}{:>9}{:>7.1}{:>9}{:>9}{:>7}",
            engine::show(m.integrated),
            engine::show(m.short_term_max),
            engine::show(m.momentary_max),
            m.range,
            engine::show(m.true_peak),
            engine::show(m.sample_peak),
            engine::show(m.plr),
        );
    }
    for r in reports {
        if let Some(seconds) = r.first_non_finite_seconds {
            println!(
                "{}: {} NaN or infinite samples, the first at {seconds:.3} s, measured as silence: the file is damaged",
                r.file.display(),
                r.non_finite_samples
            );
        }
    }
}

const PLOT_SIZE: (u32, u32) = (1200, 500);

/// Short-term loudness (LUFS) and true peak per 100 ms (dBTP) over time, on one dB axis, with
/// the integrated loudness as a dashed line.
fn draw(out: &Path, name: &str, history: &History, m: &Measurement) -> Result<()> {
    register_font();
    let (width, height) = PLOT_SIZE;
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    let seconds = history.short_term.len() as f64 / 10.0;
    let minutes = seconds > 180.0;
    let scale = if minutes { 60.0 } else { 1.0 };
    {
        let root = BitMapBackend::with_buffer(&mut pixels, PLOT_SIZE).into_drawing_area();
        let fail =
            |e: &dyn std::fmt::Display| anyhow::anyhow!("{}: drawing failed: {e}", out.display());
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let caption = format!(
            "{name}: I {} LUFS, LRA {:.1} LU, TP {} dBTP",
            engine::show(m.integrated),
            m.range,
            engine::show(m.true_peak)
        );
        let x_end = (seconds / scale).max(1e-3);
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_end, -60.0..3.0)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc(if minutes { "minutes" } else { "seconds" })
            .y_desc("LUFS / dBTP")
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| fail(&e))?;
        let at = |i: usize| (i + 1) as f64 / 10.0 / scale;
        let clamp = |v: f64| {
            if v.is_finite() {
                v.clamp(-60.0, 3.0)
            } else {
                -60.0
            }
        };
        chart
            .draw_series(LineSeries::new(
                history
                    .true_peak
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (at(i), clamp(v))),
                RGBColor(220, 60, 50).stroke_width(1),
            ))
            .map_err(|e| fail(&e))?
            .label("true peak per 100 ms")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RGBColor(220, 60, 50)));
        chart
            .draw_series(LineSeries::new(
                history
                    .short_term
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (at(i), clamp(v))),
                RGBColor(30, 90, 200).stroke_width(2),
            ))
            .map_err(|e| fail(&e))?
            .label("short-term loudness")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RGBColor(30, 90, 200)));
        if let Some(integrated) = m.integrated {
            let dashes = (0..200).filter(|k| k % 2 == 0).map(|k| {
                let x0 = x_end * k as f64 / 200.0;
                PathElement::new(
                    vec![(x0, integrated), (x0 + x_end / 200.0, integrated)],
                    BLACK.stroke_width(1),
                )
            });
            chart.draw_series(dashes).map_err(|e| fail(&e))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    let (temp, file) = TempFile::create(out)?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut png = encoder
        .write_header()
        .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    png.write_image_data(&pixels)
        .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    png.finish()
        .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    temp.commit()
}

/// Plots render text with the font egui ships, so no system fonts are needed.
fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}
