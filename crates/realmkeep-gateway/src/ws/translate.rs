//! Zone notices and inbox events into protocol messages. What a v1 client does not need (the
//! coarse `Surroundings`, the `Joined` that the welcome replaces) is dropped.

use crate::limits::VIEW_ENTERED_PER_FRAME_MAX;
use realmkeep_cache::PlayerEvent as CacheEvent;
use realmkeep_domain::records::Refusal;
use realmkeep_protocol::ws::{
    Answer, ChatLine, Entity, EntityKind, GameEvent, InboxEvent, Moved, ServerMsg, View,
};
use realmkeep_protocol::Reason;
use realmkeep_zone::io::{Action, ChatChannel, Denial, PlayerEvent, ViewDelta, Visible};

/// A zone's view delta on the wire (the zone already gives positions and velocities to the
/// hundredth: what it remembers of the client is what the wire carries).
pub(crate) fn view(d: ViewDelta) -> View {
    View {
        entered: d
            .entered
            .into_iter()
            .map(|e| Entity {
                net_id: e.net_id.0,
                kind: match e.what {
                    Visible::Player {
                        character,
                        name,
                        level,
                    } => EntityKind::Player {
                        character: character.0,
                        name,
                        level,
                    },
                    Visible::Monster { def, level } => EntityKind::Monster { def, level },
                    Visible::Loot { def, quantity } => EntityKind::Loot {
                        def: def.0,
                        quantity,
                    },
                },
                x: e.x,
                y: e.y,
                vx: e.vx,
                vy: e.vy,
                health: e.health,
                max_health: e.max_health,
            })
            .collect(),
        moved: d
            .moved
            .into_iter()
            .map(|m| Moved::new(m.net_id.0, m.x, m.y, m.health, m.vx, m.vy))
            .collect(),
        left: d.left.into_iter().map(|n| n.0).collect(),
    }
}

/// A view delta as the frames it is sent in: the first with what moved and left and the first
/// `VIEW_ENTERED_PER_FRAME_MAX` that entered, then the rest of those that entered in frames of as
/// many. A join's first view (up to `VIEW_ENTITIES_MAX` entities) would otherwise be one frame of
/// ~14 KB, and the socket's write buffer keeps the capacity of the largest frame it ever wrote.
pub(crate) fn view_frames(d: ViewDelta) -> Vec<View> {
    let mut whole = view(d);
    if whole.entered.len() <= VIEW_ENTERED_PER_FRAME_MAX {
        return vec![whole];
    }
    let rest = whole.entered.split_off(VIEW_ENTERED_PER_FRAME_MAX);
    let mut frames = vec![whole];
    let mut rest = rest.into_iter().peekable();
    while rest.peek().is_some() {
        frames.push(View {
            entered: rest.by_ref().take(VIEW_ENTERED_PER_FRAME_MAX).collect(),
            ..View::default()
        });
    }
    frames
}

fn action(a: Action) -> String {
    format!("{a:?}").to_lowercase()
}

fn denial(d: Denial) -> Reason {
    match d {
        Denial::NoSuchTarget => Reason::NoSuchTarget,
        Denial::OutOfRange => Reason::OutOfRange,
        Denial::NotLearned | Denial::NotAllowed => Reason::NotAllowed,
        Denial::OnCooldown { .. } => Reason::OnCooldown,
        Denial::NotEnoughMana => Reason::NotEnoughMana,
        Denial::Reserved => Reason::Reserved,
        Denial::Busy => Reason::TryAgain,
        Denial::Dead => Reason::Dead,
        Denial::Invalid => Reason::Invalid,
        Denial::Blocked => Reason::Blocked,
    }
}

/// The message for a zone notice, if a v1 client gets one.
pub(crate) fn notice(e: PlayerEvent) -> Option<ServerMsg> {
    use GameEvent as G;
    let ev = |g| Some(ServerMsg::Event(g));
    match e {
        PlayerEvent::Joined { .. } | PlayerEvent::Surroundings { .. } | PlayerEvent::Accepted => {
            None
        }
        PlayerEvent::View(d) => Some(ServerMsg::View(view(d))),
        PlayerEvent::Chat {
            channel,
            from,
            name,
            text,
        } => Some(ServerMsg::Chat(ChatLine {
            channel: match channel {
                ChatChannel::Say => "say",
                ChatChannel::Global => "global",
                ChatChannel::Kingdom => "kingdom",
                ChatChannel::Guild => "guild",
                ChatChannel::Whisper { .. } => "whisper",
            }
            .to_string(),
            from: from.0,
            name,
            text,
            history: false,
        })),
        PlayerEvent::Denied { action: a, reason } => ev(G::Denied {
            action: action(a),
            reason: denial(reason),
        }),
        PlayerEvent::Refused { action: a, reason } => ev(G::Refused {
            action: action(a),
            detail: reason.to_string(),
        }),
        PlayerEvent::TryAgain { action: a } => ev(G::TryAgain { action: action(a) }),
        PlayerEvent::Throttled { dropped } => ev(G::Throttled { dropped }),
        PlayerEvent::XpGained { amount, xp } => ev(G::XpGained { amount, xp }),
        PlayerEvent::LevelUp { level } => ev(G::LevelUp { level }),
        PlayerEvent::GoldChanged { gold } => ev(G::GoldChanged { gold }),
        PlayerEvent::Looted {
            def,
            quantity,
            item,
        } => ev(G::Looted {
            def: def.0,
            quantity,
            item: item.map(|i| i.0),
        }),
        PlayerEvent::Died => ev(G::Died),
        PlayerEvent::Respawned { x, y } => ev(G::Respawned { x, y }),
        PlayerEvent::QuestAccepted { quest } => ev(G::QuestAccepted { quest: quest.0 }),
        PlayerEvent::QuestProgress { quest, progress } => ev(G::QuestProgress {
            quest: quest.0,
            progress,
        }),
        PlayerEvent::QuestCompleted { quest } => ev(G::QuestCompleted { quest: quest.0 }),
        PlayerEvent::QuestAbandoned { quest } => ev(G::QuestAbandoned { quest: quest.0 }),
        PlayerEvent::TradeOffered { from, give, want } => ev(G::TradeOffered {
            from: from.0,
            give: offer(&give),
            want: offer(&want),
        }),
        PlayerEvent::TradeCancelled { from } => ev(G::TradeCancelled { from: from.0 }),
        PlayerEvent::TradeDone { with, trade } => ev(G::TradeDone {
            with: with.0,
            trade,
        }),
        PlayerEvent::Listed { listing, item } => ev(G::Listed {
            listing: listing.0,
            item: item.0,
        }),
        PlayerEvent::Bought {
            listing,
            item,
            def,
            quantity,
            price,
        } => ev(G::Bought {
            listing: listing.0,
            item: item.0,
            item_def: def.0,
            quantity,
            price,
        }),
        PlayerEvent::ListingCancelled { listing, item } => ev(G::ListingCancelled {
            listing: listing.0,
            item: item.0,
        }),
        PlayerEvent::MailSent { mail } => ev(G::MailSent { mail: mail.0 }),
        PlayerEvent::MailClaimed { mail, gold, items } => ev(G::MailClaimed {
            mail: mail.0,
            gold,
            items: items as u32,
        }),
        PlayerEvent::GuildChanged { guild } => ev(G::GuildChanged {
            guild: guild.map(|g| g.0),
        }),
        PlayerEvent::FriendChanged { other, op, friends } => ev(G::FriendChanged {
            other: other.0,
            op: format!("{op:?}").to_lowercase(),
            friends,
        }),
        PlayerEvent::ItemsChanged { bag, equipment } => ev(G::Items {
            bag: bag.iter().map(super::me::bag_item).collect(),
            equipment: equipment.iter().map(super::me::equipped_item).collect(),
        }),
        PlayerEvent::MailDeleted { mail } => ev(G::MailDeleted { mail: mail.0 }),
        // Pages are data of their request (`data`), not events.
        PlayerEvent::MarketPage { .. } | PlayerEvent::Mailbox { .. } | PlayerEvent::MailRead(_) => {
            None
        }
    }
}

pub(crate) fn inbox(e: &CacheEvent) -> InboxEvent {
    match e {
        CacheEvent::Kicked { reason } => InboxEvent::Kicked {
            reason: reason.clone(),
        },
        CacheEvent::MailArrived { mail } => InboxEvent::MailArrived { mail: mail.0 },
        other => {
            let name = format!("{other:?}");
            InboxEvent::Other {
                name: name
                    .split(|c: char| !c.is_alphanumeric())
                    .next()
                    .unwrap_or("")
                    .to_string(),
            }
        }
    }
}

/// The answer to a command, from the zone's first notice about it.
pub(crate) fn answer(e: &PlayerEvent) -> Answer {
    match e {
        PlayerEvent::Denied {
            reason: Denial::Busy,
            ..
        }
        | PlayerEvent::TryAgain { .. } => Answer::TryAgain {
            retry_after_ms: Some(RETRY_AFTER_MS),
        },
        PlayerEvent::Throttled { .. } => Answer::RateLimited {
            retry_after_ms: RETRY_AFTER_MS,
        },
        PlayerEvent::Denied { reason, .. } => Answer::Refused {
            reason: denial(*reason),
            detail: None,
        },
        PlayerEvent::Refused {
            reason: Refusal::Blocked,
            ..
        } => Answer::Refused {
            reason: Reason::Blocked,
            detail: None,
        },
        PlayerEvent::Refused { reason, .. } => Answer::Refused {
            reason: Reason::GameRule,
            detail: Some(reason.to_string()),
        },
        // `Accepted`, or the action's own result (the store committed it).
        _ => Answer::Ok,
    }
}

/// When to try a command again after "busy" or "throttled": the zone's next ticks.
const RETRY_AFTER_MS: u64 = 100;

fn offer(o: &realmkeep_zone::io::TradeOffer) -> realmkeep_protocol::ws::Offer {
    realmkeep_protocol::ws::Offer {
        items: o.items.iter().map(|i| i.0).collect(),
        gold: o.gold.get(),
    }
}

/// The data a reply carries (a market page, a mailbox), if any.
pub(crate) fn data(e: &PlayerEvent) -> Option<realmkeep_protocol::ws::Data> {
    use realmkeep_protocol::ws::{Cursor, Data, ListingRow, MailRow};
    match e {
        PlayerEvent::MarketPage { rows, next } => Some(Data::MarketPage {
            rows: rows
                .iter()
                .map(|r| ListingRow {
                    listing: r.listing.0,
                    item_def: r.def.0,
                    quantity: r.quantity,
                    price: r.price,
                    seller: r.seller.0,
                })
                .collect(),
            next: next.map(|(price, l)| Cursor {
                price,
                listing: l.0,
            }),
        }),
        PlayerEvent::Mailbox { mails } => Some(Data::Mailbox {
            mails: mails
                .iter()
                .map(|m| MailRow {
                    mail: m.mail.0,
                    from: m.from.map(|c| c.0),
                    subject: m.subject.clone(),
                    gold: m.gold,
                    items: m.items,
                    read: m.read,
                    claimed: m.claimed,
                })
                .collect(),
        }),
        PlayerEvent::MailRead(l) => Some(Data::Mail {
            mail: l.mail.0,
            from: l.from.map(|c| c.0),
            subject: l.subject.clone(),
            body: l.body.clone(),
            gold: l.gold,
            items: l.items,
            claimed: l.claimed,
        }),
        _ => None,
    }
}

/// A live (not must-arrive) player event from `player_events:{id}`: a whisper, a friend online.
pub(crate) fn live(e: CacheEvent) -> Option<ServerMsg> {
    match e {
        CacheEvent::Whisper { line } => Some(ServerMsg::Chat(ChatLine {
            channel: "whisper".into(),
            from: line.from.0,
            name: line.from_name.to_string(),
            text: line.text,
            history: false,
        })),
        CacheEvent::FriendOnline { friend } => Some(ServerMsg::Event(GameEvent::FriendOnline {
            friend: friend.0,
            online: true,
        })),
        CacheEvent::FriendOffline { friend } => Some(ServerMsg::Event(GameEvent::FriendOnline {
            friend: friend.0,
            online: false,
        })),
        CacheEvent::GroupFormed {
            queue,
            zone,
            members,
        } => Some(ServerMsg::Event(GameEvent::GroupFormed {
            queue: queue.as_str().to_string(),
            zone: zone.0,
            members: members.iter().map(|m| m.0).collect(),
        })),
        other => Some(ServerMsg::Inbox(inbox(&other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use realmkeep_zone::io::{Entered, Moved as ZoneMoved, NetId};

    #[test]
    fn a_large_view_goes_in_frames_of_a_bounded_number_of_entities() {
        let entered = |n: u64| Entered {
            net_id: NetId(n),
            what: Visible::Monster { def: 1, level: 1 },
            x: 1.0,
            y: 2.0,
            vx: 0.0,
            vy: 0.0,
            health: 10,
            max_health: 10,
        };
        let d = ViewDelta {
            entered: (0..40).map(entered).collect(),
            moved: vec![ZoneMoved {
                net_id: NetId(100),
                x: 3.0,
                y: 4.0,
                vx: 6.0,
                vy: 0.0,
                health: 5,
            }],
            left: vec![NetId(200)],
        };
        let frames = view_frames(d);
        let sizes: Vec<usize> = frames.iter().map(|v| v.entered.len()).collect();
        assert_eq!(sizes, vec![16, 16, 8]);
        assert_eq!((frames[0].moved.len(), frames[0].left.len()), (1, 1));
        assert!(frames[1..]
            .iter()
            .all(|v| v.moved.is_empty() && v.left.is_empty()));
        let ids: Vec<u64> = frames
            .iter()
            .flat_map(|v| v.entered.iter().map(|e| e.net_id))
            .collect();
        assert_eq!(ids, (0..40).collect::<Vec<_>>());
        // A small one stays one frame.
        let small = ViewDelta {
            entered: vec![entered(1)],
            moved: vec![],
            left: vec![],
        };
        assert_eq!(view_frames(small).len(), 1);
    }
}
