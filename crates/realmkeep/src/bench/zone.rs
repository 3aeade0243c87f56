//! `realmkeep bench zone`: one zone with 2,000 simulated players and 10,000 monsters (the
//! issue's figures; `--players`, `--monsters`), ticked at 20 Hz on a thread of its own:
//! - tick p50, p99 and max over `--seconds` (the figure is 60) without a batch save, then
//!   over the same length with one batch save of every player inside the window (target: p99 at
//!   most 25 ms, half the 50 ms budget; the save may add at most 1 ms to p99);
//! - memory per player (resident memory before and after spawning them).
//!
//! The players are real: made in a private PostgreSQL (the simulator's seeding), claimed and
//! loaded with `Store::claim_and_load`, then placed at random points of the zone (their
//! positions are the one thing the benchmark sets by hand; the start of a new character is the
//! zone's entry, and 2,000 players on one spot is not a zone anyone plays). They fight with the
//! simulator's `Mind` (combat only). Every persistence request of the zone (the batch save, level-up
//! saves, loot, gold, logs) is carried out against that PostgreSQL by the store while the zone
//! keeps ticking: the real path, which is what could stall a tick. The monsters are Greenvale's
//! spawn points with their counts scaled to the total asked for.

use super::zone_store::{executor, players, renew, Ledger};
use super::zone_tick::{self, Phase, PhaseResult};
use super::{BenchArgs, Report};
use anyhow::{bail, Result};
use rand::{Rng, SeedableRng};
use realmkeep_domain::content::Content;
use realmkeep_domain::ZoneId;
use realmkeep_launcher::PostgresOptions;
use realmkeep_store::{Store, StoreOptions};
use realmkeep_zone::limits::{MONSTERS_MAX, PLAYERS_MAX};
use realmkeep_zone::ZoneConfig;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const ZONE: ZoneId = ZoneId(1);
/// Warm-up before each measured window: players spread out, monsters aggro, the allocator
/// settles.
const WARMUP: Duration = Duration::from_secs(5);
/// Queues between the tick thread and the store, as the host's.
const STORE_QUEUE_MAX: usize = 4_096;
const ANSWER_QUEUE_MAX: usize = 16_384;
/// Seeds the zone and the players' decisions: both phases see the same world.
const SEED: u64 = 2_026;
/// How long the calls of a phase may take to finish before the next phase starts.
const DRAIN: Duration = Duration::from_secs(2);
/// Targets: half the 50 ms tick budget; the save's share of p99.
const TICK_P99_MAX_MS: f64 = 25.0;
const SAVE_ADDS_MAX_MS: f64 = 1.0;
/// Spawn points keep their radius scaled with the square root of the count, at most this.
const SPAWN_RADIUS_MAX: f32 = 240.0;

/// Greenvale with its spawn counts scaled to `monsters` in all.
fn scaled_content(base: &Content, monsters: u32) -> Result<Content> {
    let mut content = base.clone();
    let Some(zone) = content.zones.iter_mut().find(|z| z.id == ZONE) else {
        bail!("zone {ZONE} is not in the content");
    };
    let total: u32 = zone.spawns.iter().map(|s| s.count).sum();
    let k = monsters as f64 / total.max(1) as f64;
    let mut given = 0;
    for s in &mut zone.spawns {
        s.count = (s.count as f64 * k).floor() as u32;
        s.radius = (s.radius * (k.sqrt() as f32)).min(SPAWN_RADIUS_MAX);
        given += s.count;
    }
    if let Some(first) = zone.spawns.first_mut() {
        first.count += monsters - given;
    }
    Ok(content)
}

fn ms(us: u64) -> f64 {
    us as f64 / 1_000.0
}

pub async fn run(args: &BenchArgs) -> Result<Report> {
    let n = args.players as usize;
    if n == 0 || n > PLAYERS_MAX || args.monsters as usize > MONSTERS_MAX {
        bail!("1 to {PLAYERS_MAX} players and at most {MONSTERS_MAX} monsters");
    }
    let seconds = args.seconds.max(1);
    eprintln!("bench zone: starting a private PostgreSQL");
    let pg = crate::private::postgres(PostgresOptions::default()).await?;
    crate::private::create_database(&pg, "bench_zone").await?;
    let store = Store::connect(&pg.url("bench_zone"), &StoreOptions::default()).await?;
    store.migrate().await?;
    store.ensure_log_partitions(1, 2).await?;
    let base = realmkeep_store::seed::bundled_content()?;
    store.seed_content(&base).await?;
    eprintln!("bench zone: seeding, claiming and loading {n} players");
    let mut loaded = players(&store, n).await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let zone_def = base
        .zones
        .iter()
        .find(|z| z.id == ZONE)
        .expect("checked above")
        .clone();
    for (_, c) in &mut loaded {
        c.position.zone = ZONE;
        c.position.x = rng.random_range(8.0..zone_def.width - 8.0);
        c.position.y = rng.random_range(8.0..zone_def.height - 8.0);
    }
    let renewer = renew(store.clone(), loaded.iter().map(|(f, _)| *f).collect());
    // Let PostgreSQL settle after the seeding (autovacuum, checkpoint), so the first window does
    // not pay for it.
    for settle in ["VACUUM ANALYZE", "CHECKPOINT"] {
        sqlx::query(settle).execute(store.pool()).await?;
    }
    let content = Arc::new(scaled_content(&base, args.monsters)?);
    let loaded = Arc::new(loaded);

    let warmup_ticks = WARMUP.as_millis() as u64 / zone_tick::TICK.as_millis() as u64;
    let measured_ticks = seconds * 1_000 / zone_tick::TICK.as_millis() as u64;
    let config = |save_interval_ticks: u64| {
        let mut c = ZoneConfig::new(ZONE, content.clone(), SEED);
        c.save_interval_ticks = save_interval_ticks;
        c.save_batches_per_interval = 1;
        c
    };
    // Without: the periodic save never comes due. With: it comes due once, mid-window, and then
    // takes every dirty player in one batch.
    let never = 10 * (warmup_ticks + measured_ticks);
    let mid_window = warmup_ticks + measured_ticks / 2;
    eprintln!("bench zone: {seconds} s without a batch save");
    let (without, _) = phase(&store, &loaded, config(never), warmup_ticks, measured_ticks).await?;
    eprintln!("bench zone: {seconds} s with a batch save of every player inside the window");
    let (with, ledger) = phase(
        &store,
        &loaded,
        config(mid_window),
        warmup_ticks,
        measured_ticks,
    )
    .await?;
    renewer.abort();

    let saves = ledger
        .saves
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let mut report = Report::new("zone");
    report.param("players", n);
    report.param("monsters", args.monsters);
    report.param("seconds_per_window", seconds);
    report.param("warmup_seconds", WARMUP.as_secs());
    report.param("tick_hz", 1_000 / zone_tick::TICK.as_millis() as u64);
    report.param(
        "players_from",
        "private PostgreSQL: seeded, claimed and loaded with Store::claim_and_load; placed at random points",
    );
    report.param(
        "batch_save",
        "the zone's SaveBatch output, executed by Store::save_batch against the private PostgreSQL while the zone ticks",
    );
    for (name, r) in [("no_save", &without), ("with_save", &with)] {
        report.figure(&format!("tick_p50_ms_{name}"), ms(r.ticks.p50_us));
        report.figure(&format!("tick_p99_ms_{name}"), ms(r.ticks.p99_us));
        report.figure(&format!("tick_max_ms_{name}"), ms(r.ticks.max_us));
        report.figure(&format!("ticks_measured_{name}"), r.ticks.count as f64);
        report.figure(&format!("ticks_over_50ms_{name}"), r.overruns as f64);
        report.figure(
            &format!("store_queue_full_{name}"),
            r.store_queue_full as f64,
        );
    }
    report.figure("players_spawned", with.players as f64);
    report.figure("monsters_spawned", with.monsters as f64);
    let per_player_kib =
        (without.rss_after_mb - without.rss_before_mb).max(0.0) * 1024.0 / n as f64;
    report.figure("memory_per_player_kib", per_player_kib);
    report.figure("batch_saves_in_window", with.batch_saves as f64);
    report.figure("batch_save_rows", with.batch_rows as f64);
    if let Some(s) = saves.iter().max_by_key(|s| s.rows) {
        report.figure("batch_save_ms", s.took.as_secs_f64() * 1_000.0);
        report.figure("batch_save_rows_refused", s.refused as f64);
    }
    report.figure(
        "store_requests_with_save",
        ledger.requests.load(std::sync::atomic::Ordering::Relaxed) as f64,
    );
    report.figure(
        "store_failures_with_save",
        ledger.failures.load(std::sync::atomic::Ordering::Relaxed) as f64,
    );
    let p99_without = ms(without.ticks.p99_us);
    let p99_with = ms(with.ticks.p99_us);
    report.at_most(
        "tick p99 without a batch save",
        p99_without,
        "ms",
        TICK_P99_MAX_MS,
    );
    report.at_most(
        "tick p99 with a batch save of every player",
        p99_with,
        "ms",
        TICK_P99_MAX_MS,
    );
    report.at_most(
        "batch save adds to tick p99 (with - without)",
        p99_with - p99_without,
        "ms",
        SAVE_ADDS_MAX_MS,
    );
    let missing = if with.batch_saves >= 1 && with.batch_rows as usize >= with.players * 9 / 10 {
        0.0
    } else {
        1.0
    };
    report.at_most(
        "batch save of every player missing from the window",
        missing,
        "",
        0.0,
    );
    report.figure("peak_rss_mb", super::peak_rss_mb());
    store.close().await;
    drop(pg);
    Ok(report)
}

/// Runs one phase on a thread of its own, with a fresh executor; waits for its calls to end.
async fn phase(
    store: &Store,
    loaded: &Arc<
        Vec<(
            realmkeep_domain::Fence,
            realmkeep_store::characters::LoadedCharacter,
        )>,
    >,
    config: ZoneConfig,
    warmup_ticks: u64,
    measured_ticks: u64,
) -> Result<(PhaseResult, Arc<Ledger>)> {
    let (to_store, from_zone) = mpsc::channel(STORE_QUEUE_MAX);
    let (answers_tx, answers_rx) = mpsc::channel(ANSWER_QUEUE_MAX);
    let ledger = Arc::new(Ledger::default());
    let exec = executor(store.clone(), from_zone, answers_tx, ledger.clone());
    let loaded = loaded.clone();
    let spec = Phase {
        config,
        warmup_ticks,
        measured_ticks,
        seed: SEED,
    };
    let r =
        tokio::task::spawn_blocking(move || zone_tick::run(spec, &loaded, to_store, answers_rx))
            .await??;
    let _ = exec.await;
    tokio::time::sleep(DRAIN).await;
    Ok((r, ledger))
}
