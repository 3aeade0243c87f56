//! Deleting one mail of one's mailbox (`Store::delete_mail`), once it carries nothing (its
//! gold and items claimed): logged, fenced by the claim. Not critical (nothing moves).

use super::{AnswerCtx, Outcome};
use crate::io::{Action, Denial, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::{CharacterId, Fence, MailId};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub mail: MailId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt;

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    pub mail: MailId,
}

/// `PlayerCommand::DeleteMail`: one of the player's mails (the store checks whose it is, and
/// that nothing is left to claim).
pub(crate) fn command(ctx: &mut Ctx, a: ActorItem, mail: MailId) {
    let me = a.player.character;
    if !ctx.pending.has_room() {
        return ctx.deny(me, Action::Mail, Denial::Busy);
    }
    let waiting = Waiting {
        character: me,
        mail,
    };
    let Some(id) = ctx.pending.open(waiting.into()) else {
        return;
    };
    let request = Request {
        fence: a.player.fence,
        mail,
    };
    ctx.outbox.persist(id, request.into());
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        Vec::new()
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let Outcome::Ok(Receipt) = outcome else {
            return ctx.failed(self.character, Action::Mail, &outcome);
        };
        let mail = self.mail;
        ctx.outbox
            .tell(self.character, PlayerEvent::MailDeleted { mail });
    }
}
