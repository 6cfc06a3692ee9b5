//! Reading workers' `answerContent` objects: the label list, answers in worker order, the form
//! element a built-in template submits, and typed fields with precise error locations.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{ObjectAnswers, WorkerAnswer};
use crate::annotation::AnnotationError;

/// The job's label list with a name → class index lookup.
pub(super) struct LabelIndex<'a> {
    names: &'a [String],
    index_by_name: BTreeMap<&'a str, usize>,
}

impl<'a> LabelIndex<'a> {
    /// Validates the label list: not empty, no name twice.
    pub(super) fn new(names: &'a [String]) -> Result<Self, AnnotationError> {
        if names.is_empty() {
            return Err(AnnotationError::NoLabels);
        }
        let mut index_by_name = BTreeMap::new();
        for (index, name) in names.iter().enumerate() {
            if index_by_name.insert(name.as_str(), index).is_some() {
                return Err(AnnotationError::DuplicateLabel { label: name.clone() });
            }
        }
        Ok(Self { names, index_by_name })
    }

    /// How many labels.
    pub(super) fn len(&self) -> usize {
        self.names.len()
    }

    /// The name of class `index` (empty when out of range, which callers never ask for).
    pub(super) fn name(&self, index: usize) -> &'a str {
        self.names.get(index).map_or("", String::as_str)
    }

    /// The class index of `label` as worker `answer` of `object` sent it.
    pub(super) fn index_of(
        &self,
        object: &ObjectAnswers,
        answer: &WorkerAnswer,
        label: &str,
    ) -> Result<usize, AnnotationError> {
        self.index_by_name.get(label).copied().ok_or_else(|| AnnotationError::UnknownLabel {
            object: object.dataset_object_id.clone(),
            worker: answer.worker_id.clone(),
            label: label.to_owned(),
        })
    }
}

/// The object's answers sorted by worker id; errors when there are none or a worker answered twice.
pub(super) fn answers_by_worker(
    object: &ObjectAnswers,
) -> Result<Vec<&WorkerAnswer>, AnnotationError> {
    if object.answers.is_empty() {
        return Err(AnnotationError::NoAnswers { object: object.dataset_object_id.clone() });
    }
    let mut sorted: Vec<&WorkerAnswer> = object.answers.iter().collect();
    sorted.sort_by(|a, b| a.worker_id.cmp(&b.worker_id));
    for pair in sorted.windows(2) {
        if let [a, b] = pair
            && a.worker_id == b.worker_id
        {
            return Err(AnnotationError::DuplicateWorker {
                object: object.dataset_object_id.clone(),
                worker: b.worker_id.clone(),
            });
        }
    }
    Ok(sorted)
}

/// Where an answer is being read: the object and worker, for error messages.
#[derive(Clone, Copy)]
pub(super) struct AnswerAt<'a> {
    pub(super) object: &'a ObjectAnswers,
    pub(super) answer: &'a WorkerAnswer,
}

impl<'a> AnswerAt<'a> {
    /// An [`AnnotationError::InvalidAnswer`] at `field`.
    pub(super) fn invalid(&self, field: &str, message: impl Into<String>) -> AnnotationError {
        AnnotationError::InvalidAnswer {
            object: self.object.dataset_object_id.clone(),
            worker: self.answer.worker_id.clone(),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The form element holding the answer: the first of `names` present in `answerContent`, or,
    /// when none is (a custom template with another element name), the only element whose value is
    /// an object with the key `required_key`. Returns the element's name and object.
    pub(super) fn element(
        &self,
        names: &[&str],
        required_key: &str,
    ) -> Result<(&'a str, &'a Map<String, Value>), AnnotationError> {
        let content =
            self.answer.answer_content.as_object().ok_or_else(|| {
                self.invalid("answerContent", "answerContent must be a JSON object")
            })?;
        for name in names {
            if let Some((key, value)) = content.get_key_value(*name) {
                let element = value
                    .as_object()
                    .ok_or_else(|| self.invalid(name, format!("`{name}` must be a JSON object")))?;
                return Ok((key.as_str(), element));
            }
        }
        let mut candidates = content.iter().filter_map(|(key, value)| {
            value.as_object().filter(|o| o.contains_key(required_key)).map(|o| (key.as_str(), o))
        });
        match (candidates.next(), candidates.next()) {
            (Some(only), None) => Ok(only),
            _ => Err(self.invalid(
                "answerContent",
                format!(
                    "expected the form element {} (or exactly one element with a `{required_key}` \
                     key)",
                    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" or ")
                ),
            )),
        }
    }

    /// `element[key]` as a string.
    pub(super) fn str_field(
        &self,
        element: &'a Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Result<&'a str, AnnotationError> {
        match element.get(key) {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(self.invalid(&format!("{path}.{key}"), "must be a string")),
            None => Err(self.invalid(&format!("{path}.{key}"), "is missing")),
        }
    }

    /// `element[key]` as a finite number.
    pub(super) fn number_field(
        &self,
        element: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Result<f64, AnnotationError> {
        match element.get(key) {
            Some(value) => value
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| self.invalid(&format!("{path}.{key}"), "must be a finite number")),
            None => Err(self.invalid(&format!("{path}.{key}"), "is missing")),
        }
    }

    /// `element[key]` as a whole number of pixels, at least 1.
    pub(super) fn pixels_field(
        &self,
        element: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Result<u32, AnnotationError> {
        let x = self.number_field(element, path, key)?;
        if x.fract() == 0.0 && x >= 1.0 && x <= f64::from(u32::MAX) {
            // Integral and in range: the conversion is exact.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(x as u32)
        } else {
            Err(self
                .invalid(&format!("{path}.{key}"), format!("must be a whole number ≥ 1, not {x}")))
        }
    }

    /// `element[key]` as an object, or `None` when absent.
    pub(super) fn optional_object_field(
        &self,
        element: &'a Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Result<Option<&'a Map<String, Value>>, AnnotationError> {
        match element.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(_) => Err(self.invalid(&format!("{path}.{key}"), "must be a JSON object")),
        }
    }

    /// The optional `inputImageProperties` of an element as (width, height) in pixels.
    pub(super) fn image_properties(
        &self,
        element: &'a Map<String, Value>,
        path: &str,
    ) -> Result<Option<(u32, u32)>, AnnotationError> {
        let key = "inputImageProperties";
        let Some(props) = self.optional_object_field(element, path, key)? else {
            return Ok(None);
        };
        let props_path = format!("{path}.{key}");
        Ok(Some((
            self.pixels_field(props, &props_path, "width")?,
            self.pixels_field(props, &props_path, "height")?,
        )))
    }
}
