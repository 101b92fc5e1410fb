//! Berkeley DB hash files through libdb's ndbm interface, the files of Postfix's `hash:`
//! tables (`/etc/aliases.db`, `/etc/postfix/transport.db`...).
//!
//! Postfix counterpart: `util/dict_db.c`, which calls libdb's native API. The ndbm
//! interface of the same library opens the same kind of file (`name.db`, DB_HASH) with
//! plain C calls, so a table written by either side reads on the other. Callers lock the
//! file themselves (flock on `name.db`, as Postfix does).

use std::ffi::{CString, c_char, c_int};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

#[repr(C)]
struct Dbm {
    _opaque: [u8; 0],
}

/// libdb's ndbm datum on Linux: a pointer and an int length.
#[repr(C)]
struct Datum {
    ptr: *mut c_char,
    size: c_int,
}

impl Datum {
    fn of(bytes: &[u8]) -> io::Result<Datum> {
        let size =
            c_int::try_from(bytes.len()).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
        Ok(Datum {
            ptr: bytes.as_ptr() as *mut c_char,
            size,
        })
    }

    /// Copies the bytes libdb returned, or None for its "no datum" answer.
    ///
    /// # Safety
    /// `self` must come from libdb, before the next call on the same handle.
    unsafe fn to_vec(&self) -> Option<Vec<u8>> {
        if self.ptr.is_null() {
            return None;
        }
        let len = usize::try_from(self.size).unwrap_or(0);
        if len == 0 {
            return Some(Vec::new());
        }
        // SAFETY: per the contract, ptr points at `size` bytes owned by the handle.
        Some(unsafe { std::slice::from_raw_parts(self.ptr as *const u8, len) }.to_vec())
    }
}

#[link(name = "db")]
unsafe extern "C" {
    fn __db_ndbm_open(file: *const c_char, flags: c_int, mode: c_int) -> *mut Dbm;
    fn __db_ndbm_close(db: *mut Dbm);
    fn __db_ndbm_fetch(db: *mut Dbm, key: Datum) -> Datum;
    fn __db_ndbm_store(db: *mut Dbm, key: Datum, value: Datum, flags: c_int) -> c_int;
    fn __db_ndbm_delete(db: *mut Dbm, key: Datum) -> c_int;
    fn __db_ndbm_firstkey(db: *mut Dbm) -> Datum;
    fn __db_ndbm_nextkey(db: *mut Dbm) -> Datum;
    fn __db_ndbm_error(db: *mut Dbm) -> c_int;
    fn __db_ndbm_clearerr(db: *mut Dbm) -> c_int;
}

const DBM_INSERT: c_int = 0;
const DBM_REPLACE: c_int = 1;

/// How to open a hash file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Lookups only.
    Read,
    /// Lookups and updates of an existing file.
    Update,
    /// Create the file, or empty an existing one.
    Rebuild,
}

/// An open `name.db` hash file.
pub struct HashFile {
    db: *mut Dbm,
}

impl HashFile {
    /// Opens `name.db` (`name` without the suffix, which libdb adds).
    pub fn open(name: &Path, mode: Mode, permissions: u32) -> io::Result<HashFile> {
        let c_name = CString::new(name.as_os_str().as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let flags = match mode {
            Mode::Read => libc::O_RDONLY,
            Mode::Update => libc::O_RDWR,
            Mode::Rebuild => libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC,
        };
        let permissions = c_int::try_from(permissions).unwrap_or(0o644);
        // SAFETY: NUL-terminated name; libdb returns a handle or null with errno set.
        let db = unsafe { __db_ndbm_open(c_name.as_ptr(), flags, permissions) };
        if db.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(HashFile { db })
    }

    /// The error of the last call, when libdb flagged one, cleared for the next call.
    fn failed(&self) -> Option<io::Error> {
        let error = io::Error::last_os_error();
        // SAFETY: live handle.
        if unsafe { __db_ndbm_error(self.db) } == 0 {
            return None;
        }
        // SAFETY: live handle.
        unsafe { __db_ndbm_clearerr(self.db) };
        Some(error)
    }

    /// The value stored under exactly `key`.
    pub fn get(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        // SAFETY: live handle; the key datum points at `key` for the duration of the call.
        let value = unsafe { __db_ndbm_fetch(self.db, Datum::of(key)?) };
        // SAFETY: fresh datum from libdb, copied before the next call.
        match unsafe { value.to_vec() } {
            Some(bytes) => Ok(Some(bytes)),
            None => self.failed().map_or(Ok(None), Err),
        }
    }

    /// Stores `value` under `key`. Without `replace` an existing key is kept and the
    /// result is false.
    pub fn put(&mut self, key: &[u8], value: &[u8], replace: bool) -> io::Result<bool> {
        let flags = if replace { DBM_REPLACE } else { DBM_INSERT };
        // SAFETY: live handle; libdb copies both datums before returning.
        match unsafe { __db_ndbm_store(self.db, Datum::of(key)?, Datum::of(value)?, flags) } {
            0 => Ok(true),
            1 => Ok(false),
            _ => Err(self.failed().unwrap_or_else(io::Error::last_os_error)),
        }
    }

    /// Deletes `key`; false when it was not there.
    pub fn delete(&mut self, key: &[u8]) -> io::Result<bool> {
        // SAFETY: live handle; the key datum is valid for the call.
        if unsafe { __db_ndbm_delete(self.db, Datum::of(key)?) } == 0 {
            return Ok(true);
        }
        match self.failed() {
            Some(error) => Err(error),
            None => Ok(false),
        }
    }

    /// Every (key, value) pair, in the file's order.
    pub fn entries(&self) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        // SAFETY: live handle; the datum is copied before the next call on it.
        let mut key = unsafe { __db_ndbm_firstkey(self.db).to_vec() };
        while let Some(k) = key {
            let value = self.get(&k)?.unwrap_or_default();
            out.push((k, value));
            // SAFETY: live handle; the fetch above put the cursor on this key, so the next
            // key follows it; the datum is copied at once.
            key = unsafe { __db_ndbm_nextkey(self.db).to_vec() };
        }
        match self.failed() {
            Some(error) => Err(error),
            None => Ok(out),
        }
    }
}

impl Drop for HashFile {
    fn drop(&mut self) {
        // SAFETY: the handle is closed once; closing flushes and syncs the file.
        unsafe { __db_ndbm_close(self.db) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_reads_lists_and_deletes() {
        let dir = std::env::temp_dir().join(format!("sys-ndbm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let name = dir.join("t");
        let mut db = HashFile::open(&name, Mode::Rebuild, 0o644).unwrap();
        for i in 0..300 {
            assert!(
                db.put(format!("key{i}\0").as_bytes(), b"value\0", false)
                    .unwrap()
            );
        }
        assert!(!db.put(b"key1\0", b"other\0", false).unwrap());
        assert!(db.put(b"key2\0", b"new\0", true).unwrap());
        drop(db);
        assert!(dir.join("t.db").exists());
        let db = HashFile::open(&name, Mode::Read, 0).unwrap();
        assert_eq!(db.get(b"key1\0").unwrap(), Some(b"value\0".to_vec()));
        assert_eq!(db.get(b"key2\0").unwrap(), Some(b"new\0".to_vec()));
        assert_eq!(db.get(b"key1").unwrap(), None);
        assert_eq!(db.entries().unwrap().len(), 300);
        drop(db);
        let mut db = HashFile::open(&name, Mode::Update, 0).unwrap();
        assert!(db.delete(b"key3\0").unwrap());
        assert!(!db.delete(b"key3\0").unwrap());
        let missing = HashFile::open(&dir.join("none"), Mode::Read, 0)
            .err()
            .unwrap();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
