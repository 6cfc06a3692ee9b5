//! Built-in starting points for the worker UI step: label category configurations with
//! instructions, a task type, a title and a description, kept as JSON in `assets/templates/`
//! (written by us) and embedded in the binary.
//!
//! A template file is `{"name", "taskType", "taskTitle", "taskDescription", "labelCategoryConfig"}`
//! where `taskType` is a [`TaskType`] variant name and `labelCategoryConfig` a label category
//! configuration (spec §4). Must not depend on `app` or `cli`.

use serde_json::Value;

use crate::formats::label_config::LabelCategoryConfig;
use crate::job::TaskType;

/// The embedded template files: (file stem, contents).
pub const TEMPLATE_FILES: [(&str, &str); 6] = [
    ("street-objects-boxes", include_str!("../../../assets/templates/street-objects-boxes.json")),
    ("scene-classification", include_str!("../../../assets/templates/scene-classification.json")),
    (
        "product-review-sentiment",
        include_str!("../../../assets/templates/product-review-sentiment.json"),
    ),
    ("box-verification", include_str!("../../../assets/templates/box-verification.json")),
    (
        "vehicle-tracking-video",
        include_str!("../../../assets/templates/vehicle-tracking-video.json"),
    ),
    ("lidar-objects-3d", include_str!("../../../assets/templates/lidar-objects-3d.json")),
];

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The file stem, e.g. `street-objects-boxes`.
    pub id: &'static str,
    /// What the picker shows.
    pub name: String,
    /// The task type it is written for.
    pub task_type: TaskType,
    /// `HumanTaskConfig.TaskTitle`.
    pub task_title: String,
    /// `HumanTaskConfig.TaskDescription`.
    pub task_description: String,
    /// Labels, attributes and instructions.
    pub config: LabelCategoryConfig,
}

/// Parses one template file.
pub fn parse_template(id: &'static str, text: &str) -> Result<Template, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("{id}: {e}"))?;
    let field = |key: &str| -> Result<String, String> {
        value
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{id}: `{key}` is missing or not a string"))
    };
    let task_type: TaskType =
        serde_json::from_value(value.get("taskType").cloned().unwrap_or_default())
            .map_err(|e| format!("{id}: taskType: {e}"))?;
    let config_value = value
        .get("labelCategoryConfig")
        .ok_or_else(|| format!("{id}: `labelCategoryConfig` is missing"))?;
    let config = LabelCategoryConfig::from_value(config_value, &format!("{id}.json"))
        .map_err(|e| e.to_string())?;
    Ok(Template {
        id,
        name: field("name")?,
        task_type,
        task_title: field("taskTitle")?,
        task_description: field("taskDescription")?,
        config,
    })
}

/// Every built-in template, in picker order. A template that does not parse is left out and
/// logged (the unit tests keep that from shipping).
pub fn builtin_templates() -> Vec<Template> {
    TEMPLATE_FILES
        .iter()
        .filter_map(|(id, text)| match parse_template(id, text) {
            Ok(template) => Some(template),
            Err(message) => {
                tracing::warn!("built-in template left out: {message}");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::job::LabelSummary;

    #[test]
    fn every_template_parses_and_obeys_its_task_types_label_rules() {
        let templates = builtin_templates();
        assert_eq!(templates.len(), TEMPLATE_FILES.len());
        for template in templates {
            // Only label-file findings: the rest of the spec is empty here.
            let summary = LabelSummary::from(&template.config);
            let spec = crate::job::JobSpec {
                label_category_config_s3_uri: Some("s3://bucket/labels.json".into()),
                human_task_config: crate::job::spec::HumanTaskConfig {
                    pre_human_task_lambda_arn: Some(
                        template
                            .task_type
                            .builtin_lambda_arn(
                                crate::job::task_type::LambdaRole::PreAnnotation,
                                "us-east-1",
                            )
                            .unwrap(),
                    ),
                    ..Default::default()
                },
                ..Default::default()
            };
            let label_errors: Vec<_> = crate::job::validate(&spec, Some(&summary))
                .into_iter()
                .filter(|f| f.is_error() && f.path.starts_with("LabelCategoryConfig"))
                .collect();
            assert!(label_errors.is_empty(), "{}: {label_errors:?}", template.id);
            let instructions = template.config.instructions.as_ref().unwrap();
            assert!(instructions.short_instruction.as_ref().unwrap().chars().count() < 255);
            assert!(instructions.full_instruction.as_ref().unwrap().chars().count() < 2048);
        }
    }
}
