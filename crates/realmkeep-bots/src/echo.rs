//! An echo bot: the gateway benchmark's reference load. It connects to a bare WebSocket echo
//! (`realmkeep_gateway::echo`), sends a text frame of the given size at the bots' rate and times
//! each frame's way back (the echo answers in order). It reconnects when dropped, like a bot.

use crate::config::BotsConfig;
use crate::deadline::Deadline;
use crate::stats::{bump, Stats};
use realmkeep_protocol::client::{PlainSocket, Traffic};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

/// Between two connection attempts.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);
/// Frames waiting for their echo at the most; the bot skips a beat beyond it.
const IN_FLIGHT_MAX: usize = 16;

pub(crate) async fn live(
    i: usize,
    config: &BotsConfig,
    frame_bytes: usize,
    stats: &Stats,
    until: Deadline,
) {
    // Printable and the same for every frame of this bot: what is measured is the size.
    let filler = char::from(b'a' + (i % 26) as u8);
    let frame: String = std::iter::repeat_n(filler, frame_bytes.max(1)).collect();
    let mut first = true;
    while !until.passed() {
        if !first {
            tokio::time::sleep(RECONNECT_PAUSE).await;
        }
        first = false;
        let Ok(mut ws) = PlainSocket::connect(&config.url).await else {
            bump(&stats.errors);
            continue;
        };
        bump(&stats.joined);
        stats.connected.fetch_add(1, Ordering::Relaxed);
        let mut seen = Traffic::default();
        let done = echo(&mut ws, &frame, config, stats, &until, &mut seen).await;
        stats.connected.fetch_sub(1, Ordering::Relaxed);
        if done {
            ws.close().await;
            stats.traffic(ws.traffic(), &mut seen);
            return;
        }
        bump(&stats.reconnects);
    }
}

/// Plays until the deadline (`true`) or until the socket fails (`false`).
async fn echo(
    ws: &mut PlainSocket,
    frame: &str,
    config: &BotsConfig,
    stats: &Stats,
    until: &Deadline,
    seen: &mut Traffic,
) -> bool {
    let mut sent: VecDeque<Instant> = VecDeque::new();
    let mut beat = tokio::time::interval(config.think_every);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Made once, not for every frame, as the bots' own loop (`bot::play`).
    let time_up = until.reached();
    tokio::pin!(time_up);
    loop {
        stats.traffic(ws.traffic(), seen);
        tokio::select! {
            _ = &mut time_up => return true,
            _ = beat.tick() => {
                if sent.len() >= IN_FLIGHT_MAX {
                    continue;
                }
                if ws.send_text(frame).await.is_err() {
                    return false;
                }
                bump(&stats.commands);
                sent.push_back(Instant::now());
            }
            m = ws.next_raw_untimed() => match m {
                Ok(Some(_)) => {
                    if let Some(at) = sent.pop_front() {
                        bump(&stats.ok);
                        stats.round_trip(at.elapsed(), false, None);
                    }
                }
                Ok(None) | Err(_) => return false,
            },
        }
    }
}
