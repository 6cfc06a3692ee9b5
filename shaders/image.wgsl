// Image tiles (src/render/image.rs): each tile is a textured rectangle in image pixels, placed on
// screen by the view's pan/zoom. Keep structs in sync with `gpu_data` there.

struct ImageUniform {
    // screen_px = image_px * scale + offset
    scale: vec2f,
    offset: vec2f,
    viewport_px: vec2f,
    target_is_srgb: u32,
    _pad: u32,
};

struct TileUniform {
    // Image-pixel rectangle the tile covers: (x0, y0, x1, y1).
    rect_px: vec4f,
    // Texture coordinates of that rectangle: (u0, v0, u1, v1).
    uv_rect: vec4f,
};

@group(0) @binding(0) var<uniform> frame: ImageUniform;
@group(1) @binding(0) var image_sampler: sampler;
@group(2) @binding(0) var tile_texture: texture_2d<f32>;
@group(2) @binding(1) var<uniform> tile: TileUniform;

struct VertexOut {
    @builtin(position) position: vec4f,
    @location(0) uv: vec2f,
};

@vertex
fn vs_main(@builtin(vertex_index) vertex_index: u32) -> VertexOut {
    let corner = vec2f(f32(vertex_index & 1u), f32(vertex_index >> 1u));
    let image_px = mix(tile.rect_px.xy, tile.rect_px.zw, corner);
    let screen_px = image_px * frame.scale + frame.offset;
    let ndc = vec2f(screen_px.x / frame.viewport_px.x * 2.0 - 1.0, 1.0 - screen_px.y / frame.viewport_px.y * 2.0);
    var out: VertexOut;
    out.position = vec4f(ndc, 0.0, 1.0);
    out.uv = mix(tile.uv_rect.xy, tile.uv_rect.zw, corner);
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4f {
    // The texture is *Srgb, so sampling (and mip filtering) happens on linear values.
    let linear = textureSample(tile_texture, image_sampler, in.uv);
    if frame.target_is_srgb != 0u {
        return linear;
    }
    return vec4f(srgb_from_linear(linear.rgb), linear.a);
}
