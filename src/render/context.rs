//! A headless wgpu device for the CLI and tests (the app gets its device from eframe instead).
//!
//! The instance and adapter honour wgpu's environment variables (`WGPU_BACKEND`,
//! `WGPU_ADAPTER_NAME`, `WGPU_POWER_PREF`); the device gets the adapter's own limits, so large
//! buffers and textures are available where the hardware allows them.

use super::RenderError;

/// Environment variable that turns a missing adapter from a skip into a failure (set by CI).
pub const REQUIRE_GPU_ENV: &str = "GROUNDWORK_REQUIRE_GPU";

/// Device, queue and the adapter they came from.
#[derive(Debug)]
pub struct RenderContext {
    /// The wgpu instance.
    pub instance: wgpu::Instance,
    /// The adapter the device was created on.
    pub adapter: wgpu::Adapter,
    /// The device.
    pub device: wgpu::Device,
    /// The device's queue.
    pub queue: wgpu::Queue,
}

impl RenderContext {
    /// Creates a device without any window or display. Blocks until the device is ready.
    ///
    /// # Errors
    /// [`RenderError::NoAdapter`] when no adapter exists, [`RenderError::RequestDevice`] when the
    /// adapter refuses the device.
    pub fn new_headless() -> Result<Self, RenderError> {
        pollster::block_on(Self::new_headless_async())
    }

    /// Async form of [`RenderContext::new_headless`].
    ///
    /// # Errors
    /// As [`RenderContext::new_headless`].
    pub async fn new_headless_async() -> Result<Self, RenderError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = wgpu::util::initialize_adapter_from_env_or_default(&instance, None)
            .await
            .map_err(|e| RenderError::NoAdapter { reason: e.to_string() })?;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("groundwork headless device"),
                required_features: wgpu::Features::empty(),
                required_limits: adapter.limits(),
                ..Default::default()
            })
            .await
            .map_err(|e| RenderError::RequestDevice {
                adapter: describe_adapter(&adapter.get_info()),
                reason: e.to_string(),
            })?;
        Ok(Self { instance, adapter, device, queue })
    }

    /// For tests and optional GPU features: `Ok(None)` when no adapter exists and
    /// `GROUNDWORK_REQUIRE_GPU` is not `1`; the error when it is (so CI fails instead of
    /// skipping); the context otherwise.
    ///
    /// # Errors
    /// Any [`RenderContext::new_headless`] error while `GROUNDWORK_REQUIRE_GPU=1`, and device
    /// creation errors always.
    pub fn new_headless_if_available() -> Result<Option<Self>, RenderError> {
        match Self::new_headless() {
            Ok(context) => Ok(Some(context)),
            Err(RenderError::NoAdapter { .. }) if !gpu_required() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// One line naming the adapter, backend and driver, e.g.
    /// `llvmpipe (LLVM 15.0.6, 256 bits) / Vulkan / driver "llvmpipe" "Mesa 22.3.6 (LLVM 15.0.6)"`.
    pub fn adapter_description(&self) -> String {
        describe_adapter(&self.adapter.get_info())
    }
}

/// True when `GROUNDWORK_REQUIRE_GPU=1`.
pub fn gpu_required() -> bool {
    std::env::var(REQUIRE_GPU_ENV).is_ok_and(|v| v == "1")
}

/// One line describing an adapter (name / backend / driver and driver info).
pub fn describe_adapter(info: &wgpu::AdapterInfo) -> String {
    let mut text = format!("{} / {:?}", info.name, info.backend);
    if !info.driver.is_empty() || !info.driver_info.is_empty() {
        text.push_str(&format!(" / driver {:?} {:?}", info.driver, info.driver_info));
    }
    text
}
