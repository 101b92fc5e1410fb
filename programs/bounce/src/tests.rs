//! Templates and notices compared with what Postfix 3.7's bounce daemon printed for the
//! same inputs: `golden/*.ref`, recorded by `golden/record.sh` (`postconf -b` and
//! `postconf -t`, which run Postfix's bounce, with the built-in templates and with the
//! template files there).

use crate::compose::{self, Copy, Info};
use crate::log_file::{Dsn, Recipient};
use crate::post::Notice;
use crate::settings::Settings;
use crate::template::{Class, Templates};
use std::path::{Path, PathBuf};

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

fn config() -> params::Config {
    let path = golden().join("main.cf");
    let text = std::fs::read_to_string(&path).unwrap();
    let main = params::main_cf::MainCf::parse(&path, &text).unwrap();
    params::Config::new(&golden(), main)
}

fn settings(config: &params::Config) -> Settings {
    Settings::from_config(config).unwrap()
}

fn read(name: &str) -> String {
    std::fs::read_to_string(golden().join(name)).unwrap()
}

#[test]
fn builtin_templates_expand_as_postconf_b_shows_them() {
    let config = config();
    let settings = settings(&config);
    assert_eq!(
        Templates::default().expand(&settings, &config),
        read("b.ref")
    );
}

#[test]
fn builtin_templates_dump_as_postconf_t_shows_them() {
    let config = config();
    let settings = settings(&config);
    assert_eq!(Templates::default().dump(settings.std_from), read("t.ref"));
}

#[test]
fn template_files_load_as_in_postfix() {
    let config = config();
    let settings = settings(&config);
    for file in ["tmpl", "tmpl2"] {
        let path = golden().join(format!("{file}.cf"));
        let mut templates = Templates::from_file(&path.display().to_string());
        let expanded = templates.clone().expand(&settings, &config);
        assert_eq!(expanded, read(&format!("b-{file}.ref")), "{file}");
        assert_eq!(
            templates.dump(settings.std_from),
            read(&format!("t-{file}.ref")),
            "{file}"
        );
    }
}

/// A notice's records as text: one line per `N` record, `L` records joined to the
/// next.
#[derive(Default)]
struct Text {
    out: String,
}

impl Notice for Text {
    fn record(&mut self, kind: u8, data: &[u8]) {
        self.out.push_str(&String::from_utf8_lossy(data));
        if kind == global::record::rec_type::NORM {
            self.out.push('\n');
        }
    }

    fn failed(&self) -> bool {
        false
    }
}

fn entry(address: &str, orig: &str, status: &str, action: &str, reason: &str) -> (Recipient, Dsn) {
    (
        Recipient {
            address: address.into(),
            orig_addr: orig.into(),
            ..Default::default()
        },
        Dsn {
            status: status.into(),
            action: action.into(),
            reason: reason.into(),
            ..Default::default()
        },
    )
}

/// The parts of a delivery report without an original queue file: what the verify
/// template, the per-recipient lines and fields look like, and the placeholder for the
/// unavailable message.
#[test]
fn a_report_has_postfixs_parts() {
    let config = config();
    let settings = settings(&config);
    let mut templates = Templates::default();
    let entries = vec![
        entry(
            "user@vmail.e2e.test",
            "",
            "2.0.0",
            "deliverable",
            "delivers to maildir",
        ),
        entry(
            "b@vmail.e2e.test",
            "alias@mail.e2e.test",
            "2.0.0",
            "deliverable",
            "delivers to maildir",
        ),
    ];
    let mut info = Info::new(
        &settings,
        "active",
        "4ABCDEF012",
        "7bit",
        0,
        "",
        Some(entries),
    );
    let mut out = Text::default();
    compose::header(
        &mut out,
        &settings,
        &info,
        &mut templates.verify,
        "sender@e2e.test",
        Copy::Sender,
    );
    compose::boilerplate(&mut out, &settings, &config, &mut templates.verify);
    let filter = crate::log_file::notify::OVERRIDE;
    assert_eq!(
        compose::diagnostic_log(&mut out, &info, Class::Verify, filter),
        2
    );
    compose::header_dsn(&mut out, &settings, &info);
    assert_eq!(
        compose::diagnostic_dsn(&mut out, &settings, &info, Class::Verify, filter),
        2
    );
    compose::original(
        &mut out,
        &settings,
        &mut info,
        Class::Verify,
        compose::RET_HDRS,
    );
    let boundary = info.boundary.clone();
    let want = format!(
        "From: Mail Delivery System <MAILER-DAEMON>
Subject: Mail Delivery Status Report
To: sender@e2e.test
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary=\"{boundary}\"
Content-Transfer-Encoding: 8bit

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mail.e2e.test.

Enclosed is the mail delivery report that you requested.

                   The mail system

<user@vmail.e2e.test>: delivers to maildir

<b@vmail.e2e.test> (expanded from <alias@mail.e2e.test>): delivers to maildir

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.e2e.test
X-Postfix-Queue-ID: 4ABCDEF012

Final-Recipient: rfc822; user@vmail.e2e.test
Action: deliverable
Status: 2.0.0
Diagnostic-Code: X-Postfix; delivers to maildir

Final-Recipient: rfc822; b@vmail.e2e.test
Original-Recipient: rfc822; alias@mail.e2e.test
Action: deliverable
Status: 2.0.0
Diagnostic-Code: X-Postfix; delivers to maildir

--{boundary}
Content-Description: Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

\t--- Undelivered message unavailable ---
"
    );
    assert_eq!(out.out, want);
    assert!(boundary.starts_with("4ABCDEF012.") && boundary.ends_with("/mail.e2e.test"));
}
