//! What a population did, as counters any task reads without stopping the driver, and the
//! receipt of every acknowledged trade.

use realmkeep_domain::{CharacterId, ItemId};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// The counters of one population. Every counter only grows, except `online` and `queued`.
#[derive(Debug, Default)]
pub struct SimStats {
    pub logins: AtomicU64,
    pub real_logins: AtomicU64,
    pub sessions_valid: AtomicU64,
    pub joins: AtomicU64,
    pub join_failures: AtomicU64,
    pub online: AtomicU64,
    pub commands: AtomicU64,
    pub commands_busy: AtomicU64,
    /// Answered with a refusal, a denial or "try again" (by the zone or the store).
    pub refused: AtomicU64,
    pub actions: AtomicU64,
    pub kills: AtomicU64,
    pub pickups: AtomicU64,
    pub level_ups: AtomicU64,
    pub deaths: AtomicU64,
    pub chats: AtomicU64,
    pub trade_offers: AtomicU64,
    pub trades: AtomicU64,
    pub market_listings: AtomicU64,
    pub market_buys: AtomicU64,
    pub mails_sent: AtomicU64,
    pub mail_claims: AtomicU64,
    pub dungeon_queued: AtomicU64,
    pub dungeon_groups: AtomicU64,
    pub queued: AtomicU64,
    pub zone_changes: AtomicU64,
    pub logouts: AtomicU64,
    pub receipts_dropped: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    pub logins: u64,
    pub real_logins: u64,
    pub sessions_valid: u64,
    pub joins: u64,
    pub join_failures: u64,
    pub online: u64,
    pub commands: u64,
    pub commands_busy: u64,
    pub refused: u64,
    pub actions: u64,
    pub kills: u64,
    pub pickups: u64,
    pub level_ups: u64,
    pub deaths: u64,
    pub chats: u64,
    pub trade_offers: u64,
    pub trades: u64,
    pub market_listings: u64,
    pub market_buys: u64,
    pub mails_sent: u64,
    pub mail_claims: u64,
    pub dungeon_queued: u64,
    pub dungeon_groups: u64,
    pub queued: u64,
    pub zone_changes: u64,
    pub logouts: u64,
    pub receipts_dropped: u64,
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn dec(c: &AtomicU64) {
    let _ = c.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
        Some(v.saturating_sub(1))
    });
}

impl SimStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            logins: g(&self.logins),
            real_logins: g(&self.real_logins),
            sessions_valid: g(&self.sessions_valid),
            joins: g(&self.joins),
            join_failures: g(&self.join_failures),
            online: g(&self.online),
            commands: g(&self.commands),
            commands_busy: g(&self.commands_busy),
            refused: g(&self.refused),
            actions: g(&self.actions),
            kills: g(&self.kills),
            pickups: g(&self.pickups),
            level_ups: g(&self.level_ups),
            deaths: g(&self.deaths),
            chats: g(&self.chats),
            trade_offers: g(&self.trade_offers),
            trades: g(&self.trades),
            market_listings: g(&self.market_listings),
            market_buys: g(&self.market_buys),
            mails_sent: g(&self.mails_sent),
            mail_claims: g(&self.mail_claims),
            dungeon_queued: g(&self.dungeon_queued),
            dungeon_groups: g(&self.dungeon_groups),
            queued: g(&self.queued),
            zone_changes: g(&self.zone_changes),
            logouts: g(&self.logouts),
            receipts_dropped: g(&self.receipts_dropped),
        }
    }
}

/// A trade the zone acknowledged (`TradeDone`, sent only after PostgreSQL committed it), as the
/// side that offered first saw it. `a` offered first, so in `game_logs` the `trade` row has
/// `a` as its actor and `b` as its target, and `a_items`/`b_gold` in its details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TradeReceipt {
    pub a: CharacterId,
    pub b: CharacterId,
    pub a_items: Vec<ItemId>,
    pub a_gold: i64,
    pub b_items: Vec<ItemId>,
    pub b_gold: i64,
}
