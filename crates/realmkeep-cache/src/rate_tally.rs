//! Rate limits for hits too frequent to wait for Redis one by one (a player's moves, chat lines,
//! whispers and acts): each hit is tallied on the node and answered at once, and the node counts
//! its tally in Redis every [`RATE_TALLY_FLUSH_EVERY`] (its flusher is started by
//! [`crate::Cache::connect`]), in the same fixed windows (`rate_limit:{ip}:{action}`) as
//! [`crate::RateLimits::check`], one script call for up to [`RATE_TALLY_KEYS_PER_CALL_MAX`] keys.
//!
//! A hit is refused from what the node knows: the window's count as Redis last gave it, plus the
//! node's hits since. One node alone lets exactly `limit` hits through per window. A node hears
//! of the other nodes' hits when it counts its own, so the hits it takes before its next flush
//! answers are judged on what it heard at its last: several nodes together may each go past a
//! limit by one flush's hits (the flood bound, 40 frames a second on a connection, makes that
//! two a connection).
//! While Redis is down, the flush counts in the same local windows as a waiting check does.
//!
//! At 5,000 active players on one node this is 20 script calls a second instead of one for each
//! command (about 5,000 a second), and no command waits for Redis or spawns a task to count it.

use crate::core::{lock, Core};
use crate::rate_limit::{local_count, LocalWindows};
use crate::vocab::RateAction;
use crate::{keys, scripts};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long hits wait on the node before they are counted in Redis.
pub const RATE_TALLY_FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Addresses × kinds with hits waiting to be counted, and windows known; past it, a new key's
/// hit is not tallied ([`Tallied::Full`]: its caller waits for a check instead).
pub const RATE_TALLY_KEYS_MAX: usize = 100_000;
/// Keys counted by one script call.
pub const RATE_TALLY_KEYS_PER_CALL_MAX: usize = 1_024;

const _: () = assert!(RATE_TALLY_KEYS_PER_CALL_MAX <= RATE_TALLY_KEYS_MAX);
// A flush counts at most RATE_TALLY_KEYS_MAX keys in calls each bounded by Redis's command
// timeout: at most 98, which the node's next hits wait out in the tally, not on a socket.
const _: () = assert!(RATE_TALLY_KEYS_MAX.div_ceil(RATE_TALLY_KEYS_PER_CALL_MAX) <= 100);

type Key = (IpAddr, RateAction);

/// How often, at the most, a full set of windows is searched for ended ones.
const WINDOWS_PRUNE_EVERY: Duration = Duration::from_secs(1);

/// The answer to one tallied hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tallied {
    Allowed,
    Limited {
        retry_after: Duration,
    },
    /// The tally holds [`RATE_TALLY_KEYS_MAX`] keys: count this hit with a check.
    Full,
}

/// The rate tally. Get it from [`crate::Cache::rate_tally`].
#[derive(Debug, Clone, Copy)]
pub struct RateTally<'a> {
    core: &'a Core,
    tally: &'a Tally,
}

impl<'a> RateTally<'a> {
    pub(crate) fn new(core: &'a Core, tally: &'a Tally) -> Self {
        Self { core, tally }
    }

    /// Tallies one hit of `action` from `ip` and answers at once: refused when the window's
    /// count as Redis last gave it and the node's hits since reach the action's limit.
    pub fn hit(&self, ip: IpAddr, action: RateAction) -> Tallied {
        let cfg = self.core.opts.rate_limit(action);
        self.tally.hit(ip, action, cfg.limit, cfg.window)
    }
}

/// The node's tally (one per [`crate::Cache`], in `Shared`).
#[derive(Debug)]
pub(crate) struct Tally {
    state: Mutex<TallyState>,
    /// Told when the first hit comes to an empty tally: the flusher wakes for it.
    wake: Arc<Notify>,
}

impl Default for Tally {
    fn default() -> Self {
        Self::with_max(RATE_TALLY_KEYS_MAX)
    }
}

/// The flusher waits on the wake-up without holding the node: told once more as the tally goes,
/// it finds the node gone and ends.
impl Drop for Tally {
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

#[derive(Debug)]
struct TallyState {
    /// Hits not sent yet.
    pending: HashMap<Key, u32>,
    /// Hits sent by the flush under way.
    sending: HashMap<Key, u32>,
    /// Each window's count as Redis last gave it (with the node's hits in it), and its end.
    windows: HashMap<Key, (u64, Instant)>,
    /// When the ended windows were last let go.
    pruned_at: Instant,
    /// Keys the tally and the windows hold at the most (`RATE_TALLY_KEYS_MAX`).
    max: usize,
}

impl Tally {
    fn with_max(max: usize) -> Self {
        Self {
            state: Mutex::new(TallyState {
                pending: HashMap::new(),
                sending: HashMap::new(),
                windows: HashMap::new(),
                pruned_at: Instant::now(),
                max,
            }),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Tallies one hit of `action` from `ip` under `limit` per `window`.
    pub fn hit(&self, ip: IpAddr, action: RateAction, limit: u32, window: Duration) -> Tallied {
        let now = Instant::now();
        let key = (ip, action);
        let mut s = lock(&self.state);
        let (counted, ends) = match s.windows.get(&key) {
            Some(&(n, until)) if until > now => (n, Some(until)),
            _ => (0, None),
        };
        let waiting = s.pending.get(&key).copied().unwrap_or(0);
        let sent = s.sending.get(&key).copied().unwrap_or(0);
        if counted + u64::from(sent) + u64::from(waiting) >= u64::from(limit) {
            // Hits sent before Redis answered with a window: it started at most a flush ago.
            let retry_after = ends.map_or(window, |e| e - now);
            return Tallied::Limited { retry_after };
        }
        if waiting == 0 && s.pending.len() >= s.max {
            return Tallied::Full;
        }
        let first = s.pending.is_empty();
        *s.pending.entry(key).or_insert(0) += 1;
        drop(s);
        if first {
            self.wake.notify_one();
        }
        Tallied::Allowed
    }

    /// The hits waiting, now being sent.
    fn take(&self) -> Vec<(Key, u32)> {
        let mut s = lock(&self.state);
        let pending = std::mem::take(&mut s.pending);
        let out: Vec<(Key, u32)> = pending.iter().map(|(k, n)| (*k, *n)).collect();
        s.sending = pending;
        out
    }

    /// What the counts said, for the keys sent. The ended windows are let go once a second at
    /// the most while the windows are full; a full set of windows keeps the ones it has (a key
    /// without its window is judged on the node's own hits until it has one again, and nothing
    /// is evicted early).
    fn counted(&self, counts: Vec<(Key, u64, Duration)>) {
        let now = Instant::now();
        let mut s = lock(&self.state);
        if s.windows.len() >= s.max && now.duration_since(s.pruned_at) >= WINDOWS_PRUNE_EVERY {
            s.windows.retain(|_, (_, ends)| *ends > now);
            s.pruned_at = now;
        }
        for (key, count, left) in counts {
            if s.windows.len() < s.max || s.windows.contains_key(&key) {
                s.windows.insert(key, (count, now + left));
            }
        }
        s.sending.clear();
    }
}

/// What the flusher waits on: told when the first hit comes to an empty tally.
pub(crate) fn wake_of(tally: &Tally) -> Arc<Notify> {
    tally.wake.clone()
}

/// Counts what the tally holds, in calls of at most `RATE_TALLY_KEYS_PER_CALL_MAX` keys. A call
/// that fails counts its keys in the local windows (degraded), and so do the calls after it:
/// a flush waits out Redis's timeout once at the most, and the hits sent stay counted against
/// their limits no longer than that.
pub(crate) async fn flush(core: &Core, local: &LocalWindows, tally: &Tally) {
    let hits = tally.take();
    let mut counts = Vec::with_capacity(hits.len());
    let mut failed = false;
    for batch in hits.chunks(RATE_TALLY_KEYS_PER_CALL_MAX) {
        let answer = if failed {
            None
        } else {
            let mut inv = scripts::RATE_LIMIT_MANY.prepare_invoke();
            for ((ip, action), n) in batch {
                let cfg = core.opts.rate_limit(*action);
                inv.key(keys::rate_limit(*ip, *action))
                    .arg(cfg.window.as_millis() as u64)
                    .arg(*n);
            }
            match core.eval::<Vec<i64>>(&inv).await {
                Ok(out) if out.len() == 2 * batch.len() => Some(out),
                Ok(_) => None,
                Err(e) => {
                    core.degraded("rate tally", &e);
                    None
                }
            }
        };
        match answer {
            Some(out) => {
                for ((key, _), pair) in batch.iter().zip(out.chunks(2)) {
                    let left = Duration::from_millis(pair[1].max(0) as u64);
                    counts.push((*key, pair[0].max(0) as u64, left));
                }
            }
            None => {
                failed = true;
                for ((ip, action), n) in batch {
                    let cfg = core.opts.rate_limit(*action);
                    let (count, left) = local_count(local, *ip, &cfg, *n);
                    counts.push(((*ip, *action), count, left));
                }
            }
        }
    }
    tally.counted(counts);
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));
    const WINDOW: Duration = Duration::from_secs(10);

    #[test]
    fn one_node_lets_exactly_the_limit_through_before_and_after_a_count() {
        let t = Tally::default();
        for _ in 0..3 {
            assert_eq!(t.hit(IP, RateAction::WsMove, 5, WINDOW), Tallied::Allowed);
        }
        // Sent, not answered yet: still counted against the limit.
        let sent = t.take();
        assert_eq!(sent, vec![((IP, RateAction::WsMove), 3)]);
        assert_eq!(t.hit(IP, RateAction::WsMove, 5, WINDOW), Tallied::Allowed);
        t.counted(vec![((IP, RateAction::WsMove), 3, Duration::from_secs(4))]);
        assert_eq!(t.hit(IP, RateAction::WsMove, 5, WINDOW), Tallied::Allowed);
        match t.hit(IP, RateAction::WsMove, 5, WINDOW) {
            Tallied::Limited { retry_after } => {
                assert!(retry_after <= Duration::from_secs(4) && retry_after > WINDOW / 4)
            }
            other => panic!("the sixth hit: {other:?}"),
        }
        assert_eq!(
            t.hit(IP, RateAction::WsSay, 5, WINDOW),
            Tallied::Allowed,
            "another kind has its own window"
        );
    }

    #[test]
    fn a_count_from_other_nodes_refuses_and_an_ended_window_frees() {
        let t = Tally::default();
        // Redis said the address's window holds 5 already (hits through other nodes).
        t.counted(vec![(
            (IP, RateAction::WsAct),
            5,
            Duration::from_millis(30),
        )]);
        assert!(matches!(
            t.hit(IP, RateAction::WsAct, 5, WINDOW),
            Tallied::Limited { .. }
        ));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(t.hit(IP, RateAction::WsAct, 5, WINDOW), Tallied::Allowed);
    }

    #[test]
    fn full_windows_keep_the_live_ones_and_judge_a_new_key_on_its_own_hits() {
        let t = Tally::with_max(2);
        let ip = |n: u8| IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, n));
        let long = Duration::from_secs(60);
        t.counted(vec![
            ((ip(1), RateAction::WsMove), 5, long),
            ((ip(2), RateAction::WsMove), 5, long),
            ((ip(3), RateAction::WsMove), 5, long),
        ]);
        for n in [1, 2] {
            assert!(
                matches!(
                    t.hit(ip(n), RateAction::WsMove, 5, WINDOW),
                    Tallied::Limited { .. }
                ),
                "a live window is kept"
            );
        }
        assert_eq!(
            t.hit(ip(3), RateAction::WsMove, 5, WINDOW),
            Tallied::Allowed,
            "no room for its window: its own hits count"
        );
        // A known key's window is still updated.
        t.counted(vec![((ip(1), RateAction::WsMove), 1, long)]);
        assert_eq!(
            t.hit(ip(1), RateAction::WsMove, 5, WINDOW),
            Tallied::Allowed
        );
    }

    #[tokio::test]
    async fn the_tally_going_wakes_its_flusher() {
        let t = Tally::default();
        let wake = wake_of(&t);
        drop(t);
        tokio::time::timeout(Duration::from_secs(1), wake.notified())
            .await
            .expect("told as the tally went");
    }

    #[test]
    fn hits_before_any_window_is_known_refuse_for_a_whole_window() {
        let t = Tally::default();
        assert_eq!(t.hit(IP, RateAction::Whisper, 1, WINDOW), Tallied::Allowed);
        assert_eq!(
            t.hit(IP, RateAction::Whisper, 1, WINDOW),
            Tallied::Limited {
                retry_after: WINDOW
            }
        );
    }
}
