//! Case folding as Postfix's: with smtputf8_enable = yes, fixed-string tables fold keys and
//! queries with Unicode full case folding (ICU's, util/casefold.c); with it off, they
//! lower-case ASCII only. ironpost's postmap answers each query on a table of the
//! characters where folding and lower-casing differ exactly as Postfix 3.7's does, and
//! stores the same folded keys. Skipped (see testkit::skip) without Debian's postfix.

use std::path::PathBuf;

const POSTFIX: &str = "/usr/sbin/postmap";

/// A ligature, sharp s, the beta symbol, final sigma, the Kelvin sign, dotted capital I,
/// a Cherokee capital (whose small letter folds to it), and another ligature.
const TABLE: &str = "inline:{ {ﬁle=ligature}, {straße=sharp-s}, {ϐ=beta-symbol}, \
    {ς=final-sigma}, {\u{212A}elvin=kelvin-sign}, {İ=dotted-I}, {Ᏸ=cherokee}, {ﬃ=ffi} }";

const QUERIES: &[&str] = &[
    "FILE",
    "ﬁle",
    "STRASSE",
    "straße",
    "STRAẞE",
    "Β",
    "β",
    "ϐ",
    "Σ",
    "σ",
    "ς",
    "KELVIN",
    "\u{212A}elvin",
    "i\u{307}",
    "I",
    "ᏸ",
    "Ᏸ",
    "FFI",
];

/// A configuration directory with `smtputf8_enable = value`.
fn config(value: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("postmap-casefold-{value}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("main.cf"),
        format!("compatibility_level = 3.6\nsmtputf8_enable = {value}\n"),
    )
    .unwrap();
    dir
}

/// `postmap -q` of each query: exit status and output.
fn answers(program: &str, dir: &std::path::Path) -> Vec<(i32, String)> {
    QUERIES
        .iter()
        .map(|query| testkit::run_in(program, dir, &["-q", query, TABLE], ""))
        .collect()
}

/// `postmap -s`, sorted: the keys as the table stores them (the order is each side's hash).
fn stored(program: &str, dir: &std::path::Path) -> (i32, Vec<String>) {
    let (status, out) = testkit::run_in(program, dir, &["-s", TABLE], "");
    let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
    lines.sort();
    (status, lines)
}

/// The queries that found something, with what they found.
fn found(answers: &[(i32, String)]) -> Vec<(&str, &str)> {
    QUERIES
        .iter()
        .zip(answers)
        .filter(|(_, (status, _))| *status == 0)
        .map(|(query, (_, value))| (*query, value.trim_end()))
        .collect()
}

#[test]
fn folding_matches_postfix() {
    if !testkit::require_postfix_program(POSTFIX) {
        return;
    }
    let ours = env!("CARGO_BIN_EXE_postmap");
    for (smtputf8, want_found) in [
        // Postfix 3.7's answers (Debian 12, ICU 72) when this test was written.
        (
            "yes",
            vec![
                ("FILE", "ligature"),
                ("ﬁle", "ligature"),
                ("STRASSE", "sharp-s"),
                ("straße", "sharp-s"),
                ("STRAẞE", "sharp-s"),
                ("Β", "beta-symbol"),
                ("β", "beta-symbol"),
                ("ϐ", "beta-symbol"),
                ("Σ", "final-sigma"),
                ("σ", "final-sigma"),
                ("ς", "final-sigma"),
                ("KELVIN", "kelvin-sign"),
                ("\u{212A}elvin", "kelvin-sign"),
                ("i\u{307}", "dotted-I"),
                ("ᏸ", "cherokee"),
                ("Ᏸ", "cherokee"),
                ("FFI", "ffi"),
            ],
        ),
        (
            "no",
            vec![
                ("ﬁle", "ligature"),
                ("straße", "sharp-s"),
                ("ϐ", "beta-symbol"),
                ("ς", "final-sigma"),
                ("\u{212A}elvin", "kelvin-sign"),
                ("Ᏸ", "cherokee"),
            ],
        ),
    ] {
        let dir = config(smtputf8);
        let theirs = answers(POSTFIX, &dir);
        assert_eq!(
            found(&theirs),
            want_found,
            "Postfix, smtputf8_enable = {smtputf8}"
        );
        assert_eq!(answers(ours, &dir), theirs, "smtputf8_enable = {smtputf8}");
        assert_eq!(
            stored(ours, &dir),
            stored(POSTFIX, &dir),
            "postmap -s, smtputf8_enable = {smtputf8}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
