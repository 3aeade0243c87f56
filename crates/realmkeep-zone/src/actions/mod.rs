//! Every request a zone sends to the store, one module per action, the way mini-redis keeps one
//! file per command. A module holds the whole zone side of its action:
//!
//! - `Request`: what the store is asked to do (every character named carries its fence);
//! - `Receipt`: what the store answers when it committed;
//! - `Waiting`: what the zone remembers until the answer comes (`Pending`), and its `apply`: how
//!   the answer changes the world and what the player is told;
//! - for actions a player asks for, the `command` that checks the rules and opens the request.
//!
//! The server executes each request in a module of the same name (`realmkeep-server`'s
//! `actions`). Adding an action is one module here, one there, and one line in each registry.

mod ctx;

pub(crate) use ctx::AnswerCtx;

use crate::io::RequestId;
use realmkeep_domain::records::{LogEvent, Refusal};
use realmkeep_domain::CharacterId;

/// How the store answered a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T = Applied> {
    /// Done and committed.
    Ok(T),
    /// The rules said no; nothing changed. `Refusal::StaleClaim` means this zone lost the
    /// character: it is despawned without saving.
    Refused(Refusal),
    /// The store could not be reached, or failed in a way that is not a refusal: nothing is known
    /// to have changed. Saves are retried by the zone; players are told to try again.
    Unavailable,
}

impl Outcome {
    /// The answer as the action that asked expects it. A receipt of another action is a bug of
    /// the host; it is logged and taken as "nothing is known to have changed".
    fn narrow<T>(self, id: RequestId, receipt: impl FnOnce(Applied) -> Option<T>) -> Outcome<T> {
        match self {
            Outcome::Ok(applied) => {
                let what = format!("{applied:?}");
                match receipt(applied) {
                    Some(r) => Outcome::Ok(r),
                    None => {
                        tracing::error!(request = id.0, receipt = %what, "a receipt of another action");
                        Outcome::Unavailable
                    }
                }
            }
            Outcome::Refused(r) => Outcome::Refused(r),
            Outcome::Unavailable => Outcome::Unavailable,
        }
    }
}

impl<T> Outcome<T> {
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }
}

/// Registers the actions: one line per action, `Variant => module`. Generates `PersistKind` (the
/// requests), `Applied` (the receipts) and `Waiting` (what the zone remembers), with the
/// conversions and the dispatch of an answer to its module.
macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident => $module:ident),+ $(,)?) => {
        $(pub mod $module;)+

        /// What the store is asked to do, one variant per action module.
        #[derive(Debug, Clone, PartialEq)]
        pub enum PersistKind {
            $($(#[$doc])* $variant($module::Request),)+
            /// Non-critical game events (kills, drops, pickups, PvP kills, level-ups), at most
            /// `LOG_BATCH_EVENTS_MAX`. Not answered.
            Logs(Vec<LogEvent>),
        }

        /// What a committed request did, one variant per action module.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Applied {
            $($variant($module::Receipt),)+
        }

        /// What the zone remembers of an open request, one variant per action module.
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) enum Waiting {
            $($variant($module::Waiting),)+
        }

        $(
            impl From<$module::Request> for PersistKind {
                fn from(r: $module::Request) -> Self {
                    PersistKind::$variant(r)
                }
            }
            impl From<$module::Receipt> for Applied {
                fn from(r: $module::Receipt) -> Self {
                    Applied::$variant(r)
                }
            }
            impl From<$module::Waiting> for Waiting {
                fn from(w: $module::Waiting) -> Self {
                    Waiting::$variant(w)
                }
            }
        )+

        impl Waiting {
            /// Players whose `CriticalPending` this request counts against.
            pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
                match self {
                    $(Waiting::$variant(w) => w.critical_for(),)+
                }
            }

            /// Applies the store's answer through the action's own module.
            pub(crate) fn apply(self, ctx: &mut AnswerCtx, id: RequestId, outcome: Outcome) {
                match self {
                    $(Waiting::$variant(w) => {
                        let outcome = outcome.narrow(id, |a| match a {
                            Applied::$variant(r) => Some(r),
                            #[allow(unreachable_patterns)]
                            _ => None,
                        });
                        w.apply(ctx, id, outcome)
                    })+
                }
            }
        }
    };
}

actions! {
    /// Periodic save of dirty characters: position, health, mana, xp, level.
    SaveBatch => save_batch,
    /// Immediate save after a level-up.
    LevelUp => level_up,
    /// Final save and claim release on logout or zone change.
    Release => release,
    /// A loot pickup: the item comes into existence in the bag.
    Pickup => pickup,
    /// Gold of a monster kill, straight into the killer's purse.
    LootGold => loot_gold,
    AcceptQuest => accept_quest,
    /// An active quest given up: deleted with its progress.
    AbandonQuest => abandon_quest,
    /// Kills towards a quest the character has accepted.
    QuestProgress => quest_progress,
    /// Complete a quest whose progress is reached: the store grants gold, items and experience.
    CompleteQuest => complete_quest,
    /// A player killed a player of another kingdom.
    PvpKill => pvp_kill,
    /// Both sides agreed (mirror offers): swap all at once or nothing.
    Trade => trade,
    /// An item of the bag goes on the market.
    MarketList => market_list,
    /// A listing bought: gold out, item in.
    MarketBuy => market_buy,
    /// A listing taken off the market: the item comes back.
    MarketCancel => market_cancel,
    /// A page of listings (a read).
    MarketSearch => market_search,
    /// Mail with gold and items to another character.
    MailSend => mail_send,
    /// The mailbox (a read).
    MailList => mail_list,
    /// A mail's gold and items into the purse and bag.
    MailClaim => mail_claim,
    /// One mail's whole text, marked read.
    MailRead => mail_read,
    /// A mail that carries nothing any more, deleted.
    MailDelete => mail_delete,
    /// A guild operation.
    Guild => guild,
    /// A friend operation.
    Friend => friend,
    /// Move, split, merge, equip, unequip or destroy an item of the player's own.
    Item => inventory,
    /// Whether a whisper's recipient hears its speaker (a read), then the line.
    Whisper => whisper,
    /// An operator's gold or item change of a player in the world.
    Admin => admin_change,
}

/// Opens a critical request of one player: room for it (`has_room`), counted against the
/// player's `CriticalPending` until the answer, then sent to the store.
pub(crate) fn open_critical(
    ctx: &mut crate::systems::commands::Ctx,
    a: &mut crate::systems::commands::ActorItem,
    action: crate::io::Action,
    waiting: Waiting,
    request: PersistKind,
) {
    if !crate::systems::commands::has_room(ctx, a, action) {
        return;
    }
    let Some(id) = ctx.pending.open(waiting) else {
        return;
    };
    a.critical.0 += 1;
    ctx.outbox.persist(id, request);
}
