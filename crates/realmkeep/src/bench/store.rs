//! `realmkeep bench store`: seed N characters (about 50 items, 20 skills and 10 quests each),
//! then, against one private PostgreSQL in one run:
//! - character load: p50/p99 of the full load with 8 concurrent loaders (target p99 <= 2 ms;
//!   the spec's budget is 200 ms);
//! - trades per second with 8 clients, next to pgbench's simple-update (-N) TPS with 8 clients
//!   (target >= 60% of pgbench); loot pickups and market buys per second, the same way
//!   (`store_economy.rs`);
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
use realmkeep_store::saves::{CharacterSnapshot, BATCH_SAVE_SQL};
use realmkeep_store::trade::TradeSide;
use realmkeep_store::{Store, StoreOptions};
use std::time::{Duration, Instant};

/// Concurrent loaders and trading clients, as the issue sets them.
const CLIENTS: usize = 8;
/// Characters seeded per transaction.
const SEED_CHUNK: u32 = 5_000;
/// Seeding reports its progress on stderr every this many characters (a million takes minutes).
const SEED_PROGRESS_EVERY: u32 = 50_000;
/// Rows of the batch-save measurement.
const BATCH_ROWS: usize = 10_000;
/// Repetitions of the batch save and its floor; the median of each is reported.
const BATCH_REPEATS: usize = 5;
/// Character pairs each trading client owns (disjoint between clients).
const PAIRS_PER_CLIENT: u32 = 50;
/// pgbench scale factor for its own tables.
const PGBENCH_SCALE: u32 = 10;
const ITEMS_PER_CHARACTER: i64 = 50;
const SKILLS_PER_CHARACTER: i64 = 20;
const QUESTS_PER_CHARACTER: i64 = 10;
/// Item definitions cycled through the seeded bags.
const BAG_DEFS: &str = "ARRAY[12,13,14,15,16,17,100,101,200,201,202,203,204,2,3,4,5,6,7,11]";

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
    let hash =
        realmkeep_store::accounts::hash_password(&Password::parse("bench-password")?).await?;
    let mut tx = store.pool().begin().await?;
    for s in 0..SKILLS_PER_CHARACTER {
        sqlx::query("INSERT INTO skill_definitions (id, name, max_level, cooldown_ms, mana_cost) VALUES ($1, $2, 10, 1000, 1) ON CONFLICT DO NOTHING")
            .bind(1000 + s as i32)
            .bind(format!("Bench Skill {s}"))
            .execute(&mut *tx)
            .await?;
    }
    for q in 0..QUESTS_PER_CHARACTER {
        sqlx::query("INSERT INTO quest_definitions (id, name, target_monster, target_count, reward_xp, reward_gold) VALUES ($1, $2, 1, 10, 10, 1) ON CONFLICT DO NOTHING")
            .bind(1000 + q as i32)
            .bind(format!("Bench Quest {q}"))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let mut lo = 1u32;
    while lo <= n {
        let hi = (lo + SEED_CHUNK - 1).min(n);
        seed_chunk(store, lo as i64, hi as i64, &hash)
            .await
            .with_context(|| format!("seeding characters {lo}..={hi}"))?;
        lo = hi + 1;
        if hi.is_multiple_of(SEED_PROGRESS_EVERY) || hi == n {
            eprintln!("bench store: seeded {hi} of {n} characters");
        }
    }
    for table in ["accounts", "characters", "item_instances"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )))
        .execute(store.pool())
        .await?;
    }
    sqlx::query("ANALYZE").execute(store.pool()).await?;
    // The bulk load ran without triggers: check the one-place rule the trigger would have.
    let misplaced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM item_instances i
         LEFT JOIN inventories v ON v.item_id = i.id LEFT JOIN equipment e ON e.item_id = i.id
         WHERE (v.item_id IS NULL) = (e.item_id IS NULL)",
    )
    .fetch_one(store.pool())
    .await?;
    if misplaced != 0 {
        bail!("{misplaced} seeded items are not in exactly one place");
    }
    Ok(())
}

/// Seeds characters `lo..=hi` server-side. Triggers and foreign-key checks are off for the bulk
/// load (session_replication_role = replica) and the result is checked afterwards.
async fn seed_chunk(store: &Store, lo: i64, hi: i64, hash: &str) -> Result<()> {
    let mut tx = store.pool().begin().await?;
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await?;
    let stmts = [
        "INSERT INTO accounts (id, username, email, password_hash) OVERRIDING SYSTEM VALUE
         SELECT i, 'bench_' || i, 'bench_' || i || '@bench.test', $3 FROM generate_series($1::int8, $2::int8) i".to_string(),
        "INSERT INTO characters (id, account_id, name, class, kingdom, level, xp, gold, strength, agility, intellect,
                                 stamina, health, mana, zone_id) OVERRIDING SYSTEM VALUE
         SELECT i, i, 'Bench' || i, (ARRAY['warrior','mage','ranger','cleric'])[1 + i % 4],
                (ARRAY['aldor','veyra','korrim'])[1 + i % 3], 1 + i % 60, i % 1000, 100000, 10, 10, 10, 10, 200, 100, 1 + i % 2
         FROM generate_series($1::int8, $2::int8) i".to_string(),
        "INSERT INTO character_positions (character_id, zone_id, x, y)
         SELECT i, 1 + i % 2, (i % 500)::real, (i % 331)::real FROM generate_series($1::int8, $2::int8) i".to_string(),
        format!(
            "INSERT INTO item_instances (id, def_id, quantity, location, origin) OVERRIDING SYSTEM VALUE
             SELECT i * 64 + k, CASE k WHEN 0 THEN 1 WHEN 1 THEN 10 ELSE ({BAG_DEFS})[1 + (i + k) % 20] END, 1,
                    CASE WHEN k < 2 THEN 'equipment' ELSE 'inventory' END, 'bench'
             FROM generate_series($1::int8, $2::int8) i, generate_series(0, {}) k",
            ITEMS_PER_CHARACTER - 1
        ),
        "INSERT INTO equipment (character_id, slot, item_id)
         SELECT i, CASE k WHEN 0 THEN 'main_hand' ELSE 'chest' END, i * 64 + k
         FROM generate_series($1::int8, $2::int8) i, generate_series(0, 1) k".to_string(),
        format!(
            "INSERT INTO inventories (character_id, slot, item_id)
             SELECT i, k - 2, i * 64 + k FROM generate_series($1::int8, $2::int8) i, generate_series(2, {}) k",
            ITEMS_PER_CHARACTER - 1
        ),
        format!(
            "INSERT INTO skills (character_id, skill_id, level)
             SELECT i, 1000 + s, 1 + s % 5 FROM generate_series($1::int8, $2::int8) i, generate_series(0, {}) s",
            SKILLS_PER_CHARACTER - 1
        ),
        format!(
            "INSERT INTO quests (character_id, quest_id, status, progress)
             SELECT i, 1000 + q, 'active', q FROM generate_series($1::int8, $2::int8) i, generate_series(0, {}) q",
            QUESTS_PER_CHARACTER - 1
        ),
    ];
    for (n, sql) in stmts.iter().enumerate() {
        let q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(lo)
            .bind(hi);
        let q = if n == 0 { q.bind(hash) } else { q };
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
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
                store
                    .trade(&give, &pay)
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
    let fences: Vec<(i64, i64)> = sqlx::query_as(
        "UPDATE characters SET claim_holder = 'bench', claim_epoch = claim_epoch + 1,
                claim_expires_at = now() + interval '1 hour'
         WHERE id <= $1 RETURNING id, claim_epoch",
    )
    .bind(BATCH_ROWS as i64)
    .fetch_all(store.pool())
    .await?;
    let mut conn = store.pool().acquire().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE OR REPLACE FUNCTION pg_temp.batch_save_floor(n int8, shift real) RETURNS float8 LANGUAGE plpgsql AS $fn$
         DECLARE ids int8[]; epochs int8[]; zones int4[]; xs real[]; ys real[]; zs real[]; rots real[];
                 hs int4[]; ms int4[]; xps int8[]; lvls int4[]; t0 timestamptz;
         BEGIN
           SELECT array_agg(id ORDER BY id), array_agg(claim_epoch ORDER BY id), array_agg(zone_id ORDER BY id),
                  array_agg((id % 500)::real + shift ORDER BY id), array_agg((id % 331)::real ORDER BY id),
                  array_agg(0::real ORDER BY id), array_agg(1::real ORDER BY id), array_agg(150 ORDER BY id),
                  array_agg(90 ORDER BY id), array_agg(xp + 1 ORDER BY id), array_agg(level ORDER BY id)
             INTO ids, epochs, zones, xs, ys, zs, rots, hs, ms, xps, lvls
             FROM characters WHERE id <= n;
           t0 := clock_timestamp();
           EXECUTE $sql${BATCH_SAVE_SQL}$sql$ USING ids, epochs, zones, xs, ys, zs, rots, hs, ms, xps, lvls;
           RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
         END $fn$"
    )))
    .execute(&mut *conn)
    .await?;
    let levels: Vec<(i64, i32, i64, i32)> =
        sqlx::query_as("SELECT id, zone_id, xp, level FROM characters WHERE id <= $1 ORDER BY id")
            .bind(BATCH_ROWS as i64)
            .fetch_all(store.pool())
            .await?;
    let epochs: std::collections::HashMap<i64, i64> = fences.into_iter().collect();
    let mut client = Vec::new();
    let mut floor = Vec::new();
    for rep in 0..BATCH_REPEATS {
        let shift = rep as f32 + 1.0;
        let rows: Vec<CharacterSnapshot> = levels
            .iter()
            .map(|(id, zone, xp, level)| CharacterSnapshot {
                fence: Fence {
                    character: CharacterId(*id),
                    epoch: ClaimEpoch(epochs[id]),
                },
                position: Position {
                    zone: ZoneId(*zone),
                    x: (*id % 500) as f32 + shift,
                    y: (*id % 331) as f32,
                    z: 0.0,
                    rotation: 1.0,
                },
                health: 150,
                mana: 90,
                xp: xp + 1,
                level: *level,
            })
            .collect();
        let t0 = Instant::now();
        let r = store.save_batch(&rows).await?;
        client.push(t0.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            r.saved.len() == BATCH_ROWS && r.refused.is_empty(),
            "the batch save refused rows"
        );
        let f: f64 = sqlx::query_scalar("SELECT pg_temp.batch_save_floor($1, $2)")
            .bind(BATCH_ROWS as i64)
            .bind(shift + 0.5)
            .fetch_one(&mut *conn)
            .await?;
        floor.push(f);
    }
    Ok((median(&mut client), median(&mut floor)))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
