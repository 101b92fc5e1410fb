//! The addressing layer end to end: ironpost's postalias builds the alias database and its
//! postmap the transport table (Berkeley DB files, as Debian's main.cf names them), its
//! trivial-rewrite and proxymap route; Postfix's smtpd, cleanup, qmgr, local and virtual
//! deliver. Local alias, virtual alias, relay, unknown user and relay denied each get
//! what a Postfix administrator expects.

use e2e::{Instance, wait_until};

fn delivered(mx: &Instance, maildir: &str, marker: &str) -> bool {
    let dir = mx.dir.join(maildir).join("new");
    std::fs::read_dir(&dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|text| text.contains(marker)))
    })
}

#[test]
fn routes_as_postfix_would() {
    let Some(mut mx) = Instance::new("t-12") else {
        return;
    };
    mx.write(
        "etc/aliases",
        "# aliases\nteam: user@vmail.e2e.test\npostmaster: root\n",
    );
    mx.write("etc/virtual", "sales@valias.e2e.test user@vmail.e2e.test\n");
    mx.write(
        "etc/transport",
        &mx.expand("relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n"),
    );
    mx.add_main_cf(
        "alias_maps = hash:@DIR@/etc/aliases\nalias_database = hash:@DIR@/etc/aliases\n\
         virtual_alias_maps = hash:@DIR@/etc/virtual\nvirtual_alias_domains = valias.e2e.test\n\
         transport_maps = hash:@DIR@/etc/transport\n\
         mynetworks = 192.0.2.0/24\n",
    );
    for (program, table) in [
        ("postalias", "hash:@DIR@/etc/aliases"),
        ("postmap", "hash:@DIR@/etc/virtual"),
        ("postmap", "hash:@DIR@/etc/transport"),
    ] {
        let out = mx.command(program, &[&mx.expand(table)]);
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    mx.start_sink();
    mx.start();
    // Local alias: team@localhost -> user@vmail.e2e.test (Postfix's local reads our db).
    mx.send(mx.smtp_port, "a@example.org", "team@localhost", "t12-alias")
        .unwrap();
    // Virtual alias.
    mx.send(
        mx.smtp_port,
        "a@example.org",
        "sales@valias.e2e.test",
        "t12-valias",
    )
    .unwrap();
    // Relay domain: accepted from outside mynetworks, sent on to the sink.
    mx.send(
        mx.smtp_port,
        "a@example.org",
        "x@relay.e2e.test",
        "t12-relay",
    )
    .unwrap();
    // Unknown local user and relaying to elsewhere are refused.
    let unknown = mx
        .send(
            mx.smtp_port,
            "a@example.org",
            "nosuch@localhost",
            "t12-unknown",
        )
        .unwrap_err();
    assert!(
        unknown.contains("User unknown in local recipient table"),
        "{unknown}"
    );
    let denied = mx
        .send(mx.smtp_port, "a@example.org", "x@example.com", "t12-denied")
        .unwrap_err();
    assert!(denied.contains("Relay access denied"), "{denied}");
    assert!(
        wait_until(20, || delivered(
            &mx,
            "vmail/vmail.e2e.test/user",
            "t12-alias"
        ) && delivered(
            &mx,
            "vmail/vmail.e2e.test/user",
            "t12-valias"
        ) && mx
            .log()
            .contains("to=<x@relay.e2e.test>, relay=127.0.0.1")),
        "log:\n{}",
        mx.log()
    );
    assert!(
        mx.log().contains("orig_to=<team@localhost>"),
        "{}",
        mx.log()
    );
    mx.postfix(&["stop"]);
}
