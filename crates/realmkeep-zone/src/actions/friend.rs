//! Friends and blocks of the character this zone holds, fenced by its claim
//! (`Store::request_friend`, `accept_friend`, `remove_friend`, `block`, `unblock`). A committed
//! block or unblock also changes the player's `Blocks` (trade offers from those are refused).

use super::{open_critical, AnswerCtx, Outcome};
use crate::io::{Action, Denial, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::{CharacterId, Fence};

/// What a player asks about another character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FriendOp {
    Request,
    Accept,
    Remove,
    Block,
    Unblock,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub other: CharacterId,
    pub op: FriendOp,
}

/// Whether the two are friends now.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub friends: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    pub other: CharacterId,
    pub op: FriendOp,
}

/// `PlayerCommand::Friend`: about another character (whether it exists is the store's to say).
pub(crate) fn command(ctx: &mut Ctx, mut a: ActorItem, other: CharacterId, op: FriendOp) {
    let me = a.player.character;
    if other == me {
        return ctx.deny(me, Action::Friend, Denial::Invalid);
    }
    let request = Request {
        fence: a.player.fence,
        other,
        op,
    };
    let waiting = Waiting {
        character: me,
        other,
        op,
    };
    open_critical(ctx, &mut a, Action::Friend, waiting.into(), request.into());
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        vec![self.character]
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let Outcome::Ok(r) = outcome else {
            return ctx.failed(self.character, Action::Friend, &outcome);
        };
        if let Some(mut p) = ctx.player(self.character) {
            match self.op {
                FriendOp::Block => p.blocks.add(self.other),
                FriendOp::Unblock => p.blocks.remove(self.other),
                _ => {}
            }
        }
        let event = PlayerEvent::FriendChanged {
            other: self.other,
            op: self.op,
            friends: r.friends,
        };
        ctx.outbox.tell(self.character, event);
    }
}
