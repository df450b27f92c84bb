//! Streaming: decoded files as stereo blocks (resampled when asked), latency-aligned processing,
//! a disk cache of the pre-limiter signal, and the limiter/fade/dither stage.
//!
//! Memory never depends on a file's length: audio moves in blocks of [`BLOCK`] frames, and the
//! pre-limiter signal, which the loudness search renders several times, waits in an unlinked
//! temporary file next to the output rather than in memory.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use dsp_core::dither::{Dither, DitherSettings};
use dsp_core::limiter::PeakHold;
use dsp_core::loudness::LoudnessMeter;
use dsp_core::{Limiter, TruePeakDetector, GAIN_LANES};
use rubato::{FftFixedIn, Resampler};
use serde::Serialize;

use crate::audio::Reader;

/// Receives stereo blocks it may change in place.
pub type BlockSinkMut<'a> = dyn FnMut(&mut [f32], &mut [f32]) -> Result<()> + 'a;

/// Frames per processing block.
pub const BLOCK: usize = 4096;

/// Sample rates the chain is built for.
pub const RATES: (u32, u32) = (22_050, 384_000);

/// A stereo stream of blocks at a fixed rate. Mono files play on both sides.
pub trait Stream {
    fn rate(&self) -> u32;
    /// Fills `left[..n]`/`right[..n]` (n ≤ their length) and returns n; 0 at the end.
    fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<usize>;
}

impl<S: Stream + ?Sized> Stream for Box<S> {
    fn rate(&self) -> u32 {
        (**self).rate()
    }

    fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<usize> {
        (**self).read(left, right)
    }
}

impl<S: Stream + ?Sized> Stream for &mut S {
    fn rate(&self) -> u32 {
        (**self).rate()
    }

    fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<usize> {
        (**self).read(left, right)
    }
}

/// A stereo block processor whose output lags its input by a fixed number of frames.
pub trait Delaying {
    fn latency(&self) -> usize;
    fn process(&mut self, left: &mut [f32], right: &mut [f32]);
}

impl Delaying for crate::chain::PreChain {
    fn latency(&self) -> usize {
        crate::chain::PreChain::latency(self) as usize
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        crate::chain::PreChain::process(self, left, right);
    }
}

/// A closure processor with the latency it has.
struct Delayed<F>(usize, F);

impl<F: FnMut(&mut [f32], &mut [f32])> Delaying for Delayed<F> {
    fn latency(&self) -> usize {
        self.0
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        (self.1)(left, right);
    }
}

/// A stream through a delaying processor, time-aligned: the first `latency` frames of output
/// are dropped and silence flushes the end, so exactly as many frames come out as went in.
/// Stems are processed this way before they are summed; [`run_aligned`] pushes the same.
pub struct Processed<S: Stream, P: Delaying> {
    inner: S,
    chain: P,
    skip: usize,
    frames_in: u64,
    frames_out: u64,
    ended: bool,
    block: [Vec<f32>; 2],
    start: usize,
    len: usize,
}

impl<S: Stream, P: Delaying> Processed<S, P> {
    pub fn new(inner: S, chain: P) -> Self {
        Self {
            skip: chain.latency(),
            inner,
            chain,
            frames_in: 0,
            frames_out: 0,
            ended: false,
            block: [vec![0.0; BLOCK], vec![0.0; BLOCK]],
            start: 0,
            len: 0,
        }
    }
}

impl<S: Stream, P: Delaying> Stream for Processed<S, P> {
    fn rate(&self) -> u32 {
        self.inner.rate()
    }

    fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<usize> {
        let max = left.len().min(right.len());
        let mut filled = 0;
        while filled < max {
            if self.start == self.len {
                let [l, r] = &mut self.block;
                let n = if self.ended {
                    let remaining = (self.frames_in - self.frames_out) as usize + self.skip;
                    if self.frames_in == self.frames_out {
                        break;
                    }
                    let n = BLOCK.min(remaining);
                    l[..n].fill(0.0);
                    r[..n].fill(0.0);
                    n
                } else {
                    let n = self.inner.read(l, r)?;
                    if n == 0 {
                        self.ended = true;
                        continue;
                    }
                    self.frames_in += n as u64;
                    n
                };
                self.chain.process(&mut l[..n], &mut r[..n]);
                let dropped = self.skip.min(n);
                self.skip -= dropped;
                self.start = dropped;
                self.len = n;
                continue;
            }
            let owed = (self.frames_in - self.frames_out) as usize;
            let n = (self.len - self.start).min(max - filled).min(owed);
            if n == 0 {
                if self.ended {
                    break;
                }
                self.start = self.len;
                continue;
            }
            let range = self.start..self.start + n;
            left[filled..filled + n].copy_from_slice(&self.block[0][range.clone()]);
            right[filled..filled + n].copy_from_slice(&self.block[1][range]);
            self.start += n;
            self.frames_out += n as u64;
            filled += n;
        }
        Ok(filled)
    }
}

/// Streams one after the other without a break (tracks that continue each other), counting the
/// frames each gave.
pub struct Concat {
    parts: Vec<Box<dyn Stream + Send>>,
    current: usize,
    lengths: Vec<u64>,
    rate: u32,
}

impl Concat {
    pub fn new(parts: Vec<Box<dyn Stream + Send>>) -> Self {
        let rate = parts.first().map_or(48_000, |p| p.rate());
        Self {
            lengths: vec![0; parts.len()],
            parts,
            current: 0,
            rate,
        }
    }

    /// Frames each part gave (all of them once the stream has ended).
    pub fn lengths(&self) -> &[u64] {
        &self.lengths
    }
}

impl Stream for Concat {
    fn rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<usize> {
        while let Some(part) = self.parts.get_mut(self.current) {
            let n = part.read(left, right)?;
            if n > 0 {
                self.lengths[self.current] += n as u64;
                return Ok(n);
            }
            self.current += 1;
        }
        Ok(0)
    }
}

/// Streams summed, each running until its own end (stems of one song).
pub struct Sum {
    parts: Vec<Box<dyn Stream + Send>>,
    scratch: [Vec<f32>; 2],
    rate: u32,
}

impl Sum {
    pub fn new(parts: Vec<Box<dyn Stream + Send>>) -> Self {
        let rate = parts.first().map_or(48_000, |p| p.rate());
        Self {
            parts,
            scratch: [vec![0.0; BLOCK], vec![0.0; BLOCK]],
            rate,
        }
    }
}

impl Stream for Sum {
    fn rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<usize> {
        let max = left.len().min(right.len()).min(BLOCK);
        left[..max].fill(0.0);
        right[..max].fill(0.0);
        let mut longest = 0;
        for part in &mut self.parts {
            // Each part fills as far as it can; a part that ended adds nothing.
            let mut got = 0;
            while got < max {
                let [l, r] = &mut self.scratch;
                let n = part.read(&mut l[..max - got], &mut r[..max - got])?;
                if n == 0 {
                    break;
                }
                for i in 0..n {
                    left[got + i] += l[i];
                    right[got + i] += r[i];
                }
                got += n;
            }
            longest = longest.max(got);
        }
        Ok(longest)
    }
}

/// A file as a stereo stream, metering what it decodes when asked.
pub struct FileStream {
    reader: Reader,
    buffers: Vec<Vec<f32>>,
    pub meter: Option<LoudnessMeter>,
}

impl FileStream {
    /// Opens a mono or stereo file.
    pub fn open(path: &Path, meter: bool) -> Result<Self> {
        let mut reader = Reader::open(path)?;
        reader.reject_non_finite();
        let info = reader.info().clone();
        if info.channels > 2 {
            bail!(
                "{}: has {} channels; mastering takes mono or stereo files",
                path.display(),
                info.channels
            );
        }
        let meter = if meter {
            Some(LoudnessMeter::new(info.sample_rate, info.channels).map_err(anyhow::Error::msg)?)
        } else {
            None
        };
        Ok(Self {
            reader,
            buffers: vec![vec![0.0; BLOCK]; info.channels],
            meter,
        })
    }

    pub fn reader(&self) -> &Reader {
        &self.reader
    }
}

impl Stream for FileStream {
    fn rate(&self) -> u32 {
        self.reader.info().sample_rate
    }

    fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<usize> {
        let max = left.len().min(right.len()).min(BLOCK);
        let n = self.reader.read(&mut self.buffers, max)?;
        if let Some(meter) = &mut self.meter {
            let slices: Vec<&[f32]> = self.buffers.iter().map(|b| &b[..n]).collect();
            meter.process(&slices);
        }
        left[..n].copy_from_slice(&self.buffers[0][..n]);
        right[..n].copy_from_slice(&self.buffers[self.buffers.len() - 1][..n]);
        Ok(n)
    }
}

/// Another stream at a new rate: rubato's synchronous FFT resampler, its delay removed, with
/// exactly `round(frames · out / in)` frames out.
pub struct Resampled<S: Stream> {
    inner: S,
    rate: u32,
    resampler: FftFixedIn<f32>,
    input: [Vec<f32>; 2],
    output: [Vec<f32>; 2],
    /// Blocks read from `inner`.
    scratch: [Vec<f32>; 2],
    /// Valid output frames in `output`, from `output_start`.
    output_len: usize,
    output_start: usize,
    /// Output frames still to drop (the resampler's delay).
    skip: usize,
    frames_in: u64,
    frames_out: u64,
    ended: bool,
}

impl<S: Stream> Resampled<S> {
    pub fn new(inner: S, rate: u32) -> Result<Self> {
        let from = inner.rate();
        let resampler = FftFixedIn::<f32>::new(from as usize, rate as usize, 1024, 2, 2)
            .map_err(|e| anyhow::anyhow!("cannot resample {from} Hz to {rate} Hz: {e}"))?;
        let max_out = resampler.output_frames_max();
        let skip = resampler.output_delay();
        Ok(Self {
            inner,
            rate,
            input: [Vec::new(), Vec::new()],
            output: [vec![0.0; max_out], vec![0.0; max_out]],
            scratch: [vec![0.0; BLOCK], vec![0.0; BLOCK]],
            output_len: 0,
            output_start: 0,
            skip,
            frames_in: 0,
            frames_out: 0,
            ended: false,
            resampler,
        })
    }

    pub fn into_inner(self) -> S {
        self.inner
    }

    fn expected_out(&self) -> u64 {
        (self.frames_in as u128 * self.rate as u128 / self.inner.rate() as u128) as u64
    }

    /// Runs the resampler once; false when nothing more will come.
    fn refill(&mut self) -> Result<bool> {
        let needed = self.resampler.input_frames_next();
        while !self.ended && self.input[0].len() < needed {
            let [l, r] = &mut self.scratch;
            let n = self.inner.read(l, r)?;
            if n == 0 {
                self.ended = true;
            }
            self.frames_in += n as u64;
            self.input[0].extend_from_slice(&l[..n]);
            self.input[1].extend_from_slice(&r[..n]);
        }
        if self.ended && self.input[0].is_empty() && self.frames_out >= self.expected_out() {
            return Ok(false);
        }
        let take = needed.min(self.input[0].len());
        let (used, made) = if take == needed {
            let chunk = [&self.input[0][..needed], &self.input[1][..needed]];
            self.resampler
                .process_into_buffer(&chunk, &mut self.output, None)
                .map_err(|e| anyhow::anyhow!("resampling failed: {e}"))?
        } else {
            // The end: the last input padded with silence, then silence alone, until the
            // delayed output is all out.
            let chunk = [&self.input[0][..take], &self.input[1][..take]];
            let input = (take > 0).then_some(&chunk[..]);
            let (_, made) = self
                .resampler
                .process_partial_into_buffer(input, &mut self.output, None)
                .map_err(|e| anyhow::anyhow!("resampling failed: {e}"))?;
            (take, made)
        };
        self.input[0].drain(..used);
        self.input[1].drain(..used);
        let dropped = self.skip.min(made);
        self.skip -= dropped;
        self.output_start = dropped;
        self.output_len = made;
        Ok(true)
    }
}

impl<S: Stream> Stream for Resampled<S> {
    fn rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<usize> {
        let max = left.len().min(right.len());
        let mut filled = 0;
        while filled < max {
            if self.output_start == self.output_len {
                if self.ended && self.frames_out >= self.expected_out() {
                    break;
                }
                if !self.refill()? {
                    break;
                }
                continue;
            }
            let remaining = if self.ended {
                (self.expected_out() - self.frames_out) as usize
            } else {
                usize::MAX
            };
            let n = (self.output_len - self.output_start)
                .min(max - filled)
                .min(remaining);
            if n == 0 {
                break;
            }
            let range = self.output_start..self.output_start + n;
            left[filled..filled + n].copy_from_slice(&self.output[0][range.clone()]);
            right[filled..filled + n].copy_from_slice(&self.output[1][range]);
            self.output_start += n;
            self.frames_out += n as u64;
            filled += n;
        }
        Ok(filled)
    }
}

/// Pulls everything from `source` through `process`, a stereo processor that delays by
/// `latency` frames, and hands `sink` the time-aligned output (as [`Processed`] streams it),
/// which it may change in place. Returns the frames handed over: as many as came in.
pub fn run_aligned(
    source: &mut dyn Stream,
    latency: usize,
    process: &mut dyn FnMut(&mut [f32], &mut [f32]),
    sink: &mut BlockSinkMut<'_>,
) -> Result<u64> {
    let mut aligned = Processed::new(source, Delayed(latency, process));
    let mut left = vec![0.0; BLOCK];
    let mut right = vec![0.0; BLOCK];
    let mut frames = 0u64;
    loop {
        let n = aligned.read(&mut left, &mut right)?;
        if n == 0 {
            return Ok(frames);
        }
        sink(&mut left[..n], &mut right[..n])?;
        frames += n as u64;
    }
}

/// The pre-limiter signal on disk: interleaved stereo `f32`, in an unlinked temporary file (a
/// crash leaves nothing behind). With a limiter in the chain it also holds the limiter's
/// true-peak detection of that signal (see [`Limiter::process_detected`]): the detector is
/// linear, so one detection serves every gain the loudness search tries, and the passes that
/// render the limiter run without oversampling. With a fully linked limiter it holds instead
/// that detection reduced by the limiter's window, and the loudness contributions: what
/// [`estimate_lanes`] and [`render`] read.
pub struct Cache {
    audio: SpoolWriter,
    /// The detectors of the limiter's detection, and the detection itself, interleaved like the
    /// audio, where renders read it (not when the estimation's held detection serves them).
    peaks: Option<(Option<SpoolWriter>, [TruePeakDetector; 2])>,
    /// For [`estimate_lanes`] and [`render`], with a fully linked limiter.
    estimation: Option<Estimation>,
    /// The largest detected peak so far.
    detected_peak: f32,
    frames: u64,
    rate: u32,
    finished: bool,
    /// A push's working space: the detection (a block each).
    detection: [Vec<f32>; 2],
}

/// What [`estimate_lanes`] reads: the detection held by the limiter's window ([`PeakHold`])
/// and each frame's loudness contribution, one `f32` per frame each.
struct Estimation {
    held: SpoolWriter,
    held_len: u64,
    hold: PeakHold,
    contributions: SpoolWriter,
}

fn temporary(directory: &Path) -> Result<SpoolWriter> {
    let file = tempfile::tempfile_in(directory).with_context(|| {
        format!(
            "{}: cannot create a temporary file for the work",
            directory.display()
        )
    })?;
    Ok(SpoolWriter {
        file,
        block: vec![0.0; SPOOL_BLOCK],
        len: 0,
        written: 0,
        reserved: 0,
    })
}

/// The largest magnitude among `start` and the samples of two blocks of finite values
/// (detector readings): without the sign bit their bit patterns order like their magnitudes, so
/// this is an integer maximum, which vectorises.
fn max_of(start: f32, left: &[f32], right: &[f32]) -> f32 {
    let magnitude = |x: &f32| x.to_bits() & 0x7fff_ffff;
    let bits = |block: &[f32]| block.iter().map(magnitude).max().unwrap_or(0);
    f32::from_bits(start.to_bits().max(bits(left)).max(bits(right)))
}

/// Values per read or write of a temporary file (1 MiB of `f32`).
const SPOOL_BLOCK: usize = 1 << 18;

/// A temporary file of `f32` written a large block at a time, the values placed straight into
/// the block that goes to the file (no second copy, as a buffered writer would make). The file
/// holds them in the machine's own byte order: this process writes them and reads them back.
struct SpoolWriter {
    file: File,
    block: Vec<f32>,
    len: usize,
    /// Bytes written to the file, and bytes of it reserved on disk ahead of the writes.
    written: u64,
    reserved: u64,
}

/// How far ahead of its writes a temporary file's space is reserved, bytes.
const RESERVE_AHEAD: u64 = 64 << 20;

impl SpoolWriter {
    /// Appends `left`/`right` interleaved (frame after frame).
    fn push_pairs(&mut self, left: &[f32], right: &[f32]) -> Result<()> {
        let n = left.len().min(right.len());
        let mut done = 0;
        while done < n {
            let room = (self.block.len() - self.len) / 2;
            if room == 0 {
                self.write_block()?;
                continue;
            }
            let m = room.min(n - done);
            let frames = &mut self.block[self.len..self.len + 2 * m];
            let (left, right) = (&left[done..done + m], &right[done..done + m]);
            for ((frame, &l), &r) in frames.chunks_exact_mut(2).zip(left).zip(right) {
                frame[0] = l;
                frame[1] = r;
            }
            self.len += 2 * m;
            done += m;
        }
        Ok(())
    }

    /// Appends `values`.
    fn push_values(&mut self, values: &[f32]) -> Result<()> {
        self.push_with(values.len(), |range, out| {
            out.copy_from_slice(&values[range])
        })
    }

    /// Appends `count` values that `fill(range, out)` writes into `out` piece by piece, the
    /// pieces' ranges in order.
    fn push_with(
        &mut self,
        count: usize,
        mut fill: impl FnMut(std::ops::Range<usize>, &mut [f32]),
    ) -> Result<()> {
        let mut done = 0;
        while done < count {
            if self.len == self.block.len() {
                self.write_block()?;
            }
            let m = (self.block.len() - self.len).min(count - done);
            fill(done..done + m, &mut self.block[self.len..self.len + m]);
            self.len += m;
            done += m;
        }
        Ok(())
    }

    fn write_block(&mut self) -> Result<()> {
        let bytes = (self.len * std::mem::size_of::<f32>()) as u64;
        if self.written + bytes > self.reserved {
            self.reserve();
        }
        self.file
            .write_all(bytemuck::cast_slice(&self.block[..self.len]))
            .context("writing the temporary file failed (disk full?)")?;
        self.written += bytes;
        self.len = 0;
        Ok(())
    }

    /// Reserves the next [`RESERVE_AHEAD`] bytes of the file on disk, its length unchanged: the
    /// writes then fill space already allocated instead of allocating it page by page, which
    /// took a fifth of the kernel's time for these files (ext4). Only an optimisation: where it
    /// fails or is not supported, the writes allocate as usual (and report a full disk).
    fn reserve(&mut self) {
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::{fallocate, FallocateFlags};
            let _ = fallocate(
                &self.file,
                FallocateFlags::KEEP_SIZE,
                self.reserved,
                RESERVE_AHEAD,
            );
        }
        self.reserved += RESERVE_AHEAD;
    }

    /// A reader of everything written so far, from the start (the writer stays usable).
    fn reader(&mut self) -> Result<SpoolReader> {
        self.write_block()?;
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        Ok(SpoolReader {
            file,
            block: vec![0.0; SPOOL_BLOCK],
            start: 0,
            len: 0,
        })
    }
}

/// Reads a [`SpoolWriter`]'s file a large block at a time, handing values straight from the
/// block.
struct SpoolReader {
    file: File,
    block: Vec<f32>,
    /// The unread values are `block[start..len]`.
    start: usize,
    len: usize,
}

impl SpoolReader {
    /// Fills `left`/`right` (the same length) from interleaved frames.
    fn read_pairs(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<()> {
        let n = left.len().min(right.len());
        let mut done = 0;
        while done < n {
            let available = (self.len - self.start) / 2;
            if available == 0 {
                self.refill()?;
                continue;
            }
            let m = available.min(n - done);
            let frames = &self.block[self.start..self.start + 2 * m];
            let (l, r) = (&mut left[done..done + m], &mut right[done..done + m]);
            for ((frame, l), r) in frames.chunks_exact(2).zip(l).zip(r) {
                *l = frame[0];
                *r = frame[1];
            }
            self.start += 2 * m;
            done += m;
        }
        Ok(())
    }

    /// Fills `values`.
    fn read_values(&mut self, values: &mut [f32]) -> Result<()> {
        let mut done = 0;
        while done < values.len() {
            if self.start == self.len {
                self.refill()?;
            }
            let m = (self.len - self.start).min(values.len() - done);
            values[done..done + m].copy_from_slice(&self.block[self.start..self.start + m]);
            self.start += m;
            done += m;
        }
        Ok(())
    }

    /// Moves what is left unread (less than a frame) to the front and reads on behind it.
    fn refill(&mut self) -> Result<()> {
        self.block.copy_within(self.start..self.len, 0);
        let kept = self.len - self.start;
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut self.block[kept..]);
        let mut got = 0;
        while got < bytes.len() {
            match self.file.read(&mut bytes[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("reading the temporary file failed"),
            }
        }
        if got % 4 != 0 || got == 0 {
            bail!("reading the temporary file failed: it ended early");
        }
        self.start = 0;
        self.len = kept + got / 4;
        Ok(())
    }
}

impl Cache {
    /// A cache in `directory` for the chain's limiter, if any.
    pub fn new(directory: &Path, rate: u32, limiter: Option<&Limiter>) -> Result<Self> {
        let estimation = match limiter {
            Some(l) if l.settings().stereo_link >= 1.0 => Some(Estimation {
                held: temporary(directory)?,
                held_len: 0,
                hold: l.peak_hold(),
                contributions: temporary(directory)?,
            }),
            _ => None,
        };
        let peaks = match limiter {
            Some(l) => {
                let file = match estimation {
                    Some(_) => None,
                    None => Some(temporary(directory)?),
                };
                Some((file, [l.detector(), l.detector()]))
            }
            None => None,
        };
        Ok(Self {
            audio: temporary(directory)?,
            peaks,
            estimation,
            detected_peak: 0.0,
            frames: 0,
            rate,
            finished: false,
            detection: [vec![0.0; BLOCK], vec![0.0; BLOCK]],
        })
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Whether [`Cache::push`] wants loudness contributions (for [`estimate_lanes`]).
    pub fn keeps_contributions(&self) -> bool {
        self.estimation.is_some()
    }

    /// Appends a block, with its frames' loudness contributions (as
    /// [`LoudnessMeter::process_keeping`] keeps them) when [`Cache::keeps_contributions`], as
    /// it must then.
    pub fn push(&mut self, left: &[f32], right: &[f32], kept: Option<&[f32]>) -> Result<()> {
        assert!(!self.finished, "pushed after finish");
        let n = left.len().min(right.len());
        if n > BLOCK {
            for start in (0..n).step_by(BLOCK) {
                let end = (start + BLOCK).min(n);
                let kept = kept.map(|k| &k[start..end]);
                self.push(&left[start..end], &right[start..end], kept)?;
            }
            return Ok(());
        }
        let (left, right) = (&left[..n], &right[..n]);
        self.audio.push_pairs(left, right)?;
        if let Some((file, [dl, dr])) = &mut self.peaks {
            let [pl, pr] = &mut self.detection;
            let (pl, pr) = (&mut pl[..n], &mut pr[..n]);
            dl.process_block(left, pl);
            dr.process_block(right, pr);
            self.detected_peak = max_of(self.detected_peak, pl, pr);
            if let Some(file) = file {
                file.push_pairs(pl, pr)?;
            }
            if let Some(e) = &mut self.estimation {
                let kept = kept.expect("a cache that estimates is pushed loudness contributions");
                e.contributions.push_values(&kept[..n])?;
                e.push_detection(pl, pr)?;
            }
        }
        self.frames += n as u64;
        Ok(())
    }

    /// Ends the signal: the detection's tail (the detector's latency, as the limiter would read
    /// it while flushing with silence) follows the last frame, and the held detection runs on
    /// until its window holds only that silence.
    pub fn finish(&mut self) -> Result<()> {
        if let Some((file, [dl, dr])) = &mut self.peaks {
            let tail = dl.latency();
            let pl: Vec<f32> = (0..tail).map(|_| dl.process(0.0)).collect();
            let pr: Vec<f32> = (0..tail).map(|_| dr.process(0.0)).collect();
            self.detected_peak = max_of(self.detected_peak, &pl, &pr);
            if let Some(file) = file {
                file.push_pairs(&pl, &pr)?;
            }
            if let Some(e) = &mut self.estimation {
                e.push_detection(&pl, &pr)?;
                let silence = vec![0.0; e.hold.window()];
                e.push_detection(&silence, &silence)?;
            }
        }
        self.finished = true;
        Ok(())
    }

    /// The largest reading of the limiter's detection over the whole signal (finished), if the
    /// cache holds a detection.
    pub fn detected_peak(&self) -> Option<f32> {
        assert!(self.finished, "read before finish");
        self.peaks.as_ref().map(|_| self.detected_peak)
    }

    /// A stream of the cached signal from its start.
    pub fn stream(&mut self) -> Result<CacheStream> {
        assert!(self.finished, "read before finish");
        Ok(CacheStream {
            file: self.audio.reader()?,
            rate: self.rate,
            remaining: self.frames,
        })
    }

    /// The held detection and the loudness contributions from the start, if the cache keeps
    /// them.
    fn estimation(&mut self) -> Result<Option<(ValueStream, ValueStream)>> {
        assert!(self.finished, "read before finish");
        let Some(e) = &mut self.estimation else {
            return Ok(None);
        };
        let stream = |file: &mut SpoolWriter, remaining: u64| -> Result<ValueStream> {
            Ok(ValueStream {
                file: file.reader()?,
                remaining,
            })
        };
        Ok(Some((
            stream(&mut e.held, e.held_len)?,
            stream(&mut e.contributions, self.frames)?,
        )))
    }

    /// The detection from the start, if the cache holds one (not when it estimates).
    fn peaks(&mut self) -> Result<Option<PeakStream>> {
        assert!(self.finished, "read before finish");
        let Some((Some(file), [detector, _])) = &mut self.peaks else {
            return Ok(None);
        };
        Ok(Some(PeakStream {
            remaining: self.frames + detector.latency() as u64,
            file: file.reader()?,
        }))
    }
}

pub struct CacheStream {
    file: SpoolReader,
    rate: u32,
    remaining: u64,
}

impl Stream for CacheStream {
    fn rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<usize> {
        let n = (left.len().min(right.len()).min(BLOCK) as u64).min(self.remaining) as usize;
        self.file.read_pairs(&mut left[..n], &mut right[..n])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// The cached detection, then zeros (what the detector reads from silence).
struct PeakStream {
    file: SpoolReader,
    remaining: u64,
}

impl PeakStream {
    /// Fills `left`/`right` (the same length, at most [`BLOCK`]).
    fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<()> {
        let n = (left.len() as u64).min(self.remaining) as usize;
        self.file.read_pairs(&mut left[..n], &mut right[..n])?;
        left[n..].fill(0.0);
        right[n..].fill(0.0);
        self.remaining -= n as u64;
        Ok(())
    }
}

impl Estimation {
    fn push_detection(&mut self, left: &[f32], right: &[f32]) -> Result<()> {
        let n = left.len().min(right.len());
        let hold = &mut self.hold;
        // Held straight into the block that goes to the file.
        self.held.push_with(n, |range, held| {
            hold.process(&[&left[range.clone()], &right[range]], held)
        })?;
        self.held_len += n as u64;
        Ok(())
    }
}

/// One `f32` per frame from a temporary file, then zeros.
struct ValueStream {
    file: SpoolReader,
    remaining: u64,
}

impl ValueStream {
    /// Fills `values` (at most [`BLOCK`]); returns how many came from the file.
    fn read(&mut self, values: &mut [f32]) -> Result<usize> {
        let n = (values.len() as u64).min(self.remaining) as usize;
        self.file.read_values(&mut values[..n])?;
        values[n..].fill(0.0);
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Fade in and out over a known length: sine-squared (raised-cosine) curves, which start and
/// end without a corner, with the gain at the fade's midpoint 0.5 (−6 dB).
#[derive(Clone, Copy, Debug, Default)]
pub struct Fades {
    pub fade_in: u64,
    pub fade_out: u64,
    pub total: u64,
}

impl Fades {
    /// Gain at frame `n`.
    pub fn gain(&self, n: u64) -> f32 {
        let mut gain = 1.0f64;
        if n < self.fade_in {
            gain *= raised_cosine(n as f64 / self.fade_in as f64);
        }
        let from_end = self.total.saturating_sub(n + 1);
        if from_end < self.fade_out {
            gain *= raised_cosine(from_end as f64 / self.fade_out as f64);
        }
        gain as f32
    }

    pub fn is_none(&self) -> bool {
        self.fade_in == 0 && self.fade_out == 0
    }
}

fn raised_cosine(x: f64) -> f64 {
    let s = (std::f64::consts::FRAC_PI_2 * x).sin();
    s * s
}

/// Renders the cached pre-limiter signal through gain → limiter → fades, handing each
/// time-aligned block to `sink`. A fully linked limiter renders from the cache's held detection
/// ([`Limiter::gains_held`]): its gain alone, then applied to the cached signal, which is what
/// the limiter's full processing applies to `f32` rounding, at under half its cost.
pub fn render(
    cache: &mut Cache,
    gain_db: f64,
    limiter: Option<&mut Limiter>,
    fades: Fades,
    sink: &mut BlockSinkMut<'_>,
) -> Result<()> {
    let gain = 10f64.powf(gain_db / 20.0) as f32;
    let mut limiter = limiter;
    if let Some(l) = limiter.as_deref_mut() {
        l.reset();
        if let Some((held, _)) = cache.estimation()? {
            return render_held(cache, gain, held, l, fades, sink);
        }
    }
    render_detected(cache, gain, limiter, fades, sink)
}

/// [`render`] through the limiter's full processing (on the cached detection when the cache
/// holds one), the limiter reset.
fn render_detected(
    cache: &mut Cache,
    gain: f32,
    mut limiter: Option<&mut Limiter>,
    fades: Fades,
    sink: &mut BlockSinkMut<'_>,
) -> Result<()> {
    let latency = limiter.as_ref().map_or(0, |l| l.latency() as usize);
    let mut peaks = match limiter {
        Some(_) => cache.peaks()?,
        None => None,
    };
    let mut stream = cache.stream()?;
    let mut position = 0u64;
    let mut peak_l = vec![0.0; BLOCK];
    let mut peak_r = vec![0.0; BLOCK];
    let mut failed = None;
    run_aligned(
        &mut stream,
        latency,
        &mut |l, r| {
            l.iter_mut().for_each(|x| *x *= gain);
            r.iter_mut().for_each(|x| *x *= gain);
            let Some(limiter) = limiter.as_deref_mut() else {
                return;
            };
            let Some(peaks) = &mut peaks else {
                limiter.process(&mut [l, r]);
                return;
            };
            let n = l.len();
            let (pl, pr) = (&mut peak_l[..n], &mut peak_r[..n]);
            if let Err(error) = peaks.read(pl, pr) {
                failed.get_or_insert(error);
            }
            pl.iter_mut().for_each(|x| *x *= gain);
            pr.iter_mut().for_each(|x| *x *= gain);
            limiter.process_detected(&mut [l, r], &[pl, pr]);
        },
        &mut |l, r| {
            let n = l.len();
            if !fades.is_none() {
                for i in 0..n {
                    let g = fades.gain(position + i as u64);
                    l[i] *= g;
                    r[i] *= g;
                }
            }
            position += n as u64;
            sink(l, r)
        },
    )?;
    failed.map_or(Ok(()), Err)
}

/// A fully linked limiter's gain per frame from the held detection, at one input gain, aligned
/// with the cached signal: frame `i` gets the gain the limiter computes `latency` frames later
/// (the gain that meets the audio delayed by the latency).
struct HeldGains<'a> {
    held: ValueStream,
    limiter: &'a mut Limiter,
    gain: f32,
    peaks: Vec<f32>,
}

impl<'a> HeldGains<'a> {
    /// From the start of `held`, for `limiter` as reset.
    fn new(held: ValueStream, limiter: &'a mut Limiter, gain: f32) -> Result<Self> {
        let mut latency = limiter.latency() as usize;
        let mut held_gains = Self {
            held,
            limiter,
            gain,
            peaks: vec![0.0; BLOCK],
        };
        let mut skipped = vec![0.0; BLOCK];
        while latency > 0 {
            let n = latency.min(BLOCK);
            held_gains.fill(&mut skipped[..n])?;
            latency -= n;
        }
        Ok(held_gains)
    }

    /// The next `gains.len()` frames' gains (at most [`BLOCK`]).
    fn fill(&mut self, gains: &mut [f32]) -> Result<()> {
        let peaks = &mut self.peaks[..gains.len()];
        self.held.read(peaks)?;
        peaks.iter_mut().for_each(|p| *p *= self.gain);
        self.limiter.gains_held(peaks, gains);
        Ok(())
    }
}

/// [`render`] of a fully linked limiter from the held detection `held`: each frame of the
/// cached signal, times `gain`, times its [`HeldGains`], then the fades.
fn render_held(
    cache: &mut Cache,
    gain: f32,
    held: ValueStream,
    limiter: &mut Limiter,
    fades: Fades,
    sink: &mut BlockSinkMut<'_>,
) -> Result<()> {
    let mut stream = cache.stream()?;
    let mut held_gains = HeldGains::new(held, limiter, gain)?;
    let mut gains = vec![0.0; BLOCK];
    let (mut left, mut right) = (vec![0.0; BLOCK], vec![0.0; BLOCK]);
    let mut position = 0u64;
    loop {
        let n = stream.read(&mut left, &mut right)?;
        if n == 0 {
            return Ok(());
        }
        let (l, r) = (&mut left[..n], &mut right[..n]);
        held_gains.fill(&mut gains[..n])?;
        for ((l, r), &g) in l.iter_mut().zip(r.iter_mut()).zip(&gains[..n]) {
            *l = *l * gain * g;
            *r = *r * gain * g;
        }
        if !fades.is_none() {
            for (i, (l, r)) in l.iter_mut().zip(r.iter_mut()).enumerate() {
                let f = fades.gain(position + i as u64);
                *l *= f;
                *r *= f;
            }
        }
        position += n as u64;
        sink(l, r)?;
    }
}

/// Estimates into `meter` the loudness [`render`] would give at `gain_db`, without rendering
/// the audio: the limiter's gains alone ([`Limiter::gains_held`], from the cached held
/// detection) and the fades scale the cached loudness contributions of the pre-limiter signal.
/// The K-weighting is linear and the limiter's gain moves slowly beside it, so
/// `K(g·x)² ≈ g²·K(x)²`: the estimate is close, not exact (it reads up to 0.035 LU louder on
/// the test drums limited by 6 to 30 dB, 0.001 on the bench's programme), and a search that
/// uses it has its answer measured by a render. Returns false, metering nothing, when the
/// cache keeps no estimation. The search uses [`estimate_lanes`], several gains at once, which
/// the tests hold to this, one gain at a time.
#[cfg(test)]
pub fn estimate(
    cache: &mut Cache,
    gain_db: f64,
    limiter: &mut Limiter,
    fades: Fades,
    meter: &mut LoudnessMeter,
) -> Result<bool> {
    let Some((held, mut kept)) = cache.estimation()? else {
        return Ok(false);
    };
    let gain = 10f64.powf(gain_db / 20.0) as f32;
    limiter.reset();
    let mut held_gains = HeldGains::new(held, limiter, gain)?;
    let mut gains = vec![0.0; BLOCK];
    let mut contributions = vec![0.0; BLOCK];
    let mut position = 0u64;
    loop {
        let n = kept.read(&mut contributions)?;
        if n == 0 {
            return Ok(true);
        }
        held_gains.fill(&mut gains[..n])?;
        for (i, (c, g)) in contributions[..n].iter_mut().zip(&gains[..n]).enumerate() {
            let scale = if fades.is_none() {
                gain
            } else {
                gain * fades.gain(position + i as u64)
            };
            *c *= g * g * scale * scale;
        }
        meter.process_weighted(&contributions[..n]);
        position += n as u64;
    }
}

/// Estimates (as `estimate`, the one-gain reference kept for the tests) at [`GAIN_LANES`] gains
/// from one read of the cache: `meters[l]` gets exactly what `estimate` at `gains_db[l]` would
/// meter (the limiter's gains from [`dsp_core::HeldGainLanes`], the contributions weighed and
/// summed in the same order), for about the cost of one estimate. The meters must be fresh and
/// alike.
pub fn estimate_lanes(
    cache: &mut Cache,
    gains_db: &[f64; GAIN_LANES],
    limiter: &mut Limiter,
    fades: Fades,
    meters: &mut [LoudnessMeter; GAIN_LANES],
) -> Result<bool> {
    let Some((mut held, mut kept)) = cache.estimation()? else {
        return Ok(false);
    };
    let gains = gains_db.map(|db| 10f64.powf(db / 20.0) as f32);
    limiter.reset();
    let mut lanes = limiter.held_gain_lanes(gains);
    let mut latency = limiter.latency() as usize;
    let mut peaks = vec![0.0; BLOCK];
    let mut limited = vec![[0.0f32; GAIN_LANES]; BLOCK];
    let mut gains_for = |limited: &mut [[f32; GAIN_LANES]]| -> Result<()> {
        let n = limited.len();
        held.read(&mut peaks[..n])?;
        lanes.process(&peaks[..n], limited);
        Ok(())
    };
    while latency > 0 {
        let n = latency.min(BLOCK);
        gains_for(&mut limited[..n])?;
        latency -= n;
    }
    let mut contributions = vec![0.0; BLOCK];
    let mut faded = vec![1.0f32; BLOCK];
    let fading = !fades.is_none();
    let mut position = 0u64;
    loop {
        let n = kept.read(&mut contributions)?;
        if n == 0 {
            return Ok(true);
        }
        gains_for(&mut limited[..n])?;
        if fading {
            for (i, f) in faded[..n].iter_mut().enumerate() {
                *f = fades.gain(position + i as u64);
            }
        }
        // The block in stretches that end where the meters' sub-blocks do, as
        // `process_weighted` splits it.
        let mut start = 0;
        while start < n {
            let end = n.min(start + meters[0].frames_to_subblock_end());
            let sums = weighed_sums(
                &contributions[start..end],
                &limited[start..end],
                fading.then(|| &faded[start..end]),
                &gains,
            );
            for (meter, sum) in meters.iter_mut().zip(sums) {
                meter.process_weighted_sum(sum, end - start);
            }
            start = end;
        }
        position += n as u64;
    }
}

/// Per lane, `Σ c·(g·g·s·s)` in `f64` in frame order from zero, `s` the lane's gain times the
/// frame's fade: `estimate`'s weighting and `process_weighted`'s sum, lane by lane.
fn weighed_sums(
    contributions: &[f32],
    limited: &[[f32; GAIN_LANES]],
    fades: Option<&[f32]>,
    gains: &[f32; GAIN_LANES],
) -> [f64; GAIN_LANES] {
    #[cfg(target_arch = "x86_64")]
    if dsp_core::kernels::has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 (checked above).
        return unsafe { weighed_sums_avx2(contributions, limited, fades, gains) };
    }
    weighed_sums_lanes(contributions, limited, fades, gains)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn weighed_sums_avx2(
    contributions: &[f32],
    limited: &[[f32; GAIN_LANES]],
    fades: Option<&[f32]>,
    gains: &[f32; GAIN_LANES],
) -> [f64; GAIN_LANES] {
    weighed_sums_lanes(contributions, limited, fades, gains)
}

// A lane index addresses the gains, the limited gains and the sums together.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn weighed_sums_lanes(
    contributions: &[f32],
    limited: &[[f32; GAIN_LANES]],
    fades: Option<&[f32]>,
    gains: &[f32; GAIN_LANES],
) -> [f64; GAIN_LANES] {
    let mut sums = [0.0f64; GAIN_LANES];
    for (i, (&c, g)) in contributions.iter().zip(limited).enumerate() {
        let fade = fades.map(|f| f[i]);
        for l in 0..GAIN_LANES {
            let scale = match fade {
                Some(fade) => gains[l] * fade,
                None => gains[l],
            };
            sums[l] += (c * (g[l] * g[l] * scale * scale)) as f64;
        }
    }
    sums
}

/// The dither for an integer output, or nothing for float.
pub fn make_dither(settings: Option<DitherSettings>, rate: u32, seed: u64) -> Option<Dither> {
    settings.map(|s| Dither::new(rate as f32, 2, s, seed))
}

/// What a loudness measurement found, for tables and JSON (`null` where there is nothing).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Measurement {
    /// LUFS.
    pub integrated: Option<f64>,
    pub short_term_max: Option<f64>,
    pub momentary_max: Option<f64>,
    /// LU.
    pub range: f64,
    /// dBTP.
    pub true_peak: Option<f64>,
    /// dBFS.
    pub sample_peak: Option<f64>,
    /// LU.
    pub plr: Option<f64>,
    pub seconds: f64,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some((x * 100.0).round() / 100.0)
}

impl Measurement {
    pub fn of(meter: &LoudnessMeter, frames: u64) -> Self {
        let r = meter.reading();
        Self {
            integrated: finite(r.integrated),
            short_term_max: finite(r.short_term_max),
            momentary_max: finite(r.momentary_max),
            range: (r.range * 100.0).round() / 100.0,
            true_peak: finite(r.true_peak_db),
            sample_peak: finite(r.sample_peak_db),
            plr: r.plr().and_then(finite),
            seconds: frames as f64 / meter.sample_rate() as f64,
        }
    }
}

/// `-14.2` or `–` for nothing.
pub fn show(value: Option<f64>) -> String {
    value.map_or("–".into(), |v| format!("{v:.1}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{ChainConfig, PreChain};

    /// What goes into a temporary file comes out in the same order, frames and values alike,
    /// whatever the sizes of the writes and reads (here across several of the file's blocks, in
    /// pieces that straddle their edges); reading past the end fails.
    #[test]
    fn spooled_values_come_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = 0x853c_49e6_748f_ea9bu64;
        let mut random = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        let frames = 3 * SPOOL_BLOCK / 2 + 777;
        let left: Vec<f32> = (0..frames).map(|i| i as f32).collect();
        let right: Vec<f32> = (0..frames).map(|i| -(i as f32) - 0.5).collect();
        let mut pairs = temporary(dir.path()).unwrap();
        let mut values = temporary(dir.path()).unwrap();
        let mut at = 0;
        while at < frames {
            let n = (1 + random(9000)).min(frames - at);
            pairs
                .push_pairs(&left[at..at + n], &right[at..at + n])
                .unwrap();
            if n % 2 == 0 {
                values.push_values(&left[at..at + n]).unwrap();
            } else {
                values
                    .push_with(n, |range, out| {
                        out.copy_from_slice(&left[at + range.start..at + range.end])
                    })
                    .unwrap();
            }
            at += n;
        }
        let (mut pairs, mut values) = (pairs.reader().unwrap(), values.reader().unwrap());
        let (mut l, mut r, mut v) = (vec![0.0; 9000], vec![0.0; 9000], vec![0.0; 9000]);
        let mut at = 0;
        while at < frames {
            let n = (1 + random(9000)).min(frames - at);
            pairs.read_pairs(&mut l[..n], &mut r[..n]).unwrap();
            values.read_values(&mut v[..n]).unwrap();
            assert!(l[..n] == left[at..at + n], "left from frame {at}");
            assert!(r[..n] == right[at..at + n], "right from frame {at}");
            assert!(v[..n] == left[at..at + n], "values from {at}");
            at += n;
        }
        assert!(pairs.read_pairs(&mut l[..1], &mut r[..1]).is_err());
        assert!(values.read_values(&mut v[..1]).is_err());
    }

    /// A stream of a fixed signal, read in blocks of an awkward size.
    struct Fixed {
        signal: [Vec<f32>; 2],
        position: usize,
        block: usize,
    }

    impl Stream for Fixed {
        fn rate(&self) -> u32 {
            48_000
        }

        fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<usize> {
            let n = left
                .len()
                .min(self.block)
                .min(self.signal[0].len() - self.position);
            let range = self.position..self.position + n;
            left[..n].copy_from_slice(&self.signal[0][range.clone()]);
            right[..n].copy_from_slice(&self.signal[1][range]);
            self.position += n;
            Ok(n)
        }
    }

    /// Everything `stream` gives, read `chunk` frames at a time.
    fn read_all(stream: &mut dyn Stream, chunk: usize) -> [Vec<f32>; 2] {
        let (mut l, mut r) = (vec![0.0; chunk], vec![0.0; chunk]);
        let mut out = [Vec::new(), Vec::new()];
        loop {
            let n = stream.read(&mut l, &mut r).unwrap();
            if n == 0 {
                return out;
            }
            out[0].extend_from_slice(&l[..n]);
            out[1].extend_from_slice(&r[..n]);
        }
    }

    fn signal(len: usize) -> [Vec<f32>; 2] {
        let channel = |k: f32| (0..len).map(|n| (n as f32 * k).sin() * 0.5).collect();
        [channel(0.013), channel(0.071)]
    }

    /// A chain with latency (linear-phase EQ): the pull stream (stems) and the push runner
    /// (tracks) both give exactly the input's length, time-aligned and identical; an impulse
    /// comes out where it went in.
    #[test]
    fn latency_is_removed_the_same_way_by_both_paths() {
        let config = ChainConfig::parse(
            "[eq]\nmode = \"linear\"\nband = [{ type = \"bell\", freq = 1000.0, gain = 3.0 }]\n",
            std::path::Path::new("test"),
        )
        .unwrap();
        let len = 30_011;
        let pre = PreChain::new(&config, 48_000.0).unwrap();
        assert!(pre.latency() > 1000, "the EQ has latency");
        let mut stream = Processed::new(
            Fixed {
                signal: signal(len),
                position: 0,
                block: 777,
            },
            pre,
        );
        let pulled = read_all(&mut stream, 1000);
        let mut pushed = [Vec::new(), Vec::new()];
        let mut pre = PreChain::new(&config, 48_000.0).unwrap();
        let latency = pre.latency() as usize;
        let mut source = Fixed {
            signal: signal(len),
            position: 0,
            block: 1234,
        };
        let frames = run_aligned(
            &mut source,
            latency,
            &mut |l, r| pre.process(l, r),
            &mut |l, r| {
                pushed[0].extend_from_slice(l);
                pushed[1].extend_from_slice(r);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(frames as usize, len);
        assert_eq!(pulled[0].len(), len);
        assert_eq!(pulled, pushed);

        // An impulse at 5000 peaks at 5000 after the linear-phase EQ.
        let mut impulse = [vec![0.0; 12_000], vec![0.0; 12_000]];
        impulse[0][5000] = 1.0;
        impulse[1][5000] = 1.0;
        let mut stream = Processed::new(
            Fixed {
                signal: impulse,
                position: 0,
                block: 512,
            },
            PreChain::new(&config, 48_000.0).unwrap(),
        );
        let [out, _] = read_all(&mut stream, 1000);
        let peak = out
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap()
            .0;
        assert_eq!(peak, 5000);
    }

    /// Drums with a bass line and hats (transients, low end and air): what a limiter works hard
    /// on.
    fn drums(len: usize) -> [Vec<f32>; 2] {
        let mut noise = 1u32;
        let mut white = move || {
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (noise >> 8) as f32 / (1 << 23) as f32 - 1.0
        };
        let mut left = Vec::with_capacity(len);
        let mut right = Vec::with_capacity(len);
        for n in 0..len {
            let t = n as f32 / 48_000.0;
            let beat = t % 0.5;
            let kick = (-beat * 30.0).exp() * (std::f32::consts::TAU * 55.0 * t).sin() * 0.6;
            let hat = white() * 0.2 * (-((t + 0.25) % 0.5) * 80.0).exp();
            let bass = 0.15 * (std::f32::consts::TAU * 110.0 * t).sin();
            left.push(kick + hat + bass);
            right.push(kick + 0.7 * hat + white() * 0.01 + bass);
        }
        [left, right]
    }

    /// Ten seconds of limiter-ready drums in a cache with loudness contributions; the chain's
    /// limiter (8x, −1 dBTP), the unlimited loudness, and fades to try.
    fn cached_drums(dir: &Path) -> (Cache, Limiter, LoudnessMeter, Fades) {
        let config =
            ChainConfig::parse("[limiter]\noversampling = 8\n", Path::new("test")).unwrap();
        let len = 144_000;
        let input = drums(len);
        let limiter = crate::chain::limiter(&config, -1.0, 48_000.0)
            .unwrap()
            .unwrap();
        let mut cache = Cache::new(dir, 48_000, Some(&limiter)).unwrap();
        assert!(cache.keeps_contributions());
        let mut unlimited = LoudnessMeter::new(48_000, 2).unwrap();
        for start in (0..len).step_by(BLOCK) {
            let end = (start + BLOCK).min(len);
            let (l, r) = (&input[0][start..end], &input[1][start..end]);
            let mut kept = vec![0.0; end - start];
            unlimited.process_keeping(&[l, r], &mut kept);
            cache.push(l, r, Some(&kept)).unwrap();
        }
        cache.finish().unwrap();
        let fade = Fades {
            fade_in: 20_000,
            fade_out: 40_000,
            total: len as u64,
        };
        (cache, limiter, unlimited, fade)
    }

    /// Eight gains estimated in lanes meter exactly what eight estimates do, gain by gain
    /// (integrated, momentary and short-term maxima, range), with and without fades.
    #[test]
    fn lanes_estimate_each_gain_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let (mut cache, mut limiter, _, fade) = cached_drums(dir.path());
        let gains = [-6.0, 0.0, 2.5, 6.0, 9.75, 12.0, 20.0, 30.0];
        for fades in [Fades::default(), fade] {
            let mut lanes = std::array::from_fn(|_| LoudnessMeter::new(48_000, 2).unwrap());
            assert!(estimate_lanes(&mut cache, &gains, &mut limiter, fades, &mut lanes).unwrap());
            for (&gain, got) in gains.iter().zip(&lanes) {
                let mut want = LoudnessMeter::new(48_000, 2).unwrap();
                assert!(estimate(&mut cache, gain, &mut limiter, fades, &mut want).unwrap());
                let (got, want) = (got.reading(), want.reading());
                for (what, got, want) in [
                    ("integrated", got.integrated, want.integrated),
                    ("momentary", got.momentary_max, want.momentary_max),
                    ("short-term", got.short_term_max, want.short_term_max),
                    ("range", got.range, want.range),
                ] {
                    assert_eq!(
                        got.to_bits(),
                        want.to_bits(),
                        "{gain} dB, fades {}: {what} {got} vs {want}",
                        !fades.is_none()
                    );
                }
            }
        }
    }

    /// The estimate (held detection and loudness contributions, no audio rendered) reads what
    /// the render measures within 0.05 LU, from no limiting to 30 dB of it, with and without
    /// fades (measured: exact without limiting, +0.017 LU at 6 dB, +0.034 at 30 dB); it is what
    /// the search relies on before a render checks its answer.
    #[test]
    fn estimated_loudness_is_the_rendered_loudness_within_hundredths() {
        let dir = tempfile::tempdir().unwrap();
        let (mut cache, mut limiter, unlimited, fade) = cached_drums(dir.path());
        for fades in [Fades::default(), fade] {
            for gain in [-6.0, 0.0, 6.0, 12.0, 20.0, 30.0] {
                let mut rendered = LoudnessMeter::new(48_000, 2).unwrap();
                render(&mut cache, gain, Some(&mut limiter), fades, &mut |l, r| {
                    rendered.process(&[l, r]);
                    Ok(())
                })
                .unwrap();
                let mut estimated = LoudnessMeter::new(48_000, 2).unwrap();
                assert!(estimate(&mut cache, gain, &mut limiter, fades, &mut estimated).unwrap());
                let (want, got) = (rendered.integrated(), estimated.integrated());
                assert!(
                    (want - got).abs() < 0.05,
                    "{gain} dB, fades {}: estimated {got:.3} vs rendered {want:.3} LUFS",
                    !fades.is_none()
                );
                if gain == 30.0 {
                    let taken = unlimited.integrated() + gain - want;
                    assert!(taken > 10.0, "limits hard: {taken:.1} LU taken");
                }
            }
        }
    }

    /// The limiter (not fully linked) rendered from the detection stored in the cache gives what
    /// it gives with its own detection, to the last frame (where the stored detection's tail is
    /// read), limiting hard.
    #[test]
    fn cached_detection_renders_like_the_limiters_own() {
        let config = ChainConfig::parse(
            "[limiter]\noversampling = 8\nlink = 0.5\n",
            Path::new("test"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let len = 20_003;
        let render_with = |stored: bool| {
            let mut limiter = crate::chain::limiter(&config, -1.0, 48_000.0)
                .unwrap()
                .unwrap();
            let mut cache = Cache::new(dir.path(), 48_000, stored.then_some(&limiter)).unwrap();
            let input = signal(len);
            cache
                .push(&input[0][..7000], &input[1][..7000], None)
                .unwrap();
            cache
                .push(&input[0][7000..], &input[1][7000..], None)
                .unwrap();
            cache.finish().unwrap();
            let mut out = [Vec::new(), Vec::new()];
            let fades = Fades::default();
            render(&mut cache, 12.0, Some(&mut limiter), fades, &mut |l, r| {
                out[0].extend_from_slice(l);
                out[1].extend_from_slice(r);
                Ok(())
            })
            .unwrap();
            out
        };
        let own = render_with(false);
        let stored = render_with(true);
        assert_eq!(stored[0].len(), len);
        let ceiling = 10f32.powf(-1.0 / 20.0);
        let peak = own[0].iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(peak < ceiling && peak > 0.8 * ceiling, "limits: {peak}");
        for (channel, (a, b)) in own.iter().zip(&stored).enumerate() {
            for (n, (x, y)) in a.iter().zip(b).enumerate() {
                assert!(
                    (x - y).abs() <= 5e-5 * x.abs().max(0.01),
                    "{channel} {n}: {x} vs {y}"
                );
            }
        }
    }

    /// The limiter's full processing of `input` times `gain` on the detection a cache stores
    /// (of `input`, then times `gain`), time-aligned and faded: what [`render`] gave before it
    /// rendered from held detection.
    fn fully_limited(
        input: &[Vec<f32>; 2],
        limiter: &mut Limiter,
        gain: f32,
        fades: Fades,
    ) -> [Vec<f32>; 2] {
        let latency = limiter.latency() as usize;
        let len = input[0].len();
        let padded = |c: &Vec<f32>, gain: f32| -> Vec<f32> {
            let tail = std::iter::repeat_n(0.0, latency);
            c.iter().map(|x| x * gain).chain(tail).collect()
        };
        let peaks = input.clone().map(|c| {
            let unscaled = padded(&c, 1.0);
            let mut peaks = vec![0.0; unscaled.len()];
            limiter.detector().process_block(&unscaled, &mut peaks);
            peaks.iter().map(|p| p * gain).collect::<Vec<f32>>()
        });
        let [mut left, mut right] = input.clone().map(|c| padded(&c, gain));
        limiter.reset();
        limiter.process_detected(&mut [&mut left, &mut right], &[&peaks[0], &peaks[1]]);
        [left, right].map(|c| {
            let aligned = c[latency..latency + len].iter().enumerate();
            aligned.map(|(n, x)| x * fades.gain(n as u64)).collect()
        })
    }

    /// The render from held detection (a fully linked limiter's gain alone, applied to the
    /// cached signal) is the limiter's full processing on the stored detection to four `f32`
    /// roundings, frame for frame to the last, with and without fades, from no limiting to 30 dB
    /// of it.
    #[test]
    fn held_render_is_the_full_render() {
        let dir = tempfile::tempdir().unwrap();
        let (mut cache, mut limiter, _, fade) = cached_drums(dir.path());
        let input = drums(cache.frames() as usize);
        for fades in [Fades::default(), fade] {
            for gain_db in [-6.0, 6.0, 30.0] {
                let mut held = [Vec::new(), Vec::new()];
                render(
                    &mut cache,
                    gain_db,
                    Some(&mut limiter),
                    fades,
                    &mut |l, r| {
                        held[0].extend_from_slice(l);
                        held[1].extend_from_slice(r);
                        Ok(())
                    },
                )
                .unwrap();
                let gain = 10f64.powf(gain_db / 20.0) as f32;
                let full = fully_limited(&input, &mut limiter, gain, fades);
                let mut deepest = f32::INFINITY;
                for (c, (held, full)) in held.iter().zip(&full).enumerate() {
                    assert_eq!(held.len(), full.len());
                    for (n, (&h, &f)) in held.iter().zip(full).enumerate() {
                        assert!(
                            (h - f).abs() <= 3e-7 * f.abs().max(1e-3),
                            "{gain_db} dB channel {c} frame {n}: {h} vs {f}"
                        );
                    }
                    let peak = full.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                    deepest = deepest.min(peak);
                }
                if gain_db == 30.0 {
                    let ceiling = 10f32.powf(-1.0 / 20.0);
                    assert!(deepest > 0.8 * ceiling, "limits: peak {deepest}");
                }
            }
        }
    }

    /// Resampling 44.1 → 48 kHz gives round(n·48000/44100) frames, time-aligned: a 1 kHz sine
    /// stays in phase with the ideal one at the new rate.
    #[test]
    fn resampling_keeps_length_and_timing() {
        struct Sine(usize, usize);
        impl Stream for Sine {
            fn rate(&self) -> u32 {
                44_100
            }
            fn read(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<usize> {
                let n = left.len().min(self.1 - self.0).min(1000);
                for i in 0..n {
                    let t = (self.0 + i) as f64 / 44_100.0;
                    left[i] = (0.5 * (std::f64::consts::TAU * 1000.0 * t).sin()) as f32;
                    right[i] = left[i];
                }
                self.0 += n;
                Ok(n)
            }
        }
        let frames = 44_100 * 3 + 17;
        let mut stream = Resampled::new(Sine(0, frames), 48_000).unwrap();
        let [out, _] = read_all(&mut stream, 4096);
        assert_eq!(out.len(), frames * 48_000 / 44_100);
        // In the steady middle, within −60 dB of the ideal sine at 48 kHz.
        let worst = (20_000..120_000)
            .map(|n| {
                let t = n as f64 / 48_000.0;
                (out[n] as f64 - 0.5 * (std::f64::consts::TAU * 1000.0 * t).sin()).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst < 0.0005, "{worst}");
    }
}
