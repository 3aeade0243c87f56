//! Guild operations, fenced by the zone's claim. Founding moves gold and runs under the request's
//! key; the others change no item or gold and are refused when done twice (a second accept, a
//! second kick), so a retry after a lost answer cannot do them twice.

use super::{keyed, Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::guild::{GuildOp, Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let actor = Actor::Zone(r.fence);
    let store = ex.store;
    let unchanged = |()| Receipt {
        guild: r.guild,
        gold_after: None,
    };
    match &r.op {
        GuildOp::Create { name } => {
            let founded = keyed(ex, key, store.create_guild_keyed(actor, name, key)).await?;
            Ok(Receipt {
                guild: Some(founded.guild),
                gold_after: Some(founded.gold_after),
            })
        }
        GuildOp::Invite { who } => {
            let Some(guild) = r.guild else {
                return Err(realmkeep_store::StoreError::Refused(
                    realmkeep_domain::records::Refusal::NotAllowed("the character is in no guild"),
                ));
            };
            store.invite(actor, guild, *who).await.map(unchanged)
        }
        GuildOp::Accept { guild } => {
            store.accept_invite(actor, *guild).await?;
            Ok(Receipt {
                guild: Some(*guild),
                gold_after: None,
            })
        }
        GuildOp::Decline { guild } => store.decline_invite(actor, *guild).await.map(unchanged),
        GuildOp::Leave => {
            store.leave(actor).await?;
            Ok(Receipt {
                guild: None,
                gold_after: None,
            })
        }
        GuildOp::Kick { who } => store.kick(actor, *who).await.map(unchanged),
        GuildOp::SetRank { who, rank } => store.set_rank(actor, *who, *rank).await.map(unchanged),
        GuildOp::HandOver { to } => store.hand_over_leadership(actor, *to).await.map(unchanged),
        GuildOp::Disband => {
            store.disband(actor).await?;
            Ok(Receipt {
                guild: None,
                gold_after: None,
            })
        }
    }
}
