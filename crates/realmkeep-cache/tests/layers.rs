//! The crate's modules form layers, and a module uses only modules of lower layers: the shared
//! vocabulary at the bottom, key names on it, the connection core on those, the features on the
//! core (each owning its degraded-mode state), the health watcher and the `Cache` handle on top.
//! A `crate::` path from a module to one of the same or a higher layer fails this test, which
//! keeps the module graph free of cycles (a new module must be given its layer here).
//!
//! Read from the sources, not from the compiler: comment lines are skipped (doc links are not
//! dependencies), and a name used through the crate root (`crate::CacheError`) counts as a use of
//! the module that defines it, found from the `pub use` lines of lib.rs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom first. A module may use the modules of the layers below its own, and no other.
const LAYERS: &[(&str, &[&str])] = &[
    ("foundations", &["error", "clock", "expiring", "scripts"]),
    ("vocabulary", &["vocab"]),
    (
        "names, tokens, sources and messages",
        &["keys", "token", "sources", "messages"],
    ),
    ("configuration", &["options"]),
    ("connection core", &["core"]),
    (
        "features",
        &[
            "admin_sessions",
            "chat",
            "cooldowns",
            "defs_cache",
            "gateways",
            "guild_war",
            "inbox",
            "leaderboard",
            "login_backoff",
            "matchmaking",
            "presence",
            "rate_limit",
            "sessions",
            "subscriber",
            "tickets",
        ],
    ),
    (
        "features built on features",
        &["nodes", "pubsub", "rate_tally"],
    ),
    ("node state", &["shared"]),
    ("health watcher", &["health"]),
    ("the Cache handle", &["cache"]),
    ("tools", &["bench", "snapshot"]),
];

/// The crate root: it declares and re-exports the modules, and is not itself a layer.
const ROOT: &str = "lib";

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

/// The source without comment lines and trailing `// ...` comments.
fn code(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| l.split(" // ").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Parses a use tree (`a::b`, `{a, b::{c, d}}`, `a::*`) at `pos`; returns its paths and the
/// position after it. Stops at anything else (`(`, `;`, ` as `), which ends the path.
fn use_tree(s: &[char], mut pos: usize) -> (Vec<Vec<String>>, usize) {
    while pos < s.len() && s[pos].is_whitespace() {
        pos += 1;
    }
    if pos < s.len() && s[pos] == '{' {
        pos += 1;
        let mut paths = Vec::new();
        loop {
            while pos < s.len() && (s[pos].is_whitespace() || s[pos] == ',') {
                pos += 1;
            }
            if pos >= s.len() || s[pos] == '}' {
                return (paths, pos + 1);
            }
            let (sub, next) = use_tree(s, pos);
            paths.extend(sub);
            pos = next;
            // Skip a rename (`X as Y`) up to the next item.
            while pos < s.len() && s[pos] != ',' && s[pos] != '}' {
                pos += 1;
            }
        }
    }
    let start = pos;
    if pos < s.len() && s[pos] == '*' {
        return (vec![vec!["*".to_string()]], pos + 1);
    }
    while pos < s.len() && is_ident(s[pos]) {
        pos += 1;
    }
    let ident: String = s[start..pos].iter().collect();
    if ident.is_empty() {
        return (Vec::new(), pos);
    }
    if s.get(pos) == Some(&':') && s.get(pos + 1) == Some(&':') {
        let (subs, next) = use_tree(s, pos + 2);
        let paths = subs
            .into_iter()
            .map(|mut p| {
                p.insert(0, ident.clone());
                p
            })
            .collect();
        return (paths, next);
    }
    (vec![vec![ident]], pos)
}

/// Every path written `crate::…` in `code`, without the `crate`.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let s: Vec<char> = code.chars().collect();
    let needle: Vec<char> = "crate::".chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + needle.len() <= s.len() {
        if s[i..i + needle.len()] == needle[..] && (i == 0 || !is_ident(s[i - 1])) {
            let (paths, next) = use_tree(&s, i + needle.len());
            out.extend(paths);
            i = next.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

struct Crate {
    /// Module name → its code (comments removed), lib.rs excluded.
    modules: BTreeMap<String, String>,
    /// A name re-exported by the root → the module it comes from.
    reexports: BTreeMap<String, String>,
}

fn read_crate() -> Crate {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    let mut root = None;
    for entry in std::fs::read_dir(&src).expect("src/ reads") {
        let path = entry.expect("src/ entry").path();
        assert!(
            !path.is_dir(),
            "{} is a directory: give its modules layers here before nesting them",
            path.display()
        );
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = code(&std::fs::read_to_string(&path).expect("source reads"));
        if name == ROOT {
            root = Some(text);
        } else {
            modules.insert(name, text);
        }
    }
    let root = root.expect("src/lib.rs exists");
    let mut reexports = BTreeMap::new();
    for path in crate_paths(&root) {
        if let [module, name] = &path[..] {
            reexports.insert(name.clone(), module.clone());
        }
    }
    Crate { modules, reexports }
}

/// Which module a `crate::` path points into: its first segment if that is a module, else the
/// module the root re-exports that name from, else the root itself (an item defined in lib.rs).
fn target(krate: &Crate, path: &[String]) -> String {
    let first = &path[0];
    if krate.modules.contains_key(first) {
        first.clone()
    } else if let Some(m) = krate.reexports.get(first) {
        m.clone()
    } else {
        ROOT.to_string()
    }
}

fn describe(module: &str) -> String {
    match layer_of(module) {
        Some(l) => format!("`{module}` (layer {l}: {})", LAYERS[l].0),
        None if module == ROOT => format!("`{module}` (the crate root, above every layer)"),
        None => format!("`{module}` (no layer)"),
    }
}

#[test]
fn the_parser_reads_use_trees_and_paths() {
    let paths = crate_paths(&code(
        "use crate::core::{bump, Cache};\nuse crate::{keys, scripts::X as Y, CacheError};\n\
         let x = crate::health::recover(&core);\n// use crate::chat::Skipped;\npub(crate) fn f() {}",
    ));
    let firsts: Vec<&str> = paths.iter().map(|p| p[0].as_str()).collect();
    assert_eq!(
        firsts,
        ["core", "core", "keys", "scripts", "CacheError", "health"]
    );
    assert_eq!(paths[3], ["scripts", "X"]);
    assert_eq!(paths[5], ["health", "recover"]);
    assert!(crate_paths(&code("// use crate::chat::X;\n/// [`crate::Cache`]")).is_empty());
}

#[test]
fn every_module_uses_only_lower_layers() {
    let krate = read_crate();
    let mut problems = Vec::new();

    let mut placed = BTreeSet::new();
    for (_, ms) in LAYERS {
        for m in *ms {
            if !placed.insert(*m) {
                problems.push(format!("`{m}` is listed in two layers"));
            }
            if !krate.modules.contains_key(*m) {
                problems.push(format!("`{m}` is listed but src/{m}.rs does not exist"));
            }
        }
    }
    for m in krate.modules.keys() {
        if layer_of(m).is_none() {
            problems.push(format!("src/{m}.rs has no layer: add it to LAYERS"));
        }
    }

    for (module, text) in &krate.modules {
        let Some(own) = layer_of(module) else {
            continue;
        };
        let used: BTreeSet<String> = crate_paths(text)
            .iter()
            .map(|p| target(&krate, p))
            .filter(|t| t != module)
            .collect();
        for t in used {
            if layer_of(&t).is_none_or(|l| l >= own) {
                problems.push(format!(
                    "{} uses {}: only lower layers may be used",
                    describe(module),
                    describe(&t)
                ));
            }
        }
    }

    assert!(
        problems.is_empty(),
        "the cache crate's layering is broken:\n  {}",
        problems.join("\n  ")
    );
}
