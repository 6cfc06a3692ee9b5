//! A minimal writer for 8-bit palette PNGs, the form of Ground Truth's semantic-segmentation masks
//! (the real mask `testdata/gt-conversion-kit/img1_annotated.png` is an 8-bit colormap PNG). The
//! `image` crate writes only RGB(A)/grey PNGs, so the few chunks are written here; the zlib stream
//! comes from flate2.

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;

/// The eight bytes every PNG starts with.
const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

/// Encodes a `width_px × height_px` image whose pixels are indices into `palette` (row-major,
/// top row first) as an 8-bit indexed PNG without transparency.
///
/// Errors (as `InvalidInput`) when the sizes disagree, the palette is empty or longer than 256
/// entries, or an index has no palette entry.
pub(crate) fn encode_indexed(
    width_px: u32,
    height_px: u32,
    palette: &[[u8; 3]],
    indices: &[u8],
) -> std::io::Result<Vec<u8>> {
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
    let row_len = usize::try_from(width_px).map_err(|e| invalid(e.to_string()))?;
    let rows = usize::try_from(height_px).map_err(|e| invalid(e.to_string()))?;
    if width_px == 0 || height_px == 0 || row_len.checked_mul(rows) != Some(indices.len()) {
        return Err(invalid(format!(
            "{} indices for a {width_px}x{height_px} image",
            indices.len()
        )));
    }
    if palette.is_empty() || palette.len() > 256 {
        return Err(invalid(format!("a palette has 1 to 256 entries, not {}", palette.len())));
    }
    if let Some(bad) = indices.iter().find(|&&i| usize::from(i) >= palette.len()) {
        return Err(invalid(format!("index {bad} is past the {}-entry palette", palette.len())));
    }

    let mut png = Vec::with_capacity(indices.len() / 8 + 1024);
    png.extend_from_slice(&SIGNATURE);

    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width_px.to_be_bytes());
    header.extend_from_slice(&height_px.to_be_bytes());
    // Bit depth 8, colour type 3 (palette), deflate, adaptive filtering, no interlace.
    header.extend_from_slice(&[8, 3, 0, 0, 0]);
    write_chunk(&mut png, b"IHDR", &header);

    let plte: Vec<u8> = palette.iter().flatten().copied().collect();
    write_chunk(&mut png, b"PLTE", &plte);

    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
    for row in indices.chunks(row_len) {
        zlib.write_all(&[0])?; // filter type None: masks are flat, deflate does the work
        zlib.write_all(row)?;
    }
    write_chunk(&mut png, b"IDAT", &zlib.finish()?);
    write_chunk(&mut png, b"IEND", &[]);
    Ok(png)
}

/// Appends one chunk: length, type, data, CRC-32 of type and data.
fn write_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // Callers pass at most a 256-entry palette or a zlib stream of an image that fits in memory;
    // PNG caps chunks at 2^31 − 1 bytes, which a `u32` length always covers for such data.
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    png.extend_from_slice(&len.to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(crc32(u32::MAX, kind), data) ^ u32::MAX;
    png.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (ISO 3309, polynomial 0xEDB88320) table.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// Continues a CRC-32 register (start with `u32::MAX`, finish by xor with `u32::MAX`).
fn crc32(mut crc: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        crc = CRC_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn crc_of_iend_is_the_well_known_value() {
        // Every PNG ends with IEND and CRC ae 42 60 82.
        assert_eq!(crc32(u32::MAX, b"IEND") ^ u32::MAX, 0xae42_6082);
        assert_eq!(crc32(u32::MAX, b"123456789") ^ u32::MAX, 0xcbf4_3926);
    }

    #[test]
    fn the_image_crate_reads_it_back() {
        let palette = [[255, 255, 255], [44, 160, 44], [31, 119, 180]];
        let indices = [0, 1, 2, 1, 0, 2];
        let png = encode_indexed(3, 2, &palette, &indices).unwrap();
        let rgb =
            image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap().to_rgb8();
        assert_eq!(rgb.dimensions(), (3, 2));
        for (pixel, index) in rgb.pixels().zip(indices) {
            assert_eq!(pixel.0, palette[usize::from(index)]);
        }
    }

    #[test]
    fn inconsistent_input_is_refused() {
        assert!(encode_indexed(2, 2, &[[0, 0, 0]], &[0, 0, 0]).is_err());
        assert!(encode_indexed(1, 1, &[[0, 0, 0]], &[1]).is_err());
        assert!(encode_indexed(1, 1, &[], &[0]).is_err());
        assert!(encode_indexed(0, 0, &[[0, 0, 0]], &[]).is_err());
    }
}
