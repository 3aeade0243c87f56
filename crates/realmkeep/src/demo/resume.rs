//! The demo's proof that the world persists: at shutdown it records where a sample of characters
//! stood when their players logged out (each bot stopped in place and kept what its socket last
//! showed it), and at the next start it loads those characters from PostgreSQL and compares.

use anyhow::{Context, Result};
use realmkeep_bots::Stood;
use realmkeep_domain::{CharacterId, ZoneId};
use realmkeep_store::Store;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Characters recorded at the most.
const SAMPLE_MAX: usize = 50;
/// A loaded position this close to the recorded one is the same: a bot's view hears of a stop
/// as a move to where it stopped at velocity zero, and a stopped player does not walk on (the
/// bots' test finds them within 0.1); the slack is for a step the zone applied as the stop
/// arrived.
const SAME_POSITION: f32 = 1.0;
const FILE: &str = "last_positions.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recorded {
    character: i64,
    zone: i32,
    x: f32,
    y: f32,
}

/// Up to `SAMPLE_MAX` characters, spread over the players (who were alive when they logged
/// out: the bots keep no other).
pub fn sample(all: &[Stood]) -> Vec<Recorded> {
    let every = (all.len() / SAMPLE_MAX).max(1);
    all.iter()
        .step_by(every)
        .take(SAMPLE_MAX)
        .map(|p| Recorded {
            character: p.character,
            zone: p.zone,
            x: p.x,
            y: p.y,
        })
        .collect()
}

pub fn write(dir: &Path, sample: &[Recorded]) -> Result<()> {
    let path = dir.join(FILE);
    std::fs::write(&path, serde_json::to_string_pretty(sample)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// The line the demo prints about resuming.
pub async fn check(store: &Store, dir: &Path, found: usize) -> Result<String> {
    if found == 0 {
        return Ok("first run: a new world".into());
    }
    let path = dir.join(FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(format!(
            "resuming: {found} characters (no positions were recorded: the last run did not stop cleanly)"
        ));
    };
    let sample: Vec<Recorded> =
        serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    // Used once: a run that crashes must not be compared with an older clean stop.
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    let mut same = 0;
    let mut moved = Vec::new();
    for r in &sample {
        let c = store.load_character(CharacterId(r.character)).await?;
        let p = c.position;
        let near = (p.x - r.x).abs() <= SAME_POSITION && (p.y - r.y).abs() <= SAME_POSITION;
        if p.zone == ZoneId(r.zone) && near {
            same += 1;
        } else {
            moved.push(format!(
                "{} recorded in zone {} at ({:.1}, {:.1}), loads in zone {} at ({:.1}, {:.1})",
                c.name, r.zone, r.x, r.y, p.zone, p.x, p.y
            ));
        }
    }
    let mut line = format!(
        "resuming: {found} characters, last positions loaded ({same} of {} sampled positions as recorded at the last shutdown)",
        sample.len()
    );
    for m in moved {
        line += &format!("\n      MISMATCH: {m}");
    }
    Ok(line)
}

/// Characters still claimed by a zone (a run that stopped without saving: its claims hold until
/// their lease runs out).
pub async fn still_claimed(store: &Store, characters: &[CharacterId]) -> Result<usize> {
    let mut n = 0;
    for c in characters {
        if store.claim_info(*c).await?.live {
            n += 1;
        }
    }
    Ok(n)
}
