//! Ground Truth's raw point-cloud frames (spec §3.1): `binary/<order>` streams of little-endian
//! `f32` and `text/<order>` whitespace-separated lines, for the orders `xyz`, `xyzi`, `xyzrgb`
//! and `xyzirgb`. Colour channels are 0..=255 (stored ×257); intensity is scaled as the
//! [module docs](super) describe.
//!
//! Must not depend on any layer above `formats`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::builder::{CloudBuilder, PointAttrs, rgb_f32_to_16};
use super::{Attributes, CloudFormat, IntensityScale, LoadOptions, LoadReport, LoadedCloud};
use crate::formats::{FormatError, Location};

/// A Ground Truth raw frame format: the manifest's `source-ref-metadata.format` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RawFormat {
    /// `binary/xyz`
    #[serde(rename = "binary/xyz")]
    BinaryXyz,
    /// `binary/xyzi` (Ground Truth's default for `.bin`)
    #[serde(rename = "binary/xyzi")]
    BinaryXyzi,
    /// `binary/xyzrgb`
    #[serde(rename = "binary/xyzrgb")]
    BinaryXyzrgb,
    /// `binary/xyzirgb`
    #[serde(rename = "binary/xyzirgb")]
    BinaryXyzirgb,
    /// `text/xyz`
    #[serde(rename = "text/xyz")]
    TextXyz,
    /// `text/xyzi` (Ground Truth's default for `.txt`)
    #[serde(rename = "text/xyzi")]
    TextXyzi,
    /// `text/xyzrgb`
    #[serde(rename = "text/xyzrgb")]
    TextXyzrgb,
    /// `text/xyzirgb`
    #[serde(rename = "text/xyzirgb")]
    TextXyzirgb,
}

impl RawFormat {
    /// Every format, in the spec's order.
    pub const ALL: [RawFormat; 8] = [
        RawFormat::BinaryXyz,
        RawFormat::BinaryXyzi,
        RawFormat::BinaryXyzrgb,
        RawFormat::BinaryXyzirgb,
        RawFormat::TextXyz,
        RawFormat::TextXyzi,
        RawFormat::TextXyzrgb,
        RawFormat::TextXyzirgb,
    ];

    /// The manifest string, e.g. `binary/xyzi`.
    pub fn as_str(self) -> &'static str {
        match self {
            RawFormat::BinaryXyz => "binary/xyz",
            RawFormat::BinaryXyzi => "binary/xyzi",
            RawFormat::BinaryXyzrgb => "binary/xyzrgb",
            RawFormat::BinaryXyzirgb => "binary/xyzirgb",
            RawFormat::TextXyz => "text/xyz",
            RawFormat::TextXyzi => "text/xyzi",
            RawFormat::TextXyzrgb => "text/xyzrgb",
            RawFormat::TextXyzirgb => "text/xyzirgb",
        }
    }

    /// True for the `binary/` formats.
    pub fn is_binary(self) -> bool {
        matches!(
            self,
            RawFormat::BinaryXyz
                | RawFormat::BinaryXyzi
                | RawFormat::BinaryXyzrgb
                | RawFormat::BinaryXyzirgb
        )
    }

    /// True when points carry intensity.
    pub fn has_intensity(self) -> bool {
        matches!(
            self,
            RawFormat::BinaryXyzi
                | RawFormat::BinaryXyzirgb
                | RawFormat::TextXyzi
                | RawFormat::TextXyzirgb
        )
    }

    /// True when points carry colour.
    pub fn has_rgb(self) -> bool {
        matches!(
            self,
            RawFormat::BinaryXyzrgb
                | RawFormat::BinaryXyzirgb
                | RawFormat::TextXyzrgb
                | RawFormat::TextXyzirgb
        )
    }

    /// Values per point: 3, 4, 6 or 7.
    pub fn columns(self) -> usize {
        3 + usize::from(self.has_intensity()) + 3 * usize::from(self.has_rgb())
    }

    /// The default for a file extension, as Ground Truth applies it when `format` is absent:
    /// `.bin` → `binary/xyzi`, `.txt` → `text/xyzi`.
    pub fn default_for_extension(ext: &str) -> Option<RawFormat> {
        match ext.to_ascii_lowercase().as_str() {
            "bin" => Some(RawFormat::BinaryXyzi),
            "txt" => Some(RawFormat::TextXyzi),
            _ => None,
        }
    }

    fn text_with_columns(n: usize) -> Option<RawFormat> {
        match n {
            3 => Some(RawFormat::TextXyz),
            4 => Some(RawFormat::TextXyzi),
            6 => Some(RawFormat::TextXyzrgb),
            7 => Some(RawFormat::TextXyzirgb),
            _ => None,
        }
    }
}

impl fmt::Display for RawFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `format` string is not one of the eight Ground Truth raw formats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a Ground Truth point-cloud format (binary/ or text/ followed by xyz, xyzi, \
     xyzrgb or xyzirgb)"
)]
pub struct UnknownRawFormat(pub String);

impl FromStr for RawFormat {
    type Err = UnknownRawFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RawFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim())
            .ok_or_else(|| UnknownRawFormat(s.to_string()))
    }
}

/// The `text/` layout whose column count matches the first data line of `head`, if every
/// value on it is a number.
pub(crate) fn guess_text_layout(head: &[u8]) -> Option<RawFormat> {
    let text = String::from_utf8_lossy(head);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let values: Vec<&str> = split_values(line).collect();
    if values.iter().all(|v| v.parse::<f64>().is_ok()) {
        RawFormat::text_with_columns(values.len())
    } else {
        None
    }
}

fn split_values(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| c.is_ascii_whitespace() || c == ',').filter(|t| !t.is_empty())
}

/// Reads a raw frame held in memory.
pub fn read(
    bytes: &[u8],
    format: RawFormat,
    name: &str,
    options: &LoadOptions,
) -> Result<LoadedCloud, FormatError> {
    let available =
        Attributes { intensity: format.has_intensity(), rgb: format.has_rgb(), ..Attributes::NONE };
    let keep = options.attributes.and(available);
    let cols = format.columns();
    let to_point = |v: &[f64], builder: &mut CloudBuilder| {
        let get = |k: usize| v.get(k).copied().unwrap_or(0.0);
        let rgb_at = if format.has_intensity() { 4 } else { 3 };
        let attrs = PointAttrs {
            intensity: if format.has_intensity() { get(3) as f32 } else { 0.0 },
            rgb: if format.has_rgb() {
                [0, 1, 2].map(|k| rgb_f32_to_16(get(rgb_at + k) as f32))
            } else {
                [0; 3]
            },
            ..PointAttrs::default()
        };
        builder.push([get(0), get(1), get(2)], &attrs);
    };
    let (builder, declared) = if format.is_binary() {
        let stride = 4 * cols;
        if !bytes.len().is_multiple_of(stride) {
            return Err(FormatError::invalid(
                Location::file(name),
                format!(
                    "{} bytes is not a whole number of {stride}-byte {format} points: truncated, \
                     or the frame has another format",
                    bytes.len()
                ),
            ));
        }
        let n = bytes.len() / stride;
        let mut builder = CloudBuilder::new(keep, n, IntensityScale::Auto);
        let mut values = [0.0f64; 7];
        for p in bytes.chunks_exact(stride) {
            for (slot, b) in values.iter_mut().zip(p.chunks_exact(4)) {
                *slot = b.try_into().map(f32::from_le_bytes).map_or(f64::NAN, f64::from);
            }
            to_point(values.get(..cols).unwrap_or_default(), &mut builder);
        }
        (builder, Some(n as u64))
    } else {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            FormatError::invalid(
                Location::file(name),
                format!("{format} frame is not UTF-8 text (byte {})", e.valid_up_to()),
            )
        })?;
        let mut builder =
            CloudBuilder::new(keep, bytes.len() / (2 * cols) + 1, IntensityScale::Auto);
        let mut values = [0.0f64; 7];
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let at = || Location::file(name).at_line(i + 1);
            let mut n = 0;
            for tok in split_values(line) {
                let slot = values.get_mut(n).filter(|_| n < cols).ok_or_else(|| {
                    FormatError::invalid(
                        at(),
                        format!("more than the {cols} values a {format} point has"),
                    )
                })?;
                *slot = tok.parse::<f64>().map_err(|_| {
                    FormatError::invalid(
                        at(),
                        format!("`{}` is not a number", tok.chars().take(30).collect::<String>()),
                    )
                })?;
                n += 1;
            }
            if n != cols {
                return Err(FormatError::invalid(
                    at(),
                    format!("{n} values, a {format} point has {cols}"),
                ));
            }
            to_point(values.get(..cols).unwrap_or_default(), &mut builder);
        }
        (builder, None)
    };
    let (cloud, dropped) = builder.finish();
    let mut report = LoadReport::new(CloudFormat::Raw(format), declared, available);
    report.dropped_non_finite = dropped;
    Ok(LoadedCloud { cloud, report })
}

/// Encodes points in a raw format. Each point holds `format.columns()` values in the format's
/// order (x, y, z[, i][, r, g, b]); text uses one space-separated line a point.
pub fn write(points: &[Vec<f32>], format: RawFormat) -> Vec<u8> {
    let mut out = Vec::new();
    for p in points {
        let values = p.iter().take(format.columns());
        if format.is_binary() {
            for v in values {
                out.extend_from_slice(&v.to_le_bytes());
            }
        } else {
            let line: Vec<String> = values.map(|v| v.to_string()).collect();
            out.extend_from_slice(line.join(" ").as_bytes());
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn sample(format: RawFormat) -> Vec<Vec<f32>> {
        (0..20)
            .map(|i| {
                let mut p = vec![i as f32 * 0.25, -(i as f32), 1.5];
                if format.has_intensity() {
                    p.push(i as f32 * 10.0);
                }
                if format.has_rgb() {
                    p.extend([255.0, i as f32, 0.0]);
                }
                p
            })
            .collect()
    }

    #[test]
    fn every_format_round_trips() {
        for format in RawFormat::ALL {
            assert_eq!(format.as_str().parse::<RawFormat>().unwrap(), format);
            let pts = sample(format);
            let bytes = write(&pts, format);
            let loaded = read(&bytes, format, "f", &LoadOptions::all()).unwrap();
            let c = &loaded.cloud;
            assert_eq!(c.len(), 20, "{format}");
            assert_eq!(c.positions[3], [0.75, -3.0, 1.5], "{format}");
            assert_eq!(c.intensity.is_some(), format.has_intensity(), "{format}");
            assert_eq!(c.rgb.is_some(), format.has_rgb(), "{format}");
            if let Some(i) = &c.intensity {
                // Largest is 190 (≤ 255): scaled ×257.
                assert_eq!(i[19], 190 * 257, "{format}");
            }
            if let Some(rgb) = &c.rgb {
                assert_eq!(rgb[2], [65535, 2 * 257, 0], "{format}");
            }
        }
    }

    #[test]
    fn bad_sizes_and_lines_are_errors_with_location() {
        let bytes = write(&sample(RawFormat::BinaryXyzi), RawFormat::BinaryXyzi);
        let err = read(&bytes, RawFormat::BinaryXyzrgb, "f.bin", &LoadOptions::default());
        assert!(err.unwrap_err().to_string().contains("f.bin"));
        let err = read(b"1 2 3\n1 2\n", RawFormat::TextXyz, "f.txt", &LoadOptions::default())
            .unwrap_err();
        assert!(err.to_string().contains("f.txt:2"), "{err}");
        let err = read(b"1 2 3 4\n", RawFormat::TextXyz, "f.txt", &LoadOptions::default());
        assert!(err.is_err());
        let err = read(b"{\"a\": 1}\n", RawFormat::TextXyzi, "j.txt", &LoadOptions::default());
        assert!(err.unwrap_err().to_string().contains("j.txt:1"));
        assert!("binary/xyzq".parse::<RawFormat>().is_err());
    }

    #[test]
    fn text_layout_is_guessed_from_the_first_line() {
        assert_eq!(guess_text_layout(b"\n1 2 3\n"), Some(RawFormat::TextXyz));
        assert_eq!(guess_text_layout(b"1,2,3,4\n"), Some(RawFormat::TextXyzi));
        assert_eq!(guess_text_layout(b"1 2 3 4 5 6 7"), Some(RawFormat::TextXyzirgb));
        assert_eq!(guess_text_layout(b"1 2 3 4 5"), None);
        assert_eq!(guess_text_layout(b"x y z"), None);
    }

    #[test]
    fn serde_uses_the_manifest_strings() {
        let json = serde_json::to_string(&RawFormat::TextXyzirgb).unwrap();
        assert_eq!(json, "\"text/xyzirgb\"");
    }
}
