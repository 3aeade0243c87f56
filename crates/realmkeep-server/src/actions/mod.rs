//! How the server executes each zone request against the store: one module per action, named like
//! the zone's module (`realmkeep_zone::actions`) that holds its request, receipt and answer. The
//! store worker and the zone benchmark both call [`execute`]; the worker adds lanes, retries and
//! health, the benchmark its ledger, through an [`Observer`].
//!
//! Adding an action is one module here (an `execute`, its `LANE`, its `lane_key`) and one line in
//! the registry below.

use realmkeep_domain::{CharacterId, Fence};
use realmkeep_store::{Store, StoreResult};
use realmkeep_zone::io::{Applied, PersistKind, RequestId};
use std::time::Duration;
use tracing::Instrument;

/// Which kind of store-worker lane runs an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// The ordered save lane: an older snapshot never lands after a newer one; retried with
    /// backoff while PostgreSQL is away.
    Save,
    /// An economy action lane (one per character, by id): tried once; "try again" otherwise.
    Action,
}

/// What the caller wants to hear about executions besides their answer.
pub trait Observer: Send + Sync {
    /// A batch save ran: `rows` written or refused, `refused` of them stale.
    fn batch_saved(&self, _rows: usize, _refused: usize, _took: Duration) {}
    /// A level-up save committed.
    fn level_up_saved(&self) {}
    /// A final save committed and released the claim `fence`.
    fn released(&self, _fence: Fence) {}
}

/// No observation (tests).
pub struct Unobserved;
impl Observer for Unobserved {}

/// What an execution works with.
pub struct Executor<'a> {
    pub store: &'a Store,
    /// Unique per process and zone (the claim holder's name, which carries a per-process nonce):
    /// prefixes idempotency keys so a key made by one zone's life is never taken for another's.
    pub keys: &'a str,
    pub observer: &'a dyn Observer,
}

/// Asks of the database after an unknown outcome, at most this many times: the database may
/// itself be on its way back.
const SETTLE_TRIES_MAX: u32 = 3;
/// Pause between two such questions.
const SETTLE_PAUSE: Duration = Duration::from_millis(200);

/// What became of the action under `key` after its answer was lost: `Some` if it committed,
/// `None` if it did not (then it never will) or if the database could not say.
async fn settle<T, F, Fut>(key: &str, mut ask: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StoreResult<Option<T>>>,
{
    for attempt in 1..=SETTLE_TRIES_MAX {
        match ask().await {
            Ok(found) => return found,
            Err(e) => {
                tracing::warn!(key, attempt, error = %e, "could not ask what became of an action");
                tokio::time::sleep(SETTLE_PAUSE).await;
            }
        }
    }
    None
}

/// Runs a critical action that keeps its receipt under `key` (`action_keys`). An unknown outcome
/// (an answer lost at COMMIT, a key already used: `StoreError::outcome_unknown`) is settled by
/// asking the database what became of `key`: the receipt if it committed, the error if not. A
/// refusal or a busy pool is answered at once: nothing committed, and a busy pool is not made
/// busier by questions.
async fn keyed<T, Fut>(ex: &Executor<'_>, key: &str, run: Fut) -> StoreResult<T>
where
    T: serde::de::DeserializeOwned,
    Fut: std::future::Future<Output = StoreResult<T>>,
{
    match run.await {
        Ok(t) => Ok(t),
        Err(e) if !e.outcome_unknown() => Err(e),
        Err(e) => match settle(key, || ex.store.settle_action::<T>(key)).await {
            Some(t) => Ok(t),
            None => Err(e),
        },
    }
}

macro_rules! actions {
    ($($variant:ident => $module:ident),+ $(,)?) => {
        $(mod $module;)+

        /// Runs request `id` against the store once; `Logs` are the log worker's. The same `id`
        /// (with the executor's `keys`) is the same idempotency key: run again after an unknown
        /// outcome, an action answers what the first run did.
        pub async fn execute(
            ex: &Executor<'_>,
            id: RequestId,
            kind: &PersistKind,
        ) -> StoreResult<Applied> {
            let key = format!("{}:{}", ex.keys, id.0);
            // A span per store call: its duration shows at debug level (`time.busy` in JSON).
            let span = tracing::debug_span!("store", action = name(kind), request = id.0);
            async {
                match kind {
                    $(PersistKind::$variant(r) => $module::execute(ex, &key, r).await.map(Applied::from),)+
                    PersistKind::Logs(_) => unreachable!("logs go to the log worker"),
                }
            }
            .instrument(span)
            .await
        }

        /// The action's name (its module's), for metrics and logs.
        pub fn name(kind: &PersistKind) -> &'static str {
            match kind {
                $(PersistKind::$variant(_) => stringify!($module),)+
                PersistKind::Logs(_) => "logs",
            }
        }

        /// The lane kind that runs `kind`.
        pub fn lane(kind: &PersistKind) -> Lane {
            match kind {
                $(PersistKind::$variant(_) => $module::LANE,)+
                PersistKind::Logs(_) => Lane::Save,
            }
        }

        /// The character whose action lane runs `kind` (one lane per character keeps its order).
        pub fn lane_key(kind: &PersistKind) -> CharacterId {
            match kind {
                $(PersistKind::$variant(r) => $module::lane_key(r),)+
                PersistKind::Logs(_) => CharacterId(0),
            }
        }
    };
}

actions! {
    SaveBatch => save_batch,
    LevelUp => level_up,
    Release => release,
    Pickup => pickup,
    LootGold => loot_gold,
    AcceptQuest => accept_quest,
    AbandonQuest => abandon_quest,
    QuestProgress => quest_progress,
    CompleteQuest => complete_quest,
    PvpKill => pvp_kill,
    Trade => trade,
    MarketList => market_list,
    MarketBuy => market_buy,
    MarketCancel => market_cancel,
    MarketSearch => market_search,
    MailSend => mail_send,
    MailList => mail_list,
    MailClaim => mail_claim,
    MailRead => mail_read,
    MailDelete => mail_delete,
    Guild => guild,
    Friend => friend,
    Item => inventory,
    Whisper => whisper,
    Admin => admin_change,
}
