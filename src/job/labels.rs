//! From a parsed label category configuration (spec §4) to the [`LabelSummary`] validation reads.

use crate::formats::label_config::{AnnotationType, EditsAllowed, LabelCategoryConfig};

use super::validate::{LabelSummary, LabelSummaryEntry};

impl From<&LabelCategoryConfig> for LabelSummary {
    fn from(config: &LabelCategoryConfig) -> Self {
        let labels = config
            .labels
            .iter()
            .map(|label| LabelSummaryEntry {
                name: label.label.clone(),
                attribute_count: label.category_attributes.as_ref().map_or(0, Vec::len),
                read_only: label.edits_allowed == Some(EditsAllowed::None),
            })
            .collect();
        let annotation_types = match &config.annotation_type {
            None => Vec::new(),
            Some(AnnotationType::Tool(tool)) => vec![tool.clone()],
            Some(AnnotationType::List(entries)) => {
                entries.iter().map(|e| e.annotation_type.clone()).collect()
            }
        };
        Self {
            labels,
            category_global_attribute_count: config
                .category_global_attributes
                .as_ref()
                .map_or(0, Vec::len),
            frame_attribute_count: config.frame_attributes.as_ref().map_or(0, Vec::len),
            audit_label_attribute_name: config.audit_label_attribute_name.clone(),
            annotation_types,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn summarises_a_3d_label_config() {
        let text = r#"{"documentVersion":"2020-03-01",
            "labels":[{"label":"car","categoryAttributes":[{"name":"parked","type":"string","enum":["yes","no"]}],"editsAllowed":"none"},{"label":"pole"}],
            "frameAttributes":[{"name":"weather","type":"string","enum":["sun","rain"]}],
            "annotationType":[{"type":"BoundingBox"},{"type":"Cuboid"}],
            "auditLabelAttributeName":"old-job"}"#;
        let config = LabelCategoryConfig::parse(text, "labels.json").unwrap();
        let summary = LabelSummary::from(&config);
        assert_eq!(summary.labels.len(), 2);
        assert_eq!(summary.labels[0].attribute_count, 1);
        assert!(summary.labels[0].read_only);
        assert!(!summary.labels[1].read_only);
        assert_eq!(summary.frame_attribute_count, 1);
        assert_eq!(summary.annotation_types, vec!["BoundingBox", "Cuboid"]);
        assert_eq!(summary.audit_label_attribute_name.as_deref(), Some("old-job"));
    }
}
