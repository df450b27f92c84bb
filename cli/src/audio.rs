//! Reading any supported file as a stream of planar `f32` blocks, and writing WAV or FLAC through
//! a temporary file that only replaces the destination once it is complete.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// What a file holds.
#[derive(Clone, Debug)]
pub struct AudioInfo {
    pub sample_rate: u32,
    pub channels: usize,
    /// Frames the container announces (exact for WAV, AIFF and FLAC).
    pub frames: Option<u64>,
    pub bits: Option<u32>,
    /// Lossless containers announce an exact length; a shorter stream is truncated.
    pub exact_length: bool,
}

/// A file being decoded block by block.
pub struct Reader {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: AudioInfo,
    /// Decoded frames not yet handed out, per channel, from `pending_start`.
    pending: Vec<Vec<f32>>,
    pending_start: usize,
    decoded: u64,
    finished: bool,
    /// Whether a NaN or infinite sample is an error (else it is read as 0 and counted).
    reject_non_finite: bool,
    non_finite: NonFinite,
    /// What the file says it is.
    tags: Tags,
    /// A PCM WAV's samples, read straight from the file instead of through the decoder.
    pcm: Option<PcmData>,
}

/// NaN or infinite samples met so far (a damaged float file), read as silence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NonFinite {
    pub count: u64,
    /// Frame of the first.
    pub first: Option<u64>,
}

impl Reader {
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            bail!("{}: is a directory, not an audio file", path.display());
        }
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(extension);
        }
        // Gapless decoding (encoder delay and padding removed) is the decoder default.
        let options = FormatOptions::default();
        let mut format = symphonia::default::get_probe()
            .probe(&hint, stream, options, MetadataOptions::default())
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}: not a readable audio file (WAV, AIFF, FLAC or MP3): {}",
                    path.display(),
                    describe(&e)
                )
            })?;
        let track = format
            .default_track(TrackType::Audio)
            .with_context(|| format!("{}: the file has no audio track", path.display()))?;
        let params = match &track.codec_params {
            Some(CodecParameters::Audio(params)) => params.clone(),
            _ => bail!(
                "{}: the audio track has no codec parameters",
                path.display()
            ),
        };
        let sample_rate = params
            .sample_rate
            .with_context(|| format!("{}: the sample rate is unknown", path.display()))?;
        let channels = params
            .channels
            .as_ref()
            .map(|c| c.count())
            .with_context(|| format!("{}: the channel count is unknown", path.display()))?;
        if channels == 0 {
            bail!("{}: the file has no channels", path.display());
        }
        let lossy = params.codec == symphonia::core::codecs::audio::well_known::CODEC_ID_MP3;
        let info = AudioInfo {
            sample_rate,
            channels,
            frames: track.num_frames,
            bits: params.bits_per_sample,
            exact_length: !lossy,
        };
        let track_id = track.id;
        let mut tags = read_tags(&mut *format);
        if tags == Tags::default() {
            // symphonia 0.6 parses a WAV's INFO chunk but does not hand it on.
            tags = riff_tags(path).unwrap_or_default();
        }
        let pcm = PcmData::open(path, &info)?;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}: unsupported audio codec: {}",
                    path.display(),
                    describe(&e)
                )
            })?;
        Ok(Self {
            path: path.to_owned(),
            format,
            decoder,
            track_id,
            info,
            pending: vec![Vec::new(); channels],
            pending_start: 0,
            decoded: 0,
            finished: false,
            reject_non_finite: false,
            non_finite: NonFinite::default(),
            tags,
            pcm,
        })
    }

    /// Reads through symphonia's decoder even where the file's samples could be read directly
    /// (the reference the direct reading is tested against).
    #[cfg(test)]
    fn decoded_by_symphonia(mut self) -> Self {
        self.pcm = None;
        self
    }

    /// Makes a NaN or infinite sample an error naming where it is: what is mastered must not
    /// quietly hide damage (`analyze` reads such files and counts them instead).
    pub fn reject_non_finite(&mut self) {
        self.reject_non_finite = true;
    }

    /// NaN or infinite samples read so far (each read as 0).
    pub fn non_finite(&self) -> NonFinite {
        self.non_finite
    }

    /// Replaces the non-finite samples of the newly decoded `pending` with 0 and counts them.
    fn check_finite(&mut self) -> Result<()> {
        let start = self.decoded - self.pending[0].len() as u64;
        let mut pending = std::mem::take(&mut self.pending);
        let checked = self.scrub_non_finite(pending.iter_mut().map(|c| &mut c[..]), start);
        self.pending = pending;
        checked
    }

    /// Replaces the non-finite samples of `channels`, whose first frame is frame `start` of the
    /// file, with 0 and counts them (or fails, when they are rejected).
    fn scrub_non_finite<'a>(
        &mut self,
        channels: impl Iterator<Item = &'a mut [f32]>,
        start: u64,
    ) -> Result<()> {
        for (channel, samples) in channels.enumerate() {
            // Without early exits, so that the common all-finite check vectorises.
            let finite = |chunk: &[f32]| chunk.iter().fold(true, |all, x| all & x.is_finite());
            if samples.chunks(64).all(finite) {
                continue;
            }
            for (i, x) in samples.iter_mut().enumerate() {
                if x.is_finite() {
                    continue;
                }
                let frame = start + i as u64;
                if self.reject_non_finite {
                    bail!(
                        "{}: damaged audio: sample {} of channel {} ({:.3} s) is {}; Lathe does not master a file with NaN or infinite samples (`lathe analyze` counts them)",
                        self.path.display(),
                        frame,
                        channel + 1,
                        frame as f64 / self.info.sample_rate as f64,
                        if x.is_nan() { "NaN" } else { "infinite" }
                    );
                }
                *x = 0.0;
                self.non_finite.count += 1;
                let first = self.non_finite.first.get_or_insert(frame);
                *first = (*first).min(frame);
            }
        }
        Ok(())
    }

    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    pub fn tags(&self) -> &Tags {
        &self.tags
    }

    /// Fills `out[c][..n]` with the next frames (at most `max`) and returns `n`; 0 at the end.
    /// `out` must have one buffer per channel, each at least `max` long.
    pub fn read(&mut self, out: &mut [Vec<f32>], max: usize) -> Result<usize> {
        if self.pcm.is_some() {
            return self.read_pcm(out, max);
        }
        let mut filled = 0;
        while filled < max {
            let available = self.pending[0].len() - self.pending_start;
            if available == 0 {
                if !self.decode_next()? {
                    break;
                }
                continue;
            }
            let n = available.min(max - filled);
            for (dst, src) in out.iter_mut().zip(&self.pending) {
                dst[filled..filled + n]
                    .copy_from_slice(&src[self.pending_start..self.pending_start + n]);
            }
            self.pending_start += n;
            filled += n;
        }
        Ok(filled)
    }

    /// Decodes the next packet into `pending`; false at the end of the stream.
    fn decode_next(&mut self) -> Result<bool> {
        if self.finished {
            return Ok(false);
        }
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return self.finish(),
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return self.finish()
                }
                Err(e) => bail!(
                    "{}: unreadable audio: {}",
                    self.path.display(),
                    describe(&e)
                ),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buffer) => {
                    if buffer.frames() == 0 {
                        continue;
                    }
                    buffer.copy_to_vecs_planar::<f32>(&mut self.pending);
                    self.pending_start = 0;
                    self.decoded += buffer.frames() as u64;
                    self.check_finite()?;
                    return Ok(true);
                }
                Err(SymphoniaError::DecodeError(e)) if !self.info.exact_length => {
                    // A damaged MP3 frame is skipped, as players do.
                    let _ = e;
                    continue;
                }
                Err(e) => bail!(
                    "{}: unreadable audio: {}",
                    self.path.display(),
                    describe(&e)
                ),
            }
        }
    }

    /// [`Reader::read`] of a PCM WAV, straight from the file's bytes.
    fn read_pcm(&mut self, out: &mut [Vec<f32>], max: usize) -> Result<usize> {
        if max == 0 {
            return Ok(0);
        }
        let pcm = self.pcm.as_mut().expect("a PCM file");
        let n = pcm.read(out, max).with_context(|| {
            format!(
                "{}: unreadable audio: the file could not be read",
                self.path.display()
            )
        })?;
        if n == 0 {
            self.finish()?;
            return Ok(0);
        }
        let start = self.decoded;
        self.decoded += n as u64;
        if pcm.encoding.is_float() {
            self.scrub_non_finite(out.iter_mut().map(|c| &mut c[..n]), start)?;
        }
        Ok(n)
    }

    fn finish(&mut self) -> Result<bool> {
        self.finished = true;
        if let (true, Some(expected)) = (self.info.exact_length, self.info.frames) {
            if self.decoded < expected {
                bail!(
                    "{}: truncated audio: the header announces {} frames but only {} could be read",
                    self.path.display(),
                    expected,
                    self.decoded
                );
            }
        }
        Ok(false)
    }
}

/// How a PCM WAV stores its samples (the encodings read directly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PcmEncoding {
    Int16,
    Int24,
    Int32,
    Float32,
    Float64,
}

impl PcmEncoding {
    fn bytes(self) -> usize {
        match self {
            Self::Int16 => 2,
            Self::Int24 => 3,
            Self::Int32 | Self::Float32 => 4,
            Self::Float64 => 8,
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Self::Float32 | Self::Float64)
    }

    /// Converts `bytes`, interleaved frames of `channels` samples, into `out[c][..frames]`:
    /// the same values symphonia's decoder gives (integers over 2^(bits-1), rounded once to
    /// `f32`; doubles rounded to `f32`).
    fn convert(self, bytes: &[u8], channels: usize, out: &mut [Vec<f32>]) {
        let width = self.bytes();
        let frames = bytes.len() / (width * channels);
        for (c, out) in out.iter_mut().enumerate().take(channels) {
            let samples = bytes.chunks_exact(width * channels).map(|frame| {
                let at = c * width;
                &frame[at..at + width]
            });
            let out = &mut out[..frames];
            match self {
                Self::Int16 => {
                    for (y, b) in out.iter_mut().zip(samples) {
                        *y = i16::from_le_bytes([b[0], b[1]]) as f32 / 32_768.0;
                    }
                }
                Self::Int24 => {
                    for (y, b) in out.iter_mut().zip(samples) {
                        // The three bytes at the top of an i32, shifted back down with the sign.
                        let s = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
                        *y = s as f32 / 8_388_608.0;
                    }
                }
                Self::Int32 => {
                    for (y, b) in out.iter_mut().zip(samples) {
                        let s = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                        *y = (s as f64 / 2_147_483_648.0) as f32;
                    }
                }
                Self::Float32 => {
                    for (y, b) in out.iter_mut().zip(samples) {
                        *y = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    }
                }
                Self::Float64 => {
                    for (y, b) in out.iter_mut().zip(samples) {
                        *y = f64::from_le_bytes(b.try_into().expect("eight bytes")) as f32;
                    }
                }
            }
        }
    }
}

/// A PCM WAV's `data` chunk read straight from the file: symphonia's WAV reader and PCM
/// decoder cost more than the rest of reading (packets, a sample at a time through generic
/// conversions, two copies) for what is a plain array of little-endian samples. Only files
/// whose header says exactly what symphonia found are read this way; anything else (RF64,
/// 8-bit, padded containers, odd block alignment) goes through the decoder.
struct PcmData {
    file: File,
    encoding: PcmEncoding,
    channels: usize,
    /// Frames left in the `data` chunk.
    remaining: u64,
    bytes: Vec<u8>,
}

impl PcmData {
    /// The direct reader for `path` if it is a WAV that can be read so.
    fn open(path: &Path, info: &AudioInfo) -> Result<Option<Self>> {
        let mut file =
            File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
        let Some(layout) = wav_layout(&mut file)? else {
            return Ok(None);
        };
        let WavLayout {
            encoding,
            channels,
            rate,
            data_offset,
            frames,
        } = layout;
        let agrees = channels == info.channels
            && rate == info.sample_rate
            && info.frames == Some(frames)
            // Symphonia announces the bits of integer samples only.
            && match info.bits {
                Some(bits) => bits == 8 * encoding.bytes() as u32,
                None => encoding.is_float(),
            }
            && info.exact_length;
        if !agrees {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(data_offset))?;
        Ok(Some(Self {
            file,
            encoding,
            channels,
            remaining: frames,
            bytes: Vec::new(),
        }))
    }

    /// Reads up to `max` frames into `out[c][..n]`; `n` is short only at the end of the chunk
    /// or of a truncated file.
    fn read(&mut self, out: &mut [Vec<f32>], max: usize) -> std::io::Result<usize> {
        let frame = self.encoding.bytes() * self.channels;
        let wanted = (max as u64).min(self.remaining) as usize * frame;
        self.bytes.resize(wanted, 0);
        let mut got = 0;
        while got < wanted {
            match self.file.read(&mut self.bytes[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let frames = got / frame;
        if got < wanted {
            // Truncated: what remains of a frame is not a frame.
            self.remaining = 0;
        } else {
            self.remaining -= frames as u64;
        }
        self.encoding
            .convert(&self.bytes[..frames * frame], self.channels, out);
        Ok(frames)
    }
}

/// Where and how a WAV holds its samples.
struct WavLayout {
    encoding: PcmEncoding,
    channels: usize,
    rate: u32,
    /// Where the `data` chunk's samples start in the file.
    data_offset: u64,
    /// Whole frames the `data` chunk announces.
    frames: u64,
}

/// A RIFF WAVE file's layout when it is PCM or float in one of [`PcmEncoding`]'s encodings;
/// `None` for anything else.
fn wav_layout(file: &mut File) -> Result<Option<WavLayout>> {
    let mut head = [0u8; 12];
    if file.read_exact(&mut head).is_err() || &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Ok(None);
    }
    let mut format = None;
    let mut offset = 12u64;
    loop {
        let mut chunk = [0u8; 8];
        if file.read_exact(&mut chunk).is_err() {
            return Ok(None);
        }
        let size = u32::from_le_bytes(chunk[4..8].try_into().expect("four bytes")) as u64;
        offset += 8;
        match &chunk[0..4] {
            b"fmt " => {
                if !(16..=64).contains(&size) {
                    return Ok(None);
                }
                let mut body = vec![0u8; size as usize];
                file.read_exact(&mut body)?;
                format = fmt_encoding(&body);
                if format.is_none() {
                    return Ok(None);
                }
            }
            b"data" => {
                let Some((encoding, channels, rate)) = format else {
                    return Ok(None);
                };
                return Ok(Some(WavLayout {
                    encoding,
                    channels,
                    rate,
                    data_offset: offset,
                    frames: size / (encoding.bytes() * channels) as u64,
                }));
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        offset += size + (size & 1);
        file.seek(SeekFrom::Start(offset))?;
    }
}

/// The encoding, channels and rate a `fmt ` chunk's body describes, if [`PcmEncoding`] has it.
fn fmt_encoding(body: &[u8]) -> Option<(PcmEncoding, usize, u32)> {
    let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
    let mut tag = u16_at(0);
    let channels = u16_at(2) as usize;
    let rate = u32::from_le_bytes(body[4..8].try_into().ok()?);
    let block_align = u16_at(12) as usize;
    let bits = u16_at(14);
    if tag == 0xFFFE {
        // WAVE_FORMAT_EXTENSIBLE: the valid bits must fill the container; the sub-format's
        // first two bytes are the format tag.
        if body.len() < 40 || u16_at(18) != bits {
            return None;
        }
        tag = u16_at(24);
    }
    let encoding = match (tag, bits) {
        (1, 16) => PcmEncoding::Int16,
        (1, 24) => PcmEncoding::Int24,
        (1, 32) => PcmEncoding::Int32,
        (3, 32) => PcmEncoding::Float32,
        (3, 64) => PcmEncoding::Float64,
        _ => return None,
    };
    (channels > 0 && block_align == channels * encoding.bytes())
        .then_some((encoding, channels, rate))
}

fn describe(error: &SymphoniaError) -> String {
    match error {
        SymphoniaError::Unsupported(what) => format!("unsupported ({what})"),
        other => other.to_string(),
    }
}

/// Sample format of a written file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputBits {
    Int16,
    Int24,
    Float32,
}

impl OutputBits {
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "16" => Ok(Self::Int16),
            "24" => Ok(Self::Int24),
            "32f" | "32" | "float" => Ok(Self::Float32),
            other => bail!("unsupported bit depth '{other}': use 16, 24 or 32f"),
        }
    }

    /// Integer word length, if integer.
    pub fn integer_bits(self) -> Option<u32> {
        match self {
            Self::Int16 => Some(16),
            Self::Int24 => Some(24),
            Self::Float32 => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Int16 => "16-bit",
            Self::Int24 => "24-bit",
            Self::Float32 => "32-bit float",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Wav,
    Flac,
}

impl Container {
    pub fn for_path(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref()
        {
            Some("wav") | Some("wave") => Ok(Self::Wav),
            Some("flac") => Ok(Self::Flac),
            _ => bail!(
                "{}: cannot write this format; name the output .wav or .flac",
                path.display()
            ),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Wav => "wav",
            Self::Flac => "flac",
        }
    }
}

/// Refuses to write `output` over any of `inputs`, or over an existing file without `force`.
pub fn check_output(output: &Path, inputs: &[&Path], force: bool) -> Result<()> {
    let resolved = resolve(output);
    for input in inputs {
        if resolve(input) == resolved {
            bail!(
                "{}: is an input; Lathe never overwrites its inputs",
                output.display()
            );
        }
    }
    if output.exists() && !force {
        bail!(
            "{}: already exists; pass --force to replace it",
            output.display()
        );
    }
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            bail!("{}: the directory does not exist", parent.display());
        }
    }
    Ok(())
}

/// The absolute, symlink-resolved form of a path that may not exist yet.
fn resolve(path: &Path) -> PathBuf {
    if let Ok(canonical) = path.canonicalize() {
        return canonical;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_owned(),
    }
}

/// A file that appears under its final name only when `commit` succeeds; dropped uncommitted,
/// it removes itself.
pub struct TempFile {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl TempFile {
    pub fn create(target: &Path) -> Result<(Self, File)> {
        let name = target
            .file_name()
            .with_context(|| format!("{}: not a file name", target.display()))?
            .to_string_lossy();
        let temp = target.with_file_name(format!(".{name}.lathe-{}.part", std::process::id()));
        let file = File::create(&temp)
            .with_context(|| format!("{}: cannot create the output", target.display()))?;
        Ok((
            Self {
                temp,
                target: target.to_owned(),
                committed: false,
            },
            file,
        ))
    }

    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.temp, &self.target).with_context(|| {
            format!(
                "{}: cannot move the output into place",
                self.target.display()
            )
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Writes an already-quantised planar stream as WAV or FLAC.
pub struct Writer {
    // Declared (so dropped) before `temp`: an unfinished FLAC encoder stops before its
    // temporary file is removed.
    sink: Sink,
    temp: TempFile,
    channels: usize,
    bits: OutputBits,
    frames: u64,
    interleaved: Vec<i32>,
}

enum Sink {
    Wav(WavSink),
    Flac(FlacThread),
}

/// Where a render is written and in what form.
pub struct Output<'a> {
    pub path: &'a Path,
    pub bits: OutputBits,
    pub channels: usize,
    pub tags: Tags,
}

/// What a file is, for players and libraries: written as Vorbis comments in FLAC and as
/// LIST/INFO and `id3 ` chunks before the samples in WAV (INFO has no ISRC field: RIFF's `ISRC`
/// chunk means "source"; the ID3 tag carries it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub album_artist: Option<String>,
    pub track: Option<u64>,
    /// The number of tracks.
    pub track_total: Option<u64>,
    pub isrc: Option<String>,
}

impl Tags {
    /// The FLAC VORBIS_COMMENT block's body (Vorbis I comment header without framing bit), or
    /// `None` with nothing to say.
    fn vorbis_comment(&self) -> Option<Vec<u8>> {
        let track = self.track.map(|n| n.to_string());
        let total = self.track_total.map(|n| n.to_string());
        let fields = [
            ("TITLE", self.title.as_deref()),
            ("ARTIST", self.artist.as_deref()),
            ("ALBUM", self.album.as_deref()),
            ("ALBUMARTIST", self.album_artist.as_deref()),
            ("TRACKNUMBER", track.as_deref()),
            ("TRACKTOTAL", total.as_deref()),
            ("ISRC", self.isrc.as_deref()),
        ];
        let comments: Vec<String> = fields
            .iter()
            .filter_map(|(key, value)| value.map(|v| format!("{key}={v}")))
            .collect();
        if comments.is_empty() {
            return None;
        }
        // The vendor string, the number of comments, the comments; each string preceded by its
        // length in bytes (little-endian 32-bit).
        let length = |n: usize| (n as u32).to_le_bytes();
        let mut body = Vec::new();
        body.extend(length(VENDOR.len()));
        body.extend(VENDOR.as_bytes());
        body.extend(length(comments.len()));
        for comment in &comments {
            body.extend(length(comment.len()));
            body.extend(comment.as_bytes());
        }
        Some(body)
    }

    /// The chunks a WAV file carries its tags in: `LIST`/`INFO` (read by Windows and most audio
    /// tools) and `id3 ` (read by music libraries such as Apple Music, and the only place for
    /// the ISRC), or nothing with nothing to say.
    fn riff_tag_chunks(&self) -> Vec<u8> {
        let mut chunks = self.riff_info().unwrap_or_default();
        if let Some(id3) = self.id3v24() {
            push_chunk(&mut chunks, b"id3 ", &id3);
        }
        chunks
    }

    /// An ID3v2.4 tag (ID3 informal standard v2.4.0: UTF-8 text frames TIT2 title, TPE1 artist,
    /// TALB album, TPE2 album artist, TRCK "track/total", TSRC ISRC, TSSE software), or `None`
    /// with nothing to say.
    fn id3v24(&self) -> Option<Vec<u8>> {
        let track = self.track.map(|n| match self.track_total {
            Some(total) => format!("{n}/{total}"),
            None => n.to_string(),
        });
        let frames = [
            (b"TIT2", self.title.as_deref()),
            (b"TPE1", self.artist.as_deref()),
            (b"TALB", self.album.as_deref()),
            (b"TPE2", self.album_artist.as_deref()),
            (b"TRCK", track.as_deref()),
            (b"TSRC", self.isrc.as_deref()),
        ];
        if frames.iter().all(|(_, value)| value.is_none()) {
            return None;
        }
        // Sizes in ID3v2.4 are "syncsafe": 7 bits a byte, most significant first.
        let syncsafe = |n: usize| (0..4).rev().map(move |i| ((n >> (7 * i)) & 0x7f) as u8);
        let mut body = Vec::new();
        for (id, value) in frames.into_iter().chain([(b"TSSE", Some(VENDOR))]) {
            if let Some(text) = value {
                body.extend(id);
                body.extend(syncsafe(text.len() + 1));
                body.extend([0, 0, 3]); // no flags; encoding 3 = UTF-8
                body.extend(text.as_bytes());
            }
        }
        // ID3 padding (zeros after the frames, counted in the tag size) makes the chunk even:
        // a RIFF chunk of odd size needs a pad byte that some readers (hound among them) do not
        // skip.
        if body.len() % 2 == 1 {
            body.push(0);
        }
        let mut tag = b"ID3\x04\x00\x00".to_vec();
        tag.extend(syncsafe(body.len()));
        tag.extend(body);
        Some(tag)
    }

    /// A whole RIFF `LIST` chunk of type `INFO` (EBU/Microsoft RIFF: INAM title, IART artist,
    /// IPRD album, ITRK track number, ISFT software), or `None` with nothing to say.
    fn riff_info(&self) -> Option<Vec<u8>> {
        let track = self.track.map(|n| n.to_string());
        let fields = [
            (b"INAM", self.title.as_deref()),
            (b"IART", self.artist.as_deref()),
            (b"IPRD", self.album.as_deref()),
            (b"ITRK", track.as_deref()),
        ];
        if fields.iter().all(|(_, value)| value.is_none()) {
            return None;
        }
        let mut info = b"INFO".to_vec();
        for (id, value) in fields.into_iter().chain([(b"ISFT", Some(VENDOR))]) {
            if let Some(text) = value {
                // Zero-terminated text.
                let mut bytes = riff_text(text);
                bytes.push(0);
                push_chunk(&mut info, id, &bytes);
            }
        }
        let mut list = Vec::new();
        push_chunk(&mut list, b"LIST", &info);
        Some(list)
    }
}

/// The tags of a file that [`Tags`] keeps, from every metadata revision symphonia has read
/// (later ones win): ID3 in MP3, Vorbis comments in FLAC.
fn read_tags(format: &mut dyn FormatReader) -> Tags {
    let mut tags = Tags::default();
    let mut metadata = format.metadata();
    loop {
        if let Some(revision) = metadata.current() {
            tags.take_from(revision);
        }
        if metadata.pop().is_none() {
            return tags;
        }
    }
}

impl Tags {
    /// Takes the standard tags [`Tags`] keeps from a metadata revision (replacing those set).
    fn take_from(&mut self, revision: &symphonia::core::meta::MetadataRevision) {
        use symphonia::core::meta::StandardTag as Std;
        let text = |t: &std::sync::Arc<String>| Some(t.trim().to_owned());
        for tag in revision
            .media
            .tags
            .iter()
            .filter_map(|tag| tag.std.as_ref())
        {
            match tag {
                Std::TrackTitle(t) => self.title = text(t),
                Std::Artist(t) => self.artist = text(t),
                Std::Album(t) => self.album = text(t),
                Std::AlbumArtist(t) => self.album_artist = text(t),
                Std::TrackNumber(n) => self.track = Some(*n),
                Std::TrackTotal(n) => self.track_total = Some(*n),
                Std::IdentIsrc(t) => self.isrc = text(t),
                _ => {}
            }
        }
    }
}

/// The tags of a RIFF/WAVE file's LIST/INFO chunk and its ID3 chunk (which wins where both
/// say something), wherever they are; `None` for anything else or a malformed file (the audio
/// reader reports those).
fn riff_tags(path: &Path) -> Option<Tags> {
    use std::io::Read;
    let mut file = File::open(path).ok()?;
    let mut word = [0u8; 4];
    let mut header = [0u8; 12];
    file.read_exact(&mut header).ok()?;
    if &header[..4] != b"RIFF" || &header[8..] != b"WAVE" {
        return None;
    }
    let mut tags = Tags::default();
    let mut id3 = None;
    loop {
        let mut id = [0u8; 4];
        if file.read_exact(&mut id).is_err() {
            break;
        }
        file.read_exact(&mut word).ok()?;
        let size = u32::from_le_bytes(word) as u64;
        let tagged = matches!(&id, b"LIST" | b"id3 " | b"ID3 ");
        if tagged && (4..1 << 20).contains(&size) {
            let mut body = vec![0; size as usize];
            file.read_exact(&mut body).ok()?;
            if &id != b"LIST" {
                id3 = Some(body);
            } else if &body[..4] == b"INFO" {
                tags = parse_info(&body[4..]);
            }
        } else {
            file.seek(SeekFrom::Current(size as i64)).ok()?;
        }
        file.seek(SeekFrom::Current((size % 2) as i64)).ok()?;
    }
    if let Some(revision) = id3.and_then(parse_id3) {
        tags.take_from(&revision);
    }
    Some(tags)
}

/// An ID3v2 tag's metadata, by symphonia's ID3v2 reader.
fn parse_id3(bytes: Vec<u8>) -> Option<symphonia::core::meta::MetadataRevision> {
    use symphonia::core::meta::MetadataReader;
    let stream = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
    let mut reader =
        symphonia::default::meta::Id3v2Reader::try_new(stream, MetadataOptions::default()).ok()?;
    reader.read_all().ok().map(|buffer| buffer.revision)
}

/// INFO sub-chunks (INAM title, IART artist, IPRD album, ITRK track) into [`Tags`]; text is
/// UTF-8 where it is valid, else Latin-1.
fn parse_info(mut chunks: &[u8]) -> Tags {
    let mut tags = Tags::default();
    while chunks.len() >= 8 {
        let size = u32::from_le_bytes(chunks[4..8].try_into().unwrap()) as usize;
        let Some(raw) = chunks.get(8..8 + size) else {
            break;
        };
        let raw = raw.split(|&b| b == 0).next().unwrap_or_default();
        let text = match std::str::from_utf8(raw) {
            Ok(text) => text.trim().to_owned(),
            Err(_) => raw
                .iter()
                .map(|&b| b as char)
                .collect::<String>()
                .trim()
                .to_owned(),
        };
        let value = (!text.is_empty()).then_some(text);
        match &chunks[..4] {
            b"INAM" => tags.title = value,
            b"IART" => tags.artist = value,
            b"IPRD" => tags.album = value,
            b"ITRK" => tags.track = value.and_then(|t| t.parse().ok()),
            _ => {}
        }
        chunks = chunks.get(8 + size + size % 2..).unwrap_or_default();
    }
    tags
}

/// Appends a RIFF chunk: its id, its size, its body and a pad byte if the size is odd (the pad
/// is not counted in the size).
fn push_chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend(id);
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
}

/// RIFF INFO text has no declared encoding and readers take it as Latin-1 (Windows-1252):
/// text within Latin-1 is written so, anything else as UTF-8 (which modern readers detect).
fn riff_text(text: &str) -> Vec<u8> {
    if text.chars().all(|c| (c as u32) < 0x100) {
        text.chars().map(|c| c as u8).collect()
    } else {
        text.as_bytes().to_vec()
    }
}

/// Who wrote a file, in its tags.
const VENDOR: &str = concat!("Lathe ", env!("CARGO_PKG_VERSION"));

impl Writer {
    pub fn create(
        path: &Path,
        sample_rate: u32,
        channels: usize,
        bits: OutputBits,
        tags: &Tags,
    ) -> Result<Self> {
        let container = Container::for_path(path)?;
        if container == Container::Flac && bits == OutputBits::Float32 {
            bail!(
                "{}: FLAC holds integer samples only; use --bits 16 or 24",
                path.display()
            );
        }
        let (temp, file) = TempFile::create(path)?;
        let sink = match container {
            Container::Wav => Sink::Wav(
                WavSink::new(file, sample_rate, channels, bits, &tags.riff_tag_chunks())
                    .with_context(|| format!("{}: cannot write", path.display()))?,
            ),
            Container::Flac => Sink::Flac(FlacThread::start(FlacSink::new(
                file,
                sample_rate,
                channels,
                bits.integer_bits().unwrap_or(24) as usize,
                tags,
                path,
            )?)),
        };
        Ok(Self {
            temp,
            sink,
            channels,
            bits,
            frames: 0,
            interleaved: Vec::new(),
        })
    }

    /// Appends frames. Integer formats expect samples on their quantisation grid (the dither's
    /// output); anything else is rounded.
    pub fn write(&mut self, planar: &[&[f32]]) -> Result<()> {
        let frames = planar[0].len();
        let path = self.temp.target.clone();
        let error =
            |e: &dyn std::fmt::Display| anyhow::anyhow!("{}: write failed: {e}", path.display());
        match (&mut self.sink, self.bits.integer_bits()) {
            (Sink::Wav(wav), None) => wav
                .write_float(planar, self.channels)
                .map_err(|e| error(&e))?,
            (sink, Some(bits)) => {
                self.interleaved.resize(frames * self.channels, 0);
                to_integers(&planar[..self.channels], bits, &mut self.interleaved);
                match sink {
                    Sink::Wav(wav) => wav
                        .write_int(&self.interleaved, bits)
                        .map_err(|e| error(&e))?,
                    Sink::Flac(flac) => flac.write(&self.interleaved).map_err(|e| error(&e))?,
                }
            }
            (Sink::Flac(_), None) => unreachable!("FLAC float is refused in create"),
        }
        self.frames += frames as u64;
        Ok(())
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Completes the file and moves it into place.
    pub fn finish(self) -> Result<()> {
        let path = self.temp.target.clone();
        let error =
            |e: &dyn std::fmt::Display| anyhow::anyhow!("{}: write failed: {e}", path.display());
        match self.sink {
            Sink::Wav(wav) => wav.finish(self.frames).map_err(|e| error(&e))?,
            Sink::Flac(flac) => flac.finish().map_err(|e| error(&e))?,
        }
        self.temp.commit()
    }
}

/// Planar `f32` channels to interleaved integers of `bits` bits: each sample times
/// `2^(bits−1)`, rounded half away from zero, clamped to the word; a non-finite sample is 0.
fn to_integers(planar: &[&[f32]], bits: u32, interleaved: &mut [i32]) {
    #[cfg(target_arch = "x86_64")]
    if planar.len() == 2 && dsp_core::kernels::has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 (checked above).
        unsafe { to_integers_stereo_avx2(planar[0], planar[1], bits, interleaved) };
        return;
    }
    to_integers_scalar(planar, bits, interleaved);
}

/// The reference for [`to_integers`].
fn to_integers_scalar(planar: &[&[f32]], bits: u32, interleaved: &mut [i32]) {
    let scale = (1u32 << (bits - 1)) as f32;
    let (lo, hi) = (-(scale as i32), scale as i32 - 1);
    for (i, frame) in interleaved.chunks_exact_mut(planar.len()).enumerate() {
        for (value, channel) in frame.iter_mut().zip(planar) {
            let x = channel[i];
            // dsp_core's round is f64::round bit for bit, without its library call.
            *value = if x.is_finite() {
                (dsp_core::math::round(x as f64 * scale as f64) as i64).clamp(lo as i64, hi as i64)
                    as i32
            } else {
                0
            };
        }
    }
}

/// [`to_integers`] of a stereo pair, eight frames at a time: the product by the power of two is
/// exact in `f32`; clamping before rounding changes nothing, the bounds being integers; and
/// adding the largest `f32` under one half with the sample's sign, then truncating, rounds half
/// away from zero exactly at these magnitudes (under 2^24).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn to_integers_stereo_avx2(left: &[f32], right: &[f32], bits: u32, interleaved: &mut [i32]) {
    use std::arch::x86_64::*;
    let frames = interleaved.len() / 2;
    let whole = frames - frames % 8;
    let scale = _mm256_set1_ps((1u32 << (bits - 1)) as f32);
    let lo = _mm256_set1_ps(-((1u32 << (bits - 1)) as f32));
    let hi = _mm256_set1_ps(((1u32 << (bits - 1)) - 1) as f32);
    let almost_half = _mm256_set1_ps(0.5f32.next_down());
    let sign = _mm256_set1_ps(-0.0);
    let infinity = _mm256_set1_ps(f32::INFINITY);
    let convert = |x: __m256| -> __m256i {
        let clamped = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(x, scale), lo), hi);
        let nudge = _mm256_or_ps(_mm256_and_ps(clamped, sign), almost_half);
        let rounded = _mm256_cvttps_epi32(_mm256_add_ps(clamped, nudge));
        // NaN and ±inf fail |x| < inf.
        let finite = _mm256_cmp_ps::<_CMP_LT_OQ>(_mm256_andnot_ps(sign, x), infinity);
        _mm256_and_si256(rounded, _mm256_castps_si256(finite))
    };
    let out = interleaved.as_mut_ptr();
    for start in (0..whole).step_by(8) {
        // SAFETY: start + 8 <= whole <= the channels' length and the output's frames.
        unsafe {
            let l = convert(_mm256_loadu_ps(left.as_ptr().add(start)));
            let r = convert(_mm256_loadu_ps(right.as_ptr().add(start)));
            // Frames 0, 1, 4, 5 and 2, 3, 6, 7 as (left, right) pairs, then in order.
            let low = _mm256_unpacklo_epi32(l, r);
            let high = _mm256_unpackhi_epi32(l, r);
            let first = _mm256_permute2x128_si256::<0x20>(low, high);
            let second = _mm256_permute2x128_si256::<0x31>(low, high);
            _mm256_storeu_si256(out.add(2 * start) as *mut __m256i, first);
            _mm256_storeu_si256(out.add(2 * start + 8) as *mut __m256i, second);
        }
    }
    to_integers_scalar(
        &[&left[whole..frames], &right[whole..frames]],
        bits,
        &mut interleaved[2 * whole..],
    );
}

/// A streaming WAV writer: `RIFF`/`WAVE`, `fmt ` (PCMWAVEFORMAT for 16 bits up to stereo, else
/// WAVEFORMATEXTENSIBLE as Microsoft asks for more bits), `fact` for float, the tags' `LIST`
/// and `id3 ` chunks, then `data`, whose sizes are filled in when the samples are complete. The tags go
/// before the samples because some readers stop reading chunks at `data`.
struct WavSink {
    file: BufWriter<File>,
    /// Byte offsets of the `data` chunk's size and of the `fact` chunk's frame count (float).
    data_size_at: u64,
    fact_at: Option<u64>,
    data_bytes: u64,
    /// Samples as bytes, reused from block to block.
    bytes: Vec<u8>,
}

/// Wave format tags and the GUIDs WAVEFORMATEXTENSIBLE carries them in (the tag, then
/// 0000-0010-8000-00AA00389B71).
const WAVE_FORMAT_PCM: u16 = 1;
const WAVE_FORMAT_IEEE_FLOAT: u16 = 3;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xfffe;
const KSDATAFORMAT_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

impl WavSink {
    fn new(
        file: File,
        rate: u32,
        channels: usize,
        bits: OutputBits,
        tag_chunks: &[u8],
    ) -> std::io::Result<Self> {
        let (tag, bits_per_sample) = match bits {
            OutputBits::Int16 => (WAVE_FORMAT_PCM, 16u16),
            OutputBits::Int24 => (WAVE_FORMAT_PCM, 24),
            OutputBits::Float32 => (WAVE_FORMAT_IEEE_FLOAT, 32),
        };
        let block_align = channels as u16 * bits_per_sample / 8;
        let mut fmt = Vec::new();
        let extensible = bits_per_sample > 16 || channels > 2;
        fmt.extend(
            if extensible {
                WAVE_FORMAT_EXTENSIBLE
            } else {
                tag
            }
            .to_le_bytes(),
        );
        fmt.extend((channels as u16).to_le_bytes());
        fmt.extend(rate.to_le_bytes());
        fmt.extend((rate * block_align as u32).to_le_bytes());
        fmt.extend(block_align.to_le_bytes());
        fmt.extend(bits_per_sample.to_le_bytes());
        if extensible {
            // cbSize, valid bits, speaker mask (mono: front centre; stereo: front left, right),
            // sub-format GUID.
            let mask: u32 = match channels {
                1 => 0x4,
                2 => 0x3,
                n => (1u32 << n.min(18)) - 1,
            };
            fmt.extend(22u16.to_le_bytes());
            fmt.extend(bits_per_sample.to_le_bytes());
            fmt.extend(mask.to_le_bytes());
            fmt.extend(tag.to_le_bytes());
            fmt.extend(KSDATAFORMAT_TAIL);
        }
        let mut header = b"RIFF\0\0\0\0WAVE".to_vec();
        push_chunk(&mut header, b"fmt ", &fmt);
        let fact_at = (tag == WAVE_FORMAT_IEEE_FLOAT).then(|| {
            push_chunk(&mut header, b"fact", &[0; 4]);
            header.len() as u64 - 4
        });
        header.extend(tag_chunks);
        header.extend(b"data\0\0\0\0");
        let mut file = BufWriter::with_capacity(1 << 20, file);
        file.write_all(&header)?;
        Ok(Self {
            file,
            data_size_at: header.len() as u64 - 4,
            fact_at,
            data_bytes: 0,
            bytes: Vec::new(),
        })
    }

    /// Integer samples on the grid of `bits` (16 or 24), interleaved.
    fn write_int(&mut self, interleaved: &[i32], bits: u32) -> std::io::Result<()> {
        let width = bits as usize / 8;
        self.bytes.resize(interleaved.len() * width, 0);
        // Chunks of a constant width, so that each sample is a plain store, not a copy call.
        fn fill<const W: usize>(bytes: &mut [u8], interleaved: &[i32]) {
            for (out, v) in bytes.chunks_exact_mut(W).zip(interleaved) {
                out.copy_from_slice(&v.to_le_bytes()[..W]);
            }
        }
        match width {
            2 => fill::<2>(&mut self.bytes, interleaved),
            3 => fill::<3>(&mut self.bytes, interleaved),
            _ => fill::<4>(&mut self.bytes, interleaved),
        }
        self.write_bytes()
    }

    fn write_float(&mut self, planar: &[&[f32]], channels: usize) -> std::io::Result<()> {
        let planar = &planar[..channels];
        self.bytes.resize(planar[0].len() * channels * 4, 0);
        for (i, frame) in self.bytes.chunks_exact_mut(channels * 4).enumerate() {
            for (out, channel) in frame.chunks_exact_mut(4).zip(planar) {
                out.copy_from_slice(&channel[i].to_le_bytes());
            }
        }
        self.write_bytes()
    }

    fn write_bytes(&mut self) -> std::io::Result<()> {
        self.data_bytes += self.bytes.len() as u64;
        if self.data_size_at + 4 + self.data_bytes + 1 > u32::MAX as u64 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a WAV file holds at most 4 GiB; write FLAC, fewer bits or a shorter programme",
            ));
        }
        self.file.write_all(&self.bytes)
    }

    /// Fills in the sizes (and the pad byte an odd-sized `data` chunk needs).
    fn finish(mut self, frames: u64) -> std::io::Result<()> {
        if self.data_bytes % 2 == 1 {
            self.file.write_all(&[0])?;
        }
        let length = self.file.stream_position()?;
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        let mut put = |at: u64, value: u64| {
            file.seek(SeekFrom::Start(at))?;
            file.write_all(&(value as u32).to_le_bytes())
        };
        put(4, length - 8)?;
        put(self.data_size_at, self.data_bytes)?;
        if let Some(at) = self.fact_at {
            put(at, frames)?;
        }
        file.sync_all()
    }
}

/// A streaming FLAC encoder on `flacenc`: frames are encoded and written as they fill, and the
/// STREAMINFO block (whose size never changes) is rewritten at the end with the totals and MD5.
struct FlacSink {
    file: BufWriter<File>,
    config: flacenc::error::Verified<flacenc::config::Encoder>,
    verbatim: flacenc::error::Verified<flacenc::config::Encoder>,
    bits: usize,
    stream: flacenc::component::Stream,
    frame: flacenc::source::FrameBuf,
    context: flacenc::source::Context,
    channels: usize,
    /// Frames written, and the smallest and largest encoded frame, bytes.
    total: u64,
    frame_bytes: (usize, usize),
}

const FLAC_BLOCK: usize = 4096;

impl FlacSink {
    fn new(
        file: File,
        rate: u32,
        channels: usize,
        bits: usize,
        tags: &Tags,
        path: &Path,
    ) -> Result<Self> {
        use flacenc::error::Verify;
        let invalid = |e: &dyn std::fmt::Debug| {
            anyhow::anyhow!(
                "{}: cannot encode FLAC with these settings: {e:?}",
                path.display()
            )
        };
        // flacenc's Rice-parameter estimate overflows when 16 residuals in a row reach 2^27
        // (its own TODO in rice.rs): loud 24-bit material through a 3rd/4th-order fixed
        // predictor gets there and comes out as gigabyte frames. Orders up to 2 stay clear; a
        // frame larger than plain PCM is re-encoded verbatim regardless.
        let mut config = flacenc::config::Encoder::default();
        config.subframe_coding.fixed.max_order = 2;
        // LPC up to order 8, as the reference encoder's default level (`flac -5`): on a mastered
        // programme 1% larger than at flacenc's default 10 and 15% quicker to encode.
        config.subframe_coding.qlpc.lpc_order = 8;
        let config = config.into_verified().map_err(|e| invalid(&e))?;
        let mut verbatim = flacenc::config::Encoder::default();
        verbatim.subframe_coding.use_fixed = false;
        verbatim.subframe_coding.use_lpc = false;
        let verbatim = verbatim.into_verified().map_err(|e| invalid(&e))?;
        let mut stream = flacenc::component::Stream::new(rate as usize, channels, bits)
            .map_err(|e| invalid(&e))?;
        stream
            .stream_info_mut()
            .set_block_sizes(FLAC_BLOCK, FLAC_BLOCK)
            .map_err(|e| invalid(&e))?;
        if let Some(comment) = tags.vorbis_comment() {
            // VORBIS_COMMENT is metadata block type 4 (FLAC format, RFC 9639 8.6).
            stream.add_metadata_block(
                flacenc::component::MetadataBlockData::new_unknown(4, &comment)
                    .map_err(|e| invalid(&e))?,
            );
        }
        let mut file = BufWriter::new(file);
        file.write_all(&bytes_of(&stream).map_err(|e| invalid(&e))?)?;
        Ok(Self {
            file,
            config,
            verbatim,
            bits,
            stream,
            frame: flacenc::source::FrameBuf::with_size(channels, FLAC_BLOCK)
                .map_err(|e| invalid(&e))?,
            context: flacenc::source::Context::new(bits, channels),
            channels,
            total: 0,
            frame_bytes: (usize::MAX, 0),
        })
    }

    /// Encodes and writes one block of interleaved samples: [`FLAC_BLOCK`] frames, fewer only
    /// for the last.
    fn encode(&mut self, block: &[i32]) -> Result<(), String> {
        use flacenc::source::Fill;
        if block.is_empty() {
            return Ok(());
        }
        let mut target = (&mut self.frame, &mut self.context);
        target
            .fill_interleaved(block)
            .map_err(|e| format!("{e:?}"))?;
        let number = self.context.current_frame_number().unwrap_or(0);
        let encode = |config| {
            flacenc::encode_fixed_size_frame(config, &self.frame, number, self.stream.stream_info())
                .map_err(|e| format!("{e:?}"))
                .and_then(|frame| bytes_of(&frame))
        };
        let mut bytes = encode(&self.config)?;
        let pcm_bytes = block.len() * self.bits / 8 + 64;
        if bytes.len() > pcm_bytes {
            bytes = encode(&self.verbatim)?;
        }
        self.frame_bytes = (
            self.frame_bytes.0.min(bytes.len()),
            self.frame_bytes.1.max(bytes.len()),
        );
        self.total += (block.len() / self.channels) as u64;
        self.file.write_all(&bytes).map_err(|e| e.to_string())
    }

    fn finish(mut self) -> Result<(), String> {
        let md5 = self.context.md5_digest();
        let info = self.stream.stream_info_mut();
        info.set_md5_digest(&md5);
        // The minimum block size excludes the last, shorter block (FLAC format, STREAMINFO).
        info.set_block_sizes(FLAC_BLOCK, FLAC_BLOCK)
            .map_err(|e| format!("{e:?}"))?;
        // Sizes as written (decoders bound their frame search by the maximum).
        if self.total > 0 {
            info.set_frame_sizes(self.frame_bytes.0, self.frame_bytes.1)
                .map_err(|e| format!("{e:?}"))?;
        }
        info.set_total_samples(self.total as usize);
        let header = bytes_of(&self.stream)?;
        let mut file = self.file.into_inner().map_err(|e| e.to_string())?;
        file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
        file.write_all(&header).map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())
    }
}

/// FLAC encoding beside the rendering: whole blocks go through a short queue to a thread that
/// encodes and writes them, so that on a machine with a core to spare the encoding (about as
/// costly as the whole mastering chain) overlaps the rendering instead of following it. Memory
/// stays bounded by the queue.
struct FlacThread {
    queue: Option<std::sync::mpsc::SyncSender<FlacMessage>>,
    worker: Option<std::thread::JoinHandle<Result<(), String>>>,
    /// Interleaved samples waiting for a whole block.
    pending: Vec<i32>,
    block: usize,
}

enum FlacMessage {
    /// A whole block of interleaved samples (the last may be shorter).
    Samples(Vec<i32>),
    Finish,
}

/// Blocks that may wait for the encoder.
const FLAC_QUEUE: usize = 4;

impl FlacThread {
    fn start(mut sink: FlacSink) -> Self {
        let block = FLAC_BLOCK * sink.channels;
        let (queue, messages) = std::sync::mpsc::sync_channel(FLAC_QUEUE);
        let worker = std::thread::spawn(move || {
            for message in messages {
                match message {
                    FlacMessage::Samples(block) => sink.encode(&block)?,
                    FlacMessage::Finish => return sink.finish(),
                }
            }
            // The writer was dropped unfinished: its temporary file is discarded.
            Err("abandoned".to_string())
        });
        Self {
            queue: Some(queue),
            worker: Some(worker),
            pending: Vec::with_capacity(block),
            block,
        }
    }

    fn send(&mut self, message: FlacMessage) -> Result<(), String> {
        let sent = self.queue.as_ref().map(|queue| queue.send(message));
        match sent {
            Some(Ok(())) => Ok(()),
            // The encoder stopped: its own error says why.
            _ => Err(self
                .join()
                .err()
                .unwrap_or_else(|| "the FLAC encoder stopped".into())),
        }
    }

    fn join(&mut self) -> Result<(), String> {
        self.queue = None;
        match self.worker.take().map(|worker| worker.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err("the FLAC encoder panicked".to_string()),
            None => Err("the FLAC encoder stopped".to_string()),
        }
    }

    fn write(&mut self, interleaved: &[i32]) -> Result<(), String> {
        let mut rest = interleaved;
        while !rest.is_empty() {
            let take = (self.block - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == self.block {
                let full = std::mem::replace(&mut self.pending, Vec::with_capacity(self.block));
                self.send(FlacMessage::Samples(full))?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), String> {
        let last = std::mem::take(&mut self.pending);
        if !last.is_empty() {
            self.send(FlacMessage::Samples(last))?;
        }
        self.send(FlacMessage::Finish)?;
        self.join()
    }
}

impl Drop for FlacThread {
    /// An unfinished writer stops its encoder before the temporary file goes.
    fn drop(&mut self) {
        if self.worker.is_some() {
            let _ = self.join();
        }
    }
}

/// A FLAC component's bytes.
fn bytes_of(component: &impl flacenc::component::BitRepr) -> Result<Vec<u8>, String> {
    let mut sink = flacenc::bitsink::ByteSink::new();
    component
        .write(&mut sink)
        .map_err(|e| format!("FLAC encoding failed: {e:?}"))?;
    Ok(sink.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A xorshift64 generator of test data from `state` (not zero).
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// The stereo conversion to integers is the scalar one sample for sample: every kind of
    /// `f32` (random bit patterns, so NaN, infinities, subnormals and the huge), halves and the
    /// floats either side of them, the word's edges; 16 and 24 bits; lengths with and without
    /// a scalar tail.
    #[test]
    fn integer_conversion_matches_the_reference() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for bits in [16, 24] {
            let scale = (1u32 << (bits - 1)) as f32;
            let mut samples: Vec<f32> = (0..4000).map(|_| f32::from_bits(next() as u32)).collect();
            for k in -40_000i32..40_000 {
                let half = (k as f32 + 0.5) / scale;
                samples.extend([half, half.next_up(), half.next_down()]);
            }
            samples.extend([0.0, -0.0, 1.0, -1.0, 1.0f32.next_down(), -1.0f32.next_up()]);
            samples.extend([
                f32::NAN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::MAX,
                f32::MIN,
            ]);
            for len in [samples.len() / 2, samples.len() / 2 - 3] {
                let (left, right) = samples.split_at(samples.len() / 2);
                let (left, right) = (&left[..len], &right[..len]);
                let mut want = vec![0; 2 * len];
                let mut got = vec![1; 2 * len];
                to_integers_scalar(&[left, right], bits, &mut want);
                to_integers(&[left, right], bits, &mut got);
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    let x = [left, right][i % 2][i / 2];
                    assert_eq!(g, w, "{bits} bits, sample {i} ({x:e})");
                }
            }
        }
    }

    /// A WAV by hand: `fmt ` as `tag` (extensible when 0xFFFE, then with `sub_tag`), an odd-sized
    /// chunk (with its pad byte) before `data`, and `data` announcing `announced` bytes whatever
    /// follows.
    fn wav_bytes(
        tag: u16,
        sub_tag: u16,
        bits: u16,
        channels: u16,
        data: &[u8],
        announced: u32,
    ) -> Vec<u8> {
        let block_align = channels * bits / 8;
        let mut fmt = Vec::new();
        fmt.extend_from_slice(&tag.to_le_bytes());
        fmt.extend_from_slice(&channels.to_le_bytes());
        fmt.extend_from_slice(&44_100u32.to_le_bytes());
        fmt.extend_from_slice(&(44_100 * block_align as u32).to_le_bytes());
        fmt.extend_from_slice(&block_align.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        if tag == 0xFFFE {
            fmt.extend_from_slice(&22u16.to_le_bytes());
            fmt.extend_from_slice(&bits.to_le_bytes());
            fmt.extend_from_slice(&0u32.to_le_bytes());
            fmt.extend_from_slice(&sub_tag.to_le_bytes());
            fmt.extend_from_slice(&[
                0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
            ]);
        }
        let mut body = b"WAVE".to_vec();
        push_chunk(&mut body, b"fmt ", &fmt);
        push_chunk(&mut body, b"junk", b"odd");
        body.extend_from_slice(b"data");
        body.extend_from_slice(&announced.to_le_bytes());
        body.extend_from_slice(data);
        let mut file = b"RIFF".to_vec();
        // The RIFF size as the whole file announced it (a truncated file keeps its header).
        let announced_body = body.len() - data.len() + announced as usize;
        file.extend_from_slice(&(announced_body as u32).to_le_bytes());
        file.extend_from_slice(&body);
        file
    }

    /// Everything `reader` gives, `step` frames at a time, per channel, and how it ended.
    fn read_all(mut reader: Reader, step: usize) -> (Vec<Vec<u32>>, Result<()>, NonFinite) {
        let channels = reader.info().channels;
        let mut out = vec![vec![0.0; step]; channels];
        let mut all = vec![Vec::new(); channels];
        let ended = loop {
            match reader.read(&mut out, step) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    for (all, out) in all.iter_mut().zip(&out) {
                        all.extend(out[..n].iter().map(|x| x.to_bits()));
                    }
                }
                Err(e) => break Err(e),
            }
        };
        (all, ended, reader.non_finite())
    }

    /// PCM WAVs read straight from their bytes give what symphonia's decoder gives, bit for bit:
    /// 16/24/32-bit integers and 32/64-bit floats, plain and extensible headers, one to three
    /// channels, random samples with every extreme (the integers' ends, NaN, infinities,
    /// subnormals, doubles beyond `f32`'s range), read in odd steps; a truncated file gives every
    /// whole frame it holds (the decoder's are the same up to where it stopped) and the same
    /// error. The direct path is checked to be the one taken.
    #[test]
    fn direct_pcm_reading_is_the_decoder_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let mut random = xorshift(0x2545_f491_4f6c_dd1d);
        let layouts = [(1, 16), (1, 24), (1, 32), (3, 32), (3, 64)];
        for (tag, bits) in layouts {
            for extensible in [false, true] {
                for channels in 1..=3u16 {
                    let width = bits as usize / 8;
                    let frames = 5000;
                    let mut data = Vec::new();
                    for i in 0..frames * channels as usize {
                        let extreme: Vec<u8> = match (tag, bits, i % 7) {
                            (1, _, 0) => vec![0x00; width - 1].into_iter().chain([0x80]).collect(),
                            (1, _, 1) => vec![0xFF; width - 1].into_iter().chain([0x7F]).collect(),
                            (3, 32, 0) => f32::NAN.to_le_bytes().to_vec(),
                            (3, 32, 1) => f32::NEG_INFINITY.to_le_bytes().to_vec(),
                            (3, 32, 2) => 1e-40f32.to_le_bytes().to_vec(),
                            (3, 64, 0) => 1e300f64.to_le_bytes().to_vec(),
                            (3, 64, 1) => f64::NAN.to_le_bytes().to_vec(),
                            (3, 64, 2) => 1e-310f64.to_le_bytes().to_vec(),
                            _ => random().to_le_bytes()[..width].to_vec(),
                        };
                        data.extend_from_slice(&extreme);
                    }
                    let (tag, sub_tag) = if extensible { (0xFFFE, tag) } else { (tag, 0) };
                    let whole = data.len() as u32;
                    let cases = [
                        (
                            "whole",
                            wav_bytes(tag, sub_tag, bits, channels, &data, whole),
                        ),
                        // Announces more than there is: a frame and a half missing.
                        (
                            "truncated",
                            wav_bytes(
                                tag,
                                sub_tag,
                                bits,
                                channels,
                                &data[..data.len() - 3 * width * channels as usize / 2],
                                whole,
                            ),
                        ),
                    ];
                    for (what, bytes) in cases {
                        let name = format!("{tag}-{bits}-{channels}-{what}");
                        let path = dir.path().join(format!("{name}.wav"));
                        std::fs::write(&path, bytes).unwrap();
                        let direct = Reader::open(&path).unwrap();
                        assert!(direct.pcm.is_some(), "{name}: read directly");
                        let decoded = Reader::open(&path).unwrap().decoded_by_symphonia();
                        let (a, a_end, a_non_finite) = read_all(direct, 999);
                        let (b, b_end, b_non_finite) = read_all(decoded, 1024);
                        assert_eq!(a.len(), channels as usize, "{name}");
                        // Symphonia drops the partial packet before a truncation; the direct
                        // reading gives every whole frame there is. Either way the read fails.
                        let whole_frames = if what == "whole" { frames } else { frames - 2 };
                        for (c, (a, b)) in a.iter().zip(&b).enumerate() {
                            let differ = a.iter().zip(b).position(|(a, b)| a != b);
                            assert!(
                                a.len() == whole_frames && b.len() <= a.len() && differ.is_none(),
                                "{name}: channel {c}: {} and {} frames, first difference at {differ:?}",
                                a.len(),
                                b.len()
                            );
                            if what == "whole" {
                                assert_eq!(a.len(), b.len(), "{name}");
                            }
                        }
                        assert_eq!(a_non_finite, b_non_finite, "{name}: non-finite samples");
                        match (a_end, b_end) {
                            (Ok(()), Ok(())) => assert_eq!(what, "whole"),
                            (Err(a), Err(b)) => {
                                assert_eq!(what, "truncated");
                                assert_eq!(a.to_string(), b.to_string(), "{name}");
                                assert!(a.to_string().contains("truncated audio"), "{a}");
                            }
                            (a, b) => panic!("{name}: ended {a:?} and {b:?}"),
                        }
                    }
                }
            }
        }
    }

    /// A FLAC writer dropped unfinished (an error elsewhere) stops its encoder thread and leaves
    /// no file behind; finished, the same samples are in the file.
    #[test]
    fn flac_writer_finishes_or_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("lathe-flac-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.flac");
        let frames = 3 * FLAC_BLOCK + 123;
        let left: Vec<f32> = (0..frames)
            .map(|i| ((i % 200) as f32 - 100.0) / 32768.0)
            .collect();
        let right: Vec<f32> = left.iter().map(|x| -x).collect();
        let write = |finish: bool| {
            let mut writer =
                Writer::create(&path, 44_100, 2, OutputBits::Int16, &Tags::default()).unwrap();
            for (l, r) in left.chunks(1000).zip(right.chunks(1000)) {
                writer.write(&[l, r]).unwrap();
            }
            if finish {
                writer.finish().unwrap();
            }
        };
        write(false);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing left");
        write(true);
        let mut reader = Reader::open(&path).unwrap();
        let mut out = vec![vec![0.0; frames + 10]; 2];
        let got = reader.read(&mut out, frames + 10).unwrap();
        assert_eq!(got, frames);
        assert_eq!(&out[0][..frames], &left[..]);
        assert_eq!(&out[1][..frames], &right[..]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The INFO chunk Lathe writes reads back as the tags it came from (Latin-1 and UTF-8
    /// text), and damaged INFO lists end the reading instead of panicking.
    #[test]
    fn info_chunks_round_trip_and_survive_damage() {
        let tags = Tags {
            title: Some("Über Café".into()),
            artist: Some("Ωmega".into()),
            album: Some("Night Drive".into()),
            track: Some(7),
            ..Tags::default()
        };
        let list = tags.riff_info().unwrap();
        assert_eq!(&list[..4], b"LIST");
        assert_eq!(&list[8..12], b"INFO");
        assert_eq!(parse_info(&list[12..]), tags);
        // Truncated anywhere, or a sub-chunk claiming more than there is.
        for end in 12..list.len() {
            parse_info(&list[12..end]);
        }
        let mut lying = list[12..].to_vec();
        lying[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse_info(&lying), Tags::default());
    }

    /// The ID3 tag Lathe writes reads back through symphonia's reader as the tags it came
    /// from, and truncated tags give up quietly.
    #[test]
    fn id3_tags_round_trip_and_survive_damage() {
        let tags = Tags {
            title: Some("Über Café Ω".into()),
            artist: Some("Someone".into()),
            album: Some("Record".into()),
            album_artist: Some("Various".into()),
            track: Some(3),
            track_total: Some(12),
            isrc: Some("GBAYE2600123".into()),
        };
        let id3 = tags.id3v24().unwrap();
        let mut read = Tags::default();
        read.take_from(&parse_id3(id3.clone()).unwrap());
        assert_eq!(read, tags);
        for end in 0..id3.len() {
            if let Some(revision) = parse_id3(id3[..end].to_vec()) {
                Tags::default().take_from(&revision);
            }
        }
    }
}
