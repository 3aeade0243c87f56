//! Lines many connections hear (chat of the global, kingdom and guild channels, announcements):
//! put in each hearer's `HeldLines` without waking its task. The connection takes them at its
//! next wake-up, which for a player at play comes several times a second (a view, an answer),
//! and sends them with what that wake-up writes (a wake-up that writes nothing else lets them
//! wait for the next flush, `HELD_FLUSH_MAX`). Every `BROADCAST_ROUND_EVERY` a round looks at
//! the live connections and wakes those whose lines have waited since before the last round
//! (a quiet spot: no view, no answer) to send them at once: a line waits two rounds at most
//! before it is taken. A connection is sent one such wake-up at a time (`woken`), so one that
//! is not reading its control queue (a join's spawn, a long command) does not fill it with
//! them. Lines a full box cannot take are dropped and counted
//! (`realmkeep_gateway_lines_dropped_total`).
//!
//! A node short of cores stretches its zones' views (`realmkeep_server::pace`): a crowd's view
//! then comes every 400 ms, and lines held for 250 ms were mostly flushed alone, about one system
//! call a player a second. So a connection's lines wait as many times longer as its zone's views
//! are stretched (up to `HELD_STRETCH_MAX` times: a second), both for a round's wake-up
//! (`HeldLines::set_stretch`) and in the socket (`Wire::stretch_hold`).
//!
//! Before, every line woke every hearer's task: at 5,000 players each heard about six lines a
//! second, as many wake-ups as their views took, and a line waits for the next flush
//! (`HELD_FLUSH_MAX`) anyway.

use crate::limits::{BROADCAST_ROUND_EVERY, HELD_LINES_MAX, HELD_STRETCH_MAX};
use crate::state::{lock, App, ConnControl, Live};
use realmkeep_protocol::ws::EncodedMsg;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

/// The lines waiting for one connection (`HELD_LINES_MAX`; a full box drops the line, as a full
/// control queue did: chat is best effort).
#[derive(Debug, Default)]
pub(crate) struct HeldLines {
    lines: Mutex<Vec<EncodedMsg>>,
    /// Lines wait: read without the lock at each of the connection's wake-ups.
    waiting: AtomicBool,
    /// A round sent the connection `SendHeld` and the connection has not taken it yet: the next
    /// rounds send no other.
    woken: AtomicBool,
    /// The round that was last when the first of the waiting lines was put (rounds wrap after
    /// 17 years: 32 bits keep the box in 40 bytes, as every connection holds one).
    since_round: AtomicU32,
    /// How many times slower than their pace the views of the connection's zone go (0 or 1: not
    /// stretched), set by the connection at its wake-ups: the lines wait as many times longer
    /// for a view to take them before a round wakes the connection for them alone.
    stretch: AtomicU8,
}

const _: () = assert!(std::mem::size_of::<HeldLines>() <= 40);

impl HeldLines {
    /// Puts a line, during round `round` (`App::round`); `false`: the box was full, the line is
    /// dropped.
    pub fn put(&self, line: EncodedMsg, round: u32) -> bool {
        let mut lines = lock(&self.lines);
        if lines.len() >= HELD_LINES_MAX {
            return false;
        }
        if lines.is_empty() {
            self.since_round.store(round, Ordering::Relaxed);
        }
        lines.push(line);
        self.waiting.store(true, Ordering::Release);
        true
    }

    pub fn waiting(&self) -> bool {
        self.waiting.load(Ordering::Acquire)
    }

    /// The views of the connection's zone go `stretch` times slower than their pace (`1`: they
    /// do not): the lines wait as many times longer, `HELD_STRETCH_MAX` at the most.
    pub fn set_stretch(&self, stretch: u64) {
        let s = stretch.clamp(1, HELD_STRETCH_MAX) as u8;
        self.stretch.store(s, Ordering::Relaxed);
    }

    /// Whether lines wait that were put before round `round - 1` began (with the views
    /// stretched, before round `round - 2 * stretch + 1`).
    fn waited_a_round(&self, round: u32) -> bool {
        let since = self.since_round.load(Ordering::Relaxed);
        let stretch = u32::from(self.stretch.load(Ordering::Relaxed).max(1));
        self.waiting() && round.wrapping_sub(since) >= 2 * stretch
    }

    /// Whether a round is to wake the connection for its lines: once, until it takes the wake-up
    /// (`woke`).
    fn wake_once(&self) -> bool {
        !self.woken.swap(true, Ordering::AcqRel)
    }

    /// The connection took its `SendHeld` (before it takes the lines: lines put after it get a
    /// wake-up of their own).
    pub fn woke(&self) {
        self.woken.store(false, Ordering::Release);
    }

    /// Moves the lines waiting, oldest first, into `out` (an empty list, which the box keeps in
    /// their place); nothing, without the lock, when nothing waits.
    pub fn take_into(&self, out: &mut Vec<EncodedMsg>) {
        if !self.waiting() {
            return;
        }
        let mut lines = lock(&self.lines);
        self.waiting.store(false, Ordering::Release);
        std::mem::swap(&mut *lines, out);
    }
}

/// Puts `line` in the box of every live connection `hears` includes (a full box drops it,
/// counted).
pub(crate) fn deliver(app: &App, line: &EncodedMsg, hears: impl Fn(&Live) -> bool) {
    let round = app.round.load(Ordering::Relaxed);
    let dropped = lock(&app.live)
        .values()
        .filter(|l| hears(l))
        .filter(|l| !l.held.put(line.clone(), round))
        .count();
    if dropped > 0 {
        app.meters.lines_dropped.increment(dropped as u64);
    }
}

/// Every `BROADCAST_ROUND_EVERY`: wakes the connections whose lines waited since before the
/// last round, and that no round woke yet. Their control queues are cloned under the live map's
/// lock and told after it.
pub(crate) async fn run_rounds(app: Arc<App>) {
    let mut every = tokio::time::interval(BROADCAST_ROUND_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut wake: Vec<(flume::Sender<ConnControl>, Arc<HeldLines>)> = Vec::new();
    loop {
        tokio::select! {
            _ = app.stop.cancelled() => return,
            _ = every.tick() => {
                let round = app.round.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
                wake.extend(
                    lock(&app.live)
                        .values()
                        .filter(|l| l.held.waited_a_round(round) && l.held.wake_once())
                        .map(|l| (l.control.clone(), l.held.clone())),
                );
                for (control, held) in wake.drain(..) {
                    if control.try_send(ConnControl::SendHeld).is_err() {
                        // A full control queue: the connection is awake anyway (or gone); the
                        // next round may wake it again.
                        held.woke();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use realmkeep_protocol::ws::ServerMsg;

    fn line(n: u64) -> EncodedMsg {
        EncodedMsg::new(&ServerMsg::Chat(realmkeep_protocol::ws::ChatLine {
            channel: "global".into(),
            from: 1,
            name: "Ayla".into(),
            text: format!("line {n}"),
            history: false,
        }))
    }

    #[test]
    fn a_box_holds_its_lines_in_order_up_to_its_bound() {
        let held = HeldLines::default();
        let mut out = Vec::new();
        held.take_into(&mut out);
        assert!(out.is_empty() && !held.waiting());
        assert!(held.put(line(1), 0) && held.put(line(2), 0));
        assert!(held.waiting());
        held.take_into(&mut out);
        assert_eq!(out, vec![line(1), line(2)]);
        assert!(!held.waiting());
        out.clear();
        for n in 0..HELD_LINES_MAX as u64 {
            assert!(held.put(line(n), 0));
        }
        assert!(!held.put(line(0), 0), "full");
        held.take_into(&mut out);
        assert_eq!(out.len(), HELD_LINES_MAX);
    }

    #[test]
    fn a_round_wakes_only_a_box_whose_lines_waited_since_before_the_last_round() {
        let held = HeldLines::default();
        assert!(!held.waited_a_round(9), "nothing waits");
        // Put during round 5: not at round 6 (it may have come just before it), at round 7.
        held.put(line(1), 5);
        assert!(!held.waited_a_round(6));
        assert!(held.waited_a_round(7));
        // A later line does not make the wait shorter; taking them all ends it.
        held.put(line(2), 6);
        assert!(held.waited_a_round(7));
        held.take_into(&mut Vec::new());
        assert!(!held.waited_a_round(8));
    }

    #[test]
    fn with_the_views_stretched_a_box_waits_as_many_times_longer_for_its_wake_up() {
        let held = HeldLines::default();
        held.set_stretch(2);
        held.put(line(1), 5);
        assert!(
            !held.waited_a_round(7),
            "two rounds are not enough stretched by 2"
        );
        assert!(!held.waited_a_round(8));
        assert!(held.waited_a_round(9));
        // Eased: back to two rounds. A stretch past the bound counts as the bound.
        held.set_stretch(1);
        assert!(held.waited_a_round(7));
        held.set_stretch(100);
        let due = 5 + 2 * HELD_STRETCH_MAX as u32;
        assert!(!held.waited_a_round(due - 1) && held.waited_a_round(due));
        // At the views' most stretch, as long as they stretch: four times at 4.
        assert_eq!(HELD_STRETCH_MAX, realmkeep_zone::limits::VIEW_STRETCH_MAX);
        held.set_stretch(4);
        assert!(!held.waited_a_round(12) && held.waited_a_round(13));
    }

    #[test]
    fn a_box_is_woken_once_until_the_connection_takes_the_wake_up() {
        let held = HeldLines::default();
        held.put(line(1), 0);
        assert!(held.wake_once());
        assert!(!held.wake_once(), "a second round sends no second wake-up");
        // The connection takes it: it clears the mark, then takes the lines; a line put after
        // that is woken for again.
        held.woke();
        held.take_into(&mut Vec::new());
        held.put(line(2), 3);
        assert!(held.waited_a_round(5) && held.wake_once());
    }
}
