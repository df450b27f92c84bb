//! `lathe album` end to end: CUE indexes against the written image sample by sample, gaps,
//! fades, per-track and album loudness matching, stems, and the report.

mod common;

use std::path::Path;

use common::*;

/// CUE `mm:ss:ff` to samples.
fn cue_samples(time: &str, rate: u32) -> u64 {
    let parts: Vec<u64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    ((parts[0] * 60 + parts[1]) * 75 + parts[2]) * (rate as u64 / 75)
}

/// (track number, INDEX 00, INDEX 01) from a CUE sheet, in samples.
fn cue_indexes(cue: &str, rate: u32) -> Vec<(u32, Option<u64>, u64)> {
    let mut tracks: Vec<(u32, Option<u64>, u64)> = Vec::new();
    for line in cue.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("TRACK ") {
            tracks.push((rest[..2].parse().unwrap(), None, 0));
        } else if let Some(time) = line.strip_prefix("INDEX 00 ") {
            tracks.last_mut().unwrap().1 = Some(cue_samples(time, rate));
        } else if let Some(time) = line.strip_prefix("INDEX 01 ") {
            tracks.last_mut().unwrap().2 = cue_samples(time, rate);
        }
    }
    tracks
}

fn write_manifest(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("album.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Three tracks (one built from two stems), 2 s gaps, a 3.5 s gap before track 3, fades: the
/// CUE's INDEX 01 points at the first sample of each track file inside the image, INDEX 00 at
/// the start of silence, all on CUE frames; every track lands on the target; fades follow the
/// sine-squared curve exactly (no limiter in the way: the fade test track is quiet).
#[test]
fn album_image_cue_gaps_fades_and_loudness() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rate = 44_100;
    write_wav(
        &d.join("one.wav"),
        rate,
        &music(rate, 9.3, 0.3, 1),
        Format::Int(24),
    );
    write_wav(
        &d.join("drums.wav"),
        rate,
        &music(rate, 7.0, 0.2, 2),
        Format::Int(24),
    );
    write_wav(
        &d.join("keys.wav"),
        rate,
        &sine(rate, 7.5, 330.0, 0.2),
        Format::Float,
    );
    write_wav(
        &d.join("three.wav"),
        48_000,
        &music(48_000, 6.1, 0.5, 3),
        Format::Int(16),
    );
    let manifest = write_manifest(
        d,
        r#"
[album]
title = "Night Drive"
performer = "The Lathes"
catalog = "0123456789012"
target = "spotify"
bits = 24
gap = 2.0
output = "out"

[[track]]
title = "One"
file = "one.wav"
isrc = "US-S1Z-26-00001"
fade_in = 0.5

[[track]]
title = "Two: Stems"
performer = "Guest"
fade_out = 1.5
[[track.stem]]
file = "drums.wav"
gain = -2.0
[[track.stem]]
file = "keys.wav"

[[track]]
title = "Three"
file = "three.wav"
pregap = 3.5
isrc = "GBAYE2600123"
"#,
    );
    let run = lathe(&["album", manifest.to_str().unwrap(), "--quiet"]);
    assert_ok(&run);
    let out = d.join("out");
    let cue = std::fs::read_to_string(out.join("album.cue")).unwrap();
    for expected in [
        "CATALOG 0123456789012",
        "TITLE \"Night Drive\"",
        "PERFORMER \"The Lathes\"",
        "FILE \"album.wav\" WAVE",
        "TITLE \"Two: Stems\"",
        "PERFORMER \"Guest\"",
        "ISRC USS1Z2600001",
        "ISRC GBAYE2600123",
    ] {
        assert!(cue.contains(expected), "{expected} missing from\n{cue}");
    }
    let (image_rate, image) = read_wav(&out.join("album.wav"));
    assert_eq!(image_rate, rate);
    let indexes = cue_indexes(&cue, rate);
    assert_eq!(indexes.len(), 3);
    let names = ["01 - One.wav", "02 - Two_ Stems.wav", "03 - Three.wav"];
    let gaps = [0.0, 2.0, 3.5];
    let mut previous_end = 0u64;
    for ((number, index0, index1), (name, gap)) in indexes.iter().zip(names.iter().zip(gaps)) {
        let (track_rate, track) = read_wav(&out.join(name));
        assert_eq!(track_rate, rate, "{name} resampled to the album rate");
        let start = *index1 as usize;
        let len = track[0].len();
        // The track file is the image from INDEX 01 on, sample for sample.
        for c in 0..2 {
            assert_eq!(
                &image[c][start..start + len],
                &track[c][..],
                "track {number} channel {c}"
            );
        }
        // Silence from the previous track's end to INDEX 01, INDEX 00 where the gap starts.
        for channel in &image {
            assert!(channel[previous_end as usize..start]
                .iter()
                .all(|&x| x == 0.0));
        }
        let gap_samples = *index1 - index0.unwrap_or(*index1);
        if gap > 0.0 {
            let wanted = (gap * rate as f64) as u64;
            assert!(
                gap_samples >= wanted && gap_samples < wanted + 588,
                "track {number}: gap {gap_samples} samples for {gap} s"
            );
            assert_eq!(index0.unwrap(), previous_end.div_ceil(588) * 588);
        } else {
            assert!(index0.is_none());
        }
        previous_end = *index1 + len as u64;
        // On target: every track within ±0.1 LU (independent meter), under the ceiling.
        let (integrated, true_peak) = reference_loudness(rate, &track);
        assert!(
            (integrated + 14.0).abs() <= 0.1,
            "track {number}: {integrated}"
        );
        assert!(true_peak <= -1.0, "track {number}: {true_peak}");
    }
    assert_eq!(
        image[0].len() as u64 % 588,
        0,
        "the image ends on a CUE frame"
    );

    // Fades: track 1 starts from silence and reaches half gain at 0.25 s (sine-squared);
    // track 2 ends in silence.
    let (_, one) = read_wav(&out.join(names[0]));
    assert_eq!(one[0][0], 0.0);
    let (_, two) = read_wav(&out.join(names[1]));
    assert!(two[0].last().unwrap().abs() < 1e-5);
    let tail_rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    let n = two[0].len();
    assert!(
        tail_rms(&two[0][n - 2205..])
            < 0.02 * tail_rms(&two[0][n - 3 * rate as usize..n - 2 * rate as usize])
    );

    // Reports: JSON with per-track loudness, Markdown with a row per track.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["tracks"].as_array().unwrap().len(), 3);
    for (t, (_, _, index1)) in report["tracks"].as_array().unwrap().iter().zip(&indexes) {
        assert_eq!(t["start_sample"].as_u64().unwrap(), *index1);
        assert!((t["integrated"].as_f64().unwrap() + 14.0).abs() <= 0.1);
        assert!(t["true_peak"].as_f64().unwrap() <= -1.0);
    }
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        markdown.contains("| 3 | Three | GBAYE2600123 |"),
        "{markdown}"
    );
}

/// A fade on a quiet sine with no limiter and no target: the written track is the input times
/// the sine-squared fade curve (float output, so no dither in the way).
#[test]
fn fades_follow_the_curve() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rate = 48_000;
    let input = sine(rate, 4.0, 440.0, 0.25);
    write_wav(&d.join("tone.wav"), rate, &input, Format::Float);
    std::fs::write(d.join("none.toml"), "gain = 0.0\n").unwrap();
    let manifest = write_manifest(
        d,
        r#"
[album]
title = "Fades"
performer = "Test"
chain = "none.toml"
bits = "32f"

[[track]]
title = "Tone"
file = "tone.wav"
fade_in = 1.0
fade_out = 2.0
"#,
    );
    assert_ok(&lathe(&["album", manifest.to_str().unwrap(), "--quiet"]));
    let (_, out) = read_wav(&d.join("01 - Tone.wav"));
    let total = input[0].len();
    for i in (0..total).step_by(97) {
        let fade_in = (std::f64::consts::FRAC_PI_2 * (i as f64 / rate as f64).min(1.0))
            .sin()
            .powi(2);
        let from_end = (total - 1 - i) as f64 / (2 * rate) as f64;
        let fade_out = (std::f64::consts::FRAC_PI_2 * from_end.min(1.0))
            .sin()
            .powi(2);
        let expected = input[0][i] as f64 * fade_in * fade_out;
        assert!(
            (out[0][i] as f64 - expected).abs() < 1e-6,
            "sample {i}: {} vs {expected}",
            out[0][i]
        );
    }
}

/// Album mode keeps the songs' relative loudness (one gain for all) and lands the album as a
/// whole on the target; track mode brings each to the target.
#[test]
fn album_mode_keeps_relative_loudness() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rate = 44_100;
    write_wav(
        &d.join("loud.wav"),
        rate,
        &music(rate, 10.0, 0.1, 4),
        Format::Int(24),
    );
    write_wav(
        &d.join("soft.wav"),
        rate,
        &music(rate, 10.0, 0.05, 5),
        Format::Int(24),
    );
    let manifest = write_manifest(
        d,
        r#"
[album]
title = "Dynamics"
performer = "Test"
target = -30
loudness = "album"
gap = 1.0

[[track]]
title = "Loud"
file = "loud.wav"

[[track]]
title = "Soft"
file = "soft.wav"
"#,
    );
    assert_ok(&lathe(&["album", manifest.to_str().unwrap(), "--quiet"]));
    let (_, loud) = read_wav(&d.join("01 - Loud.wav"));
    let (_, soft) = read_wav(&d.join("02 - Soft.wav"));
    let (l, _) = reference_loudness(rate, &loud);
    let (s, _) = reference_loudness(rate, &soft);
    // The sources differ by 20·log10(2) = 6.02 dB; at −30 LUFS nothing reaches the limiter.
    assert!((l - s - 6.02).abs() < 0.05, "loud {l}, soft {s}");
    // The album (both tracks as one programme) is on target.
    let both: Vec<Vec<f32>> = (0..2)
        .map(|c| [loud[c].clone(), soft[c].clone()].concat())
        .collect();
    let (album, _) = reference_loudness(rate, &both);
    assert!((album + 30.0).abs() <= 0.1, "album {album}");
}

/// Per-track files and the image carry the album's and the track's tags, read back by
/// third-party readers: FLAC's Vorbis comments by `metaflac` (and the stream verified by
/// `flac -t`), WAV's LIST/INFO chunk by ExifTool; the WAV samples are intact after the chunk.
#[test]
fn track_files_carry_their_tags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rate = 44_100;
    let source = music(rate, 3.0, 0.1, 6);
    write_wav(&d.join("a.wav"), rate, &source, Format::Int(24));
    write_wav(&d.join("b.wav"), rate, &source, Format::Int(24));
    for format in ["flac", "wav"] {
        let manifest = write_manifest(
            d,
            &format!(
                r#"
[album]
title = "Night Drive"
performer = "The Lathes"
target = "none"
format = "{format}"
output = "{format}"

[[track]]
title = "Über Café"
file = "a.wav"
isrc = "US-S1Z-26-00001"

[[track]]
title = "Two"
performer = "Guest"
file = "b.wav"
"#
            ),
        );
        assert_ok(&lathe(&["album", manifest.to_str().unwrap(), "--quiet"]));
    }

    // Both 3 s tracks are under the Red Book's 4 s.
    let report = std::fs::read_to_string(d.join("wav").join("report.md")).unwrap();
    for track in ["track 1 ('Über Café')", "track 2 ('Two')"] {
        let note = format!("- {track} plays 3.00 s; a CD track lasts at least 4 s");
        assert!(report.contains(&note), "{note} not in\n{report}");
    }

    let flac = |name: &str| {
        let path = d.join("flac").join(name);
        tag_reader("flac", &["-t", "-s", path_str(&path)], "flac");
        tag_reader("metaflac", &["--export-tags-to=-", path_str(&path)], "flac")
    };
    assert_eq!(
        flac("01 - Über Café.flac"),
        "TITLE=Über Café\nARTIST=The Lathes\nALBUM=Night Drive\nALBUMARTIST=The Lathes\n\
         TRACKNUMBER=1\nTRACKTOTAL=2\nISRC=USS1Z2600001\n"
    );
    assert_eq!(
        flac("02 - Two.flac"),
        "TITLE=Two\nARTIST=Guest\nALBUM=Night Drive\nALBUMARTIST=The Lathes\n\
         TRACKNUMBER=2\nTRACKTOTAL=2\n"
    );
    assert_eq!(
        flac("album.flac"),
        "TITLE=Night Drive\nARTIST=The Lathes\nALBUM=Night Drive\nALBUMARTIST=The Lathes\n"
    );

    // ExifTool's reading of one group of tags (RIFF INFO or ID3) of a WAV.
    let exif = |name: &str, group: &str| -> serde_json::Value {
        let path = d.join("wav").join(name);
        let json = tag_reader(
            "exiftool",
            &["-j", &format!("-{group}:all"), path_str(&path)],
            "libimage-exiftool-perl",
        );
        serde_json::from_str::<serde_json::Value>(&json).unwrap()[0].clone()
    };
    let wav = |name: &str| exif(name, "RIFF");
    let one = wav("01 - Über Café.wav");
    assert_eq!(one["Title"], "Über Café", "{one}");
    assert_eq!(one["Artist"], "The Lathes", "{one}");
    assert_eq!(one["Product"], "Night Drive", "{one}");
    assert_eq!(one["TrackNumber"], 1, "{one}");
    // The ID3 tag in the same files, with the album artist and the ISRC INFO has no field for.
    let one = exif("01 - Über Café.wav", "ID3");
    for (key, value) in [
        ("Title", "Über Café"),
        ("Artist", "The Lathes"),
        ("Album", "Night Drive"),
        ("Band", "The Lathes"),
        ("Track", "1/2"),
        ("ISRC", "USS1Z2600001"),
    ] {
        assert_eq!(one[key], value, "{key}: {one}");
    }
    let two = wav("02 - Two.wav");
    assert_eq!(two["Artist"], "Guest", "{two}");
    assert_eq!(two["TrackNumber"], 2, "{two}");
    assert_eq!(wav("album.wav")["Title"], "Night Drive");
    // `master` reads the WAV's INFO and ID3 chunks back and carries them on.
    let remastered = d.join("remastered.flac");
    assert_ok(&lathe(&[
        "master",
        path_str(&d.join("wav").join("01 - Über Café.wav")),
        "-o",
        path_str(&remastered),
        "--quiet",
    ]));
    assert_eq!(
        tag_reader(
            "metaflac",
            &["--export-tags-to=-", path_str(&remastered)],
            "flac"
        ),
        "TITLE=Über Café\nARTIST=The Lathes\nALBUM=Night Drive\nALBUMARTIST=The Lathes\n\
         TRACKNUMBER=1\nTRACKTOTAL=2\nISRC=USS1Z2600001\n"
    );
    // The WAV holds what the FLAC of the same track holds (decoded by `flac`).
    let decoded = d.join("decoded.wav");
    tag_reader(
        "flac",
        &[
            "-d",
            "-s",
            "-o",
            path_str(&decoded),
            path_str(&d.join("flac").join("02 - Two.flac")),
        ],
        "flac",
    );
    let (_, from_wav) = read_wav(&d.join("wav").join("02 - Two.wav"));
    assert_eq!(from_wav[0].len(), source[0].len());
    assert_eq!(from_wav, read_wav(&decoded).1);
}

/// A live album: one performance cut into two tracks mid-waveform, the second continuing the
/// first. They are mastered as one programme: the image is, sample for sample, `lathe master` of
/// the uncut performance (float output, no dither); the cut moves to the CUE frame nearest it,
/// where INDEX 01 of track 2 and its file begin; the files add up to the image, and nothing is
/// left behind. With a loudness target, the programme as a whole lands on it.
#[test]
fn continuing_tracks_are_one_programme() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rate = 48_000u32;
    let performance = music(rate, 8.0, 0.3, 11);
    let cut = 3 * rate as usize + 97;
    let halves: [Vec<Vec<f32>>; 2] = [
        performance.iter().map(|c| c[..cut].to_vec()).collect(),
        performance.iter().map(|c| c[cut..].to_vec()).collect(),
    ];
    write_wav(&d.join("whole.wav"), rate, &performance, Format::Float);
    write_wav(&d.join("first.wav"), rate, &halves[0], Format::Float);
    write_wav(&d.join("second.wav"), rate, &halves[1], Format::Float);
    let manifest = |target: &str| {
        format!(
            r#"
[album]
title = "Live"
performer = "Band"
target = {target}
preset = "polish"
bits = "32f"
gap = 2.0

[[track]]
title = "Opening"
file = "first.wav"

[[track]]
title = "Encore"
file = "second.wav"
continues = true
"#
        )
    };
    let manifest_path = write_manifest(d, &manifest("\"none\""));
    assert_ok(&lathe(&["album", path_str(&manifest_path), "--quiet"]));
    let whole = d.join("whole-master.wav");
    assert_ok(&lathe(&[
        "master",
        path_str(&d.join("whole.wav")),
        "-o",
        path_str(&whole),
        "--preset",
        "polish",
        "--bits",
        "32f",
        "--quiet",
    ]));
    let (_, image) = read_wav(&d.join("album.wav"));
    let (_, mastered) = read_wav(&whole);
    let lengths = |x: &[Vec<f32>]| x.iter().map(Vec::len).collect::<Vec<_>>();
    assert_eq!(lengths(&image), lengths(&mastered));
    let differing = (0..2)
        .flat_map(|c| image[c].iter().zip(&mastered[c]))
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    assert_eq!(
        differing, 0,
        "samples where the image is not the uncut master"
    );
    let frame = rate as usize / 75;
    let nearest = (cut + frame / 2) / frame * frame;
    let cue = std::fs::read_to_string(d.join("album.cue")).unwrap();
    let indexes = cue_indexes(&cue, rate);
    assert_eq!(indexes, vec![(1, None, 0), (2, None, nearest as u64)]);
    let (_, first) = read_wav(&d.join("01 - Opening.wav"));
    let (_, second) = read_wav(&d.join("02 - Encore.wav"));
    assert_eq!(first[0].len(), nearest);
    for c in 0..2 {
        assert!([&first[c][..], &second[c][..]].concat() == image[c]);
    }
    let mut left = listing(d);
    left.retain(|name| name.starts_with('.'));
    assert!(left.is_empty(), "left behind: {left:?}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["tracks"][1]["continues"], true);
    let markdown = std::fs::read_to_string(d.join("report.md")).unwrap();
    assert!(markdown.contains("| Encore (continues 1) |"), "{markdown}");

    // To a target: the programme as a whole.
    std::fs::write(&manifest_path, manifest("-16")).unwrap();
    assert_ok(&lathe(&[
        "album",
        path_str(&manifest_path),
        "--quiet",
        "--force",
    ]));
    let (_, image) = read_wav(&d.join("album.wav"));
    let (integrated, true_peak) = reference_loudness(rate, &image);
    assert!((integrated + 16.0).abs() <= 0.1, "{integrated}");
    assert!(true_peak <= -1.0, "{true_peak}");
}
