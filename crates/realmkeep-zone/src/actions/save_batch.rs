//! The periodic batch save of dirty characters (position, health, mana, xp, level), opened by the
//! `persistence` system. A row refused as stale means that character's claim is lost.

use super::{AnswerCtx, Outcome};
use crate::io::RequestId;
use realmkeep_domain::records::CharacterSnapshot;
use realmkeep_domain::CharacterId;

/// At most `BATCH_SAVE_ROWS_MAX` rows, each character at most once.
#[derive(Debug, Clone, PartialEq)]
pub struct Request(pub Vec<CharacterSnapshot>);

/// Rows whose fence was stale (those characters are lost: despawned unsaved).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Receipt {
    pub refused: Vec<CharacterId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub characters: Vec<CharacterId>,
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        Vec::new()
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, id: RequestId, outcome: Outcome<Receipt>) {
        let refused = match &outcome {
            Outcome::Ok(r) => Some(r.refused.clone()),
            _ => None,
        };
        if !matches!(outcome, Outcome::Unavailable) && refused.is_none() {
            tracing::warn!(request = id.0, ?outcome, "a batch save was refused");
        }
        for c in self.characters {
            let lost = refused.as_ref().is_some_and(|r| r.contains(&c));
            if lost {
                ctx.lost(c);
                continue;
            }
            if let Some(mut p) = ctx.player(c) {
                if p.save.in_flight == Some(id) {
                    p.save.in_flight = None;
                    p.save.dirty |= refused.is_none();
                }
            }
        }
    }
}
