//! The lint of SQL source files (`crate::sql_sources`). They run at every `Store::migrate` whose
//! hash changed, so they may only (re)define functions: every statement is `CREATE OR REPLACE
//! FUNCTION` (or `PROCEDURE`) with a body. No table is created, altered, truncated or dropped from
//! here; that is what migrations are for, under the expand-only rules. Function bodies run later,
//! when called, and are not checked (as in migrations).

use super::sql::{self, Tok};
use super::{file_violation, for_each_statement, Rule, Violation};

const HINT_SOURCE: &str = "a SQL source holds only `CREATE OR REPLACE FUNCTION ... AS $$ ... $$` \
    statements: put schema changes in a new migration";

/// Checks one source file's SQL. Pure: no I/O.
pub fn check_source(name: &str, sql_text: &str) -> Vec<Violation> {
    // The contract marker means nothing in a source: no statement here may drop anything.
    let lexed = match sql::lex(sql_text, "\u{0}") {
        Ok(l) => l,
        Err(e) => {
            let hint = format!("{}; the lint cannot check this file", e.message);
            return vec![file_violation(name, e.line, Rule::Unreadable, hint)];
        }
    };
    let mut out = Vec::new();
    let mut functions = 0;
    for_each_statement(sql_text, &lexed.tokens, |stmt, text| {
        let ts = sql::top_level(stmt);
        let head: Vec<Option<&str>> = (0..4).map(|k| sql::word(ts.get(k).copied())).collect();
        let defines = head[..3] == [Some("CREATE"), Some("OR"), Some("REPLACE")]
            && matches!(head[3], Some("FUNCTION" | "PROCEDURE"))
            && stmt.iter().any(|t| matches!(t.tok, Tok::Body(_)));
        if defines {
            functions += 1;
        } else {
            out.push(Violation {
                migration: name.to_string(),
                line: stmt[0].line,
                statement: text.to_string(),
                rule: Rule::SourceStatement,
                hint: HINT_SOURCE.to_string(),
            });
        }
    });
    if functions == 0 && out.is_empty() {
        out.push(file_violation(
            name,
            0,
            Rule::SourceStatement,
            "the source defines no function".into(),
        ));
    }
    out
}

/// Checks the sources compiled into this build.
pub fn check_sources() -> Vec<Violation> {
    crate::sql_sources::SQL_SOURCES
        .iter()
        .flat_map(|s| check_source(s.name, s.sql))
        .collect()
}
