//! What-if mode (`local -W recipient=... [sender=...]`): where the local delivery agent
//! would deliver a recipient (aliases, .forward files, :include: files, mailbox, file,
//! command, forwarding), without delivering.
//!
//! Postfix counterpart: none (see global::whatif); the same answers as a `sendmail -bv`
//! probe, without the probe's message and report. The request is one the queue manager
//! could send: a user's address probe (`DEL_REQ_FLAG_USR_VRFY`), for which the agent
//! expands everything and delivers nothing, reporting each final destination to the
//! trace service. It is read by the same `deliver_request_read` from a queue file of its
//! own in a scratch directory (never the mail queue, where the queue manager would find
//! it) and handed to the same `local_deliver` that `main` serves; the trace service is a
//! stand-in on a socket in that directory, which answers "done" and writes each report as
//! a `kind=local` answer. The agent's own log line for each (`status=deliverable
//! (delivers to mailbox)`) comes out as a log answer.

use crate::settings::{Settings, Tables};
use global::bounce::PROTO_BOUNCE;
use global::deliver_request::{DEL_REQ_FLAG_USR_VRFY, Incoming, RequestHead};
use global::msg_stats::MsgStats;
use global::rcpt_print::{Recipient, rcpt_print};
use global::record::{rec_put, rec_type};
use global::rewrite_clnt::RewriteClient;
use global::whatif::{WhatIf, emit, finish};
use ipc::{Attrs, Flavor};
use std::io::{BufRead, BufReader, Cursor, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

/// The queue ID of the what-if request.
const QUEUE_ID: &str = "WHATIF0";

/// Answers the question and exits: 0 when every destination is deliverable, 2 otherwise.
pub fn run(query: WhatIf) -> ! {
    let recipients = query.all("recipient");
    if recipients.is_empty() {
        log::msg_fatal!("what-if: recipient=... is required");
    }
    let sender = query.arg("sender").unwrap_or("");
    let mut settings =
        Settings::from_config(&query.config).unwrap_or_else(|e| log::msg_fatal!("{e}"));
    settings.pre_init();
    let tables = Tables::open(&query.config);
    let rewrite = global::rewrite_clnt::Settings::from_config(&query.config)
        .unwrap_or_else(|e| global::fatal_config(e));
    let mut rewriter = RewriteClient::new(rewrite);

    let scratch = std::env::temp_dir().join(format!("ironpost-whatif-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let setup = || -> std::io::Result<()> {
        std::fs::create_dir_all(scratch.join("active"))?;
        std::fs::create_dir_all(scratch.join("private"))?;
        std::fs::set_permissions(&scratch, std::fs::Permissions::from_mode(0o700))
    };
    if let Err(e) = setup() {
        log::msg_fatal!("{}: {}", scratch.display(), sys::os_error(&e));
    }
    let trace = stand_in_trace_service(&scratch);
    settings.status.private_dir = scratch.join("private").display().to_string();
    settings.layout.base = scratch.clone();
    let data_offset = queue_file(&scratch, sender, &recipients);

    let now = global::msg_stats::now();
    let stats = MsgStats {
        incoming_arrival: now,
        active_arrival: now,
        ..MsgStats::default()
    };
    let hostname = query
        .config
        .str(&params::decl::identity::MYHOSTNAME)
        .unwrap_or_default();
    let head = RequestHead {
        flags: DEL_REQ_FLAG_USR_VRFY,
        queue_name: "active",
        queue_id: QUEUE_ID,
        data_offset,
        data_size: 0,
        nexthop: &hostname,
        encoding: "",
        smtputf8: 0,
        sender,
        dsn_envid: "",
        dsn_ret: 0,
        msg_stats: &stats,
        client_name: "",
        client_addr: "",
        client_port: "",
        client_proto: "",
        client_helo: "",
        sasl_method: "",
        sasl_username: "",
        sasl_sender: "",
        log_ident: QUEUE_ID,
        rewrite_context: global::rewrite_clnt::RULE_LOCAL,
        rcpt_count: recipients.len() as i32,
    };
    let mut request = Vec::new();
    let mut lists = vec![head.attrs()];
    for address in &recipients {
        let rcpt = Recipient {
            offset: 0,
            dsn_orcpt: String::new(),
            dsn_notify: 0,
            orig_addr: address.to_string(),
            address: address.to_string(),
        };
        lists.push(rcpt_print(Attrs::new(), &rcpt));
    }
    for list in &lists {
        if ipc::attr::write(&mut request, Flavor::Null, list).is_err() {
            log::msg_fatal!("what-if: cannot build the request");
        }
    }
    let mut stream = Exchange {
        input: Cursor::new(request),
        output: Vec::new(),
    };
    let status = match global::deliver_request::deliver_request_read(&mut stream, &settings.layout)
    {
        Incoming::Request(request) => {
            let service = query.config.process_name.clone();
            crate::local_deliver(&settings, &tables, &mut rewriter, &request, &service)
        }
        _ => -1,
    };
    drop(trace);
    let _ = std::fs::remove_dir_all(&scratch);
    finish(if status == 0 { 0 } else { 2 })
}

/// Writes the queue file of the request: the envelope and an empty message; the offset
/// of the message content.
fn queue_file(scratch: &Path, sender: &str, recipients: &[&str]) -> i64 {
    let mut file = Vec::new();
    let mut put = |kind: u8, data: &str| {
        let _ = rec_put(&mut file, kind, data.as_bytes());
    };
    put(rec_type::FROM, sender);
    for rcpt in recipients {
        put(rec_type::RCPT, rcpt);
    }
    put(rec_type::MESG, "");
    let offset = file.len() as i64;
    let mut put = |kind: u8, data: &str| {
        let _ = rec_put(&mut file, kind, data.as_bytes());
    };
    put(rec_type::NORM, "");
    put(rec_type::XTRA, "");
    put(rec_type::END, "");
    let path = scratch.join("active").join(QUEUE_ID);
    let written = std::fs::write(&path, &file)
        .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)));
    if let Err(e) = written {
        log::msg_fatal!("{}: {}", path.display(), sys::os_error(&e));
    }
    offset
}

/// The request on one side, the agent's reply on the other.
struct Exchange {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Exchange {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl BufRead for Exchange {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.input.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.input.consume(amount)
    }
}

impl Write for Exchange {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.output.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The trace service's stand-in: for each report, the protocol's greeting, the report
/// as a `kind=local` answer, and status 0. Ends with the process.
fn stand_in_trace_service(scratch: &Path) -> PathBuf {
    let path = scratch.join("private").join("trace");
    let listener = UnixListener::bind(&path)
        .unwrap_or_else(|e| log::msg_fatal!("bind {}: {}", path.display(), sys::os_error(&e)));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let hello = Attrs::new().str(ipc::mail_attr::PROTO, PROTO_BOUNCE);
            let mut writer = &stream;
            if ipc::attr::write(&mut writer, Flavor::Null, &hello).is_err() {
                continue;
            }
            let mut reader = BufReader::new(&stream);
            let Ok(Some(report)) = ipc::attr::read(&mut reader, Flavor::Null) else {
                continue;
            };
            let get = |name: &str| report.get_str(name).unwrap_or_default().to_string();
            emit(
                &Attrs::new()
                    .str("kind", "local")
                    .str("original", &get("original_recipient"))
                    .str("recipient", &get(ipc::mail_attr::RECIP))
                    .str("action", &get("action"))
                    .str("status", &get("status"))
                    .str("reason", &get("reason")),
            );
            let _ = ipc::attr::write(&mut writer, Flavor::Null, &Attrs::new().int("status", 0));
        }
    });
    path
}
