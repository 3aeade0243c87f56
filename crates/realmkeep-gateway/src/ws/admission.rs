//! What a connection lets through: the local flood bound (frames per second), request ids that
//! grow, and the address's rate limit for each command kind (`rate_limit:{ip}:{action}`); too
//! many refusals in a row close the connection (4004).
//!
//! The frequent kinds ([`TALLIED`]: moves, chat, whispers, acts) are tallied on the node and
//! answered at once, the node counting its tally in Redis every 50 ms
//! (`realmkeep_cache::RateTally`). A player's every step used to wait for a Redis round
//! trip first, inside the node's own time to answer it (its p99 was 226 ms at 5,000 active
//! players on two slow cores; `docs/BENCHMARKS.md`). The rare kinds (trades, market, mail) wait
//! for their count, as does a frequent one when the tally is full.

use super::conn::{Conn, End};
use super::decode::Bad;
use crate::limits::RATE_LIMITED_IN_A_ROW_MAX;
use realmkeep_cache::{RateAction, RateDecision, Tallied};
use realmkeep_protocol::ws::{Answer, CommandKind};
use realmkeep_protocol::{CloseCode, Reason};
use std::time::{Duration, Instant};

/// Frames one connection may send per second before the address's Redis-counted limit is
/// even asked: a flood is answered locally.
pub const CONNECTION_FRAMES_PER_SECOND_MAX: u32 = 40;

/// The kinds tallied on the node rather than counted in Redis while the command waits.
pub(crate) const TALLIED: [RateAction; 4] = [
    RateAction::WsMove,
    RateAction::WsSay,
    RateAction::Whisper,
    RateAction::WsAct,
];

/// The rate-limit metric's label for that local bound.
const FLOOD: &str = "flood";

impl Conn {
    /// Counts a frame in the connection's one-second window: `Some(wait)` past the local bound.
    pub(super) fn over_local_bound(&mut self) -> Option<Duration> {
        if self.window_start.elapsed() >= Duration::from_secs(1) {
            self.window_start = Instant::now();
            self.window_count = 0;
        }
        self.window_count += 1;
        (self.window_count > CONNECTION_FRAMES_PER_SECOND_MAX)
            .then(|| Duration::from_secs(1).saturating_sub(self.window_start.elapsed()))
    }

    /// Answers `rate_limited` (counted under `action`); too many in a row close the
    /// connection (4004).
    pub(super) fn limited(
        &mut self,
        id: u64,
        wait: Duration,
        action: &'static str,
    ) -> Result<(), End> {
        crate::meters::Meters::rate_limited(action);
        self.limited_in_a_row += 1;
        if self.limited_in_a_row >= RATE_LIMITED_IN_A_ROW_MAX {
            return Err(End::Close(CloseCode::Flood));
        }
        self.answer(
            id,
            Answer::RateLimited {
                retry_after_ms: wait.as_millis().max(1) as u64,
            },
        )
    }

    /// The local flood bound; request ids grow strictly on a connection; then the address's
    /// rate limit for the command's kind (`rate_limit:{ip}:{action}`). `Ok(false)`: answered.
    pub(super) async fn admit(&mut self, id: u64, kind: CommandKind) -> Result<bool, End> {
        if let Some(wait) = self.over_local_bound() {
            self.limited(id, wait, FLOOD)?;
            return Ok(false);
        }
        if !self.fresh_id(id) {
            self.refuse(id, Reason::RequestIdReused, "request ids must grow")?;
            return Ok(false);
        }
        let action = match kind {
            CommandKind::Move => Some(RateAction::WsMove),
            CommandKind::Say => Some(RateAction::WsSay),
            CommandKind::Whisper => Some(RateAction::Whisper),
            CommandKind::Trade => Some(RateAction::Trade),
            CommandKind::Market => Some(RateAction::Market),
            CommandKind::Mail => Some(RateAction::Mail),
            CommandKind::Act | CommandKind::Info => Some(RateAction::WsAct),
            // Joins are counted by `join` itself (`ws_join`); a logout is always let through.
            CommandKind::Join | CommandKind::Logout => None,
        };
        if let Some(a) = action {
            if TALLIED.contains(&a) {
                match self.app.cache().rate_tally().hit(self.peer.ip(), a) {
                    Tallied::Allowed => {
                        self.limited_in_a_row = 0;
                        return Ok(true);
                    }
                    Tallied::Limited { retry_after } => {
                        self.limited(id, retry_after, a.as_str())?;
                        return Ok(false);
                    }
                    Tallied::Full => {}
                }
            }
            let limits = self.app.cache().rate_limits();
            if let RateDecision::Limited { retry_after, .. } = limits.check(self.peer.ip(), a).await
            {
                self.limited(id, retry_after, a.as_str())?;
                return Ok(false);
            }
        }
        self.limited_in_a_row = 0;
        Ok(true)
    }

    /// Records a request id; false if it does not grow (every frame whose id could be read
    /// uses its id, refused or not).
    pub(super) fn fresh_id(&mut self, id: u64) -> bool {
        if self.last_request.is_some_and(|last| id <= last) {
            return false;
        }
        self.last_request = Some(id);
        true
    }

    /// A frame that could not be acted on: counted like any other, then its reason (or
    /// `request_id_reused` first).
    pub(super) fn bad_frame(&mut self, b: Bad) -> Result<(), End> {
        if let Some(wait) = self.over_local_bound() {
            return self.limited(b.id, wait, FLOOD);
        }
        if b.id != 0 && !self.fresh_id(b.id) {
            return self.refuse(b.id, Reason::RequestIdReused, "request ids must grow");
        }
        self.refuse(b.id, b.reason, b.detail)
    }
}
