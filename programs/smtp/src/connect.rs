//! From the request's next hop to sessions: destinations, their servers' addresses, the
//! connections, and the order in which servers are tried.
//!
//! Postfix counterpart: `smtp/smtp_connect.c` (`smtp_connect()`,
//! `smtp_connect_inet()`, `smtp_connect_local()`, `smtp_connect_addr()`,
//! `smtp_parse_destination()`). The next hop is a list of destinations (a domain whose
//! MX hosts are looked up, `[host]` without MX lookup, either with `:port`; for LMTP
//! `inet:host:port` or `unix:/path`), followed by `smtp_fallback_relay`. Each
//! destination's addresses come from crates/dns ([`dns::smtp_addr`]); the client tries
//! them in order, up to `smtp_mx_address_limit` addresses and `smtp_mx_session_limit`
//! sessions, until no recipient is left. Only the last server of the last destination
//! defers or bounces on a soft error; before that, recipients wait for the next one.

use crate::chat::{Chat, Conn};
use crate::proto::{self, Session};
use crate::settings::Settings;
use crate::state::{Fail, State};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Delivers to the request's next hop (`smtp_connect()`); the status for the queue
/// manager.
pub fn smtp_connect(state: &mut State) -> i32 {
    let nexthop = state.request.nexthop.clone();
    if state.settings.lmtp {
        if let Some(path) = nexthop.strip_prefix("unix:") {
            connect_local(state, path);
        } else {
            let dest = nexthop.strip_prefix("inet:").unwrap_or(&nexthop);
            connect_inet(state, dest);
        }
    } else {
        connect_inet(state, &nexthop);
    }
    if state.rcpt_left() > 0 {
        state.final_server = true;
        state.bulk_fail(Fail::Site, None);
        state.rcpt_cleanup();
        if state.rcpt_left() > 0 {
            log::msg_panic!("smtp_connect: left-over recipients");
        }
    }
    state.status
}

/// The well-known ports Postfix knows without the services database
/// (`known_tcp_ports`), then /etc/services.
fn service_port(service: &str) -> Option<u16> {
    let known = [
        ("lmtp", 24),
        ("smtp", 25),
        ("smtps", 465),
        ("submissions", 465),
        ("submission", 587),
    ];
    if let Some((_, port)) = known.iter().find(|(name, _)| *name == service) {
        return Some(*port);
    }
    let services = std::fs::read_to_string("/etc/services").ok()?;
    services.lines().find_map(|line| {
        let line = line.split('#').next()?;
        let mut fields = line.split_whitespace();
        let name = fields.next()?;
        let (port, proto) = fields.next()?.split_once('/')?;
        let aliases: Vec<&str> = fields.collect();
        (proto == "tcp" && (name == service || aliases.contains(&service)))
            .then(|| port.parse().ok())
            .flatten()
    })
}

/// Splits a destination into host and port (`smtp_parse_destination()` with
/// `host_port()`): `[host]:port`, `host:port`, `[host]`, `host`; `def_service` when no
/// port is given. Fatal on a malformed one, as in Postfix.
pub fn parse_destination(dest: &str, def_service: &str) -> (String, u16) {
    let (host, service) = match split_host_port(dest) {
        Some((host, service)) => (host, service.unwrap_or(def_service)),
        None => log::msg_fatal!("host/service syntax error in server description: {dest}"),
    };
    let port = if !service.is_empty() && service.bytes().all(|b| b.is_ascii_digit()) {
        match service.parse::<u32>() {
            Ok(port) if port > 0 && port < 65536 => port as u16,
            _ => log::msg_fatal!("bad network port: {service} for destination: {dest}"),
        }
    } else {
        match service_port(service) {
            Some(port) => port,
            None => log::msg_fatal!("unknown service: {service}/tcp"),
        }
    };
    (host.to_string(), port)
}

/// `host_port()`: the host (without brackets) and the service, if any.
fn split_host_port(dest: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = dest.strip_prefix('[') {
        let (host, tail) = rest.split_once(']')?;
        return match tail {
            "" => Some((host, None)),
            _ => Some((host, Some(tail.strip_prefix(':')?))),
        };
    }
    // A bare IPv6 address has colons of its own.
    if dest.parse::<IpAddr>().is_ok() {
        return Some((dest, None));
    }
    match dest.rsplit_once(':') {
        Some((host, service)) => Some((host, Some(service))),
        None => Some((dest, None)),
    }
}

/// Delivers through a UNIX-domain LMTP server (`smtp_connect_local()`).
fn connect_local(state: &mut State, path: &str) {
    if !state.settings.fallback_relay.is_empty() {
        log::msg_warn!(
            "ignoring \"lmtp_fallback_relay = {}\" setting for non-TCP connections",
            state.settings.fallback_relay.join(" ")
        );
    }
    let host = state.settings.myhostname.clone();
    let namaddr = format!("{host}[{path}]");
    // The policy table is searched with the socket's path as the destination.
    let mut policy = match state.settings.tls_policy.query(path, &host, None) {
        Ok(policy) => policy,
        Err(invalid) => {
            state.why = invalid.dsn();
            let reason = &state.why.reason;
            log::msg_warn!("TLS policy lookup error for {host}/{path}: {reason}");
            return;
        }
    };
    if policy.level == crate::settings::TlsLevel::May {
        log::msg_warn!(
            "smtp_connect_local: opportunistic TLS encryption is not appropriate for unix-domain destinations."
        );
        policy.level = crate::settings::TlsLevel::None;
    }
    // The cache by the socket's path (`smtp_cache_policy(state, path)`).
    let mut cache = CacheState {
        policy: crate::reuse::policy(state, path),
        ..CacheState::default()
    };
    if cache.policy.load || cache.policy.store {
        cache.nexthop = path.to_string();
    }
    let endp = crate::reuse::Endpoint {
        dest: path.to_string(),
        host: host.clone(),
        addr: path.to_string(),
        port: 0,
    };
    state.final_server = true;
    if cache.policy.load
        && let Some((mut session, _)) = crate::reuse::reuse_nexthop(state, path, &policy)
    {
        proto::xfer(state, &mut session);
        cleanup(state, &mut session, Some(&endp), &mut cache);
        return;
    }
    if log::verbose() > 0 {
        log::msg_info!("smtp_connect_unix: trying: {path}...");
    }
    let conn = match UnixStream::connect(path) {
        Ok(conn) => conn,
        Err(e) => {
            state.why = global::dsn_print::Dsn::simple(
                "4.4.1",
                &format!("connect to {namaddr}: {}", sys::os_error(&e)),
            );
            return;
        }
    };
    let _debug = crate::debug_peer::DebugPeer::check(state.settings, &host, path);
    let mut session = new_session(
        state,
        Conn::Unix(conn),
        path,
        host,
        namaddr.clone(),
        namaddr,
        policy,
    );
    // Postfix's TLS_LEV_SECURE default "nexthop" is this host for a socket.
    session.tls_nexthop = state.settings.myhostname.clone();
    session.expire_time = crate::reuse::expire_time(state, cache.policy.store);
    let (mut count, mut last) = (0, true);
    run_session(
        state,
        &mut session,
        &mut count,
        &mut last,
        Some(&endp),
        &mut cache,
    );
}

/// The connection cache during one delivery: what the request may do, the next hop
/// still to be saved under (Postfix's `request_nexthop`, the first next hop's until a
/// session to it was used), and the addresses whose kept session was already used.
#[derive(Default)]
struct CacheState {
    policy: crate::reuse::Policy,
    nexthop: String,
    used: Vec<String>,
}

/// A session over a new connection.
fn new_session(
    state: &State,
    conn: Conn,
    dest: &str,
    host: String,
    namaddr: String,
    namaddrport: String,
    policy: crate::tls_policy::Policy,
) -> Session {
    let chat = Chat::for_delivery(conn, namaddrport.clone(), state);
    Session {
        chat,
        host,
        namaddr,
        namaddrport,
        features: 0,
        size_limit: 0,
        best_mx: false,
        broken: false,
        tls_level: policy.level,
        tls_policy: policy,
        tls_nexthop: String::new(),
        dest: dest.to_string(),
        sasl_mechanisms: None,
        tls_retry_plain: false,
        expire_time: 0,
        reuse_count: 0,
        _debug: None,
    }
}

/// Delivers through TCP servers (`smtp_connect_inet()`).
fn connect_inet(state: &mut State, nexthop: &str) {
    let settings = state.settings;
    if !settings.inet.accepts(&IpAddr::from([127, 0, 0, 1]))
        && !settings
            .inet
            .accepts(&IpAddr::from(std::net::Ipv6Addr::LOCALHOST))
    {
        state.why = global::dsn_print::Dsn::simple("4.4.4", "all network protocols are disabled");
        return;
    }
    let mut sites: Vec<String> = nexthop
        .split([',', ' ', '\t', '\n'])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if sites.is_empty() {
        log::msg_panic!("null destination: \"{nexthop}\"");
    }
    let non_fallback_sites = sites.len();
    sites.extend(settings.fallback_relay.iter().cloned());
    let resolver = dns::Resolver::system();
    let mut random = dns::random::SeededRandom::new();
    let native = |host: &str| dns::native::hostname_to_addrs(host);
    let mut last_site = 0;
    let mut cache = CacheState::default();
    for (index, dest) in sites.iter().enumerate() {
        if state.rcpt_left() == 0 {
            break;
        }
        last_site = index;
        if index + 1 == sites.len() {
            state.final_nexthop = true;
        }
        let (domain, port) = parse_destination(dest, &settings.tcp_port);
        if log::verbose() > 0 {
            log::msg_info!("connecting to {domain} service {port}");
        }
        settings.tls_policy.note_port_465(port);
        let literal = dest.starts_with('[');
        let lookup_mx = !settings.lmtp && !literal && settings.dns_enabled;
        state.loop_detect = !settings.lmtp && port == 25;
        let addr_settings = dns::smtp_addr::Settings {
            dns: settings.lookup_dns,
            native: if settings.lookup_native {
                Some(&native)
            } else {
                None
            },
            inet: settings.inet,
            address_preference: settings.address_preference,
            randomize_addresses: settings.randomize,
            mx_address_limit: settings.mx_address_limit,
            balance_inet_protocols: settings.balance,
            ignore_mx_lookup_error: settings.ignore_mx_lookup_error,
            defer_if_no_mx_address_found: settings.defer_if_no_mx_address,
            dnssec: settings.tls_policy.dnssec(),
            insecure_mx_dnssec: settings.tls_policy.insecure_mx_dnssec(),
            resolver_options: dns::ResFlags::default(),
            loop_detect: state.loop_detect,
            own_addrs: settings.own_addrs.clone(),
            proxy_addrs: settings.proxy_addrs.clone(),
        };
        let mut lookups = dns::smtp_addr::SmtpAddr::new(&resolver, addr_settings, &mut random);
        let list = if lookup_mx {
            lookups.domain_addr(&domain)
        } else {
            lookups.host_addr(&domain)
        };
        if !list.why.status.is_empty() {
            state.why = global::dsn_print::Dsn::simple(&list.why.status, &list.why.reason);
        }
        if list.found_myself || (list.addrs.is_empty() && list.why.status == "5.4.6") {
            state.final_nexthop = true;
        }
        let best_pref = list.addrs.first().map(|a| a.pref);
        let mut sess_count = 0;
        // The cache policy is the first next hop's (`SMTP_MISC_FLAG_FIRST_NEXTHOP`).
        if !list.addrs.is_empty() && index == 0 {
            cache.policy = crate::reuse::policy(state, &domain);
            if cache.policy.load || cache.policy.store {
                cache.nexthop = dest.clone();
            }
        }
        // A session kept for the request's next hop first (`smtp_reuse_session()`).
        if !list.addrs.is_empty()
            && cache.policy.load
            && !cache.nexthop.is_empty()
            && state.rcpt_left() > 0
        {
            let plaintext = crate::tls_policy::Policy::plaintext();
            let nexthop = cache.nexthop.clone();
            if let Some((mut session, endp)) =
                crate::reuse::reuse_nexthop(state, &nexthop, &plaintext)
            {
                cache.used.push(endp.addr.clone());
                sess_count = 1;
                let left = list
                    .addrs
                    .iter()
                    .filter_map(|rr| rr.addr())
                    .filter(|a| a.to_string() != endp.addr)
                    .count();
                if state.final_nexthop && left == 0 {
                    state.final_server = true;
                }
                proto::xfer(state, &mut session);
                cleanup(state, &mut session, Some(&endp), &mut cache);
            }
        }
        let total = list.addrs.len();
        // After a failed TLS handshake the same address may be tried again in plaintext.
        let mut plain_retry = false;
        let mut n = 0;
        while n < total {
            let rr = &list.addrs[n];
            if state.rcpt_left() == 0 {
                break;
            }
            let Some(addr) = rr.addr() else {
                n += 1;
                continue;
            };
            // Its kept session was used already (`smtp_scrub_addr_list()`).
            if cache.used.contains(&addr.to_string()) {
                n += 1;
                continue;
            }
            let mut last = n + 1 == total
                || (settings.mx_address_limit > 0 && n + 1 == settings.mx_address_limit);
            let host = rr.qname.trim_end_matches('.').to_string();
            let hostaddr = addr.to_string();
            let namaddr = format!("{host}[{hostaddr}]");
            let namaddrport = format!("{namaddr}:{port}");
            // The policy before the connection: an invalid one skips this server.
            let server = crate::tls_policy::Server {
                host: &host,
                mx: list.mx.as_ref(),
                rr: Some(rr),
            };
            let found = settings
                .tls_policy
                .query_server(dest, &host, Some(port), &server);
            let mut policy = match found {
                Ok(policy) => policy,
                Err(invalid) => {
                    state.why = invalid.dsn();
                    log::msg_warn!("TLS policy lookup for {dest}/{host}: {}", state.why.reason);
                    if last {
                        break;
                    }
                    n += 1;
                    continue;
                }
            };
            if !settings.tls_policy.wrapper_allows(&policy) {
                if last {
                    break;
                }
                n += 1;
                continue;
            }
            if std::mem::take(&mut plain_retry) {
                policy.level = crate::settings::TlsLevel::None;
            }
            let mut endp = crate::reuse::Endpoint {
                dest: dest.clone(),
                host: host.clone(),
                addr: hostaddr.clone(),
                port,
            };
            // A session kept for this server (`smtp_reuse_addr()`): no greeting, no
            // EHLO, straight to the mail.
            if cache.policy.load
                && let Some(mut session) = crate::reuse::reuse_addr(state, &mut endp, &policy)
            {
                session.best_mx = Some(rr.pref) == best_pref;
                if state.final_nexthop && last {
                    state.final_server = true;
                }
                sess_count += 1;
                if settings.mx_session_limit > 0 && sess_count == settings.mx_session_limit {
                    last = true;
                }
                proto::xfer(state, &mut session);
                cleanup(state, &mut session, Some(&endp), &mut cache);
                if last {
                    break;
                }
                n += 1;
                continue;
            }
            let conn = match connect_addr(settings, SocketAddr::new(addr, port), &namaddr) {
                Ok(conn) => conn,
                Err(e) => {
                    state.why = match e {
                        ConnectError::Connect(e) => global::dsn_print::Dsn::simple(
                            "4.4.1",
                            &format!("connect to {namaddrport}: {}", sys::os_error(&e)),
                        ),
                        ConnectError::Bind => {
                            global::dsn_print::Dsn::simple("4.4.0", "server configuration error")
                        }
                    };
                    log::msg_info!("{}", state.why.reason);
                    if last {
                        break;
                    }
                    n += 1;
                    continue;
                }
            };
            let _debug = crate::debug_peer::DebugPeer::check(settings, &host, &hostaddr);
            let mut session = new_session(
                state,
                Conn::Tcp(conn),
                dest,
                host,
                namaddr,
                namaddrport,
                policy,
            );
            session.tls_nexthop = domain.clone();
            session.best_mx = Some(rr.pref) == best_pref;
            session.expire_time = crate::reuse::expire_time(state, cache.policy.store);
            if state.final_nexthop && last {
                state.final_server = true;
            }
            run_session(
                state,
                &mut session,
                &mut sess_count,
                &mut last,
                Some(&endp),
                &mut cache,
            );
            if session.tls_retry_plain && state.rcpt_left() > 0 {
                plain_retry = true;
                continue;
            }
            if last {
                break;
            }
            n += 1;
        }
        if state.final_nexthop {
            break;
        }
    }
    if state.rcpt_left() > 0 {
        if state.why.status.is_empty() {
            state.why = global::dsn_print::Dsn::simple(
                "4.3.0",
                "server unavailable or unable to receive mail",
            );
        } else if !state.why.status.starts_with('4') {
            if last_site >= non_fallback_sites {
                log::msg_warn!(
                    "{} configuration problem",
                    if settings.lmtp {
                        "lmtp_fallback_relay"
                    } else {
                        "smtp_fallback_relay"
                    }
                );
                state.why.status = "4.3.5".into();
            } else if !settings.lmtp && sites[0] == settings.relayhost {
                log::msg_warn!("relayhost configuration problem");
                state.why.status = "4.3.5".into();
            }
        }
    }
}

/// HELO, the transaction and the clean-up (`smtp_helo()`, `smtp_xfer()`,
/// `smtp_cleanup_session()`): a session that carries mail counts towards
/// `smtp_mx_session_limit`, and the one that reaches it is the last.
fn run_session(
    state: &mut State,
    session: &mut Session,
    sess_count: &mut usize,
    last: &mut bool,
    endp: Option<&crate::reuse::Endpoint>,
    cache: &mut CacheState,
) {
    if proto::helo(state, session) != 0 {
        if !session.broken {
            proto::quit(state, session);
        }
        crate::chat_notify::notify(state, session);
        state.rcpt_cleanup();
        reset_stats(state);
        return;
    }
    *sess_count += 1;
    if state.settings.mx_session_limit > 0 && *sess_count == state.settings.mx_session_limit {
        *last = true;
    }
    if state.final_nexthop && *last {
        state.final_server = true;
    }
    proto::xfer(state, session);
    cleanup(state, session, endp, cache);
}

/// After the mail of a session (`smtp_cleanup_session()`): the session goes to the
/// connection cache if it is to be kept, and the request's next hop is no longer to
/// be saved under once a session to it carried mail.
fn cleanup(
    state: &mut State,
    session: &mut Session,
    endp: Option<&crate::reuse::Endpoint>,
    cache: &mut CacheState,
) {
    crate::chat_notify::notify(state, session);
    match endp {
        Some(endp) if crate::reuse::is_cached(session) => {
            crate::reuse::save(state, session, endp, &cache.nexthop);
        }
        _ => {}
    }
    cache.nexthop.clear();
    state.rcpt_cleanup();
    reset_stats(state);
}

/// The time stamps of one session go with it (`smtp_cleanup_session()`).
fn reset_stats(state: &mut State) {
    let stats = &mut state.request.msg_stats;
    stats.conn_setup_done = (0, 0);
    stats.deliver_done = (0, 0);
    stats.reuse_count = 0;
}

/// Why a TCP connection was not made.
enum ConnectError {
    /// The connection failed (`connect to h[a]:p: %m`).
    Connect(std::io::Error),
    /// The bind address could not be used and smtp_bind_address_enforce is set.
    Bind,
}

/// A TCP connection from the configured or only local address, within
/// `smtp_connect_timeout` when it is not zero (`smtp_connect_addr()`,
/// `smtp_connect_sock()`).
fn connect_addr(
    settings: &Settings,
    to: SocketAddr,
    namaddr: &str,
) -> Result<TcpStream, ConnectError> {
    use sys::nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrStorage, bind, socket};
    const MYNAME: &str = "smtp_connect_addr";
    let family = if to.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = match socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None) {
        Ok(fd) => fd,
        Err(e) => log::msg_fatal!("{MYNAME}: socket: {}", e.desc()),
    };
    let configured = if to.is_ipv4() {
        settings.bind_addr
    } else {
        settings.bind_addr6
    };
    let bind_to = |addr: IpAddr| {
        bind(
            fd.as_raw_fd(),
            &SockaddrStorage::from(SocketAddr::new(addr, 0)),
        )
    };
    match configured {
        Some((addr, _)) => match bind_to(addr) {
            Ok(()) if log::verbose() > 0 => log::msg_info!("{MYNAME}: bind {addr}"),
            Ok(()) => {}
            Err(e) => {
                log::msg_warn!("{MYNAME}: bind {addr}: {}", e.desc());
                if settings.bind_enforce {
                    return Err(ConnectError::Bind);
                }
            }
        },
        None => {
            // The one address of this family in inet_interfaces, unless it is loopback.
            let own: Vec<IpAddr> = settings
                .own_addrs
                .iter()
                .copied()
                .filter(|a| a.is_ipv4() == to.is_ipv4())
                .take(2)
                .collect();
            if let [addr] = own[..]
                && !addr.is_loopback()
            {
                match bind_to(addr) {
                    Ok(()) if log::verbose() > 0 => log::msg_info!("{MYNAME}: bind {addr}"),
                    Ok(()) => {}
                    Err(e) => log::msg_warn!("{MYNAME}: bind {addr}: {}", e.desc()),
                }
            }
        }
    }
    if log::verbose() > 0 {
        log::msg_info!("{MYNAME}: trying: {namaddr} port {}...", to.port());
    }
    let stream = TcpStream::from(fd);
    timed_connect(&stream, to, settings.timeouts.connect).map_err(ConnectError::Connect)?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// connect(), bounded by `timeout` unless it is zero (`timed_connect()`).
fn timed_connect(stream: &TcpStream, to: SocketAddr, timeout: Duration) -> std::io::Result<()> {
    use sys::nix::errno::Errno;
    use sys::nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use sys::nix::sys::socket::{SockaddrStorage, connect, getsockopt, sockopt};
    let fd = stream.as_raw_fd();
    let addr = SockaddrStorage::from(to);
    if timeout.is_zero() {
        return connect(fd, &addr).map_err(std::io::Error::from);
    }
    stream.set_nonblocking(true)?;
    match connect(fd, &addr) {
        Ok(()) => {}
        Err(Errno::EINPROGRESS) => {
            let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
            let mut fds = [PollFd::new(stream.as_fd(), PollFlags::POLLOUT)];
            match poll(
                &mut fds,
                PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
            ) {
                Ok(0) => return Err(Errno::ETIMEDOUT.into()),
                Ok(_) => {}
                Err(e) => return Err(e.into()),
            }
            match getsockopt(&stream.as_fd(), sockopt::SocketError) {
                Ok(0) => {}
                Ok(err) => return Err(std::io::Error::from_raw_os_error(err)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    }
    stream.set_nonblocking(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        assert_eq!(
            parse_destination("[127.0.0.1]:2525", "smtp"),
            ("127.0.0.1".into(), 2525)
        );
        assert_eq!(
            parse_destination("example.com", "smtp"),
            ("example.com".into(), 25)
        );
        assert_eq!(
            parse_destination("example.com:submission", "smtp"),
            ("example.com".into(), 587)
        );
        assert_eq!(parse_destination("[::1]:24", "lmtp"), ("::1".into(), 24));
        assert_eq!(
            parse_destination("[mx.example]", "24"),
            ("mx.example".into(), 24)
        );
        assert_eq!(split_host_port("[a]x"), None);
    }
}
