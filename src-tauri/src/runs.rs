//! Runs this app is watching, and the windows listening to them. Each run's events are kept
//! (in `seq` order) as they are published, so a window that reloads or opens later gets what
//! it missed from its snapshot's `lastSeq` on, then the live events, with no gap and no
//! repeat: replay and subscription happen under one lock.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use landfall_azure::CancelToken;
use landfall_engine::deploy::EventSink;
use landfall_engine::{DeploymentEvent, EngineError, EventEnvelope, Problem};
use serde_json::Value as Json;
use tokio::sync::oneshot;

use crate::mask::Mask;

/// Where a run's events go: a Tauri channel in the app, a closure in tests.
pub trait Listener: Send + Sync {
    /// Delivers one event; false when the listener is gone (a closed window).
    fn send(&self, event: &Json) -> bool;
}

impl Listener for tauri::ipc::Channel<Json> {
    fn send(&self, event: &Json) -> bool {
        tauri::ipc::Channel::send(self, event.clone()).is_ok()
    }
}

#[derive(Default)]
struct Hub {
    log: Vec<Json>,
    listeners: Vec<Arc<dyn Listener>>,
    stop: CancelToken,
    finished: bool,
}

fn seq_of(event: &Json) -> u64 {
    event.get("seq").and_then(Json::as_u64).unwrap_or(0)
}

/// Every run being watched (or watched earlier in this app's life).
#[derive(Default)]
pub struct Runs {
    hubs: Mutex<HashMap<String, Arc<Mutex<Hub>>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind: keep going.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Runs {
    fn hub(&self, run_id: &str) -> Option<Arc<Mutex<Hub>>> {
        lock(&self.hubs).get(run_id).cloned()
    }

    /// Sends the events after `after_seq` to `listener`, then the live ones. False when this
    /// app is not watching the run.
    pub fn attach(&self, run_id: &str, after_seq: u64, listener: Arc<dyn Listener>) -> bool {
        let Some(hub) = self.hub(run_id) else {
            return false;
        };
        let mut hub = lock(&hub);
        for event in hub.log.iter().filter(|e| seq_of(e) > after_seq) {
            if !listener.send(event) {
                return true;
            }
        }
        if !hub.finished {
            hub.listeners.push(listener);
        }
        true
    }

    /// Stops watching a run (Azure goes on). False when this app is not watching it.
    pub fn stop(&self, run_id: &str) -> bool {
        match self.hub(run_id) {
            Some(hub) => {
                lock(&hub).stop.cancel();
                true
            }
            None => false,
        }
    }

    /// Whether this app is watching any run now.
    pub fn any_live(&self) -> bool {
        lock(&self.hubs).values().any(|h| !lock(h).finished)
    }

    /// Whether this app is watching the run now.
    pub fn is_live(&self, run_id: &str) -> bool {
        self.hub(run_id).is_some_and(|h| !lock(&h).finished)
    }

    /// Starts a run in the background: `work` gets the sink and the stop token. Answers the
    /// run's ID as soon as its `runStarted` is published (for a run resumed under `known_id`,
    /// its first event), or the error that came first: a refused resume is an answer too.
    pub async fn start<F, Fut>(
        self: &Arc<Self>,
        known_id: Option<String>,
        mask: Option<Arc<Mask>>,
        listener: Arc<dyn Listener>,
        work: F,
    ) -> Result<String, Problem>
    where
        F: FnOnce(Arc<RunSink>, CancelToken) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), EngineError>> + Send + 'static,
    {
        let hub = Arc::new(Mutex::new(Hub::default()));
        let stop = {
            let mut h = lock(&hub);
            h.listeners.push(listener);
            h.stop.clone()
        };
        if let Some(id) = &known_id {
            if self.is_live(id) {
                return Err(Problem {
                    code: "refused".into(),
                    message: format!("run {id} is already being watched in this app"),
                    details: Json::Null,
                    remediation: None,
                });
            }
            lock(&self.hubs).insert(id.clone(), hub.clone());
        }
        let (started_tx, started_rx) = oneshot::channel();
        let sink = Arc::new(RunSink {
            runs: self.clone(),
            hub: hub.clone(),
            mask,
            known_id,
            started: Mutex::new(Some(started_tx)),
        });
        let fut = work(sink.clone(), stop);
        tauri::async_runtime::spawn(async move {
            let result = fut.await;
            lock(&sink.hub).finished = true;
            lock(&sink.hub).listeners.clear();
            let tx = lock(&sink.started).take();
            if let Some(tx) = tx {
                let _ = tx.send(match result {
                    Ok(()) => Err(Problem {
                        code: "internal".into(),
                        message: "the run ended without starting".into(),
                        details: Json::Null,
                        remediation: None,
                    }),
                    Err(e) => Err(e.problem()),
                });
            } else if let Err(e) = result {
                tracing::warn!("a run ended with an error after it started: {e}");
            }
        });
        started_rx.await.unwrap_or_else(|_| {
            Err(Problem {
                code: "internal".into(),
                message: "the run stopped before it started".into(),
                details: Json::Null,
                remediation: None,
            })
        })
    }
}

/// The engine's event sink for one run: keeps and forwards every event (masked in demo
/// mode), and registers the run under its ID when `runStarted` arrives.
pub struct RunSink {
    runs: Arc<Runs>,
    hub: Arc<Mutex<Hub>>,
    mask: Option<Arc<Mask>>,
    /// The run's ID when it is resumed (its events start without `runStarted`).
    known_id: Option<String>,
    started: Mutex<Option<oneshot::Sender<Result<String, Problem>>>>,
}

impl EventSink for RunSink {
    fn publish(&self, event: &EventEnvelope) {
        let started = match &event.event {
            DeploymentEvent::RunStarted { run_id, .. } => {
                lock(&self.runs.hubs).insert(run_id.clone(), self.hub.clone());
                Some(run_id.clone())
            }
            _ => self.known_id.clone(),
        };
        if let Some(id) = started
            && let Some(tx) = lock(&self.started).take()
        {
            let _ = tx.send(Ok(id));
        }
        let mut value = serde_json::to_value(event).unwrap_or(Json::Null);
        if let Some(mask) = &self.mask {
            value = mask.hide(value);
        }
        let mut hub = lock(&self.hub);
        hub.listeners.retain(|l| l.send(&value));
        hub.log.push(value);
    }
}
