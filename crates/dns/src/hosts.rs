//! The hosts file, the first source the system consults for host names and addresses.
//!
//! Postfix counterpart: none; Postfix reaches /etc/hosts through `getaddrinfo()` and
//! `getnameinfo()` (the "files" source of nsswitch.conf). Each line is an address, its
//! canonical name and aliases; `#` starts a comment. A forward lookup collects the
//! addresses of every line that lists the name (in any case); a reverse lookup answers with
//! the canonical name of the first line with the address. [`HostsFile`] keeps the entries
//! of a file in memory and reads it again only when it changes, so that a daemon looks at
//! the file's time, not its text, for each client.

use std::cell::{Cell, RefCell};
use std::net::IpAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::SystemTime;

/// A bound on how much of a system file is read, against a runaway file.
const MAX_BYTES: u64 = 4 << 20;

/// The entries of a hosts file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    entries: Vec<(IpAddr, Vec<String>)>,
}

impl Hosts {
    /// Where the system keeps the file.
    pub const PATH: &'static str = "/etc/hosts";

    /// The entries of the file at `path`; none when it cannot be read.
    pub fn from_file(path: &Path) -> Hosts {
        Hosts::parse(&read_bounded(path))
    }

    /// The entries in `text`.
    pub fn parse(text: &str) -> Hosts {
        let entries = text
            .lines()
            .filter_map(|line| {
                let line = line.split('#').next().unwrap_or_default();
                let mut fields = line.split_whitespace();
                let addr = fields.next()?.parse().ok()?;
                let names: Vec<String> = fields.map(str::to_string).collect();
                (!names.is_empty()).then_some((addr, names))
            })
            .collect();
        Hosts { entries }
    }

    /// Every address listed for `name` that `wanted` accepts, in file order.
    pub fn addrs(&self, name: &str, wanted: impl Fn(&IpAddr) -> bool) -> Vec<IpAddr> {
        self.entries
            .iter()
            .filter(|(addr, names)| {
                wanted(addr) && names.iter().any(|n| n.eq_ignore_ascii_case(name))
            })
            .map(|(addr, _)| *addr)
            .collect()
    }

    /// The canonical name of the first line with `addr`.
    pub fn name(&self, addr: IpAddr) -> Option<&str> {
        self.entries
            .iter()
            .find(|(a, _)| *a == addr)
            .and_then(|(_, names)| names.first())
            .map(String::as_str)
    }
}

/// A hosts file's entries as last read, read again when the file changes (its time, size
/// or inode), so that an edit is seen by the next lookup without rereading the file for
/// every one.
#[derive(Debug)]
pub struct HostsFile {
    path: PathBuf,
    stamp: Cell<Option<Stamp>>,
    hosts: RefCell<Rc<Hosts>>,
}

impl HostsFile {
    /// The file at `path`, read now.
    pub fn new(path: &Path) -> HostsFile {
        HostsFile {
            path: path.to_path_buf(),
            stamp: Cell::new(stamp(path)),
            hosts: RefCell::new(Rc::new(Hosts::from_file(path))),
        }
    }

    /// The system's hosts file ([`Hosts::PATH`]), one per thread, read at its first use
    /// (after a daemon's chroot, so that it is the jail's copy, as with the C library).
    pub fn system() -> Rc<HostsFile> {
        thread_local! {
            static SYSTEM: Rc<HostsFile> = Rc::new(HostsFile::new(Path::new(Hosts::PATH)));
        }
        SYSTEM.with(Rc::clone)
    }

    /// The entries as the file has them now: those in memory unless the file changed.
    pub fn current(&self) -> Rc<Hosts> {
        let now = stamp(&self.path);
        if now != self.stamp.get() {
            self.stamp.set(now);
            self.hosts.replace(Rc::new(Hosts::from_file(&self.path)));
        }
        Rc::clone(&self.hosts.borrow())
    }
}

/// Modification time, size and inode: what tells a changed (or replaced) file.
pub(crate) type Stamp = (SystemTime, u64, u64);

/// The stamp of the file at `path`; None when it cannot be looked at.
pub(crate) fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len(), meta.ino()))
}

/// The text of a system file, at most 4 MiB of it; empty when it cannot be read (a
/// missing file means defaults). Bytes that are not UTF-8 end the text.
pub(crate) fn read_bounded(path: &Path) -> String {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(MAX_BYTES).read_to_end(&mut bytes);
    }
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_reverse() {
        let hosts = Hosts::parse(
            "127.0.0.1 localhost # loopback\n::1 localhost ip6-localhost\n\
             192.0.2.1 mail.example.com mail\n192.0.2.2 Mail.Example.com\nbogus line\n",
        );
        let any = |_: &IpAddr| true;
        assert_eq!(hosts.addrs("MAIL.example.com", any).len(), 2);
        assert_eq!(
            hosts.addrs("localhost", IpAddr::is_ipv6),
            ["::1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            hosts.name("192.0.2.1".parse().unwrap()),
            Some("mail.example.com")
        );
        assert_eq!(hosts.name("192.0.2.9".parse().unwrap()), None);
    }

    #[test]
    fn hosts_file_is_read_again_when_it_changes() {
        let dir = std::env::temp_dir().join(format!("dns-hosts-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hosts");
        std::fs::write(&path, "192.0.2.1 one.example\n").unwrap();
        let file = HostsFile::new(&path);
        let first = file.current();
        assert_eq!(
            first.name("192.0.2.1".parse().unwrap()),
            Some("one.example")
        );
        // Unchanged: the same entries, not a new copy.
        assert!(Rc::ptr_eq(&first, &file.current()));
        std::fs::write(&path, "192.0.2.1 two.example\n192.0.2.2 more.example\n").unwrap();
        let second = file.current();
        assert_eq!(
            second.name("192.0.2.1".parse().unwrap()),
            Some("two.example")
        );
        // Replaced by another file of the same size: the inode tells.
        let other = dir.join("hosts.new");
        std::fs::write(&other, "192.0.2.1 six.example\n192.0.2.2 more.example\n").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(
            file.current().name("192.0.2.1".parse().unwrap()),
            Some("six.example")
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(file.current().name("192.0.2.1".parse().unwrap()), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
