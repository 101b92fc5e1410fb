//! cleanup's address mappings against Postfix's: canonical_maps, sender_canonical_maps and
//! recipient_canonical_maps with their classes, virtual_alias_maps with expansion, self
//! references, extensions, `@domain` entries and the three limits, and masquerading with
//! exceptions and `!domain`. The same main.cf and tables go to two instances, one with
//! ironpost's cleanup and one with Postfix's; the messages are submitted over SMTP (to
//! Postfix's smtpd), with Postfix's sendmail (through pickup), or straight to the cleanup
//! socket, and the queue files, statuses, reasons and cleanup's log lines must be equal.
//! checks.rs does the same for header and body checks and the automatic BCC tables.

mod checks;
#[path = "../t-20-cleanup/harness.rs"]
mod harness;

use harness::{Pair, sendmail, smtp};

const MAIN_CF: &str = "
recipient_delimiter = +
canonical_maps = texthash:@DIR@/etc/canonical
sender_canonical_maps = texthash:@DIR@/etc/sender_canonical
recipient_canonical_maps = texthash:@DIR@/etc/recipient_canonical
recipient_canonical_classes = envelope_recipient
virtual_alias_maps = texthash:@DIR@/etc/virtual
virtual_alias_recursion_limit = 3
virtual_alias_expansion_limit = 4
virtual_alias_address_length_limit = 40
masquerade_domains = !keep.e2e.test, e2e.test
masquerade_exceptions = root
";

const CANONICAL: &str = "\
@old.e2e.test @new.e2e.test
loop1@e2e.test loop2@e2e.test
loop2@e2e.test loop1@e2e.test
chain1@e2e.test chain2@e2e.test
chain2@e2e.test chain3@e2e.test
multi@e2e.test first@e2e.test, second@e2e.test
base@e2e.test renamed@e2e.test
self@e2e.test SELF@e2e.test
q@e2e.test \"john doe\"@e2e.test
root postmaster@e2e.test
localuser lu@e2e.test
";

const SENDER_CANONICAL: &str = "joe@e2e.test Joe.Public@e2e.test\n";

const RECIPIENT_CANONICAL: &str = "rc@e2e.test rc-new@e2e.test\n";

const VIRTUAL: &str = "\
list@vmail.e2e.test user@vmail.e2e.test, other@e2e.test, list@vmail.e2e.test
plus@e2e.test target@e2e.test
@alias.e2e.test @vmail.e2e.test
deep1@e2e.test deep2@e2e.test
deep2@e2e.test deep3@e2e.test
deep3@e2e.test deep4@e2e.test
deep4@e2e.test deep5@e2e.test
wide@e2e.test w1@e2e.test, w2@e2e.test, w3@e2e.test, w4@e2e.test, w5@e2e.test
long@e2e.test a-very-long-local-part-indeed-longer-than-forty@e2e.test
nonaddr@e2e.test ,
";

fn pair(name: &str) -> Option<Pair> {
    Pair::new(
        name,
        MAIN_CF,
        &[
            ("etc/canonical", CANONICAL),
            ("etc/sender_canonical", SENDER_CANONICAL),
            ("etc/recipient_canonical", RECIPIENT_CANONICAL),
            ("etc/virtual", VIRTUAL),
        ],
    )
}

#[test]
fn addresses_map_as_with_postfix_s_cleanup() {
    let Some(pair) = pair("t-21-maps") else {
        return;
    };
    pair.compare_queued("t21-smtp", |mx| {
        smtp(
            mx,
            "joe@e2e.test",
            &[
                "list@vmail.e2e.test",
                "plus+ext@e2e.test",
                "someone@alias.e2e.test",
                "rc@e2e.test",
                "chain1@e2e.test",
                "x+y@old.e2e.test",
                "multi@e2e.test",
                "loop1@e2e.test",
                "self@e2e.test",
                "x@host.e2e.test",
            ],
            "From: Joe <joe@e2e.test>\r\n\
             Sender: admin@host.e2e.test\r\n\
             To: rc@e2e.test, list@vmail.e2e.test, q@e2e.test\r\n\
             Cc: someone@host.e2e.test, root@host.e2e.test, a@sub.keep.e2e.test,\r\n chain1@e2e.test\r\n\
             Reply-To: base+tag@e2e.test\r\n\
             Subject: t21-smtp\r\n\r\nbody\r\n",
        );
    });
    pair.compare_queued("t21-local", |mx| {
        sendmail(
            mx,
            &[
                "-f",
                "root",
                "localuser@mail.e2e.test",
                "user@host.e2e.test",
            ],
            "Subject: t21-local\nTo: localuser, root\n\nbody\n",
        );
    });
}

#[test]
fn expansion_limits_defer_as_with_postfix_s_cleanup() {
    let Some(pair) = pair("t-21-limits") else {
        return;
    };
    for (what, rcpt) in [
        ("recursion", "deep1@e2e.test"),
        ("expansion size", "wide@e2e.test"),
        ("address length", "long@e2e.test"),
        ("non-address result", "nonaddr@e2e.test"),
        ("within limits", "plus+x@e2e.test"),
    ] {
        let stream: Vec<harness::Rec> = vec![
            (b'T', b"1700000000 0"),
            (b'S', b"sender@e2e.test"),
            (b'R', rcpt.as_bytes()),
            (b'M', b""),
            (b'N', b"Received: by test"),
            (b'N', b"Subject: limits"),
            (b'N', b""),
            (b'N', b"body"),
            (b'X', b""),
            (b'E', b""),
        ];
        let (status, _) = pair.compare_raw(what, 114, &stream);
        assert_eq!(status == 0, what == "within limits", "{what}");
    }
}

#[test]
fn dsn_success_and_probes_of_aliases_as_with_postfix_s_cleanup() {
    let Some(pair) = pair("t-21-dsn") else {
        return;
    };
    let message = |attr: &'static [u8]| -> Vec<harness::Rec<'static>> {
        vec![
            (b'T', b"1700000000 0"),
            (b'S', b"sender@e2e.test"),
            (b'A', attr),
            (b'R', b"list@vmail.e2e.test"),
            (b'M', b""),
            (b'N', b"Received: by test"),
            (b'N', b""),
            (b'N', b"body"),
            (b'X', b""),
            (b'E', b""),
        ]
    };
    // NOTIFY=SUCCESS: the alias is reported "expanded" through the trace service, and its
    // expansions no longer ask for success notices.
    let (status, _, (ours, theirs)) =
        pair.compare_raw_ids("notify success", 114, &message(b"notify_flags=2"));
    assert_eq!(status, 0);
    let read = |mx: &e2e::Instance, queue: &str, id: &str| {
        std::fs::read(mx.dir.join("queue").join(queue).join(id)).unwrap_or_default()
    };
    let (our_file, their_file) = (
        read(&pair.ours, "incoming", &ours),
        read(&pair.theirs, "incoming", &theirs),
    );
    assert_eq!(
        harness::normalized(&our_file, &ours),
        harness::normalized(&their_file, &theirs),
        "notify success: queue files"
    );
    let records = harness::normalized(&our_file, &ours);
    assert!(
        records.contains(&"A notify_flags=1".to_string()),
        "{records:?}"
    );
    let trace = read(&pair.ours, "trace", &ours);
    assert!(!trace.is_empty(), "no trace log for {ours}");
    assert_eq!(trace, read(&pair.theirs, "trace", &theirs), "trace logs");
    // An address probe (the verify service's) of an alias with several addresses: the
    // alias itself is "deliverable", and nothing is queued.
    let mark = pair.ours.log().len();
    pair.compare_raw("probe", 114, &message(b"trace_flags=256"));
    let log = pair.ours.log();
    assert!(
        log[mark..].contains("status=deliverable (aliased to multiple recipients)"),
        "{log}"
    );
}

#[test]
fn table_failures_defer_as_with_postfix_s_cleanup() {
    let Some(pair) = Pair::new(
        "t-21-fail",
        "sender_canonical_maps = fail:canonical\n\
         sender_bcc_maps = fail:bcc\n\
         body_checks = fail:body\n",
        &[],
    ) else {
        return;
    };
    let stream: Vec<harness::Rec> = vec![
        (b'T', b"1700000000 0"),
        (b'S', b"sender@e2e.test"),
        (b'R', b"rcpt@e2e.test"),
        (b'M', b""),
        (b'N', b"Received: by test"),
        (b'N', b""),
        (b'N', b"body"),
        (b'X', b""),
        (b'E', b""),
    ];
    // Each failing table is reached through the client flag that enables it: address
    // mapping, automatic BCC, content checks.
    for (what, flags) in [("canonical", 32), ("bcc", 16), ("body checks", 2)] {
        let (status, _) = pair.compare_raw(what, flags, &stream);
        assert_ne!(status, 0, "{what}");
    }
}
