//! Berkeley DB files through libdb's DB 1.85 interface: the `name.db` files of Postfix's
//! `hash:` and `btree:` tables (`/etc/aliases.db`, `/etc/postfix/transport.db`...).
//!
//! Postfix counterpart: `util/dict_db.c`, which calls libdb's native API. The 1.85
//! interface of the same library (`dbopen`) opens the same files, DB_HASH or DB_BTREE, in
//! the current format, through a handle of six function pointers whose layout has not
//! changed since 1.85, so a table written by either side reads on the other. Callers lock
//! the file themselves (flock on `name.db`, as Postfix does).

use std::ffi::{CString, c_int, c_uint, c_void};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// DB 1.85's key/data pair.
#[repr(C)]
struct Dbt {
    data: *mut c_void,
    size: usize,
}

impl Dbt {
    fn of(bytes: &[u8]) -> Dbt {
        Dbt {
            data: bytes.as_ptr() as *mut c_void,
            size: bytes.len(),
        }
    }

    fn empty() -> Dbt {
        Dbt {
            data: std::ptr::null_mut(),
            size: 0,
        }
    }

    /// Copies the bytes libdb returned.
    ///
    /// # Safety
    /// `self` must come from libdb, before the next call on the same handle.
    unsafe fn to_vec(&self) -> Vec<u8> {
        if self.data.is_null() || self.size == 0 {
            return Vec::new();
        }
        // SAFETY: per the contract, data points at `size` bytes owned by the handle.
        unsafe { std::slice::from_raw_parts(self.data as *const u8, self.size) }.to_vec()
    }
}

/// DB 1.85's handle: the access method and its operations.
#[repr(C)]
struct Db {
    kind: c_int,
    close: unsafe extern "C" fn(*mut Db) -> c_int,
    del: unsafe extern "C" fn(*const Db, *const Dbt, c_uint) -> c_int,
    get: unsafe extern "C" fn(*const Db, *const Dbt, *mut Dbt, c_uint) -> c_int,
    put: unsafe extern "C" fn(*const Db, *mut Dbt, *const Dbt, c_uint) -> c_int,
    seq: unsafe extern "C" fn(*const Db, *mut Dbt, *mut Dbt, c_uint) -> c_int,
    sync: unsafe extern "C" fn(*const Db, c_uint) -> c_int,
    internal: *mut c_void,
    fd: unsafe extern "C" fn(*const Db) -> c_int,
}

#[link(name = "db")]
unsafe extern "C" {
    fn __db185_open(
        file: *const std::ffi::c_char,
        flags: c_int,
        mode: c_int,
        kind: c_int,
        info: *const c_void,
    ) -> *mut Db;
}

const R_FIRST: c_uint = 3;
const R_NEXT: c_uint = 7;
const R_NOOVERWRITE: c_uint = 8;

/// The two access methods Postfix uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// DB_BTREE (`btree:`).
    Btree = 0,
    /// DB_HASH (`hash:`).
    Hash = 1,
}

/// How to open a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Lookups only.
    Read,
    /// Lookups and updates of an existing file.
    Update,
    /// Create the file, or empty an existing one.
    Rebuild,
}

/// An open Berkeley DB file.
pub struct BerkeleyFile {
    db: *mut Db,
}

/// The outcome of a libdb call: 0 done, 1 "no such key" (or "key exists"), -1 error.
fn status(rc: c_int) -> io::Result<bool> {
    match rc {
        0 => Ok(true),
        1 => Ok(false),
        _ => Err(io::Error::last_os_error()),
    }
}

impl BerkeleyFile {
    /// Opens `path` (the whole file name, e.g. `aliases.db`).
    pub fn open(path: &Path, kind: Kind, mode: Mode, permissions: u32) -> io::Result<BerkeleyFile> {
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let flags = match mode {
            Mode::Read => libc::O_RDONLY,
            Mode::Update => libc::O_RDWR,
            Mode::Rebuild => libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC,
        };
        let permissions = c_int::try_from(permissions).unwrap_or(0o644);
        // SAFETY: NUL-terminated path; no open info (the method's defaults); libdb returns
        // a handle or null with errno set.
        let db = unsafe {
            __db185_open(
                c_path.as_ptr(),
                flags,
                permissions,
                kind as c_int,
                std::ptr::null(),
            )
        };
        if db.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(BerkeleyFile { db })
    }

    /// The value stored under exactly `key`.
    pub fn get(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        let k = Dbt::of(key);
        let mut v = Dbt::empty();
        // SAFETY: live handle; its get method; `k` points at `key` for the call.
        let rc = unsafe { ((*self.db).get)(self.db, &k, &mut v, 0) };
        // SAFETY: `v` was filled by the call just made, copied before any other call.
        Ok(status(rc)?.then(|| unsafe { v.to_vec() }))
    }

    /// Stores `value` under `key`. Without `replace` an existing key is kept and the
    /// result is false.
    pub fn put(&mut self, key: &[u8], value: &[u8], replace: bool) -> io::Result<bool> {
        let mut k = Dbt::of(key);
        let v = Dbt::of(value);
        let flags = if replace { 0 } else { R_NOOVERWRITE };
        // SAFETY: live handle; libdb copies both pairs before returning.
        status(unsafe { ((*self.db).put)(self.db, &mut k, &v, flags) })
    }

    /// Deletes `key`; false when it was not there.
    pub fn delete(&mut self, key: &[u8]) -> io::Result<bool> {
        let k = Dbt::of(key);
        // SAFETY: live handle; the key is valid for the call.
        status(unsafe { ((*self.db).del)(self.db, &k, 0) })
    }

    /// Every (key, value) pair, in the file's order.
    pub fn entries(&self) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        let mut how = R_FIRST;
        loop {
            let mut k = Dbt::empty();
            let mut v = Dbt::empty();
            // SAFETY: live handle; the pairs are filled in and copied before the next call.
            let rc = unsafe { ((*self.db).seq)(self.db, &mut k, &mut v, how) };
            if !status(rc)? {
                return Ok(out);
            }
            // SAFETY: both pairs were filled by the call just made.
            out.push(unsafe { (k.to_vec(), v.to_vec()) });
            how = R_NEXT;
        }
    }

    /// Flushes what was written to the file, with fsync.
    pub fn sync(&mut self) -> io::Result<()> {
        // SAFETY: live handle.
        status(unsafe { ((*self.db).sync)(self.db, 0) }).map(|_| ())
    }
}

impl Drop for BerkeleyFile {
    fn drop(&mut self) {
        // SAFETY: the handle is closed once; closing flushes the file.
        unsafe { ((*self.db).close)(self.db) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_reads_lists_and_deletes_both_kinds() {
        let dir = std::env::temp_dir().join(format!("sys-db185-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for kind in [Kind::Hash, Kind::Btree] {
            let path = dir.join(format!("t-{kind:?}.db"));
            let mut db = BerkeleyFile::open(&path, kind, Mode::Rebuild, 0o644).unwrap();
            for i in 0..300 {
                assert!(
                    db.put(format!("key{i:03}\0").as_bytes(), b"value\0", false)
                        .unwrap()
                );
            }
            assert!(!db.put(b"key001\0", b"other\0", false).unwrap());
            assert!(db.put(b"key002\0", b"new\0", true).unwrap());
            db.sync().unwrap();
            drop(db);
            let db = BerkeleyFile::open(&path, kind, Mode::Read, 0).unwrap();
            assert_eq!(db.get(b"key001\0").unwrap(), Some(b"value\0".to_vec()));
            assert_eq!(db.get(b"key002\0").unwrap(), Some(b"new\0".to_vec()));
            assert_eq!(db.get(b"key001").unwrap(), None);
            let entries = db.entries().unwrap();
            assert_eq!(entries.len(), 300);
            if kind == Kind::Btree {
                assert_eq!(entries[0].0, b"key000\0");
            }
            drop(db);
            let mut db = BerkeleyFile::open(&path, kind, Mode::Update, 0).unwrap();
            assert!(db.delete(b"key003\0").unwrap());
            assert!(!db.delete(b"key003\0").unwrap());
        }
        let missing = BerkeleyFile::open(&dir.join("none.db"), Kind::Hash, Mode::Read, 0);
        assert_eq!(missing.err().unwrap().kind(), io::ErrorKind::NotFound);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
