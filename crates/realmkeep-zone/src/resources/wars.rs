//! The guild wars in force, as the host last said (`ZoneInput::Wars`, read off the tick from
//! Redis's `guild_war:{guild1}:{guild2}` keys): the PvP rule. Players of different kingdoms are
//! always enemies; players of one kingdom are enemies while their guilds are at war.

use crate::components::Player;
use crate::limits::GUILD_WARS_MAX;
use bevy_ecs::prelude::*;
use realmkeep_domain::{GuildId, Kingdom};
use std::collections::HashSet;

/// Pairs stored lower id first.
#[derive(Resource, Debug, Default)]
pub struct Wars(HashSet<(GuildId, GuildId)>);

fn ordered(a: GuildId, b: GuildId) -> (GuildId, GuildId) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl Wars {
    /// Replaces the wars with `pairs` (at most `GUILD_WARS_MAX`; a pair of one guild is none).
    pub fn set(&mut self, pairs: &[(GuildId, GuildId)]) {
        self.0 = pairs
            .iter()
            .filter(|(a, b)| a != b)
            .take(GUILD_WARS_MAX)
            .map(|(a, b)| ordered(*a, *b))
            .collect();
    }

    pub fn at_war(&self, a: Option<GuildId>, b: Option<GuildId>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) if a != b => self.0.contains(&ordered(a, b)),
            _ => false,
        }
    }

    /// Whether a player of `a_kingdom` in `a_guild` may fight one of `b_kingdom` in `b_guild`.
    pub fn enemies(
        &self,
        (a_kingdom, a_guild): (Kingdom, Option<GuildId>),
        (b_kingdom, b_guild): (Kingdom, Option<GuildId>),
    ) -> bool {
        a_kingdom != b_kingdom || self.at_war(a_guild, b_guild)
    }

    pub fn hostile(&self, a: &Player, b: &Player) -> bool {
        self.enemies((a.kingdom, a.guild), (b.kingdom, b.guild))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_war_makes_one_kingdom_fight_both_ways_and_only_its_two_guilds() {
        let (a, b, c) = (GuildId(3), GuildId(9), GuildId(5));
        let mut wars = Wars::default();
        let side = |g| (Kingdom::Aldor, g);
        assert!(!wars.enemies(side(Some(a)), side(Some(b))));
        assert!(
            wars.enemies(side(None), (Kingdom::Veyra, None)),
            "kingdoms always"
        );
        wars.set(&[(b, a), (c, c)]);
        assert!(wars.enemies(side(Some(a)), side(Some(b))));
        assert!(wars.enemies(side(Some(b)), side(Some(a))));
        assert!(!wars.enemies(side(Some(a)), side(Some(c))));
        assert!(
            !wars.enemies(side(Some(c)), side(Some(c))),
            "a guild with itself: never"
        );
        assert!(!wars.enemies(side(None), side(Some(a))));
        wars.set(&[]);
        assert!(!wars.enemies(side(Some(a)), side(Some(b))), "ended");
    }
}
