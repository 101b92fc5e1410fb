//! Queue files: their names, their place in the queue directories, and new files.
//!
//! Postfix counterparts: `global/mail_queue.c`, `global/file_id.c`, `global/safe_ultostr.c`,
//! `util/dir_forest.c`, and the file part of `global/mail_stream.c` (`mail_stream_file`,
//! `mail_stream_finish_file`, `mail_stream_cleanup`).
//!
//! A queue file is named by its queue ID, which comes from the time of creation and the
//! file's inode number, so that no two files in the queue have the same name at the same
//! time and IDs do not repeat within a second (message IDs are built from them). Short IDs
//! are the microseconds as five upper-case hexadecimal digits followed by the inode in
//! hexadecimal; long IDs (`enable_long_queue_ids`) are the seconds and microseconds in a
//! base-52 alphabet without vowels, a `z`, and the inode in base 51. A new file is first
//! created under a temporary name (`maildrop/123456.4242`, microseconds and pid), then
//! renamed to its queue ID once the inode is known. The queues listed in
//! `hash_queue_names` are spread over `hash_queue_depth` levels of one-character
//! subdirectories named after the ID.
//!
//! Paths are relative to the queue directory, as in Postfix, whose programs run with the
//! queue directory as their working directory; [`Layout::base`] can put them elsewhere.
//!
//! A file being written has mode 0600 (plus what the caller asks for); [`QueueFile::finish`]
//! flushes it, sets the owner execute bit (0700, "complete": pickup and the queue manager
//! ignore files without it) and fsyncs it. Waking up the service that reads the queue is
//! left to the caller, which knows how to reach it.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Mail submitted with sendmail, waiting for pickup.
pub const MAILDROP: &str = "maildrop";
/// Mail put on hold.
pub const HOLD: &str = "hold";
/// Mail that cleanup has queued, waiting for the queue manager.
pub const INCOMING: &str = "incoming";
/// Mail the queue manager is delivering.
pub const ACTIVE: &str = "active";
/// Mail waiting for a retry.
pub const DEFERRED: &str = "deferred";
/// Delivery status records of `sendmail -bv` and `-v`.
pub const TRACE: &str = "trace";
/// Per-recipient delay reasons.
pub const DEFER: &str = "defer";
/// Per-recipient bounce reasons.
pub const BOUNCE: &str = "bounce";
/// Damaged queue files.
pub const CORRUPT: &str = "corrupt";
/// Fast flush logs.
pub const FLUSH: &str = "flush";
/// Files kept by `postsuper`.
pub const SAVED: &str = "saved";

/// The permission bits of a complete queue file (Postfix's `MAIL_QUEUE_STAT_READY`).
pub const STAT_READY: u32 = 0o700;
/// The permission bits of a file being written (`mail_stream_file`'s embryonic mode).
const STAT_EMBRYONIC: u32 = 0o600;

/// The longest queue ID (Postfix's `VALID_HOSTNAME_LEN`: fast flush logs are named after
/// domains).
const MAX_ID_LEN: usize = 255;
/// The longest queue name.
const MAX_NAME_LEN: usize = 100;

/// The alphabet of long queue IDs: digits and consonants, so that no word can appear.
const SAFE_CHARS: &[u8] = b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
/// Bases and widths of the parts of a long queue ID.
const LONG_SEC_BASE: u64 = 52;
const LONG_SEC_PAD: usize = 6;
const LONG_USEC_BASE: u64 = 52;
const LONG_USEC_PAD: usize = 4;
/// The inode is in base 51, so that it never contains the separator.
const LONG_INUM_BASE: u64 = 51;
const LONG_INUM_SEP: char = 'z';
/// Width of the microseconds of a short queue ID.
const SHORT_USEC_PAD: usize = 5;

/// Attempts to rename a new file to its queue ID before giving up.
const RENAME_ATTEMPTS: u32 = 1000;
/// How long to wait after a queue file could not be created, before trying again.
const CREATE_RETRY: Duration = Duration::from_secs(10);

/// How queue file names map to paths, from main.cf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The directory the queue paths are relative to; empty (the working directory) for
    /// programs that run in the queue directory, as Postfix's do.
    pub base: PathBuf,
    /// `hash_queue_names`: the queues spread over subdirectories.
    pub hash_queue_names: Vec<String>,
    /// `hash_queue_depth`: how many levels of subdirectories.
    pub hash_queue_depth: usize,
    /// `enable_long_queue_ids`.
    pub long_queue_ids: bool,
}

impl Layout {
    /// The layout main.cf asks for, with paths relative to the working directory.
    pub fn from_config(config: &params::Config) -> Result<Layout, params::ConfigError> {
        use params::decl::queue::{ENABLE_LONG_QUEUE_IDS, HASH_QUEUE_DEPTH, HASH_QUEUE_NAMES};
        Ok(Layout {
            base: PathBuf::new(),
            hash_queue_names: util::tokens::split(
                &config.str(&HASH_QUEUE_NAMES)?,
                util::tokens::COMMA_SPACE,
            )
            .map(str::to_string)
            .collect(),
            hash_queue_depth: config.int(&HASH_QUEUE_DEPTH)?.max(1) as usize,
            long_queue_ids: config.bool(&ENABLE_LONG_QUEUE_IDS)?,
        })
    }

    /// The directory of queue file `id` in `queue`, with a trailing slash: `maildrop/`,
    /// or `deferred/A/` for a hashed queue. Bad names are a program bug (panic), as in
    /// Postfix.
    pub fn dir(&self, queue: &str, id: &str) -> String {
        if !name_ok(queue) {
            log::msg_panic!("mail_queue_dir: bad queue name: {queue}");
        }
        if !id_ok(id) {
            log::msg_panic!("mail_queue_dir: bad queue id: {id}");
        }
        let mut dir = self.base_prefix();
        dir.push_str(queue);
        dir.push('/');
        if self
            .hash_queue_names
            .iter()
            .any(|name| name.eq_ignore_ascii_case(queue))
        {
            // Long IDs start with seconds, which change slowly: hash them by their
            // microseconds, in the short form, so both forms spread alike.
            let hashed = match long_id_separator(id) {
                Some(sep) => {
                    let usec =
                        safe_strtoul(&id[sep - LONG_USEC_PAD..sep], LONG_USEC_BASE).unwrap_or(0);
                    format!("{usec:0SHORT_USEC_PAD$X}")
                }
                None => id.to_string(),
            };
            dir.push_str(&dir_forest(&hashed, self.hash_queue_depth));
        }
        dir
    }

    /// The path of queue file `id` in `queue`.
    pub fn path(&self, queue: &str, id: &str) -> String {
        let mut path = self.dir(queue, id);
        path.push_str(id);
        path
    }

    fn base_prefix(&self) -> String {
        if self.base.as_os_str().is_empty() {
            String::new()
        } else {
            format!("{}/", self.base.display())
        }
    }
}

/// Moves queue file `id` from one queue to another, making the hashed subdirectory when
/// it is missing (`mail_queue_rename`).
pub fn rename(layout: &Layout, id: &str, from: &str, to: &str) -> io::Result<()> {
    let (old, new) = (layout.path(from, id), layout.path(to, id));
    match std::fs::rename(&old, &new) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && std::path::Path::new(&old).exists() => {
            mkdirs(&new)?;
            std::fs::rename(&old, &new)
        }
        other => other,
    }
}

/// Whether `queue` is a well-formed queue name: letters and digits only.
pub fn name_ok(queue: &str) -> bool {
    !queue.is_empty()
        && queue.len() <= MAX_NAME_LEN
        && queue.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether `id` is a well-formed queue file name: a queue ID, or a fast flush log named
/// after a domain with `_` for other characters.
pub fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Where the inode part of a long queue ID starts (the byte index of its `z`), if `id` is
/// one: the separator is the last `z`, after the time part.
fn long_id_separator(id: &str) -> Option<usize> {
    let at = id.rfind(LONG_INUM_SEP)?;
    (at >= LONG_SEC_PAD + LONG_USEC_PAD).then_some(at)
}

/// The queue ID for a file created at `sec`.`usec` with inode `inum`.
pub fn queue_id(long: bool, sec: u64, usec: u32, inum: u64) -> String {
    if long {
        format!(
            "{}{}{LONG_INUM_SEP}{}",
            safe_ultostr(sec, LONG_SEC_BASE, LONG_SEC_PAD),
            safe_ultostr(u64::from(usec), LONG_USEC_BASE, LONG_USEC_PAD),
            safe_ultostr(inum, LONG_INUM_BASE, 0)
        )
    } else {
        format!("{usec:0SHORT_USEC_PAD$X}{inum:X}")
    }
}

/// `value` in `base` (2 to 52) with the safe alphabet, left-padded with `0` to `pad`.
pub fn safe_ultostr(mut value: u64, base: u64, pad: usize) -> String {
    assert!(
        (2..=SAFE_CHARS.len() as u64).contains(&base),
        "bad base {base}"
    );
    let mut digits = Vec::new();
    while value != 0 {
        digits.push(SAFE_CHARS[(value % base) as usize]);
        value /= base;
    }
    while digits.len() < pad {
        digits.push(b'0');
    }
    digits.reverse();
    digits.into_iter().map(char::from).collect()
}

/// The number `text` writes in `base` with the safe alphabet; None if it has anything
/// else, is empty, or overflows.
pub fn safe_strtoul(text: &str, base: u64) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut sum: u64 = 0;
    for b in text.bytes() {
        let digit = SAFE_CHARS.iter().position(|&c| c == b)? as u64;
        if digit >= base {
            return None;
        }
        sum = sum.checked_mul(base)?.checked_add(digit)?;
    }
    Some(sum)
}

/// `depth` subdirectory levels named after the first characters of `name` (`_` when it is
/// shorter), each followed by a slash: `ABC` at depth 2 gives `A/B/`.
fn dir_forest(name: &str, depth: usize) -> String {
    let mut chars = name.chars();
    let mut out = String::with_capacity(2 * depth);
    for _ in 0..depth {
        let c = chars.next().unwrap_or('_');
        if c.is_control() || c == '.' || c == '/' {
            log::msg_panic!("dir_forest: invalid pathname: {name}");
        }
        out.push(c);
        out.push('/');
    }
    if log::verbose() > 1 {
        log::msg_info!("dir_forest: {name} -> {out}");
    }
    out
}

/// Creates the missing parent directories of `path` (mode 0700), as
/// `mail_queue_mkdirs`.
pub fn mkdirs(path: &str) -> io::Result<()> {
    let Some((parent, _)) = path.rsplit_once('/') else {
        log::msg_panic!("mail_queue_mkdirs: no slash in: {path}");
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)
}

/// Renames `from` to `to`; a failure that left the file renamed anyway (an NFS client
/// retrying a rename the server already did) counts as success, with Postfix's note.
fn sane_rename(from: &str, to: &str) -> io::Result<()> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) => {
            if std::fs::metadata(from).is_err() && std::fs::metadata(to).is_ok() {
                log::msg_info!("sane_rename({from},{to}): worked around spurious NFS error");
                return Ok(());
            }
            Err(e)
        }
    }
}

/// The time now, as seconds and microseconds (`gettimeofday`).
fn now() -> (u64, u32) {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (since.as_secs(), since.subsec_micros())
}

/// Why no queue file could be made. Creating the file itself is retried until it works
/// (a full or read-only queue is a wait, not an error); these are what is left, and each
/// ends the caller (Postfix's `mail_queue_enter` is fatal on both).
#[derive(Debug)]
pub enum QueueError {
    /// The new file's inode number could not be read.
    Fstat(io::Error),
    /// The file could not be renamed to its queue ID, attempt after attempt.
    Rename {
        /// The temporary name.
        from: String,
        /// The last queue ID path tried.
        to: String,
    },
}

impl std::fmt::Display for QueueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueueError::Fstat(e) => write!(f, "fstat: {}", sys::os_error(e)),
            QueueError::Rename { from, to } => {
                write!(f, "mail_queue_enter: rename {from} to {to}: giving up")
            }
        }
    }
}

impl std::error::Error for QueueError {}

/// A new queue file, open for writing.
pub struct QueueFile {
    out: BufWriter<File>,
    id: String,
    path: String,
    ctime: (u64, u32),
    mode: u32,
}

impl QueueFile {
    /// Creates a file with a new queue ID in `queue`, with mode 0600 | `mode` while it is
    /// written (as Postfix's `mail_stream_file`). Like Postfix, it keeps trying (with a
    /// warning every ten seconds) while the file cannot be created; an error means it could
    /// not be named after its queue ID, and its text is the fatal message.
    pub fn create(layout: &Layout, queue: &str, mode: u32) -> Result<QueueFile, QueueError> {
        let (file, path, ctime) = enter(layout, queue, STAT_EMBRYONIC | mode)?;
        if log::verbose() > 0 {
            log::msg_info!("open {path}");
        }
        let id = path.rsplit('/').next().unwrap_or(&path).to_string();
        Ok(QueueFile {
            out: BufWriter::new(file),
            id,
            path,
            ctime,
            mode,
        })
    }

    /// The queue ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The path, e.g. `maildrop/3F1A2B4C5`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// When the queue ID was made: seconds and microseconds since the epoch.
    pub fn ctime(&self) -> (u64, u32) {
        self.ctime
    }

    /// Completes the file: writes out what is buffered, marks it complete (0700 | the
    /// mode given at creation) and forces it to disk. On error the caller removes the
    /// file; an `EFBIG` error means the file outgrew the file size limit.
    pub fn finish(self) -> io::Result<()> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        // The execute bit goes on only when everything was written. A crash between
        // fchmod and fsync is harmless: readers reject files without an END record.
        file.set_permissions(Permissions::from_mode(STAT_READY | self.mode))?;
        file.sync_all()?;
        // close(2) can still fail after fsync: a network file system may write the file
        // out only now. That error must fail the submission, as in Postfix's
        // mail_stream_finish_file; dropping the File would discard it.
        sys::close(file.into())
    }

    /// Overwrites `data` at `offset` from the start of the file, after writing out what
    /// is buffered: for records with fixed-width fields filled in when the rest is known
    /// (cleanup's size record, Postfix's `vstream_fseek` in `cleanup_final.c`).
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.out.flush()?;
        self.out.get_ref().write_all_at(data, offset)
    }

    /// Gives up on the file: closes it without writing out what is still buffered. The
    /// caller removes it.
    pub fn abandon(self) {
        let (file, _unwritten) = self.out.into_parts();
        drop(file);
    }
}

impl Write for QueueFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Creates a file with a locally unique name in `queue` (Postfix's `mail_queue_enter`):
/// the open file, its path and the time its name was made.
fn enter(
    layout: &Layout,
    queue: &str,
    mode: u32,
) -> Result<(File, String, (u64, u32)), QueueError> {
    let pid = std::process::id();
    let base = layout.base_prefix();
    // A name that no one else uses now: the process id alone is not enough when a queue
    // is shared over the network.
    let (file, temp_path) = loop {
        let (_, usec) = now();
        let temp_path = format!("{base}{queue}/{usec}.{pid}");
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp_path)
        {
            Ok(file) => break (file, temp_path),
            Err(e)
                if e.kind() == io::ErrorKind::AlreadyExists
                    || e.kind() == io::ErrorKind::IsADirectory =>
            {
                continue;
            }
            Err(e) => {
                log::msg_warn!(
                    "mail_queue_enter: create file {temp_path}: {}",
                    sys::os_error(&e)
                );
                std::thread::sleep(CREATE_RETRY);
            }
        }
    };
    // The inode number is unique on the file system for as long as the file exists: the
    // kernel resolves collisions better than we could.
    let inum = match file.metadata() {
        Ok(meta) => meta.ino(),
        Err(e) => {
            let _ = std::fs::remove_file(&temp_path);
            return Err(QueueError::Fstat(e));
        }
    };
    let mut count = 0;
    loop {
        // A fresh time for each attempt: the time part must not repeat within a second.
        let (sec, usec) = now();
        let id = queue_id(layout.long_queue_ids, sec, usec, inum);
        let path = layout.path(queue, &id);
        let error = match sane_rename(&temp_path, &path) {
            Ok(()) => return Ok((file, path, (sec, usec))),
            Err(e) => e,
        };
        let raw = error.raw_os_error();
        if raw == Some(EPERM) || error.kind() == io::ErrorKind::IsADirectory {
            // Collision with something odd: try another name.
            continue;
        }
        if error.kind() != io::ErrorKind::NotFound || mkdirs(&path).is_err() {
            log::msg_warn!(
                "mail_queue_enter: rename {temp_path} to {path}: {}",
                sys::os_error(&error)
            );
        }
        if count > RENAME_ATTEMPTS {
            let _ = std::fs::remove_file(&temp_path);
            return Err(QueueError::Rename {
                from: temp_path,
                to: path,
            });
        }
        count += 1;
    }
}

/// `EPERM`, which has no `io::ErrorKind` of its own.
const EPERM: i32 = 1;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::path::Path;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn layout(base: &Path) -> Layout {
        Layout {
            base: base.to_path_buf(),
            hash_queue_names: vec!["deferred".into(), "defer".into()],
            hash_queue_depth: 1,
            long_queue_ids: false,
        }
    }

    fn scratch() -> PathBuf {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ironpost-mail_queue-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(MAILDROP)).unwrap();
        dir
    }

    #[test]
    fn safe_alphabet_as_postfix_test_vectors() {
        // global/safe_ultostr.ref, with its padding of 5.
        assert_eq!(
            safe_ultostr(4294967295, 2, 5),
            "11111111111111111111111111111111"
        );
        assert_eq!(safe_ultostr(4294967295, 10, 5), "4294967295");
        assert_eq!(safe_ultostr(4294967295, 16, 5), "HHHHHHHH");
        assert_eq!(safe_ultostr(4294967295, 52, 5), "CHPgSv");
        assert_eq!(safe_ultostr(7, 52, 4), "0007");
        assert_eq!(safe_ultostr(0, 51, 0), "");
        for (value, base) in [(4294967295u64, 52u64), (999_999, 52), (123_456_789, 51)] {
            assert_eq!(
                safe_strtoul(&safe_ultostr(value, base, 0), base),
                Some(value)
            );
        }
        assert_eq!(safe_strtoul("z", 51), None);
        assert_eq!(safe_strtoul("", 52), None);
        assert_eq!(safe_strtoul("A", 52), None);
    }

    #[test]
    fn queue_ids() {
        assert_eq!(queue_id(false, 1_700_000_000, 0x1a2b3, 0xbeef), "1A2B3BEEF");
        assert_eq!(queue_id(false, 0, 7, 1), "000071");
        let long = queue_id(true, 1_700_000_000, 999_999, 123_456);
        let sep = long_id_separator(&long).unwrap();
        assert_eq!(
            safe_strtoul(&long[..sep - LONG_USEC_PAD], LONG_SEC_BASE),
            Some(1_700_000_000)
        );
        assert_eq!(
            safe_strtoul(&long[sep - LONG_USEC_PAD..sep], LONG_USEC_BASE),
            Some(999_999)
        );
        assert_eq!(
            safe_strtoul(&long[sep + 1..], LONG_INUM_BASE),
            Some(123_456)
        );
        assert!(id_ok(&long));
        // A short ID never looks like a long one.
        assert_eq!(long_id_separator("1A2B3BEEF"), None);
    }

    #[test]
    fn names_and_paths() {
        assert!(name_ok("maildrop"));
        assert!(!name_ok("mail/drop"));
        assert!(!name_ok(""));
        assert!(id_ok("example_com"));
        assert!(!id_ok("a.b"));
        let mut l = layout(Path::new(""));
        assert_eq!(l.path(MAILDROP, "1A2B3BEEF"), "maildrop/1A2B3BEEF");
        assert_eq!(l.path(DEFERRED, "1A2B3BEEF"), "deferred/1/1A2B3BEEF");
        assert_eq!(l.dir("DEFER", "1A2B3BEEF"), "DEFER/1/");
        l.hash_queue_depth = 3;
        assert_eq!(l.dir(DEFERRED, "AB"), "deferred/A/B/_/");
        // A long ID is hashed by its microseconds in short (hexadecimal) form.
        let long = queue_id(true, 1_700_000_000, 0xABCDE, 42);
        assert_eq!(l.dir(DEFERRED, &long), "deferred/A/B/C/");
        l.base = PathBuf::from("/q");
        assert_eq!(l.path(MAILDROP, "X1"), "/q/maildrop/X1");
    }

    #[test]
    fn create_write_finish() {
        let dir = scratch();
        let l = layout(&dir);
        let mut qf = QueueFile::create(&l, MAILDROP, 0o044).unwrap();
        let path = qf.path().to_string();
        assert_eq!(path, l.path(MAILDROP, qf.id()));
        let inum = std::fs::metadata(&path).unwrap().ino();
        assert!(qf.id().ends_with(&format!("{inum:X}")), "{}", qf.id());
        // Embryonic: not yet complete for readers.
        let mode = std::fs::metadata(&path).unwrap().mode() & 0o777;
        assert_eq!(mode & STAT_READY, 0o600);
        qf.write_all(b"hello").unwrap();
        qf.finish().unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o744);
        let mut text = String::new();
        File::open(&path)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "hello");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.join(MAILDROP)).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn long_ids_and_hashed_queues_get_their_subdirectories() {
        let dir = scratch();
        let mut l = layout(&dir);
        l.long_queue_ids = true;
        l.hash_queue_names.push(MAILDROP.into());
        l.hash_queue_depth = 2;
        let qf = QueueFile::create(&l, MAILDROP, 0).unwrap();
        assert!(long_id_separator(qf.id()).is_some(), "{}", qf.id());
        let path = qf.path().to_string();
        assert_eq!(
            path.matches('/').count(),
            dir.display().to_string().matches('/').count() + 4
        );
        assert!(Path::new(&path).exists());
        qf.abandon();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn abandon_writes_nothing_more() {
        let dir = scratch();
        let l = layout(&dir);
        let mut qf = QueueFile::create(&l, MAILDROP, 0).unwrap();
        qf.write_all(b"partial").unwrap();
        let path = qf.path().to_string();
        qf.abandon();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o700, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
