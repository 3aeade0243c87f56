//! The store worker of one zone: carries its `PersistRequest`s to PostgreSQL and brings every
//! answer back as `ZoneInput::StoreResult`, applied at the zone's next tick.
//!
//! Two kinds of lane, so a save waiting out an outage never holds a pickup up:
//! - one save lane runs `SaveBatch`, `LevelUp` and `Release` one at a time, in the order the
//!   zone sent them (an older snapshot never lands after a newer one). Each is retried with
//!   exponential backoff (bounded) while PostgreSQL is away, then answered `Unavailable`: the zone
//!   keeps the state dirty and sends it again; a `Release` the zone sends again until it succeeds
//!   or the claim is lost.
//! - `CRITICAL_CONCURRENCY_MAX` action lanes run economy actions, one lane per character (by id),
//!   so one character's actions keep their order. An action is tried once: while PostgreSQL is
//!   down (or stalled: calls under way and none answered, `StoreHealth`) it is answered
//!   `Unavailable` at once ("try again"), and it is acknowledged only by a commit.

use crate::actions::{self, Executor, Lane, Observer};
use crate::health::{Backoff, StoreHealth};
use crate::limits::{CRITICAL_CONCURRENCY_MAX, LANE_QUEUE_MAX, SAVE_RETRIES_MAX};
use crate::messages::Control;
use crate::metrics::{add, bump, dec, Metrics};
use realmkeep_domain::{Fence, ZoneId};
use realmkeep_store::{Store, StoreError, StoreResult};
use realmkeep_zone::io::{Applied, Outcome, PersistKind, PersistRequest, RequestId, ZoneInput};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What the store worker of one zone works with.
pub(crate) struct StoreCtx {
    pub zone: ZoneId,
    pub store: Store,
    pub health: Arc<StoreHealth>,
    pub metrics: Arc<Metrics>,
    pub control: mpsc::Sender<Control>,
    pub cancel: CancellationToken,
    /// The zone's claims, to mark a claim released by a final save.
    pub roster: Arc<crate::roster::Roster>,
    /// The zone's claim holder name: unique per process, it prefixes loot keys.
    pub holder: String,
}

/// True for requests that go to the save lane (retried); the others are economy actions.
pub(crate) fn is_save(kind: &PersistKind) -> bool {
    actions::lane(kind) == Lane::Save
}

/// The store worker's observations: metrics, and the roster's released claims.
impl Observer for StoreCtx {
    fn batch_saved(&self, rows: usize, refused: usize, took: Duration) {
        ::metrics::histogram!(crate::telemetry::SAVE_BATCH_SECONDS).record(took.as_secs_f64());
        ::metrics::histogram!(crate::telemetry::SAVE_BATCH_ROWS).record(rows as f64);
        let c = &self.metrics.counters;
        add(&c.save_rows_ok, (rows - refused) as u64);
        add(&c.save_rows_refused, refused as u64);
    }
    fn level_up_saved(&self) {
        bump(&self.metrics.counters.level_up_saves_ok);
    }
    fn released(&self, fence: Fence) {
        self.roster.mark_released(fence);
        bump(&self.metrics.counters.releases_ok);
    }
}

impl StoreCtx {
    fn executor(&self) -> Executor<'_> {
        Executor {
            store: &self.store,
            keys: &self.holder,
            observer: self,
        }
    }
}

/// Runs until `rx` closes or the token is cancelled; then lets the lanes finish what they hold
/// (unless cancelled).
pub(crate) async fn run(ctx: Arc<StoreCtx>, mut rx: mpsc::Receiver<PersistRequest>) {
    let mut tasks = JoinSet::new();
    let (save_tx, save_rx) = mpsc::channel(LANE_QUEUE_MAX);
    tasks.spawn(lane(ctx.clone(), save_rx));
    let mut action_txs = Vec::with_capacity(CRITICAL_CONCURRENCY_MAX);
    for _ in 0..CRITICAL_CONCURRENCY_MAX {
        let (tx, rx) = mpsc::channel(LANE_QUEUE_MAX / CRITICAL_CONCURRENCY_MAX);
        tasks.spawn(lane(ctx.clone(), rx));
        action_txs.push(tx);
    }
    loop {
        let req = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => break,
            req = rx.recv() => match req {
                Some(r) => r,
                None => break,
            },
        };
        if is_save(&req.kind) {
            // Saves wait their turn, in order: this is an async task, and the tick thread only
            // ever try_sends into `rx` (a full `rx` moves requests into its bounded backlog).
            if save_tx.send(req).await.is_err() {
                break;
            }
            continue;
        }
        // While PostgreSQL is believed away (down, or stalled: a call of the character's lane
        // may be waiting on a connection a lost network cut), the action is answered "try
        // again" here rather than queued behind such a call.
        if !ctx.health.is_up() {
            ctx.health.probe_while_away(&ctx.store);
            if unavailable(&ctx, req).await.is_err() {
                break;
            }
            continue;
        }
        let i = actions::lane_key(&req.kind).0.unsigned_abs() as usize % CRITICAL_CONCURRENCY_MAX;
        // A full action lane (one busy character while the database is slow) must not hold up
        // the other lanes or the saves: its request is answered "try again" at once.
        match action_txs[i].try_send(req) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(req)) => {
                if unavailable(&ctx, req).await.is_err() {
                    break;
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => break,
        }
    }
    drop(save_tx);
    drop(action_txs);
    while tasks.join_next().await.is_some() {}
}

/// Answers a critical action "try again" without running it; `Err` when the zone is gone.
async fn unavailable(ctx: &StoreCtx, req: PersistRequest) -> Result<(), ()> {
    dec(&ctx.metrics.counters.store_pending);
    bump(&ctx.metrics.counters.critical_unavailable);
    let input = ZoneInput::StoreResult {
        request: req.id,
        outcome: Outcome::Unavailable,
    };
    ctx.control
        .send(Control::Input(input))
        .await
        .map_err(|_| ())
}

async fn lane(ctx: Arc<StoreCtx>, mut rx: mpsc::Receiver<PersistRequest>) {
    loop {
        let req = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => return,
            req = rx.recv() => match req {
                Some(r) => r,
                None => return,
            },
        };
        let outcome = if is_save(&req.kind) {
            save(&ctx, req.id, req.kind).await
        } else {
            action(&ctx, req.id, req.kind).await
        };
        dec(&ctx.metrics.counters.store_pending);
        let input = ZoneInput::StoreResult {
            request: req.id,
            outcome,
        };
        if ctx.control.send(Control::Input(input)).await.is_err() {
            return;
        }
    }
}

/// Runs `f` until it succeeds, is refused, or `SAVE_RETRIES_MAX` retries failed.
async fn with_retries<T, F, Fut>(ctx: &StoreCtx, what: &'static str, mut f: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut backoff = Backoff::default();
    let mut retries = 0;
    loop {
        let r = {
            let _under_way = ctx.health.under_way();
            let r = f().await;
            ctx.health.observe(&ctx.store, &r);
            r
        };
        match r {
            Ok(v) => return Ok(v),
            Err(StoreError::Refused(refusal)) => return Err(StoreError::Refused(refusal)),
            Err(e) => {
                ctx.metrics.set_last_error(format_args!("{what}: {e}"));
                if retries >= SAVE_RETRIES_MAX || ctx.cancel.is_cancelled() {
                    tracing::warn!(zone = %ctx.zone, what, error = %e, retries, "save not done; the zone keeps it and sends it again");
                    return Err(e);
                }
                retries += 1;
                bump(&ctx.metrics.counters.save_retries);
                tracing::debug!(zone = %ctx.zone, what, error = %e, retries, "save failed; retrying");
                let delay = backoff.step();
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = ctx.cancel.cancelled() => {}
                }
                // While the database is believed down, wait for the probe rather than hammer it.
                ctx.health.wait_up(delay, &ctx.cancel).await;
            }
        }
    }
}

fn to_outcome(r: StoreResult<Applied>) -> Outcome {
    match r {
        Ok(applied) => Outcome::Ok(applied),
        Err(StoreError::Refused(refusal)) => Outcome::Refused(refusal),
        Err(_) => Outcome::Unavailable,
    }
}

async fn save(ctx: &StoreCtx, id: RequestId, kind: PersistKind) -> Outcome {
    let c = &ctx.metrics.counters;
    let what = match &kind {
        PersistKind::SaveBatch(_) => "batch save",
        PersistKind::LevelUp(_) => "level-up save",
        _ => "final save",
    };
    let ex = ctx.executor();
    let r = with_retries(ctx, what, || actions::execute(&ex, id, &kind)).await;
    let outcome = to_outcome(r);
    match &outcome {
        Outcome::Ok(_) | Outcome::Refused(_) => bump(&c.saves_ok),
        Outcome::Unavailable => bump(&c.saves_failed),
    }
    outcome
}

async fn action(ctx: &StoreCtx, id: RequestId, kind: PersistKind) -> Outcome {
    let c = &ctx.metrics.counters;
    if !ctx.health.is_up() {
        bump(&c.critical_unavailable);
        return Outcome::Unavailable;
    }
    let started = std::time::Instant::now();
    let outcome = {
        let _under_way = ctx.health.under_way();
        let r = actions::execute(&ctx.executor(), id, &kind).await;
        observe_to(ctx, r)
    };
    let label = match &outcome {
        Outcome::Ok(_) => {
            bump(&c.critical_ok);
            "ok"
        }
        Outcome::Refused(_) => {
            bump(&c.critical_refused);
            "refused"
        }
        Outcome::Unavailable => {
            bump(&c.critical_unavailable);
            "unavailable"
        }
    };
    ::metrics::histogram!(
        crate::telemetry::CRITICAL_ACTION_SECONDS,
        "action" => actions::name(&kind),
        "outcome" => label
    )
    .record(started.elapsed().as_secs_f64());
    outcome
}

/// Records the answer in the health view and the last error, then turns it into an `Outcome`.
fn observe_to(ctx: &StoreCtx, r: StoreResult<Applied>) -> Outcome {
    ctx.health.observe(&ctx.store, &r);
    if let Err(e) = &r {
        if e.is_busy() {
            bump(&ctx.metrics.counters.store_busy);
        }
        if e.refusal().is_none() {
            tracing::warn!(zone = %ctx.zone, error = %e, "economy action not done: the player is told to try again");
            ctx.metrics.set_last_error(e);
        }
    }
    to_outcome(r)
}
