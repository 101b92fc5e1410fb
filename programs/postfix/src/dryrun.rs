//! `postfix reload -n`: what a reload would change and whether it would work, without
//! signalling the master.
//!
//! Postfix has no counterpart; its `postfix-script` reload runs `postconf` for its
//! warnings and signals the master. ironpost's master keeps a copy of the main.cf and
//! master.cf it loaded last (server::master_ent::LOADED_MAIN_CF, written at start-up and
//! at each reload), so that this command can compare them with the files as they are now:
//! the main.cf parameters that change, the master.cf services that appear, go or change,
//! and the running daemons each of those affects. It then runs what the master runs at a
//! reload (main.cf's parser, server::master_ent's service builder, which is the master's
//! own code) and `postconf`, as postfix-script does, and reports what would break.
//!
//! The spelling: a Postfix administrator guesses `-n` from `make -n`, `rsync -n` and
//! `sendmail -bv`-style "show, don't do" options, after the command it modifies. Beware
//! that Postfix 3.7's own `postfix reload -n` ignores the `-n` and reloads; `--dry-run`
//! is accepted too. Exit status 0: a reload would be accepted; 1: it would fail, be
//! refused, or there is no running mail system to reload.

use crate::check::Paths;
use params::Config;
use params::main_cf::MainCf;
use params::master_cf::{Entry, MasterCf};
use server::master_ent::{self, LOADED_MAIN_CF, LOADED_MASTER_CF};
use std::collections::BTreeMap;
use std::path::Path;

/// Parameters the master reads only when it starts: a reload leaves them as they were.
const START_ONLY: [&str; 6] = [
    "inet_interfaces",
    "inet_protocols",
    "queue_directory",
    "data_directory",
    "daemon_directory",
    "mail_owner",
];

/// What the dry-run found, printed as it goes.
struct Report {
    errors: usize,
}

impl Report {
    fn line(&self, text: &str) {
        println!("{text}");
    }

    fn error(&mut self, text: &str) {
        self.errors += 1;
        println!("  error: {text}");
    }
}

/// Runs the dry-run; returns the exit status.
pub fn run(config: &Config, paths: &Paths, master_pid: Option<u32>) -> i32 {
    let mut report = Report { errors: 0 };
    report.line(&format!("reload dry-run for {}", paths.config.display()));
    match master_pid {
        Some(pid) => report.line(&format!("master: running, pid {pid}")),
        None => report.line("master: not running: there is nothing to reload"),
    }

    let main_path = paths.config.join("main.cf");
    let master_path = paths.config.join("master.cf");
    let new_main = MainCf::read(&main_path);
    let new_master_text = std::fs::read(&master_path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| format!("open {}: {}", master_path.display(), sys::os_error(&e)));
    let loaded_main = read_loaded(&paths.data.join(LOADED_MAIN_CF));
    let loaded_master = read_loaded(&paths.data.join(LOADED_MASTER_CF));

    // What changes.
    report.line("");
    match (&loaded_main, &new_main) {
        (Some((text, when)), Ok(new)) => {
            report.line(&format!(
                "main.cf changes since the master loaded it ({when}):"
            ));
            match MainCf::parse(&main_path, text) {
                Ok(old) => main_cf_changes(&report, &old, new),
                Err(e) => report.line(&format!("  (the loaded copy does not parse: {e})")),
            }
        }
        (None, _) => report.line(&format!(
            "main.cf changes: unknown: the master left no copy of what it loaded in {}",
            paths.data.join(LOADED_MAIN_CF).display()
        )),
        (_, Err(_)) => report.line("main.cf changes: unknown: main.cf does not parse"),
    }
    let mut services = Vec::new();
    report.line("");
    match (&loaded_master, &new_master_text) {
        (Some((text, when)), Ok(new)) => {
            report.line(&format!(
                "master.cf changes since the master loaded it ({when}):"
            ));
            let old = MasterCf::parse(&master_path, text).map(|m| m.entries);
            let new = MasterCf::parse(&master_path, new).map(|m| m.entries);
            if let (Ok(old), Ok(new)) = (old, new) {
                services = master_cf_changes(&report, &old, &new);
            } else {
                report.line("  (not compared: see the problems below)");
            }
        }
        (None, _) => report.line(&format!(
            "master.cf changes: unknown: the master left no copy of what it loaded in {}",
            paths.data.join(LOADED_MASTER_CF).display()
        )),
        (_, Err(_)) => report.line("master.cf changes: unknown: master.cf cannot be read"),
    }

    // The daemons a reload touches.
    report.line("");
    if let Some(pid) = master_pid {
        daemons(&report, pid, &services);
    }

    // What would break: the master's own checks, then postconf's, as postfix-script.
    report.line("");
    report.line("problems:");
    let before = report.errors;
    let mut warnings = Vec::new();
    match &new_main {
        Err(e) => report.error(&e.to_string()),
        Ok(main) => {
            warnings.extend(main.warnings.iter().cloned());
            let new_config = Config::new(&paths.config, main.clone());
            match &new_master_text {
                Err(e) => report.error(e),
                Ok(text) => match master_ent::parse(&new_config, text, false, true) {
                    Err(e) => report.error(&format!("the master would stop: {e}")),
                    Ok((built, master_warnings)) => {
                        warnings.extend(master_warnings);
                        for service in &built {
                            if std::fs::metadata(&service.path).is_err() {
                                report.error(&format!(
                                    "service {} ({}): no program {}: it would be throttled at its first use",
                                    service.ext_name,
                                    service.name,
                                    service.path.display()
                                ));
                            }
                        }
                    }
                },
            }
        }
    }
    for line in postconf_output(config, &paths.config) {
        // postconf's fatal errors stop postfix-script; its warnings do not.
        match line.split_once("fatal: ") {
            Some((who, why)) => report.error(&format!("{who}{why}")),
            None => warnings.push(line.replacen("warning: ", "", 1)),
        }
    }
    for warning in &warnings {
        report.line(&format!("  warning: {warning}"));
    }
    if report.errors == before && warnings.is_empty() {
        report.line("  none");
    }
    report.line("");
    if master_pid.is_none() {
        report.line("result: no reload: the Postfix mail system is not running");
        return 1;
    }
    if report.errors > 0 {
        report.line(&format!(
            "result: a reload would fail: {} error(s); the running system keeps its configuration",
            report.errors
        ));
        return 1;
    }
    report.line("result: a reload would be accepted");
    0
}

/// A copy the master left, and when it wrote it.
fn read_loaded(path: &Path) -> Option<(String, String)> {
    let bytes = std::fs::read(path).ok()?;
    let when = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| {
            let t = sys::localtime(d.as_secs() as i64);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year,
                t.month + 1,
                t.day,
                t.hour,
                t.minute,
                t.second
            )
        })
        .unwrap_or_else(|| "at an unknown time".to_string());
    Some((String::from_utf8_lossy(&bytes).into_owned(), when))
}

/// The settings in force in a main.cf, the last of duplicates winning.
fn settings(main: &MainCf) -> BTreeMap<&str, &str> {
    main.entries
        .iter()
        .map(|e| (e.name.as_str(), e.value.as_str()))
        .collect()
}

fn main_cf_changes(report: &Report, old: &MainCf, new: &MainCf) {
    let (old, new) = (settings(old), settings(new));
    let mut changed = 0;
    for (name, value) in &new {
        let line = match old.get(name) {
            None => format!("  added: {name} = {value}"),
            Some(was) if was != value => format!("  changed: {name} = {value} (was: {was})"),
            Some(_) => continue,
        };
        changed += 1;
        report.line(&line);
        if START_ONLY.contains(name) {
            report.line(&format!(
                "    {name}: takes effect only after \"postfix stop; postfix start\", not with a reload"
            ));
        }
    }
    for (name, was) in &old {
        if !new.contains_key(name) {
            changed += 1;
            report.line(&format!(
                "  removed: {name} (was: {was}): back to its default"
            ));
            if START_ONLY.contains(name) {
                report.line(&format!(
                    "    {name}: takes effect only after \"postfix stop; postfix start\", not with a reload"
                ));
            }
        }
    }
    if changed == 0 {
        report.line("  none");
    }
}

/// One master.cf entry as a line: the fields and the command, single-spaced.
fn entry_line(entry: &Entry) -> String {
    let mut words: Vec<&str> = entry.fields.iter().map(String::as_str).collect();
    words.extend(entry.argv.iter().map(String::as_str));
    words.join(" ")
}

/// What becomes of a service (by `service/type`) at the reload.
#[derive(Debug, PartialEq)]
enum Fate {
    Added,
    Removed,
    Changed,
    Same,
}

fn master_cf_changes(report: &Report, old: &[Entry], new: &[Entry]) -> Vec<(String, Fate)> {
    // The last entry of a duplicated service is the one the master uses.
    let old: BTreeMap<String, &Entry> = old.iter().map(|e| (e.name_space(), e)).collect();
    let new: BTreeMap<String, &Entry> = new.iter().map(|e| (e.name_space(), e)).collect();
    let mut fates = Vec::new();
    for (key, entry) in &new {
        let fate = match old.get(key) {
            None => {
                report.line(&format!("  added: {key}: {}", entry_line(entry)));
                Fate::Added
            }
            Some(was) if entry_line(was) != entry_line(entry) => {
                report.line(&format!("  changed: {key}: {}", entry_line(entry)));
                report.line(&format!("       was: {key}: {}", entry_line(was)));
                Fate::Changed
            }
            Some(_) => Fate::Same,
        };
        fates.push((key.clone(), fate));
    }
    for (key, was) in &old {
        if !new.contains_key(key) {
            report.line(&format!("  removed: {key}: {}", entry_line(was)));
            fates.push((key.clone(), Fate::Removed));
        }
    }
    if fates.iter().all(|(_, f)| *f == Fate::Same) {
        report.line("  none");
    }
    fates
}

/// The master's children, by service (`service/type`, from the `-n` and `-t` options the
/// master gives each), and what the reload does to them.
fn daemons(report: &Report, master: u32, fates: &[(String, Fate)]) {
    let mut by_service: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid != Some(master) {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let argv: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let Some(program) = argv.first() else {
            continue;
        };
        let option = |flag: &str| {
            argv.iter()
                .position(|a| a == flag)
                .and_then(|i| argv.get(i + 1))
                .cloned()
        };
        let name = option("-n")
            .unwrap_or_else(|| program.rsplit('/').next().unwrap_or(program).to_string());
        let kind = option("-t").unwrap_or_else(|| "?".to_string());
        by_service
            .entry(format!("{name}/{kind}"))
            .or_default()
            .push(pid);
    }
    report.line(&format!(
        "daemons: {} running; at a reload each finishes what it is doing and exits, and new ones start with the new configuration",
        by_service.values().map(Vec::len).sum::<usize>()
    ));
    for (service, pids) in &by_service {
        let fate = fates.iter().find(|(key, _)| key == service).map(|(_, f)| f);
        let what = match fate {
            Some(Fate::Removed) => "stopped (service removed)",
            Some(Fate::Changed) => "restart with the changed master.cf entry",
            _ => "restart",
        };
        let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
        report.line(&format!("  {what}: {service}: pid {}", pids.join(" ")));
    }
    for (service, fate) in fates {
        if *fate == Fate::Added {
            report.line(&format!("  start on demand: {service} (new service)"));
        }
    }
}

/// What postconf says about this configuration (unused and deprecated parameters), as
/// postfix-script's reload shows it: postconf from command_directory, its output
/// discarded, its standard error kept.
fn postconf_output(config: &Config, config_dir: &Path) -> Vec<String> {
    let Ok(commands) = config.str(&params::decl::install::COMMAND_DIRECTORY) else {
        return Vec::new();
    };
    let postconf = Path::new(&commands).join("postconf");
    let Ok(out) = std::process::Command::new(&postconf)
        .env("MAIL_CONFIG", config_dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
    else {
        return vec![format!("cannot run {}", postconf.display())];
    };
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}
