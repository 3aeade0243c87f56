//! Every bound of the host, named once. Units last in names. The zone's own bounds live in
//! `realmkeep_zone::limits`; these size the channels and backlogs between the tick thread and the
//! async workers.

use std::time::Duration;

/// The zone's fixed step: 20 Hz.
pub const TICK: Duration = Duration::from_millis(50);
/// Ticks run back to back when the loop fell behind; beyond that the schedule is reset to now and
/// the missed ticks are counted as skipped (a zone that cannot keep up must not spiral).
pub const CATCH_UP_TICKS_MAX: u32 = 3;

/// A zone's tick thread judges how long it waits for a core over windows of this many ticks
/// (`pace.rs`): each tick's late wake-up plus its wall time beyond its CPU time, averaged.
pub const VIEW_PACE_WINDOW_TICKS: u32 = 20;
/// A window that waited this long per tick on average stretches the zone's views one step (up
/// to `realmkeep_zone::limits::VIEW_STRETCH_MAX`): the machine is short of cores, and every
/// thread's work (the gateway's answers too) is waiting about as long.
pub const VIEW_PACE_BUSY_WAIT: Duration = Duration::from_micros(6_250);
/// A window that waited less than this per tick is calm; `VIEW_PACE_CALM_WINDOWS` calm windows
/// in a row step the views back one step. Between the two, the pace holds.
pub const VIEW_PACE_CALM_WAIT: Duration = Duration::from_millis(2);
pub const VIEW_PACE_CALM_WINDOWS: u32 = 5;
/// A step back undone within this many windows doubles the calm windows the next step back
/// takes, up to `VIEW_PACE_CALM_WINDOWS_MAX` (a load that fits only stretched does not swing the
/// pace every few seconds); `VIEW_PACE_FORGET_WINDOWS` windows at the full pace make it
/// `VIEW_PACE_CALM_WINDOWS` again.
pub const VIEW_PACE_RELAPSE_WINDOWS: u32 = 10;
pub const VIEW_PACE_CALM_WINDOWS_MAX: u32 = 60;
pub const VIEW_PACE_FORGET_WINDOWS: u32 = 60;
/// The zones of a node step their views back one at a time, this far apart (`pace.rs`): a step
/// back's added load shows in the runtime lag within a few windows, before the next zone adds
/// its own.
pub const VIEW_PACE_STEP_BACK_APART: Duration = Duration::from_secs(5);
/// The node's runtime lag (`lag.rs`) from which a window is busy too, and under which it may be
/// calm: a node whose tick threads find a core may still run its connections late, and each
/// command's answer passes through the runtime at least twice (its read, its write).
pub const VIEW_PACE_LAG_BUSY: Duration = Duration::from_millis(10);
pub const VIEW_PACE_LAG_CALM: Duration = Duration::from_millis(3);
/// A window is calm only while none of the probe's messages of its last half second waited this
/// long: an answer crosses the runtime twice at least, and one caught in a burst this late twice
/// is already a good part of the 100 ms a player's action may take.
pub const VIEW_PACE_LAG_WORST_CALM: Duration = Duration::from_millis(20);
/// The runtime lag probe's thread sends its time to the probe's task this often (`lag.rs`).
pub const RUNTIME_LAG_PROBE_EVERY: Duration = Duration::from_millis(10);
/// Its messages not yet read; when the task is that far behind, the thread skips its sends.
pub const RUNTIME_LAG_PROBES_IN_FLIGHT_MAX: usize = 4;
/// It publishes the mean lateness of its probes once per this window.
pub const RUNTIME_LAG_WINDOW: Duration = Duration::from_millis(500);
const _: () = assert!(
    VIEW_PACE_WINDOW_TICKS >= 1
        && VIEW_PACE_CALM_WAIT.as_nanos() < VIEW_PACE_BUSY_WAIT.as_nanos()
        && VIEW_PACE_BUSY_WAIT.as_nanos() < TICK.as_nanos()
        && VIEW_PACE_CALM_WINDOWS >= 1
        && VIEW_PACE_CALM_WINDOWS <= VIEW_PACE_CALM_WINDOWS_MAX
        && VIEW_PACE_RELAPSE_WINDOWS >= VIEW_PACE_CALM_WINDOWS
        && VIEW_PACE_FORGET_WINDOWS > VIEW_PACE_RELAPSE_WINDOWS
        && VIEW_PACE_STEP_BACK_APART.as_nanos()
            >= TICK.as_nanos() * (VIEW_PACE_WINDOW_TICKS * VIEW_PACE_CALM_WINDOWS) as u128,
    "the pace steps up on a clear wait, back on a clearly smaller one, never swings faster than \
     its windows, and a node's zones step back no faster than one zone would"
);
const _: () = assert!(
    VIEW_PACE_LAG_CALM.as_nanos() < VIEW_PACE_LAG_BUSY.as_nanos()
        && VIEW_PACE_LAG_BUSY.as_nanos() < VIEW_PACE_LAG_WORST_CALM.as_nanos()
        && VIEW_PACE_LAG_WORST_CALM.as_nanos() < RUNTIME_LAG_WINDOW.as_nanos() / 10
        && RUNTIME_LAG_PROBES_IN_FLIGHT_MAX >= 1
        && RUNTIME_LAG_PROBE_EVERY.as_nanos() * 10 <= RUNTIME_LAG_WINDOW.as_nanos()
        && RUNTIME_LAG_WINDOW.as_nanos() <= TICK.as_nanos() * VIEW_PACE_WINDOW_TICKS as u128,
    "the lag is judged like the wait: calm clearly under busy, from ten probes or more, and \
     published at least once per pace window"
);

/// Between two ticks the tick thread looks this often for commands and store answers, and
/// applies them at once (`Zone::react`): a command's answer need not wait up to a whole tick.
pub const REACT_EVERY: Duration = Duration::from_millis(4);
/// No reaction starts this close to the next tick's deadline: the tick picks those inputs up.
pub const REACT_MARGIN: Duration = Duration::from_millis(3);

/// Host → tick thread, control lane: spawns, leaves, store results, claim losses, shutdown. Store
/// results must never be lost, so this lane is separate from player commands and senders wait for
/// room (they are async tasks, never the tick thread).
pub const CONTROL_QUEUE_MAX: usize = 16_384;
/// Host → tick thread, command lane: player commands. Full means "busy, try again".
pub const COMMAND_QUEUE_MAX: usize = 12_288;
/// Control inputs and commands moved into the zone in one tick (or one reaction between ticks);
/// the rest wait for the next pass.
pub const CONTROL_INPUTS_PER_TICK_MAX: usize = 8_192;
pub const COMMANDS_PER_TICK_MAX: usize = 8_192;
/// Control inputs the zone refused (its own queue full) and the tick thread holds for the next
/// tick. Store results are bounded by the zone's `PENDING_REQUESTS_MAX` anyway.
pub const HELD_INPUTS_MAX: usize = 65_536;

/// Reads of a zone's views (`ZoneHost::inspect`) queued, and run after one tick.
pub const QUERY_QUEUE_MAX: usize = 256;
pub const QUERIES_PER_TICK_MAX: usize = 64;

/// Tick thread → store worker. A full queue moves requests into the tick thread's backlog.
pub const STORE_QUEUE_MAX: usize = 4_096;
/// Requests held on the tick thread while the store queue is full. Non-critical requests beyond
/// it, and critical requests as soon as the queue is full, are answered `Unavailable` at once.
pub const STORE_BACKLOG_MAX: usize = 8_192;
/// Critical actions (pickups, gold, quests, trades) executed at the same time by one zone's
/// store worker; saves run one at a time, in order, on their own lane.
pub const CRITICAL_CONCURRENCY_MAX: usize = 8;
/// Joins of one zone claiming and loading at the same time; the others wait their turn. Each holds
/// a database connection while it loads.
pub const JOIN_CONCURRENCY_MAX: usize = 4;
/// Database connections one zone can hold at one moment: its save lane, its action lanes, its
/// claim renewer, its log worker, its joins, and its events task (the release of a character whose
/// spawn was refused).
pub const ZONE_CONNECTIONS_MAX: usize =
    1 + CRITICAL_CONCURRENCY_MAX + 1 + 1 + JOIN_CONCURRENCY_MAX + 1;
/// Database connections a node holds besides its zones': the job scheduler, the health probe, the
/// status ping, and the cache's leaderboard rebuild source. (The node lock's connection is outside
/// the pool, see `Cluster::start`.)
pub const NODE_CONNECTIONS_MAX: usize = 4;
/// The connection pool a node with `zones` zones needs so that every lane can hold a connection
/// at once: a pool timeout then means a lane waited on another's long transaction or PostgreSQL
/// is away, never that the node starved itself. `Cluster::connect` sizes its pool to at least
/// this; `Cluster::start` warns when the store it is given is smaller.
pub const fn pool_connections_for(zones: usize) -> u32 {
    (zones * ZONE_CONNECTIONS_MAX + NODE_CONNECTIONS_MAX) as u32
}
const _: () = assert!(ZONE_CONNECTIONS_MAX > CRITICAL_CONCURRENCY_MAX + JOIN_CONCURRENCY_MAX);
// PostgreSQL's default `max_connections` is 100: a node of up to five zones fits in it.
const _: () = assert!(pool_connections_for(5) <= 100);
/// Requests waiting for a lane inside the store worker (they already left the tick thread).
pub const LANE_QUEUE_MAX: usize = 4_096;

/// Tick thread → cache worker. Cache updates are best effort: beyond the backlog the oldest is
/// dropped and counted.
pub const CACHE_QUEUE_MAX: usize = 8_192;
/// How often a node's matchmaker pops each queue it serves (a group waits at most this long
/// once full).
pub const MATCHMAKE_INTERVAL: Duration = Duration::from_millis(500);
/// Groups one queue gives up per round at most (the rest at the next round).
pub const GROUPS_PER_ROUND_MAX: usize = 16;
/// How often a node reads the guild wars in force (a war ending by its TTL is learnt within
/// this); declarations and ends are learnt at once through `server_events`.
pub const WARS_REFRESH_INTERVAL: Duration = Duration::from_secs(5);
pub const CACHE_BACKLOG_MAX: usize = 8_192;

/// Tick thread → log worker, in batches of at most `realmkeep_zone::limits::LOG_BATCH_EVENTS_MAX`.
pub const LOG_QUEUE_MAX: usize = 256;
/// Log batches held (on the tick thread, and in the log worker while PostgreSQL is down) before
/// the oldest batch is dropped with a warning and a counted metric. Economy actions are logged
/// by the store in their own transactions, so only non-critical events can be lost this way.
pub const LOG_BACKLOG_BATCHES_MAX: usize = 512;

/// Tick thread → host events task: `Left`, `SpawnRefused`, `ShutdownComplete`. One per player at
/// most per leave, so the backlog is sized to hold one for every player a zone may have.
pub const EVENT_QUEUE_MAX: usize = 4_096;
pub const EVENT_BACKLOG_MAX: usize = 2 * realmkeep_zone::limits::PLAYERS_MAX;

/// Notices queued for one player; when full the newest is dropped and counted.
pub const PLAYER_NOTICE_QUEUE_MAX: usize = 256;

/// Transfers waiting for their destination zone's join.
pub const TRANSFER_QUEUE_MAX: usize = 1_024;

/// Retries of a save (batch, level-up, release) inside the store worker, with exponential
/// backoff, before it is answered `Unavailable` (the zone keeps the state dirty and sends it
/// again; a release is sent again by the zone until it succeeds or the claim is lost).
pub const SAVE_RETRIES_MAX: u32 = 6;
pub const RETRY_DELAY_MIN: Duration = Duration::from_millis(100);
pub const RETRY_DELAY_MAX: Duration = Duration::from_secs(2);
/// Tries of a log append that failed for a reason other than an unreachable database, before the
/// batch is dropped (a batch the database refuses must not block the ones behind it).
pub const LOG_APPEND_TRIES_MAX: u32 = 3;
/// How often the store health probe pings PostgreSQL while it is believed down.
pub const STORE_PROBE_INTERVAL: Duration = Duration::from_millis(250);
/// Store calls under way and no answer from PostgreSQL for this long: it is believed unreachable
/// (`StoreHealth`), though nothing failed. A lost network loses packets instead of refusing them,
/// and a call on a connection it cut waits until the network returns (or the kernel gives the
/// connection up, about 15 minutes on Linux): meanwhile critical actions and joins are answered
/// "try again" at once rather than queued behind it. A reachable PostgreSQL answers some call of a
/// busy node every few milliseconds; a stall starts the probe, whose ping ends it as soon as
/// PostgreSQL answers at all (calls that all wait on locks do not keep a node stalled).
pub const STORE_STALL_AFTER: Duration = Duration::from_secs(6);

/// The node's periodic jobs (`jobs`). Each runs once at start, then every interval; several
/// nodes run them at once (the store's jobs skip rows another node holds, `SKIP LOCKED`, and
/// partition creators take turns under an advisory lock), so the intervals need no coordination.
///
/// Market listings last hours: a minute's delay before an expired one goes back is not seen.
pub const MARKET_EXPIRY_INTERVAL: Duration = Duration::from_secs(60);
/// Listings sent back in one run, in store transactions of `MARKET_EXPIRE_BATCH_ROWS_MAX`: a
/// backlog drains over several runs rather than in one long burst of locks.
pub const MARKET_EXPIRY_ROWS_PER_RUN_MAX: i64 = 2_000;
/// Mail lasts days: the same pace as the market.
pub const MAIL_EXPIRY_INTERVAL: Duration = Duration::from_secs(60);
pub const MAIL_EXPIRY_ROWS_PER_RUN_MAX: i64 = 2_000;
/// Month partitions of `game_logs` are created months ahead, so hourly is plenty; it is also how
/// soon rows that landed in the DEFAULT partition are noticed (alert) and moved.
pub const LOG_PARTITION_UPKEEP_INTERVAL: Duration = Duration::from_secs(3_600);
/// Months of `game_logs` partitions kept ahead of now: a node that stays up for a quarter without
/// its upkeep still never writes into DEFAULT.
pub const LOG_PARTITION_MONTHS_AHEAD: i32 = 3;
/// Idempotency keys past their retention are pruned this often, at most this many per run (more
/// than a busy node writes between two runs: ~3,000 keyed actions/s for 5 min is 900,000; the rest
/// is left to the next run).
pub const KEY_PRUNING_INTERVAL: Duration = Duration::from_secs(300);
pub const KEY_PRUNE_ROWS_PER_RUN_MAX: i64 = 1_000_000;
/// Last month is kept created: a late batch may still belong to it (the archive never takes it).
pub const LOG_PARTITION_MONTHS_BACK: i32 = 1;
/// A job run that has not finished after this long is abandoned and counted as failed (its
/// store transactions roll back), so one stuck statement never stops the other jobs.
pub const JOB_RUN_WAIT: Duration = Duration::from_secs(120);

/// Join latency histogram range (microseconds).
pub const JOIN_LATENCY_MAX_US: u64 = 60_000_000;

/// How long `shutdown` waits for a zone's final saves before it gives up (the claims then expire
/// with their lease and nothing acknowledged is lost).
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(30);
/// How long the log worker keeps trying to write what it holds after the zone stopped.
pub const LOG_FLUSH_WAIT: Duration = Duration::from_secs(5);

// How the host's queues relate to the zone's limits, checked when the crate compiles.
const _: () = assert!(
    COMMAND_QUEUE_MAX <= realmkeep_zone::limits::INPUT_COMMANDS_MAX,
    "the host never queues more commands than the zone accepts"
);
const _: () = assert!(CONTROL_QUEUE_MAX <= realmkeep_zone::limits::INPUT_QUEUE_MAX);
const _: () = assert!(COMMANDS_PER_TICK_MAX <= COMMAND_QUEUE_MAX);
const _: () = assert!(
    REACT_EVERY.as_millis() >= 1
        && REACT_EVERY.as_millis() + REACT_MARGIN.as_millis() < TICK.as_millis()
);
const _: () = assert!(QUERIES_PER_TICK_MAX <= QUERY_QUEUE_MAX);
const _: () = assert!(STORE_QUEUE_MAX <= STORE_BACKLOG_MAX && CACHE_QUEUE_MAX <= CACHE_BACKLOG_MAX);
const _: () = assert!(RETRY_DELAY_MIN.as_millis() <= RETRY_DELAY_MAX.as_millis());
const _: () = assert!(
    LOG_PARTITION_MONTHS_AHEAD >= 3,
    "issue 7: three months ahead"
);
const _: () = assert!(STORE_PROBE_INTERVAL.as_millis() < STORE_STALL_AFTER.as_millis());
const _: () = assert!(
    STORE_PROBE_INTERVAL.as_millis() < MARKET_EXPIRY_INTERVAL.as_millis()
        && MARKET_EXPIRY_INTERVAL.as_secs() < LOG_PARTITION_UPKEEP_INTERVAL.as_secs()
);
const _: () = assert!(
    realmkeep_cache::GUILD_WARS_READ_MAX <= realmkeep_zone::limits::GUILD_WARS_MAX,
    "a zone takes every war the node reads"
);
