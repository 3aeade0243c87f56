//! The checked-in JSON Schema (`docs/protocol-v1.schema.json`) is the one the types generate.
//! `REALMKEEP_UPDATE_SCHEMA=1 cargo test -p realmkeep-protocol --test schema` writes it again.

use realmkeep_protocol::ws::{
    Announcement, Answer, ChatLine, ClientFrame, Command, EncodedMsg, ServerFrame, ServerMsg,
};

fn path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/protocol-v1.schema.json")
}

#[test]
fn the_checked_in_schema_is_current() {
    let generated = realmkeep_protocol::schema::pretty();
    if std::env::var_os("REALMKEEP_UPDATE_SCHEMA").is_some() {
        std::fs::write(path(), &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(path()).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/protocol-v1.schema.json is stale: run REALMKEEP_UPDATE_SCHEMA=1 cargo test -p realmkeep-protocol --test schema"
    );
}

#[test]
fn frames_read_as_the_protocol_document_shows_them() {
    let f: ClientFrame =
        serde_json::from_str(r#"{"v":1,"id":7,"cmd":{"type":"move_to","x":10.5,"y":3.0}}"#)
            .unwrap();
    assert_eq!(f, ClientFrame::new(7, Command::MoveTo { x: 10.5, y: 3.0 }));
    let s = ServerFrame::new(
        42,
        ServerMsg::Answer {
            id: 7,
            result: Answer::Ok,
        },
    );
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        r#"{"v":1,"seq":42,"msg":{"type":"answer","id":7,"result":"ok"}}"#
    );
    let refused = ServerMsg::Answer {
        id: 8,
        result: Answer::Refused {
            reason: realmkeep_protocol::Reason::BadPosition,
            detail: None,
        },
    };
    assert_eq!(
        serde_json::to_string(&refused).unwrap(),
        r#"{"type":"answer","id":8,"result":"refused","reason":"bad_position"}"#
    );
    // A view's moved entries are arrays, positions and velocities to the hundredth, as the
    // document shows.
    let v = ServerMsg::View(realmkeep_protocol::ws::View {
        moved: vec![realmkeep_protocol::ws::Moved::new(
            131, 257.204_3, 256.0, 150, -4.242_64, 0.0,
        )],
        left: vec![133],
        ..Default::default()
    });
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"type":"view","moved":[[131,257.2,256.0,150,-4.24,0.0]],"left":[133]}"#
    );
    // An entity that enters standing has no velocity; one that enters walking has it.
    let entered: realmkeep_protocol::ws::View = serde_json::from_str(
        r#"{"entered":[{"net_id":5,"kind":"monster","def":1,"level":2,"x":1.0,"y":2.0,"health":9,"max_health":9},
                       {"net_id":6,"kind":"monster","def":1,"level":2,"x":1.0,"y":2.0,"vx":3.0,"health":9,"max_health":9}]}"#,
    )
    .unwrap();
    assert_eq!(
        (
            entered.entered[0].vx,
            entered.entered[1].vx,
            entered.entered[1].vy
        ),
        (0.0, 3.0, 0.0)
    );
    assert!(!serde_json::to_string(&entered.entered[0])
        .unwrap()
        .contains("vx"));
    // A server message a client does not know is still a frame it can skip.
    let back: ServerFrame = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
}

#[test]
fn a_message_encoded_once_frames_as_the_whole_frame_serialises() {
    let messages = [
        ServerMsg::Chat(ChatLine {
            channel: "global".into(),
            from: 12,
            name: "Ann \"the\" bold".into(),
            text: "hello\n\u{e9}\u{1F600} </script>".into(),
            history: false,
        }),
        ServerMsg::Announcement(Announcement::Maintenance {
            starts_unix_ms: 1_800_000_000_000,
            message: "back soon".into(),
        }),
    ];
    for msg in messages {
        let once = EncodedMsg::new(&msg);
        for seq in [0, 1, u64::MAX] {
            let whole = serde_json::to_string(&ServerFrame::new(seq, msg.clone())).unwrap();
            assert_eq!(ServerFrame::encode_with(seq, &once), whole);
            assert_eq!(ServerFrame::new(seq, msg.clone()).to_text(), whole);
        }
    }
    // A frame larger than the scratch buffer a thread keeps, then a small one on the same thread.
    let long = ServerMsg::Chat(ChatLine {
        channel: "global".into(),
        from: 1,
        name: "n".into(),
        text: "x".repeat(100 * 1024),
        history: false,
    });
    let small = ServerMsg::Chat(ChatLine {
        channel: "say".into(),
        from: 2,
        name: "m".into(),
        text: "hi".into(),
        history: true,
    });
    for msg in [long, small] {
        let frame = ServerFrame::new(7, msg);
        assert_eq!(frame.to_text(), serde_json::to_string(&frame).unwrap());
    }
}
