//! PCL's PCD format, versions 0.5–0.7: `ascii`, `binary` and `binary_compressed` (LZF) data,
//! any field TYPE/SIZE/COUNT, organized clouds. Also the LZF codec itself (bounds-checked).
//!
//! Fields used (names matched case-insensitively): `x`, `y`, `z` (a cloud without `z` loads flat,
//! with a note), `intensity`/`i`, packed `rgb`/`rgba` (float or `U4` bits `0x00RRGGBB`) or
//! separate `r`/`g`/`b` (`red`/`green`/`blue`), `label`/`classification`, `return_number`,
//! `gps_time`, `user_data`. Other fields are skipped. Points with a non-finite coordinate (the
//! invalid pixels of organized clouds) are dropped and counted.
//!
//! Must not depend on any layer above `formats`.

use super::builder::{CloudBuilder, PointAttrs, rgb_f32_to_16, rgb8_to_16, unpack_rgb};
use super::{Attributes, CloudFormat, IntensityScale, LoadOptions, LoadReport, LoadedCloud};
use crate::formats::{FormatError, Location};

/// How a PCD file stores its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcdData {
    /// One point per text line.
    Ascii,
    /// Packed little-endian records, point after point.
    Binary,
    /// LZF-compressed, field after field.
    BinaryCompressed,
}

/// One PCD field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcdField {
    /// Field name as written.
    pub name: String,
    /// Bytes per element: 1, 2, 4 or 8.
    pub size: usize,
    /// `I` (signed), `U` (unsigned) or `F` (float).
    pub kind: u8,
    /// Elements per point.
    pub count: usize,
}

impl PcdField {
    fn bytes(&self) -> usize {
        self.size * self.count
    }
}

/// A parsed PCD header.
#[derive(Debug, Clone, PartialEq)]
pub struct PcdHeader {
    /// The VERSION value (e.g. `0.7`, `.5`), if present.
    pub version: Option<String>,
    /// The fields, in file order.
    pub fields: Vec<PcdField>,
    /// WIDTH.
    pub width: u64,
    /// HEIGHT (1 for unorganized clouds).
    pub height: u64,
    /// POINTS (WIDTH × HEIGHT when absent).
    pub points: u64,
    /// The data encoding.
    pub data: PcdData,
    /// Byte offset of the data after the `DATA` line.
    pub data_offset: usize,
    /// Number of header lines (for line numbers in ascii data).
    pub header_lines: usize,
}

impl PcdHeader {
    /// Bytes per point in `binary` data.
    pub fn point_size(&self) -> usize {
        self.fields.iter().map(PcdField::bytes).sum()
    }
}

/// True when `head` starts like a PCD header (a `# .PCD` comment or a header keyword).
pub(crate) fn looks_like_pcd(head: &[u8]) -> bool {
    if head.starts_with(b"# .PCD") {
        return true;
    }
    for line in head.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(line);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        return line.starts_with("VERSION") || line.starts_with("FIELDS");
    }
    false
}

/// Parses the header of a PCD file.
pub fn parse_header(bytes: &[u8], name: &str) -> Result<PcdHeader, FormatError> {
    let mut version = None;
    let mut names: Option<Vec<String>> = None;
    let mut sizes: Option<Vec<String>> = None;
    let mut types: Option<Vec<String>> = None;
    let mut counts: Option<Vec<String>> = None;
    let (mut width, mut height, mut points) = (None, None, None);
    let mut pos = 0usize;
    let mut line_no = 0usize;
    loop {
        let rest = bytes.get(pos..).unwrap_or_default();
        if rest.is_empty() {
            return Err(FormatError::invalid(
                Location::file(name),
                "not a PCD file: the header has no DATA line",
            ));
        }
        let line_len = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |n| n + 1);
        let raw = rest.get(..line_len).unwrap_or_default();
        pos += line_len;
        line_no += 1;
        let at = || Location::file(name).at_line(line_no);
        let text = std::str::from_utf8(raw)
            .map_err(|_| FormatError::invalid(at(), "PCD header line is not text"))?;
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let mut words = text.split_whitespace();
        let key = words.next().unwrap_or_default().to_ascii_uppercase();
        let values: Vec<String> = words.map(str::to_string).collect();
        let one_number = |values: &[String]| -> Result<u64, FormatError> {
            values.first().and_then(|v| v.parse::<u64>().ok()).ok_or_else(|| {
                FormatError::invalid(at().at_field(&key), format!("`{text}` needs a whole number"))
            })
        };
        match key.as_str() {
            "VERSION" => version = values.first().cloned(),
            "FIELDS" | "COLUMNS" => names = Some(values),
            "SIZE" => sizes = Some(values),
            "TYPE" => types = Some(values),
            "COUNT" => counts = Some(values),
            "WIDTH" => width = Some(one_number(&values)?),
            "HEIGHT" => height = Some(one_number(&values)?),
            "POINTS" => points = Some(one_number(&values)?),
            "VIEWPOINT" => {}
            "DATA" => {
                let data = match values.first().map(|v| v.to_ascii_lowercase()).as_deref() {
                    Some("ascii") => PcdData::Ascii,
                    Some("binary") => PcdData::Binary,
                    Some("binary_compressed") => PcdData::BinaryCompressed,
                    _ => {
                        return Err(FormatError::invalid(
                            at().at_field("DATA"),
                            format!("unknown PCD data encoding in `{text}`"),
                        ));
                    }
                };
                let fields = build_fields(names, sizes, types, counts, name, line_no)?;
                let (width, height) = match (width, height, points) {
                    (Some(w), h, _) => (w, h.unwrap_or(1)),
                    (None, h, Some(p)) => (p, h.unwrap_or(1)),
                    (None, _, None) => {
                        return Err(FormatError::invalid(
                            Location::file(name).at_field("WIDTH"),
                            "the PCD header has neither WIDTH nor POINTS",
                        ));
                    }
                };
                let points = points.unwrap_or(width.saturating_mul(height));
                return Ok(PcdHeader {
                    version,
                    fields,
                    width,
                    height,
                    points,
                    data,
                    data_offset: pos,
                    header_lines: line_no,
                });
            }
            _ => {
                return Err(FormatError::invalid(
                    at(),
                    format!("not a PCD header line: `{}`", truncate(text, 60)),
                ));
            }
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn build_fields(
    names: Option<Vec<String>>,
    sizes: Option<Vec<String>>,
    types: Option<Vec<String>>,
    counts: Option<Vec<String>>,
    name: &str,
    line: usize,
) -> Result<Vec<PcdField>, FormatError> {
    let at = |field: &str| Location::file(name).at_line(line).at_field(field);
    let names = names.ok_or_else(|| FormatError::invalid(at("FIELDS"), "no FIELDS line"))?;
    let sizes = sizes.ok_or_else(|| FormatError::invalid(at("SIZE"), "no SIZE line"))?;
    let types = types.ok_or_else(|| FormatError::invalid(at("TYPE"), "no TYPE line"))?;
    let n = names.len();
    if n == 0
        || sizes.len() != n
        || types.len() != n
        || counts.as_ref().is_some_and(|c| c.len() != n)
    {
        return Err(FormatError::invalid(
            at("FIELDS"),
            format!(
                "FIELDS, SIZE, TYPE and COUNT disagree on the number of fields ({n}, {}, {}, {})",
                sizes.len(),
                types.len(),
                counts.as_ref().map_or(n, Vec::len)
            ),
        ));
    }
    let mut fields = Vec::with_capacity(n);
    for (i, field_name) in names.into_iter().enumerate() {
        let size = sizes.get(i).and_then(|s| s.parse::<usize>().ok()).unwrap_or(0);
        let kind = types.get(i).and_then(|t| t.bytes().next()).unwrap_or(0).to_ascii_uppercase();
        let count = match &counts {
            Some(c) => c.get(i).and_then(|s| s.parse::<usize>().ok()).unwrap_or(0),
            None => 1,
        };
        let ok = matches!((kind, size), (b'I' | b'U', 1 | 2 | 4 | 8) | (b'F', 4 | 8))
            && (1..=1 << 20).contains(&count);
        if !ok {
            return Err(FormatError::invalid(
                at(&field_name),
                format!("field `{field_name}` has an unsupported SIZE/TYPE/COUNT"),
            ));
        }
        fields.push(PcdField { name: field_name, size, kind, count });
    }
    Ok(fields)
}

/// Which field plays which role.
#[derive(Debug, Default)]
struct Roles {
    xyz: [Option<usize>; 3],
    intensity: Option<usize>,
    packed_rgb: Option<usize>,
    rgb: [Option<usize>; 3],
    label: Option<usize>,
    return_number: Option<usize>,
    gps_time: Option<usize>,
    user_data: Option<usize>,
}

impl Roles {
    fn find(fields: &[PcdField]) -> Roles {
        let mut r = Roles::default();
        for (i, f) in fields.iter().enumerate() {
            let slot = match f.name.to_ascii_lowercase().as_str() {
                "x" => &mut r.xyz[0],
                "y" => &mut r.xyz[1],
                "z" => &mut r.xyz[2],
                "intensity" | "i" => &mut r.intensity,
                "rgb" | "rgba" => &mut r.packed_rgb,
                "r" | "red" => &mut r.rgb[0],
                "g" | "green" => &mut r.rgb[1],
                "b" | "blue" => &mut r.rgb[2],
                "label" | "classification" => &mut r.label,
                "return_number" | "returnnumber" => &mut r.return_number,
                "gps_time" | "gpstime" => &mut r.gps_time,
                "user_data" | "userdata" => &mut r.user_data,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(i);
            }
        }
        r
    }

    fn has_rgb(&self) -> bool {
        self.packed_rgb.is_some() || self.rgb.iter().all(Option::is_some)
    }

    fn available(&self) -> Attributes {
        Attributes {
            intensity: self.intensity.is_some(),
            classification: self.label.is_some(),
            return_number: self.return_number.is_some(),
            rgb: self.has_rgb(),
            gps_time: self.gps_time.is_some(),
            user_data: self.user_data.is_some(),
        }
    }
}

/// One field's first element as `f64` (`b` holds at least `size` bytes).
fn scalar(b: &[u8], f: &PcdField) -> f64 {
    let arr = |n: usize| -> [u8; 8] {
        let mut a = [0u8; 8];
        if let (Some(dst), Some(src)) = (a.get_mut(..n), b.get(..n)) {
            dst.copy_from_slice(src);
        }
        a
    };
    let a = arr(f.size);
    match (f.kind, f.size) {
        (b'F', 4) => f64::from(f32::from_le_bytes([a[0], a[1], a[2], a[3]])),
        (b'F', _) => f64::from_le_bytes(a),
        (b'U', 1) => f64::from(a[0]),
        (b'U', 2) => f64::from(u16::from_le_bytes([a[0], a[1]])),
        (b'U', 4) => f64::from(u32::from_le_bytes([a[0], a[1], a[2], a[3]])),
        (b'U', _) => u64::from_le_bytes(a) as f64,
        (_, 1) => f64::from(a[0] as i8),
        (_, 2) => f64::from(i16::from_le_bytes([a[0], a[1]])),
        (_, 4) => f64::from(i32::from_le_bytes([a[0], a[1], a[2], a[3]])),
        _ => i64::from_le_bytes(a) as f64,
    }
}

/// The raw bits of a packed colour field.
fn packed_bits(b: &[u8]) -> u32 {
    b.get(..4).and_then(|s| s.try_into().ok()).map(u32::from_le_bytes).unwrap_or(0)
}

fn intensity_scale(f: &PcdField) -> IntensityScale {
    match (f.kind, f.size) {
        (b'U', 1) => IntensityScale::Times257,
        (b'U', 2) => IntensityScale::Identity,
        _ => IntensityScale::Auto,
    }
}

fn channel(v: f64, f: &PcdField) -> u16 {
    match (f.kind, f.size) {
        (b'U', 1) => rgb8_to_16(v as u8),
        (b'U' | b'I', _) => v.clamp(0.0, 65535.0) as u16,
        _ => rgb_f32_to_16(v as f32),
    }
}

/// Per-point values, however the data is stored.
struct Sample {
    values: Vec<f64>,
    packed: u32,
}

/// Reads a PCD file held in memory.
pub fn read(bytes: &[u8], name: &str, options: &LoadOptions) -> Result<LoadedCloud, FormatError> {
    let header = parse_header(bytes, name)?;
    let roles = Roles::find(&header.fields);
    let missing: Vec<&str> =
        ["x", "y"].iter().zip(&roles.xyz).filter(|(_, r)| r.is_none()).map(|(n, _)| *n).collect();
    if !missing.is_empty() {
        return Err(FormatError::invalid(
            Location::file(name).at_field("FIELDS"),
            format!("the PCD has no `{}` field", missing.join("`, `")),
        ));
    }
    let available = roles.available();
    let keep = options.attributes.and(available);
    let mut report = LoadReport::new(CloudFormat::Pcd, Some(header.points), available);
    if roles.xyz[2].is_none() {
        report.notes.push("no `z` field: points lie at z = 0".into());
    }
    if header.width.saturating_mul(header.height) != header.points {
        report.notes.push(format!(
            "POINTS {} differs from WIDTH {} × HEIGHT {}",
            header.points, header.width, header.height
        ));
    }
    let scale = roles
        .intensity
        .and_then(|i| header.fields.get(i))
        .map_or(IntensityScale::Auto, intensity_scale);
    let data = bytes.get(header.data_offset..).unwrap_or_default();
    let point_size = header.point_size();
    let mut saturated_labels = 0u64;
    let n_fields = header.fields.len();

    // Converts one point's per-field first elements into the builder's input.
    let mut emit = |builder: &mut CloudBuilder, s: &Sample| {
        let v = |i: Option<usize>| i.and_then(|i| s.values.get(i)).copied().unwrap_or(0.0);
        let field = |i: usize| header.fields.get(i);
        let mut attrs = PointAttrs::default();
        if keep.intensity {
            attrs.intensity = v(roles.intensity) as f32;
        }
        if keep.classification {
            let l = v(roles.label);
            if !(0.0..=255.0).contains(&l) {
                saturated_labels += 1;
            }
            attrs.classification = l.clamp(0.0, 255.0) as u8;
        }
        if keep.return_number {
            attrs.return_number = v(roles.return_number).clamp(0.0, 255.0) as u8;
        }
        if keep.user_data {
            attrs.user_data = v(roles.user_data).clamp(0.0, 255.0) as u8;
        }
        if keep.gps_time {
            attrs.gps_time = v(roles.gps_time);
        }
        if keep.rgb {
            attrs.rgb = if roles.packed_rgb.is_some() {
                unpack_rgb(s.packed)
            } else {
                let c = |k: usize| {
                    roles.rgb[k].and_then(|i| field(i).map(|f| channel(v(Some(i)), f))).unwrap_or(0)
                };
                [c(0), c(1), c(2)]
            };
        }
        builder.push([v(roles.xyz[0]), v(roles.xyz[1]), v(roles.xyz[2])], &attrs);
    };

    let builder = match header.data {
        PcdData::Ascii => {
            let capacity = usize::try_from(header.points).unwrap_or(0).min(data.len() / 2 + 1);
            let mut builder = CloudBuilder::new(keep, capacity, scale);
            let mut sample = Sample { values: vec![0.0; n_fields], packed: 0 };
            let mut read = 0u64;
            for (i, line) in data.split(|&b| b == b'\n').enumerate() {
                let line_no = header.header_lines + i + 1;
                if read == header.points {
                    break;
                }
                let text = String::from_utf8_lossy(line);
                let mut tokens = text.split_whitespace().peekable();
                if tokens.peek().is_none() {
                    continue;
                }
                for (fi, f) in header.fields.iter().enumerate() {
                    for element in 0..f.count {
                        let tok = tokens.next().ok_or_else(|| {
                            FormatError::invalid(
                                Location::file(name).at_line(line_no).at_field(&f.name),
                                format!("the line ends before field `{}`", f.name),
                            )
                        })?;
                        if element > 0 {
                            continue;
                        }
                        let value = parse_ascii(tok).ok_or_else(|| {
                            FormatError::invalid(
                                Location::file(name).at_line(line_no).at_field(&f.name),
                                format!("`{}` is not a number", truncate(tok, 30)),
                            )
                        })?;
                        if Some(fi) == roles.packed_rgb {
                            sample.packed = if f.kind == b'F' {
                                (value as f32).to_bits()
                            } else {
                                value as u32
                            };
                        }
                        if let Some(slot) = sample.values.get_mut(fi) {
                            *slot = value;
                        }
                    }
                }
                emit(&mut builder, &sample);
                read += 1;
            }
            if read < header.points {
                return Err(FormatError::invalid(
                    Location::file(name),
                    format!(
                        "truncated: the header declares {} points, the data holds {read}",
                        header.points
                    ),
                ));
            }
            builder
        }
        PcdData::Binary => {
            let n = header.points;
            let needed = n.checked_mul(point_size as u64);
            if needed.is_none_or(|b| b > data.len() as u64) {
                return Err(FormatError::invalid(
                    Location::file(name),
                    format!(
                        "truncated: the header declares {n} points of {point_size} bytes, the \
                         data holds {} bytes",
                        data.len()
                    ),
                ));
            }
            let n = usize::try_from(n).unwrap_or(0);
            let mut builder = CloudBuilder::new(keep, n, scale);
            let offsets = field_offsets(&header.fields);
            let mut sample = Sample { values: vec![0.0; n_fields], packed: 0 };
            for record in data.chunks_exact(point_size.max(1)).take(n) {
                fill_sample(&mut sample, &header.fields, &roles, |fi| {
                    offsets.get(fi).and_then(|&o| record.get(o..)).unwrap_or_default()
                });
                emit(&mut builder, &sample);
            }
            builder
        }
        PcdData::BinaryCompressed => {
            let raw = decompress_body(data, &header, name)?;
            let n = usize::try_from(header.points).unwrap_or(0);
            let mut builder = CloudBuilder::new(keep, n, scale);
            // Field f's column starts at points × (sum of the sizes of the fields before it).
            let columns: Vec<usize> = field_offsets(&header.fields).iter().map(|o| o * n).collect();
            let mut sample = Sample { values: vec![0.0; n_fields], packed: 0 };
            let strides: Vec<usize> = header.fields.iter().map(PcdField::bytes).collect();
            for i in 0..n {
                fill_sample(&mut sample, &header.fields, &roles, |fi| {
                    match (columns.get(fi), strides.get(fi)) {
                        (Some(c), Some(s)) => raw.get(c + i * s..).unwrap_or_default(),
                        _ => &[],
                    }
                });
                emit(&mut builder, &sample);
            }
            builder
        }
    };
    let (cloud, dropped) = builder.finish();
    report.dropped_non_finite = dropped;
    if dropped > 0 {
        report.notes.push(format!("{dropped} points with NaN/infinite coordinates dropped"));
    }
    if saturated_labels > 0 {
        report.notes.push(format!("{saturated_labels} labels outside 0..=255 saturated"));
    }
    Ok(LoadedCloud { cloud, report })
}

fn parse_ascii(tok: &str) -> Option<f64> {
    tok.parse::<f64>().ok()
}

fn field_offsets(fields: &[PcdField]) -> Vec<usize> {
    let mut off = 0;
    fields
        .iter()
        .map(|f| {
            let o = off;
            off += f.bytes();
            o
        })
        .collect()
}

/// Fills `sample` from the bytes `at(field index)` returns for one point.
fn fill_sample<'b>(
    sample: &mut Sample,
    fields: &[PcdField],
    roles: &Roles,
    at: impl Fn(usize) -> &'b [u8],
) {
    for (fi, f) in fields.iter().enumerate() {
        let b = at(fi);
        if let Some(slot) = sample.values.get_mut(fi) {
            *slot = scalar(b, f);
        }
        if Some(fi) == roles.packed_rgb {
            sample.packed = packed_bits(b);
        }
    }
}

fn decompress_body(data: &[u8], header: &PcdHeader, name: &str) -> Result<Vec<u8>, FormatError> {
    let err = |m: String| FormatError::invalid(Location::file(name).at_field("DATA"), m);
    let word =
        |at: usize| data.get(at..at + 4).and_then(|s| s.try_into().ok()).map(u32::from_le_bytes);
    let (Some(compressed), Some(uncompressed)) = (word(0), word(4)) else {
        return Err(err("truncated: binary_compressed data has no size words".into()));
    };
    let expected = header.points.checked_mul(header.point_size() as u64);
    if expected != Some(u64::from(uncompressed)) {
        return Err(err(format!(
            "corrupt: {} points of {} bytes need {} bytes, the compressed block claims {uncompressed}",
            header.points,
            header.point_size(),
            expected.map_or("too many".to_string(), |e| e.to_string())
        )));
    }
    let payload = data
        .get(8..)
        .and_then(|d| d.get(..usize::try_from(compressed).unwrap_or(usize::MAX)))
        .ok_or_else(|| {
            err(format!(
                "truncated: the compressed block claims {compressed} bytes, the file holds {}",
                data.len().saturating_sub(8)
            ))
        })?;
    lzf_decompress(payload, usize::try_from(uncompressed).unwrap_or(usize::MAX))
        .map_err(|e| err(format!("corrupt compressed data: {e}")))
}

/// Why LZF data could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LzfError {
    /// The output would not fit the declared size.
    #[error("output overruns the declared {0} bytes")]
    OutputOverrun(usize),
    /// A back reference points before the start of the output.
    #[error("back reference before the start of the output at input byte {0}")]
    BadReference(usize),
    /// The input ends inside an instruction.
    #[error("input ends inside an instruction at byte {0}")]
    TruncatedInput(usize),
    /// The input ended before the declared size was produced.
    #[error("input produced {got} of the declared {expected} bytes")]
    ShortOutput {
        /// Bytes produced.
        got: usize,
        /// Bytes declared.
        expected: usize,
    },
    /// The declared size is impossible for this much input.
    #[error("{expected} bytes cannot come from {input} bytes of LZF")]
    ImplausibleSize {
        /// Bytes declared.
        expected: usize,
        /// Input bytes.
        input: usize,
    },
}

/// Decompresses LZF (liblzf's format, as PCL writes it) into exactly `out_len` bytes.
pub fn lzf_decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, LzfError> {
    // One 3-byte back reference expands to at most 264 bytes.
    if out_len / 88 > input.len() + 1 {
        return Err(LzfError::ImplausibleSize { expected: out_len, input: input.len() });
    }
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = usize::from(input.get(ip).copied().unwrap_or(0));
        ip += 1;
        if ctrl < 32 {
            let len = ctrl + 1;
            let lit = input.get(ip..ip + len).ok_or(LzfError::TruncatedInput(ip))?;
            if out.len() + len > out_len {
                return Err(LzfError::OutputOverrun(out_len));
            }
            out.extend_from_slice(lit);
            ip += len;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip).ok_or(LzfError::TruncatedInput(ip))?);
                ip += 1;
            }
            let low = usize::from(*input.get(ip).ok_or(LzfError::TruncatedInput(ip))?);
            ip += 1;
            len += 2;
            let back = ((ctrl & 0x1f) << 8) + low + 1;
            let from = out.len().checked_sub(back).ok_or(LzfError::BadReference(ip))?;
            if out.len() + len > out_len {
                return Err(LzfError::OutputOverrun(out_len));
            }
            // Overlapping copy, byte by byte where the reference runs into the new bytes.
            for k in 0..len {
                let b = out.get(from + k).copied().ok_or(LzfError::BadReference(ip))?;
                out.push(b);
            }
        }
    }
    if out.len() != out_len {
        return Err(LzfError::ShortOutput { got: out.len(), expected: out_len });
    }
    Ok(out)
}

/// Compresses `input` with LZF (liblzf's format; greedy matching with a small hash table).
/// PCD `binary_compressed` writers and round-trip tests use it.
pub fn lzf_compress(input: &[u8]) -> Vec<u8> {
    const HASH_BITS: u32 = 14;
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = (1 << 8) + (1 << 3);
    let mut out = Vec::with_capacity(input.len() + input.len() / 32 + 2);
    let mut table = vec![usize::MAX; 1 << HASH_BITS];
    let mut literal: Vec<u8> = Vec::with_capacity(32);
    let flush = |out: &mut Vec<u8>, literal: &mut Vec<u8>| {
        if !literal.is_empty() {
            out.push((literal.len() - 1) as u8);
            out.extend_from_slice(literal);
            literal.clear();
        }
    };
    let hash = |b: &[u8]| -> usize {
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
    };
    let mut i = 0usize;
    while i < input.len() {
        if i + 3 <= input.len() {
            let h = hash(&input[i..i + 3]);
            let cand = table[h];
            table[h] = i;
            if cand != usize::MAX && i - cand <= MAX_OFF && input[cand..cand + 3] == input[i..i + 3]
            {
                let mut len = 3;
                while i + len < input.len() && len < MAX_REF && input[cand + len] == input[i + len]
                {
                    len += 1;
                }
                flush(&mut out, &mut literal);
                let off = i - cand - 1;
                let l = len - 2;
                if l < 7 {
                    out.push(((l << 5) | (off >> 8)) as u8);
                } else {
                    out.push(((7 << 5) | (off >> 8)) as u8);
                    out.push((l - 7) as u8);
                }
                out.push((off & 0xff) as u8);
                i += len;
                continue;
            }
        }
        literal.push(input[i]);
        if literal.len() == 32 {
            flush(&mut out, &mut literal);
        }
        i += 1;
    }
    flush(&mut out, &mut literal);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn header(fields: &str, size: &str, ty: &str, n: usize, data: &str) -> String {
        format!(
            "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS {fields}\n\
             SIZE {size}\nTYPE {ty}\nCOUNT {}\nWIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\n\
             POINTS {n}\nDATA {data}\n",
            vec!["1"; fields.split(' ').count()].join(" ")
        )
    }

    #[test]
    fn lzf_round_trips_random_and_repetitive_data() {
        let mut rng = fastrand::Rng::with_seed(7);
        for len in [0usize, 1, 5, 31, 32, 33, 1000, 70_000] {
            let random: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            let repetitive: Vec<u8> = (0..len).map(|i| (i % 13) as u8).collect();
            for data in [random, repetitive] {
                let c = lzf_compress(&data);
                assert_eq!(lzf_decompress(&c, data.len()).unwrap(), data);
            }
        }
    }

    #[test]
    fn lzf_rejects_garbage_without_panicking() {
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..2000 {
            let len = rng.usize(0..64);
            let garbage: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            let _ = lzf_decompress(&garbage, rng.usize(0..512));
        }
        assert_eq!(lzf_decompress(&[0x20, 0x00], 3), Err(LzfError::BadReference(2)));
        assert_eq!(lzf_decompress(&[0x05, 1], 6), Err(LzfError::TruncatedInput(1)));
        assert!(lzf_decompress(&[], 1_000_000).is_err());
    }

    fn compressed_pcd(points: &[[f32; 4]], nan_every: usize) -> Vec<u8> {
        let n = points.len();
        let mut cols: Vec<u8> = Vec::new();
        for k in 0..3 {
            for (i, p) in points.iter().enumerate() {
                let v = if nan_every > 0 && i % nan_every == 0 { f32::NAN } else { p[k] };
                cols.extend_from_slice(&v.to_le_bytes());
            }
        }
        for p in points {
            cols.push(p[3] as u8);
        }
        let c = lzf_compress(&cols);
        let mut bytes =
            header("x y z intensity", "4 4 4 1", "F F F U", n, "binary_compressed").into_bytes();
        bytes.extend_from_slice(&(c.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(cols.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&c);
        bytes
    }

    #[test]
    fn binary_compressed_round_trip_drops_nan_points() {
        let pts: Vec<[f32; 4]> =
            (0..500).map(|i| [i as f32 * 0.5, -(i as f32), 2.0, (i % 256) as f32]).collect();
        let bytes = compressed_pcd(&pts, 10);
        let loaded = read(&bytes, "c.pcd", &LoadOptions::default()).unwrap();
        assert_eq!(loaded.report.dropped_non_finite, 50);
        assert_eq!(loaded.cloud.len(), 450);
        assert_eq!(loaded.cloud.positions[0], [0.5, -1.0, 2.0]);
        assert_eq!(loaded.cloud.intensity.as_ref().unwrap()[0], 257);
        assert!(loaded.cloud.classification.is_none(), "no label field, no classification");
    }

    #[test]
    fn corrupt_and_truncated_compressed_data_are_errors() {
        let pts: Vec<[f32; 4]> = (0..100).map(|i| [i as f32, 0.0, 0.0, 1.0]).collect();
        let bytes = compressed_pcd(&pts, 0);
        for cut in [bytes.len() - 1, bytes.len() - 40] {
            let err = read(&bytes[..cut], "t.pcd", &LoadOptions::default()).unwrap_err();
            assert!(err.to_string().contains("t.pcd"));
        }
        let mut flipped = bytes.clone();
        let at = flipped.len() - 30;
        flipped[at] ^= 0xff;
        flipped[at + 1] ^= 0x5a;
        // Either a clean error or a cloud of the right size: never a panic.
        if let Ok(l) = read(&flipped, "f.pcd", &LoadOptions::default()) {
            assert!(l.cloud.len() <= 100);
        }
    }

    #[test]
    fn ascii_with_packed_float_rgb_and_label() {
        let rgb = f32::from_bits(0x00ff_0080);
        let mut text = header("x y z rgb label", "4 4 4 4 4", "F F F F U", 2, "ascii");
        text.push_str(&format!("1 2 3 {rgb:e} 7\nnan 0 0 {rgb:e} 300\n"));
        let loaded = read(text.as_bytes(), "a.pcd", &LoadOptions::all()).unwrap();
        assert_eq!(loaded.cloud.len(), 1);
        assert_eq!(loaded.cloud.rgb, Some(vec![[65535, 0, 128 * 257]]));
        assert_eq!(loaded.cloud.classification, Some(vec![7]));
        assert_eq!(loaded.report.dropped_non_finite, 1);
    }

    #[test]
    fn ascii_short_data_and_missing_fields_are_errors() {
        let mut text = header("x y z", "4 4 4", "F F F", 3, "ascii");
        text.push_str("1 2 3\n4 5 6\n");
        let err = read(text.as_bytes(), "s.pcd", &LoadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("declares 3 points"), "{err}");
        let text = header("a b c", "4 4 4", "F F F", 0, "ascii");
        assert!(read(text.as_bytes(), "m.pcd", &LoadOptions::default()).is_err());
        assert!(read(b"1 2 3\n4 5 6\n", "h.pcd", &LoadOptions::default()).is_err());
    }

    #[test]
    fn binary_with_mixed_types_and_counts() {
        // x F8, y F8, z F8, pad U1 ×3, intensity U2.
        let mut text = "VERSION .5\nFIELDS x y z _ intensity\nSIZE 8 8 8 1 2\nTYPE F F F U U\n\
                        COUNT 1 1 1 3 1\nWIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA binary\n"
            .to_string()
            .into_bytes();
        for (x, i) in [(637_000.25f64, 1000u16), (637_001.25, 2000)] {
            text.extend_from_slice(&x.to_le_bytes());
            text.extend_from_slice(&850_000.25f64.to_le_bytes());
            text.extend_from_slice(&10.0f64.to_le_bytes());
            text.extend_from_slice(&[9, 9, 9]);
            text.extend_from_slice(&i.to_le_bytes());
        }
        let loaded = read(&text, "b.pcd", &LoadOptions::default()).unwrap();
        let c = &loaded.cloud;
        assert_eq!(c.origin, [637_000.0, 850_000.0, 0.0]);
        assert_eq!(c.world_position(1).unwrap(), [637_001.25, 850_000.25, 10.0]);
        assert_eq!(c.intensity, Some(vec![1000, 2000]));
        let err = read(&text[..text.len() - 1], "b.pcd", &LoadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("truncated"));
    }
}
