//! Guild operations of the character this zone holds, fenced by its claim (`Store::create_guild`,
//! `invite`, `accept_invite`, `decline_invite`, `leave`, `kick`, `set_rank`,
//! `hand_over_leadership`, `disband`). The player's guild in the zone changes from the receipt.

use super::{open_critical, AnswerCtx, Outcome};
use crate::io::{Action, Denial, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::{CharacterId, Fence, GuildId, GuildName};

/// What a player asks of guilds.
#[derive(Debug, Clone, PartialEq)]
pub enum GuildOp {
    /// Found a guild (costs `GUILD_CREATE_COST_GOLD`).
    Create { name: GuildName },
    Invite { who: CharacterId },
    Accept { guild: GuildId },
    Decline { guild: GuildId },
    Leave,
    Kick { who: CharacterId },
    /// Move a member to another rank (lower numbers rank higher; 0 is the leader's).
    SetRank { who: CharacterId, rank: i16 },
    HandOver { to: CharacterId },
    Disband,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    /// The actor's guild as the zone knows it (for `Invite`).
    pub guild: Option<GuildId>,
    pub op: GuildOp,
}

/// The actor's guild after the operation (`None`: in no guild), and its purse if it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub guild: Option<GuildId>,
    pub gold_after: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
}

/// `PlayerCommand::Guild`: operations that need a guild are denied to a player in none; the
/// rest of the rules (ranks, permissions, invitations) are the store's.
pub(crate) fn command(ctx: &mut Ctx, mut a: ActorItem, op: GuildOp) {
    let me = a.player.character;
    let guild = a.player.guild;
    let needs_guild = matches!(
        op,
        GuildOp::Invite { .. }
            | GuildOp::Leave
            | GuildOp::Kick { .. }
            | GuildOp::SetRank { .. }
            | GuildOp::HandOver { .. }
            | GuildOp::Disband
    );
    let targets_self = matches!(
        op,
        GuildOp::Invite { who } | GuildOp::Kick { who } | GuildOp::SetRank { who, .. }
            | GuildOp::HandOver { to: who } if who == me
    );
    if (needs_guild && guild.is_none()) || targets_self {
        return ctx.deny(me, Action::Guild, Denial::NotAllowed);
    }
    let request = Request {
        fence: a.player.fence,
        guild,
        op,
    };
    open_critical(
        ctx,
        &mut a,
        Action::Guild,
        Waiting { character: me }.into(),
        request.into(),
    );
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        vec![self.character]
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let Outcome::Ok(r) = outcome else {
            return ctx.failed(self.character, Action::Guild, &outcome);
        };
        if let Some(mut p) = ctx.player(self.character) {
            p.player.guild = r.guild;
            if let Some(gold) = r.gold_after {
                p.inventory.gold = gold;
            }
        }
        let guild = r.guild;
        ctx.outbox
            .tell(self.character, PlayerEvent::GuildChanged { guild });
        if let Some(gold) = r.gold_after {
            ctx.outbox
                .tell(self.character, PlayerEvent::GoldChanged { gold });
        }
    }
}
