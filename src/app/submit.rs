//! The one submit path every task screen uses: the worker's answer becomes a
//! [`SubmissionRequest`] for the durable outbox (through the sync engine); the screen gets a
//! notice when the outbox is busy or stopped. After the enqueue a background task waits for the
//! delivery, discards the local draft and settles the object ([`Lifecycle::settle_object`]), so
//! a job whose last answer this was gets its consolidation and output manifest at once — as
//! `groundwork task submit` does.
//!
//! Also the other two ways out of a task every screen shares: release / decline
//! ([`GroundworkApp::give_back`]) and stop-and-resume-later ([`GroundworkApp::left_to_resume`]).
//!
//! Never blocks the UI thread. Part of `app`; nothing below it depends on it.

use std::fmt::Display;
use std::sync::Arc;

use serde_json::Value;

use crate::store::ObjectPath;
use crate::store::jobs::Jobs;
use crate::store::lifecycle::Lifecycle;
use crate::store::outbox::{DraftKey, Drafts, SubmissionRequest};
use crate::store::sync::{SyncError, SyncHandle};

use super::GroundworkApp;
use super::backend::TaskClaim;

/// One task screen's submission: the claim it answers and the session state the submit path
/// reads and updates.
pub(super) struct Submission<'a> {
    /// The claim being answered: job, spec (output path, KMS key), ticket, and the draft that
    /// is discarded once the answer is delivered.
    pub claim: &'a TaskClaim,
    /// When the worker accepted the task (ms since the epoch).
    pub accepted_at_ms: i64,
    /// Time spent actively working, in ms.
    pub active_ms: i64,
    /// The screen's notice line: why the submission did not go out.
    pub notice: &'a mut Option<String>,
    /// Set once the answer is in the outbox (no more draft saves).
    pub finished: &'a mut bool,
}

impl GroundworkApp {
    /// Submits `answer` (a document's `answer_content()`) through the outbox. Returns true when
    /// the task screen should close.
    pub(super) fn submit_answer<E: Display>(
        &mut self,
        answer: Result<Value, E>,
        s: Submission<'_>,
    ) -> bool {
        let Some(ws) = &self.workspace else { return false };
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                *s.notice = Some(e.to_string());
                return false;
            }
        };
        let output = match ObjectPath::parse(&s.claim.spec.output_config.s3_output_path) {
            Ok(p) => p,
            Err(e) => {
                *s.notice = Some(e.to_string());
                return false;
            }
        };
        let active_secs = s.active_ms.max(0) as f64 / 1000.0;
        let request = SubmissionRequest {
            s3_output_path: output,
            job_name: s.claim.job_name.to_owned(),
            kms_key_id: s.claim.spec.output_config.kms_key_id.clone(),
            object_id: s.claim.ticket.object_id,
            slot: s.claim.ticket.slot,
            worker: s.claim.ticket.worker.clone(),
            claimed_at_ms: s.claim.ticket.claimed_at_ms,
            accepted_at_ms: s.accepted_at_ms,
            time_spent_secs: (active_secs * 1000.0).round() / 1000.0,
            worker_metadata: None,
            answer_content: answer,
        };
        match ws.sync.enqueue(request) {
            Ok(()) => {
                *s.finished = true;
                self.backend.after_submit(AfterSubmit {
                    sync: ws.sync.clone(),
                    drafts: ws.drafts.clone(),
                    draft_key: s.claim.draft_key.clone(),
                    jobs: ws.jobs.clone(),
                    job_name: s.claim.job_name.to_owned(),
                    object_id: s.claim.ticket.object_id,
                });
                self.notice =
                    Some("Submitted. It uploads in the background; you can keep working.".into());
                self.refresh_jobs();
                true
            }
            Err(SyncError::Busy) => {
                *s.notice = Some("The outbox is busy; submit again in a moment.".into());
                false
            }
            Err(SyncError::Stopped) => {
                *s.notice = Some(
                    "The sync engine stopped; your draft is saved. Restart the app to submit."
                        .into(),
                );
                false
            }
        }
    }
}

/// What the background task after an enqueue needs.
pub(super) struct AfterSubmit {
    /// The sync engine that holds the submission.
    pub sync: SyncHandle,
    /// Local drafts.
    pub drafts: Arc<Drafts>,
    /// The submitted task's draft.
    pub draft_key: DraftKey,
    /// The workspace's jobs (for the lifecycle).
    pub jobs: Jobs,
    /// The submitted job.
    pub job_name: String,
    /// The submitted object.
    pub object_id: u64,
}

/// After a submission was enqueued (run on the runtime by [`Backend::after_submit`]): waits for
/// the outbox to deliver, discards the local draft, then settles the object (consolidation, and
/// the output manifest when that made every object final). When the store is offline the
/// submission stays queued and nothing is settled here: whoever runs `Lifecycle::run_pending`
/// later settles it. Failures are logged, never raised: the answer is safe in the outbox.
pub(super) async fn settle_after_submit(after: AfterSubmit) {
    let AfterSubmit { sync, drafts, draft_key, jobs, job_name, object_id } = after;
    let status = sync.flush().await;
    let _ = tokio::task::spawn_blocking(move || drafts.discard_local(&draft_key)).await;
    match status {
        Ok(status) if status.online => {}
        Ok(status) => {
            tracing::info!(job = %job_name, object_id, queued = status.queued,
                "store offline; consolidation waits for a later run");
            return;
        }
        Err(e) => {
            tracing::warn!(job = %job_name, object_id, "no delivery to settle: {e}");
            return;
        }
    }
    let settled = match Lifecycle::open(&jobs, &job_name).await {
        Ok(lifecycle) => lifecycle.settle_object(object_id).await,
        Err(e) => Err(e),
    };
    match settled {
        Ok(settled) => {
            tracing::debug!(job = %job_name, object_id, ?settled, "settled after submit")
        }
        Err(e) => tracing::warn!(job = %job_name, object_id, "settling after submit failed: {e}"),
    }
}

impl GroundworkApp {
    /// Releases (or declines) a claimed task in the background and discards its draft; the
    /// reply arrives as [`super::backend::Reply::Finished`]. False when no workspace is open
    /// (nothing was started).
    pub(super) fn give_back(&mut self, claim: &TaskClaim, decline: bool) -> bool {
        let Some(ws) = &self.workspace else { return false };
        self.pending += 1;
        self.backend.finish_task(
            claim.board.clone(),
            claim.ticket.clone(),
            decline,
            ws.drafts.clone(),
            claim.draft_key.clone(),
        );
        true
    }

    /// "Stop and resume later": the home screen's notice and a fresh job list (the caller has
    /// handed its draft to the writer).
    pub(super) fn left_to_resume(&mut self) {
        self.notice = Some("Your work is saved; start working on this job again to resume.".into());
        self.refresh_jobs();
    }
}
