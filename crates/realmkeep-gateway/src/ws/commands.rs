//! Each wire command's meaning for the zone: what `realmkeep_protocol::ws::Command` becomes as a
//! `PlayerCommand`, after the checks that need the connection's state (the one-step move).
//! `decode.rs` has already checked the command's own bounds.

use realmkeep_protocol::ws::Command;
use realmkeep_protocol::Reason;
use realmkeep_zone::io::{ChatChannel, PlayerCommand};
use realmkeep_zone::limits::MOVE_STEP_MAX;

/// What the connection does with a command.
pub(crate) enum Routed {
    /// To the zone, answered by the zone's reply to it.
    Zone(PlayerCommand),
    /// Leave the world: answered after the final save.
    Logout,
}

/// Where the player stands as the connection last heard (its net id and position).
pub(crate) type Me = Option<(u64, f32, f32)>;

pub(crate) fn route(cmd: Command, me: Me) -> Result<Routed, (Reason, String)> {
    Ok(Routed::Zone(match cmd {
        Command::Join { .. } => {
            return Err((Reason::AlreadyJoined, "already in the world".into()));
        }
        Command::MoveTo { x, y } => {
            if let Some((_, mx, my)) = me {
                let d = ((x - mx).powi(2) + (y - my).powi(2)).sqrt();
                if d > MOVE_STEP_MAX {
                    return Err((
                        Reason::BadPosition,
                        format!("at most {MOVE_STEP_MAX} units away per move"),
                    ));
                }
            }
            PlayerCommand::MoveTo { x, y }
        }
        Command::Move { dx, dy } => PlayerCommand::Move { dx, dy },
        Command::Stop => PlayerCommand::Stop,
        Command::Say { text } => PlayerCommand::Chat {
            channel: ChatChannel::Say,
            text: text.trim().to_string(),
        },
        Command::Logout => return Ok(Routed::Logout),
    }))
}
