//! LMDB through the system's liblmdb, the library Postfix's `lmdb:` tables use.
//!
//! Postfix counterpart: `util/slmdb.c`. The file is opened as Postfix opens it: a single
//! file (`MDB_NOSUBDIR`) without LMDB's lock file (`MDB_NOLOCK`; callers lock the file
//! themselves), one unnamed database. Writes happen in one transaction; when the map is
//! too small the transaction is run again with a larger map, as slmdb does.

use std::ffi::{CStr, CString, c_char, c_int, c_uint, c_void};
use std::fmt;
use std::os::fd::{BorrowedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

#[repr(C)]
struct MdbEnv {
    _opaque: [u8; 0],
}

#[repr(C)]
struct MdbTxn {
    _opaque: [u8; 0],
}

#[repr(C)]
struct MdbCursor {
    _opaque: [u8; 0],
}

#[repr(C)]
struct MdbVal {
    size: usize,
    data: *mut c_void,
}

impl MdbVal {
    fn of(bytes: &[u8]) -> MdbVal {
        MdbVal {
            size: bytes.len(),
            data: bytes.as_ptr() as *mut c_void,
        }
    }

    fn empty() -> MdbVal {
        MdbVal {
            size: 0,
            data: std::ptr::null_mut(),
        }
    }

    /// Copies the bytes LMDB pointed at.
    ///
    /// # Safety
    /// `self` must have been filled in by LMDB within a transaction that is still open.
    unsafe fn to_vec(&self) -> Vec<u8> {
        if self.size == 0 {
            return Vec::new();
        }
        // SAFETY: per the contract, data points at `size` readable bytes in the live map.
        unsafe { std::slice::from_raw_parts(self.data as *const u8, self.size) }.to_vec()
    }
}

#[link(name = "lmdb")]
unsafe extern "C" {
    fn mdb_env_create(env: *mut *mut MdbEnv) -> c_int;
    fn mdb_env_set_mapsize(env: *mut MdbEnv, size: usize) -> c_int;
    fn mdb_env_open(env: *mut MdbEnv, path: *const c_char, flags: c_uint, mode: c_uint) -> c_int;
    fn mdb_env_close(env: *mut MdbEnv);
    fn mdb_env_get_fd(env: *mut MdbEnv, fd: *mut c_int) -> c_int;
    fn mdb_txn_begin(
        env: *mut MdbEnv,
        parent: *mut MdbTxn,
        flags: c_uint,
        txn: *mut *mut MdbTxn,
    ) -> c_int;
    fn mdb_txn_commit(txn: *mut MdbTxn) -> c_int;
    fn mdb_txn_abort(txn: *mut MdbTxn);
    fn mdb_dbi_open(
        txn: *mut MdbTxn,
        name: *const c_char,
        flags: c_uint,
        dbi: *mut c_uint,
    ) -> c_int;
    fn mdb_get(txn: *mut MdbTxn, dbi: c_uint, key: *mut MdbVal, data: *mut MdbVal) -> c_int;
    fn mdb_put(
        txn: *mut MdbTxn,
        dbi: c_uint,
        key: *mut MdbVal,
        data: *mut MdbVal,
        flags: c_uint,
    ) -> c_int;
    fn mdb_del(txn: *mut MdbTxn, dbi: c_uint, key: *mut MdbVal, data: *mut MdbVal) -> c_int;
    fn mdb_drop(txn: *mut MdbTxn, dbi: c_uint, del: c_int) -> c_int;
    fn mdb_cursor_open(txn: *mut MdbTxn, dbi: c_uint, cursor: *mut *mut MdbCursor) -> c_int;
    fn mdb_cursor_get(
        cursor: *mut MdbCursor,
        key: *mut MdbVal,
        data: *mut MdbVal,
        op: c_int,
    ) -> c_int;
    fn mdb_cursor_close(cursor: *mut MdbCursor);
    fn mdb_strerror(err: c_int) -> *const c_char;
}

const MDB_NOSUBDIR: c_uint = 0x4000;
const MDB_RDONLY: c_uint = 0x20000;
const MDB_NOLOCK: c_uint = 0x40_0000;
const MDB_NOOVERWRITE: c_uint = 0x10;
const MDB_CREATE: c_uint = 0x4_0000;
const MDB_KEYEXIST: c_int = -30799;
const MDB_NOTFOUND: c_int = -30798;
const MDB_MAP_FULL: c_int = -30792;
const MDB_MAP_RESIZED: c_int = -30785;
const MDB_FIRST: c_int = 0;
const MDB_NEXT: c_int = 8;

/// Largest map a write may grow to (Postfix's DICT_LMDB_SIZE_MAX is the address space; a
/// table this size is a mistake worth an error).
const MAP_SIZE_MAX: usize = 1 << 40;

/// A stored (key, value) pair.
pub type Entry = (Vec<u8>, Vec<u8>);

/// An LMDB error code; displays as `mdb_strerror` words it (errno text for system errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(pub i32);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: mdb_strerror returns a pointer to a static or strerror() string.
        let text = unsafe { CStr::from_ptr(mdb_strerror(self.0)) };
        f.write_str(&text.to_string_lossy())
    }
}

impl std::error::Error for Error {}

fn check(status: c_int) -> Result<(), Error> {
    if status == 0 {
        Ok(())
    } else {
        Err(Error(status))
    }
}

/// An open LMDB file.
pub struct Env {
    env: *mut MdbEnv,
    map_size: usize,
}

/// A write transaction on the file's database.
pub struct WriteTxn {
    txn: *mut MdbTxn,
    dbi: c_uint,
}

impl Env {
    /// Opens `path` (the whole file name, e.g. `table.lmdb`), read-only or for writing
    /// (created with `mode` when missing).
    pub fn open(path: &Path, read_only: bool, map_size: usize, mode: u32) -> Result<Env, Error> {
        let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| Error(libc::EINVAL))?;
        let mut env = std::ptr::null_mut();
        // SAFETY: mdb_env_create fills in a fresh handle or returns an error.
        check(unsafe { mdb_env_create(&mut env) })?;
        let opened = Env { env, map_size };
        // SAFETY: the handle is live and not yet opened, when the map size may be set.
        check(unsafe { mdb_env_set_mapsize(opened.env, map_size) })?;
        let mut flags = MDB_NOSUBDIR | MDB_NOLOCK;
        if read_only {
            flags |= MDB_RDONLY;
        }
        // SAFETY: live handle, NUL-terminated path. On failure the handle must still be
        // closed, which Drop does.
        check(unsafe { mdb_env_open(opened.env, c_path.as_ptr(), flags, mode) })?;
        Ok(opened)
    }

    /// The file descriptor of the data file, for fcntl locking as Postfix does.
    pub fn fd(&self) -> Result<BorrowedFd<'_>, Error> {
        let mut fd: RawFd = -1;
        // SAFETY: the handle is open; LMDB stores its descriptor in `fd`.
        check(unsafe { mdb_env_get_fd(self.env, &mut fd) })?;
        // SAFETY: the descriptor stays open for as long as the environment, which the
        // returned borrow cannot outlive.
        Ok(unsafe { BorrowedFd::borrow_raw(fd) })
    }

    /// Begins a transaction and opens the unnamed database in it.
    fn begin(&self, read_only: bool) -> Result<(*mut MdbTxn, c_uint), Error> {
        let flags = if read_only { MDB_RDONLY } else { 0 };
        let mut txn = std::ptr::null_mut();
        // SAFETY: live environment; no parent transaction.
        let mut status = unsafe { mdb_txn_begin(self.env, std::ptr::null_mut(), flags, &mut txn) };
        if status == MDB_MAP_RESIZED {
            // Another process grew the file: adopt its size (0 means "as the file says").
            // SAFETY: no transaction is active in this process.
            check(unsafe { mdb_env_set_mapsize(self.env, 0) })?;
            // SAFETY: as above.
            status = unsafe { mdb_txn_begin(self.env, std::ptr::null_mut(), flags, &mut txn) };
        }
        check(status)?;
        let mut dbi = 0;
        let db_flags = if read_only { 0 } else { MDB_CREATE };
        // SAFETY: live transaction; a null name is the unnamed database.
        if let Err(e) = check(unsafe { mdb_dbi_open(txn, std::ptr::null(), db_flags, &mut dbi) }) {
            // SAFETY: the transaction is live and is not used again.
            unsafe { mdb_txn_abort(txn) };
            return Err(e);
        }
        Ok((txn, dbi))
    }

    /// The value stored under exactly `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        let (txn, dbi) = self.begin(true)?;
        let mut k = MdbVal::of(key);
        let mut v = MdbVal::empty();
        // SAFETY: live read transaction; `k` points at `key` for the duration of the call.
        let status = unsafe { mdb_get(txn, dbi, &mut k, &mut v) };
        let result = match status {
            // SAFETY: `v` was filled by mdb_get and the transaction is still open.
            0 => Ok(Some(unsafe { v.to_vec() })),
            MDB_NOTFOUND => Ok(None),
            other => Err(Error(other)),
        };
        // SAFETY: ends the read transaction begun above.
        unsafe { mdb_txn_abort(txn) };
        result
    }

    /// Every (key, value) pair in key order.
    pub fn entries(&self) -> Result<Vec<Entry>, Error> {
        let (txn, dbi) = self.begin(true)?;
        let mut cursor = std::ptr::null_mut();
        // SAFETY: live transaction and database handle.
        if let Err(e) = check(unsafe { mdb_cursor_open(txn, dbi, &mut cursor) }) {
            // SAFETY: ends the transaction begun above.
            unsafe { mdb_txn_abort(txn) };
            return Err(e);
        }
        let mut out = Vec::new();
        let mut op = MDB_FIRST;
        let result = loop {
            let mut k = MdbVal::empty();
            let mut v = MdbVal::empty();
            // SAFETY: live cursor in a live transaction.
            match unsafe { mdb_cursor_get(cursor, &mut k, &mut v, op) } {
                // SAFETY: both values were filled in and the transaction is open.
                0 => out.push(unsafe { (k.to_vec(), v.to_vec()) }),
                MDB_NOTFOUND => break Ok(out),
                other => break Err(Error(other)),
            }
            op = MDB_NEXT;
        };
        // SAFETY: the cursor and then its transaction are closed once, here.
        unsafe {
            mdb_cursor_close(cursor);
            mdb_txn_abort(txn);
        }
        result
    }

    /// Runs `work` in one write transaction and commits it. When the map fills up, the
    /// transaction is dropped and `work` runs again with twice the map size.
    pub fn write<T>(
        &mut self,
        mut work: impl FnMut(&mut WriteTxn) -> Result<T, Error>,
    ) -> Result<T, Error> {
        loop {
            let (txn, dbi) = self.begin(false)?;
            let mut write = WriteTxn { txn, dbi };
            let outcome = match work(&mut write) {
                // SAFETY: commit ends the transaction whatever it returns.
                Ok(value) => check(unsafe { mdb_txn_commit(txn) }).map(|()| value),
                Err(e) => {
                    // SAFETY: the transaction is live and is not used again.
                    unsafe { mdb_txn_abort(txn) };
                    Err(e)
                }
            };
            match outcome {
                Err(Error(MDB_MAP_FULL)) if self.map_size < MAP_SIZE_MAX => {
                    self.map_size *= 2;
                    // SAFETY: no transaction is active now.
                    check(unsafe { mdb_env_set_mapsize(self.env, self.map_size) })?;
                }
                other => return other,
            }
        }
    }
}

impl WriteTxn {
    /// Stores `value` under `key`. Without `replace` an existing key is kept and the result
    /// is false.
    pub fn put(&mut self, key: &[u8], value: &[u8], replace: bool) -> Result<bool, Error> {
        let mut k = MdbVal::of(key);
        let mut v = MdbVal::of(value);
        let flags = if replace { 0 } else { MDB_NOOVERWRITE };
        // SAFETY: live write transaction; LMDB copies both values before returning.
        match unsafe { mdb_put(self.txn, self.dbi, &mut k, &mut v, flags) } {
            0 => Ok(true),
            MDB_KEYEXIST => Ok(false),
            other => Err(Error(other)),
        }
    }

    /// Deletes `key`; false when it was not there.
    pub fn delete(&mut self, key: &[u8]) -> Result<bool, Error> {
        let mut k = MdbVal::of(key);
        // SAFETY: live write transaction; a null data pointer deletes every value of the key.
        match unsafe { mdb_del(self.txn, self.dbi, &mut k, std::ptr::null_mut()) } {
            0 => Ok(true),
            MDB_NOTFOUND => Ok(false),
            other => Err(Error(other)),
        }
    }

    /// Empties the database (a rebuild starts from nothing, as `postmap` does).
    pub fn clear(&mut self) -> Result<(), Error> {
        // SAFETY: live write transaction; 0 empties the database without deleting it.
        check(unsafe { mdb_drop(self.txn, self.dbi, 0) })
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // SAFETY: no transaction outlives the methods above, so the handle can be closed.
        unsafe { mdb_env_close(self.env) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_reads_lists_and_grows_the_map() {
        let dir = std::env::temp_dir().join(format!("sys-lmdb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.lmdb");
        let _ = std::fs::remove_file(&path);
        // A map far too small for the data forces the grow-and-retry path.
        let mut env = Env::open(&path, false, 64 * 1024, 0o644).unwrap();
        let big = vec![b'x'; 1000];
        env.write(|txn| {
            txn.clear()?;
            for i in 0..500 {
                txn.put(format!("key{i:03}\0").as_bytes(), &big, false)?;
            }
            assert!(!txn.put(b"key000\0", b"other", false)?);
            Ok(())
        })
        .unwrap();
        drop(env);
        let env = Env::open(&path, true, 64 * 1024, 0).unwrap();
        assert_eq!(env.get(b"key007\0").unwrap(), Some(big.clone()));
        assert_eq!(env.get(b"key007").unwrap(), None);
        let entries = env.entries().unwrap();
        assert_eq!(entries.len(), 500);
        assert_eq!(entries[0].0, b"key000\0");
        drop(env);
        let mut env = Env::open(&path, false, 64 * 1024, 0o644).unwrap();
        assert!(env.write(|txn| txn.delete(b"key001\0")).unwrap());
        assert!(!env.write(|txn| txn.delete(b"key001\0")).unwrap());
        let missing = Env::open(&dir.join("none.lmdb"), true, 1 << 20, 0)
            .err()
            .unwrap();
        assert_eq!(missing.to_string(), "No such file or directory");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
