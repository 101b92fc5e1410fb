//! Test support shared by the programs' tests and the end-to-end harness. A
//! dev-dependency only.
//!
//! [`skip`]: a test that cannot run here says why, and is counted as skipped (or fails, in
//! CI), never as passed. [`program`]: another package's program, built from the current
//! sources before a test runs it.
//!
//! The golden-case runner: each folder under a program's `tests/golden/` holds a command
//! line (`args`), its input files, and what Postfix 3.7's program printed for it (`stdout`,
//! `stderr`, `status`, and `FILE.after` for files it changed), recorded by the folder's
//! `record.sh`. The runner copies the inputs to a scratch directory, runs the ironpost
//! program there with `-c <scratch>`, and compares byte for byte.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub mod programs;
pub mod skip;
pub use programs::program;
pub use skip::skip;

/// Files in a case folder that are not inputs.
const NOT_INPUT: [&str; 6] = ["args", "stdin", "stdout", "stderr", "status", "setup"];

/// How to run one program's cases.
pub struct Golden<'a> {
    /// The program under test.
    pub program: &'a Path,
    /// The case folders' parent.
    pub root: PathBuf,
    /// What the scratch directory's path is replaced with in recorded output.
    pub placeholder: &'a str,
    /// Says why a case cannot run yet (a table type or program ironpost does not have);
    /// such cases are listed, not run.
    pub pending: &'a (dyn Fn(&Path) -> Option<String> + Sync),
    /// Which cases of the folder are this program's (several programs may share one
    /// folder, e.g. postmap and postalias, told apart by a case's `program` file).
    pub select: &'a (dyn Fn(&Path) -> bool + Sync),
}

/// The program a case runs, from its `program` file, if it names one.
pub fn case_program(case: &Path) -> Option<String> {
    std::fs::read_to_string(case.join("program"))
        .ok()
        .map(|p| p.trim().to_string())
}

/// Splits a command line the way a POSIX shell would for these simple cases.
pub fn shell_words(line: &str) -> Vec<String> {
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

impl Golden<'_> {
    /// Runs one case in `scratch`; returns a description of each difference.
    fn run_case(&self, case: &Path, scratch: &Path) -> Vec<String> {
        let dir = scratch.join(case.file_name().unwrap());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(case).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if NOT_INPUT.contains(&name.as_str()) || name.ends_with(".after") {
                continue;
            }
            std::fs::copy(entry.path(), dir.join(&name)).unwrap();
        }
        if !dir.join("main.cf").exists() {
            std::fs::write(dir.join("main.cf"), "").unwrap();
        }
        // The setup builds fixtures with Postfix's own tools, and file times are set as
        // record.sh sets them: inputs old, what setup made a day newer (unless setup chose a
        // time itself), so "database older than source" checks see what Postfix saw.
        let _ = Command::new("find")
            .args([Path::new("."), Path::new("-mindepth"), Path::new("1")])
            .args(["-exec", "touch", "-h", "-d", "2000-01-01", "{}", "+"])
            .current_dir(&dir)
            .output();
        if case.join("setup").exists() {
            let script = format!(
                "touch ../.ref-$$ && sh {} >/dev/null 2>&1; \
                 find . -mindepth 1 -newer ../.ref-$$ -exec touch -h -d 2000-01-02 {{}} +; \
                 rm -f ../.ref-$$",
                case.join("setup").display()
            );
            let _ = Command::new("sh")
                .args(["-c", &script])
                .current_dir(&dir)
                .env_clear()
                .env("PATH", "/usr/sbin:/usr/bin:/bin")
                .env("LANG", "C")
                .env("MAIL_CONFIG", &dir)
                .output();
        }
        let args = shell_words(&read(&case.join("args")).unwrap_or_default());
        let stdin = match case.join("stdin") {
            p if p.exists() => std::fs::File::open(p).unwrap().into(),
            _ => Stdio::null(),
        };
        let out = Command::new(self.program)
            .arg("-c")
            .arg(&dir)
            .args(&args)
            .current_dir(&dir)
            .env_remove("MAIL_CONFIG")
            .env("LANG", "C")
            .stdin(stdin)
            .output()
            .unwrap();
        let dir_text = dir.display().to_string();
        let normalize =
            |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&dir_text, self.placeholder);
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
        for entry in std::fs::read_dir(case).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(file) = name.strip_suffix(".after") {
                compare(
                    file,
                    read(&dir.join(file)).unwrap_or_default(),
                    read(&entry.path()),
                );
            }
        }
        diffs
    }

    /// Runs every case (or only `GOLDEN_CASE`), side by side, and fails listing those that
    /// differ. Cases whose `setup` needs Postfix's tools are skipped without Postfix: then
    /// the test is skipped (see [`skip`]) once the others pass.
    #[track_caller]
    pub fn run_all(&self, minimum: usize) {
        let scratch = std::env::temp_dir().join(format!(
            "golden-{}-{}",
            self.program.file_name().unwrap().to_string_lossy(),
            std::process::id()
        ));
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&self.root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("args").exists() && (self.select)(p))
            .collect();
        cases.sort();
        let only = std::env::var("GOLDEN_CASE").ok();
        cases.retain(|c| only.as_deref().is_none_or(|o| c.ends_with(o)));
        cases.retain(|c| match (self.pending)(c) {
            Some(why) => {
                eprintln!(
                    "pending: {}: {why}",
                    c.file_name().unwrap().to_string_lossy()
                );
                false
            }
            None => true,
        });
        // A setup builds its fixtures with Postfix's own postmap and postalias.
        let postfix = Path::new("/usr/sbin/postmap").exists();
        let (cases, need_postfix): (Vec<PathBuf>, Vec<PathBuf>) = cases
            .into_iter()
            .partition(|c| postfix || !c.join("setup").exists());
        // Fatal errors pause for a second, as Postfix's do: run cases side by side.
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
                                (name, self.run_case(case, scratch))
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
            only.is_some() || cases.len() + need_postfix.len() >= minimum,
            "too few golden cases: {}",
            cases.len() + need_postfix.len()
        );
        assert!(
            failed.is_empty(),
            "{} of {} cases differ: {failed:?}",
            failed.len(),
            cases.len()
        );
        if !need_postfix.is_empty() {
            skip(format!(
                "{} cases build their fixtures with Postfix's postmap or postalias: \
                 needs Debian's postfix package (apt-get install postfix)",
                need_postfix.len()
            ));
        }
    }
}

/// Whether Debian's Postfix program `path` (e.g. `/usr/sbin/postconf`) is installed; when
/// it is not, the calling test is skipped (see [`skip`]) and should return.
#[track_caller]
pub fn require_postfix_program(path: &str) -> bool {
    let installed = Path::new(path).exists();
    if !installed {
        skip(format!(
            "needs Debian's postfix package (apt-get install postfix): no {path}"
        ));
    }
    installed
}

/// Whether the process runs as root; when not, the calling test is skipped (see [`skip`])
/// and should return.
#[track_caller]
pub fn require_root() -> bool {
    // The effective uid (Uid: real effective saved fs), from /proc: no libc for one call.
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false);
    if !root {
        skip("needs root");
    }
    root
}

/// Whether Debian's Postfix is installed with table type `kind` (`postconf -m`); when it
/// is not, the calling test is skipped (see [`skip`]) and should return.
#[track_caller]
pub fn require_postfix_table(kind: &str) -> bool {
    static TYPES: OnceLock<Vec<String>> = OnceLock::new();
    let supported = TYPES
        .get_or_init(postfix_table_types)
        .iter()
        .any(|t| t == kind);
    if !supported {
        skip(format!("needs Debian's postfix with {kind} support"));
    }
    supported
}

/// The table types Postfix's postconf lists, none without Postfix. postconf reads a main.cf
/// first: an empty one of its own, since Debian's package installed with "No
/// configuration" has no /etc/postfix/main.cf.
fn postfix_table_types() -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("testkit-postconf-m-{}", std::process::id()));
    let types = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("main.cf"), ""))
        .and_then(|()| {
            Command::new("/usr/sbin/postconf")
                .arg("-c")
                .arg(&dir)
                .arg("-m")
                .output()
        })
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    types
}

/// Runs `program -c dir args...` in `dir` with `input` on standard input: the exit status
/// and standard output.
pub fn run_in(program: &str, dir: &Path, args: &[&str], input: &str) -> (i32, String) {
    use std::io::Write;
    let mut child = Command::new(program)
        .arg("-c")
        .arg(dir)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
