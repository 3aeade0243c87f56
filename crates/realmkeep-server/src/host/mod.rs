//! `ZoneHost`: one zone, its tick thread and its workers, and the join/leave pipeline around it.
//!
//! Join: `claim_and_load` (one statement) → `Spawn` input → Redis registration (online, zone set,
//! entity count) → play. Leave: the zone's final save and release in one fenced transaction
//! (`Store::release`) → `Left` → out of Redis → (transfer) the destination's join. Nothing is
//! acknowledged to a player before the store committed it: acknowledgements are the zone's,
//! and the zone gives them only on a `StoreResult` of `Ok`.

mod join;
mod shutdown;

pub use join::JoinReceipt;
pub use shutdown::ShutdownReport;

use crate::config::HostConfig;
use crate::events::{self, EventsCtx, Transfer};
use crate::health::StoreHealth;
use crate::messages::{Control, NoticeReceiver};
use crate::metrics::{bump, HostMetrics, Metrics};
use crate::outbox::{Outbox, OutboxChannels};
use crate::roster::Roster;
use crate::tick::{try_command, Query, TickLoop};
use crate::{cache_worker, log_worker, renewer, store_worker, HostError};
use realmkeep_cache::Cache;
use realmkeep_domain::{AdminOrder, CharacterId, ZoneId};
use realmkeep_store::Store;
use realmkeep_zone::io::{PlayerCommand, ReplyTo, ZoneInput};
use realmkeep_zone::Zone;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Longest an API call waits for room on the control lane before answering `Busy`.
const CONTROL_SEND_WAIT: Duration = Duration::from_secs(1);

/// The backends a host uses, shared by every zone of a node.
#[derive(Clone, Debug)]
pub(crate) struct Backends {
    pub store: Store,
    pub cache: Cache,
    pub health: Arc<StoreHealth>,
    /// The node's runtime lag (`lag.rs`), which paces the zones' views with their own waits.
    pub lag: crate::lag::RuntimeLag,
    /// The zones' turn to step their views back, one at a time (`pace::StepBacks`).
    pub step_backs: crate::pace::StepBacks,
}

struct Inner {
    zone: ZoneId,
    holder: String,
    config: HostConfig,
    b: Backends,
    metrics: Arc<Metrics>,
    roster: Arc<Roster>,
    control: mpsc::Sender<Control>,
    commands: mpsc::Sender<crate::tick::Queued>,
    queries: mpsc::Sender<Query<Zone>>,
    accepting: AtomicBool,
    /// Joins loading at once (`JOIN_CONCURRENCY_MAX`): each holds a database connection.
    joins: tokio::sync::Semaphore,
    shutdown_complete: watch::Receiver<bool>,
    /// Cancels the workers that outlive the tick thread (renewer, events), and any other at the
    /// very end.
    workers: CancellationToken,
    tick_stop: CancellationToken,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    renewer: Mutex<Option<JoinHandle<()>>>,
}

/// One zone running on this node. Cheap to clone.
#[derive(Clone)]
pub struct ZoneHost {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ZoneHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoneHost")
            .field("zone", &self.inner.zone)
            .field("holder", &self.inner.holder)
            .finish_non_exhaustive()
    }
}

/// The claim holder name: `zone-<id>/<node>/<nonce>`. The nonce is new in every process, so a
/// restarted node is a new holder and never mistakes an old claim for its own.
pub fn holder_name(zone: ZoneId, node: &str) -> String {
    let nonce: u64 = rand::random();
    format!("zone-{}/{}/{:016x}", zone.0, node, nonce)
}

impl ZoneHost {
    /// Starts the zone's tick thread and workers. Must be called inside a Tokio runtime.
    pub(crate) fn start(
        zone_id: ZoneId,
        zone: Zone,
        b: Backends,
        config: HostConfig,
        transfers: Option<mpsc::Sender<Transfer>>,
    ) -> Result<ZoneHost, HostError> {
        config.check()?;
        let q = config.queues;
        let metrics = Arc::new(Metrics::for_zone(zone_id));
        let roster = Arc::new(Roster::default());
        let workers = CancellationToken::new();
        let tick_stop = CancellationToken::new();
        let (control_tx, control_rx) = mpsc::channel(q.control);
        let (commands_tx, commands_rx) = mpsc::channel(q.commands);
        let (queries_tx, queries_rx) = mpsc::channel(crate::limits::QUERY_QUEUE_MAX);
        let (store_tx, store_rx) = mpsc::channel(q.store);
        let (cache_tx, cache_rx) = mpsc::channel(q.cache);
        let (logs_tx, logs_rx) = mpsc::channel(q.logs);
        let (events_tx, events_rx) = mpsc::channel(q.events);
        let (done_tx, done_rx) = watch::channel(false);
        let holder = holder_name(zone_id, &config.node);

        let mut tasks = Vec::new();
        let store_ctx = store_worker::StoreCtx {
            zone: zone_id,
            store: b.store.clone(),
            health: b.health.clone(),
            metrics: metrics.clone(),
            control: control_tx.clone(),
            cancel: workers.clone(),
            roster: roster.clone(),
            holder: holder.clone(),
        };
        tasks.push(tokio::spawn(store_worker::run(
            Arc::new(store_ctx),
            store_rx,
        )));
        let cache_ctx = cache_worker::CacheCtx {
            zone: zone_id,
            control: control_tx.clone(),
            cache: b.cache.clone(),
            roster: roster.clone(),
            metrics: metrics.clone(),
            cancel: workers.clone(),
        };
        tasks.push(tokio::spawn(cache_worker::run(
            Arc::new(cache_ctx),
            cache_rx,
        )));
        let log_ctx = log_worker::LogCtx {
            zone: zone_id,
            store: b.store.clone(),
            health: b.health.clone(),
            metrics: metrics.clone(),
            cancel: workers.clone(),
        };
        tasks.push(tokio::spawn(log_worker::run(Arc::new(log_ctx), logs_rx)));
        let renew_ctx = renewer::RenewCtx {
            zone: zone_id,
            store: b.store.clone(),
            health: b.health.clone(),
            metrics: metrics.clone(),
            roster: roster.clone(),
            lease: config.lease,
            control: control_tx.clone(),
            cancel: workers.clone(),
        };
        let renewer = tokio::spawn(renewer::run(Arc::new(renew_ctx)));
        let events_ctx = EventsCtx {
            zone: zone_id,
            store: b.store.clone(),
            cache: b.cache.clone(),
            health: b.health.clone(),
            metrics: metrics.clone(),
            roster: roster.clone(),
            transfers,
            shutdown_complete: done_tx,
            cancel: workers.clone(),
        };
        tasks.push(tokio::spawn(events::run(Arc::new(events_ctx), events_rx)));

        let outbox = Outbox::new(
            OutboxChannels {
                store: store_tx,
                cache: cache_tx,
                logs: logs_tx,
                events: events_tx,
            },
            metrics.clone(),
        );
        let tick = TickLoop::new(
            zone,
            control_rx,
            commands_rx,
            queries_rx,
            outbox,
            metrics.clone(),
            tick_stop.clone(),
        )
        .with_phase(crate::tick::phase_of(zone_id))
        .with_lag(b.lag.clone())
        .with_step_backs(b.step_backs.clone(), zone_id);
        let thread = std::thread::Builder::new()
            .name(format!("zone-{}", zone_id.0))
            .spawn(move || {
                // The zone on each of the tick thread's log lines.
                let _zone = tracing::info_span!("zone", zone = %zone_id).entered();
                tick.run()
            })
            .map_err(|e| HostError::Start(format!("starting the tick thread: {e}")))?;
        tracing::info!(zone = %zone_id, %holder, "zone started");
        Ok(ZoneHost {
            inner: Arc::new(Inner {
                zone: zone_id,
                holder,
                config,
                b,
                metrics,
                roster,
                control: control_tx,
                commands: commands_tx,
                queries: queries_tx,
                accepting: AtomicBool::new(true),
                joins: tokio::sync::Semaphore::new(crate::limits::JOIN_CONCURRENCY_MAX),
                shutdown_complete: done_rx,
                workers,
                tick_stop,
                thread: Mutex::new(Some(thread)),
                tasks: Mutex::new(tasks),
                renewer: Mutex::new(Some(renewer)),
            }),
        })
    }

    pub fn zone(&self) -> ZoneId {
        self.inner.zone
    }

    /// The name this zone's claims are held under.
    pub fn holder(&self) -> &str {
        &self.inner.holder
    }

    pub fn is_accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    /// Characters the zone holds a claim for (joining, playing or leaving).
    pub fn players(&self) -> Vec<CharacterId> {
        self.inner.roster.characters()
    }

    /// Whether this zone holds a claim for `character` (joining, playing or leaving).
    pub fn holds(&self, character: CharacterId) -> bool {
        self.inner.roster.contains(character)
    }

    pub fn player_count(&self) -> usize {
        self.inner.roster.len()
    }

    pub fn metrics(&self) -> HostMetrics {
        self.inner.metrics.snapshot(self.inner.roster.len() as u64)
    }

    /// How many times slower than their pace the zone's views go now (1 when the node keeps up,
    /// up to `VIEW_STRETCH_MAX` when it is short of cores: `pace.rs`). One relaxed load: the
    /// gateway reads it at every wake-up of a connection, to hold chat longer for the next view
    /// (up to its own bound, `HELD_STRETCH_MAX`).
    pub fn view_stretch(&self) -> u64 {
        let c = &self.inner.metrics.counters;
        c.view_stretch.load(Ordering::Relaxed).max(1)
    }

    /// Since the previous call (a benchmark's window; `metrics` keeps its own): tick durations,
    /// wall and the tick thread's CPU time, and how long commands waited for the tick thread.
    pub fn take_tick_window(&self) -> crate::metrics::TickWindowTaken {
        self.inner.metrics.take_tick_window()
    }

    async fn control(&self, input: ZoneInput) -> Result<(), HostError> {
        match tokio::time::timeout(
            CONTROL_SEND_WAIT,
            self.inner.control.send(Control::Input(input)),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(HostError::ShuttingDown),
            Err(_) => Err(HostError::Busy),
        }
    }

    /// An operator's change of `character` (see `ZoneInput::Admin`), on the control lane;
    /// `Busy` when the lane stays full.
    pub async fn admin(&self, character: CharacterId, order: AdminOrder) -> Result<(), HostError> {
        self.control(ZoneInput::Admin { character, order }).await
    }

    /// The guild wars in force, for the zone's PvP rule (`crate::wars`).
    pub(crate) async fn set_wars(
        &self,
        pairs: Vec<(realmkeep_domain::GuildId, realmkeep_domain::GuildId)>,
    ) -> Result<(), HostError> {
        self.control(ZoneInput::Wars(pairs)).await
    }

    fn held(&self, character: CharacterId) -> Result<(), HostError> {
        if self.inner.roster.contains(character) {
            Ok(())
        } else {
            Err(HostError::NotHere)
        }
    }

    /// Logout: the zone saves the character in full and releases the claim (one transaction),
    /// then it leaves Redis and the world. Retried by the zone until the save succeeds.
    pub async fn leave(&self, character: CharacterId) -> Result<(), HostError> {
        self.held(character)?;
        self.control(ZoneInput::Leave {
            character,
            transfer_to: None,
        })
        .await
    }

    /// Moves the character to zone `to`: released here first, then claimed by the destination.
    pub async fn transfer(&self, character: CharacterId, to: ZoneId) -> Result<(), HostError> {
        self.held(character)?;
        self.control(ZoneInput::Leave {
            character,
            transfer_to: Some(to),
        })
        .await
    }

    /// The connection dropped without a logout: the character stays for the grace period.
    pub async fn disconnect(&self, character: CharacterId) -> Result<(), HostError> {
        self.held(character)?;
        self.control(ZoneInput::Disconnect { character }).await
    }

    pub async fn reconnect(&self, character: CharacterId) -> Result<(), HostError> {
        self.held(character)?;
        self.control(ZoneInput::Reconnect { character }).await
    }

    /// The player's client wants view deltas (`PlayerEvent::View`) from now on, from an empty
    /// view.
    pub async fn watch(&self, character: CharacterId) -> Result<(), HostError> {
        self.held(character)?;
        self.control(ZoneInput::Watch { character }).await
    }

    /// A player back within the disconnect grace, on a new connection: the same entity and the
    /// same claim (no new claim, no load), its notices on a new channel from now on, watching
    /// from an empty view. If the character left meanwhile the channel closes at once.
    pub async fn resume(&self, character: CharacterId) -> Result<NoticeReceiver, HostError> {
        self.held(character)?;
        let (tx, rx) = crate::messages::notice_channel(self.inner.config.queues.notices_per_player);
        let attach = Control::Attach {
            character,
            notices: tx,
        };
        match tokio::time::timeout(CONTROL_SEND_WAIT, self.inner.control.send(attach)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(HostError::ShuttingDown),
            Err(_) => return Err(HostError::Busy),
        }
        self.control(ZoneInput::Reconnect { character }).await?;
        self.control(ZoneInput::Watch { character }).await?;
        Ok(rx)
    }

    /// One player command, queued for the next tick without waiting; `Busy` when the command
    /// lane is full (the player tries again).
    pub fn command(&self, character: CharacterId, command: PlayerCommand) -> Result<(), HostError> {
        self.command_tagged(character, command, None)
    }

    /// `command`, tagged: the zone's first notice about it comes back as
    /// `Notice::Reply { reply_to, .. }` (see `ReplyTo`).
    pub fn command_tagged(
        &self,
        character: CharacterId,
        command: PlayerCommand,
        reply_to: Option<ReplyTo>,
    ) -> Result<(), HostError> {
        let r = try_command(&self.inner.commands, character, command, reply_to);
        if matches!(r, Err(HostError::Busy)) {
            bump(&self.inner.metrics.counters.commands_busy);
        }
        r
    }

    /// Reads the zone's views (players, monsters, loot) on the tick thread, after the current
    /// tick. For the demo, simulated players, the admin page and tests; `Busy` when too many
    /// reads are queued.
    pub async fn inspect<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Zone) -> R + Send + 'static,
    ) -> Result<R, HostError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let query: Query<Zone> = Box::new(move |zone| {
            let _ = tx.send(f(zone));
        });
        match self.inner.queries.try_send(query) {
            Ok(()) => rx.await.map_err(|_| HostError::ShuttingDown),
            Err(mpsc::error::TrySendError::Full(_)) => Err(HostError::Busy),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(HostError::ShuttingDown),
        }
    }
}
