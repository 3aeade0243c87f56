//! What a bot saw through its socket, kept up to date from the server's messages and handed to
//! the simulator's mind as an `Observation`: its own body, monsters, loot and players in view
//! (nearest first), its bag and purse as the server last said, and a trade offered to it.

use crate::stood::Stood;
use realmkeep_domain::{CharacterId, Gold, ItemDefId, ItemId, ZoneId};
use realmkeep_protocol::ws::{EntityKind, GameEvent, ServerMsg, View, Welcome};
use realmkeep_sim::mind::{BagItem, Body, Offer, Thing};
use realmkeep_sim::Observation;
use realmkeep_zone::io::{NetId, TradeOffer};
use std::collections::HashMap;
use std::time::Instant;

/// Things in sight handed to the mind at the most.
const SIGHT_MAX: usize = 8;
/// A price for items whose definition the bot never asked about.
const ITEM_PRICE_GUESS: i64 = 10;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Me,
    Player(CharacterId),
    Monster,
    Loot,
}

/// One entity as the server last told it: where, its velocity (units per second) and when, so
/// where it is now is extrapolated, as the server expects of a client (dead reckoning).
#[derive(Debug, Clone, Copy)]
struct Told {
    kind: Kind,
    x: f32,
    y: f32,
    vx: f32,
    vy: f32,
    health: i32,
    told: Instant,
}

impl Told {
    /// Told at `told` (read once per message: a view tells many).
    fn new(kind: Kind, x: f32, y: f32, vx: f32, vy: f32, health: i32, told: Instant) -> Self {
        Self {
            kind,
            x,
            y,
            vx,
            vy,
            health,
            told,
        }
    }

    fn at(&self, now: Instant) -> (f32, f32) {
        let t = now.saturating_duration_since(self.told).as_secs_f32();
        (self.x + self.vx * t, self.y + self.vy * t)
    }
}

#[derive(Debug, Default)]
pub(crate) struct SeenWorld {
    pub character: i64,
    pub zone: Option<ZoneId>,
    me: Option<u64>,
    level: i32,
    dead: bool,
    /// Looked up for each entity of every view: foldhash, as the zone's own maps.
    things: HashMap<u64, Told, foldhash::fast::FixedState>,
    pub gold: i64,
    bag: Vec<BagItem>,
    offer: Option<Offer>,
    /// Asked to wait in the dungeon queue, and no group formed since.
    pub queued: bool,
}

impl SeenWorld {
    pub fn welcome(&mut self, w: &Welcome) {
        self.character = w.character;
        self.zone = Some(ZoneId(w.zone));
        self.me = Some(w.net_id);
        self.level = w.level;
        self.dead = w.health <= 0;
        self.gold = w.gold;
        self.things.clear();
        self.things.insert(
            w.net_id,
            Told::new(Kind::Me, w.x, w.y, 0.0, 0.0, w.health, Instant::now()),
        );
        self.bag = w
            .bag
            .iter()
            .map(|b| BagItem {
                item: ItemId(b.item),
                def: ItemDefId(b.def),
                quantity: b.quantity,
                price: ITEM_PRICE_GUESS,
            })
            .collect();
        self.offer = None;
    }

    /// Where the bot stands, if it is in a zone.
    pub fn at(&self) -> Option<(f32, f32)> {
        let me = self.me?;
        self.things.get(&me).map(|t| t.at(Instant::now()))
    }

    /// Where the bot stands alive, and in which zone (what it logs out at).
    pub fn stood(&self) -> Option<Stood> {
        let me = self.things.get(&self.me?)?;
        if self.dead || me.health <= 0 {
            return None;
        }
        let (x, y) = me.at(Instant::now());
        Some(Stood {
            character: self.character,
            zone: self.zone?.0,
            x,
            y,
        })
    }

    fn view(&mut self, v: &View) {
        let now = Instant::now();
        for e in &v.entered {
            let kind = match &e.kind {
                _ if Some(e.net_id) == self.me => Kind::Me,
                EntityKind::Player { character, .. } => Kind::Player(CharacterId(*character)),
                EntityKind::Monster { .. } => Kind::Monster,
                EntityKind::Loot { .. } => Kind::Loot,
            };
            self.things.insert(
                e.net_id,
                Told::new(kind, e.x, e.y, e.vx, e.vy, e.health, now),
            );
        }
        for m in &v.moved {
            if let Some(t) = self.things.get_mut(&m.net_id()) {
                *t = Told::new(t.kind, m.x(), m.y(), m.vx(), m.vy(), m.health(), now);
            }
        }
        for l in &v.left {
            if Some(*l) != self.me {
                self.things.remove(l);
            }
        }
    }

    pub fn on(&mut self, msg: &ServerMsg) {
        match msg {
            ServerMsg::Welcome(w) => self.welcome(w),
            ServerMsg::View(v) => self.view(v),
            ServerMsg::Event(e) => self.event(e),
            _ => {}
        }
    }

    fn event(&mut self, e: &GameEvent) {
        match e {
            GameEvent::GoldChanged { gold } => self.gold = *gold,
            GameEvent::Died => self.dead = true,
            GameEvent::Respawned { .. } => self.dead = false,
            GameEvent::LevelUp { level } => self.level = *level,
            GameEvent::TradeOffered { from, give, want } => {
                let side = |o: &realmkeep_protocol::ws::Offer| TradeOffer {
                    items: o.items.iter().copied().map(ItemId).collect(),
                    gold: Gold::new(o.gold).unwrap_or(Gold::ZERO),
                };
                self.offer = Some(Offer {
                    from: CharacterId(*from),
                    gives: side(give),
                    wants: side(want),
                });
            }
            GameEvent::TradeDone { .. } => self.offer = None,
            GameEvent::GroupFormed { .. } => self.queued = false,
            GameEvent::Bought {
                item,
                item_def,
                quantity,
                ..
            } => self.bag.push(BagItem {
                item: ItemId(*item),
                def: ItemDefId(*item_def),
                quantity: *quantity,
                price: ITEM_PRICE_GUESS,
            }),
            GameEvent::Listed { item, .. } => self.bag.retain(|b| b.item.0 != *item),
            _ => {}
        }
    }

    /// An item left the bag through an answered command (a trade, a mail).
    pub fn gave(&mut self, items: &[i64]) {
        self.bag.retain(|b| !items.contains(&b.item.0));
    }

    /// The trade offer was answered (taken up or not): it is gone.
    pub fn offer_done(&mut self) {
        self.offer = None;
    }

    pub fn observation(&self, busy: bool) -> Observation {
        let Some((x, y)) = self.at() else {
            return Observation::default();
        };
        let me_health = self
            .me
            .and_then(|m| self.things.get(&m))
            .map_or(1, |t| t.health);
        let now = Instant::now();
        let near = |want: fn(&Kind) -> bool| {
            let mut v: Vec<(f32, Thing)> = self
                .things
                .iter()
                .filter(|(_, t)| want(&t.kind) && (t.health > 0 || matches!(t.kind, Kind::Loot)))
                .map(|(net, t)| {
                    let (tx, ty) = t.at(now);
                    let d = (tx - x).powi(2) + (ty - y).powi(2);
                    (
                        d,
                        Thing {
                            net: NetId(*net),
                            x: tx,
                            y: ty,
                        },
                    )
                })
                .collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            v.into_iter()
                .take(SIGHT_MAX)
                .map(|p| p.1)
                .collect::<Vec<_>>()
        };
        Observation {
            me: Some(Body {
                x,
                y,
                health: me_health,
                level: self.level,
                dead: self.dead || me_health <= 0,
            }),
            zone: self.zone,
            monsters: near(|k| matches!(k, Kind::Monster)),
            loot: near(|k| matches!(k, Kind::Loot)),
            peers: self
                .things
                .values()
                .filter_map(|t| match t.kind {
                    Kind::Player(c) => Some(c),
                    _ => None,
                })
                .take(SIGHT_MAX)
                .collect(),
            bag: self.bag.clone(),
            gold: self.gold,
            offer: self.offer.clone(),
            busy,
            queued: self.queued,
        }
    }
}
