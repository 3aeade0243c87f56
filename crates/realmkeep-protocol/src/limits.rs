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
/// What the Rust client (`client::PlainSocket`, the bots) reads from its socket at once.
/// tungstenite zero-fills its read buffer to this size before every read: at its default of
/// 128 KiB that `memset` was a quarter of a bot's CPU. Most server frames are under 1 KiB; a
/// larger one grows the buffer for itself.
pub const CLIENT_READ_BUFFER_BYTES: usize = 4 * 1024;

const _: () = assert!(
    IDLE_CLOSE_SECS > PING_EVERY_SECS,
    "a ping comes before the idle close"
);
const _: () = assert!(PASSWORD_CHARS_MIN < PASSWORD_CHARS_MAX);
const _: () =
    assert!(CLIENT_READ_BUFFER_BYTES >= 1024 && CLIENT_READ_BUFFER_BYTES <= FRAME_BYTES_MAX);
