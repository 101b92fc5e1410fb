//! Saved SMTP session transcripts, for the peers an administrator lists: an ironpost
//! extension with no Postfix counterpart (the nearest is `global/debug_peer.c`, which only
//! raises the verbose logging of such peers, and the Debugging Howto's sniffer, which is
//! blind after STARTTLS).
//!
//! smtpd (programs/smtpd/src/io.rs) and the SMTP client (programs/smtp/src/chat.rs) each
//! have one place every byte of a session passes, inside TLS too; both hand what passes
//! to the one writer here. A daemon installs its [`Policy`] with [`init`] before it drops
//! privileges (the directory is created then, owned by mail_owner), and [`open`] gives a
//! [`Transcript`] for a listed peer.
//!
//! A transcript is one file per session, written line by line as the session goes (a
//! session that hangs shows up to where it hangs), mode 0600. Each line carries the time
//! of day and a direction: `<` what the SMTP client sent, `>` what the server replied,
//! `*` what the transcript notes itself (the TLS handshake, content not kept, BDAT chunk
//! sizes). SASL responses are never written, only their sizes; message content is kept
//! as `transcript_content` says (headers by default: no bodies). What a line is depends
//! on the replies (content after `354`, a SASL response after `334`), so lines the
//! client pipelines behind DATA or AUTH are written once that command's reply is. While the session runs
//! the file ends in `.part`; at its end it is renamed to carry the queue ids the session
//! produced and an info line names it per queue id (`ID: transcript=path`), which the
//! timeline and posttrace pick up.

use crate::match_list::{self, MatchList, Matcher};
use params::Config;
use params::decl::transcript as t;
use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How much message content a transcript keeps (`transcript_content`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Counts only.
    None,
    /// The header lines, the body counted.
    Headers,
    /// Everything.
    Full,
}

/// Which end of SMTP this process is: it decides which peer list applies and whose queue
/// ids a session produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// smtpd: the peer is the SMTP client; `queued as ID` replies name our queue files.
    Server,
    /// smtp or lmtp: the peer is the server; the queue id is the message being sent.
    Client,
}

/// The process's transcript settings, installed once by [`init`].
pub struct Policy {
    peers: MatchList,
    /// As configured, for log lines.
    directory: String,
    /// How this process reaches it: relative to queue_directory when it is under it, so
    /// that chrooted daemons (whose root is queue_directory) reach it too.
    open_dir: PathBuf,
    keep: Keep,
    maxfiles: usize,
    max_age: Duration,
    size_limit: u64,
    side: Side,
    /// The process name (smtpd, smtp, lmtp): part of each file name.
    label: String,
    /// The master.cf service, for each file's first line.
    service: String,
    /// mail_owner's uid and gid, when files must be given to it (running as root).
    owner: Option<(u32, u32)>,
}

thread_local! {
    static POLICY: RefCell<Option<Rc<Policy>>> = const { RefCell::new(None) };
    static SEQUENCE: RefCell<u32> = const { RefCell::new(0) };
}

/// [`init`], a configuration error being fatal (at daemon start-up).
pub fn start(config: &Config, side: Side, label: &str, service: &str) {
    if let Err(e) = init(config, side, label, service) {
        log::msg_fatal!("{e}");
    }
}

/// Reads the transcript parameters for `side` and, when its peer list is not empty,
/// creates transcript_directory (mode 0700, owned by mail_owner). Call it before the
/// daemon enters its jail. `label` is the process name, `service` master.cf's.
pub fn init(config: &Config, side: Side, label: &str, service: &str) -> Result<(), String> {
    let param = match side {
        Side::Server => &t::SMTPD_TRANSCRIPT_PEER_LIST,
        Side::Client => &t::SMTP_TRANSCRIPT_PEER_LIST,
    };
    let err = |e: params::ConfigError| e.to_string();
    if config.str(param).map_err(err)?.trim().is_empty() {
        return Ok(());
    }
    let peers = match_list::from_parameter(config, param, &[Matcher::Hostname, Matcher::Hostaddr])
        .map_err(err)?;
    let keep = match config.str(&t::TRANSCRIPT_CONTENT).map_err(err)?.as_str() {
        "none" => Keep::None,
        "headers" => Keep::Headers,
        "full" => Keep::Full,
        other => {
            return Err(format!(
                "parameter {}: unknown value: {other} (specify none, headers or full)",
                t::TRANSCRIPT_CONTENT.name
            ));
        }
    };
    let (directory, open_dir) = directory(config).map_err(err)?;
    let owner_name = config
        .str(&params::decl::install::MAIL_OWNER)
        .map_err(err)?;
    let owner = if sys::nix::unistd::geteuid().is_root() {
        let account = sys::user::by_name(&owner_name)
            .ok_or_else(|| format!("unknown mail_owner account: {owner_name}"))?;
        Some((account.uid, account.gid))
    } else {
        None
    };
    if let Err(e) = make_directory(&open_dir, &directory, owner) {
        // Not fatal: smtpd also serves `sendmail -bs` as an ordinary user, and each
        // session that cannot save its transcript says so.
        log::msg_warn!("{e}");
    }
    let policy = Policy {
        peers,
        directory,
        open_dir,
        keep,
        maxfiles: usize::try_from(config.int(&t::TRANSCRIPT_MAXFILES).map_err(err)?).unwrap_or(1),
        max_age: Duration::from_secs(
            u64::try_from(config.time(&t::TRANSCRIPT_MAX_AGE).map_err(err)?).unwrap_or(0),
        ),
        size_limit: u64::try_from(config.int(&t::TRANSCRIPT_SIZE_LIMIT).map_err(err)?)
            .unwrap_or(1024),
        side,
        label: label.to_string(),
        service: service.to_string(),
        owner,
    };
    POLICY.with(|p| *p.borrow_mut() = Some(Rc::new(policy)));
    Ok(())
}

/// transcript_directory as configured, and as this process reaches it: relative to
/// queue_directory (a daemon's working directory) when it is under it, so that a
/// chrooted daemon, whose root is queue_directory, reaches it too.
fn directory(config: &Config) -> Result<(String, PathBuf), params::ConfigError> {
    let directory = config.str(&t::TRANSCRIPT_DIRECTORY)?;
    let queue = config.str(&params::decl::install::QUEUE_DIRECTORY)?;
    let open_dir = match directory
        .strip_prefix(queue.trim_end_matches('/'))
        .and_then(|rest| rest.strip_prefix('/'))
    {
        Some(rest) if !rest.is_empty() => PathBuf::from(rest),
        _ => PathBuf::from(&directory),
    };
    Ok((directory, open_dir))
}

/// The saved transcripts of the sessions that produced or carried queue id `queue_id`
/// (the ids a finished file's name ends with, `..._ID1,ID2`), as configured paths in name
/// (time) order. The bounce daemon names them in the postmaster's copy of a notice. A
/// session still running (`.part`, no ids yet: a cached SMTP connection) is not found.
pub fn saved(config: &Config, queue_id: &str) -> Vec<String> {
    let Ok((directory, open_dir)) = directory(config) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&open_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            !name.ends_with(".part")
                && name
                    .rsplit('_')
                    .next()
                    .is_some_and(|ids| ids.split(',').any(|id| id == queue_id))
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| format!("{}/{name}", directory.trim_end_matches('/')))
        .collect()
}

/// Creates the directory when missing, private to mail_owner.
fn make_directory(path: &Path, shown: &str, owner: Option<(u32, u32)>) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(|e| format!("create transcript directory {shown}: {}", sys::os_error(&e)))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .map_err(|e| format!("chown transcript directory {shown}: {}", sys::os_error(&e)))?;
    }
    Ok(())
}

/// A transcript for the peer `name`/`addr` (`namaddr` as log lines show it), when the
/// peer is listed; trouble with the directory is a warning, never the session's end.
pub fn open(name: &str, addr: &str, namaddr: &str) -> Option<Transcript> {
    let policy = POLICY.with(|p| p.borrow().clone())?;
    match policy.peers.matches(&[name, addr]) {
        Ok(true) => {}
        Ok(false) => return None,
        Err(e) => {
            log::msg_warn!("{e}");
            return None;
        }
    }
    policy.prune();
    let now = SystemTime::now();
    let seconds = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let tm = sys::localtime(i64::try_from(seconds).unwrap_or(0));
    let seq = SEQUENCE.with(|s| {
        *s.borrow_mut() += 1;
        *s.borrow()
    });
    let stem = format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}_{}_{}_{}.{seq}",
        tm.year,
        tm.month + 1,
        tm.day,
        tm.hour,
        tm.minute,
        tm.second,
        policy.label,
        file_safe(addr),
        std::process::id(),
    );
    let part = policy.open_dir.join(format!("{stem}.part"));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&part);
    let file = match file {
        Ok(file) => file,
        Err(e) => {
            log::msg_warn!(
                "create transcript {}/{stem}.part: {}",
                policy.directory,
                sys::os_error(&e)
            );
            return None;
        }
    };
    if let Some((uid, gid)) = policy.owner {
        // Created as root (a daemon without privilege drop): the files are mail_owner's.
        let _ = std::os::unix::fs::fchown(&file, Some(uid), Some(gid));
    }
    let mut transcript = Transcript {
        policy,
        file: Some(file),
        stem,
        namaddr: namaddr.to_string(),
        queue_ids: Vec::new(),
        written: 0,
        dropped: 0,
        closing: false,
        parser: Parser::default(),
    };
    let head = format!(
        "{} session with {namaddr}, service {}, {} {:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        transcript.policy.label,
        transcript.policy.service,
        match transcript.policy.side {
            Side::Server => "connected",
            Side::Client => "connected to",
        },
        tm.year,
        tm.month + 1,
        tm.day,
        tm.hour,
        tm.minute,
        tm.second
    );
    transcript.note(&head);
    Some(transcript)
}

/// An address as part of a file name (IPv6 colons are kept; a slash never is).
fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Policy {
    /// Removes transcripts past `transcript_max_age` and the oldest beyond
    /// `transcript_maxfiles - 1`, to make room for one more.
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.open_dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut files: Vec<(SystemTime, PathBuf)> = Vec::new();
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(now);
            let age = now.duration_since(modified).unwrap_or_default();
            if !self.max_age.is_zero() && age > self.max_age {
                let _ = std::fs::remove_file(entry.path());
                continue;
            }
            // A session still running (another process's .part file) is never cut short
            // for room, only for age.
            if !entry.file_name().to_string_lossy().ends_with(".part") {
                files.push((modified, entry.path()));
            }
        }
        if files.len() < self.maxfiles {
            return;
        }
        files.sort();
        let excess = files.len() + 1 - self.maxfiles;
        for (_, path) in files.into_iter().take(excess) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Where the client's bytes stand in the protocol.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Command lines; held while a command that decides what follows (DATA, AUTH, a
    /// SASL response) waits for its reply.
    #[default]
    Command,
    /// The next line is a SASL response.
    Sasl,
    /// DATA content, up to the line with the dot.
    Data,
    /// This many bytes of a BDAT chunk, LAST or not.
    Bdat(u64, bool),
}

/// A command whose reply decides how the client's next lines read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Data,
    Auth,
}

/// The client's side of the dialogue, split into lines and classified.
#[derive(Default)]
struct Parser {
    mode: Mode,
    /// An incomplete line.
    partial: Vec<u8>,
    /// An incomplete content line at the end of a BDAT chunk, continued by the next.
    chunk_line: Vec<u8>,
    /// The commands sent and not yet answered, in order (pipelining): the reply to a
    /// [`Pending`] one decides the mode.
    replies: std::collections::VecDeque<Option<Pending>>,
    /// Lines held while a [`Pending`] command waits for its reply.
    held: Vec<u8>,
    /// A BDAT message is open (its content started with an earlier chunk).
    bdat_open: bool,
    /// Inside the message's headers (content starts there).
    in_headers: bool,
    /// Content lines and bytes not kept, of the current message.
    skipped_lines: u64,
    skipped_bytes: u64,
}

/// One session's transcript.
pub struct Transcript {
    policy: Rc<Policy>,
    file: Option<File>,
    stem: String,
    namaddr: String,
    queue_ids: Vec<String>,
    written: u64,
    dropped: u64,
    /// The last lines, written past the size limit.
    closing: bool,
    parser: Parser,
}

impl Transcript {
    /// Bytes the SMTP client sent, as they went over the wire (after TLS decryption on
    /// the server, before encryption on the client), in pieces of any size.
    pub fn client_bytes(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if let Mode::Bdat(left, last) = self.parser.mode {
                let take = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                self.content(&bytes[..take]);
                bytes = &bytes[take..];
                let left = left - take as u64;
                self.parser.mode = Mode::Bdat(left, last);
                if left == 0 {
                    self.end_chunk(last);
                }
                continue;
            }
            let Some(at) = bytes.iter().position(|&b| b == b'\n') else {
                self.parser.partial.extend_from_slice(bytes);
                return;
            };
            let mut line = std::mem::take(&mut self.parser.partial);
            line.extend_from_slice(&bytes[..=at]);
            bytes = &bytes[at + 1..];
            self.client_line(line);
        }
    }

    /// One complete line from the client, with its line end.
    fn client_line(&mut self, line: Vec<u8>) {
        match self.parser.mode {
            Mode::Command if self.parser.replies.iter().any(Option::is_some) => {
                self.parser.held.extend_from_slice(&line);
            }
            Mode::Sasl => {
                let text = trim_end(&line);
                self.write(
                    '<',
                    format!("[SASL response, {} bytes, not kept]", text.len()).as_bytes(),
                );
                self.parser.replies.push_back(Some(Pending::Auth));
                self.parser.mode = Mode::Command;
            }
            Mode::Data => {
                if trim_end(&line) == b"." {
                    self.end_content();
                    self.write('<', b".");
                    self.parser.replies.push_back(None);
                    self.parser.mode = Mode::Command;
                } else {
                    self.content_line(&line);
                }
            }
            Mode::Command | Mode::Bdat(..) => self.command(&line),
        }
    }

    /// A command line: written (AUTH's initial response redacted), and the mode it sets.
    fn command(&mut self, line: &[u8]) {
        let text = trim_end(line);
        let words: Vec<&[u8]> = text
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .collect();
        let verb = words
            .first()
            .map(|w| w.to_ascii_uppercase())
            .unwrap_or_default();
        if matches!(verb.as_slice(), b"MAIL" | b"RSET") {
            // A new transaction: no BDAT message is open any more.
            self.parser.bdat_open = false;
            self.parser.chunk_line.clear();
        }
        match verb.as_slice() {
            b"AUTH" if words.len() > 2 => {
                let shown = format!(
                    "AUTH {} [initial response, {} bytes, not kept]",
                    String::from_utf8_lossy(words[1]),
                    words[2].len()
                );
                self.write('<', shown.as_bytes());
                self.parser.replies.push_back(Some(Pending::Auth));
            }
            b"AUTH" => {
                self.write('<', text);
                self.parser.replies.push_back(Some(Pending::Auth));
            }
            b"DATA" => {
                self.write('<', text);
                self.parser.replies.push_back(Some(Pending::Data));
            }
            b"BDAT" => {
                self.write('<', text);
                self.parser.replies.push_back(None);
                let size = words
                    .get(1)
                    .and_then(|w| std::str::from_utf8(w).ok()?.parse().ok());
                let last = words
                    .get(2)
                    .is_some_and(|w| w.eq_ignore_ascii_case(b"LAST"));
                if let Some(size) = size {
                    if !self.parser.bdat_open {
                        self.parser.bdat_open = true;
                        self.start_content();
                    }
                    self.note(&format!(
                        "BDAT chunk of {size} bytes{}",
                        if last { ", the last" } else { "" }
                    ));
                    self.parser.mode = Mode::Bdat(size, last);
                    if size == 0 {
                        self.end_chunk(last);
                    }
                }
            }
            _ => {
                self.write('<', text);
                self.parser.replies.push_back(None);
            }
        }
    }

    /// One line of the server's reply, without its line end.
    pub fn server_line(&mut self, line: &[u8]) {
        self.write('>', line);
        if let Some(at) = find(line, b"queued as ").filter(|_| self.policy.side == Side::Server) {
            let id: String = String::from_utf8_lossy(&line[at + 10..])
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            self.queue_id(&id);
        }
        let last = line.len() == 3 || line.get(3) == Some(&b' ');
        if !last {
            return;
        }
        // The greeting and unsolicited replies answer no command.
        let Some(Some(pending)) = self.parser.replies.pop_front() else {
            return;
        };
        match (pending, line.get(..3)) {
            (Pending::Data, Some(b"354")) => {
                self.start_content();
                self.parser.mode = Mode::Data;
            }
            (Pending::Auth, Some(b"334")) => self.parser.mode = Mode::Sasl,
            _ => {}
        }
        let held = std::mem::take(&mut self.parser.held);
        self.client_bytes(&held);
    }

    /// The TLS handshake's outcome (tls::Summary::transcript_line: protocol, cipher, the
    /// peer's certificate).
    pub fn tls(&mut self, summary: &str) {
        self.note(&format!("TLS: {summary}"));
        // What was sent before the handshake is gone; inside TLS the dialogue restarts.
        self.parser.partial.clear();
        self.parser.chunk_line.clear();
        self.parser.held.clear();
        self.parser.replies.clear();
        self.parser.mode = Mode::Command;
    }

    /// A queue id the session produced (or, on the client side, the message it sends).
    pub fn queue_id(&mut self, id: &str) {
        if !id.is_empty() && !self.queue_ids.iter().any(|q| q == id) {
            self.queue_ids.push(id.to_string());
        }
    }

    /// A line the transcript adds itself.
    pub fn note(&mut self, text: &str) {
        self.write('*', text.as_bytes());
    }

    fn start_content(&mut self) {
        self.parser.in_headers = true;
        self.parser.skipped_lines = 0;
        self.parser.skipped_bytes = 0;
    }

    /// A BDAT chunk ended: a line cut by the chunk boundary stays open unless it was the
    /// last chunk.
    fn end_chunk(&mut self, last: bool) {
        if last {
            self.parser.bdat_open = false;
            let rest = std::mem::take(&mut self.parser.chunk_line);
            if !rest.is_empty() {
                self.content_line(&rest);
            }
            self.end_content();
        }
        self.parser.mode = Mode::Command;
    }

    /// Message bytes of a BDAT chunk.
    fn content(&mut self, mut bytes: &[u8]) {
        while let Some(at) = bytes.iter().position(|&b| b == b'\n') {
            let mut line = std::mem::take(&mut self.parser.chunk_line);
            line.extend_from_slice(&bytes[..=at]);
            bytes = &bytes[at + 1..];
            self.content_line(&line);
        }
        self.parser.chunk_line.extend_from_slice(bytes);
    }

    /// One line of message content, kept as `transcript_content` says.
    fn content_line(&mut self, line: &[u8]) {
        let text = trim_end(line);
        let header = self.parser.in_headers;
        if header && text.is_empty() {
            self.parser.in_headers = false;
        }
        let keep = match self.policy.keep {
            Keep::Full => true,
            Keep::Headers => header,
            Keep::None => false,
        };
        if keep {
            self.write('<', text);
        } else {
            self.parser.skipped_lines += 1;
            self.parser.skipped_bytes += line.len() as u64;
        }
    }

    fn end_content(&mut self) {
        if self.parser.skipped_lines > 0 {
            let text = format!(
                "message content not kept: {} lines, {} bytes (transcript_content = {})",
                self.parser.skipped_lines,
                self.parser.skipped_bytes,
                match self.policy.keep {
                    Keep::None => "none",
                    Keep::Headers => "headers",
                    Keep::Full => "full",
                }
            );
            self.note(&text);
        }
        self.parser.skipped_lines = 0;
        self.parser.skipped_bytes = 0;
    }

    /// Writes one line now: `HH:MM:SS.mmm D text`, non-printable bytes escaped.
    fn write(&mut self, direction: char, text: &[u8]) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let tm = sys::localtime(i64::try_from(now.as_secs()).unwrap_or(0));
        let mut out = format!(
            "{:02}:{:02}:{:02}.{:03} {direction} ",
            tm.hour,
            tm.minute,
            tm.second,
            now.subsec_millis()
        )
        .into_bytes();
        for &b in text {
            if b == b'\t' || (b' '..0x7f).contains(&b) || b >= 0x80 {
                out.push(b);
            } else {
                out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            }
        }
        out.push(b'\n');
        if !self.closing && self.written + out.len() as u64 > self.policy.size_limit {
            self.dropped += out.len() as u64;
            return;
        }
        self.written += out.len() as u64;
        if let Err(e) = file.write_all(&out) {
            log::msg_warn!(
                "write transcript {}: {}",
                self.path(".part"),
                sys::os_error(&e)
            );
            self.file = None;
        }
    }

    /// The file's full name as configured, with `suffix`.
    fn path(&self, suffix: &str) -> String {
        format!("{}/{}{suffix}", self.policy.directory, self.stem)
    }
}

impl Drop for Transcript {
    /// The session is over: the file gets its final name, with the queue ids, and the
    /// log says where it is.
    fn drop(&mut self) {
        if self.dropped > 0 {
            let text = format!(
                "transcript_size_limit reached: {} more bytes not kept",
                self.dropped
            );
            // Past the limit on purpose: the reader must see the transcript is cut.
            self.closing = true;
            self.note(&text);
        }
        self.note("end of session");
        self.file = None;
        let ids = if self.queue_ids.is_empty() {
            String::new()
        } else {
            format!("_{}", self.queue_ids.join(","))
        };
        let from = self.policy.open_dir.join(format!("{}.part", self.stem));
        let to = self.policy.open_dir.join(format!("{}{ids}", self.stem));
        let shown = match std::fs::rename(&from, &to) {
            Ok(()) => self.path(&ids),
            Err(e) => {
                log::msg_warn!(
                    "rename transcript {}: {}",
                    self.path(".part"),
                    sys::os_error(&e)
                );
                self.path(".part")
            }
        };
        if self.queue_ids.is_empty() {
            log::msg_info!("transcript of {}: {shown}", self.namaddr);
        }
        for id in &self.queue_ids {
            log::msg_info!("{id}: transcript={shown}");
        }
    }
}

/// A line without its CR LF.
fn trim_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Installs a policy writing under a fresh directory; returns the directory.
    fn install(name: &str, keep: Keep, side: Side, size_limit: u64, maxfiles: usize) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("ironpost-transcript-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let policy = Policy {
            peers: MatchList::new(
                "test",
                Default::default(),
                "127.0.0.1",
                &[Matcher::Hostname, Matcher::Hostaddr],
            ),
            directory: dir.display().to_string(),
            open_dir: dir.clone(),
            keep,
            maxfiles,
            max_age: Duration::ZERO,
            size_limit,
            side,
            label: "smtpd".into(),
            service: "smtp".into(),
            owner: None,
        };
        POLICY.with(|p| *p.borrow_mut() = Some(Rc::new(policy)));
        dir
    }

    /// Feeds the transcript what the client (`C`) sent and the server (`S`) replied.
    fn play(t: &mut Transcript, steps: &[(&str, &[u8])]) {
        for (who, bytes) in steps {
            if *who == "S" {
                t.server_line(bytes);
            } else {
                t.client_bytes(bytes);
            }
        }
    }

    /// The one finished transcript in `dir`, without the time stamps: `D text` lines.
    fn read(dir: &Path) -> (String, String) {
        let files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let text = std::fs::read_to_string(&files[0]).unwrap();
        let lines: Vec<&str> = text.lines().map(|l| &l[13..]).collect();
        let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
        let _ = std::fs::remove_dir_all(dir);
        (name, lines.join("\n"))
    }

    #[test]
    fn unlisted_peers_get_none() {
        let _dir = install("unlisted", Keep::Headers, Side::Server, 1 << 20, 10);
        assert!(open("other.example", "10.0.0.1", "other.example[10.0.0.1]").is_none());
    }

    #[test]
    fn pipelined_data_and_sasl_exchanges_are_classified_by_their_replies() {
        let dir = install("pipelined", Keep::Headers, Side::Server, 1 << 20, 10);
        let mut t = open("localhost", "127.0.0.1", "localhost[127.0.0.1]").unwrap();
        play(
            &mut t,
            &[
                ("S", b"220 mail.example ESMTP"),
                ("C", b"AUTH LOGIN\r\n"),
                ("S", b"334 VXNlcm5hbWU6"),
                ("C", b"YWxp"),
                ("C", b"Y2U=\r\n"),
                ("S", b"334 UGFzc3dvcmQ6"),
                ("C", b"c2VjcmV0\r\n"),
                ("S", b"235 2.7.0 Authentication successful"),
            ],
        );
        // MAIL, RCPT, DATA and content ahead of the replies (an impatient client).
        play(
            &mut t,
            &[
                (
                    "C",
                    b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: x\r\n",
                ),
                ("S", b"250 2.1.0 Ok"),
                ("S", b"250 2.1.5 Ok"),
                ("S", b"354 End data with <CR><LF>.<CR><LF>"),
                ("C", b"\r\nprivate body\r\n.\r\nQUIT\r\n"),
                ("S", b"250 2.0.0 Ok: queued as 4ABCD"),
                ("S", b"221 2.0.0 Bye"),
            ],
        );
        drop(t);
        let (name, text) = read(&dir);
        assert!(name.ends_with("_4ABCD"), "{name}");
        assert!(name.contains("_smtpd_127.0.0.1_"), "{name}");
        let want = "\
> 220 mail.example ESMTP
< AUTH LOGIN
> 334 VXNlcm5hbWU6
< [SASL response, 8 bytes, not kept]
> 334 UGFzc3dvcmQ6
< [SASL response, 8 bytes, not kept]
> 235 2.7.0 Authentication successful
< MAIL FROM:<a@b>
< RCPT TO:<c@d>
< DATA
> 250 2.1.0 Ok
> 250 2.1.5 Ok
> 354 End data with <CR><LF>.<CR><LF>
< Subject: x
< 
* message content not kept: 1 lines, 14 bytes (transcript_content = headers)
< .
< QUIT
> 250 2.0.0 Ok: queued as 4ABCD
> 221 2.0.0 Bye
* end of session";
        let body = text.split_once('\n').unwrap().1;
        assert_eq!(body, want);
    }

    #[test]
    fn a_refused_data_leaves_the_next_lines_commands() {
        let dir = install("refused", Keep::None, Side::Server, 1 << 20, 10);
        let mut t = open("localhost", "127.0.0.1", "localhost[127.0.0.1]").unwrap();
        play(
            &mut t,
            &[
                ("C", b"DATA\r\nRSET\r\n"),
                ("S", b"503 5.5.1 Error: need RCPT command"),
                ("S", b"250 2.0.0 Ok"),
                ("C", b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
                ("S", b"235 2.7.0 Authentication successful"),
            ],
        );
        drop(t);
        let (_, text) = read(&dir);
        // Lines sent ahead of the reply to DATA wait for it to be classified.
        assert!(
            text.contains("< DATA\n> 503 5.5.1 Error: need RCPT command\n< RSET\n"),
            "{text}"
        );
        assert!(
            text.contains("< AUTH PLAIN [initial response, 20 bytes, not kept]"),
            "{text}"
        );
        assert!(!text.contains("AGFsaWNl"), "{text}");
    }

    #[test]
    fn bdat_chunks_full_content_and_the_size_limit() {
        let dir = install("bdat", Keep::Full, Side::Client, 400, 10);
        let mut t = open("localhost", "127.0.0.1", "localhost[127.0.0.1]:25").unwrap();
        t.queue_id("5QUEUE");
        play(
            &mut t,
            &[
                ("C", b"BDAT 16\r\nSubject:"),
                ("C", b" y\r\n\r\nboBDAT 4 LAST\r\ndy\r\n"),
                ("S", b"250 2.0.0 Ok: 8 bytes"),
            ],
        );
        // The server's own queue id is not ours on the client side.
        t.server_line(b"250 2.0.0 Ok: 14 bytes queued as REMOTE");
        for _ in 0..20 {
            t.client_bytes(b"NOOP\r\n");
        }
        drop(t);
        let (name, text) = read(&dir);
        assert!(name.ends_with("_5QUEUE"), "{name}");
        assert!(
            text.contains("< BDAT 16\n* BDAT chunk of 16 bytes\n< Subject: y\n< \n"),
            "{text}"
        );
        assert!(
            text.contains("< BDAT 4 LAST\n* BDAT chunk of 4 bytes, the last\n< body\n"),
            "{text}"
        );
        assert!(text.contains("* transcript_size_limit reached: "), "{text}");
        assert!(text.ends_with("* end of session"), "{text}");
    }

    #[test]
    fn the_oldest_files_go_beyond_maxfiles() {
        let dir = install("maxfiles", Keep::None, Side::Server, 1 << 20, 2);
        for _ in 0..4 {
            drop(open("localhost", "127.0.0.1", "localhost[127.0.0.1]").unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
        let left = std::fs::read_dir(&dir).unwrap().count();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(left, 2);
    }

    #[test]
    fn saved_finds_the_finished_files_naming_a_queue_id() {
        let dir =
            std::env::temp_dir().join(format!("ironpost-transcript-saved-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "20261206-140205_smtp_127.0.0.1_24427.1_4F04BC190C3",
            "20261206-140201_smtpd_127.0.0.1_24400.1_1AAAA,4F04BC190C3",
            "20261206-140209_smtp_127.0.0.1_24427.2_4F04BC190C30",
            "20261206-140210_smtp_127.0.0.1_24427.3.part",
            "20261206-140211_smtpd_127.0.0.1_24400.2",
        ] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let main = format!(
            "queue_directory = /nonexistent\ntranscript_directory = {}\n",
            dir.display()
        );
        let main = params::main_cf::MainCf::parse(Path::new("main.cf"), &main).unwrap();
        let config = Config::new(Path::new("/nonexistent"), main);
        let found = saved(&config, "4F04BC190C3");
        let _ = std::fs::remove_dir_all(&dir);
        let shown = dir.display();
        assert_eq!(
            found,
            [
                format!("{shown}/20261206-140201_smtpd_127.0.0.1_24400.1_1AAAA,4F04BC190C3"),
                format!("{shown}/20261206-140205_smtp_127.0.0.1_24427.1_4F04BC190C3"),
            ]
        );
    }
}
