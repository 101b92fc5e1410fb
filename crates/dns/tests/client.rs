//! The SMTP server's and client's uses of DNS against a server on loopback: client names
//! with forward confirmation, the SMTP client's address lists, and DNS block lists.

mod support;

use std::net::IpAddr;
use std::time::Duration;

use dns::hostdb::{AiError, FilesDns, HostDb};
use dns::hosts::Hosts;
use dns::inet_proto::InetProtocols;
use dns::peer::{PeerCode, peer_name};
use dns::random::Sequence;
use dns::rbl::{self, Dnsxl};
use dns::smtp_addr::{Settings, SmtpAddr};
use dns::{AddrPref, ResolvConf, Resolver};
use support::{TestServer, capture, logged, scratch, write};

const ZONE: &str = "
10.2.0.192.in-addr.arpa  PTR   mail.example.com
mail.example.com         A     192.0.2.10
11.2.0.192.in-addr.arpa  PTR   liar.example.com
liar.example.com         A     192.0.2.99
12.2.0.192.in-addr.arpa  PTR   gone.example.com
13.2.0.192.in-addr.arpa  PTR   flaky.example.com
flaky.example.com        SERVFAIL
15.2.0.192.in-addr.arpa  SERVFAIL
17.2.0.192.in-addr.arpa  PTR   192.0.2.17
18.2.0.192.in-addr.arpa  PTR   bad_-.example
19.2.0.192.in-addr.arpa  PTR   short
short.a.test             A     192.0.2.19
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa PTR six.example.com
six.example.com          AAAA  2001:db8::1

example.com      MX   20 mx2.example.com
example.com      MX   10 mx1a.example.com
example.com      MX   10 mx1b.example.com
mx1a.example.com A    192.0.2.1
mx1b.example.com A    192.0.2.2
mx1b.example.com AAAA 2001:db8::2
mx2.example.com  A    192.0.2.3
nomx.example     A    192.0.2.5
nullmx.example   MX   0 .
sf.example       SERVFAIL
self.example     MX   10 me.example
me.example       A    192.0.2.200
backup.example   MX   10 dead.example
backup.example   MX   20 me.example
secondary.example MX  10 other.example
secondary.example MX  20 me.example
other.example    A    192.0.2.7
noaddr.example   MX   10 ghost.example

2.0.0.127.zen.test   A    127.0.0.2
2.0.0.127.zen.test   TXT  listed for spam
10.2.0.192.zen.test  A    127.0.0.4
2.0.0.127.dead.test  SERVFAIL
spam.example.dbl.test A   127.0.1.2
";

fn resolver_for(server: &TestServer) -> Resolver {
    let dir = scratch("client");
    let path = write(&dir, "resolv.conf", "nameserver 127.0.0.1\nsearch a.test\n");
    let mut conf = ResolvConf::from_file(&path).with_port(server.port);
    conf.timeout = Duration::from_secs(2);
    conf.attempts = 1;
    Resolver::new(conf)
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn client_names_are_confirmed_forward() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server);
    let dir = scratch("peer");
    let hosts = write(&dir, "hosts", "192.0.2.16 files.example.com\n");
    let db = FilesDns::new(&hosts, &resolver);
    capture();
    let name = |addr: &str| peer_name(&db, ip(addr), true);

    let ok = name("192.0.2.10");
    assert_eq!(
        (ok.name.as_str(), ok.name_status),
        ("mail.example.com", PeerCode::Ok)
    );
    assert_eq!(ok.reverse_name_status, PeerCode::Ok);

    let liar = name("192.0.2.11");
    assert_eq!(
        (liar.name.as_str(), liar.name_status),
        ("unknown", PeerCode::Forged)
    );
    assert_eq!(
        (liar.reverse_name.as_str(), liar.reverse_name_status),
        ("liar.example.com", PeerCode::Ok)
    );
    assert!(logged(
        "warning: hostname liar.example.com does not resolve to address 192.0.2.11"
    ));

    let gone = name("192.0.2.12");
    assert_eq!(gone.name_status, PeerCode::Forged);
    assert!(logged(
        "warning: hostname gone.example.com does not resolve to address 192.0.2.12: Name or \
         service not known"
    ));

    let flaky = name("192.0.2.13");
    assert_eq!(
        (flaky.name.as_str(), flaky.name_status),
        ("unknown", PeerCode::Temp)
    );
    assert!(logged(
        "warning: hostname flaky.example.com does not resolve to address 192.0.2.13: \
         Temporary failure in name resolution"
    ));

    let nameless = name("192.0.2.14");
    assert_eq!(
        (nameless.reverse_name.as_str(), nameless.reverse_name_status),
        ("unknown", PeerCode::Perm)
    );
    assert_eq!(nameless.name_status, PeerCode::Perm);
    let later = name("192.0.2.15");
    assert_eq!(
        (later.name_status, later.reverse_name_status),
        (PeerCode::Temp, PeerCode::Temp)
    );

    let numeric = name("192.0.2.17");
    assert_eq!(numeric.reverse_name_status, PeerCode::Perm);
    assert!(logged("warning: numeric hostname: 192.0.2.17"));
    let malformed = name("192.0.2.18");
    assert_eq!(malformed.reverse_name_status, PeerCode::Perm);
    assert!(logged(
        "warning: valid_hostname: misplaced hyphen: bad_-.example"
    ));

    // The forward lookup walks the search list, as getaddrinfo() does.
    let short = name("192.0.2.19");
    assert_eq!(
        (short.name.as_str(), short.name_status),
        ("short", PeerCode::Ok)
    );

    // The hosts file answers first, both ways.
    server.clear();
    let files = name("192.0.2.16");
    assert_eq!(
        (files.name.as_str(), files.name_status),
        ("files.example.com", PeerCode::Ok)
    );
    assert!(server.queries().is_empty());

    let six = name("2001:db8::1");
    assert_eq!(
        (six.name.as_str(), six.name_status),
        ("six.example.com", PeerCode::Ok)
    );
}

/// Address list as `addr/pref` strings.
fn addrs(list: &dns::smtp_addr::AddrList) -> Vec<String> {
    list.addrs
        .iter()
        .map(|rr| format!("{}/{}", rr.addr().unwrap(), rr.pref))
        .collect()
}

#[test]
fn mail_exchangers_in_preference_order() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server);
    let mut fixed = Sequence::new(&[0]);
    let mut lookups = SmtpAddr::new(&resolver, Settings::new(InetProtocols::ALL), &mut fixed);
    let found = lookups.domain_addr("example.com");
    assert_eq!(
        addrs(&found),
        [
            "192.0.2.1/10",
            "192.0.2.2/10",
            "2001:db8::2/10",
            "192.0.2.3/20"
        ]
    );
    assert_eq!(found.mx.unwrap().host(), Some("mx1a.example.com"));
    assert!(!found.found_myself);

    // Another random sequence reorders the equal preferences only.
    let mut other = Sequence::new(&[2, 1, 0]);
    let shuffled = SmtpAddr::new(&resolver, Settings::new(InetProtocols::ALL), &mut other)
        .domain_addr("example.com");
    assert_eq!(
        addrs(&shuffled),
        [
            "2001:db8::2/10",
            "192.0.2.1/10",
            "192.0.2.2/10",
            "192.0.2.3/20"
        ]
    );

    // IPv6 preferred among equals; IPv4 only asks no AAAA question.
    let ipv6_first = Settings {
        address_preference: AddrPref::Ipv6,
        randomize_addresses: false,
        ..Settings::new(InetProtocols::ALL)
    };
    let mut random = Sequence::new(&[0]);
    let v6 = SmtpAddr::new(&resolver, ipv6_first, &mut random).domain_addr("example.com");
    assert_eq!(addrs(&v6)[0], "2001:db8::2/10");
    server.clear();
    let v4 = SmtpAddr::new(&resolver, Settings::new(InetProtocols::IPV4), &mut random)
        .domain_addr("example.com");
    assert_eq!(addrs(&v4).len(), 3);
    assert!(
        server.queries().iter().all(|q| !q.contains("AAAA")),
        "{:?}",
        server.queries()
    );

    // The address limit keeps some of each family.
    let limited = Settings {
        mx_address_limit: 2,
        ..Settings::new(InetProtocols::ALL)
    };
    let two = SmtpAddr::new(&resolver, limited, &mut random).domain_addr("example.com");
    assert_eq!(addrs(&two), ["192.0.2.1/10", "2001:db8::2/10"]);
}

#[test]
fn fallbacks_null_mx_and_failures() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server);
    let mut random = Sequence::new(&[0]);
    let mut lookups = SmtpAddr::new(&resolver, Settings::new(InetProtocols::ALL), &mut random);

    let nomx = lookups.domain_addr("nomx.example");
    assert_eq!(addrs(&nomx), ["192.0.2.5/0"]);
    assert_eq!(nomx.mx, None);

    let null = lookups.domain_addr("nullmx.example");
    assert!(null.addrs.is_empty());
    assert_eq!(
        (null.why.status.as_str(), null.why.reason.as_str()),
        (
            "5.1.0",
            "Domain nullmx.example does not accept mail (nullMX)"
        )
    );

    let servfail = lookups.domain_addr("sf.example");
    assert_eq!(servfail.why.status, "4.4.3");
    assert_eq!(
        servfail.why.reason,
        "Host or domain name not found. Name service error for name=sf.example type=MX: Host \
         not found, try again"
    );

    capture();
    let noaddr = lookups.domain_addr("noaddr.example");
    assert!(noaddr.addrs.is_empty());
    assert_eq!(noaddr.why.status, "5.4.4");
    assert_eq!(
        noaddr.why.reason,
        "Host or domain name not found. Name service error for name=ghost.example type=AAAA: \
         Host not found"
    );
    assert!(logged(
        "warning: no MX host for noaddr.example has a valid address record"
    ));

    let nowhere = lookups.host_addr("nowhere.example");
    assert_eq!(nowhere.why.status, "5.4.4");

    let numeric = lookups.host_addr("192.0.2.77");
    assert_eq!(addrs(&numeric), ["192.0.2.77/0"]);
}

#[test]
fn mail_that_loops_back_to_this_machine() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server);
    let settings = Settings {
        own_addrs: vec![ip("192.0.2.200")],
        ..Settings::new(InetProtocols::ALL)
    };
    let mut random = Sequence::new(&[0]);
    let mut lookups = SmtpAddr::new(&resolver, settings, &mut random);

    let looped = lookups.domain_addr("self.example");
    assert!(looped.addrs.is_empty() && looped.found_myself);
    assert_eq!(
        (looped.why.status.as_str(), looped.why.reason.as_str()),
        ("5.4.6", "mail for self.example loops back to myself")
    );
    let backup = lookups.domain_addr("backup.example");
    assert_eq!(
        (backup.why.status.as_str(), backup.why.reason.as_str()),
        ("4.4.4", "unable to find primary relay for backup.example")
    );
    let secondary = lookups.domain_addr("secondary.example");
    assert_eq!(addrs(&secondary), ["192.0.2.7/10"]);
    let direct = lookups.host_addr("me.example");
    assert_eq!(
        direct.why.reason,
        "mail for me.example loops back to myself"
    );
}

#[test]
fn native_and_dns_then_native() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server);
    let dir = scratch("native");
    let hosts = Hosts::from_file(&write(
        &dir,
        "hosts",
        "192.0.2.33 relay.local\n::1 relay.local\n",
    ));
    let native = |host: &str| {
        let found = hosts.addrs(host, |_| true);
        if found.is_empty() {
            Err(AiError::NoName)
        } else {
            Ok(found)
        }
    };
    let mut random = Sequence::new(&[0]);
    let native_only = Settings {
        dns: false,
        native: Some(&native),
        ..Settings::new(InetProtocols::IPV4)
    };
    capture();
    let mut lookups = SmtpAddr::new(&resolver, native_only.clone(), &mut random);
    assert_eq!(addrs(&lookups.host_addr("relay.local")), ["192.0.2.33/0"]);
    assert!(logged("skipping address family 10 for host relay.local"));
    let missing = lookups.host_addr("absent.local");
    assert_eq!(
        (missing.why.status.as_str(), missing.why.reason.as_str()),
        (
            "5.4.4",
            "unable to look up host absent.local: Name or service not known"
        )
    );
    let both = Settings {
        dns: true,
        ..native_only
    };
    let mut lookups = SmtpAddr::new(&resolver, both, &mut random);
    assert_eq!(addrs(&lookups.host_addr("relay.local")), ["192.0.2.33/0"]);
    assert_eq!(addrs(&lookups.host_addr("nomx.example")), ["192.0.2.5/0"]);

    // The real thing: the C library's name service knows localhost.
    let system = dns::native::hostname_to_addrs("localhost").unwrap();
    assert!(system.iter().any(IpAddr::is_loopback));
    let db = FilesDns::new(&dir.join("hosts"), &resolver);
    assert_eq!(
        db.name_to_addrs("relay.local", InetProtocols::IPV4),
        Ok(vec![ip("192.0.2.33")])
    );
}

#[test]
fn block_lists() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server);
    let listed = rbl::find_addr(&resolver, "zen.test", ip("127.0.0.2")).unwrap();
    let Dnsxl::Listed(listing) = listed else {
        panic!("not listed: {listed:?}")
    };
    assert_eq!(listing.txt.as_deref(), Some("listed for spam"));
    assert_eq!(listing.a[0].addr(), Some(ip("127.0.0.2")));
    assert!(
        server
            .queries()
            .contains(&"2.0.0.127.zen.test A udp".to_string())
    );

    assert_eq!(
        rbl::find_addr(&resolver, "zen.test", ip("192.0.2.1")),
        Ok(Dnsxl::NotListed)
    );
    // A reply pattern accepts some codes only.
    let pattern = "zen.test=127.0.0.[2..3]";
    assert_eq!(
        rbl::find_addr(&resolver, pattern, ip("192.0.2.10")),
        Ok(Dnsxl::NotListed)
    );
    assert!(matches!(
        rbl::find_addr(&resolver, pattern, ip("127.0.0.2")),
        Ok(Dnsxl::Listed(_))
    ));
    assert!(matches!(
        rbl::find_addr(&resolver, "zen.test=127.0.0.4", ip("192.0.2.10")),
        Ok(Dnsxl::Listed(_))
    ));
    assert_eq!(
        rbl::find_addr(&resolver, "zen.test=127.0.0", ip("192.0.2.10")),
        Err("RBL reply error: need \".\" at \"127.0.0><\"".to_string())
    );

    capture();
    assert_eq!(
        rbl::find_addr(&resolver, "dead.test", ip("127.0.0.2")),
        Ok(Dnsxl::Soft)
    );
    assert!(logged(
        "warning: 2.0.0.127.dead.test: RBL lookup error: Host or domain name not found. Name \
         service error for name=2.0.0.127.dead.test type=A: Host not found, try again"
    ));

    let domain = rbl::find_domain(&resolver, "dbl.test", "user@spam.example").unwrap();
    assert!(matches!(domain, Dnsxl::Listed(Listing { txt: None, .. })));
    assert_eq!(
        rbl::find_domain(&resolver, "dbl.test", "user@[192.0.2.1]"),
        Ok(Dnsxl::NotListed)
    );
    assert_eq!(
        rbl::find_domain(&resolver, "dbl.test", "host.123"),
        Ok(Dnsxl::NotListed)
    );
}

use dns::rbl::Listing;

#[test]
fn a_changed_hosts_file_is_seen_by_the_next_client() {
    // A daemon keeps one name service for all its clients: an edit of the hosts file must
    // still reach the next client's lookup, and a file taken away leaves DNS alone.
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server);
    let dir = scratch("hosts-change");
    let hosts = write(&dir, "hosts", "192.0.2.16 files.example.com\n");
    let db = FilesDns::new(&hosts, &resolver);
    assert_eq!(
        db.addr_to_name(ip("192.0.2.16")).unwrap(),
        "files.example.com"
    );
    assert_eq!(
        db.addr_to_name(ip("192.0.2.10")).unwrap(),
        "mail.example.com"
    );
    write(
        &dir,
        "hosts",
        "192.0.2.16 edited.example.com\n192.0.2.10 override.example.com\n",
    );
    assert_eq!(
        db.addr_to_name(ip("192.0.2.16")).unwrap(),
        "edited.example.com"
    );
    assert_eq!(
        db.addr_to_name(ip("192.0.2.10")).unwrap(),
        "override.example.com"
    );
    assert_eq!(
        db.name_to_addrs("override.example.com", InetProtocols::IPV4)
            .unwrap(),
        [ip("192.0.2.10")]
    );
    std::fs::remove_file(&hosts).unwrap();
    assert_eq!(
        db.addr_to_name(ip("192.0.2.10")).unwrap(),
        "mail.example.com"
    );
    assert_eq!(db.addr_to_name(ip("192.0.2.16")), Err(AiError::NoName));
}
