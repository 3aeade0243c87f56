//! `realmkeep bench store`: seed N characters (about 50 items, 20 skills and 10 quests each),
//! then, against one private PostgreSQL in one run:
//! - character load: p50/p99 of the full load with 8 concurrent loaders (target p99 <= 2 ms;
//!   the spec's budget is 200 ms);
//! - trades per second with 8 clients, next to pgbench's simple-update (-N) TPS with 8 clients
//!   (target >= 60% of pgbench); loot pickups and market buys per second, the same way
//!   (`store_economy.rs`); each as the node runs it, under an idempotency key;
//! - a batch save of 10,000 dirty characters, next to PostgreSQL executing the same statement
//!   server-side on arrays it built itself (target <= 1.1x that floor);
//! - peak memory of the process.

use super::store_economy;
use super::{peak_rss_mb, process_cpu_seconds, BenchArgs, Report};
use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use realmkeep_domain::*;
use realmkeep_launcher::{find_binary, Binary, PostgresOptions, PostgresServer};
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_store::trade::TradeSide;
use realmkeep_store::{Store, StoreOptions};
use std::time::{Duration, Instant};

/// Concurrent loaders and trading clients, as the issue sets them.
const CLIENTS: usize = 8;
/// Seeding reports its progress on stderr every this many characters (a million takes minutes).
const SEED_PROGRESS_EVERY: i64 = 50_000;
/// Rows of the batch-save measurement.
const BATCH_ROWS: usize = 10_000;
/// Repetitions of the batch save and its floor; the median of each is reported.
const BATCH_REPEATS: usize = 5;
/// Character pairs each trading client owns (disjoint between clients).
const PAIRS_PER_CLIENT: u32 = 50;
/// pgbench scale factor for its own tables.
const PGBENCH_SCALE: u32 = 10;
use realmkeep_store::bench_seed::{
    BENCH_ITEMS_PER_CHARACTER as ITEMS_PER_CHARACTER,
    BENCH_QUESTS_PER_CHARACTER as QUESTS_PER_CHARACTER,
    BENCH_SKILLS_PER_CHARACTER as SKILLS_PER_CHARACTER,
};

pub async fn run(args: &BenchArgs) -> Result<Report> {
    let n = args
        .characters
        .max(2 * (CLIENTS as u32) * PAIRS_PER_CLIENT)
        .max(BATCH_ROWS as u32);
    let seconds = Duration::from_secs(args.seconds.max(1));
    eprintln!("bench store: starting a private PostgreSQL");
    let pg = crate::private::postgres(PostgresOptions {
        shared_buffers_mb: 1024,
        ..PostgresOptions::default()
    })
    .await?;
    crate::private::create_database(&pg, "bench").await?;
    let opts = StoreOptions {
        pool_connections_max: CLIENTS as u32 + 2,
        ..StoreOptions::default()
    };
    let store = Store::connect(&pg.url("bench"), &opts).await?;
    store.migrate().await?;
    store
        .seed_content(&realmkeep_store::seed::bundled_content()?)
        .await?;
    let started = Instant::now();
    seed(&store, n).await?;
    let seed_s = started.elapsed().as_secs_f64();
    eprintln!("bench store: seeded {n} characters in {seed_s:.1} s");

    let mut report = Report::new("store");
    report.param("characters", n);
    report.param("items_per_character", ITEMS_PER_CHARACTER);
    report.param("skills_per_character", SKILLS_PER_CHARACTER);
    report.param("quests_per_character", QUESTS_PER_CHARACTER);
    report.param("clients", CLIENTS);
    report.param("seconds_per_phase", seconds.as_secs());
    report.figure("seed_seconds", seed_s);

    let cpu0 = process_cpu_seconds();
    let (p50, p99, loads) = load_bench(&store, n, seconds).await?;
    let load_cpu_us =
        (process_cpu_seconds() - cpu0) * 1e6 / (loads * seconds.as_secs_f64()).max(1.0);
    report.figure("load_client_cpu_us_per_load", load_cpu_us);
    report.figure("load_p50_ms", p50);
    report.figure("load_p99_ms", p99);
    report.figure("loads_per_second", loads);
    let (pg_p50, pg_p99) = pgbench_load_latency(&pg, n, seconds).await?;
    report.figure("pgbench_same_load_p50_ms", pg_p50);
    report.figure("pgbench_same_load_p99_ms", pg_p99);
    report.at_most("character load p99", p99, "ms", 2.0);
    report.ratio_at_most(
        "character load p99 vs pgbench, same statement",
        p99,
        pg_p99,
        "ms",
        1.1,
    );
    report.at_most("character load p99 (spec budget)", p99, "ms", 200.0);

    let cpu0 = process_cpu_seconds();
    let trades = trade_bench(&store, seconds).await?;
    let client_cpu_us =
        (process_cpu_seconds() - cpu0) * 1e6 / (trades * seconds.as_secs_f64()).max(1.0);
    report.figure("trade_client_cpu_us_per_trade", client_cpu_us);
    let pgbench = pgbench_tps(&pg, seconds).await?;
    report.figure("trades_per_second", trades);
    report.figure("pgbench_simple_update_tps", pgbench);
    report.ratio_at_least("trades/s vs pgbench -N", trades, pgbench, "tps", 0.6);
    let first = 1 + 2 * (CLIENTS as i64) * PAIRS_PER_CLIENT as i64;
    let loots = store_economy::loot_bench(&store, CLIENTS, first, seconds).await?;
    report.figure("loot_pickups_per_second", loots);
    report.ratio_at_least("loot pickups/s vs pgbench -N", loots, pgbench, "tps", 0.6);
    let first = first + CLIENTS as i64 * store_economy::CHARACTERS_PER_CLIENT;
    let buys = store_economy::market_bench(&store, CLIENTS, first, seconds).await?;
    report.figure("market_buys_per_second", buys);
    report.ratio_at_least("market buys/s vs pgbench -N", buys, pgbench, "tps", 0.6);

    let (client_ms, floor_ms) = batch_save_bench(&store).await?;
    report.figure("batch_save_10k_ms", client_ms);
    report.figure("batch_save_10k_server_floor_ms", floor_ms);
    report.ratio_at_most(
        "batch save 10k vs server floor",
        client_ms,
        floor_ms,
        "ms",
        1.1,
    );

    let rss = peak_rss_mb();
    report.figure("peak_rss_mb", rss);
    store.close().await;
    drop(pg);
    Ok(report)
}

async fn seed(store: &Store, n: u32) -> Result<()> {
    let hash = store
        .hash_password(&Password::parse("bench-password")?)
        .await?;
    let mut progress = |hi: i64| {
        if hi % SEED_PROGRESS_EVERY == 0 || hi == n as i64 {
            eprintln!("bench store: seeded {hi} of {n} characters");
        }
    };
    store
        .bench_seed(n as i64, &hash, &mut progress)
        .await
        .context("seeding the bench characters")?;
    Ok(())
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

async fn load_bench(store: &Store, n: u32, d: Duration) -> Result<(f64, f64, f64)> {
    // Warm the cache a little first, as a running server would be.
    let warm_until = Instant::now() + d / 4;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    while Instant::now() < warm_until {
        store
            .load_character(CharacterId(rng.random_range(1..=n as i64)))
            .await?;
    }
    let deadline = Instant::now() + d;
    let mut tasks = Vec::new();
    for t in 0..CLIENTS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(100 + t as u64);
            let mut h = histogram();
            while Instant::now() < deadline {
                let id = CharacterId(rng.random_range(1..=n as i64));
                let t0 = Instant::now();
                let c = store.load_character(id).await?;
                h.record(t0.elapsed().as_micros().max(1) as u64)?;
                anyhow::ensure!(
                    c.inventory.len() + c.equipment.len() == ITEMS_PER_CHARACTER as usize,
                    "a partial load"
                );
            }
            Ok::<_, anyhow::Error>(h)
        }));
    }
    let mut all = histogram();
    for t in tasks {
        all.add(t.await??)?;
    }
    let per_s = all.len() as f64 / d.as_secs_f64();
    Ok((
        all.value_at_quantile(0.5) as f64 / 1000.0,
        all.value_at_quantile(0.99) as f64 / 1000.0,
        per_s,
    ))
}

/// The same load statement, run by PostgreSQL's own client with as many clients: what the server
/// and this machine can do at best (a reference, not a target).
async fn pgbench_load_latency(pg: &PostgresServer, n: u32, d: Duration) -> Result<(f64, f64)> {
    let dir = std::env::temp_dir().join(format!("realmkeep-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("load.sql");
    let sql = realmkeep_store::characters::load_sql().replace("$1", ":id");
    std::fs::write(
        &script,
        format!("\\set id random(1, {n})\n{};\n", sql.trim()),
    )?;
    let port = pg.port().to_string();
    let prefix = dir.join("load");
    let out = tokio::process::Command::new(find_binary(Binary::Pgbench)?)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            port.as_str(),
            "-U",
            realmkeep_launcher::postgres::SUPERUSER,
        ])
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &CLIENTS.to_string(),
            "-j",
            "2",
            "-T",
            &d.as_secs().to_string(),
        ])
        .arg("-f")
        .arg(&script)
        .arg("--log")
        .arg(format!("--log-prefix={}", prefix.display()))
        .arg("bench")
        .current_dir(&dir)
        .output()
        .await?;
    if !out.status.success() {
        bail!(
            "pgbench (load) failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut h = histogram();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .is_some_and(|f| f.to_string_lossy().starts_with("load."))
            && path != script
        {
            for line in std::fs::read_to_string(&path)?.lines() {
                // client_id transaction_no time_us script_no epoch epoch_us
                if let Some(us) = line
                    .split_whitespace()
                    .nth(2)
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    h.record(us.max(1))?;
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(!h.is_empty(), "pgbench wrote no latencies");
    Ok((
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
    ))
}

async fn trade_bench(store: &Store, d: Duration) -> Result<f64> {
    let deadline = Instant::now() + d;
    let mut tasks = Vec::new();
    for client in 0..CLIENTS as u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // Pair j of this client: characters a and a + 1, starting with a's first bag item.
            let mut pairs: Vec<(CharacterId, CharacterId, ItemId, bool)> = (0..PAIRS_PER_CLIENT)
                .map(|j| {
                    let a = 1 + 2 * (client * PAIRS_PER_CLIENT + j) as i64;
                    (CharacterId(a), CharacterId(a + 1), ItemId(a * 64 + 2), true)
                })
                .collect();
            let mut done = 0u64;
            let mut j = 0usize;
            while Instant::now() < deadline {
                let (a, b, item, a_holds) = pairs[j];
                let (giver, taker) = if a_holds { (a, b) } else { (b, a) };
                let give = TradeSide {
                    actor: Actor::Offline(giver),
                    items: vec![item],
                    gold: Gold::new(1)?,
                };
                let pay = TradeSide {
                    actor: Actor::Offline(taker),
                    items: vec![],
                    gold: Gold::new(2)?,
                };
                // As the node trades: under an idempotency key, kept with the receipt.
                let key = format!("bench:trade:{}:{done}", a.0);
                store
                    .trade_keyed(&give, &pay, &key)
                    .await
                    .context("a benchmark trade")?;
                pairs[j].3 = !a_holds;
                done += 1;
                j = (j + 1) % pairs.len();
            }
            Ok::<_, anyhow::Error>(done)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / d.as_secs_f64())
}

async fn pgbench_tps(pg: &PostgresServer, d: Duration) -> Result<f64> {
    crate::private::create_database(pg, "pgbench").await?;
    let bin = find_binary(Binary::Pgbench)?;
    let port = pg.port().to_string();
    let common = [
        "-h",
        "127.0.0.1",
        "-p",
        port.as_str(),
        "-U",
        realmkeep_launcher::postgres::SUPERUSER,
    ];
    let init = tokio::process::Command::new(&bin)
        .args(common)
        .args(["-i", "-q", "-s", &PGBENCH_SCALE.to_string(), "pgbench"])
        .output()
        .await?;
    if !init.status.success() {
        bail!(
            "pgbench -i failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
    }
    let out = tokio::process::Command::new(&bin)
        .args(common)
        .args([
            "-N",
            "-n",
            "-c",
            &CLIENTS.to_string(),
            "-j",
            "2",
            "-T",
            &d.as_secs().to_string(),
            "pgbench",
        ])
        .output()
        .await?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "pgbench failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .with_context(|| format!("no tps line in pgbench's output:\n{text}"))
}

/// Median time of a 10,000-row batch save through the store, and of the same statement run by
/// PostgreSQL on arrays it built itself (the floor: no client encoding, no network).
async fn batch_save_bench(store: &Store) -> Result<(f64, f64)> {
    let stored = store.bench_claim_rows(BATCH_ROWS as i64).await?;
    let mut floor_conn = store.bench_floor_conn().await?;
    let mut client = Vec::new();
    let mut floor = Vec::new();
    for rep in 0..BATCH_REPEATS {
        let shift = rep as f32 + 1.0;
        let rows: Vec<CharacterSnapshot> = stored
            .iter()
            .map(|r| {
                let id = r.fence.character.0;
                CharacterSnapshot {
                    fence: r.fence,
                    position: Position {
                        zone: ZoneId(r.zone),
                        x: (id % 500) as f32 + shift,
                        y: (id % 331) as f32,
                        z: 0.0,
                        rotation: 1.0,
                    },
                    health: 150,
                    mana: 90,
                    xp: r.xp + 1,
                    level: r.level,
                }
            })
            .collect();
        let t0 = Instant::now();
        let r = store.save_batch(&rows).await?;
        client.push(t0.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            r.saved.len() == BATCH_ROWS && r.refused.is_empty(),
            "the batch save refused rows"
        );
        floor.push(floor_conn.run(BATCH_ROWS as i64, shift + 0.5).await?);
    }
    Ok((median(&mut client), median(&mut floor)))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
