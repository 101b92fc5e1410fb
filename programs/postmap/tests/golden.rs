//! Golden tests: each folder under `tests/golden/` holds a postmap command line, the table
//! sources it reads, and what Postfix 3.7's postmap printed for it (recorded by
//! `tests/golden/record.sh`). ironpost's postmap must produce the same bytes.

#[test]
fn postmap_matches_postfix() {
    testkit::Golden {
        program: std::path::Path::new(env!("CARGO_BIN_EXE_postmap")),
        root: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden"),
        placeholder: "$DIR",
        pending: &pending,
        select: &|case| testkit::case_program(case).is_none(),
    }
    .run_all(90);
}

/// Cases for table types this build does not have.
fn pending(case: &std::path::Path) -> Option<String> {
    let args = std::fs::read_to_string(case.join("args")).unwrap_or_default();
    let setup = std::fs::read_to_string(case.join("setup")).unwrap_or_default();
    for word in args.split_whitespace().chain(setup.split_whitespace()) {
        let word = word.trim_matches(|c| c == '\'' || c == '"');
        if let Some((kind, _)) = word.split_once(':')
            && ["lmdb", "pcre"].contains(&kind)
            && !dict::TYPES.contains(&kind)
        {
            return Some(format!("needs the {kind} table type"));
        }
    }
    None
}
