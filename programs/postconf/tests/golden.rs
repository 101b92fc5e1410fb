//! Golden tests: each folder under `tests/golden/` holds a postconf command line, the
//! main.cf and master.cf it reads, and the output, error output, exit status and edited
//! files that Postfix 3.7's postconf produced for them (recorded by `tests/golden/record.sh`).
//! ironpost's postconf must produce the same bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Splits a command line the way a POSIX shell would for our simple cases.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

fn read(path: &Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Runs one case; returns a description of each difference.
fn run_case(case: &Path, scratch: &Path) -> Vec<String> {
    let conf = scratch.join(case.file_name().unwrap());
    let _ = std::fs::remove_dir_all(&conf);
    std::fs::create_dir_all(&conf).unwrap();
    for file in ["main.cf", "master.cf"] {
        match read(&case.join(file)) {
            Some(text) => std::fs::write(conf.join(file), text).unwrap(),
            None if file == "main.cf" => std::fs::write(conf.join(file), "").unwrap(),
            None => {}
        }
    }
    let args = shell_words(&read(&case.join("args")).unwrap_or_default());
    let stdin = match case.join("stdin") {
        p if p.exists() => std::fs::File::open(p).unwrap().into(),
        _ => std::process::Stdio::null(),
    };
    let out = Command::new(env!("CARGO_BIN_EXE_postconf"))
        .arg("-c")
        .arg(&conf)
        .args(&args)
        .env_remove("MAIL_CONFIG")
        .env("LANG", "C")
        .stdin(stdin)
        .output()
        .unwrap();
    let conf_text = conf.display().to_string();
    let normalize = |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&conf_text, "$CONFIG");
    let mut diffs = Vec::new();
    let mut compare = |what: &str, got: String, want: Option<String>| {
        let want = want.unwrap_or_default();
        if got != want {
            diffs.push(format!("--- {what}: want\n{want}--- got\n{got}"));
        }
    };
    compare("stdout", normalize(&out.stdout), read(&case.join("stdout")));
    compare("stderr", normalize(&out.stderr), read(&case.join("stderr")));
    let status = out.status.code().map_or("signal".into(), |c| c.to_string());
    compare("status", format!("{status}\n"), read(&case.join("status")));
    for file in ["main.cf", "master.cf"] {
        if let Some(want) = read(&case.join(format!("{file}.after"))) {
            compare(file, read(&conf.join(file)).unwrap_or_default(), Some(want));
        }
    }
    diffs
}

#[test]
fn postconf_matches_postfix() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let scratch = std::env::temp_dir().join(format!("postconf-golden-{}", std::process::id()));
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("args").exists())
        .collect();
    cases.sort();
    let only = std::env::var("GOLDEN_CASE").ok();
    cases.retain(|c| only.as_deref().is_none_or(|o| c.ends_with(o)));
    // Fatal errors pause for a second, as Postfix's do; run cases side by side.
    let results: Vec<(String, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(16).max(1))
            .map(|chunk| {
                let scratch = &scratch;
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|case| {
                            let name = case.file_name().unwrap().to_string_lossy().into_owned();
                            (name, run_case(case, scratch))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut failed = Vec::new();
    for (name, diffs) in results {
        if !diffs.is_empty() {
            eprintln!("=== {name}\n{}", diffs.join(""));
            failed.push(name);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        only.is_some() || cases.len() > 50,
        "too few golden cases: {}",
        cases.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {} cases differ: {failed:?}",
        failed.len(),
        cases.len()
    );
}
