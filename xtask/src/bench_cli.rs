//! `cargo xtask bench-cli`: `lathe master` with the full chain (EQ → multiband dynamics →
//! imager → limiter → dither) on generated 48 kHz stereo files of 1 and 10 minutes, written as
//! WAV and as FLAC, reporting the realtime factor (audio time over CPU time: the work of one core;
//! FLAC encoding runs on a second thread, so its wall time can be shorter) and peak memory (the
//! child's maximum resident set), to show memory does not grow with length. `--hour` adds a
//! 60-minute file (1 GB of input, about 2.8 GB of temporary cache).

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

const RATE: u32 = 48_000;

const FULL_CHAIN: &str = r#"
[eq]
band = [
    { type = "low-cut", freq = 25.0, slope = 24 },
    { type = "bell", freq = 250.0, gain = -1.5, q = 1.2 },
    { type = "bell", freq = 3000.0, gain = 1.0, q = 0.8 },
    { type = "high-shelf", freq = 12000.0, gain = 1.5 },
]
[dynamics]
crossovers = [150.0, 2500.0]
band = [
    { threshold = -24.0, ratio = 2.0 },
    { threshold = -22.0, ratio = 1.5 },
    { threshold = -26.0, ratio = 2.0 },
]
[imager]
crossovers = [300.0]
widths = [0.8, 1.15]
bass_mono = 120.0
[limiter]
oversampling = 8
[dither]
shaping = "f-weighted"
"#;

/// With `hour`, also a 60-minute file (to WAV only), for the peak memory of an hour's master.
pub fn run(target_dir: &Path, hour: bool) -> Result<()> {
    super::run("cargo", &["build", "--release", "-p", "lathe-cli"])?;
    let lathe = target_dir.join("release/lathe");
    let work = target_dir.join("bench-cli");
    std::fs::create_dir_all(&work)?;
    let chain = work.join("full-chain.toml");
    std::fs::write(&chain, FULL_CHAIN)?;
    println!("\nlathe master, full chain (EQ 4 bands, 3-band dynamics, 2-band imager, 8x true-peak limiter, F-weighted dither to 16 bits), 48 kHz stereo, target -14 LUFS:");
    let lengths: &[u32] = if hour { &[1, 10, 60] } else { &[1, 10] };
    for &minutes in lengths {
        let input = work.join(format!("programme-{minutes}min.wav"));
        if !input.exists() {
            generate(&input, minutes as f64 * 60.0)?;
        }
        let containers: &[&str] = if minutes == 60 {
            &["wav"]
        } else {
            &["wav", "flac"]
        };
        for container in containers {
            bench_one(&lathe, &chain, &input, minutes, container, &work)?;
        }
    }
    Ok(())
}

/// One `lathe master` of `input` into a `container` file, timed and measured.
fn bench_one(
    lathe: &Path,
    chain: &Path,
    input: &Path,
    minutes: u32,
    container: &str,
    work: &Path,
) -> Result<()> {
    let output = work.join(format!("master-{minutes}min.{container}"));
    let _ = std::fs::remove_file(&output);
    let start = Instant::now();
    let child = Command::new(lathe)
        .args([
            "master",
            &input.to_string_lossy(),
            "-o",
            &output.to_string_lossy(),
        ])
        .args([
            "--chain",
            &chain.to_string_lossy(),
            "--target",
            "-14",
            "--bits",
            "16",
            "--json",
            "--quiet",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running lathe")?;
    let (status, cpu, max_rss_kib) = wait_with_usage(child.id())?;
    let wall = start.elapsed().as_secs_f64();
    let status = Output {
        status,
        stdout: read_all(child.stdout)?,
        stderr: read_all(child.stderr)?,
    };
    if !status.status.success() {
        bail!(
            "lathe master failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
    let report: String = String::from_utf8_lossy(&status.stdout)
        .lines()
        .filter(|l| l.contains("\"passes\"") || l.contains("\"gain_db\""))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let audio = minutes as f64 * 60.0;
    println!(
        "  {minutes:>2} min to {:<4}: {:.1} s CPU ({:.1} s wall), {:.0}x realtime on one core, {:.1} ns/sample; peak memory {:.1} MB; {report}",
        container.to_uppercase(),
        cpu,
        wall,
        audio / cpu,
        cpu * 1e9 / (audio * RATE as f64),
        max_rss_kib as f64 / 1024.0,
    );
    std::fs::remove_file(&output)?;
    Ok(())
}

/// Waits for the child `pid`: its exit status, CPU seconds (user + system) and peak resident
/// memory (KiB), from its own resource usage.
fn wait_with_usage(pid: u32) -> Result<(std::process::ExitStatus, f64, i64)> {
    use std::os::unix::process::ExitStatusExt;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, writing into locals we own.
    let waited = unsafe { libc::wait4(pid as i32, &mut status, 0, &mut usage) };
    if waited != pid as i32 {
        bail!("waiting for lathe failed");
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    Ok((
        std::process::ExitStatus::from_raw(status),
        seconds(usage.ru_utime) + seconds(usage.ru_stime),
        usage.ru_maxrss,
    ))
}

fn read_all(pipe: Option<impl std::io::Read>) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// Music-like material: a chord with moving levels and band-limited noise hits every 0.5 s.
fn generate(path: &Path, seconds: f64) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)?;
    let tau = std::f64::consts::TAU;
    let pole = 1.0 - (-tau * 6000.0 / RATE as f64).exp();
    let (mut a, mut b, mut c, mut d) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    };
    let hit = RATE as usize / 2;
    for i in 0..(seconds * RATE as f64) as usize {
        let t = i as f64 / RATE as f64;
        let swell = 0.6 + 0.4 * (tau * 0.05 * t).sin();
        let chord: f64 = [110.0, 164.8, 220.0, 277.2, 440.0, 1318.5, 3520.0]
            .iter()
            .enumerate()
            .map(|(k, f)| (tau * f * t + k as f64).sin() / (k as f64 + 1.5))
            .sum();
        let drum = (-((i % hit) as f64 / RATE as f64) * 30.0).exp();
        a += pole * (noise() - a);
        b += pole * (a - b);
        c += pole * (noise() - c);
        d += pole * (c - d);
        for x in [
            0.25 * swell * chord + 2.2 * drum * b,
            0.22 * swell * chord + 2.2 * drum * (0.7 * b + 0.3 * d),
        ] {
            writer.write_sample(((0.3 * x).clamp(-1.0, 1.0) * 8_388_607.0) as i32)?;
        }
    }
    writer.finalize()?;
    Ok(())
}
