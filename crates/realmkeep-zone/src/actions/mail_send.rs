//! Sending mail to a character (`Store::send_mail`): the gold and attached items leave the
//! sender's purse and bag, in the view only from the receipt.

use super::{open_critical, AnswerCtx, Outcome};
use crate::io::{Action, CacheRequest, Denial, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::limits::{MAIL_ATTACHMENTS_MAX, MAIL_BODY_CHARS_MAX, MAIL_SUBJECT_CHARS_MAX};
use realmkeep_domain::{CharacterId, Fence, Gold, ItemId, MailId};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub to: CharacterId,
    pub subject: String,
    pub body: String,
    pub gold: Gold,
    pub items: Vec<ItemId>,
}

/// The mail sent and the sender's purse after.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub mail: MailId,
    pub gold_after: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    /// The recipient, told once the mail is committed.
    pub to: CharacterId,
    pub items: Vec<ItemId>,
}

/// What a client asks to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    pub to: CharacterId,
    pub subject: String,
    pub body: String,
    pub gold: Gold,
    pub items: Vec<ItemId>,
}

/// `PlayerCommand::SendMail`: bounded text and attachments, distinct items of the bag, gold in
/// the purse; the recipient (exists, mailbox not full) is for the store to say.
pub(crate) fn command(ctx: &mut Ctx, mut a: ActorItem, letter: Letter) {
    let me = a.player.character;
    let mut distinct = letter.items.clone();
    distinct.sort();
    distinct.dedup();
    let bounded = letter.subject.chars().count() <= MAIL_SUBJECT_CHARS_MAX
        && !letter.subject.trim().is_empty()
        && letter.body.chars().count() <= MAIL_BODY_CHARS_MAX
        && letter.items.len() <= MAIL_ATTACHMENTS_MAX
        && distinct.len() == letter.items.len()
        && letter.to != me;
    if !bounded {
        return ctx.deny(me, Action::Mail, Denial::Invalid);
    }
    let held = letter.items.iter().all(|i| a.inventory.item(*i).is_some());
    if !held || letter.gold.get() > a.inventory.gold {
        return ctx.deny(me, Action::Mail, Denial::NotAllowed);
    }
    let waiting = Waiting {
        character: me,
        to: letter.to,
        items: letter.items.clone(),
    };
    let request = Request {
        fence: a.player.fence,
        to: letter.to,
        subject: letter.subject,
        body: letter.body,
        gold: letter.gold,
        items: letter.items,
    };
    open_critical(ctx, &mut a, Action::Mail, waiting.into(), request.into());
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        vec![self.character]
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let Outcome::Ok(r) = outcome else {
            return ctx.failed(self.character, Action::Mail, &outcome);
        };
        if let Some(mut p) = ctx.player(self.character) {
            for item in &self.items {
                p.inventory.remove(*item);
            }
            p.inventory.gold = r.gold_after;
        }
        let (mail, gold) = (r.mail, r.gold_after);
        ctx.outbox.tell(self.character, PlayerEvent::MailSent { mail });
        // The recipient hears of it wherever they play (after the commit: the mail is there).
        ctx.outbox.cache(CacheRequest::MailArrived { to: self.to, mail });
        ctx.outbox
            .tell(self.character, PlayerEvent::GoldChanged { gold });
        if !self.items.is_empty() {
            ctx.tell_items(self.character);
        }
    }
}
