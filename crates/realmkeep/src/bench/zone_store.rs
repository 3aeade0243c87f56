//! The zone benchmark's persistence: its players come from a real private PostgreSQL (made with
//! the simulator's seeding, then claimed and loaded with `Store::claim_and_load`), and the zone's
//! persistence requests are carried out by the store as the host's store worker does, while the
//! zone keeps ticking on its own thread.

use anyhow::Result;
use futures::stream::{self, StreamExt, TryStreamExt};
use realmkeep_domain::records::LoadedCharacter;
use realmkeep_domain::Fence;
use realmkeep_server::actions::{self, Executor, Observer};
use realmkeep_store::{Store, StoreError};
use realmkeep_zone::io::{Outcome, PersistKind, PersistRequest, RequestId, ZoneInput};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// Name prefix of the benchmark's players.
const PREFIX: &str = "zb";
/// Claims and loads in flight while the players are fetched.
const LOADS_IN_FLIGHT_MAX: usize = 8;
/// Store calls the executor runs at once (the host runs 8 action lanes and one save lane).
pub const CALLS_IN_FLIGHT_MAX: usize = 9;
/// The lease of the benchmark's claims (the longest a claim may ask for), renewed every minute.
pub const LEASE: Duration = Duration::from_secs(600);
pub const RENEW_EVERY: Duration = Duration::from_secs(60);

/// One batch save as the store ran it.
#[derive(Debug, Clone, Copy)]
pub struct SaveRecord {
    pub took: Duration,
    pub rows: usize,
    pub refused: usize,
}

/// What the executor did.
#[derive(Debug, Default)]
pub struct Ledger {
    pub saves: Mutex<Vec<SaveRecord>>,
    pub requests: std::sync::atomic::AtomicU64,
    pub failures: std::sync::atomic::AtomicU64,
}

/// Makes (or finds) `n` players and claims them for the benchmark.
pub async fn players(store: &Store, n: usize) -> Result<Vec<(Fence, LoadedCharacter)>> {
    let seeded = realmkeep_sim::seed::ensure_players(store, PREFIX, n).await?;
    let holder = format!("bench-zone/{:016x}", rand::random::<u64>());
    let loaded: Vec<(Fence, LoadedCharacter)> = stream::iter(seeded)
        .map(|p| {
            let (store, holder) = (store.clone(), holder.clone());
            async move { store.claim_and_load(p.character, &holder, LEASE).await }
        })
        .buffered(LOADS_IN_FLIGHT_MAX)
        .try_collect()
        .await?;
    Ok(loaded)
}

/// Keeps the claims alive while the benchmark runs.
pub fn renew(store: Store, fences: Vec<Fence>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(RENEW_EVERY);
        every.tick().await;
        loop {
            every.tick().await;
            if let Err(e) = store.renew(&fences, LEASE).await {
                tracing::warn!(error = %e, "bench claims not renewed");
            }
        }
    })
}

/// The benchmark's observations: batch save timings for the report.
impl Observer for Ledger {
    fn batch_saved(&self, rows: usize, refused: usize, took: Duration) {
        self.saves
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(SaveRecord {
                took,
                rows,
                refused,
            });
    }
}

/// Carries out one request as the host's store worker does, through the same `execute`.
/// `keys`: unique per executor (a zone's life), like the host's claim holder.
async fn carry_out(
    store: &Store,
    keys: &str,
    id: RequestId,
    kind: PersistKind,
    ledger: &Ledger,
) -> Outcome {
    let ex = Executor {
        store,
        keys,
        observer: ledger,
    };
    match actions::execute(&ex, id, &kind).await {
        Ok(applied) => Outcome::Ok(applied),
        Err(StoreError::Refused(why)) => Outcome::Refused(why),
        Err(_) => Outcome::Unavailable,
    }
}

/// Carries out the zone's requests until `rx` closes; answers go to `answers`.
pub fn executor(
    store: Store,
    mut rx: mpsc::Receiver<PersistRequest>,
    answers: mpsc::Sender<ZoneInput>,
    ledger: Arc<Ledger>,
) -> tokio::task::JoinHandle<()> {
    let keys: Arc<str> = format!("bench-zone/{:016x}", rand::random::<u64>()).into();
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(CALLS_IN_FLIGHT_MAX));
        while let Some(req) = rx.recv().await {
            ledger
                .requests
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let (store, answers, ledger) = (store.clone(), answers.clone(), ledger.clone());
            let keys = keys.clone();
            tokio::spawn(async move {
                if let PersistKind::Logs(events) = req.kind {
                    if store.append_logs(&events).await.is_err() {
                        ledger
                            .failures
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    return;
                }
                let outcome = carry_out(&store, &keys, req.id, req.kind, &ledger).await;
                if outcome == Outcome::Unavailable {
                    ledger
                        .failures
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                drop(permit);
                let _ = answers
                    .send(ZoneInput::StoreResult {
                        request: req.id,
                        outcome,
                    })
                    .await;
            });
        }
    })
}
