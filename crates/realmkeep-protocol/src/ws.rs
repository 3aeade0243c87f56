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
}

impl Command {
    /// The command's kind, as in `type` (rate limits and metrics are counted per kind).
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Join { .. } => CommandKind::Join,
            Command::MoveTo { .. } | Command::Move { .. } | Command::Stop => CommandKind::Move,
            Command::Say { .. } => CommandKind::Say,
            Command::Logout => CommandKind::Logout,
        }
    }
}

/// Command kinds, each with its own rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandKind {
    Join,
    Move,
    Say,
    Logout,
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

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Moved {
    pub net_id: u64,
    pub x: f32,
    pub y: f32,
    pub health: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChatLine {
    /// `say` in this version of the server; more channels come with the same shape.
    pub channel: String,
    pub from: i64,
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum GameEvent {
    XpGained {
        amount: i64,
        xp: i64,
    },
    LevelUp {
        level: i32,
    },
    GoldChanged {
        gold: i64,
    },
    Looted {
        def: i32,
        quantity: i32,
    },
    Died,
    Respawned {
        x: f32,
        y: f32,
    },
    QuestAccepted {
        quest: i32,
    },
    QuestProgress {
        quest: i32,
        progress: i32,
    },
    QuestCompleted {
        quest: i32,
    },
    /// The zone said no to an earlier command (`action`: move, attack, chat...).
    Denied {
        action: String,
        reason: Reason,
    },
    /// The store said no to an earlier action; nothing changed.
    Refused {
        action: String,
        detail: String,
    },
    /// An earlier action could not reach the store; nothing changed: try it again.
    TryAgain {
        action: String,
    },
    /// More commands than the zone takes per tick: the extra ones were dropped.
    Throttled {
        dropped: u32,
    },
    /// A notice of a kind this version of the gateway does not translate yet.
    Other {
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum InboxEvent {
    /// Followed by the close (4002).
    Kicked {
        reason: String,
    },
    MailArrived {
        mail: i64,
    },
    /// A must-arrive event of a kind this version does not translate yet.
    Other {
        name: String,
    },
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
