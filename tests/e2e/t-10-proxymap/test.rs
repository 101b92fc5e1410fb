//! ironpost's proxymap serves Postfix's smtpd, cleanup and postmap: the default
//! local_recipient_maps (`proxy:unix:passwd.byname`) and a proxied virtual alias table
//! accept and reject recipients as Postfix's own proxymap would, mail to a virtual alias
//! is delivered, a table outside proxy_read_maps is refused with the warning that names
//! the parameter, and an edited table makes proxymap restart and serve the new content.

use e2e::{Instance, wait_until};
use std::process::Command;

fn postfix_postmap(mx: &Instance, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("/usr/sbin/postmap")
        .arg("-c")
        .arg(mx.etc())
        .args(args)
        .env_remove("MAIL_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn postfix_daemons_use_our_proxymap() {
    let Some(mut mx) = Instance::with_daemons("t-10", &["master", "postlogd", "proxymap"]) else {
        return;
    };
    mx.write("etc/virtual", "alias@e2e.test user@vmail.e2e.test\n");
    mx.add_main_cf(
        "virtual_alias_domains = e2e.test\nvirtual_alias_maps = proxy:texthash:@DIR@/etc/virtual\n",
    );
    mx.start();

    // smtpd asks proxymap for unix:passwd.byname (the default local_recipient_maps).
    let unknown = mx
        .send(
            mx.smtp_port,
            "a@example.org",
            "nosuchuser@localhost",
            "t10-unknown",
        )
        .unwrap_err();
    assert!(
        unknown.contains("User unknown in local recipient table"),
        "{unknown}"
    );
    // ... and for the proxied virtual alias table, in smtpd and in cleanup.
    let no_alias = mx
        .send(
            mx.smtp_port,
            "a@example.org",
            "other@e2e.test",
            "t10-noalias",
        )
        .unwrap_err();
    assert!(
        no_alias.contains("User unknown in virtual alias table"),
        "{no_alias}"
    );
    mx.send(mx.smtp_port, "a@example.org", "alias@e2e.test", "t10-alias")
        .unwrap();
    let maildir = mx.dir.join("vmail/vmail.e2e.test/user/new");
    assert!(
        wait_until(20, || std::fs::read_dir(&maildir)
            .is_ok_and(|d| d.count() == 1)),
        "alias not delivered; log:\n{}",
        mx.log()
    );
    let ours = mx.daemons("proxymap");
    assert!(!ours.is_empty(), "no proxymap process");
    let exe = std::fs::read_link(format!("/proc/{}/exe", ours[0])).unwrap();
    assert_eq!(
        exe,
        mx.dir.join("libexec/proxymap"),
        "the proxymap is ironpost's"
    );

    // Both postmaps query through it.
    let table = mx.expand("proxy:texthash:@DIR@/etc/virtual");
    let (code, out, err) = postfix_postmap(&mx, &["-q", "ALIAS@e2e.test", &table]);
    assert_eq!((code, out.as_str()), (0, "user@vmail.e2e.test\n"), "{err}");
    let ours_out = mx.command("postmap", &["-q", "alias@e2e.test", &table]);
    assert_eq!(
        String::from_utf8_lossy(&ours_out.stdout),
        "user@vmail.e2e.test\n"
    );

    // A table that is not in proxy_read_maps is refused, and the log says what to do.
    let private = mx.expand("proxy:texthash:@DIR@/etc/vmailbox");
    let (code, _, err) = postfix_postmap(&mx, &["-q", "user@vmail.e2e.test", &private]);
    assert_eq!(code, 1);
    assert!(
        err.contains("proxymap service is not configured for table"),
        "{err}"
    );
    let refused = mx.command("postmap", &["-q", "user@vmail.e2e.test", &private]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(&format!(
            "postmap: fatal: proxymap service is not configured for table \"{}\"",
            &private["proxy:".len()..]
        )),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    mx.wait_log(
        &format!(
            "warning: request for unapproved table: \"{}\"",
            &private["proxy:".len()..]
        ),
        5,
    );
    mx.wait_log(
        "warning: to approve this table for read-only access, list proxy:texthash:",
        5,
    );

    // An edited table: proxymap notices at the next connection and restarts.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    mx.write("etc/virtual", "alias@e2e.test changed@vmail.e2e.test\n");
    assert!(
        wait_until(15, || {
            let out = mx.command("postmap", &["-q", "alias@e2e.test", &table]);
            String::from_utf8_lossy(&out.stdout) == "changed@vmail.e2e.test\n"
        }),
        "the new table content was never served; log:\n{}",
        mx.log()
    );
    mx.wait_log(
        &mx.expand("]: table texthash:@DIR@/etc/virtual has changed -- restarting"),
        5,
    );
    mx.postfix(&["stop"]);
}
