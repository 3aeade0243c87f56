//! The tick thread of one zone: a dedicated std thread running the zone's fixed 20 Hz loop.
//!
//! Architecture invariant: this thread never awaits and never blocks on I/O. It only
//! `try_recv`s inputs and `try_send`s outputs on bounded channels (`outbox`), and sleeps until
//! the next deadline. A tick that ran late is followed at once by the next one, at most
//! `CATCH_UP_TICKS_MAX` in a row; then the schedule restarts from the zone's slot just past (the
//! next tick at once) and the missed ticks are counted as skipped. Between ticks it looks every
//! `REACT_EVERY` for commands and store answers and applies them at once (`Sim::react`), so an
//! answer does not wait for the next tick.
//!
//! The zones of a node tick at different moments of the 50 ms (`phase_of`, counted from one
//! moment of the process, `node_epoch`): zones that ticked together woke together on a machine
//! with fewer cores than zones, and the last of them waited for the others' ticks before its
//! own began; their players' views, handed to the gateway at once, queued behind each other too.
//!
//! Each tick's wait for a core (its late wake-up from the loop's sleep, and its wall time beyond
//! its CPU time) goes to the zone's `ViewPacer`, which stretches the pace of its views while the
//! machine is short of cores (`pace.rs`), with the node's runtime lag (`lag.rs`): a machine
//! short of cores for the connections the tick threads do not see.

use crate::lag::RuntimeLag;
use crate::limits::{
    CATCH_UP_TICKS_MAX, COMMANDS_PER_TICK_MAX, CONTROL_INPUTS_PER_TICK_MAX, QUERIES_PER_TICK_MAX,
    REACT_EVERY, REACT_MARGIN, TICK,
};
use crate::messages::{Control, Notice};
use crate::metrics::{add, bump, Metrics};
use crate::outbox::Outbox;
use crate::pace::ViewPacer;
use realmkeep_domain::{CharacterId, ZoneId};
use realmkeep_zone::io::{
    Action, Denial, PlayerCommand, PlayerEvent, ReplyTo, ZoneInput, ZoneOutput,
};
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{error::TrySendError, Receiver};
use tokio_util::sync::CancellationToken;

/// What the loop needs of a zone (implemented by `realmkeep_zone::Zone`; tests use a fake).
pub(crate) trait Sim: Send + 'static {
    /// Queues an input for the next tick; gives it back if the zone's own queue is full.
    fn push(&mut self, input: ZoneInput) -> Result<(), ZoneInput>;
    /// Runs one fixed step.
    fn step(&mut self);
    /// Applies the queued inputs without a step (game time does not move); the inputs applied.
    fn react(&mut self) -> usize {
        0
    }
    /// Moves the outputs of the last step into `out`.
    fn drain(&mut self, out: &mut Vec<ZoneOutput>);
    /// The loop dropped this many steps to catch up with the wall clock.
    fn dropped(&mut self, _steps: u64) {}
    /// Views of watching players so far.
    fn view_counts(&self) -> realmkeep_zone::ViewCounts {
        realmkeep_zone::ViewCounts::default()
    }
    /// Tell the viewers this many times slower than their pace (`pace.rs`).
    fn set_view_stretch(&mut self, _stretch: u64) {}
}

/// The calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), or `None` where the system refuses
/// to read it. A tick's wall minus CPU time is what it waited: for a core, mostly.
pub(crate) fn thread_cpu_time() -> Option<std::time::Duration> {
    use rustix::time::{clock_gettime_dynamic, ClockId, DynamicClockId};
    let t = clock_gettime_dynamic(DynamicClockId::Known(ClockId::ThreadCPUTime)).ok()?;
    let secs = u64::try_from(t.tv_sec).ok()?;
    let nanos = u32::try_from(t.tv_nsec).ok()?;
    Some(std::time::Duration::new(secs, nanos))
}

/// A read of the zone's views, run on the tick thread between two ticks.
pub(crate) type Query<Z> = Box<dyn FnOnce(&Z) + Send>;

/// A player's command on its way to the zone, with when it was queued: how long it waited for
/// the tick thread is `realmkeep_zone_command_wait_seconds`.
#[derive(Debug)]
pub(crate) struct Queued {
    pub character: CharacterId,
    pub command: PlayerCommand,
    pub reply_to: Option<ReplyTo>,
    pub at: Instant,
}

impl Queued {
    pub(crate) fn now(
        character: CharacterId,
        command: PlayerCommand,
        reply_to: Option<ReplyTo>,
    ) -> Self {
        Self {
            character,
            command,
            reply_to,
            at: Instant::now(),
        }
    }
}

pub(crate) struct TickLoop<Z: Sim> {
    pub zone: Z,
    pub control: Receiver<Control>,
    pub commands: Receiver<Queued>,
    pub queries: Receiver<Query<Z>>,
    pub outbox: Outbox,
    pub metrics: Arc<Metrics>,
    pub stop: CancellationToken,
    /// Control inputs the zone refused, first in line at the next tick.
    held: VecDeque<ZoneInput>,
    outputs: Vec<ZoneOutput>,
    /// The waits of the commands taken in one `inputs` (at most `COMMANDS_PER_TICK_MAX`),
    /// recorded together.
    waits: Vec<Duration>,
    /// When within each `TICK` (from `node_epoch`) this zone ticks.
    phase: Duration,
    /// The pace of the zone's views, from how long its ticks wait for a core and how late the
    /// node's runtime is.
    pacer: ViewPacer,
    lag: RuntimeLag,
}

/// The moment of the process the zones' phases are counted from.
pub(crate) fn node_epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// When within each `TICK` the zone `zone` ticks: spread by the golden ratio, so the zones of a
/// node are apart from each other whatever their ids and number (zones 1 to 5 tick 30.9, 11.8,
/// 42.7, 23.6 and 4.5 ms into each tick).
pub(crate) fn phase_of(zone: ZoneId) -> Duration {
    const GOLDEN: f64 = 0.618_033_988_749_895;
    let frac = (zone.0 as f64 * GOLDEN).rem_euclid(1.0);
    TICK.mul_f64(frac)
}

/// The last moment at or before `now` that is `phase` into a `TICK` counted from `epoch`: a loop
/// that ticks now and then waits a `TICK` from there is in phase.
pub(crate) fn slot_just_past(epoch: Instant, phase: Duration, now: Instant) -> Instant {
    let slot = next_slot(epoch, phase, now);
    match slot > now {
        true => slot.checked_sub(TICK).unwrap_or(now),
        false => slot,
    }
}

/// The first moment at or after `now` that is `phase` into a `TICK` counted from `epoch` (`now`
/// is not before `epoch`: the loop reads the epoch first).
pub(crate) fn next_slot(epoch: Instant, phase: Duration, now: Instant) -> Instant {
    let tick = TICK.as_nanos();
    let since = now.saturating_duration_since(epoch).as_nanos();
    let into = (since + tick - phase.as_nanos() % tick) % tick;
    if into == 0 {
        now
    } else {
        now + Duration::from_nanos((tick - into) as u64)
    }
}

impl<Z: Sim> TickLoop<Z> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        zone: Z,
        control: Receiver<Control>,
        commands: Receiver<Queued>,
        queries: Receiver<Query<Z>>,
        outbox: Outbox,
        metrics: Arc<Metrics>,
        stop: CancellationToken,
    ) -> Self {
        Self {
            zone,
            control,
            commands,
            queries,
            outbox,
            metrics,
            stop,
            held: VecDeque::new(),
            outputs: Vec::new(),
            waits: Vec::new(),
            phase: Duration::ZERO,
            pacer: ViewPacer::default(),
            lag: RuntimeLag::default(),
        }
    }

    /// Ticks `phase` into each `TICK` counted from the node's epoch (`phase_of`).
    pub fn with_phase(mut self, phase: Duration) -> Self {
        self.phase = phase;
        self
    }

    /// Paces the zone's views by the node's runtime `lag` too (without it, by the ticks alone).
    pub fn with_lag(mut self, lag: RuntimeLag) -> Self {
        self.lag = lag;
        self
    }

    /// Steps the zone's views back in turn with the node's other zones (`pace::StepBacks`), as
    /// `zone`.
    pub fn with_step_backs(mut self, step_backs: crate::pace::StepBacks, zone: ZoneId) -> Self {
        self.pacer = self.pacer.with_step_backs(step_backs, zone);
        self
    }

    /// Paces the zone's views with `pacer` (tests: other thresholds).
    #[cfg(test)]
    pub fn with_pacer(mut self, pacer: ViewPacer) -> Self {
        self.pacer = pacer;
        self
    }

    /// Runs until `stop` is cancelled.
    pub fn run(mut self) {
        let metrics = self.metrics.clone();
        let c = &metrics.counters;
        let epoch = node_epoch();
        // The first tick at once, the next ones in phase.
        let mut deadline = slot_just_past(epoch, self.phase, Instant::now());
        let mut behind = 0u32;
        // Whether this tick follows the loop's sleep until its deadline (not so for the first
        // one, nor after a late tick: its late start is that tick's overrun, counted already).
        let mut slept = false;
        while !self.stop.is_cancelled() {
            let started = Instant::now();
            let cpu_started = thread_cpu_time();
            self.tick_once();
            let wall = started.elapsed();
            let cpu = thread_cpu_time()
                .zip(cpu_started)
                .map(|(end, start)| end.saturating_sub(start));
            self.metrics.record_tick(wall, cpu);
            bump(&c.ticks);
            // Off a core: woken late from the sleep, and the tick's wall time beyond its CPU time
            // (it never waits on I/O). Without a thread CPU clock, the late wake-ups alone.
            let late = match slept {
                true => started.saturating_duration_since(deadline),
                false => Duration::ZERO,
            };
            let waited = late + cpu.map_or(Duration::ZERO, |cpu| wall.saturating_sub(cpu));
            if self.pacer.stretch() > 1 {
                bump(&c.ticks_stretched);
            }
            if self.pacer.stretch() >= realmkeep_zone::limits::VIEW_STRETCH_MAX {
                bump(&c.ticks_stretched_max);
            }
            let lag = self.lag.reading();
            let changed = self.pacer.record(waited, lag);
            c.tick_wait_us
                .store(self.pacer.last_mean().as_micros() as u64, Relaxed);
            if let Some(stretch) = changed {
                tracing::info!(
                    stretch,
                    tick_wait_us = self.pacer.last_mean().as_micros() as u64,
                    runtime_lag_us = lag.mean.as_micros() as u64,
                    runtime_lag_worst_us = lag.worst.as_micros() as u64,
                    "the views' pace changed"
                );
                // From the next tick's views on.
                self.zone.set_view_stretch(stretch);
                // Release: whoever reads the new stretch reads the wait it was judged on too.
                c.view_stretch
                    .store(stretch, std::sync::atomic::Ordering::Release);
            }
            let views = self.zone.view_counts();
            c.views_computed.store(views.computed, Relaxed);
            c.views_skipped.store(views.skipped, Relaxed);
            c.views_crowded.store(views.crowded, Relaxed);
            deadline += TICK;
            let now = Instant::now();
            slept = now < deadline;
            if slept {
                behind = 0;
                self.react_until(deadline);
            } else {
                bump(&c.ticks_late);
                behind += 1;
                if behind > CATCH_UP_TICKS_MAX {
                    let missed = (now - deadline).as_nanos() / TICK.as_nanos();
                    add(&c.ticks_skipped, missed as u64);
                    self.zone.dropped(missed as u64);
                    tracing::warn!(missed, "zone tick cannot keep up: schedule reset");
                    // The next tick at once, the one after in phase.
                    deadline = slot_just_past(epoch, self.phase, now);
                    behind = 0;
                }
            }
        }
    }

    /// Sleeps until `deadline`, waking every `REACT_EVERY` to apply what arrived meanwhile.
    fn react_until(&mut self, deadline: Instant) {
        loop {
            let now = Instant::now();
            let Some(left) = deadline.checked_duration_since(now) else {
                return;
            };
            if left <= REACT_MARGIN || self.stop.is_cancelled() {
                std::thread::sleep(left);
                return;
            }
            std::thread::sleep(REACT_EVERY.min(left - REACT_MARGIN));
            self.react_once();
        }
    }

    /// Between ticks: inputs in (the same bounds as a tick's), applied without a step, and what
    /// they emitted out (never waiting). Nothing waiting, nothing runs.
    pub fn react_once(&mut self) {
        self.inputs();
        if self.zone.react() == 0 {
            return;
        }
        bump(&self.metrics.counters.reactions);
        self.zone.drain(&mut self.outputs);
        self.outbox.flush();
        for out in self.outputs.drain(..) {
            self.outbox.route(out);
        }
    }

    /// One tick: inputs in (bounded), the zone's step, outputs out (never waiting).
    pub fn tick_once(&mut self) {
        self.inputs();
        self.zone.step();
        self.zone.drain(&mut self.outputs);
        self.outbox.flush();
        for out in self.outputs.drain(..) {
            self.outbox.route(out);
        }
        for _ in 0..QUERIES_PER_TICK_MAX {
            let Ok(query) = self.queries.try_recv() else {
                break;
            };
            query(&self.zone);
        }
    }

    fn inputs(&mut self) {
        // Answers given by the outbox last tick, then inputs the zone refused, in order.
        for a in self.outbox.take_answers() {
            self.held.push_back(a);
        }
        // Bounded by construction: answers are bounded by the zone's pending requests, and a
        // control input is held only after the held queue was emptied into the zone.
        debug_assert!(
            self.held.len() <= crate::limits::HELD_INPUTS_MAX,
            "held inputs over their bound"
        );
        while let Some(input) = self.held.pop_front() {
            if let Err(input) = self.zone.push(input) {
                self.held.push_front(input);
                bump(&self.metrics.counters.inputs_held);
                // The zone is full: leave the channels as they are; their senders wait.
                return;
            }
        }
        for _ in 0..CONTROL_INPUTS_PER_TICK_MAX {
            let Ok(control) = self.control.try_recv() else {
                break;
            };
            let input = match control {
                Control::Input(i) => i,
                Control::Spawn {
                    character,
                    notices,
                    input,
                } => {
                    self.outbox.attach(character, notices);
                    input
                }
                Control::Attach { character, notices } => {
                    self.outbox.reattach(character, notices);
                    continue;
                }
            };
            if let Err(input) = self.zone.push(input) {
                self.held.push_back(input);
                bump(&self.metrics.counters.inputs_held);
                return;
            }
        }
        let now = Instant::now();
        for _ in 0..COMMANDS_PER_TICK_MAX {
            let Ok(Queued {
                character,
                command,
                reply_to,
                at,
            }) = self.commands.try_recv()
            else {
                break;
            };
            self.waits.push(now.saturating_duration_since(at));
            let input = ZoneInput::Command {
                character,
                command,
                reply_to,
            };
            if self.zone.push(input).is_err() {
                bump(&self.metrics.counters.commands_busy);
                let event = PlayerEvent::Denied {
                    action: Action::Command,
                    reason: Denial::Busy,
                };
                let notice = match reply_to {
                    Some(reply_to) => Notice::Reply {
                        reply_to,
                        event,
                        at: Instant::now(),
                    },
                    None => Notice::Event(event),
                };
                self.outbox.notify(character, notice);
            }
        }
        self.metrics.record_command_waits(&self.waits);
        self.waits.clear();
    }
}

/// Sends a command towards the tick thread without waiting; `Busy` when the lane is full.
pub(crate) fn try_command(
    tx: &tokio::sync::mpsc::Sender<Queued>,
    character: CharacterId,
    command: PlayerCommand,
    reply_to: Option<ReplyTo>,
) -> Result<(), crate::HostError> {
    match tx.try_send(Queued::now(character, command, reply_to)) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(_)) => Err(crate::HostError::Busy),
        Err(TrySendError::Closed(_)) => Err(crate::HostError::ShuttingDown),
    }
}
