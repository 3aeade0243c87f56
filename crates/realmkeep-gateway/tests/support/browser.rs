//! Shared by the browser tests (`support::browser`): a private ChromeDriver, headless Chromium
//! sessions at 1280×720 whose console is recorded, screenshots, and the page's steps (fill,
//! click, wait until, enter the world).

use super::{Env, PASSWORD, WAIT};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Long enough for Chromium to start on a loaded 2-core machine.
pub const BROWSER_WAIT: Duration = Duration::from_secs(30);
/// How many times a click finds its element again after the page redrew it.
const STALE_RETRIES_MAX: usize = 20;

/// A private ChromeDriver on a loopback port; killed when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver runs (cargo xtask setup installs chromium-driver)");
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{url}/status")).await.is_err() {
        assert!(started.elapsed() < BROWSER_WAIT, "chromedriver answers");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { child, url }
}

/// A headless Chromium at 1280×720 whose console is recorded.
pub async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,720", "--no-first-run", "--disable-extensions"],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// What the page wrote to the browser console at level SEVERE since the last call.
pub async fn console_errors(driver: &Driver, c: &Client) -> Vec<String> {
    let id = c.session_id().await.unwrap().unwrap();
    let r: Value = reqwest::Client::new()
        .post(format!("{}/session/{id}/se/log", driver.url))
        .json(&json!({"type": "browser"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["value"]
        .as_array()
        .unwrap_or_else(|| panic!("browser log: {r}"))
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].to_string())
        .collect()
}

pub async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    if std::env::var_os("REALMKEEP_UPDATE_SCREENSHOTS").is_some() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(format!("{name}.png")), &png).unwrap();
    }
}

pub async fn fill(c: &Client, id: &str, text: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

/// Clicks the element `id`, found again if the page drew it anew in between (a stale
/// reference: the page redraws a panel when a name it asked for arrives).
pub async fn click(c: &Client, id: &str) {
    click_at(c, Locator::Id(id)).await
}

/// Clicks what `at` finds, found again if the page drew it anew in between.
pub async fn click_at(c: &Client, at: Locator<'_>) {
    for _ in 0..STALE_RETRIES_MAX {
        let e = c.find(at).await.unwrap();
        match e.click().await {
            Err(err) if err.is_stale_element_reference() => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            r => return r.unwrap(),
        }
    }
    panic!("{at:?} kept being drawn anew");
}

pub async fn text(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

/// Waits until `js` (a function body) returns something truthy; returns it.
pub async fn until(c: &Client, what: &str, js: &str) -> Value {
    let started = Instant::now();
    loop {
        let v = c.execute(js, vec![]).await.unwrap();
        if !(v.is_null() || v == json!(false) || v == json!("")) {
            return v;
        }
        assert!(started.elapsed() < WAIT, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Registers `name` on the page, creates a character and enters the world with it.
pub async fn enter(env: &Env, c: &Client, name: &str) -> i64 {
    c.goto(&env.gateway.base_url()).await.unwrap();
    fill(c, "register-name", name).await;
    fill(c, "register-email", &format!("{name}@example.com")).await;
    fill(c, "register-password", PASSWORD).await;
    click(c, "register-submit").await;
    until(
        c,
        "the characters page",
        "return !document.getElementById('characters').hidden",
    )
    .await;
    fill(c, "create-name", name).await;
    click(c, "create-submit").await;
    until(
        c,
        "in the world",
        "return document.getElementById('pos').textContent",
    )
    .await;
    let id = until(c, "the welcome", "return state.me && state.me.character").await;
    id.as_i64().unwrap()
}
