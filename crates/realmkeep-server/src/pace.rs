//! How fast a zone tells its players what they see, from how long its tick thread waits for a
//! core.
//!
//! On a machine short of CPU every thread waits in the run queue: the zone's tick and the
//! gateway's answers alike. Views are most of what a node sends (at 5,000 active players, 3.0 of
//! 3.5 KB/s down, about half the frames), and the one part of its work that can come less often
//! without breaking a promise: a start or a stop seen a few hundred milliseconds later (600 ms
//! in a crowd at the most stretch), against every command answered later. So a zone that waits
//! stretches its views' pace (`Zone::set_view_stretch`), one step per busy window (each step
//! doubles it, up to `VIEW_STRETCH_MAX`: the paces nest), and steps back (halves it) after calm
//! windows in a row.
//!
//! The signal is the tick thread's own: each tick's late wake-up from the loop's sleep plus its
//! wall time beyond its CPU time (the tick never waits on I/O, so that is waiting for a core;
//! where the thread's CPU clock cannot be read, the late wake-ups alone), averaged over
//! `VIEW_PACE_WINDOW_TICKS` ticks. Steps up are at once; steps back take `VIEW_PACE_CALM_WINDOWS`
//! calm windows in a row, twice as many each time a step back is soon undone (up to
//! `VIEW_PACE_CALM_WINDOWS_MAX`, and back to the first after `VIEW_PACE_FORGET_WINDOWS` windows
//! at the full pace), so a load that fits only stretched does not swing the pace.
//!
//! The zones of a node step back one at a time (`StepBacks`). They judge the same runtime lag,
//! so they stepped back in the same window: a node of five zones at 5,000 players took on twice
//! its views at once, and within seconds its answers waited 40-50 ms and more, until the pace
//! stretched again. One zone stepping back adds its own share of that, and the next waits
//! `VIEW_PACE_STEP_BACK_APART` to see how it went; the zone that has waited longest goes first
//! (each zone still needs its own calm windows). Steps up are not held: a busy window steps
//! every zone up at once and takes it out of the line. Only the zone that stepped back counts
//! a relapse (its next step back needs twice the calm): at a load that fits only stretched, each
//! zone in turn finds that out once, with its own share of the load.
//!
//! The node's runtime lag (`lag.rs`) is the second signal: the tick threads are few and
//! scheduled by the kernel, the connections many and queued in the runtime, so a node can
//! answer its players late while its zones tick on time. A window closing while the runtime lags
//! by `VIEW_PACE_LAG_BUSY` is busy too, and one is calm only while it lags less than
//! `VIEW_PACE_LAG_CALM` and none of the probe's last messages waited `VIEW_PACE_LAG_WORST_CALM`:
//! a mean under a millisecond hid bursts while answers waited 170 ms at p99, and a pace stepped
//! back in them brought the load back.

use crate::lag::LagReading;
use crate::limits::{
    TICK, VIEW_PACE_BUSY_WAIT, VIEW_PACE_CALM_WAIT, VIEW_PACE_CALM_WINDOWS,
    VIEW_PACE_CALM_WINDOWS_MAX, VIEW_PACE_FORGET_WINDOWS, VIEW_PACE_LAG_BUSY, VIEW_PACE_LAG_CALM,
    VIEW_PACE_LAG_WORST_CALM, VIEW_PACE_RELAPSE_WINDOWS, VIEW_PACE_STEP_BACK_APART,
    VIEW_PACE_WINDOW_TICKS,
};
use realmkeep_domain::ZoneId;
use realmkeep_zone::limits::VIEW_STRETCH_MAX;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The turn of a node's zones to step their views back (`ViewPacer::with_step_backs`): one
/// zone at a time, `VIEW_PACE_STEP_BACK_APART` apart, the zone that has waited longest first (a
/// zone ready to step back asks at each of its windows; the zone whose tick comes first in the
/// 50 ms would otherwise win every turn it is ready for).
#[derive(Debug, Clone, Default)]
pub(crate) struct StepBacks(Arc<Mutex<Turns>>);

#[derive(Debug, Default)]
struct Turns {
    /// When the last step back was taken.
    last: Option<Instant>,
    /// The zones refused a turn, in the order they began to wait: one entry per zone of the
    /// node at most, gone when it takes its turn, withdraws (a busy window) or stops asking
    /// for `TURN_ASK_FRESH` (its tick thread stopped).
    waiting: Vec<Waiter>,
}

#[derive(Debug)]
struct Waiter {
    zone: ZoneId,
    asked: Instant,
}

/// A zone ready to step back asks at each window: one that has not asked for three windows
/// is not waiting any more.
const TURN_ASK_FRESH: Duration =
    Duration::from_nanos(TICK.as_nanos() as u64 * 3 * VIEW_PACE_WINDOW_TICKS as u64);

impl StepBacks {
    fn turns(&self) -> std::sync::MutexGuard<'_, Turns> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `zone`, ready to step back at `now`, takes the turn when no zone of the node stepped
    /// back in the `VIEW_PACE_STEP_BACK_APART` before and no zone waits longer; otherwise it
    /// waits in line.
    fn take(&self, zone: ZoneId, now: Instant) -> bool {
        let mut t = self.turns();
        t.waiting
            .retain(|w| now.saturating_duration_since(w.asked) < TURN_ASK_FRESH);
        match t.waiting.iter_mut().find(|w| w.zone == zone) {
            Some(w) => w.asked = now,
            None => t.waiting.push(Waiter { zone, asked: now }),
        }
        let open = t
            .last
            .is_none_or(|at| now.saturating_duration_since(at) >= VIEW_PACE_STEP_BACK_APART);
        if !open || t.waiting.first().is_some_and(|w| w.zone != zone) {
            return false;
        }
        t.last = Some(now);
        t.waiting.remove(0);
        true
    }

    /// `zone` is not ready any more (a busy window): out of the line.
    fn withdraw(&self, zone: ZoneId) {
        self.turns().waiting.retain(|w| w.zone != zone);
    }
}

#[derive(Debug)]
pub(crate) struct ViewPacer {
    /// A window's mean wait per tick from which it is busy, and under which it is calm.
    busy: Duration,
    calm_below: Duration,
    /// The same for the node's runtime lag at a window's close, and the worst of its probe's
    /// messages under which it may be calm.
    lag_busy: Duration,
    lag_calm_below: Duration,
    lag_worst_calm_below: Duration,
    /// What the ticks of this window waited, and how many they are.
    waited: Duration,
    ticks: u32,
    stretch: u64,
    /// Calm windows in a row at this stretch.
    calm: u32,
    /// Calm windows in a row a step back takes now.
    calm_needed: u32,
    /// Windows since the last step back (`None`: none yet).
    since_back: Option<u32>,
    /// The mean wait per tick of the last full window.
    last_mean: Duration,
    /// Shared with the node's other zones, and this zone's place among them: whose turn a step
    /// back is (`None`: the zone is alone, its own calm windows are enough).
    step_backs: Option<(StepBacks, ZoneId)>,
}

impl Default for ViewPacer {
    fn default() -> Self {
        Self::with_waits(VIEW_PACE_BUSY_WAIT, VIEW_PACE_CALM_WAIT)
    }
}

impl ViewPacer {
    /// A pacer whose windows are busy from a mean wait of `busy` per tick and calm below
    /// `calm_below` (the defaults are `VIEW_PACE_BUSY_WAIT` and `VIEW_PACE_CALM_WAIT`).
    pub fn with_waits(busy: Duration, calm_below: Duration) -> Self {
        Self {
            busy,
            calm_below: calm_below.min(busy),
            lag_busy: VIEW_PACE_LAG_BUSY,
            lag_calm_below: VIEW_PACE_LAG_CALM,
            lag_worst_calm_below: VIEW_PACE_LAG_WORST_CALM,
            waited: Duration::ZERO,
            ticks: 0,
            stretch: 1,
            calm: 0,
            calm_needed: VIEW_PACE_CALM_WINDOWS,
            since_back: None,
            last_mean: Duration::ZERO,
            step_backs: None,
        }
    }

    /// Steps back only in turn with the node's other zones that share `step_backs`, as `zone`.
    pub fn with_step_backs(mut self, step_backs: StepBacks, zone: ZoneId) -> Self {
        self.step_backs = Some((step_backs, zone));
        self
    }

    /// The stretch of the views now (1: their own pace).
    pub fn stretch(&self) -> u64 {
        self.stretch
    }

    /// The mean wait per tick of the last full window.
    pub fn last_mean(&self) -> Duration {
        self.last_mean
    }

    /// One tick waited `waited`, and the node's runtime lags by `lag` now; the new stretch when
    /// this tick closed a window that changes it.
    pub fn record(&mut self, waited: Duration, lag: LagReading) -> Option<u64> {
        self.record_at(waited, lag, Instant::now())
    }

    /// The same, the tick ending at `now` (tests: a clock of their own).
    pub(crate) fn record_at(
        &mut self,
        waited: Duration,
        lag: LagReading,
        now: Instant,
    ) -> Option<u64> {
        self.waited = self.waited.saturating_add(waited);
        self.ticks += 1;
        if self.ticks < VIEW_PACE_WINDOW_TICKS {
            return None;
        }
        let mean = self.waited / self.ticks;
        (self.waited, self.ticks, self.last_mean) = (Duration::ZERO, 0, mean);
        self.since_back = self.since_back.map(|w| w.saturating_add(1));
        if self.stretch == 1
            && self
                .since_back
                .is_some_and(|w| w >= VIEW_PACE_FORGET_WINDOWS)
        {
            (self.calm_needed, self.since_back) = (VIEW_PACE_CALM_WINDOWS, None);
        }
        if mean >= self.busy || lag.mean >= self.lag_busy {
            self.calm = 0;
            if let Some((turns, zone)) = &self.step_backs {
                turns.withdraw(*zone);
            }
            if self.stretch >= VIEW_STRETCH_MAX {
                return None;
            }
            if self
                .since_back
                .is_some_and(|w| w <= VIEW_PACE_RELAPSE_WINDOWS)
            {
                self.calm_needed = (self.calm_needed * 2).min(VIEW_PACE_CALM_WINDOWS_MAX);
            }
            self.stretch = (self.stretch * 2).min(VIEW_STRETCH_MAX);
            return Some(self.stretch);
        }
        let lagging = lag.mean >= self.lag_calm_below || lag.worst >= self.lag_worst_calm_below;
        if mean >= self.calm_below || lagging || self.stretch == 1 {
            self.calm = 0;
            return None;
        }
        self.calm += 1;
        if self.calm < self.calm_needed {
            return None;
        }
        // Ready: in its turn (until then it stays ready, and asks again at each window).
        let in_turn = match &self.step_backs {
            Some((turns, zone)) => turns.take(*zone, now),
            None => true,
        };
        if !in_turn {
            return None;
        }
        (self.stretch, self.calm, self.since_back) = ((self.stretch / 2).max(1), 0, Some(0));
        Some(self.stretch)
    }
}

/// The stretches a pace steps up through from 1: 2, 4... up to `VIEW_STRETCH_MAX`.
#[cfg(test)]
pub(crate) fn steps_up() -> Vec<u64> {
    std::iter::successors(Some(2), |s| Some(s * 2))
        .take_while(|s| *s <= VIEW_STRETCH_MAX)
        .collect()
}

/// The stretches a pace steps back through from `VIEW_STRETCH_MAX`: its half... down to 1.
#[cfg(test)]
pub(crate) fn steps_back() -> Vec<u64> {
    std::iter::successors(Some(VIEW_STRETCH_MAX / 2), |s| (*s > 1).then_some(s / 2)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUSY: Duration = VIEW_PACE_BUSY_WAIT;
    const CALM: Duration = Duration::ZERO;
    const BETWEEN: Duration = VIEW_PACE_CALM_WAIT;
    const NO_LAG: LagReading = LagReading {
        mean: Duration::ZERO,
        worst: Duration::ZERO,
    };

    /// A runtime lagging by `mean`, and by as much at its worst.
    fn even(mean: Duration) -> LagReading {
        LagReading { mean, worst: mean }
    }

    /// `windows` windows of ticks that each waited `waited`, the runtime not lagging; the
    /// stretches it changed to.
    fn windows(p: &mut ViewPacer, waited: Duration, windows: u32) -> Vec<u64> {
        lagging(p, waited, NO_LAG, windows)
    }

    /// The same with the runtime lagging by `lag`.
    fn lagging(p: &mut ViewPacer, waited: Duration, lag: LagReading, windows: u32) -> Vec<u64> {
        (0..windows * VIEW_PACE_WINDOW_TICKS)
            .filter_map(|_| p.record(waited, lag))
            .collect()
    }

    #[test]
    fn busy_windows_stretch_one_step_each_up_to_the_max_and_calm_ones_step_back() {
        let mut p = ViewPacer::default();
        assert_eq!(windows(&mut p, CALM, 3), Vec::<u64>::new());
        // Each step doubles the stretch: 2, 4... up to the max.
        let ups = steps_up();
        assert_eq!(ups.last(), Some(&VIEW_STRETCH_MAX));
        assert_eq!(windows(&mut p, BUSY, VIEW_STRETCH_MAX as u32 + 2), ups);
        assert_eq!((p.stretch(), p.last_mean()), (VIEW_STRETCH_MAX, BUSY));
        // Calm, but one window short of a step back, then a window in between: it holds.
        assert!(windows(&mut p, CALM, VIEW_PACE_CALM_WINDOWS - 1).is_empty());
        assert!(windows(&mut p, BETWEEN, 1).is_empty());
        assert!(windows(&mut p, CALM, VIEW_PACE_CALM_WINDOWS - 1).is_empty());
        assert_eq!(windows(&mut p, CALM, 1), vec![VIEW_STRETCH_MAX / 2]);
    }

    /// One window of each pacer, tick by tick, all at the same moments on `clock` (zones in the
    /// order of their ticks within the 50 ms): the stretch each changed to in it.
    fn round(pacers: &mut [ViewPacer], waited: Duration, clock: &mut Instant) -> Vec<Option<u64>> {
        let mut changed = vec![None; pacers.len()];
        for _ in 0..VIEW_PACE_WINDOW_TICKS {
            *clock += TICK;
            for (p, c) in pacers.iter_mut().zip(&mut changed) {
                *c = p.record_at(waited, NO_LAG, *clock).or(*c);
            }
        }
        changed
    }

    /// `n` rounds; the changes of each.
    fn rounds(
        pacers: &mut [ViewPacer],
        waited: Duration,
        n: u32,
        clock: &mut Instant,
    ) -> Vec<Vec<Option<u64>>> {
        (0..n).map(|_| round(pacers, waited, clock)).collect()
    }

    /// Pacers of `zones` zones of one node.
    fn node(zones: u64) -> Vec<ViewPacer> {
        let turns = StepBacks::default();
        (1..=zones)
            .map(|z| ViewPacer::default().with_step_backs(turns.clone(), ZoneId(z as _)))
            .collect()
    }

    /// Windows in `VIEW_PACE_STEP_BACK_APART`, rounded up: the first window that closes that
    /// long after a step back may take the next.
    fn apart_windows() -> u32 {
        let window = (TICK * VIEW_PACE_WINDOW_TICKS).as_nanos();
        VIEW_PACE_STEP_BACK_APART.as_nanos().div_ceil(window) as u32
    }

    #[test]
    fn the_zones_of_a_node_step_up_together_and_back_one_at_a_time() {
        let mut p = node(2);
        let mut clock = Instant::now();
        // Busy: both step up in the same window, and again.
        for stretch in [2, 4] {
            let up = round(&mut p, BUSY, &mut clock);
            assert_eq!(up, vec![Some(stretch); 2]);
        }
        // Calm: the first zone steps back after its calm windows; the second, ready in the
        // same window, waits.
        let calm = VIEW_PACE_CALM_WINDOWS;
        let none = vec![None, None];
        assert!(rounds(&mut p, CALM, calm - 1, &mut clock)
            .iter()
            .all(|r| *r == none));
        assert_eq!(round(&mut p, CALM, &mut clock), vec![Some(2), None]);
        // It steps back at the first window that closes `VIEW_PACE_STEP_BACK_APART` after.
        let apart = apart_windows();
        assert!(rounds(&mut p, CALM, apart - 1, &mut clock)
            .iter()
            .all(|r| *r == none));
        assert_eq!(round(&mut p, CALM, &mut clock), vec![None, Some(2)]);
        // Then the first again, down to the full pace, and the second after it.
        assert!(rounds(&mut p, CALM, apart - 1, &mut clock)
            .iter()
            .all(|r| *r == none));
        assert_eq!(round(&mut p, CALM, &mut clock), vec![Some(1), None]);
        assert!(rounds(&mut p, CALM, apart - 1, &mut clock)
            .iter()
            .all(|r| *r == none));
        assert_eq!(round(&mut p, CALM, &mut clock), vec![None, Some(1)]);
        // A busy window steps both up at once, whoever stepped back last.
        assert_eq!(round(&mut p, BUSY, &mut clock), vec![Some(2); 2]);
    }

    /// The node's pacers stretched to the most, then `calm - 1` calm windows: the next calm
    /// window makes them all ready to step back.
    fn stretched_node(zones: u64, clock: &mut Instant) -> Vec<ViewPacer> {
        let mut p = node(zones);
        while p[0].stretch() < VIEW_STRETCH_MAX {
            round(&mut p, BUSY, clock);
        }
        rounds(&mut p, CALM, VIEW_PACE_CALM_WINDOWS - 1, clock);
        p
    }

    #[test]
    fn the_zone_that_waited_longest_steps_back_first() {
        let mut clock = Instant::now();
        let mut p = stretched_node(3, &mut clock);
        let (calm, apart) = (VIEW_PACE_CALM_WINDOWS, apart_windows());
        assert!(
            apart >= calm,
            "a zone is ready again when the next turn comes"
        );
        let half = VIEW_STRETCH_MAX / 2;
        // All ready in one window: zone 1, whose tick comes first, takes the turn; 2 and 3 wait.
        assert_eq!(
            round(&mut p, CALM, &mut clock),
            vec![Some(half), None, None]
        );
        // At the next turn zone 1 is ready again and asks first each window, but the zones
        // that waited longer go first, in the order they began to wait.
        let quiet = |r: &Vec<Vec<Option<u64>>>| r.iter().all(|w| w.iter().all(Option::is_none));
        let mut turns = Vec::new();
        for _ in 0..5 {
            assert!(quiet(&rounds(&mut p, CALM, apart - 1, &mut clock)));
            let r = round(&mut p, CALM, &mut clock);
            let zone = r
                .iter()
                .position(Option::is_some)
                .expect("a turn each time")
                + 1;
            turns.push((zone, r[zone - 1].expect("changed")));
        }
        let next = half / 2;
        assert_eq!(
            turns,
            vec![(2, half), (3, half), (1, next), (2, next), (3, next)]
        );
    }

    #[test]
    fn a_zone_leaves_the_line_when_busy_or_when_it_stops_asking() {
        let (t, start) = (StepBacks::default(), Instant::now());
        let z = ZoneId;
        let window = TICK * VIEW_PACE_WINDOW_TICKS;
        let at = |windows: u32| start + window * windows;
        let apart = apart_windows();
        assert!(t.take(z(1), at(0)), "free");
        assert!(
            !t.take(z(2), at(0)) && !t.take(z(3), at(0)),
            "2, then 3, wait"
        );
        // 2 is busy: it leaves the line. 3 asks at each window and is first when the turn comes,
        // before 1, though 1 asks first in that window.
        t.withdraw(z(2));
        for w in 1..apart {
            assert!(!t.take(z(3), at(w)));
        }
        assert!(!t.take(z(1), at(apart)), "behind 3");
        assert!(t.take(z(3), at(apart)));
        // 1 waits from then, and 2 behind it; 1 stops asking (its thread stopped), 2 goes on:
        // 1 is out of the line once it has not asked for `TURN_ASK_FRESH`, and 2 takes the turn.
        assert!(!t.take(z(2), at(apart)));
        assert!(window * apart > TURN_ASK_FRESH);
        for w in apart + 1..2 * apart {
            assert!(!t.take(z(2), at(w)));
        }
        assert!(t.take(z(2), at(2 * apart)));
    }

    #[test]
    fn a_window_is_judged_by_its_mean_wait() {
        let mut p = ViewPacer::default();
        // One tick in a window waits a whole window's worth of busy waits: busy on average.
        let mut got = None;
        for i in 0..VIEW_PACE_WINDOW_TICKS {
            let waited = if i == 0 {
                BUSY * VIEW_PACE_WINDOW_TICKS
            } else {
                CALM
            };
            got = got.or(p.record(waited, NO_LAG));
        }
        assert_eq!(got, Some(2));
        // A tick short of a window judges nothing yet.
        for _ in 1..VIEW_PACE_WINDOW_TICKS {
            assert_eq!(p.record(BUSY * 100, NO_LAG), None);
        }
    }

    #[test]
    fn a_step_back_soon_undone_doubles_the_calm_the_next_one_takes_up_to_its_max() {
        let mut p = ViewPacer::default();
        let mut needed = VIEW_PACE_CALM_WINDOWS;
        for _ in 0..8 {
            assert_eq!(windows(&mut p, BUSY, 1), vec![2]);
            // `needed - 1` calm windows hold it; the next steps back.
            assert!(windows(&mut p, CALM, needed - 1).is_empty());
            assert_eq!(windows(&mut p, CALM, 1), vec![1]);
            needed = (needed * 2).min(VIEW_PACE_CALM_WINDOWS_MAX);
        }
        assert_eq!(needed, VIEW_PACE_CALM_WINDOWS_MAX);
        // A long time at the full pace forgets the relapses, calm or not.
        windows(&mut p, BETWEEN, VIEW_PACE_FORGET_WINDOWS);
        assert_eq!(windows(&mut p, BUSY, 1), vec![2]);
        assert!(windows(&mut p, CALM, VIEW_PACE_CALM_WINDOWS - 1).is_empty());
        assert_eq!(windows(&mut p, CALM, 1), vec![1]);
    }

    #[test]
    fn a_step_back_undone_after_the_relapse_windows_is_not_a_relapse() {
        let mut p = ViewPacer::default();
        assert_eq!(windows(&mut p, BUSY, 1), vec![2]);
        assert_eq!(
            windows(&mut p, CALM, VIEW_PACE_CALM_WINDOWS).last(),
            Some(&1)
        );
        // Busy again in the window after the relapse windows: the same calm steps back.
        windows(&mut p, BETWEEN, VIEW_PACE_RELAPSE_WINDOWS);
        assert_eq!(windows(&mut p, BUSY, 1), vec![2]);
        assert!(windows(&mut p, CALM, VIEW_PACE_CALM_WINDOWS - 1).is_empty());
        assert_eq!(windows(&mut p, CALM, 1), vec![1]);
        // Busy in the last of the relapse windows: twice the calm.
        windows(&mut p, BETWEEN, VIEW_PACE_RELAPSE_WINDOWS - 1);
        assert_eq!(windows(&mut p, BUSY, 1), vec![2]);
        assert!(windows(&mut p, CALM, 2 * VIEW_PACE_CALM_WINDOWS - 1).is_empty());
        assert_eq!(windows(&mut p, CALM, 1), vec![1]);
    }

    #[test]
    fn its_waits_can_be_set_and_calm_is_never_above_busy() {
        let mut p = ViewPacer::with_waits(Duration::from_millis(30), Duration::from_millis(20));
        assert!(windows(&mut p, Duration::from_millis(29), 3).is_empty());
        assert_eq!(windows(&mut p, Duration::from_millis(30), 1), vec![2]);
        assert!(windows(&mut p, Duration::from_millis(20), 10).is_empty());
        let calm = windows(&mut p, Duration::from_millis(19), VIEW_PACE_CALM_WINDOWS);
        assert_eq!(calm, vec![1]);
        let p = ViewPacer::with_waits(Duration::from_millis(5), Duration::from_millis(9));
        assert_eq!(
            (p.busy, p.calm_below),
            (Duration::from_millis(5), Duration::from_millis(5))
        );
    }

    #[test]
    fn a_lagging_runtime_stretches_like_a_waiting_tick_and_holds_the_step_back() {
        let mut p = ViewPacer::default();
        let lag = even(VIEW_PACE_LAG_BUSY);
        let under = even(VIEW_PACE_LAG_BUSY - Duration::from_micros(1));
        assert!(
            lagging(&mut p, CALM, under, 3).is_empty(),
            "under busy holds"
        );
        assert_eq!(
            lagging(&mut p, CALM, lag, 1),
            vec![2],
            "ticks on time, runtime late"
        );
        // The ticks calm, the runtime not yet: no step back however long.
        let between = even(VIEW_PACE_LAG_CALM);
        assert!(lagging(&mut p, CALM, between, VIEW_PACE_CALM_WINDOWS * 3).is_empty());
        // Both calm: the usual calm windows step back.
        let calm = even(VIEW_PACE_LAG_CALM - Duration::from_micros(1));
        assert!(lagging(&mut p, CALM, calm, VIEW_PACE_CALM_WINDOWS - 1).is_empty());
        assert_eq!(lagging(&mut p, CALM, calm, 1), vec![1]);
    }

    #[test]
    fn a_runtime_calm_on_average_but_late_at_its_worst_holds_the_step_back() {
        let mut p = ViewPacer::default();
        assert_eq!(lagging(&mut p, CALM, even(VIEW_PACE_LAG_BUSY), 1), vec![2]);
        // A mean far under calm, with a message of each window at the worst bound: it holds,
        // however long (and a worst that high alone does not stretch more).
        let bursts = LagReading {
            mean: Duration::ZERO,
            worst: VIEW_PACE_LAG_WORST_CALM,
        };
        assert!(lagging(&mut p, CALM, bursts, VIEW_PACE_CALM_WINDOWS * 3).is_empty());
        assert_eq!(p.stretch(), 2);
        // Just under it: the usual calm windows step back.
        let calm = LagReading {
            mean: Duration::ZERO,
            worst: VIEW_PACE_LAG_WORST_CALM - Duration::from_micros(1),
        };
        assert!(lagging(&mut p, CALM, calm, VIEW_PACE_CALM_WINDOWS - 1).is_empty());
        assert_eq!(lagging(&mut p, CALM, calm, 1), vec![1]);
    }
}
