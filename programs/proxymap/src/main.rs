//! proxymap - look up tables on behalf of other processes.
//!
//! Postfix counterpart: `proxymap/proxymap.c`. A multi-client server: clients (smtpd,
//! cleanup, local, trivial-rewrite, `postmap -q ... proxy:type:name`) send `open`,
//! `lookup` and `sequence` requests naming a table, and proxymap answers from one shared
//! open copy, so a chrooted daemon can use tables outside its jail and many processes share
//! one connection to a database. Only tables that appear as `proxy:type:name` in
//! `proxy_read_maps` (for the proxywrite service, `proxy_write_maps`) are served; anything
//! else is refused with a warning that says which parameter to change. When a table file
//! changes, proxymap logs `table ... has changed -- restarting` and exits at the next
//! connection, so the master starts a fresh one that sees the new content.

mod approved;

use dict::proxy::status;
use dict::{Dict, DictError, Flags, dict_flags};
use ipc::{Attrs, Flavor, mail_attr};
use server::multi::{Client, Service};
use std::collections::HashMap;

/// One open table.
struct Open {
    dict: Box<dyn Dict>,
    /// The position of an ongoing `sequence` walk.
    cursor: Option<std::vec::IntoIter<(String, String)>>,
}

struct Proxymap {
    writer: bool,
    parameter: &'static str,
    approved: approved::Approved,
    tables: HashMap<String, Open>,
    watch: global::table_watch::TableWatch,
}

impl Proxymap {
    /// The open table for a request, opening it on first use; Err is the reply status.
    fn find(&mut self, table: &str, flags: u32) -> Result<&mut Open, i32> {
        let mut name = table;
        while let Some(inner) = name.strip_prefix("proxy:") {
            name = inner;
        }
        if !name.contains(':') {
            return Err(status::BAD);
        }
        if !self.approved.contains(name) {
            log::msg_warn!("request for unapproved table: \"{name}\"");
            log::msg_warn!(
                "to approve this table for {} access, list proxy:{name} in main.cf:{}",
                if self.writer {
                    "read-write"
                } else {
                    "read-only"
                },
                self.parameter
            );
            return Err(status::DENY);
        }
        let open_flags = Flags {
            fold_fix: flags & dict_flags::FOLD_FIX != 0,
            utf8: flags & dict_flags::UTF8_REQUEST != 0,
            ..Flags::default()
        };
        // One instance per table and flag combination, as Postfix keeps them.
        let key = format!(
            "{name}:{}",
            flags & !(dict_flags::IMPL_MASK | dict_flags::LOCK)
        );
        if !self.tables.contains_key(&key) {
            if log::verbose() > 0 {
                log::msg_info!("proxy_map_find: {key}");
            }
            let dict = dict::open(name, open_flags).map_err(|e| {
                log::msg_warn!("{e}");
                status::RETRY
            })?;
            self.watch.watch(name);
            self.tables.insert(key.clone(), Open { dict, cursor: None });
        }
        self.tables.get_mut(&key).ok_or(status::RETRY)
    }

    fn open(&mut self, request: &Attrs) -> Attrs {
        let (Ok(table), Some(flags)) = (
            request.get_str(mail_attr::TABLE),
            request.get_int(mail_attr::FLAGS),
        ) else {
            return Attrs::new()
                .int(mail_attr::STATUS, status::BAD)
                .int(mail_attr::FLAGS, 0);
        };
        match self.find(table, flags as u32) {
            Ok(open) => {
                let impl_flags = open.dict.impl_flags();
                Attrs::new()
                    .int(mail_attr::STATUS, status::OK)
                    .int(mail_attr::FLAGS, impl_flags as i32)
            }
            Err(code) => Attrs::new()
                .int(mail_attr::STATUS, code)
                .int(mail_attr::FLAGS, 0),
        }
    }

    fn lookup(&mut self, request: &Attrs) -> Attrs {
        let (Ok(table), Some(flags), Some(key)) = (
            request.get_str(mail_attr::TABLE),
            request.get_int(mail_attr::FLAGS),
            request.get_bytes(mail_attr::KEY),
        ) else {
            return Attrs::new()
                .int(mail_attr::STATUS, status::BAD)
                .str(mail_attr::VALUE, "");
        };
        let shown = String::from_utf8_lossy(key);
        let (code, value) = match (self.find(table, flags as u32), std::str::from_utf8(key)) {
            (Err(code), _) => (code, String::new()),
            // ironpost's tables hold text: an 8-bit key that is not UTF-8 is not in them.
            // Postfix says the same of a UTF-8 table (dict_utf8.c), in these words.
            (Ok(_), Err(_)) => {
                log::msg_warn!(
                    "{table}: non-UTF-8 key \"{shown}\": malformed UTF-8 or invalid codepoint"
                );
                (status::NOKEY, String::new())
            }
            (Ok(open), Ok(key)) => match open.dict.lookup(key) {
                Ok(Some(value)) => (status::OK, value),
                Ok(None) => (status::NOKEY, String::new()),
                Err(e) => {
                    log::msg_warn!("{e}");
                    // As Postfix's proxymap: a broken table configuration is CONFIG, any
                    // other failure RETRY.
                    let code = match e {
                        DictError::Config(_) => status::CONFIG,
                        DictError::Open(_) | DictError::Retry(_) => status::RETRY,
                    };
                    (code, String::new())
                }
            },
        };
        if log::verbose() > 0 {
            log::msg_info!("proxymap_lookup_service: {table}:{shown} -> {code}:{value}");
        }
        Attrs::new()
            .int(mail_attr::STATUS, code)
            .str(mail_attr::VALUE, &value)
    }

    fn sequence(&mut self, request: &Attrs) -> Attrs {
        let (Ok(table), Some(flags), Some(function)) = (
            request.get_str(mail_attr::TABLE),
            request.get_int(mail_attr::FLAGS),
            request.get_int(mail_attr::FUNC),
        ) else {
            return Attrs::new()
                .int(mail_attr::STATUS, status::BAD)
                .str(mail_attr::KEY, "")
                .str(mail_attr::VALUE, "");
        };
        let reply = |code, key: &str, value: &str| {
            Attrs::new()
                .int(mail_attr::STATUS, code)
                .str(mail_attr::KEY, key)
                .str(mail_attr::VALUE, value)
        };
        let open = match self.find(table, flags as u32) {
            Ok(open) => open,
            Err(code) => return reply(code, "", ""),
        };
        if function == 0 {
            match open.dict.entries() {
                Ok(Some(entries)) => open.cursor = Some(entries.into_iter()),
                Ok(None) => return reply(status::BAD, "", ""),
                // A table that cannot be read through is fatal, as in Postfix's dict_db.
                Err(e) => log::msg_fatal!("{e}"),
            }
        }
        match open.cursor.as_mut().and_then(Iterator::next) {
            Some((key, value)) => reply(status::OK, &key, &value),
            None => reply(status::NOKEY, "", ""),
        }
    }

    /// update and delete: ironpost's tables are written by postmap, not through proxywrite.
    fn refuse_write(&mut self, what: &str) -> Attrs {
        if self.writer {
            log::msg_warn!("{what} requests through proxywrite are not supported by ironpost");
        } else {
            log::msg_warn!("refusing proxy:{what} request on non-proxywrite service");
        }
        Attrs::new().int(mail_attr::STATUS, status::DENY)
    }
}

impl Service for Proxymap {
    fn connected(&mut self, _daemon: &mut server::Daemon, client: &mut Client) {
        if !self.writer {
            self.watch.exit_if_changed();
        }
        client.announce(Flavor::Null, mail_attr::PROTO_PROXYMAP);
    }

    fn request(&mut self, _daemon: &mut server::Daemon, client: &mut Client) -> bool {
        let Some(request) = client.receive(Flavor::Null) else {
            return false;
        };
        let reply = match request.get_str(mail_attr::REQ).unwrap_or_default() {
            "open" => self.open(&request),
            "lookup" => self.lookup(&request),
            "sequence" => self.sequence(&request),
            "update" => self.refuse_write("update"),
            "delete" => self.refuse_write("delete"),
            other => {
                log::msg_warn!("unrecognized request: \"{other}\", ignored");
                Attrs::new().int(mail_attr::STATUS, status::BAD)
            }
        };
        client.send(Flavor::Null, &reply)
    }
}

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements::default());
    use params::decl::proxymap as p;
    let text = |param| {
        daemon
            .config
            .str(param)
            .unwrap_or_else(|e| global::fatal_config(e))
    };
    let reader = text(&p::PROXYMAP_SERVICE_NAME);
    let writer = text(&p::PROXYWRITE_SERVICE_NAME);
    let is_writer = if daemon.service_name == writer {
        true
    } else if daemon.service_name == reader {
        false
    } else {
        log::msg_fatal!("service name must be one of {reader} or {writer}")
    };
    let parameter = if is_writer {
        &p::PROXY_WRITE_MAPS
    } else {
        &p::PROXY_READ_MAPS
    };
    let approved = approved::Approved::from_parameter(parameter.name, &text(parameter));
    daemon.enter_jail();
    server::multi::serve(
        daemon,
        Proxymap {
            writer: is_writer,
            parameter: parameter.name,
            approved,
            tables: HashMap::new(),
            watch: Default::default(),
        },
    )
}
