//! local - delivers mail for local recipients: aliases, .forward files, mailboxes,
//! maildirs, /file/names and |commands.
//!
//! Postfix counterpart: `local/local.c`. The queue manager sends a delivery request (one
//! recipient with Postfix's default `local_destination_recipient_limit`); each recipient
//! goes through the delivery switch (recipient.rs): alias_maps, then the user's
//! .forward file, then mailbox delivery as home_mailbox, mail_spool_directory,
//! mailbox_command or mailbox_transport say, then luser_relay or fallback_transport for
//! users that do not exist. Addresses found along the way are delivered in turn, or, when
//! they are not local or belong to someone else, forwarded: resubmitted through cleanup
//! as a new message (forward.rs). Every delivery is logged with the one delivery line,
//! `relay=local`, after local_delivery_status_filter. An address probe (`sendmail -bv`, address verification) delivers
//! nothing: each step reports what it would do ("delivers to mailbox", "aliased to ...").
//!
//! Modules follow Postfix's files: recipient, alias, dotforward, token (with include),
//! mailbox, maildir, file, command, indirect and forward, resolve, unknown, expand
//! (local_expand), pass (deliver_pass for mailbox_transport and fallback_transport),
//! settings, state. Opening and locking a mailbox (mbox_open), writing a maildir and the
//! file size limit are global's, shared with virtual.

mod alias;
mod command;
mod dotforward;
mod expand;
mod file;
mod forward;
mod mailbox;
mod maildir;
mod pass;
mod recipient;
mod resolve;
mod settings;
mod state;
mod token;
mod unknown;
mod whatif;

use global::deliver_request::{DEL_REQ_FLAG_SUCCESS, DeliverRequest};
use global::rewrite_clnt::RewriteClient;
use settings::{Settings, Tables};
use state::{MsgAttr, State, UserAttr};
use std::collections::HashSet;

/// The rewriting context for addresses found in aliases and .forward files
/// (`REWRITE_CANON`, which is `MAIL_ATTR_RWR_LOCAL`).
pub const REWRITE_CANON: &str = "local";

/// Everything one delivery request shares (`LOCAL_STATE`'s request-wide parts).
pub struct Local<'a> {
    /// main.cf.
    pub settings: &'a Settings,
    /// The tables.
    pub tables: &'a Tables,
    /// The request.
    pub request: &'a DeliverRequest,
    /// The service name: `relay=` in the log and the transport that counts as "us" for
    /// resolved addresses.
    pub service: &'a str,
    /// The rewriting and resolving service.
    pub rewriter: &'a mut RewriteClient,
    /// The Delivered-To: addresses of the message, for loop detection.
    pub loop_info: global::delivered_hdr::DeliveredHdr,
    /// What this recipient's expansion already did (`been_here`).
    pub dup_filter: DupFilter,
    /// Messages being resubmitted for forwarded addresses.
    pub forward: forward::Forward,
}

/// Postfix's `been_here` table: each thing done once per recipient, keys folded to lower
/// case, at most duplicate_filter_limit of them remembered (0: no limit).
#[derive(Debug, Default)]
pub struct DupFilter {
    seen: HashSet<String>,
    limit: usize,
}

impl DupFilter {
    fn new(limit: usize) -> DupFilter {
        DupFilter {
            seen: HashSet::new(),
            limit,
        }
    }

    /// Whether `key` was seen before; remembers it (`been_here`).
    pub fn been_here(&mut self, key: &str) -> bool {
        let key = key.to_lowercase();
        if self.seen.contains(&key) {
            if log::verbose() > 0 {
                log::msg_info!("been_here: {key}: 1");
            }
            return true;
        }
        if self.limit == 0 || self.seen.len() < self.limit {
            self.seen.insert(key);
        }
        false
    }

    /// Whether `key` was seen before, without remembering it (`been_here_check`).
    pub fn check(&self, key: &str) -> bool {
        self.seen.contains(&key.to_lowercase())
    }
}

fn main() {
    if let Some(query) = global::whatif::enter() {
        whatif::run(query);
    }
    let mut daemon = server::Daemon::start(server::Requirements {
        privileged: true,
        ..Default::default()
    });
    let settings = Settings::from_config(&daemon.config).unwrap_or_else(|e| log::msg_fatal!("{e}"));
    settings.pre_init();
    let tables = Tables::open(&daemon.config);
    let rewrite_settings = global::rewrite_clnt::Settings::from_config(&daemon.config)
        .unwrap_or_else(|e| global::fatal_config(e));
    let mut rewriter = RewriteClient::new(rewrite_settings);
    let service = daemon.service_name.clone();
    daemon.enter_jail();
    // Root only while opening a file or starting a command as the recipient.
    if let Err(e) = sys::user::set_eugid(settings.owner.0, settings.owner.1) {
        log::msg_fatal!("{e}");
    }
    server::single::serve(daemon, move |_, stream| {
        global::deliver_request::deliver_request_serve(stream, &settings.layout, |request| {
            local_deliver(&settings, &tables, &mut rewriter, request, &service)
        });
        // A rebuilt alias table: the next request goes to a fresh process that reads it
        // (Postfix checks before it accepts a connection, which comes to the same).
        tables.watch.exit_if_changed();
    })
}

/// Delivers every recipient of the request (`local_deliver`); 0 when each one was dealt
/// with.
fn local_deliver(
    settings: &Settings,
    tables: &Tables,
    rewriter: &mut RewriteClient,
    request: &DeliverRequest,
    service: &str,
) -> i32 {
    if log::verbose() > 0 {
        log::msg_info!(
            "local_deliver: {} from {}",
            request.queue_id,
            request.sender
        );
    }
    let mut local = Local {
        settings,
        tables,
        request,
        service,
        rewriter,
        loop_info: global::delivered_hdr::DeliveredHdr::init(
            request.file(),
            request.data_offset as u64,
        ),
        dup_filter: DupFilter::new(settings.dup_filter_limit),
        forward: forward::Forward::default(),
    };
    let mut msg_stat = 0;
    for rcpt in &request.rcpt_list {
        local.dup_filter = DupFilter::new(settings.dup_filter_limit);
        local.forward = forward::Forward::default();
        let state = State {
            level: 0,
            msg_attr: MsgAttr {
                sender: request.sender.clone(),
                dsn_envid: request.dsn_envid.clone(),
                dsn_ret: request.dsn_ret,
                rcpt: rcpt.clone(),
                ..MsgAttr::default()
            },
        };
        let mut rcpt_stat =
            recipient::deliver_recipient(&mut local, state.clone(), UserAttr::default());
        rcpt_stat |= forward::finish(&mut local, &state, rcpt_stat);
        if rcpt_stat == 0 && request.flags & DEL_REQ_FLAG_SUCCESS != 0 {
            global::deliver_completed::deliver_completed(
                request.file(),
                &request.path,
                rcpt.offset,
            );
        }
        msg_stat |= rcpt_stat;
    }
    msg_stat
}

#[cfg(test)]
mod tests {
    use super::DupFilter;

    #[test]
    fn the_duplicate_filter_folds_case_and_stops_remembering_at_its_limit() {
        let mut filter = DupFilter::new(2);
        assert!(!filter.been_here("mailbox Joe"));
        assert!(filter.been_here("mailbox joe"));
        assert!(filter.check("MAILBOX JOE"));
        assert!(!filter.been_here("file /x"));
        // Full: a third key is not remembered, so it is never a duplicate.
        assert!(!filter.been_here("command x"));
        assert!(!filter.been_here("command x"));
        let mut unlimited = DupFilter::new(0);
        for i in 0..5000 {
            assert!(!unlimited.been_here(&format!("recipient {i}")));
        }
        assert!(unlimited.been_here("recipient 4999"));
    }
}
