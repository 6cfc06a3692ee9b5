// Point clouds (src/render/points.rs). Each point is one instance of a 4-vertex triangle strip,
// expanded in screen space to `point_size_px` (PointList would only ever draw 1-pixel points).
// Keep the structs and constants in sync with `gpu_data` in points.rs.

struct PointsUniform {
    clip_from_local: mat4x4f,
    viewport_px: vec2f,
    point_size_px: f32,
    color_mode: u32,
    // Intensity range (raw u16 values) or height range (local z), mapped to 0..1.
    value_range: vec2f,
    round_points: u32,
    target_is_srgb: u32,
};

struct ChunkUniform {
    // Index (in GPU order) of the chunk's first point.
    first_point: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
};

const COLOR_INTENSITY: u32 = 0u;
const COLOR_HEIGHT: u32 = 1u;
const COLOR_RGB: u32 = 2u;
const COLOR_CLASSIFICATION: u32 = 3u;
// Anything else: COLOR_LABEL.
const PALETTE_WIDTH: u32 = 1024u;
const PALETTE_ROW_CLASSIFICATION: u32 = 0u;
const PALETTE_ROW_LABEL: u32 = 1u;
// Picking ids: kind in the top two bits (see render::picking).
const PICK_KIND_POINT: u32 = 0x40000000u;

@group(0) @binding(0) var<uniform> frame: PointsUniform;
@group(0) @binding(1) var palette: texture_2d<f32>;
@group(1) @binding(0) var<uniform> chunk: ChunkUniform;

struct VertexOut {
    @builtin(position) position: vec4f,
    @location(0) color: vec4f,
    @location(1) corner: vec2f,
    @location(2) @interpolate(flat) point_index: u32,
};

fn unit_range(value: f32) -> f32 {
    let span = frame.value_range.y - frame.value_range.x;
    let t = clamp((value - frame.value_range.x) / span, 0.0, 1.0);
    return select(t, 0.5, abs(span) < 1e-20);
}

// attributes.x = r | g << 8 | b << 16 | classification << 24; attributes.y = intensity (u16).
fn point_color(position: vec3f, attributes: vec2u, label: u32) -> vec4f {
    switch frame.color_mode {
        case COLOR_INTENSITY: {
            return vec4f(vec3f(unit_range(f32(attributes.y & 0xffffu))), 1.0);
        }
        case COLOR_HEIGHT: {
            return vec4f(height_color(unit_range(position.z)), 1.0);
        }
        case COLOR_RGB: {
            return vec4f(unpack4x8unorm(attributes.x).rgb, 1.0);
        }
        case COLOR_CLASSIFICATION: {
            let code = attributes.x >> 24u;
            return textureLoad(palette, vec2u(code, PALETTE_ROW_CLASSIFICATION), 0);
        }
        default: {
            return textureLoad(palette, vec2u(label % PALETTE_WIDTH, PALETTE_ROW_LABEL), 0);
        }
    }
}

@vertex
fn vs_main(
    @builtin(vertex_index) vertex_index: u32,
    @builtin(instance_index) instance_index: u32,
    @location(0) position: vec3f,
    @location(1) attributes: vec2u,
    @location(2) label: u32,
) -> VertexOut {
    var out: VertexOut;
    let color = point_color(position, attributes, label);
    out.point_index = chunk.first_point + instance_index;
    out.color = color;
    let corner = vec2f(f32(vertex_index & 1u), f32(vertex_index >> 1u)) * 2.0 - 1.0;
    out.corner = corner;
    // A palette entry with alpha 0 hides the point (class or label switched off).
    if color.a <= 0.0 {
        out.position = CLIPPED_AWAY;
        return out;
    }
    let center = frame.clip_from_local * vec4f(position, 1.0);
    // corner · size/2 pixels, in NDC units (2 / viewport per pixel), scaled by w.
    let offset_ndc = corner * frame.point_size_px / frame.viewport_px;
    out.position = vec4f(center.xy + offset_ndc * center.w, center.z, center.w);
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4f {
    if frame.round_points != 0u && dot(in.corner, in.corner) > 1.0 {
        discard;
    }
    return to_target(vec4f(in.color.rgb, 1.0), frame.target_is_srgb);
}

@fragment
fn fs_pick(in: VertexOut) -> @location(0) u32 {
    if frame.round_points != 0u && dot(in.corner, in.corner) > 1.0 {
        discard;
    }
    return PICK_KIND_POINT | in.point_index;
}

// Fast path for points of at most one pixel: PointList topology, one vertex per point (the
// attribute buffers step per vertex instead of per instance).
@vertex
fn vs_single_pixel(
    @builtin(vertex_index) vertex_index: u32,
    @location(0) position: vec3f,
    @location(1) attributes: vec2u,
    @location(2) label: u32,
) -> VertexOut {
    var out: VertexOut;
    let color = point_color(position, attributes, label);
    out.point_index = chunk.first_point + vertex_index;
    out.color = color;
    out.corner = vec2f(0.0);
    if color.a <= 0.0 {
        out.position = CLIPPED_AWAY;
        return out;
    }
    out.position = frame.clip_from_local * vec4f(position, 1.0);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Colour passes, one entry point per colour mode. Each reads only the vertex buffers its mode
// needs (height: positions alone) and passes only the colour on, flat and packed into one u32
// (the display colour at the 8 bits a channel the target stores): a software rasterizer pays
// per attribute fetched and per varying component it carries from vertex to fragment (lavapipe
// at 1M one-pixel points: 4 float components cost ~25% of the frame, one u32 ~15%). Picking
// keeps the general entry points above. The Rust side binds positions in slot 0 and, when the
// mode needs one, the attribute or label buffer in slot 1.

struct FlatOut {
    @builtin(position) position: vec4f,
    @location(0) @interpolate(flat) color: u32,
};

struct QuadOut {
    @builtin(position) position: vec4f,
    @location(0) @interpolate(flat) color: u32,
    @location(1) corner: vec2f,
};

fn color_height(position: vec3f) -> vec4f {
    return vec4f(height_color(unit_range(position.z)), 1.0);
}

fn color_intensity(attributes: vec2u) -> vec4f {
    return vec4f(vec3f(unit_range(f32(attributes.y & 0xffffu))), 1.0);
}

fn color_rgb(attributes: vec2u) -> vec4f {
    return vec4f(unpack4x8unorm(attributes.x).rgb, 1.0);
}

fn color_classification(attributes: vec2u) -> vec4f {
    return textureLoad(palette, vec2u(attributes.x >> 24u, PALETTE_ROW_CLASSIFICATION), 0);
}

fn color_label(label: u32) -> vec4f {
    return textureLoad(palette, vec2u(label % PALETTE_WIDTH, PALETTE_ROW_LABEL), 0);
}

fn flat_out(position: vec3f, color: vec4f) -> FlatOut {
    var out: FlatOut;
    out.color = pack4x8unorm(vec4f(color.rgb, 1.0));
    out.position = select(frame.clip_from_local * vec4f(position, 1.0), CLIPPED_AWAY, color.a <= 0.0);
    return out;
}

fn quad_out(position: vec3f, color: vec4f, vertex_index: u32) -> QuadOut {
    var out: QuadOut;
    out.color = pack4x8unorm(vec4f(color.rgb, 1.0));
    let corner = vec2f(f32(vertex_index & 1u), f32(vertex_index >> 1u)) * 2.0 - 1.0;
    out.corner = corner;
    let center = frame.clip_from_local * vec4f(position, 1.0);
    let offset_ndc = corner * frame.point_size_px / frame.viewport_px;
    let placed = vec4f(center.xy + offset_ndc * center.w, center.z, center.w);
    out.position = select(placed, CLIPPED_AWAY, color.a <= 0.0);
    return out;
}

@vertex
fn vs_pixel_height(@location(0) position: vec3f) -> FlatOut {
    return flat_out(position, color_height(position));
}

@vertex
fn vs_pixel_intensity(@location(0) position: vec3f, @location(1) attributes: vec2u) -> FlatOut {
    return flat_out(position, color_intensity(attributes));
}

@vertex
fn vs_pixel_rgb(@location(0) position: vec3f, @location(1) attributes: vec2u) -> FlatOut {
    return flat_out(position, color_rgb(attributes));
}

@vertex
fn vs_pixel_classification(@location(0) position: vec3f, @location(1) attributes: vec2u) -> FlatOut {
    return flat_out(position, color_classification(attributes));
}

@vertex
fn vs_pixel_label(@location(0) position: vec3f, @location(2) label: u32) -> FlatOut {
    return flat_out(position, color_label(label));
}

@vertex
fn vs_quad_height(@builtin(vertex_index) v: u32, @location(0) position: vec3f) -> QuadOut {
    return quad_out(position, color_height(position), v);
}

@vertex
fn vs_quad_intensity(
    @builtin(vertex_index) v: u32,
    @location(0) position: vec3f,
    @location(1) attributes: vec2u,
) -> QuadOut {
    return quad_out(position, color_intensity(attributes), v);
}

@vertex
fn vs_quad_rgb(
    @builtin(vertex_index) v: u32,
    @location(0) position: vec3f,
    @location(1) attributes: vec2u,
) -> QuadOut {
    return quad_out(position, color_rgb(attributes), v);
}

@vertex
fn vs_quad_classification(
    @builtin(vertex_index) v: u32,
    @location(0) position: vec3f,
    @location(1) attributes: vec2u,
) -> QuadOut {
    return quad_out(position, color_classification(attributes), v);
}

@vertex
fn vs_quad_label(@builtin(vertex_index) v: u32, @location(0) position: vec3f, @location(2) label: u32) -> QuadOut {
    return quad_out(position, color_label(label), v);
}

@fragment
fn fs_flat(in: FlatOut) -> @location(0) vec4f {
    return target_color(in.color);
}

@fragment
fn fs_quad(in: QuadOut) -> @location(0) vec4f {
    if frame.round_points != 0u && dot(in.corner, in.corner) > 1.0 {
        discard;
    }
    return target_color(in.color);
}

// Set by the colour pipelines from their target format: true for an sRGB target.
override SRGB_TARGET: bool = false;

// A packed display colour as the target needs it (linearised for sRGB targets, whose hardware
// encodes it again); the branch is resolved when the pipeline is built.
fn target_color(packed: u32) -> vec4f {
    let display = unpack4x8unorm(packed);
    if SRGB_TARGET {
        return vec4f(linear_from_srgb(display.rgb), 1.0);
    }
    return display;
}
