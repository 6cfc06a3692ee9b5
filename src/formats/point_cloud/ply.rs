//! Stanford PLY point clouds: `ascii`, `binary_little_endian` and `binary_big_endian`. The
//! `vertex` element's `x`, `y`, `z` and optional `intensity` (`scalar_intensity`, `i`), `red`,
//! `green`, `blue` (`r`, `g`, `b`, `diffuse_*`) and `label`/`class`/`classification` are read; other
//! properties and other elements (faces, ...) are skipped, list properties included.
//!
//! Colour: `uchar` ×257, `ushort` as is, floats are 0..=1 (×65535).
//!
//! Must not depend on any layer above `formats`.

use super::builder::{CloudBuilder, PointAttrs};
use super::{Attributes, CloudFormat, IntensityScale, LoadOptions, LoadReport, LoadedCloud};
use crate::formats::{FormatError, Location};

/// PLY scalar types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl Scalar {
    fn parse(s: &str) -> Option<Scalar> {
        Some(match s {
            "char" | "int8" => Scalar::I8,
            "uchar" | "uint8" => Scalar::U8,
            "short" | "int16" => Scalar::I16,
            "ushort" | "uint16" => Scalar::U16,
            "int" | "int32" => Scalar::I32,
            "uint" | "uint32" => Scalar::U32,
            "float" | "float32" => Scalar::F32,
            "double" | "float64" => Scalar::F64,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::F64 => 8,
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Scalar::F32 | Scalar::F64)
    }

    fn read(self, b: &[u8], big_endian: bool) -> Option<f64> {
        let mut a = [0u8; 8];
        let n = self.size();
        let src = b.get(..n)?;
        let dst = a.get_mut(..n)?;
        dst.copy_from_slice(src);
        if big_endian {
            dst.reverse();
        }
        Some(match self {
            Scalar::I8 => f64::from(a[0] as i8),
            Scalar::U8 => f64::from(a[0]),
            Scalar::I16 => f64::from(i16::from_le_bytes([a[0], a[1]])),
            Scalar::U16 => f64::from(u16::from_le_bytes([a[0], a[1]])),
            Scalar::I32 => f64::from(i32::from_le_bytes([a[0], a[1], a[2], a[3]])),
            Scalar::U32 => f64::from(u32::from_le_bytes([a[0], a[1], a[2], a[3]])),
            Scalar::F32 => f64::from(f32::from_le_bytes([a[0], a[1], a[2], a[3]])),
            Scalar::F64 => f64::from_le_bytes(a),
        })
    }
}

#[derive(Debug, Clone)]
enum Property {
    Scalar { name: String, ty: Scalar },
    List { count: Scalar, item: Scalar },
}

#[derive(Debug, Clone)]
struct Element {
    name: String,
    count: u64,
    properties: Vec<Property>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Ascii,
    Little,
    Big,
}

/// Reads a PLY file held in memory.
pub fn read(bytes: &[u8], name: &str, options: &LoadOptions) -> Result<LoadedCloud, FormatError> {
    let (encoding, elements, data_at) = parse_header(bytes, name)?;
    let err = |m: String| FormatError::invalid(Location::file(name), m);
    let Some(vertex_index) = elements.iter().position(|e| e.name == "vertex") else {
        return Err(err("the PLY has no `vertex` element".into()));
    };
    let vertex = elements.get(vertex_index).ok_or_else(|| err("no vertex element".into()))?;
    let find = |names: &[&str]| {
        vertex.properties.iter().position(|p| match p {
            Property::Scalar { name, .. } => names.contains(&name.to_ascii_lowercase().as_str()),
            Property::List { .. } => false,
        })
    };
    let xyz = [find(&["x"]), find(&["y"]), find(&["z"])];
    let [Some(xi), Some(yi), Some(zi)] = xyz else {
        return Err(err("the PLY vertex element lacks x, y or z".into()));
    };
    let intensity = find(&["intensity", "scalar_intensity", "i", "reflectance"]);
    let rgb = [
        find(&["red", "r", "diffuse_red"]),
        find(&["green", "g", "diffuse_green"]),
        find(&["blue", "b", "diffuse_blue"]),
    ];
    let label = find(&["label", "class", "classification", "scalar_classification"]);
    let has_rgb = rgb.iter().all(Option::is_some);
    let available = Attributes {
        intensity: intensity.is_some(),
        classification: label.is_some(),
        rgb: has_rgb,
        ..Attributes::NONE
    };
    let keep = options.attributes.and(available);
    let ty = |i: Option<usize>| match i.and_then(|i| vertex.properties.get(i)) {
        Some(Property::Scalar { ty, .. }) => Some(*ty),
        _ => None,
    };
    let scale = match ty(intensity) {
        Some(Scalar::U8) => IntensityScale::Times257,
        Some(Scalar::U16) => IntensityScale::Identity,
        _ => IntensityScale::Auto,
    };
    let colour = |v: f64, t: Option<Scalar>| -> u16 {
        match t {
            Some(Scalar::U8) => (v.clamp(0.0, 255.0) as u16) * 257,
            Some(t) if t.is_float() => (v.clamp(0.0, 1.0) * 65535.0).round() as u16,
            _ => v.clamp(0.0, 65535.0) as u16,
        }
    };
    let rgb_types = rgb.map(ty);
    let data = bytes.get(data_at..).unwrap_or_default();
    let mut values = vec![0.0f64; vertex.properties.len()];
    let emit = |values: &[f64], builder: &mut CloudBuilder| {
        let v = |i: Option<usize>| i.and_then(|i| values.get(i)).copied().unwrap_or(0.0);
        let attrs = PointAttrs {
            intensity: v(intensity) as f32,
            classification: v(label).clamp(0.0, 255.0) as u8,
            rgb: [0, 1, 2].map(|k| colour(v(rgb[k]), rgb_types[k])),
            ..PointAttrs::default()
        };
        builder.push([v(Some(xi)), v(Some(yi)), v(Some(zi))], &attrs);
    };

    let builder = match encoding {
        Encoding::Ascii => {
            let text = String::from_utf8_lossy(data);
            let mut tokens = text.split_ascii_whitespace();
            let mut next = |what: &str| -> Result<f64, FormatError> {
                let tok = tokens
                    .next()
                    .ok_or_else(|| err(format!("truncated: the data ends inside {what}")))?;
                tok.parse::<f64>().map_err(|_| err(format!("`{tok}` in {what} is not a number")))
            };
            let cap = usize::try_from(vertex.count).unwrap_or(0).min(data.len() / 6 + 1);
            let mut builder = CloudBuilder::new(keep, cap, scale);
            for element in elements.get(..=vertex_index).unwrap_or_default() {
                let is_vertex = element.name == "vertex";
                let what = format!("element `{}`", element.name);
                for _ in 0..element.count {
                    for (pi, p) in element.properties.iter().enumerate() {
                        match p {
                            Property::Scalar { .. } => {
                                let v = next(&what)?;
                                if let Some(slot) = values.get_mut(pi).filter(|_| is_vertex) {
                                    *slot = v;
                                }
                            }
                            Property::List { .. } => {
                                let n = next(&what)?;
                                if !(0.0..=1e9).contains(&n) {
                                    return Err(err(format!("bad list length {n} in {what}")));
                                }
                                for _ in 0..n as u64 {
                                    next(&what)?;
                                }
                            }
                        }
                    }
                    if is_vertex {
                        emit(&values, &mut builder);
                    }
                }
            }
            builder
        }
        Encoding::Little | Encoding::Big => {
            let big = encoding == Encoding::Big;
            let mut pos = 0usize;
            let truncated = |what: &str| err(format!("truncated: the data ends inside {what}"));
            let min_vertex: usize = vertex
                .properties
                .iter()
                .map(|p| match p {
                    Property::Scalar { ty, .. } => ty.size(),
                    Property::List { count, .. } => count.size(),
                })
                .sum();
            if vertex.count.saturating_mul(min_vertex as u64) > data.len() as u64 {
                return Err(truncated("element `vertex`"));
            }
            let mut builder =
                CloudBuilder::new(keep, usize::try_from(vertex.count).unwrap_or(0), scale);
            for element in elements.get(..=vertex_index).unwrap_or_default() {
                let is_vertex = element.name == "vertex";
                let what = format!("element `{}`", element.name);
                for _ in 0..element.count {
                    for (pi, p) in element.properties.iter().enumerate() {
                        match p {
                            Property::Scalar { ty, .. } => {
                                let v = data
                                    .get(pos..)
                                    .and_then(|b| ty.read(b, big))
                                    .ok_or_else(|| truncated(&what))?;
                                pos += ty.size();
                                if let Some(slot) = values.get_mut(pi).filter(|_| is_vertex) {
                                    *slot = v;
                                }
                            }
                            Property::List { count, item } => {
                                let n = data
                                    .get(pos..)
                                    .and_then(|b| count.read(b, big))
                                    .ok_or_else(|| truncated(&what))?;
                                pos += count.size();
                                if n < 0.0 {
                                    return Err(err(format!("negative list length in {what}")));
                                }
                                pos = pos
                                    .checked_add(n as usize * item.size())
                                    .filter(|&p| p <= data.len())
                                    .ok_or_else(|| truncated(&what))?;
                            }
                        }
                    }
                    if is_vertex {
                        emit(&values, &mut builder);
                    }
                }
            }
            builder
        }
    };
    let (cloud, dropped) = builder.finish();
    let mut report = LoadReport::new(CloudFormat::Ply, Some(vertex.count), available);
    report.dropped_non_finite = dropped;
    Ok(LoadedCloud { cloud, report })
}

fn parse_header(bytes: &[u8], name: &str) -> Result<(Encoding, Vec<Element>, usize), FormatError> {
    let mut pos = 0usize;
    let mut line_no = 0usize;
    let mut encoding = None;
    let mut elements: Vec<Element> = Vec::new();
    loop {
        let rest = bytes.get(pos..).unwrap_or_default();
        if rest.is_empty() {
            return Err(FormatError::invalid(Location::file(name), "PLY header has no end_header"));
        }
        let len = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |n| n + 1);
        let line = String::from_utf8_lossy(rest.get(..len).unwrap_or_default()).trim().to_string();
        pos += len;
        line_no += 1;
        let at = || Location::file(name).at_line(line_no);
        let words: Vec<&str> = line.split_ascii_whitespace().collect();
        match words.as_slice() {
            ["ply"] if line_no == 1 => {}
            _ if line_no == 1 => {
                return Err(FormatError::invalid(at(), "not a PLY file (no `ply` magic)"));
            }
            ["format", kind, _version] => {
                encoding = Some(match *kind {
                    "ascii" => Encoding::Ascii,
                    "binary_little_endian" => Encoding::Little,
                    "binary_big_endian" => Encoding::Big,
                    _ => {
                        return Err(FormatError::invalid(
                            at(),
                            format!("unknown PLY format `{kind}`"),
                        ));
                    }
                });
            }
            ["comment", ..] | ["obj_info", ..] | [] => {}
            ["element", el, count] => {
                let count = count.parse::<u64>().map_err(|_| {
                    FormatError::invalid(at(), format!("element count `{count}` is not a number"))
                })?;
                elements.push(Element { name: el.to_string(), count, properties: Vec::new() });
            }
            ["property", "list", ct, it, _name] => {
                let (Some(count), Some(item)) = (Scalar::parse(ct), Scalar::parse(it)) else {
                    return Err(FormatError::invalid(
                        at(),
                        format!("unknown list types in `{line}`"),
                    ));
                };
                elements
                    .last_mut()
                    .ok_or_else(|| FormatError::invalid(at(), "property before any element"))?
                    .properties
                    .push(Property::List { count, item });
            }
            ["property", ty, prop] => {
                let ty = Scalar::parse(ty).ok_or_else(|| {
                    FormatError::invalid(at(), format!("unknown property type `{ty}`"))
                })?;
                elements
                    .last_mut()
                    .ok_or_else(|| FormatError::invalid(at(), "property before any element"))?
                    .properties
                    .push(Property::Scalar { name: prop.to_string(), ty });
            }
            ["end_header"] => {
                let encoding = encoding.ok_or_else(|| {
                    FormatError::invalid(Location::file(name), "PLY header has no format line")
                })?;
                return Ok((encoding, elements, pos));
            }
            _ => {
                return Err(FormatError::invalid(
                    at(),
                    format!("unexpected PLY header line `{line}`"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const HEADER_TAIL: &str = "element vertex 2\nproperty float x\nproperty float y\n\
        property double z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n\
        property float intensity\nelement face 1\nproperty list uchar int vertex_indices\n\
        end_header\n";

    fn binary(big: bool) -> Vec<u8> {
        let fmt = if big { "binary_big_endian" } else { "binary_little_endian" };
        let mut b =
            format!("ply\nformat {fmt} 1.0\ncomment made by a test\n{HEADER_TAIL}").into_bytes();
        let put = |b: &mut Vec<u8>, bytes: &[u8]| {
            let mut v = bytes.to_vec();
            if big {
                v.reverse();
            }
            b.extend_from_slice(&v);
        };
        for (x, i) in [(1.5f32, 0.5f32), (-2.0, 1.0)] {
            put(&mut b, &x.to_le_bytes());
            put(&mut b, &4.0f32.to_le_bytes());
            put(&mut b, &100.25f64.to_le_bytes());
            b.extend_from_slice(&[255, 0, 1]);
            put(&mut b, &i.to_le_bytes());
        }
        b.push(3);
        for k in 0..3i32 {
            put(&mut b, &k.to_le_bytes());
        }
        b
    }

    #[test]
    fn binary_both_endians_and_ascii_agree() {
        let ascii = format!(
            "ply\nformat ascii 1.0\n{HEADER_TAIL}1.5 4 100.25 255 0 1 0.5\n-2 4 100.25 255 0 1 1\n\
             3 0 1 2\n"
        );
        let a = read(ascii.as_bytes(), "a.ply", &LoadOptions::all()).unwrap();
        let l = read(&binary(false), "l.ply", &LoadOptions::all()).unwrap();
        let b = read(&binary(true), "b.ply", &LoadOptions::all()).unwrap();
        assert_eq!(a.cloud, l.cloud);
        assert_eq!(a.cloud, b.cloud);
        assert_eq!(a.cloud.positions, vec![[1.5, 4.0, 100.25], [-2.0, 4.0, 100.25]]);
        assert_eq!(a.cloud.rgb, Some(vec![[65535, 0, 257]; 2]));
        assert_eq!(a.cloud.intensity, Some(vec![32768, 65535]));
    }

    #[test]
    fn elements_before_the_vertices_are_skipped() {
        let text = "ply\nformat ascii 1.0\nelement camera 1\nproperty float f\n\
                    property list uchar float k\nelement vertex 1\nproperty float x\n\
                    property float y\nproperty float z\nend_header\n9 2 0.5 0.25\n1 2 3\n";
        let c = read(text.as_bytes(), "c.ply", &LoadOptions::default()).unwrap().cloud;
        assert_eq!(c.positions, vec![[1.0, 2.0, 3.0]]);
        assert!(c.intensity.is_none());
    }

    #[test]
    fn truncated_and_malformed_files_are_errors() {
        let b = binary(false);
        // The face element (13 bytes) is never read; cuts into the vertices are errors.
        for cut in [b.len() - 14, b.len() - 20] {
            assert!(read(&b[..cut], "t.ply", &LoadOptions::default()).is_err());
        }
        assert!(read(b"ply\nformat ascii 1.0\n", "h.ply", &LoadOptions::default()).is_err());
        let no_z = "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n\
                    property float y\nend_header\n1 2\n";
        assert!(read(no_z.as_bytes(), "z.ply", &LoadOptions::default()).is_err());
        let huge = "ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\n\
                    property float x\nproperty float y\nproperty float z\nend_header\n";
        let err = read(huge.as_bytes(), "huge.ply", &LoadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("truncated"));
    }
}
