//! `realmkeep bench cache`: the cache API next to redis-benchmark against one private Redis (the
//! measurement itself lives in `realmkeep_cache::bench`).

use super::{peak_rss_mb, Report};
use anyhow::Result;
use realmkeep_launcher::{find_binary, Binary, RedisOptions};

pub async fn run() -> Result<Report> {
    eprintln!("bench cache: starting a private Redis");
    let redis = crate::private::redis(RedisOptions::for_tests()).await?;
    let tool = find_binary(Binary::RedisBenchmark)?;
    let r = realmkeep_cache::bench::run(&redis.url(), &tool, redis.port()).await?;
    let mut report = Report::new("cache");
    report.param("tasks", r.tasks);
    report.param("ops_per_measurement", r.ops);
    report.param("pipelined_ops", r.pipelined_ops);
    for row in &r.rows {
        report.ratio_at_least(
            &format!("{} vs {}", row.name, row.baseline),
            row.ops_per_s,
            row.baseline_ops_per_s,
            "op/s",
            row.target_ratio,
        );
    }
    report.figure("peak_rss_mb", peak_rss_mb());
    drop(redis);
    Ok(report)
}
