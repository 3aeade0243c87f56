//! The running tick loop pacing its zone's views: by its own ticks' wait for a core, and by the
//! node's runtime lag (`pace.rs`, `lag.rs`).

use super::*;

#[test]
fn a_zone_whose_ticks_wait_stretches_its_views_and_steps_back_once_calm() {
    use crate::limits::{VIEW_PACE_CALM_WINDOWS, VIEW_PACE_WINDOW_TICKS};
    use crate::pace::ViewPacer;
    use realmkeep_zone::limits::VIEW_STRETCH_MAX;
    // Waits far apart, so that a busy machine running the suite is calm by them: busy from 30 ms
    // a tick, calm under 20. The first steps sleep 40 ms: wall time beyond their CPU time, as a
    // tick waiting for a core.
    let (busy_wait, calm_wait) = (Duration::from_millis(30), Duration::from_millis(20));
    // A busy window per step up (each doubles the stretch), and one more.
    let steps = u64::from(VIEW_STRETCH_MAX.ilog2());
    let busy = u64::from(VIEW_PACE_WINDOW_TICKS) * (steps + 1);
    let fake = Fake {
        step_delay: Duration::from_millis(40),
        ..Fake::default()
    };
    fake.st.lock().unwrap().slow_steps = Some(busy);
    let r = rig(4, fake);
    let (st, metrics) = (r.fake.st.clone(), r.metrics.clone());
    let tick = r
        .tick
        .with_pacer(ViewPacer::with_waits(busy_wait, calm_wait));
    let stop = tick.stop.clone();
    let t = std::thread::spawn(move || tick.run());
    let c = &metrics.counters;
    let stretch = || c.view_stretch.load(Ordering::Acquire).max(1);
    let wait_for = |want: u64, within: Duration| {
        let start = Instant::now();
        while stretch() != want && start.elapsed() < within {
            std::thread::sleep(TICK);
        }
        stretch()
    };
    // A step per busy window, up to the max; the wait it was judged on is served first.
    assert_eq!(
        wait_for(VIEW_STRETCH_MAX, TICK * busy as u32 * 4),
        VIEW_STRETCH_MAX
    );
    assert!(c.tick_wait_us.load(Ordering::Relaxed) >= busy_wait.as_micros() as u64);
    // Then calm: a step back after `VIEW_PACE_CALM_WINDOWS` calm windows each.
    let calm = TICK * (VIEW_PACE_WINDOW_TICKS * VIEW_PACE_CALM_WINDOWS) * steps as u32;
    assert_eq!(wait_for(1, calm * 4), 1);
    stop.cancel();
    t.join().unwrap();
    let st = st.lock().unwrap();
    let (ups, backs) = (crate::pace::steps_up(), crate::pace::steps_back());
    assert_eq!(st.stretches, [ups, backs].concat());
    let stretched = c.ticks_stretched.load(Ordering::Relaxed);
    assert!(
        stretched >= u64::from(VIEW_PACE_WINDOW_TICKS * VIEW_PACE_CALM_WINDOWS),
        "{stretched} ticks stretched"
    );
    // The ticks at the most stretch are counted apart, among the stretched ones.
    let at_most = c.ticks_stretched_max.load(Ordering::Relaxed);
    assert!(
        at_most >= u64::from(VIEW_PACE_WINDOW_TICKS) && at_most < stretched,
        "{at_most} of {stretched} stretched ticks at the most"
    );
    assert!(c.tick_wait_us.load(Ordering::Relaxed) < calm_wait.as_micros() as u64);
}

#[test]
fn a_zone_on_time_stretches_its_views_while_the_runtime_lags() {
    use crate::lag::{LagReading, RuntimeLag};
    use crate::limits::{VIEW_PACE_CALM_WINDOWS, VIEW_PACE_LAG_BUSY, VIEW_PACE_WINDOW_TICKS};
    use crate::pace::ViewPacer;
    use realmkeep_zone::limits::VIEW_STRETCH_MAX;
    // The ticks' own waits are judged far apart (busy from 30 ms, calm under 20), so a busy
    // machine running the suite is calm by them: only the lag set here moves the pace.
    let lag = RuntimeLag::default();
    let r = rig(4, Fake::default());
    let (st, metrics) = (r.fake.st.clone(), r.metrics.clone());
    let pacer = ViewPacer::with_waits(Duration::from_millis(30), Duration::from_millis(20));
    let tick = r.tick.with_pacer(pacer).with_lag(lag.clone());
    let stop = tick.stop.clone();
    let t = std::thread::spawn(move || tick.run());
    let stretch = || metrics.counters.view_stretch.load(Ordering::Acquire).max(1);
    let wait_for = |want: u64, within: Duration| {
        let start = Instant::now();
        while stretch() != want && start.elapsed() < within {
            std::thread::sleep(TICK);
        }
        stretch()
    };
    let window = TICK * VIEW_PACE_WINDOW_TICKS;
    // On time and no lag: the full pace for a few windows.
    std::thread::sleep(window * 2);
    assert_eq!(stretch(), 1);
    lag.set(LagReading {
        mean: VIEW_PACE_LAG_BUSY * 2,
        worst: VIEW_PACE_LAG_BUSY * 2,
    });
    let up = window * VIEW_STRETCH_MAX as u32 * 4;
    assert_eq!(wait_for(VIEW_STRETCH_MAX, up), VIEW_STRETCH_MAX);
    lag.set(LagReading::default());
    let calm = window * VIEW_PACE_CALM_WINDOWS * VIEW_STRETCH_MAX as u32;
    assert_eq!(wait_for(1, calm * 4), 1);
    stop.cancel();
    t.join().unwrap();
    let (ups, backs) = (crate::pace::steps_up(), crate::pace::steps_back());
    assert_eq!(st.lock().unwrap().stretches, [ups, backs].concat());
}
