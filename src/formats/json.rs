//! JSON plumbing shared by the Ground Truth readers and writers: field-by-field decoding with
//! errors that name the file, line and field path, the lenient [`Index`] (number or numeric string),
//! and the number style every writer uses.
//!
//! Owns no format of its own. Must not depend on any other `formats` module except `error`.
//!
//! Number style (all writers): a value that is a whole number of magnitude below 2^53 is written as
//! a JSON integer (`111`, not `111.0`), anything else as a float. Confidence scores are the one
//! exception: Ground Truth writes them as floats (`0.0`), so they always are. Non-finite numbers
//! cannot be represented in JSON and are written as `null`.

use serde_json::{Map, Value};

use super::error::{FormatError, Location};

/// A non-negative integer that Ground Truth writes sometimes as a JSON number (`"class_id": 0`) and
/// sometimes as a numeric string (`"class-id": "0"`, `"species": "0"`). Readers accept both and
/// remember which form they saw, so an unmodified value is written back exactly as it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Index {
    /// The integer value.
    pub value: u64,
    /// True when the file wrote it as a string (`"0"`), false for a number (`0`).
    pub quoted: bool,
}

impl Index {
    /// An index written as a JSON number.
    pub fn number(value: u64) -> Self {
        Self { value, quoted: false }
    }

    /// An index written as a numeric string.
    pub fn string(value: u64) -> Self {
        Self { value, quoted: true }
    }

    /// The JSON form: a number or a string, as [`Index::quoted`] says.
    pub fn to_value(self) -> Value {
        if self.quoted { Value::String(self.value.to_string()) } else { Value::from(self.value) }
    }

    /// Reads a JSON number (non-negative integer, or a float with no fractional part) or a string
    /// of ASCII digits. `None` for anything else.
    pub fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => {
                if let Some(v) = n.as_u64() {
                    Some(Self::number(v))
                } else {
                    let f = n.as_f64()?;
                    (f >= 0.0 && f.fract() == 0.0 && f < 9_007_199_254_740_992.0)
                        .then(|| Self::number(f as u64))
                }
            }
            Value::String(s) => parse_digits(s).map(Self::string),
            _ => None,
        }
    }
}

impl std::fmt::Display for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.value)
    }
}

/// Parses a non-empty string of ASCII digits (no sign, no spaces) into a `u64`.
pub(crate) fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Largest magnitude below which an integral `f64` is written as a JSON integer (2^53).
const EXACT_INT_LIMIT: f64 = 9_007_199_254_740_992.0;

/// A number in the writers' style: integral values as JSON integers, others as floats,
/// non-finite values as `null`.
pub(crate) fn num(v: f64) -> Value {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < EXACT_INT_LIMIT {
        // The cast is exact: |v| < 2^53 and v is integral.
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

/// A confidence score: always a JSON float, as Ground Truth writes them.
pub(crate) fn float(v: f64) -> Value {
    Value::from(v)
}

/// Where the value being decoded lives: the file, an optional 1-based line, and the JSON path
/// (`boxes.annotations[1].left`).
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub line: Option<usize>,
}

impl<'a> Ctx<'a> {
    pub fn new(file: &'a str, line: Option<usize>) -> Self {
        Self { file, line }
    }

    /// A location naming `path` (no field when the path is empty).
    pub fn location(&self, path: &str) -> Location {
        let mut location = Location::file(self.file);
        location.line = self.line;
        if !path.is_empty() {
            location.field = Some(path.to_owned());
        }
        location
    }

    /// An error at `path`.
    pub fn error(&self, path: &str, message: impl Into<String>) -> FormatError {
        FormatError::invalid(self.location(path), message)
    }
}

/// Joins a parent path and a key: `a` + `b` → `a.b`; `` + `b` → `b`.
pub(crate) fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_owned() } else { format!("{parent}.{key}") }
}

/// `a` + 3 → `a[3]`.
pub(crate) fn item_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// A short word for a JSON value's kind, for error messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses `text` as one JSON value. On failure the error names the file and the line (the
/// 1-based line within `text`, offset by `first_line - 1`).
pub(crate) fn parse_value(text: &str, file: &str, first_line: usize) -> Result<Value, FormatError> {
    serde_json::from_str(text).map_err(|e| {
        let line = first_line + e.line().saturating_sub(1);
        let message = strip_position(&e);
        FormatError::invalid(
            Location::file(file).at_line(line),
            format!("invalid JSON at column {}: {message}", e.column()),
        )
    })
}

/// serde_json's message without its trailing " at line L column C".
fn strip_position(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

/// Decodes one JSON object field by field. Every key that is read is marked used; [`Obj::rest`]
/// returns the keys nobody read, in their original order, so unknown fields survive a round trip.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    ctx: &'a Ctx<'a>,
    used: std::collections::BTreeSet<&'a str>,
}

impl<'a> Obj<'a> {
    /// `value` as an object, or an error naming `path`.
    pub fn new(value: &'a Value, path: &str, ctx: &'a Ctx<'a>) -> Result<Self, FormatError> {
        match value {
            Value::Object(map) => Ok(Self::from_map(map, path, ctx)),
            other => Err(ctx.error(path, format!("expected an object, found {}", kind(other)))),
        }
    }

    pub fn from_map(map: &'a Map<String, Value>, path: &str, ctx: &'a Ctx<'a>) -> Self {
        Self { map, path: path.to_owned(), ctx, used: std::collections::BTreeSet::new() }
    }

    pub fn ctx(&self) -> &'a Ctx<'a> {
        self.ctx
    }

    /// The JSON path of `key` in this object.
    pub fn path_of(&self, key: &str) -> String {
        child_path(&self.path, key)
    }

    /// An error at `key`.
    pub fn error(&self, key: &str, message: impl Into<String>) -> FormatError {
        self.ctx.error(&self.path_of(key), message)
    }

    /// The value under `key` (marking it used), if present.
    pub fn get(&mut self, key: &str) -> Option<&'a Value> {
        let (k, v) = self.map.get_key_value(key)?;
        self.used.insert(k.as_str());
        Some(v)
    }

    /// The first of `keys` that is present, with the spelling found.
    pub fn get_any(&mut self, keys: &[&'static str]) -> Option<(&'static str, &'a Value)> {
        // The first spelling present wins; any other spelling stays unread (kept as unknown).
        keys.iter().find_map(|key| self.get(key).map(|v| (*key, v)))
    }

    pub fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub fn req(&mut self, key: &str) -> Result<&'a Value, FormatError> {
        self.get(key).ok_or_else(|| self.error(key, "required field is missing"))
    }

    fn expect_str(&self, key: &str, v: &'a Value) -> Result<&'a str, FormatError> {
        v.as_str().ok_or_else(|| self.error(key, format!("expected a string, found {}", kind(v))))
    }

    fn expect_f64(&self, key: &str, v: &Value) -> Result<f64, FormatError> {
        v.as_f64().ok_or_else(|| self.error(key, format!("expected a number, found {}", kind(v))))
    }

    pub fn req_str(&mut self, key: &str) -> Result<String, FormatError> {
        let v = self.req(key)?;
        self.expect_str(key, v).map(str::to_owned)
    }

    pub fn opt_str(&mut self, key: &str) -> Result<Option<String>, FormatError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => self.expect_str(key, v).map(|s| Some(s.to_owned())),
        }
    }

    pub fn req_f64(&mut self, key: &str) -> Result<f64, FormatError> {
        let v = self.req(key)?;
        self.expect_f64(key, v)
    }

    pub fn opt_f64(&mut self, key: &str) -> Result<Option<f64>, FormatError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => self.expect_f64(key, v).map(Some),
        }
    }

    pub fn opt_bool(&mut self, key: &str) -> Result<Option<bool>, FormatError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(self.error(key, format!("expected true or false, found {}", kind(v)))),
        }
    }

    /// A whole number (JSON integer, or float without fraction) that fits in `i64`.
    pub fn req_i64(&mut self, key: &str) -> Result<i64, FormatError> {
        let v = self.req(key)?;
        self.to_i64(key, v)
    }

    fn to_i64(&self, key: &str, v: &Value) -> Result<i64, FormatError> {
        if let Some(i) = v.as_i64() {
            return Ok(i);
        }
        match v.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < EXACT_INT_LIMIT => Ok(f as i64),
            Some(f) => Err(self.error(key, format!("expected an integer, found {f}"))),
            None => Err(self.error(key, format!("expected an integer, found {}", kind(v)))),
        }
    }

    pub fn req_u64(&mut self, key: &str) -> Result<u64, FormatError> {
        let i = self.req_i64(key)?;
        u64::try_from(i)
            .map_err(|_| self.error(key, format!("expected a non-negative integer, found {i}")))
    }

    pub fn req_index(&mut self, key: &str) -> Result<Index, FormatError> {
        let v = self.req(key)?;
        self.to_index(key, v)
    }

    pub fn opt_index(&mut self, key: &str) -> Result<Option<Index>, FormatError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => self.to_index(key, v).map(Some),
        }
    }

    fn to_index(&self, key: &str, v: &Value) -> Result<Index, FormatError> {
        Index::from_value(v).ok_or_else(|| {
            let found = match v {
                Value::String(s) => format!("the string {s:?}"),
                other => kind(other).to_owned(),
            };
            self.error(
                key,
                format!("expected a non-negative integer or numeric string, found {found}"),
            )
        })
    }

    /// An object under `key` (any keys), cloned.
    pub fn opt_map(&mut self, key: &str) -> Result<Option<Map<String, Value>>, FormatError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(v) => Err(self.error(key, format!("expected an object, found {}", kind(v)))),
        }
    }

    /// A nested object decoder for `key`.
    pub fn req_obj(&mut self, key: &str) -> Result<Obj<'a>, FormatError> {
        let v = self.req(key)?;
        Obj::new(v, &self.path_of(key), self.ctx)
    }

    /// Decodes the array under `key` with `f(item, item_path)`.
    pub fn req_array<T>(
        &mut self,
        key: &str,
        f: impl FnMut(&'a Value, &str) -> Result<T, FormatError>,
    ) -> Result<Vec<T>, FormatError> {
        let v = self.req(key)?;
        self.decode_array(key, v, f)
    }

    pub fn opt_array<T>(
        &mut self,
        key: &str,
        f: impl FnMut(&'a Value, &str) -> Result<T, FormatError>,
    ) -> Result<Option<Vec<T>>, FormatError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => self.decode_array(key, v, f).map(Some),
        }
    }

    fn decode_array<T>(
        &self,
        key: &str,
        v: &'a Value,
        mut f: impl FnMut(&'a Value, &str) -> Result<T, FormatError>,
    ) -> Result<Vec<T>, FormatError> {
        let path = self.path_of(key);
        let items = v
            .as_array()
            .ok_or_else(|| self.error(key, format!("expected an array, found {}", kind(v))))?;
        items.iter().enumerate().map(|(i, item)| f(item, &item_path(&path, i))).collect()
    }

    /// The keys nobody read, in their original order.
    pub fn rest(self) -> Map<String, Value> {
        self.map
            .iter()
            .filter(|(k, _)| !self.used.contains(k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Reads an array of strings at `path`.
pub(crate) fn string_list(
    value: &Value,
    path: &str,
    ctx: &Ctx<'_>,
) -> Result<Vec<String>, FormatError> {
    let items = value.as_array().ok_or_else(|| {
        ctx.error(path, format!("expected an array of strings, found {}", kind(value)))
    })?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_str().map(str::to_owned).ok_or_else(|| {
                ctx.error(&item_path(path, i), format!("expected a string, found {}", kind(item)))
            })
        })
        .collect()
}

/// Reads a number at `path`.
pub(crate) fn number_at(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<f64, FormatError> {
    value
        .as_f64()
        .ok_or_else(|| ctx.error(path, format!("expected a number, found {}", kind(value))))
}

/// Reads an [`Index`] at `path`.
pub(crate) fn index_at(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Index, FormatError> {
    Index::from_value(value).ok_or_else(|| {
        ctx.error(
            path,
            format!("expected a non-negative integer or numeric string, found {}", kind(value)),
        )
    })
}

/// Builds a JSON object in a fixed key order, then appends the unknown keys kept from reading.
#[derive(Default)]
pub(crate) struct ObjWriter {
    map: Map<String, Value>,
}

impl ObjWriter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&mut self, key: &str, value: Value) -> &mut Self {
        self.map.insert(key.to_owned(), value);
        self
    }

    pub fn put_opt(&mut self, key: &str, value: Option<Value>) -> &mut Self {
        if let Some(v) = value {
            self.map.insert(key.to_owned(), v);
        }
        self
    }

    pub fn put_str(&mut self, key: &str, value: &str) -> &mut Self {
        self.put(key, Value::String(value.to_owned()))
    }

    pub fn put_opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        self.put_opt(key, value.map(|s| Value::String(s.to_owned())))
    }

    pub fn put_num(&mut self, key: &str, value: f64) -> &mut Self {
        self.put(key, num(value))
    }

    pub fn put_opt_num(&mut self, key: &str, value: Option<f64>) -> &mut Self {
        self.put_opt(key, value.map(num))
    }

    /// Appends `extra` keys that are not already set (a typed field always wins).
    pub fn extend(&mut self, extra: &Map<String, Value>) -> &mut Self {
        for (k, v) in extra {
            if !self.map.contains_key(k) {
                self.map.insert(k.clone(), v.clone());
            }
        }
        self
    }

    pub fn finish(&mut self) -> Map<String, Value> {
        std::mem::take(&mut self.map)
    }

    pub fn value(&mut self) -> Value {
        Value::Object(self.finish())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn index_reads_numbers_and_numeric_strings_and_remembers_the_form() {
        assert_eq!(Index::from_value(&json!(3)), Some(Index::number(3)));
        assert_eq!(Index::from_value(&json!("12")), Some(Index::string(12)));
        assert_eq!(Index::from_value(&json!(2.0)), Some(Index::number(2)));
        assert_eq!(Index::from_value(&json!(-1)), None);
        assert_eq!(Index::from_value(&json!("1a")), None);
        assert_eq!(Index::from_value(&json!("")), None);
        assert_eq!(Index::from_value(&json!(1.5)), None);
        assert_eq!(Index::string(7).to_value(), json!("7"));
        assert_eq!(Index::number(7).to_value(), json!(7));
    }

    #[test]
    fn numbers_are_written_as_integers_when_whole() {
        assert_eq!(num(111.0), json!(111));
        assert_eq!(num(-3.0), json!(-3));
        assert_eq!(num(138.8), json!(138.8));
        assert_eq!(num(f64::NAN), Value::Null);
        assert_eq!(num(1e300), json!(1e300));
        assert_eq!(float(0.0), json!(0.0));
        assert_ne!(float(0.0), json!(0));
    }

    #[test]
    fn obj_names_the_field_and_keeps_unknown_keys_in_order() {
        let v = json!({"a": 1, "z": "x", "b": "not a number", "m": true});
        let ctx = Ctx::new("f.json", Some(4));
        let mut o = Obj::new(&v, "root", &ctx).unwrap();
        assert_eq!(o.req_f64("a").unwrap(), 1.0);
        let err = o.req_f64("b").unwrap_err().to_string();
        assert_eq!(err, "f.json:4: field `root.b`: expected a number, found a string");
        let missing = o.req_str("q").unwrap_err().to_string();
        assert!(missing.contains("root.q") && missing.contains("missing"), "{missing}");
        // `b` was read (and failed); `q` is absent; the unread keys stay, in order.
        let rest = o.rest();
        assert_eq!(rest.keys().collect::<Vec<_>>(), vec!["z", "m"]);
    }

    #[test]
    fn json_syntax_errors_name_file_and_line() {
        let err = parse_value("{\n\"a\": 1,\n}", "x.json", 10).unwrap_err().to_string();
        assert!(err.starts_with("x.json:12: invalid JSON at column 1"), "{err}");
    }
}
