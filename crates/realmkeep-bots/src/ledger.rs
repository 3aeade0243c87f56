//! What the bots were told committed: the durable id each critical action's event carries (a
//! trade's reference, a listing, a purchase, a mail, the stack a pickup went into), with the
//! character told. A fault test checks each entry against PostgreSQL afterwards, so the ledger is
//! kept only when asked for (`BotsConfig::ledger`) and bounded.

use realmkeep_protocol::ws::{GameEvent, ServerMsg};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// Entries one run keeps at the most; more are counted as dropped (a test then knows its check
/// is incomplete). 500 bots acting once a second for ten minutes stay well under it.
pub const LEDGER_ENTRIES_MAX: usize = 1_000_000;

/// One acknowledged critical action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acked {
    /// The character whose socket was told.
    pub character: i64,
    #[serde(flatten)]
    pub what: Committed,
}

/// What committed, by the id its event carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Committed {
    Trade { trade: String, with: i64 },
    Listed { listing: i64, item: i64 },
    Bought { listing: i64, item: i64 },
    ListingCancelled { listing: i64, item: i64 },
    MailSent { mail: i64 },
    MailClaimed { mail: i64 },
    Looted { item: Option<i64>, quantity: i32 },
}

impl Committed {
    /// The committed action a server message tells of, if it tells of one.
    pub fn of(msg: &ServerMsg) -> Option<Self> {
        let ServerMsg::Event(e) = msg else {
            return None;
        };
        Some(match e {
            GameEvent::TradeDone { with, trade } => Committed::Trade {
                trade: trade.clone(),
                with: *with,
            },
            GameEvent::Listed { listing, item } => Committed::Listed {
                listing: *listing,
                item: *item,
            },
            GameEvent::Bought { listing, item, .. } => Committed::Bought {
                listing: *listing,
                item: *item,
            },
            GameEvent::ListingCancelled { listing, item } => Committed::ListingCancelled {
                listing: *listing,
                item: *item,
            },
            GameEvent::MailSent { mail } => Committed::MailSent { mail: *mail },
            GameEvent::MailClaimed { mail, .. } => Committed::MailClaimed { mail: *mail },
            GameEvent::Looted { item, quantity, .. } => Committed::Looted {
                item: *item,
                quantity: *quantity,
            },
            _ => return None,
        })
    }
}

/// The entries of a run, shared by its bots.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    entries: Mutex<(Vec<Acked>, u64)>,
}

impl Ledger {
    pub fn record(&self, character: i64, what: Committed) {
        let mut g = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if g.0.len() < LEDGER_ENTRIES_MAX {
            g.0.push(Acked { character, what });
        } else {
            g.1 += 1;
        }
    }

    /// The entries and how many were dropped for want of room.
    pub fn take(&self) -> (Vec<Acked>, u64) {
        let mut g = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        (std::mem::take(&mut g.0), g.1)
    }
}
