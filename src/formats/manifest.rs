//! Input manifests (spec §1): JSON Lines, one data object per line, each with exactly one of
//! `source-ref` (S3 URI of the object) or `source` (the data itself, as text); every other key is
//! carried through untouched, in order.
//!
//! Also owns the bounded JSON Lines reader ([`JsonLinesReader`]) that the output-manifest reader
//! reuses: it never holds more than one line in memory, and a line longer than
//! [`MAX_LINE_CHARS`] is reported as an error naming the line without being buffered.
//!
//! Blank lines: the spec (§1.1, JSON Lines) has one object per line and says nothing of blank
//! lines. The reader skips empty and whitespace-only lines (line numbers still count them), so a
//! trailing newline or an accidental empty line does not fail a whole manifest; writers never
//! emit them. A UTF-8 byte-order mark before the first line is skipped too.
//!
//! Must not depend on other `formats` modules except `error` and `json`.

use std::io::BufRead;

use serde_json::{Map, Value};

use super::error::{FormatError, Location};
use super::json::{Ctx, kind, parse_value};

/// Longest manifest line Ground Truth accepts, in characters (§1.1).
pub const MAX_LINE_CHARS: usize = 100_000;

/// Longest single attribute value Ground Truth accepts, in characters (§1.1). Not enforced by the
/// reader (it is a job-validation rule); see [`ManifestLine::oversized_values`].
pub const MAX_VALUE_CHARS: usize = 20_000;

/// Key of the S3 URI data source.
pub const SOURCE_REF: &str = "source-ref";
/// Key of the inline text data source.
pub const SOURCE: &str = "source";

/// The data object a manifest line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// `source-ref`: an S3 URI (`s3://bucket/key`) of a binary object or a sequence file. The
    /// reader does not insist on the `s3://` scheme (AWS's own examples put placeholders here);
    /// job validation does.
    SourceRef(String),
    /// `source`: the data itself (text for text classification and NER).
    Source(String),
}

impl DataSource {
    /// The JSON key: `source-ref` or `source`.
    pub fn key(&self) -> &'static str {
        match self {
            Self::SourceRef(_) => SOURCE_REF,
            Self::Source(_) => SOURCE,
        }
    }

    /// The URI or the text.
    pub fn value(&self) -> &str {
        match self {
            Self::SourceRef(s) | Self::Source(s) => s,
        }
    }

    /// Reads the data source of a line's top-level object and removes its key from `map`.
    pub(crate) fn take(map: &mut Map<String, Value>, ctx: &Ctx<'_>) -> Result<Self, FormatError> {
        let source_ref = map.shift_remove(SOURCE_REF);
        let source = map.shift_remove(SOURCE);
        let as_string = |key: &str, v: Value| match v {
            Value::String(s) => Ok(s),
            other => Err(ctx.error(key, format!("expected a string, found {}", kind(&other)))),
        };
        match (source_ref, source) {
            (Some(r), None) => Ok(Self::SourceRef(as_string(SOURCE_REF, r)?)),
            (None, Some(s)) => Ok(Self::Source(as_string(SOURCE, s)?)),
            (Some(_), Some(_)) => Err(ctx.error(
                SOURCE_REF,
                "the line has both `source-ref` and `source`; a data object uses exactly one",
            )),
            (None, None) => Err(ctx.error(
                "",
                "the line has neither `source-ref` nor `source`; every data object needs one",
            )),
        }
    }
}

/// One input-manifest line: the data source plus every other key, in the order read.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestLine {
    /// `source-ref` or `source`.
    pub source: DataSource,
    /// All other keys (`source-ref-metadata`, earlier jobs' labels, user IDs, `$`-prefixed
    /// streaming keys …), exactly as read and in order.
    pub extra: Map<String, Value>,
}

impl ManifestLine {
    /// A line with only a data source.
    pub fn new(source: DataSource) -> Self {
        Self { source, extra: Map::new() }
    }

    /// Decodes a parsed line. `line` is the 1-based line number for errors.
    pub fn from_value(value: Value, file: &str, line: Option<usize>) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, line);
        let mut map = match value {
            Value::Object(map) => map,
            other => {
                return Err(ctx.error(
                    "",
                    format!("expected a JSON object on the line, found {}", kind(&other)),
                ));
            }
        };
        let source = DataSource::take(&mut map, &ctx)?;
        Ok(Self { source, extra: map })
    }

    /// Parses one line of text (without its newline).
    pub fn parse_line(text: &str, file: &str, line: usize) -> Result<Self, FormatError> {
        check_line_length(text, file, line)?;
        Self::from_value(parse_value(text, file, line)?, file, Some(line))
    }

    /// The line as a JSON object: the data source first, then the other keys in order.
    pub fn to_value(&self) -> Value {
        let mut map = Map::with_capacity(self.extra.len() + 1);
        map.insert(self.source.key().to_owned(), Value::String(self.source.value().to_owned()));
        for (k, v) in &self.extra {
            if k != SOURCE && k != SOURCE_REF {
                map.insert(k.clone(), v.clone());
            }
        }
        Value::Object(map)
    }

    /// The line as compact JSON, without a newline.
    pub fn to_json_line(&self) -> String {
        self.to_value().to_string()
    }

    /// Keys whose value, written as JSON, is longer than [`MAX_VALUE_CHARS`] characters
    /// (the data source included).
    pub fn oversized_values(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if self.source.value().chars().count() > MAX_VALUE_CHARS {
            keys.push(self.source.key().to_owned());
        }
        for (k, v) in &self.extra {
            let len = match v {
                Value::String(s) => s.chars().count(),
                other => other.to_string().chars().count(),
            };
            if len > MAX_VALUE_CHARS {
                keys.push(k.clone());
            }
        }
        keys
    }
}

/// Input manifest reading and writing.
#[derive(Debug, Clone, Copy)]
pub struct InputManifest;

impl InputManifest {
    /// Parses a whole manifest held in memory. Stops at the first bad line; the error names
    /// `file_name`, the line and the field.
    pub fn parse(text: &str, file_name: &str) -> Result<Vec<ManifestLine>, FormatError> {
        ManifestReader::new(text.as_bytes(), file_name).collect()
    }

    /// Writes lines as JSON Lines: one compact object per line, each ending in `\n`.
    pub fn to_jsonl(lines: &[ManifestLine]) -> String {
        let mut out = String::new();
        for line in lines {
            out.push_str(&line.to_json_line());
            out.push('\n');
        }
        out
    }
}

/// Fails when `text` is longer than [`MAX_LINE_CHARS`] characters.
pub(crate) fn check_line_length(text: &str, file: &str, line: usize) -> Result<(), FormatError> {
    // A string of n bytes has at most n characters: count only when it could matter.
    if text.len() > MAX_LINE_CHARS {
        let chars = text.chars().count();
        if chars > MAX_LINE_CHARS {
            return Err(FormatError::invalid(
                Location::file(file).at_line(line),
                format!(
                    "the line is {chars} characters long; Ground Truth allows at most {MAX_LINE_CHARS}"
                ),
            ));
        }
    }
    Ok(())
}

/// A UTF-8 character takes at most four bytes, so a line within the limit fits in this many.
const MAX_LINE_BYTES: usize = MAX_LINE_CHARS * 4;

/// Reads JSON Lines from any [`BufRead`] one line at a time, in bounded memory. Yields each
/// non-blank line's 1-based number and parsed JSON value. After an error the reader moves on to
/// the next line, so a caller may collect every bad line rather than stop at the first.
pub struct JsonLinesReader<R> {
    reader: R,
    file: String,
    line: usize,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> JsonLinesReader<R> {
    /// A reader over `reader`; `file` names the source in errors.
    pub fn new(reader: R, file: impl Into<String>) -> Self {
        Self { reader, file: file.into(), line: 0, buf: Vec::new(), done: false }
    }

    /// The file name used in errors.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The next raw line: `Ok(Some(true))` when it fit in the byte limit (its bytes are in
    /// `self.buf`), `Ok(Some(false))` when it was too long (skipped), `Ok(None)` at the end.
    fn read_raw(&mut self) -> Result<Option<bool>, FormatError> {
        self.buf.clear();
        let mut overflow = false;
        let mut any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(FormatError::io(self.file.clone(), e)),
            };
            if available.is_empty() {
                return Ok(any.then_some(!overflow));
            }
            any = true;
            let (chunk, used, newline) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            if !overflow {
                if self.buf.len() + chunk.len() > MAX_LINE_BYTES {
                    overflow = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.reader.consume(used);
            if newline {
                return Ok(Some(!overflow));
            }
        }
    }

    /// The next non-blank line as text, with its number.
    pub fn next_text(&mut self) -> Option<Result<(usize, String), FormatError>> {
        while !self.done {
            let fits = match self.read_raw() {
                Ok(Some(fits)) => fits,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            self.line += 1;
            let location = Location::file(self.file.clone()).at_line(self.line);
            if !fits {
                return Some(Err(FormatError::invalid(
                    location,
                    format!(
                        "the line is longer than {MAX_LINE_CHARS} characters, the most Ground Truth allows"
                    ),
                )));
            }
            let mut bytes = self.buf.as_slice();
            if self.line == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            if let Some(stripped) = bytes.strip_suffix(b"\r") {
                bytes = stripped;
            }
            let text = match std::str::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    return Some(Err(FormatError::invalid(
                        location,
                        format!("the line is not valid UTF-8 (byte {})", e.valid_up_to() + 1),
                    )));
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            if let Err(e) = check_line_length(text, &self.file, self.line) {
                return Some(Err(e));
            }
            return Some(Ok((self.line, text.to_owned())));
        }
        None
    }
}

impl<R: BufRead> Iterator for JsonLinesReader<R> {
    type Item = Result<(usize, Value), FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (line, text) = match self.next_text()? {
            Ok(t) => t,
            Err(e) => return Some(Err(e)),
        };
        Some(parse_value(&text, &self.file, line).map(|v| (line, v)))
    }
}

/// Streams an input manifest line by line ([`JsonLinesReader`] + [`ManifestLine::from_value`]).
pub struct ManifestReader<R> {
    lines: JsonLinesReader<R>,
}

impl<R: BufRead> ManifestReader<R> {
    /// A reader over `reader`; `file` names the source in errors.
    pub fn new(reader: R, file: impl Into<String>) -> Self {
        Self { lines: JsonLinesReader::new(reader, file) }
    }
}

impl<R: BufRead> Iterator for ManifestReader<R> {
    type Item = Result<ManifestLine, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.lines.next()?;
        Some(item.and_then(|(line, value)| {
            ManifestLine::from_value(value, self.lines.file(), Some(line))
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_both_sources_and_keeps_other_keys_in_order() {
        let text = "{\"source-ref\": \"s3://b/img.jpg\", \"z\": 1, \"a\": {\"k\": [1, 2]}, \"$seq\": \"x\"}\r\n\
                    {\"source\": \"The shipment arrived two days late.\"}\n";
        let lines = InputManifest::parse(text, "in.manifest").unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].source, DataSource::SourceRef("s3://b/img.jpg".into()));
        assert_eq!(lines[0].extra.keys().collect::<Vec<_>>(), vec!["z", "a", "$seq"]);
        assert_eq!(
            lines[1].source,
            DataSource::Source("The shipment arrived two days late.".into())
        );
        let written = InputManifest::to_jsonl(&lines);
        assert_eq!(
            written,
            "{\"source-ref\":\"s3://b/img.jpg\",\"z\":1,\"a\":{\"k\":[1,2]},\"$seq\":\"x\"}\n\
             {\"source\":\"The shipment arrived two days late.\"}\n"
        );
        assert_eq!(InputManifest::parse(&written, "out").unwrap(), lines);
    }

    #[test]
    fn blank_lines_are_skipped_but_counted() {
        let text = "\n{\"source\": \"a\"}\n   \n\n{\"source\": 5}\n";
        let err = InputManifest::parse(text, "m.manifest").unwrap_err().to_string();
        assert_eq!(err, "m.manifest:5: field `source`: expected a string, found a number");
    }

    #[test]
    fn source_rules_are_enforced() {
        let both = ManifestLine::parse_line(r#"{"source": "a", "source-ref": "s3://b/k"}"#, "f", 3);
        let msg = both.unwrap_err().to_string();
        assert!(msg.starts_with("f:3: field `source-ref`: the line has both"), "{msg}");
        let neither = ManifestLine::parse_line(r#"{"id": 1}"#, "f", 4).unwrap_err().to_string();
        assert!(msg_has(&neither, "f:4: ", "neither"), "{neither}");
        let array = ManifestLine::parse_line("[1]", "f", 5).unwrap_err().to_string();
        assert!(msg_has(&array, "f:5: ", "found an array"), "{array}");
        let bad = ManifestLine::parse_line(r#"{"source-ref": "#, "f", 6).unwrap_err().to_string();
        assert!(msg_has(&bad, "f:6: ", "invalid JSON"), "{bad}");
    }

    fn msg_has(msg: &str, prefix: &str, part: &str) -> bool {
        msg.starts_with(prefix) && msg.contains(part)
    }

    #[test]
    fn over_long_lines_are_errors_and_the_reader_moves_on() {
        let long = format!("{{\"source\": \"{}\"}}", "x".repeat(200_000));
        let text = format!("{{\"source\": \"a\"}}\n{long}\n{{\"source\": \"b\"}}\n");
        let results: Vec<_> = ManifestReader::new(text.as_bytes(), "big.manifest").collect();
        assert_eq!(results.len(), 3);
        assert!(results[0].is_ok());
        let err = results[1].as_ref().unwrap_err().to_string();
        assert!(err.starts_with("big.manifest:2: ") && err.contains("100000"), "{err}");
        assert_eq!(results[2].as_ref().unwrap().source, DataSource::Source("b".into()));
        // Within the byte cap but over the character limit: the exact count is reported.
        let chars = format!("{{\"source\": \"{}\"}}", "x".repeat(MAX_LINE_CHARS));
        let err = InputManifest::parse(&chars, "c").unwrap_err().to_string();
        assert!(err.contains(&format!("{} characters", MAX_LINE_CHARS + 14)), "{err}");
        // Multi-byte characters count as one each: 99,990 'é' (2 bytes each) pass.
        let wide = format!("{{\"source\": \"{}\"}}", "é".repeat(MAX_LINE_CHARS - 14));
        assert_eq!(InputManifest::parse(&wide, "w").unwrap().len(), 1);
    }

    #[test]
    fn over_long_line_without_newline_at_end_of_file() {
        let text = format!("{{\"source\": \"{}", "y".repeat(500_000));
        let err = InputManifest::parse(&text, "t").unwrap_err().to_string();
        assert!(err.starts_with("t:1: the line is longer than"), "{err}");
    }

    #[test]
    fn byte_order_mark_and_invalid_utf8() {
        let text = "\u{feff}{\"source\": \"a\"}\n";
        assert_eq!(InputManifest::parse(text, "bom").unwrap().len(), 1);
        let bytes: &[u8] = b"{\"source\": \"a\"}\n{\"source\": \"\xff\"}\n";
        let err = ManifestReader::new(bytes, "u").nth(1).unwrap().unwrap_err().to_string();
        assert!(err.starts_with("u:2: the line is not valid UTF-8"), "{err}");
    }

    #[test]
    fn oversized_values_are_reported() {
        let mut line = ManifestLine::new(DataSource::Source("s".repeat(MAX_VALUE_CHARS + 1)));
        line.extra.insert("ok".into(), json!("short"));
        line.extra.insert("big".into(), json!(["x".repeat(MAX_VALUE_CHARS)]));
        assert_eq!(line.oversized_values(), vec!["source".to_owned(), "big".to_owned()]);
    }
}
