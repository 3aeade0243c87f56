//! A mind's intent as a protocol command (what a real client would send for it).

use realmkeep_protocol::ws::{Command, Offer as WireOffer};
use realmkeep_sim::mind::ChatKind;
use realmkeep_sim::Intent;
use realmkeep_zone::io::TradeOffer;
use realmkeep_zone::limits::MOVE_STEP_MAX;

/// Rows of the market page a buyer looks at.
pub(crate) const SEARCH_ROWS: i64 = 10;
/// Hours a bot's listing stays up.
const LISTING_HOURS: i64 = 24;

fn offer(o: &TradeOffer) -> WireOffer {
    WireOffer {
        items: o.items.iter().map(|i| i.0).collect(),
        gold: o.gold.get(),
    }
}

/// Whether the answer to `cmd` comes after a commit (a critical action: items or gold move).
pub(crate) fn critical(cmd: &Command) -> bool {
    matches!(
        cmd,
        Command::PickUp { .. }
            | Command::Trade { .. }
            | Command::ListItem { .. }
            | Command::BuyListing { .. }
            | Command::SendMail { .. }
            | Command::ClaimMail { .. }
    )
}

/// The command for `intent`, from where the bot stands (a walk is cut to one step).
pub(crate) fn command(intent: &Intent, at: (f32, f32)) -> Option<Command> {
    Some(match intent {
        Intent::Wait => return None,
        Intent::QueueDungeon => Command::QueueJoin {
            queue: "dungeon".into(),
        },
        Intent::Walk { x, y } => {
            let (dx, dy) = (x - at.0, y - at.1);
            let d = (dx * dx + dy * dy).sqrt();
            let step = MOVE_STEP_MAX * 0.9;
            let k = if d > step { step / d } else { 1.0 };
            Command::MoveTo {
                x: at.0 + dx * k,
                y: at.1 + dy * k,
            }
        }
        Intent::Attack { target } => Command::Attack { target: target.0 },
        Intent::PickUp { loot } => Command::PickUp { loot: loot.0 },
        Intent::Chat { channel, text } => match channel {
            ChatKind::Say => Command::Say { text: text.clone() },
            ChatKind::Global => Command::Chat {
                channel: "global".into(),
                text: text.clone(),
            },
            ChatKind::Kingdom => Command::Chat {
                channel: "kingdom".into(),
                text: text.clone(),
            },
        },
        Intent::OfferTrade { with, item, gold } => Command::Trade {
            with: with.0,
            give: WireOffer {
                items: vec![item.0],
                gold: 0,
            },
            want: WireOffer {
                items: vec![],
                gold: *gold,
            },
        },
        Intent::AcceptTrade(o) => Command::Trade {
            with: o.from.0,
            give: offer(&o.wants),
            want: offer(&o.gives),
        },
        Intent::ListItem { item, price } => Command::ListItem {
            item: item.0,
            price: *price,
            hours: LISTING_HOURS,
        },
        Intent::BuyListing { budget } => Command::SearchMarket {
            item_def: None,
            min_price: None,
            max_price: Some(*budget),
            after: None,
            rows: SEARCH_ROWS,
        },
        Intent::SendMail { to, gold, item } => Command::SendMail {
            to: to.0,
            subject: "A gift".into(),
            body: "From a fellow adventurer.".into(),
            gold: *gold,
            items: item.iter().map(|i| i.0).collect(),
        },
        Intent::ClaimMail => Command::ListMail,
        Intent::ChangeZone { to } => Command::ChangeZone { to: to.0 },
    })
}
