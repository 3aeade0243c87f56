//! Every Redis key and channel name, and every TTL of ADR-005's Tier 2 table, named once.
//!
//! Architecture invariant: this is the only module that forms a key or channel string. Every
//! other module asks for its keys here, so the key space can be read in one place. It stands on
//! the shared vocabulary (`vocab`) alone and knows no feature.
//!
//! Keys of the spec (ADR-005, "Tier 2: Redis"):
//!
//! | key | type | TTL |
//! |-----|------|-----|
//! | `session:{token}` (the token's SHA-256 in hex: Redis never holds a bearer token) | string (JSON `{account, session}` or `"revoked"`) | [`SESSION_TTL`], refreshed on use |
//! | `player:{id}:online` | string (JSON `{zone, node}`) | [`PRESENCE_TTL`], refreshed by heartbeat |
//! | `zone:{id}:players` | set of character ids | none (cleaned on leave and by the dead-node sweep) |
//! | `zone:{id}:entity_count` | integer | none (recomputed from the per-node counts) |
//! | `matchmaking:queue:{type}` | sorted set, score = enqueue time (ms, Redis clock) | none |
//! | `chat:{channel}:{timestamp}` | list of the messages of one second (unix seconds) | [`CHAT_HISTORY_TTL`] |
//! | `rate_limit:{ip}:{action}` | integer counter of one window | the action's window |
//! | `cooldown:{player}:{skill}` | string `1` | the cooldown |
//! | `guild_war:{guild1}:{guild2}` | string (JSON war state), guild1 < guild2 | the war's duration |
//! | `leaderboard:pvp`, `leaderboard:level` | sorted sets, score = rating / level | none |
//! | `cache:item_def:{id}`, `cache:skill_def:{id}` | string (JSON definition) | [`DEFINITION_CACHE_TTL`] |
//!
//! Auxiliary keys (not in the spec; each exists to make a spec key safe):
//!
//! | key | type | TTL | why |
//! |-----|------|-----|-----|
//! | `session_revoked_before:{account}` | string (unix seconds) | the token lifetime | every token of the account issued at or before it is revoked (a ban, a password change): O(1), no scan |
//! | `session_ended:{session}` | string (`1`) | the token lifetime | the session was logged out: its connection on any node is closed by that node's sweep (a connection holds the session's id, not its token) |
//! | `node:{node}:lease` | string | [`crate::CacheOptions::node_lease_ttl`] | a node is alive while its lease is |
//! | `node:{node}:members` | set of `zone:player` | none | what to clean when the node dies |
//! | `node:{node}:zones` | set of zone ids | none | whose entity counts the node contributes to |
//! | `nodes:known` | set of node ids | none | which leases the sweep looks at |
//! | `zone:{id}:entity_count_by_node` | hash node → count | none | `entity_count` is its sum |
//! | `chat_index:{channel}` | sorted set of second buckets | [`CHAT_HISTORY_TTL`] | read the last N messages without SCAN |
//! | `leaderboard:{kind}:built` | string | none | absent = Redis lost the board: rebuild |
//! | `leaderboard:{kind}:rebuild:{node}` | sorted set | [`LEADERBOARD_REBUILD_TTL`] | built aside, then RENAMEd over the board |
//! | `player_inbox:{player}` | stream | [`INBOX_TTL`] | must-arrive player events (kick, mail) |
//! | `ws_ticket:{sha256(ticket)}` | string (JSON `{account, character, session}`) | [`TICKET_TTL`] | a WebSocket join without a token in a URL; taken once (GETDEL) |
//! | `login_failures:{account}` | integer | [`LOGIN_FAILURES_TTL`] | per-account login backoff |
//! | `guild_wars` | sorted set of `{guild1}:{guild2}`, score = the war's end (ms, Redis clock) | none (ended wars removed with their key; expired ones pruned when read) | every node learns the wars in force without SCAN |
//! | `admin_session:{sha256(token)}` | string (JSON `{admin, issued_unix_s}`) | [`ADMIN_SESSION_TTL`], refreshed on use | operators' sessions, apart from players' (the admin API) |
//! | `zone:{id}:gateway` | string (the WebSocket URL of the gateway whose node runs the zone) | [`ZONE_GATEWAY_TTL`], refreshed | where a player is sent for a zone on another node |

use crate::vocab::{Channel, ChatChannel, LeaderboardKind, NodeId, QueueKind, RateAction, WarPair};
use realmkeep_domain::{AccountId, CharacterId, GuildId, ItemDefId, Kingdom, SkillId, ZoneId};
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

/// `session:{token}`: 30 minutes, refreshed on every validation (GETEX).
pub const SESSION_TTL: Duration = Duration::from_secs(30 * 60);
/// `player:{id}:online`: 5 minutes, refreshed by heartbeats.
pub const PRESENCE_TTL: Duration = Duration::from_secs(5 * 60);
/// `chat:{channel}:{timestamp}` and its index: one hour.
pub const CHAT_HISTORY_TTL: Duration = Duration::from_secs(60 * 60);
/// `cache:item_def:{id}` and `cache:skill_def:{id}`: one hour.
pub const DEFINITION_CACHE_TTL: Duration = Duration::from_secs(60 * 60);
/// `player_inbox:{player}`: a day after the last event; PostgreSQL keeps what must last longer.
pub const INBOX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// A leaderboard being rebuilt aside lives at most this long if its node dies mid-rebuild.
pub const LEADERBOARD_REBUILD_TTL: Duration = Duration::from_secs(10 * 60);

/// The set of every node that ever took a lease and was not yet swept.
pub const NODES_KNOWN: &str = "nodes:known";

/// `session:{sha256(token)}`: the key names the token without holding it, so reading Redis (a
/// dump, `MONITOR`, a slow log) yields no token that could be used.
pub fn session(token: &str) -> String {
    format!("session:{}", sha256_hex(token))
}

/// A secret's SHA-256 in hex: keys name secrets (tokens, tickets) without holding them.
fn sha256_hex(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    Sha256::digest(secret.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// An operator's session lives this long from its last use (and never past its lifetime,
/// `ADMIN_SESSION_LIFETIME`).
pub const ADMIN_SESSION_TTL: Duration = Duration::from_secs(30 * 60);

/// `admin_session:{sha256(token)}`: like a player's session, the key does not hold the token.
pub fn admin_session(token: &str) -> String {
    format!("admin_session:{}", sha256_hex(token))
}

/// A WebSocket ticket lives this long, and is used once.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// Failed logins of an account are counted over this long (from the last failure).
pub const LOGIN_FAILURES_TTL: Duration = Duration::from_secs(15 * 60);

/// A zone's gateway address lives this long unless its node refreshes it (every third of it).
pub const ZONE_GATEWAY_TTL: Duration = Duration::from_secs(30);

pub fn zone_gateway(zone: ZoneId) -> String {
    format!("zone:{zone}:gateway")
}

/// `ws_ticket:{sha256(ticket)}`: like a session, the key does not hold the ticket.
pub fn ticket(ticket: &str) -> String {
    format!("ws_ticket:{}", sha256_hex(ticket))
}

pub fn login_failures(account: AccountId) -> String {
    format!("login_failures:{account}")
}

pub fn session_revoked_before(account: AccountId) -> String {
    format!("session_revoked_before:{account}")
}

/// `session` is the session's id (`SessionId`'s number), written as its sixteen hex digits.
pub fn session_ended(session: u64) -> String {
    format!("session_ended:{session:016x}")
}

pub fn presence(player: CharacterId) -> String {
    format!("player:{player}:online")
}

pub fn zone_players(zone: ZoneId) -> String {
    format!("zone:{zone}:players")
}

pub fn zone_entity_count(zone: ZoneId) -> String {
    format!("zone:{zone}:entity_count")
}

pub fn zone_entity_count_by_node(zone: ZoneId) -> String {
    format!("zone:{zone}:entity_count_by_node")
}

pub fn node_lease(node: &NodeId) -> String {
    format!("node:{node}:lease")
}

pub fn node_members(node: &NodeId) -> String {
    format!("node:{node}:members")
}

pub fn node_zones(node: &NodeId) -> String {
    format!("node:{node}:zones")
}

/// A member of `node:{node}:members`: the zone and the player, `zone:player`.
pub fn node_member(zone: ZoneId, player: CharacterId) -> String {
    format!("{zone}:{player}")
}

/// Parses a member of `node:{node}:members` back; `None` for anything malformed.
pub fn parse_node_member(s: &str) -> Option<(ZoneId, CharacterId)> {
    let (z, p) = s.split_once(':')?;
    Some((ZoneId(z.parse().ok()?), CharacterId(p.parse().ok()?)))
}

pub fn matchmaking_queue(kind: QueueKind) -> String {
    format!("matchmaking:queue:{}", kind.as_str())
}

/// The channel part of chat keys: `global`, `kingdom.aldor`, `guild.42`, `zone.3`. No `:` in it,
/// so `chat:{channel}:{timestamp}` splits without ambiguity.
fn chat_channel_part(channel: &ChatChannel) -> String {
    match channel {
        ChatChannel::Global => "global".to_string(),
        ChatChannel::Kingdom(k) => format!("kingdom.{}", k.as_str()),
        ChatChannel::Guild(g) => format!("guild.{g}"),
        ChatChannel::Zone(z) => format!("zone.{z}"),
    }
}

/// `chat:{channel}:{timestamp}`: the messages of one second (unix seconds) of one channel.
pub fn chat_bucket(channel: &ChatChannel, unix_second: i64) -> String {
    format!("chat:{}:{unix_second}", chat_channel_part(channel))
}

pub fn chat_index(channel: &ChatChannel) -> String {
    format!("chat_index:{}", chat_channel_part(channel))
}

pub fn rate_limit(ip: IpAddr, action: RateAction) -> String {
    format!("rate_limit:{ip}:{}", action.as_str())
}

pub fn cooldown(player: CharacterId, skill: SkillId) -> String {
    format!("cooldown:{player}:{skill}")
}

/// `guild_war:{guild1}:{guild2}` in the pair's canonical order (lower id first).
pub fn guild_war(pair: WarPair) -> String {
    format!("guild_war:{}:{}", pair.first(), pair.second())
}

/// `guild_wars`: the index of `guild_war:*` keys.
pub fn guild_wars_index() -> String {
    "guild_wars".to_string()
}

/// A war's member in `guild_wars`: `{guild1}:{guild2}`.
pub fn guild_war_member(pair: WarPair) -> String {
    format!("{}:{}", pair.first(), pair.second())
}

/// The pair a `guild_wars` member names, if it is one.
pub fn parse_guild_war_member(member: &str) -> Option<WarPair> {
    let (a, b) = member.split_once(':')?;
    WarPair::new(GuildId(a.parse().ok()?), GuildId(b.parse().ok()?))
}

pub fn leaderboard(kind: LeaderboardKind) -> String {
    format!("leaderboard:{}", kind.as_str())
}

pub fn leaderboard_built(kind: LeaderboardKind) -> String {
    format!("leaderboard:{}:built", kind.as_str())
}

pub fn leaderboard_rebuild(kind: LeaderboardKind, node: &NodeId) -> String {
    format!("leaderboard:{}:rebuild:{node}", kind.as_str())
}

pub fn item_def(id: ItemDefId) -> String {
    format!("cache:item_def:{id}")
}

pub fn skill_def(id: SkillId) -> String {
    format!("cache:skill_def:{id}")
}

pub fn player_inbox(player: CharacterId) -> String {
    format!("player_inbox:{player}")
}

impl Channel {
    /// The channel's name on the wire ([`channel_name`]).
    pub fn name(&self) -> String {
        channel_name(self)
    }
}

/// The pub/sub channel name of `channel`.
pub fn channel_name(channel: &Channel) -> String {
    match channel {
        Channel::GlobalChat => "global_chat".to_string(),
        Channel::KingdomChat(k) => format!("kingdom_chat:{}", k.as_str()),
        Channel::GuildChat(g) => format!("guild_chat:{g}"),
        Channel::ServerEvents => "server_events".to_string(),
        Channel::PlayerEvents(p) => format!("player_events:{p}"),
    }
}

/// Parses a pub/sub channel name back; `None` for a name this crate never forms.
pub fn parse_channel_name(name: &str) -> Option<Channel> {
    match name {
        "global_chat" => return Some(Channel::GlobalChat),
        "server_events" => return Some(Channel::ServerEvents),
        _ => {}
    }
    let (head, tail) = name.split_once(':')?;
    match head {
        "kingdom_chat" => Kingdom::from_str(tail).ok().map(Channel::KingdomChat),
        "guild_chat" => tail.parse().ok().map(|g| Channel::GuildChat(GuildId(g))),
        "player_events" => tail
            .parse()
            .ok()
            .map(|p| Channel::PlayerEvents(CharacterId(p))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_key_shapes() {
        assert_eq!(
            session("abc"),
            "session:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(presence(CharacterId(7)), "player:7:online");
        assert_eq!(zone_players(ZoneId(3)), "zone:3:players");
        assert_eq!(zone_entity_count(ZoneId(3)), "zone:3:entity_count");
        assert_eq!(
            matchmaking_queue(QueueKind::Dungeon),
            "matchmaking:queue:dungeon"
        );
        assert_eq!(
            chat_bucket(&ChatChannel::Guild(GuildId(4)), 1_700_000_000),
            "chat:guild.4:1700000000"
        );
        assert_eq!(
            rate_limit("10.0.0.1".parse().unwrap(), RateAction::Login),
            "rate_limit:10.0.0.1:login"
        );
        assert_eq!(cooldown(CharacterId(1), SkillId(2)), "cooldown:1:2");
        assert_eq!(
            guild_war(WarPair::new(GuildId(9), GuildId(2)).unwrap()),
            "guild_war:2:9"
        );
        assert_eq!(leaderboard(LeaderboardKind::Pvp), "leaderboard:pvp");
        assert_eq!(leaderboard(LeaderboardKind::Level), "leaderboard:level");
        assert_eq!(item_def(ItemDefId(5)), "cache:item_def:5");
        assert_eq!(skill_def(SkillId(6)), "cache:skill_def:6");
    }

    #[test]
    fn channel_names_round_trip() {
        let all = [
            Channel::GlobalChat,
            Channel::KingdomChat(Kingdom::Veyra),
            Channel::GuildChat(GuildId(12)),
            Channel::ServerEvents,
            Channel::PlayerEvents(CharacterId(99)),
        ];
        for c in all {
            assert_eq!(parse_channel_name(&channel_name(&c)), Some(c));
        }
        assert_eq!(parse_channel_name("guild_chat:x"), None);
        assert_eq!(parse_channel_name("nope"), None);
    }

    #[test]
    fn node_members_round_trip() {
        let m = node_member(ZoneId(3), CharacterId(42));
        assert_eq!(parse_node_member(&m), Some((ZoneId(3), CharacterId(42))));
        assert_eq!(parse_node_member("3"), None);
    }
}
