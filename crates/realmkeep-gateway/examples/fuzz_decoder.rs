//! `cargo xtask fuzz`: the frame decoder and command checks (`realmkeep_gateway::ws::decode`)
//! under arbitrary text and structurally valid but hostile JSON, on stable Rust. Prints one JSON
//! line (inputs, seconds, outcomes per reason) and fails if any input panics.
//!
//! Usage: `fuzz_decoder [INPUTS] [SEED]` (default 10,000,000 inputs, seed 1).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use realmkeep_gateway::ws::decode::{decode, KINDS};
use std::collections::BTreeMap;
use std::time::Instant;

/// Inputs between progress checks (and the unit a panic is caught in).
const BATCH: u64 = 10_000;

const ATOMS: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1",
    "-1",
    "1e39",
    "-1e39",
    "1e-320",
    "3.4028235e38",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "0.5",
    "NaN",
    "Infinity",
    "\"\"",
    "\"a\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\u202e\"",
    "[]",
    "{}",
    "\"join\"",
    "\"move_to\"",
    "\"say\"",
    "[1,2,3]",
];

fn string(rng: &mut StdRng, max: usize) -> String {
    let n = rng.random_range(0..=max);
    (0..n)
        .map(|_| match rng.random_range(0..10) {
            0 => char::from_u32(rng.random_range(0..0x11_0000)).unwrap_or('\u{fffd}'),
            1 => {
                ['\u{202e}', '\u{2066}', '\u{7}', '\u{0}', '\n', '"', '\\'][rng.random_range(0..7)]
            }
            _ => (b'a' + rng.random_range(0..26)) as char,
        })
        .collect()
}

fn escape(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn value(rng: &mut StdRng, depth: u32) -> String {
    match rng.random_range(0..if depth > 3 { 3 } else { 6 }) {
        0 => ATOMS[rng.random_range(0..ATOMS.len())].to_string(),
        1 => escape(&string(rng, 40)),
        2 => format!(
            "{}",
            rng.random::<f64>() * 10f64.powi(rng.random_range(-5..45))
        ),
        3 => format!(
            "[{}]",
            (0..rng.random_range(0..4))
                .map(|_| value(rng, depth + 1))
                .collect::<Vec<_>>()
                .join(",")
        ),
        4 => object(rng, depth + 1),
        _ => "[".repeat(rng.random_range(1..300)),
    }
}

fn object(rng: &mut StdRng, depth: u32) -> String {
    let keys = [
        "v",
        "id",
        "cmd",
        "type",
        "x",
        "y",
        "dx",
        "dy",
        "text",
        "ticket",
        "character",
        "epoch",
    ];
    let n = rng.random_range(0..6);
    let fields: Vec<String> = (0..n)
        .map(|_| {
            format!(
                "{}:{}",
                escape(keys[rng.random_range(0..keys.len())]),
                value(rng, depth + 1)
            )
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// A frame shaped like the protocol's, with hostile parts.
fn hostile(rng: &mut StdRng) -> String {
    let kind = if rng.random_bool(0.8) {
        KINDS[rng.random_range(0..KINDS.len())].0.to_string()
    } else {
        string(rng, 12)
    };
    let mut cmd = vec![format!("\"type\":{}", escape(&kind))];
    for k in ["x", "y", "dx", "dy", "text", "ticket"] {
        if rng.random_bool(0.4) {
            let v = match k {
                "text" if rng.random_bool(0.5) => escape(&string(rng, 300)),
                "ticket" if rng.random_bool(0.5) => escape(&string(rng, 60)),
                _ => value(rng, 2),
            };
            cmd.push(format!("{}:{v}", escape(k)));
        }
    }
    let v = if rng.random_bool(0.9) {
        "1".to_string()
    } else {
        value(rng, 2)
    };
    let id = if rng.random_bool(0.9) {
        rng.random::<u64>().to_string()
    } else {
        value(rng, 2)
    };
    let mut frame = format!("{{\"v\":{v},\"id\":{id},\"cmd\":{{{}}}}}", cmd.join(","));
    if rng.random_bool(0.1) {
        frame = frame.replacen('}', &format!(",\"extra\":{}}}", value(rng, 1)), 1);
    }
    frame
}

fn mutate(rng: &mut StdRng, s: String) -> String {
    let mut bytes = s.into_bytes();
    for _ in 0..rng.random_range(1..4) {
        if bytes.is_empty() {
            break;
        }
        let i = rng.random_range(0..bytes.len());
        match rng.random_range(0..3) {
            0 => bytes[i] = rng.random(),
            1 => bytes.truncate(i),
            _ => {
                let b: u8 = rng.random();
                bytes.insert(i, b);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn input(rng: &mut StdRng) -> String {
    match rng.random_range(0..10) {
        0 => {
            let n = rng.random_range(0..200);
            let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        1 => object(rng, 0),
        2..=4 => {
            let f = hostile(rng);
            mutate(rng, f)
        }
        _ => hostile(rng),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let inputs: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let started = Instant::now();
    let mut done = 0u64;
    while done < inputs {
        let batch: Vec<String> = (0..BATCH.min(inputs - done))
            .map(|_| input(&mut rng))
            .collect();
        let results = std::panic::catch_unwind(|| {
            batch
                .iter()
                .map(|text| match decode(text) {
                    Ok(_) => "ok".to_string(),
                    Err(b) => format!("{:?}", b.reason),
                })
                .collect::<Vec<_>>()
        });
        match results {
            Ok(r) => {
                for o in r {
                    *outcomes.entry(o).or_default() += 1;
                }
            }
            Err(_) => {
                // Find the input that panics, print it and fail.
                for text in &batch {
                    if std::panic::catch_unwind(|| decode(text)).is_err() {
                        eprintln!("PANIC on input: {text:?}");
                    }
                }
                std::process::exit(1);
            }
        }
        done += batch.len() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "fuzz": "frame decoder", "inputs": done, "seed": seed, "seconds": secs,
            "inputs_per_s": done as f64 / secs, "panics": 0, "outcomes": outcomes,
        })
    );
}
