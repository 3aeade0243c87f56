//! How often simulated players do what: the rates `Mind::decide` draws from.

use realmkeep_domain::ZoneId;

/// How often each kind of non-combat action is chosen, in permille of decisions. Economy actions
/// are only chosen while the player has nothing pending.
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    /// The zones a player may move to.
    pub zones: Vec<ZoneId>,
    pub chat_permille: u32,
    pub trade_permille: u32,
    pub list_permille: u32,
    pub buy_permille: u32,
    pub mail_permille: u32,
    pub claim_mail_permille: u32,
    pub dungeon_permille: u32,
    pub change_zone_permille: u32,
    /// Chance of accepting a trade offer it can afford, in percent.
    pub accept_trade_percent: u32,
}

impl Behaviour {
    /// Busy players: every kind of action often (tests, which must see each of them soon).
    pub fn lively(zones: Vec<ZoneId>) -> Self {
        Self {
            zones,
            chat_permille: 20,
            trade_permille: 30,
            list_permille: 15,
            buy_permille: 20,
            mail_permille: 15,
            claim_mail_permille: 20,
            dungeon_permille: 5,
            change_zone_permille: 4,
            accept_trade_percent: 90,
        }
    }

    /// A calmer world (a population's default): mostly walking and fighting.
    pub fn calm(zones: Vec<ZoneId>) -> Self {
        Self {
            zones,
            chat_permille: 4,
            trade_permille: 3,
            list_permille: 2,
            buy_permille: 2,
            mail_permille: 2,
            claim_mail_permille: 2,
            dungeon_permille: 1,
            change_zone_permille: 1,
            accept_trade_percent: 90,
        }
    }

    /// Walking and fighting only (the zone benchmark).
    pub fn combat_only() -> Self {
        Self {
            zones: Vec::new(),
            chat_permille: 0,
            trade_permille: 0,
            list_permille: 0,
            buy_permille: 0,
            mail_permille: 0,
            claim_mail_permille: 0,
            dungeon_permille: 0,
            change_zone_permille: 0,
            accept_trade_percent: 0,
        }
    }
}
