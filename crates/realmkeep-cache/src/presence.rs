//! Presence (`player:{id}:online`), zone membership (`zone:{id}:players`) and entity counts
//! (`zone:{id}:entity_count`), with per-node leases so a dead node leaves no ghosts.
//!
//! Every change is made in the node's local registry and in Redis under one lock. While Redis
//! is down only the registry changes; when Redis returns (or lost the node's lease), the whole
//! registry is written again. A node whose lease expired is swept by a surviving node: its
//! players leave their zone sets (unless another node placed them there since), its presence
//! keys go, and its share of each zone's entity count is taken off.

use crate::core::{bump, Cache, Core};
use crate::keys;
use crate::local::{Registry, NODE_PLAYERS_MAX, NODE_ZONES_MAX};
use crate::options::NodeId;
use crate::scripts;
use crate::{CacheError, Lookup, Served};
use realmkeep_domain::{CharacterId, ZoneId};
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};

/// Players read from one zone set at most (a zone holds far fewer).
pub const ZONE_PLAYERS_READ_MAX: usize = 5_000;
/// Members of a dead node handled per batch, and batches per sweep.
pub const SWEEP_BATCH: usize = 200;
pub const SWEEP_BATCHES_MAX: usize = 50;
/// Dead nodes handled per sweep.
pub const SWEEP_NODES_MAX: usize = 16;
/// Commands per pipeline when the node writes all its players again.
pub const REREGISTER_PIPELINE_MAX: usize = 512;

/// What `player:{id}:online` holds: where the player is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceInfo {
    pub zone: ZoneId,
    pub node: NodeId,
}

impl PresenceInfo {
    fn json(&self) -> String {
        serde_json::to_string(self).expect("presence serializes")
    }
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub nodes_forgotten: usize,
    pub ghosts_removed: usize,
}

/// Presence and zone membership. Get it from [`Cache::presence`].
#[derive(Debug, Clone, Copy)]
pub struct Presence<'a> {
    cache: &'a Cache,
}

impl Cache {
    pub fn presence(&self) -> Presence<'_> {
        Presence { cache: self }
    }
}

fn ms(d: std::time::Duration) -> u64 {
    d.as_millis() as u64
}

async fn enter_redis(
    core: &Core,
    reg: &Registry,
    player: CharacterId,
    zone: ZoneId,
) -> Result<(), CacheError> {
    let node = &core.opts.node;
    let info = PresenceInfo {
        zone,
        node: node.clone(),
    };
    let mut inv = scripts::ENTER_ZONE.prepare_invoke();
    inv.key(keys::presence(player))
        .key(keys::zone_players(zone))
        .key(keys::node_members(node))
        .key(keys::zone_entity_count_by_node(zone))
        .key(keys::zone_entity_count(zone))
        .key(keys::node_zones(node))
        .arg(player.0)
        .arg(info.json())
        .arg(ms(keys::PRESENCE_TTL))
        .arg(keys::node_member(zone, player))
        .arg(node.as_str())
        .arg(reg.contribution(zone))
        .arg(zone.0);
    core.eval::<i64>(&inv).await.map(|_| ())
}

async fn leave_redis(
    core: &Core,
    reg: &Registry,
    player: CharacterId,
    zone: ZoneId,
) -> Result<(), CacheError> {
    let node = &core.opts.node;
    let info = PresenceInfo {
        zone,
        node: node.clone(),
    };
    let mut inv = scripts::LEAVE_ZONE.prepare_invoke();
    inv.key(keys::presence(player))
        .key(keys::zone_players(zone))
        .key(keys::node_members(node))
        .key(keys::zone_entity_count_by_node(zone))
        .key(keys::zone_entity_count(zone))
        .arg(player.0)
        .arg(info.json())
        .arg(keys::node_member(zone, player))
        .arg(node.as_str())
        .arg(reg.contribution(zone))
        .arg(zone.0);
    core.eval::<i64>(&inv).await.map(|_| ())
}

fn served(core: &Core, what: &'static str, r: Result<(), CacheError>) -> Served {
    match r {
        Ok(()) => Served::Redis,
        Err(e) => {
            core.degraded(what, &e);
            Served::Local
        }
    }
}

impl Presence<'_> {
    fn core(&self) -> &Core {
        &self.cache.core
    }

    /// The player is now in `zone` on this node (leaving the zone they were in here, if any).
    /// Fails only when the node is over [`NODE_PLAYERS_MAX`] or [`NODE_ZONES_MAX`].
    pub async fn enter_zone(
        &self,
        player: CharacterId,
        zone: ZoneId,
    ) -> Result<Served, CacheError> {
        let core = self.core();
        let mut reg = core.registry.lock().await;
        if !reg.players.contains_key(&player) && reg.players.len() >= NODE_PLAYERS_MAX {
            return Err(CacheError::Limit {
                what: "players on this node",
                max: NODE_PLAYERS_MAX,
            });
        }
        if !reg.zones().contains(&zone) && reg.zones().len() >= NODE_ZONES_MAX {
            return Err(CacheError::Limit {
                what: "zones on this node",
                max: NODE_ZONES_MAX,
            });
        }
        let mut result = Ok(());
        if let Some(old) = reg.players.remove(&player) {
            if old != zone && core.is_up() {
                result = leave_redis(core, &reg, player, old).await;
            }
        }
        reg.players.insert(player, zone);
        if core.is_up() && result.is_ok() {
            result = enter_redis(core, &reg, player, zone).await;
        } else if result.is_ok() {
            result = Err(CacheError::Unavailable);
        }
        Ok(served(core, "enter zone", result))
    }

    /// The player left this node (logout, or a transfer to another zone or node).
    pub async fn leave_zone(&self, player: CharacterId) -> Served {
        let core = self.core();
        let mut reg = core.registry.lock().await;
        let Some(zone) = reg.players.remove(&player) else {
            return Served::Redis;
        };
        let result = if core.is_up() {
            leave_redis(core, &reg, player, zone).await
        } else {
            Err(CacheError::Unavailable)
        };
        served(core, "leave zone", result)
    }

    /// Refreshes the player's presence TTL. The node also refreshes all its players every
    /// [`crate::options::PRESENCE_REFRESH_INTERVAL`], so this is for activity between those.
    pub async fn heartbeat(&self, player: CharacterId) -> Served {
        let core = self.core();
        let Some(zone) = core.registry.lock().await.players.get(&player).copied() else {
            return Served::Local;
        };
        let info = PresenceInfo {
            zone,
            node: core.opts.node.clone(),
        };
        let cmd = redis::cmd("SET")
            .arg(keys::presence(player))
            .arg(info.json())
            .arg("PX")
            .arg(ms(keys::PRESENCE_TTL))
            .to_owned();
        served(core, "heartbeat", core.query::<()>(&cmd).await)
    }

    /// Where the player is, cluster-wide; degraded: only players on this node are known.
    pub async fn lookup(&self, player: CharacterId) -> Lookup<Option<PresenceInfo>> {
        let core = self.core();
        let key = keys::presence(player);
        match core
            .query::<Option<String>>(&redis::cmd("GET").arg(&key).to_owned())
            .await
        {
            Ok(v) => Lookup::fresh(v.and_then(|s| serde_json::from_str(&s).ok())),
            Err(e) => {
                core.degraded("presence lookup", &e);
                let zone = core.registry.lock().await.players.get(&player).copied();
                Lookup::degraded(zone.map(|zone| PresenceInfo {
                    zone,
                    node: core.opts.node.clone(),
                }))
            }
        }
    }

    /// The players in a zone, cluster-wide (at most [`ZONE_PLAYERS_READ_MAX`]); degraded: this
    /// node's players in it.
    pub async fn zone_players(&self, zone: ZoneId) -> Lookup<Vec<CharacterId>> {
        let core = self.core();
        let cmd = redis::cmd("SRANDMEMBER")
            .arg(keys::zone_players(zone))
            .arg(ZONE_PLAYERS_READ_MAX)
            .to_owned();
        match core.query::<Vec<i64>>(&cmd).await {
            Ok(mut v) => {
                v.sort_unstable();
                Lookup::fresh(v.into_iter().map(CharacterId).collect())
            }
            Err(e) => {
                core.degraded("zone players", &e);
                let reg = core.registry.lock().await;
                let mut v: Vec<_> = reg
                    .players
                    .iter()
                    .filter(|(_, z)| **z == zone)
                    .map(|(p, _)| *p)
                    .collect();
                v.sort_unstable();
                Lookup::degraded(v)
            }
        }
    }

    /// `zone:{id}:entity_count`; degraded: this node's share.
    pub async fn entity_count(&self, zone: ZoneId) -> Lookup<u64> {
        let core = self.core();
        let cmd = redis::cmd("GET")
            .arg(keys::zone_entity_count(zone))
            .to_owned();
        match core.query::<Option<u64>>(&cmd).await {
            Ok(v) => Lookup::fresh(v.unwrap_or(0)),
            Err(e) => {
                core.degraded("entity count", &e);
                Lookup::degraded(core.registry.lock().await.contribution(zone))
            }
        }
    }

    /// The zone server reports how many entities (players, monsters, NPCs) it runs in `zone`
    /// on this node. Joins and leaves move the count by one in between reports.
    pub async fn set_entity_count(
        &self,
        zone: ZoneId,
        entities: u32,
    ) -> Result<Served, CacheError> {
        let core = self.core();
        let mut reg = core.registry.lock().await;
        if !reg.zones().contains(&zone) && reg.zones().len() >= NODE_ZONES_MAX {
            return Err(CacheError::Limit {
                what: "zones on this node",
                max: NODE_ZONES_MAX,
            });
        }
        let players = reg.players.values().filter(|z| **z == zone).count() as u32;
        let others = entities.saturating_sub(players);
        if others == 0 {
            reg.others.remove(&zone);
        } else {
            reg.others.insert(zone, others);
        }
        let r = set_contribution(core, None, zone, reg.contribution(zone)).await;
        Ok(served(core, "entity count", r))
    }

    /// Looks for nodes whose lease expired and removes what they left. The node does this by
    /// itself every [`crate::options::NODE_SWEEP_INTERVAL`].
    pub async fn sweep_dead_nodes(&self) -> Result<SweepReport, CacheError> {
        sweep_dead_nodes(self.core()).await
    }
}

/// A clean stop: every player of this node leaves, and the lease goes.
pub(crate) async fn close_node(core: &Core) -> Served {
    let mut reg = core.registry.lock().await;
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

async fn set_contribution(
    core: &Core,
    conn: Option<&mut MultiplexedConnection>,
    zone: ZoneId,
    contribution: u64,
) -> Result<(), CacheError> {
    let node = &core.opts.node;
    let mut inv = scripts::SET_CONTRIBUTION.prepare_invoke();
    inv.key(keys::zone_entity_count_by_node(zone))
        .key(keys::zone_entity_count(zone))
        .key(keys::node_zones(node))
        .arg(node.as_str())
        .arg(contribution)
        .arg(zone.0);
    match conn {
        Some(c) => core.eval_on::<i64>(c, &inv).await.map(|_| ()),
        None => core.eval::<i64>(&inv).await.map(|_| ()),
    }
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
    core.query::<Option<String>>(&lease_cmd(core))
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
pub(crate) async fn refresh_all(core: &Core) -> Result<(), CacheError> {
    let players: Vec<_> = core
        .registry
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
