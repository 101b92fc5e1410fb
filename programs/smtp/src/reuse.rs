//! Connection reuse through the connection cache service (scache): a session that
//! delivered its mail is handed to scache instead of being ended with QUIT, and a
//! later delivery to the same destination or server takes it back, sends RSET, and
//! goes on from MAIL FROM.
//!
//! Postfix counterparts: `smtp/smtp_reuse.c` (`smtp_save_session()`,
//! `smtp_reuse_nexthop()`, `smtp_reuse_addr()`, `smtp_reuse_common()`),
//! `smtp/smtp_session.c` (`smtp_session_passivate()`, `smtp_session_activate()`),
//! `smtp/smtp_key.c` (the lookup labels) and `smtp_cache_policy()` in
//! `smtp/smtp_connect.c`. A session is kept when its destination is in
//! smtp_connection_cache_destinations, or on demand when the queue manager asks for it
//! (the request's CONN_STORE and CONN_LOAD flags, smtp_connection_cache_on_demand);
//! it is kept for smtp_connection_cache_time_limit, used again until
//! smtp_connection_reuse_time_limit after it was made and at most
//! smtp_connection_reuse_count_limit times. The session is found by the request's next
//! hop (the destination label, first next hop only) or by the server's address (the
//! endpoint label). The properties travel as Postfix's `name=value` lists, so that the
//! delivery log's `conn_use=N` counts the uses.
//!
//! TLS sessions are never kept: Postfix 3.7 keeps them only through tlsproxy
//! (smtp_tls_connection_reuse), which ironpost does not have; a TLS state cannot travel
//! with a descriptor.

use crate::chat::{Chat, Conn};
use crate::proto::Session;
use crate::settings::TlsLevel;
use crate::state::State;
use global::deliver_request::{DEL_REQ_FLAG_CONN_LOAD, DEL_REQ_FLAG_CONN_STORE};
use params::decl::smtp_cache::*;
use params::{ConfigError, Param};
use std::cell::RefCell;
use std::net::TcpStream;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

/// The cache's main.cf settings and the process's client of the service.
pub struct Config {
    destinations: Option<global::match_list::MatchList>,
    on_demand: bool,
    cache_ttl: i32,
    reuse_time: i64,
    reuse_count: i32,
    /// The master.cf service name, the first part of every label.
    pub service: String,
    client: RefCell<global::scache_clnt::ScacheClient>,
}

impl Config {
    /// The settings of `smtp` or `lmtp`.
    pub fn from_config(config: &params::Config, lmtp: bool) -> Result<Config, ConfigError> {
        let pick = |smtp: &'static Param, lmtp_twin: &'static Param| {
            if lmtp { lmtp_twin } else { smtp }
        };
        let dest_param = pick(
            &SMTP_CONNECTION_CACHE_DESTINATIONS,
            &LMTP_CONNECTION_CACHE_DESTINATIONS,
        );
        let dest_text = config.str(dest_param)?;
        let destinations = if dest_text.trim().is_empty() {
            None
        } else {
            // Postfix names the list after the smtp parameter in both modes.
            let title = SMTP_CONNECTION_CACHE_DESTINATIONS.name;
            let flags = global::match_list::ListFlags {
                parent: global::match_list::parent_style(config, title)?,
                utf8: config.bool(&params::decl::identity::SMTPUTF8_ENABLE)?,
            };
            Some(global::match_list::MatchList::new(
                title,
                flags,
                &dest_text,
                &[global::match_list::Matcher::String],
            ))
        };
        Ok(Config {
            destinations,
            on_demand: config.bool(pick(
                &SMTP_CONNECTION_CACHE_ON_DEMAND,
                &LMTP_CONNECTION_CACHE_ON_DEMAND,
            ))?,
            cache_ttl: config.time(pick(
                &SMTP_CONNECTION_CACHE_TIME_LIMIT,
                &LMTP_CONNECTION_CACHE_TIME_LIMIT,
            ))? as i32,
            reuse_time: config.time(pick(
                &SMTP_CONNECTION_REUSE_TIME_LIMIT,
                &LMTP_CONNECTION_REUSE_TIME_LIMIT,
            ))?,
            reuse_count: config.int(pick(
                &SMTP_CONNECTION_REUSE_COUNT_LIMIT,
                &LMTP_CONNECTION_REUSE_COUNT_LIMIT,
            ))? as i32,
            service: String::new(),
            client: RefCell::new(global::scache_clnt::ScacheClient::from_config(config)?),
        })
    }
}

/// What a delivery may do with the cache (`SMTP_MISC_FLAG_CONN_LOAD`, `_STORE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Look for a kept session.
    pub load: bool,
    /// Keep this delivery's sessions.
    pub store: bool,
}

/// `smtp_cache_policy()`: for every session to `dest` when it is listed, else as the
/// request asks when caching on demand is on.
pub fn policy(state: &State, dest: &str) -> Policy {
    let cache = &state.settings.cache;
    if let Some(list) = &cache.destinations
        && list.matches(&[dest]).unwrap_or(false)
    {
        return Policy {
            load: true,
            store: true,
        };
    }
    if !cache.on_demand {
        return Policy::default();
    }
    Policy {
        load: state.request.flags & DEL_REQ_FLAG_CONN_LOAD != 0,
        store: state.request.flags & DEL_REQ_FLAG_CONN_STORE != 0,
    }
}

/// The server a session talks to, as the labels and properties name it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The current next hop (`[host]:port`, `domain`).
    pub dest: String,
    /// The server's name.
    pub host: String,
    /// Its address.
    pub addr: String,
    /// Its port.
    pub port: u16,
}

/// A label field (`smtp_key_append_str()`): `*` for none, base64 for text that holds
/// the delimiters, each followed by a newline.
fn field(out: &mut String, value: &str) {
    if value.is_empty() {
        out.push_str("*\n");
    } else if value.contains(['\n', '*']) {
        out.push_str(&global::msg_stats::base64_encode(value.as_bytes()));
        out.push('\n');
    } else {
        out.push_str(value);
        out.push('\n');
    }
}

/// Whether the sender is part of the labels (`COND_SASL_SMTP_KEY_FLAG_SENDER`): with
/// sender-dependent credentials, a session authenticated for one sender must not
/// carry another sender's mail.
fn sender_field(state: &State, out: &mut String) {
    let settings = state.settings;
    if settings.sender_auth && settings.sasl_passwd_maps.is_some() {
        field(out, &state.request.sender);
    }
}

/// The destination label (`SMTP_KEY_MASK_SCACHE_DEST_LABEL`): service, the sender
/// with smtp_sender_dependent_authentication, and the request's next hop.
pub fn dest_label(state: &State, request_nexthop: &str) -> String {
    let cache = &state.settings.cache;
    let mut out = String::new();
    field(&mut out, &cache.service);
    sender_field(state, &mut out);
    field(&mut out, request_nexthop);
    out
}

/// Postfix's number of a TLS level (`TLS_LEV_*`), part of the endpoint label.
fn level_number(level: TlsLevel) -> u32 {
    match level {
        TlsLevel::Invalid | TlsLevel::None => 0,
        TlsLevel::May => 1,
        TlsLevel::Encrypt => 2,
        TlsLevel::Fingerprint => 3,
        TlsLevel::Dane => 5,
        TlsLevel::DaneOnly => 6,
        TlsLevel::Verify => 7,
        TlsLevel::Secure => 8,
    }
}

/// The endpoint label (`SMTP_KEY_MASK_SCACHE_ENDP_LABEL`): service, the sender with
/// smtp_sender_dependent_authentication, the next hop and server name where SASL
/// credentials may differ, the next hop where the
/// certificate must match it, the address, port and TLS level.
pub fn endp_label(state: &State, endp: &Endpoint, level: TlsLevel) -> String {
    let settings = state.settings;
    let sasl = settings.sasl_passwd_maps.is_some();
    let mut out = String::new();
    field(&mut out, &settings.cache.service);
    sender_field(state, &mut out);
    if sasl || level > TlsLevel::Encrypt {
        field(&mut out, &endp.dest);
    }
    if sasl {
        field(&mut out, &endp.host);
    }
    field(&mut out, &endp.addr);
    out.push_str(&format!("{}\n", endp.port));
    out.push_str(&format!("{}\n", level_number(level)));
    out
}

/// The level of a kept session: plaintext ones at level none or may, and with
/// smtp_tls_connection_reuse those whose TLS is tlsproxy's, at any level.
fn level_from_number(number: u32) -> TlsLevel {
    match number {
        0 => TlsLevel::None,
        1 => TlsLevel::May,
        2 => TlsLevel::Encrypt,
        3 => TlsLevel::Fingerprint,
        5 => TlsLevel::Dane,
        6 => TlsLevel::DaneOnly,
        7 => TlsLevel::Verify,
        8 => TlsLevel::Secure,
        _ => TlsLevel::Invalid,
    }
}

/// `name=value` lines and an empty line (`attr_print_plain()`).
fn print_plain(attrs: &[(&str, String)]) -> String {
    let mut out: String = attrs.iter().map(|(n, v)| format!("{n}={v}\n")).collect();
    out.push('\n');
    out
}

/// The values of `names`, in this order, from a `name=value` list
/// (`attr_scan_plain()`); None when one is missing.
fn scan_plain(text: &str, names: &[&str]) -> Option<Vec<String>> {
    let pairs: Vec<(&str, &str)> = text
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once('='))
        .collect();
    names
        .iter()
        .map(|name| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.to_string())
        })
        .collect()
}

fn now() -> i64 {
    global::msg_stats::now().0
}

/// A new session may be kept until smtp_connection_reuse_time_limit from now
/// (`CACHE_THIS_SESSION_UNTIL()`), if the delivery stores sessions.
pub fn expire_time(state: &State, store: bool) -> i64 {
    if store {
        now() + state.settings.cache.reuse_time
    } else {
        0
    }
}

/// `THIS_SESSION_IS_EXPIRED` then `DONT_CACHE_THIS_SESSION`: past its time, or used
/// as often as smtp_connection_reuse_count_limit allows.
pub fn check_expired(state: &State, session: &mut Session) {
    let limit = state.settings.cache.reuse_count;
    if session.expire_time > 0
        && (session.expire_time < now() || (limit > 0 && session.reuse_count >= limit))
    {
        session.expire_time = 0;
    }
}

/// `SMTP_FEATURE_FROM_PROXY`: the kept session's TLS is tlsproxy's, and its TLS
/// context follows the endpoint properties.
const FROM_PROXY: u32 = 1 << 22;

/// Whether the session is to be kept (`THIS_SESSION_IS_CACHED`).
pub fn is_cached(session: &Session) -> bool {
    session.expire_time > 0 && !session.broken
}

/// Hands the session to scache (`smtp_save_session()`): under the endpoint label, and
/// under the destination label when the request's next hop is still to be cached.
pub fn save(state: &State, session: &mut Session, endp: &Endpoint, request_nexthop: &str) {
    let Some((fd, context)) = session.chat.take_socket() else {
        return;
    };
    let cache = &state.settings.cache;
    let dest_prop = print_plain(&[
        ("destination", endp.dest.clone()),
        ("host_name", endp.host.clone()),
        ("host_addr", endp.addr.clone()),
        // SMTP_FEATURE_BEST_MX, the one destination-specific feature.
        (
            "destination_features",
            if session.best_mx { 1 << 12 } else { 0 }.to_string(),
        ),
    ]);
    let from_proxy = if context.is_some() { FROM_PROXY } else { 0 };
    let mut endp_prop = print_plain(&[
        ("tls_level", level_number(session.tls_level).to_string()),
        ("reuse_count", session.reuse_count.to_string()),
        (
            "endpoint_features",
            (session.features | from_proxy).to_string(),
        ),
        ("expire_time", session.expire_time.to_string()),
    ]);
    // The TLS context of a session through tlsproxy follows, for the process that
    // takes the session over to log and judge by.
    if let Some(context) = context {
        let mut plain = Vec::new();
        if ipc::attr::write(&mut plain, ipc::Flavor::Plain, &context).is_err() {
            return;
        }
        endp_prop.push_str(&String::from_utf8_lossy(&plain));
    }
    let endp_label = endp_label(state, endp, session.tls_level);
    session.broken = true;
    let mut client = cache.client.borrow_mut();
    // The endpoint first: the destination entry names it.
    client.save_endp(cache.cache_ttl, &endp_label, &endp_prop, fd);
    if !request_nexthop.is_empty() {
        client.save_dest(
            cache.cache_ttl,
            &dest_label(state, request_nexthop),
            &dest_prop,
            &endp_label,
        );
    }
}

/// A kept session for the request's next hop (`smtp_reuse_nexthop()`), with the
/// server it talks to, after a good RSET.
pub fn reuse_nexthop(
    state: &mut State,
    request_nexthop: &str,
    policy: &crate::tls_policy::Policy,
) -> Option<(Session, Endpoint)> {
    let label = dest_label(state, request_nexthop);
    let found = state.settings.cache.client.borrow_mut().find_dest(&label);
    let (dest_prop, endp_prop, fd) = found?;
    let values = scan_plain(
        &dest_prop,
        &[
            "destination",
            "host_name",
            "host_addr",
            "destination_features",
        ],
    );
    let Some(values) = values else {
        log::msg_warn!("smtp_session_passivate: bad cached dest properties");
        return None;
    };
    // The port is not among the properties: the socket knows it.
    let mut endp = Endpoint {
        dest: values[0].clone(),
        host: values[1].clone(),
        addr: values[2].clone(),
        port: 0,
    };
    let best_mx = values[3].parse::<u32>().unwrap_or(0) & (1 << 12) != 0;
    let mut session = activate(state, fd, &mut endp, &endp_prop, &label, policy)?;
    session.best_mx = best_mx;
    Some((session, endp))
}

/// A kept session with the server at `endp` (`smtp_reuse_addr()`), after a good RSET.
pub fn reuse_addr(
    state: &mut State,
    endp: &mut Endpoint,
    policy: &crate::tls_policy::Policy,
) -> Option<Session> {
    let label = endp_label(state, endp, policy.level);
    let found = state.settings.cache.client.borrow_mut().find_endp(&label);
    let (endp_prop, fd) = found?;
    activate(state, fd, endp, &endp_prop, &label, policy)
}

/// `smtp_session_activate()` and `smtp_reuse_common()`: the session from its
/// descriptor and properties, then RSET to see that it still works.
fn activate(
    state: &mut State,
    fd: OwnedFd,
    endp: &mut Endpoint,
    endp_prop: &str,
    label: &str,
    policy: &crate::tls_policy::Policy,
) -> Option<Session> {
    let names = [
        "tls_level",
        "reuse_count",
        "endpoint_features",
        "expire_time",
    ];
    let values = scan_plain(endp_prop, &names).and_then(|v| {
        Some((
            v[0].parse::<u32>().ok()?,
            v[1].parse::<i32>().ok()?,
            v[2].parse::<u32>().ok()?,
            v[3].parse::<i64>().ok()?,
        ))
    });
    // A session through tlsproxy has its TLS context after the endpoint's list.
    let context = values.and_then(|(level, _, features, _)| {
        let proxied = features & FROM_PROXY != 0;
        if !proxied {
            return Some(None);
        }
        let rest = endp_prop.split_once("\n\n")?.1;
        let context = ipc::attr::read(&mut rest.as_bytes(), ipc::Flavor::Plain).ok()??;
        (level > 0).then_some(Some(context))
    });
    let (Some((level, reuse_count, features, expire_time)), Some(context)) = (values, context)
    else {
        log::msg_warn!("smtp_session_activate: bad cached endp properties");
        log::msg_warn!("smtp_reuse_common: bad cached session attribute for {label}");
        return None;
    };
    // An LMTP session over a UNIX-domain socket has no port.
    let unix = sys::nix::sys::socket::getsockname::<sys::nix::sys::socket::SockaddrStorage>(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
    )
    .is_ok_and(|a| a.as_unix_addr().is_some());
    let namaddr = format!("{}[{}]", endp.host, endp.addr);
    let (conn, namaddrport) = if let Some(context) = context {
        let stream = std::io::BufReader::new(UnixStream::from(fd));
        let summary = crate::tlsproxy_clnt::summary(&context);
        let proxied = crate::chat::Proxied {
            stream,
            context,
            summary,
        };
        // The socket is tlsproxy's: the context's host[addr]:port names the server.
        let namaddrport = proxied
            .context
            .get_str("namaddr")
            .map(str::to_string)
            .unwrap_or_else(|_| format!("{namaddr}:{}", endp.port));
        if endp.port == 0 {
            endp.port = namaddrport
                .rsplit_once("]:")
                .and_then(|(_, p)| p.parse().ok())
                .unwrap_or(0);
        }
        (Conn::Proxy(Box::new(proxied)), namaddrport)
    } else if unix {
        (Conn::Unix(UnixStream::from(fd)), namaddr.clone())
    } else {
        let socket = TcpStream::from(fd);
        if endp.port == 0 {
            endp.port = socket.peer_addr().map(|a| a.port()).unwrap_or(0);
        }
        let namaddrport = format!("{namaddr}:{}", endp.port);
        (Conn::Tcp(socket), namaddrport)
    };
    let port = endp.port;
    let debug = crate::debug_peer::DebugPeer::check(state.settings, &endp.host, &endp.addr);
    let mut chat = Chat::for_delivery(conn, namaddrport.clone(), state);
    chat.pipelining = features & crate::proto::feature::PIPELINING != 0;
    let features = features & !FROM_PROXY;
    let mut session = Session {
        chat,
        host: endp.host.clone(),
        namaddr,
        namaddrport,
        features,
        size_limit: 0,
        best_mx: false,
        broken: false,
        // The level the session was made with (`SESS_ATTR_TLS_LEVEL`).
        tls_level: level_from_number(level),
        tls_policy: policy.clone(),
        tls_nexthop: String::new(),
        dest: endp.dest.clone(),
        sasl_mechanisms: None,
        tls_retry_plain: false,
        expire_time,
        reuse_count: reuse_count + 1,
        _debug: Some(debug),
    };
    if log::verbose() > 0 {
        log::msg_info!(
            "smtp_session_activate: dest={} host={} addr={} port={port} features=0x{features:x}, ttl={}, reuse={reuse_count}",
            endp.dest,
            endp.host,
            endp.addr,
            expire_time - now()
        );
    }
    if let Some(summary) = session.chat.tls_summary().filter(|_| session.chat.in_tls()) {
        let line = summary.established("to", &session.namaddrport);
        log::msg_info!(
            "{}",
            line.replacen(" TLS connection established ", " TLS connection reused ", 1)
        );
    }
    // `smtp_rset()`: a session the server gave up on is closed without a word.
    session.chat.stage(state.settings.timeouts.rset);
    session.chat.cmd("RSET");
    match session.chat.resp() {
        Ok(resp) if resp.code / 100 == 2 => Some(session),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_a_kept_session_can_have_comes_back() {
        use TlsLevel::*;
        for level in [
            None,
            May,
            Encrypt,
            Fingerprint,
            Dane,
            DaneOnly,
            Verify,
            Secure,
        ] {
            assert_eq!(level_from_number(level_number(level)), level);
        }
    }

    #[test]
    fn labels_and_properties() {
        let mut out = String::new();
        field(&mut out, "smtp");
        field(&mut out, "");
        field(&mut out, "a*b");
        assert_eq!(out, "smtp\n*\nYSpi\n");
        let text = print_plain(&[("reuse_count", "2".into()), ("expire_time", "9".into())]);
        assert_eq!(text, "reuse_count=2\nexpire_time=9\n\n");
        assert_eq!(
            scan_plain(&text, &["expire_time", "reuse_count"]),
            Some(vec!["9".to_string(), "2".to_string()])
        );
        assert_eq!(scan_plain(&text, &["tls_level"]), None);
    }
}
