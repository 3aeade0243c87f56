//! The reference of `bench gateway`: a bare WebSocket echo of this binary
//! (`realmkeep_gateway::echo`, `realmkeep bench echo-server`, a process of its own) driven by as
//! many echo bots as a crowd had, each sending frames of the crowd's mean command size at the
//! crowd's command rate; its CPU per message is what the gateway's is compared with.

use super::gateway::{bots_window, connect_all, f, start_bots, Scene, SETTLE};
use super::gateway_figures::Measured;
use super::gateway_procs::{cpu_seconds, free_port, rss_kib, Proc};
use anyhow::{Context, Result};
use std::time::{Duration, Instant};

/// The echo under as many bots as `crowd` had, frames of its mean command size at its rate.
pub(super) async fn phase(scene: &Scene, crowd: &Measured, seconds: u64) -> Result<Measured> {
    let n = crowd.players;
    // The mean frame's payload: its wire size less a small client frame's header (6 bytes).
    let frame_bytes = (crowd.bytes_up / crowd.frames_up.max(1))
        .saturating_sub(6)
        .max(1);
    let up_per_player_s = crowd.per_player_s(crowd.frames_up).max(1e-3);
    let think_ms = ((1_000.0 / up_per_player_s).round() as u64).max(10);
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let log = scene.dir.join(format!("echo-{n}.log"));
    let args: Vec<String> = ["bench", "echo-server", "--listen", &listen]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut echo = Proc::start("the echo", &args, &[], &log)?;
    let ready = echo.line(Some("echo")).await?;
    let url = ready["url"].as_str().context("the echo's URL")?.to_string();
    let rss_start_kib = rss_kib(echo.pid());
    let extra = vec![
        "--echo-bytes".to_string(),
        frame_bytes.to_string(),
        "--think-ms".to_string(),
        think_ms.to_string(),
    ];
    // No login to wait for: the echo bots connect as fast as they are started.
    let mut bots = start_bots(&scene.dir, &format!("echo-{n}"), 1, &url, n, &extra)?;
    let held = connect_all(&mut bots, n).await?;
    tokio::time::sleep(SETTLE).await;
    bots_window(&mut bots).await?;
    let (cpu0, t0) = (cpu_seconds(echo.pid()), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let w = bots_window(&mut bots).await?;
    let m = Measured {
        players: n,
        held,
        seconds: t0.elapsed().as_secs_f64(),
        node_cpu_s: cpu_seconds(echo.pid()) - cpu0,
        rss_start_kib,
        rss_kib: rss_kib(echo.pid()),
        rtt_p50_ms: f(&w, "rtt_p50_ms"),
        rtt_p99_ms: f(&w, "rtt_p99_ms"),
        answered: f(&w, "answered") as u64,
        frames_up: f(&w, "frames_up") as u64,
        bytes_up: f(&w, "bytes_up") as u64,
        frames_down: f(&w, "frames_down") as u64,
        bytes_down: f(&w, "bytes_down") as u64,
        ..Measured::default()
    };
    for b in bots {
        b.finish().await?;
    }
    echo.finish().await?;
    Ok(m)
}

/// `realmkeep bench echo-server --listen ADDR`: the echo alone, until its stdin closes; one
/// JSON line `{"event":"echo","url":...}` once it listens.
pub async fn echo_server(listen: Option<std::net::SocketAddr>) -> Result<()> {
    let listen = listen.context("echo-server needs --listen")?;
    let echo = realmkeep_gateway::echo::Echo::start(listen).await?;
    println!(
        "{}",
        serde_json::json!({"event": "echo", "url": echo.url()})
    );
    let mut lines = crate::stdin::lines();
    while lines.recv().await.is_some() {}
    echo.stop();
    Ok(())
}
