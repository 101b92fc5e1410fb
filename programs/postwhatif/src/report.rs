//! The answer: each step a daemon took, what decided it and where that is configured, in
//! text or JSON, and the exit status.
//!
//! Postfix counterpart: none. The steps come from the daemons' what-if answers (see
//! run.rs): their `debug:` lookup records (`TABLE lookup: "KEY" = "VALUE"`), cleanup's
//! decisions (`WHATIF: PARAMETER: SUBJECT -> RESULT`), smtpd's restriction trace and
//! stage results, trivial-rewrite's resolve answer, and any warning or fatal record.

use crate::config::Setup;
use crate::run::Answers;
use global::resolve_clnt::{
    CLASS_ALIAS, CLASS_DEFAULT, CLASS_LOCAL, CLASS_RELAY, CLASS_VIRTUAL, FLAG_ERROR, FLAG_FAIL,
};
use ipc::Attrs;
use params::master_cf::Entry;
use std::collections::BTreeMap;
use triage::json::Value;

/// How to answer.
#[derive(Debug, Default)]
pub struct Options {
    /// `-j`: JSON.
    pub json: bool,
    /// `-m`: the mail exchangers of SMTP destinations.
    pub mx: bool,
    /// `-v`: also the lookups that found nothing.
    pub verbose: bool,
}

/// One step.
#[derive(Debug, Clone)]
pub struct Step {
    /// The daemon whose code took it.
    pub daemon: String,
    /// `lookup`, `decision`, `restriction`, `stage`, `delivery`, `mx`, `log`, `problem`,
    /// `verdict`.
    pub kind: &'static str,
    /// The parameter, restriction list or SMTP stage.
    pub rule: String,
    /// The restriction, for smtpd's steps.
    pub restriction: Option<String>,
    /// The table looked in.
    pub table: Option<String>,
    /// The key looked up.
    pub key: Option<String>,
    /// What came of it.
    pub result: String,
    /// Where the settings that decided come from.
    pub origin: Vec<String>,
    /// Whether it decided something (false: an alternative that did not apply).
    pub decided: bool,
}

impl Step {
    fn new(daemon: &str, kind: &'static str, rule: &str, result: &str) -> Step {
        Step {
            daemon: daemon.to_string(),
            kind,
            rule: rule.to_string(),
            restriction: None,
            table: None,
            key: None,
            result: result.to_string(),
            origin: Vec::new(),
            decided: true,
        }
    }

    /// The final word on a question (the caller folds its exit status in).
    pub fn verdict(daemon: &str, text: &str) -> Step {
        Step::new(daemon, "verdict", "", text)
    }

    fn text(&self) -> String {
        let key = self
            .key
            .as_ref()
            .map(|k| format!(" key \"{k}\""))
            .unwrap_or_default();
        match self.kind {
            "lookup" => format!(
                "{}: {}: {}{key} -> {}",
                self.daemon,
                self.rule,
                self.table.as_deref().unwrap_or(""),
                self.result
            ),
            "restriction" => format!(
                "{}: {}: {}{key}: {}",
                self.daemon,
                self.rule,
                self.restriction.as_deref().unwrap_or(""),
                self.result
            ),
            "log" => format!("{} would log: {}", self.daemon, self.result),
            "verdict" => format!("result: {}", self.result),
            _ if self.rule.is_empty() => format!("{}: {}", self.daemon, self.result),
            _ => format!("{}: {}: {}", self.daemon, self.rule, self.result),
        }
    }

    fn json(&self) -> Value {
        let opt = |v: &Option<String>| v.as_ref().map_or(Value::Null, |s| Value::s(s.clone()));
        Value::Obj(vec![
            ("daemon".into(), Value::s(&self.daemon)),
            ("kind".into(), Value::s(self.kind)),
            ("rule".into(), Value::s(&self.rule)),
            ("restriction".into(), opt(&self.restriction)),
            ("table".into(), opt(&self.table)),
            ("key".into(), opt(&self.key)),
            ("result".into(), Value::s(&self.result)),
            (
                "origin".into(),
                Value::Arr(self.origin.iter().map(Value::s).collect()),
            ),
            ("decided".into(), Value::Bool(self.decided)),
        ])
    }
}

/// One question and its steps.
#[derive(Debug)]
struct Subject {
    question: String,
    steps: Vec<Step>,
    status: i32,
}

/// Every question asked.
#[derive(Debug)]
pub struct Report {
    mode: &'static str,
    subjects: Vec<Subject>,
    /// The exit status: the worst of the questions' (2 defer or error, 1 reject, 0).
    pub status: i32,
}

impl Report {
    /// An empty report of `mode` (`address` or `smtpd`).
    pub fn new(mode: &'static str) -> Report {
        Report {
            mode,
            subjects: Vec::new(),
            status: 0,
        }
    }

    /// Starts the answer to `question`.
    pub fn begin(&mut self, question: &str) {
        self.subjects.push(Subject {
            question: question.to_string(),
            steps: Vec::new(),
            status: 0,
        });
    }

    fn subject(&mut self) -> &mut Subject {
        if self.subjects.is_empty() {
            self.begin("");
        }
        self.subjects.last_mut().expect("a subject")
    }

    /// Adds a step.
    pub fn push(&mut self, step: Step) {
        self.subject().steps.push(step);
    }

    /// Folds a question's outcome into the statuses.
    fn outcome(&mut self, status: i32) {
        let subject = self.subject();
        subject.status = subject.status.max(status);
        self.status = self.status.max(status);
    }

    /// The steps in a daemon's log records: table lookups, cleanup's decisions, the log
    /// lines smtpd would write, and problems.
    pub fn steps_from_log(
        &mut self,
        setup: &Setup,
        entry: Option<&Entry>,
        daemon: &str,
        answers: &Answers,
        owners: &BTreeMap<String, Vec<String>>,
    ) {
        for text in answers.log() {
            if let Some((table, key, value)) = lookup_record(text) {
                let params = owners.get(table).cloned().unwrap_or_default();
                let found = value != "not_found";
                let mut step = Step::new(
                    daemon,
                    "lookup",
                    &params.join(", "),
                    &if found {
                        format!("\"{value}\"")
                    } else {
                        value.to_string()
                    },
                );
                step.table = Some(table.to_string());
                step.key = Some(key.to_string());
                step.decided = found;
                step.origin = params.iter().map(|p| setup.origin(p, entry)).collect();
                self.push(step);
            } else if let Some(rest) = text.strip_prefix("WHATIF: ") {
                let (rule, change) = rest.split_once(": ").unwrap_or(("", rest));
                let mut step = Step::new(daemon, "decision", rule, change);
                if rule.contains('_') {
                    step.origin.push(setup.origin(rule, entry));
                }
                self.push(step);
            } else if let Some(severity) = ["warning: ", "error: ", "fatal: ", "panic: "]
                .iter()
                .find(|s| text.starts_with(**s))
            {
                self.push(Step::new(daemon, "problem", "", text));
                if *severity != "warning: " {
                    self.outcome(2);
                }
            } else if text.starts_with("NOQUEUE: ") {
                self.push(Step::new(daemon, "log", "", text));
            }
        }
    }

    /// Whether the daemon answered; when it did not, the question is an error.
    pub fn answered(&mut self, daemon: &str, answers: &Answers) -> bool {
        let fatal = answers.log().any(|t| t.starts_with("fatal: "));
        let problem = match (&answers.problem, answers.status) {
            (Some(problem), _) => Some(problem.clone()),
            (None, None) => Some(format!("{daemon} was killed")),
            _ if fatal => Some(format!("{daemon} could not answer")),
            _ => None,
        };
        match problem {
            Some(problem) => {
                self.push(Step::new(daemon, "problem", "", &problem));
                self.outcome(2);
                false
            }
            None => true,
        }
    }

    /// trivial-rewrite's answer for `recipient`: the transport and next hop, the class and
    /// the settings behind them, and the verdict; when the transport is a local delivery
    /// agent, its master.cf service instead of a verdict (the agent has the last word).
    pub fn resolved(
        &mut self,
        setup: &Setup,
        entry: Option<&Entry>,
        recipient: &str,
        resolved: &Attrs,
        mx: bool,
    ) -> Option<String> {
        let text = |name: &str| resolved.get_str(name).unwrap_or_default().to_string();
        let (transport, nexthop) = (text("transport"), text("nexthop"));
        let flags = resolved.get_int("flags").unwrap_or(0);
        let (class, params): (&str, &[&str]) = match flags {
            f if f & CLASS_LOCAL != 0 => ("local", &["mydestination", "local_transport"]),
            f if f & CLASS_ALIAS != 0 => ("virtual alias", &["virtual_alias_domains"]),
            f if f & CLASS_VIRTUAL != 0 => (
                "virtual mailbox",
                &["virtual_mailbox_domains", "virtual_transport"],
            ),
            f if f & CLASS_RELAY != 0 => ("relay", &["relay_domains", "relay_transport"]),
            f if f & CLASS_DEFAULT != 0 => ("default", &["default_transport", "relayhost"]),
            _ => ("none", &[]),
        };
        // transport_maps, when one of its lookups found something, decided instead.
        let by_table = self.subject().steps.iter().rev().any(|s| {
            s.kind == "lookup" && s.decided && s.key.is_some() && s.rule.contains("transport_maps")
        });
        let mut step = Step::new(
            "trivial-rewrite",
            "delivery",
            recipient,
            &format!(
                "transport {transport}, nexthop {nexthop}, class {class}{}",
                if by_table {
                    " (from transport_maps)"
                } else {
                    ""
                }
            ),
        );
        step.origin = params.iter().map(|p| setup.origin(p, entry)).collect();
        let service = setup
            .master
            .entries
            .iter()
            .find(|e| e.service() == transport && e.kind() == "unix");
        if let Some(service) = service {
            step.origin.push(format!(
                "{} line {}: {} {} ... {}",
                setup.master.path.display(),
                service.line,
                service.service(),
                service.kind(),
                service.argv.join(" ")
            ));
        }
        self.push(step);
        let (verdict, status) = if flags & FLAG_FAIL != 0 {
            ("deferred: address resolution failed".to_string(), 2)
        } else if flags & FLAG_ERROR != 0 || transport == "error" {
            (format!("bounced: {nexthop}"), 1)
        } else if transport == "retry" {
            (format!("deferred: {nexthop}"), 2)
        } else if service.is_none() {
            (
                format!("deferred: mail transport unavailable ({transport} is not in master.cf)"),
                2,
            )
        } else {
            (format!("deliverable via {transport} to {nexthop}"), 0)
        };
        if status == 0
            && let Some(service) = service.filter(|s| s.process_name() == "local")
        {
            return Some(service.service().to_string());
        }
        let (mut verdict, mut status) = (verdict, status);
        if mx
            && service.is_some_and(|s| s.process_name() == "smtp")
            && !nexthop.starts_with('[')
            && status == 0
            && let Some(why) = self.mx(setup, &nexthop)
        {
            // No address to try: the client bounces a hard failure, defers a soft one.
            (verdict, status) = if why.status.starts_with('5') {
                (format!("bounced: {} {}", why.status, why.reason), 1)
            } else {
                (format!("deferred: {} {}", why.status, why.reason), 2)
            };
        }
        self.push(Step::verdict(
            "trivial-rewrite",
            &format!("{recipient}: {verdict}"),
        ));
        self.outcome(status);
        None
    }

    /// The local delivery agent's reports: each destination with its verdict; the
    /// addresses it forwards to, to follow.
    pub fn local(&mut self, answers: &Answers) -> Vec<String> {
        let mut forwards = Vec::new();
        for answer in answers.of("local") {
            let get = |name: &str| answer.get_str(name).unwrap_or_default().to_string();
            let (recipient, action, dsn) = (get("recipient"), get("action"), get("status"));
            let reason = get("reason");
            let reason = reason
                .strip_prefix("delivery via local: ")
                .unwrap_or(&reason);
            let status = match action.as_str() {
                "deliverable" => 0,
                _ if dsn.starts_with('5') => 1,
                _ => 2,
            };
            // Forwarded mail is a new message; the agent logs the forwarding under the
            // recipient it was delivering (the request's), the report names the new one.
            let forward = reason.strip_prefix("forwards to ").filter(|_| status == 0);
            let who = match forward {
                Some(next) => {
                    forwards.push(next.to_string());
                    get("original")
                }
                None => recipient,
            };
            self.push(Step::verdict(
                "local",
                &format!("{who}: local: {action}: {reason}"),
            ));
            self.outcome(status);
        }
        forwards
    }

    /// The SMTP client's address list for `nexthop` (MX preference order, then address
    /// records), through crates/dns as the client asks it; why there is none, when none.
    fn mx(&mut self, setup: &Setup, nexthop: &str) -> Option<dns::smtp_addr::Why> {
        let domain = nexthop.split(':').next().unwrap_or(nexthop);
        let inet = setup.value("inet_protocols", None);
        let inet = match dns::inet_proto::InetProtocols::parse(&inet) {
            Ok(inet) => inet,
            Err(why) => {
                self.push(Step::new("smtp", "problem", "", &why));
                return None;
            }
        };
        let resolver = dns::Resolver::system();
        let mut settings = dns::smtp_addr::Settings::new(inet);
        settings.randomize_addresses = false;
        let mut random = dns::random::SeededRandom::new();
        let list =
            dns::smtp_addr::SmtpAddr::new(&resolver, settings, &mut random).domain_addr(domain);
        for rr in &list.addrs {
            // As the client's log names a host: `name[address]`.
            let host = match rr.addr() {
                Some(addr) => format!("{}[{addr}]", rr.rname.trim_end_matches('.')),
                None => rr.to_string(),
            };
            let text = format!("{domain}: preference {} {host}", rr.pref);
            self.push(Step::new("smtp", "mx", "", &text));
        }
        list.addrs.is_empty().then_some(list.why)
    }

    /// smtpd's restriction trace and stage results.
    pub fn smtpd(&mut self, setup: &Setup, entry: Option<&Entry>, answers: &Answers) {
        for answer in &answers.lists {
            let get = |name: &str| answer.get_str(name).unwrap_or_default().to_string();
            match answer.get_str("kind").unwrap_or_default() {
                "decision" => {
                    let list = get("list");
                    let result = get("result");
                    let mut step = Step::new("smtpd", "restriction", &list, &result);
                    step.restriction = Some(get("restriction"));
                    step.key = Some(get("key")).filter(|k| !k.is_empty());
                    // A table that answered decided even when its answer was to wait
                    // (DEFER_IF_PERMIT) or to go on: the trace's key shows `key -> answer`.
                    step.decided =
                        result != "DUNNO" || step.key.as_ref().is_some_and(|k| k.contains(" -> "));
                    step.origin.push(setup.origin(&list, entry));
                    self.push(step);
                }
                "stage" => {
                    let (stage, result, reply) = (get("stage"), get("result"), get("reply"));
                    if result != "accept" {
                        self.implicit_check(setup, entry, &stage, &reply);
                    }
                    let text = format!("{result} {reply}").trim_end().to_string();
                    self.push(Step::new("smtpd", "stage", &stage, &text));
                }
                _ => {}
            }
        }
        let status = answers.status.unwrap_or(2).clamp(0, 2);
        let verdict = ["accepted", "rejected", "deferred"][status as usize];
        self.push(Step::verdict("smtpd", verdict));
        self.outcome(status);
    }

    /// A refusal that no restriction list's step decided comes from the checks smtpd
    /// makes after the lists (smtpd_check.c's order, as in the engine): the unlisted
    /// recipient or sender check, whose tables the reply names.
    fn implicit_check(&mut self, setup: &Setup, entry: Option<&Entry>, stage: &str, reply: &str) {
        let decided = self
            .subject()
            .steps
            .iter()
            .rev()
            .take_while(|s| s.kind != "stage")
            .any(|s| s.kind == "restriction" && s.decided && s.result != "permit");
        let rule = match stage {
            "RCPT" => "smtpd_reject_unlisted_recipient",
            "MAIL" => "smtpd_reject_unlisted_sender",
            _ => return,
        };
        if decided {
            return;
        }
        let tables = [
            ("virtual mailbox table", "virtual_mailbox_maps"),
            ("virtual alias table", "virtual_alias_maps"),
            ("local recipient table", "local_recipient_maps"),
            ("relay recipient table", "relay_recipient_maps"),
        ];
        let mut step = Step::new("smtpd", "restriction", rule, &format!("reject: {reply}"));
        step.restriction = Some("(after the restriction lists)".into());
        step.origin.push(setup.origin(rule, entry));
        for (text, table) in tables {
            if reply.contains(text) {
                step.origin.push(setup.origin(table, entry));
            }
        }
        self.push(step);
    }

    /// Prints the report.
    pub fn print(&self, options: &Options) {
        if options.json {
            let subjects = self
                .subjects
                .iter()
                .map(|s| {
                    Value::Obj(vec![
                        ("question".into(), Value::s(&s.question)),
                        ("status".into(), Value::Num(s.status.into())),
                        (
                            "steps".into(),
                            Value::Arr(s.steps.iter().map(Step::json).collect()),
                        ),
                    ])
                })
                .collect();
            let out = Value::Obj(vec![
                ("mode".into(), Value::s(self.mode)),
                ("status".into(), Value::Num(self.status.into())),
                ("questions".into(), Value::Arr(subjects)),
            ]);
            println!("{}", out.render());
            return;
        }
        for subject in &self.subjects {
            println!("{}", subject.question);
            for step in &subject.steps {
                if !step.decided && !options.verbose {
                    continue;
                }
                println!("  {}", step.text());
                for origin in &step.origin {
                    println!("      {origin}");
                }
            }
        }
    }
}

/// A `debug:` table's lookup record: (table, key, value).
fn lookup_record(text: &str) -> Option<(&str, &str, &str)> {
    let (table, rest) = text.split_once(" lookup: \"")?;
    let (key, rest) = rest.rsplit_once("\" = \"")?;
    let value = rest.strip_suffix('"')?;
    (!table.contains(' ')).then_some((table, key, value))
}

#[cfg(test)]
mod tests {
    use super::lookup_record;

    #[test]
    fn debug_lookup_records() {
        assert_eq!(
            lookup_record("hash:/etc/postfix/virtual lookup: \"a@b\" = \"c@d, e@f\""),
            Some(("hash:/etc/postfix/virtual", "a@b", "c@d, e@f"))
        );
        assert_eq!(
            lookup_record("texthash:/x lookup: \"k\" = \"not_found\""),
            Some(("texthash:/x", "k", "not_found"))
        );
        assert_eq!(
            lookup_record("cleanup flags = enable_header_body_filter"),
            None
        );
        assert_eq!(lookup_record("some text lookup: \"k\" = \"v\""), None);
    }
}
