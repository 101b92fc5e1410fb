//! pickup - hands mail that sendmail dropped in the maildrop directory to cleanup.
//!
//! Postfix counterpart: `pickup/pickup.c`. postdrop writes each message submitted with
//! sendmail(1) into `maildrop/` as a queue file (envelope records, `M`, content, `X`,
//! extracted records, `E`) and triggers the pickup service; the master's wakeup column
//! triggers it too. On each trigger pickup scans `maildrop/` until a pass removes nothing,
//! and for every complete file (mode u=rwx) copies the records that belong in each segment
//! to the cleanup service, adding a `Received: by ... (Postfix, from userid N)` header.
//! The file is removed when cleanup has queued the message or when it is malformed, and
//! kept when cleanup could not take it now. Each message is logged as
//! `QUEUEID: uid=N from=<sender>`.
//!
//! master.cf: `pickup unix n - y 60 1 pickup` (a trigger service, process limit 1).

use global::cleanup_clnt::{CleanupStream, Connect};
use global::cleanup_user::{self, FLAG_BOUNCE, FLAG_MASK_EXTERNAL, FLAG_MILTER};
use global::info_log_addr_form::AddrForm;
use global::input_transp::{self, mail_src};
use global::mail_queue::{self, MAILDROP};
use global::record::{RecError, rec_attr_map, rec_get, rec_put, rec_type};
use global::safe_open::{self, Access, Refused};
use params::Config;
use params::decl::identity::{MAIL_NAME, MYHOSTNAME, SMTPUTF8_AUTODETECT_CLASSES, SMTPUTF8_ENABLE};
use params::decl::install::MAIL_OWNER;
use params::decl::process::{DAEMON_TIMEOUT, IPC_TIMEOUT};
use params::decl::smtpd::LINE_LENGTH_LIMIT;
use params::decl::submission::{CLEANUP_SERVICE_NAME, CONTENT_FILTER, RECEIVE_OVERRIDE_OPTIONS};
use std::fs::Metadata;
use std::io::{BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

/// Messages dated further ahead than this are re-dated to now.
const FUTURE_SLACK: i64 = 2 * 3600;
/// Messages older than this get a warning.
const DAY: i64 = 86400;

/// What pickup needs from main.cf, read once before the jail.
struct Settings {
    content_filter: String,
    cleanup_service: String,
    line_limit: usize,
    myhostname: String,
    mail_name: String,
    owner_uid: u32,
    owner_gid: u32,
    /// Cleanup flags for mail that was not re-queued by postsuper -r.
    flags: u32,
    addr_form: AddrForm,
    ipc_timeout: Duration,
}

impl Settings {
    fn from_config(config: &Config) -> Settings {
        let fatal = |e: params::ConfigError| -> ! { global::fatal_config(e) };
        let owner_name = config.str(&MAIL_OWNER).unwrap_or_else(|e| fatal(e));
        let owner = sys::user::by_name(&owner_name).unwrap_or_else(|| {
            log::msg_fatal!(
                "file {}/main.cf: parameter mail_owner: unknown user name value: {owner_name}",
                config.config_directory.display()
            )
        });
        let transp_mask = input_transp::input_transp_mask(
            RECEIVE_OVERRIDE_OPTIONS.name,
            &config
                .str(&RECEIVE_OVERRIDE_OPTIONS)
                .unwrap_or_else(|e| fatal(e)),
        )
        .unwrap_or_else(|e| log::msg_fatal!("{e}"));
        let flags =
            input_transp::input_transp_cleanup(FLAG_BOUNCE | FLAG_MASK_EXTERNAL, transp_mask);
        let autoutf8 = input_transp::smtputf8_autodetect(
            config.bool(&SMTPUTF8_ENABLE).unwrap_or_else(|e| fatal(e)),
            &config
                .str(&SMTPUTF8_AUTODETECT_CLASSES)
                .unwrap_or_else(|e| fatal(e)),
            mail_src::SENDMAIL,
        )
        .unwrap_or_else(|e| log::msg_fatal!("{e}"));
        Settings {
            content_filter: config.str(&CONTENT_FILTER).unwrap_or_else(|e| fatal(e)),
            cleanup_service: config
                .str(&CLEANUP_SERVICE_NAME)
                .unwrap_or_else(|e| fatal(e)),
            line_limit: config.int(&LINE_LENGTH_LIMIT).unwrap_or_else(|e| fatal(e)) as usize,
            myhostname: config.str(&MYHOSTNAME).unwrap_or_else(|e| fatal(e)),
            mail_name: config.str(&MAIL_NAME).unwrap_or_else(|e| fatal(e)),
            owner_uid: owner.uid,
            owner_gid: owner.gid,
            flags: flags | autoutf8,
            addr_form: AddrForm::from_config(config).unwrap_or_else(|e| log::msg_fatal!("{e}")),
            ipc_timeout: Duration::from_secs(
                config.time(&IPC_TIMEOUT).unwrap_or_else(|e| fatal(e)) as u64,
            ),
        }
    }
}

/// What to do with a maildrop file after an attempt.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Queued, or hopeless: remove it.
    Remove,
    /// Try again later.
    Keep,
}

/// One maildrop file being picked up.
struct Pickup<'a> {
    settings: &'a Settings,
    /// The cleanup queue id once known, else the file name (for early warnings).
    id: String,
    path: String,
    meta: Metadata,
    sender: Option<String>,
}

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements {
        solitary: true,
        watchdog: Some(&DAEMON_TIMEOUT),
        ..Default::default()
    });
    let settings = Settings::from_config(&daemon.config);
    daemon.enter_jail();
    // In case master.cf still runs pickup privileged: never read users' files as root.
    if sys::getuid() != settings.owner_uid
        && let Err(e) = sys::user::set_ugid(settings.owner_uid, settings.owner_gid)
    {
        log::msg_fatal!("{e}");
    }
    server::trigger::serve(daemon, |_, _trigger| pickup_service(&settings))
}

/// Scans the maildrop directory until a pass removes nothing.
fn pickup_service(settings: &Settings) {
    loop {
        let mut removed = 0;
        let entries = match std::fs::read_dir(MAILDROP) {
            Ok(entries) => entries,
            Err(e) => log::msg_fatal!("open directory {MAILDROP}: {}", sys::os_error(&e)),
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((path, meta)) = mail_open_ok(&name) else {
                continue;
            };
            // Progress: a busy maildrop must not look like a stuck daemon.
            sys::watchdog::pat();
            let mut pickup = Pickup {
                settings,
                id: name,
                path,
                meta,
                sender: None,
            };
            if pickup.file() == Outcome::Remove {
                match std::fs::remove_file(&pickup.path) {
                    Ok(()) => removed += 1,
                    Err(e) => {
                        log::msg_warn!("remove {}: {}", pickup.path, sys::os_error(&e))
                    }
                }
            }
        }
        if removed == 0 {
            break;
        }
    }
}

/// The path and status of a maildrop file that is complete and safe to open, as
/// Postfix's `mail_open_ok`: a queue-id-like name, a regular file, mode u=rwx.
fn mail_open_ok(name: &str) -> Option<(String, Metadata)> {
    if !mail_queue::id_ok(name) {
        return None;
    }
    let path = format!("{MAILDROP}/{name}");
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                log::msg_warn!("{path}: {}", sys::os_error(&e));
            }
            return None;
        }
    };
    if !meta.file_type().is_file() {
        log::msg_warn!("{path}: uid {}: not a regular file", meta.uid());
        return None;
    }
    // Still being written (postdrop sets u=rwx when it is done).
    if meta.mode() & 0o700 != mail_queue::STAT_READY {
        return None;
    }
    if meta.nlink() > 1 {
        if log::verbose() > 0 {
            log::msg_info!(
                "{path}: uid {}: file has {} links",
                meta.uid(),
                meta.nlink()
            );
        } else if meta.ctime() < now() - 60 {
            log::msg_warn!(
                "{path}: uid {}: file has {} links",
                meta.uid(),
                meta.nlink()
            );
        }
    }
    Some((path, meta))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Pickup<'_> {
    /// Mail that `postsuper -r` put back into the maildrop: owned by the mail owner and
    /// not world-readable.
    fn requeued(&self) -> bool {
        self.meta.uid() == self.settings.owner_uid && self.meta.mode() & 0o004 == 0
    }

    /// Opens the file, connects to cleanup and copies the message.
    fn file(&mut self) -> Outcome {
        let file = match safe_open::open_existing(Path::new(&self.path), Access::Read) {
            Ok(file) => file,
            Err(Refused { why, error }) => {
                let kind = error.kind();
                if kind != std::io::ErrorKind::NotFound {
                    log::msg_warn!("open input file {}: {why}", self.path);
                }
                if kind == std::io::ErrorKind::PermissionDenied {
                    log::msg_warn!(
                        "if this file was created by Postfix < 1.1, then you may have to chmod a+r {}",
                        self.path
                    );
                    return Outcome::Keep;
                }
                return Outcome::Remove;
            }
        };
        let mut flags = self.settings.flags;
        if self.requeued() {
            // Milters already saw this message when it first arrived.
            flags &= !(FLAG_MILTER | cleanup_user::FLAG_AUTOUTF8);
        }
        let Ok(mut cleanup) = CleanupStream::open(
            &self.settings.cleanup_service,
            self.settings.ipc_timeout,
            flags,
            Connect::Wait,
        ) else {
            return Outcome::Keep;
        };
        self.id = cleanup.queue_id.clone();
        let mut input = BufReader::new(file);
        self.copy(&mut input, &mut cleanup)
    }

    /// Copies the message to cleanup and reads its verdict.
    fn copy(&mut self, input: &mut impl std::io::Read, cleanup: &mut CleanupStream) -> Outcome {
        let now = now();
        let mut mtime = self.meta.mtime();
        if mtime > now + FUTURE_SLACK {
            log::msg_warn!(
                "{}: message dated {} seconds into the future",
                self.id,
                mtime - now
            );
            mtime = now;
        } else if mtime < now - DAY {
            log::msg_warn!(
                "{}: message has been queued for {} days",
                self.id,
                (now - mtime) / DAY
            );
        }
        let out = &mut *cleanup;
        let settings = self.settings;
        let written = (|| -> Result<Outcome, std::io::Error> {
            if !settings.content_filter.is_empty() {
                rec_put(out, rec_type::FILT, settings.content_filter.as_bytes())?;
            }
            if let Some(outcome) = self.copy_segment(input, out, rec_type::ENVELOPE, mtime)? {
                return Ok(outcome);
            }
            let Some(sender) = self.sender.clone() else {
                log::msg_warn!("{}: uid={}: no envelope sender", self.id, self.meta.uid());
                return Ok(Outcome::Remove);
            };
            let shown = settings.addr_form.format(&sender);
            if self.requeued() {
                let orig_id = self.path.rsplit('/').next().unwrap_or(&self.path);
                log::msg_info!(
                    "{}: uid={} from=<{shown}> orig_id={orig_id}",
                    self.id,
                    self.meta.uid()
                );
            } else {
                log::msg_info!("{}: uid={} from=<{shown}>", self.id, self.meta.uid());
            }
            rec_put(out, rec_type::MESG, b"")?;
            let received = format!(
                "Received: by {} ({}, from userid {})",
                settings.myhostname,
                settings.mail_name,
                self.meta.uid()
            );
            rec_put(out, rec_type::NORM, received.as_bytes())?;
            let id_line = format!("\tid {}; {}", self.id, global::mail_date::mail_date(mtime));
            rec_put(out, rec_type::NORM, id_line.as_bytes())?;
            if let Some(outcome) = self.copy_segment(input, out, rec_type::CONTENT, mtime)? {
                return Ok(outcome);
            }
            rec_put(out, rec_type::XTRA, b"")?;
            if let Some(outcome) = self.copy_segment(input, out, rec_type::EXTRACT, mtime)? {
                return Ok(outcome);
            }
            rec_put(out, rec_type::END, b"")?;
            Write::flush(out)?;
            Ok(Outcome::Keep)
        })();
        match written {
            Ok(Outcome::Keep) => {}
            Ok(Outcome::Remove) => return Outcome::Remove,
            Err(_) => return self.cleanup_error(cleanup_user::STAT_WRITE, ""),
        }
        // The message went out whole: cleanup's verdict decides.
        match cleanup.status() {
            (0, _) => Outcome::Remove,
            (status, reason) => self.cleanup_error(status, &reason),
        }
    }

    /// Copies one segment: the records `expected` allows, up to the first of them (the
    /// segment's terminator). Some(outcome) ends the message early.
    fn copy_segment(
        &mut self,
        input: &mut impl std::io::Read,
        out: &mut impl Write,
        expected: &[u8],
        mtime: i64,
    ) -> std::io::Result<Option<Outcome>> {
        let mut buf = Vec::new();
        let mut check_first = expected == rec_type::CONTENT;
        let mut time_seen = false;
        loop {
            let kind = match rec_get(input, &mut buf, self.settings.line_limit) {
                Ok(kind) if expected.contains(&kind) => kind,
                Ok(kind) => return Ok(Some(self.read_error(i32::from(kind)))),
                Err(RecError::Eof) => return Ok(Some(self.read_error(-1))),
                Err(RecError::Bad(why)) => {
                    log::msg_warn!("{}: {why}", self.path);
                    return Ok(Some(self.read_error(-2)));
                }
            };
            if log::verbose() > 0 {
                log::msg_info!(
                    "{}: read {} {}",
                    self.id,
                    kind as char,
                    String::from_utf8_lossy(&buf)
                );
            }
            if kind == expected[0] {
                return Ok(None);
            }
            if kind == rec_type::FROM {
                if self.sender.is_none() {
                    self.sender = Some(String::from_utf8_lossy(&buf).into_owned());
                }
                // Files from Postfix < 2.3 have no time record.
                if !time_seen {
                    rec_put(out, rec_type::TIME, mtime.to_string().as_bytes())?;
                }
            }
            if kind == rec_type::TIME {
                time_seen = true;
            }
            if expected != rec_type::CONTENT && (kind == rec_type::FILT || kind == rec_type::RDR) {
                // A content filter or redirect from before "postsuper -r" no longer applies
                // (in the envelope, 'L' is the filter record).
                continue;
            }
            if expected == rec_type::EXTRACT {
                if kind == rec_type::RRTO || kind == rec_type::ERTO {
                    continue;
                }
                if kind == rec_type::ATTR {
                    let text = String::from_utf8_lossy(&buf);
                    if let Ok((name, _)) = util::name_value::split(&text)
                        && rec_attr_map(name).is_none()
                    {
                        continue;
                    }
                }
            }
            // Content that starts with white space must not continue our Received: header.
            if check_first && (kind == rec_type::NORM || kind == rec_type::CONT) {
                check_first = false;
                if buf.first().is_some_and(|&b| b == b' ' || b == b'\t') {
                    rec_put(out, rec_type::NORM, b"")?;
                }
            }
            rec_put(out, kind, &buf)?;
        }
    }

    /// A record that does not belong (or the file ended): the file is unusable.
    fn read_error(&self, kind: i32) -> Outcome {
        log::msg_warn!(
            "uid={}: unexpected or malformed record type {kind}",
            self.meta.uid()
        );
        Outcome::Remove
    }

    /// Cleanup could not take the message. It logged its own reason when it gave one.
    /// Malformed or recipient-less mail is removed, anything else kept for later.
    fn cleanup_error(&self, status: u32, reason: &str) -> Outcome {
        if reason.is_empty() {
            log::msg_warn!(
                "{}: error writing {}: {}",
                self.path,
                self.id,
                cleanup_user::cleanup_strerror(status)
            );
        }
        if status & (cleanup_user::STAT_BAD | cleanup_user::STAT_RCPT) != 0 {
            Outcome::Remove
        } else {
            Outcome::Keep
        }
    }
}
