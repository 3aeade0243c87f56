//! Project automation: `cargo xtask <command>`.
//!
//! - `setup`: installs what is missing from Debian's packages (PostgreSQL 15, Redis 7 and
//!   pgBackRest, which takes the backups).
//! - `demo [ARGS]`: setup, then runs the main job, `realmkeep demo`, in release mode.
//! - `test`: setup, then every check CI runs: formatting, the codemap of ARCHITECTURE.md, clippy
//!   with warnings as errors, libraries and binaries built without the test kit (no pool outside
//!   the store), `cargo deny` (licences, duplicate versions, sources, advisories),
//!   and every test of the workspace against private PostgreSQL and Redis servers.
//! - `codemap`: only the codemap check.
//! - `deny`: only `cargo deny`.
//! - `bench [ARGS]`: setup, then `realmkeep bench` in release mode.
//! - `fuzz [INPUTS] [SEED]`: the WebSocket frame decoder under arbitrary text and hostile JSON
//!   (the gateway's `fuzz_decoder` example, release mode; 10 million inputs by default). `test`
//!   runs a short one too.

mod codemap;
mod deny;

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;

/// Debian packages the project needs at run time, with a binary that shows each is installed.
const PACKAGES: &[(&str, &[&str])] = &[
    (
        "postgresql",
        &[
            "/usr/lib/postgresql/15/bin/postgres",
            "/usr/lib/postgresql/16/bin/postgres",
            "/usr/lib/postgresql/17/bin/postgres",
        ],
    ),
    (
        "redis-server",
        &["/usr/bin/redis-server", "/usr/local/bin/redis-server"],
    ),
    ("pgbackrest", &["/usr/bin/pgbackrest"]),
    // The browser tests of the play page drive Debian's Chromium through ChromeDriver.
    ("chromium", &["/usr/bin/chromium"]),
    ("chromium-driver", &["/usr/bin/chromedriver"]),
    // The two-node test runs each node on a host of its own: a network namespace (`ip netns`).
    ("iproute2", &["/usr/sbin/ip", "/sbin/ip", "/bin/ip"]),
];

/// Inputs of the short decoder fuzz that `test` runs (debug build: a few seconds).
const FUZZ_INPUTS_IN_TEST: &str = "200000";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let cmd = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match cmd.as_str() {
        "setup" => setup(),
        "demo" => {
            setup()?;
            run_release("demo", &rest)
        }
        "bench" => {
            setup()?;
            run_release("bench", &rest)
        }
        "codemap" => check_codemap(),
        "fuzz" => {
            let mut args = vec!["run", "--release", "--quiet", "-p", "realmkeep-gateway"];
            args.extend(["--example", "fuzz_decoder", "--"]);
            args.extend(strs(&rest));
            cargo(&args)
        }
        "deny" => deny::run(),
        "test" => {
            setup()?;
            // CI builds from a clean clone once: incremental caches would only cost disk (half
            // of the target folder, on a disk CI shares). A developer's own setting wins.
            let env: &[(&str, &str)] = match std::env::var_os("CARGO_INCREMENTAL") {
                None => &[("CARGO_INCREMENTAL", "0")],
                Some(_) => &[],
            };
            test_steps(&rest, env)
        }
        _ => bail!("usage: cargo xtask <setup|demo|test|bench|fuzz|codemap|deny> [ARGS]"),
    }
}

/// Everything `cargo xtask test` runs after the setup, each cargo invocation with `env`.
fn test_steps(rest: &[String], env: &[(&str, &str)]) -> Result<()> {
    let cargo = |args: &[&str]| cargo_with(args, env);
    cargo(&["fmt", "--all", "--", "--check"])?;
    check_codemap()?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    // Libraries and binaries alone, without the test kit: the store's pool (feature
    // `testing`) is then private, so this fails if code outside the store holds it.
    cargo(&["check", "--workspace", "--lib", "--bins"])?;
    deny::run()?;
    // A short fuzz of the frame decoder (`cargo xtask fuzz` runs the long one).
    cargo(&[
        "run",
        "--quiet",
        "-p",
        "realmkeep-gateway",
        "--example",
        "fuzz_decoder",
        "--",
        FUZZ_INPUTS_IN_TEST,
        "2",
    ])?;
    cargo(&[&["test", "--workspace"], &strs(rest)[..]].concat())
}

/// The repository's root: the xtask crate's parent folder.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository")
}

fn check_codemap() -> Result<()> {
    let problems = codemap::check(root()).map_err(anyhow::Error::msg)?;
    if !problems.is_empty() {
        bail!(
            "ARCHITECTURE.md's codemap is not true:\n  {}",
            problems.join("\n  ")
        );
    }
    eprintln!("xtask: the codemap of ARCHITECTURE.md matches the tree");
    Ok(())
}

/// Builds the `realmkeep` binary in release mode where the build's progress shows (a fresh
/// machine compiles for minutes; a silent terminal looks hung), then runs `realmkeep SUBCOMMAND
/// ARGS` quietly so only the program's own output follows.
fn run_release(subcommand: &str, rest: &[String]) -> Result<()> {
    for step in release_steps(subcommand, rest) {
        cargo(&strs(&step))?;
    }
    Ok(())
}

/// The cargo invocations behind `demo` and `bench`: a visible build, then a quiet run.
fn release_steps(subcommand: &str, rest: &[String]) -> Vec<Vec<String>> {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let build = owned(&["build", "--release", "-p", "realmkeep"]);
    let mut run = owned(&[
        "run",
        "--release",
        "--quiet",
        "-p",
        "realmkeep",
        "--",
        subcommand,
    ]);
    run.extend(rest.iter().cloned());
    vec![build, run]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn cargo(args: &[&str]) -> Result<()> {
    cargo_with(args, &[])
}

fn cargo_with(args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed with {status}", args.join(" "));
    }
    Ok(())
}

fn setup() -> Result<()> {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(_, bins)| !bins.iter().any(|b| Path::new(b).exists()))
        .map(|(p, _)| *p)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "xtask: installing {} from Debian's packages",
        missing.join(", ")
    );
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let prefix: &[&str] = if root { &[] } else { &["sudo"] };
    let run = |args: &[&str]| -> Result<()> {
        let all: Vec<&str> = prefix.iter().chain(args).copied().collect();
        let status = Command::new(all[0])
            .args(&all[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .with_context(|| format!("running {}", all.join(" ")))?;
        if !status.success() {
            bail!("{} failed with {status}", all.join(" "));
        }
        Ok(())
    };
    run(&["apt-get", "update", "-qq"])?;
    run(&[
        &["apt-get", "install", "-y", "-qq", "--no-install-recommends"],
        &missing[..],
    ]
    .concat())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::release_steps;

    #[test]
    fn demo_builds_visibly_before_running_quietly() {
        let steps = release_steps("demo", &["--players".into(), "500".into()]);
        let build = &steps[0];
        assert_eq!(build[0], "build", "the first step builds: {steps:?}");
        assert!(
            !build.iter().any(|a| a == "--quiet" || a == "-q"),
            "the build step must show its progress: {build:?}"
        );
        let run = &steps[1];
        assert_eq!(run[0], "run");
        assert_eq!(&run[run.len() - 3..], ["demo", "--players", "500"]);
    }
}
