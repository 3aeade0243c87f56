//! The decision function of one simulated player: what it does next, from its seed and from what
//! it observed. Pure: no clock, no I/O, no shared state; the same seed and the same observations
//! give the same intents, which `tests/decisions.rs` checks. The drivers (`driver.rs` over a
//! cluster, the zone benchmark over a bare `Zone`) build the observations and carry the intents
//! out.

pub use crate::behaviour::{Behaviour, Pace};
use crate::limits::{LISTING_HOURS, MARKET_SEARCH_ROWS};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use realmkeep_domain::{CharacterId, Gold, ItemDefId, ItemId, ZoneId};
use realmkeep_zone::io::{ChatChannel, Letter, MarketSearch, NetId, PlayerCommand, TradeOffer};
use realmkeep_zone::limits::{MELEE_RANGE, PICKUP_RANGE};

/// Loot farther than this is not worth the walk.
const LOOT_SEEK_RADIUS: f32 = 20.0;
/// How far a player wanders when nothing is in sight.
const WANDER_RADIUS: f32 = 30.0;
/// Reach kept a little inside the zone's own ranges, so a step of the target does not put it
/// out of range by the time the command is applied.
const PICKUP_REACH: f32 = PICKUP_RANGE - 0.5;
const MELEE_REACH: f32 = MELEE_RANGE - 0.5;
/// Gold asked for one item in a trade, and sent in one mail, at the most.
const TRADE_GOLD_MAX: i64 = 5;
const MAIL_GOLD_MAX: i64 = 3;
/// A listing's price at the most, so that other players can afford it.
const LISTING_PRICE_MAX: i64 = 40;
/// Gold spent on one purchase at the most.
const BUY_BUDGET_MAX: i64 = 60;
const CHAT_LINES: &[&str] = &[
    "hello there",
    "anyone for the dungeon?",
    "selling pelts, cheap",
    "watch out for the golems",
    "good hunting",
    "lfg",
];

/// The player's own body, as its zone shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Body {
    pub x: f32,
    pub y: f32,
    pub health: i32,
    pub level: i32,
    pub dead: bool,
}

/// A monster or a loot entity in sight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thing {
    pub net: NetId,
    pub x: f32,
    pub y: f32,
}

/// An item the player holds and may give away.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BagItem {
    pub item: ItemId,
    pub def: ItemDefId,
    pub quantity: i32,
    /// The definition's price (a vendor's price per piece).
    pub price: i64,
}

/// A trade offer another player made to this one.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub from: CharacterId,
    pub gives: TradeOffer,
    pub wants: TradeOffer,
}

/// What one simulated player sees at one step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    /// `None` while it is not in a zone (joining, changing zones, offline).
    pub me: Option<Body>,
    pub zone: Option<ZoneId>,
    /// Living monsters and free loot, nearest first.
    pub monsters: Vec<Thing>,
    pub loot: Vec<Thing>,
    /// Other simulated players in the same zone.
    pub peers: Vec<CharacterId>,
    pub bag: Vec<BagItem>,
    /// Gold it may spend.
    pub gold: i64,
    pub offer: Option<Offer>,
    /// An action is waiting for its answer: no new economy action until it is answered.
    pub busy: bool,
    /// Waiting in the dungeon queue.
    pub queued: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    Say,
    Global,
    Kingdom,
}

/// What a player wants to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Wait,
    Walk {
        x: f32,
        y: f32,
    },
    Attack {
        target: NetId,
    },
    PickUp {
        loot: NetId,
    },
    Chat {
        channel: ChatKind,
        text: String,
    },
    /// Offer `item` for `gold` (the first half of a trade).
    OfferTrade {
        with: CharacterId,
        item: ItemId,
        gold: i64,
    },
    /// The mirror image of an offer received: the trade happens.
    AcceptTrade(Offer),
    ListItem {
        item: ItemId,
        price: i64,
    },
    /// Buy the cheapest listing of someone else's at most `budget`.
    BuyListing {
        budget: i64,
    },
    SendMail {
        to: CharacterId,
        gold: i64,
        item: Option<ItemId>,
    },
    /// Claim the first mail that carries something.
    ClaimMail,
    QueueDungeon,
    ChangeZone {
        to: ZoneId,
    },
}

impl Intent {
    /// The zone command that carries this intent out, for intents the zone handles.
    pub fn command(&self) -> Option<PlayerCommand> {
        let gold = |g: i64| Gold::new(g).ok();
        Some(match self {
            Intent::Walk { x, y } => PlayerCommand::MoveTo { x: *x, y: *y },
            Intent::Attack { target } => PlayerCommand::Attack { target: *target },
            Intent::PickUp { loot } => PlayerCommand::PickUp { loot: *loot },
            Intent::Chat { channel, text } => PlayerCommand::Chat {
                channel: match channel {
                    ChatKind::Say => ChatChannel::Say,
                    ChatKind::Global => ChatChannel::Global,
                    ChatKind::Kingdom => ChatChannel::Kingdom,
                },
                text: text.clone(),
            },
            Intent::OfferTrade {
                with,
                item,
                gold: g,
            } => PlayerCommand::Trade {
                with: *with,
                give: TradeOffer {
                    items: vec![*item],
                    gold: Gold::ZERO,
                },
                want: TradeOffer {
                    items: Vec::new(),
                    gold: gold(*g)?,
                },
            },
            Intent::AcceptTrade(offer) => PlayerCommand::Trade {
                with: offer.from,
                give: offer.wants.clone(),
                want: offer.gives.clone(),
            },
            Intent::ChangeZone { to } => PlayerCommand::ChangeZone { to: *to },
            Intent::ListItem { item, price } => PlayerCommand::ListItem {
                item: *item,
                price: gold(*price)?,
                hours: LISTING_HOURS,
            },
            // Buying starts with a search; the buy follows the page (`SimPlayer::on_event`).
            Intent::BuyListing { budget } => PlayerCommand::SearchMarket(MarketSearch {
                max_price: Some(gold(*budget)?),
                rows: MARKET_SEARCH_ROWS,
                ..MarketSearch::default()
            }),
            Intent::SendMail { to, gold: g, item } => PlayerCommand::SendMail(Letter {
                to: *to,
                subject: "A gift".into(),
                body: "From a fellow adventurer.".into(),
                gold: gold(*g)?,
                items: item.iter().copied().collect(),
            }),
            // Claiming starts with the mailbox; the claim follows it.
            Intent::ClaimMail => PlayerCommand::ListMail,
            Intent::Wait | Intent::QueueDungeon => return None,
        })
    }

    /// True for the intents that wait for an answer (store calls, trades, zone changes).
    pub fn is_economy(&self) -> bool {
        !matches!(
            self,
            Intent::Wait
                | Intent::Walk { .. }
                | Intent::Attack { .. }
                | Intent::PickUp { .. }
                | Intent::Chat { .. }
        )
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Chat,
    Trade,
    List,
    Buy,
    Mail,
    Claim,
    Dungeon,
    ChangeZone,
}

/// One player's decision state: its generator and the target it is fighting.
#[derive(Debug, Clone)]
pub struct Mind {
    rng: StdRng,
    target: Option<NetId>,
}

impl Mind {
    /// The mind of player number `player` of a population seeded with `seed`.
    pub fn new(seed: u64, player: u64) -> Self {
        let mixed = seed ^ player.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Self {
            rng: StdRng::seed_from_u64(mixed),
            target: None,
        }
    }

    /// The next intent.
    pub fn decide(&mut self, b: &Behaviour, obs: &Observation) -> Intent {
        let Some(me) = obs.me else {
            return Intent::Wait;
        };
        if me.dead {
            self.target = None;
            return Intent::Wait;
        }
        if !obs.busy {
            if let Some(offer) = &obs.offer {
                let affordable = offer.wants.gold.get() <= obs.gold
                    && offer
                        .wants
                        .items
                        .iter()
                        .all(|i| obs.bag.iter().any(|b| b.item == *i));
                if affordable && self.rng.random_range(0..100) < b.accept_trade_percent {
                    return Intent::AcceptTrade(offer.clone());
                }
            }
            let rates = [
                (b.chat_permille, Kind::Chat),
                (b.trade_permille, Kind::Trade),
                (b.list_permille, Kind::List),
                (b.buy_permille, Kind::Buy),
                (b.mail_permille, Kind::Mail),
                (b.claim_mail_permille, Kind::Claim),
                (b.dungeon_permille, Kind::Dungeon),
                (b.change_zone_permille, Kind::ChangeZone),
            ];
            let roll = self.rng.random_range(0..1_000u32);
            let mut acc = 0;
            for (rate, kind) in rates {
                acc += rate;
                if roll < acc {
                    if let Some(i) = self.other(kind, b, obs) {
                        return i;
                    }
                    break;
                }
            }
        }
        self.fight(me, obs)
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        if v.is_empty() {
            None
        } else {
            v.get(self.rng.random_range(0..v.len()))
        }
    }

    fn other(&mut self, kind: Kind, b: &Behaviour, obs: &Observation) -> Option<Intent> {
        Some(match kind {
            Kind::Chat => {
                let channel = match self.rng.random_range(0..10) {
                    0..=5 => ChatKind::Say,
                    6..=7 => ChatKind::Global,
                    _ => ChatKind::Kingdom,
                };
                let text = (*self.pick(CHAT_LINES)?).to_string();
                Intent::Chat { channel, text }
            }
            Kind::Trade if obs.offer.is_none() => {
                let with = *self.pick(&obs.peers)?;
                let item = self.pick(&obs.bag)?.item;
                let gold = self.rng.random_range(1..=TRADE_GOLD_MAX);
                Intent::OfferTrade { with, item, gold }
            }
            Kind::List => {
                let it = *self.pick(&obs.bag)?;
                let base = it.price.max(1) * i64::from(it.quantity.max(1));
                let price = (base * self.rng.random_range(1..=2)).clamp(1, LISTING_PRICE_MAX);
                Intent::ListItem {
                    item: it.item,
                    price,
                }
            }
            Kind::Buy if obs.gold > 0 => Intent::BuyListing {
                budget: obs.gold.min(BUY_BUDGET_MAX),
            },
            Kind::Mail => {
                let to = *self.pick(&obs.peers)?;
                let gold = self.rng.random_range(0..=obs.gold.clamp(0, MAIL_GOLD_MAX));
                let item = if self.rng.random_bool(0.5) {
                    self.pick(&obs.bag).map(|i| i.item)
                } else {
                    None
                };
                if gold == 0 && item.is_none() {
                    return None;
                }
                Intent::SendMail { to, gold, item }
            }
            Kind::Claim => Intent::ClaimMail,
            Kind::Dungeon if !obs.queued => Intent::QueueDungeon,
            Kind::ChangeZone => {
                let here = obs.zone?;
                let others: Vec<ZoneId> = b.zones.iter().copied().filter(|z| *z != here).collect();
                Intent::ChangeZone {
                    to: *self.pick(&others)?,
                }
            }
            _ => return None,
        })
    }

    fn fight(&mut self, me: Body, obs: &Observation) -> Intent {
        let dist = |t: &Thing| ((t.x - me.x).powi(2) + (t.y - me.y).powi(2)).sqrt();
        if let Some(l) = obs.loot.first().filter(|l| dist(l) <= LOOT_SEEK_RADIUS) {
            return if dist(l) <= PICKUP_REACH {
                Intent::PickUp { loot: l.net }
            } else {
                Intent::Walk { x: l.x, y: l.y }
            };
        }
        if let Some(m) = obs.monsters.first() {
            if dist(m) > MELEE_REACH {
                return Intent::Walk { x: m.x, y: m.y };
            }
            if self.target != Some(m.net) {
                self.target = Some(m.net);
                return Intent::Attack { target: m.net };
            }
            return Intent::Wait;
        }
        self.target = None;
        let dx = self.rng.random_range(-WANDER_RADIUS..=WANDER_RADIUS);
        let dy = self.rng.random_range(-WANDER_RADIUS..=WANDER_RADIUS);
        Intent::Walk {
            x: me.x + dx,
            y: me.y + dy,
        }
    }
}
