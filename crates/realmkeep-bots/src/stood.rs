//! Where each bot stood when it logged out, as its own socket last showed it: at its time's end
//! it stops in place (`Stop`, `StopAttack`), reads its view until that has settled, and then
//! logs out; the position counts only if the logout was answered (saved and released). Kept
//! only when asked for (`BotsConfig::positions`: the demo compares them with what loads on its
//! next run), one entry per bot.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// Positions one run keeps at the most: one per bot.
pub const STOOD_MAX: usize = crate::config::BOTS_MAX;

/// One bot's character where it stood, alive, when it logged out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stood {
    pub character: i64,
    pub zone: i32,
    pub x: f32,
    pub y: f32,
}

/// The positions of a run, shared by its bots.
#[derive(Debug, Default)]
pub(crate) struct Standings {
    entries: Mutex<Vec<Stood>>,
}

impl Standings {
    pub fn record(&self, s: Stood) {
        let mut g = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if g.len() < STOOD_MAX {
            g.push(s);
        }
    }

    pub fn take(&self) -> Vec<Stood> {
        let mut g = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut all = std::mem::take(&mut *g);
        all.sort_by_key(|s| s.character);
        all
    }
}
