//! The PostgreSQL driver is built with TLS (rustls): `sslmode=require` and `sslmode=verify-full`
//! start a TLS handshake instead of failing with "built without TLS support".
//!
//! No certificate and no database: a loopback listener plays the server's answer to PostgreSQL's
//! SSLRequest ("S": go ahead with TLS) and reads what the client sends next, which must be a TLS
//! handshake record (the ClientHello). The handshake then fails, as it must against a server with
//! no certificate.

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::Connection;
use std::str::FromStr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// PostgreSQL's SSLRequest message: its length (8), then the request code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
/// The server's one-byte answer to an SSLRequest: TLS accepted.
const SSL_ACCEPTED: u8 = b'S';
/// The content type of a TLS record carrying a handshake message (RFC 8446 §5.1).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;
/// A guard against a hang if the client never writes: far above a loopback round trip.
const EXCHANGE_MAX: Duration = Duration::from_secs(30);

/// Connects with `sslmode` to a listener that accepts TLS, and returns the first byte the client
/// sends after the server's "S".
async fn first_byte_after_tls_accepted(sslmode: &str) -> u8 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 8];
        socket.read_exact(&mut request).await.unwrap();
        assert_eq!(request, SSL_REQUEST, "the client asks for TLS first");
        socket.write_all(&[SSL_ACCEPTED]).await.unwrap();
        let mut first = [0u8; 1];
        socket.read_exact(&mut first).await.unwrap();
        first[0]
        // Dropping the socket ends the handshake: the client's connect fails.
    });
    let url = format!("postgres://realmkeep@127.0.0.1:{port}/realmkeep?sslmode={sslmode}");
    let options = PgConnectOptions::from_str(&url).unwrap();
    let connected = tokio::time::timeout(EXCHANGE_MAX, PgConnection::connect_with(&options))
        .await
        .expect("the client gives up once the server hangs up");
    assert!(
        connected.is_err(),
        "a server without a certificate cannot complete the handshake"
    );
    server.await.unwrap()
}

#[tokio::test]
async fn sslmode_require_starts_a_tls_handshake() {
    assert_eq!(
        first_byte_after_tls_accepted("require").await,
        TLS_HANDSHAKE_RECORD
    );
}

#[tokio::test]
async fn sslmode_verify_full_starts_a_tls_handshake() {
    assert_eq!(
        first_byte_after_tls_accepted("verify-full").await,
        TLS_HANDSHAKE_RECORD
    );
}

#[test]
fn tls_sslmodes_parse_from_the_database_url() {
    let url = "postgres://realmkeep@db.example.org/realmkeep?sslmode=verify-full&sslrootcert=/etc/realmkeep/ca.pem";
    let options = PgConnectOptions::from_str(url).unwrap();
    assert!(matches!(options.get_ssl_mode(), PgSslMode::VerifyFull));
    let options =
        PgConnectOptions::from_str("postgres://realmkeep@db.example.org/realmkeep?sslmode=require")
            .unwrap();
    assert!(matches!(options.get_ssl_mode(), PgSslMode::Require));
}
