//! Test signals and measurements for host tests.

/// Deterministic white noise in [−1, 1).
pub fn noise(len: usize, seed: u64) -> Vec<f32> {
    let mut white = dsp_core::noise::WhiteNoise::new(seed);
    (0..len).map(|_| white.next_f64() as f32).collect()
}

/// A stereo pair of independent noise channels at `db` dBFS peak.
pub fn stereo_noise(len: usize, db: f32) -> [Vec<f32>; 2] {
    let gain = 10f32.powf(db / 20.0);
    [
        noise(len, 1).iter().map(|x| x * gain).collect(),
        noise(len, 2).iter().map(|x| x * gain).collect(),
    ]
}

pub fn rms_db(signal: &[f32]) -> f64 {
    let power = signal.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / signal.len() as f64;
    10.0 * power.max(1e-30).log10()
}

/// Energy ratio in dB of `output` delayed against `input` (how far output ≠ input delayed by
/// `latency`), over the samples after the latency.
pub fn null_db(input: &[f32], output: &[f32], latency: usize) -> f64 {
    let mut error = 0.0f64;
    let mut energy = 0.0f64;
    for n in latency..output.len() {
        let expected = input[n - latency] as f64;
        error += (output[n] as f64 - expected).powi(2);
        energy += expected * expected;
    }
    10.0 * (error.max(1e-300) / energy.max(1e-300)).log10()
}

/// EBU Tech 3341 case 1: a 1 kHz sine at −23 dBFS on both channels (−23 LUFS, −23 dBTP), at
/// 48 kHz, `seconds` long.
pub fn tech3341_case1(seconds: usize) -> Vec<f32> {
    let amplitude = 10f32.powf(-23.0 / 20.0);
    (0..seconds * 48_000)
        .map(|n| amplitude * (std::f32::consts::TAU * 1000.0 * n as f32 / 48_000.0).sin())
        .collect()
}
