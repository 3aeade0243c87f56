//! One simulated player: where it is, what it waits for, and what its notices tell it.

use crate::limits::{MOVE_WAIT_STEPS, NOTICES_PER_STEP_MAX, REJOIN_AFTER_STEPS, TRADE_WAIT_STEPS};
use crate::mind::{Mind, Offer};
use crate::seed::SeededPlayer;
use crate::stats::{bump, dec, SimStats, TradeReceipt};
use realmkeep_domain::{Fence, ItemId, ZoneId};
use realmkeep_server::Notice;
use realmkeep_zone::io::{Action, LeftReason, PlayerEvent};
use std::collections::HashSet;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

/// Where a player is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Not in a zone: joins again from step `retry_at` on.
    Offline { retry_at: u64 },
    /// A join is in flight.
    Joining,
    /// In a zone. `fence` is the claim its non-zone services act under (the market and the mail
    /// need it); `None` until it is learned after a zone change.
    InZone { zone: ZoneId, fence: Option<Fence> },
    /// Asked to change zones: waiting for the release here and the join there.
    Moving { to: ZoneId, since: u64 },
    /// Asked to log out: waiting for the final save.
    LoggingOut { since: u64 },
    /// Logged out for good.
    Out,
}

/// What a player waits for; while it waits it only walks and fights.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pending {
    /// It offered a trade and waits for the partner's mirror offer.
    Offered { since: u64 },
    /// It sent the mirror of `offer`: the trade runs when the zone matches them.
    Accepted { offer: Offer, since: u64 },
    /// A store or cache call is in flight.
    Call,
}

pub(crate) struct SimPlayer {
    pub seeded: SeededPlayer,
    pub mind: Mind,
    pub token: Option<String>,
    pub place: Place,
    pub notices: Option<mpsc::Receiver<Notice>>,
    pub pending: Option<Pending>,
    /// A trade offer received and not answered yet.
    pub offer_in: Option<Offer>,
    /// Items it gave away outside the zone (listed, mailed): the zone's view of the bag learns
    /// of them only at the next join, so the player remembers not to offer them again.
    pub gone: HashSet<ItemId>,
    /// Gold it spent outside the zone since it joined (the zone's purse learns it at the next
    /// store result that carries the purse, or the next join).
    pub spent: i64,
    pub queued: bool,
    pub needs_fence: bool,
}

impl SimPlayer {
    pub fn new(seeded: SeededPlayer, seed: u64) -> Self {
        Self {
            mind: Mind::new(seed, seeded.index as u64),
            seeded,
            token: None,
            place: Place::Offline { retry_at: 0 },
            notices: None,
            pending: None,
            offer_in: None,
            gone: HashSet::new(),
            spent: 0,
            queued: false,
            needs_fence: false,
        }
    }

    pub fn zone(&self) -> Option<ZoneId> {
        match self.place {
            Place::InZone { zone, .. } => Some(zone),
            _ => None,
        }
    }

    pub fn fence(&self) -> Option<Fence> {
        match self.place {
            Place::InZone { fence, .. } => fence,
            _ => None,
        }
    }

    /// Now in `zone` under `fence` (a fresh load: what it gave away is out of the zone's view).
    pub fn entered(&mut self, zone: ZoneId, fence: Option<Fence>) {
        self.place = Place::InZone { zone, fence };
        self.gone.clear();
        self.spent = 0;
        self.offer_in = None;
        if matches!(
            self.pending,
            Some(Pending::Offered { .. } | Pending::Accepted { .. })
        ) {
            self.pending = None;
        }
    }

    fn offline(&mut self, step: u64, stats: &SimStats) {
        if matches!(
            self.place,
            Place::InZone { .. } | Place::Moving { .. } | Place::LoggingOut { .. }
        ) {
            dec(&stats.online);
        }
        self.place = match self.place {
            Place::LoggingOut { .. } | Place::Out => Place::Out,
            _ => Place::Offline {
                retry_at: step + REJOIN_AFTER_STEPS,
            },
        };
        self.notices = None;
        self.offer_in = None;
        if !matches!(self.pending, Some(Pending::Call)) {
            self.pending = None;
        }
    }

    /// Gives up on waits that ran out.
    pub fn expire(&mut self, step: u64, stats: &SimStats) {
        match &self.pending {
            Some(Pending::Offered { since } | Pending::Accepted { since, .. })
                if step.saturating_sub(*since) > TRADE_WAIT_STEPS =>
            {
                self.pending = None
            }
            _ => {}
        }
        if let Place::Moving { since, .. } | Place::LoggingOut { since } = self.place {
            if step.saturating_sub(since) > MOVE_WAIT_STEPS {
                self.offline(step, stats);
            }
        }
    }

    /// Reads the player's notices (bounded). Returns true if it needs its fence looked up (it
    /// arrived in a zone through a zone change).
    pub fn read_notices(
        &mut self,
        step: u64,
        stats: &SimStats,
        receipts: &mpsc::Sender<TradeReceipt>,
    ) -> bool {
        let mut lookup = false;
        for _ in 0..NOTICES_PER_STEP_MAX {
            let Some(rx) = self.notices.as_mut() else {
                break;
            };
            match rx.try_recv() {
                Ok(n) => lookup |= self.on_notice(n, step, stats, receipts),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if !matches!(self.place, Place::Out | Place::Offline { .. }) {
                        self.offline(step, stats);
                    }
                    self.notices = None;
                    break;
                }
            }
        }
        lookup
    }

    fn on_notice(
        &mut self,
        n: Notice,
        step: u64,
        stats: &SimStats,
        receipts: &mpsc::Sender<TradeReceipt>,
    ) -> bool {
        match n {
            Notice::Event(e) => return self.on_event(e, stats, receipts),
            Notice::Left(LeftReason::Released {
                transfer_to: Some(to),
            }) => {
                self.place = Place::Moving { to, since: step };
            }
            Notice::Left(LeftReason::Released { transfer_to: None }) => {
                if matches!(self.place, Place::LoggingOut { .. }) {
                    bump(&stats.logouts);
                }
                self.offline(step, stats);
            }
            Notice::Left(LeftReason::ClaimLost)
            | Notice::SpawnRefused(_)
            | Notice::TransferFailed { .. } => self.offline(step, stats),
        }
        false
    }

    fn on_event(
        &mut self,
        e: PlayerEvent,
        stats: &SimStats,
        receipts: &mpsc::Sender<TradeReceipt>,
    ) -> bool {
        match e {
            PlayerEvent::Joined { zone, .. } => {
                if let Place::Moving { .. } = self.place {
                    bump(&stats.zone_changes);
                    self.entered(zone, None);
                    return true;
                }
            }
            PlayerEvent::TradeOffered { from, give, want } => {
                self.offer_in = Some(Offer {
                    from,
                    gives: give,
                    wants: want,
                });
            }
            PlayerEvent::TradeDone { with } => match self.pending.take() {
                Some(Pending::Accepted { offer, .. }) if offer.from == with => {
                    bump(&stats.trades);
                    let receipt = TradeReceipt {
                        a: offer.from,
                        b: self.seeded.character,
                        a_items: offer.gives.items,
                        a_gold: offer.gives.gold.get(),
                        b_items: offer.wants.items,
                        b_gold: offer.wants.gold.get(),
                    };
                    if receipts.try_send(receipt).is_err() {
                        bump(&stats.receipts_dropped);
                    }
                }
                Some(Pending::Offered { .. }) | None => {}
                other => self.pending = other,
            },
            PlayerEvent::Refused { action, .. }
            | PlayerEvent::Denied { action, .. }
            | PlayerEvent::TryAgain { action } => {
                bump(&stats.refused);
                if action == Action::Trade
                    && matches!(
                        self.pending,
                        Some(Pending::Offered { .. } | Pending::Accepted { .. })
                    )
                {
                    self.pending = None;
                }
            }
            PlayerEvent::XpGained { .. } => bump(&stats.kills),
            PlayerEvent::LevelUp { .. } => bump(&stats.level_ups),
            PlayerEvent::Looted { .. } => bump(&stats.pickups),
            PlayerEvent::Died => bump(&stats.deaths),
            _ => {}
        }
        false
    }
}
