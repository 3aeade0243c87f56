//! The benchmark runs end to end on a small size: both sides measured, redis-benchmark's
//! output parsed, the report serializes. (Targets are not asserted here: a debug build on a
//! loaded machine says nothing about them; `realmkeep bench cache` does.)

mod common;

use common::*;
use realmkeep_cache::bench::{run_sized, BenchSize};
use realmkeep_launcher::{find_binary, Binary};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_runs_end_to_end() {
    let server = redis();
    let tool = find_binary(Binary::RedisBenchmark).unwrap();
    let size = BenchSize {
        ops: 2_000,
        pipelined_ops: 3_200,
    };
    let report = run_sized(&server.url(), &tool, server.port(), size)
        .await
        .unwrap();
    assert_eq!(report.rows.len(), 3);
    for row in &report.rows {
        assert!(
            row.ops_per_s > 0.0 && row.baseline_ops_per_s > 0.0,
            "{row:?}"
        );
        assert_eq!(row.passed, row.ratio >= row.target_ratio);
    }
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 3);
    assert!(report.table().contains("leaderboard updates"));
}
