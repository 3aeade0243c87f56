//! Reading a server frame, as a Rust client does (the bots, the tests' sockets).
//!
//! `view` frames are most of what a client reads: five or ten a second for each player, each
//! with the moves of everything around it. serde reads an internally tagged enum (`ServerMsg`,
//! tagged by `"type"`) by first buffering the whole message into a tree of its own, then reading
//! the tree; for a view that doubled the work of every move in it. A view is read straight into
//! its fields here. Every other message, and anything the direct reading refuses, takes the
//! general path, so the result is the same `ServerFrame` (or the same error) either way: a
//! test holds it.

use crate::ws::{Entity, Moved, ServerFrame, ServerMsg, View};
use serde::Deserialize;

/// A `view` frame's shape, read without the tag's buffering. Unknown fields are refused (the
/// general path then reads the frame): skipping them here would check them less than the
/// general path's buffering does (numbers out of range, nesting depth).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewFrame {
    v: u32,
    seq: u64,
    msg: ViewMsg,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewMsg {
    #[serde(rename = "type")]
    _tag: ViewTag,
    #[serde(default)]
    entered: Vec<Entity>,
    #[serde(default)]
    moved: Vec<Moved>,
    #[serde(default)]
    left: Vec<u64>,
}

/// Only the string `"view"`: any other type (or a tag that is not a string, which serde's
/// reading of an enum would take, as `{"view":null}`) refuses at once, and the general path
/// reads the message.
struct ViewTag;

impl<'de> Deserialize<'de> for ViewTag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Tag;
        impl serde::de::Visitor<'_> for Tag {
            type Value = ViewTag;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("the string \"view\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ViewTag, E> {
                match v {
                    "view" => Ok(ViewTag),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_str(Tag)
    }
}

/// How the server begins a view's message. Only a frame holding it is tried as a view first:
/// for any other, a failed attempt would cost more than the general reading (serde's error is
/// formatted). Inside a JSON string every quote is escaped, so a chat line cannot hold it; and
/// a frame that holds it anyway is only tried, then read the general way.
const VIEW_BEGINS: &str = r#""msg":{"type":"view""#;

/// A server frame from its JSON text.
pub fn server_frame(text: &str) -> serde_json::Result<ServerFrame> {
    if !text.contains(VIEW_BEGINS) {
        return serde_json::from_str(text);
    }
    match serde_json::from_str::<ViewFrame>(text) {
        Ok(f) => Ok(ServerFrame {
            v: f.v,
            seq: f.seq,
            msg: ServerMsg::View(View {
                entered: f.msg.entered,
                moved: f.msg.moved,
                left: f.msg.left,
            }),
        }),
        Err(_) => serde_json::from_str(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::{Answer, ChatLine, EntityKind};

    fn general(text: &str) -> Result<ServerFrame, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    fn direct(text: &str) -> Result<ServerFrame, String> {
        server_frame(text).map_err(|e| e.to_string())
    }

    fn entity(net_id: u64, kind: EntityKind) -> Entity {
        Entity {
            net_id,
            kind,
            x: 10.25,
            y: -3.5,
            vx: 1.5,
            vy: 0.0,
            health: 40,
            max_health: 50,
        }
    }

    #[test]
    fn reads_every_frame_as_the_general_path_does() {
        let view = View {
            entered: vec![
                entity(
                    7,
                    EntityKind::Player {
                        character: 12,
                        name: "alice".into(),
                        level: 3,
                    },
                ),
                entity(8, EntityKind::Monster { def: 2, level: 5 }),
                entity(
                    9,
                    EntityKind::Loot {
                        def: 4,
                        quantity: 1,
                    },
                ),
            ],
            moved: vec![
                Moved::new(5, 1.0, 2.0, 30, 0.5, -0.5),
                Moved::new(6, 0.0, 0.0, 0, 0.0, 0.0),
            ],
            left: vec![3, 4],
        };
        let messages = [
            ServerMsg::View(view),
            ServerMsg::View(View::default()),
            ServerMsg::Chat(ChatLine {
                channel: "global".into(),
                from: 2,
                name: "bobby".into(),
                text: "well met".into(),
                history: false,
            }),
            ServerMsg::Answer {
                id: 4,
                result: Answer::Ok,
            },
        ];
        for msg in messages {
            let text = serde_json::to_string(&ServerFrame::new(11, msg.clone())).unwrap();
            let read = direct(&text).unwrap();
            assert_eq!(read, general(&text).unwrap(), "{text}");
            assert_eq!(read.msg, msg);
        }
    }

    #[test]
    fn odd_and_bad_frames_read_as_the_general_path_reads_them() {
        for text in [
            // The tag last, an unknown field, fields left out: still a view.
            r#"{"v":1,"seq":2,"msg":{"moved":[[1,2.0,3.0,4,0.0,0.0]],"extra":true,"type":"view"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"view"}}"#,
            // Not views, or not well formed.
            r#"{"v":1,"seq":2,"msg":{"type":"views"}}"#,
            r#"{"v":1,"seq":2,"msg":{"moved":[]}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"view","moved":[[1,2.0]]}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"view","left":[1],"left":[2]}}"#,
            r#"{"v":1,"msg":{"type":"view"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"view"}} trailing"#,
            // A tag that is not a string, and unknown fields the general path checks.
            r#"{"v":1,"seq":2,"msg":{"type":{"view":null}},"pad":{"msg":{"type":"view"}}}"#,
            r#"{"v":1,"seq":2,"msg":[{"view":null}],"pad":"\"msg\":{\"type\":\"view\""}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"view","pad":1e400}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"view"},"pad":1e400}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"view","pad":"\ud800"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"view","type":"view"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":2}}"#,
            "",
            "[]",
        ] {
            assert_eq!(direct(text), general(text), "{text}");
        }
        let deep = format!(
            r#"{{"v":1,"seq":2,"msg":{{"type":"view","pad":{}{}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert_eq!(direct(&deep), general(&deep));
    }
}
