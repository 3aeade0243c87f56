//! What arrived for this tick, sorted by the input system for the systems that apply it.

use crate::io::{Outcome, PlayerCommand, ReplyTo, RequestId, ZoneInput};
use bevy_ecs::prelude::*;
use realmkeep_domain::{CharacterId, SkillId};
use std::collections::{HashMap, VecDeque};

/// Inputs the host pushed, moved here at the start of a tick.
#[derive(Resource, Debug, Default)]
pub struct Inbox(pub VecDeque<ZoneInput>);

/// Player commands of this tick, in arrival order (at most `COMMANDS_PER_PLAYER_PER_TICK_MAX`
/// per player).
#[derive(Resource, Debug, Default)]
pub struct CommandInbox(pub Vec<(CharacterId, PlayerCommand, Option<ReplyTo>)>);

/// Commands each player sent since the tick began, over the tick and the reactions before the
/// next one (`Zone::react`): `COMMANDS_PER_PLAYER_PER_TICK_MAX` bounds them per tick, however
/// many passes applied them.
#[derive(Resource, Debug, Default)]
pub struct CommandCounts(pub HashMap<CharacterId, usize>);

/// Store results of this tick.
#[derive(Resource, Debug, Default)]
pub struct ResultInbox(pub Vec<(RequestId, Outcome)>);

/// A skill use the command system accepted for the skill system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkillCast {
    /// Who cast it, and the command's tag.
    pub reply: Option<(CharacterId, ReplyTo)>,
    pub caster: Entity,
    pub skill: SkillId,
    pub target: Option<Entity>,
}

#[derive(Resource, Debug, Default)]
pub struct SkillCasts(pub Vec<SkillCast>);
