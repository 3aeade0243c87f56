//! A player character: who it is and the claim under which this zone holds it.

use bevy_ecs::prelude::*;
use realmkeep_domain::{AccountId, CharacterId, CharacterName, Class, Fence, GuildId, Kingdom};

#[derive(Component, Debug, Clone, PartialEq)]
pub struct Player {
    pub character: CharacterId,
    pub account: AccountId,
    /// Every write on this character's behalf carries it; stale means another zone owns it.
    pub fence: Fence,
    pub class: Class,
    pub kingdom: Kingdom,
    pub name: CharacterName,
    pub guild: Option<GuildId>,
    pub pvp_kills: i32,
}

/// Critical requests of this player waiting for the store (bounded by
/// `PENDING_CRITICAL_PER_PLAYER_MAX`).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CriticalPending(pub u8);
