//! verify - the address verification service: what is known about an address, probes to
//! learn it, and the cache of the answers.
//!
//! Postfix counterpart: `verify/verify.c`. smtpd's reject_unverified_recipient and
//! reject_unverified_sender `query` an address; the answer comes from the cache
//! (address_verify_map) when it holds a result that has not expired, else it is "probe in
//! progress". A missing, expired or ageing result also sends a probe through cleanup
//! (from address_verify_sender), unless one went out in the last 1000 seconds; the
//! delivery agent that gets the probe delivers nothing and sends an `update` with what it
//! found, which is cached (a failure never replaces a success that has not expired).
//! Results expire after address_verify_positive/negative_expire_time and are refreshed
//! after address_verify_positive/negative_refresh_time; failures are cached only with
//! address_verify_negative_cache. Every address_verify_cache_cleanup_interval the cache
//! is walked and expired entries are dropped, with a log line at the end of the run.
//! master.cf: `verify unix - - n - 1 verify` (a single process).

mod cache;
mod policy;
mod probe;

use cache::{Step, Store, Times, Walk};
use global::verify_clnt::{
    ATTR_ADDR_STATUS, VRFY_REQ_QUERY, VRFY_REQ_UPDATE, VRFY_STAT_BAD, VRFY_STAT_OK,
};
use ipc::{Attrs, Flavor, mail_attr};
use params::decl::verify as p;
use policy::Policy;
use server::multi::{Client, Service};
use std::thread::JoinHandle;
use std::time::Duration;

struct Verify {
    policy: Policy,
    /// address_verify_cache_cleanup_interval; 0 for none.
    cleanup_interval: i64,
    /// When the next cleanup run starts.
    next_cleanup: Option<i64>,
    /// address_verify_sender and its time-to-live.
    sender: global::verify_sender_addr::ProbeSender,
    rewrite: global::rewrite_clnt::RewriteClient,
    post: probe::PostSettings,
    /// Probes still on their way into the queue.
    probes: Vec<JoinHandle<()>>,
    /// smtputf8_enable: UTF-8 text is printable.
    utf8: bool,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The values of `names` when the request has exactly these attributes after its
/// request name, in this order (Postfix's strict attr_scan).
fn values<'a>(request: &'a Attrs, names: &[&str]) -> Option<Vec<&'a [u8]>> {
    let rest = || request.iter().skip(1);
    (request.len() == names.len() + 1
        && rest().zip(names).all(|((n, _), want)| n == want.as_bytes()))
    .then(|| rest().map(|(_, v)| v).collect())
}

/// An address as the cache keys it: IPv6 literals' colons would break the entry format
/// of old versions, so every ':' becomes '_' (Postfix's translit).
fn cache_key(addr: &[u8]) -> String {
    String::from_utf8_lossy(addr).replace(':', "_")
}

/// Text as the cache stores it: what is not printable becomes '?' (Postfix's
/// printable(), with UTF-8 allowed per smtputf8_enable).
fn printable(text: &[u8], utf8: bool) -> String {
    util::printable::printable(&util::eight_bit::to_text(text), utf8).into_owned()
}

impl Verify {
    fn update(&mut self, client: &mut Client, request: &Attrs) -> bool {
        let Some(v) = values(
            request,
            &[mail_attr::ADDR, ATTR_ADDR_STATUS, mail_attr::WHY],
        ) else {
            return false;
        };
        let Some(addr_status) = std::str::from_utf8(v[1])
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
            .map(|s| s as i32)
        else {
            return false;
        };
        let code = self.policy.update(
            &cache_key(v[0]),
            addr_status,
            &printable(v[2], self.utf8),
            now(),
        );
        client.send(Flavor::Null, &status(code))
    }

    fn query(&mut self, client: &mut Client, request: &Attrs) -> bool {
        let Some(v) = values(request, &[mail_attr::ADDR]) else {
            return false;
        };
        let addr = cache_key(v[0]);
        let (entry, probe) = self.policy.query(&addr, now());
        let reply = Attrs::new()
            .int(mail_attr::STATUS, VRFY_STAT_OK)
            .int(ATTR_ADDR_STATUS, entry.status)
            .str(mail_attr::WHY, &entry.text);
        // The client has its answer before the probe goes out.
        let sent = client.send(Flavor::Null, &reply);
        if probe {
            self.send_probe(&addr);
        }
        sent
    }

    /// Posts a probe to `addr` from a thread of its own.
    fn send_probe(&mut self, addr: &str) {
        let sender = self.sender.make(&mut self.rewrite, now());
        let settings = self.post.clone();
        let recipient = addr.to_string();
        self.probes.retain(|p| !p.is_finished());
        self.probes.push(std::thread::spawn(move || {
            match probe::post(&settings, &sender, &recipient) {
                Ok(0) => {}
                Ok(status) => log::msg_warn!(
                    "probe for {recipient}: {}",
                    global::cleanup_user::cleanup_strerror(status)
                ),
                Err(e) => log::msg_warn!("probe for {recipient}: {e}"),
            }
        }));
    }

    /// The cleanup: a run starts when one is due and examines one entry per call, so
    /// that requests are served in between; the end of a run is logged. The time until
    /// the next call.
    fn cleanup_step(&mut self, now: i64) -> Option<Duration> {
        let next = self.next_cleanup?;
        let policy = &mut self.policy;
        if policy.walk.is_none() {
            if next > now {
                return Some(Duration::from_secs((next - now).min(60) as u64));
            }
            match Walk::start(&policy.store) {
                Ok(walk) => policy.walk = Some(walk),
                Err(_) => {
                    log::msg_warn!("{}: sequence error", policy.map_name);
                    self.next_cleanup = Some(now + self.cleanup_interval);
                    return Some(Duration::from_secs(1));
                }
            }
        }
        let walk = policy.walk.as_mut()?;
        let step = walk.step(&mut policy.store, &policy.times, now);
        if step == Step::Going {
            return Some(Duration::ZERO);
        }
        let full = if step == Step::Failed {
            log::msg_warn!(
                "{}: cache cleanup scan terminated due to error",
                policy.map_name
            );
            "partial"
        } else {
            "full"
        };
        log::msg_info!(
            "cache {} {full} cleanup: retained={} dropped={} entries",
            policy.map_name,
            walk.retained,
            walk.dropped
        );
        policy.walk = None;
        self.next_cleanup = Some(now + self.cleanup_interval);
        Some(Duration::from_secs(1))
    }
}

/// A reply with only a request status.
fn status(code: i32) -> Attrs {
    Attrs::new().int(mail_attr::STATUS, code)
}

impl Service for Verify {
    fn connected(&mut self, _daemon: &mut server::Daemon, client: &mut Client) {
        client.announce(Flavor::Null, global::verify::PROTO_VERIFY);
    }

    fn request(&mut self, _daemon: &mut server::Daemon, client: &mut Client) -> bool {
        let Some(request) = client.receive(Flavor::Null) else {
            return false;
        };
        match request.get(0) {
            Some((name, what)) if name == mail_attr::REQ.as_bytes() => match what {
                w if w == VRFY_REQ_UPDATE.as_bytes() => self.update(client, &request),
                w if w == VRFY_REQ_QUERY.as_bytes() => self.query(client, &request),
                other => {
                    log::msg_warn!(
                        "unrecognized request: \"{}\", ignored",
                        String::from_utf8_lossy(other)
                    );
                    client.send(Flavor::Null, &status(VRFY_STAT_BAD))
                }
            },
            _ => false,
        }
    }

    fn tick(&mut self, _daemon: &mut server::Daemon) -> Option<Duration> {
        self.cleanup_step(now())
    }

    fn exiting(&mut self, _daemon: &mut server::Daemon) {
        // Probes on their way are finished, so that none is cut off half-written.
        for probe in self.probes.drain(..) {
            let _ = probe.join();
        }
        // A run cut short by the exit says how far it got (Postfix's dict_cache_close).
        if let Some(walk) = self.policy.walk.take()
            && walk.retained + walk.dropped > 0
        {
            log::msg_info!(
                "cache {} partial cleanup: retained={} dropped={} entries",
                self.policy.map_name,
                walk.retained,
                walk.dropped
            );
        }
    }
}

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements {
        solitary: true,
        ..Default::default()
    });
    let config = &daemon.config;
    fn fatal<T>(e: params::ConfigError) -> T {
        global::fatal_config(e)
    }
    let time = |param| config.time(param).unwrap_or_else(fatal);
    let text = |param| config.str(param).unwrap_or_else(fatal);
    let times = Times {
        pos_expire: time(&p::ADDRESS_VERIFY_POSITIVE_EXPIRE_TIME),
        pos_refresh: time(&p::ADDRESS_VERIFY_POSITIVE_REFRESH_TIME),
        neg_expire: time(&p::ADDRESS_VERIFY_NEGATIVE_EXPIRE_TIME),
        neg_refresh: time(&p::ADDRESS_VERIFY_NEGATIVE_REFRESH_TIME),
    };
    let cleanup_interval = time(&p::ADDRESS_VERIFY_CACHE_CLEANUP_INTERVAL);
    let sender = global::verify_sender_addr::ProbeSender::from_config(config).unwrap_or_else(fatal);
    let neg_cache = config
        .bool(&params::decl::delivery::ADDRESS_VERIFY_NEGATIVE_CACHE)
        .unwrap_or_else(fatal);
    let map = text(&p::ADDRESS_VERIFY_MAP);
    let owner = text(&params::decl::install::MAIL_OWNER);
    let data_dir = text(&params::decl::install::DATA_DIRECTORY);
    let utf8 = config
        .bool(&params::decl::identity::SMTPUTF8_ENABLE)
        .unwrap_or_else(fatal);
    let smtputf8 = global::input_transp::smtputf8_autodetect(
        utf8,
        &text(&params::decl::identity::SMTPUTF8_AUTODETECT_CLASSES),
        global::input_transp::mail_src::VERIFY,
    )
    .unwrap_or_else(|e| log::msg_fatal!("{e}"));
    let post = probe::PostSettings {
        cleanup_service: text(&params::decl::submission::CLEANUP_SERVICE_NAME),
        // Probes are internal mail: address mapping on, content inspection off
        // (internal_mail_filter_classes never applies to them).
        cleanup_flags: global::cleanup_user::FLAG_MAP_OK | smtputf8,
        myhostname: text(&params::decl::identity::MYHOSTNAME),
        mail_name: text(&params::decl::identity::MAIL_NAME),
        ipc_timeout: Duration::from_secs(time(&params::decl::process::IPC_TIMEOUT) as u64),
    };
    let rewrite = global::rewrite_clnt::RewriteClient::new(
        global::rewrite_clnt::Settings::from_config(config).unwrap_or_else(fatal),
    );

    // A signal from the master must never cut an update short: leave its process group.
    let _ = sys::process::setsid();
    let account = sys::user::by_name(&owner)
        .unwrap_or_else(|| log::msg_fatal!("unknown mail_owner user: {owner}"));
    // The table is made by and for the mail owner, never root.
    let map_name = if map.is_empty() {
        "internal:verify".to_string()
    } else {
        cache::data_redirect_map(&map, account.uid, &owner, &data_dir)
    };
    let opened = sys::user::as_effective(account.uid, account.gid, || {
        let saved = sys::umask(0o022);
        let store = Store::open(if map.is_empty() { "" } else { &map_name });
        sys::umask(saved);
        store
    })
    .unwrap_or_else(|e| log::msg_fatal!("{e}"));
    let store = opened.unwrap_or_else(|e| log::msg_fatal!("open {map_name}: {e}"));
    daemon.enter_jail();
    // A cache in memory only would be lost with the process: it never exits on its own.
    if map.is_empty() {
        daemon.max_use = 0;
        daemon.max_idle = 0;
    }
    let next_cleanup = (cleanup_interval > 0)
        .then(|| now() + cache::next_cleanup(&store, cleanup_interval, now()));
    let verify = Verify {
        policy: Policy {
            store,
            map_name,
            times,
            neg_cache,
            walk: None,
        },
        cleanup_interval,
        next_cleanup,
        sender,
        rewrite,
        post,
        probes: Vec::new(),
        utf8,
    };
    server::multi::serve(daemon, verify)
}
