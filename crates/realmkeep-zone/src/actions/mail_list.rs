//! Reading one's mailbox (`Store::list_mail`): a read, newest first. Not critical.

use super::{AnswerCtx, Outcome};
use crate::io::{Action, Denial, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::{CharacterId, MailId};

/// One mail as the mailbox lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct MailSeen {
    pub mail: MailId,
    pub from: Option<CharacterId>,
    pub subject: String,
    pub gold: i64,
    pub items: i64,
    pub read: bool,
    pub claimed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub character: CharacterId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub mails: Vec<MailSeen>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
}

/// `PlayerCommand::ListMail`.
pub(crate) fn command(ctx: &mut Ctx, a: ActorItem) {
    let me = a.player.character;
    if !ctx.pending.has_room() {
        return ctx.deny(me, Action::Mail, Denial::Busy);
    }
    let Some(id) = ctx.pending.open(Waiting { character: me }.into()) else {
        return;
    };
    ctx.outbox.persist(id, Request { character: me }.into());
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
            .tell(self.character, PlayerEvent::Mailbox { mails: r.mails });
    }
}
