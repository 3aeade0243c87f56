//! Node leases and what hangs on them: a node registers itself (`node:{node}:lease`, refreshed
//! by the health watcher), registers its whole presence registry again when Redis lost it, and
//! sweeps the nodes whose lease expired so they leave no ghosts in zone sets, presence or entity
//! counts ([`Presence::sweep_dead_nodes`], written here beside the leases it reads). Built on
//! `presence`, whose registry and Redis writes it uses.

use crate::core::{bump, Core};
use crate::error::CacheError;
use crate::presence::{
    leave_redis, ms, served, set_contribution, NodeRegistry, Presence, PresenceInfo, Registry,
    NODE_ZONES_MAX,
};
use crate::vocab::{NodeId, Served};
use crate::{keys, scripts};
use realmkeep_domain::ZoneId;
use redis::aio::MultiplexedConnection;

/// Members of a dead node handled per batch, and batches per sweep.
pub const SWEEP_BATCH: usize = 200;
pub const SWEEP_BATCHES_MAX: usize = 50;
/// Dead nodes handled per sweep.
pub const SWEEP_NODES_MAX: usize = 16;
/// Commands per pipeline when the node writes all its players again.
pub const REREGISTER_PIPELINE_MAX: usize = 512;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub nodes_forgotten: usize,
    pub ghosts_removed: usize,
}

impl Presence<'_> {
    /// Looks for nodes whose lease expired and removes what they left. The node does this by
    /// itself every [`crate::options::NODE_SWEEP_INTERVAL`].
    pub async fn sweep_dead_nodes(&self) -> Result<SweepReport, CacheError> {
        sweep_dead_nodes(self.core).await
    }
}

/// A clean stop: every player of this node leaves, and the lease goes.
pub(crate) async fn close_node(core: &Core, registry: &NodeRegistry) -> Served {
    let mut reg = registry.lock().await;
    let players: Vec<_> = reg.players.drain().collect();
    let other_zones: Vec<_> = reg.others.drain().map(|(z, _)| z).collect();
    let mut r = Ok(());
    for (player, zone) in players {
        if r.is_ok() {
            r = leave_redis(core, &reg, player, zone).await;
        }
    }
    for zone in other_zones {
        if r.is_ok() {
            r = set_contribution(core, None, zone, 0).await;
        }
    }
    if r.is_ok() {
        let node = &core.opts.node;
        let pipe = redis::pipe()
            .cmd("DEL")
            .arg(keys::node_lease(node))
            .arg(keys::node_members(node))
            .arg(keys::node_zones(node))
            .ignore()
            .cmd("SREM")
            .arg(keys::NODES_KNOWN)
            .arg(node.as_str())
            .ignore()
            .to_owned();
        r = core.query_pipe::<()>(&pipe).await;
    }
    served(core, "close", r)
}

fn lease_cmd(core: &Core) -> redis::Cmd {
    redis::cmd("SET")
        .arg(keys::node_lease(&core.opts.node))
        .arg(1)
        .arg("PX")
        .arg(ms(core.opts.node_lease_ttl))
        .arg("GET")
        .to_owned()
}

/// Refreshes the lease; `Ok(false)` if it was gone (Redis lost it, or we were swept).
pub(crate) async fn refresh_lease(core: &Core) -> Result<bool, CacheError> {
    core.query_within::<Option<String>>(&lease_cmd(core), crate::options::HEALTH_CHECK_TIMEOUT)
        .await
        .map(|old| old.is_some())
}

/// Writes the whole registry (and the lease first, so a concurrent sweep stops) on `conn`.
pub(crate) async fn reregister(
    core: &Core,
    conn: &mut MultiplexedConnection,
    reg: &Registry,
) -> Result<(), CacheError> {
    let node = &core.opts.node;
    let head = redis::pipe()
        .add_command(lease_cmd(core))
        .ignore()
        .cmd("SADD")
        .arg(keys::NODES_KNOWN)
        .arg(node.as_str())
        .ignore()
        .to_owned();
    core.query_pipe_on::<()>(conn, &head).await?;
    let players: Vec<_> = reg.players.iter().map(|(p, z)| (*p, *z)).collect();
    for chunk in players.chunks(REREGISTER_PIPELINE_MAX / 3) {
        let mut pipe = redis::pipe();
        for (player, zone) in chunk {
            let info = PresenceInfo {
                zone: *zone,
                node: node.clone(),
            };
            pipe.cmd("SET")
                .arg(keys::presence(*player))
                .arg(info.json())
                .arg("PX")
                .arg(ms(keys::PRESENCE_TTL))
                .ignore()
                .cmd("SADD")
                .arg(keys::zone_players(*zone))
                .arg(player.0)
                .ignore()
                .cmd("SADD")
                .arg(keys::node_members(node))
                .arg(keys::node_member(*zone, *player))
                .ignore();
        }
        core.query_pipe_on::<()>(conn, &pipe).await?;
    }
    for zone in reg.zones() {
        set_contribution(core, Some(conn), zone, reg.contribution(zone)).await?;
    }
    Ok(())
}

/// Refreshes the presence of every player the node holds.
pub(crate) async fn refresh_all(core: &Core, registry: &NodeRegistry) -> Result<(), CacheError> {
    let players: Vec<_> = registry
        .lock()
        .await
        .players
        .iter()
        .map(|(p, z)| (*p, *z))
        .collect();
    for chunk in players.chunks(REREGISTER_PIPELINE_MAX) {
        let mut pipe = redis::pipe();
        for (player, zone) in chunk {
            let info = PresenceInfo {
                zone: *zone,
                node: core.opts.node.clone(),
            };
            pipe.cmd("SET")
                .arg(keys::presence(*player))
                .arg(info.json())
                .arg("PX")
                .arg(ms(keys::PRESENCE_TTL))
                .ignore();
        }
        core.query_pipe::<()>(&pipe).await?;
    }
    Ok(())
}

pub(crate) async fn sweep_dead_nodes(core: &Core) -> Result<SweepReport, CacheError> {
    let mut report = SweepReport::default();
    let known: Vec<String> = core
        .query(&redis::cmd("SMEMBERS").arg(keys::NODES_KNOWN).to_owned())
        .await?;
    let mut handled = 0;
    for raw in known {
        let Ok(node) = NodeId::parse(&raw) else {
            continue;
        };
        if node == core.opts.node || handled >= SWEEP_NODES_MAX {
            continue;
        }
        let alive: bool = core
            .query(&redis::cmd("EXISTS").arg(keys::node_lease(&node)).to_owned())
            .await?;
        if alive {
            continue;
        }
        handled += 1;
        let (ghosts, forgotten) = sweep_node(core, &node).await?;
        report.ghosts_removed += ghosts;
        report.nodes_forgotten += usize::from(forgotten);
    }
    if report.ghosts_removed > 0 || report.nodes_forgotten > 0 {
        tracing::info!(?report, "removed what dead nodes left in Redis");
    }
    Ok(report)
}

/// Cleans one dead node; returns (ghosts removed, node forgotten).
async fn sweep_node(core: &Core, node: &NodeId) -> Result<(usize, bool), CacheError> {
    let lease = keys::node_lease(node);
    let members_key = keys::node_members(node);
    let zones_key = keys::node_zones(node);
    let mut ghosts = 0;
    for _ in 0..SWEEP_BATCHES_MAX {
        let members: Vec<String> = core
            .query(
                &redis::cmd("SRANDMEMBER")
                    .arg(&members_key)
                    .arg(SWEEP_BATCH)
                    .to_owned(),
            )
            .await?;
        if members.is_empty() {
            break;
        }
        for m in members {
            let Some((zone, player)) = keys::parse_node_member(&m) else {
                core.query::<()>(&redis::cmd("SREM").arg(&members_key).arg(&m).to_owned())
                    .await?;
                continue;
            };
            let mut inv = scripts::REMOVE_GHOST.prepare_invoke();
            inv.key(&lease)
                .key(keys::presence(player))
                .key(keys::zone_players(zone))
                .key(&members_key)
                .arg(player.0)
                .arg(node.as_str())
                .arg(zone.0)
                .arg(&m);
            match core.eval::<i64>(&inv).await? {
                -1 => return Ok((ghosts, false)),
                n => {
                    ghosts += n as usize;
                    if n > 0 {
                        bump(&core.metrics.ghosts_removed);
                    }
                }
            }
        }
    }
    let zones: Vec<i32> = core
        .query(&redis::cmd("SMEMBERS").arg(&zones_key).to_owned())
        .await?;
    for zone in zones.into_iter().take(NODE_ZONES_MAX) {
        let zone = ZoneId(zone);
        let mut inv = scripts::REMOVE_DEAD_CONTRIBUTION.prepare_invoke();
        inv.key(&lease)
            .key(keys::zone_entity_count_by_node(zone))
            .key(keys::zone_entity_count(zone))
            .key(&zones_key)
            .arg(node.as_str())
            .arg(zone.0);
        if core.eval::<i64>(&inv).await? == -1 {
            return Ok((ghosts, false));
        }
    }
    let mut inv = scripts::FORGET_NODE.prepare_invoke();
    inv.key(&lease)
        .key(&members_key)
        .key(&zones_key)
        .key(keys::NODES_KNOWN)
        .arg(node.as_str());
    let forgotten = core.eval::<i64>(&inv).await? == 1;
    Ok((ghosts, forgotten))
}
