//! anvil - counts connections and request rates per client, for smtpd's limits.
//!
//! Postfix counterpart: `anvil/anvil.c`. smtpd asks anvil, over the plain attribute
//! protocol, to count each client's simultaneous connections and its connection, message,
//! recipient, new-TLS and AUTH rates per `anvil_rate_time_unit`; smtpd compares the answers
//! with `smtpd_client_connection_count_limit` and the `smtpd_client_*_rate_limit` settings.
//! Every `anvil_status_update_time`, and on exit, anvil logs the peaks it saw
//! (`statistics: max connection rate 3/60s for (smtp:127.0.0.1) at ...`).
//!
//! Requests: `connect`, `disconnect`, `message`, `recipient`, `newtls`, `newtls_status`,
//! `auth`, `lookup`, each with an `ident` (`service:client address`). When a client
//! connection of anvil (one smtpd process) goes away, the connection it registered is
//! dropped. master.cf: `anvil unix - - n - 1 anvil` (a single process).

mod state;

use ipc::{Attrs, Flavor, mail_attr};
use server::multi::{Client, Service};
use state::{Kind, Registry};
use std::time::Duration;

struct Anvil {
    registry: Registry,
    status_interval: Duration,
}

impl Service for Anvil {
    fn connected(&mut self, _daemon: &mut server::Daemon, client: &mut Client) {
        client.announce(Flavor::Plain, mail_attr::PROTO_ANVIL);
    }

    fn request(&mut self, _daemon: &mut server::Daemon, client: &mut Client) -> bool {
        if log::verbose() > 0 {
            log::msg_info!("--- start request ---");
        }
        let Some(request) = client.receive(Flavor::Plain) else {
            return false;
        };
        // Postfix reads strictly: exactly a request and an ident. Idents are service and
        // client address, always ASCII; anything else is a broken client.
        let (Ok(what), Ok(ident), 2) = (
            request.get_str(mail_attr::REQ),
            request.get_str("ident"),
            request.len(),
        ) else {
            return false;
        };
        let now = state::now();
        let reply = match what {
            "connect" => {
                let (count, rate) = self.registry.connect(client.id, ident, now);
                Attrs::new()
                    .int(mail_attr::STATUS, 0)
                    .int("count", count)
                    .int("rate", rate)
            }
            "disconnect" => {
                self.registry.disconnect(client.id, ident, now);
                Attrs::new().int(mail_attr::STATUS, 0)
            }
            "message" | "recipient" | "newtls" | "auth" => {
                let kind = match what {
                    "message" => Kind::Mail,
                    "recipient" => Kind::Rcpt,
                    "newtls" => Kind::Ntls,
                    _ => Kind::Auth,
                };
                let rate = self.registry.count_event(client.id, ident, kind, now);
                Attrs::new().int(mail_attr::STATUS, 0).int("rate", rate)
            }
            "newtls_status" => {
                let rate = self.registry.rate(ident, Kind::Ntls, now);
                Attrs::new().int(mail_attr::STATUS, 0).int("rate", rate)
            }
            "lookup" => {
                let r = self.registry.lookup(ident, now);
                Attrs::new()
                    .int(mail_attr::STATUS, 0)
                    .int("count", r.count)
                    .int("rate", r.rate)
                    .int("mail", r.mail)
                    .int("rcpt", r.rcpt)
                    .int("newtls", r.ntls)
                    .int("auth", r.auth)
            }
            other => {
                log::msg_warn!("unrecognized request: \"{other}\", ignored");
                Attrs::new().int(mail_attr::STATUS, -1)
            }
        };
        if log::verbose() > 0 {
            log::msg_info!("--- end request ---");
        }
        client.send(Flavor::Plain, &reply)
    }

    fn disconnected(&mut self, _daemon: &mut server::Daemon, client: &Client) {
        self.registry.drop_local(client.id, state::now());
    }

    fn tick(&mut self, _daemon: &mut server::Daemon) -> Option<Duration> {
        self.registry.expire(state::now());
        Some(self.status_interval.min(Duration::from_secs(1)))
    }

    fn exiting(&mut self, _daemon: &mut server::Daemon) {
        for line in self.registry.take_statistics() {
            log::msg_info!("{line}");
        }
    }
}

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements {
        solitary: true,
        ..Default::default()
    });
    let seconds = |p| {
        daemon
            .config
            .time(p)
            .unwrap_or_else(|e| global::fatal_config(e))
    };
    let unit = seconds(&params::decl::anvil::ANVIL_RATE_TIME_UNIT);
    let status = seconds(&params::decl::anvil::ANVIL_STATUS_UPDATE_TIME);
    daemon.enter_jail();
    let anvil = Anvil {
        registry: Registry::new(unit, status),
        status_interval: Duration::from_secs(status as u64),
    };
    server::multi::serve(daemon, anvil)
}
