// 2D overlays (src/render/overlay.rs) in image pixels, placed by the view's pan/zoom:
// translucent fills (triangles), lines (instanced screen-space quads with a 1-pixel antialiased
// edge) and keypoints/handles (instanced quads shaded as discs or squares).
// Keep structs in sync with `gpu_data` there.

struct OverlayUniform {
    // screen_px = image_px * scale + offset
    scale: vec2f,
    offset: vec2f,
    viewport_px: vec2f,
    target_is_srgb: u32,
    _pad: u32,
};

@group(0) @binding(0) var<uniform> frame: OverlayUniform;

fn screen_from_image(image_px: vec2f) -> vec2f {
    return image_px * frame.scale + frame.offset;
}

fn clip_from_screen(screen_px: vec2f) -> vec4f {
    let ndc = vec2f(screen_px.x / frame.viewport_px.x * 2.0 - 1.0, 1.0 - screen_px.y / frame.viewport_px.y * 2.0);
    return vec4f(ndc, 0.0, 1.0);
}

struct FillOut {
    @builtin(position) position: vec4f,
    @location(0) color: vec4f,
};

@vertex
fn vs_fill(@location(0) position: vec2f, @location(1) color: vec4f) -> FillOut {
    var out: FillOut;
    out.position = clip_from_screen(screen_from_image(position));
    out.color = color;
    return out;
}

@fragment
fn fs_fill(in: FillOut) -> @location(0) vec4f {
    return to_target(in.color, frame.target_is_srgb);
}

struct LineOut {
    @builtin(position) position: vec4f,
    @location(0) color: vec4f,
    // Signed distance from the centre line across the line, in pixels.
    @location(1) across_px: f32,
    @location(2) @interpolate(flat) half_width_px: f32,
};

@vertex
fn vs_line(
    @builtin(vertex_index) vertex_index: u32,
    @location(0) a: vec2f,
    @location(1) b: vec2f,
    @location(2) color: vec4f,
    @location(3) width_px: f32,
) -> LineOut {
    let sa = screen_from_image(a);
    let sb = screen_from_image(b);
    var dir = sb - sa;
    let len = length(dir);
    dir = select(vec2f(1.0, 0.0), dir / len, len > 1e-6);
    let normal = vec2f(-dir.y, dir.x);
    let half_width = 0.5 * width_px;
    // Half a pixel more across for the antialiased edge; square caps along.
    let extent = half_width + 0.5;
    var quad = array<u32, 6>(0u, 1u, 2u, 2u, 1u, 3u);
    let q = quad[vertex_index % 6u];
    let at_b = q >= 2u;
    let side = select(-1.0, 1.0, (q & 1u) == 1u);
    let base = select(sa, sb, at_b);
    let along = select(-dir, dir, at_b) * half_width;
    var out: LineOut;
    out.position = clip_from_screen(base + normal * side * extent + along);
    out.color = color;
    out.across_px = side * extent;
    out.half_width_px = half_width;
    return out;
}

@fragment
fn fs_line(in: LineOut) -> @location(0) vec4f {
    let coverage = clamp(in.half_width_px + 0.5 - abs(in.across_px), 0.0, 1.0);
    return to_target(vec4f(in.color.rgb, in.color.a * coverage), frame.target_is_srgb);
}

struct PointOut {
    @builtin(position) position: vec4f,
    @location(0) fill: vec4f,
    @location(1) stroke: vec4f,
    @location(2) offset_px: vec2f,
    @location(3) @interpolate(flat) params: vec3f, // radius_px, stroke_px, shape (0 disc, 1 square)
};

@vertex
fn vs_point(
    @builtin(vertex_index) vertex_index: u32,
    @location(0) center: vec2f,
    @location(1) fill: vec4f,
    @location(2) stroke: vec4f,
    @location(3) params: vec3f,
) -> PointOut {
    let corner = vec2f(f32(vertex_index & 1u), f32(vertex_index >> 1u)) * 2.0 - 1.0;
    let extent = params.x + 0.5;
    var out: PointOut;
    out.offset_px = corner * extent;
    out.position = clip_from_screen(screen_from_image(center) + out.offset_px);
    out.fill = fill;
    out.stroke = stroke;
    out.params = params;
    return out;
}

@fragment
fn fs_point(in: PointOut) -> @location(0) vec4f {
    let radius = in.params.x;
    let stroke_px = in.params.y;
    let d = select(length(in.offset_px), max(abs(in.offset_px.x), abs(in.offset_px.y)), in.params.z > 0.5);
    let coverage = clamp(radius + 0.5 - d, 0.0, 1.0);
    let t = select(0.0, clamp(d - (radius - stroke_px) + 0.5, 0.0, 1.0), stroke_px > 0.0);
    let color = mix(in.fill, in.stroke, t);
    return to_target(vec4f(color.rgb, color.a * coverage), frame.target_is_srgb);
}
