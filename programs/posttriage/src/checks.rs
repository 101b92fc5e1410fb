//! Checks of what the log cannot show: master.cf entries that postconf refuses (postfix
//! start and reload then log only that postconf failed), the chroot jail, queue ownership, indexed tables
//! older than their source, transports that master.cf lacks, parameters postconf -n warns
//! about, Postfix-only settings that have no effect on ironpost ([`crate::not_implemented`]),
//! free space against message_size_limit, and mail waiting in maildrop while no
//! master runs (postdrop's warning about it goes nowhere when maillog_file is used,
//! since postlogd runs under the master).
//!
//! Postfix counterpart: postconf's master.cf checks (src/postconf/postconf_master.c,
//! through the parser the master uses, crates/params master_cf), parts of postfix-script's `check-warn` (ownership), postmap's
//! "database is older than source file" test (src/util/dict_db.c), postconf's "unused
//! parameter" warnings, and smtpd's free-space test (src/smtpd/smtpd.c). Each result is a
//! line of text that the triage rules match like a log line (`posttriage check: ...`).

use params::Config;
use params::decl::address::{
    DEFAULT_TRANSPORT, RELAY_TRANSPORT, TRANSPORT_MAPS, VIRTUAL_TRANSPORT,
};
use params::decl::identity::INET_INTERFACES;
use params::decl::install::{COMMAND_DIRECTORY, MAIL_OWNER, PROCESS_ID_DIRECTORY, QUEUE_DIRECTORY};
use params::decl::smtpd::MESSAGE_SIZE_LIMIT;
use params::main_cf::CfError;
use params::master_cf::MasterCf;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `postfix prepare-chroot` copies that a chrooted daemon reads (programs/postfix
/// chroot.rs); a missing one breaks name or service lookups in the jail.
const JAIL_FILES: [&str; 5] = [
    "etc/hosts",
    "etc/resolv.conf",
    "etc/services",
    "etc/nsswitch.conf",
    "etc/localtime",
];

/// Queue directories whose files belong to mail_owner.
const OWNED_QUEUES: [&str; 9] = [
    "incoming", "active", "deferred", "defer", "bounce", "trace", "hold", "flush", "saved",
];

/// Files reported per queue directory: one is enough to show the fault.
const OWNERSHIP_SAMPLES: usize = 3;

/// Table types kept in an indexed file beside their source, with its suffix.
const INDEXED: [(&str, &str); 5] = [
    ("hash", ".db"),
    ("btree", ".db"),
    ("lmdb", ".lmdb"),
    ("cdb", ".cdb"),
    ("dbm", ".pag"),
];

/// Every check's lines.
pub fn run(config: &Config) -> Vec<String> {
    let queue = PathBuf::from(config.str(&QUEUE_DIRECTORY).unwrap_or_default());
    let master_path = config.config_directory.join("master.cf");
    let master_cf = MasterCf::read(&master_path);
    let mut out = Vec::new();
    out.extend(master_cf_error(&master_path, &master_cf));
    let master = master_cf.ok();
    if let Some(master) = &master {
        out.extend(chroot(master, &queue));
        out.extend(transports(config, master));
    }
    out.extend(ownership(config, &queue));
    out.extend(tables(config, master.as_ref()));
    out.extend(unused_parameters(config));
    out.extend(crate::not_implemented::check(config, master.as_ref()));
    out.extend(duplicates(config));
    out.extend(free_space(config, &queue));
    out.extend(not_running(config, &queue));
    out.extend(interfaces(config));
    out.into_iter()
        .map(|l| format!("posttriage check: {l}"))
        .collect()
}

/// A master.cf entry that does not parse, with the file and line: postconf says it only
/// on the terminal of `postfix start` or `reload`, whose log line says only that postconf
/// failed. In postconf's words, with its `file PATH: line N: ` before the field errors
/// too (which name the entry but not where it is).
fn master_cf_error(path: &Path, master: &Result<MasterCf, CfError>) -> Option<String> {
    let Err(CfError::Syntax { line, message }) = master else {
        return None;
    };
    let prefix = format!("file {}: line {line}: ", path.display());
    Some(if message.starts_with(&prefix) {
        message.clone()
    } else {
        format!("{prefix}{message}")
    })
}

/// A check's line as the rules take it: a log line of posttriage's, without a time.
pub fn line(text: String) -> triage::logline::Line {
    triage::logline::Line {
        number: 0,
        raw: text.clone(),
        stamp: String::new(),
        time: None,
        program: "posttriage".into(),
        process: "posttriage".into(),
        pid: None,
        queue_id: None,
        text,
    }
}

fn chroot(master: &MasterCf, queue: &Path) -> Vec<String> {
    let missing: Vec<&str> = JAIL_FILES
        .into_iter()
        .filter(|f| Path::new("/").join(f).exists() && !queue.join(f).exists())
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    master
        .entries
        .iter()
        .filter(|e| e.fields[4] == "y")
        .map(|e| {
            format!(
                "service {}/{} runs chrooted in {} but {} is missing there",
                e.service(),
                e.kind(),
                queue.display(),
                missing.join(", ")
            )
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

fn uid_of(user: &str) -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&user)).then(|| f.get(2)?.parse().ok())?
    })
}

fn ownership(config: &Config, queue: &Path) -> Vec<String> {
    let owner = config.str(&MAIL_OWNER).unwrap_or_default();
    let Some(uid) = uid_of(&owner) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for dir in OWNED_QUEUES {
        let mut files = Vec::new();
        walk(&queue.join(dir), &mut files);
        out.extend(
            files
                .iter()
                .filter(|f| std::fs::metadata(f).is_ok_and(|m| m.uid() != uid))
                .take(OWNERSHIP_SAMPLES)
                .map(|f| format!("not owned by {owner}: {}", f.display())),
        );
    }
    out
}

/// `type:name` table references in a parameter value.
fn table_refs(value: &str) -> Vec<(String, String)> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|w| {
            let (kind, name) = w.split_once(':')?;
            (name.starts_with('/') && kind.chars().all(|c| c.is_ascii_alphanumeric()))
                .then(|| (kind.to_string(), name.to_string()))
        })
        .collect()
}

/// Every explicit setting of main.cf and master.cf -o, expanded.
fn settings(config: &Config, master: Option<&MasterCf>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = config
        .main
        .entries
        .iter()
        .map(|e| {
            (
                e.name.clone(),
                config.expand(&e.value).unwrap_or(e.value.clone()),
            )
        })
        .collect();
    if let Some(master) = master {
        for e in &master.entries {
            for (name, value) in e.overrides() {
                out.push((
                    name.to_string(),
                    config.expand(value).unwrap_or(value.to_string()),
                ));
            }
        }
    }
    out
}

fn mtime(path: &Path) -> Option<i64> {
    std::fs::metadata(path).ok().map(|m| m.mtime())
}

fn tables(config: &Config, master: Option<&MasterCf>) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (_, value) in settings(config, master) {
        for (kind, name) in table_refs(&value) {
            let Some((_, suffix)) = INDEXED.iter().find(|(k, _)| *k == kind) else {
                continue;
            };
            if seen.contains(&name) {
                continue;
            }
            seen.push(name.clone());
            let db = PathBuf::from(format!("{name}{suffix}"));
            match (mtime(&db), mtime(Path::new(&name))) {
                (None, _) => out.push(format!(
                    "{kind}:{name} is unavailable. open database {}: No such file or directory",
                    db.display()
                )),
                (Some(d), Some(s)) if d < s => out.push(format!(
                    "database {} is older than source file {name}",
                    db.display()
                )),
                _ => {}
            }
        }
    }
    out
}

/// The transport of a `transport:nexthop` value (empty for none).
fn transport_name(value: &str) -> &str {
    value.split(':').next().unwrap_or("").trim()
}

fn transports(config: &Config, master: &MasterCf) -> Vec<String> {
    let services: Vec<&str> = master
        .entries
        .iter()
        .filter(|e| e.kind() == "unix" || e.kind() == "unix-dgram")
        .map(|e| e.service())
        .collect();
    let mut named: Vec<(String, String)> = Vec::new();
    for param in [&DEFAULT_TRANSPORT, &RELAY_TRANSPORT, &VIRTUAL_TRANSPORT] {
        if let Ok(v) = config.str(param) {
            named.push((transport_name(&v).to_string(), param.name.to_string()));
        }
    }
    let maps = config.str(&TRANSPORT_MAPS).unwrap_or_default();
    for (kind, name) in table_refs(&maps) {
        // The source file of every file-based type is `key value` lines.
        let Ok(text) = std::fs::read_to_string(&name) else {
            continue;
        };
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(value) = line.split_whitespace().nth(1) {
                named.push((transport_name(value).to_string(), format!("{kind}:{name}")));
            }
        }
    }
    let mut out = Vec::new();
    for (transport, map) in named {
        if !transport.is_empty() && !services.contains(&transport.as_str()) {
            let line = format!("transport {transport} in {map} is not a master.cf service");
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
}

/// postconf -n's own warnings: it knows every parameter name, service-specific ones too.
fn unused_parameters(config: &Config) -> Vec<String> {
    let postconf =
        PathBuf::from(config.str(&COMMAND_DIRECTORY).unwrap_or_default()).join("postconf");
    let Ok(output) = Command::new(&postconf)
        .arg("-c")
        .arg(&config.config_directory)
        .arg("-n")
        .env_remove(params::env::CONF_ENV)
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.contains("unused parameter: "))
        .map(|l| l.split_once("warning: ").map_or(l, |(_, w)| w).to_string())
        .collect()
}

/// Parameters main.cf sets more than once, in the words of Postfix's dictionary loader
/// (which says it for tables, while Postfix 3.7's programs say nothing about main.cf).
fn duplicates(config: &Config) -> Vec<String> {
    let entries = &config.main.entries;
    entries
        .iter()
        .enumerate()
        .filter(|(i, e)| entries[..*i].iter().any(|o| o.name == e.name))
        .map(|(_, e)| {
            format!(
                "{}, line {}: overriding earlier entry: {}={}",
                config.main.path.display(),
                e.line,
                e.name,
                e.value
            )
        })
        .collect()
}

fn free_space(config: &Config, queue: &Path) -> Vec<String> {
    let Ok(limit) = config.int(&MESSAGE_SIZE_LIMIT) else {
        return Vec::new();
    };
    let Ok(stat) = nix::sys::statvfs::statvfs(queue) else {
        return Vec::new();
    };
    let free = stat.blocks_available() as u128 * stat.fragment_size() as u128;
    // smtpd's test: room for one and a half messages of the largest size.
    if limit > 0 && free < (limit as u128) * 3 / 2 {
        vec![format!(
            "free space {free} bytes in {} is less than 1.5 x message_size_limit {limit}",
            queue.display()
        )]
    } else {
        Vec::new()
    }
}

/// Whether the master whose pid file is `pid_file` runs (EPERM: it runs as another user).
fn master_runs(pid_file: &Path) -> bool {
    let Some(pid) = std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
    else {
        return false;
    };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e == nix::errno::Errno::EPERM,
    }
}

/// Mail submitted with sendmail while the mail system is down: it waits in maildrop.
fn not_running(config: &Config, queue: &Path) -> Vec<String> {
    let pid_dir = config.str(&PROCESS_ID_DIRECTORY).unwrap_or_default();
    if master_runs(&queue.join(pid_dir).join("master.pid")) {
        return Vec::new();
    }
    let maildrop = queue.join("maildrop");
    let waiting = std::fs::read_dir(&maildrop)
        .map(|d| d.flatten().count())
        .unwrap_or(0);
    if waiting == 0 {
        return Vec::new();
    }
    vec![format!(
        "the mail system is not running and {waiting} message files wait in {}",
        maildrop.display()
    )]
}

/// Addresses in inet_interfaces that no interface of this host has: Postfix's postfix
/// command refuses to start then, saying so only on the terminal.
fn interfaces(config: &Config) -> Vec<String> {
    let value = config.str(&INET_INTERFACES).unwrap_or_default();
    let Ok(local) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let local: Vec<std::net::IpAddr> = local
        .filter_map(|i| {
            let a = i.address?;
            a.as_sockaddr_in()
                .map(|v4| std::net::IpAddr::V4(v4.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|v6| std::net::IpAddr::V6(v6.ip())))
        })
        .collect();
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|w| w.trim_matches(['[', ']']).parse::<std::net::IpAddr>().ok())
        .filter(|a| !local.contains(a))
        .map(|a| format!("parameter inet_interfaces: no local interface found for {a}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_references() {
        assert_eq!(
            table_refs("hash:/etc/a, texthash:/etc/b proxy:mysql:x"),
            vec![
                ("hash".to_string(), "/etc/a".to_string()),
                ("texthash".to_string(), "/etc/b".to_string())
            ]
        );
        assert_eq!(transport_name("smtp:[127.0.0.1]:25"), "smtp");
        assert_eq!(transport_name(":[relay]"), "");
    }

    /// The rule that `check`'s line, as run() prefixes it, is classified as.
    fn rule_of(check: &str) -> &'static str {
        let line = line(format!("posttriage check: {check}"));
        triage::engine::classify(&line).map_or("none", |(rule, _)| rule.id)
    }

    #[test]
    fn master_cf_entries_postconf_refuses() {
        let path = Path::new("/etc/postfix/master.cf");
        let check = |text: &str| master_cf_error(path, &MasterCf::parse(path, text));
        let field =
            check("smtp inet n - n - - smtpd\n# a comment\nproxymap unux - - n - - proxymap\n")
                .unwrap();
        assert_eq!(
            field,
            "file /etc/postfix/master.cf: line 3: invalid type field \"unux\" in \"proxymap unux - - n - - proxymap\""
        );
        assert_eq!(rule_of(&field), "master-cf-field");
        let count = check("smtp inet n - n - -\n").unwrap();
        assert_eq!(
            count,
            "file /etc/postfix/master.cf: line 1: bad field count"
        );
        assert_eq!(rule_of(&count), "master-cf-syntax");
        assert_eq!(check("smtp inet n - n - - smtpd\n"), None);
    }
}
