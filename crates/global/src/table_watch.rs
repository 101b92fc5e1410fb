//! Noticing that a table a daemon has open was rebuilt, so the daemon can restart.
//!
//! Postfix counterpart: `dict_changed_name()` in `util/dict.c`, used by proxymap,
//! trivial-rewrite and other long-running daemons. The files behind each watched table
//! (see `dict::table_files`) are opened when the daemon starts, before any chroot, and kept
//! open; the check asks `fstat` about the open descriptor, which works inside a jail where
//! the table's absolute path does not exist. A table changed when its file's modification
//! time differs, or when the file was removed or replaced (no links left to what we hold).
//! The daemon then logs `table ... has changed -- restarting` and exits, and the master
//! starts a fresh process that reads the new content.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::time::SystemTime;

/// One watched file: the table it belongs to, the open file (none when it could not be
/// opened: a table that appears later is not a change, as in Postfix) and its time.
struct Watched {
    table: String,
    file: Option<File>,
    modified: Option<SystemTime>,
}

/// Watched tables and their files' modification times.
#[derive(Default)]
pub struct TableWatch {
    files: Vec<Watched>,
}

impl Watched {
    fn changed(&self) -> bool {
        let Some(file) = &self.file else {
            return false;
        };
        match file.metadata() {
            Ok(meta) => meta.nlink() == 0 || meta.modified().ok() != self.modified,
            Err(_) => true,
        }
    }
}

impl TableWatch {
    /// Starts watching the tables named in `tables` (`type:name` items, commas or spaces).
    /// Call it before entering the chroot jail.
    pub fn watch(&mut self, tables: &str) {
        for table in util::tokens::split(tables, util::tokens::COMMA_SPACE) {
            for path in dict::table_files(table) {
                let file = File::open(&path).ok();
                let modified = file
                    .as_ref()
                    .and_then(|f| f.metadata().ok())
                    .and_then(|m| m.modified().ok());
                self.files.push(Watched {
                    table: table.to_string(),
                    file,
                    modified,
                });
            }
        }
    }

    /// The first watched table whose files changed.
    pub fn changed(&self) -> Option<&str> {
        self.files
            .iter()
            .find(|w| w.changed())
            .map(|w| w.table.as_str())
    }

    /// Exits (status 0, so the master does not count a failure) when a table changed.
    pub fn exit_if_changed(&self) {
        if let Some(table) = self.changed() {
            log::msg_info!("table {table} has changed -- restarting");
            std::process::exit(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn table(dir: &std::path::Path, text: &str) -> String {
        let path = dir.join("transport");
        std::fs::write(&path, text).unwrap();
        format!("texthash:{}", path.display())
    }

    #[test]
    fn an_untouched_table_has_not_changed() {
        let dir = tempdir();
        let mut watch = TableWatch::default();
        watch.watch(&table(&dir, "a b\n"));
        assert_eq!(watch.changed(), None);
    }

    #[test]
    fn a_table_rewritten_in_place_has_changed() {
        let dir = tempdir();
        let name = table(&dir, "a b\n");
        let mut watch = TableWatch::default();
        watch.watch(&name);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join("transport"))
            .unwrap();
        file.set_modified(SystemTime::now() + Duration::from_secs(5))
            .unwrap();
        assert_eq!(watch.changed(), Some(name.as_str()));
    }

    #[test]
    fn a_table_replaced_by_rename_has_changed() {
        let dir = tempdir();
        let name = table(&dir, "a b\n");
        let mut watch = TableWatch::default();
        watch.watch(&name);
        std::fs::write(dir.join("new"), "a c\n").unwrap();
        std::fs::rename(dir.join("new"), dir.join("transport")).unwrap();
        assert_eq!(watch.changed(), Some(name.as_str()));
    }

    #[test]
    fn a_table_whose_path_is_out_of_sight_has_not_changed() {
        // After a chroot the path does not resolve; the open descriptor still answers.
        let dir = tempdir();
        let name = table(&dir, "a b\n");
        let mut watch = TableWatch::default();
        watch.watch(&name);
        let hidden = TempDir(dir.with_extension("hidden"));
        std::fs::rename(&*dir, &*hidden).unwrap();
        assert_eq!(watch.changed(), None);
    }

    /// A scratch directory, removed with the value.
    struct TempDir(std::path::PathBuf);

    impl std::ops::Deref for TempDir {
        type Target = std::path::Path;
        fn deref(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tempdir() -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "table-watch-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}
