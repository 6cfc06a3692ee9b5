//! Image work off the UI thread: decode, cut into GPU-sized tiles, and re-render the tiles with
//! brightness and contrast. The UI thread only uploads the finished tiles.

use std::sync::Arc;

use egui::{ColorImage, Rect, pos2};
use image::RgbaImage;

/// Tile edge in pixels: well inside every GPU's texture limit.
pub const TILE_PX: u32 = 2048;

/// A decoded image and its tiles, ready to upload.
#[derive(Clone)]
pub struct DecodedImage {
    /// The pixels as decoded (kept to re-render brightness and contrast).
    pub original: Arc<RgbaImage>,
    /// Tiles (image-pixel rectangle, pixels).
    pub tiles: Vec<(Rect, ColorImage)>,
}

impl std::fmt::Debug for DecodedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedImage")
            .field("size", &self.original.dimensions())
            .field("tiles", &self.tiles.len())
            .finish()
    }
}

/// Decodes PNG or JPEG bytes (`name` for the message) and cuts them into tiles.
pub fn decode(bytes: &[u8], name: &str) -> Result<DecodedImage, String> {
    let image = image::load_from_memory(bytes)
        .map_err(|e| format!("{name}: not a readable image: {e}"))?
        .into_rgba8();
    let original = Arc::new(image);
    let tiles = tiles(&original, 0.0, 1.0);
    Ok(DecodedImage { original, tiles })
}

/// The lookup table of a brightness offset (−1…1) and contrast factor, around mid-grey.
fn lut(brightness: f32, contrast: f32) -> [u8; 256] {
    let mut table = [0u8; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let v = ((i as f32 / 255.0 - 0.5) * contrast + 0.5 + brightness) * 255.0;
        *slot = v.round().clamp(0.0, 255.0) as u8;
    }
    table
}

/// Cuts `image` into tiles of at most [`TILE_PX`], applying brightness and contrast.
pub fn tiles(image: &RgbaImage, brightness: f32, contrast: f32) -> Vec<(Rect, ColorImage)> {
    let identity = brightness == 0.0 && contrast == 1.0;
    let table = lut(brightness, contrast);
    let (width, height) = image.dimensions();
    let mut out = Vec::new();
    let raw = image.as_raw();
    for ty in (0..height).step_by(TILE_PX as usize) {
        for tx in (0..width).step_by(TILE_PX as usize) {
            let tw = TILE_PX.min(width - tx);
            let th = TILE_PX.min(height - ty);
            let mut rgba = Vec::with_capacity(tw as usize * th as usize * 4);
            for y in ty..ty + th {
                let start = (y as usize * width as usize + tx as usize) * 4;
                let Some(row) = raw.get(start..start + tw as usize * 4) else { continue };
                if identity {
                    rgba.extend_from_slice(row);
                } else {
                    rgba.extend(row.chunks_exact(4).flat_map(|p| {
                        [
                            table[usize::from(p[0])],
                            table[usize::from(p[1])],
                            table[usize::from(p[2])],
                            p[3],
                        ]
                    }));
                }
            }
            let rect = Rect::from_min_max(
                pos2(tx as f32, ty as f32),
                pos2((tx + tw) as f32, (ty + th) as f32),
            );
            out.push((rect, ColorImage::from_rgba_unmultiplied([tw as usize, th as usize], &rgba)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn large_images_are_tiled_and_adjusted() {
        let image = RgbaImage::from_pixel(TILE_PX + 10, 20, image::Rgba([100, 128, 200, 255]));
        let t = tiles(&image, 0.0, 1.0);
        assert_eq!(t.len(), 2);
        assert_eq!(
            t[1].0,
            Rect::from_min_max(pos2(TILE_PX as f32, 0.0), pos2(TILE_PX as f32 + 10.0, 20.0))
        );
        assert_eq!(t[1].1.size, [10, 20]);
        let brighter = tiles(&image, 0.2, 1.0);
        assert!(brighter[0].1.pixels[0].r() > t[0].1.pixels[0].r());
        let flat = tiles(&image, 0.0, 0.0);
        assert_eq!(flat[0].1.pixels[0].r(), 128);
    }
}
