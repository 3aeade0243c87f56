//! The admin API's bodies (`/v1/admin/`): what operators' scripts and the console send and get.
//! Each type derives `utoipa::ToSchema`; the gateway builds the OpenAPI document from them and
//! its handlers (`GET /v1/admin/openapi.json`). Times are RFC 3339 strings.
//!
//! Every change carries a `reason` (mandatory, 1 to 500 characters), logged in `game_logs` with
//! the operator. A refusal is an `ApiError` (`AdminError` in the document): 400 bad input
//! (nothing changed), 401 no or a dead operator's session, 403 `not_allowed` (the operator's role
//! lacks the power; the message names the role needed), 404, 409 `character_online`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An error as the document describes it (`realmkeep_protocol::http::ApiError`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdminError {
    /// A reason code: `bad_fields`, `unauthorized`, `not_allowed`, `not_found`, ...
    pub error: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// `POST /v1/admin/sessions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminCredentials {
    pub name: String,
    pub password: String,
}

/// An operator: `role` is `moderator`, `game_master` or `administrator`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperatorView {
    pub id: i64,
    pub name: String,
    pub role: String,
}

/// A new operator's session. Send `Authorization: Bearer <token>` to the admin API.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdminSessionIssued {
    pub token: String,
    pub operator: OperatorView,
    /// Idle time after which the session ends (each request restarts it).
    pub idle_secs: u64,
    /// When the session ends however busy (unix seconds).
    pub session_ends_unix_s: i64,
}

/// `GET /v1/admin/players?q=`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PlayerSearch {
    /// The start of a character's or an account's name (any case).
    pub q: String,
    /// 1 to 100 (default 20).
    pub limit: Option<i64>,
}

/// A character found, with its account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlayerHit {
    pub character_id: i64,
    pub character: String,
    pub account_id: i64,
    pub account: String,
    pub level: i32,
    pub zone: i32,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PositionView {
    pub zone: i32,
    pub x: f32,
    pub y: f32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BagItem {
    pub item: i64,
    pub def: i32,
    pub quantity: i32,
    pub slot: i16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WornItem {
    pub item: i64,
    pub def: i32,
    pub slot: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SkillView {
    pub skill: i32,
    pub level: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QuestView {
    pub quest: i32,
    pub status: String,
    pub progress: i32,
}

/// Who holds the character: the claim in PostgreSQL (the truth) and presence in Redis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HolderView {
    /// A live claim: a zone has the character in the world.
    pub in_world: bool,
    /// The claim's fencing epoch (grows by one at every claim).
    pub claim_epoch: i64,
    /// The holding node and zone, from the live claim.
    pub node: Option<String>,
    pub zone: Option<i32>,
    pub lease_expires_at: Option<String>,
    /// Presence in Redis (`player:{id}:online`): zone and node, if registered.
    pub presence_zone: Option<i32>,
    pub presence_node: Option<String>,
}

/// The account's sessions as far as they are known: player sessions are signed tokens kept by
/// their hash only, so they are not listed; a kick or a ban revokes all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionsView {
    pub last_login_at: Option<String>,
    /// A ban in force on the account.
    pub banned: bool,
}

/// `GET /v1/admin/characters/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CharacterPage {
    pub id: i64,
    pub name: String,
    pub account_id: i64,
    pub account: String,
    pub class: String,
    pub kingdom: String,
    pub level: i32,
    pub xp: i64,
    pub gold: i64,
    pub health: i32,
    pub mana: i32,
    pub strength: i32,
    pub agility: i32,
    pub intellect: i32,
    pub stamina: i32,
    pub pvp_kills: i32,
    pub guild: Option<i64>,
    pub position: PositionView,
    pub bag: Vec<BagItem>,
    pub equipment: Vec<WornItem>,
    pub skills: Vec<SkillView>,
    pub quests: Vec<QuestView>,
    pub holder: HolderView,
    pub sessions: SessionsView,
}

/// `GET /v1/admin/logs`: newest first; pass `next` back as `before_at` and `before_id`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    pub character: Option<i64>,
    pub event_type: Option<String>,
    /// RFC 3339, inclusive.
    pub from: Option<String>,
    /// RFC 3339, exclusive.
    pub to: Option<String>,
    pub before_at: Option<String>,
    pub before_id: Option<i64>,
    /// 1 to 500 (default 50).
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogRow {
    pub id: i64,
    pub occurred_at: String,
    pub event_type: String,
    pub actor: Option<i64>,
    pub target: Option<i64>,
    pub item: Option<i64>,
    pub item_def: Option<i32>,
    pub quantity: Option<i32>,
    pub gold: Option<i64>,
    pub zone: Option<i32>,
    /// Free-form; an operator's action holds `operator`, `operator_id`, `operator_role` and
    /// `reason`.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LogCursor {
    pub before_at: String,
    pub before_id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogPage {
    pub rows: Vec<LogRow>,
    pub next: Option<LogCursor>,
}

/// Only a reason: kick, unban, remove an item, disable an operator.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reasoned {
    pub reason: String,
}

/// `POST /v1/admin/characters/{id}/gold`: add (or, negative, take) gold.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoldChange {
    pub delta: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GoldChanged {
    pub gold: i64,
}

/// `POST /v1/admin/characters/{id}/items`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemGrant {
    pub def: i32,
    pub quantity: i32,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ItemGranted {
    pub item: i64,
}

/// `POST /v1/admin/characters/{id}/teleport`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Teleport {
    pub zone: i32,
    pub x: f32,
    pub y: f32,
    pub reason: String,
}

/// What a kick (or a ban's kick) reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KickResult {
    /// The account's characters in the world, each sent `kicked`.
    pub characters: u64,
    /// Of those, delivered live (the rest wait in their inboxes).
    pub live: u64,
}

/// `POST /v1/admin/accounts/{id}/ban`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    /// Hours until it ends; permanent without.
    pub hours: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BanIssued {
    pub ban: i64,
    /// The kick that followed (sessions revoked, characters kicked); `None` when Redis could
    /// not be reached: the ban is in force all the same (logins and claims refused).
    pub kicked: Option<KickResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Unbanned {
    pub revoked: u64,
}

/// `POST /v1/admin/broadcasts`: to every connected player of every node.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Broadcast {
    pub text: String,
    /// A maintenance countdown that starts in this many minutes.
    pub maintenance_in_minutes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BroadcastSent {
    /// Gateways that heard it.
    pub receivers: u64,
}

/// A marketplace listing of the character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListingView {
    pub listing: i64,
    pub item: i64,
    pub item_def: i32,
    pub item_name: String,
    pub quantity: i32,
    pub price: i64,
    pub expires_at: String,
}

/// A mail in the character's mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MailView {
    pub mail: i64,
    pub kind: String,
    pub sender: Option<i64>,
    pub sender_name: Option<String>,
    pub subject: String,
    pub gold: i64,
    pub items: i64,
    pub sent_at: String,
    pub expires_at: String,
    pub read: bool,
    pub claimed: bool,
}

/// `POST /v1/admin/operators` (administrators only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOperator {
    pub name: String,
    pub role: String,
    pub password: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperatorRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub created_at: String,
    pub created_by: Option<i64>,
    pub disabled_at: Option<String>,
    pub last_login_at: Option<String>,
}

/// `GET /v1/admin/status`: the live state of the node that answers (each node's gateway
/// answers for its own zones), from the node's own counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NodeState {
    pub node: String,
    pub uptime_s: f64,
    pub players: u64,
    /// Saves (batch, level-up, release) and characters saved per second, since the previous
    /// reading of the node's status.
    pub saves_per_s: f64,
    pub save_rows_per_s: f64,
    pub postgres_up: bool,
    pub redis_up: bool,
    /// Requests waiting for PostgreSQL, and held on tick threads because that queue was full.
    pub store_pending: u64,
    pub store_backlog: u64,
    /// Redis writes and game-log batches held because their queues were full.
    pub cache_backlog: u64,
    pub log_backlog: u64,
    /// `game_logs` rows waiting in the DEFAULT partition (zero on a healthy node).
    pub log_default_rows: u64,
    pub zones: Vec<ZoneState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ZoneState {
    pub zone: i32,
    pub players: u64,
    pub ticks: u64,
    pub ticks_late: u64,
    pub tick_p50_ms: f64,
    pub tick_p99_ms: f64,
    pub tick_max_ms: f64,
    /// Since the last tick ended (`None`: no tick yet).
    pub last_tick_age_ms: Option<u64>,
    /// The last claim renewal failed: the zone may lose its players when the lease runs out.
    pub renewal_failing: bool,
}
