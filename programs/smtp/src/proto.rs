//! The SMTP and LMTP dialogue with one server: greeting, EHLO/HELO/LHLO, MAIL, RCPT,
//! DATA, the message, QUIT.
//!
//! Postfix counterpart: `smtp/smtp_proto.c` (`smtp_helo()`, `smtp_xfer()`,
//! `smtp_loop()`, `smtp_quit()`, `smtp_text_out()`). With PIPELINING the client sends
//! MAIL, every RCPT and DATA (or RSET for an address probe) in one group and then reads
//! the replies; the end of the message goes out with QUIT. Without it each command waits
//! for its reply, and the client stops early: no RCPT after a rejected MAIL, RSET
//! instead of DATA when every recipient was rejected. LMTP answers the end of the
//! message once per accepted recipient.

use crate::chat::{Chat, Except, Resp};
use crate::content::ContentError;
use crate::settings::TlsLevel;
use crate::state::{Fail, Mark, State};
use global::deliver_request::trace_only;
use smtp_proto::EhloMask;

/// Server features (`SMTP_FEATURE_*`), with Postfix's values: the verbose log prints
/// them as a number.
pub mod feature {
    /// ESMTP.
    pub const ESMTP: u32 = 1 << 0;
    /// 8BITMIME.
    pub const EIGHTBITMIME: u32 = 1 << 1;
    /// PIPELINING.
    pub const PIPELINING: u32 = 1 << 2;
    /// SIZE.
    pub const SIZE: u32 = 1 << 3;
    /// STARTTLS.
    pub const STARTTLS: u32 = 1 << 4;
    /// AUTH.
    pub const AUTH: u32 = 1 << 5;
    /// XFORWARD NAME.
    pub const XFORWARD_NAME: u32 = 1 << 7;
    /// XFORWARD ADDR.
    pub const XFORWARD_ADDR: u32 = 1 << 8;
    /// XFORWARD PROTO.
    pub const XFORWARD_PROTO: u32 = 1 << 9;
    /// XFORWARD HELO.
    pub const XFORWARD_HELO: u32 = 1 << 10;
    /// XFORWARD SOURCE (Postfix's XFORWARD_DOMAIN).
    pub const XFORWARD_SOURCE: u32 = 1 << 11;
    /// The server is one of the most preferred (`SMTP_FEATURE_BEST_MX`).
    pub const BEST_MX: u32 = 1 << 12;
    /// DSN.
    pub const DSN: u32 = 1 << 15;
    /// XFORWARD PORT.
    pub const XFORWARD_PORT: u32 = 1 << 18;
    /// XFORWARD IDENT.
    pub const XFORWARD_IDENT: u32 = 1 << 20;
    /// SMTPUTF8.
    pub const SMTPUTF8: u32 = 1 << 21;
}

/// Postfix's PIPELINING_BUFSIZE: the most command bytes sent before reading replies.
const PIPELINING_BUFSIZE: usize = 4096;

/// The SMTPUTF8 flags of a request (`SMTPUTF8_FLAG_*`).
const SMTPUTF8_FLAG_REQUESTED: i32 = 1 << 0;

/// One connection to one server (Postfix's `SMTP_SESSION`).
pub struct Session {
    /// The I/O.
    pub chat: Chat,
    /// The server's name (for an MX host, its name; for an IP literal, the address).
    pub host: String,
    /// `host[addr]`.
    pub namaddr: String,
    /// `host[addr]:port`, or `host[addr]` for a UNIX-domain socket.
    pub namaddrport: String,
    /// What the server offers.
    pub features: u32,
    /// The server's SIZE limit; 0 when unknown.
    pub size_limit: u64,
    /// The server is one of the most preferred mail exchangers.
    pub best_mx: bool,
    /// The connection broke: QUIT is pointless.
    pub broken: bool,
    /// The TLS security level for this session.
    pub tls_level: TlsLevel,
    /// The rest of the session's TLS policy (names to match, protocols, SNI).
    pub tls_policy: crate::tls_policy::Policy,
    /// The next-hop domain, for the `nexthop` and `dot-nexthop` names of a match list.
    pub tls_nexthop: String,
    /// The destination as the next hop names it (`[host]:port`), for the SASL
    /// password lookup.
    pub dest: String,
    /// The server's AUTH mechanisms (after smtp_sasl_mechanism_filter), when it
    /// offered AUTH and SASL is on.
    pub sasl_mechanisms: Option<String>,
    /// The TLS handshake failed and the same server is to be tried again without TLS
    /// (`tls_retry_plain`).
    pub tls_retry_plain: bool,
    /// Until when the session may be kept in the connection cache (Unix time); 0: not
    /// kept (Postfix's `expire_time`).
    pub expire_time: i64,
    /// How often the session was used before (Postfix's `reuse_count`).
    pub reuse_count: i32,
    /// The verbosity raised for a cached session whose server debug_peer_list names:
    /// Postfix's `smtp_session_alloc()` checks reused sessions as it does new ones
    /// (those are checked where they are connected). Dropping the session restores it.
    pub _debug: Option<crate::debug_peer::DebugPeer>,
}

/// The stages of the dialogue after the handshake (`SMTP_STATE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    XforwardNameAddr,
    XforwardProtoHelo,
    Mail,
    Rcpt,
    Data,
    Dot,
    Abort,
    Quit,
}

impl Stage {
    /// What the client was doing when the session broke (`xfer_states`).
    fn doing(self) -> &'static str {
        match self {
            Stage::XforwardNameAddr => "sending XFORWARD name/address",
            Stage::XforwardProtoHelo => "sending XFORWARD protocol/helo_name",
            Stage::Mail => "sending MAIL FROM",
            Stage::Rcpt => "sending RCPT TO",
            Stage::Data => "sending DATA command",
            Stage::Dot => "sending end of data -- message may be sent more than once",
            Stage::Abort => "sending final RSET",
            Stage::Quit => "sending QUIT",
        }
    }

    /// The command a reply answered (`xfer_request`).
    fn request(self) -> &'static str {
        match self {
            Stage::XforwardNameAddr => "XFORWARD name/address command",
            Stage::XforwardProtoHelo => "XFORWARD helo/protocol command",
            Stage::Mail => "MAIL FROM command",
            Stage::Rcpt => "RCPT TO command",
            Stage::Data => "DATA command",
            Stage::Dot => "end of DATA command",
            Stage::Abort => "final RSET command",
            Stage::Quit => "QUIT command",
        }
    }
}

impl Session {
    /// The reply timeout of a stage.
    fn stage(&mut self, state: &State, stage: Stage) {
        let t = &state.settings.timeouts;
        self.chat.stage(match stage {
            Stage::XforwardNameAddr | Stage::XforwardProtoHelo => t.xforward,
            Stage::Mail => t.mail,
            Stage::Rcpt => t.rcpt,
            Stage::Data => t.data_init,
            Stage::Dot => t.data_done,
            Stage::Abort => t.rset,
            Stage::Quit => t.quit,
        });
    }

    /// `host h[a] said: REPLY (in reply to COMMAND)`.
    fn said(&self, resp: &Resp, stage: Stage) -> String {
        format!(
            "host {} said: {} (in reply to {})",
            self.namaddr,
            resp.one_line(),
            stage.request()
        )
    }

    /// The server refused the message at `stage` (`smtp_mesg_fail()` with its reply).
    fn mesg_said(&mut self, state: &mut State, resp: &Resp, stage: Stage) {
        self.check_code(resp.code);
        let reason = self.said(resp, stage);
        state.misc_fail(
            Fail::Message,
            Some(&self.namaddrport),
            Some(&self.host),
            resp,
            reason,
        );
    }

    /// The server refused recipient `rcpt` at `stage` (`smtp_rcpt_fail()`).
    fn rcpt_said(&mut self, state: &mut State, rcpt: usize, resp: &Resp, stage: Stage) {
        self.check_code(resp.code);
        let reason = self.said(resp, stage);
        state.rcpt_fail(rcpt, &self.namaddrport, Some(&self.host), resp, reason);
    }

    /// A failure reply the protocol does not expect leaves the server in a state that
    /// is not to be kept in the connection cache (`smtp_check_code()`).
    fn check_code(&mut self, code: u32) {
        if !(400..=599).contains(&code) || code == 555 || (500..510).contains(&code) {
            self.chat.error_mask |= global::chat_notify::mail_error::PROTOCOL;
            self.expire_time = 0;
        }
    }

    /// The server took recipient `rcpt` (`smtp_rcpt_done()`).
    fn done(&self, state: &mut State, rcpt: usize, resp: &Resp) {
        let dsn = self.features & feature::DSN != 0;
        state.rcpt_done(rcpt, &self.namaddrport, &self.host, resp, dsn);
    }

    /// The session broke while `doing`: every recipient left fails softly.
    fn except(&mut self, state: &mut State, except: Except, doing: &str) -> i32 {
        self.broken = true;
        if except == Except::Data {
            self.chat.error_mask |= global::chat_notify::mail_error::DATA;
        }
        state.stream_except(&self.namaddrport, &self.namaddr, except, doing)
    }
}

/// The greeting and the HELO, EHLO or LHLO handshake (`smtp_helo()`): 0 when the
/// session may carry mail, else -1 after the recipients were dealt with.
pub fn helo(state: &mut State, session: &mut Session) -> i32 {
    let settings = state.settings;
    // SMTPS (smtp_tls_wrappermode): TLS first, then the greeting inside it.
    if settings.tls_policy.wrappermode() && !session.chat.in_tls() {
        session.chat.stage(settings.starttls_timeout);
        let status = match &settings.tls {
            Some(engine) => start_tls(state, session, engine),
            None => {
                let relay = session.namaddrport.clone();
                Some(state.misc_fail(
                    Fail::Site,
                    Some(&relay),
                    None,
                    &Resp::fake("4.7.5"),
                    "TLS is required, but our TLS engine is unavailable".to_string(),
                ))
            }
        };
        if let Some(status) = status {
            return status;
        }
    }
    session.chat.stage(settings.timeouts.helo);
    let mut doing = "receiving the initial server greeting";
    let result = (|| -> Result<i32, Except> {
        let mut resp = session.chat.resp()?;
        match resp.code / 100 {
            2 => {}
            class => {
                if class == 5 && settings.skip_5xx_greeting {
                    resp.dsn.replace_range(..1, "4");
                }
                return Ok(refused(state, session, &resp));
            }
        }
        // The reply code (up to a "-", space or tab), then the words of the text.
        let text = resp.text.trim_start_matches(['-', ' ', '\t', '\n']);
        let after_code = text
            .find(['-', ' ', '\t', '\n'])
            .map_or("", |at| &text[at + 1..]);
        let words = after_code
            .split([' ', '\t', '\n'])
            .filter(|w| !w.is_empty());
        for (n, word) in words.enumerate() {
            if n == 0 && word.eq_ignore_ascii_case(&settings.myhostname) {
                if state.loop_detect {
                    log::msg_warn!(
                        "host {} greeted me with my own hostname {}",
                        session.namaddrport,
                        settings.myhostname
                    );
                }
            } else if word.eq_ignore_ascii_case("ESMTP") {
                session.features |= feature::ESMTP;
            }
        }
        if session.tls_level == TlsLevel::Invalid {
            // The level's warning was logged at start-up.
            let relay = session.namaddrport.clone();
            let reason = "client TLS configuration problem".to_string();
            return Ok(state.misc_fail(
                Fail::Site,
                Some(&relay),
                None,
                &Resp::fake("4.7.0"),
                reason,
            ));
        }
        if settings.lmtp {
            session.features |= feature::ESMTP;
        } else {
            if settings.always_ehlo {
                session.features |= feature::ESMTP;
            }
            if settings.never_ehlo {
                session.features &= !feature::ESMTP;
            }
        }
        // A second round after STARTTLS: EHLO again, no greeting. In wrapper mode TLS
        // is on already, and STARTTLS is not for this session.
        let mut in_tls = session.chat.in_tls();
        loop {
            if settings.lmtp {
                doing = "performing the LHLO handshake";
                session.chat.cmd(&format!("LHLO {}", settings.helo_name));
                resp = session.chat.resp()?;
                if resp.code / 100 != 2 {
                    return Ok(refused(state, session, &resp));
                }
            } else {
                if session.features & feature::ESMTP != 0 {
                    doing = "performing the EHLO handshake";
                    session.chat.cmd(&format!("EHLO {}", settings.helo_name));
                    resp = session.chat.resp()?;
                    if resp.code / 100 != 2 {
                        if resp.code == 421 {
                            return Ok(refused(state, session, &resp));
                        }
                        session.features &= !feature::ESMTP;
                    }
                }
                if session.features & feature::ESMTP == 0 {
                    doing = "performing the HELO handshake";
                    session.chat.cmd(&format!("HELO {}", settings.helo_name));
                    resp = session.chat.resp()?;
                    if resp.code / 100 != 2 {
                        return Ok(refused(state, session, &resp));
                    }
                }
            }
            if session.features & feature::ESMTP != 0
                && let Some(status) = ehlo_features(state, session, &resp)?
            {
                return Ok(status);
            }
            if log::verbose() > 0 {
                let best = if session.best_mx { feature::BEST_MX } else { 0 };
                log::msg_info!(
                    "server features: 0x{:x} size {}",
                    session.features | best,
                    session.size_limit
                );
            }
            let request = &state.request;
            let requires_utf8 = request.smtputf8 & SMTPUTF8_FLAG_REQUESTED != 0
                && request.smtputf8 & !SMTPUTF8_FLAG_REQUESTED != 0;
            if session.features & feature::SMTPUTF8 == 0 && requires_utf8 {
                let reason = format!(
                    "SMTPUTF8 is required, but was not offered by host {}",
                    session.namaddr
                );
                return Ok(state.misc_fail(
                    Fail::Message,
                    Some(&session.namaddrport),
                    None,
                    &Resp::fake("5.6.7"),
                    reason,
                ));
            }
            if session.features & feature::SMTPUTF8 != 0
                && session.features & feature::EIGHTBITMIME == 0
            {
                log::msg_info!(
                    "host {} offers SMTPUTF8 support, but not 8BITMIME",
                    session.namaddr
                );
                session.features |= feature::EIGHTBITMIME;
            }
            if session.features & feature::PIPELINING != 0 {
                let size = session.chat.send_buffer(PIPELINING_BUFSIZE);
                if log::verbose() > 0 {
                    log::msg_info!(
                        "Using {} PIPELINING, TCP send buffer size is {size}, PIPELINING buffer size is {PIPELINING_BUFSIZE}",
                        if settings.lmtp { "LMTP" } else { "ESMTP" }
                    );
                }
            }
            if !in_tls {
                let level = session.tls_level;
                if session.features & feature::STARTTLS != 0 {
                    settings
                        .tls_policy
                        .note_starttls_offer(level, &session.host);
                }
                if session.features & feature::STARTTLS != 0
                    && level >= TlsLevel::May
                    && let Some(engine) = &settings.tls
                {
                    session.chat.stage(settings.starttls_timeout);
                    doing = "receiving the STARTTLS response";
                    session.chat.cmd("STARTTLS");
                    let resp = session.chat.resp()?;
                    if resp.code / 100 == 2 {
                        if let Some(status) = start_tls(state, session, engine) {
                            return Ok(status);
                        }
                        in_tls = true;
                        session.features = feature::ESMTP;
                        session.size_limit = 0;
                        session.chat.stage(settings.timeouts.helo);
                        continue;
                    }
                    session.features &= !feature::STARTTLS;
                    if level >= TlsLevel::Encrypt {
                        let reason = format!(
                            "TLS is required, but host {} refused to start TLS: {}",
                            session.namaddr,
                            resp.one_line()
                        );
                        let relay = session.namaddrport.clone();
                        session.check_code(resp.code);
                        return Ok(state.misc_fail(
                            Fail::Site,
                            Some(&relay),
                            Some(&session.host),
                            &resp,
                            reason,
                        ));
                    }
                }
                if level >= TlsLevel::Encrypt {
                    let (status, reason) = if session.features & feature::STARTTLS == 0 {
                        (
                            "4.7.4",
                            format!(
                                "TLS is required, but was not offered by host {}",
                                session.namaddr
                            ),
                        )
                    } else {
                        (
                            "4.7.5",
                            "TLS is required, but our TLS engine is unavailable".to_string(),
                        )
                    };
                    let relay = session.namaddrport.clone();
                    return Ok(state.misc_fail(
                        Fail::Site,
                        Some(&relay),
                        None,
                        &Resp::fake(status),
                        reason,
                    ));
                }
            }
            if settings.sasl_enable && session.features & feature::AUTH != 0 {
                let status = crate::sasl::helo_login(state, session)?;
                if status != 0 {
                    return Ok(status);
                }
            }
            break;
        }
        session.chat.pipelining = session.features & feature::PIPELINING != 0;
        Ok(0)
    })();
    match result {
        Ok(status) => status,
        Err(except) => session.except(state, except, doing),
    }
}

/// The TLS handshake at the session's level (`smtp_start_tls()`), after the server's
/// 220 to STARTTLS or, in wrapper mode, before the greeting: None when the session
/// goes on inside TLS, else the status of the delivery that failed.
fn start_tls(state: &mut State, session: &mut Session, engine: &tls::ClientTls) -> Option<i32> {
    let level = session.tls_level;
    // Postfix sends no SNI unless smtp_tls_servername says so.
    let policy = &session.tls_policy;
    let sni = policy.sni(&session.host, &session.tls_nexthop);
    let props = policy.props(
        level,
        &session.namaddrport,
        &session.host,
        &session.tls_nexthop,
        sni,
    );
    // What the handshake required (`tls_context->level`): dane without usable records
    // requires no match.
    let client_level = props.level;
    let settings = state.settings;
    let proxied = match (&settings.tlsproxy, session.chat.tcp()) {
        (Some(proxy), Some(tcp)) => {
            let addr = tcp
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default();
            let serverid =
                crate::tlsproxy_clnt::serverid(proxy.proto, &session.dest, &session.host, &addr);
            let timeouts = (settings.starttls_timeout, settings.timeouts.data_done);
            match proxy.open(tcp, &serverid, &props, timeouts) {
                Ok(proxied) => {
                    let line = proxied.summary.established("to", &session.namaddrport);
                    log::msg_info!("{line}");
                    session.chat.proxied(proxied);
                    Some(true)
                }
                Err(crate::tlsproxy_clnt::Failure::Unreachable(why)) => {
                    if settings.tls_conn_reuse {
                        // The TLS must be tlsproxy's, as in Postfix.
                        log::msg_warn!("{why}");
                        Some(false)
                    } else {
                        // For session resumption alone the TLS can be this process's;
                        // a master.cf without tlsproxy (Postfix's stock one) is told once
                        // per process, not once per session.
                        static TOLD: std::sync::atomic::AtomicBool =
                            std::sync::atomic::AtomicBool::new(false);
                        if !TOLD.swap(true, std::sync::atomic::Ordering::Relaxed) {
                            log::msg_warn!(
                                "{why}: TLS sessions are not resumed across smtp processes \
                                 (is the tlsproxy service in master.cf?)"
                            );
                        }
                        None
                    }
                }
                Err(crate::tlsproxy_clnt::Failure::Handshake) => Some(false),
            }
        }
        _ => None,
    };
    let started = match proxied {
        Some(ok) => ok,
        None => session.chat.start_tls(engine, &props),
    };
    if !started {
        session.broken = true;
        if plaintext_fallback_ok(state, session) {
            // RETRY_AS_PLAINTEXT: not final, the same server next.
            session.tls_retry_plain = true;
            state.final_server = false;
        }
        let kind = if level == TlsLevel::May {
            Fail::Message
        } else {
            Fail::Site
        };
        let relay = session.namaddrport.clone();
        let reason = "Cannot start TLS: handshake failure".to_string();
        return Some(state.misc_fail(kind, Some(&relay), None, &Resp::fake("4.7.5"), reason));
    }
    // At fingerprint and up the session is usable, but not for mail: QUIT goes out
    // inside TLS.
    let matched = session
        .chat
        .tls_summary()
        .is_some_and(|s| client_level.matched(s.trust));
    if client_level.must_match() && !matched {
        let relay = session.namaddrport.clone();
        return Some(state.misc_fail(
            Fail::Site,
            Some(&relay),
            None,
            &Resp::fake("4.7.5"),
            "Server certificate not verified".to_string(),
        ));
    }
    // A TLS session is kept only when its TLS is tlsproxy's, with
    // smtp_tls_connection_reuse (the plaintext stream goes to scache).
    if !(settings.tls_conn_reuse && matches!(proxied, Some(true))) {
        session.expire_time = 0;
    }
    None
}

/// Whether a failed STARTTLS handshake at level may may be followed by a plaintext
/// session with the same server (`PLAINTEXT_FALLBACK_OK_AFTER_STARTTLS_FAILURE`): only
/// for mail that has waited in the queue at least minimal_backoff_time before this
/// delivery (or an address probe), and not when SASL credentials would go out in the
/// clear.
fn plaintext_fallback_ok(state: &State, session: &Session) -> bool {
    let stats = &state.request.msg_stats;
    let preactive = stats.active_arrival.0 - stats.incoming_arrival.0;
    session.tls_level == TlsLevel::May
        && (trace_only(state.request.flags) || preactive >= state.settings.min_backoff)
        && !crate::sasl::have_credentials(state, session)
}

/// `host h[a] refused to talk to me: REPLY`, a site failure.
fn refused(state: &mut State, session: &mut Session, resp: &Resp) -> i32 {
    let reason = format!(
        "host {} refused to talk to me: {}",
        session.namaddr,
        resp.one_line()
    );
    session.check_code(resp.code);
    state.misc_fail(
        Fail::Site,
        Some(&session.namaddrport),
        Some(&session.host),
        resp,
        reason,
    )
}

/// The EHLO (LHLO) reply's keywords, less the discarded ones; Some(status) when the
/// server turned out to be this machine; Err when the table of keywords to discard
/// failed (a local data error).
fn ehlo_features(
    state: &mut State,
    session: &mut Session,
    resp: &Resp,
) -> Result<Option<i32>, Except> {
    let settings = state.settings;
    // The keywords to discard for this server's address, else the global ones.
    let words = match &settings.discard_ehlo_maps {
        Some(maps) => {
            let addr = session
                .namaddr
                .rsplit_once('[')
                .map(|(_, a)| a.trim_end_matches(']'))
                .unwrap_or("");
            match maps.find(addr, false) {
                Ok(Some(words)) => words,
                Ok(None) => settings.discard_ehlo.clone(),
                Err(_) => {
                    log::msg_warn!(
                        "{}: {} map lookup error for {addr}",
                        state.request.queue_id,
                        maps.title()
                    );
                    return Err(Except::Data);
                }
            }
        }
        None => settings.discard_ehlo.clone(),
    };
    let discard = EhloMask::parse(&words);
    if !discard.is_empty() && !discard.contains(EhloMask::SILENT) {
        log::msg_info!("discarding EHLO keywords: {}", discard.names());
    }
    let keep = |mask: EhloMask| !discard.contains(mask);
    let (name, lines) = smtp_proto::server_reply::ehlo_lines(&resp.text);
    if let Some(name) = name
        && name.eq_ignore_ascii_case(&settings.myhostname)
        && state.loop_detect
    {
        log::msg_warn!(
            "host {} replied to HELO/EHLO with my own hostname {}",
            session.namaddrport,
            settings.myhostname
        );
        let status = if session.best_mx { "5.4.6" } else { "4.4.6" };
        let reason = format!("mail for {} loops back to myself", state.request.nexthop);
        let relay = session.namaddrport.clone();
        return Ok(Some(state.misc_fail(
            Fail::Site,
            Some(&relay),
            None,
            &Resp::fake(status),
            reason,
        )));
    }
    for line in lines {
        let word = line.keyword.to_ascii_uppercase();
        match word.as_str() {
            "8BITMIME" if keep(EhloMask::EIGHTBITMIME) => session.features |= feature::EIGHTBITMIME,
            "PIPELINING" if keep(EhloMask::PIPELINING) => session.features |= feature::PIPELINING,
            "SIZE" if keep(EhloMask::SIZE) => {
                session.features |= feature::SIZE;
                if let Some(limit) = line.words().next() {
                    if limit.bytes().all(|b| b.is_ascii_digit()) {
                        session.size_limit = limit.parse().unwrap_or(u64::MAX);
                    } else {
                        log::msg_warn!(
                            "bad EHLO SIZE limit \"{limit}\" from {}",
                            session.namaddrport
                        );
                    }
                }
            }
            "DSN" if keep(EhloMask::DSN) => session.features |= feature::DSN,
            "STARTTLS" if keep(EhloMask::STARTTLS) => session.features |= feature::STARTTLS,
            "XFORWARD" if keep(EhloMask::XFORWARD) => {
                for attr in line.params().split([' ', '\t']) {
                    session.features |= match attr.to_ascii_uppercase().as_str() {
                        "NAME" => feature::XFORWARD_NAME,
                        "ADDR" => feature::XFORWARD_ADDR,
                        "PORT" => feature::XFORWARD_PORT,
                        "PROTO" => feature::XFORWARD_PROTO,
                        "HELO" => feature::XFORWARD_HELO,
                        "IDENT" => feature::XFORWARD_IDENT,
                        "SOURCE" => feature::XFORWARD_SOURCE,
                        _ => 0,
                    };
                }
            }
            "AUTH" if settings.sasl_enable && keep(EhloMask::AUTH) => {
                helo_auth(settings, session, line.params().trim_end());
            }
            "SMTPUTF8" if keep(EhloMask::SMTPUTF8) => session.features |= feature::SMTPUTF8,
            _ => {}
        }
    }
    Ok(None)
}

/// The XFORWARD commands for this request (`smtp_xfer()`'s send_name_addr and
/// send_proto_helo): the attributes the server takes and the request has, `unknown`
/// names, addresses and ports left out.
fn xforward_commands(state: &State, session: &Session) -> Vec<(Stage, String)> {
    if !state.settings.send_xforward {
        return Vec::new();
    }
    let r = &state.request;
    let known = |v: &str| !v.is_empty() && !v.eq_ignore_ascii_case("unknown");
    let avail = |v: &str| !v.is_empty();
    // SOURCE stands for the rewriting context, when the request has one.
    let source = match r.rewrite_context.as_str() {
        "" => "",
        "local" => "LOCAL",
        _ => "REMOTE",
    };
    let name_addr = [
        (feature::XFORWARD_NAME, "NAME", r.client_name.as_str()),
        (feature::XFORWARD_ADDR, "ADDR", r.client_addr.as_str()),
        (feature::XFORWARD_PORT, "PORT", r.client_port.as_str()),
    ]
    .map(|(bit, name, value)| (bit, name, value, known(value)));
    // PROTO must be known; HELO, IDENT and SOURCE only present.
    let proto_helo = [
        (feature::XFORWARD_PROTO, "PROTO", r.client_proto.as_str()),
        (feature::XFORWARD_HELO, "HELO", r.client_helo.as_str()),
        (feature::XFORWARD_IDENT, "IDENT", r.log_ident.as_str()),
        (feature::XFORWARD_SOURCE, "SOURCE", source),
    ]
    .map(|(bit, name, value)| {
        let ok = if bit == feature::XFORWARD_PROTO {
            known(value)
        } else {
            avail(value)
        };
        (bit, name, value, ok)
    });
    [
        (Stage::XforwardNameAddr, &name_addr[..]),
        (Stage::XforwardProtoHelo, &proto_helo[..]),
    ]
    .into_iter()
    .filter_map(|(stage, attrs)| {
        let words: Vec<String> = attrs
            .iter()
            .filter(|(bit, _, _, ok)| session.features & bit != 0 && *ok)
            .map(|(_, name, value, _)| format!(" {name}={}", xtext_quote(value, "")))
            .collect();
        (!words.is_empty()).then(|| (stage, format!("XFORWARD{}", words.concat())))
    })
    .collect()
}

/// The AUTH keyword's mechanisms (`smtp_sasl_helo_auth()`): AUTH and the old AUTH=
/// form may both come; their lists are joined.
fn helo_auth(settings: &crate::settings::Settings, session: &mut Session, words: &str) {
    let list =
        global::sasl_mech_filter::sasl_mech_filter(settings.sasl_mech_filter.as_ref(), words);
    match &mut session.sasl_mechanisms {
        Some(known) => {
            if !known.eq_ignore_ascii_case(&list)
                && !list.is_empty()
                && known.len() < settings.line_limit
            {
                known.push(' ');
                known.push_str(&list);
            }
            return;
        }
        None if !list.is_empty() => session.sasl_mechanisms = Some(list),
        None if words.is_empty() => {
            log::msg_warn!("{} offered null AUTH mechanism list", session.namaddrport)
        }
        None => log::msg_warn!(
            "{} offered no supported AUTH mechanisms: '{words}'",
            session.namaddrport
        ),
    }
    session.features |= feature::AUTH;
}

/// `xtext` encoding (`xtext_quote()`): `+` and `=`, other specials, and bytes outside
/// printable ASCII as `+XX`.
pub fn xtext_quote(text: &str, special: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in util::eight_bit::to_bytes(text).iter() {
        if b == b'+' || !(33..=126).contains(&b) || special.as_bytes().contains(&b) {
            out.push_str(&format!("+{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// `utf-8-addr-xtext` encoding (`uxtext_quote()`, RFC 6533): printable ASCII but `\`
/// and the specials as itself, anything else as `\x{HEX}` of its code point; None when
/// the text is not UTF-8.
pub fn uxtext_quote(text: &str, special: &str) -> Option<String> {
    let bytes = util::eight_bit::to_bytes(text);
    let text = std::str::from_utf8(&bytes).ok()?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c != '\\' && c > ' ' && c < '\x7f' && !special.contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("\\x{{{:02X}}}", u32::from(c)));
        }
    }
    Some(out)
}

/// `NOTIFY=` text (`dsn_notify_str()`).
fn notify_str(mask: u32) -> String {
    use global::dsn_mask::*;
    if mask & NOTIFY_NEVER != 0 {
        return "NEVER".into();
    }
    [
        (NOTIFY_SUCCESS, "SUCCESS"),
        (NOTIFY_FAILURE, "FAILURE"),
        (NOTIFY_DELAY, "DELAY"),
    ]
    .iter()
    .filter(|(bit, _)| mask & bit != 0)
    .map(|(_, name)| *name)
    .collect::<Vec<_>>()
    .join(",")
}

/// An envelope address as it goes on the wire (`smtp_quote_821_address()`).
fn quote_address(state: &State, addr: &str) -> String {
    // The null sender stays `<>`: quoting would make it `<"">`.
    if state.settings.quote_821 && !addr.is_empty() {
        rfc822::quote821::quote_821_local(addr, rfc822::quote::QuoteFlags::EIGHT_BIT_CLEAN)
    } else {
        addr.to_string()
    }
}

/// An envelope address through smtp_generic_maps, when there are any
/// (`smtp_rewrite_generic_internal()`).
fn generic_internal(state: &State, addr: &str) -> String {
    match &state.settings.generic {
        Some(generic) => generic.envelope(addr),
        None => addr.to_string(),
    }
}

/// The MAIL FROM command.
fn mail_command(state: &State, session: &Session) -> String {
    let request = &state.request;
    let sender = generic_internal(state, &request.sender);
    let mut cmd = format!("MAIL FROM:<{}>", quote_address(state, &sender));
    // No SIZE when downgrading: the size is about to change.
    if session.features & feature::SIZE != 0 && !crate::content::downgrading(state, session) {
        cmd.push_str(&format!(" SIZE={}", request.data_size));
    }
    if session.features & feature::EIGHTBITMIME != 0 {
        match request.encoding.as_str() {
            "8bit" => cmd.push_str(" BODY=8BITMIME"),
            "7bit" => cmd.push_str(" BODY=7BIT"),
            "" => {}
            other => log::msg_warn!("{}: unknown content encoding: {other}", request.queue_id),
        }
    }
    if session.features & feature::DSN != 0 {
        if !request.dsn_envid.is_empty() {
            cmd.push_str(&format!(" ENVID={}", xtext_quote(&request.dsn_envid, "+=")));
        }
        match request.dsn_ret {
            1 => cmd.push_str(" RET=FULL"),
            2 => cmd.push_str(" RET=HDRS"),
            _ => {}
        }
    }
    if session.features & feature::SMTPUTF8 != 0 && request.smtputf8 & SMTPUTF8_FLAG_REQUESTED != 0
    {
        cmd.push_str(" SMTPUTF8");
    }
    cmd
}

/// The RCPT TO command of recipient `rcpt`.
fn rcpt_command(state: &State, session: &Session, rcpt: usize) -> String {
    let request = &state.request;
    let r = &request.rcpt_list[rcpt];
    let address = generic_internal(state, &r.address);
    let mut cmd = format!("RCPT TO:<{}>", quote_address(state, &address));
    if session.features & feature::DSN != 0 {
        let mut orcpt = r.dsn_orcpt.clone();
        if orcpt.is_empty() && !r.orig_addr.is_empty() {
            let quoted = rfc822::quote::quote_822_local(
                &r.orig_addr,
                rfc822::quote::QuoteFlags::EIGHT_BIT_CLEAN,
            );
            let utf8 = request.smtputf8 != 0 && !quoted.is_ascii();
            orcpt = format!("{};{quoted}", if utf8 { "utf-8" } else { "rfc822" });
        }
        // The encoding must match the type; an address that is not UTF-8 after all
        // goes without ORCPT.
        if orcpt.to_ascii_lowercase().starts_with("utf-8;") {
            if let Some(quoted) = uxtext_quote(&orcpt, "+=") {
                cmd.push_str(&format!(" ORCPT={quoted}"));
            }
        } else if !orcpt.is_empty() {
            cmd.push_str(&format!(" ORCPT={}", xtext_quote(&orcpt, "+=")));
        }
        if r.dsn_notify != 0 {
            cmd.push_str(&format!(" NOTIFY={}", notify_str(r.dsn_notify)));
        }
    }
    cmd
}

/// One mail transaction (`smtp_xfer()`, `smtp_loop()`): 0, or -1 when the session broke.
pub fn xfer(state: &mut State, session: &mut Session) -> i32 {
    let request_size = state.request.data_size;
    if session.size_limit > 0 && (session.size_limit as i64) < request_size {
        let reason = format!(
            "message size {request_size} exceeds size limit {} of server {}",
            session.size_limit, session.namaddr
        );
        let relay = session.namaddrport.clone();
        state.misc_fail(
            Fail::Message,
            Some(&relay),
            None,
            &Resp::fake("5.3.4"),
            reason,
        );
        state.complete_session = true;
        return 0;
    }
    let status = transaction(state, session);
    if status == 0 && !session.broken {
        state.complete_session = true;
    }
    status
}

/// MAIL, RCPT, DATA, the message and the end: the sender and receiver of
/// `smtp_loop()`.
fn transaction(state: &mut State, session: &mut Session) -> i32 {
    let probe_at_rcpt = trace_only(state.request.flags) && !state.settings.verify_target_data;
    let probe_at_data = trace_only(state.request.flags) && state.settings.verify_target_data;
    let rcpts = state.unmarked();
    let pipelining = session.features & feature::PIPELINING != 0;
    state.request.msg_stats.reuse_count = session.reuse_count;
    state.request.msg_stats.conn_setup_done = global::msg_stats::now();

    // The commands up to DATA (RSET for a probe that ends at RCPT).
    let mut plan = xforward_commands(state, session);
    plan.push((Stage::Mail, mail_command(state, session)));
    for &rcpt in &rcpts {
        plan.push((Stage::Rcpt, rcpt_command(state, session, rcpt)));
    }
    plan.push(if probe_at_rcpt {
        (Stage::Abort, "RSET".to_string())
    } else {
        (Stage::Data, "DATA".to_string())
    });

    let mut mail_from_rejected = false;
    let mut accepted: Vec<usize> = Vec::new();
    let mut data_ok = false;
    let mut recv_rcpt = 0;
    // The sender runs ahead of the receiver: with PIPELINING as far as one buffer of
    // commands (Postfix's PIPELINING_BUFSIZE), without it one command.
    let mut queued = 0;
    for (index, (stage, _)) in plan.iter().enumerate() {
        while queued < plan.len() && (queued == index || pipelining) {
            let (next, cmd) = &plan[queued];
            if queued > index && session.chat.pending() + cmd.len() + 2 > PIPELINING_BUFSIZE {
                break;
            }
            // Stop where Postfix's sender would once the replies so far are in.
            if queued == index
                && ((*next == Stage::Rcpt && mail_from_rejected)
                    || (*next == Stage::Data && accepted.is_empty()))
            {
                break;
            }
            session.chat.cmd(cmd);
            queued += 1;
        }
        if queued == index {
            break;
        }
        session.stage(state, *stage);
        let resp = match session.chat.resp() {
            Ok(resp) => resp,
            Err(e) => return session.except(state, e, stage.doing()),
        };
        match stage {
            Stage::XforwardNameAddr | Stage::XforwardProtoHelo if resp.code / 100 != 2 => {
                log::msg_warn!(
                    "host {} said: {} (in reply to {})",
                    session.namaddrport,
                    resp.one_line(),
                    stage.request()
                );
            }
            Stage::Mail if resp.code / 100 != 2 => {
                session.mesg_said(state, &resp, Stage::Mail);
                mail_from_rejected = true;
            }
            Stage::Rcpt => {
                let rcpt = rcpts[recv_rcpt];
                recv_rcpt += 1;
                if mail_from_rejected {
                    continue;
                }
                if resp.code / 100 == 2 {
                    accepted.push(rcpt);
                    if probe_at_rcpt {
                        session.done(state, rcpt, &resp);
                    }
                } else {
                    session.rcpt_said(state, rcpt, &resp, Stage::Rcpt);
                }
            }
            Stage::Data => {
                if resp.code / 100 != 3 {
                    if !accepted.is_empty() {
                        session.mesg_said(state, &resp, Stage::Data);
                    }
                } else if probe_at_data {
                    // The server waits for the message: hang up without a word.
                    let mut done = resp.clone();
                    done.dsn = "2.0.0".into();
                    for &rcpt in &accepted {
                        if state.marks[rcpt] == Mark::None {
                            session.done(state, rcpt, &done);
                        }
                    }
                    session.broken = true;
                    return 0;
                } else {
                    data_ok = true;
                }
            }
            Stage::Abort => {
                // The probe's RSET: what it says does not matter.
                return finish(state, session, Stage::Abort, true);
            }
            _ => {}
        }
    }
    if data_ok && accepted.is_empty() {
        return empty_data(state, session, pipelining);
    }
    if !data_ok || accepted.is_empty() {
        // The course correction: RSET, and QUIT unless the session is kept.
        crate::reuse::check_expired(state, session);
        session.chat.cmd("RSET");
        return finish(state, session, Stage::Abort, false);
    }
    // The message, then "." (with QUIT right behind it when pipelining).
    session.chat.stage(state.settings.timeouts.data_xfer);
    if let Err(e) = crate::content::send_content(state, session) {
        return match e {
            ContentError::Net(e) => session.except(state, e, "sending message body"),
            ContentError::Data => session.except(state, Except::Data, "sending message body"),
            ContentError::Corrupt(status) => status,
        };
    }
    session.chat.cmd(".");
    crate::reuse::check_expired(state, session);
    let cached = crate::reuse::is_cached(session);
    let quit_sent = pipelining && !cached;
    if quit_sent {
        session.chat.cmd("QUIT");
    }
    let survivors = accepted;
    let replies = if state.settings.lmtp {
        survivors.len()
    } else {
        1
    };
    let mut got = Vec::new();
    session.stage(state, Stage::Dot);
    for _ in 0..replies {
        match session.chat.resp() {
            Ok(resp) => got.push(resp),
            Err(e) => return session.except(state, e, Stage::Dot.doing()),
        }
        if state.settings.lmtp {
            let resp = got.last().unwrap().clone();
            let rcpt = survivors[got.len() - 1];
            state.request.msg_stats.deliver_done = global::msg_stats::now();
            if resp.code / 100 != 2 {
                session.rcpt_said(state, rcpt, &resp, Stage::Dot);
            } else {
                session.done(state, rcpt, &resp);
            }
            if log::verbose() > 0 {
                log::msg_info!(
                    "smtp_loop: got {} of {} end-of-data replies",
                    got.len(),
                    survivors.len()
                );
            }
        }
    }
    if !state.settings.lmtp {
        state.request.msg_stats.deliver_done = global::msg_stats::now();
        let resp = &got[0];
        if resp.code / 100 != 2 {
            session.mesg_said(state, resp, Stage::Dot);
        } else {
            for &rcpt in &survivors {
                if state.marks[rcpt] == Mark::None {
                    session.done(state, rcpt, resp);
                }
            }
        }
    }
    if cached {
        // The connection cache takes it, no QUIT.
        return 0;
    }
    end_quit(state, session, quit_sent);
    0
}

/// The server took DATA although it took no recipient (their replies came pipelined
/// after DATA): the message is an empty one, "." alone (RFC 2197), whose reply does not
/// matter, then QUIT.
fn empty_data(state: &mut State, session: &mut Session, pipelining: bool) -> i32 {
    session.chat.cmd(".");
    if pipelining {
        session.chat.cmd("QUIT");
    }
    session.stage(state, Stage::Dot);
    if let Err(e) = session.chat.resp() {
        return session.except(state, e, Stage::Dot.doing());
    }
    end_quit(state, session, pipelining);
    0
}

/// After RSET (a probe's or a course correction): its reply, then QUIT unless the
/// session is kept.
fn finish(state: &mut State, session: &mut Session, stage: Stage, read_rset_done: bool) -> i32 {
    if !read_rset_done {
        session.stage(state, stage);
        if session.chat.resp().is_err() {
            session.broken = true;
            return -1;
        }
    }
    if !crate::reuse::is_cached(session) {
        quit(state, session);
    }
    0
}

/// QUIT, and its reply unless `smtp_skip_quit_response` (`smtp_quit()`); errors do not
/// matter any more.
pub fn quit(state: &State, session: &mut Session) {
    end_quit(state, session, false);
}

/// QUIT unless it went out already (pipelined behind the end of the message), its
/// reply unless `smtp_skip_quit_response`, and the end of the connection.
fn end_quit(state: &State, session: &mut Session, quit_sent: bool) {
    if !quit_sent {
        session.chat.cmd("QUIT");
    }
    if state.settings.skip_quit_resp {
        let _ = session.chat.flush();
    } else {
        session.stage(state, Stage::Quit);
        let _ = session.chat.resp();
    }
    session.chat.shutdown();
    session.broken = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xtext_and_notify() {
        assert_eq!(xtext_quote("a+b=c d", "+="), "a+2Bb+3Dc+20d");
        assert_eq!(
            uxtext_quote("utf-8;j\u{f6}rg+x@b\\c", "+=").as_deref(),
            Some("utf-8;j\\x{F6}rg\\x{2B}x@b\\x{5C}c")
        );
        use global::dsn_mask::*;
        assert_eq!(notify_str(NOTIFY_SUCCESS | NOTIFY_DELAY), "SUCCESS,DELAY");
        assert_eq!(notify_str(NOTIFY_NEVER), "NEVER");
    }
}
