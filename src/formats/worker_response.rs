//! Worker-response files (`annotations/worker-response/iteration-<n>/<datasetObjectId>/<timestamp>.json`,
//! spec §6) and consolidation-request batches (`consolidation-request/iteration-<n>/…`, the payload
//! a post-annotation Lambda reads, §6 and §9.3).
//!
//! Timestamps are kept as the strings read (Ground Truth writes `YYYY-MM-DDTHH:MM:SS.mmmZ`; older
//! files omit the milliseconds) and parsed on demand; new ones are made with
//! [`crate::formats::time::format_worker_timestamp`]. `answerContent` is whatever the worker's
//! form submitted, kept as JSON. Unknown keys are kept at every level.
//!
//! Must not depend on other `formats` modules except `error`, `json` and `time`.

use serde_json::{Map, Value};

use super::error::FormatError;
use super::json::{Ctx, Obj, ObjWriter, kind, parse_value};
use super::time::{TimestampError, format_worker_timestamp, parse_timestamp_ms};

/// `workerMetadata.identityData`: who the worker is in the workforce's identity provider.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IdentityData {
    /// `identityProviderType`: `Cognito` or `Oidc`.
    pub identity_provider_type: Option<String>,
    /// `issuer`: the user-pool URL or OIDC issuer.
    pub issuer: Option<String>,
    /// `sub`: the worker's subject in the identity provider.
    pub sub: Option<String>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// `workerMetadata` (private workforces).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkerMetadata {
    /// `identityData`.
    pub identity_data: Option<IdentityData>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// One worker's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerAnswer {
    /// `workerId`.
    pub worker_id: String,
    /// `acceptanceTime`, as read.
    pub acceptance_time: Option<String>,
    /// `submissionTime`, as read.
    pub submission_time: Option<String>,
    /// `timeSpentInSeconds`: active time only.
    pub time_spent_secs: Option<f64>,
    /// `workerMetadata`.
    pub worker_metadata: Option<WorkerMetadata>,
    /// `answerContent`: one key per named form element.
    pub answer_content: Value,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl WorkerAnswer {
    /// An answer with Ground Truth-style timestamps from epoch milliseconds.
    pub fn new(
        worker_id: impl Into<String>,
        acceptance_ms: i64,
        submission_ms: i64,
        time_spent_secs: f64,
        answer_content: Value,
    ) -> Self {
        Self {
            worker_id: worker_id.into(),
            acceptance_time: Some(format_worker_timestamp(acceptance_ms)),
            submission_time: Some(format_worker_timestamp(submission_ms)),
            time_spent_secs: Some(time_spent_secs),
            worker_metadata: None,
            answer_content,
            extra: Map::new(),
        }
    }

    /// `acceptanceTime` as epoch milliseconds.
    pub fn acceptance_ms(&self) -> Result<Option<i64>, TimestampError> {
        self.acceptance_time.as_deref().map(parse_timestamp_ms).transpose()
    }

    /// `submissionTime` as epoch milliseconds.
    pub fn submission_ms(&self) -> Result<Option<i64>, TimestampError> {
        self.submission_time.as_deref().map(parse_timestamp_ms).transpose()
    }

    fn read(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Self, FormatError> {
        let mut o = Obj::new(value, path, ctx)?;
        let acceptance_time = o.opt_str("acceptanceTime")?;
        let submission_time = o.opt_str("submissionTime")?;
        for (key, text) in
            [("acceptanceTime", &acceptance_time), ("submissionTime", &submission_time)]
        {
            if let Some(t) = text
                && let Err(e) = parse_timestamp_ms(t)
            {
                return Err(o.error(key, e.to_string()));
            }
        }
        let worker_metadata = match o.get("workerMetadata") {
            None => None,
            Some(v) => {
                let mut m = Obj::new(v, &o.path_of("workerMetadata"), ctx)?;
                let identity_data = match m.get("identityData") {
                    None => None,
                    Some(v) => {
                        let mut i = Obj::new(v, &m.path_of("identityData"), ctx)?;
                        Some(IdentityData {
                            identity_provider_type: i.opt_str("identityProviderType")?,
                            issuer: i.opt_str("issuer")?,
                            sub: i.opt_str("sub")?,
                            extra: i.rest(),
                        })
                    }
                };
                Some(WorkerMetadata { identity_data, extra: m.rest() })
            }
        };
        Ok(Self {
            acceptance_time,
            submission_time,
            time_spent_secs: o.opt_f64("timeSpentInSeconds")?,
            worker_id: o.req_str("workerId")?,
            worker_metadata,
            answer_content: o.req("answerContent")?.clone(),
            extra: o.rest(),
        })
    }

    /// The JSON object.
    pub fn to_value(&self) -> Value {
        let metadata = self.worker_metadata.as_ref().map(|m| {
            let identity = m.identity_data.as_ref().map(|i| {
                ObjWriter::new()
                    .put_opt_str("identityProviderType", i.identity_provider_type.as_deref())
                    .put_opt_str("issuer", i.issuer.as_deref())
                    .put_opt_str("sub", i.sub.as_deref())
                    .extend(&i.extra)
                    .value()
            });
            ObjWriter::new().put_opt("identityData", identity).extend(&m.extra).value()
        });
        ObjWriter::new()
            .put_opt_str("acceptanceTime", self.acceptance_time.as_deref())
            .put_opt_str("submissionTime", self.submission_time.as_deref())
            .put_opt_num("timeSpentInSeconds", self.time_spent_secs)
            .put_str("workerId", &self.worker_id)
            .put_opt("workerMetadata", metadata)
            .put("answerContent", self.answer_content.clone())
            .extend(&self.extra)
            .value()
    }
}

/// A worker-response file: every worker's answer for one data object in one iteration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkerResponseFile {
    /// `answers`.
    pub answers: Vec<WorkerAnswer>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl WorkerResponseFile {
    /// Parses a file.
    pub fn parse(text: &str, file: &str) -> Result<Self, FormatError> {
        Self::from_value(&parse_value(text, file, 1)?, file)
    }

    /// Decodes a parsed file.
    pub fn from_value(value: &Value, file: &str) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, None);
        let mut o = Obj::new(value, "", &ctx)?;
        let answers = o.req_array("answers", |v, p| WorkerAnswer::read(v, p, &ctx))?;
        Ok(Self { answers, extra: o.rest() })
    }

    /// The JSON object.
    pub fn to_value(&self) -> Value {
        ObjWriter::new()
            .put("answers", Value::Array(self.answers.iter().map(WorkerAnswer::to_value).collect()))
            .extend(&self.extra)
            .value()
    }

    /// Compact JSON text.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }
}

/// `dataObject` of a consolidation request: the data as text or a reference to it.
#[derive(Debug, Clone, PartialEq)]
pub enum DataObject {
    /// `{"s3Uri": …}`: a referenced object.
    S3Uri(String),
    /// `{"content": …}`: text data.
    Content(String),
}

/// `annotationData` of one worker: the answer as a JSON string, or where to find it.
#[derive(Debug, Clone, PartialEq)]
pub enum AnnotationData {
    /// `{"content": "<stringified answerContent>"}`.
    Content(String),
    /// `{"s3Uri": …}`.
    S3Uri(String),
}

impl AnnotationData {
    /// `content` holding `answer_content` serialised, as Ground Truth sends it.
    pub fn from_answer_content(answer_content: &Value) -> Self {
        Self::Content(answer_content.to_string())
    }
}

/// One worker's entry in a consolidation request.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerAnnotation {
    /// `workerId`.
    pub worker_id: String,
    /// `annotationData`.
    pub annotation_data: AnnotationData,
    /// Unknown keys of `annotationData`, kept.
    pub annotation_data_extra: Map<String, Value>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// One data object of a consolidation request.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsolidationItem {
    /// `datasetObjectId`.
    pub dataset_object_id: String,
    /// `dataObject`.
    pub data_object: DataObject,
    /// Unknown keys of `dataObject`, kept.
    pub data_object_extra: Map<String, Value>,
    /// `annotations`: one per worker.
    pub annotations: Vec<WorkerAnnotation>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// A consolidation-request batch: a JSON array of [`ConsolidationItem`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsolidationRequest {
    /// The items, in file order.
    pub items: Vec<ConsolidationItem>,
}

/// Reads `{"s3Uri": …}` or `{"content": …}` (exactly one); returns (is_content, text, rest).
fn read_content_or_uri(
    value: &Value,
    path: &str,
    ctx: &Ctx<'_>,
) -> Result<(bool, String, Map<String, Value>), FormatError> {
    let mut o = Obj::new(value, path, ctx)?;
    let content = o.opt_str("content")?;
    let uri = o.opt_str("s3Uri")?;
    match (content, uri) {
        (Some(c), None) => Ok((true, c, o.rest())),
        (None, Some(u)) => Ok((false, u, o.rest())),
        (Some(_), Some(_)) => Err(ctx.error(path, "has both `content` and `s3Uri`; expected one")),
        (None, None) => Err(ctx.error(path, "has neither `content` nor `s3Uri`")),
    }
}

impl ConsolidationRequest {
    /// Parses a batch file.
    pub fn parse(text: &str, file: &str) -> Result<Self, FormatError> {
        Self::from_value(&parse_value(text, file, 1)?, file)
    }

    /// Decodes a parsed batch.
    pub fn from_value(value: &Value, file: &str) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, None);
        let list = value.as_array().ok_or_else(|| {
            ctx.error("", format!("expected an array of data objects, found {}", kind(value)))
        })?;
        let items = list
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let path = format!("[{i}]");
                let mut o = Obj::new(v, &path, &ctx)?;
                let dataset_object_id = match o.req("datasetObjectId")? {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    other => {
                        return Err(o.error(
                            "datasetObjectId",
                            format!("expected a string, found {}", kind(other)),
                        ));
                    }
                };
                let (is_content, text, data_object_extra) =
                    read_content_or_uri(o.req("dataObject")?, &o.path_of("dataObject"), &ctx)?;
                let data_object =
                    if is_content { DataObject::Content(text) } else { DataObject::S3Uri(text) };
                let annotations = o.req_array("annotations", |v, p| {
                    let mut a = Obj::new(v, p, &ctx)?;
                    let worker_id = a.req_str("workerId")?;
                    let (is_content, text, annotation_data_extra) = read_content_or_uri(
                        a.req("annotationData")?,
                        &a.path_of("annotationData"),
                        &ctx,
                    )?;
                    let annotation_data = if is_content {
                        AnnotationData::Content(text)
                    } else {
                        AnnotationData::S3Uri(text)
                    };
                    Ok(WorkerAnnotation {
                        worker_id,
                        annotation_data,
                        annotation_data_extra,
                        extra: a.rest(),
                    })
                })?;
                Ok(ConsolidationItem {
                    dataset_object_id,
                    data_object,
                    data_object_extra,
                    annotations,
                    extra: o.rest(),
                })
            })
            .collect::<Result<_, FormatError>>()?;
        Ok(Self { items })
    }

    /// The JSON array.
    pub fn to_value(&self) -> Value {
        let items = self
            .items
            .iter()
            .map(|item| {
                let data_object = match &item.data_object {
                    DataObject::S3Uri(u) => {
                        ObjWriter::new().put_str("s3Uri", u).extend(&item.data_object_extra).value()
                    }
                    DataObject::Content(c) => ObjWriter::new()
                        .put_str("content", c)
                        .extend(&item.data_object_extra)
                        .value(),
                };
                let annotations = item
                    .annotations
                    .iter()
                    .map(|a| {
                        let data = match &a.annotation_data {
                            AnnotationData::Content(c) => ObjWriter::new()
                                .put_str("content", c)
                                .extend(&a.annotation_data_extra)
                                .value(),
                            AnnotationData::S3Uri(u) => ObjWriter::new()
                                .put_str("s3Uri", u)
                                .extend(&a.annotation_data_extra)
                                .value(),
                        };
                        ObjWriter::new()
                            .put_str("workerId", &a.worker_id)
                            .put("annotationData", data)
                            .extend(&a.extra)
                            .value()
                    })
                    .collect();
                ObjWriter::new()
                    .put_str("datasetObjectId", &item.dataset_object_id)
                    .put("dataObject", data_object)
                    .put("annotations", Value::Array(annotations))
                    .extend(&item.extra)
                    .value()
            })
            .collect();
        Value::Array(items)
    }
}

impl WorkerAnnotation {
    /// The worker's `answerContent`, parsed from the `content` string (`Ok(None)` for `s3Uri`).
    pub fn answer_content(&self, file: &str) -> Result<Option<Value>, FormatError> {
        match &self.annotation_data {
            AnnotationData::Content(text) => parse_value(text, file, 1).map(Some),
            AnnotationData::S3Uri(_) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn spec_file() -> Value {
        json!({"answers": [{
            "acceptanceTime": "2020-12-28T18:59:15.191Z",
            "submissionTime": "2020-12-28T18:59:58.321Z",
            "timeSpentInSeconds": 40.543,
            "workerId": "a12b3cdefg4h5i67",
            "workerMetadata": {"identityData": {"identityProviderType": "Cognito",
                "issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_123456789",
                "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}},
            "answerContent": {"boundingBox": {"boundingBoxes": [{"height": 2832, "label": "bird", "left": 681, "top": 599, "width": 1364}],
                "inputImageProperties": {"height": 3726, "width": 2662}}}
        }]})
    }

    #[test]
    fn worker_response_round_trips_with_typed_times() {
        let v = spec_file();
        let f = WorkerResponseFile::from_value(&v, "r.json").unwrap();
        let a = &f.answers[0];
        assert_eq!(a.acceptance_ms().unwrap(), Some(1_609_181_955_191));
        assert_eq!(a.submission_ms().unwrap(), Some(1_609_181_998_321));
        assert_eq!(
            a.worker_metadata
                .as_ref()
                .unwrap()
                .identity_data
                .as_ref()
                .unwrap()
                .identity_provider_type
                .as_deref(),
            Some("Cognito")
        );
        assert_eq!(f.to_value(), v);
        assert_eq!(WorkerResponseFile::parse(&f.to_json(), "x").unwrap(), f);
        let made = WorkerAnswer::new("w1", 1_609_181_955_191, 1_609_181_998_321, 40.5, json!({}));
        assert_eq!(made.submission_time.as_deref(), Some("2020-12-28T18:59:58.321Z"));
    }

    #[test]
    fn bad_worker_responses_name_the_field() {
        let mut v = spec_file();
        v["answers"][0]["submissionTime"] = json!("yesterday");
        let e = WorkerResponseFile::from_value(&v, "r.json").unwrap_err().to_string();
        assert!(
            e.starts_with("r.json: field `answers[0].submissionTime`: invalid timestamp"),
            "{e}"
        );
        let mut v = spec_file();
        v["answers"][0].as_object_mut().unwrap().remove("workerId");
        let e = WorkerResponseFile::from_value(&v, "r.json").unwrap_err().to_string();
        assert_eq!(e, "r.json: field `answers[0].workerId`: required field is missing");
    }

    #[test]
    fn consolidation_request_round_trip_and_content() {
        let v = json!([{"datasetObjectId": "0", "dataObject": {"s3Uri": "s3://example-bucket/img/0001.jpg"},
            "annotations": [{"workerId": "private.us-west-2.ab1234c5678a919d0",
              "annotationData": {"content": "{\"boundingBox\":{\"boundingBoxes\":[{\"height\":2052,\"label\":\"car\",\"left\":583,\"top\":302,\"width\":1375}],\"inputImageProperties\":{\"height\":2497,\"width\":3745}}}"}}]},
            {"datasetObjectId": "1", "dataObject": {"content": "some text"}, "annotations": [
              {"workerId": "w", "annotationData": {"s3Uri": "s3://b/k.json"}}]}]);
        let r = ConsolidationRequest::from_value(&v, "batch.json").unwrap();
        assert_eq!(r.items[1].data_object, DataObject::Content("some text".into()));
        let content = r.items[0].annotations[0].answer_content("batch.json").unwrap().unwrap();
        assert_eq!(content["boundingBox"]["boundingBoxes"][0]["label"], json!("car"));
        assert_eq!(
            AnnotationData::from_answer_content(&content),
            r.items[0].annotations[0].annotation_data
        );
        assert_eq!(r.to_value(), v);
        let e = ConsolidationRequest::from_value(
            &json!([{"datasetObjectId": "0", "dataObject": {}, "annotations": []}]),
            "b",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "b: field `[0].dataObject`: has neither `content` nor `s3Uri`");
    }
}
