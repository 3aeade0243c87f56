//! A Rust client of the gateway (feature `client`): the HTTP API typed, and a WebSocket that
//! speaks protocol v1. The tests and the bots use it; it holds no game logic.

use crate::http::*;
use crate::ws::{Answer, ClientFrame, Command, ServerFrame, ServerMsg};
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Longest wait for one HTTP answer or one WebSocket message.
pub const CLIENT_WAIT: Duration = Duration::from_secs(20);

#[derive(Debug)]
pub enum ClientError {
    /// The server refused: its status and reason.
    Api {
        status: u16,
        error: ApiError,
    },
    Transport(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Api { status, error } => {
                write!(f, "{status} {:?}: {}", error.error, error.message)
            }
            ClientError::Transport(e) => write!(f, "transport: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// The reason code of a refusal.
    pub fn reason(&self) -> Option<crate::Reason> {
        match self {
            ClientError::Api { error, .. } => Some(error.error),
            ClientError::Transport(_) => None,
        }
    }
}

fn transport(e: impl std::fmt::Display) -> ClientError {
    ClientError::Transport(e.to_string())
}

/// The HTTP API at `base` (`http://127.0.0.1:7400`).
#[derive(Debug, Clone)]
pub struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder()
                .timeout(CLIENT_WAIT)
                .build()
                .expect("an HTTP client builds"),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `ws://...` of the same server.
    pub fn ws_url(&self) -> String {
        format!("{}/v1/ws", self.base.replacen("http", "ws", 1))
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let r = req.send().await.map_err(transport)?;
        let status = r.status().as_u16();
        let bytes = r.bytes().await.map_err(transport)?;
        if (200..300).contains(&status) {
            let body: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            serde_json::from_slice(body).map_err(transport)
        } else {
            match serde_json::from_slice::<ApiError>(&bytes) {
                Ok(error) => Err(ClientError::Api { status, error }),
                Err(_) => Err(ClientError::Transport(format!(
                    "{status}: {}",
                    String::from_utf8_lossy(&bytes)
                ))),
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn register(
        &self,
        name: &str,
        email: &str,
        password: &str,
    ) -> Result<AccountCreated, ClientError> {
        let body = Registration {
            name: name.into(),
            email: email.into(),
            password: password.into(),
        };
        self.call(self.client.post(self.url("/v1/accounts")).json(&body))
            .await
    }

    pub async fn login(&self, name: &str, password: &str) -> Result<SessionIssued, ClientError> {
        let body = Credentials {
            name: name.into(),
            password: password.into(),
        };
        self.call(self.client.post(self.url("/v1/sessions")).json(&body))
            .await
    }

    pub async fn refresh(&self, token: &str) -> Result<SessionIssued, ClientError> {
        self.call(
            self.client
                .post(self.url("/v1/sessions/refresh"))
                .bearer_auth(token),
        )
        .await
    }

    pub async fn logout(&self, token: &str) -> Result<(), ClientError> {
        self.call(
            self.client
                .delete(self.url("/v1/sessions"))
                .bearer_auth(token),
        )
        .await
    }

    pub async fn change_password(
        &self,
        token: &str,
        old: &str,
        new: &str,
    ) -> Result<(), ClientError> {
        let body = PasswordChange {
            old_password: old.into(),
            new_password: new.into(),
        };
        self.call(
            self.client
                .put(self.url("/v1/accounts/password"))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    pub async fn characters(&self, token: &str) -> Result<Vec<CharacterRow>, ClientError> {
        self.call(
            self.client
                .get(self.url("/v1/characters"))
                .bearer_auth(token),
        )
        .await
    }

    pub async fn create_character(
        &self,
        token: &str,
        name: &str,
        class: &str,
        kingdom: &str,
    ) -> Result<CharacterRow, ClientError> {
        let body = NewCharacter {
            name: name.into(),
            class: class.into(),
            kingdom: kingdom.into(),
        };
        self.call(
            self.client
                .post(self.url("/v1/characters"))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    pub async fn delete_character(&self, token: &str, id: i64) -> Result<(), ClientError> {
        self.call(
            self.client
                .delete(self.url(&format!("/v1/characters/{id}")))
                .bearer_auth(token),
        )
        .await
    }

    pub async fn ticket(&self, token: &str, character: i64) -> Result<TicketIssued, ClientError> {
        self.call(
            self.client
                .post(self.url("/v1/tickets"))
                .bearer_auth(token)
                .json(&TicketRequest { character }),
        )
        .await
    }

    /// A new player, the way tests and scripted clients make one: registers `name` (e-mail
    /// `name@example.com`), logs in, and creates a character of the same name. Returns the
    /// session token and the character's id.
    pub async fn new_player(
        &self,
        name: &str,
        password: &str,
        class: &str,
        kingdom: &str,
    ) -> Result<(String, i64), ClientError> {
        self.register(name, &format!("{name}@example.com"), password)
            .await?;
        let token = self.login(name, password).await?.token;
        let character = self
            .create_character(&token, name, class, kingdom)
            .await?
            .id;
        Ok((token, character))
    }

    /// `GET /readyz`: the status code and the body.
    pub async fn readyz(&self) -> Result<(u16, Readiness), ClientError> {
        let r = self
            .client
            .get(self.url("/readyz"))
            .send()
            .await
            .map_err(transport)?;
        let status = r.status().as_u16();
        let body = r.json().await.map_err(transport)?;
        Ok((status, body))
    }

    /// A raw request, for tests of bad input: the status and the body's text.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> Result<(u16, String), ClientError> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(transport)?;
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.map_err(transport)?;
        let status = r.status().as_u16();
        Ok((status, r.text().await.map_err(transport)?))
    }
}

/// What the socket gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Frame(ServerFrame),
    /// The server closed: its close code (if it sent one).
    Closed(Option<u16>),
}

type Stream<S> = tokio_tungstenite::WebSocketStream<S>;

/// A WebSocket speaking protocol v1. Request ids count from 1.
pub struct Socket<S> {
    ws: Stream<S>,
    next_id: u64,
    /// Messages read while waiting for something else, in order.
    pub backlog: std::collections::VecDeque<ServerFrame>,
    traffic: Traffic,
}

/// Data frames a socket sent and received, and their size on the wire (payload and WebSocket
/// frame header, the client's mask included; TCP/IP headers not). Control frames (ping, pong,
/// close) are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub frames_sent: u64,
    pub bytes_sent: u64,
    pub frames_received: u64,
    pub bytes_received: u64,
}

impl Traffic {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Traffic) -> Traffic {
        Traffic {
            frames_sent: self.frames_sent.saturating_sub(earlier.frames_sent),
            bytes_sent: self.bytes_sent.saturating_sub(earlier.bytes_sent),
            frames_received: self.frames_received.saturating_sub(earlier.frames_received),
            bytes_received: self.bytes_received.saturating_sub(earlier.bytes_received),
        }
    }
}

/// A data frame's size on the wire: RFC 6455's header (2 bytes, then 2 or 8 more for the
/// length, 4 for the mask of a client's frame) and the payload.
pub fn frame_wire_bytes(payload: usize, masked: bool) -> u64 {
    let length = match payload {
        0..=125 => 0,
        126..=65_535 => 2,
        _ => 8,
    };
    (2 + length + if masked { 4 } else { 0 } + payload) as u64
}

pub type PlainSocket = Socket<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl PlainSocket {
    /// Connects to `ws://.../v1/ws`, without Nagle's delay (a command goes out when it is
    /// sent) and with a small read buffer (`CLIENT_READ_BUFFER_BYTES`).
    pub async fn connect(url: &str) -> Result<Self, ClientError> {
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(crate::limits::CLIENT_READ_BUFFER_BYTES);
        let connect = tokio_tungstenite::connect_async_with_config(url, Some(config), true);
        let (ws, _) = tokio::time::timeout(CLIENT_WAIT, connect)
            .await
            .map_err(transport)?
            .map_err(transport)?;
        Ok(Socket::from_stream(ws))
    }

    /// Asks `http` for a ticket for `character`, connects to its socket and joins with the
    /// ticket: the socket (its backlog holds what came before the answer, the welcome among
    /// it) and the join's answer.
    pub async fn join(
        http: &Http,
        token: &str,
        character: i64,
    ) -> Result<(Self, Answer), ClientError> {
        let ticket = http.ticket(token, character).await?.ticket;
        let mut ws = Self::connect(&http.ws_url()).await?;
        let answer = ws.request(Command::Join { ticket }).await?;
        Ok((ws, answer))
    }
}

impl<S> Socket<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    pub fn from_stream(ws: Stream<S>) -> Self {
        Self {
            ws,
            next_id: 1,
            backlog: Default::default(),
            traffic: Traffic::default(),
        }
    }

    /// Data frames sent and received since the socket opened.
    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    fn sent(&mut self, payload: usize) {
        self.traffic.frames_sent += 1;
        self.traffic.bytes_sent += frame_wire_bytes(payload, true);
    }

    /// Sends a command with the next request id; returns the id.
    pub async fn send(&mut self, cmd: Command) -> Result<u64, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.send_frame(&ClientFrame::new(id, cmd)).await?;
        Ok(id)
    }

    pub async fn send_frame(&mut self, f: &ClientFrame) -> Result<(), ClientError> {
        self.next_id = self.next_id.max(f.id + 1);
        let text = serde_json::to_string(f).map_err(transport)?;
        self.send_text(&text).await
    }

    pub async fn send_text(&mut self, text: &str) -> Result<(), ClientError> {
        self.sent(text.len());
        self.ws
            .send(Message::Text(text.into()))
            .await
            .map_err(transport)
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), ClientError> {
        self.sent(bytes.len());
        self.ws
            .send(Message::Binary(bytes.into()))
            .await
            .map_err(transport)
    }

    /// The next data frame as it came, text or binary, or the close; for clients of endpoints
    /// that do not speak protocol v1 (the benchmark's echo).
    pub async fn next_raw(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        tokio::time::timeout(CLIENT_WAIT, self.next_raw_untimed())
            .await
            .map_err(|_| ClientError::Transport("no message in time".into()))?
    }

    /// As `next_raw`, waiting as long as it takes: for a caller that keeps its own deadline
    /// (no timer is set and cleared for each frame). Cancel safe.
    pub async fn next_raw_untimed(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        loop {
            match self.ws.next().await {
                None | Some(Ok(Message::Close(_))) => return Ok(None),
                Some(Err(e)) => return Err(transport(e)),
                Some(Ok(Message::Text(t))) => {
                    self.received(t.len());
                    return Ok(Some(t.as_bytes().to_vec()));
                }
                Some(Ok(Message::Binary(b))) => {
                    self.received(b.len());
                    return Ok(Some(b.to_vec()));
                }
                Some(Ok(_)) => {}
            }
        }
    }

    fn received(&mut self, payload: usize) {
        self.traffic.frames_received += 1;
        self.traffic.bytes_received += frame_wire_bytes(payload, false);
    }

    /// The next server message or the close (pings are answered by the library).
    pub async fn next(&mut self) -> Result<Incoming, ClientError> {
        if let Some(f) = self.backlog.pop_front() {
            return Ok(Incoming::Frame(f));
        }
        self.read().await
    }

    /// As `next`, waiting as long as it takes: for a caller that keeps its own deadline (no
    /// timer is set and cleared for each frame; thousands of bots read tens of thousands of
    /// frames a second). Cancel safe.
    pub async fn next_untimed(&mut self) -> Result<Incoming, ClientError> {
        if let Some(f) = self.backlog.pop_front() {
            return Ok(Incoming::Frame(f));
        }
        self.read_untimed().await
    }

    /// The next message off the socket, within `CLIENT_WAIT` (every wait for an answer, or for
    /// the close, is bounded by it per message).
    async fn read(&mut self) -> Result<Incoming, ClientError> {
        tokio::time::timeout(CLIENT_WAIT, self.read_untimed())
            .await
            .map_err(|_| ClientError::Transport("no message in time".into()))?
    }

    async fn read_untimed(&mut self) -> Result<Incoming, ClientError> {
        loop {
            match self.ws.next().await {
                None => return Ok(Incoming::Closed(None)),
                Some(Err(e)) => return Err(transport(e)),
                Some(Ok(Message::Text(t))) => {
                    self.received(t.len());
                    let f = crate::read::server_frame(&t).map_err(transport)?;
                    return Ok(Incoming::Frame(f));
                }
                Some(Ok(Message::Close(c))) => {
                    return Ok(Incoming::Closed(c.map(|c| u16::from(c.code))))
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// Reads until the answer to request `id` (other messages go to the backlog).
    pub async fn answer(&mut self, id: u64) -> Result<Answer, ClientError> {
        if let Some(pos) = self
            .backlog
            .iter()
            .position(|f| matches!(&f.msg, ServerMsg::Answer { id: i, .. } if *i == id))
        {
            let f = self.backlog.remove(pos).expect("found");
            if let ServerMsg::Answer { result, .. } = f.msg {
                return Ok(result);
            }
        }
        loop {
            match self.read().await? {
                Incoming::Frame(ServerFrame {
                    msg: ServerMsg::Answer { id: i, result },
                    ..
                }) if i == id => return Ok(result),
                Incoming::Frame(f) => self.backlog.push_back(f),
                Incoming::Closed(code) => {
                    return Err(ClientError::Transport(format!(
                        "closed ({code:?}) before the answer to {id}"
                    )))
                }
            }
        }
    }

    /// Sends a command and waits for its answer.
    pub async fn request(&mut self, cmd: Command) -> Result<Answer, ClientError> {
        let id = self.send(cmd).await?;
        self.answer(id).await
    }

    /// Reads until the server closes; the close code.
    pub async fn closed(&mut self) -> Result<Option<u16>, ClientError> {
        loop {
            match self.read().await? {
                Incoming::Closed(c) => return Ok(c),
                Incoming::Frame(f) => self.backlog.push_back(f),
            }
        }
    }

    pub async fn close(&mut self) {
        let _ = self.ws.close(None).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::DuplexStream;
    use tokio_tungstenite::tungstenite::protocol::Role;

    /// A socket whose server is there and says nothing (the server's end is returned, open).
    async fn silent() -> (Socket<DuplexStream>, DuplexStream) {
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let ws =
            tokio_tungstenite::WebSocketStream::from_raw_socket(ours, Role::Client, None).await;
        (Socket::from_stream(ws), theirs)
    }

    fn timed_out(e: ClientError) -> bool {
        matches!(e, ClientError::Transport(ref t) if t == "no message in time")
    }

    #[tokio::test(start_paused = true)]
    async fn every_wait_for_the_server_ends_after_the_client_wait() {
        let (mut s, _server) = silent().await;
        let started = tokio::time::Instant::now();
        assert!(timed_out(s.request(Command::Stop).await.unwrap_err()));
        let waited = started.elapsed();
        assert!(
            waited >= CLIENT_WAIT && waited < CLIENT_WAIT * 2,
            "{waited:?}"
        );
        assert!(timed_out(s.closed().await.unwrap_err()));
        assert!(timed_out(s.next().await.unwrap_err()));
        assert!(timed_out(s.next_raw().await.unwrap_err()));
        // The untimed reads are for callers that keep their own deadline: they wait on.
        let longer = CLIENT_WAIT * 3;
        assert!(tokio::time::timeout(longer, s.next_untimed())
            .await
            .is_err());
        assert!(tokio::time::timeout(longer, s.next_raw_untimed())
            .await
            .is_err());
    }
}
