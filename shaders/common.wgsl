// Shared helpers, prepended to every renderer's shader (see src/render/shader.rs).
// Colours are "display" colours: sRGB-encoded, as in image files and egui.

fn srgb_from_linear(linear: vec3f) -> vec3f {
    let c = clamp(linear, vec3f(0.0), vec3f(1.0));
    let lo = c * 12.92;
    let hi = 1.055 * pow(c, vec3f(1.0 / 2.4)) - 0.055;
    return select(hi, lo, c <= vec3f(0.0031308));
}

fn linear_from_srgb(srgb: vec3f) -> vec3f {
    let c = clamp(srgb, vec3f(0.0), vec3f(1.0));
    let lo = c / 12.92;
    let hi = pow((c + 0.055) / 1.055, vec3f(2.4));
    return select(hi, lo, c <= vec3f(0.04045));
}

// A display colour as it must be written to the target: unchanged for non-sRGB targets,
// linearised for sRGB targets (the hardware encodes it again on write).
fn to_target(display: vec4f, target_is_srgb: u32) -> vec4f {
    if target_is_srgb != 0u {
        return vec4f(linear_from_srgb(display.rgb), display.a);
    }
    return display;
}

// Height colour map: blue, cyan, green, yellow, red at t = 0, 1/4, 1/2, 3/4, 1 (piecewise
// linear, branch-free: it runs once per point). Mirrored by `render::points::height_color`.
fn height_color(t_in: f32) -> vec3f {
    let t = clamp(t_in, 0.0, 1.0) * 4.0;
    return clamp(vec3f(t - 2.0, min(t, 4.0 - t), 2.0 - t), vec3f(0.0), vec3f(1.0));
}

// Clip-space position of a point that every rasterizer discards (behind the near plane).
const CLIPPED_AWAY: vec4f = vec4f(0.0, 0.0, -2.0, 1.0);
