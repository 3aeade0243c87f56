//! The health watcher: one task per [`crate::Cache`] that checks Redis, reconnects with backoff,
//! and when Redis is back (or lost this node's data) registers the node's state again.
//!
//! While up, the check is the node-lease refresh (`SET node:{node}:lease 1 PX ttl GET`): one
//! command that proves Redis answers and tells whether Redis still had the lease. A lease found
//! missing means Redis lost data (a restart from an old snapshot, or none) or a surviving node
//! swept us as dead: either way the node registers everything again.

use crate::core::bump;
use crate::error::CacheError;
use crate::options::{RECONNECT_DELAY_MAX, RECONNECT_DELAY_MIN};
use crate::shared::Shared;
use crate::{leaderboard, nodes, sessions};
use redis::aio::MultiplexedConnection;
use std::sync::Weak;
use std::time::Instant;

/// Consecutive timed-out checks before Redis is declared down (a dropped connection counts at
/// once); one slow answer on a loaded machine is not an outage.
pub const HEALTH_TIMEOUTS_MAX: u32 = 2;

/// Why the node registers: at start, or after Redis was seen down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recovery {
    Start,
    Reconnect,
}

/// Registers the node's state on `conn` (presence, then sessions), then installs it and
/// declares Redis up. Holding the registry lock throughout means a join or leave happens wholly
/// before (and is in what is registered) or wholly after (and goes to Redis itself).
///
/// After a reconnect the leaderboards are rebuilt (updates made meanwhile were dropped); at
/// start only the boards Redis lost are.
pub(crate) async fn recover(
    node: &Shared,
    mut conn: MultiplexedConnection,
    why: Recovery,
) -> Result<(), CacheError> {
    let core = &node.core;
    let reconnect = why == Recovery::Reconnect;
    let registry = node.registry.lock().await;
    nodes::reregister(core, &mut conn, &registry).await?;
    sessions::reregister(core, &node.sessions, &mut conn).await?;
    bump(&core.metrics.reregistrations);
    if reconnect {
        bump(&core.metrics.reconnects);
    }
    core.mark_up(conn);
    drop(registry);
    let mode = if reconnect {
        leaderboard::Rebuild::Always
    } else {
        leaderboard::Rebuild::IfLost
    };
    leaderboard::spawn_rebuild(core.clone(), &node.leaderboards, mode);
    Ok(())
}

/// The watcher's loop; it ends when the last [`crate::Cache`] handle is dropped.
pub(crate) async fn watch(weak: Weak<Shared>) {
    let mut delay = RECONNECT_DELAY_MIN;
    let mut timeouts = 0u32;
    let mut last_sweep = Instant::now();
    let mut last_presence = Instant::now();
    let mut last_board_check = Instant::now();
    loop {
        let Some(node) = weak.upgrade() else {
            return;
        };
        let core = &node.core;
        if !core.is_up() {
            tokio::time::sleep(delay).await;
            match core.open_connection().await {
                Ok(conn) => match recover(&node, conn, Recovery::Reconnect).await {
                    Ok(()) => {
                        delay = RECONNECT_DELAY_MIN;
                        timeouts = 0;
                        tracing::info!(node = %core.opts.node, "Redis is back: node registered again");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "Redis answered but registering again failed");
                        delay = (delay * 2).min(RECONNECT_DELAY_MAX);
                    }
                },
                Err(_) => delay = (delay * 2).min(RECONNECT_DELAY_MAX),
            }
            continue;
        }

        tokio::select! {
            _ = tokio::time::sleep(core.opts.health_check_interval) => {}
            _ = core.suspect.notified() => {}
        }
        match nodes::refresh_lease(core).await {
            Ok(true) => timeouts = 0,
            Ok(false) => {
                timeouts = 0;
                tracing::warn!(node = %core.opts.node, "the node lease was gone: registering again");
                reregister_in_place(&node).await;
            }
            Err(CacheError::Timeout(_)) if timeouts + 1 < HEALTH_TIMEOUTS_MAX => timeouts += 1,
            Err(e) if e.is_unavailable() => {
                core.mark_down();
                delay = RECONNECT_DELAY_MIN;
                continue;
            }
            Err(e) => tracing::warn!(error = %e, "refreshing the node lease failed"),
        }
        if last_sweep.elapsed() >= core.opts.node_sweep_interval {
            last_sweep = Instant::now();
            if let Err(e) = nodes::sweep_dead_nodes(core).await {
                tracing::debug!(error = %e, "dead-node sweep failed");
            }
        }
        if last_presence.elapsed() >= core.opts.presence_refresh_interval {
            last_presence = Instant::now();
            if let Err(e) = nodes::refresh_all(core, &node.registry).await {
                tracing::debug!(error = %e, "presence refresh failed");
            }
        }
        if last_board_check.elapsed() >= core.opts.leaderboard_check_interval {
            last_board_check = Instant::now();
            leaderboard::spawn_rebuild(
                core.clone(),
                &node.leaderboards,
                leaderboard::Rebuild::IfLost,
            );
        }
    }
}

async fn reregister_in_place(node: &Shared) {
    let core = &node.core;
    let Ok(mut conn) = core.connection() else {
        return;
    };
    let registry = node.registry.lock().await;
    let r = nodes::reregister(core, &mut conn, &registry).await;
    drop(registry);
    match r.and(sessions::reregister(core, &node.sessions, &mut conn).await) {
        Ok(()) => bump(&core.metrics.reregistrations),
        Err(e) => tracing::warn!(error = %e, "registering the node again failed"),
    }
    leaderboard::spawn_rebuild(
        core.clone(),
        &node.leaderboards,
        leaderboard::Rebuild::IfLost,
    );
}
