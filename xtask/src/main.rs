//! `cargo xtask`: bundling, installing and the full test pipeline.
//!
//! - `cargo xtask bundle <package> [--release]`: nice-plug's bundler, unchanged.
//! - `cargo xtask bundle-all [cargo args]`: every plugin in `bundler.toml`, CLAP + VST3, into
//!   `target/bundled/`.
//! - `cargo xtask install`: installs missing system packages, bundles every plugin in release
//!   mode and copies the bundles to `~/.clap` and `~/.vst3`, and the `lathe` command to
//!   `~/.local/bin`.
//! - `cargo xtask test`: formatting, clippy, unit/DSP tests, then debug-asserting bundles loaded
//!   by the CLAP host tests, the VST3 host tests (pedalboard) and the GUI screenshot test.
//! - `cargo xtask bench`: the DSP benchmarks.
//! - `cargo xtask bench-cli [--hour]`: `lathe master` with the full chain on 1- and 10-minute
//!   files (and a 60-minute one with `--hour`):
//!   realtime factor and peak memory.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

mod bench_cli;
mod system;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    nice_plug_xtask::chdir_workspace_root()?;
    match command.as_str() {
        "bundle-all" => bundle_all(&rest),
        "install" => install(),
        "test" => test(),
        "bench" => run("cargo", &["bench", "-p", "dsp-core"]),
        "bench-cli" => bench_cli::run(&target_dir(), rest.iter().any(|a| a == "--hour")),
        _ => nice_plug_xtask::main_with_args("cargo xtask", std::iter::once(command).chain(rest)),
    }
}

/// The plugin packages, from `bundler.toml`.
fn plugin_packages() -> Result<Vec<String>> {
    let text = std::fs::read_to_string("bundler.toml").context("reading bundler.toml")?;
    let table: toml::Table = toml::from_str(&text).context("parsing bundler.toml")?;
    Ok(table.keys().cloned().collect())
}

/// Display (bundle) names, from `bundler.toml`.
fn bundle_names() -> Result<Vec<String>> {
    let text = std::fs::read_to_string("bundler.toml")?;
    let table: toml::Table = toml::from_str(&text)?;
    Ok(table
        .iter()
        .map(|(package, entry)| {
            entry
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or(package)
                .to_string()
        })
        .collect())
}

fn bundle_all(cargo_args: &[String]) -> Result<()> {
    let mut args = vec!["bundle".to_string()];
    for package in plugin_packages()? {
        args.push("-p".into());
        args.push(package);
    }
    args.extend(cargo_args.iter().cloned());
    nice_plug_xtask::main_with_args("cargo xtask", args)
}

/// Cargo's target directory (`$CARGO_TARGET_DIR` or `target`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn install() -> Result<()> {
    system::ensure_packages(system::BUILD_PACKAGES)?;
    bundle_all(&["--release".to_string()])?;
    let home = PathBuf::from(std::env::var("HOME").context("HOME is not set")?);
    let bundled = target_dir().join("bundled");
    for name in bundle_names()? {
        for (extension, folder) in [("clap", ".clap"), ("vst3", ".vst3")] {
            let source = bundled.join(format!("{name}.{extension}"));
            let destination_dir = home.join(folder);
            std::fs::create_dir_all(&destination_dir)?;
            let destination = destination_dir.join(format!("{name}.{extension}"));
            copy_replacing(&source, &destination)
                .with_context(|| format!("installing {}", source.display()))?;
            println!("installed {}", destination.display());
        }
    }
    // The command-line tool.
    run("cargo", &["build", "--release", "-p", "lathe-cli"])?;
    let bin = home.join(".local/bin");
    std::fs::create_dir_all(&bin)?;
    let destination = bin.join("lathe");
    copy_replacing(&target_dir().join("release/lathe"), &destination)
        .context("installing the lathe command")?;
    println!("installed {}", destination.display());
    Ok(())
}

/// Copies a file or a bundle directory, replacing what is there via a temporary name and a
/// rename, so an interrupted install never leaves a half-copied plugin behind.
fn copy_replacing(source: &Path, destination: &Path) -> Result<()> {
    let temporary = destination.with_extension("installing");
    let _ = std::fs::remove_dir_all(&temporary);
    let _ = std::fs::remove_file(&temporary);
    copy_recursively(source, &temporary)?;
    if destination.is_dir() {
        std::fs::remove_dir_all(destination)?;
    } else if destination.exists() {
        std::fs::remove_file(destination)?;
    }
    std::fs::rename(&temporary, destination)?;
    Ok(())
}

fn copy_recursively(source: &Path, destination: &Path) -> Result<()> {
    if source.is_dir() {
        std::fs::create_dir_all(destination)?;
        for entry in std::fs::read_dir(source)? {
            let entry = entry?;
            copy_recursively(&entry.path(), &destination.join(entry.file_name()))?;
        }
    } else {
        std::fs::copy(source, destination)?;
    }
    Ok(())
}

fn run(program: &str, args: &[&str]) -> Result<()> {
    println!("\n$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("running {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn test() -> Result<()> {
    system::ensure_packages(&[system::BUILD_PACKAGES, system::TEST_PACKAGES].concat())?;
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // DSP and unit tests (everything that does not need built bundles).
    run("cargo", &["test", "--workspace", "--exclude", "host-tests"])?;

    // Bundles with debug assertions, so `assert_process_allocs` turns any allocation in
    // `process()` into an abort the host tests see.
    let mut bundle_args = vec!["--profile".to_string(), "hosttest".to_string()];
    for package in plugin_packages()? {
        bundle_args.push("--features".into());
        bundle_args.push(format!("{package}/assert_process_allocs"));
    }
    bundle_all(&bundle_args)?;

    let display = Xvfb::start()?;
    let bundle_dir = std::fs::canonicalize(target_dir().join("bundled"))?;
    let envs = [
        (
            "LATHE_BUNDLE_DIR",
            bundle_dir.to_string_lossy().into_owned(),
        ),
        ("DISPLAY", display.display.clone()),
    ];
    println!(
        "\n$ cargo test -p host-tests (CLAP host and GUI tests, DISPLAY={})",
        display.display
    );
    let status = Command::new("cargo")
        .args(["test", "-p", "host-tests", "--", "--test-threads=1"])
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .status()?;
    if !status.success() {
        bail!("CLAP host tests failed");
    }

    let python = system::python_venv(
        &target_dir().join("venv"),
        &["pedalboard==0.9.26", "numpy", "pytest"],
    )?;
    println!("\n$ pytest host-tests/vst3 (VST3 host tests through pedalboard)");
    let status = Command::new(&python)
        .args(["-m", "pytest", "-q", "host-tests/vst3"])
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .status()?;
    if !status.success() {
        bail!("VST3 host tests failed");
    }
    println!("\nAll checks passed.");
    Ok(())
}

/// A virtual X display for the GUI tests, stopped on drop.
///
/// Xvfb picks a free display number itself (`-displayfd`), which also copes with stale lock files
/// left by X servers that were killed, and is stopped with SIGTERM so that it removes its own lock
/// file and socket.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Result<Self> {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting Xvfb")?;
        // Xvfb writes the display number and a newline once it accepts connections.
        let mut line = String::new();
        let read = BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line);
        match line.trim().parse::<u32>() {
            Ok(number) if read.is_ok() => {
                // Its log goes to a pipe nobody reads; drain it so Xvfb never blocks on it.
                if let Some(mut stderr) = child.stderr.take() {
                    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
                }
                Ok(Self {
                    child,
                    display: format!(":{number}"),
                })
            }
            _ => {
                let _ = child.kill();
                let output = child.wait_with_output()?;
                bail!(
                    "Xvfb did not start ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                )
            }
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: Xvfb then deletes /tmp/.X<n>-lock and its socket.
        let terminated = Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        if !terminated {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
