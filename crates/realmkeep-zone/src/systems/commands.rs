//! Applies this tick's player commands (already bounded per player by the input system):
//! movement intents, targets, skill uses (for the skill system), chat, leaving; critical actions
//! (pickup, quests, trade, market, mail, guild, friends, items) become store requests through their action modules (`crate::actions`).

use crate::actions::{
    abandon_quest, accept_quest, complete_quest, friend, guild, inventory, mail_claim, mail_delete,
    mail_list, mail_read, mail_send, market_buy, market_cancel, market_list, market_search, pickup,
    trade, whisper,
};
use crate::components::*;
use crate::io::{Action, CacheRequest, ChatChannel, Denial, PlayerCommand, PlayerEvent};
use crate::limits::{
    CHAT_TEXT_CHARS_MAX, MOVE_STEP_MAX, NEARBY_RADIUS, PENDING_CRITICAL_PER_PLAYER_MAX,
};
use crate::resources::*;
use bevy_ecs::prelude::*;
use bevy_ecs::query::QueryData;
use bevy_ecs::system::SystemParam;
use realmkeep_domain::CharacterId;

#[derive(QueryData)]
#[query_data(mutable)]
pub struct Actor {
    pub entity: Entity,
    pub player: &'static Player,
    pub transform: &'static Transform,
    pub velocity: &'static mut Velocity,
    pub target: &'static mut Target,
    pub attack: &'static mut AutoAttack,
    pub level: &'static Level,
    pub inventory: &'static InventoryView,
    pub quests: &'static QuestLog,
    pub critical: &'static mut CriticalPending,
    pub blocks: &'static Blocks,
    pub dead: Has<Dead>,
    pub leaving: Has<Leaving>,
}

/// What other entities look like to a command.
pub type Others<'w, 's> = Query<
    'w,
    's,
    (
        &'static Transform,
        Option<&'static Monster>,
        Option<&'static Player>,
        Has<Dead>,
        Has<Leaving>,
    ),
>;

#[derive(SystemParam)]
pub struct Ctx<'w, 's> {
    pub index: Res<'w, Index>,
    pub clock: Res<'w, Clock>,
    pub content: Res<'w, ZoneContent>,
    pub spatial: Res<'w, Spatial>,
    pub outbox: ResMut<'w, Outbox>,
    pub pending: ResMut<'w, Pending>,
    pub casts: ResMut<'w, SkillCasts>,
    pub offers: ResMut<'w, TradeOffers>,
    pub wars: Res<'w, Wars>,
    pub commands: Commands<'w, 's>,
}

impl Ctx<'_, '_> {
    pub fn deny(&mut self, c: CharacterId, action: Action, reason: Denial) {
        self.outbox.tell(c, PlayerEvent::Denied { action, reason });
    }
}

/// Whether this player (`PENDING_CRITICAL_PER_PLAYER_MAX`) and the zone (`PENDING_REQUESTS_MAX`)
/// have room for one more critical request; nobody is told.
pub(crate) fn room_for(ctx: &Ctx, a: &ActorItem) -> bool {
    (a.critical.0 as usize) < PENDING_CRITICAL_PER_PLAYER_MAX && ctx.pending.has_room()
}

/// Room for one more critical request of this player (`PENDING_CRITICAL_PER_PLAYER_MAX`) and of
/// the zone (`PENDING_REQUESTS_MAX`); otherwise the player is told "busy".
pub(crate) fn has_room(ctx: &mut Ctx, a: &ActorItem, action: Action) -> bool {
    let room = room_for(ctx, a);
    if !room {
        ctx.deny(a.player.character, action, Denial::Busy);
    }
    room
}

pub fn apply_commands(
    mut inbox: ResMut<CommandInbox>,
    mut ctx: Ctx,
    mut actors: Query<Actor>,
    others: Others,
    mut loot: Query<(&mut Loot, &Transform)>,
) {
    let now = ctx.clock.now_ms;
    ctx.offers.expire(now);
    for (character, command, reply_to) in std::mem::take(&mut inbox.0) {
        // The previous command's reply ends here (every `continue` comes back to this point).
        finish_reply(&mut ctx);
        let reply = reply_to.map(|tag| (character, tag));
        ctx.outbox.begin_reply(reply);
        ctx.pending.begin_reply(reply);
        let Some(entity) = ctx.index.player(character) else {
            continue;
        };
        let Ok(actor) = actors.get_mut(entity) else {
            continue;
        };
        if actor.leaving {
            ctx.deny(character, Action::Command, Denial::NotAllowed);
            continue;
        }
        let allowed_dead = matches!(
            command,
            PlayerCommand::Chat { .. } | PlayerCommand::Logout | PlayerCommand::ChangeZone { .. }
        );
        if actor.dead && !allowed_dead {
            ctx.deny(character, Action::Command, Denial::Dead);
            continue;
        }
        match command {
            PlayerCommand::MoveTo { x, y } => move_to(&mut ctx, actor, x, y),
            PlayerCommand::Move { dx, dy } => walk(&mut ctx, actor, dx, dy),
            PlayerCommand::Stop => {
                let mut a = actor;
                a.velocity.stop();
            }
            PlayerCommand::Attack { target } => attack(&mut ctx, actor, &others, target),
            PlayerCommand::StopAttack => {
                let mut a = actor;
                a.attack.active = false;
                a.target.0 = None;
            }
            PlayerCommand::UseSkill { skill, target } => {
                let target = match target {
                    Some(net) => match ctx.index.entity(net) {
                        Some(t) => Some(t),
                        None => {
                            ctx.deny(character, Action::Skill, Denial::NoSuchTarget);
                            continue;
                        }
                    },
                    None => None,
                };
                // The cast answers the command (in the skill system).
                ctx.pending.defer();
                ctx.casts.0.push(SkillCast {
                    reply,
                    caster: entity,
                    skill,
                    target,
                });
            }
            PlayerCommand::PickUp { loot: net } => pickup::command(&mut ctx, actor, &mut loot, net),
            PlayerCommand::Chat {
                channel: ChatChannel::Whisper { to },
                text,
            } => whisper::command(&mut ctx, actor, to, text),
            PlayerCommand::Chat { channel, text } => chat(&mut ctx, &actor, &others, channel, text),
            PlayerCommand::AcceptQuest { quest } => accept_quest::command(&mut ctx, actor, quest),
            PlayerCommand::AbandonQuest { quest } => abandon_quest::command(&mut ctx, actor, quest),
            PlayerCommand::CompleteQuest { quest } => {
                complete_quest::command(&mut ctx, actor, quest)
            }
            PlayerCommand::Trade { with, give, want } => {
                trade::command(&mut ctx, &mut actors, character, with, give, want);
            }
            PlayerCommand::TradeCancel { with } => trade::cancel(&mut ctx, character, with),
            PlayerCommand::ListItem { item, price, hours } => {
                market_list::command(&mut ctx, actor, item, price, hours)
            }
            PlayerCommand::BuyListing { listing } => market_buy::command(&mut ctx, actor, listing),
            PlayerCommand::CancelListing { listing } => {
                market_cancel::command(&mut ctx, actor, listing)
            }
            PlayerCommand::SearchMarket(search) => market_search::command(&mut ctx, actor, search),
            PlayerCommand::SendMail(letter) => mail_send::command(&mut ctx, actor, letter),
            PlayerCommand::ListMail => mail_list::command(&mut ctx, actor),
            PlayerCommand::ClaimMail { mail } => mail_claim::command(&mut ctx, actor, mail),
            PlayerCommand::ReadMail { mail } => mail_read::command(&mut ctx, actor, mail),
            PlayerCommand::DeleteMail { mail } => mail_delete::command(&mut ctx, actor, mail),
            PlayerCommand::Guild(op) => guild::command(&mut ctx, actor, op),
            PlayerCommand::Friend { other, op } => friend::command(&mut ctx, actor, other, op),
            PlayerCommand::Item(op) => inventory::command(&mut ctx, actor, op),
            PlayerCommand::Logout => leave(&mut ctx, actor, None),
            PlayerCommand::ChangeZone { to } => {
                if to == ctx.content.zone.id {
                    ctx.deny(character, Action::Command, Denial::Invalid);
                } else {
                    leave(&mut ctx, actor, Some(to));
                }
            }
        }
    }
    finish_reply(&mut ctx);
}

/// Ends the current command's reply: `Accepted` unless it was answered or a store request or
/// skill cast carries it on.
fn finish_reply(ctx: &mut Ctx) {
    let deferred = ctx.pending.end_reply();
    ctx.outbox.finish_reply(deferred);
}

fn move_to(ctx: &mut Ctx, mut a: ActorItem, x: f32, y: f32) {
    if !x.is_finite() || !y.is_finite() {
        return ctx.deny(a.player.character, Action::Move, Denial::Invalid);
    }
    let (from_x, from_y) = (a.transform.x, a.transform.y);
    let (mut gx, mut gy) = ctx.content.clamp(x, y);
    let d = ((gx - from_x).powi(2) + (gy - from_y).powi(2)).sqrt();
    if d > MOVE_STEP_MAX {
        gx = from_x + (gx - from_x) / d * MOVE_STEP_MAX;
        gy = from_y + (gy - from_y) / d * MOVE_STEP_MAX;
    }
    a.velocity.goal = Some((gx, gy));
}

fn walk(ctx: &mut Ctx, mut a: ActorItem, dx: f32, dy: f32) {
    let len = (dx * dx + dy * dy).sqrt();
    if !len.is_finite() {
        return ctx.deny(a.player.character, Action::Move, Denial::Invalid);
    }
    a.velocity.goal = None;
    if len < f32::EPSILON {
        a.velocity.stop();
    } else {
        a.velocity.dx = dx / len;
        a.velocity.dy = dy / len;
    }
}

fn attack(ctx: &mut Ctx, mut a: ActorItem, others: &Others, net: crate::io::NetId) {
    let me = a.player.character;
    let Some(target) = ctx.index.entity(net).filter(|t| *t != a.entity) else {
        return ctx.deny(me, Action::Attack, Denial::NoSuchTarget);
    };
    let Ok((_, monster, player, dead, leaving)) = others.get(target) else {
        return ctx.deny(me, Action::Attack, Denial::NoSuchTarget);
    };
    let hostile = monster.is_some() || player.is_some_and(|p| ctx.wars.hostile(a.player, p));
    if !hostile || dead || leaving {
        return ctx.deny(me, Action::Attack, Denial::NotAllowed);
    }
    a.target.0 = Some(target);
    a.attack.active = true;
}

fn chat(ctx: &mut Ctx, a: &ActorItem, others: &Others, channel: ChatChannel, text: String) {
    let me = a.player.character;
    let text: String = text.trim().chars().take(CHAT_TEXT_CHARS_MAX).collect();
    if text.is_empty() {
        return;
    }
    let name = a.player.name.to_string();
    match channel {
        ChatChannel::Say => {
            let (x, y) = (a.transform.x, a.transform.y);
            let mut hearers: Vec<CharacterId> = ctx
                .spatial
                .players
                .near(x, y, NEARBY_RADIUS)
                .filter_map(|(e, _)| others.get(e).ok().and_then(|o| o.2).map(|p| p.character))
                .collect();
            if !hearers.contains(&me) {
                hearers.push(me);
            }
            for c in hearers {
                let event = PlayerEvent::Chat {
                    channel: ChatChannel::Say,
                    from: me,
                    name: name.clone(),
                    text: text.clone(),
                };
                ctx.outbox.tell(c, event);
            }
        }
        ChatChannel::Guild if a.player.guild.is_none() => {
            ctx.deny(me, Action::Chat, Denial::NotAllowed)
        }
        channel => ctx.outbox.cache(CacheRequest::Chat {
            channel,
            from: me,
            name,
            text,
            kingdom: a.player.kingdom,
            guild: a.player.guild,
        }),
    }
}

fn leave(ctx: &mut Ctx, mut a: ActorItem, to: Option<realmkeep_domain::ZoneId>) {
    a.velocity.stop();
    a.attack.active = false;
    let now = ctx.clock.now_ms;
    ctx.commands
        .entity(a.entity)
        .remove::<Disconnected>()
        .insert(crate::lifecycle::leaving(now, to));
}
