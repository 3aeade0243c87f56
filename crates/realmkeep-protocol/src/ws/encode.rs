//! Server frames as text: each connection's frame serialised through the thread's scratch
//! buffer, and a message many connections send serialised once and framed for each.

use super::{ServerFrame, ServerMsg};

impl ServerFrame {
    /// The frame of `msg`, encoded once for many connections, with this connection's `seq`: the
    /// same text as serialising `ServerFrame::new(seq, msg)`.
    pub fn encode_with(seq: u64, msg: &EncodedMsg) -> String {
        use std::fmt::Write;
        let v = crate::PROTOCOL_VERSION;
        // Sized once: `format!` would grow it from a guess, copying the line each time.
        let mut text = String::with_capacity(msg.0.len() + ENCODED_FRAME_OVERHEAD_BYTES);
        let _ = write!(text, "{{\"v\":{v},\"seq\":{seq},\"msg\":{}}}", msg.0);
        text
    }

    /// The frame as text, serialised into the thread's scratch buffer and copied out once at its
    /// size (`serde_json::to_string` grows its buffer from 128 bytes, copying a view three times
    /// over on its way to a kilobyte).
    pub fn to_text(&self) -> String {
        SCRATCH.with_borrow_mut(|buf| {
            buf.clear();
            serde_json::to_writer(&mut *buf, self).expect("server frames serialise");
            let text = std::str::from_utf8(buf)
                .expect("serde_json writes UTF-8")
                .to_owned();
            if buf.capacity() > SCRATCH_KEPT_BYTES_MAX {
                *buf = Vec::new();
            }
            text
        })
    }
}

/// What a frame adds around its message: `{"v":N,"seq":N,"msg":` and `}`, with room for the
/// longest numbers.
const ENCODED_FRAME_OVERHEAD_BYTES: usize = 64;
/// The scratch buffer a thread keeps for encoding frames; a larger frame's is let go after it.
const SCRATCH_KEPT_BYTES_MAX: usize = 64 * 1024;

const _: () = assert!(SCRATCH_KEPT_BYTES_MAX >= crate::limits::FRAME_BYTES_MAX);

thread_local! {
    /// Each thread's buffer for [`ServerFrame::to_text`].
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A server message serialised once, for a message many connections send (a chat line of a
/// channel, an announcement): cloning it shares the text. One pointer wide (not `Arc<str>`'s
/// two), as it sits in every connection's queue slots.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedMsg(std::sync::Arc<String>);

impl EncodedMsg {
    pub fn new(msg: &ServerMsg) -> Self {
        let text = serde_json::to_string(msg).expect("server messages serialise");
        Self(std::sync::Arc::new(text))
    }
}
