//! The job specification as the wizard and the CLI use it: parse, canonical JSON, validation
//! rules (a table: one valid spec per task type, one mutation per case, the expected finding).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groundwork::job::spec::{
    AnnotationConsolidationConfig, ContentClassifier, DataAttributes, JobSpec,
    LabelingJobAlgorithmsConfig, PublicWorkforceTaskPrice, S3DataSource, SnsDataSource,
    StoppingConditions, Tag, UiConfig, UsdAmount,
};
use groundwork::job::task_type::{AuditMode, LambdaRole, RefSuffix, TaskType};
use groundwork::job::validate::{
    Finding, LabelSummary, LabelSummaryEntry, Severity, Workforce, validate,
};
use serde_json::Value;

const REGION: &str = "us-east-1";
const TEAM: &str = "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team";
const PUBLIC_TEAM: &str = "arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default";

fn labels(n: usize) -> Vec<LabelSummaryEntry> {
    (0..n).map(|i| LabelSummaryEntry { name: format!("label{i}"), ..Default::default() }).collect()
}

/// A spec that passes every rule for `task_type`, built only from `TaskType`'s own answers.
fn valid(task_type: TaskType) -> (JobSpec, LabelSummary) {
    let mut spec = JobSpec {
        labeling_job_name: "street-scenes".into(),
        label_attribute_name: Some(match task_type.ref_suffix() {
            RefSuffix::Required => "labels-ref".into(),
            RefSuffix::Forbidden => "labels".into(),
        }),
        role_arn: "arn:aws:iam::111122223333:role/gt-role".into(),
        label_category_config_s3_uri: Some("s3://gt-bucket/in/labels.json".into()),
        tags: vec![Tag { key: "project".into(), value: "streets".into(), ..Default::default() }],
        ..JobSpec::default()
    };
    spec.input_config.data_source.s3_data_source = Some(S3DataSource {
        manifest_s3_uri: "s3://gt-bucket/in/input.manifest".into(),
        ..Default::default()
    });
    spec.output_config.s3_output_path = "s3://gt-bucket/out/".into();
    let task = &mut spec.human_task_config;
    task.workteam_arn = TEAM.into();
    task.pre_human_task_lambda_arn =
        Some(task_type.builtin_lambda_arn(LambdaRole::PreAnnotation, REGION).unwrap());
    task.annotation_consolidation_config = Some(AnnotationConsolidationConfig {
        annotation_consolidation_lambda_arn: task_type
            .builtin_lambda_arn(LambdaRole::Consolidation, REGION)
            .unwrap(),
        ..Default::default()
    });
    task.ui_config = match task_type.human_task_ui_arn(REGION) {
        Some(arn) => UiConfig { human_task_ui_arn: Some(arn), ..Default::default() },
        None => UiConfig {
            ui_template_s3_uri: Some("s3://gt-bucket/in/template.liquid.html".into()),
            ..Default::default()
        },
    };
    task.task_keywords = vec!["street scenes".into(), "cars".into()];
    task.task_title = "Label street scenes".into();
    task.task_description = "Label every car, truck and bus".into();
    task.number_of_human_workers_per_data_object = Some(task_type.default_workers_per_object());
    task.task_time_limit_secs = Some(task_type.default_task_time_limit_secs().min(3600));
    task.task_availability_lifetime_secs = Some(864_000);
    task.max_concurrent_task_count = Some(1000);

    let mut summary = LabelSummary { labels: labels(3), ..LabelSummary::default() };
    if task_type.is_3d_2d_linking() {
        summary.annotation_types = vec!["BoundingBox".into(), "Cuboid".into()];
    }
    if task_type.is_adjustment() && (task_type.is_video_frame() || task_type.is_point_cloud()) {
        summary.audit_label_attribute_name = Some("earlier-ref".into());
    }
    (spec, summary)
}

/// Findings other than the "bucket Region cannot be checked offline" note, which every spec
/// with `s3://` URIs carries (tested on its own below).
fn relevant(findings: Vec<Finding>) -> Vec<Finding> {
    findings.into_iter().filter(|f| !f.message.contains("cannot be checked offline")).collect()
}

#[test]
fn every_task_type_has_a_valid_spec() {
    for task_type in TaskType::ALL {
        let (spec, summary) = valid(task_type);
        let findings = relevant(validate(&spec, Some(&summary)));
        assert!(findings.is_empty(), "{task_type:?}: {findings:#?}");
        let job = spec.validated(Some(&summary)).unwrap();
        assert_eq!(job.task_type(), task_type);
        assert_eq!(job.region(), Some(REGION));
        assert_eq!(job.workforce(), Workforce::Private);
    }
}

#[test]
fn unknown_bucket_regions_are_one_warning() {
    let (spec, summary) = valid(TaskType::BoundingBox);
    let findings = validate(&spec, Some(&summary));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding.severity, Severity::Warning);
    assert_eq!(finding.path, "InputConfig.DataSource.S3DataSource.ManifestS3Uri");
    for path in ["OutputConfig.S3OutputPath", "LabelCategoryConfigS3Uri", "UiTemplateS3Uri"] {
        assert!(finding.message.contains(path), "{path} in {}", finding.message);
    }
    assert!(finding.message.contains(REGION));

    // All URIs as regional https endpoints: nothing left to warn about.
    let mut spec = spec;
    let https = |key: &str| format!("https://gt-bucket.s3.us-east-1.amazonaws.com/{key}");
    spec.input_config.data_source.s3_data_source.as_mut().unwrap().manifest_s3_uri = https("in/m");
    spec.output_config.s3_output_path = https("out/");
    spec.label_category_config_s3_uri = Some(https("in/labels.json"));
    spec.human_task_config.ui_config.ui_template_s3_uri = Some(https("in/t.liquid.html"));
    assert_eq!(validate(&spec, Some(&summary)), vec![]);
}

type Mutation = fn(&mut JobSpec, &mut LabelSummary);

struct Case {
    name: &'static str,
    task_type: TaskType,
    mutate: Mutation,
    /// The finding the mutation must cause, or `None` for "still valid".
    expect: Option<(&'static str, Severity)>,
}

use Severity::{Error as E, Warning as W};
use TaskType as T;

fn case(
    name: &'static str,
    task_type: TaskType,
    mutate: Mutation,
    expect: Option<(&'static str, Severity)>,
) -> Case {
    Case { name, task_type, mutate, expect }
}

fn task(spec: &mut JobSpec) -> &mut groundwork::job::spec::HumanTaskConfig {
    &mut spec.human_task_config
}

fn set_pre(spec: &mut JobSpec, arn: &str) {
    task(spec).pre_human_task_lambda_arn = Some(arn.into());
}

fn set_acs(spec: &mut JobSpec, arn: &str) {
    task(spec)
        .annotation_consolidation_config
        .as_mut()
        .unwrap()
        .annotation_consolidation_lambda_arn = arn.into();
}

fn go_public(spec: &mut JobSpec) {
    task(spec).workteam_arn = PUBLIC_TEAM.into();
    task(spec).task_availability_lifetime_secs = Some(21_600);
    task(spec).public_workforce_task_price = Some(PublicWorkforceTaskPrice {
        amount_in_usd: UsdAmount { cents: 3, tenth_fractions_of_a_cent: 6, ..Default::default() },
        ..Default::default()
    });
    spec.input_config.data_attributes = Some(DataAttributes {
        content_classifiers: vec![ContentClassifier::FreeOfPersonallyIdentifiableInformation],
        ..Default::default()
    });
}

fn active_learning(spec: &mut JobSpec, algorithm: &str) {
    spec.labeling_job_algorithms_config = Some(LabelingJobAlgorithmsConfig {
        labeling_job_algorithm_specification_arn: format!(
            "arn:aws:sagemaker:us-east-1:027400017018:labeling-job-algorithm-specification/{algorithm}"
        ),
        ..Default::default()
    });
}

fn streaming(spec: &mut JobSpec) {
    spec.input_config.data_source.sns_data_source = Some(SnsDataSource {
        sns_topic_arn: "arn:aws:sns:us-east-1:111122223333:gt-input".into(),
        ..Default::default()
    });
}

#[allow(clippy::too_many_lines)]
fn cases() -> Vec<Case> {
    const NAME: &str = "LabelingJobName";
    const ATTR: &str = "LabelAttributeName";
    const LABELS: &str = "LabelCategoryConfig.labels";
    const TIME: &str = "HumanTaskConfig.TaskTimeLimitInSeconds";
    const LIFE: &str = "HumanTaskConfig.TaskAvailabilityLifetimeInSeconds";
    const WORKERS: &str = "HumanTaskConfig.NumberOfHumanWorkersPerDataObject";
    const CONCURRENT: &str = "HumanTaskConfig.MaxConcurrentTaskCount";
    const TEAM_PATH: &str = "HumanTaskConfig.WorkteamArn";
    const KMS: &str = "OutputConfig.KmsKeyId";
    const MANIFEST: &str = "InputConfig.DataSource.S3DataSource.ManifestS3Uri";
    const PRE: &str = "HumanTaskConfig.PreHumanTaskLambdaArn";
    const ACS: &str =
        "HumanTaskConfig.AnnotationConsolidationConfig.AnnotationConsolidationLambdaArn";
    const AUDIT: &str = "LabelCategoryConfig.auditLabelAttributeName";
    const UI: &str = "HumanTaskConfig.UiConfig";
    const ALG: &str = "LabelingJobAlgorithmsConfig";
    const ALG_ARN: &str = "LabelingJobAlgorithmsConfig.LabelingJobAlgorithmSpecificationArn";
    vec![
        // Job name, spec §8.2.
        case(
            "name with repeated hyphens",
            T::BoundingBox,
            |s, _| s.labeling_job_name = "a--b-1".into(),
            None,
        ),
        case("name of 63", T::BoundingBox, |s, _| s.labeling_job_name = "a".repeat(63), None),
        case(
            "name of 64",
            T::BoundingBox,
            |s, _| s.labeling_job_name = "a".repeat(64),
            Some((NAME, E)),
        ),
        case(
            "name leading hyphen",
            T::BoundingBox,
            |s, _| s.labeling_job_name = "-a".into(),
            Some((NAME, E)),
        ),
        case(
            "name underscore",
            T::BoundingBox,
            |s, _| s.labeling_job_name = "a_b".into(),
            Some((NAME, E)),
        ),
        case(
            "name empty",
            T::BoundingBox,
            |s, _| s.labeling_job_name = String::new(),
            Some((NAME, E)),
        ),
        // LabelAttributeName, spec §8.2, §8.3.
        case(
            "attr of 127",
            T::BoundingBox,
            |s, _| s.label_attribute_name = Some("b".repeat(127)),
            None,
        ),
        case(
            "attr of 128",
            T::BoundingBox,
            |s, _| s.label_attribute_name = Some("b".repeat(128)),
            Some((ATTR, E)),
        ),
        case(
            "attr -metadata",
            T::BoundingBox,
            |s, _| s.label_attribute_name = Some("x-metadata".into()),
            Some((ATTR, E)),
        ),
        case(
            "attr reserved",
            T::BoundingBox,
            |s, _| s.label_attribute_name = Some("source".into()),
            Some((ATTR, E)),
        ),
        case(
            "attr with $",
            T::BoundingBox,
            |s, _| s.label_attribute_name = Some("$x".into()),
            Some((ATTR, E)),
        ),
        case(
            "attr -ref on boxes",
            T::BoundingBox,
            |s, _| s.label_attribute_name = Some("boxes-ref".into()),
            Some((ATTR, E)),
        ),
        case(
            "attr no -ref on segmentation",
            T::SemanticSegmentation,
            |s, _| s.label_attribute_name = Some("seg".into()),
            Some((ATTR, E)),
        ),
        case(
            "attr -ref on seg adjustment",
            T::SemanticSegmentationAdjustment,
            |s, _| s.label_attribute_name = Some("seg2-ref".into()),
            None,
        ),
        case(
            "attr -ref on seg verification",
            T::SemanticSegmentationVerification,
            |s, _| s.label_attribute_name = Some("v-ref".into()),
            Some((ATTR, E)),
        ),
        case(
            "attr -ref on 3D detection",
            T::PointCloudObjectDetection,
            |s, _| s.label_attribute_name = Some("c-ref".into()),
            Some((ATTR, E)),
        ),
        case(
            "attr no -ref on 3D tracking",
            T::PointCloudObjectTracking,
            |s, _| s.label_attribute_name = Some("t".into()),
            Some((ATTR, E)),
        ),
        case(
            "attr no -ref on 3D segmentation",
            T::PointCloudSemanticSegmentation,
            |s, _| s.label_attribute_name = Some("s".into()),
            Some((ATTR, E)),
        ),
        case(
            "attr no -ref on video",
            T::VideoObjectTrackingAdjustment,
            |s, _| s.label_attribute_name = Some("v".into()),
            Some((ATTR, E)),
        ),
        case(
            "attr -ref on custom",
            T::Custom,
            |s, _| s.label_attribute_name = Some("c-ref".into()),
            Some((ATTR, E)),
        ),
        case(
            "job name as -ref attr",
            T::VideoObjectDetection,
            |s, _| {
                s.label_attribute_name = None;
                s.labeling_job_name = "cars-ref".into()
            },
            None,
        ),
        case(
            "job name as attr without -ref",
            T::VideoObjectDetection,
            |s, _| s.label_attribute_name = None,
            Some((NAME, E)),
        ),
        // Label counts, spec §1.4 and the seed.
        case(
            "image classification 2 labels",
            T::ImageClassification,
            |_, l| l.labels = labels(2),
            None,
        ),
        case(
            "image classification 1 label",
            T::ImageClassification,
            |_, l| l.labels = labels(1),
            Some((LABELS, E)),
        ),
        case(
            "multi-label image 1 label",
            T::ImageClassificationMultiLabel,
            |_, l| l.labels = labels(1),
            Some((LABELS, E)),
        ),
        case(
            "text classification 1 label",
            T::TextClassification,
            |_, l| l.labels = labels(1),
            Some((LABELS, E)),
        ),
        case(
            "multi-label text 1 label",
            T::TextClassificationMultiLabel,
            |_, l| l.labels = labels(1),
            Some((LABELS, E)),
        ),
        case("NER 1 label", T::NamedEntityRecognition, |_, l| l.labels = labels(1), None),
        case(
            "bounding box 0 labels",
            T::BoundingBox,
            |_, l| l.labels = labels(0),
            Some((LABELS, E)),
        ),
        case("bounding box 10 labels", T::BoundingBox, |_, l| l.labels = labels(10), None),
        case(
            "bounding box 11 labels",
            T::BoundingBox,
            |_, l| l.labels = labels(11),
            Some((LABELS, W)),
        ),
        case(
            "bounding box 51 labels",
            T::BoundingBox,
            |_, l| l.labels = labels(51),
            Some((LABELS, E)),
        ),
        case(
            "multi-label 50 labels",
            T::ImageClassificationMultiLabel,
            |_, l| l.labels = labels(50),
            None,
        ),
        case(
            "multi-label 51 labels",
            T::TextClassificationMultiLabel,
            |_, l| l.labels = labels(51),
            Some((LABELS, E)),
        ),
        case(
            "single-label 31 labels (console)",
            T::ImageClassification,
            |_, l| l.labels = labels(31),
            Some((LABELS, W)),
        ),
        case("3D 30 labels", T::PointCloudObjectDetection, |_, l| l.labels = labels(30), None),
        case(
            "3D 31 labels",
            T::PointCloudObjectDetection,
            |_, l| l.labels = labels(31),
            Some((LABELS, E)),
        ),
        case(
            "video 31 labels",
            T::VideoObjectDetection,
            |_, l| l.labels = labels(31),
            Some((LABELS, E)),
        ),
        case(
            "segmentation with AL, 21 labels",
            T::SemanticSegmentation,
            |s, l| {
                l.labels = labels(21);
                active_learning(s, "semantic-segmentation")
            },
            Some((LABELS, E)),
        ),
        case(
            "custom without labels",
            T::Custom,
            |s, l| {
                l.labels.clear();
                s.label_category_config_s3_uri = None
            },
            None,
        ),
        case(
            "built-in without label file",
            T::BoundingBox,
            |s, _| s.label_category_config_s3_uri = None,
            Some(("LabelCategoryConfigS3Uri", E)),
        ),
        // Label names, spec §1.4, §4.3.
        case(
            "duplicate label",
            T::BoundingBox,
            |_, l| l.labels[1].name = "label0".into(),
            Some(("LabelCategoryConfig.labels[1].label", E)),
        ),
        case(
            "empty label",
            T::BoundingBox,
            |_, l| l.labels[2].name = String::new(),
            Some(("LabelCategoryConfig.labels[2].label", E)),
        ),
        case(
            "3D label of 16",
            T::PointCloudObjectTracking,
            |_, l| l.labels[0].name = "x".repeat(16),
            None,
        ),
        case(
            "3D label of 17",
            T::PointCloudObjectTracking,
            |_, l| l.labels[0].name = "x".repeat(17),
            Some(("LabelCategoryConfig.labels[0].label", E)),
        ),
        case("image label of 17", T::BoundingBox, |_, l| l.labels[0].name = "x".repeat(17), None),
        // Attributes per type, spec §4.3 and the seed.
        case(
            "3D detection attributes",
            T::PointCloudObjectDetection,
            |_, l| {
                l.labels[0].attribute_count = 4;
                l.category_global_attribute_count = 6;
                l.frame_attribute_count = 10
            },
            None,
        ),
        case(
            "3D detection 11 attributes",
            T::PointCloudObjectDetection,
            |_, l| {
                l.labels[0].attribute_count = 5;
                l.category_global_attribute_count = 6
            },
            Some(("LabelCategoryConfig.labels[0].categoryAttributes", E)),
        ),
        case(
            "11 frame attributes",
            T::VideoObjectTracking,
            |_, l| l.frame_attribute_count = 11,
            Some(("LabelCategoryConfig.frameAttributes", E)),
        ),
        case(
            "3D segmentation frame attributes",
            T::PointCloudSemanticSegmentation,
            |_, l| l.frame_attribute_count = 2,
            None,
        ),
        case(
            "3D segmentation label attribute",
            T::PointCloudSemanticSegmentation,
            |_, l| l.labels[1].attribute_count = 1,
            Some(("LabelCategoryConfig.labels[1].categoryAttributes", E)),
        ),
        case(
            "3D segmentation global attribute",
            T::PointCloudSemanticSegmentationAdjustment,
            |_, l| l.category_global_attribute_count = 1,
            Some(("LabelCategoryConfig.categoryGlobalAttributes", E)),
        ),
        case(
            "bounding box attribute",
            T::BoundingBox,
            |_, l| l.labels[0].attribute_count = 1,
            Some(("LabelCategoryConfig.labels[0].categoryAttributes", E)),
        ),
        case(
            "text frame attribute",
            T::TextClassification,
            |_, l| l.frame_attribute_count = 1,
            Some(("LabelCategoryConfig.frameAttributes", E)),
        ),
        case(
            "custom attribute",
            T::Custom,
            |_, l| l.category_global_attribute_count = 1,
            Some(("LabelCategoryConfig.categoryGlobalAttributes", W)),
        ),
        // Annotation types, spec §2.4, §3.5.
        case(
            "video polygon tool",
            T::VideoObjectDetection,
            |_, l| l.annotation_types = vec!["Polygon".into()],
            None,
        ),
        case(
            "video cuboid tool",
            T::VideoObjectDetection,
            |_, l| l.annotation_types = vec!["Cuboid".into()],
            Some(("LabelCategoryConfig.annotationType", E)),
        ),
        case(
            "3D-2D without boxes",
            T::PointCloud3d2dLinking,
            |_, l| l.annotation_types = vec!["Cuboid".into()],
            Some(("LabelCategoryConfig.annotationType", E)),
        ),
        case(
            "annotation type on boxes",
            T::BoundingBox,
            |_, l| l.annotation_types = vec!["Polygon".into()],
            Some(("LabelCategoryConfig.annotationType", W)),
        ),
        // Task timeout, spec §8.4 and the seed.
        case("timeout 30", T::BoundingBox, |s, _| task(s).task_time_limit_secs = Some(30), None),
        case(
            "timeout 29",
            T::BoundingBox,
            |s, _| task(s).task_time_limit_secs = Some(29),
            Some((TIME, E)),
        ),
        case(
            "timeout default",
            T::TextClassification,
            |s, _| task(s).task_time_limit_secs = None,
            None,
        ),
        case("timeout 1 h", T::BoundingBox, |s, _| task(s).task_time_limit_secs = Some(3600), None),
        case(
            "timeout over 1 h",
            T::BoundingBox,
            |s, _| task(s).task_time_limit_secs = Some(3601),
            Some((TIME, W)),
        ),
        case(
            "timeout over 8 h (image)",
            T::BoundingBox,
            |s, _| task(s).task_time_limit_secs = Some(28_801),
            Some((TIME, E)),
        ),
        case(
            "3D timeout 8 h",
            T::PointCloudObjectDetection,
            |s, _| task(s).task_time_limit_secs = Some(28_800),
            Some((TIME, W)),
        ),
        case(
            "3D timeout over 8 h",
            T::PointCloudObjectDetection,
            |s, _| task(s).task_time_limit_secs = Some(28_801),
            Some((TIME, W)),
        ),
        case(
            "3D timeout over 7 days",
            T::PointCloudObjectTracking,
            |s, _| task(s).task_time_limit_secs = Some(604_801),
            Some((TIME, E)),
        ),
        case(
            "video timeout 2 days",
            T::VideoObjectTracking,
            |s, _| task(s).task_time_limit_secs = Some(172_800),
            Some((TIME, W)),
        ),
        // Task availability lifetime, spec §8.4.
        case(
            "lifetime 60",
            T::BoundingBox,
            |s, _| task(s).task_availability_lifetime_secs = Some(60),
            None,
        ),
        case(
            "lifetime 59",
            T::BoundingBox,
            |s, _| task(s).task_availability_lifetime_secs = Some(59),
            Some((LIFE, E)),
        ),
        case(
            "lifetime 30 days",
            T::BoundingBox,
            |s, _| task(s).task_availability_lifetime_secs = Some(2_592_000),
            None,
        ),
        case(
            "lifetime over 30 days",
            T::BoundingBox,
            |s, _| task(s).task_availability_lifetime_secs = Some(2_592_001),
            Some((LIFE, E)),
        ),
        case(
            "public lifetime over 12 h",
            T::BoundingBox,
            |s, _| {
                go_public(s);
                task(s).task_availability_lifetime_secs = Some(43_201)
            },
            Some((LIFE, E)),
        ),
        // Workers per object, spec §7.1.
        case(
            "9 workers",
            T::BoundingBox,
            |s, _| task(s).number_of_human_workers_per_data_object = Some(9),
            None,
        ),
        case(
            "10 workers",
            T::BoundingBox,
            |s, _| task(s).number_of_human_workers_per_data_object = Some(10),
            Some((WORKERS, E)),
        ),
        case(
            "0 workers",
            T::TextClassification,
            |s, _| task(s).number_of_human_workers_per_data_object = Some(0),
            Some((WORKERS, E)),
        ),
        case(
            "2 workers on 3D",
            T::PointCloudObjectDetection,
            |s, _| task(s).number_of_human_workers_per_data_object = Some(2),
            Some((WORKERS, E)),
        ),
        case(
            "2 workers on video",
            T::VideoObjectDetection,
            |s, _| task(s).number_of_human_workers_per_data_object = Some(2),
            Some((WORKERS, E)),
        ),
        // MaxConcurrentTaskCount, spec §8.4.
        case(
            "concurrency 1000",
            T::BoundingBox,
            |s, _| task(s).max_concurrent_task_count = Some(1000),
            None,
        ),
        case(
            "concurrency 0",
            T::BoundingBox,
            |s, _| task(s).max_concurrent_task_count = Some(0),
            Some((CONCURRENT, E)),
        ),
        case(
            "concurrency 1001",
            T::BoundingBox,
            |s, _| task(s).max_concurrent_task_count = Some(1001),
            Some((CONCURRENT, W)),
        ),
        case(
            "concurrency 5001",
            T::BoundingBox,
            |s, _| task(s).max_concurrent_task_count = Some(5001),
            Some((CONCURRENT, E)),
        ),
        // Adjustment and verification, spec §4.4 and the seed.
        case(
            "audit on classification",
            T::ImageClassification,
            |_, l| l.audit_label_attribute_name = Some("old".into()),
            Some((AUDIT, E)),
        ),
        case(
            "audit on text",
            T::NamedEntityRecognition,
            |_, l| l.audit_label_attribute_name = Some("old".into()),
            Some((AUDIT, E)),
        ),
        case(
            "audit on boxes",
            T::BoundingBoxAdjustment,
            |_, l| l.audit_label_attribute_name = Some("old".into()),
            None,
        ),
        case(
            "audit with 3D base Lambda",
            T::PointCloudObjectDetection,
            |_, l| l.audit_label_attribute_name = Some("old".into()),
            Some((PRE, E)),
        ),
        case(
            "3D adjustment without audit name",
            T::PointCloudObjectDetectionAdjustment,
            |_, l| l.audit_label_attribute_name = None,
            Some((AUDIT, E)),
        ),
        case(
            "video adjustment reusing the name",
            T::VideoObjectTrackingAdjustment,
            |_, l| l.audit_label_attribute_name = Some("labels-ref".into()),
            Some((ATTR, E)),
        ),
        case(
            "3D verification (all read-only)",
            T::PointCloudObjectTrackingAdjustment,
            |_, l| l.labels.iter_mut().for_each(|x| x.read_only = true),
            None,
        ),
        // Public workforce, spec §2.4, §3.5, §8.2, §8.4 and the seed.
        case("public boxes", T::BoundingBox, |s, _| go_public(s), None),
        case("public 3D", T::PointCloudObjectDetection, |s, _| go_public(s), Some((TEAM_PATH, E))),
        case(
            "public video frame",
            T::VideoObjectTracking,
            |s, _| go_public(s),
            Some((TEAM_PATH, E)),
        ),
        case("public video clip", T::VideoClassification, |s, _| go_public(s), None),
        case(
            "public without PII flag",
            T::TextClassification,
            |s, _| {
                go_public(s);
                s.input_config.data_attributes = None
            },
            Some(("InputConfig.DataAttributes.ContentClassifiers", E)),
        ),
        case(
            "public without price",
            T::TextClassification,
            |s, _| {
                go_public(s);
                task(s).public_workforce_task_price = None
            },
            Some(("HumanTaskConfig.PublicWorkforceTaskPrice", W)),
        ),
        case(
            "price for a private team",
            T::TextClassification,
            |s, _| {
                go_public(s);
                task(s).workteam_arn = TEAM.into()
            },
            Some(("HumanTaskConfig.PublicWorkforceTaskPrice", W)),
        ),
        case(
            "price of 100 cents",
            T::TextClassification,
            |s, _| {
                go_public(s);
                task(s).public_workforce_task_price.as_mut().unwrap().amount_in_usd.cents = 100
            },
            Some(("HumanTaskConfig.PublicWorkforceTaskPrice.AmountInUsd.Cents", E)),
        ),
        case(
            "work team not an ARN",
            T::BoundingBox,
            |s, _| task(s).workteam_arn = "team".into(),
            Some((TEAM_PATH, E)),
        ),
        // KMS key, spec §8.2.
        case(
            "kms key id",
            T::BoundingBox,
            |s, _| s.output_config.kms_key_id = Some("1234abcd-12ab-34cd-56ef-1234567890ab".into()),
            None,
        ),
        case(
            "kms alias",
            T::BoundingBox,
            |s, _| s.output_config.kms_key_id = Some("alias/gt-output".into()),
            None,
        ),
        case(
            "kms key arn",
            T::BoundingBox,
            |s, _| {
                s.output_config.kms_key_id = Some(
                    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                        .into(),
                )
            },
            None,
        ),
        case(
            "kms alias arn",
            T::BoundingBox,
            |s, _| {
                s.output_config.kms_key_id =
                    Some("arn:aws:kms:us-east-1:111122223333:alias/gt".into())
            },
            None,
        ),
        case(
            "kms garbage",
            T::BoundingBox,
            |s, _| s.output_config.kms_key_id = Some("my key".into()),
            Some((KMS, E)),
        ),
        case(
            "kms short id",
            T::BoundingBox,
            |s, _| s.output_config.kms_key_id = Some("1234abcd".into()),
            Some((KMS, E)),
        ),
        case(
            "kms key in another Region",
            T::BoundingBox,
            |s, _| {
                s.output_config.kms_key_id =
                    Some("arn:aws:kms:eu-west-1:111122223333:alias/gt".into())
            },
            Some((KMS, E)),
        ),
        // S3 URIs and Regions, spec §8.2 and the seed.
        case(
            "manifest bucket with capitals",
            T::BoundingBox,
            |s, _| {
                s.input_config.data_source.s3_data_source.as_mut().unwrap().manifest_s3_uri =
                    "s3://Bad_Bucket/m".into()
            },
            Some((MANIFEST, E)),
        ),
        case(
            "output not S3",
            T::BoundingBox,
            |s, _| s.output_config.s3_output_path = "ftp://gt-bucket/out".into(),
            Some(("OutputConfig.S3OutputPath", E)),
        ),
        case(
            "output missing",
            T::BoundingBox,
            |s, _| s.output_config.s3_output_path = String::new(),
            Some(("OutputConfig.S3OutputPath", E)),
        ),
        case(
            "label file not S3",
            T::BoundingBox,
            |s, _| s.label_category_config_s3_uri = Some("labels.json".into()),
            Some(("LabelCategoryConfigS3Uri", E)),
        ),
        case(
            "template not S3",
            T::BoundingBox,
            |s, _| task(s).ui_config.ui_template_s3_uri = Some("/tmp/t.html".into()),
            Some(("HumanTaskConfig.UiConfig.UiTemplateS3Uri", E)),
        ),
        case(
            "https manifest in the job's Region",
            T::BoundingBox,
            |s, _| {
                s.input_config.data_source.s3_data_source.as_mut().unwrap().manifest_s3_uri =
                    "https://gt-bucket.s3.us-east-1.amazonaws.com/m".into()
            },
            None,
        ),
        case(
            "https manifest in another Region",
            T::BoundingBox,
            |s, _| {
                s.input_config.data_source.s3_data_source.as_mut().unwrap().manifest_s3_uri =
                    "https://gt-bucket.s3.eu-west-1.amazonaws.com/m".into()
            },
            Some((MANIFEST, E)),
        ),
        case(
            "no data source",
            T::BoundingBox,
            |s, _| s.input_config.data_source.s3_data_source = None,
            Some(("InputConfig.DataSource", E)),
        ),
        // Role, spec §8.2.
        case(
            "role with path",
            T::BoundingBox,
            |s, _| s.role_arn = "arn:aws:iam::111122223333:role/service-role/gt".into(),
            None,
        ),
        case(
            "user instead of role",
            T::BoundingBox,
            |s, _| s.role_arn = "arn:aws:iam::111122223333:user/gt".into(),
            Some(("RoleArn", E)),
        ),
        case(
            "role missing",
            T::BoundingBox,
            |s, _| s.role_arn = String::new(),
            Some(("RoleArn", E)),
        ),
        // Lambdas, spec §8.4, §8.6.
        case(
            "PRE in another Region",
            T::BoundingBox,
            |s, _| set_pre(s, "arn:aws:lambda:us-west-2:081040173940:function:PRE-BoundingBox"),
            Some((PRE, E)),
        ),
        case(
            "ACS in another Region",
            T::BoundingBox,
            |s, _| set_acs(s, "arn:aws:lambda:us-west-2:081040173940:function:ACS-BoundingBox"),
            Some((ACS, E)),
        ),
        case(
            "ACS of another type",
            T::BoundingBox,
            |s, _| set_acs(s, "arn:aws:lambda:us-east-1:432418664414:function:ACS-ImageMultiClass"),
            Some((ACS, E)),
        ),
        case(
            "ACS given as PRE",
            T::BoundingBox,
            |s, _| set_acs(s, "arn:aws:lambda:us-east-1:432418664414:function:PRE-BoundingBox"),
            Some((ACS, E)),
        ),
        case(
            "PRE in a foreign account",
            T::BoundingBox,
            |s, _| set_pre(s, "arn:aws:lambda:us-east-1:111122223333:function:PRE-BoundingBox"),
            Some((PRE, W)),
        ),
        case(
            "PRE malformed",
            T::BoundingBox,
            |s, _| set_pre(s, "arn:aws:lambda:us-east-1:432418664414:PRE-BoundingBox"),
            Some((PRE, E)),
        ),
        case(
            "no ACS",
            T::BoundingBox,
            |s, _| task(s).annotation_consolidation_config = None,
            Some(("HumanTaskConfig.AnnotationConsolidationConfig", W)),
        ),
        case(
            "custom Lambdas",
            T::Custom,
            |s, _| {
                set_pre(s, "arn:aws:lambda:us-east-1:111122223333:function:gt-pre");
                set_acs(s, "arn:aws:lambda:us-east-1:111122223333:function:gt-post")
            },
            None,
        ),
        case(
            "custom Lambdas in another Region",
            T::Custom,
            |s, _| set_acs(s, "arn:aws:lambda:eu-west-1:111122223333:function:gt-post"),
            Some((ACS, E)),
        ),
        case(
            "NER without PRE",
            T::NamedEntityRecognition,
            |s, _| task(s).pre_human_task_lambda_arn = None,
            Some((PRE, W)),
        ),
        // Worker UI, spec §8.4, §8.5, §2.4, §3.5.
        case(
            "boxes with a built-in UI",
            T::BoundingBox,
            |s, _| {
                let ui = &mut task(s).ui_config;
                ui.ui_template_s3_uri = None;
                ui.human_task_ui_arn = T::PointCloudObjectDetection.human_task_ui_arn(REGION)
            },
            Some(("HumanTaskConfig.UiConfig.HumanTaskUiArn", E)),
        ),
        case(
            "3D with a template",
            T::PointCloudObjectDetection,
            |s, _| {
                let ui = &mut task(s).ui_config;
                ui.human_task_ui_arn = None;
                ui.ui_template_s3_uri = Some("s3://gt-bucket/t.html".into())
            },
            Some(("HumanTaskConfig.UiConfig.UiTemplateS3Uri", E)),
        ),
        case(
            "3D with the wrong UI",
            T::PointCloudObjectDetection,
            |s, _| {
                task(s).ui_config.human_task_ui_arn =
                    T::PointCloudSemanticSegmentation.human_task_ui_arn(REGION)
            },
            Some(("HumanTaskConfig.UiConfig.HumanTaskUiArn", E)),
        ),
        case(
            "both UIs",
            T::VideoObjectDetection,
            |s, _| task(s).ui_config.ui_template_s3_uri = Some("s3://gt-bucket/t.html".into()),
            Some((UI, E)),
        ),
        case(
            "no UI",
            T::BoundingBox,
            |s, _| task(s).ui_config = UiConfig::default(),
            Some((UI, E)),
        ),
        // Title, description, keywords, spec §8.4.
        case(
            "5 keywords",
            T::BoundingBox,
            |s, _| task(s).task_keywords = vec!["a".into(); 5],
            None,
        ),
        case(
            "6 keywords",
            T::BoundingBox,
            |s, _| task(s).task_keywords = vec!["a".into(); 6],
            Some(("HumanTaskConfig.TaskKeywords", E)),
        ),
        case(
            "keyword punctuation",
            T::BoundingBox,
            |s, _| task(s).task_keywords = vec!["cars, trucks".into()],
            Some(("HumanTaskConfig.TaskKeywords[0]", E)),
        ),
        case(
            "keyword double space",
            T::BoundingBox,
            |s, _| task(s).task_keywords = vec!["a".into(), "b  c".into()],
            Some(("HumanTaskConfig.TaskKeywords[1]", E)),
        ),
        case(
            "keyword of 31",
            T::BoundingBox,
            |s, _| task(s).task_keywords = vec!["k".repeat(31)],
            Some(("HumanTaskConfig.TaskKeywords[0]", E)),
        ),
        case("title of 128", T::BoundingBox, |s, _| task(s).task_title = "t".repeat(128), None),
        case(
            "title of 129",
            T::BoundingBox,
            |s, _| task(s).task_title = "t".repeat(129),
            Some(("HumanTaskConfig.TaskTitle", E)),
        ),
        case(
            "title empty",
            T::BoundingBox,
            |s, _| task(s).task_title = String::new(),
            Some(("HumanTaskConfig.TaskTitle", E)),
        ),
        case(
            "title with emoji",
            T::BoundingBox,
            |s, _| task(s).task_title = "Cars \u{1F697}".into(),
            Some(("HumanTaskConfig.TaskTitle", E)),
        ),
        case(
            "description multi-line",
            T::BoundingBox,
            |s, _| task(s).task_description = "a\nb".into(),
            Some(("HumanTaskConfig.TaskDescription", E)),
        ),
        case(
            "description of 255",
            T::BoundingBox,
            |s, _| task(s).task_description = "d".repeat(255),
            None,
        ),
        case(
            "description of 256",
            T::BoundingBox,
            |s, _| task(s).task_description = "d".repeat(256),
            Some(("HumanTaskConfig.TaskDescription", E)),
        ),
        // Streaming, spec §8.2, §8.8.
        case("streaming", T::BoundingBox, |s, _| streaming(s), None),
        case(
            "streaming topic malformed",
            T::BoundingBox,
            |s, _| {
                streaming(s);
                s.input_config.data_source.sns_data_source.as_mut().unwrap().sns_topic_arn =
                    "arn:aws:sns:us-east-1:111122223333:bad topic".into()
            },
            Some(("InputConfig.DataSource.SnsDataSource.SnsTopicArn", E)),
        ),
        case(
            "streaming topic in another Region",
            T::BoundingBox,
            |s, _| {
                streaming(s);
                s.input_config.data_source.sns_data_source.as_mut().unwrap().sns_topic_arn =
                    "arn:aws:sns:eu-west-1:111122223333:t".into()
            },
            Some(("InputConfig.DataSource.SnsDataSource.SnsTopicArn", E)),
        ),
        case(
            "streaming with stopping conditions",
            T::BoundingBox,
            |s, _| {
                streaming(s);
                s.stopping_conditions = Some(StoppingConditions {
                    max_percentage_of_input_dataset_labeled: Some(50),
                    ..Default::default()
                })
            },
            Some(("StoppingConditions", W)),
        ),
        // Stopping conditions, spec §8.2.
        case(
            "stop at 100%",
            T::BoundingBox,
            |s, _| {
                s.stopping_conditions = Some(StoppingConditions {
                    max_percentage_of_input_dataset_labeled: Some(100),
                    ..Default::default()
                })
            },
            None,
        ),
        case(
            "stop at 101%",
            T::BoundingBox,
            |s, _| {
                s.stopping_conditions = Some(StoppingConditions {
                    max_percentage_of_input_dataset_labeled: Some(101),
                    ..Default::default()
                })
            },
            Some(("StoppingConditions.MaxPercentageOfInputDatasetLabeled", E)),
        ),
        case(
            "stop after 0 objects",
            T::BoundingBox,
            |s, _| {
                s.stopping_conditions = Some(StoppingConditions {
                    max_human_labeled_object_count: Some(0),
                    ..Default::default()
                })
            },
            Some(("StoppingConditions.MaxHumanLabeledObjectCount", E)),
        ),
        // Automated data labeling, spec §8.2, §8.7.
        case("AL on boxes", T::BoundingBox, |s, _| active_learning(s, "object-detection"), None),
        case(
            "AL on text",
            T::TextClassification,
            |s, _| active_learning(s, "text-classification"),
            None,
        ),
        case(
            "AL with the wrong algorithm",
            T::BoundingBox,
            |s, _| active_learning(s, "image-classification"),
            Some((ALG_ARN, E)),
        ),
        case(
            "AL on multi-label",
            T::ImageClassificationMultiLabel,
            |s, _| active_learning(s, "image-classification"),
            Some((ALG, E)),
        ),
        case(
            "AL on 3D",
            T::PointCloudObjectDetection,
            |s, _| active_learning(s, "object-detection"),
            Some((ALG, E)),
        ),
        case(
            "AL on a streaming job",
            T::BoundingBox,
            |s, _| {
                streaming(s);
                active_learning(s, "object-detection")
            },
            Some((ALG, E)),
        ),
        // Tags, spec §8.2.
        case(
            "unicode tag",
            T::BoundingBox,
            |s, _| {
                s.tags = vec![Tag {
                    key: "Größe".into(),
                    value: "groß: 1/2 @ x".into(),
                    ..Default::default()
                }]
            },
            None,
        ),
        case(
            "50 tags",
            T::BoundingBox,
            |s, _| {
                s.tags =
                    (0..50).map(|i| Tag { key: format!("k{i}"), ..Default::default() }).collect()
            },
            None,
        ),
        case(
            "51 tags",
            T::BoundingBox,
            |s, _| {
                s.tags =
                    (0..51).map(|i| Tag { key: format!("k{i}"), ..Default::default() }).collect()
            },
            Some(("Tags", E)),
        ),
        case(
            "aws: tag",
            T::BoundingBox,
            |s, _| s.tags[0].key = "aws:owner".into(),
            Some(("Tags[0].Key", E)),
        ),
        case(
            "tag key of 129",
            T::BoundingBox,
            |s, _| s.tags[0].key = "k".repeat(129),
            Some(("Tags[0].Key", E)),
        ),
        case(
            "tag key with #",
            T::BoundingBox,
            |s, _| s.tags[0].key = "a#b".into(),
            Some(("Tags[0].Key", E)),
        ),
        case(
            "tag value of 257",
            T::BoundingBox,
            |s, _| s.tags[0].value = "v".repeat(257),
            Some(("Tags[0].Value", E)),
        ),
        case(
            "duplicate tag keys",
            T::BoundingBox,
            |s, _| s.tags.push(s.tags[0].clone()),
            Some(("Tags[1].Key", E)),
        ),
        // Unknown fields are kept and reported.
        case(
            "unknown top-level field",
            T::BoundingBox,
            |s, _| {
                s.extra.0.insert("Surprise".into(), Value::Bool(true));
            },
            Some(("Surprise", W)),
        ),
        case(
            "unknown nested field",
            T::BoundingBox,
            |s, _| {
                task(s).ui_config.extra.0.insert("Theme".into(), Value::Null);
            },
            Some(("HumanTaskConfig.UiConfig.Theme", W)),
        ),
    ]
}

#[test]
fn every_rule_passes_and_fails() {
    let mut failures = Vec::new();
    let cases = cases();
    for case in &cases {
        let (mut spec, mut summary) = valid(case.task_type);
        (case.mutate)(&mut spec, &mut summary);
        let findings = relevant(validate(&spec, Some(&summary)));
        let ok = match case.expect {
            None => findings.is_empty(),
            Some((path, severity)) => {
                findings.iter().any(|f| f.path == path && f.severity == severity)
            }
        };
        if !ok {
            failures.push(format!(
                "{} ({:?}): expected {:?}, got {findings:#?}",
                case.name, case.task_type, case.expect
            ));
        }
        // `validated` agrees with `validate`: it fails exactly when there is an error.
        let has_error = findings.iter().any(Finding::is_error);
        assert_eq!(spec.validated(Some(&summary)).is_err(), has_error, "{}", case.name);
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // Every expected path is exercised by both a passing and a failing case of its rule group.
    assert!(cases.iter().filter(|c| c.expect.is_none()).count() >= 40);
    assert!(cases.iter().filter(|c| c.expect.is_some()).count() >= 100);
}

#[test]
fn all_findings_come_at_once() {
    let (mut spec, mut summary) = valid(TaskType::PointCloudObjectTracking);
    spec.labeling_job_name = "bad_name".into();
    spec.label_attribute_name = Some("tracks".into());
    spec.role_arn = "nope".into();
    spec.output_config.kms_key_id = Some("bad key".into());
    spec.human_task_config.workteam_arn = PUBLIC_TEAM.into();
    spec.human_task_config.number_of_human_workers_per_data_object = Some(3);
    spec.human_task_config.task_time_limit_secs = Some(10);
    spec.tags[0].key = "aws:x".into();
    summary.labels[0].name = "a-very-long-label-name".into();
    let findings = validate(&spec, Some(&summary));
    let paths: Vec<&str> =
        findings.iter().filter(|f| f.is_error()).map(|f| f.path.as_str()).collect();
    for expected in [
        "LabelingJobName",
        "LabelAttributeName",
        "RoleArn",
        "OutputConfig.KmsKeyId",
        "HumanTaskConfig.WorkteamArn",
        "HumanTaskConfig.NumberOfHumanWorkersPerDataObject",
        "HumanTaskConfig.TaskTimeLimitInSeconds",
        "Tags[0].Key",
        "LabelCategoryConfig.labels[0].label",
    ] {
        assert!(paths.contains(&expected), "{expected} missing from {paths:?}");
    }
    let errors = spec.validated(Some(&summary)).unwrap_err();
    assert_eq!(errors, findings);
}

#[test]
fn findings_serialise_as_path_message_severity() {
    let finding = Finding::warning("Tags[0].Key", "x");
    let json = serde_json::to_value(&finding).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"path": "Tags[0].Key", "message": "x", "severity": "warning"})
    );
    let back: Finding = serde_json::from_value(json).unwrap();
    assert_eq!(back, finding);
    assert_eq!(serde_json::to_value(Severity::Error).unwrap(), "error");
}

#[test]
fn validated_job_applies_defaults() {
    let (mut spec, summary) = valid(TaskType::PointCloudObjectDetection);
    let task = &mut spec.human_task_config;
    task.number_of_human_workers_per_data_object = None;
    task.task_time_limit_secs = None;
    task.task_availability_lifetime_secs = None;
    task.max_concurrent_task_count = None;
    spec.label_attribute_name = None;
    let job = spec.validated(Some(&summary)).unwrap();
    assert_eq!(job.task_type(), TaskType::PointCloudObjectDetection);
    assert_eq!(job.label_attribute_name(), "street-scenes");
    assert_eq!(job.workers_per_object(), 1);
    assert_eq!(job.task_time_limit_secs(), 3 * 24 * 3600);
    assert_eq!(job.task_availability_lifetime_secs(), 2_592_000);
    assert_eq!(job.max_concurrent_task_count(), 1000);
    assert_eq!(job.audit(), None);

    let (mut spec, summary) = valid(TaskType::TextClassification);
    go_public(&mut spec);
    let task = &mut spec.human_task_config;
    task.number_of_human_workers_per_data_object = None;
    task.task_time_limit_secs = None;
    task.task_availability_lifetime_secs = None;
    let job = spec.validated(Some(&summary)).unwrap();
    assert_eq!(job.workforce(), Workforce::Public);
    assert_eq!(job.workers_per_object(), 3);
    assert_eq!(job.task_time_limit_secs(), 300);
    assert_eq!(job.task_availability_lifetime_secs(), 21_600);
}

#[test]
fn task_type_is_resolved_from_the_request() {
    // 3D-2D linking: the tracking Lambda plus a BoundingBox + Cuboid label file.
    let (spec, summary) = valid(TaskType::PointCloud3d2dLinkingAdjustment);
    assert_eq!(
        spec.human_task_config.pre_human_task_lambda_arn.as_deref(),
        Some(
            "arn:aws:lambda:us-east-1:432418664414:function:PRE-Adjustment3DPointCloudObjectTracking"
        )
    );
    let job = spec.validated(Some(&summary)).unwrap();
    assert_eq!(job.task_type(), TaskType::PointCloud3d2dLinkingAdjustment);
    assert_eq!(job.audit(), Some(AuditMode::Adjustment));
    // Without the label file, the same request is plain tracking.
    assert_eq!(
        spec.validated(None).unwrap().task_type(),
        TaskType::PointCloudObjectTrackingAdjustment
    );

    // Verification of 3D/video labels: the adjustment Lambda with every label read-only.
    let (spec, mut summary) = valid(TaskType::VideoObjectDetectionAdjustment);
    summary.labels.iter_mut().for_each(|l| l.read_only = true);
    assert_eq!(spec.validated(Some(&summary)).unwrap().audit(), Some(AuditMode::Verification));
    summary.labels[0].read_only = false;
    assert_eq!(spec.validated(Some(&summary)).unwrap().audit(), Some(AuditMode::Adjustment));

    // Image verification is its own type.
    let (spec, summary) = valid(TaskType::SemanticSegmentationVerification);
    assert_eq!(spec.validated(Some(&summary)).unwrap().audit(), Some(AuditMode::Verification));

    // A custom pre-annotation function makes a custom job; none at all too.
    let (mut spec, summary) = valid(TaskType::Custom);
    spec.human_task_config.pre_human_task_lambda_arn =
        Some("arn:aws:lambda:us-east-1:111122223333:function:my-pre".into());
    assert_eq!(spec.validated(Some(&summary)).unwrap().task_type(), TaskType::Custom);
    spec.human_task_config.pre_human_task_lambda_arn = None;
    assert_eq!(spec.validated(Some(&summary)).unwrap().task_type(), TaskType::Custom);
}

/// A request using every field of spec §8.1.
const FULL_REQUEST: &str = r#"{
  "LabelingJobName": "cars-2024",
  "LabelAttributeName": "cars",
  "InputConfig": {
    "DataSource": {
      "S3DataSource": {"ManifestS3Uri": "s3://gt-bucket/in/input.manifest"},
      "SnsDataSource": {"SnsTopicArn": "arn:aws:sns:us-east-1:111122223333:gt-in"}
    },
    "DataAttributes": {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation", "FreeOfAdultContent"]}
  },
  "OutputConfig": {"S3OutputPath": "s3://gt-bucket/out/", "KmsKeyId": "alias/gt", "SnsTopicArn": "arn:aws:sns:us-east-1:111122223333:gt-out"},
  "RoleArn": "arn:aws:iam::111122223333:role/gt-role",
  "LabelCategoryConfigS3Uri": "s3://gt-bucket/in/labels.json",
  "StoppingConditions": {"MaxHumanLabeledObjectCount": 5000, "MaxPercentageOfInputDatasetLabeled": 90},
  "LabelingJobAlgorithmsConfig": {
    "LabelingJobAlgorithmSpecificationArn": "arn:aws:sagemaker:us-east-1:027400017018:labeling-job-algorithm-specification/object-detection",
    "InitialActiveLearningModelArn": "arn:aws:sagemaker:us-east-1:111122223333:model/previous",
    "LabelingJobResourceConfig": {"VolumeKmsKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "VpcConfig": {"SecurityGroupIds": ["sg-0123"], "Subnets": ["subnet-1", "subnet-2"]}}
  },
  "HumanTaskConfig": {
    "WorkteamArn": "arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default",
    "UiConfig": {"UiTemplateS3Uri": "s3://gt-bucket/in/template.liquid.html"},
    "PreHumanTaskLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:PRE-BoundingBox",
    "TaskKeywords": ["cars", "street scenes"],
    "TaskTitle": "Draw boxes",
    "TaskDescription": "Draw a box around each car",
    "NumberOfHumanWorkersPerDataObject": 3,
    "TaskTimeLimitInSeconds": 600,
    "TaskAvailabilityLifetimeInSeconds": 21600,
    "MaxConcurrentTaskCount": 500,
    "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:ACS-BoundingBox"},
    "PublicWorkforceTaskPrice": {"AmountInUsd": {"Dollars": 0, "Cents": 3, "TenthFractionsOfACent": 6}}
  },
  "Tags": [{"Key": "project", "Value": "cars"}]
}"#;

#[test]
fn full_request_round_trips() {
    let spec = JobSpec::from_json(FULL_REQUEST).unwrap();
    assert_eq!(spec.human_task_config.max_concurrent_task_count, Some(500));
    let price = &spec.human_task_config.public_workforce_task_price.as_ref().unwrap().amount_in_usd;
    assert_eq!((price.dollars, price.cents, price.tenth_fractions_of_a_cent), (0, 3, 6));
    let vpc = spec
        .labeling_job_algorithms_config
        .as_ref()
        .and_then(|a| a.labeling_job_resource_config.as_ref())
        .and_then(|r| r.vpc_config.as_ref())
        .unwrap();
    assert_eq!(vpc.subnets, ["subnet-1", "subnet-2"]);
    assert!(spec.extra.is_empty() && spec.human_task_config.extra.is_empty());

    let canonical = spec.to_canonical_json();
    assert_eq!(JobSpec::from_json(&canonical).unwrap(), spec);
    // Nothing lost or renamed: the same JSON document, whatever the key order.
    let original: Value = serde_json::from_str(FULL_REQUEST).unwrap();
    let written: Value = serde_json::from_str(&canonical).unwrap();
    assert_eq!(original, written);

    // Streaming with stopping conditions and automated labeling: findings, not parse errors.
    let findings = validate(&spec, None);
    assert!(findings.iter().any(|f| f.path == "LabelingJobAlgorithmsConfig" && f.is_error()));
    assert!(findings.iter().any(|f| f.path == "StoppingConditions" && !f.is_error()));
}

#[test]
fn canonical_json_is_stable() {
    let spec = JobSpec::from_json(FULL_REQUEST).unwrap();
    let canonical = spec.to_canonical_json();
    assert!(canonical.ends_with("}\n") && !canonical.ends_with("\n\n"));
    assert_eq!(JobSpec::from_json(&canonical).unwrap().to_canonical_json(), canonical);

    // The same choices written in another key order (and with unknown fields in another order)
    // give the same bytes.
    let mut value: Value = serde_json::from_str(FULL_REQUEST).unwrap();
    let object = value.as_object_mut().unwrap();
    object.insert("Zeta".into(), serde_json::json!({"b": 2, "a": 1}));
    object.insert("Alpha".into(), serde_json::json!([{"y": 1, "x": 0}]));
    let forward = serde_json::to_string(&value).unwrap();
    let mut reversed = serde_json::Map::new();
    for (key, val) in value.as_object().unwrap().iter().rev() {
        reversed.insert(key.clone(), val.clone());
    }
    let backward = serde_json::to_string(&Value::Object(reversed)).unwrap();
    assert_ne!(forward, backward);
    let a = JobSpec::from_json(&forward).unwrap().to_canonical_json();
    let b = JobSpec::from_json(&backward).unwrap().to_canonical_json();
    assert_eq!(a, b);
    assert!(
        a.contains("\"Alpha\": [\n    {\n      \"x\": 0,\n      \"y\": 1\n    }\n  ],\n  \"Zeta\"")
    );

    // The exact bytes of a small spec: field order, indentation, omitted options, final newline.
    let mut small = JobSpec {
        labeling_job_name: "j".into(),
        role_arn: "arn:aws:iam::111122223333:role/r".into(),
        ..JobSpec::default()
    };
    small.output_config.s3_output_path = "s3://b/o/".into();
    small.human_task_config.task_title = "T".into();
    small.human_task_config.task_time_limit_secs = Some(300);
    let expected = r#"{
  "LabelingJobName": "j",
  "InputConfig": {
    "DataSource": {}
  },
  "OutputConfig": {
    "S3OutputPath": "s3://b/o/"
  },
  "RoleArn": "arn:aws:iam::111122223333:role/r",
  "HumanTaskConfig": {
    "WorkteamArn": "",
    "UiConfig": {},
    "TaskTitle": "T",
    "TaskDescription": "",
    "TaskTimeLimitInSeconds": 300
  }
}
"#;
    assert_eq!(small.to_canonical_json(), expected);
}

#[test]
fn parse_errors_name_the_line() {
    let err = JobSpec::from_json(
        "{\n  \"HumanTaskConfig\": {\n    \"NumberOfHumanWorkersPerDataObject\": -1\n  }\n}",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 3"), "{text}");
    assert!(
        JobSpec::from_json(
            "{\"InputConfig\": {\"DataAttributes\": {\"ContentClassifiers\": [\"Free\"]}}}"
        )
        .is_err()
    );
}
