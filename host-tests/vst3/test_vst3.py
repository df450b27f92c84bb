"""VST3 host tests: every plugin in host-tests/plugins.toml, loaded from its built .vst3 bundle by a
real third-party VST3 host (Spotify's pedalboard, on JUCE), and checked for processing at several
rates and block sizes, latency (reported and compensated), parameters, state and bad state.

pedalboard compensates the reported latency inside process(), so a transparent plugin's output
must line up with its input sample for sample: any error in the reported latency shows as a
misaligned null. Run through `cargo xtask test`, which builds the bundles first.
"""

import json
import os
import pathlib
import re
import tomllib

import numpy as np
import pedalboard
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLUGINS = tomllib.loads((ROOT / "host-tests" / "plugins.toml").read_text())["plugin"]
BUNDLES = pathlib.Path(os.environ.get("LATHE_BUNDLE_DIR", ROOT / "target" / "bundled"))
RATES = [44_100, 48_000, 96_000, 192_000]
BLOCKS = [1, 17, 64, 512, 4096]


def load(config):
    path = BUNDLES / f"{config['bundle']}.vst3"
    assert path.exists(), f"{path} missing: run `cargo xtask test`"
    return pedalboard.load_plugin(str(path))


def attribute(name):
    """pedalboard's attribute name for a parameter's display name."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def noise(seconds, rate, db=-20.0, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (2, int(seconds * rate))) * 10 ** (db / 20)).astype(np.float32)


def component_state(raw_state):
    """The plugin's own state inside pedalboard's (JUCE's) preset: the <IComponent> element,
    `size.data` in JUCE's base-64 (its own alphabet, bits packed least significant first)."""
    match = re.search(rb"<IComponent>(\d+)\.([^<]*)</IComponent>", raw_state)
    assert match, raw_state[:200]
    size, encoded = int(match.group(1)), match.group(2).decode()
    table = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"
    bits = sum(table.index(c) << (6 * i) for i, c in enumerate(encoded))
    return bits.to_bytes(size, "little")


def rms_db(x):
    return 10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2) + 1e-30)


def null_db(reference, output):
    reference = reference.astype(np.float64)
    error = output.astype(np.float64) - reference
    return 10 * np.log10((np.sum(error**2) + 1e-300) / (np.sum(reference**2) + 1e-300))


ids = [p["bundle"] for p in PLUGINS]


@pytest.mark.parametrize("config", PLUGINS, ids=ids)
def test_describes_itself(config):
    plugin = load(config)
    assert plugin.name == config["bundle"]
    assert plugin.is_effect
    categories = plugin.category.split("|")
    for category in config["vst3_categories"]:
        assert category in categories, plugin.category
    assert len(plugin.parameters) == len(config["param_ids"])
    # Output parameters (meter readings) are read-only: the only ones a host may not automate.
    outputs = [name for name, p in plugin.parameters.items() if not p.is_automatable]
    assert len(outputs) == len(config.get("output_ids", [])), outputs


def settings(plugin):
    """The parameters a host sets: all but the read-only outputs."""
    return {name: p for name, p in plugin.parameters.items() if p.is_automatable}


@pytest.mark.parametrize("config", PLUGINS, ids=ids)
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("block", BLOCKS)
def test_processes_at_every_rate_and_block_size(config, rate, block):
    plugin = load(config)
    audio = noise(0.1 if block == 1 else 0.25, rate)
    out = plugin.process(audio, rate, buffer_size=block, reset=True)
    assert out.shape == audio.shape
    assert np.all(np.isfinite(out))
    if config["transparent"]:
        # Latency-compensated by the host: a wrong latency report would misalign this null.
        null = null_db(audio, out)
        assert null < -120, f"null {null:.1f} dB at {rate} Hz, blocks of {block}"


@pytest.mark.parametrize("config", [p for p in PLUGINS if p["impulse_passes"]], ids=lambda c: c["bundle"])
@pytest.mark.parametrize("rate", RATES)
def test_reported_latency_matches_the_audio(config, rate):
    plugin = load(config)
    impulse = np.zeros((2, rate // 4), dtype=np.float32)
    impulse[:, 1000] = 0.1
    out = plugin.process(impulse, rate, buffer_size=512, reset=True)
    # pedalboard shifted the output back by the reported latency: the impulse is where it went in.
    assert int(np.argmax(np.abs(out[0]))) == 1000, plugin.reported_latency_samples


@pytest.mark.parametrize("config", [p for p in PLUGINS if p.get("latency_param")], ids=lambda c: c["bundle"])
def test_latency_changes_are_reported(config):
    plugin = load(config)
    rate = 48_000
    impulse = np.zeros((2, rate // 2), dtype=np.float32)
    impulse[:, 1000] = 0.1
    plugin.process(impulse, rate, buffer_size=512, reset=True)
    before = plugin.reported_latency_samples
    param = config["latency_param"]
    name = attribute(param["name"])
    # Choice parameters take their whole name ("Linear Phase"); numbers the value alone.
    if plugin.parameters[name].type is str:
        setattr(plugin, name, param["text"])
    else:
        setattr(plugin, name, param["text"].split()[0])
    out = plugin.process(impulse, rate, buffer_size=512, reset=True)
    after = plugin.reported_latency_samples
    assert after != before
    assert int(np.argmax(np.abs(out[0]))) == 1000


@pytest.mark.parametrize("config", PLUGINS, ids=ids)
def test_parameter_changes_take_effect(config):
    plugin = load(config)
    rate = 48_000
    audio = noise(1.0, rate)
    plain = plugin.process(audio, rate, buffer_size=512, reset=True)
    automate = config["automate"]
    name = attribute(automate["name"])
    if plugin.parameters[name].units or plugin.parameters[name].range[0] is not None:
        setattr(plugin, name, float(automate["text"].split()[0]))
    else:
        setattr(plugin, name, automate["text"])
    changed = plugin.process(audio, rate, buffer_size=512, reset=True)
    tail = slice(rate // 2, None)
    if automate.get("measure", "output") == "error":
        change = rms_db(changed[:, tail] - audio[:, tail]) - rms_db(plain[:, tail] - audio[:, tail])
    else:
        change = rms_db(changed[:, tail]) - rms_db(plain[:, tail])
    assert abs(change - automate["gain_db"]) < automate.get("tolerance_db", 0.05), change


@pytest.mark.parametrize("config", PLUGINS, ids=ids)
def test_state_round_trips_bit_exactly(config):
    first = load(config)
    # Move every continuous parameter to 30% of its range, every switch to its other value.
    for name, parameter in settings(first).items():
        if name == "bypass":
            continue
        parameter.raw_value = 0.3 if parameter.raw_value > 0.5 else 0.7
    # A host delivers edits to the processor while processing; do so before saving.
    first.process(noise(0.01, 48_000), 48_000, buffer_size=512, reset=False)
    state = first.raw_state
    second = load(config)
    second.raw_state = state
    # State holds plain values (e.g. -8.4 dBTP, Off); compare what a user sees, and require the
    # state itself to re-save byte for byte.
    for name in settings(first):
        assert first.parameters[name].string_value == second.parameters[name].string_value, name
    assert second.raw_state == state
    # Readings are not settings: the plugin's state (JSON) has every setting and no output.
    saved = json.loads(component_state(state))["params"]
    assert len(saved) == len(config["param_ids"]) - len(config.get("output_ids", [])), saved
    for output in config.get("output_ids", []):
        assert output not in saved, output
    rate = 48_000
    audio = noise(1.0, rate, db=-3.0)
    a = first.process(audio, rate, buffer_size=256, reset=True)
    b = second.process(audio, rate, buffer_size=256, reset=True)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("config", PLUGINS, ids=ids)
def test_malformed_state_keeps_defaults(config):
    plugin = load(config)
    defaults = {name: p.raw_value for name, p in plugin.parameters.items()}
    for garbage in [b"", b"{not json", bytes(1000), b"\xff" * 64]:
        try:
            plugin.raw_state = garbage
        except Exception:
            pass  # rejecting it loudly is fine; crashing or changing parameters is not
        assert {name: p.raw_value for name, p in plugin.parameters.items()} == defaults
    out = plugin.process(noise(0.1, 48_000), 48_000, buffer_size=512, reset=True)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("config", [p for p in PLUGINS if p["impulse_passes"]], ids=lambda c: c["bundle"])
def test_sample_rate_changes_on_one_instance(config):
    """One instance, as a DAW does when the project rate changes: latency is re-reported and
    compensated exactly at every rate, and the output stays finite."""
    plugin = load(config)
    for rate in [44_100, 96_000, 48_000, 192_000, 44_100]:
        impulse = np.zeros((2, rate // 4), dtype=np.float32)
        impulse[:, 1000] = 0.1
        out = plugin.process(impulse, rate, buffer_size=256, reset=True)
        assert np.all(np.isfinite(out))
        assert int(np.argmax(np.abs(out[0]))) == 1000, (rate, plugin.reported_latency_samples)
