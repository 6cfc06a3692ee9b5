// Cuboids (src/render/cuboids.rs): translucent faces, edges as screen-space quads, and a heading
// arrow, all instanced (one instance per cuboid). Keep structs in sync with `gpu_data` there.

struct CuboidsUniform {
    clip_from_local: mat4x4f,
    viewport_px: vec2f,
    edge_width_px: f32,
    face_alpha: f32,
    selected_edge_width_px: f32,
    target_is_srgb: u32,
    _pad: vec2u,
};

@group(0) @binding(0) var<uniform> frame: CuboidsUniform;

struct Instance {
    @location(0) m0: vec4f,
    @location(1) m1: vec4f,
    @location(2) m2: vec4f,
    @location(3) m3: vec4f,
    // x: colour (rgba8), y: flags (bit 0 selected), z: index for picking.
    @location(4) data: vec4u,
};

const FLAG_SELECTED: u32 = 1u;
const PICK_KIND_CUBOID: u32 = 0x80000000u;

// Corner i of the unit cube [-0.5, 0.5]^3: +x if bit 0, +y if bit 1, +z if bit 2
// (as geometry::Cuboid::corners).
fn unit_corner(i: u32) -> vec3f {
    return vec3f(f32(i & 1u), f32((i >> 1u) & 1u), f32((i >> 2u) & 1u)) - vec3f(0.5);
}

// 12 edges (geometry::cuboid::CUBOID_EDGES) + heading arrow (3 segments), as unit-cube points.
fn segment_point(segment: u32, end: u32) -> vec3f {
    var edges = array<vec2u, 12>(
        vec2u(0u, 1u), vec2u(2u, 3u), vec2u(4u, 5u), vec2u(6u, 7u),
        vec2u(0u, 2u), vec2u(1u, 3u), vec2u(4u, 6u), vec2u(5u, 7u),
        vec2u(0u, 4u), vec2u(1u, 5u), vec2u(2u, 6u), vec2u(3u, 7u),
    );
    if segment < 12u {
        let e = edges[segment];
        return unit_corner(select(e.x, e.y, end == 1u));
    }
    // Arrow from the centre to the front (+x) face, with a head in the box's xy-plane.
    let tip = vec3f(0.5, 0.0, 0.0);
    if segment == 12u {
        return select(vec3f(0.0), tip, end == 1u);
    }
    let side = select(-0.25, 0.25, segment == 13u);
    return select(vec3f(0.25, side, 0.0), tip, end == 1u);
}

const SEGMENTS: u32 = 15u;

fn model(inst: Instance) -> mat4x4f {
    return mat4x4f(inst.m0, inst.m1, inst.m2, inst.m3);
}

struct EdgeOut {
    @builtin(position) position: vec4f,
    @location(0) color: vec4f,
};

// Moves a clip-space endpoint that lies behind the near plane (z < 0) onto it.
fn clip_to_near(a: vec4f, b: vec4f) -> vec4f {
    if a.z >= 0.0 {
        return a;
    }
    let t = a.z / (a.z - b.z);
    return mix(a, b, t);
}

@vertex
fn vs_edge(@builtin(vertex_index) vertex_index: u32, inst: Instance) -> EdgeOut {
    var out: EdgeOut;
    let segment = vertex_index / 6u;
    let corner = vertex_index % 6u;
    let m = frame.clip_from_local * model(inst);
    var a = m * vec4f(segment_point(segment, 0u), 1.0);
    var b = m * vec4f(segment_point(segment, 1u), 1.0);
    out.color = unpack4x8unorm(inst.data.x);
    if (a.z < 0.0 && b.z < 0.0) || segment >= SEGMENTS {
        out.position = CLIPPED_AWAY;
        return out;
    }
    let a2 = clip_to_near(a, b);
    let b2 = clip_to_near(b, a);
    a = a2;
    b = b2;
    let half_viewport = frame.viewport_px * 0.5;
    let sa = a.xy / a.w * half_viewport;
    let sb = b.xy / b.w * half_viewport;
    var dir = sb - sa;
    let len = length(dir);
    dir = select(vec2f(1.0, 0.0), dir / len, len > 1e-6);
    let normal = vec2f(-dir.y, dir.x);
    let selected = (inst.data.y & FLAG_SELECTED) != 0u;
    let half_width = 0.5 * select(frame.edge_width_px, frame.selected_edge_width_px, selected);
    // Two triangles: (0,1,2) (2,1,3) over corners 0:a-n 1:a+n 2:b-n 3:b+n, square caps.
    var quad = array<u32, 6>(0u, 1u, 2u, 2u, 1u, 3u);
    let q = quad[corner];
    let at_b = q >= 2u;
    let side = select(-1.0, 1.0, (q & 1u) == 1u);
    let base = select(a, b, at_b);
    let along = select(-dir, dir, at_b);
    let offset_px = (normal * side + along) * half_width;
    out.position = vec4f(base.xy + offset_px / half_viewport * base.w, base.z, base.w);
    return out;
}

@fragment
fn fs_edge(in: EdgeOut) -> @location(0) vec4f {
    return to_target(vec4f(in.color.rgb, 1.0), frame.target_is_srgb);
}

struct FaceOut {
    @builtin(position) position: vec4f,
    @location(0) color: vec4f,
    @location(1) @interpolate(flat) index: u32,
};

@vertex
fn vs_face(@builtin(vertex_index) vertex_index: u32, inst: Instance) -> FaceOut {
    // 6 faces × 2 triangles, as corner indices.
    var corners = array<u32, 36>(
        0u, 2u, 1u, 1u, 2u, 3u, // -z
        4u, 5u, 6u, 6u, 5u, 7u, // +z
        0u, 1u, 4u, 4u, 1u, 5u, // -y
        2u, 6u, 3u, 3u, 6u, 7u, // +y
        0u, 4u, 2u, 2u, 4u, 6u, // -x
        1u, 3u, 5u, 5u, 3u, 7u, // +x
    );
    var out: FaceOut;
    let local = unit_corner(corners[vertex_index % 36u]);
    out.position = frame.clip_from_local * model(inst) * vec4f(local, 1.0);
    let color = unpack4x8unorm(inst.data.x);
    out.color = vec4f(color.rgb, color.a * frame.face_alpha);
    out.index = inst.data.z;
    return out;
}

@fragment
fn fs_face(in: FaceOut) -> @location(0) vec4f {
    return to_target(in.color, frame.target_is_srgb);
}

@fragment
fn fs_face_pick(in: FaceOut) -> @location(0) u32 {
    return PICK_KIND_CUBOID | in.index;
}
