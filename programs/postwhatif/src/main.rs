//! postwhatif - where would this address go, and would smtpd accept this mail, without
//! sending any.
//!
//! Postfix counterpart: none; Exim's `-bt` and `-bh` come closest. `postwhatif [-c
//! config_dir] [-j] [-v] [-m] [-f sender] address...` follows each address the way mail
//! to it would go: cleanup's canonical maps, masquerading and virtual alias expansion,
//! then trivial-rewrite's resolve (transport_maps, relocated_maps, the address class and
//! its transport, relayhost), for the local delivery agent its aliases, .forward and
//! :include: files and what they deliver to (a mailbox, a file, a command), following
//! forwarded mail as new mail, and with `-m` (`--mx`) the mail exchangers the SMTP client
//! would try. `postwhatif [-c config_dir] [-j] [-n service] -s name=value...` asks
//! smtpd's restriction engine whether it would accept a client (`client_address=`,
//! `client_name=`), `helo=`, `sender=`, `recipient=` and `sasl_username=`, and for a
//! session after STARTTLS its TLS facts with the names of Postfix's policy delegation
//! (`encryption_protocol=`, `encryption_cipher=`, `ccert_fingerprint=`,
//! `ccert_pubkey_fingerprint=`, and `ccert_subject=`/`ccert_issuer=` for a certificate
//! smtpd's CAs verify); without them the session is plaintext (see smtpd's whatif.rs).
//!
//! The answers come from the daemons' own code: each (cleanup, trivial-rewrite, local,
//! smtpd) is started from daemon_directory in its what-if mode (global::whatif), with the
//! master.cf settings of its service and every deciding table wrapped in `debug:`, so
//! each step names the parameter or restriction, the table, the key and the value that
//! decided, and the main.cf or master.cf line the setting comes from (`-v` also shows the
//! lookups that found nothing). Addresses are rewritten by the running trivial-rewrite
//! service, as the daemons' are. `-j` (`--json`) prints one JSON object. Exit status: 0
//! accepted (or deliverable), 1 rejected (or bounced), 2 deferred or an error.

mod config;
mod report;
mod run;

use config::Setup;
use params::Config;
use params::master_cf::MasterCf;
use report::{Report, Step};
use std::path::PathBuf;

fn usage(myname: &str) -> ! {
    log::msg_fatal!(
        "usage: {myname} [-c config_dir] [-j (JSON)] [-v] [-m (MX)] [-f sender] address... | {myname} [-c config_dir] [-j] [-v] [-n service] -s name=value..."
    )
}

fn main() {
    let argv0 = std::env::args()
        .next()
        .unwrap_or_else(|| "postwhatif".into());
    log::init(Box::new(log::Stderr::new(&argv0)));
    let args: Vec<String> = std::env::args()
        .skip(1)
        .map(|a| match a.as_str() {
            "--json" => "-j".into(),
            "--mx" => "-m".into(),
            "--smtpd" => "-s".into(),
            _ => a,
        })
        .collect();
    let (opts, operands) = match util::getopt::parse(&argv0, "c:f:jmn:sv", &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            usage(&argv0)
        }
    };
    let mut config_dir = None;
    let mut options = report::Options::default();
    let mut sender = String::new();
    let mut service = None;
    let mut smtpd = false;
    for opt in opts {
        let value = opt.value.unwrap_or_default();
        match opt.letter {
            'c' => config_dir = Some(PathBuf::from(value)),
            'f' => sender = value,
            'j' => options.json = true,
            'm' => options.mx = true,
            'n' => service = Some(value),
            's' => smtpd = true,
            'v' => options.verbose = true,
            _ => usage(&argv0),
        }
    }
    if operands.is_empty() {
        usage(&argv0);
    }
    let config_dir = params::config::config_directory(config_dir.as_deref());
    let config = Config::load(&config_dir).unwrap_or_else(|e| global::fatal_config(e));
    let master = MasterCf::read(&config_dir.join("master.cf")).unwrap_or_default();
    let daemon_directory = config
        .str(&params::decl::install::DAEMON_DIRECTORY)
        .unwrap_or_else(|e| global::fatal_config(e));
    // Every question needs the rewriting service, as the daemons do: without it they
    // would wait for it, and the answer would be a time-out.
    let text = |param| {
        config
            .str(param)
            .unwrap_or_else(|e| global::fatal_config(e))
    };
    let rewrite = PathBuf::from(text(&params::decl::install::QUEUE_DIRECTORY))
        .join("private")
        .join(text(&params::decl::cleanup::REWRITE_SERVICE_NAME));
    if let Err(e) = std::os::unix::net::UnixStream::connect(&rewrite) {
        log::fatal_status(
            2,
            format_args!(
                "is the mail system running? connect to {}: {}",
                rewrite.display(),
                sys::os_error(&e)
            ),
        );
    }
    let setup = Setup {
        config,
        master,
        daemon_directory,
    };
    let report = if smtpd {
        let mut question = Vec::new();
        for operand in &operands {
            if !operand.contains('=') {
                usage(&argv0);
            }
            question.push(operand.clone());
        }
        smtpd_question(&setup, &config_dir, service.as_deref(), &question)
    } else {
        let mut report = Report::new("address");
        for address in &operands {
            address_question(&setup, &config_dir, &options, &sender, address, &mut report);
        }
        report
    };
    report.print(&options);
    std::process::exit(report.status);
}

/// The tables cleanup looks addresses up in.
const CLEANUP_TABLES: [&str; 6] = [
    "canonical_maps",
    "sender_canonical_maps",
    "recipient_canonical_maps",
    "virtual_alias_maps",
    "sender_bcc_maps",
    "recipient_bcc_maps",
];

/// The tables local looks addresses up in.
const LOCAL_TABLES: [&str; 1] = ["alias_maps"];

/// The tables trivial-rewrite's resolve looks addresses up in.
const RESOLVE_TABLES: [&str; 4] = [
    "transport_maps",
    "relocated_maps",
    "sender_dependent_relayhost_maps",
    "sender_dependent_default_transport_maps",
];

/// How many times forwarded mail is followed (an alias loop ends here too).
const MAX_FORWARDS: usize = 10;

/// Follows `address` through cleanup and trivial-rewrite (and local, for local mail).
fn address_question(
    setup: &Setup,
    config_dir: &std::path::Path,
    options: &report::Options,
    sender: &str,
    address: &str,
    report: &mut Report,
) {
    report.begin(address);
    let ask = Ask {
        setup,
        config_dir,
        options,
    };
    ask.follow(sender, address, report, 0);
}

/// What every daemon is asked with.
struct Ask<'a> {
    setup: &'a Setup,
    config_dir: &'a std::path::Path,
    options: &'a report::Options,
}

impl Ask<'_> {
    /// Runs `program`'s what-if mode for its master.cf `service` with `tables` shown,
    /// and takes its log into the report; None when it could not answer.
    fn run(
        &self,
        program: &str,
        service: &str,
        tables: &[&str],
        question: &[String],
        report: &mut Report,
    ) -> Option<run::Answers> {
        let entry = self.setup.service(program, Some(service));
        let (overrides, owners) = config::overrides(self.setup, entry, tables);
        let answers = run::run(
            &self.setup.daemon_directory,
            self.config_dir,
            program,
            &overrides,
            question,
        );
        report.steps_from_log(self.setup, entry, program, &answers, &owners);
        report.answered(program, &answers).then_some(answers)
    }

    /// Mail from `sender` to `address`: cleanup, then each resulting recipient's resolve
    /// and, for the local delivery agent, its aliases and .forward; forwarded mail is
    /// followed as new mail.
    fn follow(&self, sender: &str, address: &str, report: &mut Report, depth: usize) {
        let question = [format!("sender={sender}"), format!("recipient={address}")];
        let Some(answers) = self.run("cleanup", "cleanup", &CLEANUP_TABLES, &question, report)
        else {
            return;
        };
        let final_sender = answers
            .of("sender")
            .find_map(|a| a.get_str("result").ok())
            .unwrap_or(sender)
            .to_string();
        let recipients: Vec<String> = answers
            .of("recipient")
            .filter_map(|a| a.get_str("result").ok().map(str::to_string))
            .collect();
        if recipients.is_empty() {
            report.push(Step::verdict("cleanup", "no recipient is left"));
        }
        for recipient in recipients {
            let question = [
                format!("address={recipient}"),
                format!("sender={final_sender}"),
            ];
            let Some(answers) = self.run(
                "trivial-rewrite",
                "rewrite",
                &RESOLVE_TABLES,
                &question,
                report,
            ) else {
                continue;
            };
            let Some(resolved) = answers.of("resolve").next() else {
                continue;
            };
            let entry = self.setup.service("trivial-rewrite", Some("rewrite"));
            let agent = report.resolved(self.setup, entry, &recipient, resolved, self.options.mx);
            if let Some(service) = agent {
                self.local(&service, &final_sender, &recipient, report, depth);
            }
        }
    }

    /// The local delivery agent of master.cf `service` for `recipient`.
    fn local(
        &self,
        service: &str,
        sender: &str,
        recipient: &str,
        report: &mut Report,
        depth: usize,
    ) {
        let question = [format!("sender={sender}"), format!("recipient={recipient}")];
        let Some(answers) = self.run("local", service, &LOCAL_TABLES, &question, report) else {
            return;
        };
        for forward in report.local(&answers) {
            if depth >= MAX_FORWARDS {
                report.push(Step::verdict("local", "forwarded too often: not followed"));
                break;
            }
            self.follow(sender, &forward, report, depth + 1);
        }
    }
}

/// Asks smtpd's restriction engine.
fn smtpd_question(
    setup: &Setup,
    config_dir: &std::path::Path,
    service: Option<&str>,
    question: &[String],
) -> Report {
    let mut report = Report::new("smtpd");
    let entry = setup.service("smtpd", service.or(Some("smtp")));
    report.begin(&question.join(" "));
    let (overrides, owners) = config::overrides(setup, entry, &[]);
    let answers = run::run(
        &setup.daemon_directory,
        config_dir,
        "smtpd",
        &overrides,
        question,
    );
    report.steps_from_log(setup, entry, "smtpd", &answers, &owners);
    if report.answered("smtpd", &answers) {
        report.smtpd(setup, entry, &answers);
    }
    report
}
