//! ironpost's trivial-rewrite answers as Postfix 3.7's does. Both run under the same
//! master with the same main.cf (ours as `rewrite`, Postfix's as `pfrewrite`); the same
//! 178 rewrite, resolve and verify requests go to both over the attribute protocol and the
//! replies must be identical: canonical forms, every recipient class, transports from
//! main.cf, transport_maps (with a wildcard), relayhost, relocated_maps, address literals,
//! routed and malformed addresses. Then mail flows through the mixed system with ours.

use e2e::{Instance, wait_until};
use ipc::{Attrs, Flavor};
use std::io::BufReader;
use std::os::unix::net::UnixStream;

struct Client(BufReader<UnixStream>);

impl Client {
    fn connect(mx: &Instance, service: &str) -> Client {
        let path = mx.dir.join("queue/private").join(service);
        let mut reader = BufReader::new(UnixStream::connect(&path).unwrap());
        reader
            .get_ref()
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let hello = ipc::attr::read(&mut reader, Flavor::Null).unwrap().unwrap();
        assert_eq!(hello.get_str("protocol"), Ok("trivial_rewrite_protocol"));
        Client(reader)
    }

    fn ask(&mut self, request: &Attrs) -> Attrs {
        ipc::attr::write(self.0.get_mut(), Flavor::Null, request).unwrap();
        ipc::attr::read(&mut self.0, Flavor::Null).unwrap().unwrap()
    }
}

/// Puts Postfix's trivial-rewrite in the daemon directory as `pf-trivial-rewrite`, and
/// `services` (master.cf lines) in master.cf.
fn add_services(mx: &Instance, services: &str) {
    std::os::unix::fs::symlink(
        "/usr/lib/postfix/sbin/trivial-rewrite",
        mx.dir.join("libexec/pf-trivial-rewrite"),
    )
    .unwrap();
    let master_cf = std::fs::read_to_string(mx.dir.join("etc/master.cf")).unwrap();
    mx.write("etc/master.cf", &format!("{master_cf}{services}"));
}

/// The requests about `address`: a rewrite in the local and in the remote context, and a
/// resolve and a verify for each of `senders`.
fn requests_for(address: &[u8], senders: &[&[u8]]) -> Vec<Attrs> {
    let mut requests = Vec::new();
    for rule in ["local", "remote"] {
        requests.push(
            Attrs::new()
                .str("request", "rewrite")
                .str("rule", rule)
                .bytes("address", address),
        );
    }
    for kind in ["resolve", "verify"] {
        for sender in senders {
            requests.push(
                Attrs::new()
                    .str("request", kind)
                    .bytes("sender", sender)
                    .bytes("address", address),
            );
        }
    }
    requests
}

const ADDRESSES: &[&str] = &[
    "user",
    "user@localhost",
    "user@localhost.",
    "User@Mail.E2E.Test",
    "user@vmail.e2e.test",
    "user@valias.e2e.test",
    "user@relay.e2e.test",
    "user@sub.relay.e2e.test",
    "user@example.com",
    "user@special.example",
    "moved@localhost",
    "user@[127.0.0.1]",
    "user@[192.0.2.1]",
    "user@127.0.0.1",
    "user@[IPv6:::1]",
    "foo bar@example.com",
    "\"foo bar\"@example.com",
    "user%example.org@localhost",
    "example.org!user",
    "user@example.org@localhost",
    "@a.example,@b.example:user@example.org",
    "",
    "@",
    "user@",
    "-dash@localhost",
    "user@bad_host!",
    "user@-bad.example",
    "user@host",
    "postmaster",
    "user+ext@relay.e2e.test",
];

/// The requests compared: for each of the 30 addresses, a rewrite in the local and in the
/// remote context, and a resolve and a verify with and without a sender; but no rewrite
/// of the empty address (30 * 6 - 2).
const REQUESTS: usize = 178;

#[test]
fn answers_match_postfix() {
    let Some(mut mx) = Instance::with_daemons(
        "t-11",
        &["master", "postlogd", "anvil", "proxymap", "trivial-rewrite"],
    ) else {
        return;
    };
    add_services(&mx, "pfrewrite unix - - n - - pf-trivial-rewrite\n");
    // Ours logs each request and its answer with -v, as Postfix's does.
    mx.replace_master_cf_line(
        |l| l.starts_with("rewrite "),
        "rewrite unix - - n - - trivial-rewrite -v",
    );
    mx.write("etc/relocated", "moved@localhost  new@example.net\n");
    mx.write(
        "etc/transport",
        &mx.expand(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\nspecial.example error:no mail here\n\
             .relay.e2e.test :[10.0.0.1]\n* smtp:[192.0.2.25]\n",
        ),
    );
    mx.add_main_cf(
        "relocated_maps = texthash:@DIR@/etc/relocated\nvirtual_alias_domains = valias.e2e.test\n\
         relayhost = [192.0.2.7]\nrecipient_delimiter = +\nresolve_numeric_domain = yes\n\
         address_verify_relayhost = [192.0.2.8]\n",
    );
    mx.start();
    let mut ours = Client::connect(&mx, "rewrite");
    let mut theirs = Client::connect(&mx, "pfrewrite");
    let mut compared = 0;
    for address in ADDRESSES {
        for request in requests_for(address.as_bytes(), &[b"", b"sender@example.com"]) {
            if request.get_str("request") == Ok("rewrite") && address.is_empty() {
                continue;
            }
            let want = theirs.ask(&request);
            let got = ours.ask(&request);
            assert_eq!(got, want, "request {request:?}");
            compared += 1;
        }
    }
    assert_eq!(compared, REQUESTS, "requests compared");
    mx.wait_log("]: `local' `user' -> `user@mail.e2e.test'", 5);
    mx.wait_log(
        "]: `' -> `user@example.com' -> (`smtp' `[192.0.2.25]' `user@example.com' `4096')",
        5,
    );
    let exe = std::fs::read_link(format!("/proc/{}/exe", mx.daemons("trivial-rewrite")[0]));
    assert_eq!(exe.unwrap(), mx.dir.join("libexec/trivial-rewrite"));

    // An edited table: ours notices within 10 seconds and restarts, as Postfix's does.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    mx.write(
        "etc/transport",
        &mx.expand("relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n"),
    );
    mx.wait_log(
        &mx.expand("]: table texthash:@DIR@/etc/transport has changed -- restarting"),
        15,
    );
    // Postfix's cleanup and qmgr route mail through ours (without the catch-all transport).
    mx.start_sink();
    mx.send_local("t11-local");
    mx.send(
        mx.smtp_port,
        "a@example.org",
        "user@relay.e2e.test",
        "t11-relay",
    )
    .unwrap();
    assert!(
        wait_until(20, || mx.log().matches("status=sent").count() >= 2),
        "log:\n{}",
        mx.log()
    );
    mx.postfix(&["stop"]);
}

/// Addresses with 8-bit bytes: Latin-1 (not UTF-8, as an old client sends it) and UTF-8,
/// in the local part, the domain, a quoted local part and a route.
const EIGHT_BIT: &[&[u8]] = &[
    b"j\xf6rg",
    b"j\xf6rg@example.com",
    b"j\xf6rg@localhost",
    b"j\xf6rg@relay.e2e.test",
    b"user@b\xfccher.example",
    b"\"j\xf6 rg\"@example.com",
    b"j\xf6rg%example.com@localhost",
    b"j\xc3\xb6rg",
    b"j\xc3\xb6rg@example.com",
    b"j\xc3\xb6rg@localhost",
    b"user@b\xc3\xbccher.example",
    b"\xe3\x83\xa6\xe3\x83\xbc\xe3\x82\xb6\xe3\x83\xbc@\xe4\xbe\x8b\xe3\x81\x88.jp",
];

/// The 8-bit words of `address`: what must come back unchanged in every answer.
fn eight_bit_words(address: &[u8]) -> Vec<&[u8]> {
    address
        .split(|b| b"@%\" ".contains(b))
        .filter(|word| !word.is_ascii())
        .collect()
}

/// 8-bit addresses, UTF-8 or not, go through ours byte for byte as through Postfix's: the
/// attribute protocol keeps the bytes both ways, and ours rewrites and resolves them as
/// Postfix's does, with smtputf8_enable on (an address that is not UTF-8 is then an
/// error) and off (it is routed like any other).
#[test]
fn eight_bit_addresses_match_postfix() {
    let Some(mut mx) = Instance::with_daemons(
        "t-11-8bit",
        &["master", "postlogd", "anvil", "proxymap", "trivial-rewrite"],
    ) else {
        return;
    };
    add_services(
        &mx,
        "pfrewrite unix - - n - - pf-trivial-rewrite\n\
         rewrite-ascii unix - - n - - trivial-rewrite -o smtputf8_enable=no\n\
         pfrewrite-ascii unix - - n - - pf-trivial-rewrite -o smtputf8_enable=no\n",
    );
    mx.start();
    let mut compared = 0;
    for (ours, theirs) in [
        ("rewrite", "pfrewrite"),
        ("rewrite-ascii", "pfrewrite-ascii"),
    ] {
        let mut ours = Client::connect(&mx, ours);
        let mut theirs = Client::connect(&mx, theirs);
        for address in EIGHT_BIT {
            // The address is the sender too, so both attributes carry the 8-bit bytes.
            for request in requests_for(address, &[address]) {
                let want = theirs.ask(&request);
                let answer = want
                    .get_bytes("address")
                    .or(want.get_bytes("recipient"))
                    .unwrap();
                for word in eight_bit_words(address) {
                    assert!(
                        answer.windows(word.len()).any(|w| w == word),
                        "Postfix's answer {want:?} to {request:?}"
                    );
                }
                assert_eq!(ours.ask(&request), want, "request {request:?}");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 2 * EIGHT_BIT.len() * 4);
}

/// A multi-client process past its `max_use` keeps accepting until its last client leaves,
/// as Postfix's does: the master counts it as available and starts no other, so a process
/// that stopped listening would leave a new client unanswered for as long as an old one
/// (an idle smtpd's or cleanup's connection) stays. Both with one process and max_use 2.
#[test]
fn past_max_use_new_clients_are_served_like_postfix() {
    let Some(mut mx) = Instance::with_daemons(
        "t-11-max-use",
        &["master", "postlogd", "anvil", "proxymap", "trivial-rewrite"],
    ) else {
        return;
    };
    add_services(
        &mx,
        "rewrite-max unix - - n - 1 trivial-rewrite -o max_use=2\n\
         pfrewrite-max unix - - n - 1 pf-trivial-rewrite -o max_use=2\n",
    );
    mx.start();
    let request = Attrs::new()
        .str("request", "rewrite")
        .str("rule", "local")
        .str("address", "user");
    for service in ["pfrewrite-max", "rewrite-max"] {
        // One client stays while two come and go: the use limit is reached.
        let mut stays = Client::connect(&mx, service);
        let first = stays.ask(&request);
        for _ in 0..2 {
            assert_eq!(Client::connect(&mx, service).ask(&request), first);
        }
        // The next one is greeted and answered by the same process (Client::connect
        // fails after its 10-second read timeout otherwise).
        let mut late = Client::connect(&mx, service);
        assert_eq!(late.ask(&request), first, "{service}");
        assert_eq!(stays.ask(&request), first, "{service}");
        drop(late);
        drop(stays);
        // With no client left the process exits; a new one serves the next client.
        assert_eq!(
            Client::connect(&mx, service).ask(&request),
            first,
            "{service}"
        );
    }
}
