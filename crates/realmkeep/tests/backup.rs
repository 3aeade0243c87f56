//! The restore drill, through the operator's commands (`realmkeep backup ...`, `realmkeep
//! restore`) against a private PostgreSQL that archives its WAL with pgBackRest:
//!
//! - a base backup; trades and market buys from several connections; a named restore point;
//!   more trades; a target time; more trades; then restores into new data directories to the
//!   name and to the time hold exactly the actions committed before each (by their idempotency
//!   keys and by the trade rows of game_logs), every item in exactly one place, the same gold;
//!   the daily dump loaded into a fresh database holds exactly what was committed before it;
//! - after a SIGKILL of PostgreSQL, `restore --latest` with the crashed directory's unarchived
//!   WAL finds every acknowledged action.

mod support;

use support::backups::*;

/// Trades per trader in each phase of the drill (a market listing and buy every other one).
const ROUNDS: usize = 4;
/// The resolution of a base backup's stop time in pgBackRest's records.
const BACKUP_STOP_RESOLUTION: std::time::Duration = std::time::Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restores_to_a_name_a_time_and_a_dump_hold_exactly_what_was_committed_before() {
    let src = archived_server().await;
    let repo = path(&src.repo).to_owned();
    let out = realmkeep(&["backup", "run", "--full", "--repo", &repo]);
    assert!(out.contains("full backup"), "{out}");
    // pgBackRest keeps a backup's stop time in whole seconds and restores to a time only from a
    // backup that stopped in an earlier second.
    tokio::time::sleep(BACKUP_STOP_RESOLUTION).await;
    let pairs = pairs(&src.store).await;

    let (pairs, a) = phase(&src.url, pairs, "a", ROUNDS).await;
    assert_eq!(
        a.acknowledged, a.attempted,
        "every action of phase a succeeds"
    );
    let at_name = state(&src.store).await;
    assert_eq!(at_name.keys, a.acknowledged);
    let out = realmkeep(&[
        "backup",
        "restore-point",
        "before-b",
        "--database-url",
        &src.url,
    ]);
    assert!(out.contains("archived"), "{out}");

    let (pairs, b) = phase(&src.url, pairs, "b", ROUNDS).await;
    assert_eq!(b.acknowledged, b.attempted);
    let at_time = state(&src.store).await;
    let time = src.store.server_time().await.unwrap().to_rfc3339();

    let (_pairs, c) = phase(&src.url, pairs, "c", ROUNDS).await;
    assert_eq!(c.acknowledged, c.attempted);
    let out = realmkeep(&[
        "backup",
        "dump",
        "--repo",
        &repo,
        "--database-url",
        &src.url,
    ]);
    let at_dump = state(&src.store).await;
    let dump = out
        .split_whitespace()
        .find(|w| w.ends_with(".dump"))
        .unwrap_or_else(|| panic!("no dump named in: {out}"))
        .to_owned();
    // The last trades' segment reaches the archive, so recovery sees a commit after the time.
    src.store
        .switch_wal_and_wait(std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert!(at_name.keys.len() < at_time.keys.len() && at_time.keys.len() < at_dump.keys.len());

    let by_name = src.dir.join("by-name");
    let r = restore(&[
        "--repo",
        &repo,
        "--to-name",
        "before-b",
        "--into",
        path(&by_name),
    ]);
    assert!(
        r.output.contains("every item in exactly one place"),
        "{}",
        r.output
    );
    assert_eq!(state_at(&r.url).await, at_name, "restored to the name");
    drop(r);

    let by_time = src.dir.join("by-time");
    let r = restore(&[
        "--repo",
        &repo,
        "--to-time",
        &time,
        "--into",
        path(&by_time),
    ]);
    assert_eq!(state_at(&r.url).await, at_time, "restored to the time");
    drop(r);

    let admin = realmkeep_store::Store::connect(&src.pg.url("postgres"), &Default::default())
        .await
        .unwrap();
    admin.create_database_if_missing("from_dump").await.unwrap();
    admin.close().await;
    let fresh = src.pg.url("from_dump");
    let out = realmkeep(&["restore", "--dump", &dump, "--database-url", &fresh]);
    assert!(out.contains("every item in exactly one place"), "{out}");
    assert_eq!(state_at(&fresh).await, at_dump, "the dump loaded");

    let out = realmkeep(&["backup", "verify", "--repo", &repo]);
    assert!(
        out.contains("archiving works") && out.contains("reads back"),
        "{out}"
    );
    let out = realmkeep(&["backup", "list", "--repo", &repo]);
    assert!(out.contains("(full)") && out.contains(".dump"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_sigkill_the_latest_restore_finds_every_acknowledged_action() {
    let mut src = archived_server().await;
    let repo = path(&src.repo).to_owned();
    realmkeep(&["backup", "run", "--repo", &repo]);
    let pairs = pairs(&src.store).await;
    let before = state(&src.store).await;
    let (_pairs, done) = phase(&src.url, pairs, "k", ROUNDS).await;
    assert_eq!(done.acknowledged, done.attempted);
    // No WAL switch: the last acknowledged commits are only in the crashed server's pg_wal.
    src.store.close().await;
    src.pg.kill();
    let crashed = src.pg.data_dir().join("cluster");

    // The archive alone ends before them (no segment was finished since the backup): the
    // crashed directory's WAL is what brings them back.
    let r = restore(&[
        "--repo",
        &repo,
        "--latest",
        "--into",
        path(&src.dir.join("archive-only")),
    ]);
    let archive_only = state_at(&r.url).await;
    drop(r);
    assert!(archive_only.keys.is_disjoint(&done.acknowledged));
    let into = src.dir.join("latest");
    let r = restore(&[
        "--repo",
        &repo,
        "--latest",
        "--wal-from",
        path(&crashed),
        "--into",
        path(&into),
    ]);
    let after = state_at(&r.url).await;
    let missing: Vec<_> = done.acknowledged.difference(&after.keys).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not restored: {missing:?}"
    );
    assert!(after.keys.is_subset(&(&done.attempted | &before.keys)));
    assert_eq!(after.misplaced, 0);
    // Trades move gold between purses; each buy burns the house's fee.
    let fees =
        (after.market_buys - before.market_buys) * realmkeep_domain::rules::market_fee(PRICE);
    assert_eq!(after.totals.gold, before.totals.gold - fees);
    assert_eq!(after.totals.items, before.totals.items);
}

/// Polls `f` until it answers true, at most `WAIT`.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !f().await {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_started_from_its_rdb_copy_gets_back_from_the_node_what_it_lost() {
    use realmkeep_cache::{
        Cache, CacheOptions, ChatChannel, ChatLine, LeaderboardKind, NodeId, SessionSecret,
    };
    use realmkeep_domain::{CharacterName, ZoneId};
    const ZONE: ZoneId = ZoneId(1);
    const BOARD_ROWS: usize = 10;
    let src = archived_server().await;
    let mut redis = realmkeep_testkit::redis();
    let early = realmkeep_testkit::character(&src.store, "Snapped").await;
    let late = realmkeep_testkit::character(&src.store, "Lately").await;
    // As `Cluster::connect` makes it: the boards' source is PostgreSQL.
    let opts = CacheOptions::new(
        NodeId::parse("rdb").unwrap(),
        SessionSecret::new(b"rdb-test-secret-rdb-test-secret-0123").unwrap(),
    )
    .with_leaderboard_source(std::sync::Arc::new(realmkeep_server::StoreLeaderboards(
        src.store.clone(),
    )));
    let cache = Cache::connect(&redis.url(), opts).await.unwrap();
    assert!(cache.wait_until_up(WAIT).await);
    let content = std::sync::Arc::new(realmkeep_store::seed::bundled_content().unwrap());
    let config = realmkeep_server::ClusterConfig::new("rdb", vec![ZONE])
        .with_lease(std::time::Duration::from_secs(3))
        .with_save_interval(std::time::Duration::from_secs(1))
        .with_shutdown_wait(std::time::Duration::from_secs(15));
    let cluster =
        realmkeep_server::Cluster::start(config, content, src.store.clone(), cache.clone())
            .await
            .unwrap();
    let online = |c| {
        let cache = cache.clone();
        async move { cache.presence().lookup(c).await.value.is_some() }
    };
    let _early = cluster.join(ZONE, early).await.unwrap();
    eventually("the early player in Redis", || online(early)).await;
    // Chat history lives in Redis alone: finding it again shows the RDB copy was loaded.
    let line = ChatLine::new(
        early,
        CharacterName::parse("Snapped").unwrap(),
        "before the copy",
    )
    .unwrap();
    cache
        .chat()
        .send(ChatChannel::Zone(ZONE), &line)
        .await
        .unwrap();

    let out = realmkeep(&[
        "backup",
        "redis",
        "--repo",
        path(&src.repo),
        "--redis-url",
        &redis.url(),
    ]);
    assert!(out.contains("copied"), "{out}");
    assert!(
        !out.contains(redis.password()),
        "the password is never printed"
    );
    let copy = std::fs::read_dir(src.repo.join("redis"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "rdb"))
        .expect("an RDB copy in the repository");

    // What Redis will lose: a join after the copy, and a level PostgreSQL has and no board saw.
    let _late = cluster.join(ZONE, late).await.unwrap();
    eventually("the late player in Redis", || online(late)).await;
    sqlx::query("UPDATE characters SET level = 9 WHERE id = $1")
        .bind(late.0)
        .execute(src.store.pool())
        .await
        .unwrap();

    redis.kill();
    std::fs::copy(&copy, redis.dir().join("realmkeep.rdb")).unwrap();
    redis.start_again().expect("Redis starts from the copy");
    eventually("the copy's chat history back", || {
        let (cache, text) = (cache.clone(), line.text.clone());
        async move {
            let h = cache.chat().history(ChatChannel::Zone(ZONE), 1).await;
            h.is_ok_and(|h| h.value.iter().any(|l| l.text == text))
        }
    })
    .await;
    for c in [early, late] {
        eventually("presence registered again", || online(c)).await;
    }
    let truth = src
        .store
        .leaderboard_scores(
            realmkeep_store::progress::LeaderboardKind::Level,
            BOARD_ROWS as i64,
        )
        .await
        .unwrap();
    eventually("the level board rebuilt from PostgreSQL", || {
        let (cache, truth) = (cache.clone(), truth.clone());
        async move {
            let board = cache
                .leaderboards()
                .top(LeaderboardKind::Level, BOARD_ROWS)
                .await
                .unwrap_or_default();
            board
                .iter()
                .map(|e| (e.character, e.score))
                .collect::<Vec<_>>()
                == truth
        }
    })
    .await;
    assert!(cluster.shutdown().await.iter().all(|r| r.complete));
}

/// The `ExecStart` arguments of every shipped backup and log-archive service unit, by unit
/// name, with `${VAR}` taken from `env` (the node's own unit, `realmkeep-node.service`, runs
/// `serve` and is tested by `operate.rs`'s SIGTERM drill).
fn unit_commands(env: &[(&str, String)]) -> Vec<(String, Vec<String>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/systemd");
    let mut units = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".timer") {
            assert!(
                dir.join(format!("{stem}.service")).exists(),
                "{name} has no service"
            );
        }
        if !name.ends_with(".service") || name == "realmkeep-node.service" {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let exec = text
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart=/usr/local/bin/realmkeep "))
            .unwrap_or_else(|| panic!("{name} runs no realmkeep command"));
        let mut exec = exec.to_owned();
        for (k, v) in env {
            exec = exec.replace(&format!("${{{k}}}"), v);
        }
        assert!(
            text.contains("EnvironmentFile=/etc/realmkeep/backup.env"),
            "{name}"
        );
        units.push((name, exec.split_whitespace().map(str::to_owned).collect()));
    }
    units.sort();
    units
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_units_and_maintain_run_the_schedule_and_enforce_retention() {
    let src = archived_server().await;
    let redis = realmkeep_testkit::redis();
    let logs = src.dir.join("game-logs");
    let env = [
        ("REALMKEEP_BACKUP_REPO", path(&src.repo).to_owned()),
        ("DATABASE_URL", src.url.clone()),
        ("REDIS_URL", redis.url()),
        ("REALMKEEP_LOG_ARCHIVE", path(&logs).to_owned()),
    ];
    let units = unit_commands(&env);
    assert_eq!(units.len(), 6, "{units:?}");
    // In the order the timers first fire on a new machine: the full backup before the others.
    let order = |n: &str| !n.contains("full");
    let mut units = units;
    units.sort_by_key(|(n, _)| order(n));
    for (name, args) in &units {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_realmkeep"))
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: realmkeep {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let out = realmkeep(&[
        "maintain",
        "--repo",
        path(&src.repo),
        "--database-url",
        &src.url,
        "--redis-url",
        &redis.url(),
        "--dump-every",
        "1s",
        "--runs",
        "6",
    ]);
    // First turn: full backup (standing in for the incremental one), dump, RDB copy, verify;
    // then a dump each second.
    for job in [
        "full base backup done",
        "redis snapshot done",
        "verify done",
    ] {
        assert_eq!(out.matches(job).count(), 1, "{job}:\n{out}");
    }
    assert_eq!(out.matches("dump done").count(), 3, "{out}");
    assert!(out.contains("6 job run(s), 0 failed"), "{out}");
    let dumps: Vec<_> = std::fs::read_dir(src.repo.join("dumps"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(dumps.len(), 1, "a day's dumps keep the newest: {dumps:?}");
    let list = realmkeep(&["backup", "list", "--repo", path(&src.repo)]);
    assert_eq!(list.matches("(full)").count(), 2, "{list}");
    assert_eq!(list.matches("(incr)").count(), 1, "{list}");
}
