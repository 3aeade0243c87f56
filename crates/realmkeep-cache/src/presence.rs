//! Presence (`player:{id}:online`), zone membership (`zone:{id}:players`) and entity counts
//! (`zone:{id}:entity_count`), with per-node leases so a dead node leaves no ghosts.
//!
//! Every change is made in the node's local registry and in Redis under one lock. While Redis
//! is down only the registry changes; when Redis returns (or lost the node's lease), the whole
//! registry is written again. A node whose lease expired is swept by a surviving node: its
//! players leave their zone sets (unless another node placed them there since), its presence
//! keys go, and its share of each zone's entity count is taken off.

use crate::core::Core;
use crate::error::CacheError;
use crate::vocab::{Lookup, NodeId, Served};
use crate::{keys, scripts};
use realmkeep_domain::{CharacterId, ZoneId};
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// Players read from one zone set at most (a zone holds far fewer).
pub const ZONE_PLAYERS_READ_MAX: usize = 5_000;
/// Players one node may hold (the zone servers of a node together).
pub const NODE_PLAYERS_MAX: usize = 20_000;
/// Zones one node may host.
pub const NODE_ZONES_MAX: usize = 1_024;

/// The players this node hosts, and its other entities (monsters, NPCs) per zone: what degraded
/// mode answers from, and what is registered again when Redis returns.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub players: HashMap<CharacterId, ZoneId>,
    pub others: HashMap<ZoneId, u32>,
}

impl Registry {
    /// This node's share of `zone:{id}:entity_count`: its players there plus its other entities.
    pub fn contribution(&self, zone: ZoneId) -> u64 {
        let players = self.players.values().filter(|z| **z == zone).count() as u64;
        players + u64::from(self.others.get(&zone).copied().unwrap_or(0))
    }

    pub fn zones(&self) -> BTreeSet<ZoneId> {
        self.players
            .values()
            .copied()
            .chain(self.others.keys().copied())
            .collect()
    }
}

/// Presence's own state on the node: the [`Registry`], behind an async mutex held across the
/// Redis write of each change, so a re-registration never interleaves with a join or a leave.
/// Bounded by [`NODE_PLAYERS_MAX`] and [`NODE_ZONES_MAX`].
#[derive(Default)]
pub(crate) struct NodeRegistry {
    inner: tokio::sync::Mutex<Registry>,
}

impl NodeRegistry {
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, Registry> {
        self.inner.lock().await
    }
}

impl fmt::Debug for NodeRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeRegistry").finish_non_exhaustive()
    }
}

/// What `player:{id}:online` holds: where the player is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceInfo {
    pub zone: ZoneId,
    pub node: NodeId,
}

impl PresenceInfo {
    pub(crate) fn json(&self) -> String {
        serde_json::to_string(self).expect("presence serializes")
    }
}

/// Presence and zone membership. Get it from [`crate::Cache::presence`].
///
/// Its sweep of dead nodes ([`Presence::sweep_dead_nodes`]) is written in `nodes`, beside the
/// leases it reads.
#[derive(Debug, Clone, Copy)]
pub struct Presence<'a> {
    pub(crate) core: &'a Core,
    registry: &'a NodeRegistry,
}

impl<'a> Presence<'a> {
    pub(crate) fn new(core: &'a Core, registry: &'a NodeRegistry) -> Self {
        Self { core, registry }
    }
}

pub(crate) fn ms(d: std::time::Duration) -> u64 {
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

pub(crate) async fn leave_redis(
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

pub(crate) fn served(core: &Core, what: &'static str, r: Result<(), CacheError>) -> Served {
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
        self.core
    }

    /// The player is now in `zone` on this node (leaving the zone they were in here, if any).
    /// Fails only when the node is over [`NODE_PLAYERS_MAX`] or [`NODE_ZONES_MAX`].
    pub async fn enter_zone(
        &self,
        player: CharacterId,
        zone: ZoneId,
    ) -> Result<Served, CacheError> {
        let core = self.core();
        let mut reg = self.registry.lock().await;
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
        let mut reg = self.registry.lock().await;
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
    /// `Local` if Redis could not be used, or if the player is not on this node (nothing to
    /// refresh).
    pub async fn heartbeat(&self, player: CharacterId) -> Served {
        let core = self.core();
        let Some(zone) = self.registry.lock().await.players.get(&player).copied() else {
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
                let zone = self.registry.lock().await.players.get(&player).copied();
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
                let reg = self.registry.lock().await;
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
                Lookup::degraded(self.registry.lock().await.contribution(zone))
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
        let mut reg = self.registry.lock().await;
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
}

pub(crate) async fn set_contribution(
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
