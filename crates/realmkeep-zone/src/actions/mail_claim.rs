//! Claiming a mail's attachments (`Store::claim_attachments`): its gold and items come into the
//! purse and bag exactly once, in the view from the receipt.

use super::{open_critical, AnswerCtx, Outcome};
use crate::io::{Action, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{CharacterId, Fence, MailId};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub mail: MailId,
}

/// The gold claimed, the items as placed, and the purse after.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub gold: i64,
    pub items: Vec<InventoryItem>,
    pub gold_after: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    pub mail: MailId,
}

/// `PlayerCommand::ClaimMail`: one of the player's mails (the store checks whose it is, and
/// that it still carries something).
pub(crate) fn command(ctx: &mut Ctx, mut a: ActorItem, mail: MailId) {
    let me = a.player.character;
    let request = Request {
        fence: a.player.fence,
        mail,
    };
    let waiting = Waiting {
        character: me,
        mail,
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
        let items = r.items.len();
        if let Some(mut p) = ctx.player(self.character) {
            for item in r.items {
                p.inventory.upsert(item);
            }
            p.inventory.gold = r.gold_after;
        }
        let event = PlayerEvent::MailClaimed {
            mail: self.mail,
            gold: r.gold,
            items,
        };
        ctx.outbox.tell(self.character, event);
        let gold = r.gold_after;
        ctx.outbox
            .tell(self.character, PlayerEvent::GoldChanged { gold });
        if items > 0 {
            ctx.tell_items(self.character);
        }
    }
}
