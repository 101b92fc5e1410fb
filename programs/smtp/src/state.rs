//! One delivery request's progress: which recipients are left, how each attempt ended
//! for them, and the reports to the bounce, defer, trace, verify and sent clients.
//!
//! Postfix counterparts: `smtp/smtp_trouble.c` (`smtp_bulk_fail()`, `smtp_misc_fail()`,
//! `smtp_rcpt_fail()`, `smtp_stream_except()`) and `smtp/smtp_rcpt.c` (the mark and
//! sweep of recipients, `smtp_rcpt_done()`). A soft failure at a server that is not the
//! last one to try only marks the recipients KEEP, with an informational log line, so
//! that the next server gets them; at the last server (or for a hard failure) they are
//! deferred or bounced and marked DROP. A site failure (greeting, HELO, connection lost)
//! that leaves recipients in the queue becomes the request's `hop_status`, which makes
//! the queue manager treat the destination as dead.

use crate::chat::{Except, Resp};
use crate::settings::Settings;
use global::deliver_completed::deliver_completed;
use global::deliver_request::{DEL_REQ_FLAG_SUCCESS, DeliverRequest, trace_flags};
use global::dsn_print::Dsn;

/// What became of a recipient in the current session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Not dealt with yet.
    None,
    /// Done: delivered, bounced or deferred (`SMTP_RCPT_DROP`).
    Drop,
    /// To be tried at the next server (`SMTP_RCPT_KEEP`).
    Keep,
}

/// A failure's options (`SMTP_MISC_FAIL_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// The message or a recipient failed (`smtp_mesg_fail`).
    Message,
    /// The site failed: the queue manager may throttle the destination
    /// (`smtp_site_fail`, `SMTP_MISC_FAIL_THROTTLE`).
    Site,
}

/// The request and its recipients.
pub struct State<'a> {
    /// The delivery request (its time stamps change as the delivery goes on).
    pub request: &'a mut DeliverRequest,
    /// main.cf.
    pub settings: &'a Settings,
    /// Indexes of the recipients still to deliver, in request order.
    pub left: Vec<usize>,
    /// The current session's marks, by recipient index.
    pub marks: Vec<Mark>,
    /// The status for the queue manager: 0, or -1 when a recipient stays queued.
    pub status: i32,
    /// The last failure (Postfix's `state->why`); empty status when none.
    pub why: Dsn,
    /// This is the last server to try (`SMTP_MISC_FLAG_FINAL_SERVER`).
    pub final_server: bool,
    /// This is the last next hop to try (`SMTP_MISC_FLAG_FINAL_NEXTHOP`).
    pub final_nexthop: bool,
    /// Look for our own name in the greeting (`SMTP_MISC_FLAG_LOOP_DETECT`).
    pub loop_detect: bool,
    /// The last transaction ended by protocol (`SMTP_MISC_FLAG_COMPLETE_SESSION`).
    pub complete_session: bool,
}

impl<'a> State<'a> {
    /// The state of `request` before the first attempt.
    pub fn new(request: &'a mut DeliverRequest, settings: &'a Settings) -> State<'a> {
        let count = request.rcpt_list.len();
        State {
            request,
            settings,
            left: (0..count).collect(),
            marks: vec![Mark::None; count],
            status: 0,
            why: Dsn::default(),
            final_server: false,
            final_nexthop: false,
            loop_detect: false,
            complete_session: false,
        }
    }

    /// Recipients left (`SMTP_RCPT_LEFT`).
    pub fn rcpt_left(&self) -> usize {
        self.left.len()
    }

    /// The left recipients not yet marked in this session.
    pub fn unmarked(&self) -> Vec<usize> {
        self.left
            .iter()
            .copied()
            .filter(|&i| self.marks[i] == Mark::None)
            .collect()
    }

    fn mark(&mut self, rcpt: usize, mark: Mark) {
        if self.marks[rcpt] != Mark::None {
            log::msg_panic!(
                "smtp_rcpt_mark: recipient <{}> is marked",
                self.request.rcpt_list[rcpt].address
            );
        }
        self.marks[rcpt] = mark;
    }

    /// After a session: dropped recipients leave the list, the others are unmarked
    /// (`smtp_rcpt_cleanup()`).
    pub fn rcpt_cleanup(&mut self) {
        let marks = &self.marks;
        self.left.retain(|&i| marks[i] != Mark::Drop);
        self.marks.iter_mut().for_each(|m| *m = Mark::None);
    }

    /// Sets the failure from a reply (`vsmtp_fill_dsn()`): with `mta` (the server's
    /// name) the reply is the remote diagnostic; a reply of no failure class is a
    /// protocol error.
    fn fill_dsn(&mut self, mta: Option<&str>, resp: &Resp, reason: String) {
        let (status, reason) = match mta {
            Some(_) if !resp.dsn.starts_with(['4', '5']) => {
                ("5.5.0".to_string(), format!("Protocol error: {reason}"))
            }
            _ => (resp.dsn.clone(), reason),
        };
        let remote = mta.is_some();
        self.why = Dsn {
            status,
            dtype: if remote { "smtp".into() } else { String::new() },
            dtext: if remote {
                resp.one_line()
            } else {
                String::new()
            },
            mtype: if remote { "dns".into() } else { String::new() },
            mname: mta.unwrap_or("").to_string(),
            action: String::new(),
            reason,
        };
    }

    /// A failure of every recipient left: site or message (`smtp_misc_fail()`).
    pub fn misc_fail(
        &mut self,
        kind: Fail,
        relay: Option<&str>,
        mta: Option<&str>,
        resp: &Resp,
        reason: String,
    ) -> i32 {
        self.fill_dsn(mta, resp, reason);
        self.bulk_fail(kind, relay)
    }

    /// A session that broke (`smtp_stream_except()`).
    pub fn stream_except(
        &mut self,
        relay: &str,
        namaddr: &str,
        except: Except,
        description: &str,
    ) -> i32 {
        self.why = match except {
            Except::Eof => Dsn::simple(
                "4.4.2",
                &format!("lost connection with {namaddr} while {description}"),
            ),
            Except::Time => Dsn::simple(
                "4.4.2",
                &format!("conversation with {namaddr} timed out while {description}"),
            ),
            Except::Data => Dsn::simple(
                "4.3.0",
                &format!("local data error while talking to {namaddr}"),
            ),
        };
        self.bulk_fail(Fail::Site, Some(relay))
    }

    /// Defers or bounces every unmarked recipient left, or keeps them for the next
    /// server (`smtp_bulk_fail()`); always -1.
    pub fn bulk_fail(&mut self, kind: Fail, relay: Option<&str>) -> i32 {
        let soft = self.why.status.starts_with('4');
        let soft_bounce = self.why.status.starts_with('5') && self.settings.status.soft_bounce;
        if (soft || soft_bounce) && !self.final_server {
            log::msg_info!("{}: {}", self.request.queue_id, self.why.reason);
            for rcpt in self.unmarked() {
                self.mark(rcpt, Mark::Keep);
            }
            return -1;
        }
        let stats = &mut self.request.msg_stats;
        if stats.conn_setup_done.0 == 0 {
            stats.conn_setup_done = global::msg_stats::now();
            stats.deliver_done = stats.conn_setup_done;
        } else {
            stats.deliver_done = global::msg_stats::now();
        }
        let mut aggregate = 0;
        for rcpt in self.unmarked() {
            aggregate |= self.report_failure(rcpt, soft, relay);
        }
        self.status |= aggregate;
        if !self.complete_session
            && kind == Fail::Site
            && aggregate != 0
            && self.request.hop_status.is_none()
        {
            self.request.hop_status = Some(self.why.clone());
        }
        -1
    }

    /// Defers or bounces one recipient with the current failure and drops it.
    fn report_failure(&mut self, rcpt: usize, soft: bool, relay: Option<&str>) -> i32 {
        let conf = &self.settings.status;
        let request = &*self.request;
        let flags = trace_flags(request.flags);
        let (id, stats) = (&request.queue_id, &request.msg_stats);
        let recipient = &request.rcpt_list[rcpt];
        let relay = relay.unwrap_or(global::bounce::NO_RELAY_AGENT);
        let status = if soft {
            global::defer::defer_append(conf, flags, id, stats, recipient, relay, &self.why)
        } else {
            global::bounce::bounce_append(conf, flags, id, stats, recipient, relay, &self.why)
        };
        if status == 0 {
            deliver_completed(request.file(), &request.path, recipient.offset);
        }
        self.mark(rcpt, Mark::Drop);
        status
    }

    /// One recipient failed (`smtp_rcpt_fail()`).
    pub fn rcpt_fail(
        &mut self,
        rcpt: usize,
        relay: &str,
        mta: Option<&str>,
        resp: &Resp,
        reason: String,
    ) {
        self.fill_dsn(mta, resp, reason);
        let soft = self.why.status.starts_with('4');
        let soft_bounce = self.why.status.starts_with('5') && self.settings.status.soft_bounce;
        if (soft || soft_bounce) && !self.final_server {
            log::msg_info!("{}: {}", self.request.queue_id, self.why.reason);
            self.mark(rcpt, Mark::Keep);
        } else {
            self.status |= self.report_failure(rcpt, soft, Some(relay));
        }
    }

    /// One recipient was delivered, or a probe found it deliverable
    /// (`smtp_rcpt_done()`). After a server that announced DSN the delivery is
    /// "relayed" and the server sends any success notice.
    pub fn rcpt_done(
        &mut self,
        rcpt: usize,
        relay: &str,
        host: &str,
        resp: &Resp,
        dsn_feature: bool,
    ) {
        let request = &*self.request;
        let mut recipient = request.rcpt_list[rcpt].clone();
        if dsn_feature {
            recipient.dsn_notify &= !global::dsn_mask::NOTIFY_SUCCESS;
        }
        let text = resp.one_line();
        let dsn = Dsn {
            status: resp.dsn.clone(),
            dtype: "smtp".into(),
            dtext: text.clone(),
            mtype: "dns".into(),
            mname: host.to_string(),
            action: "relayed".into(),
            reason: text,
        };
        let status = global::sent::sent(
            &self.settings.status,
            trace_flags(request.flags),
            &request.queue_id,
            &request.msg_stats,
            &recipient,
            relay,
            &dsn,
        );
        if status == 0 && request.flags & DEL_REQ_FLAG_SUCCESS != 0 {
            deliver_completed(request.file(), &request.path, recipient.offset);
        }
        self.mark(rcpt, Mark::Drop);
        self.status |= status;
    }
}
