//! System packages and the Python environment the build and tests need, installed only when
//! missing (Debian: apt-get, as root or through sudo).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Needed to build every plugin (and the standalone/JACK/ALSA bits some crates probe for) and to
/// open the editors: X11, OpenGL (Mesa), ALSA, JACK and pkg-config.
pub const BUILD_PACKAGES: &[&str] = &[
    "pkg-config",
    "libx11-dev",
    "libx11-xcb-dev",
    "libxcursor-dev",
    "libxrandr-dev",
    "libgl-dev",
    "libgl1-mesa-dri",
    "libasound2-dev",
    "libjack-jackd2-dev",
];

/// Needed by the tests on top of the build packages: a virtual X display for the GUI tests;
/// FLAC's and ExifTool's readers, which check the CLI's tags independently.
pub const TEST_PACKAGES: &[&str] = &["xvfb", "xauth", "flac", "libimage-exiftool-perl"];

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Installs whichever of `packages` are missing.
pub fn ensure_packages(packages: &[&str]) -> Result<()> {
    if !Path::new("/usr/bin/dpkg-query").exists() {
        eprintln!(
            "not a Debian system: make sure these are installed: {}",
            packages.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("installing missing system packages: {}", missing.join(" "));
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let sudo: &[&str] = if is_root { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| -> Result<()> {
        let mut command: Vec<&str> = sudo.to_vec();
        command.push("apt-get");
        command.extend_from_slice(args);
        let status = Command::new(command[0])
            .args(&command[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("running apt-get")?;
        if !status.success() {
            bail!("`{}` failed", command.join(" "));
        }
        Ok(())
    };
    apt(&["update", "-q"])?;
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend(missing);
    apt(&install)
}

/// A Python virtual environment at `venv` with `packages`; returns its interpreter.
pub fn python_venv(venv: &Path, packages: &[&str]) -> Result<PathBuf> {
    let python = venv.join("bin/python");
    if !python.exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .status()
            .context("creating the Python venv (python3 -m venv)")?;
        if !status.success() {
            bail!("python3 -m venv failed");
        }
    }
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
        .args(packages)
        .status()
        .context("pip install")?;
    if !status.success() {
        bail!("pip install {} failed", packages.join(" "));
    }
    Ok(python)
}
