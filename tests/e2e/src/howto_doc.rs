//! The examples of docs/DEBUG_README.md, checked against what the programs print.
//!
//! ironpost's Howto (the counterpart of Postfix's DEBUG_README) shows real output: each
//! example is a fenced block right after a tag line `<!-- howto:NAME -->`, and the e2e test
//! that produces it (t-54-howto walks the Howto's techniques, t-39 its problem report and
//! t-65 its syslog recipe; t-41, t-42, t-43, t-44, t-52 and t-55 the debugging features of
//! the "Beyond the Howto" part) passes what it got to
//! [`check`], which fails when the block differs from it. A tag missing from the document
//! fails too, so an example cannot be dropped silently. With `IRONPOST_HOWTO_UPDATE=1` in
//! the environment, [`check`] writes the output into the block instead (the tag must still
//! be there): that is how the document is brought up to date after a deliberate change of
//! output. [`shell`] and [`typed`] run a command as an administrator types it and give the
//! session as the document shows it. A recipe the document gives (a debugger_command, the
//! master.cf lines to change) is a block too, checked against the very string the test
//! writes into the configuration, so the two cannot part.
//!
//! What varies from run to run is normalised first, so that the document reads like a
//! real installation and still compares equal:
//!
//! - the instance's directory: `DIR/etc` becomes `/etc/ironpost`, `DIR/libexec`
//!   `/usr/libexec/ironpost`, `DIR/queue` `/var/spool/ironpost`, `DIR/data`
//!   `/var/lib/ironpost`, `DIR/log/maillog` `/var/log/mail.log`, `DIR/sbin` `/usr/sbin`, and
//!   `DIR` itself `/srv/ironpost`;
//! - the instance's SMTP port becomes 25 and the relay's (smtp-sink) port 2525, and the
//!   test's own words ([`Context::with`]) what it says;
//! - the machine's host name becomes `mail`;
//! - queue IDs (recognised where Postfix prints them: `]: ID:`, `queued as ID`,
//!   `forwarded as ID`, `Queue-ID: ID`, `.ID@` in a Message-ID, `ID.` before a boundary's
//!   time) become `4A3F2C1B01`, `4A3F2C1B02`, ... in order of first appearance, each
//!   everywhere it occurs;
//! - process IDs (in `[PID]`, `pid PID` and the list of pids after it, `pid: PID`,
//!   `.PID.log`, `-p PID`, `process PID`, a transcript's name `_PID.N_`) become 1001, 1002,
//!   ... likewise;
//! - times and dates: `hh:mm:ss` becomes `12:00:00` (and a transcript's `.mmm` `.000`), a
//!   syslog or RFC 5322 date `Jan 01` (as maillog_file writes it) / `Mon,  1 Jan 2024`, an
//!   ISO date `2024-01-01`, a 14-digit timestamp `20240101120000`, a crash report's or
//!   transcript's name `20240101T120000Z` / `20240101-120000`, a 10-digit epoch time
//!   `1704110400`, `delay=`/`delays=` values `0.1` and `0.01/0/0/0.09`, and posttrace's
//!   reading of the delays the same values;
//! - SHA-256 digests (a crash report's of main.cf and master.cf) become fixed ones.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// The document.
pub fn document() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/DEBUG_README.md"
    ))
}

/// What the run depends on: the instance directory and ports to hide.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The instance directory.
    pub dir: String,
    /// The instance's SMTP port.
    pub smtp_port: u16,
    /// The relay's port.
    pub sink_port: u16,
    /// Other words of this run only (a second listener's port, say) and what the document
    /// shows instead, each replaced where it stands alone.
    pub words: Vec<(String, String)>,
}

impl Context {
    /// The context of an e2e instance.
    pub fn of(instance: &crate::Instance) -> Context {
        Context {
            dir: instance.dir.display().to_string(),
            smtp_port: instance.smtp_port,
            sink_port: instance.sink_port,
            words: Vec::new(),
        }
    }

    /// The same, with `word` shown as `shown` too.
    pub fn with(mut self, word: impl ToString, shown: &str) -> Context {
        self.words.push((word.to_string(), shown.to_string()));
        self
    }
}

/// What an administrator sees who types `line` at a root prompt: the line (`# line`),
/// then what it wrote to its standard output and error, in the order it wrote them; and
/// its exit status. The shell finds ironpost's commands first on PATH, and MAIL_CONFIG
/// names the instance's configuration directory, which is how the commands find
/// `/etc/ironpost` on an installed system without `-c`.
pub fn shell(instance: &crate::Instance, line: &str) -> (i32, String) {
    let programs = crate::program("postfix");
    let path = format!(
        "{}:/usr/sbin:/usr/bin:/sbin:/bin",
        programs.parent().unwrap().display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("exec 2>&1; {line}")])
        .env("PATH", path)
        .env("MAIL_CONFIG", instance.etc())
        .current_dir(&instance.dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("# {line}\n{}", String::from_utf8_lossy(&out.stdout)),
    )
}

/// [`shell`] for ironpost's command `name` with `args`, quoted as a person types them.
pub fn typed(instance: &crate::Instance, name: &str, args: &[&str]) -> (i32, String) {
    crate::program(name);
    let line: Vec<String> = std::iter::once(name)
        .chain(args.iter().copied())
        .map(quoted)
        .collect();
    shell(instance, &line.join(" "))
}

/// A word of a command line as a person types it to a shell.
fn quoted(word: &str) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b);
    if !word.is_empty() && word.bytes().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Fails unless the block tagged `tag` in docs/DEBUG_README.md shows `actual` (normalised);
/// under IRONPOST_HOWTO_UPDATE=1 writes it there instead.
#[track_caller]
pub fn check(tag: &str, context: &Context, actual: &str) {
    // Tests of one binary run in threads: one rewrite of the file at a time.
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let path = document();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let wanted = normalise(context, actual);
    let (start, end) = block(&text, tag).unwrap_or_else(|| {
        panic!(
            "no fenced block tagged <!-- howto:{tag} --> in {}",
            path.display()
        )
    });
    let shown = &text[start..end];
    if shown == wanted {
        return;
    }
    if std::env::var_os("IRONPOST_HOWTO_UPDATE").is_some() {
        let updated = format!("{}{}{}", &text[..start], wanted, &text[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "docs/DEBUG_README.md, block {tag}, differs from the output (IRONPOST_HOWTO_UPDATE=1 \
         rewrites it)\n--- shown:\n{shown}--- actual:\n{wanted}"
    );
}

/// The byte range of the contents of the fenced block after the tag (from the line after
/// the opening fence to the closing fence).
fn block(text: &str, tag: &str) -> Option<(usize, usize)> {
    let marker = format!("<!-- howto:{tag} -->\n");
    let at = text.find(&marker)? + marker.len();
    let rest = &text[at..];
    let fence_line_end = rest.find('\n')?;
    if !rest.starts_with("```") {
        return None;
    }
    let start = at + fence_line_end + 1;
    let close = text[start..]
        .match_indices("```")
        .find(|(i, _)| *i == 0 || text.as_bytes()[start + i - 1] == b'\n')?
        .0;
    Some((start, start + close))
}

/// The text with what varies from run to run replaced (see the module's documentation),
/// trailing blanks of each line dropped, ending in one newline.
pub fn normalise(context: &Context, text: &str) -> String {
    let mut text = text.to_string();
    if !context.dir.is_empty() {
        let dir = &context.dir;
        for (sub, shown) in [
            ("/etc", "/etc/ironpost"),
            ("/libexec", "/usr/libexec/ironpost"),
            ("/queue", "/var/spool/ironpost"),
            ("/data", "/var/lib/ironpost"),
            ("/log/maillog", "/var/log/mail.log"),
            ("/sbin", "/usr/sbin"),
            ("", "/srv/ironpost"),
        ] {
            text = text.replace(&format!("{dir}{sub}"), shown);
        }
    }
    if context.smtp_port != 0 {
        text = replace_word(&text, &context.smtp_port.to_string(), "25");
    }
    if context.sink_port != 0 {
        text = replace_word(&text, &context.sink_port.to_string(), "2525");
    }
    for (word, shown) in &context.words {
        text = replace_word(&text, word, shown);
    }
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() && host != "mail" {
            text = replace_word(&text, host, "mail");
        }
    }
    // Times first: a pid must not be taken for part of a time of day.
    text = times(&text);
    text = explained_delays(&text);
    text = rename_digests(&text);
    text = rename_queue_ids(&text);
    text = rename_pids(&text);
    let mut out: String = text
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The words of `text` (runs of letters and digits) with their offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphanumeric() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            out.push((start, &text[start..i]));
        } else {
            i += 1;
        }
    }
    out
}

/// Replaces `word` where it stands alone (no letter, digit, `_` or `-` on either side).
fn replace_word(text: &str, word: &str, by: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut last = 0;
    for (at, _) in text.match_indices(word) {
        if at < last {
            continue;
        }
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + word.len()).copied();
        if before.is_some_and(is_word_byte) || after.is_some_and(is_word_byte) {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(by);
        last = at + word.len();
    }
    out.push_str(&text[last..]);
    out
}

/// Replaces each word of `found` (in order of first appearance) by `name(n)`.
fn rename(text: &str, found: &[String], name: impl Fn(usize) -> String) -> String {
    let mut seen: HashMap<&str, String> = HashMap::new();
    for word in found {
        let n = seen.len() + 1;
        seen.entry(word.as_str()).or_insert_with(|| name(n));
    }
    let mut out = String::new();
    let mut last = 0;
    for (at, word) in words(text) {
        if let Some(by) = seen.get(word) {
            out.push_str(&text[last..at]);
            out.push_str(by);
            last = at + word.len();
        }
    }
    out.push_str(&text[last..]);
    out
}

fn is_queue_id(word: &str) -> bool {
    word.len() >= 6
        && word
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

/// Queue IDs where Postfix prints them.
fn rename_queue_ids(text: &str) -> String {
    let list = words(text);
    let mut found = Vec::new();
    for (k, (at, word)) in list.iter().enumerate() {
        if !is_queue_id(word) {
            continue;
        }
        let before = &text[..*at];
        let after = &text[at + word.len()..];
        let previous = k.checked_sub(1).map(|p| list[p].1).unwrap_or("");
        let by_context = (before.ends_with("]: ") && after.starts_with(':'))
            || before.ends_with("queued as ")
            || before.ends_with("forwarded as ")
            || before.ends_with("Queue-ID: ")
            || (before.ends_with('.') && after.starts_with('@'))
            || (after.starts_with('.')
                && after[1..].bytes().take_while(u8::is_ascii_digit).count() >= 9)
            || previous == "QUEUEID";
        if by_context {
            found.push(word.to_string());
        }
    }
    rename(text, &found, |n| {
        format!("{:X}", 0x4A3F2C1B00u64 + n as u64)
    })
}

/// Process IDs where Postfix and the debugger recipes print them.
fn rename_pids(text: &str) -> String {
    let list = words(text);
    let mut found = Vec::new();
    // The end of the last pid found: `pid 1 2 3` lists several.
    let mut list_end = None;
    for (at, word) in &list {
        if !word.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let before = &text[..*at];
        let after = &text[at + word.len()..];
        let numbered = after
            .strip_prefix('.')
            .map_or(0, |a| a.bytes().take_while(u8::is_ascii_digit).count());
        let by_context = (before.ends_with('[') && after.starts_with(']'))
            || before.ends_with("pid ")
            || before.ends_with("pid: ")
            || before.ends_with("process ")
            || before.ends_with("-p ")
            || (before.ends_with('.') && after.starts_with(".log"))
            // A transcript's name: `_PID.N_`.
            || (before.ends_with('_') && numbered > 0 && after[1 + numbered..].starts_with('_'))
            || (list_end.is_some() && list_end == at.checked_sub(1) && before.ends_with(' '));
        if by_context {
            found.push(word.to_string());
            list_end = Some(at + word.len());
        }
    }
    // Every occurrence of such a number is renamed: a pid is a large number that rarely
    // equals anything else shown (a size or a port), and a debugger's output repeats it.
    rename(text, &found, |n| (1000 + n).to_string())
}

/// posttrace's reading of `delays=`, each part followed by what it counts: the values of
/// the `delays=` shown (`0.01/0/0/0.09`).
fn explained_delays(text: &str) -> String {
    let mut text = text.to_string();
    for (phrase, shown) in [
        ("s before the queue manager", "0.01"),
        ("s in the queue manager", "0"),
        ("s setting up the delivery", "0"),
        ("s transmitting the message", "0.09"),
    ] {
        let mut out = String::new();
        let mut last = 0;
        for (at, _) in text.match_indices(phrase) {
            let number = text[..at]
                .bytes()
                .rev()
                .take_while(|b| b.is_ascii_digit() || *b == b'.')
                .count();
            if number == 0 {
                continue;
            }
            out.push_str(&text[last..at - number]);
            out.push_str(shown);
            last = at;
        }
        out.push_str(&text[last..]);
        text = out;
    }
    text
}

/// How many ASCII digits `bytes` has from `at` on.
fn digits_at(bytes: &[u8], at: usize) -> usize {
    bytes
        .get(at..)
        .map_or(0, |b| b.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// SHA-256 digests (64 lowercase hex digits, as a crash report gives the configuration
/// files'), in order of first appearance.
fn rename_digests(text: &str) -> String {
    const SHOWN: [&str; 2] = [
        "42f5353eaa782d27d80d25766e8618018295454d337dfd137a2c3c7dae716261",
        "cbed9c43f01b22f7e512b1c5b63a0f5d2b2070d0588c1b8b8eeb50073ad42032",
    ];
    let found: Vec<String> = words(text)
        .into_iter()
        .filter(|(_, w)| {
            w.len() == 64
                && w.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
        .map(|(_, w)| w.to_string())
        .collect();
    rename(text, &found, |n| {
        SHOWN
            .get(n - 1)
            .map_or_else(|| format!("{n:064x}"), |s| s.to_string())
    })
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Times, dates and delays.
fn times(text: &str) -> String {
    let mut out = String::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if boundary {
            // "Sun,  6 Dec 2026" (RFC 5322).
            if let Some(day) = DAYS.iter().find(|d| rest.starts_with(&format!("{d}, "))) {
                let r = &rest[day.len() + 2..];
                if r.len() >= 11
                    && r.as_bytes()[..2]
                        .iter()
                        .all(|b| *b == b' ' || b.is_ascii_digit())
                    && MONTHS.contains(&&r[3..6])
                    && r.as_bytes()[7..11].iter().all(u8::is_ascii_digit)
                {
                    out.push_str("Mon,  1 Jan 2024");
                    i += day.len() + 2 + 11;
                    continue;
                }
            }
            // "Dec  6 12:57:26" (syslog).
            if rest.len() >= 7
                && MONTHS.contains(&&rest[..3])
                && rest.as_bytes()[3] == b' '
                && rest.as_bytes()[4..6]
                    .iter()
                    .all(|b| *b == b' ' || b.is_ascii_digit())
                && rest.as_bytes()[6] == b' '
                && rest.as_bytes().get(7).is_some_and(u8::is_ascii_digit)
            {
                // One form whatever the day: maillog_file writes "Dec 06", syslog
                // "Dec  6" but "Dec 16".
                out.push_str("Jan 01 ");
                i += 7;
                continue;
            }
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let next = rest.as_bytes().get(digits).copied();
            let alone = !next.is_some_and(|b| b.is_ascii_alphanumeric());
            if digits == 2 && rest.len() >= 8 {
                let t = rest.as_bytes();
                if t[2] == b':'
                    && t[5] == b':'
                    && t[3..5].iter().chain(&t[6..8]).all(u8::is_ascii_digit)
                {
                    out.push_str("12:00:00");
                    i += 8;
                    // A transcript's milliseconds.
                    if t.get(8) == Some(&b'.') && digits_at(t, 9) == 3 {
                        out.push_str(".000");
                        i += 4;
                    }
                    continue;
                }
            }
            // "2026-12-06" (ISO 8601).
            if digits == 4
                && rest.len() >= 10
                && rest.as_bytes()[4] == b'-'
                && digits_at(rest.as_bytes(), 5) == 2
                && rest.as_bytes()[7] == b'-'
                && digits_at(rest.as_bytes(), 8) == 2
            {
                out.push_str("2024-01-01");
                i += 10;
                continue;
            }
            // "20261206T103000Z" (a crash report's name), "20261206-140205" (a
            // transcript's).
            if digits == 8
                && matches!(next, Some(b'T' | b'-'))
                && digits_at(rest.as_bytes(), 9) == 6
            {
                out.push_str(if next == Some(b'T') {
                    "20240101T120000"
                } else {
                    "20240101-120000"
                });
                i += 15;
                continue;
            }
            if digits == 14 && alone && rest.starts_with("20") {
                out.push_str("20240101120000");
                i += 14;
                continue;
            }
            if digits == 10 && alone {
                out.push_str("1704110400");
                i += 10;
                continue;
            }
            if let Some((key, shown)) = [("delay=", "0.1"), ("delays=", "0.01/0/0/0.09")]
                .into_iter()
                .find(|(key, _)| rest.starts_with(key))
            {
                let value = rest[key.len()..]
                    .bytes()
                    .take_while(|b| b.is_ascii_digit() || *b == b'.' || *b == b'/')
                    .count();
                out.push_str(key);
                out.push_str(shown);
                i += key.len() + value;
                continue;
            }
        }
        let ch = rest.chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_normalised() {
        let context = Context {
            dir: "/tmp/ironpost-e2e/t-54-77".into(),
            smtp_port: 40123,
            sink_port: 40124,
            words: Vec::new(),
        };
        let text = "Dec  6 13:04:05 vmhost postfix/smtpd[345678]: 9A3C41D2E: client=localhost[127.0.0.1]\n\
                    Dec 16 13:04:06 vmhost postfix/qmgr[345612]: 9A3C41D2E: from=<a@b>, size=2345, nrcpt=1\n\
                    Dec 16 13:04:06 vmhost postfix/smtp[345613]: 9A3C41D2E: to=<u@relay.e2e.test>, relay=127.0.0.1[127.0.0.1]:40124, delay=0.23, delays=0.1/0.01/0.05/0.07, dsn=2.0.0, status=sent (250 queued as 0C1D2E3F4A)   \n\
                    config_directory = /tmp/ironpost-e2e/t-54-77/etc\n";
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let text = text.replace("vmhost", host.trim());
        assert_eq!(
            normalise(&context, &text),
            "Jan 01 12:00:00 mail postfix/smtpd[1001]: 4A3F2C1B01: client=localhost[127.0.0.1]\n\
             Jan 01 12:00:00 mail postfix/qmgr[1002]: 4A3F2C1B01: from=<a@b>, size=2345, nrcpt=1\n\
             Jan 01 12:00:00 mail postfix/smtp[1003]: 4A3F2C1B01: to=<u@relay.e2e.test>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.1, delays=0.01/0/0/0.09, dsn=2.0.0, status=sent (250 queued as 4A3F2C1B02)\n\
             config_directory = /etc/ironpost\n"
        );
    }

    #[test]
    fn report_headers_are_normalised() {
        let text = "Date: Sun,  6 Dec 2026 13:04:05 +0000 (UTC)\n\
                    Message-Id: <20261206130405.9A3C41D2E@mail.e2e.test>\n\
                    \t boundary=\"9A3C41D2E.1796562245/mail.e2e.test\"\n";
        assert_eq!(
            normalise(&Context::default(), text),
            "Date: Mon,  1 Jan 2024 12:00:00 +0000 (UTC)\n\
             Message-Id: <20240101120000.4A3F2C1B01@mail.e2e.test>\n\
             \t boundary=\"4A3F2C1B01.1704110400/mail.e2e.test\"\n"
        );
    }

    #[test]
    fn debug_feature_output_is_normalised() {
        let text = "# sed '/^backtrace:/q' /var/lib/ironpost/crash/smtp.23565.20261206T105916Z\n\
                    pid: 23565\n\
                    time: 2026-12-06 10:59:16 UTC\n\
                    main.cf: sha256 d80b60d1228f1d9247d145b3345af05d37dd790952a23ddaf240fa93bd3ec473\n\
                    ==> /q/transcript/20261206-164030_smtpd_127.0.0.1_19448.1_9A3C41D2E <==\n\
                    16:40:30.361 > 250 2.0.0 Ok: queued as 9A3C41D2E\n\
                    \x20 restart: smtp/inet: pid 17455 17457\n\
                    \x20   = delays: 2.5s before the queue manager (receiving), 0.25s in the queue manager (waiting), 0s setting up the delivery (connection), 1.02s transmitting the message\n";
        assert_eq!(
            normalise(&Context::default(), text),
            "# sed '/^backtrace:/q' /var/lib/ironpost/crash/smtp.1001.20240101T120000Z\n\
             pid: 1001\n\
             time: 2024-01-01 12:00:00 UTC\n\
             main.cf: sha256 42f5353eaa782d27d80d25766e8618018295454d337dfd137a2c3c7dae716261\n\
             ==> /q/transcript/20240101-120000_smtpd_127.0.0.1_1002.1_4A3F2C1B01 <==\n\
             12:00:00.000 > 250 2.0.0 Ok: queued as 4A3F2C1B01\n\
             \x20 restart: smtp/inet: pid 1003 1004\n\
             \x20   = delays: 0.01s before the queue manager (receiving), 0s in the queue manager (waiting), 0s setting up the delivery (connection), 0.09s transmitting the message\n"
        );
    }

    #[test]
    fn a_block_is_found_after_its_tag() {
        let text =
            "# x\n<!-- howto:one -->\n```\nshown\n```\n<!-- howto:two -->\n```sh\na\nb\n```\n";
        let (s, e) = block(text, "two").unwrap();
        assert_eq!(&text[s..e], "a\nb\n");
        assert!(block(text, "three").is_none());
        assert!(block(text, "on").is_none());
    }

    #[test]
    #[should_panic(expected = "no fenced block tagged <!-- howto:no-such-example -->")]
    fn a_missing_tag_fails() {
        check("no-such-example", &Context::default(), "anything\n");
    }
}
