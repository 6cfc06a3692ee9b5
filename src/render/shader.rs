//! WGSL sources, embedded with `include_str!`. `shaders/common.wgsl` (colour helpers) is a library
//! prepended to every renderer's file; [`ALL`] lists what the renderers compile, so a test can
//! validate exactly that with naga.

/// Shared WGSL functions (sRGB conversion, output colour handling, colour maps).
pub const COMMON: &str = include_str!("../../shaders/common.wgsl");

macro_rules! with_common {
    ($file:literal) => {
        concat!(include_str!("../../shaders/common.wgsl"), "\n", include_str!($file))
    };
}

/// Point clouds (`shaders/points.wgsl`).
pub const POINTS: &str = with_common!("../../shaders/points.wgsl");
/// Cuboid edges, faces and heading arrows (`shaders/cuboids.wgsl`).
pub const CUBOIDS: &str = with_common!("../../shaders/cuboids.wgsl");
/// Image tiles (`shaders/image.wgsl`).
pub const IMAGE: &str = with_common!("../../shaders/image.wgsl");
/// 2D overlays: fills, lines, keypoints (`shaders/overlay.wgsl`).
pub const OVERLAY: &str = with_common!("../../shaders/overlay.wgsl");

/// Every composed shader, by the file name of its renderer part.
pub const ALL: [(&str, &str); 4] = [
    ("points.wgsl", POINTS),
    ("cuboids.wgsl", CUBOIDS),
    ("image.wgsl", IMAGE),
    ("overlay.wgsl", OVERLAY),
];

/// Creates a shader module from one of the composed sources.
pub(crate) fn module(device: &wgpu::Device, label: &str, source: &str) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    })
}
