//! What a client may send, and how often: the limits both sides know.

/// Largest WebSocket message (and frame) accepted; a bigger one closes with 1009.
pub const FRAME_BYTES_MAX: usize = 16 * 1024;
/// Longest chat line, in characters (after trimming).
pub const SAY_CHARS_MAX: usize = 256;
/// Passwords: at least this many characters, and not the account name.
pub const PASSWORD_CHARS_MIN: usize = 10;
/// Longer passwords are refused before hashing (bounds the work of one login).
pub const PASSWORD_CHARS_MAX: usize = 128;
/// A WebSocket ticket is good for this long, once.
pub const TICKET_TTL_SECS: u64 = 30;
/// The server pings this often; a connection silent for `IDLE_CLOSE_SECS` is closed.
pub const PING_EVERY_SECS: u64 = 15;
pub const IDLE_CLOSE_SECS: u64 = 30;
/// Largest coordinate a move may name (zones are smaller; the zone clamps to its own size).
pub const COORDINATE_ABS_MAX: f32 = 100_000.0;

const _: () = assert!(
    IDLE_CLOSE_SECS > PING_EVERY_SECS,
    "a ping comes before the idle close"
);
const _: () = assert!(PASSWORD_CHARS_MIN < PASSWORD_CHARS_MAX);
