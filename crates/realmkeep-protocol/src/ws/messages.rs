//! What the server tells a player besides answers and views: game events, must-arrive inbox
//! events, announcements, and the data a request answers with.

use super::{BagItem, Cursor, EquippedItem, Offer};
use crate::codes::Reason;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// A pickup committed. `item`: the bag's stack that took it (absent when a pickup tried
    /// again was found done before).
    Looted {
        def: i32,
        quantity: i32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<i64>,
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
    QuestAbandoned {
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
    /// Another player offers a trade: it happens if this player offers the mirror image.
    TradeOffered {
        from: i64,
        give: Offer,
        want: Offer,
    },
    /// `from` withdrew its offer to the player before it was agreed: nothing moved.
    TradeCancelled {
        from: i64,
    },
    /// A trade committed; `trade` is its reference, as the server's logs keep it.
    TradeDone {
        with: i64,
        #[serde(default)]
        trade: String,
    },
    Listed {
        listing: i64,
        item: i64,
    },
    Bought {
        listing: i64,
        item: i64,
        item_def: i32,
        quantity: i32,
        price: i64,
    },
    ListingCancelled {
        listing: i64,
        item: i64,
    },
    MailSent {
        mail: i64,
    },
    MailClaimed {
        mail: i64,
        gold: i64,
        items: u32,
    },
    MailDeleted {
        mail: i64,
    },
    /// The player's guild now (`None`: no guild).
    GuildChanged {
        guild: Option<i64>,
    },
    FriendChanged {
        other: i64,
        op: String,
        friends: bool,
    },
    /// An item operation committed: the whole bag and equipment now.
    Items {
        bag: Vec<BagItem>,
        equipment: Vec<EquippedItem>,
    },
    /// The player's guild is at war with guild `with` now (`at_war`), or no longer.
    GuildWar {
        with: i64,
        at_war: bool,
    },
    /// The player's queue formed a full group: the player goes to the queue's instance zone
    /// with the other `members` (a new `welcome`, or a `redirect` to that zone's node).
    GroupFormed {
        queue: String,
        zone: i32,
        members: Vec<i64>,
    },
    /// A friend came into the world or left it, on any node.
    FriendOnline {
        friend: i64,
        online: bool,
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

/// What a data request answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Data {
    MarketPage {
        rows: Vec<ListingRow>,
        next: Option<Cursor>,
    },
    Mailbox {
        mails: Vec<MailRow>,
    },
    /// One mail's whole text; `gold` and `items` are what is left to claim.
    Mail {
        mail: i64,
        from: Option<i64>,
        subject: String,
        body: String,
        gold: i64,
        items: i64,
        claimed: bool,
    },
    Leaderboard {
        board: String,
        top: Vec<Ranked>,
        /// The player's own rank (1 is the first) and score, if ranked.
        me: Option<Ranked>,
    },
    /// A definition as the game content gives it (JSON, as `cache:item_def:{id}` holds it).
    ItemInfo {
        item_def: i32,
        definition: serde_json::Value,
    },
    SkillInfo {
        skill: i32,
        definition: serde_json::Value,
    },
    /// The player's guild (`None`: in no guild).
    Guild {
        guild: Option<GuildRow>,
    },
    /// The player's friends list, by name.
    Friends {
        friends: Vec<FriendRow>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GuildRow {
    pub guild: i64,
    pub name: String,
    pub leader: i64,
    /// By rank, then name.
    pub members: Vec<GuildMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GuildMember {
    pub character: i64,
    pub name: String,
    /// 0 is the leader's; lower numbers rank higher (1 officer, 2 member, 3 recruit by default).
    pub rank: i16,
    /// The rank's name in this guild.
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FriendRow {
    pub character: i64,
    pub name: String,
    /// `accepted` (friends), `requested` (asked by the player), `pending` (asking the player)
    /// or `blocked` (by the player).
    pub status: String,
    /// Whether an accepted friend is in the world now (absent for the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ListingRow {
    pub listing: i64,
    pub item_def: i32,
    pub quantity: i32,
    pub price: i64,
    pub seller: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MailRow {
    pub mail: i64,
    pub from: Option<i64>,
    pub subject: String,
    pub gold: i64,
    pub items: i64,
    pub read: bool,
    pub claimed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Ranked {
    pub rank: u64,
    pub character: i64,
    pub score: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Announcement {
    Text {
        text: String,
    },
    Maintenance {
        starts_unix_ms: i64,
        message: String,
    },
    WorldBoss {
        zone: i32,
        name: String,
    },
}
