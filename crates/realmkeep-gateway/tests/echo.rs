//! The benchmark's echo endpoint: every data frame comes back as it was, in order, on a real
//! socket; a closed client ends its connection.

use realmkeep_gateway::echo::{Echo, ECHO_PATH};
use realmkeep_protocol::client::{frame_wire_bytes, PlainSocket};

#[tokio::test]
async fn the_echo_sends_every_frame_back_in_order() {
    let echo = Echo::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    assert!(echo.url().ends_with(ECHO_PATH), "{}", echo.url());
    let mut ws = PlainSocket::connect(&echo.url()).await.unwrap();
    let frames = ["a", &"b".repeat(200), &"c".repeat(16_000)];
    for f in frames {
        ws.send_text(f).await.unwrap();
    }
    ws.send_binary(vec![1, 2, 3]).await.unwrap();
    for f in frames {
        assert_eq!(ws.next_raw().await.unwrap().unwrap(), f.as_bytes());
    }
    assert_eq!(ws.next_raw().await.unwrap().unwrap(), vec![1, 2, 3]);
    // Sizes on the wire as RFC 6455 frames them: the client's frames masked, the echo's not.
    let t = ws.traffic();
    assert_eq!((t.frames_sent, t.frames_received), (4, 4));
    let payload: Vec<usize> = vec![1, 200, 16_000, 3];
    let sent: u64 = payload.iter().map(|&p| frame_wire_bytes(p, true)).sum();
    let received: u64 = payload.iter().map(|&p| frame_wire_bytes(p, false)).sum();
    assert_eq!((t.bytes_sent, t.bytes_received), (sent, received));
    assert_eq!(frame_wire_bytes(1, true), 7);
    assert_eq!(frame_wire_bytes(200, false), 204);
    assert_eq!(frame_wire_bytes(70_000, false), 70_010);
    ws.close().await;
    echo.stop();
}
