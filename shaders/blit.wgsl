// Texture blit (src/render/blit.rs): copies a colour texture 1:1 onto the current viewport, e.g. a
// 3D view rendered offscreen (with its own depth buffer) into egui's render pass.

@group(0) @binding(0) var source: texture_2d<f32>;

struct VertexOut {
    @builtin(position) position: vec4f,
    @location(0) uv: vec2f,
};

// One triangle covering the whole viewport; uv (0,0) top-left, (1,1) bottom-right.
@vertex
fn vs_main(@builtin(vertex_index) vertex_index: u32) -> VertexOut {
    let corner = vec2f(f32((vertex_index << 1u) & 2u), f32(vertex_index & 2u));
    var out: VertexOut;
    out.position = vec4f(corner.x * 2.0 - 1.0, 1.0 - corner.y * 2.0, 0.0, 1.0);
    out.uv = corner;
    return out;
}

fn load_source(uv: vec2f) -> vec4f {
    let size = vec2f(textureDimensions(source));
    let texel = vec2u(clamp(floor(uv * size), vec2f(0.0), size - 1.0));
    return textureLoad(source, texel, 0);
}

// The source holds display colours; write them unchanged into a non-sRGB target.
@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4f {
    return to_target(load_source(in.uv), 0u);
}

// Same for an sRGB target (the hardware encodes again on write).
@fragment
fn fs_main_srgb(in: VertexOut) -> @location(0) vec4f {
    return to_target(load_source(in.uv), 1u);
}
