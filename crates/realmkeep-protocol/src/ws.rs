//! The WebSocket protocol, version 1: JSON text frames.
//!
//! Client → server: `{"v":1,"id":7,"cmd":{"type":"move_to","x":10.5,"y":3.0}}`. `id` is the
//! client's request id, strictly increasing on a connection, echoed in the answer.
//! Server → client: `{"v":1,"seq":42,"msg":{"type":"answer","id":7,"result":"ok"}}`. `seq`
//! counts the server's messages on the connection from 1, without gaps.
//!
//! The first command must be `join` with a ticket from `POST /v1/tickets`; the answer is a
//! `welcome` with the character's full state, then `view` deltas follow at the zone's view rate.

use crate::codes::Reason;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod encode;
mod messages;
pub use encode::EncodedMsg;
pub use messages::*;

/// A client's frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFrame {
    pub v: u32,
    pub id: u64,
    pub cmd: Command,
}

/// What a client asks for. Nothing in a command carries authority: the character is the one
/// the ticket named, its position is the zone's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Enter the world with the ticket's character (or resume it within the disconnect grace).
    Join {
        ticket: String,
    },
    /// Walk towards a point (the zone clamps it to the map and to one step).
    MoveTo {
        x: f32,
        y: f32,
    },
    /// Walk in a direction until `stop` (normalised by the zone).
    Move {
        dx: f32,
        dy: f32,
    },
    Stop,
    /// Say something to the players nearby (zone chat).
    Say {
        text: String,
    },
    /// Leave the world: the character is saved where it stands, then the socket closes (1000).
    Logout,
    // Combat.
    /// Target an entity in view (a monster, or a player of another kingdom) and auto-attack it.
    Attack {
        target: u64,
    },
    StopAttack,
    /// Use a skill, on an entity in view or (healing, self skills) on oneself.
    UseSkill {
        skill: i32,
        target: Option<u64>,
    },
    /// Pick up loot in reach: answered `ok` once it is in the bag (committed).
    PickUp {
        loot: u64,
    },
    // Chat beyond `say`.
    /// `global`, `kingdom` or `guild`.
    Chat {
        channel: String,
        text: String,
    },
    Whisper {
        to: i64,
        text: String,
    },
    // Quests.
    AcceptQuest {
        quest: i32,
    },
    /// Gives up an active quest (its progress is lost; it may be accepted again).
    AbandonQuest {
        quest: i32,
    },
    CompleteQuest {
        quest: i32,
    },
    // Trade: it happens when the other player offers the mirror image within 30 s.
    Trade {
        with: i64,
        give: Offer,
        want: Offer,
    },
    /// Withdraws one's open offer to `with` before the other side agreed to it (`trade_cancelled`
    /// to them).
    TradeCancel {
        with: i64,
    },
    // Marketplace.
    ListItem {
        item: i64,
        price: i64,
        hours: i64,
    },
    BuyListing {
        listing: i64,
    },
    CancelListing {
        listing: i64,
    },
    /// A page of listings (cheapest first), optionally of one item and a price range;
    /// `after` is the `next` cursor of the previous page.
    SearchMarket {
        item_def: Option<i32>,
        min_price: Option<i64>,
        max_price: Option<i64>,
        after: Option<Cursor>,
        rows: i64,
    },
    // Mail.
    SendMail {
        to: i64,
        subject: String,
        body: String,
        gold: i64,
        items: Vec<i64>,
    },
    ListMail,
    ClaimMail {
        mail: i64,
    },
    /// One mail's whole text (`mail` data); it is marked read.
    ReadMail {
        mail: i64,
    },
    /// Deletes a mail that carries nothing any more (its gold and items claimed).
    DeleteMail {
        mail: i64,
    },
    // Guilds.
    GuildCreate {
        name: String,
    },
    GuildInvite {
        who: i64,
    },
    GuildAccept {
        guild: i64,
    },
    GuildDecline {
        guild: i64,
    },
    GuildLeave,
    GuildKick {
        who: i64,
    },
    /// 0 is the leader's rank; lower numbers rank higher.
    GuildSetRank {
        who: i64,
        rank: i16,
    },
    GuildHandOver {
        to: i64,
    },
    GuildDisband,
    /// Declare war on guild `on` for `hours` (1 to 168), as the leader or an officer of one's
    /// guild: members of the two guilds may fight each other until it ends.
    GuildWarDeclare {
        on: i64,
        hours: u32,
    },
    /// End the war with guild `with` (a leader or officer of either guild).
    GuildWarEnd {
        with: i64,
    },
    /// Wait in a queue (`dungeon` or `arena`; one queue at a time): when a full group forms,
    /// its members get `group_formed` and are sent to the queue's instance zone together.
    QueueJoin {
        queue: String,
    },
    QueueLeave {
        queue: String,
    },
    // Friends: `request`, `accept`, `remove`, `block`, `unblock`.
    Friend {
        other: i64,
        op: String,
    },
    /// Go to another zone (a portal): saved and released here, claimed there; a new `welcome`
    /// follows on the same connection.
    ChangeZone {
        to: i32,
    },
    // The player's own items: answered `ok` once committed, with an `items` event (the whole
    // bag and equipment as committed).
    /// To bag slot `slot` (0-based), swapping with what is there.
    MoveItem {
        item: i64,
        slot: i16,
    },
    /// `quantity` off a stack into the empty bag slot `slot`.
    SplitStack {
        item: i64,
        quantity: i32,
        slot: i16,
    },
    /// As much of stack `from` onto stack `onto` (the same item) as fits.
    MergeStacks {
        from: i64,
        onto: i64,
    },
    /// Into the equipment slot the item's definition names (its level requirement met); what
    /// was there goes to the bag.
    Equip {
        item: i64,
    },
    /// Out of `slot` (`main_hand`, `chest`...) into bag slot `to`, or the first free one.
    Unequip {
        slot: String,
        to: Option<i16>,
    },
    /// Gone for good (logged).
    DestroyItem {
        item: i64,
    },
    // Information.
    /// The top `top` of `pvp` or `level`, and the player's own rank.
    Leaderboard {
        board: String,
        top: u32,
    },
    ItemInfo {
        item_def: i32,
    },
    SkillInfo {
        skill: i32,
    },
    /// The player's guild: its name, leader and members with their ranks (`guild` data).
    GuildInfo,
    /// The player's friends list: friends, requests both ways and blocks, with whether each
    /// friend is in the world (`friends` data).
    FriendList,
}

/// One side of a trade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    #[serde(default)]
    pub items: Vec<i64>,
    #[serde(default)]
    pub gold: i64,
}

/// A market search's position: the last row's price and listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    pub price: i64,
    pub listing: i64,
}

impl Command {
    /// The command's kind, as in `type` (rate limits and metrics are counted per kind).
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Join { .. } => CommandKind::Join,
            Command::MoveTo { .. } | Command::Move { .. } | Command::Stop => CommandKind::Move,
            Command::Say { .. } | Command::Chat { .. } => CommandKind::Say,
            Command::Whisper { .. } => CommandKind::Whisper,
            Command::Logout => CommandKind::Logout,
            Command::Trade { .. } | Command::TradeCancel { .. } => CommandKind::Trade,
            Command::ListItem { .. }
            | Command::BuyListing { .. }
            | Command::CancelListing { .. }
            | Command::SearchMarket { .. } => CommandKind::Market,
            Command::SendMail { .. }
            | Command::ListMail
            | Command::ClaimMail { .. }
            | Command::ReadMail { .. }
            | Command::DeleteMail { .. } => CommandKind::Mail,
            Command::Leaderboard { .. }
            | Command::ItemInfo { .. }
            | Command::SkillInfo { .. }
            | Command::GuildInfo
            | Command::FriendList => CommandKind::Info,
            _ => CommandKind::Act,
        }
    }
}

/// Command kinds, each with its own rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandKind {
    Join,
    Move,
    Say,
    Whisper,
    Logout,
    /// Combat, quests, guilds, friends.
    Act,
    Trade,
    Market,
    Mail,
    /// Leaderboards, item and skill information, one's guild and friends list.
    Info,
}

/// A server's frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerFrame {
    pub v: u32,
    pub seq: u64,
    pub msg: ServerMsg,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The answer to the request `id` (0 when the frame could not be read far enough to know it).
    Answer {
        id: u64,
        #[serde(flatten)]
        result: Answer,
    },
    /// After a successful `join`: the character's full state.
    Welcome(Box<Welcome>),
    /// What changed in view: deltas since the previous `view`.
    View(View),
    /// A chat line heard.
    Chat(ChatLine),
    /// Something happened to the player (experience, death, gold...).
    Event(GameEvent),
    /// An inbox event that must arrive (delivered in order, also after a reconnect).
    Inbox(InboxEvent),
    /// The answer's data for `search_market`, `list_mail`, `read_mail`, `leaderboard`, `item_info`,
    /// `skill_info`, `guild_info` and `friend_list` (sent just before the answer, with the
    /// request's id).
    Data { id: u64, data: Data },
    /// An announcement to every player (`server_events`): an operator's message, a maintenance
    /// countdown, a world event.
    Announcement(Announcement),
    /// The character's zone is served by another node: connect to `url` and `join` with
    /// `ticket` (single use, 30 s). The character is saved and released here; this connection
    /// closes (4007).
    Redirect {
        url: String,
        ticket: String,
        zone: i32,
    },
    /// The server is about to close the connection, and why (the close frame says it again).
    Closing { code: u16, reason: String },
}

/// `ok`, `refused` with a reason code, `try_again` or `rate_limited`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Answer {
    Ok,
    Refused {
        reason: Reason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// Nothing changed; the same request may succeed shortly.
    TryAgain {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    RateLimited {
        retry_after_ms: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Welcome {
    pub character: i64,
    pub name: String,
    pub class: String,
    pub kingdom: String,
    pub zone: i32,
    /// The id of the player's own entity in `view` messages.
    pub net_id: u64,
    /// True when this join resumed a character still in the world (within the grace period).
    pub resumed: bool,
    pub x: f32,
    pub y: f32,
    pub level: i32,
    pub xp: i64,
    pub gold: i64,
    pub health: i32,
    pub max_health: i32,
    pub mana: i32,
    pub max_mana: i32,
    pub attributes: Attributes,
    pub bag: Vec<BagItem>,
    pub equipment: Vec<EquippedItem>,
    pub skills: Vec<Skill>,
    pub quests: Vec<Quest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Attributes {
    pub strength: i32,
    pub agility: i32,
    pub intellect: i32,
    pub stamina: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BagItem {
    pub item: i64,
    pub def: i32,
    pub quantity: i32,
    pub slot: i16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EquippedItem {
    pub item: i64,
    pub def: i32,
    pub slot: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Skill {
    pub skill: i32,
    pub level: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Quest {
    pub quest: i32,
    pub status: String,
    pub progress: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
pub struct View {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entered: Vec<Entity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<Moved>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Entity {
    pub net_id: u64,
    #[serde(flatten)]
    pub kind: EntityKind,
    pub x: f32,
    pub y: f32,
    /// Its velocity (units per second), to extrapolate until told otherwise; absent when it
    /// stands.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub vx: f32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub vy: f32,
    pub health: i32,
    pub max_health: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntityKind {
    Player {
        character: i64,
        name: String,
        level: i32,
    },
    Monster {
        def: i32,
        level: i32,
    },
    Loot {
        def: i32,
        quantity: i32,
    },
}

/// An entity in view whose hit points changed, or whose moves the client no longer predicts:
/// `[net_id, x, y, health, vx, vy]`. The client draws it at `x + vx * t`, `y + vy * t`, `t`
/// seconds after it was told, until told again (dead reckoning: a straight walk is told when
/// it starts and when it stops). The most frequent thing a client receives, so an array rather
/// than an object, with positions and velocities to the hundredth ([`Moved::new`] rounds them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Moved(pub u64, pub f32, pub f32, pub i32, pub f32, pub f32);

impl Moved {
    pub fn new(net_id: u64, x: f32, y: f32, health: i32, vx: f32, vy: f32) -> Self {
        Moved(
            net_id,
            hundredths(x),
            hundredths(y),
            health,
            hundredths(vx),
            hundredths(vy),
        )
    }
    pub fn net_id(&self) -> u64 {
        self.0
    }
    pub fn x(&self) -> f32 {
        self.1
    }
    pub fn y(&self) -> f32 {
        self.2
    }
    pub fn health(&self) -> i32 {
        self.3
    }
    /// Velocity, units per second (zero when it stands).
    pub fn vx(&self) -> f32 {
        self.4
    }
    pub fn vy(&self) -> f32 {
        self.5
    }
}

fn is_zero(v: &f32) -> bool {
    *v == 0.0
}

/// Rounded to the hundredth, as positions and velocities are sent.
pub fn hundredths(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChatLine {
    /// `say`, `global`, `kingdom`, `guild` or `whisper`.
    pub channel: String,
    pub from: i64,
    pub name: String,
    pub text: String,
    /// True for the recent lines sent after a join (`chat:{channel}:{timestamp}`), said before
    /// the player arrived.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub history: bool,
}

impl ServerFrame {
    pub fn new(seq: u64, msg: ServerMsg) -> Self {
        Self {
            v: crate::PROTOCOL_VERSION,
            seq,
            msg,
        }
    }
}

impl ClientFrame {
    pub fn new(id: u64, cmd: Command) -> Self {
        Self {
            v: crate::PROTOCOL_VERSION,
            id,
            cmd,
        }
    }
}
