//! Generated programme material, file helpers and an independent meter (the `ebur128` crate)
//! for the end-to-end tests of the `lathe` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn lathe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lathe"))
        .args(args)
        .output()
        .expect("the lathe binary runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "lathe failed: {}\n{}",
        stderr(output),
        stdout(output)
    );
}

/// Music-like stereo test material: a chord with slowly moving levels and decaying noise
/// "drum" hits every half second (crest factor like a mix), `seconds` long, scaled by `gain`.
pub fn music(rate: u32, seconds: f64, gain: f64, seed: u64) -> [Vec<f32>; 2] {
    let n = (seconds * rate as f64) as usize;
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut noise = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) - 1.0
    };
    let hit = (rate as f64 * 0.5) as usize;
    let mut out = [Vec::with_capacity(n), Vec::with_capacity(n)];
    let tau = std::f64::consts::TAU;
    let pole = 1.0 - (-tau * 6000.0 / rate as f64).exp();
    let (mut lp1, mut lp2, mut lp3, mut lp4) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        let t = i as f64 / rate as f64;
        let swell = 0.6 + 0.4 * (tau * 0.1 * t).sin();
        let chord: f64 = [110.0, 164.8, 220.0, 277.2, 440.0, 1318.5, 3520.0]
            .iter()
            .enumerate()
            .map(|(k, f)| (tau * f * t + k as f64).sin() / (k as f64 + 1.5))
            .sum();
        let since_hit = (i % hit) as f64 / rate as f64;
        let drum = (-since_hit * 30.0).exp();
        // Drum noise rolls off above ~6 kHz (two one-pole stages), as recorded drums do.
        lp1 = lp1 + pole * (noise() - lp1);
        lp2 = lp2 + pole * (lp1 - lp2);
        lp3 = lp3 + pole * (noise() - lp3);
        lp4 = lp4 + pole * (lp3 - lp4);
        let (n1, n2) = (2.5 * lp2, 2.5 * lp4);
        out[0].push((gain * (0.25 * swell * chord + 0.9 * drum * n1)) as f32);
        out[1].push(
            (gain * (0.25 * swell * chord * 0.9 + 0.9 * drum * (0.7 * n1 + 0.3 * n2))) as f32,
        );
    }
    out
}

/// A steady stereo sine.
pub fn sine(rate: u32, seconds: f64, hz: f64, amplitude: f64) -> [Vec<f32>; 2] {
    let n = (seconds * rate as f64) as usize;
    let channel: Vec<f32> = (0..n)
        .map(|i| (amplitude * (std::f64::consts::TAU * hz * i as f64 / rate as f64).sin()) as f32)
        .collect();
    [channel.clone(), channel]
}

#[derive(Clone, Copy)]
pub enum Format {
    Int(u16),
    Float,
}

pub fn write_wav(path: &Path, rate: u32, channels: &[Vec<f32>], format: Format) {
    let (bits, sample_format) = match format {
        Format::Int(bits) => (bits, hound::SampleFormat::Int),
        Format::Float => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for channel in channels {
            match sample_format {
                hound::SampleFormat::Float => writer.write_sample(channel[i]).unwrap(),
                hound::SampleFormat::Int => {
                    let scale = (1i64 << (bits - 1)) as f64;
                    let v = (channel[i] as f64 * scale)
                        .round()
                        .clamp(-scale, scale - 1.0) as i32;
                    writer.write_sample(v).unwrap()
                }
            }
        }
    }
    writer.finalize().unwrap();
}

/// Planar samples and rate of a WAV file, as floats in −1..1.
pub fn read_wav(path: &Path) -> (u32, Vec<Vec<f32>>) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let channels = spec.channels as usize;
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().map(|s| s.unwrap()).collect(),
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.unwrap() as f32 / scale)
                .collect()
        }
    };
    let mut planar = vec![Vec::new(); channels];
    for frame in interleaved.chunks_exact(channels) {
        for (c, &x) in frame.iter().enumerate() {
            planar[c].push(x);
        }
    }
    (spec.sample_rate, planar)
}

/// Integrated loudness (LUFS) and true peak (dBTP) by the `ebur128` crate.
pub fn reference_loudness(rate: u32, channels: &[Vec<f32>]) -> (f64, f64) {
    use ebur128::{EbuR128, Mode};
    let mut meter = EbuR128::new(channels.len() as u32, rate, Mode::I | Mode::TRUE_PEAK).unwrap();
    let slices: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
    meter.add_frames_planar_f32(&slices).unwrap();
    let peak = (0..channels.len() as u32)
        .map(|c| meter.true_peak(c).unwrap())
        .fold(0.0f64, f64::max);
    (meter.loudness_global().unwrap(), 20.0 * peak.log10())
}

/// Files in `dir` (names), sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

pub fn in_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// True peak, dBTP, by exact band-limited reconstruction: the whole channel's spectrum,
/// zero-padded to 16x and transformed back (ideal sinc interpolation of the periodic signal),
/// ignoring the first and last 50 ms where the wrap from end to start rings. Independent of
/// dsp-core's detector and of `ebur128`'s filter.
pub fn reference_true_peak(rate: u32, channels: &[Vec<f32>]) -> f64 {
    use realfft::RealFftPlanner;
    const FACTOR: usize = 16;
    let mut planner = RealFftPlanner::<f64>::new();
    let mut peak = 0.0f64;
    for channel in channels {
        let n = channel.len();
        let forward = planner.plan_fft_forward(n);
        let mut input: Vec<f64> = channel.iter().map(|&x| x as f64).collect();
        let mut spectrum = forward.make_output_vec();
        forward.process(&mut input, &mut spectrum).unwrap();
        if n % 2 == 0 {
            // The Nyquist bin is shared between +fs/2 and −fs/2.
            let last = spectrum.len() - 1;
            spectrum[last] *= 0.5;
        }
        let inverse = planner.plan_fft_inverse(n * FACTOR);
        let mut padded = inverse.make_input_vec();
        padded[..spectrum.len()].copy_from_slice(&spectrum);
        let mut output = inverse.make_output_vec();
        inverse.process(&mut padded, &mut output).unwrap();
        let edge = (rate as usize / 20) * FACTOR;
        let scale = 1.0 / n as f64;
        peak = output[edge..output.len() - edge]
            .iter()
            .fold(peak, |p, &y| p.max((y * scale).abs()));
    }
    20.0 * peak.log10()
}

/// Runs one of the system's audio tools (`flac`, `metaflac`, `exiftool`, installed by
/// `cargo xtask test`) and returns what it printed.
pub fn tag_reader(program: &str, args: &[&str], package: &str) -> String {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program}: {e} (apt-get install {package}, or run `cargo xtask test`)")
        });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {output:?}"
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The chunks of a RIFF/WAVE file in order (id, size), after checking the RIFF size against
/// the file's length and that every chunk, with the pad byte an odd size needs, fits exactly.
pub fn riff_chunks(path: &Path) -> Vec<([u8; 4], u32)> {
    let bytes = std::fs::read(path).unwrap();
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    assert_eq!(word(4) as usize, bytes.len() - 8, "RIFF size");
    let mut chunks = Vec::new();
    let mut at = 12;
    while at < bytes.len() {
        let size = word(at + 4);
        chunks.push((bytes[at..at + 4].try_into().unwrap(), size));
        at += 8 + size as usize + (size as usize % 2);
    }
    assert_eq!(at, bytes.len(), "chunks overrun the file");
    chunks
}
