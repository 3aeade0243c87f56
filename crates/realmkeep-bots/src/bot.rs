//! One bot's life: an account (registered once, else logged into), a character, a ticket, a
//! join; then, at a human rate, the simulator's mind decides from what the socket showed and
//! the bot sends the command and waits for nothing (answers come as they come). It follows a
//! `redirect` to another node, and reconnects when dropped, until its time is up (or the run is
//! stopped); then it logs out. An idle bot joins and sends nothing.

use crate::config::{BotsConfig, Play};
use crate::deadline::Deadline;
use crate::ledger::Committed;
use crate::stats::{bump, Stats};
use crate::stood::Stood;
use crate::view::SeenWorld;
use crate::wire;
use realmkeep_protocol::client::{ClientError, Http, Incoming, PlainSocket, Traffic};
use realmkeep_protocol::ws::{Answer, Command, CommandKind, Data, ServerMsg};
use realmkeep_protocol::Reason;
use realmkeep_sim::{Behaviour, Intent, Mind};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Between two connection attempts of one bot.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);
/// Commands of one bot waiting for their answer at the most (the gateway allows 32).
const IN_FLIGHT_MAX: usize = 16;
/// Reading the view after a `Stop` was answered, before the position counts: the zone tells a
/// player's view every `VIEW_EVERY_TICKS` ticks (`VIEW_CROWD_EVERY_TICKS` in a crowd, up to
/// `VIEW_STRETCH_MAX` times slower on a node short of CPU), so two views' time sees the last
/// step told.
const STAND_SETTLE: Duration = Duration::from_millis(1_650);
/// Longest wait for the `Stop` to be answered at the end (then no position is kept).
const STAND_WAIT: Duration = Duration::from_secs(5);
/// A zone's tick at its default 20 Hz.
const TICK_MS: u64 = 50;
const _: () = assert!(
    STAND_SETTLE.as_millis() as u64
        >= 2 * realmkeep_zone::limits::VIEW_CROWD_EVERY_TICKS
            * realmkeep_zone::limits::VIEW_STRETCH_MAX
            * TICK_MS
        && STAND_WAIT.as_millis() > STAND_SETTLE.as_millis()
);

/// How a connection ended.
enum Ended {
    Redirect {
        url: String,
        ticket: String,
    },
    Dropped,
    /// Where the bot stood, stopped (`BotsConfig::positions`).
    TimeUp(Option<Stood>),
}

/// What a command sent is, for its answer.
struct Sent {
    at: Instant,
    kind: CommandKind,
    economy: bool,
    critical: bool,
    gives: Vec<i64>,
    accepts_offer: bool,
}

/// Logs in, registering first if the account does not exist yet (a login is one password hash
/// on the server, a registration another: a bot of an earlier run pays one). With
/// `registered`, the account must exist (seeded): a refused login is not followed by a
/// registration.
async fn account(
    http: &Http,
    name: &str,
    config: &BotsConfig,
) -> Result<(String, i64), ClientError> {
    let token = match http.login(name, &config.password).await {
        Ok(s) => s.token,
        Err(e) if e.reason() == Some(Reason::BadCredentials) && !config.registered => {
            let email = format!("{name}@bots.invalid");
            match http.register(name, &email, &config.password).await {
                Ok(_) => {}
                Err(e) if e.reason() == Some(Reason::NameTaken) => {}
                Err(e) => return Err(e),
            }
            http.login(name, &config.password).await?.token
        }
        Err(e) => return Err(e),
    };
    let mine = http.characters(&token).await?;
    let id = match mine.first() {
        Some(c) => c.id,
        None => {
            let kingdom = ["aldor", "veyra", "korrim"][name.len() % 3];
            http.create_character(&token, name, "warrior", kingdom)
                .await?
                .id
        }
    };
    Ok((token, id))
}

/// The account and character, tried again after a pause while the server is busy or restarting
/// (a crowd logging in at once waits for its password hashes), as a player would, until the
/// time is up or the run is stopped.
async fn set_up(
    http: &Http,
    name: &str,
    config: &BotsConfig,
    stats: &Stats,
    until: &Deadline,
    logins: &Semaphore,
) -> Option<(String, i64)> {
    loop {
        // A bot still waiting for its turn (or its hashes) when the run ends gives up at once:
        // a crowd told to stop does not log in first.
        let done = tokio::select! {
            turn = logins.acquire() => {
                let _turn = turn.ok()?;
                tokio::select! {
                    done = account(http, name, config) => done,
                    _ = until.reached() => return None,
                }
            }
            _ = until.reached() => return None,
        };
        match done {
            Ok(v) => return Some(v),
            Err(e) => {
                bump(&stats.errors);
                tracing::warn!(bot = %name, error = %e, "bot could not set up its account");
                if e.reason() == Some(Reason::BadCredentials) || until.passed() {
                    return None;
                }
                tokio::time::sleep(RECONNECT_PAUSE).await;
            }
        }
    }
}

pub(crate) async fn live(
    i: usize,
    config: &BotsConfig,
    stats: &Stats,
    until: Deadline,
    logins: &Semaphore,
) {
    let name = format!("{}{}", config.prefix, config.first + i);
    // An HTTP client only while one is needed: its kept-alive connection would be one more
    // socket per bot on both sides for as long as the bot plays.
    let http = Http::new(&config.url);
    let Some((mut token, character)) = set_up(&http, &name, config, stats, &until, logins).await
    else {
        return;
    };
    let mut client = Some(http);
    let zones = config
        .zones
        .iter()
        .copied()
        .map(realmkeep_domain::ZoneId)
        .collect();
    let behaviour = Behaviour::of(config.pace, zones);
    let mut mind = Mind::new(config.seed, (config.first + i) as u64);
    let mut next: Option<(String, String)> = None;
    let mut first = true;
    while !until.passed() {
        if !first {
            tokio::time::sleep(RECONNECT_PAUSE).await;
        }
        first = false;
        let http = client.take().unwrap_or_else(|| Http::new(&config.url));
        let (url, ticket) = match next.take() {
            Some(v) => v,
            None => match http.ticket(&token, character).await {
                Ok(t) => (http.ws_url(), t.ticket),
                Err(e) if e.reason() == Some(Reason::Unauthorized) => {
                    let turn = tokio::select! {
                        turn = logins.acquire() => turn,
                        _ = until.reached() => return,
                    };
                    let Ok(_turn) = turn else {
                        return;
                    };
                    match http.login(&name, &config.password).await {
                        Ok(s) => token = s.token,
                        Err(_) => bump(&stats.errors),
                    }
                    continue;
                }
                Err(_) => {
                    bump(&stats.errors);
                    continue;
                }
            },
        };
        drop(http);
        let Ok(mut ws) = PlainSocket::connect(&url).await else {
            bump(&stats.errors);
            continue;
        };
        let mut seen = Traffic::default();
        let joined = ws.request(Command::Join { ticket }).await;
        stats.traffic(ws.traffic(), &mut seen);
        match joined {
            Ok(Answer::Ok) => {}
            _ => {
                // A redirect comes before a `zone_elsewhere` refusal.
                if let Some((url, ticket)) = redirect_in(&ws) {
                    bump(&stats.redirects);
                    next = Some((url, ticket));
                } else {
                    bump(&stats.errors);
                }
                continue;
            }
        }
        bump(&stats.joined);
        stats.connected.fetch_add(1, Ordering::Relaxed);
        let ended = play(
            &mut ws, &mut mind, &behaviour, config, stats, &until, &mut seen,
        )
        .await;
        stats.connected.fetch_sub(1, Ordering::Relaxed);
        match ended {
            Ended::Redirect { url, ticket } => {
                bump(&stats.redirects);
                next = Some((url, ticket));
            }
            Ended::Dropped => bump(&stats.reconnects),
            Ended::TimeUp(stood) => {
                if let Ok(id) = ws.send(Command::Logout).await {
                    // Saved and released where it stood: the position counts.
                    if let (Ok(Answer::Ok), Some(s)) = (ws.answer(id).await, stood) {
                        stats.stood.record(s);
                    }
                }
                ws.close().await;
                stats.traffic(ws.traffic(), &mut seen);
                return;
            }
        }
    }
}

fn redirect_in(ws: &PlainSocket) -> Option<(String, String)> {
    ws.backlog.iter().find_map(|f| match &f.msg {
        ServerMsg::Redirect { url, ticket, .. } => Some((url.clone(), ticket.clone())),
        _ => None,
    })
}

enum Step {
    Think,
    Message(Result<Incoming, ClientError>),
    TimeUp,
}

async fn play(
    ws: &mut PlainSocket,
    mind: &mut Mind,
    behaviour: &Behaviour,
    config: &BotsConfig,
    stats: &Stats,
    until: &Deadline,
    seen: &mut Traffic,
) -> Ended {
    let mut world = SeenWorld::default();
    for f in std::mem::take(&mut ws.backlog) {
        world.on(&f.msg);
    }
    let mut sent: HashMap<u64, Sent> = HashMap::new();
    let mut think = tokio::time::interval(config.think_every);
    think.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let acts = config.play == Play::Mind;
    // Made once, not for every frame: each wait would set and clear its timers.
    let time_up = until.reached();
    tokio::pin!(time_up);
    loop {
        stats.traffic(ws.traffic(), seen);
        let step = tokio::select! {
            _ = &mut time_up => Step::TimeUp,
            _ = think.tick(), if acts => Step::Think,
            m = ws.next_untimed() => Step::Message(m),
        };
        match step {
            Step::TimeUp if config.positions => {
                return Ended::TimeUp(stand_still(ws, &mut world).await);
            }
            Step::TimeUp => return Ended::TimeUp(None),
            Step::Think => {
                if sent.len() >= IN_FLIGHT_MAX {
                    continue;
                }
                let busy = sent.values().any(|s| s.economy);
                let intent = mind.decide(behaviour, &world.observation(busy));
                let Some(at) = world.at() else { continue };
                let Some(cmd) = wire::command(&intent, at) else {
                    continue;
                };
                let gives = match &cmd {
                    Command::Trade { give, .. } => give.items.clone(),
                    Command::SendMail { items, .. } => items.clone(),
                    _ => Vec::new(),
                };
                let accepts_offer = matches!(intent, Intent::AcceptTrade(_));
                // Queued, or already: the mind does not ask again until a group forms.
                world.queued |= matches!(intent, Intent::QueueDungeon);
                let economy = intent.is_economy();
                let critical = wire::critical(&cmd);
                let kind = cmd.kind();
                match ws.send(cmd).await {
                    Ok(id) => {
                        bump(&stats.commands);
                        let s = Sent {
                            at: Instant::now(),
                            kind,
                            economy,
                            critical,
                            gives,
                            accepts_offer,
                        };
                        sent.insert(id, s);
                    }
                    Err(_) => return Ended::Dropped,
                }
            }
            Step::Message(Ok(Incoming::Frame(f))) => {
                world.on(&f.msg);
                if config.ledger {
                    if let Some(done) = Committed::of(&f.msg) {
                        stats.ledger.record(world.character, done);
                    }
                }
                match f.msg {
                    ServerMsg::Answer { id, result } => {
                        if let Some(s) = sent.remove(&id) {
                            stats.answered(&result, s.at.elapsed(), s.critical, s.kind);
                            if result == Answer::Ok {
                                world.gave(&s.gives);
                            }
                            if s.accepts_offer {
                                world.offer_done();
                            }
                        }
                    }
                    ServerMsg::Data { data, .. } => {
                        if let Some(cmd) = follow_up(&data, &world) {
                            let critical = wire::critical(&cmd);
                            let kind = cmd.kind();
                            if let Ok(id) = ws.send(cmd).await {
                                bump(&stats.commands);
                                let s = Sent {
                                    at: Instant::now(),
                                    kind,
                                    economy: true,
                                    critical,
                                    gives: Vec::new(),
                                    accepts_offer: false,
                                };
                                sent.insert(id, s);
                            }
                        }
                    }
                    ServerMsg::Redirect { url, ticket, .. } => {
                        return Ended::Redirect { url, ticket };
                    }
                    _ => {}
                }
            }
            Step::Message(Ok(Incoming::Closed(_))) => return Ended::Dropped,
            Step::Message(Err(_)) => return Ended::Dropped,
        }
    }
}

/// Stops in place (and stops attacking), then reads the view until it has settled: where the
/// bot stands, if it is alive in a zone and the stop was answered.
async fn stand_still(ws: &mut PlainSocket, world: &mut SeenWorld) -> Option<Stood> {
    ws.send(Command::StopAttack).await.ok()?;
    let stop = ws.send(Command::Stop).await.ok()?;
    let mut until = Instant::now() + STAND_WAIT;
    let mut stopped = false;
    loop {
        let Ok(next) = tokio::time::timeout_at(until, ws.next()).await else {
            return if stopped { world.stood() } else { None };
        };
        let Ok(Incoming::Frame(f)) = next else {
            return None;
        };
        world.on(&f.msg);
        match f.msg {
            ServerMsg::Answer { id, result } if id == stop => {
                if result != Answer::Ok {
                    return None;
                }
                stopped = true;
                until = Instant::now() + STAND_SETTLE;
            }
            ServerMsg::Redirect { .. } => return None,
            _ => {}
        }
    }
}

/// What a page of data leads to: the cheapest listing of someone else's it can pay for, the
/// first mail that carries something.
fn follow_up(data: &Data, world: &SeenWorld) -> Option<Command> {
    match data {
        Data::MarketPage { rows, .. } => rows
            .iter()
            .filter(|r| r.seller != world.character && r.price <= world.gold)
            .min_by_key(|r| r.price)
            .map(|r| Command::BuyListing { listing: r.listing }),
        Data::Mailbox { mails } => mails
            .iter()
            .find(|m| !m.claimed && (m.gold > 0 || m.items > 0))
            .map(|m| Command::ClaimMail { mail: m.mail }),
        _ => None,
    }
}
