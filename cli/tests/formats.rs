//! Every input format reads to the same audio: one sine written as WAV (16/24/32-bit integer,
//! 32/64-bit float) and AIFF (16/24-bit) measures the same, and an MP3 (encoded by LAME, in
//! `tests/data`) decodes gaplessly to its length and level.

mod common;

use std::path::Path;

use common::*;

const RATE: u32 = 44_100;

/// A WAV of 64-bit floats (hound writes up to 32), written by hand: RIFF, `fmt ` with format 3
/// (IEEE float), `data`.
fn write_wav_f64(path: &Path, channels: &[Vec<f32>]) {
    let frames = channels[0].len();
    let count = channels.len() as u16;
    let mut data = Vec::with_capacity(frames * channels.len() * 8);
    for i in 0..frames {
        for channel in channels {
            data.extend_from_slice(&(channel[i] as f64).to_le_bytes());
        }
    }
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&3u16.to_le_bytes());
    bytes.extend_from_slice(&count.to_le_bytes());
    bytes.extend_from_slice(&RATE.to_le_bytes());
    bytes.extend_from_slice(&(RATE * 8 * count as u32).to_le_bytes());
    bytes.extend_from_slice(&(8 * count).to_le_bytes());
    bytes.extend_from_slice(&64u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&data);
    std::fs::write(path, bytes).unwrap();
}

/// An AIFF file (big-endian PCM; the rate as an 80-bit extended float), written by hand.
fn write_aiff(path: &Path, channels: &[Vec<f32>], bits: u16) {
    let frames = channels[0].len();
    let bytes_per_sample = bits as usize / 8;
    let mut sound = Vec::with_capacity(frames * channels.len() * bytes_per_sample);
    let scale = (1i64 << (bits - 1)) as f64;
    for i in 0..frames {
        for channel in channels {
            let v = (channel[i] as f64 * scale)
                .round()
                .clamp(-scale, scale - 1.0) as i32;
            sound.extend_from_slice(&v.to_be_bytes()[4 - bytes_per_sample..]);
        }
    }
    // 44100 = 1.34582519... × 2^15: exponent 16383 + 15, mantissa with the integer bit set.
    let exponent = 16383u16 + 31 - RATE.leading_zeros() as u16;
    let mantissa = (RATE as u64) << (63 - (31 - RATE.leading_zeros()));
    let mut comm = Vec::new();
    comm.extend_from_slice(&(channels.len() as u16).to_be_bytes());
    comm.extend_from_slice(&(frames as u32).to_be_bytes());
    comm.extend_from_slice(&bits.to_be_bytes());
    comm.extend_from_slice(&exponent.to_be_bytes());
    comm.extend_from_slice(&mantissa.to_be_bytes());
    let mut body = Vec::new();
    body.extend_from_slice(b"AIFF");
    body.extend_from_slice(b"COMM");
    body.extend_from_slice(&(comm.len() as u32).to_be_bytes());
    body.extend_from_slice(&comm);
    body.extend_from_slice(b"SSND");
    body.extend_from_slice(&(8 + sound.len() as u32).to_be_bytes());
    body.extend_from_slice(&[0; 8]);
    body.extend_from_slice(&sound);
    let mut bytes = b"FORM".to_vec();
    bytes.extend_from_slice(&(body.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&body);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn every_format_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A 997 Hz sine at −6.02 dBFS: −6.02 LUFS by BS.1770's definition.
    let signal = sine(RATE, 5.0, 997.0, 0.5);
    let files = [
        ("int16.wav", Some(Format::Int(16)), 0u16),
        ("int24.wav", Some(Format::Int(24)), 0),
        ("int32.wav", Some(Format::Int(32)), 0),
        ("float32.wav", Some(Format::Float), 0),
        ("float64.wav", None, 0),
        ("int16.aiff", None, 16),
        ("int24.aif", None, 24),
    ];
    let mut paths = Vec::new();
    for (name, format, aiff_bits) in files {
        let path = d.join(name);
        match (format, aiff_bits) {
            (Some(format), _) => write_wav(&path, RATE, &signal, format),
            (None, 0) => write_wav_f64(&path, &signal),
            (None, bits) => write_aiff(&path, &signal, bits),
        }
        paths.push(path.to_str().unwrap().to_owned());
    }
    let mut args = vec!["analyze", "--json", "--quiet"];
    args.extend(paths.iter().map(String::as_str));
    let run = lathe(&args);
    assert_ok(&run);
    let reports: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    for (report, (name, _, _)) in reports.as_array().unwrap().iter().zip(files) {
        assert_eq!(report["seconds"].as_f64().unwrap(), 5.0, "{name}");
        assert_eq!(
            report["sample_rate"].as_u64().unwrap(),
            RATE as u64,
            "{name}"
        );
        let integrated = report["integrated"].as_f64().unwrap();
        assert!((integrated + 6.02).abs() <= 0.05, "{name}: {integrated}");
        let sample_peak = report["sample_peak"].as_f64().unwrap();
        assert!((sample_peak + 6.02).abs() <= 0.02, "{name}: {sample_peak}");
    }
}

/// A 1 s, −20 dBFS, 997 Hz stereo sine encoded by LAME 3.100 at 128 kb/s: decoded without the
/// encoder's delay and padding (1.000 s), at its level within the codec's tolerance.
#[test]
fn mp3_decodes_gaplessly() {
    let mp3 =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sine-997hz-minus20dbfs-1s.mp3");
    let run = lathe(&["analyze", "--json", "--quiet", mp3.to_str().unwrap()]);
    assert_ok(&run);
    let report: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    assert_eq!(report[0]["seconds"].as_f64().unwrap(), 1.0);
    let integrated = report[0]["integrated"].as_f64().unwrap();
    assert!((integrated + 20.0).abs() <= 0.6, "{integrated}");
    // And it masters like any other input.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.wav");
    let run = lathe(&[
        "master",
        mp3.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--target",
        "-16",
        "--quiet",
    ]);
    assert_ok(&run);
    let (rate, samples) = read_wav(&out);
    assert_eq!(samples[0].len(), rate as usize);
}

/// An MP3 with an ID3v2.3 tag in front (built by hand from the ID3 v2.3.0 standard: header with
/// a syncsafe size, frames with plain sizes, Latin-1 and UTF-16 text) decodes to the same length
/// and masters to a FLAC that keeps its title, artist, album, track and ISRC.
#[test]
fn mp3_id3_tags_are_kept() {
    let frame = |id: &[u8; 4], body: &[u8]| {
        let mut f = id.to_vec();
        f.extend((body.len() as u32).to_be_bytes());
        f.extend([0, 0]);
        f.extend(body);
        f
    };
    let latin1 = |text: &str| [&[0u8][..], text.as_bytes()].concat();
    // UTF-16 with a byte-order mark (encoding 1), little-endian.
    let utf16: Vec<u8> = [1u8, 0xff, 0xfe]
        .into_iter()
        .chain("Café Ω".encode_utf16().flat_map(|u| u.to_le_bytes()))
        .collect();
    let frames = [
        frame(b"TIT2", &utf16),
        frame(b"TPE1", &latin1("Someone")),
        frame(b"TALB", &latin1("Record")),
        frame(b"TRCK", &latin1("4/9")),
        frame(b"TSRC", &latin1("GBAYE2600123")),
    ]
    .concat();
    let size = frames.len();
    let mut tagged = b"ID3\x03\x00\x00".to_vec();
    tagged.extend((0..4).rev().map(|i| ((size >> (7 * i)) & 0x7f) as u8));
    tagged.extend(frames);
    let mp3 =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sine-997hz-minus20dbfs-1s.mp3");
    tagged.extend(std::fs::read(mp3).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tagged.mp3");
    std::fs::write(&input, tagged).unwrap();
    let out = dir.path().join("out.flac");
    assert_ok(&lathe(&[
        "master",
        path_str(&input),
        "-o",
        path_str(&out),
        "--quiet",
    ]));
    let tags = tag_reader("metaflac", &["--export-tags-to=-", path_str(&out)], "flac");
    assert_eq!(
        tags,
        "TITLE=Café Ω\nARTIST=Someone\nALBUM=Record\nTRACKNUMBER=4\nTRACKTOTAL=9\nISRC=GBAYE2600123\n"
    );
    let samples = tag_reader(
        "metaflac",
        &["--show-total-samples", path_str(&out)],
        "flac",
    );
    assert_eq!(samples.trim(), "44100");
}

/// What `master` writes as WAV is well formed at every word length, with an odd number of
/// mono frames (so 24-bit data needs its pad byte): hound reads every frame back, ExifTool
/// validates the file, and the chunks are in order with the sizes the format asks for (a
/// `fact` chunk with the frame count for float).
#[test]
fn wav_output_is_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let frames = 48_001;
    let input = d.join("odd.wav");
    let tone = sine(48_000, frames as f64 / 48_000.0, 997.0, 0.25);
    write_wav(&input, 48_000, &tone[..1], Format::Int(16));
    for (bits, block_align, format) in [("16", 2, 1u16), ("24", 3, 0xfffe), ("32f", 4, 0xfffe)] {
        let output = d.join(format!("out{bits}.wav"));
        assert_ok(&lathe(&[
            "master",
            path_str(&input),
            "-o",
            path_str(&output),
            "--bits",
            bits,
            "--quiet",
        ]));
        let (_, read) = read_wav(&output);
        assert_eq!((read.len(), read[0].len()), (1, frames), "{bits}");
        let validate = tag_reader(
            "exiftool",
            &["-validate", "-warning", "-a", "-s3", path_str(&output)],
            "libimage-exiftool-perl",
        );
        assert_eq!(validate.trim(), "OK", "{bits}");
        let chunks = riff_chunks(&output);
        let ids: Vec<&[u8; 4]> = chunks.iter().map(|c| &c.0).collect();
        let data = (frames * block_align) as u32;
        let bytes = std::fs::read(&output).unwrap();
        assert_eq!(u16::from_le_bytes([bytes[20], bytes[21]]), format, "{bits}");
        if bits == "32f" {
            assert_eq!(ids, [b"fmt ", b"fact", b"data"]);
            let fact = 12 + 8 + chunks[0].1 as usize + 8;
            assert_eq!(
                u32::from_le_bytes(bytes[fact..fact + 4].try_into().unwrap()),
                frames as u32
            );
        } else {
            assert_eq!(ids, [b"fmt ", b"data"], "{bits}");
        }
        assert_eq!(chunks.last().unwrap().1, data, "{bits}");
    }
}
