//! Each wire command's meaning: what `realmkeep_protocol::ws::Command` becomes as a
//! `PlayerCommand` for the zone, or a question the gateway answers itself (leaderboards, item
//! and skill information, the player's guild and friends list). The checks here need the connection's state (the one-step move) or
//! the domain's parsers (names, gold); `decode.rs` has already checked each command's own
//! bounds. Ids a client names are only what it asks about (a target, a listing, a mail): whose
//! they are and whether the player may touch them is for the zone and the store to say.

use realmkeep_cache::QueueKind;
use realmkeep_domain::{
    CharacterId, EquipSlot, Gold, GuildId, GuildName, InventorySlot, ItemDefId, ItemId, ListingId,
    MailId, Quantity, QuestId, SkillId,
};
use realmkeep_protocol::ws::{Command, Offer};
use realmkeep_protocol::Reason;
use realmkeep_zone::io::{
    ChatChannel, FriendOp, GuildOp, ItemOp, Letter, MarketSearch, NetId, PlayerCommand, TradeOffer,
};
use realmkeep_zone::limits::MOVE_STEP_MAX;

/// What the connection does with a command.
pub(crate) enum Routed {
    /// To the zone, answered by the zone's reply to it.
    Zone(PlayerCommand),
    /// Leave the world: answered after the final save.
    Logout,
    /// Answered by the gateway from the cache (and PostgreSQL's reads of the player's guild
    /// and friends).
    Info(Info),
    /// A guild war, declared or ended through the store (who may) and the cache (the war).
    War(War),
    /// Joining or leaving a matchmaking queue (the cache).
    Queue(Queue),
}

pub(crate) enum Queue {
    Join(QueueKind),
    Leave(QueueKind),
}

fn queue(name: &str) -> Result<QueueKind, Refusal> {
    QueueKind::ALL
        .iter()
        .copied()
        .find(|k| k.as_str() == name)
        .ok_or_else(|| bad("queue", "dungeon or arena"))
}

pub(crate) enum War {
    Declare { on: GuildId, hours: u32 },
    End { with: GuildId },
}

pub(crate) enum Info {
    Leaderboard {
        board: realmkeep_cache::LeaderboardKind,
        top: u32,
    },
    Item(ItemDefId),
    Skill(SkillId),
    /// The player's guild and its members (PostgreSQL).
    Guild,
    /// The player's friends list (PostgreSQL) and which friends are in the world (presence).
    Friends,
}

/// Where the player is as the connection last heard (its net id, place and velocity).
pub(crate) type Me = Option<super::me::Place>;

type Refusal = (Reason, String);

fn bad(what: &str, e: impl std::fmt::Display) -> Refusal {
    (Reason::BadFields, format!("{what}: {e}"))
}

fn gold(v: i64) -> Result<Gold, Refusal> {
    Gold::new(v).map_err(|e| bad("gold", e))
}

fn bag_slot(v: i16) -> Result<InventorySlot, Refusal> {
    InventorySlot::new(v).map_err(|e| bad("slot", e))
}

fn offer(o: Offer) -> Result<TradeOffer, Refusal> {
    Ok(TradeOffer {
        items: o.items.into_iter().map(ItemId).collect(),
        gold: gold(o.gold)?,
    })
}

pub(crate) fn route(cmd: Command, me: Me) -> Result<Routed, Refusal> {
    Ok(Routed::Zone(match cmd {
        Command::Join { .. } => {
            return Err((Reason::AlreadyJoined, "already in the world".into()));
        }
        Command::Logout => return Ok(Routed::Logout),
        Command::MoveTo { x, y } => {
            if let Some((mx, my)) = me.map(|p| p.now()) {
                let d = ((x - mx).powi(2) + (y - my).powi(2)).sqrt();
                if d > MOVE_STEP_MAX {
                    return Err((
                        Reason::BadPosition,
                        format!("at most {MOVE_STEP_MAX} units away per move"),
                    ));
                }
            }
            PlayerCommand::MoveTo { x, y }
        }
        Command::Move { dx, dy } => PlayerCommand::Move { dx, dy },
        Command::Stop => PlayerCommand::Stop,
        Command::Say { text } => PlayerCommand::Chat {
            channel: ChatChannel::Say,
            text: text.trim().to_string(),
        },
        Command::Chat { channel, text } => PlayerCommand::Chat {
            channel: match channel.as_str() {
                "global" => ChatChannel::Global,
                "kingdom" => ChatChannel::Kingdom,
                "guild" => ChatChannel::Guild,
                "say" => ChatChannel::Say,
                _ => return Err(bad("channel", "say, global, kingdom or guild")),
            },
            text: text.trim().to_string(),
        },
        Command::Whisper { to, text } => PlayerCommand::Chat {
            channel: ChatChannel::Whisper {
                to: CharacterId(to),
            },
            text: text.trim().to_string(),
        },
        Command::Attack { target } => PlayerCommand::Attack {
            target: NetId(target),
        },
        Command::StopAttack => PlayerCommand::StopAttack,
        Command::UseSkill { skill, target } => PlayerCommand::UseSkill {
            skill: SkillId(skill),
            target: target.map(NetId),
        },
        Command::PickUp { loot } => PlayerCommand::PickUp { loot: NetId(loot) },
        Command::AcceptQuest { quest } => PlayerCommand::AcceptQuest {
            quest: QuestId(quest),
        },
        Command::AbandonQuest { quest } => PlayerCommand::AbandonQuest {
            quest: QuestId(quest),
        },
        Command::CompleteQuest { quest } => PlayerCommand::CompleteQuest {
            quest: QuestId(quest),
        },
        Command::Trade { with, give, want } => PlayerCommand::Trade {
            with: CharacterId(with),
            give: offer(give)?,
            want: offer(want)?,
        },
        Command::TradeCancel { with } => PlayerCommand::TradeCancel {
            with: CharacterId(with),
        },
        Command::ListItem { item, price, hours } => PlayerCommand::ListItem {
            item: ItemId(item),
            price: gold(price)?,
            hours,
        },
        Command::BuyListing { listing } => PlayerCommand::BuyListing {
            listing: ListingId(listing),
        },
        Command::CancelListing { listing } => PlayerCommand::CancelListing {
            listing: ListingId(listing),
        },
        Command::SearchMarket {
            item_def,
            min_price,
            max_price,
            after,
            rows,
        } => PlayerCommand::SearchMarket(MarketSearch {
            item_def: item_def.map(ItemDefId),
            min_price: min_price.map(gold).transpose()?,
            max_price: max_price.map(gold).transpose()?,
            after: after.map(|c| (c.price, ListingId(c.listing))),
            rows,
        }),
        Command::SendMail {
            to,
            subject,
            body,
            gold: g,
            items,
        } => PlayerCommand::SendMail(Letter {
            to: CharacterId(to),
            subject,
            body,
            gold: gold(g)?,
            items: items.into_iter().map(ItemId).collect(),
        }),
        Command::ListMail => PlayerCommand::ListMail,
        Command::ClaimMail { mail } => PlayerCommand::ClaimMail { mail: MailId(mail) },
        Command::ReadMail { mail } => PlayerCommand::ReadMail { mail: MailId(mail) },
        Command::DeleteMail { mail } => PlayerCommand::DeleteMail { mail: MailId(mail) },
        Command::GuildCreate { name } => PlayerCommand::Guild(GuildOp::Create {
            name: GuildName::parse(&name).map_err(|e| (Reason::BadName, e.to_string()))?,
        }),
        Command::GuildInvite { who } => PlayerCommand::Guild(GuildOp::Invite {
            who: CharacterId(who),
        }),
        Command::GuildAccept { guild } => PlayerCommand::Guild(GuildOp::Accept {
            guild: GuildId(guild),
        }),
        Command::GuildDecline { guild } => PlayerCommand::Guild(GuildOp::Decline {
            guild: GuildId(guild),
        }),
        Command::GuildLeave => PlayerCommand::Guild(GuildOp::Leave),
        Command::GuildKick { who } => PlayerCommand::Guild(GuildOp::Kick {
            who: CharacterId(who),
        }),
        Command::GuildSetRank { who, rank } => PlayerCommand::Guild(GuildOp::SetRank {
            who: CharacterId(who),
            rank,
        }),
        Command::GuildHandOver { to } => PlayerCommand::Guild(GuildOp::HandOver {
            to: CharacterId(to),
        }),
        Command::GuildDisband => PlayerCommand::Guild(GuildOp::Disband),
        Command::Friend { other, op } => PlayerCommand::Friend {
            other: CharacterId(other),
            op: match op.as_str() {
                "request" => FriendOp::Request,
                "accept" => FriendOp::Accept,
                "remove" => FriendOp::Remove,
                "block" => FriendOp::Block,
                "unblock" => FriendOp::Unblock,
                _ => return Err(bad("op", "request, accept, remove, block or unblock")),
            },
        },
        Command::Leaderboard { board, top } => {
            let board = match board.as_str() {
                "pvp" => realmkeep_cache::LeaderboardKind::Pvp,
                "level" => realmkeep_cache::LeaderboardKind::Level,
                _ => return Err(bad("board", "pvp or level")),
            };
            return Ok(Routed::Info(Info::Leaderboard { board, top }));
        }
        Command::ChangeZone { to } => PlayerCommand::ChangeZone {
            to: realmkeep_domain::ZoneId(to),
        },
        Command::MoveItem { item, slot } => PlayerCommand::Item(ItemOp::Move {
            item: ItemId(item),
            to: bag_slot(slot)?,
        }),
        Command::SplitStack {
            item,
            quantity,
            slot,
        } => PlayerCommand::Item(ItemOp::Split {
            item: ItemId(item),
            quantity: Quantity::new(quantity).map_err(|e| bad("quantity", e))?,
            to: bag_slot(slot)?,
        }),
        Command::MergeStacks { from, onto } => PlayerCommand::Item(ItemOp::Merge {
            from: ItemId(from),
            onto: ItemId(onto),
        }),
        Command::Equip { item } => PlayerCommand::Item(ItemOp::Equip { item: ItemId(item) }),
        Command::Unequip { slot, to } => PlayerCommand::Item(ItemOp::Unequip {
            slot: slot.parse::<EquipSlot>().map_err(|e| bad("slot", e))?,
            to: to.map(bag_slot).transpose()?,
        }),
        Command::DestroyItem { item } => {
            PlayerCommand::Item(ItemOp::Destroy { item: ItemId(item) })
        }
        Command::GuildWarDeclare { on, hours } => {
            return Ok(Routed::War(War::Declare {
                on: GuildId(on),
                hours,
            }))
        }
        Command::GuildWarEnd { with } => {
            return Ok(Routed::War(War::End {
                with: GuildId(with),
            }))
        }
        Command::QueueJoin { queue: q } => return Ok(Routed::Queue(Queue::Join(queue(&q)?))),
        Command::QueueLeave { queue: q } => return Ok(Routed::Queue(Queue::Leave(queue(&q)?))),
        Command::ItemInfo { item_def } => return Ok(Routed::Info(Info::Item(ItemDefId(item_def)))),
        Command::SkillInfo { skill } => return Ok(Routed::Info(Info::Skill(SkillId(skill)))),
        Command::GuildInfo => return Ok(Routed::Info(Info::Guild)),
        Command::FriendList => return Ok(Routed::Info(Info::Friends)),
    }))
}
