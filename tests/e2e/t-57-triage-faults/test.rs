//! posttriage on the faults t-41 and t-53 could not inject without more of the world
//! around the mail system: a SASL server (a private Dovecot) that a client fails to log in
//! to or gives up on, that offers no mechanism smtpd may use, or none its mechanism filter
//! keeps, and that this host's SMTP client fails to log in to; a DNS server (e2e::dns)
//! that answers SERVFAIL, or names this host as a domain's best mail exchanger; next hops
//! whose connections time out (a listener whose accept queue is full, so the kernel drops
//! the SYNs) or that never greet; a queue file system that smtpd found too full; a full
//! file system (a small tmpfs under a Maildir); a mail system started without
//! CAP_SYS_CHROOT (as containers run it) whose chrooted smtpd cannot enter its jail; a
//! daemon that panics (ironpost only, see there); a maildrop directory with the wrong
//! group; a master.cf entry with a bad field that stops a reload of a running system,
//! where the log says only that postconf failed; a client refused for not starting TLS
//! first, which only debug_peer_list's transcript logs; a rewrite service whose program
//! hangs up on its clients; a chain file (smtpd_tls_chain_files, or one file for both
//! smtpd_tls_cert_file and smtpd_tls_key_file) that is missing or holds no key. The fatal error, the warning and the deferral that no rule of their own know
//! prove the catch-all rules. Each runs on ironpost and on Postfix 3.7 with its own
//! master, so that each rule is checked against the log each system writes; the log
//! window (`-s`) starts with the fault, and the report's first line must name the rule,
//! its second line the remedy.

#[path = "../t-41-triage/harness.rs"]
mod harness;

use e2e::dns::DnsServer;
use e2e::dovecot;
use e2e::{Instance, System, free_port};
use harness::*;
use std::io::{BufRead, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Where each system's DNS server listens (t-22 and t-47 use 127.0.0.153 and .154).
const DNS_IRONPOST: &str = "127.0.0.157";
const DNS_POSTFIX: &str = "127.0.0.158";

/// The zone: servfail.e2e.test's lookups fail; loop.e2e.test's best (only) mail exchanger
/// is this host's address.
const ZONE: &str = r#"{
    "servfail.e2e.test": [["SERVFAIL", ""]],
    "loop.e2e.test": [["MX", "10 self.loop.e2e.test"]],
    "self.loop.e2e.test": [["A", "127.0.0.1"]]
}"#;

#[test]
fn ironpost_faults_are_named_with_their_remedy() {
    if let Some(mx) = Instance::new("t-57") {
        faults(&mx, System::Ironpost, DNS_IRONPOST);
    }
}

#[test]
fn postfix_faults_are_named_with_their_remedy() {
    if let Some(mx) = Instance::with_daemons("t-57-postfix", &[]) {
        faults(&mx, System::Postfix, DNS_POSTFIX);
    }
}

#[test]
fn ironpost_chroot_without_the_capability() {
    if let Some(mut mx) = Instance::new("t-57-chroot") {
        chroot_refused(&mut mx, System::Ironpost);
    }
}

#[test]
fn postfix_chroot_without_the_capability() {
    if let Some(mut mx) = Instance::with_daemons("t-57-chroot-postfix", &[]) {
        chroot_refused(&mut mx, System::Postfix);
    }
}

#[test]
fn ironpost_master_cf_field_refused_at_reload() {
    if let Some(mx) = Instance::new("t-57-reload") {
        reload_refused(&mx, System::Ironpost);
    }
}

#[test]
fn postfix_master_cf_field_refused_at_reload() {
    if let Some(mx) = Instance::with_daemons("t-57-reload-postfix", &[]) {
        reload_refused(&mx, System::Postfix);
    }
}

/// A running mail system whose master.cf gets an entry with a bad field: `postfix
/// reload` refuses it, postconf's words (which name the entry) go to the terminal, the
/// log says only that postconf failed; posttriage's own check of master.cf names the
/// entry, its file and line. The running master keeps its services.
fn reload_refused(mx: &Instance, system: System) {
    ctl(mx, system, &["start"]);
    mx.wait_log("daemon started -- version", 20);
    let stock = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    let bad = "proxymap  unix  -       -       x       -       -       proxymap";
    mx.replace_master_cf_line(|l| l.starts_with("proxymap  unix"), bad);
    let line = std::fs::read_to_string(mx.etc().join("master.cf"))
        .unwrap()
        .lines()
        .position(|l| l == bad)
        .expect("the bad entry")
        + 1;
    let since = window_start();
    let postfix = match system {
        System::Ironpost => e2e::program("postfix"),
        System::Postfix => PathBuf::from("/usr/sbin/postfix"),
    };
    let out = mx
        .runner(postfix)
        .arg("-c")
        .arg(mx.etc())
        .arg("reload")
        .env_remove("MAIL_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let terminal = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && terminal.contains("fatal: invalid chroot field \"x\""),
        "{system:?}: postfix reload: {out:?}"
    );
    wait(mx, "postconf!");
    let report = expect(mx, &since, "master-cf-field", "postconf -M");
    let check = format!(
        "file {}: line {line}: invalid chroot field \"x\" in \"{bad}\"",
        mx.etc().join("master.cf").display()
    );
    assert!(
        report.contains(&check) && report.contains("[postconf-fails]"),
        "{system:?}: {report}"
    );
    // Repaired, the check finds nothing.
    mx.write("etc/master.cf", &stock);
    let (code, healthy) = triage(mx, &["-s", &window_start()]);
    assert_eq!(code, 0, "{system:?}: {healthy}");
}

#[test]
fn ironpost_starttls_first() {
    if let Some(mx) = Instance::new("t-57-starttls") {
        starttls_first(&mx, System::Ironpost);
    }
}

#[test]
fn postfix_starttls_first() {
    if let Some(mx) = Instance::with_daemons("t-57-starttls-postfix", &[]) {
        starttls_first(&mx, System::Postfix);
    }
}

/// smtpd_tls_security_level = encrypt and a client that sends MAIL without STARTTLS:
/// smtpd replies 530 and logs nothing about it (Postfix 3.7 neither), so that the
/// fault shows only in debug_peer_list's transcript of the session.
fn starttls_first(mx: &Instance, system: System) {
    let cert = format!(
        "{}/../../crates/tls/tests/golden/certs/rsa",
        env!("CARGO_MANIFEST_DIR")
    );
    mx.set_main_cf("smtpd_tls_cert_file", &format!("{cert}.pem"));
    mx.set_main_cf("smtpd_tls_key_file", &format!("{cert}.key"));
    mx.set_main_cf("smtpd_tls_security_level", "encrypt");
    ctl(mx, system, &["start"]);
    mx.wait_log("daemon started -- version", 20);
    let mail = "s.docmd('MAIL', 'FROM:<user@vmail.e2e.test>')\n";
    client_session(mx.smtp_port, mail);
    wait(mx, "disconnect from localhost[127.0.0.1]");
    assert!(
        !mx.log().contains("Must issue a STARTTLS command first"),
        "{system:?} logged the 530:\n{}",
        mx.log()
    );
    let since = reload_with(mx, system, "debug_peer_list", "127.0.0.1");
    client_session(mx.smtp_port, mail);
    wait(mx, "]: 530 5.7.0 Must issue a STARTTLS command first");
    expect(mx, &since, "starttls-first", "smtpd_tls_security_level");
}

#[test]
fn ironpost_chain_file_unreadable() {
    if let Some(mx) = Instance::new("t-57-chain") {
        chain_file_unreadable(&mx, System::Ironpost);
    }
}

#[test]
fn postfix_chain_file_unreadable() {
    if let Some(mx) = Instance::with_daemons("t-57-chain-postfix", &[]) {
        chain_file_unreadable(&mx, System::Postfix);
    }
}

/// Certificates read as chain files (tls_certkey.c's PEM loader): smtpd_tls_chain_files
/// naming a file that is not there, then smtpd_tls_cert_file and smtpd_tls_key_file
/// naming one file that holds a certificate and no key. Each turns TLS off with the
/// loader's warnings, which name the file; posttriage must name it as the root cause.
fn chain_file_unreadable(mx: &Instance, system: System) {
    let missing = mx.etc().join("missing-chain.pem");
    mx.set_main_cf("smtpd_tls_chain_files", &missing.display().to_string());
    mx.set_main_cf("smtpd_tls_security_level", "may");
    ctl(mx, system, &["start"]);
    mx.wait_log("daemon started -- version", 20);
    let since = window_start();
    let _ = send(mx, "user@vmail.e2e.test");
    // The file that cannot be opened is the loader's one warning (Postfix's smtpd then
    // runs without TLS and says no more).
    wait(mx, "error opening chain file");
    let report = expect(mx, &since, "tls-chain-unreadable", "smtpd_tls_chain_files");
    let opening = format!(
        "warning: error opening chain file: {}: No such file or directory",
        missing.display()
    );
    assert!(report.contains(&opening), "{system:?}: {report}");

    // A certificate without its key, named by both parameters: one file, read as a chain
    // file.
    remove_main_cf(mx, "smtpd_tls_chain_files");
    let cert = format!(
        "{}/../../crates/tls/tests/golden/certs/rsa.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    mx.set_main_cf("smtpd_tls_cert_file", &cert);
    let since = reload_with(mx, system, "smtpd_tls_key_file", &cert);
    let before = mx.log().matches("disabling TLS support").count();
    let _ = send(mx, "user@vmail.e2e.test");
    let turned_off = e2e::wait_until(30, || {
        mx.log().matches("disabling TLS support").count() > before
    });
    assert!(turned_off, "{system:?}: TLS stayed on:\n{}", mx.log());
    let report = expect(
        mx,
        &since,
        "tls-chain-unreadable",
        &format!("openssl pkey -noout -in {cert}"),
    );
    assert!(
        report.contains(&format!("warning: No private key found in {cert}")),
        "{system:?}: {report}"
    );
}

#[test]
fn ironpost_rewrite_service_hangs_up() {
    if let Some(mx) = Instance::new("t-57-rewrite") {
        rewrite_hangs_up(&mx, System::Ironpost);
    }
}

#[test]
fn postfix_rewrite_service_hangs_up() {
    if let Some(mx) = Instance::with_daemons("t-57-rewrite-postfix", &[]) {
        rewrite_hangs_up(&mx, System::Postfix);
    }
}

/// master.cf runs a program for the rewrite service that hangs up at once (spawn with
/// /bin/true): its clients' requests fail, and each says so from its second try on,
/// once a second.
fn rewrite_hangs_up(mx: &Instance, system: System) {
    mx.replace_master_cf_line(
        |l| l.starts_with("rewrite "),
        "rewrite unix - n n - - spawn user=nobody argv=/bin/true",
    );
    ctl(mx, system, &["start"]);
    mx.wait_log("daemon started -- version", 20);
    let since = window_start();
    let client = submit(mx, "user@vmail.e2e.test", "");
    wait(
        mx,
        "warning: problem talking to service rewrite: Broken pipe",
    );
    reap(client);
    // Postfix's words, on both systems: the announcement's end-of-input is no error of
    // its own.
    let log = mx.log();
    let said: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("problem talking to service rewrite"))
        .collect();
    assert!(
        said.iter().all(|l| l.ends_with("rewrite: Broken pipe")),
        "{system:?}: {said:#?}"
    );
    expect(mx, &since, "talking-to-service", "postconf -M rewrite/unix");
}

/// The mail system started without CAP_SYS_CHROOT (as in a container that drops it): a
/// chrooted smtpd cannot enter its jail.
fn chroot_refused(mx: &mut Instance, system: System) {
    if !Path::new("/usr/bin/setpriv").exists() {
        testkit::skip("no setpriv (util-linux) to start the mail system without CAP_SYS_CHROOT");
        return;
    }
    mx.run_through(&["setpriv", "--bounding-set=-sys_chroot"]);
    // The jail is complete: only the capability to enter it is missing.
    e2e::dns::resolve_in_jail(mx, "127.0.0.1");
    let smtpd = format!("127.0.0.1:{} inet n - y - - smtpd", mx.smtp_port);
    mx.replace_master_cf_line(|l| l.contains(" inet ") && l.ends_with("smtpd"), &smtpd);
    ctl(mx, system, &["start"]);
    mx.wait_log("daemon started -- version", 20);
    let since = window_start();
    let _ = std::net::TcpStream::connect(("127.0.0.1", mx.smtp_port));
    wait(mx, "fatal: chroot(");
    expect(mx, &since, "chroot-failed", "SYS_CHROOT");
}

/// A listener whose accept queue is full: connections to it time out.
struct Blackhole(Child);

impl Blackhole {
    /// The listener and its port. Python, for listen(0): with a backlog of zero one
    /// connection fills the queue and the kernel drops later SYNs.
    fn start() -> (Blackhole, u16) {
        let script = "import socket, time\n\
            s = socket.socket()\n\
            s.bind(('127.0.0.1', 0))\n\
            s.listen(0)\n\
            port = s.getsockname()[1]\n\
            held = []\n\
            for _ in range(2):\n\
            \x20   c = socket.socket()\n\
            \x20   c.setblocking(False)\n\
            \x20   c.connect_ex(('127.0.0.1', port))\n\
            \x20   held.append(c)\n\
            time.sleep(0.3)\n\
            print(port, flush=True)\n\
            time.sleep(600)\n";
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        let _ = std::io::BufReader::new(child.stdout.take().expect("a pipe")).read_line(&mut line);
        let port = line.trim().parse().expect("the listener's port");
        (Blackhole(child), port)
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small tmpfs mounted on a directory, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    /// Mounts a 64 KB tmpfs on `dir` (made if missing), owned by `owner`, and fills it;
    /// None after testkit::skip when mounting is not allowed here.
    fn full(dir: &Path, owner: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            testkit::skip(format!("cannot mount a tmpfs on {}", dir.display()));
            return None;
        }
        let disk = SmallDisk(dir.to_path_buf());
        let _ = Command::new("chown").arg(owner).arg(dir).status();
        // Root writes until the file system is full (tmpfs keeps nothing back for root).
        let fill = Command::new("dd")
            .args(["if=/dev/zero", "bs=4096"])
            .arg(format!("of={}", dir.join("fill").display()))
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!fill.success(), "dd filled more than the tmpfs holds");
        Some(disk)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: a daemon may still have the directory open.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The SASL settings shared by the smtpd services that offer AUTH.
fn sasl_service(port: u16, myhostname: &str, options: &str) -> String {
    format!(
        "127.0.0.1:{port} inet n - n - - smtpd -o myhostname={myhostname} \
         -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_security_options={options}\n"
    )
}

/// A Python smtplib session with the smtpd on `port`: EHLO, `commands` (Python, the
/// session is `s`), QUIT.
fn client_session(port: u16, commands: &str) {
    let script = format!(
        "import smtplib\n\
         s = smtplib.SMTP('127.0.0.1', {port}, timeout=20)\n\
         s.ehlo('client.e2e.test')\n\
         {commands}\
         s.quit()\n"
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// `postfix stop` and `start`, waiting until the new master says so.
fn restart(mx: &Instance, system: System) {
    let started = mx.log().matches("daemon started -- version").count();
    ctl(mx, system, &["stop"]);
    ctl(mx, system, &["start"]);
    assert!(
        e2e::wait_until(20, || mx.log().matches("daemon started -- version").count()
            > started),
        "no restart:\n{}",
        mx.log()
    );
}

fn faults(mx: &Instance, system: System, dns_addr: &str) {
    let Some(dovecot) = dovecot::TestDovecot::start().map_err(testkit::skip).ok() else {
        return;
    };
    let dns_log = mx.dir.join("log/dns-queries");
    let Some(_dns) = DnsServer::start(dns_addr, ZONE, &dns_log) else {
        return;
    };
    let (_blackhole, dead_port) = Blackhole::start();

    // The SMTP client chrooted, so that it resolves through queue/etc/resolv.conf.
    e2e::dns::resolve_in_jail(mx, dns_addr);
    mx.replace_master_cf_line(
        |l| l.starts_with("smtp ") && l.contains(" unix "),
        "smtp unix - - y - - smtp",
    );
    // Three more smtpd services with AUTH through Dovecot: one as another host (a relay
    // this host logs in to), one whose security options leave no mechanism, one whose
    // mechanism filter leaves none (a fatal error no rule of its own knows).
    let (relay_port, nomech_port, filter_port) = (free_port(), free_port(), free_port());
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap()
        + &sasl_service(relay_port, "relay.sasl.e2e.test", "noanonymous")
        + &sasl_service(
            nomech_port,
            "nomech.sasl.e2e.test",
            "noanonymous,noplaintext,nodictionary",
        )
        + &format!(
            "127.0.0.1:{filter_port} inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes \
             -o smtpd_sasl_mechanism_filter=gssapi\n"
        );
    // The next hops that never answer go through a client that waits 2 s, not the
    // SASL relay: Dovecot makes a client that keeps failing wait longer and longer.
    let master_cf =
        master_cf + "hang unix - - y - - smtp -o smtp_connect_timeout=2s -o smtp_helo_timeout=2s\n";
    mx.write("etc/master.cf", &master_cf);
    mx.set_main_cf("smtpd_sasl_type", "dovecot");
    mx.set_main_cf("smtpd_sasl_path", &dovecot.socket().display().to_string());
    // This host's client logs in to the relay with a wrong password.
    mx.set_main_cf("smtp_sasl_auth_enable", "yes");
    mx.set_main_cf("smtp_sasl_security_options", "noanonymous");
    mx.set_main_cf("smtp_sasl_password_maps", "texthash:@DIR@/etc/sasl_passwd");
    mx.write(
        "etc/sasl_passwd",
        &format!("[127.0.0.1]:{relay_port} alice:wrong\n"),
    );
    // A server that takes connections and never greets (the kernel accepts them).
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let transport = std::fs::read_to_string(mx.etc().join("transport")).unwrap();
    mx.write(
        "etc/transport",
        &format!(
            "{transport}sasl.e2e.test smtp:[127.0.0.1]:{relay_port}\n\
             dead.e2e.test hang:[127.0.0.1]:{dead_port}\n\
             silent.e2e.test hang:[127.0.0.1]:{silent_port}\n"
        ),
    );
    ctl(mx, system, &["start"]);
    mx.wait_log("daemon started -- version", 20);

    // A client logs in with a wrong password (PLAIN only: Dovecot makes each further
    // failure from one address wait longer).
    let since = window_start();
    client_session(
        relay_port,
        "s.user, s.password = 'alice', 'wrong'\n\
         try:\n\
         \x20   s.auth('PLAIN', s.auth_plain)\n\
         except smtplib.SMTPAuthenticationError:\n\
         \x20   pass\n",
    );
    wait(mx, "authentication failed: ");
    expect(mx, &since, "sasl-failed", "fail2ban");

    // A warning that no rule of its own knows gets the catch-all: a client gives up in
    // the middle of its AUTH.
    let since = window_start();
    client_session(relay_port, "s.docmd('AUTH', 'PLAIN')\ns.docmd('*')\n");
    wait(mx, "authentication aborted");
    expect(mx, &since, "warning", "no rule knows this warning");

    // An smtpd whose security options leave none of the SASL server's mechanisms.
    let since = window_start();
    let _ = std::net::TcpStream::connect(("127.0.0.1", nomech_port));
    wait(mx, "fatal: no SASL authentication mechanisms");
    expect(
        mx,
        &since,
        "sasl-no-mechanisms",
        "smtpd_sasl_security_options",
    );

    // A fatal error that no rule of its own knows gets the catch-all, with the
    // daemon's exit under it.
    let since = window_start();
    let exits = mx.log().matches("exit status 1").count();
    let _ = std::net::TcpStream::connect(("127.0.0.1", filter_port));
    wait(mx, "discards all mechanisms in");
    e2e::wait_until(10, || mx.log().matches("exit status 1").count() > exits);
    let report = expect(mx, &since, "fatal", "postconf -n");
    assert!(report.contains("[daemon-exit]"), "{report}");

    // This host's SMTP client fails to log in to its relay.
    let since = window_start();
    send(mx, "someone@sasl.e2e.test").unwrap();
    wait(mx, "status=deferred (SASL authentication failed");
    expect(mx, &since, "sasl-client-failed", "smtp_sasl_password_maps");

    // The DNS server fails.
    let since = window_start();
    send(mx, "someone@servfail.e2e.test").unwrap();
    wait(mx, "Host not found, try again");
    expect(mx, &since, "dns-temporary", "dig MX servfail.e2e.test");

    // A domain whose mail exchanger is this host, which does not take its mail.
    let since = window_start();
    send(mx, "someone@loop.e2e.test").unwrap();
    wait(mx, "loops back to myself");
    expect(mx, &since, "loops-back", "loop.e2e.test");

    // A next hop that never answers.
    let since = window_start();
    send(mx, "someone@dead.e2e.test").unwrap();
    wait(mx, "Connection timed out");
    expect(
        mx,
        &since,
        "relay-timeout",
        &format!("nc -v -w 10 127.0.0.1 {dead_port}"),
    );

    // A deferral that no rule of its own knows gets the catch-all.
    let since = window_start();
    send(mx, "someone@silent.e2e.test").unwrap();
    wait(mx, "timed out while receiving the initial server greeting");
    expect(mx, &since, "deferred-other", "postqueue -f");
    drop(silent);

    // smtpd found too little free space in the queue file system; it has been freed
    // since (so the free-space check of posttriage finds nothing), the log still says so.
    mx.set_main_cf("message_size_limit", "1000000000000000");
    let since = fresh_smtpd(mx);
    let _ = send(mx, "user@vmail.e2e.test");
    wait(mx, "not enough free space in mail queue");
    remove_main_cf(mx, "message_size_limit");
    expect(mx, &since, "insufficient-storage", "df -h");
    fresh_smtpd(mx);

    // A daemon that panics. Postfix's daemons panic only on a broken invariant, and no
    // input or setting breaks one; ironpost's crash-report hook (IRONPOST_TEST_PANIC,
    // which only main.cf's import_environment passes) makes smtpd panic as a real panic
    // would, through the panic hook that logs it.
    if system == System::Ironpost {
        let defaults = "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C \
                        POSTLOG_SERVICE POSTLOG_HOSTNAME";
        mx.set_main_cf(
            "import_environment",
            &format!("{defaults} IRONPOST_TEST_PANIC=smtpd:1"),
        );
        // The master takes its environment at start-up only.
        restart(mx, system);
        let since = window_start();
        let _session = std::net::TcpStream::connect(("127.0.0.1", mx.smtp_port)).unwrap();
        wait(mx, "killed by signal 6");
        let report = expect(mx, &since, "panic", "postreport");
        // Its abort() is the signal the master reports: a knock-on error, not another
        // problem.
        assert!(
            report.contains("[killed-by-signal]") && !report.contains("other problems"),
            "{report}"
        );
        // The first lines name smtpd's crash report and quote why and where it crashed;
        // the master's warning that names the report is a knock-on error.
        assert!(report.contains("[crash-report]"), "{report}");
        let crash_dir = format!("{}/data/crash/", mx.dir.display());
        let lines: Vec<&str> = report.lines().collect();
        assert!(
            lines[0].contains(&format!("; crash report {crash_dir}"))
                && lines[1].starts_with("remedy: send ")
                && lines[2].starts_with("  > reason: panic: test panic requested")
                && lines
                    .iter()
                    .any(|l| l.starts_with("  > at server::test_panic_hook")),
            "{report}"
        );
        remove_main_cf(mx, "import_environment");
        restart(mx, system);
    }

    // A queue file that qmgr cannot open: root's, in incoming, mode 0700 (the mode
    // cleanup gives a finished file; qmgr leaves others alone). qmgr moves it to active
    // (a rename needs only the directory's permission), then cannot open it.
    let since = window_start();
    let stray = mx.dir.join("queue/incoming/ABCDEF5678");
    std::fs::write(&stray, "").unwrap();
    std::fs::set_permissions(&stray, std::fs::Permissions::from_mode(0o700)).unwrap();
    ctl(mx, system, &["flush"]);
    // Both qmgrs stop with the generic "fatal: open active ABCDEF5678: Permission
    // denied" (qmgr_message.c: only a vanished file is skipped) and leave the file in
    // active, where the ownership check names it first; the log's line is its knock-on
    // error. No mail goes to corrupt for a local permission problem.
    wait(mx, "fatal: open active ABCDEF5678: Permission denied");
    let queue = mx.dir.join("queue");
    assert!(
        queue.join("active/ABCDEF5678").exists(),
        "{system:?}: left in active"
    );
    assert!(
        !queue.join("corrupt/ABCDEF5678").exists(),
        "{system:?}: not corrupt"
    );
    let report = expect(mx, &since, "queue-ownership", "postfix set-permissions");
    assert!(report.contains("[permission-denied]"), "{report}");
    for queue in ["incoming", "active", "corrupt"] {
        let _ = std::fs::remove_file(mx.dir.join("queue").join(queue).join("ABCDEF5678"));
    }
    // The master throttles a qmgr that keeps dying.
    restart(mx, system);

    // A maildrop directory with the wrong group, which postdrop (set-gid postdrop) may
    // not write. Root without the capabilities that override file modes and without
    // supplementary groups stands in for a user, who may not submit to a private
    // configuration directory.
    let sendmail = sendmail_of(mx, system);
    let maildrop = mx.dir.join("queue/maildrop");
    let chgrp = |group: &str| {
        let done = Command::new("chgrp").arg(group).arg(&maildrop).status();
        assert!(done.is_ok_and(|s| s.success()), "chgrp {group}");
    };
    chgrp("root");
    let since = window_start();
    let mut user = Command::new("setpriv")
        .args([
            "--clear-groups",
            "--bounding-set=-dac_override,-dac_read_search,-fowner",
        ])
        .arg(&sendmail)
        .args(["-f", "user@vmail.e2e.test", "user@vmail.e2e.test"])
        .env("MAIL_CONFIG", mx.etc())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("setpriv");
    let _ = user
        .stdin
        .take()
        .expect("a pipe")
        .write_all(b"Subject: triage\n\nbody\n");
    // postdrop keeps trying; it is stopped once it said why (before sendmail, whose
    // child it is), so that it does not finish the job after the repair.
    wait(mx, "mail_queue_enter: create file maildrop/");
    let children = format!("/proc/{0}/task/{0}/children", user.id());
    for pid in std::fs::read_to_string(children)
        .unwrap_or_default()
        .split_whitespace()
    {
        let _ = Command::new("kill").args(["-KILL", pid]).status();
    }
    let _ = user.kill();
    let _ = user.wait();
    expect(mx, &since, "maildrop-permission", "postfix set-permissions");
    chgrp("postdrop");

    // A full file system under a Maildir.
    let Some(_disk) = SmallDisk::full(&mx.dir.join("vmail/vmail.e2e.test"), "nobody") else {
        return;
    };
    let since = window_start();
    send(mx, "user@vmail.e2e.test").unwrap();
    wait(mx, "No space left on device");
    expect(mx, &since, "disk-full", "df -h");
}
