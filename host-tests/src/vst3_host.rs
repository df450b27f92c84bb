//! A minimal VST3 host, for what pedalboard (JUCE) does not show: the parameter values a plugin
//! reports from `process()` in `ProcessData::outputParameterChanges` (output parameters, such as
//! meter readings). It loads a built `.vst3` bundle through the real ABI (`GetPluginFactory`),
//! creates the audio processor, and processes stereo 32-bit blocks with an output-changes list
//! of its own.

use std::cell::RefCell;
use std::ffi::c_void;
use std::path::Path;
use std::ptr;

use vst3::Steinberg::Vst::BusDirections_::{kInput, kOutput};
use vst3::Steinberg::Vst::MediaTypes_::kAudio;
use vst3::Steinberg::Vst::ParameterInfo_::ParameterFlags_::{kCanAutomate, kIsReadOnly};
use vst3::Steinberg::Vst::ProcessModes_::kRealtime;
use vst3::Steinberg::Vst::SymbolicSampleSizes_::kSample32;
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{Class, ComPtr, ComWrapper, Interface};

/// Queues this many parameters per block at most (a host preallocates them).
const MAX_QUEUES: usize = 64;
/// Points per parameter and block at most.
const MAX_POINTS: usize = 64;

/// One parameter's points in a block.
struct ValueQueue {
    id: RefCell<ParamID>,
    points: RefCell<Vec<(i32, f64)>>,
}

impl Class for ValueQueue {
    type Interfaces = (IParamValueQueue,);
}

impl IParamValueQueueTrait for ValueQueue {
    unsafe fn getParameterId(&self) -> ParamID {
        *self.id.borrow()
    }

    unsafe fn getPointCount(&self) -> int32 {
        self.points.borrow().len() as int32
    }

    unsafe fn getPoint(&self, index: int32, offset: *mut int32, value: *mut ParamValue) -> tresult {
        match self.points.borrow().get(index as usize) {
            Some(&(at, v)) => {
                // SAFETY: the caller passes valid out-pointers (VST3 contract).
                unsafe {
                    *offset = at;
                    *value = v;
                }
                kResultOk
            }
            None => kInvalidArgument,
        }
    }

    unsafe fn addPoint(&self, offset: int32, value: ParamValue, index: *mut int32) -> tresult {
        let mut points = self.points.borrow_mut();
        if points.len() == points.capacity() {
            return kResultFalse;
        }
        points.push((offset, value));
        if !index.is_null() {
            // SAFETY: checked non-null; the caller owns it.
            unsafe { *index = points.len() as int32 - 1 };
        }
        kResultOk
    }
}

/// The output parameter changes of one block: queues made up front, handed out by id.
struct ParameterChanges {
    queues: Vec<ComWrapper<ValueQueue>>,
    used: RefCell<usize>,
}

impl Class for ParameterChanges {
    type Interfaces = (IParameterChanges,);
}

impl ParameterChanges {
    fn new() -> Self {
        Self {
            queues: (0..MAX_QUEUES)
                .map(|_| {
                    ComWrapper::new(ValueQueue {
                        id: RefCell::new(0),
                        points: RefCell::new(Vec::with_capacity(MAX_POINTS)),
                    })
                })
                .collect(),
            used: RefCell::new(0),
        }
    }

    fn queue_ptr(&self, index: usize) -> *mut IParamValueQueue {
        self.queues[index]
            .as_com_ref::<IParamValueQueue>()
            .map_or(ptr::null_mut(), |r| r.as_ptr())
    }

    /// Every (offset, parameter id, value) reported in the block, then empties the list.
    fn drain(&self) -> Vec<(i32, u32, f64)> {
        let mut used = self.used.borrow_mut();
        let mut out = Vec::new();
        for queue in &self.queues[..*used] {
            let id = *queue.id.borrow();
            out.extend(
                queue
                    .points
                    .borrow_mut()
                    .drain(..)
                    .map(|(at, v)| (at, id, v)),
            );
        }
        *used = 0;
        out
    }
}

impl IParameterChangesTrait for ParameterChanges {
    unsafe fn getParameterCount(&self) -> int32 {
        *self.used.borrow() as int32
    }

    unsafe fn getParameterData(&self, index: int32) -> *mut IParamValueQueue {
        if (0..*self.used.borrow() as i32).contains(&index) {
            self.queue_ptr(index as usize)
        } else {
            ptr::null_mut()
        }
    }

    unsafe fn addParameterData(
        &self,
        id: *const ParamID,
        index: *mut int32,
    ) -> *mut IParamValueQueue {
        if id.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: checked non-null; the caller owns it.
        let id = unsafe { *id };
        let mut used = self.used.borrow_mut();
        let found = self.queues[..*used]
            .iter()
            .position(|q| *q.id.borrow() == id);
        let slot = match found {
            Some(slot) => slot,
            None if *used < MAX_QUEUES => {
                *self.queues[*used].id.borrow_mut() = id;
                *used += 1;
                *used - 1
            }
            None => return ptr::null_mut(),
        };
        if !index.is_null() {
            // SAFETY: checked non-null; the caller owns it.
            unsafe { *index = slot as int32 };
        }
        self.queue_ptr(slot)
    }
}

/// A VST3 plugin's audio processor (and its controller: nice-plug's component is both),
/// activated at one rate and block size, processing stereo.
pub struct Vst3Instance {
    // Field order matters: the COM objects must go before the library that holds their code.
    processor: ComPtr<IAudioProcessor>,
    component: ComPtr<IComponent>,
    controller: ComPtr<IEditController>,
    changes: ComWrapper<ParameterChanges>,
    max_block: usize,
    _library: libloading::Library,
}

/// A parameter as the controller describes it.
#[derive(Clone, Debug)]
pub struct Vst3Param {
    pub id: u32,
    pub read_only: bool,
    pub automatable: bool,
}

impl Vst3Instance {
    /// Loads the first audio module of the bundle at `bundle` and activates it.
    pub fn load(bundle: &Path, sample_rate: f64, max_block: usize) -> Self {
        let name = bundle.file_stem().expect("bundle name").to_string_lossy();
        let binary = bundle
            .join("Contents")
            .join("x86_64-linux")
            .join(format!("{name}.so"));
        // SAFETY: loading a plugin binary runs its initialisers; it is ours, built for this.
        let library = unsafe { libloading::Library::new(&binary) }
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        // SAFETY: the VST3 module entry points, with their documented signatures.
        let factory = unsafe {
            if let Ok(entry) =
                library.get::<unsafe extern "C" fn(*mut c_void) -> bool>(b"ModuleEntry")
            {
                assert!(entry(ptr::null_mut()), "ModuleEntry failed");
            }
            let get: libloading::Symbol<unsafe extern "system" fn() -> *mut IPluginFactory> =
                library.get(b"GetPluginFactory").expect("GetPluginFactory");
            ComPtr::from_raw(get()).expect("a plugin factory")
        };
        // SAFETY: calls through the factory's vtable with valid pointers.
        let component = unsafe {
            let mut info: PClassInfo = std::mem::zeroed();
            let class = (0..factory.countClasses())
                .find(|&i| {
                    factory.getClassInfo(i, &mut info) == kResultOk
                        && std::ffi::CStr::from_ptr(info.category.as_ptr()).to_bytes()
                            == b"Audio Module Class"
                })
                .expect("an audio module class");
            factory.getClassInfo(class, &mut info);
            let mut object: *mut c_void = ptr::null_mut();
            let result = factory.createInstance(
                info.cid.as_ptr(),
                IComponent::IID.as_ptr() as FIDString,
                &mut object,
            );
            assert_eq!(result, kResultOk, "createInstance");
            ComPtr::<IComponent>::from_raw(object as *mut IComponent).expect("a component")
        };
        let processor = component
            .cast::<IAudioProcessor>()
            .expect("the component is an audio processor");
        let controller = component
            .cast::<IEditController>()
            .expect("the component is its own controller");
        // SAFETY: the VST3 set-up sequence, with valid structures.
        unsafe {
            assert_eq!(component.initialize(ptr::null_mut()), kResultOk);
            let mut setup = ProcessSetup {
                processMode: kRealtime as i32,
                symbolicSampleSize: kSample32 as i32,
                maxSamplesPerBlock: max_block as i32,
                sampleRate: sample_rate,
            };
            assert_eq!(processor.setupProcessing(&mut setup), kResultOk);
            component.activateBus(kAudio as i32, kInput as i32, 0, 1);
            component.activateBus(kAudio as i32, kOutput as i32, 0, 1);
            assert_eq!(component.setActive(1), kResultOk);
            processor.setProcessing(1);
        }
        Self {
            processor,
            component,
            controller,
            changes: ComWrapper::new(ParameterChanges::new()),
            max_block,
            _library: library,
        }
    }

    /// Every parameter's id and flags.
    pub fn params(&self) -> Vec<Vst3Param> {
        // SAFETY: controller calls with valid out-structures.
        unsafe {
            (0..self.controller.getParameterCount())
                .map(|i| {
                    let mut info: ParameterInfo = std::mem::zeroed();
                    assert_eq!(self.controller.getParameterInfo(i, &mut info), kResultOk);
                    let flags = info.flags;
                    Vst3Param {
                        id: info.id,
                        read_only: flags & kIsReadOnly != 0,
                        automatable: flags & kCanAutomate != 0,
                    }
                })
                .collect()
        }
    }

    /// The controller's normalized value of parameter `id`.
    pub fn normalized(&self, id: u32) -> f64 {
        // SAFETY: a plain controller call.
        unsafe { self.controller.getParamNormalized(id) }
    }

    /// Starts or stops processing (`IAudioProcessor::setProcessing`), as a host does around
    /// playback.
    pub fn set_processing(&self, on: bool) {
        // SAFETY: a plain processor call.
        unsafe { self.processor.setProcessing(on as u8) };
    }

    /// Sets parameter `id` through the controller, as a host does from its own UI or when it
    /// passes a reported value on; returns whether the controller accepted the call.
    pub fn set_normalized(&self, id: u32, value: f64) -> bool {
        // SAFETY: a plain controller call.
        unsafe { self.controller.setParamNormalized(id, value) == kResultOk }
    }

    /// The controller's text for normalized `value` of parameter `id` ("-23.0 LUFS").
    pub fn text(&self, id: u32, value: f64) -> String {
        let mut text: String128 = [0; 128];
        // SAFETY: a controller call with a valid out-string.
        let result = unsafe { self.controller.getParamStringByValue(id, value, &mut text) };
        assert_eq!(result, kResultOk, "text of parameter {id}");
        let len = text.iter().position(|&c| c == 0).unwrap_or(text.len());
        String::from_utf16_lossy(&text[..len])
    }

    /// Processes `signal` in blocks of `block` samples (in place) and returns the output
    /// parameter changes as (sample position in the signal, parameter id, normalized value).
    pub fn process(&mut self, signal: &mut [Vec<f32>; 2], block: usize) -> Vec<(usize, u32, f64)> {
        assert!(block <= self.max_block);
        let changes = self
            .changes
            .to_com_ptr::<IParameterChanges>()
            .expect("IParameterChanges");
        let mut reports = Vec::new();
        let len = signal[0].len();
        let mut output = [vec![0.0f32; block], vec![0.0f32; block]];
        let mut start = 0;
        while start < len {
            let n = block.min(len - start);
            let (left, right) = signal.split_at_mut(1);
            let mut inputs = [
                left[0][start..].as_mut_ptr(),
                right[0][start..].as_mut_ptr(),
            ];
            let mut outputs = [output[0].as_mut_ptr(), output[1].as_mut_ptr()];
            let mut input_bus = AudioBusBuffers {
                numChannels: 2,
                silenceFlags: 0,
                __field0: AudioBusBuffers__type0 {
                    channelBuffers32: inputs.as_mut_ptr(),
                },
            };
            let mut output_bus = AudioBusBuffers {
                numChannels: 2,
                silenceFlags: 0,
                __field0: AudioBusBuffers__type0 {
                    channelBuffers32: outputs.as_mut_ptr(),
                },
            };
            let mut data = ProcessData {
                processMode: kRealtime as i32,
                symbolicSampleSize: kSample32 as i32,
                numSamples: n as i32,
                numInputs: 1,
                numOutputs: 1,
                inputs: &mut input_bus,
                outputs: &mut output_bus,
                inputParameterChanges: ptr::null_mut(),
                outputParameterChanges: changes.as_ptr(),
                inputEvents: ptr::null_mut(),
                outputEvents: ptr::null_mut(),
                processContext: ptr::null_mut(),
            };
            // SAFETY: buffers of `n` samples on both buses, alive for the call.
            let result = unsafe { self.processor.process(&mut data) };
            assert_eq!(result, kResultOk, "process");
            for (channel, out) in signal.iter_mut().zip(&output) {
                channel[start..start + n].copy_from_slice(&out[..n]);
            }
            reports.extend(
                self.changes
                    .drain()
                    .into_iter()
                    .map(|(at, id, v)| (start + at as usize, id, v)),
            );
            start += n;
        }
        reports
    }
}

impl Drop for Vst3Instance {
    fn drop(&mut self) {
        // SAFETY: the VST3 tear-down sequence.
        unsafe {
            self.processor.setProcessing(0);
            self.component.setActive(0);
            self.component.terminate();
        }
    }
}
