//! Logout and zone change: the final save and the claim's release in one fenced transaction,
//! opened by the `connection` system for a `Leaving` character. Until it succeeds the character
//! stays in the world, frozen; an unavailable store is tried again with backoff. Only a committed
//! release lets the character leave (and, with `transfer_to`, the host join the next zone).

use super::{AnswerCtx, Outcome};
use crate::io::{LeftReason, RequestId};
use crate::lifecycle::Departing;
use crate::limits::RELEASE_RETRY_MAX_MS;
use realmkeep_domain::records::{CharacterSnapshot, Refusal};
use realmkeep_domain::{CharacterId, ZoneId};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub snapshot: CharacterSnapshot,
    pub transfer_to: Option<ZoneId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt;

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        Vec::new()
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, id: RequestId, outcome: Outcome<Receipt>) {
        let character = self.character;
        let now_ms = ctx.clock.now_ms;
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
                leaving.retry_at_ms = now_ms + leaving.backoff_ms;
                leaving.backoff_ms = (leaving.backoff_ms * 2).min(RELEASE_RETRY_MAX_MS);
            }
        }
    }
}
