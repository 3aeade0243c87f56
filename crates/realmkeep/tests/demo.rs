//! `realmkeep demo` as a newcomer runs it, twice in one directory: its players are socket bots
//! that reach its gateway over loopback (the status lines count them connected, the bots' report
//! shows them joined and answered), the first run registers their accounts and the second logs
//! into them, every character is saved and released at each stop, and the second run finds the
//! sampled players where their sockets last showed them when they logged out.

use realmkeep_bots::Report;
use std::path::Path;
use std::process::Command;

const PLAYERS: usize = 4;
/// Seconds of play after the joins: a few status lines.
const SECONDS: u64 = 3;

fn demo(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_realmkeep"))
        .args(["demo", "--players", &PLAYERS.to_string()])
        .args(["--seconds", &SECONDS.to_string(), "--seed", "3"])
        .args(["--listen", "127.0.0.1:0", "--dir"])
        .arg(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("realmkeep runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the demo fails:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn report(dir: &Path) -> Report {
    let text = std::fs::read_to_string(dir.join("bots_report.json")).expect("the bots' report");
    serde_json::from_str(&text).expect("a bots report")
}

/// Every player joined over its socket, played, was answered, and logged out.
fn played_over_sockets(out: &str, r: &Report) {
    let all = format!("bots {PLAYERS} connected");
    assert!(
        out.lines()
            .any(|l| l.starts_with('[') && l.contains(&all) && l.contains("RTT p50")),
        "a status line counts every bot connected, with RTT:\n{out}"
    );
    assert!(
        out.contains(&format!("{PLAYERS} connected over WebSockets")),
        "{out}"
    );
    assert_eq!(r.players, PLAYERS);
    assert!(r.joined >= PLAYERS as u64, "{r:?}");
    assert!(r.commands > 0 && r.ok > 0 && r.rtt_p50_ms > 0.0, "{r:?}");
    assert!(
        r.frames_up > 0 && r.frames_down > 0,
        "traffic over the sockets: {r:?}"
    );
    assert_eq!(r.connected_at_end, 0, "every bot logged out: {r:?}");
    assert!(!r.stood.is_empty(), "positions kept at logout: {r:?}");
    assert!(out.contains("RTT p50") && out.contains("answers:"), "{out}");
    assert!(out.contains("every character saved and released"), "{out}");
}

#[test]
fn the_demo_plays_its_players_as_bots_through_its_gateway_and_resumes_them() {
    let dir = tempfile::tempdir().unwrap();
    let first = demo(dir.path());
    assert!(
        first.contains(&format!("0 found, {PLAYERS} to register")),
        "{first}"
    );
    assert!(first.contains("first run: a new world"), "{first}");
    let r1 = report(dir.path());
    played_over_sockets(&first, &r1);

    let second = demo(dir.path());
    assert!(
        second.contains(&format!("{PLAYERS} found, 0 to register")),
        "the accounts are registered once:\n{second}"
    );
    let n = r1.stood.len();
    assert!(
        second.contains(&format!(
            "resuming: {PLAYERS} characters, last positions loaded ({n} of {n} sampled positions as recorded at the last shutdown)"
        )),
        "{second}"
    );
    assert!(!second.contains("MISMATCH"), "{second}");
    let r2 = report(dir.path());
    played_over_sockets(&second, &r2);
}
