//! What players ask for and what they are told.

use super::NetId;
pub use crate::actions::friend::FriendOp;
pub use crate::actions::guild::GuildOp;
pub use crate::actions::mail_list::MailSeen;
pub use crate::actions::mail_send::Letter;
pub use crate::actions::market_search::{ListingSeen, MarketSearch};
pub use realmkeep_domain::records::ItemOp;
use realmkeep_domain::records::{EquippedItem, InventoryItem, Refusal};
use realmkeep_domain::{
    CharacterId, Gold, GuildId, ItemDefId, ItemId, ListingId, MailId, QuestId, SkillId, ZoneId,
};

/// What a player asks for. Parsed and bounded by the gateway; the zone checks the game rules.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerCommand {
    /// Walk towards a point (clamped to the zone; one step at most `MOVE_STEP_MAX` away).
    MoveTo {
        x: f32,
        y: f32,
    },
    /// Walk in a direction until `Stop` (the vector is normalised).
    Move {
        dx: f32,
        dy: f32,
    },
    Stop,
    /// Select a target and start auto-attacking it (a monster, or a player of another kingdom).
    Attack {
        target: NetId,
    },
    /// Stop auto-attacking.
    StopAttack,
    /// Use a learned skill, on a target or (healing, self skills) on oneself.
    UseSkill {
        skill: SkillId,
        target: Option<NetId>,
    },
    /// Pick up a loot entity in reach: a critical action, answered when the store has placed it.
    PickUp {
        loot: NetId,
    },
    Chat {
        channel: ChatChannel,
        text: String,
    },
    AcceptQuest {
        quest: QuestId,
    },
    AbandonQuest {
        quest: QuestId,
    },
    CompleteQuest {
        quest: QuestId,
    },
    /// Offer a trade to a character in this zone. It happens when the other side offers the
    /// mirror image (gives what this side wants, wants what it gives) within `TRADE_OFFER_MS`.
    Trade {
        with: CharacterId,
        give: TradeOffer,
        want: TradeOffer,
    },
    /// Withdraw one's open offer to `with`.
    TradeCancel {
        with: CharacterId,
    },
    Logout,
    ChangeZone {
        to: ZoneId,
    },
    /// Put an item of the bag on the market for `hours`.
    ListItem {
        item: ItemId,
        price: Gold,
        hours: i64,
    },
    BuyListing {
        listing: ListingId,
    },
    CancelListing {
        listing: ListingId,
    },
    SearchMarket(MarketSearch),
    SendMail(Letter),
    ListMail,
    ClaimMail {
        mail: MailId,
    },
    ReadMail {
        mail: MailId,
    },
    DeleteMail {
        mail: MailId,
    },
    Guild(GuildOp),
    Friend {
        other: CharacterId,
        op: FriendOp,
    },
    /// Move, split, merge, equip, unequip or destroy an item of the player's own: critical,
    /// answered once committed.
    Item(ItemOp),
}

/// One side of a trade: item instances and gold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TradeOffer {
    pub items: Vec<ItemId>,
    pub gold: Gold,
}

/// Where a chat message goes. `Say` stays in the zone (players nearby); the others are published
/// through the cache (`CacheRequest::Chat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatChannel {
    Say,
    Global,
    Kingdom,
    Guild,
    Whisper { to: CharacterId },
}

/// The player action a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Move,
    Attack,
    Skill,
    Pickup,
    Chat,
    Quest,
    Trade,
    Market,
    Mail,
    Guild,
    Friend,
    Item,
    Command,
}

/// Why the zone itself said no (before any store request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    NoSuchTarget,
    OutOfRange,
    NotLearned,
    OnCooldown {
        remaining_ms: u32,
    },
    NotEnoughMana,
    /// Already picked up by someone (result pending) or not yours.
    Reserved,
    /// Too many requests waiting for the store: try again shortly.
    Busy,
    NotAllowed,
    Dead,
    Invalid,
    /// The other player blocks this one: nothing was delivered.
    Blocked,
}

/// A notice to one player; the host forwards it (the gateway translates it for the socket).
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerEvent {
    /// A tagged command was applied and nothing else was said about it (its tag is on this).
    Accepted,
    Joined {
        zone: ZoneId,
        net_id: NetId,
        x: f32,
        y: f32,
    },
    /// The zone refused the action (rules, range, cooldown, busy).
    Denied {
        action: Action,
        reason: Denial,
    },
    /// The store refused the action; nothing changed.
    Refused {
        action: Action,
        reason: Refusal,
    },
    /// The store was unavailable; nothing changed; try again.
    TryAgain {
        action: Action,
    },
    /// More commands than `COMMANDS_PER_PLAYER_PER_TICK_MAX` this tick; the rest were dropped.
    Throttled {
        dropped: u32,
    },
    XpGained {
        amount: i64,
        xp: i64,
    },
    LevelUp {
        level: i32,
    },
    /// A pickup is done: the item is in the bag. `item`: the stack that took it (none when a
    /// pickup tried again was found done before, with nothing new).
    Looted {
        def: ItemDefId,
        quantity: i32,
        item: Option<ItemId>,
    },
    GoldChanged {
        gold: i64,
    },
    QuestAccepted {
        quest: QuestId,
    },
    QuestProgress {
        quest: QuestId,
        progress: i32,
    },
    QuestAbandoned {
        quest: QuestId,
    },
    QuestCompleted {
        quest: QuestId,
    },
    /// `from` withdrew its open offer to the player.
    TradeCancelled {
        from: CharacterId,
    },
    TradeOffered {
        from: CharacterId,
        give: TradeOffer,
        want: TradeOffer,
    },
    /// A trade committed; `trade` is its reference in the store's logs.
    TradeDone {
        with: CharacterId,
        trade: String,
    },
    /// An item went on the market.
    Listed {
        listing: ListingId,
        item: ItemId,
    },
    /// A listing was bought: the item is in the bag.
    Bought {
        listing: ListingId,
        item: ItemId,
        def: ItemDefId,
        quantity: i32,
        price: i64,
    },
    /// A listing came off the market: the item is back in the bag.
    ListingCancelled {
        listing: ListingId,
        item: ItemId,
    },
    /// A page of a market search; `next` is the cursor of the following page.
    MarketPage {
        rows: Vec<ListingSeen>,
        next: Option<(i64, ListingId)>,
    },
    MailSent {
        mail: MailId,
    },
    Mailbox {
        mails: Vec<MailSeen>,
    },
    MailClaimed {
        mail: MailId,
        gold: i64,
        items: usize,
    },
    /// One mail's whole text (the answer to `ReadMail`).
    MailRead(crate::actions::mail_read::Letter),
    MailDeleted {
        mail: MailId,
    },
    /// The player's guild after a guild operation (`None`: in no guild).
    GuildChanged {
        guild: Option<GuildId>,
    },
    FriendChanged {
        other: CharacterId,
        op: FriendOp,
        friends: bool,
    },
    /// An item operation committed: the whole bag and equipment now.
    ItemsChanged {
        bag: Vec<InventoryItem>,
        equipment: Vec<EquippedItem>,
    },
    Died,
    Respawned {
        x: f32,
        y: f32,
    },
    Chat {
        channel: ChatChannel,
        from: CharacterId,
        name: String,
        text: String,
    },
    /// What changed in view since the last one (players that `ZoneInput::Watch`, every
    /// `VIEW_EVERY_TICKS`, or `VIEW_CROWD_EVERY_TICKS` in a crowd): entities that came within
    /// `VIEW_RADIUS`, moved or changed hit points, and left. Sent only when something changed;
    /// the first one after a `Watch` lists everything in view (the player itself included).
    View(ViewDelta),
    /// A coarse view of the surroundings, every few ticks.
    Surroundings {
        x: f32,
        y: f32,
        health: i32,
        mana: i32,
        players_nearby: u32,
        monsters_nearby: u32,
        loot_nearby: u32,
    },
}

/// One view update: deltas, not full states.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ViewDelta {
    pub entered: Vec<Entered>,
    pub moved: Vec<Moved>,
    pub left: Vec<NetId>,
}

impl ViewDelta {
    pub fn is_empty(&self) -> bool {
        self.entered.is_empty() && self.moved.is_empty() && self.left.is_empty()
    }
}

/// An entity that came into view, with what a client needs to draw it (and its velocity, units
/// per second, to extrapolate it: zero when it stands).
#[derive(Debug, Clone, PartialEq)]
pub struct Entered {
    pub net_id: NetId,
    pub what: Visible,
    pub x: f32,
    pub y: f32,
    pub vx: f32,
    pub vy: f32,
    pub health: i32,
    pub max_health: i32,
}

/// What kind of entity came into view.
#[derive(Debug, Clone, PartialEq)]
pub enum Visible {
    Player {
        character: CharacterId,
        name: String,
        level: i32,
    },
    Monster {
        def: i32,
        level: i32,
    },
    Loot {
        def: ItemDefId,
        quantity: i32,
    },
}

/// An entity in view whose hit points changed, or whose moves its client no longer predicts:
/// where it is and its velocity now (units per second, zero when it stands), to extrapolate from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moved {
    pub net_id: NetId,
    pub x: f32,
    pub y: f32,
    pub vx: f32,
    pub vy: f32,
    pub health: i32,
}
