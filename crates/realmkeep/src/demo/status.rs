//! The demo's status line, once a second: the node's side (players, ticks, saves, queues,
//! health) and the players' side, as the bots saw it through their sockets in that second.

use realmkeep_bots::Window;
use realmkeep_server::ClusterStatus;
use std::time::Duration;

/// What the columns mean, printed once above the lines.
pub const HEADER: &str = "status every second: players per zone | tick p50/p99 per zone (since \
start) | batch, level-up and final saves per second (characters saved per second), requests \
waiting for PostgreSQL | health | bots connected over WebSockets, their commands per second \
and answers (ok/refused/try again) in that second, round trip p50/p99 from a command to its \
answer";

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

pub fn line(elapsed: Duration, s: &ClusterStatus, w: &Window) -> String {
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
         bots {} connected, {:.0} commands/s ({}/{}/{}), RTT p50 {:.1} ms p99 {:.1} ms",
        elapsed.as_secs(),
        s.players,
        players.join(", "),
        ticks.join(", "),
        s.saves_per_s,
        s.save_rows_per_s,
        s.store_pending + s.store_backlog,
        up(s.postgres_up),
        up(s.redis_up),
        w.connected,
        w.commands as f64 / w.seconds.max(0.001),
        w.ok,
        w.refused,
        w.try_again,
        w.rtt_p50_ms,
        w.rtt_p99_ms,
    )
}
