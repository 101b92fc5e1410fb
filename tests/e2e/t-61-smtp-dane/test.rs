//! The SMTP client's dane and dane-only levels against a DNS server on loopback
//! (e2e::dns) that answers like a validating resolver (the AD bit where the zone says
//! so) and STARTTLS servers with a self-signed certificate and with crates/tls's
//! CA-signed chain for mail.example. Differential: the same mail through Postfix's smtp
//! and through ironpost's, both chrooted and resolving through queue/etc/resolv.conf,
//! smtp_tls_security_level = dane and smtp_dns_support_level = dnssec. The cases: a
//! DANE-EE 3 1 1 record of the server's key (`Verified TLS connection established`);
//! a DANE-EE record with a wrong digest (`num=65:no matching DANE TLSA records`, the
//! `Server certificate not verified` deferral); a validated host without TLSA records
//! (opportunistic TLS, `Untrusted`); an MX RRset that was not validated, with a
//! matching record under it (not DANE: `Untrusted`); dane-only through
//! smtp_tls_policy_maps for a host without TLSA records (deferred with `no TLSA records
//! found`); only PKIX-EE records (Postfix's `unsupported TLSA certificate usage`
//! warning, then mandatory unauthenticated TLS); a DANE-TA 2 0 1 record of the CA that
//! signed the server's chain, under the certificate's own name (`Verified`) and under
//! another MX name (`hostname mismatch`); a host whose address record was not
//! validated, with a matching record, through a client with
//! smtp_tls_force_insecure_host_tlsa_lookup (`Verified`) and without (`Untrusted`).
//! A record with a selector OpenSSL does not know (`unusable TLSA RR`, `all TLSA
//! records unusable, fallback to unauthenticated TLS`); dane-only under an MX RRset
//! that was not validated (`non DNSSEC destination`); a TLSA lookup that fails
//! (`DANE TLSA lookup problem`, deferred with `TLSA lookup error for host:port`); a
//! DANE-TA 2 0 0 record of a CA the server does not send; an MX name that is a CNAME
//! of a host with TLSA records. The DANE-EE and DANE-TA matches once more through a
//! client at smtp_tls_loglevel 2, whose DANE lines are compared
//! (`DNSSEC-signed TLSA record`, `matched peername`, `Matched DANE ... at depth N`);
//! its other lines there are OpenSSL's own. Apart: a resolver that never validates,
//! whose first answer makes the client send dnssec_probe's question and warn
//! (`DNSSEC validation may be unavailable`).

use e2e::dns::DnsServer;
use e2e::free_port;
use e2e::starttls::{Listener, test_cert};
use std::process::Command;

/// Where the DNS server listens (t-22 and t-47 use 127.0.0.153 and .154).
const DNS_ADDR: &str = "127.0.0.161";
/// The server with the self-signed certificate, and the one with the CA-signed chain.
const SELF_ADDR: &str = "127.0.0.61";
const CHAIN_ADDR: &str = "127.0.0.62";
/// The server that sends its certificate alone, without the CA that signed it.
const LEAF_ADDR: &str = "127.0.0.64";

/// Runs a shell pipeline of openssl commands and returns its output, trimmed.
fn openssl(script: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", script])
        .output()
        .expect("sh");
    assert!(out.status.success(), "{script}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A self-signed certificate under `dir`, and the SHA-256 digest of its public key.
fn self_signed(dir: &std::path::Path) -> (String, String, String) {
    let (pem, key) = (dir.join("self.pem"), dir.join("self.key"));
    openssl(&format!(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=mx-ok.dane.test \
         -keyout {} -out {} 2>/dev/null",
        key.display(),
        pem.display()
    ));
    let spki = openssl(&format!(
        "openssl x509 -in {} -pubkey -noout | openssl pkey -pubin -outform DER | \
         openssl dgst -sha256 -r | cut -d' ' -f1",
        pem.display()
    ));
    (pem.display().to_string(), key.display().to_string(), spki)
}

/// A CA of the test's own and a certificate it signed for mx-ta3.dane.test, under
/// `dir`: the certificate and key files, and the CA's certificate in hex.
fn signed_leaf(dir: &std::path::Path) -> (String, String, String) {
    let d = dir.display();
    openssl(&format!(
        "cd {d} && printf 'subjectAltName=DNS:mx-ta3.dane.test\\n' > leaf.ext && \
         openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=t61-ca \
           -keyout ca3.key -out ca3.pem 2>/dev/null && \
         openssl req -newkey rsa:2048 -nodes -subj /CN=mx-ta3.dane.test \
           -keyout leaf3.key -out leaf3.csr 2>/dev/null && \
         openssl x509 -req -in leaf3.csr -CA ca3.pem -CAkey ca3.key -CAcreateserial \
           -days 3650 -extfile leaf.ext -out leaf3.pem 2>/dev/null && \
         openssl x509 -in ca3.pem -outform DER -out ca3.der"
    ));
    let der = std::fs::read(dir.join("ca3.der")).unwrap();
    let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
    (format!("{d}/leaf3.pem"), format!("{d}/leaf3.key"), hex)
}

/// The recipients, each with the status its delivery ends in.
const CASES: [(&str, &str); 17] = [
    ("a@ok.dane.test", "status=sent"),
    ("b@bad.dane.test", "status=deferred"),
    ("c@notlsa.dane.test", "status=sent"),
    ("d@insecure.dane.test", "status=sent"),
    ("e@daneonly.dane.test", "status=deferred"),
    ("f@pkix.dane.test", "status=sent"),
    ("g@ta.dane.test", "status=sent"),
    ("h@taname.dane.test", "status=deferred"),
    // Through smtp2, at smtp_tls_loglevel 2.
    ("i@ok2.dane.test", "status=sent"),
    ("j@ta2.dane.test", "status=sent"),
    // An address record without the AD bit: through smtp3, which looks for TLSA
    // records all the same, and through smtp, which does not.
    ("k@force.dane.test", "status=sent"),
    ("l@noforce.dane.test", "status=sent"),
    ("m@unusable.dane.test", "status=sent"),
    ("n@daneonly2.dane.test", "status=deferred"),
    ("o@servfail.dane.test", "status=deferred"),
    // A DANE-TA 2 0 0 record of a CA the server does not send.
    ("q@ta3.dane.test", "status=sent"),
    // An MX name that is a CNAME of a host with TLSA records.
    ("r@cname.dane.test", "status=sent"),
];

/// The zone for servers on `port`: `spki` is the self-signed certificate's key digest,
/// `ca` the test CA's certificate digest, `ca3` the whole certificate of the test's own CA.
fn zone(port: u16, spki: &str, ca: &str, ca3: &str) -> String {
    let tlsa = |host: &str, rec: &str| {
        format!(r#""_{port}._tcp.{host}": [["TLSA", "{rec}"], ["AD", ""]]"#)
    };
    let secure = |name: &str, rtype: &str, value: &str| {
        format!(r#""{name}": [["{rtype}", "{value}"], ["AD", ""]]"#)
    };
    let zero = "00".repeat(32);
    [
        // The DNSSEC probe's question, should Postfix ask it.
        r#"".": [["NS", "a.root.test"], ["AD", ""]]"#.to_string(),
        secure("ok.dane.test", "MX", "10 mx-ok.dane.test"),
        secure("mx-ok.dane.test", "A", SELF_ADDR),
        tlsa("mx-ok.dane.test", &format!("3 1 1 {spki}")),
        secure("bad.dane.test", "MX", "10 mx-bad.dane.test"),
        secure("mx-bad.dane.test", "A", SELF_ADDR),
        tlsa("mx-bad.dane.test", &format!("3 1 1 {zero}")),
        secure("notlsa.dane.test", "MX", "10 mx-notlsa.dane.test"),
        secure("mx-notlsa.dane.test", "A", SELF_ADDR),
        r#""insecure.dane.test": [["MX", "10 mx-ok.dane.test"]]"#.to_string(),
        secure("daneonly.dane.test", "MX", "10 mx-notlsa.dane.test"),
        secure("pkix.dane.test", "MX", "10 mx-pkix.dane.test"),
        secure("mx-pkix.dane.test", "A", SELF_ADDR),
        // Not the key's digest: each run makes its own key, and the record is never
        // matched.
        tlsa("mx-pkix.dane.test", &format!("1 1 1 {}", "ab".repeat(32))),
        secure("ta.dane.test", "MX", "10 mail.example"),
        secure("mail.example", "A", CHAIN_ADDR),
        tlsa("mail.example", &format!("2 0 1 {ca}")),
        secure("ok2.dane.test", "MX", "10 mx-ok.dane.test"),
        secure("ta2.dane.test", "MX", "10 mail.example"),
        secure("force.dane.test", "MX", "10 mx-force.dane.test"),
        secure("noforce.dane.test", "MX", "10 mx-force.dane.test"),
        format!(r#""mx-force.dane.test": [["A", "{SELF_ADDR}"]]"#),
        tlsa("mx-force.dane.test", &format!("3 1 1 {spki}")),
        secure("unusable.dane.test", "MX", "10 mx-unusable.dane.test"),
        secure("mx-unusable.dane.test", "A", SELF_ADDR),
        tlsa(
            "mx-unusable.dane.test",
            &format!("3 7 1 {}", "cd".repeat(32)),
        ),
        r#""daneonly2.dane.test": [["MX", "10 mx-ok.dane.test"]]"#.to_string(),
        secure("servfail.dane.test", "MX", "10 mx-sf.dane.test"),
        secure("mx-sf.dane.test", "A", SELF_ADDR),
        format!(r#""_{port}._tcp.mx-sf.dane.test": [["SERVFAIL", ""]]"#),
        secure("cname.dane.test", "MX", "10 alias.dane.test"),
        secure("alias.dane.test", "CNAME", "mx-ok.dane.test"),
        secure("ta3.dane.test", "MX", "10 mx-ta3.dane.test"),
        secure("mx-ta3.dane.test", "A", LEAF_ADDR),
        tlsa("mx-ta3.dane.test", &format!("2 0 0 {ca3}")),
        secure("taname.dane.test", "MX", "10 mx-ta.dane.test"),
        secure("mx-ta.dane.test", "A", CHAIN_ADDR),
        tlsa("mx-ta.dane.test", &format!("2 0 1 {ca}")),
    ]
    .iter()
    .fold(String::from("{"), |mut out, entry| {
        if out.len() > 1 {
            out.push_str(",\n");
        }
        out.push_str(entry);
        out
    }) + "}"
}

/// The client's log lines for each case in order, and what the servers received.
type Seen = (Vec<Vec<String>>, Vec<String>);

fn run(ours: bool) -> Option<Seen> {
    let mut mx = e2e::client::instance("t-61", ours, "smtp")?;
    let port = free_port();
    e2e::dns::resolve_in_jail(&mx, DNS_ADDR);
    mx.set_main_cf("smtp_tcp_port", &port.to_string());
    mx.set_main_cf("smtp_tls_security_level", "dane");
    mx.set_main_cf("smtp_dns_support_level", "dnssec");
    mx.set_main_cf("smtp_tls_loglevel", "1");
    mx.set_main_cf("smtp_tls_policy_maps", "texthash:@DIR@/etc/tls_policy");
    mx.write(
        "etc/tls_policy",
        "daneonly.dane.test dane-only\ndaneonly2.dane.test dane-only\n",
    );
    mx.set_main_cf("transport_maps", "texthash:@DIR@/etc/transport");
    mx.write(
        "etc/transport",
        "ok2.dane.test smtp2:\nta2.dane.test smtp2:\nforce.dane.test smtp3:\n",
    );
    e2e::dns::chroot_smtp(&mx);
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &format!(
            "{master_cf}smtp2 unix - - y - - smtp -o syslog_name=postfix/smtp2 -o smtp_tls_loglevel=2\n\
             smtp3 unix - - y - - smtp -o smtp_tls_force_insecure_host_tlsa_lookup=yes\n"
        ),
    );
    let (self_pem, self_key, spki) = self_signed(&mx.dir);
    let (leaf3_pem, leaf3_key, ca3) = signed_leaf(&mx.dir);
    let ca = openssl(&format!(
        "openssl x509 -in {} -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1",
        test_cert("ca.pem")
    ));
    let transcript = mx.dir.join("sink/transcript");
    std::fs::create_dir_all(mx.dir.join("sink")).unwrap();
    let dns_log = mx.dir.join("log/dns-queries");
    let _dns = DnsServer::start(DNS_ADDR, &zone(port, &spki, &ca, &ca3), &dns_log)?;
    let (chain_pem, chain_key) = (test_cert("rsa-chain.pem"), test_cert("rsa.key"));
    let listener = |addr, cert, key| Listener {
        label: addr,
        addr,
        port,
        mode: "tls",
        cert,
        key,
    };
    let _servers = e2e::starttls::start(
        &transcript,
        "mx.dane.test",
        &[
            listener(SELF_ADDR, &self_pem, &self_key),
            listener(CHAIN_ADDR, &chain_pem, &chain_key),
            listener(LEAF_ADDR, &leaf3_pem, &leaf3_key),
        ],
    );
    mx.start();
    let mut per_case = Vec::new();
    for (n, (to, want)) in CASES.iter().enumerate() {
        let client = |l: &str| l.contains("postfix/smtp[") || l.contains("postfix/smtp2");
        let log = e2e::client::send_and_wait(&mx, to, &format!("t61-{n}"), want, client);
        let lines: Vec<String> = log
            .iter()
            .filter(|l| {
                l.contains("postfix/smtp[")
                    || (l.contains("postfix/smtp2")
                        && [
                            "DNSSEC-signed TLSA record",
                            "matched peername",
                            "Matched DANE",
                            "TLS connection established",
                            "to=<",
                        ]
                        .iter()
                        .any(|w| l.contains(w)))
            })
            .filter_map(|l| e2e::client::message(l, port))
            .map(|m| m.replace(&spki.to_uppercase(), "SPKI"))
            .collect();
        per_case.push(lines);
    }
    let received = e2e::client::received(&transcript);
    Some((per_case, received))
}

#[test]
fn dane_equal_postfix() {
    if !e2e::starttls::openssl_runs() {
        return;
    }
    let Some(postfix) = run(false) else { return };
    let Some(ours) = run(true) else { return };
    e2e::client::assert_cases_equal(
        &ours.0,
        &postfix.0,
        &CASES.map(|(to, _)| to),
        &[
            "Verified TLS connection established to mx-ok.dane.test[127.0.0.61]:PORT",
            "num=65:no matching DANE TLSA records",
            "Untrusted TLS connection established to mx-notlsa.dane.test",
            "no TLSA records found",
            "Verified TLS connection established to mail.example[127.0.0.62]:PORT",
            "Trusted TLS connection established to mx-ok.dane.test",
            "unsupported TLSA certificate usage",
            "Matched DANE EE certificate at depth 0",
            "Matched DANE TA certificate at depth 1",
            "Verified TLS connection established to mx-force.dane.test",
            "Untrusted TLS connection established to mx-force.dane.test",
            "all TLSA records unusable, fallback to unauthenticated TLS",
            "non DNSSEC destination",
            "TLSA lookup error for mx-sf.dane.test:PORT",
            "Verified TLS connection established to mx-ta3.dane.test",
            "Verified TLS connection established to alias.dane.test",
        ],
    );
    assert_eq!(ours.1, postfix.1);
}

/// Where the probe test's DNS server listens, and the address nothing listens on.
const PROBE_DNS_ADDR: &str = "127.0.0.162";
const DEAD_ADDR: &str = "127.0.0.63";

/// A client with smtp_dns_support_level = dnssec whose resolver never validates: the
/// first lookup makes it ask dnssec_probe's question (ns:.), whose answer is not
/// validated either. Its log lines for one message to a server that is down.
fn probe_run(ours: bool) -> Option<Vec<String>> {
    let mut mx = e2e::client::instance("t-61-probe", ours, "smtp")?;
    let port = free_port();
    e2e::dns::resolve_in_jail(&mx, PROBE_DNS_ADDR);
    mx.set_main_cf("smtp_tcp_port", &port.to_string());
    mx.set_main_cf("smtp_dns_support_level", "dnssec");
    e2e::dns::chroot_smtp(&mx);
    let zone = format!(
        r#"{{".": [["NS", "a.root.test"]],
            "unsigned.dane.test": [["MX", "10 mx.unsigned.dane.test"]],
            "mx.unsigned.dane.test": [["A", "{DEAD_ADDR}"]]}}"#
    );
    let dns_log = mx.dir.join("log/dns-queries");
    let _dns = DnsServer::start(PROBE_DNS_ADDR, &zone, &dns_log)?;
    mx.start();
    let to = "p@unsigned.dane.test";
    let smtp = |l: &str| l.contains("postfix/smtp[");
    let log = e2e::client::send_and_wait(&mx, to, "t61-probe", "", smtp);
    let queries = std::fs::read_to_string(&dns_log).unwrap_or_default();
    assert!(queries.lines().any(|q| q == " NS DO"), "{queries}");
    Some(
        log.iter()
            .filter(|l| smtp(l))
            .filter_map(|l| e2e::client::message(l, port))
            .collect(),
    )
}

#[test]
fn dnssec_probe_equal_postfix() {
    let Some(postfix) = probe_run(false) else {
        return;
    };
    let Some(ours) = probe_run(true) else { return };
    assert!(
        postfix
            .iter()
            .any(|l| l == "warning: DNSSEC validation may be unavailable"),
        "{postfix:#?}"
    );
    assert_eq!(ours, postfix);
}
