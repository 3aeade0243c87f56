//! Reading a server frame, as a Rust client does (the bots, the tests' sockets).
//!
//! `view` and `chat` frames are most of what a client reads: five or ten views a second for
//! each player, each with the moves of everything around it, and every line of the channels it
//! hears; then the answers `ok` to its commands. serde reads an internally tagged enum
//! (`ServerMsg`, tagged by `"type"`) by first buffering the whole message into a tree of its
//! own, then reading the tree; for a view that doubled the work of every move in it, and a chat
//! line's strings were copied twice (an answer is buffered twice: its result is flattened into
//! it). These three are read straight into their fields here. Every other message, and anything
//! the direct reading refuses, takes the general path, so the result is the same `ServerFrame`
//! (or the same error) either way: a test holds it.

use crate::ws::{Answer, ChatLine, Entity, Moved, ServerFrame, ServerMsg, View};
use serde::Deserialize;
use std::marker::PhantomData;

/// A frame of one message type, read without the tag's buffering. Unknown fields are refused
/// (the general path then reads the frame): skipping them here would check them less than the
/// general path's buffering does (numbers out of range, nesting depth).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectFrame<M> {
    v: u32,
    seq: u64,
    msg: M,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewMsg {
    #[serde(rename = "type")]
    _tag: Tag<IsView>,
    #[serde(default)]
    entered: Vec<Entity>,
    #[serde(default)]
    moved: Vec<Moved>,
    #[serde(default)]
    left: Vec<u64>,
}

/// `ChatLine`'s fields, as its own type declares them (a test checks the two read alike).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatMsg {
    #[serde(rename = "type")]
    _tag: Tag<IsChat>,
    channel: String,
    from: i64,
    name: String,
    text: String,
    #[serde(default)]
    history: bool,
}

/// An answer `ok`, the most frequent answer (every move's): any other result takes the general
/// path.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerOkMsg {
    #[serde(rename = "type")]
    _tag: Tag<IsAnswer>,
    id: u64,
    #[serde(rename = "result")]
    _result: Tag<IsOk>,
}

/// The `"type"` of a message read directly (and the `"result"` of an answer read directly).
trait TypeName {
    const NAME: &'static str;
}

/// A type whose `TypeName` is the given string.
macro_rules! type_names {
    ($($ty:ident = $name:literal),* $(,)?) => {
        $(
            struct $ty;
            impl TypeName for $ty {
                const NAME: &'static str = $name;
            }
        )*
    };
}

type_names!(
    IsView = "view",
    IsChat = "chat",
    IsAnswer = "answer",
    IsOk = "ok"
);

/// Only the string `T::NAME`: any other type (or a tag that is not a string, which serde's
/// reading of an enum would take, as `{"view":null}`) refuses at once, and the general path
/// reads the message.
struct Tag<T>(PhantomData<T>);

impl<'de, T: TypeName> Deserialize<'de> for Tag<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T>(PhantomData<T>);
        impl<T: TypeName> serde::de::Visitor<'_> for Visit<T> {
            type Value = Tag<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "the string {:?}", T::NAME)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Tag<T>, E> {
                if v == T::NAME {
                    Ok(Tag(PhantomData))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_str(Visit(PhantomData))
    }
}

/// How the server begins a view's and a chat line's message. Only a frame holding one is tried
/// directly: for any other, a failed attempt would cost more than the general reading (serde's
/// error is formatted). Inside a JSON string every quote is escaped, so a chat line's text
/// cannot hold one; and a frame that holds one anyway is only tried, then read the general way.
const VIEW_BEGINS: &str = r#""msg":{"type":"view""#;
const CHAT_BEGINS: &str = r#""msg":{"type":"chat""#;
const ANSWER_BEGINS: &str = r#""msg":{"type":"answer""#;
/// And how an answer `ok` says it: any other answer (refused, try again) is read the general way
/// at once.
const ANSWER_OK: &str = r#""result":"ok""#;

/// A server frame from its JSON text.
pub fn server_frame(text: &str) -> serde_json::Result<ServerFrame> {
    let direct = if text.contains(VIEW_BEGINS) {
        direct(text, |m: ViewMsg| {
            ServerMsg::View(View {
                entered: m.entered,
                moved: m.moved,
                left: m.left,
            })
        })
    } else if text.contains(CHAT_BEGINS) {
        direct(text, |m: ChatMsg| {
            ServerMsg::Chat(ChatLine {
                channel: m.channel,
                from: m.from,
                name: m.name,
                text: m.text,
                history: m.history,
            })
        })
    } else if text.contains(ANSWER_BEGINS) && text.contains(ANSWER_OK) {
        direct(text, |m: AnswerOkMsg| ServerMsg::Answer {
            id: m.id,
            result: Answer::Ok,
        })
    } else {
        None
    };
    match direct {
        Some(f) => Ok(f),
        None => serde_json::from_str(text),
    }
}

/// The frame read directly as a frame of `M`, if it is one.
fn direct<M: serde::de::DeserializeOwned>(
    text: &str,
    msg: impl FnOnce(M) -> ServerMsg,
) -> Option<ServerFrame> {
    let f = serde_json::from_str::<DirectFrame<M>>(text).ok()?;
    Some(ServerFrame {
        v: f.v,
        seq: f.seq,
        msg: msg(f.msg),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::EntityKind;

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
            ServerMsg::Chat(ChatLine {
                channel: "say".into(),
                from: -3,
                name: "carl".into(),
                text: "\"msg\":{\"type\":\"chat\" \u{e9}\n\\".into(),
                history: true,
            }),
            ServerMsg::Answer {
                id: 4,
                result: Answer::Ok,
            },
            ServerMsg::Answer {
                id: 5,
                result: Answer::Refused {
                    reason: crate::Reason::OutOfRange,
                    detail: Some("too far".into()),
                },
            },
            ServerMsg::Answer {
                id: 6,
                result: Answer::TryAgain {
                    retry_after_ms: Some(100),
                },
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
            // Answers: ok in any order, other results, unknown fields, a result not a string.
            r#"{"v":1,"seq":2,"msg":{"result":"ok","id":7,"type":"answer"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"answer","id":7,"result":"refused","reason":"invalid"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"answer","id":7,"result":"try_again"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"answer","id":7,"result":"ok","x":1}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"answer","id":7,"result":{"ok":null}}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"answer","id":-7,"result":"ok"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"answer","result":"ok"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"answer","id":7,"result":"ok","id":8}}"#,
            // Chat lines: fields in any order, escapes, unknown or missing fields, wrong types.
            r#"{"v":1,"seq":2,"msg":{"text":"hi","type":"chat","channel":"say","from":1,"name":"a"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"chat","channel":"say","from":1,"name":"a\u00e9","text":"\"\n"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"chat","channel":"say","from":1,"name":"a","text":"b","history":true}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"chat","channel":"say","from":1,"name":"a","text":"b","x":1}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"chat","channel":"say","from":1,"name":"a"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"chat","channel":"say","from":1.5,"name":"a","text":"b"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"chat","channel":"say","from":99999999999999999999,"name":"a","text":"b"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"chat","channel":"say","from":1,"name":"a","text":"\ud800"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"chat","channel":"say","from":1,"name":"a","text":"b","text":"c"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"chats","channel":"say","from":1,"name":"a","text":"b"}}"#,
            r#"{"v":1,"seq":2,"msg":{"type":"chat","channel":"say","from":1,"name":"a","text":"b","history":null}}"#,
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
