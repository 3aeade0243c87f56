//! Applies the store's answers to this zone's requests. The player hears of a critical action's
//! success only here; a refusal or an unavailable store leaves the world as it was and tells the
//! player ("try again" for the latter). A stale claim despawns the character without a save.

use crate::components::*;
use crate::io::{Action, Applied, Board, CacheRequest, LeftReason, Outcome, PlayerEvent};
use crate::lifecycle::{announce_level, level_up, Departing, LevelUpParts};
use crate::limits::RELEASE_RETRY_MAX_MS;
use crate::resources::{Clock, Index, Outbox, Pending, PendingKind, ResultInbox, ZoneContent};
use bevy_ecs::prelude::*;
use bevy_ecs::query::QueryData;
use bevy_ecs::system::SystemParam;
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::records::Refusal;
use realmkeep_domain::CharacterId;

#[derive(QueryData)]
#[query_data(mutable)]
pub struct PlayerParts {
    pub entity: Entity,
    pub player: &'static mut Player,
    pub level: &'static mut Level,
    pub stats: &'static mut CombatStats,
    pub health: &'static mut Health,
    pub mana: &'static mut Mana,
    pub save: &'static mut SaveState,
    pub inventory: &'static mut InventoryView,
    pub quests: &'static mut QuestLog,
    pub leaving: Option<&'static mut Leaving>,
    pub critical: &'static mut CriticalPending,
}

#[derive(SystemParam)]
pub struct Ctx<'w, 's> {
    players: Query<'w, 's, PlayerParts>,
    loot: Query<'w, 's, &'static mut Loot>,
    index: Res<'w, Index>,
    outbox: ResMut<'w, Outbox>,
    commands: Commands<'w, 's>,
    content: Res<'w, ZoneContent>,
    clock: Res<'w, Clock>,
}

impl Ctx<'_, '_> {
    fn entity(&self, c: CharacterId) -> Option<Entity> {
        self.index.player(c)
    }

    /// The claim is gone: despawn without saving.
    fn lost(&mut self, c: CharacterId) {
        if let Some(e) = self.entity(c) {
            self.commands
                .entity(e)
                .insert(Departing(LeftReason::ClaimLost));
        }
    }

    /// Tells the player how a critical action failed; a stale claim also takes it out.
    fn failed(&mut self, c: CharacterId, action: Action, outcome: &Outcome) {
        match outcome {
            Outcome::Refused(Refusal::StaleClaim) => self.lost(c),
            Outcome::Refused(r) => self.outbox.tell(
                c,
                PlayerEvent::Refused {
                    action,
                    reason: r.clone(),
                },
            ),
            _ => self.outbox.tell(c, PlayerEvent::TryAgain { action }),
        }
    }
}

pub fn apply_results(mut inbox: ResMut<ResultInbox>, mut pending: ResMut<Pending>, mut ctx: Ctx) {
    let results = std::mem::take(&mut inbox.0);
    for (id, outcome) in results {
        let Some(kind) = pending.close(id) else {
            tracing::debug!(request = id.0, "result of an unknown request ignored");
            continue;
        };
        for c in kind.critical_for() {
            if let Some(mut p) = ctx.entity(c).and_then(|e| ctx.players.get_mut(e).ok()) {
                p.critical.0 = p.critical.0.saturating_sub(1);
            }
        }
        apply_one(&mut ctx, id, kind, outcome);
    }
}

fn apply_one(ctx: &mut Ctx, id: crate::io::RequestId, kind: PendingKind, outcome: Outcome) {
    match kind {
        PendingKind::SaveBatch { characters } => {
            let refused = match &outcome {
                Outcome::Ok(Applied::Saved { refused }) => Some(refused.clone()),
                Outcome::Ok(_) => Some(Vec::new()),
                _ => None,
            };
            if outcome != Outcome::Unavailable && refused.is_none() {
                tracing::warn!(request = id.0, ?outcome, "a batch save was refused");
            }
            for c in characters {
                let lost = refused.as_ref().is_some_and(|r| r.contains(&c));
                if lost {
                    ctx.lost(c);
                    continue;
                }
                if let Some(mut p) = ctx.entity(c).and_then(|e| ctx.players.get_mut(e).ok()) {
                    if p.save.in_flight == Some(id) {
                        p.save.in_flight = None;
                        p.save.dirty |= refused.is_none();
                    }
                }
            }
        }
        PendingKind::LevelUp { character } => {
            if outcome == Outcome::Refused(Refusal::StaleClaim) {
                return ctx.lost(character);
            }
            if let Some(mut p) = ctx
                .entity(character)
                .and_then(|e| ctx.players.get_mut(e).ok())
            {
                if p.save.in_flight == Some(id) {
                    p.save.in_flight = None;
                    if matches!(outcome, Outcome::Ok(_)) {
                        // Committed: now the player may hear of it.
                        announce_level(&mut ctx.outbox, character, &p.level);
                    } else {
                        // Not committed: keep it dirty and send the level-up save again.
                        p.save.dirty = true;
                        p.save.urgent = true;
                    }
                }
            }
        }
        PendingKind::Release { character } => {
            let Some(e) = ctx.entity(character) else {
                return;
            };
            let Ok(mut p) = ctx.players.get_mut(e) else {
                return;
            };
            let Some(leaving) = p.leaving.as_mut() else {
                return;
            };
            if leaving.request != Some(id) {
                return;
            }
            match outcome {
                Outcome::Ok(_) => {
                    let reason = LeftReason::Released {
                        transfer_to: leaving.transfer_to,
                    };
                    ctx.commands.entity(e).insert(Departing(reason));
                }
                Outcome::Refused(Refusal::StaleClaim) => ctx.lost(character),
                other => {
                    if let Outcome::Refused(r) = other {
                        tracing::error!(%character, refusal = %r, "final save refused; retrying");
                    }
                    leaving.request = None;
                    leaving.retry_at_ms = ctx.clock.now_ms + leaving.backoff_ms;
                    leaving.backoff_ms = (leaving.backoff_ms * 2).min(RELEASE_RETRY_MAX_MS);
                }
            }
        }
        PendingKind::Pickup {
            character,
            loot: loot_entity,
            def,
            quantity,
        } => {
            let ok = matches!(outcome, Outcome::Ok(_));
            if let Ok(mut l) = ctx.loot.get_mut(loot_entity) {
                if l.reserved == Some(id) {
                    l.reserved = None;
                    if ok {
                        // Taken: the loot system despawns it (expiry now).
                        l.expires_at_ms = 0;
                    }
                }
            }
            let Outcome::Ok(applied) = &outcome else {
                return ctx.failed(character, Action::Pickup, &outcome);
            };
            if let Some(mut p) = ctx
                .entity(character)
                .and_then(|e| ctx.players.get_mut(e).ok())
            {
                if let Applied::PickedUp { merged, created } = applied {
                    for (item, q) in merged {
                        p.inventory.set_quantity(*item, *q);
                    }
                    if let Some(item) = created {
                        p.inventory.upsert(item.clone());
                    }
                }
                ctx.outbox
                    .tell(character, PlayerEvent::Looted { def, quantity });
            }
        }
        PendingKind::Gold { character } => match outcome {
            Outcome::Ok(Applied::Purse { gold }) => {
                if let Some(mut p) = ctx
                    .entity(character)
                    .and_then(|e| ctx.players.get_mut(e).ok())
                {
                    p.inventory.gold = gold;
                    ctx.outbox
                        .tell(character, PlayerEvent::GoldChanged { gold });
                }
            }
            Outcome::Refused(Refusal::StaleClaim) => ctx.lost(character),
            other => tracing::debug!(%character, ?other, "loot gold not credited"),
        },
        PendingKind::AcceptQuest { character, quest } => {
            if !matches!(outcome, Outcome::Ok(_)) {
                return ctx.failed(character, Action::Quest, &outcome);
            }
            if let Some(mut p) = ctx
                .entity(character)
                .and_then(|e| ctx.players.get_mut(e).ok())
            {
                if p.quests.get(quest).is_none() {
                    p.quests.0.push(realmkeep_domain::records::QuestState {
                        quest,
                        status: realmkeep_domain::QuestStatus::Active,
                        progress: 0,
                    });
                }
                ctx.outbox
                    .tell(character, PlayerEvent::QuestAccepted { quest });
            }
        }
        PendingKind::QuestProgress {
            character,
            quest,
            amount,
        } => {
            if !matches!(outcome, Outcome::Ok(_)) {
                if outcome == Outcome::Refused(Refusal::StaleClaim) {
                    ctx.lost(character);
                }
                return;
            }
            let target = ctx
                .content
                .quest(quest)
                .map(|q| q.target_count)
                .unwrap_or(i32::MAX);
            if let Some(mut p) = ctx
                .entity(character)
                .and_then(|e| ctx.players.get_mut(e).ok())
            {
                if let Some(q) = p.quests.get_mut(quest) {
                    q.progress = (q.progress + amount).min(target);
                    let progress = q.progress;
                    ctx.outbox
                        .tell(character, PlayerEvent::QuestProgress { quest, progress });
                }
            }
        }
        PendingKind::CompleteQuest { character, quest } => {
            let Outcome::Ok(applied) = &outcome else {
                return ctx.failed(character, Action::Quest, &outcome);
            };
            let xp = ctx.content.quest(quest).map(|q| q.reward.xp).unwrap_or(0);
            let zone = ctx.content.zone.id;
            let Some(e) = ctx.entity(character) else {
                return;
            };
            let Ok(mut p) = ctx.players.get_mut(e) else {
                return;
            };
            if let Some(q) = p.quests.get_mut(quest) {
                q.status = realmkeep_domain::QuestStatus::Completed;
            }
            if let Applied::QuestRewarded { gold, items } = applied {
                p.inventory.gold = *gold;
                for item in items {
                    p.inventory.upsert(item.clone());
                }
                ctx.outbox
                    .tell(character, PlayerEvent::GoldChanged { gold: *gold });
            }
            ctx.outbox
                .tell(character, PlayerEvent::QuestCompleted { quest });
            if crate::game::grant_xp(&mut p.level, xp).is_some() {
                level_up(
                    LevelUpParts {
                        player: &p.player,
                        level: &p.level,
                        inventory: &p.inventory,
                        stats: &mut p.stats,
                        health: &mut p.health,
                        mana: &mut p.mana,
                        save: &mut p.save,
                    },
                    &mut ctx.outbox,
                    zone,
                );
            }
            let total = p.level.xp;
            ctx.outbox.tell(
                character,
                PlayerEvent::XpGained {
                    amount: xp,
                    xp: total,
                },
            );
        }
        PendingKind::PvpKill { killer } => match outcome {
            Outcome::Ok(_) => {
                if let Some(mut p) = ctx.entity(killer).and_then(|e| ctx.players.get_mut(e).ok()) {
                    p.player.pvp_kills += 1;
                    let score = p.player.pvp_kills as i64;
                    ctx.outbox.cache(CacheRequest::Leaderboard {
                        board: Board::Pvp,
                        character: killer,
                        score,
                    });
                }
            }
            Outcome::Refused(Refusal::StaleClaim) => ctx.lost(killer),
            other => tracing::debug!(%killer, ?other, "pvp kill not counted"),
        },
        PendingKind::Trade {
            a,
            a_items,
            b,
            b_items,
            ..
        } => {
            let Outcome::Ok(Applied::Traded {
                a_received,
                b_received,
                a_gold,
                b_gold,
            }) = &outcome
            else {
                if outcome == Outcome::Refused(Refusal::StaleClaim) {
                    // Which side went stale is unknown: tell both; renewal sorts the claims out.
                    let o = Outcome::Unavailable;
                    ctx.failed(a, Action::Trade, &o);
                    return ctx.failed(b, Action::Trade, &o);
                }
                ctx.failed(a, Action::Trade, &outcome);
                return ctx.failed(b, Action::Trade, &outcome);
            };
            settle(ctx, a, &a_items, &b_items, a_received, *a_gold, b);
            settle(ctx, b, &b_items, &a_items, b_received, *b_gold, a);
        }
    }
}

/// One side of a done trade: what it gave leaves its view, what it got arrives in its new slots.
fn settle(
    ctx: &mut Ctx,
    me: CharacterId,
    gave: &[InventoryItem],
    got: &[InventoryItem],
    received: &[(realmkeep_domain::ItemId, i16)],
    gold: i64,
    with: CharacterId,
) {
    let Some(mut p) = ctx.entity(me).and_then(|e| ctx.players.get_mut(e).ok()) else {
        return;
    };
    for item in gave {
        p.inventory.remove(item.item);
    }
    for (item, slot) in received {
        if let Some(g) = got.iter().find(|g| g.item == *item) {
            p.inventory.upsert(InventoryItem {
                slot: *slot,
                ..g.clone()
            });
        }
    }
    p.inventory.gold = gold;
    ctx.outbox.tell(me, PlayerEvent::TradeDone { with });
    ctx.outbox.tell(me, PlayerEvent::GoldChanged { gold });
}
