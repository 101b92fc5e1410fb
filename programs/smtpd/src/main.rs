//! smtpd - the SMTP server: mail from the network into the queue.
//!
//! Postfix counterpart: `smtpd/smtpd.c` (`main()`, `smtpd_service()`, `pre_jail_init()`).
//! A single-server daemon (`smtp inet n - y - - smtpd`): for each connection it finds the
//! client's name, raises the verbosity for clients in `debug_peer_list`, and runs a
//! session ([`session`]) over the one I/O type ([`io`]), with the restriction engine
//! ([`check`]) and the cleanup service ([`cleanup`]) behind it. Tables, lists and the
//! configuration are read before the chroot jail; a broken setting is fatal at start-up.
//!
//! Not here yet: milters.

mod anvil;
mod chat_notify;
mod check;
mod cleanup;
mod debug_peer;
mod footer;
mod io;
mod log_line;
mod peer;
mod received;
mod sasl_setup;
mod session;
mod settings;
mod stats;
mod tls_setup;
mod whatif;

use check::{Checker, Policy};
use params::decl::debug::SHOW_USER_UNKNOWN_TABLE_NAME;
use params::decl::smtpd as s;
use server::single::Stream;
use settings::Settings;

fn main() {
    if let Some(query) = global::whatif::enter() {
        whatif::run(query);
    }
    let mut daemon = server::Daemon::start(server::Requirements::default());
    let settings = Settings::from_config(&daemon.config);
    // Saved transcripts (an ironpost extension): the directory is made before the jail.
    let (name, service) = (&daemon.process_name, &daemon.service_name);
    global::transcript::start(
        &daemon.config,
        global::transcript::Side::Server,
        name,
        service,
    );
    let mut checker = checker(&daemon.config, &settings);
    let mut dovecot = settings.sasl.dovecot();
    let mut anvil = anvil::Anvil::from_config(&daemon.config, &daemon.service_name);
    daemon.enter_jail();
    server::single::serve(daemon, |_, stream| {
        serve(
            &settings,
            &mut checker,
            dovecot.as_mut(),
            anvil.as_mut(),
            stream,
        )
    })
}

/// The restriction engine and its tables, opened before the jail.
fn checker(config: &params::Config, settings: &Settings) -> Checker {
    let yes = |param| config.bool(param).unwrap_or_else(|e| settings::fatal(e));
    let policy = Policy {
        delay_reject: yes(&s::SMTPD_DELAY_REJECT),
        reject_unlisted_recipient: yes(&s::SMTPD_REJECT_UNLISTED_RECIPIENT)
            && settings.input_transp & global::input_transp::UNKNOWN_RCPT == 0,
        reject_unlisted_sender: yes(&s::SMTPD_REJECT_UNLISTED_SENDER),
        relay_first: yes(&s::SMTPD_RELAY_BEFORE_RECIPIENT_RESTRICTIONS),
        soft_bounce: settings.soft_bounce,
        show_table: yes(&SHOW_USER_UNKNOWN_TABLE_NAME),
        smtputf8: settings.smtputf8,
        ask_ccert: yes(&params::decl::tls::SMTPD_TLS_ASK_CCERT),
    };
    let rewrite =
        global::rewrite_clnt::Settings::from_config(config).unwrap_or_else(|e| settings::fatal(e));
    Checker::new(
        config,
        policy,
        global::rewrite_clnt::RewriteClient::new(rewrite),
    )
}

/// One client connection (`smtpd_service()`).
fn serve(
    settings: &Settings,
    checker: &mut Checker,
    dovecot: Option<&mut xsasl::Dovecot>,
    anvil: Option<&mut anvil::Anvil>,
    stream: Stream,
) {
    // A client on standard input (-S) is not counted.
    let anvil = anvil.filter(|_| !matches!(stream, Stream::Stdio(..)));
    let peer = match &stream {
        Stream::Tcp(s) | Stream::Passed { socket: s, .. } => match s.peer_addr() {
            Ok(remote) => peer::Peer::new(remote, s.local_addr().ok(), settings),
            Err(e) => {
                log::msg_warn!(
                    "getpeername: {} -- dropping this connection",
                    sys::os_error(&e)
                );
                return;
            }
        },
        Stream::Unix(_) | Stream::Stdio(..) => peer::Peer::local(),
    };
    let _debug = debug_peer::DebugPeer::check(
        settings.debug_peer_list.as_ref(),
        settings.debug_peer_level,
        &peer.name,
        &peer.addr,
    );
    let io = io::SessionIo::new(
        io::Link::Plain(stream),
        settings.timeout,
        io::Tap::new(&peer.namaddr),
    );
    // The engine outlives sessions (max_use): nothing of the last client carries over.
    checker.new_session();
    session::Session::new(settings, checker, peer, io, dovecot, anvil).run();
}
