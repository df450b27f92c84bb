//! `lathe album`: tracks (files, or stems with their own chains summed first) mastered to a
//! loudness target per track or for the album as a whole, written as per-track files, one
//! continuous image with the gaps, a CUE sheet and a report.
//!
//! CUE times count 75 frames per second, so every index falls on a frame boundary: a track's
//! end is padded with silence to the next frame, and gaps are whole frames (rounded up). The
//! per-track files hold the track alone (INDEX 01 to its end); the image holds everything.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use dsp_core::loudness::LoudnessMeter;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::audio::{check_output, Container, Output, OutputBits, Reader, Tags, TempFile, Writer};
use crate::chain::{ChainConfig, PreChain};
use crate::engine::{
    self, Concat, Fades, FileStream, Measurement, Processed, Resampled, Stream, Sum,
};
use crate::master::{self, Finish, Prepared};
use crate::progress::{Progress, Ticker};
use crate::target::{self, Evaluation, Target};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    album: AlbumSection,
    #[serde(default)]
    track: Vec<TrackSection>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Level {
    Lufs(f64),
    Name(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Bits {
    Number(u32),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlbumSection {
    title: String,
    performer: String,
    catalog: Option<Spanned<String>>,
    /// A named target or LUFS; none: no loudness matching.
    target: Option<Level>,
    /// "track" (each track to the target) or "album" (one gain for all: relative loudness kept).
    #[serde(default = "default_mode")]
    loudness: String,
    ceiling: Option<f64>,
    preset: Option<String>,
    chain: Option<PathBuf>,
    rate: Option<u32>,
    bits: Option<Bits>,
    /// "wav" or "flac".
    #[serde(default = "default_format")]
    format: String,
    /// Silence before every track but the first, seconds.
    #[serde(default = "default_gap")]
    gap: f64,
    output: Option<PathBuf>,
}

fn default_mode() -> String {
    "track".into()
}
fn default_format() -> String {
    "wav".into()
}
fn default_gap() -> f64 {
    2.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackSection {
    title: String,
    performer: Option<String>,
    isrc: Option<Spanned<String>>,
    file: Option<PathBuf>,
    #[serde(default)]
    stem: Vec<StemSection>,
    /// Silence before this track, seconds (default: the album's gap; 0 for the first track).
    pregap: Option<f64>,
    fade_in: Option<Spanned<f64>>,
    fade_out: Option<Spanned<f64>>,
    /// The track's audio continues the previous track's without a break (a live album, a
    /// continuous mix): both are mastered as one programme and cut on the nearest CUE frame.
    continues: Option<Spanned<bool>>,
    preset: Option<String>,
    chain: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StemSection {
    file: PathBuf,
    preset: Option<String>,
    chain: Option<PathBuf>,
    #[serde(default)]
    gain: f32,
}

/// One track, checked and resolved.
struct Track {
    number: usize,
    title: String,
    performer: String,
    isrc: Option<String>,
    sources: Vec<(PathBuf, ChainConfig)>,
    stems: bool,
    chain: ChainConfig,
    pregap: f64,
    fade_in: f64,
    fade_out: f64,
    /// Manifest lines of `fade_in` and `fade_out` (for errors only known once the track is read).
    fade_lines: [usize; 2],
    /// Mastered with the previous track as one programme (see [`TrackSection::continues`]).
    continues: bool,
    output: PathBuf,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Track,
    Album,
}

impl Track {
    /// How errors name it: "track 2 ('Title')".
    fn describe(&self) -> String {
        format!("track {} ('{}')", self.number, self.title)
    }
}

/// Line (1-based) of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The check digit (ASCII) that completes the first 12 digits of an EAN-13 (GS1: weights 1
/// and 3 alternating from the left; the check digit brings the sum to a multiple of 10).
fn ean13_check_digit(first_12: &str) -> u8 {
    let sum: u32 = first_12
        .bytes()
        .enumerate()
        .map(|(i, b)| (b - b'0') as u32 * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    b'0' + ((10 - sum % 10) % 10) as u8
}

/// Tracks a CUE sheet can number (TRACK 01..99, as on a CD).
const MAX_TRACKS: usize = 99;

/// ISO 3901: country (2 letters), registrant (3 alphanumerics), year (2 digits), designation
/// (5 digits); hyphens allowed in the manifest and removed.
pub fn normalise_isrc(text: &str) -> Option<String> {
    let code: String = text.chars().filter(|c| *c != '-').collect();
    let code = code.to_ascii_uppercase();
    let b = code.as_bytes();
    let valid = b.len() == 12
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..5].iter().all(u8::is_ascii_alphanumeric)
        && b[5..].iter().all(u8::is_ascii_digit);
    valid.then_some(code)
}

fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.join(path)
    }
}

fn load_chain(
    base: &Path,
    preset: &Option<String>,
    file: &Option<PathBuf>,
) -> Result<Option<ChainConfig>> {
    match (preset, file) {
        (Some(_), Some(_)) => bail!("give preset or chain, not both"),
        (Some(name), None) => Ok(Some(ChainConfig::preset(name)?)),
        (None, Some(path)) => Ok(Some(ChainConfig::load(&resolve(base, path))?)),
        (None, None) => Ok(None),
    }
}

fn safe_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if "/\\:*?\"<>|".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

fn cue_text(text: &str) -> String {
    text.replace('"', "'")
}

/// `mm:ss:ff` of a frame-aligned sample position.
fn cue_time(sample: u64, samples_per_frame: u64) -> String {
    let frames = sample / samples_per_frame;
    format!(
        "{:02}:{:02}:{:02}",
        frames / 75 / 60,
        frames / 75 % 60,
        frames % 75
    )
}

#[derive(Serialize)]
struct TrackReport {
    number: usize,
    title: String,
    performer: String,
    isrc: Option<String>,
    file: PathBuf,
    /// Positions in the image, samples and CUE time.
    pregap_sample: Option<u64>,
    start_sample: u64,
    start: String,
    frames: u64,
    gain_db: f64,
    /// Mastered with the previous track as one programme (its gain is the programme's).
    continues: bool,
    #[serde(flatten)]
    measurement: Measurement,
}

#[derive(Serialize)]
struct AlbumReport {
    title: String,
    performer: String,
    catalog: Option<String>,
    target_lufs: Option<f64>,
    loudness: &'static str,
    ceiling_dbtp: f64,
    sample_rate: u32,
    bits: &'static str,
    image: PathBuf,
    cue: PathBuf,
    album: Measurement,
    tracks: Vec<TrackReport>,
    /// Where the album breaks the CD (Red Book) limits, for a CD release.
    cd_notes: Vec<String>,
}

/// Red Book: the shortest track, and the longest programme an 80-minute CD-R takes as burning
/// software counts it (79:57:74 in CUE time, the 2 s pregap before track 1 added).
const CD_MIN_TRACK_SECONDS: f64 = 4.0;
const CD_MAX_SECONDS: f64 = 79.0 * 60.0 + 57.0 + 74.0 / 75.0;

/// What would stop this album going to CD as it is: tracks under 4 s, a programme over 79:57.
fn cd_notes(tracks: &[TrackReport], image_frames: u64, rate: u32) -> Vec<String> {
    let mut notes: Vec<String> = tracks
        .iter()
        .filter(|t| (t.frames as f64) < CD_MIN_TRACK_SECONDS * rate as f64)
        .map(|t| {
            format!(
                "track {} ('{}') plays {:.2} s; a CD track lasts at least {CD_MIN_TRACK_SECONDS} s",
                t.number,
                t.title,
                t.frames as f64 / rate as f64
            )
        })
        .collect();
    let seconds = image_frames as f64 / rate as f64;
    if seconds > CD_MAX_SECONDS {
        notes.push(format!(
            "the album runs {}:{:05.2}; an 80-minute CD holds 79:57.99",
            (seconds / 60.0) as u64,
            seconds % 60.0
        ));
    }
    notes
}

pub fn run(manifest_path: &Path, output: Option<PathBuf>, force: bool, quiet: bool) -> Result<()> {
    let text = std::fs::read_to_string(manifest_path)
        .with_context(|| format!("{}: cannot read the manifest", manifest_path.display()))?;
    let origin = manifest_path.display();
    let manifest: Manifest =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{origin}: invalid manifest: {e}"))?;
    let base = manifest_path.parent().unwrap_or(Path::new(".")).to_owned();
    let album = &manifest.album;
    let invalid = |span: std::ops::Range<usize>, message: String| {
        anyhow::anyhow!("{origin}: line {}: {message}", line_of(&text, span.start))
    };

    // Album settings.
    let catalog = match &album.catalog {
        Some(c) => {
            let digits = c.get_ref().trim();
            if digits.len() != 13 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(
                    c.span(),
                    format!("catalog '{digits}' must be 13 digits (UPC/EAN)"),
                ));
            }
            let expected = ean13_check_digit(&digits[..12]);
            if digits.as_bytes()[12] != expected {
                return Err(invalid(
                    c.span(),
                    format!(
                        "catalog '{digits}' fails its EAN-13 check: the last digit should be {} (a typing error?)",
                        expected as char
                    ),
                ));
            }
            Some(digits.to_owned())
        }
        None => None,
    };
    let target = match &album.target {
        None => None,
        Some(Level::Lufs(lufs)) => Some(Target::parse(&lufs.to_string())?),
        Some(Level::Name(name)) if name == "none" => None,
        Some(Level::Name(name)) => Some(Target::parse(name)?),
    };
    let mode = match album.loudness.as_str() {
        "track" => Mode::Track,
        "album" => Mode::Album,
        other => bail!("{origin}: loudness = '{other}': use track or album"),
    };
    let album_chain = load_chain(&base, &album.preset, &album.chain)
        .with_context(|| format!("{origin}: [album]"))?
        .unwrap_or(ChainConfig::preset("clean")?);
    let container = match album.format.as_str() {
        "wav" => Container::Wav,
        "flac" => Container::Flac,
        other => bail!("{origin}: format = '{other}': use wav or flac"),
    };
    if !(0.0..=60.0).contains(&album.gap) {
        bail!("{origin}: gap = {} s is outside 0..60 s", album.gap);
    }
    if manifest.track.is_empty() {
        bail!("{origin}: the manifest has no [[track]]");
    }
    if manifest.track.len() > MAX_TRACKS {
        bail!(
            "{origin}: {} tracks; a CUE sheet (and a CD) numbers at most {MAX_TRACKS}",
            manifest.track.len()
        );
    }
    let out_dir = match output {
        Some(dir) => dir,
        None => resolve(&base, album.output.as_deref().unwrap_or(Path::new("."))),
    };

    // Tracks.
    let mut tracks = Vec::new();
    for (index, t) in manifest.track.iter().enumerate() {
        let number = index + 1;
        let context = || format!("{origin}: track {number} ('{}')", t.title);
        let isrc = match &t.isrc {
            Some(code) => Some(normalise_isrc(code.get_ref()).ok_or_else(|| {
                invalid(
                    code.span(),
                    format!(
                        "ISRC '{}' is not 12 characters of the form CC-XXX-YY-NNNNN (country, registrant, year, designation)",
                        code.get_ref()
                    ),
                )
            })?),
            None => None,
        };
        if let (Some(code), Some(span)) = (&isrc, t.isrc.as_ref().map(Spanned::span)) {
            if let Some(other) = tracks
                .iter()
                .find(|o: &&Track| o.isrc.as_ref() == Some(code))
            {
                return Err(invalid(
                    span,
                    format!(
                        "ISRC {code} is already {}'s; every recording has its own",
                        other.describe()
                    ),
                ));
            }
        }
        let chain = load_chain(&base, &t.preset, &t.chain)
            .with_context(context)?
            .unwrap_or_else(|| album_chain.clone());
        let sources = match (&t.file, t.stem.is_empty()) {
            (Some(file), true) => vec![(resolve(&base, file), ChainConfig::default())],
            (None, false) => {
                let mut stems = Vec::new();
                for stem in &t.stem {
                    let mut config = load_chain(&base, &stem.preset, &stem.chain)
                        .with_context(context)?
                        .unwrap_or_default();
                    if config.limiter.is_some() || config.dither.is_some() {
                        bail!("{}: a stem chain cannot limit or dither; the track's chain does that to the sum", context());
                    }
                    config.gain += stem.gain;
                    config.validate().with_context(context)?;
                    stems.push((resolve(&base, &stem.file), config));
                }
                stems
            }
            (Some(_), false) => bail!("{}: give file or [[track.stem]], not both", context()),
            (None, true) => bail!("{}: needs a file or [[track.stem]] entries", context()),
        };
        let continues = match &t.continues {
            Some(c) if *c.get_ref() => {
                let previous_fades_out = index > 0
                    && manifest.track[index - 1]
                        .fade_out
                        .as_ref()
                        .is_some_and(|f| *f.get_ref() > 0.0);
                let problem = if index == 0 {
                    Some("the first track has no track to continue")
                } else if t.pregap.is_some_and(|p| p != 0.0) {
                    Some("a track that continues the previous one has no pregap")
                } else if t.fade_in.as_ref().is_some_and(|f| *f.get_ref() > 0.0) {
                    Some("a track that continues the previous one cannot fade in")
                } else if previous_fades_out {
                    Some("the track before a continuing track cannot fade out")
                } else if t.preset.is_some() || t.chain.is_some() {
                    Some("a continuing track is mastered through the chain of the track it continues; give it no preset or chain")
                } else {
                    None
                };
                if let Some(problem) = problem {
                    return Err(invalid(
                        c.span(),
                        format!("track {number} ('{}'): {problem}", t.title),
                    ));
                }
                true
            }
            _ => false,
        };
        let pregap = if continues {
            0.0
        } else {
            t.pregap.unwrap_or(if index == 0 { 0.0 } else { album.gap })
        };
        let fade = |f: &Option<Spanned<f64>>| {
            f.as_ref()
                .map_or((0.0, 0), |f| (*f.get_ref(), line_of(&text, f.span().start)))
        };
        let ((fade_in, fade_in_line), (fade_out, fade_out_line)) =
            (fade(&t.fade_in), fade(&t.fade_out));
        for (what, seconds) in [
            ("pregap", pregap),
            ("fade_in", fade_in),
            ("fade_out", fade_out),
        ] {
            if !(0.0..=60.0).contains(&seconds) {
                bail!("{}: {what} = {seconds} s is outside 0..60 s", context());
            }
        }
        let name = format!(
            "{number:02} - {}.{}",
            safe_name(&t.title),
            container.extension()
        );
        tracks.push(Track {
            number,
            title: t.title.clone(),
            performer: t
                .performer
                .clone()
                .unwrap_or_else(|| album.performer.clone()),
            isrc,
            stems: sources.len() > 1 || !t.stem.is_empty(),
            sources,
            chain,
            pregap,
            fade_in,
            fade_out,
            fade_lines: [fade_in_line, fade_out_line],
            continues,
            output: out_dir.join(name),
        });
    }

    // Every source must open; stems of one track must share a rate.
    let mut first_info = None;
    for track in &tracks {
        let mut rates = Vec::new();
        for (path, _) in &track.sources {
            let reader = Reader::open(path)?;
            let info = reader.info().clone();
            if info.channels > 2 {
                bail!(
                    "{}: has {} channels; albums take mono or stereo files",
                    path.display(),
                    info.channels
                );
            }
            rates.push((path.clone(), info.sample_rate));
            first_info.get_or_insert(info);
        }
        if let Some((first, rate)) = rates.first() {
            if let Some((other, other_rate)) = rates.iter().find(|r| r.1 != *rate) {
                bail!(
                    "track {} ('{}'): mismatched sample rates among stems: {} is {rate} Hz but {} is {other_rate} Hz",
                    track.number,
                    track.title,
                    first.display(),
                    other.display()
                );
            }
        }
    }
    let first_info = first_info.expect("at least one track");
    let rate = album.rate.unwrap_or(first_info.sample_rate);
    let (low, high) = engine::RATES;
    if !(low..=high).contains(&rate) {
        match album.rate {
            Some(_) => bail!("{origin}: rate = {rate} is outside {low}–{high} Hz"),
            None => bail!(
                "{origin}: the first track's {rate} Hz is outside the {low}–{high} Hz the chain works at (set the album's rate)"
            ),
        }
    }
    if !rate.is_multiple_of(75) {
        bail!("{origin}: CUE sheets count 75 frames per second and {rate} Hz has no whole number of samples per frame; set rate to 44100 or 48000");
    }
    let samples_per_frame = (rate / 75) as u64;
    let bits = match &album.bits {
        Some(Bits::Number(n)) => OutputBits::parse(&n.to_string())?,
        Some(Bits::Text(t)) => OutputBits::parse(t)?,
        None => master::default_bits(first_info.bits),
    };
    if container == Container::Flac && bits == OutputBits::Float32 {
        bail!("{origin}: FLAC holds integer samples only; use bits = 16 or 24");
    }
    let ceiling = master::ceiling(album.ceiling, target, &album_chain);
    if !(-12.0..=0.0).contains(&ceiling) {
        bail!("{origin}: ceiling {ceiling} dBTP is outside −12..0 dBTP");
    }

    // Outputs.
    if !out_dir.exists() {
        std::fs::create_dir_all(&out_dir).with_context(|| {
            format!("{}: cannot create the output directory", out_dir.display())
        })?;
    }
    let image = out_dir.join(format!("album.{}", container.extension()));
    let cue = out_dir.join("album.cue");
    let report_md = out_dir.join("report.md");
    let report_json = out_dir.join("report.json");
    let inputs: Vec<&Path> = tracks
        .iter()
        .flat_map(|t| t.sources.iter().map(|s| s.0.as_path()))
        .chain([manifest_path])
        .collect();
    for path in tracks
        .iter()
        .map(|t| &t.output)
        .chain([&image, &cue, &report_md, &report_json])
    {
        check_output(path, &inputs, force)?;
    }

    // Programmes: a track with the tracks that continue it, mastered as one.
    let mut programmes: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, track) in tracks.iter().enumerate() {
        match programmes.last_mut() {
            Some(last) if track.continues => last.end = i + 1,
            _ => programmes.push(i..i + 1),
        }
    }
    let describe = |range: &std::ops::Range<usize>| {
        let first = tracks[range.start].describe();
        match range.len() {
            1 => first,
            2 => format!("{first} and the track that continues it"),
            n => format!("{first} and the {} tracks that continue it", n - 1),
        }
    };

    // Each programme's pre-limiter signal, in parallel.
    let progress = Progress::new(quiet);
    let mut work: Vec<(Prepared, Ticker, Vec<u64>)> = programmes
        .par_iter()
        .map(|range| prepare_programme(&tracks[range.clone()], rate, &out_dir, &progress))
        .collect::<Result<_>>()?;
    // Where each track of a programme starts and ends in it: the cuts between continuing tracks
    // move to the nearest CUE frame.
    let mut pieces: Vec<(u64, u64)> = Vec::with_capacity(tracks.len());
    for (range, (_, _, lengths)) in programmes.iter().zip(&work) {
        let total: u64 = lengths.iter().sum();
        let mut start = 0;
        let mut sum = 0;
        for (i, &length) in range.clone().zip(lengths) {
            sum += length;
            let end = if i + 1 == range.end {
                total
            } else {
                (sum + samples_per_frame / 2) / samples_per_frame * samples_per_frame
            };
            if end <= start {
                bail!(
                    "{origin}: {}: too short to cut on a CUE frame (1/75 s)",
                    tracks[i].describe()
                );
            }
            pieces.push((start, end));
            start = end;
        }
    }
    // A fade longer than its track would start the track part-way down the curve.
    for (track, &(start, end)) in tracks.iter().zip(&pieces) {
        let seconds = (end - start) as f64 / rate as f64;
        let fades = [("fade_in", track.fade_in), ("fade_out", track.fade_out)];
        for ((what, fade), line) in fades.into_iter().zip(track.fade_lines) {
            if fade > seconds {
                bail!(
                    "{origin}: line {line}: {}: {what} = {fade} s is longer than the track ({seconds:.2} s)",
                    track.describe()
                );
            }
        }
    }

    // Gains, per programme.
    let finishes: Vec<Finish<'_>> = programmes
        .iter()
        .map(|range| {
            let (first, last) = (&tracks[range.start], &tracks[range.end - 1]);
            Finish {
                config: &first.chain,
                ceiling,
                fades: Fades {
                    fade_in: (first.fade_in * rate as f64).round() as u64,
                    fade_out: (last.fade_out * rate as f64).round() as u64,
                    total: 0,
                },
            }
        })
        .collect();
    let gains: Vec<f64> = match (target, mode) {
        (None, _) => vec![0.0; programmes.len()],
        (Some(target), Mode::Track) => work
            .par_iter_mut()
            .zip(&finishes)
            .zip(&programmes)
            .map(|(((prepared, ticker, _), finish), range)| {
                master::gain_for(Some(target), finish, prepared, ticker, target::TOLERANCE)
                    .map(|found| found.gain_db)
                    .with_context(|| format!("{origin}: {}", describe(range)))
            })
            .collect::<Result<_>>()?,
        (Some(target), Mode::Album) => {
            if finishes.iter().any(|f| f.config.limiter.is_none()) {
                bail!("{origin}: album loudness matching needs a limiter in every track's chain");
            }
            let mut unlimited = LoudnessMeter::new(rate, 2).map_err(anyhow::Error::msg)?;
            for (prepared, _, _) in &work {
                unlimited
                    .merge_programme(&prepared.pre)
                    .map_err(anyhow::Error::msg)?;
            }
            // As for one track (`master::gain_for`): a limiter idle everywhere needs no search.
            let unlimited_gain = target.lufs - unlimited.integrated();
            let mut idle = unlimited_gain.is_finite();
            for ((prepared, _, _), finish) in work.iter().zip(&finishes) {
                idle = idle && finish.needs_no_render(prepared, unlimited_gain)?;
            }
            let gain = if idle {
                unlimited_gain
            } else {
                let can_estimate = work.iter().all(|(p, _, _)| p.cache.keeps_contributions());
                let found = target::find_gain_estimating(
                    unlimited.integrated(),
                    target.lufs,
                    target::TOLERANCE,
                    can_estimate,
                    |evaluation| {
                        // Per programme, one meter per gain asked; then per gain the album's.
                        let per_programme: Vec<Vec<LoudnessMeter>> = work
                            .par_iter_mut()
                            .zip(&finishes)
                            .map(|((prepared, ticker, _), finish)| match evaluation {
                                Evaluation::Estimates(gains) => {
                                    Ok(Vec::from(finish.estimates(prepared, ticker, gains)?))
                                }
                                Evaluation::Measure(gain) => {
                                    ticker.stage(&format!("search {gain:+.1} dB"));
                                    Ok(vec![finish.measure(prepared, gain)?])
                                }
                            })
                            .collect::<Result<_>>()?;
                        let gains = per_programme.first().map_or(0, Vec::len);
                        (0..gains)
                            .map(|g| {
                                let mut album =
                                    LoudnessMeter::new(rate, 2).map_err(anyhow::Error::msg)?;
                                for meters in &per_programme {
                                    album
                                        .merge_programme(&meters[g])
                                        .map_err(anyhow::Error::msg)?;
                                }
                                Ok(album.integrated())
                            })
                            .collect()
                    },
                )
                .with_context(|| format!("{origin}: album loudness"))?;
                found.gain_db
            };
            vec![gain; programmes.len()]
        }
    };

    let album_tags = Tags {
        title: Some(album.title.clone()),
        artist: Some(album.performer.clone()),
        album: Some(album.title.clone()),
        album_artist: Some(album.performer.clone()),
        ..Tags::default()
    };
    let track_tags = |track: &Track| Tags {
        title: Some(track.title.clone()),
        artist: Some(track.performer.clone()),
        track: Some(track.number as u64),
        track_total: Some(tracks.len() as u64),
        isrc: track.isrc.clone(),
        ..album_tags.clone()
    };
    // Per-track files, a programme at a time in parallel: a programme of one track is written
    // as its file; a longer one is written whole, then cut into its tracks' files.
    let written: Vec<Vec<(LoudnessMeter, u64)>> = work
        .par_iter_mut()
        .zip(&finishes)
        .zip(&programmes)
        .zip(&gains)
        .map(|((((prepared, ticker, _), finish), range), &gain)| {
            let first = &tracks[range.start];
            let whole = if range.len() == 1 {
                None
            } else {
                Some(Removed(
                    out_dir.join(format!(".lathe-programme-{:02}.wav", first.number)),
                ))
            };
            let output = Output {
                path: whole.as_ref().map_or(&first.output, |w| &w.0),
                bits,
                channels: 2,
                tags: track_tags(first),
            };
            let (written, _, _) = master::write_verified(
                &output,
                finish.config,
                ceiling,
                finish.fades,
                None,
                Some(gain),
                prepared,
                first.number as u64,
                ticker,
            )
            .with_context(|| format!("{origin}: {}", describe(range)))?;
            ticker.bar.finish_and_clear();
            let Some(whole) = whole else {
                return Ok(vec![(written.meter, prepared.cache.frames())]);
            };
            cut_programme(
                &whole.0,
                range.clone().map(|i| {
                    (
                        &tracks[i],
                        pieces[i].1 - pieces[i].0,
                        track_tags(&tracks[i]),
                    )
                }),
                rate,
                bits,
            )
            .with_context(|| format!("{origin}: {}", describe(range)))
        })
        .collect::<Result<_>>()?;
    let written: Vec<(LoudnessMeter, u64)> = written.into_iter().flatten().collect();
    drop(work);
    let gains: Vec<f64> = programmes
        .iter()
        .zip(&gains)
        .flat_map(|(range, &gain)| std::iter::repeat_n(gain, range.len()))
        .collect();

    // The image: gaps and tracks in order, every index on a CUE frame.
    let mut image_writer = Writer::create(&image, rate, 2, bits, &album_tags)?;
    let mut image_meter = LoudnessMeter::new(rate, 2).map_err(anyhow::Error::msg)?;
    let mut position = 0u64;
    let mut reports = Vec::new();
    let zeros = vec![0.0f32; engine::BLOCK];
    let silence = |writer: &mut Writer, meter: &mut LoudnessMeter, frames: u64| -> Result<()> {
        let mut left = frames;
        while left > 0 {
            let n = (left as usize).min(engine::BLOCK);
            meter.process(&[&zeros[..n], &zeros[..n]]);
            writer.write(&[&zeros[..n], &zeros[..n]])?;
            left -= n as u64;
        }
        Ok(())
    };
    for ((track, (meter, frames)), &gain) in tracks.iter().zip(&written).zip(&gains) {
        let gap = ((track.pregap * rate as f64).round() as u64).div_ceil(samples_per_frame)
            * samples_per_frame;
        let pregap_sample = (gap > 0).then_some(position);
        silence(&mut image_writer, &mut image_meter, gap)?;
        position += gap;
        let start = position;
        let copied = copy_into(&track.output, &mut image_writer, &mut image_meter)?;
        if copied != *frames {
            bail!(
                "{}: read back {copied} frames, wrote {frames}",
                track.output.display()
            );
        }
        position += copied;
        let pad = position.div_ceil(samples_per_frame) * samples_per_frame - position;
        silence(&mut image_writer, &mut image_meter, pad)?;
        position += pad;
        reports.push(TrackReport {
            number: track.number,
            title: track.title.clone(),
            performer: track.performer.clone(),
            isrc: track.isrc.clone(),
            file: track.output.clone(),
            pregap_sample,
            start_sample: start,
            start: cue_time(start, samples_per_frame),
            frames: *frames,
            gain_db: (gain * 100.0).round() / 100.0,
            continues: track.continues,
            measurement: Measurement::of(meter, *frames),
        });
    }
    let image_frames = image_writer.frames();
    image_writer.finish()?;
    image_meter.finish();

    let report = AlbumReport {
        title: album.title.clone(),
        performer: album.performer.clone(),
        catalog,
        target_lufs: target.map(|t| t.lufs),
        loudness: if mode == Mode::Album {
            "album"
        } else {
            "track"
        },
        ceiling_dbtp: ceiling,
        sample_rate: rate,
        bits: bits.label(),
        image: image.clone(),
        cue: cue.clone(),
        album: Measurement::of(&image_meter, image_frames),
        cd_notes: cd_notes(&reports, image_frames, rate),
        tracks: reports,
    };
    write_text(&cue, &cue_sheet(&report, &tracks, samples_per_frame))?;
    write_text(
        &report_json,
        &(serde_json::to_string_pretty(&report)? + "\n"),
    )?;
    let markdown = markdown(&report, tracks.iter().any(|t| t.stems));
    write_text(&report_md, &markdown)?;
    if !quiet {
        print!("{markdown}");
    }
    Ok(())
}

/// A track's source at the album's rate: its file, or its stems each through its own chain and
/// summed; and its length in seconds as the headers tell.
fn track_source(track: &Track, rate: u32) -> Result<(Box<dyn Stream + Send>, f64)> {
    let mut parts: Vec<Box<dyn Stream + Send>> = Vec::new();
    let mut seconds = 0.0f64;
    for (path, config) in &track.sources {
        let file = FileStream::open(path, false)?;
        let info = file.reader().info().clone();
        seconds = seconds.max(info.frames.unwrap_or(0) as f64 / info.sample_rate as f64);
        let pre = PreChain::new(config, info.sample_rate as f32)?;
        if pre.is_identity() {
            parts.push(Box::new(file));
        } else {
            parts.push(Box::new(Processed::new(file, pre)));
        }
    }
    let source: Box<dyn Stream + Send> = if parts.len() == 1 {
        parts.pop().expect("one part")
    } else {
        Box::new(Sum::new(parts))
    };
    let source: Box<dyn Stream + Send> = if source.rate() == rate {
        source
    } else {
        Box::new(Resampled::new(source, rate)?)
    };
    Ok((source, seconds))
}

/// The pre-limiter signal of a programme (a track and those that continue it, one after the
/// other through the first one's chain) and the frames each track gave.
fn prepare_programme(
    tracks: &[Track],
    rate: u32,
    dir: &Path,
    progress: &Progress,
) -> Result<(Prepared, Ticker, Vec<u64>)> {
    let mut sources = Vec::new();
    let mut seconds = 0.0;
    for track in tracks {
        let (source, length) = track_source(track, rate)?;
        sources.push(source);
        seconds += length;
    }
    let first = &tracks[0];
    let name = format!("{:02} {}", first.number, first.title);
    let mut ticker = Ticker::new(progress.bar(&name, seconds), rate);
    ticker.stage(if tracks.iter().any(|t| t.stems) {
        "sum stems"
    } else {
        "analyse"
    });
    let mut source = Concat::new(sources);
    let prepared = master::prepare(&mut source, &first.chain, dir, 2, &mut ticker)
        .with_context(|| first.describe())?;
    Ok((prepared, ticker, source.lengths().to_vec()))
}

/// A file removed when this goes out of scope (a programme written whole before it is cut).
struct Removed(PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Cuts a programme written whole at `whole` into its tracks' files, each `frames` long in
/// order, metering each.
fn cut_programme<'a>(
    whole: &Path,
    pieces: impl Iterator<Item = (&'a Track, u64, Tags)>,
    rate: u32,
    bits: OutputBits,
) -> Result<Vec<(LoudnessMeter, u64)>> {
    let mut reader = Reader::open(whole)?;
    let mut buffers = vec![vec![0.0; engine::BLOCK]; 2];
    let mut written = Vec::new();
    for (track, frames, tags) in pieces {
        let mut writer = Writer::create(&track.output, rate, 2, bits, &tags)?;
        let mut meter = LoudnessMeter::new(rate, 2).map_err(anyhow::Error::msg)?;
        let mut left = frames;
        while left > 0 {
            let n = reader.read(&mut buffers, (left as usize).min(engine::BLOCK))?;
            if n == 0 {
                bail!("{}: ended {left} frames early", whole.display());
            }
            let (l, r) = (&buffers[0][..n], &buffers[1][..n]);
            meter.process(&[l, r]);
            writer.write(&[l, r])?;
            left -= n as u64;
        }
        writer.finish()?;
        meter.finish();
        written.push((meter, frames));
    }
    Ok(written)
}

/// Appends a written track file to the image, returning its frames.
fn copy_into(path: &Path, writer: &mut Writer, meter: &mut LoudnessMeter) -> Result<u64> {
    let mut reader = Reader::open(path)?;
    let mut buffers = vec![vec![0.0; engine::BLOCK]; 2];
    let mut frames = 0;
    loop {
        let n = reader.read(&mut buffers, engine::BLOCK)?;
        if n == 0 {
            return Ok(frames);
        }
        let (l, r) = (&buffers[0][..n], &buffers[1][..n]);
        meter.process(&[l, r]);
        writer.write(&[l, r])?;
        frames += n as u64;
    }
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let (temp, mut file) = TempFile::create(path)?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .with_context(|| format!("{}: write failed", path.display()))?;
    temp.commit()
}

fn cue_sheet(report: &AlbumReport, tracks: &[Track], samples_per_frame: u64) -> String {
    let mut cue = String::new();
    let _ = writeln!(cue, "REM COMMENT \"lathe {}\"", env!("CARGO_PKG_VERSION"));
    if let Some(catalog) = &report.catalog {
        let _ = writeln!(cue, "CATALOG {catalog}");
    }
    let _ = writeln!(cue, "PERFORMER \"{}\"", cue_text(&report.performer));
    let _ = writeln!(cue, "TITLE \"{}\"", cue_text(&report.title));
    let image_name = report
        .image
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let _ = writeln!(cue, "FILE \"{}\" WAVE", cue_text(&image_name));
    for (t, track) in report.tracks.iter().zip(tracks) {
        let _ = writeln!(cue, "  TRACK {:02} AUDIO", t.number);
        let _ = writeln!(cue, "    TITLE \"{}\"", cue_text(&track.title));
        let _ = writeln!(cue, "    PERFORMER \"{}\"", cue_text(&track.performer));
        if let Some(isrc) = &t.isrc {
            let _ = writeln!(cue, "    ISRC {isrc}");
        }
        if let Some(pregap) = t.pregap_sample {
            let _ = writeln!(cue, "    INDEX 00 {}", cue_time(pregap, samples_per_frame));
        }
        let _ = writeln!(
            cue,
            "    INDEX 01 {}",
            cue_time(t.start_sample, samples_per_frame)
        );
    }
    cue
}

fn markdown(report: &AlbumReport, stems: bool) -> String {
    let show = engine::show;
    let mut md = String::new();
    let _ = writeln!(md, "# {} — {}\n", report.title, report.performer);
    let target = report
        .target_lufs
        .map_or("no loudness matching".to_owned(), |t| {
            format!("target {t:.1} LUFS ({} loudness)", report.loudness)
        });
    let _ = writeln!(
        md,
        "{target}, ceiling {:.1} dBTP, {} Hz {}{}.\n",
        report.ceiling_dbtp,
        report.sample_rate,
        report.bits,
        if stems { ", stem mastered" } else { "" }
    );
    let a = &report.album;
    let _ = writeln!(
        md,
        "Album image: integrated {} LUFS, LRA {:.1} LU, true peak {} dBTP, {:.1} s.\n",
        show(a.integrated),
        a.range,
        show(a.true_peak),
        a.seconds
    );
    let _ = writeln!(
        md,
        "| # | title | ISRC | start | length s | gain dB | I LUFS | LRA LU | TP dBTP | PLR LU |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|");
    for t in &report.tracks {
        let m = &t.measurement;
        let _ = writeln!(
            md,
            "| {} | {}{} | {} | {} | {:.1} | {:+.2} | {} | {:.1} | {} | {} |",
            t.number,
            t.title,
            if t.continues {
                format!(" (continues {})", t.number - 1)
            } else {
                String::new()
            },
            t.isrc.as_deref().unwrap_or("–"),
            t.start,
            m.seconds,
            t.gain_db,
            show(m.integrated),
            m.range,
            show(m.true_peak),
            show(m.plr)
        );
    }
    if !report.cd_notes.is_empty() {
        let _ = writeln!(md, "\nFor a CD release (Red Book):\n");
        for note in &report.cd_notes {
            let _ = writeln!(md, "- {note}");
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cd_notes_name_short_tracks_and_an_overlong_album() {
        let rate = 44_100;
        let track = |number: usize, seconds: f64| TrackReport {
            number,
            title: format!("T{number}"),
            performer: String::new(),
            isrc: None,
            file: PathBuf::new(),
            pregap_sample: None,
            start_sample: 0,
            start: String::new(),
            frames: (seconds * rate as f64).round() as u64,
            gain_db: 0.0,
            continues: false,
            measurement: Measurement::default(),
        };
        let tracks = [track(1, 3.99), track(2, 4.0), track(3, 600.0)];
        let at_the_limit = (CD_MAX_SECONDS * rate as f64) as u64;
        assert_eq!(
            cd_notes(&tracks, at_the_limit, rate),
            ["track 1 ('T1') plays 3.99 s; a CD track lasts at least 4 s"]
        );
        let notes = cd_notes(&tracks[1..], at_the_limit + rate as u64, rate);
        assert_eq!(
            notes,
            ["the album runs 79:58.99; an 80-minute CD holds 79:57.99"]
        );
    }

    #[test]
    fn ean13_check_digits() {
        // Published GS1 examples and a UPC-A code padded to 13 digits.
        for code in [
            "4006381333931",
            "9780306406157",
            "0036000291452",
            "5901234123457",
        ] {
            assert_eq!(
                ean13_check_digit(&code[..12]),
                code.as_bytes()[12],
                "{code}"
            );
        }
    }

    #[test]
    fn isrc_format() {
        assert_eq!(
            normalise_isrc("US-S1Z-99-00001").as_deref(),
            Some("USS1Z9900001")
        );
        assert_eq!(
            normalise_isrc("gbayE2400123").as_deref(),
            Some("GBAYE2400123")
        );
        for bad in [
            "US-S1Z-99-0001",
            "1SS1Z9900001",
            "USS1Z9A00001",
            "USS1Z99000012",
            "",
        ] {
            assert!(normalise_isrc(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn cue_times_are_frames() {
        assert_eq!(cue_time(0, 588), "00:00:00");
        assert_eq!(cue_time(588 * 74, 588), "00:00:74");
        assert_eq!(cue_time(44_100 * 61 + 588 * 3, 588), "01:01:03");
    }
}
