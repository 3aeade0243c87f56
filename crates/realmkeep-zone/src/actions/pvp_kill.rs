//! A player killed a player of another kingdom (opened by the `death` system): counts towards the
//! killer's `pvp_kills` and its leaderboard score once committed.

use super::{AnswerCtx, Outcome};
use crate::io::{Board, CacheRequest, RequestId};
use realmkeep_domain::records::Refusal;
use realmkeep_domain::{CharacterId, Fence};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub killer: Fence,
    pub victim: Fence,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt;

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub killer: CharacterId,
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        Vec::new()
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let killer = self.killer;
        match outcome {
            Outcome::Ok(_) => {
                let Some(mut p) = ctx.player(killer) else {
                    return;
                };
                p.player.pvp_kills += 1;
                let score = p.player.pvp_kills as i64;
                ctx.outbox.cache(CacheRequest::Leaderboard {
                    board: Board::Pvp,
                    character: killer,
                    score,
                });
            }
            Outcome::Refused(Refusal::StaleClaim) => ctx.lost(killer),
            other => tracing::debug!(%killer, ?other, "pvp kill not counted"),
        }
    }
}
