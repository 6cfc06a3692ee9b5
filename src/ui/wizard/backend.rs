//! How the wizard and the monitor reach the store without ever waiting on it: every store call
//! runs as a task on an injected [`Executor`], and its result lands in a [`Pending`] slot that
//! the view polls once per frame. The app passes a [`TokioExecutor`] on its runtime; tests pass
//! a [`BlockingExecutor`], which runs each task to completion before `spawn` returns, so a
//! kittest harness sees every result on the very next frame — deterministic, no sleeps.
//!
//! Must not depend on `app` or `cli`.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::store::BoxFuture;
use crate::store::jobs::Jobs;

/// Runs store tasks off the UI thread.
pub trait Executor: Send + Sync + fmt::Debug {
    /// Starts `task`; must not block the caller on I/O (except [`BlockingExecutor`], by design).
    fn spawn(&self, task: BoxFuture<'static, ()>);
}

/// Runs tasks on a Tokio runtime (the app's).
#[derive(Debug, Clone)]
pub struct TokioExecutor {
    handle: tokio::runtime::Handle,
}

impl TokioExecutor {
    /// An executor on the runtime behind `handle`.
    pub fn new(handle: tokio::runtime::Handle) -> Self {
        Self { handle }
    }
}

impl Executor for TokioExecutor {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        drop(self.handle.spawn(task));
    }
}

/// Runs each task to completion inside `spawn`, on its own current-thread runtime: for tests and
/// headless rendering, where determinism matters more than a responsive frame.
#[derive(Debug)]
pub struct BlockingExecutor {
    runtime: tokio::runtime::Runtime,
}

impl BlockingExecutor {
    /// A blocking executor with a fresh current-thread runtime.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self { runtime: tokio::runtime::Builder::new_current_thread().enable_all().build()? })
    }
}

impl Executor for BlockingExecutor {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.runtime.block_on(task);
    }
}

/// The result of a task, once it is there. Poll it each frame with [`Pending::take`].
pub struct Pending<T> {
    slot: Arc<Mutex<Option<T>>>,
}

impl<T> fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending").field("ready", &self.is_ready()).finish()
    }
}

impl<T> Pending<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<T>> {
        self.slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The result, if it arrived (taken: a second call returns `None`).
    pub fn take(&self) -> Option<T> {
        self.lock().take()
    }

    /// True when the result arrived and was not taken yet.
    pub fn is_ready(&self) -> bool {
        self.lock().is_some()
    }
}

/// The views' gateway to the workspace: job operations run on the executor, results come back
/// through [`Pending`] slots, and the UI is asked to repaint when one lands. Cheap to clone.
#[derive(Clone)]
pub struct Backend {
    jobs: Jobs,
    executor: Arc<dyn Executor>,
    repaint: Arc<Mutex<Option<egui::Context>>>,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend").field("executor", &self.executor).finish_non_exhaustive()
    }
}

impl Backend {
    /// A backend for `jobs` whose tasks run on `executor`.
    pub fn new(jobs: Jobs, executor: Arc<dyn Executor>) -> Self {
        Self { jobs, executor, repaint: Arc::new(Mutex::new(None)) }
    }

    /// The job operations (for code that runs on the executor).
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// Remembers the context to wake when a result lands (views call this every frame; cheap).
    pub fn set_context(&self, ctx: &egui::Context) {
        let mut slot = self.repaint.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(ctx.clone());
        }
    }

    /// Runs `task(jobs)` on the executor; its output appears in the returned slot.
    pub fn spawn<T, F>(&self, task: impl FnOnce(Jobs) -> F) -> Pending<T>
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let slot = Arc::new(Mutex::new(None));
        let pending = Pending { slot: slot.clone() };
        let repaint = self.repaint.clone();
        let future = task(self.jobs.clone());
        self.executor.spawn(Box::pin(async move {
            let output = future.await;
            *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(output);
            let ctx = repaint.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        }));
        pending
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::store::catalog::Workspace;
    use crate::store::clock::SystemClock;
    use crate::store::layout::Catalog;
    use crate::store::memory::MemoryStore;

    fn jobs() -> Jobs {
        Jobs::new(
            Workspace::new(Arc::new(MemoryStore::new()), Catalog::local()),
            Arc::new(SystemClock),
        )
    }

    #[test]
    fn blocking_executor_answers_before_spawn_returns() {
        let backend = Backend::new(jobs(), Arc::new(BlockingExecutor::new().unwrap()));
        let pending = backend
            .spawn(|jobs| async move { jobs.workspace().list_jobs().await.map(|j| j.len()).ok() });
        assert!(pending.is_ready());
        assert_eq!(pending.take(), Some(Some(0)));
        assert_eq!(pending.take(), None, "a result is taken once");
    }

    #[test]
    fn tokio_executor_answers_from_the_runtime() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let backend = Backend::new(jobs(), Arc::new(TokioExecutor::new(runtime.handle().clone())));
        let pending = backend.spawn(|jobs| async move {
            jobs.workspace().list_workteams().await.map(|t| t.len()).ok()
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !pending.is_ready() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(pending.take(), Some(Some(0)));
    }
}
