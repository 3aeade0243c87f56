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

/// Which of the named behaviours a population plays with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pace {
    /// [`Behaviour::lively`]: every kind of action often (tests and the demo).
    #[default]
    Lively,
    /// [`Behaviour::calm`]: mostly walking and fighting, the economy and chat now and then.
    Calm,
}

impl Behaviour {
    /// The behaviour `pace` names.
    pub fn of(pace: Pace, zones: Vec<ZoneId>) -> Self {
        match pace {
            Pace::Lively => Self::lively(zones),
            Pace::Calm => Self::calm(zones),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn economy(b: &Behaviour) -> u32 {
        b.trade_permille
            + b.list_permille
            + b.buy_permille
            + b.mail_permille
            + b.claim_mail_permille
    }

    #[test]
    fn a_pace_names_its_behaviour_and_calm_is_the_quieter() {
        let zones = vec![ZoneId(1)];
        assert_eq!(
            Behaviour::of(Pace::Lively, zones.clone()),
            Behaviour::lively(zones.clone())
        );
        assert_eq!(
            Behaviour::of(Pace::Calm, zones.clone()),
            Behaviour::calm(zones.clone())
        );
        let (lively, calm) = (Behaviour::lively(zones.clone()), Behaviour::calm(zones));
        // What `realmkeep bots --pace` says of them: one decision in ten an economy action and
        // one in fifty a chat line; one in ninety and one in 250.
        assert_eq!((economy(&lively), lively.chat_permille), (100, 20));
        assert_eq!((economy(&calm), calm.chat_permille), (11, 4));
    }
}
