//! The address's rate limits for a player's frequent commands (moves, chat, whispers, acts),
//! counted in Redis (`rate_limit:{ip}:{action}`) without the command waiting for the count: the
//! command goes to its zone at once, and a count over the limit marks the connection's book, so
//! its next commands of that kind are refused until the window has passed. A player's every
//! step used to wait for a Redis round trip first, inside the node's own time to answer it: that
//! time's p99 was 226 ms at 5,000 active players on two slow cores, with the Redis round trip in
//! it, and 141–174 ms without it in runs where the machine was busier (`docs/BENCHMARKS.md`).
//!
//! What this lets through over a limit is bounded per connection: its own flood bound
//! (`CONNECTION_FRAMES_PER_SECOND_MAX`, 40 a second) times the Redis timeout (250 ms), ten
//! commands at the most, and one or two for a client that waits for its answers. An address
//! with several connections may go that far past on each (`CONNECTIONS_PER_IP_MAX` bounds them).
//! Trades, market and mail still wait for their count (they are rare, and move gold and items). The
//! counts in flight on the node are bounded (`RATE_CHECKS_IN_FLIGHT_MAX`); past it, a command
//! waits for its count as before.

use crate::limits::RATE_CHECKS_IN_FLIGHT_MAX;
use crate::state::App;
use realmkeep_cache::{RateAction, RateDecision};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The kinds counted without waiting, each a slot of the book.
const COUNTED_AFTER: [RateAction; 4] = [
    RateAction::WsMove,
    RateAction::WsSay,
    RateAction::Whisper,
    RateAction::WsAct,
];

/// The slot of `action` if it is counted without waiting.
pub(super) fn slot(action: RateAction) -> Option<usize> {
    COUNTED_AFTER.iter().position(|a| *a == action)
}

/// One connection's book: until when each kind counted without waiting is refused.
#[derive(Debug)]
pub(super) struct RateBook {
    opened: Instant,
    /// Milliseconds after `opened` (0: not limited).
    until_ms: [AtomicU64; COUNTED_AFTER.len()],
}

impl RateBook {
    pub fn new() -> Self {
        Self {
            opened: Instant::now(),
            until_ms: Default::default(),
        }
    }

    /// How long the kind of `slot` is still refused, if it is.
    pub fn wait(&self, slot: usize) -> Option<Duration> {
        let until = self.until_ms[slot].load(Ordering::Relaxed);
        let now = self.opened.elapsed().as_millis() as u64;
        (until > now).then(|| Duration::from_millis(until - now))
    }

    /// A count said the kind of `slot` is over its limit for `retry_after` more.
    pub fn limit(&self, slot: usize, retry_after: Duration) {
        let until = (self.opened.elapsed() + retry_after).as_millis() as u64;
        self.until_ms[slot].fetch_max(until.max(1), Ordering::Relaxed);
    }
}

/// The counts in flight on the node (`RATE_CHECKS_IN_FLIGHT_MAX`).
#[derive(Debug, Default)]
pub(crate) struct RateChecks(AtomicUsize);

/// One count in flight; dropped when it is done (or its task is dropped).
struct InFlight(Arc<App>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.rate_checks.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts a hit of `action` (slot `slot`) from `ip` in Redis without waiting for it, the answer
/// marking `book`; `false` when the node has `RATE_CHECKS_IN_FLIGHT_MAX` counts in flight
/// already (the caller waits for its count instead).
pub(super) fn count_after(
    app: &Arc<App>,
    book: &Arc<RateBook>,
    ip: IpAddr,
    action: RateAction,
    slot: usize,
) -> bool {
    let checks = &app.rate_checks.0;
    if checks.fetch_add(1, Ordering::AcqRel) >= RATE_CHECKS_IN_FLIGHT_MAX {
        checks.fetch_sub(1, Ordering::AcqRel);
        return false;
    }
    let guard = InFlight(app.clone());
    let book = book.clone();
    tokio::spawn(async move {
        let decision = guard.0.cache().rate_limits().check(ip, action).await;
        if let RateDecision::Limited { retry_after, .. } = decision {
            book.limit(slot, retry_after);
        }
        drop(guard);
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_refuses_its_kind_until_the_window_has_passed_and_no_other() {
        let book = RateBook::new();
        let move_ = slot(RateAction::WsMove).unwrap();
        let say = slot(RateAction::WsSay).unwrap();
        assert_eq!(book.wait(move_), None);
        book.limit(move_, Duration::from_millis(300));
        let w = book.wait(move_).expect("limited");
        assert!(w <= Duration::from_millis(300) && w >= Duration::from_millis(200));
        assert_eq!(book.wait(say), None, "another kind is not");
        // A shorter answer that came later does not shorten it.
        book.limit(move_, Duration::from_millis(1));
        assert!(book.wait(move_).expect("still") >= Duration::from_millis(200));
        std::thread::sleep(Duration::from_millis(310));
        assert_eq!(book.wait(move_), None, "the window passed");
    }

    #[test]
    fn only_the_frequent_kinds_are_counted_without_waiting() {
        for a in [RateAction::Trade, RateAction::Market, RateAction::Mail] {
            assert_eq!(slot(a), None, "{a:?} waits for its count");
        }
        for a in COUNTED_AFTER {
            assert!(slot(a).is_some());
        }
    }
}
