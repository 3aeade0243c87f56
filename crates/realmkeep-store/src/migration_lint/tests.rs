//! Good and bad migrations, including the tricky corners of SQL's lexical rules.

use super::*;

fn rules(sql: &str) -> Vec<Rule> {
    check_migration("m.sql", sql)
        .into_iter()
        .map(|v| v.rule)
        .collect()
}

fn assert_clean(sql: &str) {
    let v = check_migration("m.sql", sql);
    assert!(
        v.is_empty(),
        "expected no violations in {sql:?}, got {v:#?}"
    );
}

#[test]
fn expand_only_statements_pass() {
    assert_clean(
        "CREATE TABLE pets (id bigint PRIMARY KEY, owner bigint NOT NULL, dropped_at timestamptz);
         CREATE INDEX pets_owner ON pets (owner);
         ALTER TABLE characters ADD COLUMN dropped_at timestamptz;
         ALTER TABLE characters ADD COLUMN title text NOT NULL DEFAULT '';
         ALTER TABLE x ADD COLUMN y int NOT NULL DEFAULT 0;
         ALTER TABLE x ADD COLUMN IF NOT EXISTS z bigint GENERATED ALWAYS AS IDENTITY;
         ALTER TABLE x ADD COLUMN w int CHECK (w IS NOT NULL OR y > 0);
         ALTER TABLE x ADD CONSTRAINT w_not_null CHECK (w IS NOT NULL) NOT VALID;
         ALTER TABLE x ALTER COLUMN w DROP NOT NULL, ALTER COLUMN y SET DEFAULT 1;
         ALTER TABLE x ADD COLUMN type text;
         ALTER TABLE x ALTER COLUMN type SET DEFAULT 'a';
         ALTER TYPE mood ADD VALUE 'sleepy';
         INSERT INTO item_definitions (id, name) VALUES (9, 'drop table');
         UPDATE characters SET title = 'x';
         DELETE FROM guild_invites WHERE expires_at < now();
         SELECT ensure_game_logs_partition(now());",
    );
}

#[test]
fn the_shipped_schema_passes() {
    assert_clean(include_str!("../../migrations/20261127000001_schema.sql"));
}

#[test]
fn destructive_statements_are_refused() {
    let cases: &[(&str, Rule)] = &[
        ("DROP TABLE pets", Rule::Drop),
        ("drop index if exists pets_owner", Rule::Drop),
        ("DROP VIEW v", Rule::Drop),
        ("DROP FUNCTION f(int)", Rule::Drop),
        ("DROP TRIGGER t ON x", Rule::Drop),
        ("DROP TYPE mood", Rule::Drop),
        ("ALTER TABLE x DROP COLUMN y", Rule::Drop),
        ("ALTER TABLE x DROP CONSTRAINT x_y_check", Rule::Drop),
        ("ALTER TABLE x ALTER COLUMN y DROP DEFAULT", Rule::Drop),
        ("ALTER TABLE x RENAME TO y", Rule::Rename),
        ("ALTER TABLE x RENAME COLUMN a TO b", Rule::Rename),
        ("ALTER TABLE x RENAME CONSTRAINT a TO b", Rule::Rename),
        ("ALTER INDEX i RENAME TO j", Rule::Rename),
        ("ALTER TABLE x ALTER COLUMN y TYPE bigint", Rule::AlterType),
        (
            "ALTER TABLE x ALTER y TYPE bigint USING y::bigint",
            Rule::AlterType,
        ),
        (
            "ALTER TABLE x ALTER COLUMN y SET DATA TYPE text",
            Rule::AlterType,
        ),
        ("ALTER TABLE x ALTER COLUMN type TYPE text", Rule::AlterType),
        (
            "ALTER TABLE x ALTER COLUMN y SET NOT NULL",
            Rule::SetNotNull,
        ),
        (
            "ALTER TABLE x ADD COLUMN y int NOT NULL",
            Rule::AddNotNullWithoutDefault,
        ),
        (
            "ALTER TABLE x ADD y int NOT NULL REFERENCES z (id)",
            Rule::AddNotNullWithoutDefault,
        ),
        ("TRUNCATE game_logs", Rule::Truncate),
    ];
    for (sql, rule) in cases {
        assert_eq!(rules(sql), vec![*rule], "{sql}");
    }
}

#[test]
fn every_action_of_an_alter_table_is_checked() {
    assert_eq!(
        rules(
            "ALTER TABLE x ADD COLUMN a int DEFAULT 0, DROP COLUMN b, ALTER COLUMN c SET NOT NULL"
        ),
        vec![Rule::Drop, Rule::SetNotNull]
    );
}

#[test]
fn drop_in_bodies_strings_and_comments_does_not_count() {
    assert_clean(
        "-- DROP TABLE characters; this is only a comment
         /* DROP TABLE characters; /* nested */ still a comment: RENAME */
         CREATE FUNCTION cleanup() RETURNS void LANGUAGE plpgsql AS $$
         BEGIN
             DROP TABLE IF EXISTS scratch;
             EXECUTE 'ALTER TABLE t RENAME TO u';
         END
         $$;
         CREATE FUNCTION g() RETURNS void LANGUAGE plpgsql AS $body$ BEGIN TRUNCATE t; END $body$;
         CREATE FUNCTION h() RETURNS text LANGUAGE sql AS 'SELECT ''DROP TABLE x; ''';
         INSERT INTO notes VALUES (E'it\\'s; DROP TABLE x', 'a '' ; TRUNCATE y');
         COMMENT ON TABLE pets IS 'never DROP this; RENAME it never';
         CREATE TABLE \"drop\" (\"rename\" int, \"x;y\" int);
         SELECT $1, a$b FROM t;",
    );
}

#[test]
fn a_statement_after_a_body_is_still_checked() {
    let v = check_migration(
        "m.sql",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\nSELECT 1;\n\nDROP TABLE old;",
    );
    assert_eq!(v.len(), 1);
    assert_eq!((v[0].rule, v[0].line), (Rule::Drop, 4));
    assert_eq!(v[0].statement, "DROP TABLE old");
    assert_eq!(v[0].migration, "m.sql");
    assert!(!v[0].hint.is_empty());
}

#[test]
fn lines_count_across_strings_and_comments() {
    let sql = "/* one\ntwo */ SELECT 'a\nb';\n-- x\nALTER TABLE t\n  RENAME TO u;";
    let v = check_migration("m.sql", sql);
    assert_eq!((v[0].rule, v[0].line), (Rule::Rename, 6));
    assert_eq!(v[0].statement, "ALTER TABLE t RENAME TO u");
}

#[test]
fn do_blocks_run_now_and_are_scanned() {
    assert_eq!(
        rules("DO $$ BEGIN DROP TABLE scratch; END $$;"),
        vec![Rule::Drop]
    );
    assert_eq!(
        rules("DO $$ BEGIN EXECUTE 'ALTER TABLE t RENAME TO u'; END $$;"),
        vec![Rule::Rename]
    );
    assert_clean("DO $$ BEGIN PERFORM ensure_game_logs_partition(now()); END $$;");
}

#[test]
fn the_contract_marker_allows_destructive_steps() {
    assert_clean("-- realmkeep:contract: release 3 stopped reading pets\nDROP TABLE pets;");
    // Only as a line comment, not inside a string or as another word.
    assert_eq!(
        rules("SELECT '-- realmkeep:contract';\nDROP TABLE pets;"),
        vec![Rule::Drop]
    );
    assert_eq!(
        rules("-- realmkeep:contracted\nDROP TABLE pets;"),
        vec![Rule::Drop]
    );
}

#[test]
fn unterminated_input_is_reported_not_skipped() {
    for sql in [
        "SELECT 'open",
        "CREATE FUNCTION f() AS $$ DROP",
        "/* open",
        "SELECT \"x",
    ] {
        assert_eq!(rules(sql), vec![Rule::Unreadable], "{sql}");
    }
}

#[test]
fn names_must_be_forward_only_and_well_formed() {
    assert_eq!(parse_name("20261127000001_schema.sql"), Ok(20261127000001));
    for bad in [
        "20261127000001_schema.up.sql",
        "20261127000001_schema.down.sql",
        "1_schema.sql",
        "20261127000001_Schema.sql",
        "20261127000001_.sql",
        "2026112700000x_schema.sql",
        "schema.sql",
    ] {
        assert!(parse_name(bad).is_err(), "{bad}");
    }
}

fn file(version: i64, sql: &str) -> MigrationFile {
    MigrationFile {
        version,
        name: format!("{version}_m.sql"),
        sql: sql.to_string(),
    }
}

fn set_rules(files: Vec<MigrationFile>, sums: Option<&str>) -> Vec<Rule> {
    check_set(files, sums).into_iter().map(|v| v.rule).collect()
}

#[test]
fn shipped_migrations_are_never_edited_removed_or_preceded() {
    let a = "CREATE TABLE a (id int);";
    let b = "CREATE TABLE b (id int);";
    let sums = format!(
        "# comment\n\n20260101000001 {}\n20260101000002 {}\n",
        sha256_hex(a.as_bytes()),
        sha256_hex(b.as_bytes())
    );
    let ok = || vec![file(20260101000001, a), file(20260101000002, b)];
    assert!(set_rules(ok(), Some(&sums)).is_empty());
    let mut plus_new = ok();
    plus_new.push(file(20260101000003, "CREATE TABLE c (id int);"));
    assert!(set_rules(plus_new, Some(&sums)).is_empty());

    let edited = vec![
        file(20260101000001, a),
        file(20260101000002, "CREATE TABLE b (id bigint);"),
    ];
    assert_eq!(set_rules(edited, Some(&sums)), vec![Rule::ShippedEdited]);
    assert_eq!(
        set_rules(vec![file(20260101000002, b)], Some(&sums)),
        vec![Rule::ShippedMissing]
    );
    let mut before = ok();
    before.push(file(20260101000000, "SELECT 1;"));
    assert_eq!(set_rules(before, Some(&sums)), vec![Rule::VersionOrder]);
    let mut twice = ok();
    twice.push(MigrationFile {
        version: 20260101000002,
        name: "20260101000002_other.sql".into(),
        sql: "SELECT 1;".into(),
    });
    assert_eq!(set_rules(twice, Some(&sums)), vec![Rule::VersionOrder]);
    assert_eq!(set_rules(ok(), None), vec![Rule::Checksums]);
    let bad_sums = format!(
        "{sums}20260101000001 {}\nnot a line\n",
        sha256_hex(a.as_bytes())
    );
    assert_eq!(
        set_rules(ok(), Some(&bad_sums)),
        vec![Rule::Checksums, Rule::Checksums]
    );
}

#[test]
fn the_set_also_lints_every_file() {
    let v = check_set(vec![file(20260101000001, "DROP TABLE x;")], Some(""));
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].rule, Rule::Drop);
    assert_eq!(v[0].migration, "20260101000001_m.sql");
}

#[test]
fn the_shipped_migrations_and_checksums_agree() {
    let v = check_shipped();
    assert!(
        v.is_empty(),
        "{}",
        v.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
