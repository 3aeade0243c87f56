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
//!   down it is answered `Unavailable` at once ("try again"), and it is acknowledged only by a
//!   commit.

use crate::health::{Backoff, StoreHealth};
use crate::limits::{CRITICAL_CONCURRENCY_MAX, LANE_QUEUE_MAX, SAVE_RETRIES_MAX};
use crate::messages::Control;
use crate::metrics::{add, bump, dec, Metrics};
use realmkeep_domain::{Actor, CharacterId, ZoneId};
use realmkeep_store::trade::TradeSide;
use realmkeep_store::{Store, StoreError, StoreResult};
use realmkeep_zone::io::{Applied, Outcome, PersistKind, PersistRequest, ZoneInput};
use std::future::Future;
use std::sync::Arc;
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
    matches!(
        kind,
        PersistKind::SaveBatch(_) | PersistKind::LevelUp(_) | PersistKind::Release { .. }
    )
}

/// The character whose action lane runs a request.
fn lane_key(kind: &PersistKind) -> CharacterId {
    match kind {
        PersistKind::PickupLoot { fence, .. }
        | PersistKind::LootGold { fence, .. }
        | PersistKind::AcceptQuest { fence, .. }
        | PersistKind::QuestProgress { fence, .. }
        | PersistKind::CompleteQuest { fence, .. } => fence.character,
        PersistKind::PvpKill { killer, .. } => killer.character,
        PersistKind::Trade { a, b, .. } => a.character.min(b.character),
        PersistKind::LevelUp(s) => s.fence.character,
        PersistKind::Release { snapshot, .. } => snapshot.fence.character,
        PersistKind::SaveBatch(_) | PersistKind::Logs(_) => CharacterId(0),
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
        let i = lane_key(&req.kind).0.unsigned_abs() as usize % CRITICAL_CONCURRENCY_MAX;
        // A full action lane (one busy character while the database is slow) must not hold up
        // the other lanes or the saves: its request is answered "try again" at once.
        match action_txs[i].try_send(req) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(req)) => {
                dec(&ctx.metrics.counters.store_pending);
                bump(&ctx.metrics.counters.critical_unavailable);
                let input = ZoneInput::StoreResult {
                    request: req.id,
                    outcome: Outcome::Unavailable,
                };
                if ctx.control.send(Control::Input(input)).await.is_err() {
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
            save(&ctx, req.kind).await
        } else {
            action(&ctx, req.kind).await
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
        let r = f().await;
        ctx.health.observe(&ctx.store, &r);
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

fn to_outcome<T>(r: StoreResult<T>, applied: impl FnOnce(T) -> Applied) -> Outcome {
    match r {
        Ok(v) => Outcome::Ok(applied(v)),
        Err(StoreError::Refused(refusal)) => Outcome::Refused(refusal),
        Err(_) => Outcome::Unavailable,
    }
}

async fn save(ctx: &StoreCtx, kind: PersistKind) -> Outcome {
    let c = &ctx.metrics.counters;
    let outcome = match &kind {
        PersistKind::SaveBatch(rows) => {
            let r = with_retries(ctx, "batch save", || ctx.store.save_batch(rows)).await;
            if let Ok(report) = &r {
                add(&c.save_rows_ok, report.saved.len() as u64);
                add(&c.save_rows_refused, report.refused.len() as u64);
                if !report.refused.is_empty() {
                    tracing::warn!(zone = %ctx.zone, refused = ?report.refused, "batch save rows refused: claims lost");
                }
            }
            to_outcome(r, |report| Applied::Saved {
                refused: report.refused,
            })
        }
        PersistKind::LevelUp(snapshot) => {
            let r = with_retries(ctx, "level-up save", || ctx.store.level_up(snapshot)).await;
            if r.is_ok() {
                bump(&c.level_up_saves_ok);
            }
            to_outcome(r, |_| Applied::Done)
        }
        PersistKind::Release { snapshot, .. } => {
            let r = with_retries(ctx, "final save", || ctx.store.release(snapshot)).await;
            if r.is_ok() {
                ctx.roster.mark_released(snapshot.fence);
                bump(&c.releases_ok);
            }
            to_outcome(r, |_| Applied::Done)
        }
        _ => unreachable!("only saves reach the save lane"),
    };
    match &outcome {
        Outcome::Ok(_) | Outcome::Refused(_) => bump(&c.saves_ok),
        Outcome::Unavailable => bump(&c.saves_failed),
    }
    outcome
}

async fn action(ctx: &StoreCtx, kind: PersistKind) -> Outcome {
    let c = &ctx.metrics.counters;
    if !ctx.health.is_up() {
        bump(&c.critical_unavailable);
        return Outcome::Unavailable;
    }
    let s = &ctx.store;
    let outcome = match kind {
        PersistKind::PickupLoot {
            fence,
            def,
            quantity,
            zone,
            monster,
            loot,
        } => {
            let origin = format!("monster:{monster}");
            // The holder is new in every process and the entity unique in the zone's life.
            let key = format!("{}:{loot}", ctx.holder);
            let r = s
                .pickup_loot_once(Actor::Zone(fence), def, quantity, Some(zone), &origin, &key)
                .await;
            observe_to(ctx, r, |p| Applied::PickedUp {
                merged: p.merged,
                created: p.created,
            })
        }
        PersistKind::LootGold {
            fence,
            amount,
            zone,
        } => {
            let r = s.loot_gold(Actor::Zone(fence), amount, Some(zone)).await;
            observe_to(ctx, r, |gold| Applied::Purse { gold })
        }
        PersistKind::AcceptQuest { fence, quest } => {
            let r = s.accept_quest(Actor::Zone(fence), quest).await;
            observe_to(ctx, r, |_| Applied::Done)
        }
        PersistKind::QuestProgress {
            fence,
            quest,
            amount,
        } => {
            let r = s.progress_quest(Actor::Zone(fence), quest, amount).await;
            observe_to(ctx, r, |_| Applied::Done)
        }
        PersistKind::CompleteQuest { fence, quest } => {
            crate::quest::complete(ctx, fence, quest).await
        }
        PersistKind::PvpKill { killer, victim } => {
            let r = s
                .record_pvp_kill(Actor::Zone(killer), victim.character)
                .await;
            observe_to(ctx, r, |_| Applied::Done)
        }
        PersistKind::Trade {
            a,
            a_gives,
            b,
            b_gives,
        } => {
            let side = |f, o: realmkeep_zone::io::TradeOffer| TradeSide {
                actor: Actor::Zone(f),
                items: o.items,
                gold: o.gold,
            };
            let r = s.trade(&side(a, a_gives), &side(b, b_gives)).await;
            observe_to(ctx, r, |t| Applied::Traded {
                a_received: t.a_received,
                b_received: t.b_received,
                a_gold: t.a_gold,
                b_gold: t.b_gold,
            })
        }
        PersistKind::SaveBatch(_)
        | PersistKind::LevelUp(_)
        | PersistKind::Release { .. }
        | PersistKind::Logs(_) => unreachable!("saves and logs never reach an action lane"),
    };
    match &outcome {
        Outcome::Ok(_) => bump(&c.critical_ok),
        Outcome::Refused(_) => bump(&c.critical_refused),
        Outcome::Unavailable => bump(&c.critical_unavailable),
    }
    outcome
}

/// Records the answer in the health view and the last error, then turns it into an `Outcome`.
pub(crate) fn observe_to<T>(
    ctx: &StoreCtx,
    r: StoreResult<T>,
    applied: impl FnOnce(T) -> Applied,
) -> Outcome {
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
    to_outcome(r, applied)
}
