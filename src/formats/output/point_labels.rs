//! 3D point-cloud semantic-segmentation label files (spec §5.15): a zlib stream (RFC 1950, what
//! Python's `zlib.decompress` reads) of one unsigned 8-bit class index per point, in the order of
//! the points in the input frame. Each value is a key of the output metadata's `color-map`.
//!
//! Decoding is bounded: it never inflates more than the caller's point count (or
//! [`MAX_POINTS`]), so a small hostile file cannot exhaust memory.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;

use crate::formats::error::{FormatError, Location};

/// The most labels [`decode`] inflates when the caller does not give a point count
/// (a frame of 100 million points, a hundred times AWS's recommended maximum).
pub const MAX_POINTS: usize = 100_000_000;

/// Compresses per-point class indices into the zlib label-file bytes.
pub fn encode(labels: &[u8]) -> Vec<u8> {
    let mut encoder =
        ZlibEncoder::new(Vec::with_capacity(labels.len() / 8 + 64), Compression::default());
    // Writing into a Vec cannot fail; the only possible errors come from the sink.
    encoder.write_all(labels).and_then(|()| encoder.finish()).unwrap_or_default()
}

/// Inflates a label file. With `expected_points`, the result must have exactly that many labels;
/// without, at most [`MAX_POINTS`]. `file` names the source in errors.
pub fn decode(
    bytes: &[u8],
    expected_points: Option<usize>,
    file: &str,
) -> Result<Vec<u8>, FormatError> {
    let limit = expected_points.unwrap_or(MAX_POINTS);
    let mut labels = Vec::with_capacity(expected_points.unwrap_or(0).min(MAX_POINTS));
    let mut decoder = ZlibDecoder::new(bytes).take(limit as u64 + 1);
    decoder.read_to_end(&mut labels).map_err(|e| {
        FormatError::invalid(Location::file(file), format!("not a valid zlib label file: {e}"))
    })?;
    if labels.len() > limit {
        let message = match expected_points {
            Some(n) => format!("the label file has more labels than the frame's {n} points"),
            None => format!("the label file has more than {MAX_POINTS} labels"),
        };
        return Err(FormatError::invalid(Location::file(file), message));
    }
    if let Some(n) = expected_points
        && labels.len() != n
    {
        return Err(FormatError::invalid(
            Location::file(file),
            format!("the label file has {} labels but the frame has {n} points", labels.len()),
        ));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn round_trip_and_header() {
        let labels: Vec<u8> = (0..10_000u32).map(|i| (i % 7) as u8).collect();
        let bytes = encode(&labels);
        // RFC 1950 header: CM = 8 (deflate), and the check bits make CMF*256+FLG a multiple of 31.
        assert_eq!(bytes[0] & 0x0f, 8);
        assert_eq!((u16::from(bytes[0]) * 256 + u16::from(bytes[1])) % 31, 0);
        assert!(bytes.len() < labels.len() / 10);
        assert_eq!(decode(&bytes, Some(labels.len()), "m.zlib").unwrap(), labels);
        assert_eq!(decode(&bytes, None, "m.zlib").unwrap(), labels);
        assert_eq!(decode(&encode(&[]), Some(0), "e").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn decodes_a_stream_written_by_python_zlib() {
        // zlib.compress(bytes([0, 1, 1, 2, 0])) in CPython 3.
        let python = [0x78, 0x9c, 0x63, 0x60, 0x64, 0x64, 0x62, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05];
        assert_eq!(decode(&python, Some(5), "py.zlib").unwrap(), vec![0, 1, 1, 2, 0]);
    }

    #[test]
    fn bad_files_are_errors() {
        let e = decode(b"not zlib at all", None, "bad.zlib").unwrap_err().to_string();
        assert!(e.starts_with("bad.zlib: not a valid zlib label file"), "{e}");
        let bytes = encode(&[1; 100]);
        let e = decode(&bytes, Some(99), "m.zlib").unwrap_err().to_string();
        assert!(e.contains("more labels than the frame's 99 points"), "{e}");
        let e = decode(&bytes, Some(101), "m.zlib").unwrap_err().to_string();
        assert!(e.contains("100 labels but the frame has 101"), "{e}");
        let truncated = &bytes[..bytes.len() - 6];
        assert!(decode(truncated, Some(100), "t.zlib").is_err());
    }
}
