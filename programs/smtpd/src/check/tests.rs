//! The engine in memory: restriction lists from a main.cf text, evaluated against made-up
//! sessions. (What needs the resolving service, the destination checks and the sender
//! and recipient tables, whose keys are resolved addresses, is covered end to end by
//! tests/e2e/t-22-smtpd and t-68-smtpd-legacy against Postfix's smtpd.)

use super::{Checker, Facts, Policy};
use crate::peer::Peer;
use global::info_log_addr_form::AddrForm;
use std::path::Path;

const MAIN_CF: &str = "\
mynetworks = 127.0.0.1/32
inet_interfaces = 127.0.0.1
mydestination = localhost
local_recipient_maps =
smtpd_restriction_classes = strict
strict = reject_non_fqdn_sender, reject
smtpd_client_restrictions = check_client_access inline:{192.0.2.9=REJECT}
smtpd_relay_restrictions =
smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated,
    check_client_access inline:{{192.0.2.2=REJECT go away}, {192.0.2.3=strict},
        {192.0.2.4=warn_if_reject reject}, {192.0.2.5=450 4.2.0 full}},
    reject
smtpd_data_restrictions = reject_multi_recipient_bounce
";

fn checker(soft_bounce: bool) -> (Checker, AddrForm) {
    // A fatal configuration error shows on the test's stderr.
    log::init(Box::new(log::Stderr::new("smtpd-test")));
    let main = params::main_cf::MainCf::parse(Path::new("main.cf"), MAIN_CF).unwrap();
    let config = params::Config::new(Path::new("/nonexistent"), main);
    let policy = Policy {
        delay_reject: true,
        // These need the resolving service.
        reject_unlisted_recipient: false,
        reject_unlisted_sender: false,
        relay_first: true,
        soft_bounce,
        show_table: true,
        smtputf8: true,
        ask_ccert: false,
    };
    let rewrite = global::rewrite_clnt::Settings::from_config(&config).unwrap();
    let client = global::rewrite_clnt::RewriteClient::new(rewrite);
    let form = AddrForm::from_config(&config).unwrap();
    (Checker::new(&config, policy, client), form)
}

fn peer(addr: &str) -> Peer {
    Peer {
        name: "unknown".into(),
        reverse_name: "unknown".into(),
        name_status: dns::peer::PeerCode::Perm,
        reverse_name_status: dns::peer::PeerCode::Perm,
        addr: addr.into(),
        rfc_addr: addr.into(),
        port: "1234".into(),
        server: None,
        dest_addr: None,
        dest_port: None,
        sockaddr: addr.parse().ok(),
        namaddr: format!("unknown[{addr}]"),
    }
}

/// The RCPT verdict for `recipient` from `sender`, client `addr`: Ok or the reply.
fn rcpt(
    c: &mut (Checker, AddrForm),
    addr: &str,
    sender: &str,
    recipient: &str,
) -> Result<(), String> {
    rcpt_as(c, None, addr, sender, recipient)
}

/// The same for a client that authenticated as `user`.
fn rcpt_as(
    (checker, form): &mut (Checker, AddrForm),
    user: Option<&str>,
    addr: &str,
    sender: &str,
    recipient: &str,
) -> Result<(), String> {
    let peer = peer(addr);
    let mut facts = facts(&peer, form, "RCPT", sender, 0);
    facts.recipient = Some(recipient);
    facts.sasl_username = user;
    checker.rcpt(&facts).map_err(|r| r.reply)
}

/// A session of `peer` at `stage`, from `sender` with `rcpt_count` recipients accepted.
fn facts<'a>(
    peer: &'a Peer,
    form: &'a AddrForm,
    stage: &'a str,
    sender: &'a str,
    rcpt_count: usize,
) -> Facts<'a> {
    Facts {
        peer,
        helo: Some("client.example"),
        sender: Some(sender),
        recipient: None,
        queue_id: None,
        protocol: "ESMTP",
        stage,
        addr_form: form,
        ill_pipelining: false,
        sasl_username: None,
        sasl_method: None,
        sasl_sender: None,
        rcpt_count,
        size: 0,
        instance: "",
        tls: None,
        stress: "",
    }
}

#[test]
fn multi_recipient_bounce_counts_the_recipients_of_a_null_sender() {
    let (mut checker, form) = checker(false);
    let peer = peer("192.0.2.1");
    let mut data = |sender, count| {
        let facts = facts(&peer, &form, "DATA", sender, count);
        checker.data(&facts).map_err(|r| r.reply)
    };
    assert_eq!(data("", 1), Ok(()));
    assert_eq!(data("a@example.org", 2), Ok(()));
    assert_eq!(
        data("", 2),
        Err("550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce".into())
    );
}

#[test]
fn lists_tables_and_classes_decide_as_postfix() {
    let mut c = checker(false);
    assert_eq!(
        rcpt(&mut c, "127.0.0.1", "a@example.org", "x@example.com"),
        Ok(())
    );
    let client = |n: u8, reply: &str| {
        Err(format!(
            "{reply} <unknown[192.0.2.{n}]>: Client host rejected: {}",
            match n {
                2 => "go away",
                5 => "full",
                _ => "Access denied",
            }
        ))
    };
    assert_eq!(
        rcpt(&mut c, "192.0.2.2", "a@example.org", "x@example.com"),
        client(2, "554 5.7.1")
    );
    assert_eq!(
        rcpt(&mut c, "192.0.2.5", "a@example.org", "x@example.com"),
        client(5, "450 4.2.0")
    );
    assert_eq!(
        rcpt(&mut c, "192.0.2.3", "nodomain", "x@example.com"),
        Err("504 5.5.2 <nodomain>: Sender address rejected: need fully-qualified address".into())
    );
    assert_eq!(
        rcpt(&mut c, "192.0.2.3", "a@example.org", "x@example.com"),
        client(3, "554 5.7.1")
    );
    // warn_if_reject only logs; the list goes on to its final reject, about the
    // recipient.
    assert_eq!(
        rcpt(&mut c, "192.0.2.4", "a@example.org", "warn@example.com"),
        Err("554 5.7.1 <warn@example.com>: Recipient address rejected: Access denied".into())
    );
    // smtpd_delay_reject: the client restrictions speak at RCPT.
    assert_eq!(
        rcpt(&mut c, "192.0.2.9", "a@example.org", "x@example.com"),
        Err("554 5.7.1 <unknown[192.0.2.9]>: Client host rejected: Access denied".into())
    );
}

#[test]
fn permit_sasl_authenticated_needs_a_login() {
    let mut c = checker(false);
    assert_eq!(
        rcpt_as(
            &mut c,
            Some("alice"),
            "192.0.2.1",
            "a@example.org",
            "x@example.com"
        ),
        Ok(())
    );
    assert_eq!(
        rcpt_as(&mut c, None, "192.0.2.1", "a@example.org", "x@example.com"),
        Err("554 5.7.1 <x@example.com>: Recipient address rejected: Access denied".into())
    );
}

#[test]
fn decisions_are_traced_and_soft_bounce_applies() {
    let mut c = checker(true);
    assert_eq!(
        rcpt(&mut c, "192.0.2.2", "a@example.org", "x@example.com"),
        Err("454 4.7.1 <unknown[192.0.2.2]>: Client host rejected: go away".into())
    );
    let last = c.0.trace.decisions().last().cloned().unwrap();
    assert_eq!(last.list, "smtpd_recipient_restrictions");
    assert!(last.restriction.starts_with("check_client_access inline:"));
    assert_eq!(last.key.as_deref(), Some("192.0.2.2 -> REJECT go away"));
    assert!(last.result.starts_with("reject: 454 4.7.1"));
}
