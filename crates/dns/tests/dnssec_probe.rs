//! The DNSSEC probe (Postfix's `dns_sec_probe()`): the first lookup that asks for DNSSEC
//! and gets no validated reply makes the process ask dnssec_probe's question once, and
//! warn when that answer is not validated either. A test binary of its own: the state
//! is per process.

mod support;

use std::time::Duration;

use dns::{ResFlags, ResolvConf, Resolver, RrType};
use support::{TestServer, capture, logged, scratch, write};

#[test]
fn probe_once_when_validation_is_not_seen() {
    let server = TestServer::start(
        "plain.example A 192.0.2.1\nprobe.example A 192.0.2.9\nsigned.example SECURE\nsigned.example A 192.0.2.2\n",
    );
    let dir = scratch("probe");
    let path = write(&dir, "resolv.conf", "nameserver 127.0.0.1\n");
    let mut conf = ResolvConf::from_file(&path).with_port(server.port);
    conf.timeout = Duration::from_secs(2);
    conf.attempts = 1;
    let resolver = Resolver::new(conf);
    let dnssec = ResFlags {
        dnssec: true,
        ..ResFlags::default()
    };
    capture();
    dns::dnssec::set_probe("a:probe.example");
    // Without DNSSEC asked for, no probe.
    resolver
        .lookup("plain.example", RrType::A, ResFlags::default())
        .unwrap();
    assert_eq!(server.queries(), ["plain.example A udp"]);
    server.clear();
    resolver.lookup("plain.example", RrType::A, dnssec).unwrap();
    assert_eq!(
        server.queries(),
        [
            "plain.example A udp +edns +do +ad",
            "probe.example A udp +edns +do +ad"
        ]
    );
    assert!(logged("warning: DNSSEC validation may be unavailable"));
    assert!(logged(
        "warning: reason: dnssec_probe 'a:probe.example' received a response that is not \
         DNSSEC validated"
    ));
    // Once per process.
    server.clear();
    resolver.lookup("plain.example", RrType::A, dnssec).unwrap();
    assert_eq!(server.queries(), ["plain.example A udp +edns +do +ad"]);
    // A validated reply is still recognised as one.
    assert!(
        resolver
            .lookup("signed.example", RrType::A, dnssec)
            .unwrap()[0]
            .dnssec_valid
    );
}
