//! The job wizard and monitor, driven through egui_kittest the way an author uses them: by the
//! labels on screen. Each test runs on the demo workspace in memory with a fixed clock and a
//! blocking backend, so every store call has answered by the next frame.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/wizard.rs"]
mod wizard_support;

use egui_kittest::kittest::Queryable as _;
use groundwork::formats::label_config::LabelCategoryConfig;
use groundwork::job::{JobSpec, LabelingJobStatus};
use groundwork::store::catalog::Workspace;
use groundwork::store::jobs::Jobs;
use groundwork::store::layout::Catalog;
use groundwork::store::memory::MemoryStore;
use groundwork::store::utc::UtcTime;
use groundwork::store::{LOCAL_CATALOG_BUCKET, ObjectStore, PutOptions};
use groundwork::ui::monitor::{MonitorAction, MonitorState};
use groundwork::ui::wizard::draft::Step;
use groundwork::ui::wizard::{WizardAction, WizardState};

use wizard_support::{Fixture, START_MS, assert_shown_at_field, block_on, click, shows, type_into};

const BOX_INSTRUCTIONS: &str = "# Boxes\nDraw **tight** boxes.\n\n- one box per car";

/// The request a person would write by hand for the same choices as the bounding-box test:
/// different key order and spacing, same content.
fn hand_written_bbox_spec(manifest: &str) -> String {
    format!(
        r#"{{
  "HumanTaskConfig": {{
    "TaskTitle": "Box the cars",
    "TaskDescription": "Draw a box around every car and pedestrian.",
    "WorkteamArn": "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/street-team",
    "NumberOfHumanWorkersPerDataObject": 2,
    "PreHumanTaskLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:PRE-BoundingBox",
    "AnnotationConsolidationConfig": {{ "AnnotationConsolidationLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:ACS-BoundingBox" }},
    "UiConfig": {{ "UiTemplateS3Uri": "s3://groundwork-demo/output/street-cars/annotation-tool/template.liquid" }}
  }},
  "LabelingJobName": "street-cars",
  "Tags": [ {{ "Key": "project", "Value": "demo" }} ],
  "RoleArn": "arn:aws:iam::111122223333:role/groundwork",
  "OutputConfig": {{ "S3OutputPath": "s3://groundwork-demo/output/" }},
  "InputConfig": {{ "DataSource": {{ "S3DataSource": {{ "ManifestS3Uri": "{manifest}" }} }} }},
  "LabelCategoryConfigS3Uri": "s3://groundwork-demo/output/street-cars/annotation-tool/data.json"
}}"#
    )
}

#[test]
fn bounding_box_job_end_to_end() {
    let fx = Fixture::new();
    let mut h = fx.wizard_harness(WizardState::new(&fx.identity));
    h.run();
    assert_eq!(h.state().state.step(), Step::Job);

    // 1. Job name.
    type_into(&mut h, "Job name", "street-cars");
    click(&mut h, "Next");

    // 2. Input data: automated setup of the demo's images.
    assert_eq!(h.state().state.step(), Step::Data);
    type_into(&mut h, "Input data location", "s3://groundwork-demo/images/");
    click(&mut h, "Scan prefix and create manifest");
    assert!(shows(&h, "4 data objects"), "the scan's object count is shown");
    assert!(shows(&h, "street-01.jpg"), "a sample line is shown");
    type_into(&mut h, "Output dataset location", "s3://groundwork-demo/output/");
    let manifest = format!(
        "s3://groundwork-demo/images/dataset-{}.manifest",
        UtcTime::from_unix_ms(START_MS).compact_stamp()
    );
    assert_eq!(fx.get(&manifest).iter().filter(|b| **b == b'\n').count(), 4);
    click(&mut h, "Next");

    // 3. Identity: the access check runs by itself, for real.
    assert_eq!(h.state().state.step(), Step::Identity);
    assert!(shows(&h, "Read the manifest: 4 data objects"));
    assert!(shows(&h, "Wrote and deleted a probe object"));
    assert!(
        !fx.contents().iter().any(|(uri, _)| uri.contains("access-probe")),
        "the probe is deleted"
    );
    click(&mut h, "Next");

    // 4. Additional configuration: all of the data. 5. Task type: image, bounding box.
    click(&mut h, "Next");
    assert_eq!(h.state().state.step(), Step::TaskType);
    click(&mut h, "Bounding box");
    click(&mut h, "Next");

    // 6. Tags.
    click(&mut h, "Add tag");
    type_into(&mut h, "Key 1", "project");
    type_into(&mut h, "Value 1", "demo");
    click(&mut h, "Next");

    // 7. Workers: a new private team, two workers per object.
    assert_eq!(h.state().state.step(), Step::Workers);
    if !shows(&h, "Team name") {
        click(&mut h, "Create a work team");
    }
    type_into(&mut h, "Team name", "street-team");
    type_into(&mut h, "Members", "ann, bob");
    click(&mut h, "Create team");
    assert!(shows(&h, "street-team (2 members)"));
    assert_eq!(h.state().state.draft.team, "street-team");
    type_into(&mut h, "Workers per data object", "2");
    click(&mut h, "Next");

    // 8. Existing labels: none. 9. Worker UI.
    click(&mut h, "Next");
    assert_eq!(h.state().state.step(), Step::WorkerUi);
    type_into(&mut h, "Task title", "Box the cars");
    type_into(&mut h, "Task description", "Draw a box around every car and pedestrian.");
    click(&mut h, "Add label");
    click(&mut h, "Add label");
    type_into(&mut h, "Label 1", "car");
    type_into(&mut h, "Label 2", "pedestrian");
    type_into(&mut h, "Short instructions", "Box every car and pedestrian.");
    type_into(&mut h, "Full instructions", BOX_INSTRUCTIONS);
    assert!(shows(&h, "Draw tight boxes."), "the Markdown is rendered");
    assert!(shows(&h, "one box per car"));

    // 10. Preview: the job is created in a sandbox; the store does not change.
    let before = fx.contents();
    click(&mut h, "Next");
    assert_eq!(h.state().state.step(), Step::Preview);
    assert!(shows(&h, "Created in the sandbox; 4 data objects"), "the preview ran in the sandbox");
    assert!(shows(&h, "s3://groundwork-demo/images/street-01.jpg"), "the first object is shown");
    assert!(h.query_all_by_label("pedestrian").count() >= 1, "the labels panel is shown");
    assert!(shows(&h, "Create will write 4 objects"));
    assert_eq!(fx.contents(), before, "the preview wrote nothing to the store");

    // 11. Review and create.
    click(&mut h, "Next");
    assert_eq!(h.state().state.step(), Step::Review);
    let built = h.state().state.built(&fx.identity);
    assert!(built.is_valid(), "{:?}", built.findings);
    click(&mut h, "Create job");
    assert!(
        matches!(h.state().actions.as_slice(), [WizardAction::Created { name }] if name == "street-cars"),
        "{:?}",
        h.state().actions
    );
    assert!(shows(&h, "its status is In progress"));

    // The job exists, In progress, with the wizard's files.
    let described = block_on(fx.jobs.describe("street-cars")).unwrap();
    assert_eq!(described.describe.labeling_job_status, LabelingJobStatus::InProgress);
    assert_eq!(described.describe.label_counters.unlabeled, 4);
    let config = LabelCategoryConfig::parse(
        std::str::from_utf8(
            &fx.get("s3://groundwork-demo/output/street-cars/annotation-tool/data.json"),
        )
        .unwrap(),
        "data.json",
    )
    .unwrap();
    assert_eq!(config.label_names(), ["car", "pedestrian"]);
    assert_eq!(config.instructions.unwrap().full_instruction.as_deref(), Some(BOX_INSTRUCTIONS));
    let template =
        fx.get("s3://groundwork-demo/output/street-cars/annotation-tool/template.liquid");
    assert!(String::from_utf8(template).unwrap().contains("crowd-bounding-box"));

    // Wizard and CLI store byte-identical job.json for the same choices: the hand-written file
    // goes through `JobSpec::from_json` + `Jobs::create`, as `groundwork job create` does, in a
    // second workspace holding the same data.
    let wizard_bytes = block_on(fx.jobs.workspace().job_spec_bytes("street-cars")).unwrap();
    let other_store = std::sync::Arc::new(MemoryStore::new());
    for (uri, bytes) in fx.contents() {
        let path = groundwork::store::ObjectPath::parse(&uri).unwrap();
        if path.bucket() != LOCAL_CATALOG_BUCKET {
            block_on(other_store.put(&path, bytes, PutOptions::default())).unwrap();
        }
    }
    let cli = Jobs::new(Workspace::new(other_store, Catalog::local()), fx.clock.clone());
    let spec = JobSpec::from_json(&hand_written_bbox_spec(&manifest)).unwrap();
    block_on(cli.create(&spec, "cli-user")).unwrap();
    let cli_bytes = block_on(cli.workspace().job_spec_bytes("street-cars")).unwrap();
    assert_eq!(
        String::from_utf8(wizard_bytes).unwrap(),
        String::from_utf8(cli_bytes).unwrap(),
        "wizard and CLI job.json differ"
    );
}

#[test]
fn wrong_inputs_show_their_errors_at_the_field_and_block_create() {
    let fx = Fixture::new();
    let mut h = fx.wizard_harness(WizardState::new(&fx.identity));
    h.run();

    // A bad name.
    type_into(&mut h, "Job name", "bad name!");
    assert_shown_at_field(&h, "Job name", "letters, digits and hyphens");
    // A taken name (the demo has street-boxes).
    type_into(&mut h, "Job name", "Street-Boxes");
    assert_shown_at_field(&h, "Job name", "already exists in this workspace");
    type_into(&mut h, "Job name", "cats");
    assert!(!shows(&h, "already exists in this workspace"));

    // Image classification with one label.
    h.state_mut().state.go_to(Step::TaskType);
    h.run();
    click(&mut h, "Image classification (single label)");
    h.state_mut().state.go_to(Step::WorkerUi);
    h.run();
    click(&mut h, "Add label");
    type_into(&mut h, "Label 1", "cat");
    h.run();
    assert_shown_at_field(&h, "Label 1", "need at least 2 labels; there are 1");

    // A task timeout out of range: 600 minutes is over the 8 hours image jobs allow.
    h.state_mut().state.go_to(Step::Workers);
    h.run();
    type_into(&mut h, "Task timeout", "600");
    assert_shown_at_field(&h, "Task timeout", "may last at most 28800 seconds; got 36000");
    // The seed's warning above one hour.
    type_into(&mut h, "Task timeout", "90");
    assert_shown_at_field(&h, "Task timeout", "Above 1 hour");

    // Adjustment on a type that cannot audit.
    h.state_mut().state.go_to(Step::ExistingLabels);
    h.run();
    click(&mut h, "Display existing labels");
    assert_shown_at_field(&h, "Display existing labels", "cannot adjust or verify earlier labels");

    // Create is blocked: the review lists the problems and the button does nothing.
    h.state_mut().state.go_to(Step::Review);
    h.run();
    assert!(shows(&h, "problem(s) to fix before create"));
    assert!(shows(&h, "need at least 2 labels"));
    click(&mut h, "Create job");
    assert!(h.state().actions.is_empty());
    assert!(h.state().state.created().is_none());
    let names: Vec<String> =
        block_on(fx.jobs.workspace().list_jobs()).unwrap().into_iter().map(|j| j.name).collect();
    assert!(!names.contains(&"cats".to_owned()), "{names:?}");
}

#[test]
fn verification_job_chained_from_a_finished_job() {
    let fx = Fixture::new();
    let output_manifest = fx.get("s3://groundwork-demo/manifests/street-boxes.output.manifest");
    fx.finish_job("street-boxes", &output_manifest);

    // The monitor shows the finished job, its objects and its plots' data.
    let mut m = fx.monitor_harness(MonitorState::with_selected("street-boxes"));
    m.run();
    assert!(shows(&m, "Completed"));
    assert!(shows(&m, "4 of 4 labeled"));
    assert!(shows(&m, "consolidated"));
    let detail = m.state().state.detail().unwrap();
    let classes: Vec<(&str, u64)> =
        detail.labels_per_class.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    assert_eq!(classes.iter().map(|(n, _)| *n).collect::<Vec<_>>(), ["car", "pedestrian", "tree"]);
    assert!(classes.iter().all(|(_, c)| *c > 0));
    assert_eq!(detail.submissions_ms.len(), 4);
    click(&mut m, "Open output manifest");
    assert!(shows(
        &m,
        "Output manifest: s3://groundwork-demo/output/street-boxes/manifests/output/output.manifest (4 lines)"
    ));
    click(&mut m, "Create verification job from this output");
    let action = m.state().actions.first().cloned().expect("a chaining action");
    let MonitorAction::ChainJob { output_manifest: ref chained_from, .. } = action;
    assert_eq!(
        chained_from,
        "s3://groundwork-demo/output/street-boxes/manifests/output/output.manifest"
    );

    // The wizard opens prefilled on the existing-labels step.
    let mut h = fx.wizard_harness(action.wizard(&fx.identity));
    h.run();
    assert_eq!(h.state().state.step(), Step::ExistingLabels);
    click(&mut h, "Read existing labels");
    assert!(shows(&h, "street-boxes (groundtruth/object-detection, 4 objects, job street-boxes)"));
    assert!(shows(&h, "pedestrian"));

    // The prefilled name is the demo's own verification job: the field says so; rename.
    h.state_mut().state.go_to(Step::Job);
    h.run();
    assert_shown_at_field(&h, "Job name", "already exists in this workspace");
    type_into(&mut h, "Job name", "street-boxes-check");

    h.state_mut().state.go_to(Step::Preview);
    h.run();
    assert!(shows(&h, "Created in the sandbox; 4 data objects"));
    h.state_mut().state.go_to(Step::Review);
    h.run();
    let built = h.state().state.built(&fx.identity);
    assert!(built.is_valid(), "{:?}", built.findings);
    click(&mut h, "Create job");
    assert!(
        matches!(h.state().actions.as_slice(), [WizardAction::Created { name }] if name == "street-boxes-check")
    );

    let spec = block_on(fx.jobs.spec("street-boxes-check")).unwrap();
    assert_eq!(
        spec.human_task_config.pre_human_task_lambda_arn.as_deref(),
        Some("arn:aws:lambda:us-east-1:432418664414:function:PRE-VerificationBoundingBox")
    );
    assert_eq!(
        spec.input_config.data_source.s3_data_source.unwrap().manifest_s3_uri,
        *chained_from
    );
    assert_eq!(
        spec.human_task_config.workteam_arn,
        "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/demo-team"
    );
    let config =
        block_on(fx.jobs.label_config(&block_on(fx.jobs.spec("street-boxes-check")).unwrap()))
            .unwrap()
            .unwrap();
    assert_eq!(config.audit_label_attribute_name.as_deref(), Some("street-boxes"));
    assert_eq!(config.label_names(), ["Correct", "Incorrect"]);
    let described = block_on(fx.jobs.describe("street-boxes-check")).unwrap();
    assert_eq!(described.describe.labeling_job_status, LabelingJobStatus::InProgress);
}

#[test]
fn a_click_anywhere_on_a_job_card_opens_the_job() {
    let fx = Fixture::new();
    let mut m = fx.monitor_harness(MonitorState::new());
    m.run();
    assert!(shows(&m, "Select a job"));
    // The card's task type line, not its name button.
    let at = m.get_by_label("Bounding box").rect().center();
    m.hover_at(at);
    m.step();
    for pressed in [true, false] {
        m.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    m.run();
    assert!(shows(&m, "Stop job"), "street-boxes opened");
    assert!(shows(&m, "Bounding box · street-boxes"));
    // Nothing labeled or answered yet: the charts say so instead of drawing empty axes.
    assert!(shows(&m, "No consolidated labels yet."));
    assert!(shows(&m, "No answers yet."));
}

#[test]
fn stopping_a_job_from_the_monitor() {
    let fx = Fixture::new();
    let mut m = fx.monitor_harness(MonitorState::with_selected("street-boxes"));
    m.run();
    assert!(shows(&m, "In progress"));
    assert!(shows(&m, "unclaimed"));
    click(&mut m, "Stop job");
    click(&mut m, "Yes, stop it");
    assert!(shows(&m, "Stop requested"));
    let described = block_on(fx.jobs.describe("street-boxes")).unwrap();
    assert_eq!(described.describe.labeling_job_status, LabelingJobStatus::Stopped);
}

#[test]
fn adjustment_job_chained_from_a_finished_job_keeps_the_earlier_labels() {
    let fx = Fixture::new();
    let output_manifest = fx.get("s3://groundwork-demo/manifests/street-boxes.output.manifest");
    fx.finish_job("street-boxes", &output_manifest);
    let mut m = fx.monitor_harness(MonitorState::with_selected("street-boxes"));
    m.run();
    click(&mut m, "Create adjustment job from this output");
    let action = m.state().actions.first().cloned().expect("a chaining action");

    let mut h = fx.wizard_harness(action.wizard(&fx.identity));
    h.run();
    click(&mut h, "Read existing labels");
    // The adjustment keeps the audited job's labels, in class order.
    assert_eq!(h.state().state.draft.labels, ["car", "pedestrian", "tree"]);
    h.state_mut().state.go_to(Step::Review);
    h.run();
    let built = h.state().state.built(&fx.identity);
    assert!(built.is_valid(), "{:?}", built.findings);
    click(&mut h, "Create job");
    assert!(
        matches!(h.state().actions.as_slice(), [WizardAction::Created { name }] if name == "street-boxes-adjust")
    );
    let spec = block_on(fx.jobs.spec("street-boxes-adjust")).unwrap();
    assert_eq!(
        spec.human_task_config.pre_human_task_lambda_arn.as_deref(),
        Some("arn:aws:lambda:us-east-1:432418664414:function:PRE-AdjustmentBoundingBox")
    );
    // The worker template pre-loads the earlier boxes (spec §9.4).
    let template = String::from_utf8(
        fx.get("s3://groundwork-demo/output/street-boxes-adjust/annotation-tool/template.liquid"),
    )
    .unwrap();
    assert!(template.contains("task.input.manifestLine.street-boxes.annotations"), "{template}");
}
