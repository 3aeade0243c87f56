//! The demo's status line, once a second.

use realmkeep_server::ClusterStatus;
use realmkeep_sim::StatsSnapshot;
use std::time::Duration;

/// What the columns mean, printed once above the lines.
pub const HEADER: &str = "status every second: players per zone | tick p50/p99 per zone (since \
start) | batch, level-up and final saves per second (characters saved per second), requests \
waiting for PostgreSQL | health | trades, market listed/bought, mail sent/claimed, zone changes, \
level-ups";

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

pub fn line(elapsed: Duration, s: &ClusterStatus, p: &StatsSnapshot) -> String {
    let players: Vec<String> = s
        .zones
        .iter()
        .map(|z| format!("z{} {}", z.zone, z.players))
        .collect();
    let ticks: Vec<String> = s
        .zones
        .iter()
        .map(|z| {
            format!(
                "z{} {:.1}/{:.1}",
                z.zone,
                ms(z.tick.p50_us),
                ms(z.tick.p99_us)
            )
        })
        .collect();
    let up = |b: bool| if b { "up" } else { "DOWN" };
    format!(
        "[{:>5}s] players {} ({}) | tick {} ms | saves {:.1}/s ({:.0}/s), pending {} | pg {}, redis {} | \
         trades {}, market {}/{}, mail {}/{}, zone changes {}, level-ups {}",
        elapsed.as_secs(),
        s.players,
        players.join(", "),
        ticks.join(", "),
        s.saves_per_s,
        s.save_rows_per_s,
        s.store_pending + s.store_backlog,
        up(s.postgres_up),
        up(s.redis_up),
        p.trades,
        p.market_listings,
        p.market_buys,
        p.mails_sent,
        p.mail_claims,
        p.zone_changes,
        p.level_ups,
    )
}
