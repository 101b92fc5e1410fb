//! cleanup - canonicalizes and enqueues messages.
//!
//! Postfix counterpart: `cleanup/cleanup.c`. Every mail source (smtpd, pickup, bounce,
//! the local agent forwarding mail) hands a new message to this service. On each
//! connection cleanup creates a queue file in `incoming/` and sends its queue ID
//! (`protocol=cleanup_protocol`, `queue_id=...`), reads the client's `flags`, then the
//! message as records: envelope, `M`, content, `X`, extracted records, `E`. It writes the
//! queue file as the records arrive, in Postfix's format and order (envelope.rs,
//! message.rs, extracted.rs), commits it (api.rs), wakes the queue manager, and only then
//! answers `status` (0 or the `STAT_*` bits) and `reason`. A malformed stream is read to
//! its end before the answer, so that the client is ready to read it.
//!
//! master.cf: `cleanup unix n - y - 0 cleanup` (a single-client service without a
//! process limit).

mod act;
mod addr;
mod api;
mod bounce;
mod decision;
mod envelope;
mod extracted;
mod final_update;
mod incomplete;
mod init;
mod map11;
mod map1n;
mod mapping;
mod masquerade;
mod message;
mod out;
mod out_recipient;
mod rewrite;
mod state;
mod tables;
#[cfg(test)]
mod tests;
mod whatif;

use global::cleanup_user::STAT_BAD;
use global::record::{rec_get, rec_type};
use global::rewrite_clnt::RewriteClient;
use init::Settings;
use ipc::{Attrs, Flavor};
use server::single::Stream;
use state::{Handler, State};
use std::io::{BufReader, Read, Write};

/// The protocol cleanup announces.
const PROTOCOL: &str = "cleanup_protocol";

/// The longest record cleanup reads. Postfix relies on its clients for record limits;
/// this bound keeps a broken client from making cleanup hold an arbitrary amount of
/// memory. Text records are at most `line_length_limit` long; envelope records (an
/// address, an attribute) far shorter than this.
const RECORD_LIMIT: usize = 1 << 20;

fn main() {
    if let Some(query) = global::whatif::enter() {
        whatif::run(query);
    }
    log::set_fatal_cleanup(incomplete::remove);
    let mut daemon = server::Daemon::start(server::Requirements {
        unlimited: true,
        in_flow_delay: true,
        ..Default::default()
    });
    let settings =
        Settings::from_config(&daemon.config).unwrap_or_else(|e| global::fatal_config(e));
    let rewrite_settings = global::rewrite_clnt::Settings::from_config(&daemon.config)
        .unwrap_or_else(|e| global::fatal_config(e));
    let mut rewriter = RewriteClient::new(rewrite_settings);
    daemon.enter_jail();
    incomplete::remove_on_sigterm();
    server::single::serve(daemon, |_, stream| {
        cleanup_service(&settings, &mut rewriter, stream)
    })
}

/// One client, one message (`cleanup_service`).
fn cleanup_service(settings: &Settings, rewriter: &mut RewriteClient, stream: Stream) {
    if let Stream::Unix(socket) = &stream {
        let _ = socket.set_read_timeout(Some(settings.ipc_timeout));
        let _ = socket.set_write_timeout(Some(settings.ipc_timeout));
    }
    let file = api::open(settings).unwrap_or_else(|e| log::msg_fatal!("{e}"));
    incomplete::note(file.path());
    let queue_id = file.id().to_string();
    log::work::queue_id(&queue_id);
    let ctime = file.ctime().0;
    let mut client = BufReader::new(Watched {
        stream,
        timed_out: false,
    });
    let hello = Attrs::new()
        .str("protocol", PROTOCOL)
        .str("queue_id", &queue_id);
    let _ = ipc::attr::write(client.get_mut(), Flavor::Null, &hello)
        .and_then(|()| client.get_mut().flush());
    let mut state = State::new(settings, rewriter, file, &queue_id, ctime);
    match ipc::attr::read(&mut client, Flavor::Null) {
        Ok(Some(request)) if request.len() == 1 && request.get_int("flags").is_some() => {
            state.control(request.get_int("flags").unwrap_or(0) as u32);
        }
        _ => {
            state.errs |= STAT_BAD;
            state.control(0);
        }
    }
    let mut handler = Handler::Plain(state);
    read_message(&mut handler, &mut client);
    let state = handler.into_state();
    if client.get_ref().timed_out {
        log::msg_warn!("{queue_id}: read timeout on {PROTOCOL}");
    }
    let smtp_reply = state.flags & global::cleanup_user::FLAG_SMTP_REPLY != 0;
    let reason = match (smtp_reply, &state.smtp_reply, &state.reason) {
        (true, Some(reply), _) => reply.clone(),
        (_, _, Some(reason)) => reason.clone(),
        _ => String::new(),
    };
    let status = api::flush(state);
    let reply = Attrs::new()
        .int("status", status as i32)
        .str("reason", &reason);
    let _ = ipc::attr::write(client.get_mut(), Flavor::Null, &reply)
        .and_then(|()| client.get_mut().flush());
    // A rebuilt table: the next message goes to a fresh process that reads it (Postfix
    // checks before it accepts a connection, which comes to the same).
    settings.tables.watch.exit_if_changed();
}

/// The client connection, remembering whether a read ran into `ipc_timeout` (the record
/// reader sees only that the input ended).
struct Watched {
    stream: Stream,
    timed_out: bool,
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let got = self.stream.read(buf);
        if let Err(e) = &got
            && matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            )
        {
            self.timed_out = true;
        }
        got
    }
}

impl Write for Watched {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

/// Reads the records and hands them on while the message is still good; after a problem
/// reads on to the end, so that the client is ready for its answer.
fn read_message(handler: &mut Handler<'_, global::mail_queue::QueueFile>, client: &mut impl Read) {
    let mut buf = Vec::new();
    let mut last = None;
    while handler.state().out_ok() {
        let Ok(kind) = rec_get(client, &mut buf, RECORD_LIMIT) else {
            handler.state().errs |= STAT_BAD;
            return;
        };
        last = Some(kind);
        // Pointers and padding are the queue file's own business, never the client's.
        if kind == rec_type::PTR || kind == rec_type::DTXT {
            let state = handler.state();
            log::msg_warn!(
                "{}: record type {kind} not allowed - discarding this message",
                state.queue_id
            );
            state.errs |= STAT_BAD;
            break;
        }
        handler.record(kind, &mut buf);
        if kind == rec_type::END {
            return;
        }
    }
    if last.is_some_and(|k| k != rec_type::END) {
        while let Ok(kind) = rec_get(client, &mut buf, RECORD_LIMIT) {
            if kind == rec_type::END {
                break;
            }
        }
    }
}
