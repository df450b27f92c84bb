//! Bad input fails clearly (non-zero exit, the file and the problem named) and leaves nothing
//! behind: no output, no temporary file, inputs untouched.

mod common;

use std::path::Path;

use common::*;

/// Runs lathe expecting failure; returns stderr after checking that `dir` holds exactly the
/// files it held before.
fn fails(dir: &Path, args: &[&str], expected: &[&str]) -> String {
    let before = listing(dir);
    let run = lathe(args);
    let message = stderr(&run);
    assert_eq!(
        run.status.code(),
        Some(1),
        "{args:?} should fail: {message}"
    );
    for part in expected {
        assert!(
            message.contains(part),
            "{args:?}: '{part}' not in: {message}"
        );
    }
    assert_eq!(listing(dir), before, "{args:?} left files behind");
    message
}

fn tone(dir: &Path, name: &str, rate: u32) -> String {
    let path = dir.join(name);
    write_wav(&path, rate, &sine(rate, 3.0, 440.0, 0.3), Format::Int(16));
    path.to_str().unwrap().to_owned()
}

#[test]
fn bad_files_fail_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out.wav");
    let out = out.to_str().unwrap();

    // Missing.
    let missing = d.join("missing.wav");
    fails(
        d,
        &["master", missing.to_str().unwrap(), "-o", out],
        &["missing.wav", "cannot open"],
    );
    fails(
        d,
        &["analyze", missing.to_str().unwrap()],
        &["missing.wav", "cannot open"],
    );

    // Not audio.
    let text = d.join("notes.wav");
    std::fs::write(&text, "these are not samples").unwrap();
    fails(
        d,
        &["master", text.to_str().unwrap(), "-o", out],
        &["notes.wav", "not a readable audio file"],
    );

    // Truncated: a WAV cut in the middle of its data.
    let cut = tone(d, "cut.wav", 44_100);
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    fails(d, &["master", &cut, "-o", out], &["cut.wav", "truncated"]);
    fails(d, &["analyze", &cut], &["cut.wav", "truncated"]);

    // Damaged float samples: mastering refuses and says where; analyze counts them.
    let damaged = d.join("damaged.wav");
    let mut samples = sine(48_000, 1.0, 440.0, 0.3);
    samples[1][4_800] = f32::NAN;
    samples[0][9_600] = f32::INFINITY;
    write_wav(&damaged, 48_000, &samples, Format::Float);
    let damaged = damaged.to_str().unwrap();
    fails(
        d,
        &["master", damaged, "-o", out],
        &["damaged.wav", "sample 4800 of channel 2 (0.100 s) is NaN"],
    );
    let run = lathe(&["analyze", damaged, "--json"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report[0]["non_finite_samples"], 2);
    assert_eq!(report[0]["first_non_finite_seconds"], 0.1);
    let run = lathe(&["analyze", damaged]);
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(
        table.contains("2 NaN or infinite samples, the first at 0.100 s"),
        "{table}"
    );

    // An output format we cannot write, and FLAC asked to hold floats.
    let good = tone(d, "good.wav", 44_100);
    let mp3 = d.join("out.mp3");
    fails(
        d,
        &["master", &good, "-o", mp3.to_str().unwrap()],
        &["out.mp3", ".wav or .flac"],
    );
    let flac = d.join("out.flac");
    fails(
        d,
        &[
            "master",
            &good,
            "-o",
            flac.to_str().unwrap(),
            "--bits",
            "32f",
        ],
        &["FLAC"],
    );

    // Absurd settings.
    fails(
        d,
        &["master", &good, "-o", out, "--target", "loudest"],
        &["unknown target"],
    );
    fails(
        d,
        &["master", &good, "-o", out, "--ceiling", "3"],
        &["ceiling"],
    );
    fails(
        d,
        &["master", &good, "-o", out, "--bits", "12"],
        &["bit depth"],
    );
    fails(
        d,
        &["master", &good, "-o", out, "--rate", "1000"],
        &["--rate 1000"],
    );
    let memo = tone(d, "memo.wav", 16_000);
    fails(
        d,
        &["master", &memo, "-o", out],
        &["memo.wav", "16000 Hz is outside", "--rate"],
    );
    std::fs::write(d.join("chain.toml"), "[limiter]\nceiling = 6.0\n").unwrap();
    let chain = d.join("chain.toml");
    fails(
        d,
        &[
            "master",
            &good,
            "-o",
            out,
            "--chain",
            chain.to_str().unwrap(),
        ],
        &["chain.toml", "ceiling = 6"],
    );
    std::fs::write(&chain, "[limiter]\ncieling = -1.0\n").unwrap();
    fails(
        d,
        &[
            "master",
            &good,
            "-o",
            out,
            "--chain",
            chain.to_str().unwrap(),
        ],
        &["chain.toml", "line 2", "cieling"],
    );
}

#[test]
fn outputs_are_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = tone(d, "in.wav", 48_000);
    let before = std::fs::read(&input).unwrap();
    // The input itself, even with --force.
    fails(
        d,
        &["master", &input, "-o", &input, "--force"],
        &["in.wav", "never overwrites its inputs"],
    );
    assert_eq!(std::fs::read(&input).unwrap(), before);
    // An existing output, unless --force.
    let out = d.join("out.wav");
    std::fs::write(&out, "keep me").unwrap();
    fails(
        d,
        &["master", &input, "-o", out.to_str().unwrap()],
        &["out.wav", "already exists", "--force"],
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    // Replaced with --force; the before/after report goes to stdout.
    let run = lathe(&["master", &input, "-o", out.to_str().unwrap(), "--force"]);
    assert_ok(&run);
    let report = stdout(&run);
    for line in [
        "before",
        "after",
        "integrated",
        "true peak",
        "loudness range",
        "ceiling -1.0 dBTP",
    ] {
        assert!(
            report.contains(line),
            "'{line}' not in the report:\n{report}"
        );
    }
    assert_eq!(&std::fs::read(&out).unwrap()[..4], b"RIFF");
}

#[test]
fn unreachable_target_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A full-scale square wave limited to −6 dBTP cannot read 0 LUFS.
    let square: Vec<f32> = (0..44_100 * 4)
        .map(|i| if (i / 50) % 2 == 0 { 0.9 } else { -0.9 })
        .collect();
    let input = d.join("square.wav");
    write_wav(&input, 44_100, &[square.clone(), square], Format::Int(24));
    let out = d.join("out.wav");
    fails(
        d,
        &[
            "master",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--target",
            "0",
            "--ceiling",
            "-6",
            "--quiet",
        ],
        &["cannot be reached"],
    );
    // Silence cannot be brought to any loudness.
    let silent = d.join("silent.wav");
    write_wav(
        &silent,
        44_100,
        &[vec![0.0; 44_100], vec![0.0; 44_100]],
        Format::Int(16),
    );
    fails(
        d,
        &[
            "master",
            silent.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--target",
            "-14",
        ],
        &["silent"],
    );
    // Sound, but shorter than one 400 ms gating block: too short, not silent.
    let blip = d.join("blip.wav");
    write_wav(
        &blip,
        44_100,
        &sine(44_100, 0.1, 440.0, 0.3),
        Format::Int(16),
    );
    let message = fails(
        d,
        &[
            "master",
            blip.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--target",
            "-14",
        ],
        &["100 ms long", "at least 400 ms"],
    );
    assert!(!message.contains("silent"), "{message}");
    // A single sample reads as a fraction of a millisecond, not as "0 ms".
    let click = d.join("click.wav");
    write_wav(&click, 44_100, &[vec![0.5], vec![0.5]], Format::Int(16));
    fails(
        d,
        &[
            "master",
            click.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--target",
            "-14",
        ],
        &["0.02 ms long"],
    );
}

#[test]
fn bad_manifests_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    tone(d, "a.wav", 44_100);
    tone(d, "b48.wav", 48_000);
    let manifest = d.join("album.toml");
    write_wav(
        &d.join("quiet.wav"),
        44_100,
        &[vec![0.0; 44_100], vec![0.0; 44_100]],
        Format::Int(16),
    );
    let hundred_tracks = format!(
        "[album]\ntitle = \"A\"\nperformer = \"B\"\n{}",
        "[[track]]\ntitle = \"T\"\nfile = \"a.wav\"\n".repeat(100)
    );
    let head =
        "[album]\ntitle = \"A\"\nperformer = \"B\"\n[[track]]\ntitle = \"One\"\nfile = \"a.wav\"\n";
    let continuing = |first: &str, second: &str| {
        format!(
            "{head}{first}[[track]]\ntitle = \"Two\"\nfile = \"a.wav\"\ncontinues = true\n{second}"
        )
    };
    let first_continues = format!("{head}continues = true\n");
    let with_pregap = continuing("", "pregap = 1.0\n");
    let fading_in = continuing("", "fade_in = 1.0\n");
    let after_fade = continuing("fade_out = 1.0\n", "");
    let own_chain = continuing("", "preset = \"glue\"\n");
    let cases: [(&str, &[&str]); 16] = [
        (&first_continues, &["album.toml", "line 7", "track 1 ('One')", "no track to continue"]),
        (&with_pregap, &["line 10", "track 2 ('Two')", "no pregap"]),
        (&fading_in, &["line 10", "track 2 ('Two')", "cannot fade in"]),
        (&after_fade, &["line 11", "track 2 ('Two')", "before a continuing track cannot fade out"]),
        (&own_chain, &["line 10", "track 2 ('Two')", "chain of the track it continues"]),
        (
            "[album]\ntitle = \"A\"\nperformer = \"B\"\n[[track]]\ntitle = \"One\"\nfile = \"a.wav\"\nfade_in = 0.5\nfade_out = 4.5\n",
            &["album.toml", "line 8", "track 1 ('One')", "fade_out = 4.5 s is longer than the track (3.00 s)"],
        ),
        (
            "[album]\ntitle = \"A\"\nperformer = \"B\"\ncatalog = \"0123456789013\"\n[[track]]\ntitle = \"One\"\nfile = \"a.wav\"\n",
            &["album.toml", "line 4", "EAN-13 check", "should be 2"],
        ),
        (
            "[album]\ntitle = \"A\"\nperformer = \"B\"\n[[track]]\ntitle = \"One\"\nfile = \"a.wav\"\nisrc = \"US-S1Z-26-00001\"\n[[track]]\ntitle = \"Two\"\nfile = \"a.wav\"\nisrc = \"uss1z2600001\"\n",
            &["album.toml", "line 11", "ISRC USS1Z2600001 is already track 1 ('One')'s"],
        ),
        (&hundred_tracks, &["album.toml", "100 tracks", "at most 99"]),
        (
            "[album]\ntitle = \"A\"\nperformer = \"B\"\n\n[[track]]\ntitle = \"One\"\nfile = \"a.wav\"\nisrc = \"US-XYZ-1\"\n",
            &["album.toml", "line 8", "ISRC 'US-XYZ-1'", "12 characters"],
        ),
        (
            "[album]\ntitle = \"A\"\nperformer = \"B\"\ncatalog = \"12345\"\n[[track]]\ntitle = \"One\"\nfile = \"a.wav\"\n",
            &["album.toml", "line 4", "catalog"],
        ),
        (
            "[album]\ntitle = \"A\"\nperformer = \"B\"\n[[track]]\ntitle = \"One\"\nfiel = \"a.wav\"\n",
            &["album.toml", "line 6", "fiel"],
        ),
        (
            "[album]\ntitle = \"A\"\nperformer = \"B\"\n[[track]]\ntitle = \"One\"\nfile = \"a.wav\n",
            &["album.toml", "line 6"],
        ),
        (
            "[album]\ntitle = \"A\"\nperformer = \"B\"\n[[track]]\ntitle = \"Stems\"\n[[track.stem]]\nfile = \"a.wav\"\n[[track.stem]]\nfile = \"b48.wav\"\n",
            &["mismatched sample rates among stems", "a.wav", "b48.wav"],
        ),
        (
            "[album]\ntitle = \"A\"\nperformer = \"B\"\n[[track]]\ntitle = \"Gone\"\nfile = \"gone.wav\"\n",
            &["gone.wav", "cannot open"],
        ),
        (
            "[album]\ntitle = \"A\"\nperformer = \"B\"\ntarget = \"spotify\"\n[[track]]\ntitle = \"One\"\nfile = \"a.wav\"\n[[track]]\ntitle = \"Hush\"\nfile = \"quiet.wav\"\n",
            &["album.toml", "track 2 ('Hush')", "silent"],
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(&manifest, text).unwrap();
        let message = fails(
            d,
            &["album", manifest.to_str().unwrap(), "--quiet"],
            expected,
        );
        assert!(!message.contains("panicked"), "{message}");
    }
}
