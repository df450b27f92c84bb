//! Master dynamics: a bus ("glue") compressor, or up to four bands split by Linkwitz-Riley
//! crossovers, each band with its own compressor (the gain computer and ballistics of
//! [`crate::dynamics`]).
//!
//! - **One band** is a plain bus compressor: no crossover is in the signal path at all.
//! - **Two to four bands** go through the LR4 tree of [`crate::crossover::Crossover`], whose
//!   bands add up to an allpass: with every band neutral the output is the input with a flat
//!   magnitude response. Bands above the chosen count are merged into the top band (the tree keeps
//!   all its split points, so the phase does not change with the band count).
//! - Switching between one band and several crossfades the two paths over [`SMOOTHING_MS`].
//! - **Stereo** mode links the channels (both get the reduction of the louder one, the image
//!   stays put); **M/S** mode compresses mid and side independently.
//! - The **mix** blends against the dry signal taken from the same path (the summed, uncompressed
//!   bands in multiband mode), so parallel compression never comb-filters against the crossover's
//!   phase.
//! - Band **bypass** turns a band's compression and makeup off (crossfaded); **solo** plays only
//!   the soloed bands. Zero latency.

use crate::crossover::{Crossover, MAX_BANDS, MAX_SPLITS};
use crate::denormal::sanitize;
use crate::dynamics::{
    db_to_gain_f64, power_db, range as comp, Ballistics, BallisticsSettings, Detection, Envelope,
    GainComputer, StereoMode, RMS_TIME_MS, SMOOTHING_MS,
};
use crate::smoother::Smoother;
use crate::MAX_CHANNELS;

/// Parameter ranges beyond those of [`crate::dynamics::range`].
pub mod range {
    pub const BANDS: (usize, usize) = (1, super::MAX_BANDS);
    pub const CROSSOVER_HZ: (f32, f32) = (20.0, 20_000.0);
    pub const OUTPUT_DB: (f32, f32) = (-24.0, 24.0);
}

/// One band's compressor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandSettings {
    pub threshold_db: f32,
    pub ratio: f32,
    pub knee_db: f32,
    pub attack_ms: f32,
    pub release_ms: f32,
    pub makeup_db: f32,
    /// No compression and no makeup in this band.
    pub bypass: bool,
    /// Only soloed bands are heard (when any band is soloed).
    pub solo: bool,
}

impl Default for BandSettings {
    fn default() -> Self {
        Self {
            threshold_db: -18.0,
            ratio: 2.0,
            knee_db: 6.0,
            attack_ms: 30.0,
            release_ms: 200.0,
            makeup_db: 0.0,
            bypass: false,
            solo: false,
        }
    }
}

impl BandSettings {
    fn clamped(&self) -> Self {
        let d = Self::default();
        let c = crate::clamp_or;
        Self {
            threshold_db: c(self.threshold_db, comp::THRESHOLD_DB, d.threshold_db),
            ratio: c(self.ratio, comp::RATIO, d.ratio),
            knee_db: c(self.knee_db, comp::KNEE_DB, d.knee_db),
            attack_ms: c(self.attack_ms, comp::ATTACK_MS, d.attack_ms),
            release_ms: c(self.release_ms, comp::RELEASE_MS, d.release_ms),
            makeup_db: c(self.makeup_db, comp::MAKEUP_DB, d.makeup_db),
            ..*self
        }
    }

    pub fn gain_computer(&self) -> GainComputer {
        GainComputer::new(
            self.threshold_db,
            self.ratio,
            self.knee_db,
            comp::RANGE_DB.1,
        )
    }
}

/// Everything a user can set on [`MultibandDynamics`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultibandSettings {
    /// 1 (bus compressor) .. 4.
    pub bands: usize,
    /// Split points, Hz, sorted upwards (a split below the previous one is moved up to it).
    pub crossovers_hz: [f32; MAX_SPLITS],
    pub band: [BandSettings; MAX_BANDS],
    pub detection: Detection,
    pub stereo_mode: StereoMode,
    /// Compressed share, 0..1.
    pub mix: f32,
    /// Output gain, dB (−24..24).
    pub output_db: f32,
    /// The input unchanged (zero latency either way).
    pub bypass: bool,
}

impl Default for MultibandSettings {
    fn default() -> Self {
        Self {
            bands: 1,
            crossovers_hz: [120.0, 1_000.0, 6_000.0],
            band: [BandSettings::default(); MAX_BANDS],
            detection: Detection::Rms,
            stereo_mode: StereoMode::LeftRight,
            mix: 1.0,
            output_db: 0.0,
            bypass: false,
        }
    }
}

impl MultibandSettings {
    pub fn clamped(&self) -> Self {
        let d = Self::default();
        let c = crate::clamp_or;
        let mut previous = range::CROSSOVER_HZ.0;
        let crossovers_hz = self.crossovers_hz.map(|hz| {
            previous = c(hz, range::CROSSOVER_HZ, previous).max(previous);
            previous
        });
        Self {
            bands: self.bands.clamp(range::BANDS.0, range::BANDS.1),
            crossovers_hz,
            band: self.band.map(|b| b.clamped()),
            mix: c(self.mix, comp::MIX, d.mix),
            output_db: c(self.output_db, range::OUTPUT_DB, d.output_db),
            ..*self
        }
    }
}

/// What a block measured, for meters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MultibandStats {
    /// Largest gain reduction of each band in the block, dB (≥ 0).
    pub max_reduction_db: [f32; MAX_BANDS],
}

/// One band's smoothed parameters and its detector state.
#[derive(Clone, Debug)]
struct Band {
    ballistics: Ballistics,
    range_db: f64,
    threshold_db: Smoother,
    slope: Smoother,
    knee_db: Smoother,
    makeup: Smoother,
    /// 1 = compressing, 0 = band bypassed.
    engaged: Smoother,
    /// 1 = heard, 0 = muted by another band's solo.
    heard: Smoother,
    envelopes: [Envelope; MAX_CHANNELS],
}

impl Band {
    fn new(sample_rate: f32, s: &BandSettings, heard: bool) -> Self {
        let smoother = |v: f32| Smoother::new(sample_rate, SMOOTHING_MS, v);
        let gc = s.gain_computer();
        Self {
            ballistics: Ballistics::new(sample_rate, &ballistics(s)),
            range_db: gc.range_db,
            threshold_db: smoother(gc.threshold_db as f32),
            slope: smoother(gc.slope as f32),
            knee_db: smoother(gc.knee_db as f32),
            makeup: smoother(crate::db_to_gain(s.makeup_db)),
            engaged: smoother(if s.bypass { 0.0 } else { 1.0 }),
            heard: smoother(if heard { 1.0 } else { 0.0 }),
            envelopes: [Envelope::default(); MAX_CHANNELS],
        }
    }

    fn set(&mut self, sample_rate: f32, s: &BandSettings, heard: bool) {
        let gc = s.gain_computer();
        self.ballistics = Ballistics::new(sample_rate, &ballistics(s));
        self.threshold_db.set_target(gc.threshold_db as f32);
        self.slope.set_target(gc.slope as f32);
        self.knee_db.set_target(gc.knee_db as f32);
        self.makeup.set_target(crate::db_to_gain(s.makeup_db));
        self.engaged.set_target(if s.bypass { 0.0 } else { 1.0 });
        self.heard.set_target(if heard { 1.0 } else { 0.0 });
    }

    fn snap(&mut self) {
        for s in [
            &mut self.threshold_db,
            &mut self.slope,
            &mut self.knee_db,
            &mut self.makeup,
            &mut self.engaged,
            &mut self.heard,
        ] {
            s.reset(s.target());
        }
        self.envelopes.iter_mut().for_each(Envelope::reset);
    }

    /// Whether no parameter is gliding (then they stay put until the settings change).
    fn settled(&self) -> bool {
        [
            &self.threshold_db,
            &self.slope,
            &self.knee_db,
            &self.makeup,
            &self.engaged,
            &self.heard,
        ]
        .iter()
        .all(|s| s.is_settled())
    }

    /// The parameters for the next sample (advancing the glides).
    #[inline(always)]
    fn tick(&mut self) -> BandParams {
        BandParams {
            gc: GainComputer {
                threshold_db: self.threshold_db.tick() as f64,
                slope: self.slope.tick() as f64,
                knee_db: self.knee_db.tick() as f64,
                range_db: self.range_db,
            },
            makeup: self.makeup.tick() as f64,
            engaged: self.engaged.tick() as f64,
            heard: self.heard.tick() as f64,
            quiet_power: 0.0,
        }
    }

    /// Compresses the band's samples `x[c][i]` where `weights[i] > 0` (the share of the path
    /// this band is in at that sample), adding `weight · processed` to `sums.wet` and `weight ·
    /// heard · input` to `sums.dry`; raises `most` to the largest reduction (only at full weight
    /// unless `count_partial`).
    #[allow(clippy::too_many_arguments)]
    fn process_block(
        &mut self,
        x: &[[f64; SUB_BLOCK]; MAX_CHANNELS],
        weights: &[f64],
        detection: Detection,
        rms_pole: f64,
        linked: bool,
        sums: &mut Sums,
        most: &mut f32,
        count_partial: bool,
    ) {
        // Settled parameters stay as they are for the whole block: no per-sample glide, and the
        // quiet shortcut is worth computing.
        let fixed = self.settled().then(|| {
            let p = self.tick();
            BandParams {
                quiet_power: p.gc.quiet_power(),
                ..p
            }
        });
        for (i, &weight) in weights.iter().enumerate() {
            if weight <= 0.0 {
                continue;
            }
            let p = match fixed {
                Some(p) => p,
                None => self.tick(),
            };
            let input = [x[0][i], x[1][i]];
            let (out, heard, reduction) = self.compress(&p, input, detection, rms_pole, linked);
            for c in 0..MAX_CHANNELS {
                sums.wet[c][i] += weight * out[c];
                sums.dry[c][i] += weight * heard * input[c];
            }
            if count_partial || weight >= 1.0 {
                *most = most.max(reduction as f32);
            }
        }
        // Tiny detector values become zero once per block, not on the detector's chain.
        self.envelopes.iter_mut().for_each(Envelope::flush);
    }

    /// Compresses one sample pair of this band; returns (processed pair, how much of the dry pair
    /// is heard, the reduction applied).
    #[inline(always)]
    fn compress(
        &mut self,
        p: &BandParams,
        x: [f64; MAX_CHANNELS],
        detection: Detection,
        rms_pole: f64,
        linked: bool,
    ) -> ([f64; MAX_CHANNELS], f64, f64) {
        let BandParams {
            gc,
            makeup,
            engaged,
            heard,
            quiet_power,
        } = *p;
        // The reduction the curve asks for at a detected power; below the knee that is zero,
        // known without the logarithm.
        let target = |power: f64| {
            if power < quiet_power {
                0.0
            } else {
                gc.reduction_db(power_db(power))
            }
        };
        let mut out = [0.0; MAX_CHANNELS];
        let mut most = 0.0f64;
        if linked {
            // Both channels get the reduction of the louder one: one gain computer, one envelope
            // (channel 0's; channel 1's follows it so that unlinking starts from the same place).
            let power = self.envelopes[0]
                .power_unflushed(x[0], detection, rms_pole)
                .max(self.envelopes[1].power_unflushed(x[1], detection, rms_pole));
            let reduction = self.envelopes[0].follow_unflushed(target(power), &self.ballistics);
            let leader = self.envelopes[0];
            self.envelopes[1].follow_linked(&leader);
            most = reduction;
            let gain = reduction_gain(reduction) * makeup;
            for c in 0..MAX_CHANNELS {
                out[c] = heard * x[c] * (1.0 + engaged * (gain - 1.0));
            }
        } else {
            for c in 0..MAX_CHANNELS {
                let power = self.envelopes[c].power_unflushed(x[c], detection, rms_pole);
                let reduction = self.envelopes[c].follow_unflushed(target(power), &self.ballistics);
                most = most.max(reduction);
                let gain = reduction_gain(reduction) * makeup;
                out[c] = heard * x[c] * (1.0 + engaged * (gain - 1.0));
            }
        }
        (out, heard, most * engaged)
    }
}

/// The bands of the linked (stereo) multiband path computed side by side, band `b` in lane `b`
/// of [`crate::lanes`]: each lane meets exactly the arithmetic of [`Band::process_block`], so the
/// output is bit for bit the same. Returns false (and computes nothing) unless every band's
/// parameters are settled and its ballistics plain (no hold, no auto release): those cases take
/// the per-band path.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
fn process_linked_lanes(
    bands: &mut [Band],
    x: &[[[f64; SUB_BLOCK]; MAX_CHANNELS]; MAX_BANDS],
    weights: &[f64],
    detection: Detection,
    rms_pole: f64,
    sums: &mut Sums,
    most: &mut [f32; MAX_BANDS],
) -> bool {
    let plain = |b: &Band| {
        let e = &b.envelopes[0];
        b.settled()
            && b.ballistics.hold_samples == 0
            && !b.ballistics.auto_release
            && e.hold_left == 0
            && e.slow_db == 0.0
    };
    if !crate::kernels::has_avx2_fma() || !bands.iter().all(plain) {
        return false;
    }
    let mut lanes = BandLanes::default();
    for (b, band) in bands.iter_mut().enumerate() {
        let p = band.tick();
        let gc = p.gc;
        let columns = [
            (&mut lanes.threshold_db, gc.threshold_db),
            (&mut lanes.slope, gc.slope),
            (&mut lanes.knee_db, gc.knee_db),
            (&mut lanes.range_db, gc.range_db),
            (&mut lanes.quiet_power, gc.quiet_power()),
            (&mut lanes.makeup, p.makeup),
            (&mut lanes.engaged, p.engaged),
            (&mut lanes.heard, p.heard),
            (&mut lanes.attack, band.ballistics.attack),
            (&mut lanes.release, band.ballistics.release),
            (&mut lanes.reduction_db, band.envelopes[0].reduction_db),
            (&mut lanes.most, most[b] as f64),
        ];
        for (column, value) in columns {
            column[b] = value;
        }
        for c in 0..MAX_CHANNELS {
            lanes.mean_square[c][b] = band.envelopes[c].mean_square;
        }
    }
    let rms = (detection == Detection::Rms).then_some(rms_pole);
    // SAFETY: the CPU has AVX2 (checked above).
    unsafe { lanes.process(x, weights, rms, bands.len(), sums) };
    for (b, band) in bands.iter_mut().enumerate() {
        for c in 0..MAX_CHANNELS {
            band.envelopes[c].mean_square = lanes.mean_square[c][b];
        }
        band.envelopes[0].reduction_db = lanes.reduction_db[b];
        let leader = band.envelopes[0];
        band.envelopes[1].follow_linked(&leader);
        band.envelopes.iter_mut().for_each(Envelope::flush);
        most[b] = most[b].max(lanes.most[b] as f32);
    }
    true
}

/// Settled band parameters and detector states, one band per lane (lanes of bands not in use
/// compute on zero parameters and stale inputs, harmlessly, and are never read back).
#[cfg(target_arch = "x86_64")]
#[derive(Default)]
struct BandLanes {
    threshold_db: [f64; MAX_BANDS],
    slope: [f64; MAX_BANDS],
    knee_db: [f64; MAX_BANDS],
    range_db: [f64; MAX_BANDS],
    quiet_power: [f64; MAX_BANDS],
    makeup: [f64; MAX_BANDS],
    engaged: [f64; MAX_BANDS],
    heard: [f64; MAX_BANDS],
    attack: [f64; MAX_BANDS],
    release: [f64; MAX_BANDS],
    mean_square: [[f64; MAX_BANDS]; MAX_CHANNELS],
    reduction_db: [f64; MAX_BANDS],
    /// The largest reduction × engaged so far.
    most: [f64; MAX_BANDS],
}

#[cfg(target_arch = "x86_64")]
impl BandLanes {
    /// [`Band::process_block`] and [`Band::compress`] for linked stereo with settled parameters,
    /// all bands at once; the band outputs go into `sums` band after band, as the bands would.
    ///
    /// Four passes over the sub-block, so that the long arithmetic of the logarithm and the
    /// exponential runs four samples to a vector and for many samples at once: the two
    /// recursions (the RMS detector's smoothing and the envelope) carry one band per lane from
    /// one sample to the next, the other two passes take one band at a time, four samples per
    /// vector (blocks of four samples are transposed between the two layouts). Each sample of
    /// each band still meets the arithmetic of [`Band::compress`].
    #[target_feature(enable = "avx2")]
    fn process(
        &mut self,
        x: &[[[f64; SUB_BLOCK]; MAX_CHANNELS]; MAX_BANDS],
        weights: &[f64],
        rms_pole: Option<f64>,
        used: usize,
        sums: &mut Sums,
    ) {
        use crate::lanes::*;
        use std::arch::x86_64::*;
        const GROUP: usize = 4;
        let n = weights.len();
        let zero = splat(0.0);
        let one = splat(1.0);
        // Loads and stores of four samples of a sub-block (`i + GROUP <= SUB_BLOCK`, as every
        // group start below is a multiple of four under `SUB_BLOCK`).
        let load =
            |row: &[f64; SUB_BLOCK], i: usize| from_array(row[i..i + GROUP].try_into().unwrap());
        let store = |row: &mut [f64; SUB_BLOCK], i: usize, v: __m256d| {
            row[i..i + GROUP].copy_from_slice(&to_array(v));
        };
        let groups = (0..n).step_by(GROUP);

        // Pass 1: the detected power (Envelope::power_unflushed per channel, then the louder).
        let mut powers = [[0.0f64; SUB_BLOCK]; MAX_BANDS];
        match rms_pole {
            None => {
                for (band, power) in x.iter().zip(&mut powers).take(used) {
                    for i in groups.clone() {
                        let [l, r] = [load(&band[0], i), load(&band[1], i)];
                        store(
                            power,
                            i,
                            _mm256_max_pd(_mm256_mul_pd(r, r), _mm256_mul_pd(l, l)),
                        );
                    }
                }
            }
            Some(pole) => {
                let (pole, rest) = (splat(pole), splat(1.0 - pole));
                let mut mean_square = self.mean_square.map(|v| from_array(v));
                for i in groups.clone() {
                    let columns: [[__m256d; GROUP]; MAX_CHANNELS] = std::array::from_fn(|c| {
                        transpose(std::array::from_fn(|b| load(&x[b][c], i)))
                    });
                    let mut power = [zero; GROUP];
                    for (j, power) in power.iter_mut().enumerate().take(n - i) {
                        for (c, ms) in mean_square.iter_mut().enumerate() {
                            let input = columns[c][j];
                            *ms = _mm256_add_pd(
                                _mm256_mul_pd(pole, *ms),
                                _mm256_mul_pd(_mm256_mul_pd(rest, input), input),
                            );
                        }
                        *power = _mm256_max_pd(mean_square[1], mean_square[0]);
                    }
                    for (b, row) in transpose(power).into_iter().enumerate() {
                        store(&mut powers[b], i, row);
                    }
                }
                self.mean_square = mean_square.map(|v| to_array(v));
            }
        }

        // Pass 2: GainComputer::reduction_db of the level, zero below the quiet power (where no
        // logarithm is needed).
        let mut targets = [[0.0f64; SUB_BLOCK]; MAX_BANDS];
        for b in 0..used {
            let threshold = splat(self.threshold_db[b]);
            let slope = splat(self.slope[b]);
            let knee = splat(self.knee_db[b]);
            let range = splat(self.range_db[b]);
            let quiet = splat(self.quiet_power[b]);
            let knee_positive = _mm256_cmp_pd::<_CMP_GT_OQ>(knee, zero);
            for i in groups.clone() {
                let power = load(&powers[b], i);
                let is_quiet = lt(power, quiet);
                if _mm256_movemask_pd(is_quiet) == 0b1111 {
                    store(&mut targets[b], i, zero);
                    continue;
                }
                let level = power_db(power);
                let over = _mm256_sub_pd(level, threshold);
                let twice_over = _mm256_mul_pd(splat(2.0), over);
                let below = lt(twice_over, neg(knee));
                let in_knee = _mm256_and_pd(
                    le(_mm256_mul_pd(splat(2.0), abs(over)), knee),
                    knee_positive,
                );
                let k = _mm256_add_pd(over, _mm256_mul_pd(splat(0.5), knee));
                let knee_out = _mm256_add_pd(
                    level,
                    _mm256_div_pd(
                        _mm256_mul_pd(_mm256_mul_pd(_mm256_sub_pd(slope, one), k), k),
                        _mm256_mul_pd(splat(2.0), knee),
                    ),
                );
                let above_out = _mm256_add_pd(threshold, _mm256_mul_pd(over, slope));
                let out_db = select(below, level, select(in_knee, knee_out, above_out));
                let target = clamp(_mm256_sub_pd(level, out_db), zero, range);
                store(&mut targets[b], i, select(is_quiet, zero, target));
            }
        }

        // Pass 3: Envelope::follow_unflushed without hold or auto release, one band per lane.
        let attack = from_array(self.attack);
        let release = from_array(self.release);
        let attack_rest = _mm256_sub_pd(one, attack);
        let release_rest = _mm256_sub_pd(one, release);
        let engaged = from_array(self.engaged);
        let mut reduction = from_array(self.reduction_db);
        let mut most = from_array(self.most);
        let mut reductions = [[0.0f64; SUB_BLOCK]; MAX_BANDS];
        for i in groups.clone() {
            let targets = transpose(std::array::from_fn(|b| load(&targets[b], i)));
            let mut out = [zero; GROUP];
            for (target, out) in targets.iter().zip(&mut out).take(n - i) {
                let y = reduction;
                let attacking = _mm256_add_pd(
                    _mm256_mul_pd(attack, y),
                    _mm256_mul_pd(attack_rest, *target),
                );
                let releasing = _mm256_add_pd(
                    _mm256_mul_pd(release, y),
                    _mm256_mul_pd(release_rest, *target),
                );
                reduction = select(ge(*target, y), attacking, releasing);
                most = _mm256_max_pd(_mm256_mul_pd(reduction, engaged), most);
                *out = reduction;
            }
            for (b, row) in transpose(out).into_iter().enumerate() {
                store(&mut reductions[b], i, row);
            }
        }
        self.reduction_db = to_array(reduction);
        self.most = to_array(most);

        // Pass 4: the gain and the band's output, added to the sums band after band.
        let mut weight_row = [0.0f64; SUB_BLOCK];
        weight_row[..n].copy_from_slice(weights);
        if crate::kernels::has_avx512() {
            // SAFETY: the CPU has AVX-512F (checked above).
            unsafe { self.outputs_avx512(x, &reductions, &weight_row, n, used, sums) };
            return;
        }
        for (b, band) in x.iter().enumerate().take(used) {
            let makeup = splat(self.makeup[b]);
            let engaged = splat(self.engaged[b]);
            let heard = splat(self.heard[b]);
            for i in groups.clone() {
                let reduction = load(&reductions[b], i);
                let none = eq(reduction, zero);
                let gain = if _mm256_movemask_pd(none) == 0b1111 {
                    one
                } else {
                    select(none, one, db_to_gain(neg(reduction)))
                };
                let gain = _mm256_mul_pd(gain, makeup);
                let amount = _mm256_add_pd(one, _mm256_mul_pd(engaged, _mm256_sub_pd(gain, one)));
                let weight = load(&weight_row, i);
                let heard_weight = _mm256_mul_pd(weight, heard);
                for (c, input) in band.iter().enumerate() {
                    let input = load(input, i);
                    let out = _mm256_mul_pd(_mm256_mul_pd(heard, input), amount);
                    let wet = _mm256_add_pd(load(&sums.wet[c], i), _mm256_mul_pd(weight, out));
                    let dry =
                        _mm256_add_pd(load(&sums.dry[c], i), _mm256_mul_pd(heard_weight, input));
                    store(&mut sums.wet[c], i, wet);
                    store(&mut sums.dry[c], i, dry);
                }
            }
        }
    }

    /// Pass 4 of [`BandLanes::process`] eight samples to a vector (the same operations lane by
    /// lane), where the exponential is most of the work.
    #[target_feature(enable = "avx512f")]
    fn outputs_avx512(
        &self,
        x: &[[[f64; SUB_BLOCK]; MAX_CHANNELS]; MAX_BANDS],
        reductions: &[[f64; SUB_BLOCK]; MAX_BANDS],
        weights: &[f64; SUB_BLOCK],
        n: usize,
        used: usize,
        sums: &mut Sums,
    ) {
        use crate::lanes::wide::*;
        use std::arch::x86_64::*;
        const GROUP: usize = 8;
        // SAFETY (both): eight f64 of a sub-block row (every group start is a multiple of
        // eight under `SUB_BLOCK`).
        let load = |row: &[f64; SUB_BLOCK], i: usize| unsafe {
            _mm512_loadu_pd(row[i..i + GROUP].as_ptr())
        };
        let store = |row: &mut [f64; SUB_BLOCK], i: usize, v: __m512d| unsafe {
            _mm512_storeu_pd(row[i..i + GROUP].as_mut_ptr(), v)
        };
        let (zero, one) = (splat(0.0), splat(1.0));
        for (b, band) in x.iter().enumerate().take(used) {
            let makeup = splat(self.makeup[b]);
            let engaged = splat(self.engaged[b]);
            let heard = splat(self.heard[b]);
            for i in (0..n).step_by(GROUP) {
                let reduction = load(&reductions[b], i);
                let none = eq(reduction, zero);
                let gain = if none == 0xff {
                    one
                } else {
                    select(none, one, db_to_gain(neg(reduction)))
                };
                let gain = _mm512_mul_pd(gain, makeup);
                let amount = _mm512_add_pd(one, _mm512_mul_pd(engaged, _mm512_sub_pd(gain, one)));
                let weight = load(weights, i);
                let heard_weight = _mm512_mul_pd(weight, heard);
                for (c, input) in band.iter().enumerate() {
                    let input = load(input, i);
                    let out = _mm512_mul_pd(_mm512_mul_pd(heard, input), amount);
                    let wet = _mm512_add_pd(load(&sums.wet[c], i), _mm512_mul_pd(weight, out));
                    let dry =
                        _mm512_add_pd(load(&sums.dry[c], i), _mm512_mul_pd(heard_weight, input));
                    store(&mut sums.wet[c], i, wet);
                    store(&mut sums.dry[c], i, dry);
                }
            }
        }
    }
}

/// The crossover's frames (`frames[i][b][c]`) as band signals (`bands[b][c][i]`) over the
/// first `n` samples, band after band; the internal bands above `merged_from`, the last one in
/// use, merge into it: the sum from the first of them in band order (as `Iterator::sum`, whose
/// −0.0 start changes nothing). Samples where `split` is 0 take whatever the frames hold there.
fn frames_to_bands(
    frames: &[[[f64; MAX_CHANNELS]; MAX_BANDS]; SUB_BLOCK],
    bands: &mut [[[f64; SUB_BLOCK]; MAX_CHANNELS]; MAX_BANDS],
    n: usize,
    merged_from: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 (checked above).
        unsafe { frames_to_bands_avx2(frames, bands, n, merged_from) };
        return;
    }
    frames_to_bands_plain(frames, bands, n, merged_from);
}

/// [`frames_to_bands`] sample by sample.
fn frames_to_bands_plain(
    frames: &[[[f64; MAX_CHANNELS]; MAX_BANDS]; SUB_BLOCK],
    bands: &mut [[[f64; SUB_BLOCK]; MAX_CHANNELS]; MAX_BANDS],
    n: usize,
    merged_from: usize,
) {
    for (b, band) in bands.iter_mut().enumerate().take(merged_from) {
        for (c, channel) in band.iter_mut().enumerate() {
            for (y, frame) in channel[..n].iter_mut().zip(&frames[..n]) {
                *y = frame[b][c];
            }
        }
    }
    for (c, channel) in bands[merged_from].iter_mut().enumerate() {
        for (y, frame) in channel[..n].iter_mut().zip(&frames[..n]) {
            *y = frame[merged_from + 1..]
                .iter()
                .fold(frame[merged_from][c], |sum, p| sum + p[c]);
        }
    }
}

/// [`frames_to_bands`] four samples at a time: each sample's first two bands and last two
/// bands as one vector each, four samples' worth transposed into four-sample rows of
/// (band, channel). The merged bands are summed in the same order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn frames_to_bands_avx2(
    frames: &[[[f64; MAX_CHANNELS]; MAX_BANDS]; SUB_BLOCK],
    bands: &mut [[[f64; SUB_BLOCK]; MAX_CHANNELS]; MAX_BANDS],
    n: usize,
    merged_from: usize,
) {
    use crate::lanes::{from_array, to_array, transpose};
    use std::arch::x86_64::*;
    const GROUP: usize = 4;
    // Group starts are multiples of four under `SUB_BLOCK`, so every group is whole.
    for i in (0..n).step_by(GROUP) {
        let half = |h: usize| -> [__m256d; GROUP] {
            std::array::from_fn(|j| {
                let f = &frames[i + j];
                from_array([f[2 * h][0], f[2 * h][1], f[2 * h + 1][0], f[2 * h + 1][1]])
            })
        };
        let [low, high] = [transpose(half(0)), transpose(half(1))];
        // rows[b][c]: band b, channel c, samples i..i + 4.
        let rows = [
            [low[0], low[1]],
            [low[2], low[3]],
            [high[0], high[1]],
            [high[2], high[3]],
        ];
        for (b, band) in bands.iter_mut().enumerate().take(merged_from + 1) {
            for (c, channel) in band.iter_mut().enumerate() {
                let value = if b < merged_from {
                    rows[b][c]
                } else {
                    rows[merged_from + 1..]
                        .iter()
                        .fold(rows[merged_from][c], |sum, row| _mm256_add_pd(sum, row[c]))
                };
                channel[i..i + GROUP].copy_from_slice(&to_array(value));
            }
        }
    }
}

/// A band's parameters at one sample.
#[derive(Clone, Copy, Debug)]
struct BandParams {
    gc: GainComputer,
    makeup: f64,
    engaged: f64,
    heard: f64,
    /// Below this detected power nothing is reduced ([`GainComputer::quiet_power`]); 0 while
    /// the curve glides.
    quiet_power: f64,
}

/// Samples per sub-block of [`MultibandDynamics::process`].
const SUB_BLOCK: usize = 64;

/// The compressed and the uncompressed signal of a sub-block, summed over the paths and bands.
struct Sums {
    wet: [[f64; SUB_BLOCK]; MAX_CHANNELS],
    dry: [[f64; SUB_BLOCK]; MAX_CHANNELS],
}

/// The linear gain of a reduction in dB (no `exp` for the common case of none).
#[inline]
fn reduction_gain(reduction_db: f64) -> f64 {
    if reduction_db == 0.0 {
        1.0
    } else {
        db_to_gain_f64(-reduction_db)
    }
}

fn ballistics(s: &BandSettings) -> BallisticsSettings {
    BallisticsSettings {
        attack_ms: s.attack_ms,
        release_ms: s.release_ms,
        hold_ms: 0.0,
        auto_release: false,
    }
}

/// The master dynamics processor (stereo, zero latency).
#[derive(Clone, Debug)]
pub struct MultibandDynamics {
    sample_rate: f32,
    settings: MultibandSettings,
    rms_pole: f64,
    crossover: Crossover,
    /// The one-band path's compressor (band 0's settings).
    glue: Band,
    bands: [Band; MAX_BANDS],
    /// 0 = the one-band path, 1 = the multiband path.
    split: Smoother,
    mix: Smoother,
    output: Smoother,
    /// 1 = processed, 0 = bypassed.
    active: Smoother,
    /// See [`MultibandDynamics::compute_only_used_splits`].
    only_used_splits: bool,
    /// Whether the linked bands may run side by side in vector lanes (always, except in the
    /// test that compares both paths).
    lanes: bool,
    /// Each band's signal over a sub-block (allocated once; only the samples the multiband path
    /// takes part in are written and read).
    band_signals: Box<[[[f64; SUB_BLOCK]; MAX_CHANNELS]; MAX_BANDS]>,
    /// The crossover's output over a sub-block, frame by frame (allocated once, like
    /// `band_signals`, so that no sub-block clears it).
    split_frames: Box<[[[f64; MAX_CHANNELS]; MAX_BANDS]; SUB_BLOCK]>,
}

fn crossovers_f64(hz: [f32; MAX_SPLITS]) -> [f64; MAX_SPLITS] {
    hz.map(|f| f as f64)
}

/// Which bands are heard: all, or only the soloed ones (of those in use) when any is soloed.
fn heard(s: &MultibandSettings) -> [bool; MAX_BANDS] {
    let any_solo = s.band[..s.bands].iter().any(|b| b.solo);
    std::array::from_fn(|b| !any_solo || (b < s.bands && s.band[b].solo))
}

impl MultibandDynamics {
    pub fn new(sample_rate: f32, settings: MultibandSettings) -> Self {
        let s = settings.clamped();
        let smoother = |v: f32| Smoother::new(sample_rate, SMOOTHING_MS, v);
        let hears = heard(&s);
        Self {
            sample_rate,
            settings: s,
            rms_pole: (-1.0 / (RMS_TIME_MS as f64 * 0.001 * sample_rate as f64)).exp(),
            crossover: Crossover::new(sample_rate as f64, crossovers_f64(s.crossovers_hz)),
            glue: Band::new(sample_rate, &s.band[0], true),
            bands: std::array::from_fn(|b| Band::new(sample_rate, &s.band[b], hears[b])),
            split: smoother(if s.bands > 1 { 1.0 } else { 0.0 }),
            mix: smoother(s.mix),
            output: smoother(crate::db_to_gain(s.output_db)),
            active: smoother(if s.bypass { 0.0 } else { 1.0 }),
            only_used_splits: false,
            lanes: true,
            band_signals: Box::new([[[0.0; SUB_BLOCK]; MAX_CHANNELS]; MAX_BANDS]),
            split_frames: Box::new([[[0.0; MAX_CHANNELS]; MAX_BANDS]; SUB_BLOCK]),
        }
    }

    /// For offline rendering, where the band count is known before the first sample: the
    /// crossover computes only the split points the bands in use need
    /// ([`Crossover::set_splits_used`]; the unused splits' allpass phase is left out, the
    /// magnitude response is the same). Band-count changes afterwards follow it, with a click.
    pub fn compute_only_used_splits(&mut self) {
        self.only_used_splits = true;
        self.crossover.set_splits_used(self.settings.bands - 1);
    }

    pub fn settings(&self) -> &MultibandSettings {
        &self.settings
    }

    pub fn latency(&self) -> u32 {
        0
    }

    /// The crossover (for drawing band responses).
    pub fn crossover(&self) -> &Crossover {
        &self.crossover
    }

    pub fn set_settings(&mut self, settings: &MultibandSettings) {
        let s = settings.clamped();
        let fs = self.sample_rate;
        if s.crossovers_hz != self.settings.crossovers_hz {
            self.crossover
                .set_frequencies(crossovers_f64(s.crossovers_hz));
        }
        if self.only_used_splits {
            self.crossover.set_splits_used(s.bands - 1);
        }
        let was_multiband = self.split.target() > 0.5;
        let multiband = s.bands > 1;
        if multiband != was_multiband {
            // The path being faded in starts from a clean state.
            if multiband && self.split.current() <= 0.0 {
                self.crossover.reset();
                self.bands
                    .iter_mut()
                    .for_each(|b| b.envelopes.iter_mut().for_each(Envelope::reset));
            } else if !multiband && self.split.current() >= 1.0 {
                self.glue.envelopes.iter_mut().for_each(Envelope::reset);
            }
        }
        self.split.set_target(if multiband { 1.0 } else { 0.0 });
        let hears = heard(&s);
        self.glue.set(fs, &s.band[0], true);
        // Bands above the count are merged into the top band and use its settings.
        let top = s.bands - 1;
        for (b, band) in self.bands.iter_mut().enumerate() {
            band.set(fs, &s.band[b.min(top)], hears[b.min(top)]);
        }
        self.mix.set_target(s.mix);
        self.output.set_target(crate::db_to_gain(s.output_db));
        self.active.set_target(if s.bypass { 0.0 } else { 1.0 });
        self.settings = s;
    }

    pub fn reset(&mut self) {
        self.crossover.reset();
        self.glue.snap();
        self.bands.iter_mut().for_each(Band::snap);
        for s in [
            &mut self.split,
            &mut self.mix,
            &mut self.output,
            &mut self.active,
        ] {
            s.reset(s.target());
        }
    }

    /// Processes a stereo block in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) -> MultibandStats {
        let len = left.len().min(right.len());
        let mut stats = MultibandStats::default();
        for (l, r) in left[..len]
            .chunks_mut(SUB_BLOCK)
            .zip(right[..len].chunks_mut(SUB_BLOCK))
        {
            self.process_sub_block(l, r, &mut stats);
        }
        stats
    }

    /// One path after the other, band after band over up to [`SUB_BLOCK`] samples: each sample
    /// meets the same arithmetic in the same order as sample after sample would give it.
    fn process_sub_block(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        stats: &mut MultibandStats,
    ) {
        let n = left.len();
        let s = self.settings;
        let mid_side = s.stereo_mode == StereoMode::MidSide;
        let linked = !mid_side;
        let merged_from = s.bands - 1;
        let mut input = [[0.0f64; SUB_BLOCK]; MAX_CHANNELS];
        let mut x = [[0.0f64; SUB_BLOCK]; MAX_CHANNELS];
        for i in 0..n {
            let (l, _) = sanitize(left[i]);
            let (r, _) = sanitize(right[i]);
            let (l, r) = (l as f64, r as f64);
            (input[0][i], input[1][i]) = (l, r);
            (x[0][i], x[1][i]) = if mid_side {
                (0.5 * (l + r), 0.5 * (l - r))
            } else {
                (l, r)
            };
        }
        // A settled split is one value over the sub-block: the tests of it below read that
        // value instead of scanning the sub-block.
        let settled = self.split.is_settled().then(|| self.split.current() as f64);
        let mut split = [0.0f32; SUB_BLOCK];
        self.split.fill(&mut split[..n]);
        let split = split.map(|v| v as f64);
        let any = |test: fn(f64) -> bool| {
            settled.map_or_else(|| split[..n].iter().any(|&v| test(v)), test)
        };
        let all = |test: fn(f64) -> bool| {
            settled.map_or_else(|| split[..n].iter().all(|&v| test(v)), test)
        };
        let (glued, banded, all_banded) = (any(|v| v < 1.0), any(|v| v > 0.0), all(|v| v > 0.0));
        let mut sums = Sums {
            wet: [[0.0; SUB_BLOCK]; MAX_CHANNELS],
            dry: [[0.0; SUB_BLOCK]; MAX_CHANNELS],
        };
        if glued {
            let weights: [f64; SUB_BLOCK] = std::array::from_fn(|i| 1.0 - split[i]);
            self.glue.process_block(
                &x,
                &weights[..n],
                s.detection,
                self.rms_pole,
                linked,
                &mut sums,
                &mut stats.max_reduction_db[0],
                false,
            );
        }
        if banded {
            let bands = &mut *self.band_signals;
            let split_frames = &mut *self.split_frames;
            if all_banded {
                let frames: [[f64; MAX_CHANNELS]; SUB_BLOCK] =
                    std::array::from_fn(|i| [x[0][i], x[1][i]]);
                self.crossover
                    .process_block(&frames[..n], &mut split_frames[..n]);
            } else {
                for i in (0..n).filter(|&i| split[i] > 0.0) {
                    split_frames[i] = self.crossover.process([x[0][i], x[1][i]]);
                }
            }
            frames_to_bands(split_frames, bands, n, merged_from);
            self.crossover.flush();
            // Samples where `split` is 0 keep stale values: their weight skips them.
            #[cfg(target_arch = "x86_64")]
            let done = self.lanes
                && linked
                && all_banded
                && process_linked_lanes(
                    &mut self.bands[..s.bands],
                    bands,
                    &split[..n],
                    s.detection,
                    self.rms_pole,
                    &mut sums,
                    &mut stats.max_reduction_db,
                );
            #[cfg(not(target_arch = "x86_64"))]
            let done = false;
            for (b, band) in bands
                .iter()
                .enumerate()
                .take(if done { 0 } else { s.bands })
            {
                self.bands[b].process_block(
                    band,
                    &split[..n],
                    s.detection,
                    self.rms_pole,
                    linked,
                    &mut sums,
                    &mut stats.max_reduction_db[b],
                    true,
                );
            }
        }
        let mut mix = [0.0f32; SUB_BLOCK];
        let mut output = [0.0f32; SUB_BLOCK];
        let mut active = [0.0f32; SUB_BLOCK];
        self.mix.fill(&mut mix[..n]);
        self.output.fill(&mut output[..n]);
        self.active.fill(&mut active[..n]);
        for i in 0..n {
            let (mix, output, active) = (mix[i] as f64, output[i] as f64, active[i] as f64);
            let (wet, dry) = (&sums.wet, &sums.dry);
            let y: [f64; MAX_CHANNELS] =
                std::array::from_fn(|c| output * (dry[c][i] + mix * (wet[c][i] - dry[c][i])));
            let (out_l, out_r) = if mid_side {
                (y[0] + y[1], y[0] - y[1])
            } else {
                (y[0], y[1])
            };
            let (l, r) = (input[0][i], input[1][i]);
            left[i] = (l + active * (out_l - l)) as f32;
            right[i] = (r + active * (out_r - r)) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Noise bursts at levels from −60 to +6 dBFS, different in each channel.
    fn bursts(seed: u64, len: usize) -> [Vec<f32>; 2] {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let mut out = [vec![0.0f32; len], vec![0.0f32; len]];
        for chunk in 0..len.div_ceil(1500) {
            let gains = [next(), next()].map(|u| 10f64.powf((u * 33.0 - 27.0) / 20.0));
            for i in chunk * 1500..((chunk + 1) * 1500).min(len) {
                for (channel, gain) in out.iter_mut().zip(gains) {
                    channel[i] = (gain * next()) as f32;
                }
            }
        }
        out
    }

    fn band_settings() -> impl Strategy<Value = BandSettings> {
        (
            (-40.0f32..0.0, 1.0f32..20.0, 0.0f32..12.0),
            (0.0f32..50.0, 5.0f32..500.0, -6.0f32..6.0),
            (prop::bool::weighted(0.2), prop::bool::weighted(0.2)),
        )
            .prop_map(
                |(
                    (threshold_db, ratio, knee_db),
                    (attack_ms, release_ms, makeup_db),
                    (bypass, solo),
                )| {
                    BandSettings {
                        threshold_db,
                        ratio,
                        knee_db,
                        attack_ms,
                        release_ms,
                        makeup_db,
                        bypass,
                        solo,
                    }
                },
            )
    }

    fn settings() -> impl Strategy<Value = MultibandSettings> {
        (
            2usize..=MAX_BANDS,
            prop::array::uniform4(band_settings()),
            prop::bool::ANY,
            0.0f32..1.0,
        )
            .prop_map(|(bands, band, rms, mix)| MultibandSettings {
                bands,
                band,
                detection: if rms { Detection::Rms } else { Detection::Peak },
                mix,
                ..MultibandSettings::default()
            })
    }

    /// The band signals taken from the crossover's frames four samples at a time are those
    /// taken sample by sample, for every count of samples and bands.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn frames_to_bands_in_vectors_is_sample_by_sample() {
        if !crate::kernels::has_avx2_fma() {
            return;
        }
        let mut state = 5u64;
        let mut frames = [[[0.0f64; MAX_CHANNELS]; MAX_BANDS]; SUB_BLOCK];
        for value in frames.iter_mut().flatten().flatten() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            *value = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        }
        for n in 1..=SUB_BLOCK {
            for merged_from in 0..MAX_BANDS {
                let mut plain = [[[0.0; SUB_BLOCK]; MAX_CHANNELS]; MAX_BANDS];
                let mut vectors = plain;
                frames_to_bands_plain(&frames, &mut plain, n, merged_from);
                // SAFETY: the CPU has AVX2 (checked above).
                unsafe { frames_to_bands_avx2(&frames, &mut vectors, n, merged_from) };
                for b in 0..=merged_from {
                    for c in 0..MAX_CHANNELS {
                        for i in 0..n {
                            assert_eq!(
                                vectors[b][c][i].to_bits(),
                                plain[b][c][i].to_bits(),
                                "n {n}, merged from {merged_from}, band {b}, channel {c}, sample {i}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Silence after a burst brings every detector to exactly zero (tiny values are flushed at
    /// the end of each sub-block), in the lanes as band by band, which agree all the way.
    #[test]
    fn silence_flushes_the_detectors_in_both_paths() {
        let band = BandSettings {
            threshold_db: -30.0,
            ratio: 4.0,
            attack_ms: 1.0,
            release_ms: 5.0,
            ..BandSettings::default()
        };
        let settings = MultibandSettings {
            bands: 3,
            band: [band; MAX_BANDS],
            detection: Detection::Rms,
            ..MultibandSettings::default()
        };
        let mut lanes = MultibandDynamics::new(48_000.0, settings);
        let mut bands = lanes.clone();
        bands.lanes = false;
        let [mut l, mut r] = bursts(3, 6_000);
        // 40,000 samples: over 80 RMS time constants and 160 release ones.
        l.resize(46_000, 0.0);
        r.resize(46_000, 0.0);
        let (mut l2, mut r2) = (l.clone(), r.clone());
        let mut last = [MultibandStats::default(); 2];
        for start in (0..46_000).step_by(500) {
            let end = start + 500;
            last[0] = lanes.process(&mut l[start..end], &mut r[start..end]);
            last[1] = bands.process(&mut l2[start..end], &mut r2[start..end]);
            assert_eq!(last[0], last[1], "meters at {start}");
        }
        assert!(l.iter().zip(&l2).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(r.iter().zip(&r2).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(last[0].max_reduction_db, [0.0; MAX_BANDS]);
        for dynamics in [&lanes, &bands] {
            for envelope in dynamics.bands.iter().flat_map(|b| &b.envelopes) {
                assert_eq!(envelope.mean_square, 0.0);
                assert_eq!(envelope.reduction_db, 0.0);
            }
        }
        assert!(lanes.bands[0].settled(), "the lanes ran");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The linked bands computed side by side in vector lanes give exactly the output and
        /// meters of the band-by-band path, through settings changes (whose glides take the
        /// band-by-band path) and at any block size.
        #[test]
        fn lanes_are_the_band_by_band_path_bit_for_bit(
            first in settings(),
            second in settings(),
            seed in any::<u64>(),
            block in 1usize..700,
        ) {
            let input = bursts(seed, 12_000);
            let mut lanes = MultibandDynamics::new(48_000.0, first);
            let mut bands = lanes.clone();
            bands.lanes = false;
            let mut out = [input.clone(), input.clone()];
            for (start, end) in (0..12_000).step_by(block).map(|s| (s, (s + block).min(12_000))) {
                if start <= 6_000 && 6_000 < end {
                    lanes.set_settings(&second);
                    bands.set_settings(&second);
                }
                let [l, r] = &mut out[0];
                let a = lanes.process(&mut l[start..end], &mut r[start..end]);
                let [l, r] = &mut out[1];
                let b = bands.process(&mut l[start..end], &mut r[start..end]);
                prop_assert_eq!(a, b, "meters at {}", start);
            }
            for (c, (lanes, bands)) in out[0].iter().zip(&out[1]).enumerate() {
                for (i, (x, y)) in lanes.iter().zip(bands).enumerate() {
                    prop_assert_eq!(x.to_bits(), y.to_bits(), "channel {} sample {}", c, i);
                }
            }
        }
    }
}
