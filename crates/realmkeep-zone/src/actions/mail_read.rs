//! Reading one mail of one's mailbox (`Store::read_mail`): its whole text, marked read. Not
//! critical (nothing moves), fenced by the claim like every write.

use super::{AnswerCtx, Outcome};
use crate::io::{Action, Denial, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::{CharacterId, Fence, MailId};

/// One mail as the player reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    pub mail: MailId,
    pub from: Option<CharacterId>,
    pub subject: String,
    pub body: String,
    pub gold: i64,
    pub items: i64,
    pub claimed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub mail: MailId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub letter: Letter,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
}

/// `PlayerCommand::ReadMail`: one of the player's mails (the store checks whose it is).
pub(crate) fn command(ctx: &mut Ctx, a: ActorItem, mail: MailId) {
    let me = a.player.character;
    if !ctx.pending.has_room() {
        return ctx.deny(me, Action::Mail, Denial::Busy);
    }
    let Some(id) = ctx.pending.open(Waiting { character: me }.into()) else {
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
        let Outcome::Ok(r) = outcome else {
            return ctx.failed(self.character, Action::Mail, &outcome);
        };
        ctx.outbox
            .tell(self.character, PlayerEvent::MailRead(r.letter));
    }
}
