//! The tick loop and the outbox against a fake zone: no database, no Redis, no real zone.

use crate::limits::TICK;
use crate::messages::{Control, HostEvent, Notice};
use crate::metrics::Metrics;
use crate::outbox::{Outbox, OutboxChannels};
use crate::tick::{Queued, Sim, TickLoop};
use realmkeep_domain::*;
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_zone::actions::{loot_gold, save_batch};
use realmkeep_zone::io::*;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

mod pace;

#[derive(Default)]
struct FakeState {
    accepted: Vec<ZoneInput>,
    /// Inputs the fake takes before it answers "full" (None: unbounded).
    room: Option<usize>,
    /// Outputs emitted at the next step.
    script: VecDeque<ZoneOutput>,
    steps: u64,
    /// Applies inputs between steps (`Sim::react`), as the real zone does.
    reactive: bool,
    /// Accepted inputs applied so far, and the passes between steps that applied some.
    applied: usize,
    reactions: u64,
    /// Steps the loop told the zone it dropped.
    dropped: u64,
    /// When each step began.
    began: Vec<Instant>,
    /// Only the first this many steps sleep their `step_delay` (None: all of them).
    slow_steps: Option<u64>,
    /// The views' stretches the loop set, in order.
    stretches: Vec<u64>,
}

#[derive(Clone, Default)]
struct Fake {
    st: Arc<Mutex<FakeState>>,
    /// Each step sleeps this long (wall time, no CPU time)...
    step_delay: Duration,
    /// ...then works this long (CPU time).
    step_work: Duration,
}

impl Sim for Fake {
    fn push(&mut self, input: ZoneInput) -> Result<(), ZoneInput> {
        let mut st = self.st.lock().unwrap();
        match st.room {
            Some(0) => return Err(input),
            Some(n) => st.room = Some(n - 1),
            None => {}
        }
        st.accepted.push(input);
        Ok(())
    }
    fn step(&mut self) {
        let slow = {
            let mut st = self.st.lock().unwrap();
            st.began.push(Instant::now());
            st.slow_steps.is_none_or(|n| st.steps < n)
        };
        if slow {
            std::thread::sleep(self.step_delay);
        }
        // Spins until the thread's own CPU clock moved by `step_work` (a busy machine may take
        // the core away meanwhile: that is wall time, not CPU time).
        let cpu = || crate::tick::thread_cpu_time().expect("the thread's CPU clock");
        let started = cpu();
        while cpu() - started < self.step_work {
            std::hint::spin_loop();
        }
        self.st.lock().unwrap().steps += 1;
    }
    fn react(&mut self) -> usize {
        let mut st = self.st.lock().unwrap();
        if !st.reactive {
            return 0;
        }
        let n = st.accepted.len() - st.applied;
        st.applied = st.accepted.len();
        st.reactions += u64::from(n > 0);
        n
    }
    fn drain(&mut self, out: &mut Vec<ZoneOutput>) {
        out.extend(self.st.lock().unwrap().script.drain(..));
    }
    fn dropped(&mut self, steps: u64) {
        self.st.lock().unwrap().dropped += steps;
    }
    fn set_view_stretch(&mut self, stretch: u64) {
        self.st.lock().unwrap().stretches.push(stretch);
    }
}

struct Rig {
    fake: Fake,
    tick: TickLoop<Fake>,
    control: mpsc::Sender<Control>,
    commands: mpsc::Sender<crate::tick::Queued>,
    store: mpsc::Receiver<PersistRequest>,
    logs: mpsc::Receiver<Vec<realmkeep_store::logs::LogEvent>>,
    events: mpsc::Receiver<HostEvent>,
    metrics: Arc<Metrics>,
}

fn rig(store_cap: usize, fake: Fake) -> Rig {
    let metrics = Arc::new(Metrics::default());
    let (control, control_rx) = mpsc::channel(64);
    let (commands, commands_rx) = mpsc::channel(64);
    let (_queries, queries_rx) = mpsc::channel(4);
    let (store_tx, store) = mpsc::channel(store_cap);
    let (cache_tx, _cache_rx) = mpsc::channel(4);
    let (logs_tx, logs) = mpsc::channel(1);
    let (events_tx, events) = mpsc::channel(4);
    let outbox = Outbox::new(
        OutboxChannels {
            store: store_tx,
            cache: cache_tx,
            logs: logs_tx,
            events: events_tx,
        },
        metrics.clone(),
    );
    let tick = TickLoop::new(
        fake.clone(),
        control_rx,
        commands_rx,
        queries_rx,
        outbox,
        metrics.clone(),
        CancellationToken::new(),
    );
    Rig {
        fake,
        tick,
        control,
        commands,
        store,
        logs,
        events,
        metrics,
    }
}

fn fence(c: i64) -> Fence {
    Fence {
        character: CharacterId(c),
        epoch: ClaimEpoch(1),
    }
}

fn save(id: u64) -> ZoneOutput {
    let snap = CharacterSnapshot {
        fence: fence(1),
        position: Position {
            zone: ZoneId(1),
            x: 1.0,
            y: 2.0,
            z: 0.0,
            rotation: 0.0,
        },
        health: 10,
        mana: 10,
        xp: 0,
        level: 1,
    };
    ZoneOutput::Persist(PersistRequest {
        id: RequestId(id),
        kind: PersistKind::SaveBatch(save_batch::Request(vec![snap])),
    })
}

fn gold(id: u64) -> ZoneOutput {
    ZoneOutput::Persist(PersistRequest {
        id: RequestId(id),
        kind: PersistKind::LootGold(loot_gold::Request {
            fence: fence(1),
            amount: 5,
            zone: ZoneId(1),
        }),
    })
}

#[test]
fn a_full_store_queue_backlogs_saves_and_answers_critical_actions_try_again() {
    let mut r = rig(1, Fake::default());
    {
        let mut st = r.fake.st.lock().unwrap();
        st.script.extend([save(1), save(2), gold(3), save(4)]);
    }
    r.tick.tick_once();
    // Save 1 fills the queue; 2 and 4 wait in order; the gold pickup is answered at once.
    assert_eq!(r.store.try_recv().unwrap().id, RequestId(1));
    assert!(r.store.try_recv().is_err());
    assert_eq!(r.tick.outbox.held()[0], 2);
    assert_eq!(r.metrics.counters.answered_busy.load(Ordering::Relaxed), 1);
    r.tick.tick_once();
    let answered = r.fake.st.lock().unwrap().accepted.clone();
    assert_eq!(
        answered,
        vec![ZoneInput::StoreResult {
            request: RequestId(3),
            outcome: Outcome::Unavailable
        }]
    );
    // The queue had room again at that tick: the backlog moved on, oldest first.
    assert_eq!(r.store.try_recv().unwrap().id, RequestId(2));
    r.tick.tick_once();
    assert_eq!(r.store.try_recv().unwrap().id, RequestId(4));
    assert_eq!(r.tick.outbox.held()[0], 0);
}

#[test]
fn control_inputs_the_zone_refuses_are_held_in_order_and_commands_answer_busy() {
    let fake = Fake::default();
    fake.st.lock().unwrap().room = Some(1);
    let mut r = rig(4, fake);
    let (tx, mut notices) = crate::messages::notice_channel(8);
    for n in 0..3 {
        let input = ZoneInput::StoreResult {
            request: RequestId(n),
            outcome: Outcome::Unavailable,
        };
        r.control.try_send(Control::Input(input)).unwrap();
    }
    r.tick.outbox.attach(CharacterId(7), tx);
    r.commands
        .try_send(Queued::now(CharacterId(7), PlayerCommand::Stop, None))
        .unwrap();
    r.tick.tick_once();
    assert_eq!(r.fake.st.lock().unwrap().accepted.len(), 1);
    r.fake.st.lock().unwrap().room = None;
    r.tick.tick_once();
    let ids: Vec<u64> = r
        .fake
        .st
        .lock()
        .unwrap()
        .accepted
        .iter()
        .filter_map(|i| match i {
            ZoneInput::StoreResult { request, .. } => Some(request.0),
            _ => None,
        })
        .collect();
    assert_eq!(ids, vec![0, 1, 2], "store results keep their order");
    // The command was taken at the second tick (the zone had room again).
    assert!(notices.try_recv().is_err());
    r.fake.st.lock().unwrap().room = Some(0);
    r.commands
        .try_send(Queued::now(CharacterId(7), PlayerCommand::Stop, None))
        .unwrap();
    r.tick.tick_once();
    assert_eq!(
        notices.try_recv().unwrap(),
        Notice::Event(PlayerEvent::Denied {
            action: Action::Command,
            reason: Denial::Busy
        })
    );
}

#[test]
fn a_zone_telling_a_player_busy_is_counted() {
    let mut r = rig(4, Fake::default());
    let (tx, mut notices) = crate::messages::notice_channel(8);
    r.tick.outbox.attach(CharacterId(7), tx);
    let busy = PlayerEvent::Denied {
        action: Action::Trade,
        reason: Denial::Busy,
    };
    let refused = PlayerEvent::Denied {
        action: Action::Trade,
        reason: Denial::NotAllowed,
    };
    r.fake.st.lock().unwrap().script.extend([
        ZoneOutput::ToPlayer {
            character: CharacterId(7),
            event: busy.clone(),
            reply_to: Some(ReplyTo(3)),
        },
        ZoneOutput::ToPlayer {
            character: CharacterId(7),
            event: refused,
            reply_to: None,
        },
    ]);
    r.tick.tick_once();
    let told = r.metrics.counters.told_busy.load(Ordering::Relaxed);
    assert_eq!(told, 1, "only the busy one");
    let Notice::Reply {
        reply_to, event, ..
    } = notices.try_recv().unwrap()
    else {
        panic!("a reply");
    };
    assert_eq!((reply_to, event), (ReplyTo(3), busy));
}

#[test]
fn left_goes_to_the_player_and_to_the_events_task_and_logs_drop_oldest_when_full() {
    let mut r = rig(4, Fake::default());
    let (tx, mut notices) = crate::messages::notice_channel(8);
    r.tick.outbox.attach(CharacterId(9), tx);
    let reason = LeftReason::Released { transfer_to: None };
    let logs = |n: usize| {
        ZoneOutput::Persist(PersistRequest {
            id: RequestId(0),
            kind: PersistKind::Logs(vec![realmkeep_store::logs::LogEvent::new("kill"); n]),
        })
    };
    r.fake.st.lock().unwrap().script.extend([
        ZoneOutput::Left {
            character: CharacterId(9),
            reason,
        },
        logs(1),
        logs(2),
    ]);
    r.tick.tick_once();
    assert_eq!(notices.try_recv().unwrap(), Notice::Left(reason));
    match r.events.try_recv().unwrap() {
        HostEvent::Left {
            character, notices, ..
        } => {
            assert_eq!(character, CharacterId(9));
            assert!(notices.is_some(), "the channel is handed on for a transfer");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(r.logs.try_recv().unwrap().len(), 1);
    assert_eq!(r.tick.outbox.held()[2], 1);
    for _ in 0..crate::limits::LOG_BACKLOG_BATCHES_MAX + 3 {
        r.fake.st.lock().unwrap().script.push_back(logs(1));
        r.tick.tick_once();
    }
    let c = &r.metrics.counters;
    assert!(c.log_batches_dropped.load(Ordering::Relaxed) >= 3);
    assert!(r.tick.outbox.held()[2] <= crate::limits::LOG_BACKLOG_BATCHES_MAX);
}

/// Runs the loop on its own thread for `d`, then stops it.
fn run_for(tick: TickLoop<Fake>, d: Duration) {
    let stop = tick.stop.clone();
    let t = std::thread::spawn(move || tick.run());
    std::thread::sleep(d);
    stop.cancel();
    t.join().unwrap();
}

#[test]
fn a_slow_zone_catches_up_a_bounded_number_of_ticks_then_skips() {
    let fake = Fake {
        step_delay: TICK * 2,
        ..Fake::default()
    };
    let r = rig(4, fake);
    let (st, metrics) = (r.fake.st.clone(), r.metrics.clone());
    run_for(r.tick, TICK * 16);
    let c = &metrics.counters;
    let ticks = c.ticks.load(Ordering::Relaxed);
    assert!(ticks >= 4, "ticks {ticks}");
    assert!(c.ticks_late.load(Ordering::Relaxed) >= ticks - 1);
    let skipped = c.ticks_skipped.load(Ordering::Relaxed);
    assert!(skipped >= 1);
    // The zone is told, so its views correct what clients extrapolated by the wall clock.
    assert_eq!(st.lock().unwrap().dropped, skipped);
    assert!(metrics.tick_summary().p50_us >= (TICK * 2).as_micros() as u64);
    // The steps slept: wall time, not the tick thread's CPU time.
    let crate::metrics::TickWindowTaken { wall, cpu, .. } = metrics.take_tick_window();
    assert_eq!(cpu.count, wall.count);
    assert!(
        cpu.p50_us < TICK.as_micros() as u64 / 5,
        "{cpu:?} of {wall:?}"
    );
}

#[test]
fn a_tick_that_works_is_counted_in_cpu_time_too() {
    let work = TICK / 2;
    let fake = Fake {
        step_work: work,
        ..Fake::default()
    };
    let r = rig(4, fake);
    let metrics = r.metrics.clone();
    run_for(r.tick, TICK * 6);
    let crate::metrics::TickWindowTaken { wall, cpu, .. } = metrics.take_tick_window();
    assert!(wall.count >= 2, "{wall:?}");
    assert_eq!(cpu.count, wall.count);
    // Every step worked `work` of CPU time (the histogram keeps 3 significant digits).
    let floor = work.as_micros() as u64 * 999 / 1_000;
    assert!(cpu.p50_us >= floor, "{cpu:?} of {wall:?}");
    assert!(wall.p50_us >= floor, "{cpu:?} of {wall:?}");
    assert!(cpu.max_us <= wall.max_us + 1_000, "{cpu:?} of {wall:?}");
}

#[test]
fn between_ticks_what_arrived_is_applied_and_its_answer_routed_without_a_step() {
    let fake = Fake::default();
    fake.st.lock().unwrap().reactive = true;
    let mut r = rig(4, fake);
    let (tx, mut notices) = crate::messages::notice_channel(8);
    r.tick.outbox.attach(CharacterId(7), tx);
    r.tick.react_once();
    assert_eq!(r.fake.st.lock().unwrap().reactions, 0, "nothing arrived");
    r.commands
        .try_send(Queued::now(CharacterId(7), PlayerCommand::Stop, None))
        .unwrap();
    r.fake
        .st
        .lock()
        .unwrap()
        .script
        .push_back(ZoneOutput::ToPlayer {
            character: CharacterId(7),
            event: PlayerEvent::Accepted,
            reply_to: None,
        });
    r.tick.react_once();
    assert_eq!(
        notices.try_recv().unwrap(),
        Notice::Event(PlayerEvent::Accepted)
    );
    let st = r.fake.st.lock().unwrap();
    assert_eq!((st.steps, st.reactions), (0, 1));
    let c = &r.metrics.counters;
    assert_eq!(c.reactions.load(Ordering::Relaxed), 1);
    assert_eq!(c.ticks.load(Ordering::Relaxed), 0);
}

#[test]
fn the_running_loop_reacts_to_commands_between_its_ticks() {
    let fake = Fake::default();
    fake.st.lock().unwrap().reactive = true;
    let r = rig(4, fake.clone());
    let stop = r.tick.stop.clone();
    let metrics = r.metrics.clone();
    let commands = r.commands.clone();
    let t = std::thread::spawn(move || r.tick.run());
    // Twenty commands a quarter of a tick apart: most land between two ticks.
    for _ in 0..20 {
        std::thread::sleep(TICK / 4);
        commands
            .try_send(Queued::now(CharacterId(7), PlayerCommand::Stop, None))
            .unwrap();
    }
    std::thread::sleep(TICK * 2);
    stop.cancel();
    t.join().unwrap();
    let st = fake.st.lock().unwrap();
    assert_eq!(st.accepted.len(), 20);
    assert!(st.reactions >= 1, "no command was applied between ticks");
    // Each command's wait for the tick thread was measured.
    let waits = metrics.take_tick_window().command_wait;
    assert_eq!(waits.count, 20, "{waits:?}");
    assert_eq!(
        metrics.counters.reactions.load(Ordering::Relaxed),
        st.reactions
    );
}

#[test]
fn the_zones_of_a_node_tick_apart() {
    use crate::tick::{next_slot, phase_of, slot_just_past};
    // Any few zones: no two within a third of an even spread of each other (around the
    // circle too; the golden ratio's gaps are never below 0.38 of it).
    for n in 2..=8u32 {
        let mut phases: Vec<Duration> = (1..=n).map(|z| phase_of(ZoneId(z as _))).collect();
        phases.sort();
        let gaps = phases.windows(2).map(|w| w[1] - w[0]);
        let around = TICK - (phases[phases.len() - 1] - phases[0]);
        let closest = gaps.chain([around]).min().unwrap();
        assert!(closest >= TICK / (3 * n), "{n} zones: {phases:?}");
        assert!(phases.iter().all(|p| *p < TICK));
    }
    // The next slot: `phase` into a tick counted from the epoch, at or after now.
    let epoch = Instant::now();
    let phase = Duration::from_millis(20);
    assert_eq!(next_slot(epoch, phase, epoch), epoch + phase);
    let at = epoch + phase;
    assert_eq!(next_slot(epoch, phase, at), at, "now, when now is the slot");
    let later = epoch + TICK * 3 + Duration::from_millis(30);
    assert_eq!(next_slot(epoch, phase, later), epoch + TICK * 4 + phase);
    // The slot just past: a tick at once is in phase one `TICK` later.
    assert_eq!(
        slot_just_past(epoch, phase, later),
        epoch + TICK * 3 + phase
    );
    assert_eq!(slot_just_past(epoch, phase, at), at);
}

#[test]
fn a_running_loop_ticks_at_once_then_at_its_phase() {
    use crate::tick::{next_slot, node_epoch};
    let epoch = node_epoch();
    // Two phases half a tick apart, each slot a third of a tick away from the start at least:
    // the first tick at once, the others at the loop's own phase.
    for half in [Duration::ZERO, TICK / 2] {
        let now = Instant::now();
        let into = Duration::from_nanos(((now - epoch).as_nanos() % TICK.as_nanos()) as u64);
        let phase =
            Duration::from_nanos(((into + TICK / 2 + half).as_nanos() % TICK.as_nanos()) as u64);
        let r = rig(4, Fake::default());
        let st = r.fake.st.clone();
        let spawned = Instant::now();
        run_for(r.tick.with_phase(phase), TICK * 8);
        let began = st.lock().unwrap().began.clone();
        assert!(began.len() >= 4, "{} ticks", began.len());
        let slot = next_slot(epoch, phase, spawned);
        assert!(began[0] < slot, "the first tick waited for its slot");
        // Each later tick begins at its slot or after (a sleep never ends early); by how much
        // after, mostly a little (a busy machine may wake a thread late now and then).
        let mut late: Vec<Duration> = began[1..]
            .iter()
            .map(|t| {
                let since = (*t - epoch).as_nanos() + TICK.as_nanos() - phase.as_nanos();
                Duration::from_nanos((since % TICK.as_nanos()) as u64)
            })
            .collect();
        late.sort();
        let median = late[late.len() / 2];
        assert!(
            median < TICK / 5,
            "phase {phase:?}: after their slots by {late:?}"
        );
    }
}
