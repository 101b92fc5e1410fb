//! Lookups against a DNS server on loopback: result classes and Postfix's texts, TCP after
//! truncation, CNAME chains, name checks, null MX, reply filters, search domains and
//! ndots, several types at once, negative-answer TTLs, and failing over between servers.

mod support;

use std::time::{Duration, Instant};

use dns::{
    DnsError, HErrno, ReplyFilter, ReqFlags, ResFlags, ResolvConf, Resolver, RrData, RrType,
    Status, TableError,
};
use support::{TestServer, capture, logged, scratch, write};

const ZONE: &str = "
example.com        MX    20 mx2.example.com
example.com        MX    10 mx1.example.com
example.com        SOA   ns.example.com hostmaster.example.com 1 7200 900 86400 60
mx1.example.com    A     192.0.2.1
mx1.example.com    A     192.0.2.2
mx2.example.com    AAAA  2001:db8::2
txtonly.example.com TXT  just text
servfail.example   SERVFAIL
refused.example    REFUSED
formerr.example    FORMERR
silent.example     TIMEOUT
garbage.example    GARBAGE
big.example        TRUNCATE
big.example        A     192.0.2.50
alias.example      CNAME target.example
target.example     A     192.0.2.60
loop1.example      CNAME loop2.example
loop2.example      CNAME loop1.example
badmx.example      MX    10 bad_-.example
nummx.example      MX    10 192.0.2.9
nullmx.example     MX    0 .
signed.example     SECURE
signed.example     A     192.0.2.80
";

/// A resolver for `server` configured by a resolv.conf file in a private directory.
fn resolver_for(server: &TestServer, options: &str) -> Resolver {
    resolver_waiting(server, options, Duration::from_secs(2))
}

/// The same with a timeout of its own (resolv.conf's unit is the second).
fn resolver_waiting(server: &TestServer, options: &str, timeout: Duration) -> Resolver {
    let dir = scratch("lookup");
    let path = write(
        &dir,
        "resolv.conf",
        &format!("nameserver 127.0.0.1\n{options}"),
    );
    let mut conf = ResolvConf::from_file(&path).with_port(server.port);
    conf.timeout = timeout;
    Resolver::new(conf)
}

fn error(result: Result<Vec<dns::Rr>, DnsError>) -> DnsError {
    result.expect_err("lookup should fail")
}

#[test]
fn mx_and_address_records() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server, "");
    let mx = resolver
        .lookup("example.com", RrType::Mx, ResFlags::default())
        .unwrap();
    let texts: Vec<String> = mx.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            "example.com. 300 IN MX 20 mx2.example.com.",
            "example.com. 300 IN MX 10 mx1.example.com."
        ]
    );
    let a = resolver
        .lookup("mx1.example.com", RrType::A, ResFlags::default())
        .unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].data, RrData::A("192.0.2.1".parse().unwrap()));
    let aaaa = resolver
        .lookup("MX2.example.com", RrType::Aaaa, ResFlags::default())
        .unwrap();
    assert_eq!(aaaa[0].addr(), Some("2001:db8::2".parse().unwrap()));
    assert_eq!(aaaa[0].qname, "MX2.example.com");
    assert_eq!(server.queries()[0], "example.com MX udp");
}

#[test]
fn nxdomain_nodata_servfail_timeout_and_texts() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server, "options attempts:2\n");
    let flags = ResFlags::default();

    let nx = error(resolver.lookup("nx.example.com", RrType::A, flags));
    assert_eq!(
        (nx.status, nx.h_errno, nx.rcode),
        (Status::NotFound, HErrno::HostNotFound, Some(3))
    );
    assert_eq!(
        nx.why,
        "Host or domain name not found. Name service error for name=nx.example.com type=A: \
         Host not found"
    );

    let nodata = error(resolver.lookup("txtonly.example.com", RrType::Mx, flags));
    assert_eq!(
        (nodata.status, nodata.h_errno, nodata.rcode),
        (Status::NotFound, HErrno::NoData, Some(0))
    );
    assert_eq!(
        nodata.why,
        "Host or domain name not found. Name service error for name=txtonly.example.com \
         type=MX: Host found but no data record of requested type"
    );

    let servfail = error(resolver.lookup("servfail.example", RrType::Mx, flags));
    assert_eq!((servfail.status, servfail.rcode), (Status::Retry, Some(2)));
    assert_eq!(
        servfail.why,
        "Host or domain name not found. Name service error for name=servfail.example \
         type=MX: Host not found, try again"
    );
    let refused = error(resolver.lookup("refused.example", RrType::A, flags));
    assert_eq!(
        (refused.status, refused.h_errno, refused.rcode),
        (Status::Retry, HErrno::TryAgain, Some(5))
    );
    let formerr = error(resolver.lookup("formerr.example", RrType::A, flags));
    assert_eq!(
        (formerr.status, formerr.h_errno),
        (Status::Fail, HErrno::NoRecovery)
    );
    assert!(
        formerr.why.ends_with("type=A: Non-recoverable error"),
        "{}",
        formerr.why
    );

    server.clear();
    let impatient = resolver_waiting(&server, "options attempts:2\n", Duration::from_millis(300));
    let start = Instant::now();
    let timeout = error(impatient.lookup("silent.example", RrType::A, flags));
    assert!(
        start.elapsed() >= Duration::from_millis(600),
        "two attempts of 300 ms"
    );
    assert_eq!((timeout.status, timeout.rcode), (Status::Retry, None));
    assert!(timeout.why.ends_with("Host not found, try again"));
    assert_eq!(
        server.queries(),
        ["silent.example A udp", "silent.example A udp"]
    );

    let garbage = error(resolver.lookup("garbage.example", RrType::A, flags));
    assert_eq!(garbage.status, Status::Retry);
    assert_eq!(
        garbage.why,
        "Name service error for name=garbage.example type=A: Malformed or unexpected name \
         server reply"
    );
}

#[test]
fn truncated_replies_are_asked_again_over_tcp() {
    let mut zone = String::from(ZONE);
    for n in 1..=120 {
        zone.push_str(&format!("many.example A 10.0.0.{n}\n"));
    }
    let server = TestServer::start(&zone);
    let resolver = resolver_for(&server, "");
    let big = resolver
        .lookup("big.example", RrType::A, ResFlags::default())
        .unwrap();
    assert_eq!(big.len(), 1);
    assert_eq!(server.queries(), ["big.example A udp", "big.example A tcp"]);

    // 120 records overflow a UDP reply, and Postfix's list limit keeps 100 of them.
    capture();
    let many = resolver
        .lookup("many.example", RrType::A, ResFlags::default())
        .unwrap();
    assert_eq!(many.len(), 100);
    assert!(logged(
        "warning: DNS record count limit (100) exceeded -- dropping excess record(s) after \
         qname=many.example qtype=A"
    ));
}

#[test]
fn aliases_are_followed_and_loops_stopped() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server, "");
    let a = resolver
        .lookup("alias.example", RrType::A, ResFlags::default())
        .unwrap();
    assert_eq!(
        (a[0].qname.as_str(), a[0].rname.as_str()),
        ("alias.example", "target.example")
    );
    assert_eq!(
        server.queries(),
        ["alias.example A udp", "target.example A udp"]
    );
    let cname = resolver
        .lookup("alias.example", RrType::Cname, ResFlags::default())
        .unwrap();
    assert_eq!(cname[0].host(), Some("target.example"));

    capture();
    let looped = error(resolver.lookup("loop1.example", RrType::A, ResFlags::default()));
    assert_eq!(
        (looped.status, looped.why.as_str()),
        (Status::NotFound, "Name server loop for loop1.example")
    );
    assert!(logged(
        "warning: dns_lookup: Name server loop for loop1.example"
    ));
}

#[test]
fn names_are_checked_before_and_after_the_query() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server, "");
    for name in ["192.0.2.1", "bad..example", "-x.example"] {
        let e = error(resolver.lookup(name, RrType::A, ResFlags::default()));
        assert_eq!((e.status, e.rcode), (Status::NotFound, Some(3)));
        assert_eq!(
            e.why,
            format!("Name service error for {name}: invalid host or domain name")
        );
    }
    assert!(server.queries().is_empty());

    capture();
    let bad = error(resolver.lookup("badmx.example", RrType::Mx, ResFlags::default()));
    assert_eq!(bad.status, Status::Inval);
    assert_eq!(
        bad.why,
        "Name service error for name=badmx.example type=MX: Malformed or unexpected name \
         server reply"
    );
    assert!(logged(
        "warning: valid_hostname: misplaced hyphen: bad_-.example"
    ));
    assert!(logged(
        "warning: malformed domain name in resource data of MX record for badmx.example: \
         bad_-.example"
    ));
    let numeric = resolver
        .lookup("nummx.example", RrType::Mx, ResFlags::default())
        .unwrap();
    assert_eq!(numeric[0].host(), Some("192.0.2.9"));
    assert!(logged(
        "warning: numeric domain name in resource data of MX record for nummx.example: \
         192.0.2.9"
    ));
}

#[test]
fn null_mx() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server, "");
    let e = error(resolver.lookup("nullmx.example", RrType::Mx, ResFlags::default()));
    assert_eq!((e.status, e.h_errno), (Status::NullMx, HErrno::NoData));
    assert_eq!(e.why, "Domain nullmx.example does not accept mail (nullMX)");
}

/// A filter table: the records whose text ends with `suffix` get `action`.
struct Filter {
    suffix: &'static str,
    action: &'static str,
}

impl ReplyFilter for Filter {
    fn title(&self) -> &str {
        "smtp_dns_reply_filter"
    }
    fn find(&self, record: &str) -> Result<Option<String>, TableError> {
        Ok(record
            .ends_with(self.suffix)
            .then(|| self.action.to_string()))
    }
}

#[test]
fn reply_filter_drops_records() {
    let server = TestServer::start(ZONE);
    let filtered =
        |suffix, action| resolver_for(&server, "").with_filter(Box::new(Filter { suffix, action }));
    capture();
    let one = filtered("192.0.2.1", "IGNORE")
        .lookup("mx1.example.com", RrType::A, ResFlags::default())
        .unwrap();
    assert_eq!(one.len(), 1);
    assert!(logged(
        "ignoring DNS RR: mx1.example.com. 300 IN A 192.0.2.1"
    ));

    let all =
        error(filtered("", "ignore").lookup("mx1.example.com", RrType::A, ResFlags::default()));
    assert_eq!(all.status, Status::Policy);
    assert_eq!(
        all.why,
        "Error looking up name=mx1.example.com type=A: DNS reply filter drops all results"
    );

    let bad =
        error(filtered("", "REJECT").lookup("mx1.example.com", RrType::A, ResFlags::default()));
    assert_eq!(bad.status, Status::Retry);
    assert_eq!(
        bad.why,
        "Error looking up name=mx1.example.com type=A: Invalid DNS reply filter syntax"
    );
    assert!(logged(
        "warning: smtp_dns_reply_filter: unknown DNS filter action: \"REJECT\""
    ));
}

#[test]
fn search_domains_and_ndots() {
    let server = TestServer::start(
        "
        host.b.test   A   192.0.2.70
        two.a.test    TXT no address here
        x.y.b.test    A   192.0.2.71
        m.x.y         A   192.0.2.72
        ",
    );
    let resolver = resolver_for(&server, "search a.test b.test\noptions ndots:2\n");
    assert_eq!(resolver.conf().search, ["a.test", "b.test"]);

    // Postfix's default: no search, the name as it is.
    let plain = error(resolver.lookup("host", RrType::A, ResFlags::default()));
    assert_eq!(plain.h_errno, HErrno::HostNotFound);
    assert_eq!(server.queries(), ["host A udp"]);

    // With res_defnames, a dotless name walks the search list first.
    server.clear();
    let found = resolver
        .lookup("host", RrType::A, ResFlags::SEARCH)
        .unwrap();
    assert_eq!(found[0].rname, "host.b.test");
    assert_eq!(server.queries(), ["host.a.test A udp", "host.b.test A udp"]);

    // Fewer dots than ndots: the search list, then the name itself.
    server.clear();
    resolver.lookup("x.y", RrType::A, ResFlags::SEARCH).unwrap();
    assert_eq!(server.queries(), ["x.y.a.test A udp", "x.y.b.test A udp"]);
    // Enough dots: the name itself first.
    server.clear();
    resolver
        .lookup("m.x.y", RrType::A, ResFlags::SEARCH)
        .unwrap();
    assert_eq!(server.queries(), ["m.x.y A udp"]);

    // NODATA in one search domain is the answer when nothing is found anywhere.
    server.clear();
    let nodata = error(resolver.lookup("two", RrType::A, ResFlags::SEARCH));
    assert_eq!(nodata.h_errno, HErrno::NoData);
    assert_eq!(
        server.queries(),
        ["two.a.test A udp", "two.b.test A udp", "two A udp"]
    );
    assert!(
        nodata
            .why
            .contains("name=two type=A: Host found but no data record")
    );

    // ndots 1 (the default): a name with a dot is tried as it is, then searched; the
    // error reported is the one of the name as it is.
    let default = resolver_for(&server, "search a.test\n");
    server.clear();
    let nx = error(default.lookup("z.example", RrType::A, ResFlags::SEARCH));
    assert_eq!(nx.h_errno, HErrno::HostNotFound);
    assert_eq!(
        server.queries(),
        ["z.example A udp", "z.example.a.test A udp"]
    );
}

#[test]
fn several_types_stop_and_precedence() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server, "");
    let both = resolver
        .lookup_types(
            "mx1.example.com",
            &[RrType::A, RrType::Aaaa],
            ResFlags::default(),
            ReqFlags::default(),
        )
        .unwrap();
    assert_eq!(both.len(), 2);

    server.clear();
    let stop_ok = ReqFlags {
        stop_ok: true,
        ..ReqFlags::default()
    };
    resolver
        .lookup_types(
            "mx1.example.com",
            &[RrType::A, RrType::Aaaa, RrType::Mx],
            ResFlags::default(),
            stop_ok,
        )
        .unwrap();
    assert_eq!(server.queries(), ["mx1.example.com A udp"]);

    // Not found twice: the last reason.
    let nx = error(resolver.lookup_types(
        "nx.example.com",
        &[RrType::A, RrType::Aaaa],
        ResFlags::default(),
        ReqFlags::default(),
    ));
    assert!(nx.why.contains("type=AAAA: Host not found"), "{}", nx.why);

    // A temporary error outranks "not found", whichever came first.
    let mixed = [RrType::A, RrType::Mx];
    let e = error(resolver.lookup_types(
        "nullmx.example",
        &mixed,
        ResFlags::default(),
        ReqFlags::default(),
    ));
    assert_eq!(e.status, Status::NullMx);
    let stop_nullmx = ReqFlags {
        stop_nullmx: true,
        ..ReqFlags::default()
    };
    let e = error(resolver.lookup_types(
        "nullmx.example",
        &[RrType::Mx, RrType::A],
        ResFlags::default(),
        stop_nullmx,
    ));
    assert_eq!(e.status, Status::NullMx);
    let e = error(resolver.lookup_types(
        "servfail.example",
        &[RrType::A],
        ResFlags::default(),
        ReqFlags::default(),
    ));
    assert_eq!(e.status, Status::Retry);
}

#[test]
fn negative_answers_carry_the_soa_ttl() {
    let server = TestServer::start(ZONE);
    let resolver = resolver_for(&server, "");
    let ncache = ReqFlags {
        ncache_ttl: true,
        ..ReqFlags::default()
    };
    let e = error(resolver.lookup_x("nx.example.com", RrType::A, ResFlags::default(), ncache));
    assert_eq!(e.status, Status::NotFound);
    assert_eq!(e.soa.len(), 1);
    assert_eq!(e.soa[0].ttl, 300);
    assert_eq!(e.soa[0].data, RrData::Soa([1, 7200, 900, 86400, 60]));
    assert_eq!(
        e.soa[0].to_string(),
        "example.com. 300 IN SOA - - 1 7200 900 86400 60"
    );

    capture();
    let searched = error(resolver.lookup_x("nx.example.com", RrType::A, ResFlags::SEARCH, ncache));
    assert_eq!(searched.soa.len(), 1);
    assert!(logged(
        "warning: negative caching disables RES_DEFNAMES and RES_DNSRCH"
    ));
}

#[test]
fn the_next_server_after_servfail_or_silence() {
    let broken = TestServer::start("* SERVFAIL");
    let silent = TestServer::start("* TIMEOUT");
    let good = TestServer::start(ZONE);
    let conf = ResolvConf {
        nameservers: vec![broken.addr(), silent.addr(), good.addr()],
        timeout: Duration::from_secs(1),
        attempts: 1,
        ..ResolvConf::default()
    };
    let resolver = Resolver::new(conf.clone());
    let a = resolver
        .lookup("mx1.example.com", RrType::A, ResFlags::default())
        .unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(broken.queries().len(), 1);
    assert_eq!(silent.queries().len(), 1);

    // With rotate, successive queries start at successive servers.
    let rotating = Resolver::new(ResolvConf {
        nameservers: vec![good.addr(), broken.addr()],
        rotate: true,
        ..conf
    });
    broken.clear();
    good.clear();
    for _ in 0..2 {
        rotating
            .lookup("mx1.example.com", RrType::A, ResFlags::default())
            .unwrap();
    }
    assert_eq!((good.queries().len(), broken.queries().len()), (2, 1));
}

#[test]
fn transport_options_and_the_ad_bit() {
    let mut zone = String::from(ZONE);
    for n in 1..=40 {
        zone.push_str(&format!("forty.example A 10.0.1.{n}\n"));
    }
    let server = TestServer::start(&zone);

    // use-vc: TCP from the start.
    let vc = resolver_for(&server, "options use-vc\n");
    vc.lookup("mx1.example.com", RrType::A, ResFlags::default())
        .unwrap();
    assert_eq!(server.queries(), ["mx1.example.com A tcp"]);

    // edns0: 40 records fit a 1200-byte UDP reply, not a 512-byte one.
    server.clear();
    let edns = resolver_for(&server, "options edns0\n");
    assert_eq!(
        edns.lookup("forty.example", RrType::A, ResFlags::default())
            .unwrap()
            .len(),
        40
    );
    assert_eq!(server.queries(), ["forty.example A udp +edns"]);
    server.clear();
    let plain = resolver_for(&server, "");
    plain
        .lookup("forty.example", RrType::A, ResFlags::default())
        .unwrap();
    assert_eq!(
        server.queries(),
        ["forty.example A udp", "forty.example A tcp"]
    );

    // The AD bit counts only when the resolver is trusted to validate, as with glibc:
    // with DNSSEC asked for (Postfix then sets RES_TRUSTAD) or options trust-ad.
    server.clear();
    let dnssec = ResFlags {
        dnssec: true,
        ..ResFlags::default()
    };
    let signed = plain.lookup("signed.example", RrType::A, dnssec).unwrap();
    assert!(signed[0].dnssec_valid);
    assert_eq!(server.queries(), ["signed.example A udp +edns +do +ad"]);
    let unasked = plain
        .lookup("signed.example", RrType::A, ResFlags::default())
        .unwrap();
    assert!(!unasked[0].dnssec_valid);
    let trusted = resolver_for(&server, "options trust-ad\n");
    assert!(
        trusted
            .lookup("signed.example", RrType::A, ResFlags::default())
            .unwrap()[0]
            .dnssec_valid
    );
    let unsigned = plain.lookup("mx1.example.com", RrType::A, dnssec).unwrap();
    assert!(!unsigned[0].dnssec_valid);
}

#[test]
fn resolv_conf_is_read_again_when_it_changes() {
    let server = TestServer::start("host.a.test A 192.0.2.90\nhost.b.test A 192.0.2.91\n");
    let dir = scratch("reload");
    let path = write(&dir, "resolv.conf", "nameserver 127.0.0.1\nsearch a.test\n");
    let resolver = Resolver::from_file(&path).with_port(server.port);
    let first = resolver
        .lookup("host", RrType::A, ResFlags::SEARCH)
        .unwrap();
    assert_eq!(first[0].rname, "host.a.test");
    write(
        &dir,
        "resolv.conf",
        "nameserver 127.0.0.1\nsearch b.test\n# changed\n",
    );
    let second = resolver
        .lookup("host", RrType::A, ResFlags::SEARCH)
        .unwrap();
    assert_eq!(second[0].rname, "host.b.test");
    assert_eq!(resolver.conf().nameservers, [server.addr()]);
}
