//! A small CLAP host for tests, on `clack-host`: it loads a *built* `.clap` bundle through the real
//! ABI and drives it the way a DAW does (activate at a rate and block size, process with parameter
//! events, save and load state, follow latency changes, open the editor).
//!
//! The plugin list comes from `plugins.toml`; the bundles from `$LATHE_BUNDLE_DIR` (default
//! `target/bundled`), which `cargo xtask test` fills with debug-asserting builds.

use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::gui::{
    GuiApiType, GuiConfiguration, GuiSize, HostGui, HostGuiImpl, PluginGui, Window,
};
use clack_extensions::latency::{HostLatency, HostLatencyImpl, PluginLatency};
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::state::PluginState;
use clack_extensions::thread_check::{HostThreadCheck, HostThreadCheckImpl};
use clack_host::events::event_types::{ParamValueEvent, TransportEvent, TransportFlags};
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};
use serde::Deserialize;
use std::cell::Cell;
use std::ffi::CString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

pub mod signals;
pub mod vst3_host;

/// One entry of `plugins.toml`.
#[derive(Clone, Debug, Deserialize)]
pub struct PluginEntryConfig {
    pub bundle: String,
    pub clap_id: String,
    pub features: Vec<String>,
    pub vst3_categories: Vec<String>,
    pub transparent: bool,
    pub impulse_passes: bool,
    pub automate: Automation,
    pub latency_param: Option<ParamText>,
    /// For plugins with a sidechain input: the parameter setting that makes the sidechain drive
    /// the plugin, and how many dB a loud key (0 dBFS noise) at least takes off a quiet main input
    /// (−30 dBFS noise) that the plugin otherwise leaves alone.
    pub sidechain: Option<Sidechain>,
    /// For plugins with tempo-synced times: settings (id, text) that make an impulse come out
    /// once, `quarters` quarter notes late at the host tempo (given through the transport).
    pub tempo_sync: Option<TempoSync>,
    pub param_ids: Vec<String>,
    /// The ids among `param_ids` that are read-only output parameters (meter readings).
    #[serde(default)]
    pub output_ids: Vec<String>,
    /// For plugins that report their gain reduction: how to check it.
    pub gain_reduction: Option<GainReduction>,
}

/// A gain-reduction reading checked on a 1 kHz sine at −6 dBFS: after `set` (id, text), the
/// plugin's output is `gain_db` minus the reduction louder than its input, the reduction being
/// `expect_db` by the static curve.
#[derive(Clone, Debug, Deserialize)]
pub struct GainReduction {
    pub id: String,
    #[serde(default)]
    pub set: Vec<(String, String)>,
    #[serde(default)]
    pub gain_db: f64,
    pub expect_db: f64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TempoSync {
    pub set: Vec<(String, String)>,
    pub quarters: f64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Sidechain {
    pub id: String,
    pub name: String,
    pub text: String,
    pub reduces_db: f64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Automation {
    pub id: String,
    pub name: String,
    pub text: String,
    pub gain_db: f64,
    /// "output" (level of the output, the default) or "error" (level of output − input).
    #[serde(default = "default_measure")]
    pub measure: String,
    #[serde(default = "default_tolerance")]
    pub tolerance_db: f64,
}

fn default_measure() -> String {
    "output".into()
}

fn default_tolerance() -> f64 {
    0.05
}

#[derive(Clone, Debug, Deserialize)]
pub struct ParamText {
    pub id: String,
    pub name: String,
    pub text: String,
}

#[derive(Deserialize)]
struct PluginList {
    plugin: Vec<PluginEntryConfig>,
}

/// The plugins under test, from `plugins.toml`.
pub fn plugins() -> Vec<PluginEntryConfig> {
    let text = include_str!("../plugins.toml");
    toml::from_str::<PluginList>(text)
        .expect("plugins.toml is valid")
        .plugin
}

/// The entry of `plugins.toml` with this CLAP id.
pub fn plugin(clap_id: &str) -> PluginEntryConfig {
    plugins()
        .into_iter()
        .find(|c| c.clap_id == clap_id)
        .unwrap_or_else(|| panic!("{clap_id} is listed in plugins.toml"))
}

/// Where the bundles are.
pub fn bundle_dir() -> PathBuf {
    std::env::var_os("LATHE_BUNDLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bundled"))
}

/// Path of a plugin's `.clap` file; panics with a clear message when it has not been built.
pub fn clap_path(bundle: &str) -> PathBuf {
    let path = bundle_dir().join(format!("{bundle}.clap"));
    assert!(
        path.exists(),
        "{} does not exist: run the host tests through `cargo xtask test` (it builds the bundles)",
        path.display()
    );
    path
}

/// nice-plug's (and NIH-plug's) mapping of a stable string parameter id to its CLAP/VST3 id. Hosts
/// store automation under this number, so it must never change for a given string.
pub fn param_hash(id: &str) -> u32 {
    let mut hash: u32 = 0;
    for byte in id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(byte as u32);
    }
    hash & !(1 << 31)
}

/// Host callbacks that may come from any thread.
#[derive(Default)]
pub struct Shared {
    pub restart_requested: AtomicBool,
    pub callback_requested: AtomicBool,
    pub latency_changed: AtomicBool,
}

thread_local! {
    /// True while this thread is inside the plugin's `process()`: the thread-check extension then
    /// reports it as the audio thread, as a DAW's audio thread would be.
    static IN_PROCESS: Cell<bool> = const { Cell::new(false) };
}

impl SharedHandler<'_> for Shared {
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::SeqCst);
    }
    fn request_process(&self) {}
    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

/// Editor requests: a DAW would resize or show its window; the test host accepts them.
impl HostGuiImpl for Shared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, _new_size: GuiSize) -> Result<(), HostError> {
        Ok(())
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {}
}

impl HostThreadCheckImpl for Shared {
    fn is_main_thread(&self) -> bool {
        !IN_PROCESS.with(Cell::get)
    }
    fn is_audio_thread(&self) -> bool {
        IN_PROCESS.with(Cell::get)
    }
}

pub struct MainThread<'a> {
    shared: &'a Shared,
}

impl<'a> MainThreadHandler<'a> for MainThread<'a> {}

impl HostLatencyImpl for MainThread<'_> {
    fn changed(&self) {
        self.shared.latency_changed.store(true, Ordering::SeqCst);
    }
}

pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = MainThread<'a>;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostLatency>()
            .register::<HostGui>()
            .register::<HostThreadCheck>();
    }
}

/// A loaded plugin instance with its extensions; activate it to process.
pub struct Instance {
    // Field order matters: the processor and instance must go before the entry that holds the
    // library.
    processor: Option<StartedPluginAudioProcessor<TestHost>>,
    instance: PluginInstance<TestHost>,
    _entry: PluginEntry,
    pub params: PluginParams,
    pub state: PluginState,
    pub latency: PluginLatency,
    pub gui: Option<PluginGui>,
    /// Name and CLAP features from the plugin's descriptor.
    pub name: String,
    pub features: Vec<String>,
    channels: usize,
    /// Channels of each input port (main first, then sidechains), from the audio-ports extension.
    input_port_channels: Vec<usize>,
    max_block: usize,
    /// Every input port's channels, port after port.
    input: Vec<Vec<f32>>,
    output: Vec<Vec<f32>>,
    input_ports: AudioPorts,
    output_ports: AudioPorts,
    /// The transport given with every block (none until [`Instance::set_transport`]).
    transport: Option<TransportEvent>,
    /// Parameter values the plugin reported in its output events (output parameters), as
    /// (sample position since the last [`Instance::take_reports`], parameter id, value).
    reports: Vec<(usize, u32, f64)>,
    /// Samples processed since the last [`Instance::take_reports`].
    processed: usize,
}

impl Instance {
    /// Loads the plugin `config` from its built bundle.
    pub fn load(config: &PluginEntryConfig) -> Self {
        let path = clap_path(&config.bundle);
        // SAFETY: loading a library runs its initialisers; the bundle is our own plugin.
        let entry = unsafe { PluginEntry::load(&path) }
            .unwrap_or_else(|e| panic!("cannot load {}: {e:?}", path.display()));
        let host_info =
            HostInfo::new("Lathe host tests", "Lathe", "https://lathe.audio", "1.0").unwrap();
        let id = CString::new(config.clap_id.clone()).unwrap();
        let factory = entry.get_plugin_factory().expect("plugin factory");
        let descriptor = factory
            .plugin_descriptors()
            .find(|d| d.id() == Some(id.as_c_str()))
            .unwrap_or_else(|| panic!("{} is not in {}", config.clap_id, path.display()));
        let name = descriptor
            .name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let features = descriptor
            .features()
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        let mut instance = PluginInstance::<TestHost>::new(
            |_| Shared::default(),
            |shared| MainThread { shared },
            &entry,
            &id,
            &host_info,
        )
        .unwrap_or_else(|e| panic!("cannot instantiate {}: {e:?}", config.clap_id));
        let handle = instance.plugin_handle();
        let params: PluginParams = handle.get_extension().expect("params extension");
        let state: PluginState = handle.get_extension().expect("state extension");
        let latency: PluginLatency = handle.get_extension().expect("latency extension");
        let gui: Option<PluginGui> = handle.get_extension();
        // A host must hand the plugin a buffer for every input port it declares.
        let input_port_channels: Vec<usize> = match handle.get_extension::<PluginAudioPorts>() {
            Some(ports) => {
                let mut buffer = AudioPortInfoBuffer::new();
                (0..ports.count(&handle, true))
                    .map(|i| {
                        ports
                            .get(&handle, i, true, &mut buffer)
                            .map_or(2, |info| info.channel_count as usize)
                    })
                    .collect()
            }
            None => vec![2],
        };
        let input_ports =
            AudioPorts::with_capacity(input_port_channels.iter().sum(), input_port_channels.len());
        Self {
            processor: None,
            instance,
            _entry: entry,
            params,
            state,
            latency,
            gui,
            name,
            features,
            channels: 2,
            input_port_channels,
            max_block: 0,
            input: Vec::new(),
            output: Vec::new(),
            input_ports,
            output_ports: AudioPorts::with_capacity(2, 1),
            transport: None,
            reports: Vec::new(),
            processed: 0,
        }
    }

    pub fn shared(&self) -> &Shared {
        self.instance.access_shared_handler(|s| {
            // SAFETY of the lifetime: the shared handler lives as long as the instance.
            unsafe { &*(s as *const Shared) }
        })
    }

    /// Activates at `sample_rate` for blocks of up to `max_block` frames and starts processing.
    pub fn activate(&mut self, sample_rate: f64, max_block: usize) {
        self.deactivate();
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_block as u32,
        };
        let stopped = self
            .instance
            .activate(|_, _| (), config)
            .expect("activate succeeds");
        self.processor = Some(stopped.start_processing().expect("start processing"));
        self.max_block = max_block;
        let input_channels = self.input_port_channels.iter().sum::<usize>();
        self.input = vec![vec![0.0; max_block]; input_channels.max(self.channels)];
        self.output = vec![vec![0.0; max_block]; self.channels];
        self.pump_main_thread();
    }

    pub fn deactivate(&mut self) {
        if let Some(processor) = self.processor.take() {
            self.instance.deactivate(processor.stop_processing());
        }
        self.pump_main_thread();
    }

    pub fn is_active(&self) -> bool {
        self.processor.is_some()
    }

    /// Runs the plugin's main-thread callback if it asked for one (as a DAW's event loop does).
    pub fn pump_main_thread(&mut self) {
        if self
            .shared()
            .callback_requested
            .swap(false, Ordering::SeqCst)
        {
            self.instance.call_on_main_thread_callback();
        }
    }

    /// Whether the plugin has a sidechain (auxiliary) input port.
    pub fn has_sidechain(&self) -> bool {
        self.input_port_channels.len() > 1
    }

    /// Processes one block of stereo audio with the given parameter events and returns the
    /// plugin's status. Sidechain ports get `sidechain` (left, right) or silence.
    pub fn process_block(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        sidechain: Option<(&[f32], &[f32])>,
        events: &[ParamValueEvent],
    ) -> ProcessStatus {
        let frames = left.len();
        assert!(frames <= self.max_block && frames == right.len());
        self.input[0][..frames].copy_from_slice(left);
        self.input[1][..frames].copy_from_slice(right);
        for (c, channel) in self.input.iter_mut().enumerate().skip(2) {
            match sidechain {
                Some((l, r)) => channel[..frames].copy_from_slice(if c % 2 == 0 { l } else { r }),
                None => channel[..frames].fill(0.0),
            }
        }
        let processor = self.processor.as_mut().expect("activated");
        let mut input_event_buffer = EventBuffer::with_capacity(events.len().max(1));
        for event in events {
            input_event_buffer.push(event);
        }
        let input_events = InputEvents::from_buffer(&input_event_buffer);
        let mut output_event_buffer = EventBuffer::new();
        let mut output_events = OutputEvents::from_buffer(&mut output_event_buffer);
        let (input, output) = (&mut self.input, &mut self.output);
        let mut channels = input.iter_mut();
        let ports = self
            .input_port_channels
            .iter()
            .map(|&count| AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_input_only(
                    channels
                        .by_ref()
                        .take(count)
                        .map(|c| InputChannel::variable(&mut c[..frames]))
                        .collect::<Vec<_>>(),
                ),
            });
        let input_audio = self.input_ports.with_input_buffers(ports);
        let mut output_audio = self.output_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(
                output.iter_mut().map(|c| &mut c[..frames]),
            ),
        }]);
        IN_PROCESS.with(|f| f.set(true));
        let status = processor
            .process(
                &input_audio,
                &mut output_audio,
                &input_events,
                &mut output_events,
                None,
                self.transport.as_ref(),
            )
            .expect("process succeeds");
        IN_PROCESS.with(|f| f.set(false));
        for event in output_event_buffer.iter() {
            if let Some(value) = event.as_event::<ParamValueEvent>() {
                self.reports.push((
                    self.processed + value.time() as usize,
                    value.param_id().map_or(u32::MAX, |id| id.get()),
                    value.value(),
                ));
            }
        }
        self.processed += frames;
        left.copy_from_slice(&self.output[0][..frames]);
        right.copy_from_slice(&self.output[1][..frames]);
        status
    }

    /// From now on, every block comes with a playing transport at `bpm` in
    /// `numerator`/`denominator` time (position 0), as a DAW sends it.
    pub fn set_transport(&mut self, bpm: f64, numerator: u16, denominator: u16) {
        let zero = BeatTime::from_int(0);
        let zero_seconds = SecondsTime::from_int(0);
        self.transport = Some(TransportEvent {
            header: Default::default(),
            flags: TransportFlags::HAS_TEMPO
                | TransportFlags::HAS_TIME_SIGNATURE
                | TransportFlags::HAS_BEATS_TIMELINE
                | TransportFlags::HAS_SECONDS_TIMELINE
                | TransportFlags::IS_PLAYING,
            song_pos_beats: zero,
            song_pos_seconds: zero_seconds,
            tempo: bpm,
            tempo_inc: 0.0,
            loop_start_beats: zero,
            loop_end_beats: zero,
            loop_start_seconds: zero_seconds,
            loop_end_seconds: zero_seconds,
            bar_start: zero,
            bar_number: 0,
            time_signature_numerator: numerator,
            time_signature_denominator: denominator,
        });
    }

    /// Processes a whole stereo signal in blocks whose sizes cycle through `blocks`; `events` are
    /// (absolute sample, param id, CLAP value) and are delivered in the block they fall in, at
    /// their exact offset.
    pub fn process(
        &mut self,
        signal: &[Vec<f32>; 2],
        blocks: &[usize],
        events: &[(usize, u32, f64)],
    ) -> [Vec<f32>; 2] {
        self.process_with_sidechain(signal, None, blocks, events)
    }

    /// [`Instance::process`] with a signal on the sidechain input (silence when `None`).
    pub fn process_with_sidechain(
        &mut self,
        signal: &[Vec<f32>; 2],
        sidechain: Option<&[Vec<f32>; 2]>,
        blocks: &[usize],
        events: &[(usize, u32, f64)],
    ) -> [Vec<f32>; 2] {
        let mut out = signal.clone();
        let len = signal[0].len();
        let mut start = 0;
        let mut sizes = blocks.iter().cycle();
        while start < len {
            let end = (start + *sizes.next().unwrap()).min(len);
            let block_events: Vec<ParamValueEvent> = events
                .iter()
                .filter(|(at, _, _)| (start..end).contains(at))
                .map(|&(at, id, value)| {
                    ParamValueEvent::new(
                        (at - start) as u32,
                        ClapId::new(id),
                        Pckn::match_all(),
                        value,
                    )
                })
                .collect();
            let (left, right) = out.split_at_mut(1);
            let key = sidechain.map(|[l, r]| (&l[start..end], &r[start..end]));
            self.process_block(
                &mut left[0][start..end],
                &mut right[0][start..end],
                key,
                &block_events,
            );
            self.pump_main_thread();
            start = end;
        }
        out
    }

    /// The parameter values the plugin has reported since the last call, as (sample position,
    /// parameter id, value) in the order they came.
    pub fn take_reports(&mut self) -> Vec<(usize, u32, f64)> {
        self.processed = 0;
        std::mem::take(&mut self.reports)
    }

    /// The reported latency in samples.
    pub fn latency(&mut self) -> u32 {
        let latency = self.latency;
        latency.get(&self.instance.plugin_handle())
    }

    /// The CLAP value for `text` typed into parameter `id` (the plugin's own text entry).
    pub fn text_to_value(&mut self, id: &str, text: &str) -> f64 {
        let params = self.params;
        let c_text = CString::new(text).unwrap();
        params
            .text_to_value(
                &self.instance.plugin_handle(),
                ClapId::new(param_hash(id)),
                &c_text,
            )
            .unwrap_or_else(|| panic!("parameter {id} does not accept {text:?}"))
    }

    /// The plugin's text for `value` of the parameter with hash `hash` ("-23.0 LUFS").
    pub fn value_to_text_by_hash(&mut self, hash: u32, value: f64) -> String {
        let params = self.params;
        let mut buffer = [0u8; 256];
        let text = params
            .value_to_text(
                &self.instance.plugin_handle(),
                ClapId::new(hash),
                value,
                &mut buffer,
            )
            .unwrap_or_else(|e| panic!("parameter {hash} has no text for {value}: {e:?}"));
        String::from_utf8_lossy(text).into_owned()
    }

    /// Current CLAP value of parameter `id`.
    pub fn value(&mut self, id: &str) -> f64 {
        self.value_by_hash(param_hash(id))
    }

    pub fn value_by_hash(&mut self, hash: u32) -> f64 {
        let params = self.params;
        params
            .get_value(&self.instance.plugin_handle(), ClapId::new(hash))
            .expect("parameter exists")
    }

    /// (id, name, group, min, max, default, flags) of every parameter.
    pub fn param_infos(&mut self) -> Vec<ParamDescription> {
        let params = self.params;
        let handle = self.instance.plugin_handle();
        let count = params.count(&handle);
        (0..count)
            .map(|index| {
                let mut buffer = ParamInfoBuffer::new();
                let info = params
                    .get_info(&handle, index, &mut buffer)
                    .expect("param info");
                ParamDescription {
                    id: info.id.get(),
                    name: String::from_utf8_lossy(info.name).into_owned(),
                    group: String::from_utf8_lossy(info.module).into_owned(),
                    min: info.min_value,
                    max: info.max_value,
                    default: info.default_value,
                    is_bypass: info
                        .flags
                        .contains(clack_extensions::params::ParamInfoFlags::IS_BYPASS),
                    is_automatable: info
                        .flags
                        .contains(clack_extensions::params::ParamInfoFlags::IS_AUTOMATABLE),
                    is_read_only: info
                        .flags
                        .contains(clack_extensions::params::ParamInfoFlags::IS_READONLY),
                }
            })
            .collect()
    }

    pub fn save_state(&mut self) -> Vec<u8> {
        let state = self.state;
        let mut bytes = Vec::new();
        state
            .save(&self.instance.plugin_handle(), &mut bytes)
            .expect("state saves");
        bytes
    }

    pub fn load_state(&mut self, bytes: &[u8]) -> Result<(), String> {
        let state = self.state;
        let mut reader = bytes;
        state
            .load(&self.instance.plugin_handle(), &mut reader)
            .map_err(|e| format!("{e:?}"))
    }

    /// Opens the editor embedded in the X11 window `parent` at its preferred size.
    ///
    /// # Safety
    /// `parent` must be a live X11 window until [`Instance::close_gui`].
    pub unsafe fn open_gui(&mut self, parent: u32) -> GuiSize {
        let gui = self.gui.expect("the plugin has a GUI");
        let handle = self.instance.plugin_handle();
        let configuration = GuiConfiguration {
            api_type: GuiApiType::X11,
            is_floating: false,
        };
        assert!(
            gui.is_api_supported(&handle, configuration),
            "X11 embedding supported"
        );
        gui.create(&handle, configuration).expect("GUI created");
        let size = gui.get_size(&handle).expect("GUI size");
        // SAFETY: the caller keeps the parent alive until close_gui.
        unsafe { gui.set_parent(&handle, Window::from_x11_handle(parent as _)) }
            .expect("GUI embedded");
        gui.show(&handle).expect("GUI shown");
        size
    }

    pub fn close_gui(&mut self) {
        if let Some(gui) = self.gui {
            let handle = self.instance.plugin_handle();
            let _ = gui.hide(&handle);
            gui.destroy(&handle);
        }
    }

    pub fn gui_can_resize(&mut self) -> bool {
        let gui = self.gui.expect("the plugin has a GUI");
        gui.can_resize(&self.instance.plugin_handle())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.deactivate();
    }
}

#[derive(Clone, Debug)]
pub struct ParamDescription {
    pub id: u32,
    pub name: String,
    pub group: String,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    pub is_bypass: bool,
    pub is_automatable: bool,
    /// A read-only output parameter: the plugin reports it, the host cannot set it.
    pub is_read_only: bool,
}

/// Checks what Lathe Loudness reported as output parameters over [`signals::tech3341_case1`]
/// (`len` samples): every report is for one of `outputs` and inside the signal; momentary,
/// short-term and integrated read −23.0 ±0.1 LUFS and the true peak −23 dBTP (+0.2/−0.4 dB, Tech
/// 3341's tolerance), each first reported within a second; the loudness range reads 0 ±1 LU.
/// `held(id)` is the host's current value of a parameter (which must be its last report) and
/// `text(id, value)` the plugin's text for a value ("-23.0 LUFS").
pub fn check_case1_reports(
    reports: &[(usize, u32, f64)],
    len: usize,
    outputs: &[String],
    mut held: impl FnMut(u32) -> f64,
    mut text: impl FnMut(u32, f64) -> String,
) {
    assert!(
        reports
            .iter()
            .all(|&(at, id, _)| at < len && outputs.iter().any(|o| param_hash(o) == id)),
        "reports only for output parameters, inside the signal"
    );
    let mut reading = |id: &str, value: f64| -> f64 {
        let text = text(param_hash(id), value);
        text.split_whitespace()
            .next()
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("{id} reads {text:?}"))
    };
    for (id, expected, below, above) in [
        ("out_momentary", -23.0, 0.1, 0.1),
        ("out_short_term", -23.0, 0.1, 0.1),
        ("out_integrated", -23.0, 0.1, 0.1),
        ("out_true_peak", -23.0, 0.4, 0.2),
    ] {
        let hash = param_hash(id);
        let mine: Vec<_> = reports.iter().filter(|r| r.1 == hash).collect();
        let first = mine
            .first()
            .unwrap_or_else(|| panic!("{id} never reported"));
        assert!(
            first.0 <= 48_000,
            "{id} first reported at sample {}",
            first.0
        );
        let last = mine.last().unwrap().2;
        assert_eq!(held(hash), last, "{id} holds its last report");
        let value = reading(id, last);
        assert!(
            value >= expected - below && value <= expected + above,
            "{id} = {value}, expected {expected}"
        );
    }
    let range = reading("out_range", held(param_hash("out_range")));
    assert!(range.abs() <= 1.0, "LRA of a steady sine: {range}");
}
