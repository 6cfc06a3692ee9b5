//! Label category configuration files (`LabelCategoryConfigS3Uri`, spec §4): the simple
//! `2018-11-28` form (`labels` list, optional NER `shortDisplayName` and `instructions`) and the
//! 3D point cloud / video frame `2020-03-01` form (`frameAttributes`, `categoryGlobalAttributes`,
//! per-label `categoryAttributes`, `annotationType`, `auditLabelAttributeName`, `editsAllowed`).
//!
//! One type, [`LabelCategoryConfig`], reads both. The reader is lenient: the version key may be
//! `document-version` or `documentVersion`, number attributes may omit `minimum`/`maximum`,
//! attribute types other than `string`/`number` are kept as [`AttributeType::Other`], and unknown
//! keys (e.g. the `attributes` and `shortIntroduction` spellings in one AWS example) are kept.
//! The writer is canonical: `documentVersion` for `2020-03-01`, `document-version` otherwise.
//! Quota checks (§4.3) belong to job validation.
//!
//! Must not depend on other `formats` modules except `error` and `json`.

use serde_json::{Map, Value};

use super::error::FormatError;
use super::json::{Ctx, Obj, ObjWriter, kind, parse_value, string_list};

/// The document version of the simple form.
pub const DOCUMENT_VERSION_2018: &str = "2018-11-28";
/// The document version of the 3D point cloud / video frame form.
pub const DOCUMENT_VERSION_2020: &str = "2020-03-01";

/// `editsAllowed` on a label or attribute (adjustment/verification jobs, §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditsAllowed {
    /// `"none"`: read-only.
    None,
    /// `"any"`: editable (the default).
    Any,
    /// Any other string, kept as read.
    Other(String),
}

impl EditsAllowed {
    fn parse(s: &str) -> Self {
        match s {
            "none" => Self::None,
            "any" => Self::Any,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The JSON string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::None => "none",
            Self::Any => "any",
            Self::Other(s) => s,
        }
    }
}

/// Attribute `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeType {
    /// `"string"`: pick one of `enum`, or free text without it.
    String,
    /// `"number"`: a value in `[minimum, maximum]`.
    Number,
    /// Any other type string (undocumented, e.g. `"boolean"`), kept as read.
    Other(String),
}

impl AttributeType {
    fn parse(s: &str) -> Self {
        match s {
            "string" => Self::String,
            "number" => Self::Number,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The JSON string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Other(s) => s,
        }
    }
}

/// An attribute object, as used in `frameAttributes`, `categoryGlobalAttributes` and a label's
/// `categoryAttributes` (§4.3).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeSpec {
    /// `name`, unique across global and per-label attributes.
    pub name: String,
    /// `type`.
    pub attribute_type: AttributeType,
    /// `enum`: allowed values of a string attribute.
    pub enum_values: Option<Vec<String>>,
    /// `description` (required for frame attributes).
    pub description: Option<String>,
    /// `minimum` (inclusive) of a number attribute.
    pub minimum: Option<f64>,
    /// `maximum` (inclusive) of a number attribute.
    pub maximum: Option<f64>,
    /// `editsAllowed`.
    pub edits_allowed: Option<EditsAllowed>,
    /// `isRequired`.
    pub is_required: Option<bool>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// Longest free-text answer of a label attribute (spec §4.3 quotas).
pub const MAX_LABEL_TEXT_CHARS: usize = 80;
/// Longest free-text answer of a frame attribute (spec §4.3 quotas).
pub const MAX_FRAME_TEXT_CHARS: usize = 1_000;

impl AttributeSpec {
    /// Whether `value` is an answer this attribute accepts (spec §4.3): a string from `enum`,
    /// free text of at most `max_text_chars` ([`MAX_LABEL_TEXT_CHARS`] for label attributes,
    /// [`MAX_FRAME_TEXT_CHARS`] for frame attributes), or a finite number within
    /// `minimum`..=`maximum`; attributes of an unknown type take any string or number. The error
    /// says why, without the attribute's name.
    pub fn check_value(&self, value: &Value, max_text_chars: usize) -> Result<(), String> {
        match (&self.attribute_type, value) {
            (AttributeType::Number, Value::Number(n)) => {
                let v = n.as_f64().unwrap_or(f64::NAN);
                let (lo, hi) = (self.minimum.unwrap_or(f64::MIN), self.maximum.unwrap_or(f64::MAX));
                if v.is_finite() && v >= lo && v <= hi {
                    Ok(())
                } else {
                    Err(format!("{v} is outside {lo}–{hi}"))
                }
            }
            (AttributeType::Number, other) => Err(format!("expected a number, not {other}")),
            (AttributeType::String, Value::String(s)) => match &self.enum_values {
                Some(options) if !options.contains(s) => {
                    Err(format!("`{s}` is not one of {}", options.join(", ")))
                }
                _ if s.chars().count() > max_text_chars => {
                    Err(format!("longer than {max_text_chars} characters"))
                }
                _ => Ok(()),
            },
            (AttributeType::String, other) => Err(format!("expected text, not {other}")),
            (AttributeType::Other(_), Value::String(_) | Value::Number(_)) => Ok(()),
            (AttributeType::Other(t), other) => Err(format!("expected a {t} value, not {other}")),
        }
    }

    /// A free-text or enum string attribute.
    pub fn string(name: impl Into<String>, enum_values: Option<Vec<String>>) -> Self {
        Self {
            name: name.into(),
            attribute_type: AttributeType::String,
            enum_values,
            description: None,
            minimum: None,
            maximum: None,
            edits_allowed: None,
            is_required: None,
            extra: Map::new(),
        }
    }

    /// A number attribute with inclusive bounds.
    pub fn number(name: impl Into<String>, minimum: f64, maximum: f64) -> Self {
        Self {
            attribute_type: AttributeType::Number,
            minimum: Some(minimum),
            maximum: Some(maximum),
            ..Self::string(name, None)
        }
    }

    fn read(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Self, FormatError> {
        let mut o = Obj::new(value, path, ctx)?;
        let name = o.req_str("name")?;
        let attribute_type = AttributeType::parse(&o.req_str("type")?);
        let enum_values = match o.get("enum") {
            Some(v) => Some(string_list(v, &o.path_of("enum"), ctx)?),
            None => None,
        };
        Ok(Self {
            name,
            attribute_type,
            enum_values,
            description: o.opt_str("description")?,
            minimum: o.opt_f64("minimum")?,
            maximum: o.opt_f64("maximum")?,
            edits_allowed: o.opt_str("editsAllowed")?.map(|s| EditsAllowed::parse(&s)),
            is_required: o.opt_bool("isRequired")?,
            extra: o.rest(),
        })
    }

    /// The JSON object.
    pub fn to_value(&self) -> Value {
        ObjWriter::new()
            .put_str("name", &self.name)
            .put_opt_str("description", self.description.as_deref())
            .put_str("type", self.attribute_type.as_str())
            .put_opt("enum", self.enum_values.as_ref().map(|e| strings_value(e)))
            .put_opt_num("minimum", self.minimum)
            .put_opt_num("maximum", self.maximum)
            .put_opt_str("editsAllowed", self.edits_allowed.as_ref().map(EditsAllowed::as_str))
            .put_opt("isRequired", self.is_required.map(Value::Bool))
            .extend(&self.extra)
            .value()
    }
}

fn strings_value(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.clone())).collect())
}

/// One entry of `labels`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelCategory {
    /// `label`: the category name. Its position in `labels` is its class index.
    pub label: String,
    /// `shortDisplayName` (named entity recognition).
    pub short_display_name: Option<String>,
    /// `categoryAttributes` (3D and video).
    pub category_attributes: Option<Vec<AttributeSpec>>,
    /// `editsAllowed` (3D and video audits).
    pub edits_allowed: Option<EditsAllowed>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl LabelCategory {
    /// A plain label.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            short_display_name: None,
            category_attributes: None,
            edits_allowed: None,
            extra: Map::new(),
        }
    }
}

/// `instructions`: short and full worker instructions (plain text or HTML).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Instructions {
    /// `shortInstruction`.
    pub short_instruction: Option<String>,
    /// `fullInstruction`.
    pub full_instruction: Option<String>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// One `{"type": …}` entry of the 3D-2D list form of `annotationType`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationTypeEntry {
    /// `type`: `BoundingBox`, `Cuboid`, …
    pub annotation_type: String,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// `annotationType`: the video-frame tool, or the 3D-2D list.
#[derive(Debug, Clone, PartialEq)]
pub enum AnnotationType {
    /// A single tool: `BoundingBox` (default), `Polyline`, `Polygon`, `Keypoint`.
    Tool(String),
    /// 3D-2D linking: `[{"type": "BoundingBox"}, {"type": "Cuboid"}]`.
    List(Vec<AnnotationTypeEntry>),
}

/// A label category configuration file, both document versions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelCategoryConfig {
    /// `document-version` / `documentVersion`, e.g. `2018-11-28` or `2020-03-01`.
    pub document_version: Option<String>,
    /// `labels`, in class-index order.
    pub labels: Vec<LabelCategory>,
    /// `instructions`.
    pub instructions: Option<Instructions>,
    /// `frameAttributes`.
    pub frame_attributes: Option<Vec<AttributeSpec>>,
    /// `categoryGlobalAttributes`.
    pub category_global_attributes: Option<Vec<AttributeSpec>>,
    /// `annotationType`.
    pub annotation_type: Option<AnnotationType>,
    /// `auditLabelAttributeName`: the audited job's label attribute (adjustment/verification).
    pub audit_label_attribute_name: Option<String>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl LabelCategoryConfig {
    /// Parses a file.
    pub fn parse(text: &str, file: &str) -> Result<Self, FormatError> {
        Self::from_value(&parse_value(text, file, 1)?, file)
    }

    /// Decodes a parsed file.
    pub fn from_value(value: &Value, file: &str) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, None);
        let mut o = Obj::new(value, "", &ctx)?;
        let document_version = match o.get_any(&["documentVersion", "document-version"]) {
            None => None,
            Some((_, Value::String(s))) => Some(s.clone()),
            Some((key, other)) => {
                return Err(o.error(key, format!("expected a string, found {}", kind(other))));
            }
        };
        let labels = o.req_array("labels", |v, path| {
            let mut l = Obj::new(v, path, &ctx)?;
            Ok(LabelCategory {
                label: l.req_str("label")?,
                short_display_name: l.opt_str("shortDisplayName")?,
                category_attributes: l
                    .opt_array("categoryAttributes", |v, p| AttributeSpec::read(v, p, &ctx))?,
                edits_allowed: l.opt_str("editsAllowed")?.map(|s| EditsAllowed::parse(&s)),
                extra: l.rest(),
            })
        })?;
        let instructions = match o.get("instructions") {
            None => None,
            Some(v) => {
                let mut i = Obj::new(v, "instructions", &ctx)?;
                Some(Instructions {
                    short_instruction: i.opt_str("shortInstruction")?,
                    full_instruction: i.opt_str("fullInstruction")?,
                    extra: i.rest(),
                })
            }
        };
        let frame_attributes =
            o.opt_array("frameAttributes", |v, p| AttributeSpec::read(v, p, &ctx))?;
        let category_global_attributes =
            o.opt_array("categoryGlobalAttributes", |v, p| AttributeSpec::read(v, p, &ctx))?;
        let annotation_type = match o.get("annotationType") {
            None => None,
            Some(Value::String(s)) => Some(AnnotationType::Tool(s.clone())),
            Some(Value::Array(_)) => {
                Some(AnnotationType::List(o.req_array("annotationType", |v, path| {
                    let mut e = Obj::new(v, path, &ctx)?;
                    Ok(AnnotationTypeEntry { annotation_type: e.req_str("type")?, extra: e.rest() })
                })?))
            }
            Some(other) => {
                return Err(o.error(
                    "annotationType",
                    format!("expected a string or an array, found {}", kind(other)),
                ));
            }
        };
        let audit_label_attribute_name = o.opt_str("auditLabelAttributeName")?;
        Ok(Self {
            document_version,
            labels,
            instructions,
            frame_attributes,
            category_global_attributes,
            annotation_type,
            audit_label_attribute_name,
            extra: o.rest(),
        })
    }

    /// The label names in class-index order.
    pub fn label_names(&self) -> Vec<&str> {
        self.labels.iter().map(|l| l.label.as_str()).collect()
    }

    /// The class index of `label`, if listed.
    pub fn class_index(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l.label == label)
    }

    /// The JSON object (canonical key spelling).
    pub fn to_value(&self) -> Value {
        let attrs = |list: &Vec<AttributeSpec>| {
            Value::Array(list.iter().map(AttributeSpec::to_value).collect())
        };
        let mut w = ObjWriter::new();
        if let Some(version) = &self.document_version {
            let key = if version == DOCUMENT_VERSION_2020 {
                "documentVersion"
            } else {
                "document-version"
            };
            w.put_str(key, version);
        }
        w.put_opt(
            "annotationType",
            self.annotation_type.as_ref().map(|a| match a {
                AnnotationType::Tool(s) => Value::String(s.clone()),
                AnnotationType::List(entries) => Value::Array(
                    entries
                        .iter()
                        .map(|e| {
                            ObjWriter::new()
                                .put_str("type", &e.annotation_type)
                                .extend(&e.extra)
                                .value()
                        })
                        .collect(),
                ),
            }),
        );
        w.put_opt("frameAttributes", self.frame_attributes.as_ref().map(attrs));
        w.put_opt("categoryGlobalAttributes", self.category_global_attributes.as_ref().map(attrs));
        let labels = self
            .labels
            .iter()
            .map(|l| {
                ObjWriter::new()
                    .put_str("label", &l.label)
                    .put_opt_str("shortDisplayName", l.short_display_name.as_deref())
                    .put_opt("categoryAttributes", l.category_attributes.as_ref().map(attrs))
                    .put_opt_str("editsAllowed", l.edits_allowed.as_ref().map(EditsAllowed::as_str))
                    .extend(&l.extra)
                    .value()
            })
            .collect();
        w.put("labels", Value::Array(labels));
        w.put_opt(
            "instructions",
            self.instructions.as_ref().map(|i| {
                ObjWriter::new()
                    .put_opt_str("shortInstruction", i.short_instruction.as_deref())
                    .put_opt_str("fullInstruction", i.full_instruction.as_deref())
                    .extend(&i.extra)
                    .value()
            }),
        );
        w.put_opt_str("auditLabelAttributeName", self.audit_label_attribute_name.as_deref());
        w.extend(&self.extra).value()
    }

    /// Pretty-printed JSON text.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_value()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn simple_form_round_trips() {
        let v = json!({"document-version": "2018-11-28", "labels": [{"label": "car"}, {"label": "truck"}]});
        let c = LabelCategoryConfig::from_value(&v, "labels.json").unwrap();
        assert_eq!(c.label_names(), vec!["car", "truck"]);
        assert_eq!(c.class_index("truck"), Some(1));
        assert_eq!(c.to_value(), v);
    }

    #[test]
    fn ner_form_keeps_short_names_and_instructions() {
        let v = json!({
          "document-version": "2018-11-28",
          "labels": [{"label": "person", "shortDisplayName": "per"}, {"label": "organization", "shortDisplayName": "org"}],
          "instructions": {"shortInstruction": "<p>Highlight</p>", "fullInstruction": "<ol><li>Read</li></ol>"}
        });
        let c = LabelCategoryConfig::from_value(&v, "ner.json").unwrap();
        assert_eq!(c.labels[1].short_display_name.as_deref(), Some("org"));
        assert_eq!(
            c.instructions.as_ref().unwrap().full_instruction.as_deref(),
            Some("<ol><li>Read</li></ol>")
        );
        assert_eq!(c.to_value(), v);
    }

    #[test]
    fn attribute_values_are_checked_against_their_definition() {
        let weather = AttributeSpec::string("weather", Some(vec!["sunny".into(), "rain".into()]));
        assert_eq!(weather.check_value(&Value::from("rain"), MAX_FRAME_TEXT_CHARS), Ok(()));
        let err = weather.check_value(&Value::from("snow"), MAX_FRAME_TEXT_CHARS).unwrap_err();
        assert!(err.contains("not one of sunny, rain"), "{err}");
        assert!(weather.check_value(&Value::from(3), MAX_FRAME_TEXT_CHARS).is_err());
        let note = AttributeSpec::string("note", None);
        assert_eq!(note.check_value(&Value::from("x".repeat(80)), MAX_LABEL_TEXT_CHARS), Ok(()));
        let err = note.check_value(&Value::from("x".repeat(81)), MAX_LABEL_TEXT_CHARS).unwrap_err();
        assert!(err.contains("longer than 80"), "{err}");
        let people = AttributeSpec {
            attribute_type: AttributeType::Number,
            minimum: Some(0.0),
            maximum: Some(50.0),
            ..AttributeSpec::string("people", None)
        };
        assert_eq!(people.check_value(&Value::from(50), MAX_FRAME_TEXT_CHARS), Ok(()));
        assert!(people.check_value(&Value::from(51), MAX_FRAME_TEXT_CHARS).is_err());
        assert!(people.check_value(&Value::from("5"), MAX_FRAME_TEXT_CHARS).is_err());
    }

    #[test]
    fn video_form_with_every_attribute_kind() {
        let v = json!({
          "documentVersion": "2020-03-01",
          "annotationType": "Keypoint",
          "frameAttributes": [
            {"name": "visibility", "description": "Scene visibility", "type": "string", "enum": ["clear", "blurry"], "isRequired": true},
            {"name": "people", "description": "How many people are visible?", "type": "number", "minimum": 0, "maximum": 50}
          ],
          "categoryGlobalAttributes": [
            {"name": "occluded", "description": "Is the object occluded?", "type": "string", "enum": ["no", "partially", "fully"], "editsAllowed": "none"}
          ],
          "labels": [
            {"label": "Car", "categoryAttributes": [{"name": "colour", "type": "string"}, {"name": "flag", "type": "boolean"}], "editsAllowed": "none"},
            {"label": "Pedestrian"}
          ],
          "instructions": {"shortInstruction": "Mark each object centre.", "fullInstruction": "<p>Details…</p>"},
          "auditLabelAttributeName": "people-ref"
        });
        let c = LabelCategoryConfig::from_value(&v, "video.json").unwrap();
        assert_eq!(c.annotation_type, Some(AnnotationType::Tool("Keypoint".into())));
        let frame = c.frame_attributes.as_ref().unwrap();
        assert_eq!(
            frame[0].enum_values.as_ref().unwrap(),
            &vec!["clear".to_owned(), "blurry".to_owned()]
        );
        assert_eq!(frame[0].is_required, Some(true));
        assert_eq!((frame[1].minimum, frame[1].maximum), (Some(0.0), Some(50.0)));
        assert_eq!(c.labels[0].edits_allowed, Some(EditsAllowed::None));
        let car_attrs = c.labels[0].category_attributes.as_ref().unwrap();
        assert_eq!(car_attrs[1].attribute_type, AttributeType::Other("boolean".into()));
        assert_eq!(c.audit_label_attribute_name.as_deref(), Some("people-ref"));
        assert_eq!(c.to_value(), v);
        assert_eq!(LabelCategoryConfig::parse(&c.to_json_pretty(), "x").unwrap(), c);
    }

    #[test]
    fn hyphenated_2020_version_is_read_and_written_canonically() {
        let v = json!({"document-version": "2020-03-01", "labels": [{"label": "Car"}],
                       "annotationType": [{"type": "BoundingBox"}, {"type": "Cuboid"}]});
        let c = LabelCategoryConfig::from_value(&v, "l.json").unwrap();
        assert_eq!(c.document_version.as_deref(), Some(DOCUMENT_VERSION_2020));
        let out = c.to_value();
        assert_eq!(out["documentVersion"], json!("2020-03-01"));
        assert!(out.get("document-version").is_none());
        match &c.annotation_type {
            Some(AnnotationType::List(l)) => assert_eq!(l[1].annotation_type, "Cuboid"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        let e = LabelCategoryConfig::from_value(
            &json!({"labels": [{"label": "a"}, {"name": "b"}]}),
            "l.json",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "l.json: field `labels[1].label`: required field is missing");
        let e = LabelCategoryConfig::from_value(
            &json!({"labels": [], "frameAttributes": [{"name": "n", "type": "number", "minimum": "zero"}]}),
            "l.json",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "l.json: field `frameAttributes[0].minimum`: expected a number, found a string"
        );
        let e =
            LabelCategoryConfig::from_value(&json!({"labels": [], "annotationType": 3}), "l.json")
                .unwrap_err();
        assert!(e.to_string().contains("field `annotationType`"));
        let e =
            LabelCategoryConfig::parse("{\"labels\": [,]}", "bad.json").unwrap_err().to_string();
        assert!(e.starts_with("bad.json:1: invalid JSON"), "{e}");
    }
}
