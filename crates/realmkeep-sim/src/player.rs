//! One simulated player: where it is, what it waits for, and what its notices tell it.

use crate::limits::{MOVE_WAIT_STEPS, NOTICES_PER_STEP_MAX, REJOIN_AFTER_STEPS, TRADE_WAIT_STEPS};
use crate::mind::{Mind, Offer};
use crate::seed::SeededPlayer;
use crate::stats::{bump, dec, SimStats, TradeReceipt};
use realmkeep_domain::ZoneId;
use realmkeep_server::{Notice, NoticeRecvError};
use realmkeep_zone::io::{Action, LeftReason, PlayerCommand, PlayerEvent};
use tokio::sync::mpsc;

/// Where a player is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Not in a zone: joins again from step `retry_at` on.
    Offline { retry_at: u64 },
    /// A join is in flight.
    Joining,
    /// In a zone.
    InZone { zone: ZoneId },
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
    /// A zone command of `action` (market, mail) waits for its answer.
    Answer { action: Action, since: u64 },
    /// A cache call is in flight.
    Call,
}

pub(crate) struct SimPlayer {
    pub seeded: SeededPlayer,
    pub mind: Mind,
    pub token: Option<String>,
    pub place: Place,
    pub notices: Option<realmkeep_server::NoticeReceiver>,
    pub pending: Option<Pending>,
    /// A trade offer received and not answered yet.
    pub offer_in: Option<Offer>,
    /// The second half of a two-step action, sent at the next turn: the buy after a market
    /// page, the claim after the mailbox.
    pub follow_up: Option<PlayerCommand>,
    pub queued: bool,
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
            follow_up: None,
            queued: false,
        }
    }

    pub fn zone(&self) -> Option<ZoneId> {
        match self.place {
            Place::InZone { zone, .. } => Some(zone),
            _ => None,
        }
    }

    /// Now in `zone`: waits of the zone it left are over.
    pub fn entered(&mut self, zone: ZoneId) {
        self.place = Place::InZone { zone };
        self.offer_in = None;
        self.follow_up = None;
        if matches!(
            self.pending,
            Some(Pending::Offered { .. } | Pending::Accepted { .. } | Pending::Answer { .. })
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
        self.follow_up = None;
        if !matches!(self.pending, Some(Pending::Call)) {
            self.pending = None;
        }
    }

    /// Gives up on waits that ran out.
    pub fn expire(&mut self, step: u64, stats: &SimStats) {
        match &self.pending {
            Some(
                Pending::Offered { since }
                | Pending::Accepted { since, .. }
                | Pending::Answer { since, .. },
            ) if step.saturating_sub(*since) > TRADE_WAIT_STEPS => self.pending = None,
            _ => {}
        }
        if let Place::Moving { since, .. } | Place::LoggingOut { since } = self.place {
            if step.saturating_sub(since) > MOVE_WAIT_STEPS {
                self.offline(step, stats);
            }
        }
    }

    /// Reads the player's notices (bounded).
    pub fn read_notices(
        &mut self,
        step: u64,
        stats: &SimStats,
        receipts: &mpsc::Sender<TradeReceipt>,
    ) {
        for _ in 0..NOTICES_PER_STEP_MAX {
            let Some(rx) = self.notices.as_mut() else {
                break;
            };
            match rx.try_recv() {
                Ok(n) => self.on_notice(n, step, stats, receipts),
                Err(NoticeRecvError::Empty) => break,
                Err(NoticeRecvError::Closed) => {
                    if !matches!(self.place, Place::Out | Place::Offline { .. }) {
                        self.offline(step, stats);
                    }
                    self.notices = None;
                    break;
                }
            }
        }
    }

    fn on_notice(
        &mut self,
        n: Notice,
        step: u64,
        stats: &SimStats,
        receipts: &mpsc::Sender<TradeReceipt>,
    ) {
        match n {
            Notice::Event(e) | Notice::Reply { event: e, .. } => self.on_event(e, stats, receipts),
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
    }

    /// The answer of a market or mail command came: the player stops waiting.
    fn answered(&mut self, action: Action) {
        if matches!(self.pending, Some(Pending::Answer { action: a, .. }) if a == action) {
            self.pending = None;
        }
    }

    fn on_event(
        &mut self,
        e: PlayerEvent,
        stats: &SimStats,
        receipts: &mpsc::Sender<TradeReceipt>,
    ) {
        match e {
            PlayerEvent::Joined { zone, .. } => {
                if let Place::Moving { .. } = self.place {
                    bump(&stats.zone_changes);
                    self.entered(zone);
                }
            }
            PlayerEvent::Listed { .. } => {
                bump(&stats.market_listings);
                self.answered(Action::Market);
            }
            PlayerEvent::MarketPage { rows, .. } => {
                let me = self.seeded.character;
                match rows.iter().find(|r| r.seller != me) {
                    Some(r) => {
                        let listing = r.listing;
                        self.follow_up = Some(PlayerCommand::BuyListing { listing });
                    }
                    None => self.answered(Action::Market),
                }
            }
            PlayerEvent::Bought { .. } => {
                bump(&stats.market_buys);
                self.answered(Action::Market);
            }
            PlayerEvent::MailSent { .. } => {
                bump(&stats.mails_sent);
                self.answered(Action::Mail);
            }
            PlayerEvent::Mailbox { mails } => {
                match mails
                    .iter()
                    .find(|m| !m.claimed && (m.gold > 0 || m.items > 0))
                {
                    Some(m) => {
                        let mail = m.mail;
                        self.follow_up = Some(PlayerCommand::ClaimMail { mail });
                    }
                    None => self.answered(Action::Mail),
                }
            }
            PlayerEvent::MailClaimed { .. } => {
                bump(&stats.mail_claims);
                self.answered(Action::Mail);
            }
            PlayerEvent::TradeOffered { from, give, want } => {
                self.offer_in = Some(Offer {
                    from,
                    gives: give,
                    wants: want,
                });
            }
            PlayerEvent::TradeDone { with, .. } => match self.pending.take() {
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
                self.answered(action);
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
    }
}
