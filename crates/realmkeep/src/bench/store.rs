//! `realmkeep bench store`: seed N characters (about 50 items, 20 skills and 10 quests each),
//! then, against one private PostgreSQL in one run:
//! - character load: p50/p99 of the full load with 8 concurrent loaders (target p99 <= 2 ms;
//!   the spec's budget is 200 ms), in turns with pgbench replaying the same statement;
//! - trades per second with 8 clients, next to pgbench's simple-update (-N) TPS with 8 clients
//!   (target >= 60% of pgbench); loot pickups and market buys per second, the same way
//!   (`store_economy.rs`); each as the node runs it, under an idempotency key; all four in short
//!   turns interleaved with one another, each check the median of its turns' ratios
//!   (`economy_bench`);
//! - a batch save of 10,000 dirty characters, next to PostgreSQL executing the same statement
//!   server-side on arrays it built itself and committing it (target <= 1.1x that floor);
//! - peak memory of the process.

use super::{peak_rss_mb, process_cpu_seconds, BenchArgs, Report};
use super::{store_economy, store_save};
use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use realmkeep_domain::*;
use realmkeep_launcher::{find_binary, Binary, PostgresOptions, PostgresServer};
use realmkeep_store::trade::TradeSide;
use realmkeep_store::{Store, StoreOptions};
use std::time::{Duration, Instant};

/// Concurrent loaders and trading clients, as the issue sets them.
const CLIENTS: usize = 8;
/// Seeding reports its progress on stderr every this many characters (a million takes minutes).
const SEED_PROGRESS_EVERY: i64 = 50_000;
/// Character pairs each trading client owns (disjoint between clients).
const PAIRS_PER_CLIENT: u32 = 50;
/// pgbench scale factor for its own tables.
const PGBENCH_SCALE: u32 = 10;
/// Turns of the load and economy measurements (`load_turns`, `economy_bench`): each measured
/// thing, and its reference, gets `--seconds / TURNS` of every turn.
const TURNS: usize = 5;
use realmkeep_store::bench_seed::{
    BENCH_ITEMS_PER_CHARACTER as ITEMS_PER_CHARACTER,
    BENCH_QUESTS_PER_CHARACTER as QUESTS_PER_CHARACTER,
    BENCH_SKILLS_PER_CHARACTER as SKILLS_PER_CHARACTER,
};

pub async fn run(args: &BenchArgs) -> Result<Report> {
    let n = args
        .characters
        .max(2 * (CLIENTS as u32) * PAIRS_PER_CLIENT)
        .max(store_save::BATCH_ROWS as u32);
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

    let loads = load_turns(&store, &pg, n, seconds).await?;
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let (p99, pg_p99) = (ms(&loads.ours, 0.99), ms(&loads.pgbench, 0.99));
    report.figure("load_client_cpu_us_per_load", loads.client_cpu_us);
    report.figure("load_p50_ms", ms(&loads.ours, 0.5));
    report.figure("load_p99_ms", p99);
    report.figure("loads_per_second", loads.per_second);
    report.figure("pgbench_same_load_p50_ms", ms(&loads.pgbench, 0.5));
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

    let economy = economy_bench(&store, &pg, seconds).await?;
    report.figure("trade_client_cpu_us_per_trade", economy.trade_client_cpu_us);
    report.figure("trade_wal_bytes_per_trade", economy.trade_wal_bytes);
    report.figure(
        "pgbench_wal_bytes_per_transaction",
        economy.pgbench_wal_bytes,
    );
    report.figure("turns", economy.turns.len() as f64);
    report.figure("turn_seconds", economy.turn.as_secs_f64());
    let pgbench: Vec<f64> = economy.turns.iter().map(|t| t.pgbench).collect();
    report.figure("pgbench_simple_update_tps", mean(&pgbench));
    report.figure("pgbench_simple_update_tps_min", min(&pgbench));
    report.figure("pgbench_simple_update_tps_max", max(&pgbench));
    type Operation = (&'static str, &'static str, fn(&Turn) -> f64);
    let operations: [Operation; 3] = [
        ("trades", "trades/s vs pgbench -N", |t| t.trades),
        ("loot_pickups", "loot pickups/s vs pgbench -N", |t| t.loots),
        ("market_buys", "market buys/s vs pgbench -N", |t| t.buys),
    ];
    for (key, check, of) in operations {
        let rates: Vec<f64> = economy.turns.iter().map(of).collect();
        let ratios: Vec<f64> = economy.turns.iter().map(|t| of(t) / t.pgbench).collect();
        report.figure(&format!("{key}_per_second"), mean(&rates));
        report.figure(&format!("{key}_ratio_min"), min(&ratios));
        report.figure(&format!("{key}_ratio_max"), max(&ratios));
        report.median_ratio_at_least(check, &rates, &pgbench, "tps", 0.6);
    }

    let (client_ms, floor_ms, commit_ms) = store_save::batch_save_bench(&store).await?;
    report.figure("batch_save_10k_ms", client_ms);
    report.figure("batch_save_10k_server_floor_ms", floor_ms);
    report.figure("batch_save_10k_floor_commit_ms", commit_ms);
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

/// How many turns `d` is measured in, and how long each is: whole seconds (pgbench's -T), so a
/// run of fewer seconds than `TURNS` has fewer turns.
fn turns(d: Duration) -> (usize, Duration) {
    let count = (d.as_secs() as usize).clamp(1, TURNS);
    (
        count,
        Duration::from_secs((d.as_secs() / count as u64).max(1)),
    )
}

/// Latencies of the character load through the store and of pgbench replaying its statement.
struct Loads {
    ours: Histogram<u64>,
    pgbench: Histogram<u64>,
    per_second: f64,
    client_cpu_us: f64,
}

/// The load and its reference in turns, like the economy (`economy_bench`), the order
/// alternating: at a million characters the data outgrows PostgreSQL's buffers, and whichever
/// of two long phases ran second found the cache the first had warmed.
async fn load_turns(store: &Store, pg: &PostgresServer, n: u32, d: Duration) -> Result<Loads> {
    // Warm the cache a little first, as a running server would be.
    let warm_until = Instant::now() + d / 4;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    while Instant::now() < warm_until {
        store
            .load_character(CharacterId(rng.random_range(1..=n as i64)))
            .await?;
    }
    let (count, turn) = turns(d);
    let (mut ours, mut pgbench) = (histogram(), histogram());
    let (mut cpu, mut seconds) = (0.0, 0.0);
    for t in 0..count {
        for ours_now in [t % 2 == 0, t % 2 == 1] {
            if ours_now {
                let (cpu0, t0) = (process_cpu_seconds(), Instant::now());
                ours.add(load_bench(store, n, turn, t as u64).await?)?;
                cpu += process_cpu_seconds() - cpu0;
                seconds += t0.elapsed().as_secs_f64();
            } else {
                pgbench.add(pgbench_load_latency(pg, n, turn).await?)?;
            }
        }
    }
    anyhow::ensure!(!ours.is_empty(), "no load finished");
    Ok(Loads {
        per_second: ours.len() as f64 / seconds.max(1e-3),
        client_cpu_us: cpu * 1e6 / ours.len() as f64,
        ours,
        pgbench,
    })
}

/// Latencies (µs) of `CLIENTS` loaders for `d`, turn `turn` (each turn its own characters).
async fn load_bench(store: &Store, n: u32, d: Duration, turn: u64) -> Result<Histogram<u64>> {
    let deadline = Instant::now() + d;
    let mut tasks = Vec::new();
    for t in 0..CLIENTS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let seed = 100 + turn * CLIENTS as u64 + t as u64;
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
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
    Ok(all)
}

/// The same load statement, run by PostgreSQL's own client with as many clients: what the server
/// and this machine can do at best (a reference, not a target).
async fn pgbench_load_latency(pg: &PostgresServer, n: u32, d: Duration) -> Result<Histogram<u64>> {
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
    Ok(h)
}

/// One turn of the economy: each operation's rate and pgbench -N's, measured one after the
/// other within seconds.
struct Turn {
    trades: f64,
    loots: f64,
    buys: f64,
    pgbench: f64,
}

struct Economy {
    turns: Vec<Turn>,
    turn: Duration,
    trade_client_cpu_us: f64,
    /// WAL written per trade, and per pgbench -N transaction (`Store::wal_bytes_written`).
    trade_wal_bytes: f64,
    pgbench_wal_bytes: f64,
}

/// Trades, loot pickups, market buys and the reference, `pgbench -N`, in turns (`turns`; the
/// order rotating from turn to turn) instead of one long phase each: the machines this runs on
/// change speed within minutes (pgbench -N has given 4,400 and 8,100 /s on the same machine the
/// same day), and a ratio of two phases measured a minute apart measured that drift as much as
/// the operation. Each operation's check is the median of its turns' ratios. The WAL's insert
/// position is read around the trades' and pgbench's turns (`Store::wal_bytes_written`): bytes
/// per operation, a figure the machine's speed does not move.
async fn economy_bench(store: &Store, pg: &PostgresServer, d: Duration) -> Result<Economy> {
    let (count, turn) = turns(d);
    pgbench_init(pg).await?;
    let mut trades = Trades::new();
    let first = 1 + 2 * (CLIENTS as i64) * PAIRS_PER_CLIENT as i64;
    let mut looters = store_economy::looters(CLIENTS, first);
    let first = first + CLIENTS as i64 * store_economy::CHARACTERS_PER_CLIENT;
    let mut buyers = store_economy::traders(store, CLIENTS, first).await?;
    let (mut turns, mut trade_cpu, mut traded) = (Vec::new(), 0.0, 0.0);
    // WAL bytes written in the trades' turns and in pgbench's, and pgbench's transactions.
    let (mut wal, mut pgbench_tx) = ((0.0, 0.0), 0.0);
    for n in 0..count {
        let mut t = Turn {
            trades: 0.0,
            loots: 0.0,
            buys: 0.0,
            pgbench: 0.0,
        };
        for phase in 0..4 {
            match (phase + n) % 4 {
                0 => {
                    let (cpu0, wal0) = (process_cpu_seconds(), store.wal_bytes_written().await?);
                    t.trades = trades.run(store, turn).await?;
                    trade_cpu += process_cpu_seconds() - cpu0;
                    traded += t.trades * turn.as_secs_f64();
                    wal.0 += store.wal_bytes_written().await? - wal0;
                }
                1 => t.loots = looters.run(store, turn).await?,
                2 => t.buys = buyers.run(store, turn).await?,
                _ => {
                    let wal0 = store.wal_bytes_written().await?;
                    t.pgbench = pgbench_tps(pg, turn).await?;
                    wal.1 += store.wal_bytes_written().await? - wal0;
                    pgbench_tx += t.pgbench * turn.as_secs_f64();
                }
            }
        }
        eprintln!(
            "bench store: turn {} of {count}: trades {:.0}/s, pickups {:.0}/s, buys {:.0}/s, pgbench -N {:.0}/s",
            n + 1,
            t.trades,
            t.loots,
            t.buys,
            t.pgbench
        );
        turns.push(t);
    }
    Ok(Economy {
        turns,
        turn,
        trade_client_cpu_us: trade_cpu * 1e6 / traded.max(1.0),
        trade_wal_bytes: wal.0 / traded.max(1.0),
        pgbench_wal_bytes: wal.1 / pgbench_tx.max(1.0),
    })
}

/// A trading client's pairs: characters a and a + 1, the item that goes back and forth between
/// them, and whether a holds it now. Kept from one turn to the next.
type Pairs = Vec<(CharacterId, CharacterId, ItemId, bool)>;

struct Trades {
    clients: Vec<(Pairs, u64)>,
}

impl Trades {
    fn new() -> Self {
        let clients = (0..CLIENTS as u32)
            .map(|client| {
                // Pair j of this client starts with a's first bag item.
                let pairs = (0..PAIRS_PER_CLIENT)
                    .map(|j| {
                        let a = 1 + 2 * (client * PAIRS_PER_CLIENT + j) as i64;
                        (CharacterId(a), CharacterId(a + 1), ItemId(a * 64 + 2), true)
                    })
                    .collect();
                (pairs, 0)
            })
            .collect();
        Self { clients }
    }

    /// Every client trades as fast as it can for `d`; returns the trades per second.
    async fn run(&mut self, store: &Store, d: Duration) -> Result<f64> {
        let deadline = Instant::now() + d;
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (mut pairs, mut done) in std::mem::take(&mut self.clients) {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut traded = 0u64;
                while Instant::now() < deadline {
                    let j = (done % pairs.len() as u64) as usize;
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
                    traded += 1;
                }
                Ok::<_, anyhow::Error>((pairs, done, traded))
            }));
        }
        let mut total = 0;
        for t in tasks {
            let (pairs, done, traded) = t.await??;
            self.clients.push((pairs, done));
            total += traded;
        }
        Ok(total as f64 / started.elapsed().as_secs_f64())
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// Creates pgbench's own database and tables.
async fn pgbench_init(pg: &PostgresServer) -> Result<()> {
    crate::private::create_database(pg, "pgbench").await?;
    let port = pg.port().to_string();
    let init = tokio::process::Command::new(find_binary(Binary::Pgbench)?)
        .args(pgbench_connection(&port))
        .args(["-i", "-q", "-s", &PGBENCH_SCALE.to_string(), "pgbench"])
        .output()
        .await?;
    if !init.status.success() {
        bail!(
            "pgbench -i failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
    }
    Ok(())
}

fn pgbench_connection(port: &str) -> [&str; 6] {
    [
        "-h",
        "127.0.0.1",
        "-p",
        port,
        "-U",
        realmkeep_launcher::postgres::SUPERUSER,
    ]
}

/// pgbench -N's transactions per second with as many clients, for `d` (whole seconds).
async fn pgbench_tps(pg: &PostgresServer, d: Duration) -> Result<f64> {
    let port = pg.port().to_string();
    let out = tokio::process::Command::new(find_binary(Binary::Pgbench)?)
        .args(pgbench_connection(&port))
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
