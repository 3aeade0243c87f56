//! Every limit of the gateway, named. The protocol's own (frame size, ping, ticket TTL) are in
//! `realmkeep_protocol::limits`; the rate limits' counts are the cache's (`rate_limit:{ip}:{action}`).

use std::time::Duration;

/// Open TCP connections from one address (HTTP and WebSocket alike); more are closed at accept.
pub const CONNECTIONS_PER_IP_MAX: usize = 64;
/// Open TCP connections in all.
pub const CONNECTIONS_MAX: usize = 20_000;
/// A TLS handshake must finish within this.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Server messages queued for one WebSocket; a client that lets it fill is closed (4000).
pub const OUTBOUND_QUEUE_MAX: usize = 256;
/// A flush to a socket may take this long (nothing more is handed to it meanwhile); longer counts
/// as too slow (4000). It also bounds the last writes of a connection that ends (its close).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// After the server's close frame, how long it reads what the client still sends (so the
/// socket is not reset and the close frame arrives).
pub const CLOSE_DRAIN: Duration = Duration::from_secs(2);
/// A new WebSocket must `join` within this.
pub const JOIN_WAIT: Duration = Duration::from_secs(10);
/// Commands of one connection waiting for the zone's answer; more are answered `try_again`.
pub const AWAITING_REPLIES_MAX: usize = 32;
/// Rate-limited commands in a row before the connection is closed (4004).
pub const RATE_LIMITED_IN_A_ROW_MAX: u32 = 20;
/// How long a new connection of an account waits for its previous one to let go.
pub const TAKEOVER_WAIT: Duration = Duration::from_secs(3);
/// How often the gateway's sweep looks, for every connection at once, whether its session was
/// revoked (its account: a ban, a password change; or the session logged out on another node)
/// or its inbox holds an event whose live notice was lost (pub/sub does not keep what it could
/// not deliver).
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// Connections one round trip of the sweep looks at (a pipeline each for sessions and inboxes).
pub const SWEEP_BATCH_MAX: usize = 500;
/// Inbox events read at once.
pub const INBOX_BATCH: usize = 50;
/// Longest HTTP request body (bytes).
pub const HTTP_BODY_BYTES_MAX: usize = 16 * 1024;
/// Live-connection notices (kicks, logouts) queued for one connection.
pub const CONTROL_QUEUE_MAX: usize = 64;
/// Subscription changes and kick notices queued for the gateway's pub/sub task.
pub const PUBSUB_QUEUE_MAX: usize = 1_024;
/// What tungstenite reads from a socket at once: its read buffer per connection, zero-filled to
/// this size on every read, so all of it is resident for every idle player (its default is 128
/// KiB). A client's frame is at most `FRAME_BYTES_MAX` and most are under 200 bytes; a larger
/// frame grows the buffer for itself (read this much at a time).
pub const SOCKET_READ_BUFFER_BYTES: usize = 1024;
/// Zone notices a connection handles in one wake-up before it looks at its socket and timers
/// again (or fewer: it writes once half its outbound queue is used).
pub const NOTICES_PER_WAKE_MAX: usize = 8;
/// Messages a connection hands its socket between two flushes: what a tick (a view, its
/// events, the answers) queued together leaves in one system call.
pub const WRITE_BATCH_MAX: usize = 32;
/// What outgoing frames are gathered to before a write to the socket (a connection flushes
/// after each batch it hands the socket anyway). tungstenite keeps its write buffer at
/// the largest size it ever reached, which is at most this plus one frame: a join's burst
/// (welcome, history, the first view's frames) must not stay resident for an idle player.
pub const SOCKET_WRITE_BUFFER_BYTES: usize = 2 * 1024;
/// Longest a message that may wait (a chat line, an announcement) stays written but not flushed
/// to the socket: it goes out with the next view or answer, or after this (or once the command
/// being handled is done with its own I/O, a Redis round trip). A zone sends a view
/// every `VIEW_EVERY_TICKS` ticks (100 ms at its default 20 Hz), and a crowd's every
/// `VIEW_CROWD_EVERY_TICKS` (200 ms), so a player in a busy spot hears the chat in the view's
/// system call, with a tick's lateness to spare (lines many players hear wait for the
/// connection's next wake-up first: `BROADCAST_ROUND_EVERY`).
/// (At 100 ms, a crowd's chat lines were mostly flushed alone: a system call each.) A node short
/// of CPU stretches its views' pace, a crowd's to 400 ms and then 800 ms: a connection then holds
/// its chat as many times longer as its zone's views are stretched, up to `HELD_STRETCH_MAX`
/// times (a second), so the chat still goes out with the view.
pub const HELD_FLUSH_MAX: Duration = Duration::from_millis(250);
/// The most times longer chat waits for a zone's stretched views (above): as far as the views
/// stretch. Held half a second at most while a crowd's views came every 800 ms, a line heard by
/// everyone (global chat) was flushed alone for most of them, by the same broadcast round: about
/// 3,000 connections of a node of 5,000 woken at once, each writing, a few times a second, and
/// the players' answers waited behind them (40-200 ms) on a node already short of cores.
pub const HELD_STRETCH_MAX: u64 = realmkeep_zone::limits::VIEW_STRETCH_MAX;
/// Chat lines and announcements held for one connection until its next wake-up (`broadcast.rs`);
/// more are dropped and counted, as chat is best effort (the control queue's bound, which they used
/// before).
pub const HELD_LINES_MAX: usize = CONTROL_QUEUE_MAX;
/// How often the connections whose held lines waited since before the last round are woken to
/// send them: a player in a quiet spot hears a line two of these after it was said at the most;
/// a player at play takes it with its next view (and in the rare wake-up that writes nothing
/// at once, it waits `HELD_FLUSH_MAX` more).
pub const BROADCAST_ROUND_EVERY: Duration = Duration::from_millis(125);
/// The longest answer time the gateway's answer histogram tells apart (longer ones count as this).
pub const ANSWER_LATENCY_MAX_US: u64 = 60_000_000;
/// Entities that entered a player's view sent in one `view` frame; more go in the next frames.
pub const VIEW_ENTERED_PER_FRAME_MAX: usize = 16;

const _: () = assert!(CONNECTIONS_PER_IP_MAX <= CONNECTIONS_MAX);
const _: () = assert!(
    SWEEP_BATCH_MAX >= 1
        && SWEEP_BATCH_MAX <= realmkeep_cache::REVOKED_CHECK_MAX
        && SWEEP_BATCH_MAX <= realmkeep_cache::INBOX_PENDING_MAX
);
const _: () = assert!(
    VIEW_ENTERED_PER_FRAME_MAX >= 1
        && realmkeep_zone::limits::VIEW_ENTITIES_MAX.div_ceil(VIEW_ENTERED_PER_FRAME_MAX)
            < OUTBOUND_QUEUE_MAX / 4,
    "a whole view fits the outbound queue many times over"
);
const _: () = assert!(
    SOCKET_READ_BUFFER_BYTES >= 1024
        && SOCKET_READ_BUFFER_BYTES <= realmkeep_protocol::limits::FRAME_BYTES_MAX
);
const _: () = assert!(OUTBOUND_QUEUE_MAX >= 16 && RATE_LIMITED_IN_A_ROW_MAX >= 1);
const _: () = assert!(
    realmkeep_cache::RATE_TALLY_KEYS_MAX >= CONNECTIONS_MAX * crate::ws::admission::TALLIED.len(),
    "every connection the node may hold, each from its own address, is tallied"
);
const _: () = assert!(
    HELD_FLUSH_MAX.as_millis()
        > realmkeep_zone::limits::VIEW_CROWD_EVERY_TICKS as u128 * 1000 / 20
        && HELD_FLUSH_MAX.as_millis() <= 250
        && HELD_FLUSH_MAX.as_millis() < SEND_TIMEOUT.as_millis(),
    "held chat waits for the next view at the default 20 Hz, a crowd's too, and not long enough to be noticed"
);
const _: () = assert!(
    HELD_STRETCH_MAX >= 1
        && HELD_STRETCH_MAX <= realmkeep_zone::limits::VIEW_STRETCH_MAX
        && HELD_FLUSH_MAX.as_millis() * HELD_STRETCH_MAX as u128
            > realmkeep_zone::limits::VIEW_CROWD_EVERY_TICKS as u128
                * HELD_STRETCH_MAX as u128
                * 1000
                / 20
        && HELD_FLUSH_MAX.as_millis() * HELD_STRETCH_MAX as u128 <= 1_000,
    "with the views stretched up to HELD_STRETCH_MAX, held chat still waits for a crowd's next view, and a second at the most"
);
const _: () = assert!(WRITE_BATCH_MAX >= 1 && WRITE_BATCH_MAX <= OUTBOUND_QUEUE_MAX);
const _: () = assert!(NOTICES_PER_WAKE_MAX >= 1 && NOTICES_PER_WAKE_MAX <= OUTBOUND_QUEUE_MAX / 4);
const _: () = assert!(
    realmkeep_protocol::limits::PASSWORD_CHARS_MIN == realmkeep_domain::limits::PASSWORD_CHARS_MIN
        && realmkeep_protocol::limits::PASSWORD_CHARS_MAX
            == realmkeep_domain::limits::PASSWORD_CHARS_MAX,
    "the protocol tells clients the domain's password rule"
);
const _: () = assert!(
    realmkeep_protocol::limits::TICKET_TTL_SECS == realmkeep_cache::keys::TICKET_TTL.as_secs()
);
const _: () = assert!(
    BROADCAST_ROUND_EVERY.as_millis() * 2 <= HELD_FLUSH_MAX.as_millis(),
    "a quiet player hears a held line within the flush's wait"
);
const _: () = assert!(
    HELD_LINES_MAX <= OUTBOUND_QUEUE_MAX / 4,
    "a box's lines fit the outbound queue"
);
