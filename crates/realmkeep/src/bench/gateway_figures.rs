//! `bench gateway`'s figures: what one phase measured over its window, how it is reported and
//! checked against the targets, and what the node's gateway sent by kind of message
//! (`realmkeep_gateway_bytes_out_total{kind}` on its `/metrics`, read at the window's start and
//! end: where the players' bandwidth goes).

use super::Report;
use anyhow::{bail, Result};
use realmkeep_protocol::client::Http;

/// Bytes in a KB of the targets.
const KB: f64 = 1_000.0;
/// Targets of the issue.
const TICK_P99_MAX_MS: f64 = 25.0;
const RTT_P99_MAX_MS: f64 = 100.0;
const DOWN_PER_PLAYER_MAX_KB_S: f64 = 5.0;
const IDLE_MEMORY_MAX_KB: f64 = 20.0;

/// What one phase measured over its window.
#[derive(Debug, Default, Clone)]
pub(super) struct Measured {
    pub(super) players: usize,
    pub(super) held: u64,
    /// TCP connections the node had open at the window's end (its own count).
    pub(super) node_connections: u64,
    pub(super) seconds: f64,
    pub(super) node_cpu_s: f64,
    pub(super) bots_cpu_s: f64,
    /// The private PostgreSQL's CPU (the server and its backends) and Redis's, over the window
    /// (`None`: its process was not known).
    pub(super) postgres_cpu_s: Option<f64>,
    pub(super) redis_cpu_s: Option<f64>,
    /// Seconds the node's threads, and the bots', waited in the kernel's run queue for a core
    /// over the window (summed over threads).
    pub(super) node_run_queue_s: f64,
    pub(super) bots_run_queue_s: f64,
    pub(super) machine_busy_s: f64,
    /// Of which the hypervisor gave to others (`machine_steal_seconds`).
    pub(super) machine_steal_s: f64,
    /// The machine's 1-minute load average when the window opened.
    pub(super) load_average: f64,
    pub(super) rss_start_kib: f64,
    pub(super) rss_kib: f64,
    pub(super) tick_p50_ms: f64,
    pub(super) tick_p99_ms: f64,
    pub(super) tick_max_ms: f64,
    /// The worst zone's p99 of the tick thread's own CPU time per tick: the zone's work, without
    /// the time the tick waited for a core.
    pub(super) tick_cpu_p99_ms: f64,
    pub(super) rtt_p50_ms: f64,
    pub(super) rtt_p99_ms: f64,
    pub(super) critical_rtt_p50_ms: f64,
    pub(super) critical_rtt_p99_ms: f64,
    /// Commands answered by the zone or the gateway (not after a commit) alone.
    pub(super) routine_rtt_p99_ms: f64,
    /// By kind of command (`kind_{k}_answered`, `kind_{k}_rtt_p99_ms`, as the bots report them).
    pub(super) by_kind: Vec<(String, f64)>,
    pub(super) answered: u64,
    pub(super) critical_answered: u64,
    pub(super) try_again: u64,
    /// "Busy" notices the zones sent over the window (a critical action over the player's bound
    /// of waiting ones, or a zone's pending requests full): the zones' share of `try_again`.
    pub(super) told_busy: u64,
    /// The zones' views computed over the window, and of those, the ones that found a crowd
    /// (the viewer's next view comes at the crowd's pace).
    pub(super) views_computed: u64,
    pub(super) views_crowded: u64,
    /// Over the window, the zones' ticks and those run with the views' pace stretched (the node
    /// short of CPU); and the longest mean wait for a core per tick any zone judged last.
    pub(super) ticks: u64,
    pub(super) ticks_stretched: u64,
    pub(super) ticks_stretched_max: u64,
    pub(super) tick_wait_max_us: f64,
    /// The slowest zone's p99 and longest wait of a command for its tick thread (queued by
    /// the connection, taken by the zone): a part of `node_answer`.
    pub(super) command_wait_p99_ms: f64,
    pub(super) command_wait_max_ms: f64,
    /// The node's runtime lag at the window's end (the mean of its probe's last half second).
    pub(super) runtime_lag_ms: f64,
    /// And the latest of its probe's messages in that half second.
    pub(super) runtime_lag_worst_ms: f64,
    /// The node's own time to answer the commands its zones answer, from the command's read to
    /// the answer queued for its socket (the rest of a bot's round trip is the sockets, the
    /// kernel and the bots), over the window.
    pub(super) node_answer_p50_ms: f64,
    pub(super) node_answer_p99_ms: f64,
    /// Of that, the answers' p99 and longest wait for their connections' tasks (handed over by
    /// the zone, taken by the connection).
    pub(super) node_reply_wait_p99_ms: f64,
    pub(super) node_reply_wait_max_ms: f64,
    /// Redis commands of the node that timed out over the window, and answers it gave degraded.
    pub(super) redis_timeouts: f64,
    pub(super) redis_degraded_answers: f64,
    pub(super) frames_up: u64,
    pub(super) bytes_up: u64,
    pub(super) frames_down: u64,
    pub(super) bytes_down: u64,
    /// The node's payload bytes sent over the window, by kind of message.
    pub(super) sent_by_kind: SentBytes,
    /// And the messages (WebSocket frames), by kind.
    pub(super) messages_by_kind: SentBytes,
    /// The node's socket flushes over the window (a system call each).
    pub(super) flushes: u64,
}

impl Measured {
    pub(super) fn messages(&self) -> f64 {
        (self.frames_up + self.frames_down) as f64
    }

    pub(super) fn per_player_s(&self, v: u64) -> f64 {
        v as f64 / self.players.max(1) as f64 / self.seconds.max(1e-3)
    }
}

pub(super) fn record_active(r: &mut Report, m: &Measured, echo: &Measured) {
    let n = m.players;
    let fig = |r: &mut Report, k: &str, v: f64| r.figure(&format!("{k}_{n}"), v);
    fig(r, "connections_held", m.held as f64);
    fig(r, "node_open_connections", m.node_connections as f64);
    fig(r, "window_s", m.seconds);
    fig(r, "rtt_p50_ms", m.rtt_p50_ms);
    fig(r, "rtt_p99_ms", m.rtt_p99_ms);
    fig(r, "critical_rtt_p50_ms", m.critical_rtt_p50_ms);
    fig(r, "critical_rtt_p99_ms", m.critical_rtt_p99_ms);
    fig(r, "routine_rtt_p99_ms", m.routine_rtt_p99_ms);
    for (k, v) in &m.by_kind {
        fig(r, k, *v);
    }
    fig(r, "answers", m.answered as f64);
    fig(r, "critical_answers", m.critical_answered as f64);
    // The mix the bots' pace gave: critical actions (the store's commits) per player per second.
    fig(
        r,
        "critical_per_player_s",
        m.per_player_s(m.critical_answered),
    );
    fig(r, "try_again_answers", m.try_again as f64);
    fig(r, "zone_told_busy", m.told_busy as f64);
    fig(r, "views_per_player_s", m.per_player_s(m.views_computed));
    let crowded = m.views_crowded as f64 / m.views_computed.max(1) as f64;
    fig(r, "views_crowded_share", crowded);
    let stretched = m.ticks_stretched as f64 / m.ticks.max(1) as f64;
    fig(r, "views_stretched_share", stretched);
    let stretched_max = m.ticks_stretched_max as f64 / m.ticks.max(1) as f64;
    fig(r, "views_stretched_max_share", stretched_max);
    fig(r, "tick_wait_ms", m.tick_wait_max_us / 1_000.0);
    fig(r, "zone_command_wait_p99_ms", m.command_wait_p99_ms);
    fig(r, "zone_command_wait_max_ms", m.command_wait_max_ms);
    fig(r, "runtime_lag_ms", m.runtime_lag_ms);
    fig(r, "runtime_lag_worst_ms", m.runtime_lag_worst_ms);
    fig(r, "node_answer_p50_ms", m.node_answer_p50_ms);
    fig(r, "node_answer_p99_ms", m.node_answer_p99_ms);
    fig(r, "node_reply_wait_p99_ms", m.node_reply_wait_p99_ms);
    fig(r, "node_reply_wait_max_ms", m.node_reply_wait_max_ms);
    fig(r, "redis_timeouts", m.redis_timeouts);
    fig(r, "redis_degraded_answers", m.redis_degraded_answers);
    fig(r, "tick_p50_ms", m.tick_p50_ms);
    fig(r, "tick_p99_ms", m.tick_p99_ms);
    fig(r, "tick_max_ms", m.tick_max_ms);
    fig(r, "tick_cpu_p99_ms", m.tick_cpu_p99_ms);
    let per_1000_s = m.node_cpu_s / m.seconds.max(1e-3) / (n as f64 / 1_000.0);
    fig(r, "server_cpu_s_per_1000_players_per_s", per_1000_s);
    fig(r, "bots_cpu_s_per_s", m.bots_cpu_s / m.seconds.max(1e-3));
    // Reported only when the server's process was known: a missing figure is not a zero.
    for (name, cpu) in [
        ("postgres_cpu_cores", m.postgres_cpu_s),
        ("redis_cpu_cores", m.redis_cpu_s),
    ] {
        if let Some(cpu) = cpu {
            fig(r, name, cpu / m.seconds.max(1e-3));
        }
    }
    // Threads waiting for a core, on average (summed over threads): a machine short of cores in
    // bursts shows here even while it is idle part of the time.
    let waiting = |s: f64| s / m.seconds.max(1e-3);
    fig(
        r,
        "node_threads_waiting_for_a_core",
        waiting(m.node_run_queue_s),
    );
    fig(
        r,
        "bots_threads_waiting_for_a_core",
        waiting(m.bots_run_queue_s),
    );
    fig(
        r,
        "machine_busy_cores",
        m.machine_busy_s / m.seconds.max(1e-3),
    );
    fig(
        r,
        "machine_stolen_cores",
        m.machine_steal_s / m.seconds.max(1e-3),
    );
    let rss_per_conn = (m.rss_kib - m.rss_start_kib).max(0.0) * 1_024.0 / KB / n as f64;
    fig(r, "rss_per_connection_kb", rss_per_conn);
    fig(r, "node_rss_mb", m.rss_kib / 1_024.0);
    let down = m.per_player_s(m.bytes_down) / KB;
    let up = m.per_player_s(m.bytes_up) / KB;
    fig(r, "down_kb_per_player_s", down);
    for (kind, bytes) in &m.sent_by_kind.0 {
        let v = m.per_player_s(*bytes as u64) / KB;
        fig(r, &format!("down_payload_kb_per_player_s_{kind}"), v);
    }
    fig(r, "up_kb_per_player_s", up);
    fig(r, "frames_down_per_player_s", m.per_player_s(m.frames_down));
    for (kind, messages) in &m.messages_by_kind.0 {
        let v = m.per_player_s(*messages as u64);
        fig(r, &format!("frames_down_per_player_s_{kind}"), v);
    }
    fig(r, "frames_up_per_player_s", m.per_player_s(m.frames_up));
    fig(r, "flushes_per_player_s", m.per_player_s(m.flushes));
    let gw_us = m.node_cpu_s * 1e6 / m.messages().max(1.0);
    let echo_us = echo.node_cpu_s * 1e6 / echo.messages().max(1.0);
    fig(r, "gateway_cpu_us_per_message", gw_us);
    fig(r, "echo_cpu_us_per_message", echo_us);
    fig(
        r,
        "gateway_over_echo_cpu_per_message",
        if echo_us > 0.0 { gw_us / echo_us } else { 0.0 },
    );
    fig(r, "echo_connections_held", echo.held as f64);
    fig(r, "echo_rtt_p99_ms", echo.rtt_p99_ms);
    fig(
        r,
        "echo_frame_bytes",
        echo.bytes_up as f64 / echo.frames_up.max(1) as f64,
    );
    r.at_most(
        &format!("connections not held of {n} active players"),
        (n as f64 - m.held as f64).max(0.0),
        "",
        0.0,
    );
    r.at_most(
        &format!("zone tick p99 with {n} active players"),
        m.tick_p99_ms,
        "ms",
        TICK_P99_MAX_MS,
    );
    r.at_most(
        &format!("action RTT p99 with {n} active players"),
        m.rtt_p99_ms,
        "ms",
        RTT_P99_MAX_MS,
    );
    r.at_most(
        &format!("bytes down per player with {n} active players"),
        down,
        "KB/s",
        DOWN_PER_PLAYER_MAX_KB_S,
    );
}

pub(super) fn record_idle(r: &mut Report, m: &Measured) {
    let n = m.players;
    let per_conn = (m.rss_kib - m.rss_start_kib).max(0.0) * 1_024.0 / KB / n as f64;
    r.figure("idle_connections_held", m.held as f64);
    r.figure("idle_node_open_connections", m.node_connections as f64);
    r.figure("idle_rss_per_connection_kb", per_conn);
    r.figure("idle_node_rss_mb", m.rss_kib / 1_024.0);
    r.figure(
        "idle_server_cpu_s_per_1000_players_per_s",
        m.node_cpu_s / m.seconds.max(1e-3) / (n as f64 / 1_000.0),
    );
    r.figure("idle_tick_p99_ms", m.tick_p99_ms);
    r.figure("idle_tick_cpu_p99_ms", m.tick_cpu_p99_ms);
    r.figure("idle_load_average_1m", m.load_average);
    r.figure(
        "idle_down_kb_per_player_s",
        m.per_player_s(m.bytes_down) / KB,
    );
    r.at_most(
        &format!("idle connections not held of {n}"),
        (n as f64 - m.held as f64).max(0.0),
        "",
        0.0,
    );
    r.at_most(
        "resident memory per idle connection",
        per_conn,
        "KB",
        IDLE_MEMORY_MAX_KB,
    );
}

const BYTES_OUT: &str = "realmkeep_gateway_bytes_out_total{kind=\"";
const MESSAGES_OUT: &str = "realmkeep_gateway_messages_out_total{kind=\"";
const FLUSHES: &str = "realmkeep_gateway_flushes_total";
/// Kinds a scrape reads at the most (the gateway has five).
const KINDS_MAX: usize = 16;

/// Bytes (or messages) sent so far, by kind, in the order the node lists them.
#[derive(Debug, Default, Clone)]
pub(super) struct SentBytes(pub(super) Vec<(String, f64)>);

impl SentBytes {
    /// The bytes and the messages sent so far, by kind, and the sockets' flushes.
    pub(super) async fn scrape(http: &Http) -> Result<(Self, Self, f64)> {
        let (status, body) = http.raw("GET", "/metrics", None, "").await?;
        if status != 200 {
            bail!("the node's /metrics answered {status}");
        }
        Ok((
            Self::parse(&body, BYTES_OUT),
            Self::parse(&body, MESSAGES_OUT),
            plain(&body, FLUSHES),
        ))
    }

    fn parse(text: &str, metric: &str) -> Self {
        let mut kinds = Vec::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix(metric) else {
                continue;
            };
            let Some((kind, value)) = rest.split_once("\"} ") else {
                continue;
            };
            if let Ok(v) = value.trim().parse::<f64>() {
                if kinds.len() < KINDS_MAX {
                    kinds.push((kind.to_string(), v));
                }
            }
        }
        Self(kinds)
    }

    /// What was sent since `before`, by kind.
    pub(super) fn since(&self, before: &SentBytes) -> SentBytes {
        let was = |k: &str| {
            before
                .0
                .iter()
                .find(|(b, _)| b == k)
                .map_or(0.0, |(_, v)| *v)
        };
        SentBytes(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), (v - was(k)).max(0.0)))
                .collect(),
        )
    }
}

/// An unlabelled series' value (0 when the node does not list it).
fn plain(text: &str, metric: &str) -> f64 {
    text.lines()
        .filter_map(|l| l.strip_prefix(metric)?.strip_prefix(' '))
        .find_map(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kinds_and_their_growth() {
        let before = SentBytes::parse(
            "# TYPE realmkeep_gateway_bytes_out_total counter\n\
             realmkeep_gateway_bytes_out_total{kind=\"view\"} 100\n\
             realmkeep_gateway_bytes_out_total{kind=\"chat\"} 5\n\
             realmkeep_gateway_messages_out_total{kind=\"view\"} 3\n\
             realmkeep_gateway_bytes_in_total 7\n",
            BYTES_OUT,
        );
        let after = SentBytes::parse(
            "realmkeep_gateway_bytes_out_total{kind=\"view\"} 350\n\
             realmkeep_gateway_bytes_out_total{kind=\"chat\"} 5\n\
             realmkeep_gateway_bytes_out_total{kind=\"answer\"} 40\n",
            BYTES_OUT,
        );
        let d = after.since(&before);
        assert_eq!(
            d.0,
            vec![
                ("view".to_string(), 250.0),
                ("chat".to_string(), 0.0),
                ("answer".to_string(), 40.0)
            ]
        );
        let messages = SentBytes::parse(
            "realmkeep_gateway_messages_out_total{kind=\"view\"} 3\n\
             realmkeep_gateway_bytes_out_total{kind=\"view\"} 100\n",
            MESSAGES_OUT,
        );
        assert_eq!(messages.0, vec![("view".to_string(), 3.0)]);
        let text = "# TYPE realmkeep_gateway_flushes_total counter\n\
                    realmkeep_gateway_flushes_total_other 9\n\
                    realmkeep_gateway_flushes_total 42\n";
        assert_eq!(plain(text, FLUSHES), 42.0);
        assert_eq!(plain("", FLUSHES), 0.0);
    }
}
