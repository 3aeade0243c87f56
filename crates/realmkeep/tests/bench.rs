//! The benchmarks run to completion with tiny parameters and print a valid report with the
//! expected checks, so they cannot rot. No timing is asserted: figures belong to `realmkeep bench`
//! on a quiet machine, not to tests.

use serde_json::Value;
use std::process::Command;

fn bench(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_realmkeep"))
        .arg("bench")
        .args(args)
        .output()
        .expect("realmkeep runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench {args:?} failed:\n{stderr}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bench {args:?} printed no JSON report ({e}):\n{stderr}"))
}

fn check_names(report: &Value) -> Vec<String> {
    let checks = report["checks"].as_array().expect("a report has checks");
    for c in checks {
        assert!(c["value"].is_number() && c["pass"].is_boolean(), "{c}");
        assert!(c["target"].is_string(), "{c}");
    }
    checks
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn bench_store_reports_its_checks() {
    let r = bench(&["store", "--characters", "2000", "--seconds", "1"]);
    assert_eq!(r["bench"], "store");
    assert!(r["pass"].is_boolean());
    let names = check_names(&r);
    for expected in [
        "character load p99",
        "character load p99 (spec budget)",
        "trades/s vs pgbench -N",
        "loot pickups/s vs pgbench -N",
        "market buys/s vs pgbench -N",
        "batch save 10k vs server floor",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected:?} missing from {names:?}"
        );
    }
    // The economy is measured in turns beside its reference; one turn in a one-second run.
    assert_eq!(r["figures"]["turns"], 1.0, "{}", r["figures"]);
    for figure in [
        "trades_ratio_min",
        "loot_pickups_ratio_max",
        "pgbench_simple_update_tps_min",
        // What a trade and a pgbench -N transaction write to the WAL (`pg_stat_wal`).
        "trade_wal_bytes_per_trade",
        "pgbench_wal_bytes_per_transaction",
    ] {
        assert!(
            r["figures"][figure].as_f64().is_some_and(|v| v > 0.0),
            "{figure} missing from {}",
            r["figures"]
        );
    }
}

#[test]
fn bench_zone_reports_its_checks() {
    let r = bench(&[
        "zone",
        "--players",
        "20",
        "--monsters",
        "200",
        "--seconds",
        "1",
        "--watching",
    ]);
    assert_eq!(r["bench"], "zone");
    assert!(r["pass"].is_boolean());
    let names = check_names(&r);
    for expected in [
        "tick p99 without a batch save",
        "tick p99 with a batch save of every player",
        "batch save adds to tick p99 (with - without)",
        "batch save of every player missing from the window",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected:?} missing from {names:?}"
        );
    }
    assert_eq!(r["parameters"]["players"], 20);
    assert_eq!(r["figures"]["players_spawned"], 20.0);
    assert_eq!(r["figures"]["monsters_spawned"], 200.0);
    // Every player watched, so views were computed in the ticks: far more than each one's
    // first view (the windows alone hold 2 s of views at 10 Hz for 20 fighting players).
    assert_eq!(r["parameters"]["watching"], true);
    assert!(
        r["figures"]["views_computed"].as_f64().unwrap() >= 100.0,
        "{}",
        r["figures"]
    );
    for f in [
        "tick_p99_ms_no_save",
        "tick_p99_ms_with_save",
        "memory_per_player_kib",
    ] {
        assert!(r["figures"][f].is_number(), "figure {f} missing");
    }
}

#[test]
fn bench_restore_reports_its_checks() {
    let r = bench(&["restore", "--characters", "500"]);
    assert_eq!(r["bench"], "restore");
    assert_eq!(check_names(&r), ["restore to the latest state"]);
    for f in [
        "base_backup_s",
        "restore_files_s",
        "restore_replay_s",
        "dump_s",
        "dump_restore_s",
    ] {
        assert!(r["figures"][f].is_number(), "figure {f} missing");
    }
}

#[test]
fn bench_gateway_reports_its_checks() {
    let r = bench(&[
        "gateway",
        "--crowds",
        "12",
        "--idle",
        "16",
        "--seconds",
        "2",
    ]);
    assert_eq!(r["bench"], "gateway");
    assert!(r["pass"].is_boolean());
    // The human rate by default (`--pace calm`), and the report says so.
    assert_eq!(r["parameters"]["pace"], "calm", "{}", r["parameters"]);
    let names = check_names(&r);
    for expected in [
        "connections not held of 12 active players",
        "zone tick p99 with 12 active players",
        "action RTT p99 with 12 active players",
        "bytes down per player with 12 active players",
        "idle connections not held of 16",
        "resident memory per idle connection",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected:?} missing from {names:?}"
        );
    }
    let figures = &r["figures"];
    // Every bot connected and played; the node saw them; the echo answered its bots.
    assert_eq!(figures["connections_held_12"], 12.0, "{figures}");
    assert_eq!(figures["idle_connections_held"], 16.0, "{figures}");
    assert_eq!(figures["echo_connections_held_12"], 12.0, "{figures}");
    assert!(
        figures["node_open_connections_12"].as_f64().unwrap() >= 12.0,
        "{figures}"
    );
    for f in [
        "answers_12",
        "frames_up_per_player_s_12",
        "frames_down_per_player_s_12",
        "frames_down_per_player_s_view_12",
        "views_per_player_s_12",
        "down_kb_per_player_s_12",
        "gateway_cpu_us_per_message_12",
        "echo_frame_bytes_12",
        "echo_rtt_p99_ms_12",
    ] {
        assert!(figures[f].as_f64().unwrap() > 0.0, "figure {f}: {figures}");
    }
    for f in [
        "tick_p99_ms_12",
        "server_cpu_s_per_1000_players_per_s_12",
        "rss_per_connection_kb_12",
        "idle_rss_per_connection_kb",
        "gateway_over_echo_cpu_per_message_12",
        "critical_per_player_s_12",
        "views_stretched_share_12",
    ] {
        assert!(figures[f].is_number(), "figure {f} missing: {figures}");
    }
    // Threads waiting for a core (read from the kernel for the node and the bots) and the node's
    // runtime lag: reported, and never negative.
    for f in [
        "node_threads_waiting_for_a_core_12",
        "bots_threads_waiting_for_a_core_12",
        "runtime_lag_ms_12",
        "runtime_lag_worst_ms_12",
        "node_answer_p50_ms_12",
        "node_answer_p99_ms_12",
        "node_reply_wait_p99_ms_12",
        "postgres_cpu_cores_12",
        "redis_cpu_cores_12",
    ] {
        let v = figures[f].as_f64().unwrap_or(-1.0);
        assert!(v >= 0.0, "figure {f}: {figures}");
    }
}
