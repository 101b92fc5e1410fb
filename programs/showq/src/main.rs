//! showq - lists the mail queue for postqueue -p and -j (and mailq).
//!
//! Postfix counterpart: `showq/showq.c` (3.7). A single-client server on
//! `public/$showq_service_name`: for each client it announces
//! `protocol=mail_queue_list_protocol`, then walks the maildrop, active, incoming, deferred
//! and hold queues in that order and, for each complete queue file, sends its queue, ID,
//! arrival time, size, forced-expire mark and sender, then its recipients, each with the
//! reason it was deferred: the recipients of the defer log (`defer/ID`) come first, with
//! their reasons, then those of the queue file that the defer log did not name, with an
//! empty reason. Each message ends with an empty attribute list, the listing with another.
//! The per-message and per-recipient lists are sent without a terminator (Postfix's
//! `ATTR_FLAG_MORE`), which is what postqueue's reader expects.
//!
//! When the mail system is down, postqueue runs `showq -u -S` itself as root; `-S` serves
//! that one client on standard input and output.

mod defer_log;
mod report;

use params::decl::address::EMPTY_ADDRESS_RECIPIENT;
use params::decl::cleanup::DUPLICATE_FILTER_LIMIT;
use params::decl::identity::SMTPUTF8_ENABLE;
use report::Settings;
use std::io::{BufWriter, Write};

/// The queues listed, in Postfix's order; the maildrop queue is never hashed.
const QUEUES: [(&str, bool); 5] = [
    (global::mail_queue::MAILDROP, false),
    (global::mail_queue::ACTIVE, true),
    (global::mail_queue::INCOMING, true),
    (global::mail_queue::DEFERRED, true),
    (global::mail_queue::HOLD, true),
];

/// Serves one client: the whole listing.
fn showq_service(settings: &Settings, out: &mut impl Write) -> std::io::Result<()> {
    report::put_attrs(
        out,
        &[(
            ipc::mail_attr::PROTO,
            b"mail_queue_list_protocol".as_slice(),
        )],
    )?;
    report::put_end(out)?;
    for (queue, hashed) in QUEUES {
        let ids = if hashed {
            global::queue_read::scan_queue(queue)
        } else {
            global::queue_read::scan_flat(queue)
        };
        let mut saved_id: Option<&str> = None;
        for id in &ids {
            // A readdir that returns the same name twice running would loop forever.
            if saved_id == Some(id.as_str()) {
                log::msg_warn!("readdir loop on queue {queue} id {id}");
                break;
            }
            saved_id = Some(id);
            if !global::mail_queue::id_ok(id) {
                continue;
            }
            let path = settings.layout.path(queue, id);
            let Some(meta) = global::queue_read::open_ok(&path) else {
                continue;
            };
            match std::fs::File::open(&path) {
                Ok(file) => report::showq_report(settings, out, queue, id, file, &meta)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => log::msg_warn!("open {queue} {id}: {}", sys::os_error(&e)),
            }
            out.flush()?;
        }
    }
    report::put_end(out)?;
    out.flush()
}

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements::default());
    let config = &daemon.config;
    let settings = Settings {
        empty_address: config
            .str(&EMPTY_ADDRESS_RECIPIENT)
            .unwrap_or_else(|e| global::fatal_config(e)),
        dup_filter_limit: config
            .int(&DUPLICATE_FILTER_LIMIT)
            .unwrap_or_else(|e| global::fatal_config(e))
            .max(0) as usize,
        utf8: config
            .bool(&SMTPUTF8_ENABLE)
            .unwrap_or_else(|e| global::fatal_config(e)),
        layout: global::mail_queue::Layout::from_config(config)
            .unwrap_or_else(|e| global::fatal_config(e)),
    };
    daemon.enter_jail();
    server::single::serve(daemon, move |_daemon, stream| {
        let mut out = BufWriter::new(stream);
        // A client that goes away early (postqueue -p | head) is no error.
        let _ = showq_service(&settings, &mut out);
    })
}
