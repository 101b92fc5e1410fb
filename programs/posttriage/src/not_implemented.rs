//! Settings ironpost accepts but does not implement: every Postfix 3.7 parameter that
//! main.cf, or a master.cf `-o`, sets to something other than Postfix's default while
//! the program that would read it is ironpost's.
//!
//! Postfix counterpart: none. ironpost takes the whole Postfix 3.7 parameter namespace
//! (crates/params postfix-3.7.params, [`params::table::Known::PostfixOnly`]) so that a
//! stock main.cf raises no false "unused parameter" warning; the price is that such a
//! setting is taken without a word and does nothing. This check says so, naming where
//! it is set. On Postfix 3.7 (whose programs read these parameters) it says nothing:
//! a setting counts only when the program that reads it is ironpost's.

use params::Config;
use params::decl::install::DAEMON_DIRECTORY;
use params::master_cf::MasterCf;
use params::table::{self, Known};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Postfix-only parameters left out, each with the reason: ironpost reads a few by name
/// outside its declarations, and for the others what they tune does not exist in
/// ironpost, so nothing an administrator wants from them is lost.
const HARMLESS: &[(&str, &str)] = &[
    // Berkeley DB's cache sizes: ironpost's hash: and btree: tables are not Berkeley DB
    // files, and have no such buffers.
    ("berkeley_db_create_buffer_size", "no Berkeley DB"),
    ("berkeley_db_read_buffer_size", "no Berkeley DB"),
    // Not in ironpost's declarations, yet read by name: postdrop, postqueue, postsuper
    // and sendmail check `-c` against them (crates/global mail_conf_checkdir.rs).
    ("alternate_config_directories", "read by name"),
    ("multi_instance_directories", "read by name"),
    // Read only by oqmgr; Postfix 3.7's qmgr ignores it as well.
    ("qmgr_fudge_factor", "oqmgr only"),
    // Set by each program for itself; main.cf cannot change it.
    ("service_name", "read-only"),
    // Seeding OpenSSL's generator: ironpost's TLS draws from the operating system's
    // generator, so there is no pool to feed and no entropy lost.
    ("tls_daemon_random_bytes", "no PRNG to seed"),
    ("tls_random_bytes", "no PRNG to seed"),
    ("tls_random_exchange_name", "no PRNG to seed"),
    ("tls_random_prng_update_period", "no PRNG to seed"),
    ("tls_random_reseed_period", "no PRNG to seed"),
    ("tls_random_source", "no PRNG to seed"),
];

/// The daemon that reads a main.cf parameter, by the start of its name (Postfix's
/// naming: a daemon's parameters carry its name); the master stands for the rest, being
/// the mail system whose programs read them.
const READERS: &[(&str, &str)] = &[
    ("smtpd_", "smtpd"),
    ("smtp_", "smtp"),
    ("lmtp_", "lmtp"),
    ("milter_", "smtpd"),
    ("non_smtpd_milters", "cleanup"),
    ("postscreen_", "postscreen"),
    ("tlsproxy_", "tlsproxy"),
    ("dnsblog_", "dnsblog"),
    ("qmqpd_", "qmqpd"),
    ("qmgr_", "qmgr"),
];

/// Text that every ironpost daemon carries (its crash report's first line, written by
/// crates/log), and no Postfix program does.
const IRONPOST_MARK: &[u8] = b"ironpost crash report";

/// One line per setting that has no effect, as the triage rule `not-implemented`
/// matches it.
pub fn check(config: &Config, master: Option<&MasterCf>) -> Vec<String> {
    let daemons = PathBuf::from(config.str(&DAEMON_DIRECTORY).unwrap_or_default());
    let mut ours = Programs::default();
    let mut out = Vec::new();
    for e in &config.main.entries {
        let reader = reader_of(&e.name);
        let program = Some(daemons.join(reader))
            .filter(|p| p.exists())
            .unwrap_or_else(|| daemons.join("master"));
        if no_effect(config, &e.name, &e.value) && ours.is_ironpost(&program) {
            out.push(line(&format!("main.cf:{}", e.line), &e.name, &e.value));
        }
    }
    for entry in master.map_or(&[][..], |m| &m.entries) {
        let command = entry.argv.first().map_or("", String::as_str);
        let program = if command.starts_with('/') {
            PathBuf::from(command)
        } else {
            daemons.join(command)
        };
        for (name, value) in entry.overrides() {
            if no_effect(config, name, value) && ours.is_ironpost(&program) {
                let place = format!("master.cf:{} service {}", entry.line, entry.service());
                out.push(line(&place, name, value));
            }
        }
    }
    out
}

fn line(place: &str, name: &str, value: &str) -> String {
    format!("{place}: {name} = {value}: set but not implemented by ironpost: it has no effect")
}

fn reader_of(name: &str) -> &'static str {
    READERS
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map_or("master", |(_, daemon)| daemon)
}

/// Whether `name = value` is a Postfix-only setting that differs from Postfix's default.
fn no_effect(config: &Config, name: &str, value: &str) -> bool {
    let Some(Known::PostfixOnly(default)) = table::find(name) else {
        return false;
    };
    if HARMLESS.iter().any(|(n, _)| *n == name) {
        return false;
    }
    let expand = |text: &str| config.expand(text).unwrap_or_else(|_| text.to_string());
    !same_value(&expand(value), &expand(default))
}

/// Values compared as Postfix reads them: words apart from the separators between list
/// items, booleans in any case, and a number without a unit equal to the same number
/// with one (the unit is the parameter's default unit then).
fn same_value(a: &str, b: &str) -> bool {
    let words = |v: &str| -> Vec<String> {
        v.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (words(a), words(b));
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| same_word(x, y))
}

fn same_word(a: &str, b: &str) -> bool {
    if a == b
        || ["yes", "no"].contains(&a.to_ascii_lowercase().as_str()) && a.eq_ignore_ascii_case(b)
    {
        return true;
    }
    let number = |w: &str| -> Option<(String, Option<char>)> {
        let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &w[digits.len()..];
        let is_number = !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit());
        (is_number && unit.len() <= 1).then(|| (digits.to_string(), unit.chars().next()))
    };
    match (number(a), number(b)) {
        (Some((x, u)), Some((y, v))) => x == y && (u.is_none() || v.is_none() || u == v),
        _ => false,
    }
}

/// Which program files are ironpost's, each file read once.
#[derive(Default)]
struct Programs(HashMap<PathBuf, bool>);

impl Programs {
    fn is_ironpost(&mut self, path: &Path) -> bool {
        *self
            .0
            .entry(path.to_path_buf())
            .or_insert_with(|| carries_mark(path))
    }
}

/// Whether the file holds [`IRONPOST_MARK`], read in pieces that overlap by the mark's
/// length (a daemon is megabytes).
fn carries_mark(path: &Path) -> bool {
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut buf = vec![0u8; 1 << 20];
    let keep = IRONPOST_MARK.len() - 1;
    let mut have = 0;
    loop {
        let n = match file.read(&mut buf[have..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        let end = have + n;
        if buf[..end]
            .windows(IRONPOST_MARK.len())
            .any(|w| w == IRONPOST_MARK)
        {
            return true;
        }
        let tail = end.saturating_sub(keep);
        buf.copy_within(tail..end, 0);
        have = end - tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_as_postfix_reads_them() {
        assert!(same_value("500", "500"));
        assert!(same_value("No", "no"));
        assert!(same_value(
            "disable_esmtp, delay_dotcrlf",
            "disable_esmtp,delay_dotcrlf"
        ));
        assert!(same_value("300", "300s"));
        assert!(!same_value("300m", "300s"));
        assert!(!same_value("yes", "no"));
        assert!(!same_value("/etc/anchors", ""));
        assert!(!same_value("disable_esmtp", "disable_esmtp,delay_dotcrlf"));
    }

    #[test]
    fn readers_by_name() {
        assert_eq!(reader_of("smtpd_milters"), "smtpd");
        assert_eq!(reader_of("smtp_pix_workarounds"), "smtp");
        assert_eq!(reader_of("lmtp_assume_final"), "lmtp");
        assert_eq!(reader_of("confirm_delay_cleared"), "master");
    }

    #[test]
    fn ironpost_programs_are_told_from_others() {
        let dir = std::env::temp_dir().join(format!("posttriage-mark-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // The mark across the boundary of the first piece read.
        let mut ours = vec![0u8; (1 << 20) - 5];
        ours.extend_from_slice(IRONPOST_MARK);
        std::fs::write(dir.join("ours"), &ours).unwrap();
        std::fs::write(dir.join("theirs"), vec![7u8; (1 << 20) + 100]).unwrap();
        assert!(carries_mark(&dir.join("ours")));
        assert!(!carries_mark(&dir.join("theirs")));
        assert!(!carries_mark(&dir.join("missing")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_harmless_name_is_postfix_only() {
        for (name, _) in HARMLESS {
            assert!(
                matches!(table::find(name), Some(Known::PostfixOnly(_))),
                "{name} is implemented now: drop it from HARMLESS"
            );
        }
    }

    #[test]
    fn settings_named_with_their_place() {
        let dir = std::env::temp_dir().join(format!("posttriage-ni-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("libexec")).unwrap();
        let mut ironpost = b"ELF ".to_vec();
        ironpost.extend_from_slice(IRONPOST_MARK);
        std::fs::write(dir.join("libexec/master"), &ironpost).unwrap();
        std::fs::write(dir.join("libexec/smtp"), &ironpost).unwrap();
        std::fs::write(dir.join("libexec/postscreen"), b"Postfix's").unwrap();
        let main = format!(
            "daemon_directory = {}/libexec\n\
             smtp_min_data_rate = 500\n\
             smtp_tls_trust_anchor_file = /etc/anchors\n\
             confirm_delay_cleared = yes\n\
             qmgr_fudge_factor = 10\n\
             postscreen_greet_wait = 10s\n\
             lmtp_assume_final = $confirm_delay_cleared\n",
            dir.display()
        );
        let main = params::main_cf::MainCf::parse(&dir.join("main.cf"), &main).unwrap();
        let config = Config::new(&dir, main);
        let master = MasterCf::parse(
            &dir.join("master.cf"),
            "smtp unix - - n - - smtp\nrelay unix - - n - - smtp\n  -o smtp_pix_workarounds=disable_esmtp\n  -o smtp_min_data_rate=500s\n",
        )
        .unwrap();
        let found = check(&config, Some(&master));
        let suffix = ": set but not implemented by ironpost: it has no effect";
        let expected: Vec<String> = [
            "main.cf:3: smtp_tls_trust_anchor_file = /etc/anchors",
            "main.cf:4: confirm_delay_cleared = yes",
            "main.cf:7: lmtp_assume_final = $confirm_delay_cleared",
            "master.cf:2 service relay: smtp_pix_workarounds = disable_esmtp",
        ]
        .iter()
        .map(|l| format!("{l}{suffix}"))
        .collect();
        assert_eq!(found, expected);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
