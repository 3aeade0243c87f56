//! The mailbox: `Store::list_mail`, a read (no claim, no key).

use super::{Executor, Lane};
use realmkeep_domain::CharacterId;
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::mail_list::{MailSeen, Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.character
}

pub(super) async fn execute(ex: &Executor<'_>, _key: &str, r: &Request) -> StoreResult<Receipt> {
    let mails = ex.store.list_mail(r.character).await?;
    Ok(Receipt {
        mails: mails
            .into_iter()
            .map(|m| MailSeen {
                mail: m.id,
                from: m.sender,
                subject: m.subject,
                gold: m.gold,
                items: m.items,
                read: m.read,
                claimed: m.claimed,
            })
            .collect(),
    })
}
