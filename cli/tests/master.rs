//! `lathe master` and `lathe analyze` end to end: the built binary on generated audio, its
//! output checked by an independent meter (the `ebur128` crate, BS.1770-4 with 4x true peak).

mod common;

use common::*;

/// Lands each target within ±0.1 LU with the true peak at or under the ceiling, from a quiet
/// and a hot source, through the default chain and the full `polish` chain, down to the lowest
/// ceiling (−12 dBTP, where the limiter is aimed under the lowest it takes).
#[test]
fn master_lands_the_target_under_the_ceiling() {
    let dir = tempfile::tempdir().unwrap();
    let rate = 44_100;
    let cases: [(&str, f64, &str, f64, f64); 5] = [
        // (preset, source gain, target, expected LUFS, ceiling dBTP)
        ("clean", 0.25, "spotify", -14.0, -1.0),
        ("polish", 0.25, "-9", -9.0, -1.0),
        ("glue", 0.9, "apple", -16.0, -1.0),
        ("clean", 0.05, "ebu", -23.0, -1.0),
        ("polish", 0.9, "-20", -20.0, -12.0),
    ];
    let mut unlimited_cases = 0;
    for (n, (preset, gain, target, lufs, ceiling)) in cases.into_iter().enumerate() {
        let input = dir.path().join(format!("in{n}.wav"));
        let output = dir.path().join(format!("out{n}.wav"));
        write_wav(
            &input,
            rate,
            &music(rate, 20.0, gain, n as u64),
            Format::Int(24),
        );
        let run = lathe(&[
            "master",
            path_str(&input),
            "-o",
            path_str(&output),
            "--preset",
            preset,
            "--target",
            target,
            "--ceiling",
            &ceiling.to_string(),
            "--quiet",
            "--json",
        ]);
        assert_ok(&run);
        let report: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
        let (out_rate, samples) = read_wav(&output);
        assert_eq!(out_rate, rate);
        assert_eq!(samples[0].len(), 20 * rate as usize, "length kept");
        let (integrated, true_peak) = reference_loudness(rate, &samples);
        assert!(
            (integrated - lufs).abs() <= 0.1,
            "{preset} → {target}: {integrated:.3} LUFS (report {report})"
        );
        let reference = reference_true_peak(rate, &samples);
        // Under the ceiling on a 4x BS.1770 meter, within 0.1 dB of it by exact reconstruction.
        assert!(
            true_peak <= ceiling && reference <= ceiling + 0.1,
            "{preset} → {target}: true peak {true_peak:.3} dBTP (ebur128), {reference:.3} (16x)"
        );
        // The report says what the reference measures.
        let reported = report["after"]["integrated"].as_f64().unwrap();
        assert!(
            (reported - integrated).abs() <= 0.05,
            "{reported} vs {integrated}"
        );
        // Where the output peaks well under the ceiling the limiter had nothing to do: the gain
        // follows from the loudness alone and only the write renders.
        if reference < ceiling - 0.5 {
            assert_eq!(report["passes"], 1, "{preset} → {target}: {report}");
            unlimited_cases += 1;
        }
    }
    assert!(unlimited_cases > 0, "no case left the limiter idle");
}

/// Resampling to 48 kHz and 16-bit output: still on target, length scaled exactly, and the
/// output is dithered (not merely truncated: the LSB pattern of a quiet fade-out is noisy).
#[test]
fn master_resamples_and_reduces_bit_depth() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    let output = dir.path().join("out.wav");
    write_wav(&input, 44_100, &music(44_100, 12.0, 0.3, 7), Format::Float);
    let run = lathe(&[
        "master",
        path_str(&input),
        "-o",
        path_str(&output),
        "--target",
        "-12",
        "--ceiling",
        "-2",
        "--rate",
        "48000",
        "--bits",
        "16",
        "--quiet",
    ]);
    assert_ok(&run);
    let spec = hound::WavReader::open(&output).unwrap().spec();
    assert_eq!((spec.sample_rate, spec.bits_per_sample), (48_000, 16));
    let (rate, samples) = read_wav(&output);
    assert_eq!(samples[0].len(), 12 * 48_000);
    let (integrated, true_peak) = reference_loudness(rate, &samples);
    assert!((integrated + 12.0).abs() <= 0.1, "{integrated}");
    let reference = reference_true_peak(rate, &samples);
    assert!(
        true_peak <= -2.0 && reference <= -1.9,
        "{true_peak} {reference}"
    );
    // A rate the chain does not work at (a 16 kHz voice memo) is fine to resample from.
    let memo = dir.path().join("memo.wav");
    let memo_out = dir.path().join("memo-out.wav");
    write_wav(&memo, 16_000, &music(16_000, 6.0, 0.3, 8), Format::Int(16));
    let run = lathe(&[
        "master",
        path_str(&memo),
        "-o",
        path_str(&memo_out),
        "--target",
        "-16",
        "--rate",
        "48000",
        "--quiet",
    ]);
    assert_ok(&run);
    let (rate, samples) = read_wav(&memo_out);
    assert_eq!((rate, samples[0].len()), (48_000, 6 * 48_000));
    let (integrated, true_peak) = reference_loudness(rate, &samples);
    assert!((integrated + 16.0).abs() <= 0.1, "{integrated}");
    assert!(true_peak <= -1.0, "{true_peak}");
}

/// FLAC output decodes (with symphonia, through `lathe analyze`) to the same loudness as the
/// WAV master, and the WAV and FLAC masters of the same input hold identical samples.
#[test]
fn flac_output_matches_wav() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_wav(&input, 48_000, &music(48_000, 8.0, 0.3, 3), Format::Int(24));
    for name in ["out.wav", "out.flac"] {
        let run = lathe(&[
            "master",
            path_str(&input),
            "-o",
            path_str(&dir.path().join(name)),
            "--target",
            "-14",
            "--bits",
            "24",
            "--quiet",
        ]);
        assert_ok(&run);
    }
    let flac = std::fs::read(dir.path().join("out.flac")).unwrap();
    assert_eq!(&flac[..4], b"fLaC");
    let run = lathe(&[
        "analyze",
        "--json",
        "--quiet",
        path_str(&dir.path().join("out.wav")),
        path_str(&dir.path().join("out.flac")),
    ]);
    assert_ok(&run);
    let reports: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    for key in ["integrated", "true_peak", "sample_peak", "range"] {
        assert_eq!(reports[0][key], reports[1][key], "{key}");
    }
    assert_eq!(reports[1]["seconds"].as_f64().unwrap(), 8.0);
}

/// A master keeps the tags of its input: a FLAC tagged by `metaflac` gives a FLAC with the same
/// Vorbis comments and a WAV whose INFO chunk ExifTool reads.
#[test]
fn master_keeps_the_input_tags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_wav(
        &d.join("in.wav"),
        44_100,
        &music(44_100, 3.0, 0.2, 4),
        Format::Int(16),
    );
    let input = d.join("in.flac");
    assert_ok(&lathe(&[
        "master",
        path_str(&d.join("in.wav")),
        "-o",
        path_str(&input),
        "--quiet",
    ]));
    let tags = [
        "TITLE=Song",
        "ARTIST=Someone",
        "ALBUM=Record",
        "TRACKNUMBER=3",
        "ISRC=GBAYE2600123",
    ];
    let mut set: Vec<String> = tags.iter().map(|t| format!("--set-tag={t}")).collect();
    set.push(path_str(&input).to_owned());
    let set: Vec<&str> = set.iter().map(String::as_str).collect();
    tag_reader("metaflac", &set, "flac");
    for name in ["out.flac", "out.wav"] {
        assert_ok(&lathe(&[
            "master",
            path_str(&input),
            "-o",
            path_str(&d.join(name)),
            "--target",
            "-16",
            "--quiet",
        ]));
    }
    let kept = tag_reader(
        "metaflac",
        &["--export-tags-to=-", path_str(&d.join("out.flac"))],
        "flac",
    );
    assert_eq!(kept.lines().collect::<Vec<_>>(), tags);
    let json = tag_reader(
        "exiftool",
        &["-j", "-RIFF:all", path_str(&d.join("out.wav"))],
        "libimage-exiftool-perl",
    );
    let wav = &serde_json::from_str::<serde_json::Value>(&json).unwrap()[0];
    assert_eq!(wav["Title"], "Song", "{wav}");
    assert_eq!(wav["Artist"], "Someone", "{wav}");
    assert_eq!(wav["Product"], "Record", "{wav}");
    assert_eq!(wav["TrackNumber"], 3, "{wav}");
    // The tags come before the samples, where readers that stop at `data` still find them.
    let ids: Vec<[u8; 4]> = riff_chunks(&d.join("out.wav"))
        .iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(ids, [*b"fmt ", *b"LIST", *b"id3 ", *b"data"]);
}

/// `analyze` agrees with the independent meter and writes a plot per file.
#[test]
fn analyze_reports_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist yet is made.
    let plots = dir.path().join("plots").join("new");
    let a = dir.path().join("a.wav");
    let b = dir.path().join("b.wav");
    let sa = music(44_100, 15.0, 0.2, 1);
    let sb = sine(48_000, 10.0, 997.0, 0.5);
    write_wav(&a, 44_100, &sa, Format::Int(16));
    write_wav(&b, 48_000, &sb, Format::Float);
    let run = lathe(&[
        "analyze",
        "--json",
        "--quiet",
        "--plot",
        path_str(&plots),
        path_str(&a),
        path_str(&b),
    ]);
    assert_ok(&run);
    let reports: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    for (n, (rate, samples)) in [(44_100, &sa), (48_000, &sb)].into_iter().enumerate() {
        let (integrated, true_peak) = reference_loudness(rate, samples);
        let r = &reports[n];
        assert!(
            (r["integrated"].as_f64().unwrap() - integrated).abs() <= 0.1,
            "{r}"
        );
        assert!(
            (r["true_peak"].as_f64().unwrap() - true_peak).abs() <= 0.2,
            "{r}"
        );
        for key in [
            "short_term_max",
            "momentary_max",
            "range",
            "sample_peak",
            "plr",
        ] {
            assert!(r[key].is_number(), "{key} in {r}");
        }
    }
    // A 997 Hz sine at −6.02 dBFS: −6.02 LUFS by BS.1770's definition (±0.1).
    assert!((reports[1]["integrated"].as_f64().unwrap() + 6.02).abs() <= 0.1);
    for name in ["a.png", "b.png"] {
        let png = std::fs::read(plots.join(name)).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{name}");
        assert!(png.len() > 10_000, "{name} has content");
    }
    // The table names every file.
    let table = lathe(&["analyze", "--quiet", path_str(&a), path_str(&b)]);
    assert_ok(&table);
    assert!(stdout(&table).contains("a.wav") && stdout(&table).contains("I LUFS"));
}

/// Files that end on their peak (music with a click as its last sample; a sine at fs/4 and 45°,
/// samples 3 dB under its peak, cut off): `analyze` reads the end as a player reconstructs it,
/// the file followed by silence (the reference on the file padded with silence, ±0.2 dB), never
/// under the sample peak.
#[test]
fn analyze_reads_the_last_samples() {
    let dir = tempfile::tempdir().unwrap();
    let rate = 48_000;
    let mut clicked = music(rate, 3.0, 0.1, 7);
    for channel in &mut clicked {
        *channel.last_mut().unwrap() = 0.9;
    }
    let quarter: Vec<f32> = (0..rate as usize)
        .map(|n| {
            let phase = std::f64::consts::TAU * n as f64 / 4.0 + std::f64::consts::FRAC_PI_4;
            (0.5 * phase.sin()) as f32
        })
        .collect();
    let cut = [quarter.clone(), quarter];
    let mut paths = Vec::new();
    for (name, signal) in [("clicked.wav", &clicked), ("cut.wav", &cut)] {
        let path = dir.path().join(name);
        write_wav(&path, rate, signal, Format::Float);
        paths.push(path);
    }
    let mut args = vec!["analyze", "--json", "--quiet"];
    args.extend(paths.iter().map(|p| path_str(p)));
    let run = lathe(&args);
    assert_ok(&run);
    let reports: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    for (n, signal) in [&clicked, &cut].into_iter().enumerate() {
        let silence = vec![0.0f32; rate as usize / 10];
        let padded: Vec<Vec<f32>> = signal
            .iter()
            .map(|c| [&silence[..], c, &silence[..]].concat())
            .collect();
        let expected = reference_true_peak(rate, &padded);
        let r = &reports[n];
        let (true_peak, sample_peak) = (
            r["true_peak"].as_f64().unwrap(),
            r["sample_peak"].as_f64().unwrap(),
        );
        assert!((true_peak - expected).abs() <= 0.2, "{expected}: {r}");
        assert!(true_peak >= sample_peak, "{r}");
    }
}

/// The reference reconstruction reads sines at their amplitude, including the fs/4 sine at 45°
/// whose samples sit 3 dB under its peak, and a 19 kHz sine.
#[test]
fn reference_true_peak_is_exact_on_sines() {
    for (hz, phase) in [
        (997.0, 0.3),
        (11_025.0, std::f64::consts::FRAC_PI_4),
        (19_000.0, 0.1),
    ] {
        let x: Vec<f32> = (0..44_100)
            .map(|n| {
                (0.5 * (std::f64::consts::TAU * hz * n as f64 / 44_100.0 + phase).sin()) as f32
            })
            .collect();
        let tp = reference_true_peak(44_100, &[x]);
        assert!((tp + 6.0206).abs() < 0.01, "{hz} Hz: {tp}");
    }
}

/// A mono file masters to a mono file on target (the chain runs dual-mono).
#[test]
fn mono_stays_mono() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mono.wav");
    let output = dir.path().join("out.flac");
    let [left, _] = music(48_000, 10.0, 0.3, 9);
    write_wav(&input, 48_000, &[left], Format::Int(16));
    assert_ok(&lathe(&[
        "master",
        path_str(&input),
        "-o",
        path_str(&output),
        "--target",
        "-16",
        "--quiet",
    ]));
    let run = lathe(&["analyze", "--json", "--quiet", path_str(&output)]);
    assert_ok(&run);
    let report: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    assert_eq!(report[0]["channels"].as_u64().unwrap(), 1);
    assert_eq!(report[0]["seconds"].as_f64().unwrap(), 10.0);
    // BS.1770 counts one channel once: the mono programme itself is on target.
    assert!(
        (report[0]["integrated"].as_f64().unwrap() + 16.0).abs() <= 0.1,
        "{report}"
    );
}
