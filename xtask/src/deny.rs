//! `cargo deny` over the workspace with the repository's `deny.toml`: licences, duplicate
//! versions, sources and the RustSec advisories.
//!
//! cargo-deny is installed from crates.io (at a pinned version) when it is missing. The advisory
//! database is a git repository that cargo-deny fetches itself; where it cannot be fetched and no
//! copy is on the machine, the advisories check cannot run, and this says so loudly instead of
//! passing in silence. Every other check always runs and fails the build.

use anyhow::{bail, Context, Result};
use std::process::{Command, Stdio};

/// The cargo-deny release the checks are written for (`deny.toml`'s format).
const CARGO_DENY_VERSION: &str = "0.20.2";

pub fn run() -> Result<()> {
    install()?;
    let root = super::root();
    let config = root.join("deny.toml");
    let deny = |args: &[&str]| -> Result<bool> {
        eprintln!("xtask: cargo deny {}", args.join(" "));
        let status = Command::new(cargo())
            .arg("deny")
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .status()
            .context("running cargo deny")?;
        Ok(status.success())
    };
    if !deny(&["check", "licenses", "bans", "sources"])? {
        bail!("cargo deny found a licence, duplicate version or source deny.toml does not allow");
    }
    let fetched = Command::new(cargo())
        .arg("deny")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--config")
        .arg(&config)
        .args(["fetch", "db"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !fetched && !advisory_db_present() {
        eprintln!(
            "xtask: WARNING: advisories NOT checked: the RustSec advisory database could not be \
             fetched and no copy is on this machine (licences, duplicate versions and sources \
             were checked)"
        );
        return Ok(());
    }
    if !deny(&["check", "advisories"])? {
        bail!("cargo deny found an advisory deny.toml does not record");
    }
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A copy of the advisory database fetched earlier (cargo-deny keeps it under CARGO_HOME).
fn advisory_db_present() -> bool {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")));
    let Some(dir) = home.map(|h| h.join("advisory-dbs")) else {
        return false;
    };
    // A database that was cloned whole has a `crates/` folder; a failed clone leaves none.
    std::fs::read_dir(dir)
        .map(|d| d.flatten().any(|e| e.path().join("crates").is_dir()))
        .unwrap_or(false)
}

fn install() -> Result<()> {
    let installed = Command::new(cargo())
        .args(["deny", "--version"])
        .output()
        .map(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains(CARGO_DENY_VERSION)
        })
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    eprintln!(
        "xtask: installing cargo-deny {CARGO_DENY_VERSION} from crates.io (a few minutes, once)"
    );
    let status = Command::new(cargo())
        .args([
            "install",
            "--locked",
            "cargo-deny",
            "--version",
            CARGO_DENY_VERSION,
        ])
        .status()
        .context("running cargo install cargo-deny")?;
    if !status.success() {
        bail!("cargo install cargo-deny failed with {status}");
    }
    Ok(())
}
