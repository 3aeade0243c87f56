//! `realmkeep bench gateway`: a node process and bots processes on this machine, over real
//! sockets on loopback.
//!
//! The bench scene: a private PostgreSQL and Redis; the bundled content with `SCENE_ZONES`
//! zones (Greenvale and Ashen Reach, then copies of them, so that the largest crowd fits under
//! the zone's player bound); the largest crowd's accounts and characters seeded in bulk with one
//! password hash (`bench_1`, `bench_2`... with full bags, spread over the zones). Each phase
//! starts a fresh node (`realmkeep serve`) so that memory and CPU belong to that phase alone,
//! and stops it (SIGTERM: everyone saved) at its end.
//!
//! - **Active crowds** (`--crowds`, the 1,000, 2,000 and 5,000): bots log in, join and
//!   play at a human rate (the simulator's mind every second: moving, fighting, looting, chat now
//!   and then, trades, market, mail, zone changes). Once all are connected, one window of
//!   `--seconds`: connections held, command RTT p50/p99 (critical actions alone too: answered
//!   after their commit), zone tick p99 (the worst zone, over the window), the node's CPU per
//!   1,000 players per second, resident memory per connection (the node's growth over its start,
//!   players in the world included), WebSocket bytes per player per second down and up.
//! - **Reference**: the echo (`realmkeep_gateway::echo`, this binary, its own process) driven by
//!   as many echo bots, frames of the crowd's mean command size at the crowd's command rate; the
//!   node's CPU per WebSocket message over the echo's.
//! - **Idle** (`--idle`, the 15,000): authenticated players joined and silent, over
//!   several bots processes (a process may open 20,000 files); memory per connection.

use super::gateway_figures::{record_active, record_idle, Measured, SentBytes};
use super::gateway_procs::{
    cpu_seconds, free_port, load_average, machine_busy_seconds, machine_steal_seconds,
    memory_available_mib, rss_kib, run_queue_waited_s, run_queue_waits, tree_cpu_seconds, Proc,
};
use super::{BenchArgs, Report};
use anyhow::{bail, Context, Result};
use realmkeep_cache::RateAction;
use realmkeep_domain::{Password, ZoneId};
use realmkeep_launcher::{PostgresOptions, RedisOptions};
use realmkeep_protocol::client::Http;
use realmkeep_store::{Store, StoreOptions};
use realmkeep_zone::limits::PLAYERS_MAX;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Zones of the bench scene.
const SCENE_ZONES: i32 = 5;
/// A crowd may fill the scene's zones to this share of their bound at the most (zone changes
/// move players between zones, so one may hold more than its share).
const SCENE_FILL_PERCENT: usize = 90;
const DATABASE: &str = "bench_gateway";
const PREFIX: &str = "bench_";
const PASSWORD: &str = "bench-password-0123";
const SESSION_SECRET: &str = "bench-gateway-session-secret-0123456789";
/// Bots one bots process runs (sockets, and a margin for HTTP, under 20,000 files).
const BOTS_PER_PROCESS: usize = 5_000;
/// Every bot connected within this, or the phase goes on with those that are.
const CONNECT_WAIT: Duration = Duration::from_secs(900);
/// After the last bot connected and before the window: the login wave's tail passes.
pub(super) const SETTLE: Duration = Duration::from_secs(5);
/// How often connections are counted while the bots log in.
const POLL: Duration = Duration::from_secs(2);
/// The machine is shared: connecting stops when less memory than this is left to it, and the
/// phase is measured with the connections it holds then (its check fails).
const MEMORY_AVAILABLE_MIN_MIB: f64 = 3_072.0;
/// How long a node may take to be ready.
const NODE_READY_WAIT: Duration = Duration::from_secs(120);
/// The rate limit every action gets: the bots all come from 127.0.0.1.
const RATE_LIMIT_UNBOUNDED: &str = "1000000000/1";
/// Connections per address the node allows on top of the bots' sockets (their HTTP calls).
const CONNECTIONS_MARGIN: usize = 1_000;
/// The decisions' seed.
const SEED: u64 = 2_026;

const _: () = assert!(
    BOTS_PER_PROCESS + CONNECTIONS_MARGIN < 20_000,
    "a process here opens 20,000 files at the most"
);
const _: () = assert!(SCENE_FILL_PERCENT <= 100);

/// Where the phases run.
pub(super) struct Scene {
    pub(super) dir: PathBuf,
    content_dir: PathBuf,
    database_url: String,
    redis_url: String,
    spawn_ms: u64,
    /// How the active crowds' bots play.
    pace: crate::bots::PaceArg,
    /// The private PostgreSQL's and Redis's processes, for their CPU over a window.
    postgres_pid: Option<u32>,
    redis_pid: Option<u32>,
}

pub async fn run(args: &BenchArgs) -> Result<Report> {
    let crowds: Vec<usize> = args.crowds.iter().map(|&n| n as usize).collect();
    let idle = args.idle as usize;
    let largest = crowds.iter().copied().chain([idle]).max().unwrap_or(0);
    let fits = SCENE_ZONES as usize * PLAYERS_MAX * SCENE_FILL_PERCENT / 100;
    if crowds.is_empty() || crowds.contains(&0) || largest > fits {
        bail!("--crowds: 1 to {fits} players each (and --idle at most as many)");
    }
    let seconds = args.seconds.max(1);
    let dir = std::env::temp_dir().join(format!("realmkeep-bench-gateway-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    eprintln!("bench gateway: logs in {}", dir.display());
    let pg = crate::private::postgres(PostgresOptions::default()).await?;
    let redis = crate::private::redis(RedisOptions::default()).await?;
    crate::private::create_database(&pg, DATABASE).await?;
    let scene = Scene {
        content_dir: dir.join("content"),
        database_url: pg.url(DATABASE),
        redis_url: redis.url(),
        dir: dir.clone(),
        spawn_ms: args.spawn_ms,
        pace: args.pace,
        postgres_pid: pg.pid(),
        redis_pid: redis.pid(),
    };
    let t = Instant::now();
    seed_scene(&scene, largest).await?;
    eprintln!(
        "bench gateway: the scene ({SCENE_ZONES} zones, {largest} characters) seeded in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut report = Report::new("gateway");
    report.param("crowds", crowds.clone());
    report.param("idle", idle);
    report.param("seconds_per_window", seconds);
    report.param("zones", SCENE_ZONES);
    report.param("bots_per_process", BOTS_PER_PROCESS);
    report.param("think_ms", 1_000);
    let pace = pace_name(args.pace);
    report.param("pace", pace.as_str());
    report.param(
        "scene",
        format!("bundled content, zones 1-2 and copies of them as 3-5; seeded characters with full bags spread over the zones; bots play with the simulator's {pace} mind, a decision a second; one fresh node process per phase"),
    );
    for &n in &crowds {
        eprintln!("bench gateway: {n} active players");
        let m = phase(&scene, n, seconds, Mode::Active).await?;
        eprintln!("bench gateway: the echo under {n} bots");
        let echo = super::gateway_echo::phase(&scene, &m, seconds).await?;
        record_active(&mut report, &m, &echo);
    }
    if idle > 0 {
        eprintln!("bench gateway: {idle} idle players");
        let m = phase(&scene, idle, seconds, Mode::Idle).await?;
        record_idle(&mut report, &m);
    }
    drop(pg);
    drop(redis);
    super::gateway_procs::remove_logs_unless_lost(&dir, &report);
    Ok(report)
}

/// `--pace`'s own word for `p`.
fn pace_name(p: crate::bots::PaceArg) -> String {
    use clap::ValueEnum;
    p.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// The bench scene's content (written where the node reads it) and characters.
async fn seed_scene(scene: &Scene, characters: usize) -> Result<()> {
    let mut content = realmkeep_store::seed::bundled_content()?;
    let originals = content.zones.clone();
    if originals.is_empty() {
        bail!("the bundled content has no zone");
    }
    for id in 1..=SCENE_ZONES {
        if content.zones.iter().any(|z| z.id == ZoneId(id)) {
            continue;
        }
        let mut z = originals[(id as usize - 1) % originals.len()].clone();
        z.name = format!("{} (bench copy {id})", z.name);
        z.id = ZoneId(id);
        content.zones.push(z);
    }
    write_content(&scene.content_dir, &content)?;
    let back = realmkeep_store::seed::read_content_dir(&scene.content_dir)?;
    if back != content {
        bail!("the bench content did not read back as written");
    }
    let store = Store::connect(&scene.database_url, &StoreOptions::default()).await?;
    store.migrate().await?;
    store.ensure_log_partitions(1, 2).await?;
    store.seed_content(&content).await?;
    let hash = store.hash_password(&Password::parse(PASSWORD)?).await?;
    store
        .bench_seed_in_zones(characters as i64, &hash, SCENE_ZONES, &mut |_| {})
        .await
        .context("seeding the bench characters")?;
    store.settle().await?;
    store.close().await;
    Ok(())
}

fn write_content(dir: &Path, c: &realmkeep_domain::content::Content) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let files = [
        ("items.json", serde_json::to_string(&c.items)?),
        ("skills.json", serde_json::to_string(&c.skills)?),
        ("quests.json", serde_json::to_string(&c.quests)?),
        ("monsters.json", serde_json::to_string(&c.monsters)?),
        ("zones.json", serde_json::to_string(&c.zones)?),
    ];
    for (name, json) in files {
        std::fs::write(dir.join(name), json)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Active,
    Idle,
}

fn zones_arg() -> String {
    (1..=SCENE_ZONES)
        .map(|z| z.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A fresh node of the scene, ready; its HTTP address.
async fn start_node(scene: &Scene, players: usize, tag: &str) -> Result<(Proc, String)> {
    let port = free_port()?;
    let mut args: Vec<String> = [
        "serve",
        "--database-url",
        &scene.database_url,
        "--redis-url",
        &scene.redis_url,
        "--zones",
        &zones_arg(),
        "--node",
        "bench",
        "--content",
        &scene.content_dir.to_string_lossy(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--connections-per-ip",
        &(players + CONNECTIONS_MARGIN).to_string(),
        "--stats-on-stdin",
        // Stopped by SIGTERM at the phase's end: nothing to drain for.
        "--drain-seconds",
        "0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for a in RateAction::ALL {
        args.push("--rate-limit".into());
        args.push(format!("{}={RATE_LIMIT_UNBOUNDED}", a.as_str()));
    }
    let log = scene.dir.join(format!("node-{tag}.log"));
    let node = Proc::start(
        "the node",
        &args,
        &[("REALMKEEP_SESSION_SECRET", SESSION_SECRET)],
        &log,
    )?;
    let url = format!("http://127.0.0.1:{port}");
    let http = Http::new(&url);
    let started = Instant::now();
    while !matches!(http.readyz().await, Ok((200, _))) {
        if started.elapsed() > NODE_READY_WAIT {
            bail!("the node was not ready in time (log: {})", log.display());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok((node, url))
}

/// Bots processes for `players` bots (`BOTS_PER_PROCESS` each at the most), started
/// `spawn_ms` apart in all (each process spaces its own by as many times that as there are
/// processes); their logs in `dir`, named after `tag`.
pub(super) fn start_bots(
    dir: &Path,
    tag: &str,
    spawn_ms: u64,
    url: &str,
    players: usize,
    extra: &[String],
) -> Result<Vec<Proc>> {
    let mut procs = Vec::new();
    let spacing_ms = spawn_ms * players.div_ceil(BOTS_PER_PROCESS) as u64;
    let mut first = 1;
    while first <= players {
        let n = BOTS_PER_PROCESS.min(players + 1 - first);
        let mut args: Vec<String> = [
            "bots",
            "--url",
            url,
            "--players",
            &n.to_string(),
            "--first",
            &first.to_string(),
            "--prefix",
            PREFIX,
            "--password",
            PASSWORD,
            "--registered",
            "--seed",
            &SEED.to_string(),
            "--seconds",
            "86400",
            "--zones",
            &zones_arg(),
            "--spawn-ms",
            &spacing_ms.to_string(),
            "--stats-on-stdin",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().cloned());
        let log = dir.join(format!("bots-{tag}-{first}.log"));
        procs.push(Proc::start(
            &format!("bots from {first}"),
            &args,
            &[],
            &log,
        )?);
        first += n;
    }
    Ok(procs)
}

/// Every bots process's window, summed where sums make sense; percentiles are the worst
/// process's (each holds its own histogram).
pub(super) async fn bots_window(bots: &mut [Proc]) -> Result<Value> {
    let mut sum = serde_json::Map::new();
    for b in bots.iter_mut() {
        let w = b.stats(None).await?;
        let Some(o) = w.as_object() else {
            bail!("{} printed no window", b.name);
        };
        for (k, v) in o {
            let v = v.as_f64().unwrap_or(0.0);
            let e = sum.entry(k.clone()).or_insert(Value::from(0.0));
            let old = e.as_f64().unwrap_or(0.0);
            *e = Value::from(if k.contains("_ms") || k == "seconds" {
                old.max(v)
            } else {
                old + v
            });
        }
    }
    Ok(Value::Object(sum))
}

/// Waits until the bots hold `players` connections (or the wait runs out, or the machine's
/// memory runs low); how many they hold.
pub(super) async fn connect_all(bots: &mut [Proc], players: usize) -> Result<u64> {
    let started = Instant::now();
    let mut last = 0;
    loop {
        let connected = bots_window(bots).await?["connected"]
            .as_f64()
            .unwrap_or(0.0) as u64;
        if connected as usize >= players || started.elapsed() > CONNECT_WAIT {
            return Ok(connected);
        }
        let available = memory_available_mib();
        if available < MEMORY_AVAILABLE_MIN_MIB {
            eprintln!(
                "bench gateway: {available:.0} MiB of memory left on the machine: stopping at {connected} connections"
            );
            return Ok(connected);
        }
        if connected / 500 != last / 500 {
            eprintln!(
                "bench gateway: {connected} of {players} connected after {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
        last = connected;
        tokio::time::sleep(POLL).await;
    }
}

pub(super) fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(0.0)
}

/// One phase against a fresh node: bots connect, a window of `seconds` is measured.
async fn phase(scene: &Scene, players: usize, seconds: u64, mode: Mode) -> Result<Measured> {
    let tag = format!("{mode:?}-{players}").to_lowercase();
    let (mut node, url) = start_node(scene, players, &tag).await?;
    // The node's own footprint once it has ticked a while with nobody in it.
    tokio::time::sleep(SETTLE).await;
    let rss_start_kib = rss_kib(node.pid());
    let extra = match mode {
        Mode::Active => vec!["--pace".to_string(), pace_name(scene.pace)],
        Mode::Idle => vec!["--idle".to_string()],
    };
    let mut bots = start_bots(&scene.dir, &tag, scene.spawn_ms, &url, players, &extra)?;
    let t = Instant::now();
    let connected = connect_all(&mut bots, players).await?;
    // Short of memory (or time): measured at once, before more bots connect.
    let (settle, seconds) = if connected as usize >= players {
        (SETTLE, seconds)
    } else {
        (Duration::ZERO, 1)
    };
    eprintln!(
        "bench gateway: {connected} of {players} connected in {:.0} s; measuring {seconds} s",
        t.elapsed().as_secs_f64()
    );
    tokio::time::sleep(settle).await;
    // Open the windows.
    let node_stats0 = node.stats(Some("stats")).await?;
    let meters = Http::new(&url);
    let (sent0, messages0, flushes0) = SentBytes::scrape(&meters).await?;
    bots_window(&mut bots).await?;
    let bot_pids: Vec<u32> = bots.iter().map(|b| b.pid()).collect();
    let bots_cpu = |pids: &[u32]| pids.iter().map(|p| cpu_seconds(*p)).sum::<f64>();
    let load = load_average();
    let bots_waits = |pids: &[u32]| pids.iter().map(|p| run_queue_waits(*p)).collect::<Vec<_>>();
    let (node_waits0, bots_waits0) = (run_queue_waits(node.pid()), bots_waits(&bot_pids));
    let servers_cpu = || {
        let of = |pid: Option<u32>| pid.map(tree_cpu_seconds);
        (of(scene.postgres_pid), of(scene.redis_pid))
    };
    let (postgres_cpu0, redis_cpu0) = servers_cpu();
    let (node_cpu0, bots_cpu0, busy0, steal0, t0) = (
        cpu_seconds(node.pid()),
        bots_cpu(&bot_pids),
        machine_busy_seconds(),
        machine_steal_seconds(),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (postgres_cpu1, redis_cpu1) = servers_cpu();
    let node_stats = node.stats(Some("stats")).await?;
    let w = bots_window(&mut bots).await?;
    let window_s = t0.elapsed().as_secs_f64();
    let (sent, messages, flushes) = SentBytes::scrape(&meters).await?;
    let (sent_by_kind, messages_by_kind) = (sent.since(&sent0), messages.since(&messages0));
    let m = Measured {
        players,
        held: f(&w, "connected") as u64,
        node_connections: f(&node_stats, "connections") as u64,
        seconds: window_s,
        node_cpu_s: cpu_seconds(node.pid()) - node_cpu0,
        bots_cpu_s: bots_cpu(&bot_pids) - bots_cpu0,
        postgres_cpu_s: postgres_cpu1.zip(postgres_cpu0).map(|(b, a)| b - a),
        redis_cpu_s: redis_cpu1.zip(redis_cpu0).map(|(b, a)| b - a),
        node_run_queue_s: run_queue_waited_s(&node_waits0, &run_queue_waits(node.pid())),
        bots_run_queue_s: bots_waits0
            .iter()
            .zip(bots_waits(&bot_pids))
            .map(|(before, after)| run_queue_waited_s(before, &after))
            .sum(),
        machine_busy_s: machine_busy_seconds() - busy0,
        machine_steal_s: machine_steal_seconds() - steal0,
        load_average: load,
        rss_start_kib,
        rss_kib: rss_kib(node.pid()),
        tick_p50_ms: worst_zone(&node_stats, "tick_p50_us"),
        tick_p99_ms: worst_zone(&node_stats, "tick_p99_us"),
        tick_max_ms: worst_zone(&node_stats, "tick_max_us"),
        tick_cpu_p99_ms: worst_zone(&node_stats, "tick_cpu_p99_us"),
        command_wait_p99_ms: worst_zone(&node_stats, "command_wait_p99_us"),
        command_wait_max_ms: worst_zone(&node_stats, "command_wait_max_us"),
        rtt_p50_ms: f(&w, "rtt_p50_ms"),
        rtt_p99_ms: f(&w, "rtt_p99_ms"),
        critical_rtt_p50_ms: f(&w, "critical_rtt_p50_ms"),
        critical_rtt_p99_ms: f(&w, "critical_rtt_p99_ms"),
        routine_rtt_p99_ms: f(&w, "routine_rtt_p99_ms"),
        by_kind: w
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.starts_with("kind_"))
            .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(0.0)))
            .collect(),
        answered: f(&w, "answered") as u64,
        critical_answered: f(&w, "critical_answered") as u64,
        try_again: f(&w, "try_again") as u64,
        told_busy: (all_zones(&node_stats, "told_busy") - all_zones(&node_stats0, "told_busy"))
            .max(0.0) as u64,
        views_computed: (all_zones(&node_stats, "views_computed")
            - all_zones(&node_stats0, "views_computed"))
        .max(0.0) as u64,
        views_crowded: (all_zones(&node_stats, "views_crowded")
            - all_zones(&node_stats0, "views_crowded"))
        .max(0.0) as u64,
        ticks: all_zones(&node_stats, "ticks").max(0.0) as u64,
        ticks_stretched: (all_zones(&node_stats, "ticks_stretched")
            - all_zones(&node_stats0, "ticks_stretched"))
        .max(0.0) as u64,
        ticks_stretched_max: (all_zones(&node_stats, "ticks_stretched_max")
            - all_zones(&node_stats0, "ticks_stretched_max"))
        .max(0.0) as u64,
        tick_wait_max_us: node_stats["zones"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|z| z["tick_wait_us"].as_f64().unwrap_or(0.0))
            .fold(0.0, f64::max),
        runtime_lag_ms: f(&node_stats, "runtime_lag_us") / 1_000.0,
        runtime_lag_worst_ms: f(&node_stats, "runtime_lag_worst_us") / 1_000.0,
        node_answer_p50_ms: f(&node_stats, "answer_p50_us") / 1_000.0,
        node_answer_p99_ms: f(&node_stats, "answer_p99_us") / 1_000.0,
        node_reply_wait_p99_ms: f(&node_stats, "reply_wait_p99_us") / 1_000.0,
        node_reply_wait_max_ms: f(&node_stats, "reply_wait_max_us") / 1_000.0,
        redis_timeouts: f(&node_stats, "redis_timeouts") - f(&node_stats0, "redis_timeouts"),
        redis_degraded_answers: f(&node_stats, "redis_degraded_answers")
            - f(&node_stats0, "redis_degraded_answers"),
        frames_up: f(&w, "frames_up") as u64,
        bytes_up: f(&w, "bytes_up") as u64,
        frames_down: f(&w, "frames_down") as u64,
        bytes_down: f(&w, "bytes_down") as u64,
        sent_by_kind,
        messages_by_kind,
        flushes: (flushes - flushes0).max(0.0) as u64,
    };
    for b in bots {
        b.finish().await?;
    }
    node.terminate().await?;
    Ok(m)
}

/// The sum over the node's zones.
fn all_zones(stats: &Value, key: &str) -> f64 {
    stats["zones"]
        .as_array()
        .map(|zs| zs.iter().map(|z| f(z, key)).sum())
        .unwrap_or(0.0)
}

/// The slowest zone's figure, in milliseconds.
fn worst_zone(stats: &Value, key: &str) -> f64 {
    stats["zones"]
        .as_array()
        .map(|zs| zs.iter().map(|z| f(z, key)).fold(0.0, f64::max))
        .unwrap_or(0.0)
        / 1_000.0
}
