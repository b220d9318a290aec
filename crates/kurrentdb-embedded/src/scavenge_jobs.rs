//! The node's scavenge jobs, as the Operations service starts and stops them
//! (KurrentDB's `StorageScavenger`): at most one runs at a time. What a job
//! removes is the store's business (`store/scavenge.rs`).
//!
//! KurrentDB's answers, which these mirror: starting while one runs answers
//! `InProgress` with the running scavenge's id; otherwise a new id (a GUID)
//! and `Started`, at once, the work going on in the background. Stopping the
//! running one (by its id, or `current`) waits until it has stopped and
//! answers `Stopped`; any other id is "not found". The work itself
//! ([`Store::scavenge_step`]) runs on tokio's blocking pool in bounded steps,
//! never on an async worker and never holding the store's lock for long.
//! Each scavenge leaves its records in `$scavenges-<id>` and `$scavenges`
//! (see [`Store::record_scavenge_started`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use tokio::sync::watch;
use uuid::Uuid;

use crate::store::{ScavengeCursor, Store};
use crate::ticks::now_ticks;

/// The events one scavenge step looks at while holding the store's lock.
const STEP_BUDGET: usize = 4096;

/// What a start or stop answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScavengeAnswer {
    /// A scavenge with this id started.
    Started(String),
    /// The scavenge with this id was already running.
    InProgress(String),
    /// The scavenge with this id stopped.
    Stopped(String),
    /// No running scavenge has the id asked for (the running one's id, if any).
    NotFound(Option<String>),
}

#[derive(Debug)]
struct Running {
    id: String,
    cancel: Arc<AtomicBool>,
    done: watch::Receiver<bool>,
}

/// The scavenge jobs of a store (one per store: the nodes of an embedded
/// cluster share their log, and so their scavenge).
#[derive(Debug, Clone)]
pub(crate) struct ScavengeJobs {
    store: Arc<Store>,
    current: Arc<Mutex<Option<Running>>>,
}

impl ScavengeJobs {
    pub(crate) fn new(store: Arc<Store>) -> Self {
        ScavengeJobs {
            store,
            current: Arc::default(),
        }
    }

    /// Starts a scavenge unless one runs (in the current tokio runtime), asked
    /// of the node at `node` (`host:port`, for its `$scavenges` records).
    pub(crate) fn start(&self, node: &str) -> ScavengeAnswer {
        let mut current = self.current.lock();
        if let Some(running) = current.as_ref() {
            return ScavengeAnswer::InProgress(running.id.clone());
        }
        let id = Uuid::new_v4().to_string();
        let cancel = Arc::new(AtomicBool::new(false));
        let (done_tx, done) = watch::channel(false);
        *current = Some(Running {
            id: id.clone(),
            cancel: cancel.clone(),
            done,
        });
        let store = self.store.clone();
        let slot = self.current.clone();
        let task_id = id.clone();
        let node = node.to_owned();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            store.record_scavenge_started(&task_id, &node);
            let removed = run(store.clone(), cancel.clone()).await;
            let stopped = cancel.load(Ordering::Relaxed);
            store.record_scavenge_completed(&task_id, &node, stopped, started.elapsed());
            tracing::info!(scavenge_id = %task_id, removed, "scavenge finished");
            let mut current = slot.lock();
            if current.as_ref().is_some_and(|r| r.id == task_id) {
                *current = None;
            }
            drop(current);
            let _ = done_tx.send(true);
        });
        tracing::info!(scavenge_id = %id, "scavenge started");
        ScavengeAnswer::Started(id)
    }

    /// Stops the running scavenge if `id` is its id or `current`, and waits
    /// until it has stopped.
    pub(crate) async fn stop(&self, id: &str) -> ScavengeAnswer {
        let found = {
            let current = self.current.lock();
            match current.as_ref() {
                Some(r) if r.id == id || id == "current" => {
                    r.cancel.store(true, Ordering::Relaxed);
                    Ok((r.id.clone(), r.done.clone()))
                }
                other => Err(other.map(|r| r.id.clone())),
            }
        };
        match found {
            Ok((id, mut done)) => {
                // The sender is dropped only once the task has ended.
                let _ = done.wait_for(|d| *d).await;
                ScavengeAnswer::Stopped(id)
            }
            Err(running) => ScavengeAnswer::NotFound(running),
        }
    }
}

/// ScavengeJobs the whole store in steps, until done or cancelled; the number of
/// events removed.
async fn run(store: Arc<Store>, cancel: Arc<AtomicBool>) -> usize {
    // `$maxAge` is measured from the start, as KurrentDB's scavenge point's
    // `EffectiveNow`.
    let now = now_ticks();
    let mut cursor = ScavengeCursor::default();
    let mut removed = 0usize;
    while !cancel.load(Ordering::Relaxed) {
        let store = store.clone();
        let step = match tokio::task::spawn_blocking(move || {
            store.scavenge_step(cursor, STEP_BUDGET, now)
        })
        .await
        {
            Ok(step) => step,
            // A panic (a bug) or the runtime shutting down: the scavenge ends.
            Err(e) => {
                tracing::error!("scavenge step failed: {e}");
                break;
            }
        };
        removed = removed.saturating_add(step.removed);
        match step.next {
            Some(next) => cursor = next,
            None => break,
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    #[tokio::test(flavor = "current_thread")]
    async fn one_scavenge_at_a_time_stopped_by_id_or_current() {
        let jobs = ScavengeJobs::new(Arc::new(Store::new(StoreOptions::default())));
        // On a current-thread runtime the first has not run yet when the
        // second start comes.
        let ScavengeAnswer::Started(id) = jobs.start("127.0.0.1:2113") else {
            panic!("started");
        };
        assert_eq!(
            jobs.start("127.0.0.1:2113"),
            ScavengeAnswer::InProgress(id.clone())
        );
        assert_eq!(
            jobs.stop("another").await,
            ScavengeAnswer::NotFound(Some(id.clone()))
        );
        assert_eq!(jobs.stop(&id).await, ScavengeAnswer::Stopped(id.clone()));
        assert_eq!(jobs.stop("current").await, ScavengeAnswer::NotFound(None));
        // A new one gets a new id, and `current` stops it.
        let ScavengeAnswer::Started(next) = jobs.start("127.0.0.1:2113") else {
            panic!("started");
        };
        assert_ne!(next, id);
        assert_eq!(jobs.stop("current").await, ScavengeAnswer::Stopped(next));
    }
}
