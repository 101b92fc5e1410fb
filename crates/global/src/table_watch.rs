//! Noticing that a table a daemon has open was rebuilt, so the daemon can restart.
//!
//! Postfix counterpart: `dict_changed_name()` in `util/dict.c`, used by proxymap,
//! trivial-rewrite and other long-running daemons. The files behind each watched table
//! (see `dict::table_files`) are remembered with their modification times; when one
//! differs, the daemon logs `table ... has changed -- restarting` and exits, and the master
//! starts a fresh process that reads the new content.

use std::path::PathBuf;
use std::time::SystemTime;

/// Watched tables and their files' modification times.
#[derive(Default)]
pub struct TableWatch {
    files: Vec<(String, PathBuf, Option<SystemTime>)>,
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl TableWatch {
    /// Starts watching the tables named in `tables` (`type:name` items, commas or spaces).
    pub fn watch(&mut self, tables: &str) {
        for table in util::tokens::split(tables, util::tokens::COMMA_SPACE) {
            for path in dict::table_files(table) {
                let time = modified(&path);
                self.files.push((table.to_string(), path, time));
            }
        }
    }

    /// The first watched table whose files changed.
    pub fn changed(&self) -> Option<&str> {
        self.files
            .iter()
            .find(|(_, path, time)| modified(path) != *time)
            .map(|(table, _, _)| table.as_str())
    }

    /// Exits (status 0, so the master does not count a failure) when a table changed.
    pub fn exit_if_changed(&self) {
        if let Some(table) = self.changed() {
            log::msg_info!("table {table} has changed -- restarting");
            std::process::exit(0);
        }
    }
}
