//! postwhatif against what really happens: for a configuration with canonical and virtual
//! alias maps, transport_maps (relay, discard, error and retry destinations),
//! relocated_maps, aliases (forwarding, a mailbox, a command, a list), a user's .forward
//! and client, HELO, sender and recipient restrictions, each address's what-if answer
//! (final recipients, transport, next hop, outcome) must equal the delivery lines the
//! running system logs when a message is sent to it (forwarded copies followed by their
//! new queue IDs), and each client, HELO, sender and recipient tuple's answer must equal
//! smtpd's real reply to RCPT TO from that client address (other addresses, client names
//! and SASL logins through XCLIENT; a master.cf service's own restrictions with -n). Each
//! answer must also name what decided: the table, the key and the main.cf or master.cf
//! line. The daemons are ironpost's, and the what-if modes of cleanup, trivial-rewrite,
//! local and smtpd run the code those daemons run.
use e2e::{Instance, howto_doc};
use std::process::Command;

mod mx;
mod tls;

const MAIN_CF: &str = "
mynetworks = 127.0.0.2/32
canonical_maps = texthash:@DIR@/etc/canonical
virtual_alias_maps = texthash:@DIR@/etc/virtual
relocated_maps = texthash:@DIR@/etc/relocated
alias_maps = texthash:@DIR@/etc/aliases
mail_spool_directory = @DIR@/spool
smtpd_client_restrictions = check_client_access cidr:@DIR@/etc/clients
smtpd_helo_required = no
smtpd_helo_restrictions = check_helo_access texthash:@DIR@/etc/helos
smtpd_sender_restrictions = check_sender_access texthash:@DIR@/etc/senders
smtpd_recipient_restrictions = check_recipient_access texthash:@DIR@/etc/recipients, permit_mynetworks, permit_sasl_authenticated, check_client_access texthash:@DIR@/etc/client_names, reject_unauth_destination
smtpd_authorized_xclient_hosts = 127.0.0.9
";

const CANONICAL: &str = "\
old@vmail.e2e.test user@vmail.e2e.test
@oldrelay.e2e.test @relay.e2e.test
";

const VIRTUAL: &str = "\
alias@vmail.e2e.test user@vmail.e2e.test
list@vmail.e2e.test user@vmail.e2e.test, member@relay.e2e.test
chain@vmail.e2e.test alias@vmail.e2e.test
toerror@vmail.e2e.test x@error.e2e.test
tomoved@vmail.e2e.test moved@relay.e2e.test
toretry@vmail.e2e.test y@retry.e2e.test
";

const ALIASES: &str = "\
fwd user@vmail.e2e.test
tonobody nobody
pipe \"|/bin/cat\"
both tonobody, fwd
";

const RELOCATED: &str = "moved@relay.e2e.test new@elsewhere.example\n";

const TRANSPORT: &str = "\
relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@
discard.e2e.test discard:dropped on purpose
error.e2e.test error:5.1.2 no mail for this domain
retry.e2e.test retry:4.3.2 come back later
";

const CLIENTS: &str = "127.0.0.3 REJECT no clients from here\n";
const CLIENT_NAMES: &str = "trusted.example.net OK\n";
const HELOS: &str = "bad.helo.example REJECT that HELO name is refused\n";
const SENDERS: &str = "spammer@example.org REJECT go away\n";
const RECIPIENTS: &str = "\
blocked@vmail.e2e.test REJECT this mailbox takes no mail
slow@vmail.e2e.test DEFER_IF_PERMIT not now
";

/// The addresses followed, each sent from a client in mynetworks. smtpd refuses mail for
/// relocated users and error or retry destinations itself (those are among the smtpd
/// tuples), so they are reached here through virtual aliases.
const ADDRESSES: [&str; 16] = [
    "user@vmail.e2e.test",
    "alias@vmail.e2e.test",
    "list@vmail.e2e.test",
    "chain@vmail.e2e.test",
    "old@vmail.e2e.test",
    "someone@relay.e2e.test",
    "someone@oldrelay.e2e.test",
    "gone@discard.e2e.test",
    "toerror@vmail.e2e.test",
    "tomoved@vmail.e2e.test",
    "toretry@vmail.e2e.test",
    "user@VMAIL.e2e.test",
    "fwd@mail.e2e.test",
    "tonobody@mail.e2e.test",
    "pipe@mail.e2e.test",
    "both@mail.e2e.test",
];

/// (client address, HELO, sender, recipient) tuples for smtpd.
const TUPLES: [(&str, &str, &str, &str); 20] = [
    (
        "127.0.0.2",
        "client.example",
        "a@example.org",
        "user@vmail.e2e.test",
    ),
    (
        "127.0.0.2",
        "client.example",
        "a@example.org",
        "x@example.com",
    ),
    (
        "127.0.0.1",
        "client.example",
        "a@example.org",
        "x@example.com",
    ),
    (
        "127.0.0.1",
        "client.example",
        "a@example.org",
        "user@vmail.e2e.test",
    ),
    (
        "127.0.0.1",
        "client.example",
        "a@example.org",
        "someone@relay.e2e.test",
    ),
    (
        "127.0.0.1",
        "client.example",
        "a@example.org",
        "blocked@vmail.e2e.test",
    ),
    (
        "127.0.0.2",
        "client.example",
        "a@example.org",
        "blocked@vmail.e2e.test",
    ),
    (
        "127.0.0.1",
        "client.example",
        "a@example.org",
        "slow@vmail.e2e.test",
    ),
    (
        "127.0.0.3",
        "client.example",
        "a@example.org",
        "user@vmail.e2e.test",
    ),
    (
        "127.0.0.3",
        "client.example",
        "a@example.org",
        "x@example.com",
    ),
    (
        "127.0.0.1",
        "bad.helo.example",
        "a@example.org",
        "user@vmail.e2e.test",
    ),
    (
        "127.0.0.2",
        "bad.helo.example",
        "a@example.org",
        "user@vmail.e2e.test",
    ),
    (
        "127.0.0.1",
        "client.example",
        "spammer@example.org",
        "user@vmail.e2e.test",
    ),
    (
        "127.0.0.2",
        "client.example",
        "spammer@example.org",
        "x@example.com",
    ),
    ("127.0.0.1", "client.example", "", "user@vmail.e2e.test"),
    (
        "127.0.0.1",
        "client.example",
        "a@example.org",
        "nobody@vmail.e2e.test",
    ),
    (
        "127.0.0.1",
        "client.example",
        "a@example.org",
        "alias@vmail.e2e.test",
    ),
    (
        "127.0.0.1",
        "client.example",
        "a@example.org",
        "x@error.e2e.test",
    ),
    (
        "127.0.0.2",
        "client.example",
        "a@example.org",
        "x@error.e2e.test",
    ),
    (
        "127.0.0.4",
        "client.example",
        "a@example.org",
        "moved@relay.e2e.test",
    ),
];

fn instance(name: &str) -> Option<Instance> {
    instance_with(name, "")
}

/// An instance whose master.cf also has `extra` (after @...@ expansion).
fn instance_with(name: &str, extra: &str) -> Option<Instance> {
    let mut mx = Instance::with_daemons(name, &e2e::IRONPOST_DAEMONS)?;
    mx.add_main_cf(MAIN_CF);
    for (file, text) in [
        ("etc/canonical", CANONICAL),
        ("etc/virtual", VIRTUAL),
        ("etc/relocated", RELOCATED),
        ("etc/aliases", ALIASES),
        ("etc/transport", TRANSPORT),
        ("etc/clients", CLIENTS),
        ("etc/helos", HELOS),
        ("etc/client_names", CLIENT_NAMES),
        ("etc/senders", SENDERS),
        ("etc/recipients", RECIPIENTS),
    ] {
        mx.write(file, &mx.expand(text));
    }
    mx.write(
        "etc/vmailbox",
        "user@vmail.e2e.test vmail.e2e.test/user/\nslow@vmail.e2e.test vmail.e2e.test/slow/\n\
         blocked@vmail.e2e.test vmail.e2e.test/blocked/\n",
    );
    std::fs::create_dir_all(mx.dir.join("spool")).unwrap();
    std::fs::set_permissions(
        mx.dir.join("spool"),
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .unwrap();
    if !extra.is_empty() {
        let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
        mx.write("etc/master.cf", &(master_cf + &mx.expand(extra)));
    }
    mx.start_sink();
    mx.start();
    Some(mx)
}

/// Runs postwhatif on the instance; (exit status, standard output).
fn whatif(mx: &Instance, args: &[&str]) -> (i32, String) {
    let out = Command::new(e2e::program("postwhatif"))
        .arg("-c")
        .arg(mx.etc())
        .args(args)
        .env_remove("MAIL_CONFIG")
        .output()
        .expect("postwhatif runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.code().is_some(),
        "postwhatif {args:?} was killed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// One final recipient as postwhatif predicts it.
#[derive(Debug)]
struct Predicted {
    recipient: String,
    /// `deliverable via T to N`, `bounced: TEXT` or `deferred: TEXT`.
    verdict: String,
}

/// The `result: RECIPIENT: VERDICT` lines of an address answer.
fn predictions(text: &str) -> Vec<Predicted> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("result: "))
        .filter_map(|r| r.split_once(": "))
        .map(|(recipient, verdict)| Predicted {
            recipient: recipient.to_string(),
            verdict: verdict.to_string(),
        })
        .collect()
}

/// A delivery line of the log: (to, orig_to, relay, status, the text in parentheses).
#[derive(Debug, Clone)]
struct Delivery {
    to: String,
    relay: String,
    status: String,
    text: String,
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {name}="))? + name.len() + 2;
    let rest = &line[start..];
    Some(rest.split(", ").next().unwrap_or(rest))
}

/// The delivery lines for the message with queue ID `id`.
fn deliveries(log: &str, id: &str) -> Vec<Delivery> {
    log.lines()
        .filter(|l| l.contains(&format!(" {id}: to=<")) && l.contains(" status="))
        .filter(|l| !l.contains("postfix/bounce") && !l.contains("postfix/cleanup"))
        .map(|l| {
            let status = field(l, "status").unwrap_or("");
            let status = status.split(' ').next().unwrap_or(status);
            let text = l[l.find(" status=").unwrap()..]
                .split_once(" (")
                .map_or("", |(_, t)| t.strip_suffix(')').unwrap_or(t));
            Delivery {
                to: field(l, "to")
                    .unwrap_or("")
                    .trim_matches(['<', '>'])
                    .to_string(),
                relay: field(l, "relay").unwrap_or("").to_string(),
                status: status.to_string(),
                text: text.to_string(),
            }
        })
        .collect()
}

/// The delivery lines of the message with queue ID `id` and of the messages the local
/// agent forwarded it as.
fn deliveries_followed(log: &str, id: &str) -> Vec<Delivery> {
    let mut out = Vec::new();
    for d in deliveries(log, id) {
        if let Some(next) = d.text.strip_prefix("forwarded as ") {
            out.extend(deliveries_followed(log, next));
        }
        out.push(d);
    }
    out
}

/// Sends a message to `to` from a client in mynetworks; its queue ID.
fn send(mx: &Instance, to: &str) -> String {
    let script = "import smtplib, sys\n\
        port, rcpt = int(sys.argv[1]), sys.argv[2]\n\
        s = smtplib.SMTP('127.0.0.1', port, timeout=30, source_address=('127.0.0.2', 0))\n\
        s.ehlo('client.example')\n\
        s.mail('a@example.org')\n\
        code, text = s.rcpt(rcpt)\n\
        assert code == 250, (code, text)\n\
        code, text = s.data('Subject: whatif\\r\\n\\r\\nbody\\r\\n')\n\
        print(text.decode().split()[-1])\n\
        s.quit()\n";
    python(script, &[&mx.smtp_port.to_string(), to])
        .unwrap_or_else(|e| panic!("sending to {to}: {e}\n{}", mx.log()))
}

/// Runs the Python `script` with `args`: what it printed, trimmed, or what it wrote
/// to stderr when it failed.
fn python(script: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Whether a real delivery matches a predicted verdict.
fn agrees(verdict: &str, d: &Delivery) -> bool {
    if let Some(rest) = verdict.strip_prefix("deliverable via ") {
        let (transport, nexthop) = rest.split_once(" to ").unwrap_or((rest, ""));
        let relay_ok = match transport {
            "virtual" => d.relay == "virtual",
            "discard" => d.relay == "none" && d.text == nexthop,
            "smtp" => {
                let hop = nexthop.trim_start_matches('[').replace("]:", ":");
                let (host, port) = hop.split_once(':').unwrap_or((&hop, "25"));
                d.relay == format!("{host}[{host}]:{port}")
            }
            _ => false,
        };
        return relay_ok && d.status == "sent";
    }
    // The local agent's probe answers in the present tense what it logs in the past.
    if let Some(what) = verdict.strip_prefix("local: deliverable: ") {
        let done = match what.strip_prefix("forwards to ") {
            Some(_) => d.text.starts_with("forwarded as "),
            None => {
                what.strip_prefix("delivers to ")
                    .map(|t| format!("delivered to {t}"))
                    == Some(d.text.clone())
            }
        };
        return d.relay == "local" && d.status == "sent" && done;
    }
    if let Some(text) = verdict.strip_prefix("bounced: ") {
        let reason = strip_dsn(text);
        return d.status == "bounced" && d.text.contains(reason);
    }
    if let Some(text) = verdict.strip_prefix("deferred: ") {
        return d.status == "deferred" && d.text.contains(strip_dsn(text));
    }
    false
}

/// The text after a leading enhanced status code.
fn strip_dsn(text: &str) -> &str {
    match text.split_once(' ') {
        Some((code, rest)) if code.split('.').count() == 3 => rest,
        _ => text,
    }
}

/// A local user whose .forward sends mail on to the virtual mailbox.
const FORWARDING_USER: &str = "ipwhatif52";

/// Makes [`FORWARDING_USER`] (or points an account left by an earlier run at a new home
/// under the instance) with its .forward file.
fn forwarding_user(mx: &Instance) {
    let home = mx.dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    e2e::account::local_user(FORWARDING_USER, &home);
    std::fs::write(home.join(".forward"), "user@vmail.e2e.test\n").unwrap();
    let owned = Command::new("chown")
        .args(["-R", FORWARDING_USER])
        .arg(&home)
        .status()
        .unwrap();
    assert!(owned.success());
}

#[test]
fn address_answers_equal_real_deliveries() {
    let Some(mx) = instance("t-52-deliveries") else {
        return;
    };
    forwarding_user(&mx);
    let forwarding = format!("{FORWARDING_USER}@mail.e2e.test");
    for address in ADDRESSES.iter().copied().chain([forwarding.as_str()]) {
        let (status, text) = whatif(&mx, &[address]);
        let predicted = predictions(&text);
        assert!(
            !predicted.is_empty(),
            "no prediction for {address}:\n{text}"
        );
        let id = send(&mx, address);
        let done = e2e::wait_until(30, || {
            deliveries_followed(&mx.log(), &id).len() >= predicted.len()
        });
        let real = deliveries_followed(&mx.log(), &id);
        if !done || real.len() != predicted.len() {
            mx.keep_for_inspection();
            panic!("{address}: predicted {predicted:?}, delivered {real:?}\n{text}");
        }
        for p in &predicted {
            let Some(d) = real
                .iter()
                .find(|d| d.to.eq_ignore_ascii_case(&p.recipient))
            else {
                mx.keep_for_inspection();
                panic!("{address}: {p:?} not among {real:?}\n{text}");
            };
            assert!(
                agrees(&p.verdict, d),
                "{address}: predicted {p:?}, delivered {d:?}\n{text}"
            );
        }
        let worst = predicted
            .iter()
            .map(|p| {
                let verdict = p.verdict.trim_start_matches("local: ");
                match verdict.split(':').next().unwrap_or("") {
                    v if v.starts_with("deliverable") => 0,
                    "bounced" | "undeliverable" => 1,
                    _ => 2,
                }
            })
            .max()
            .unwrap_or(2);
        assert_eq!(status, worst, "{address}: exit status\n{text}");
    }
}

#[test]
fn address_answers_name_what_decided() {
    let Some(mx) = instance("t-52-decided") else {
        return;
    };
    let main_cf = mx.etc().join("main.cf").display().to_string();
    let line_of = |name: &str| {
        let text = std::fs::read_to_string(mx.etc().join("main.cf")).unwrap();
        let n = text
            .lines()
            .position(|l| l.starts_with(&format!("{name} =")))
            .expect("the setting");
        format!("{main_cf} line {}: {name} = ", n + 1)
    };
    let (status, text) = whatif(&mx, &["list@vmail.e2e.test"]);
    assert_eq!(status, 0, "{text}");
    let virt = mx.dir.join("etc/virtual").display().to_string();
    assert!(
        text.contains(&format!(
            "cleanup: virtual_alias_maps: texthash:{virt} key \"list@vmail.e2e.test\" -> \"user@vmail.e2e.test, member@relay.e2e.test\""
        )),
        "{text}"
    );
    assert!(text.contains(&line_of("virtual_alias_maps")), "{text}");
    let transport = mx.dir.join("etc/transport").display().to_string();
    assert!(
        text.contains(&format!(
            "trivial-rewrite: transport_maps: texthash:{transport} key \"relay.e2e.test\" -> \"smtp:[127.0.0.1]:{}\"",
            mx.sink_port
        )),
        "{text}"
    );
    assert!(text.contains(&line_of("transport_maps")), "{text}");
    let (_, text) = whatif(&mx, &["old@vmail.e2e.test"]);
    assert!(
        text.contains("key \"old@vmail.e2e.test\" -> \"user@vmail.e2e.test\"")
            && text.contains(&line_of("canonical_maps")),
        "{text}"
    );
    // The class behind a transport: virtual_mailbox_domains, with its main.cf line.
    assert!(text.contains(&line_of("virtual_mailbox_domains")), "{text}");
    // The answers docs/DEBUG_README.md shows: an alias, and a recipient smtpd refuses.
    let context = howto_doc::Context::of(&mx);
    let (_, shown) = howto_doc::typed(&mx, "postwhatif", &["list@vmail.e2e.test"]);
    howto_doc::check("postwhatif-address", &context, &shown);
    let (status, shown) = howto_doc::typed(
        &mx,
        "postwhatif",
        &[
            "-s",
            "client_address=127.0.0.1",
            "helo=client.example",
            "sender=a@example.org",
            "recipient=blocked@vmail.e2e.test",
        ],
    );
    assert_eq!(status, 1, "{shown}");
    howto_doc::check("postwhatif-smtpd", &context, &shown);
    let (status, json) = whatif(&mx, &["-j", "x@error.e2e.test"]);
    assert_eq!(status, 1, "{json}");
    assert!(
        json.starts_with("{\"mode\":\"address\",\"status\":1,")
            && json.contains("\"kind\":\"lookup\"")
            && json.contains("\"key\":\"error.e2e.test\""),
        "{json}"
    );
}

/// smtpd's real reply to RCPT TO for a tuple: the whole reply line.
fn real_rcpt_reply(port: u16, tuple: (&str, &str, &str, &str)) -> String {
    let (client, helo, sender, rcpt) = tuple;
    let script = "import smtplib, sys\n\
        port, client, helo, sender, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]\n\
        s = smtplib.SMTP('127.0.0.1', port, timeout=30, source_address=(client, 0))\n\
        s.ehlo(helo)\n\
        code, text = s.mail(sender)\n\
        if code != 250:\n\
        \x20   print(code, text.decode())\n\
        \x20   sys.exit(0)\n\
        code, text = s.rcpt(rcpt)\n\
        print(code, text.decode())\n\
        s.rset()\n\
        s.quit()\n";
    python(script, &[&port.to_string(), client, helo, sender, rcpt])
        .unwrap_or_else(|e| panic!("{tuple:?}: {e}"))
}

/// One tuple asked of postwhatif (for master.cf service `service`, when given) and of the
/// smtpd listening on `port`.
struct Asked {
    /// postwhatif's exit status and output.
    status: i32,
    text: String,
    /// smtpd's real reply to RCPT TO.
    real: String,
    /// postwhatif's RCPT stage: `accept`, or the verdict and the reply.
    rcpt_line: String,
}

fn ask(mx: &Instance, service: Option<&str>, port: u16, tuple: (&str, &str, &str, &str)) -> Asked {
    let (client, helo, sender, rcpt) = tuple;
    let mut args: Vec<String> = service
        .map(|s| vec!["-n".to_string(), s.to_string()])
        .unwrap_or_default();
    args.extend([
        "-s".to_string(),
        format!("client_address={client}"),
        format!("helo={helo}"),
        format!("sender={sender}"),
        format!("recipient={rcpt}"),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, text) = whatif(mx, &args);
    let real = real_rcpt_reply(port, tuple);
    let rcpt_line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("smtpd: RCPT: "))
        .unwrap_or_else(|| panic!("{tuple:?}: no RCPT stage\n{text}"))
        .to_string();
    Asked {
        status,
        text,
        real,
        rcpt_line,
    }
}

#[test]
fn smtpd_answers_equal_real_replies() {
    let Some(mx) = instance("t-52-smtpd") else {
        return;
    };
    let main_cf = mx.etc().join("main.cf").display().to_string();
    for tuple in TUPLES {
        let Asked {
            status,
            text,
            real,
            rcpt_line,
        } = ask(&mx, None, mx.smtp_port, tuple);
        let rcpt_line = rcpt_line.as_str();
        if real.starts_with("250") {
            assert_eq!(rcpt_line, "accept", "{tuple:?}: real {real}\n{text}");
            assert_eq!(status, 0, "{tuple:?}\n{text}");
        } else {
            let (verdict, reply) = rcpt_line.split_once(' ').unwrap_or((rcpt_line, ""));
            // smtplib gives the code, a space, and the text after the code.
            assert_eq!(reply, real, "{tuple:?}\n{text}");
            let expected = if real.starts_with('4') { 2 } else { 1 };
            assert_eq!(status, expected, "{tuple:?} {verdict}\n{text}");
            // The refusal names its restriction list and the main.cf line of that list.
            assert!(
                text.lines().any(|l| l.contains("smtpd: smtpd_")
                    && (l.contains(": reject: ") || l.contains(" -> "))),
                "{tuple:?}: no deciding restriction\n{text}"
            );
            // A list set in main.cf names its line; smtpd_relay_restrictions and the
            // unlisted-recipient check are left at their defaults here.
            assert!(
                text.contains(&format!("      {main_cf} line "))
                    || text.contains("      default: smtpd_"),
                "{tuple:?}: no main.cf line\n{text}"
            );
        }
    }
}

#[test]
fn a_master_cf_service_s_own_settings_decide() {
    let port = e2e::free_port();
    let service = format!("127.0.0.1:{port}");
    let extra = format!(
        "{service} inet n - n - - smtpd\n  -o smtpd_recipient_restrictions=reject_non_fqdn_recipient,permit_mynetworks,reject\n"
    );
    let Some(mx) = instance_with("t-52-service", &extra) else {
        return;
    };
    let master_cf = mx.etc().join("master.cf");
    let line = std::fs::read_to_string(&master_cf)
        .unwrap()
        .lines()
        .position(|l| l.starts_with(&service))
        .expect("the service")
        + 1;
    e2e::wait_until(10, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    // Outside and inside mynetworks, then a recipient without a domain.
    for tuple in [
        TUPLES[3],
        TUPLES[0],
        ("127.0.0.2", "client.example", "a@example.org", "user"),
    ] {
        let Asked {
            status,
            text,
            real,
            rcpt_line,
        } = ask(&mx, Some(&service), port, tuple);
        let rcpt_line = rcpt_line.as_str();
        if real.starts_with("250") {
            assert_eq!((rcpt_line, status), ("accept", 0), "{tuple:?}\n{text}");
        } else {
            let (_, reply) = rcpt_line.split_once(' ').unwrap_or((rcpt_line, ""));
            assert_eq!(reply, real, "{tuple:?}\n{text}");
            assert_eq!(status, 1, "{tuple:?}\n{text}");
            // The list in force is the service's, and the answer says where it is set.
            assert!(
                text.contains(&format!(
                    "      {} line {line}: -o smtpd_recipient_restrictions=",
                    master_cf.display()
                )),
                "{tuple:?}\n{text}"
            );
        }
    }
}

/// smtpd's real reply to RCPT TO for a client that XCLIENT describes (from 127.0.0.9,
/// the one authorized host): address, name and SASL login.
fn real_xclient_reply(port: u16, xclient: &str, rcpt: &str) -> String {
    let script = "import smtplib, sys\n\
        port, xclient, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]\n\
        s = smtplib.SMTP('127.0.0.1', port, timeout=30, source_address=('127.0.0.9', 0))\n\
        s.ehlo('proxy.example')\n\
        code, text = s.docmd('XCLIENT', xclient)\n\
        assert code == 220, (code, text)\n\
        s.ehlo('client.example')\n\
        s.mail('a@example.org')\n\
        code, text = s.rcpt(rcpt)\n\
        print(code, text.decode())\n\
        s.rset()\n\
        s.quit()\n";
    python(script, &[&port.to_string(), xclient, rcpt]).unwrap_or_else(|e| panic!("{xclient}: {e}"))
}

#[test]
fn client_names_and_sasl_logins_as_xclient_gives_them() {
    let Some(mx) = instance("t-52-xclient") else {
        return;
    };
    // (client address, name, SASL login, recipient)
    let cases = [
        ("192.0.2.7", "mx.example.com", "", "x@example.com"),
        ("192.0.2.7", "trusted.example.net", "", "x@example.com"),
        ("192.0.2.8", "mx.example.com", "alice", "x@example.com"),
        ("192.0.2.8", "unknown", "", "user@vmail.e2e.test"),
        ("192.0.2.8", "unknown", "bob", "blocked@vmail.e2e.test"),
    ];
    for (addr, name, login, rcpt) in cases {
        let mut xclient = format!("ADDR={addr} NAME={name}");
        let mut args = vec![
            "-s".to_string(),
            format!("client_address={addr}"),
            format!("client_name={name}"),
            "helo=client.example".to_string(),
            "sender=a@example.org".to_string(),
            format!("recipient={rcpt}"),
        ];
        if !login.is_empty() {
            xclient.push_str(&format!(" LOGIN={login}"));
            args.push(format!("sasl_username={login}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, text) = whatif(&mx, &args);
        let real = real_xclient_reply(mx.smtp_port, &xclient, rcpt);
        let rcpt_line = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("smtpd: RCPT: "))
            .unwrap_or_else(|| panic!("{xclient}: no RCPT stage\n{text}"));
        if real.starts_with("250") {
            assert_eq!((rcpt_line, status), ("accept", 0), "{xclient}\n{text}");
        } else {
            let (_, reply) = rcpt_line.split_once(' ').unwrap_or((rcpt_line, ""));
            assert_eq!(reply, real, "{xclient}\n{text}");
            assert_ne!(status, 0, "{xclient}\n{text}");
        }
    }
}
