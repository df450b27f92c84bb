//! `lathe`: measure, master and assemble albums offline on Lathe's DSP.
//!
//! Exit codes: 0 success, 1 the work failed (the message names the file and the problem), 2 the
//! command line was wrong.

mod album;
mod analyze;
mod audio;
mod chain;
mod engine;
mod master;
mod progress;
mod target;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lathe",
    version,
    about = "Measure, master and assemble albums offline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Loudness (integrated, short-term max, momentary max, LRA), true and sample peak and PLR
    /// of each file.
    Analyze {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Write a PNG of short-term loudness and true peak over time per file into DIR.
        #[arg(long, value_name = "DIR")]
        plot: Option<PathBuf>,
        /// Replace existing plots.
        #[arg(long)]
        force: bool,
        /// No progress bars.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run a file through the mastering chain (EQ → dynamics → imager → limiter → dither),
    /// optionally to a loudness target.
    Master {
        input: PathBuf,
        /// Output file (.wav or .flac).
        #[arg(short, long)]
        output: PathBuf,
        /// A named chain: clean (limiter only, the default), glue, polish.
        #[arg(long, conflicts_with = "chain")]
        preset: Option<String>,
        /// A TOML chain file.
        #[arg(long, value_name = "FILE")]
        chain: Option<PathBuf>,
        /// spotify, apple, youtube, amazon, tidal, deezer, ebu, atsc, or a level in LUFS.
        #[arg(long, allow_hyphen_values = true)]
        target: Option<String>,
        /// True-peak ceiling, dBTP (default: the target's, else −1).
        #[arg(long, allow_hyphen_values = true)]
        ceiling: Option<f64>,
        /// Output sample rate, Hz (default: the input's).
        #[arg(long)]
        rate: Option<u32>,
        /// 16, 24 or 32f (default: 16 for 16-bit sources, else 24). Integer outputs are dithered.
        #[arg(long)]
        bits: Option<String>,
        /// Replace an existing output.
        #[arg(long)]
        force: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// No progress bars and no report.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Assemble an album from a TOML manifest: per-track files, one continuous image, a CUE
    /// sheet and a report.
    Album {
        manifest: PathBuf,
        /// Output directory (default: the manifest's `output`, else next to the manifest).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Replace existing outputs.
        #[arg(long)]
        force: bool,
        /// No progress bars and no summary.
        #[arg(long, short)]
        quiet: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze {
            files,
            json,
            plot,
            force,
            quiet,
        } => analyze::run(analyze::AnalyzeArgs {
            files,
            json,
            plot,
            force,
            quiet,
        }),
        Command::Master {
            input,
            output,
            preset,
            chain,
            target,
            ceiling,
            rate,
            bits,
            force,
            json,
            quiet,
        } => master::run(master::MasterArgs {
            input,
            output,
            preset,
            chain,
            target,
            ceiling,
            rate,
            bits,
            force,
            quiet,
            json,
        }),
        Command::Album {
            manifest,
            output,
            force,
            quiet,
        } => album::run(&manifest, output, force, quiet),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("lathe: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
