//! The triage engine: match log lines against the rule base, pick the root cause, group
//! the knock-on errors under it, and print the report as text or JSON.
//!
//! Postfix counterpart: none (DEBUG_README, "Look for obvious signs of trouble": the
//! first problem in the log is usually the cause, the later ones its consequences). Here
//! the weight of a failure comes first (a daemon that cannot start outweighs the
//! deferrals it causes), then its first appearance. A crash of an ironpost daemon that
//! left a crash report ([`crate::crash`]) comes before everything: the report says where
//! the code failed, which the log cannot.

use crate::crash;
use crate::json::Value;
use crate::logline::Line;
use crate::pattern;
use crate::rules::{RULES, Rule};

/// Evidence lines kept per finding.
const EVIDENCE: usize = 3;

/// One failure found: a rule, what its pattern captured, and the lines that show it.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule.
    pub rule: &'static Rule,
    /// The cause, filled in.
    pub cause: String,
    /// The remedy, filled in.
    pub remedy: String,
    /// The first few lines that show it.
    pub evidence: Vec<String>,
    /// The number of lines that show it.
    pub count: usize,
    /// The number of the first such line (0 for checks outside the log).
    pub first: usize,
    /// The findings it explains.
    pub knock_on: Vec<Finding>,
    /// The crash report of the process this finding is about, when it left one.
    pub crash: Option<Crash>,
}

/// A crash report named by the master or found under `$data_directory/crash`.
#[derive(Debug, Clone, PartialEq)]
pub struct Crash {
    /// Its path.
    pub file: String,
    /// Its key lines ([`crash::key_lines`]), or why it could not be read; filled in by
    /// the caller, which reads files.
    pub quote: Vec<String>,
}

/// The rule a line matches and its captures (the process and queue id included).
pub fn classify(line: &Line) -> Option<(&'static Rule, Vec<(String, String)>)> {
    // A pattern that opens with a capture is matched from the start of the message
    // proper: after the queue id and the severity or check prefix.
    let mut proper = line.message();
    for prefix in [
        "posttriage check: ",
        "warning: ",
        "error: ",
        "fatal: ",
        "panic: ",
    ] {
        if let Some(rest) = proper.strip_prefix(prefix) {
            proper = rest;
        }
    }
    for rule in RULES {
        for p in rule.patterns {
            let text = if p.starts_with('{') {
                proper
            } else {
                &line.text
            };
            if let Some(mut captures) = pattern::matches(p, text) {
                captures.push(("process".into(), line.program.clone()));
                if let Some(id) = &line.queue_id {
                    captures.push(("queue_id".into(), id.clone()));
                }
                return Some((rule, captures));
            }
        }
    }
    None
}

/// Every finding, top-level ones in report order with their knock-on errors inside.
pub fn diagnose(lines: &[Line]) -> Vec<Finding> {
    diagnose_with_reports(lines, &[])
}

/// The process a crash line is about: the master names it (`pid {pid}`), a daemon's own
/// `panic:` or `fatal:` line is its.
fn crashed_pid(rule: &Rule, captures: &[(String, String)], line: &Line) -> Option<u32> {
    if rule.category != "crashes" {
        return None;
    }
    match captures.iter().find(|(n, _)| n == "pid") {
        Some((_, pid)) => pid.parse().ok(),
        None => line.pid,
    }
}

/// The process a crash line is about, when `line` is one (a master's warning about a
/// process, a daemon's `panic:` or `fatal:`).
pub fn crashed_process(line: &Line) -> Option<u32> {
    let (rule, captures) = classify(line)?;
    crashed_pid(rule, &captures, line)
}

/// [`diagnose`], with crash reports (pid, file) found outside the log besides those the
/// master named in it. A crash finding about a process that left a report names the
/// report in its cause and remedy, and comes first.
pub fn diagnose_with_reports(lines: &[Line], found_apart: &[(u32, String)]) -> Vec<Finding> {
    let mut reports = crash::named(lines);
    reports.extend(found_apart.iter().cloned());
    let mut found: Vec<Finding> = Vec::new();
    for line in lines {
        let Some((rule, captures)) = classify(line) else {
            continue;
        };
        let cause = pattern::fill(rule.cause, &captures);
        let report = crashed_pid(rule, &captures, line)
            .and_then(|pid| reports.iter().find(|(p, _)| *p == pid))
            .map(|(_, file)| file.clone());
        // One finding per rule and cause: a deferral repeated for every message is one.
        if let Some(f) = found
            .iter_mut()
            .find(|f| f.rule.id == rule.id && f.cause == cause)
        {
            f.count += 1;
            if f.evidence.len() < EVIDENCE {
                f.evidence.push(line.raw.clone());
            }
            continue;
        }
        let mut finding = Finding {
            rule,
            remedy: pattern::fill(rule.remedy, &captures),
            cause,
            evidence: vec![line.raw.clone()],
            count: 1,
            first: line.number,
            knock_on: Vec::new(),
            crash: None,
        };
        if let Some(file) = report {
            // After the dedup above, which compares the cause without the file.
            finding.cause = format!("{}; crash report {file}", finding.cause);
            finding.remedy = format!(
                "send {file} with a problem report (postreport; the crash report is not anonymised: it holds client names and log records); meanwhile: {}",
                finding.remedy
            );
            finding.crash = Some(Crash {
                file,
                quote: Vec::new(),
            });
        }
        found.push(finding);
    }
    found.sort_by_key(|f| (f.crash.is_none(), f.rule.rank, f.first));
    let mut taken = vec![false; found.len()];
    let mut out = Vec::new();
    for i in 0..found.len() {
        if taken[i] {
            continue;
        }
        taken[i] = true;
        let mut top = found[i].clone();
        for j in i + 1..found.len() {
            if !taken[j] && top.rule.explains.contains(&found[j].rule.id) {
                taken[j] = true;
                top.knock_on.push(found[j].clone());
            }
        }
        out.push(top);
    }
    out
}

/// Fills in each crash report's quote with `read(file)`, in the findings and their
/// knock-on errors; a knock-on error that names the same report as its cause is not
/// quoted twice.
pub fn quote_reports(findings: &mut [Finding], read: &dyn Fn(&str) -> Vec<String>) {
    for f in findings {
        let file = f.crash.as_ref().map(|c| c.file.clone());
        if let Some(crash) = &mut f.crash {
            crash.quote = read(&crash.file);
        }
        for k in &mut f.knock_on {
            if let Some(crash) = &mut k.crash
                && Some(&crash.file) != file.as_ref()
            {
                crash.quote = read(&crash.file);
            }
        }
    }
}

/// The report as text: the root cause on the first line, the remedy on the second, then
/// the evidence, the knock-on errors, and the other problems found.
pub fn text(findings: &[Finding]) -> String {
    let Some(root) = findings.first() else {
        return "no problem found\n".into();
    };
    let mut out = format!("root cause: {} [{}]\n", root.cause, root.rule.id);
    out.push_str(&format!("remedy: {}\n", root.remedy));
    quote(&mut out, root, "  ");
    evidence(&mut out, root, "  ");
    knock_on(&mut out, root);
    if findings.len() > 1 {
        out.push_str("\nother problems:\n");
        for f in &findings[1..] {
            out.push_str(&format!("- {} [{}]\n", f.cause, f.rule.id));
            out.push_str(&format!("  remedy: {}\n", f.remedy));
            quote(&mut out, f, "    ");
            evidence(&mut out, f, "    ");
            knock_on(&mut out, f);
        }
    }
    out
}

/// The crash report's key lines, marked `>` apart from the log's `|`.
fn quote(out: &mut String, f: &Finding, indent: &str) {
    if let Some(crash) = &f.crash {
        for line in &crash.quote {
            out.push_str(&format!("{indent}> {line}\n"));
        }
    }
}

fn evidence(out: &mut String, f: &Finding, indent: &str) {
    for line in &f.evidence {
        out.push_str(&format!("{indent}| {line}\n"));
    }
    if f.count > f.evidence.len() {
        out.push_str(&format!(
            "{indent}| ... {} more lines like these\n",
            f.count - f.evidence.len()
        ));
    }
}

fn knock_on(out: &mut String, f: &Finding) {
    if f.knock_on.is_empty() {
        return;
    }
    out.push_str("  knock-on errors:\n");
    for k in &f.knock_on {
        out.push_str(&format!("  - {} [{}]\n", k.cause, k.rule.id));
        evidence(out, k, "      ");
    }
}

fn finding_json(f: &Finding) -> Value {
    let crash = match &f.crash {
        None => Value::Null,
        Some(c) => Value::Obj(vec![
            ("file".into(), Value::s(&c.file)),
            (
                "quote".into(),
                Value::Arr(c.quote.iter().map(Value::s).collect()),
            ),
        ]),
    };
    Value::Obj(vec![
        ("rule".into(), Value::s(f.rule.id)),
        ("category".into(), Value::s(f.rule.category)),
        ("rank".into(), Value::Num(f.rule.rank as i64)),
        ("cause".into(), Value::s(&f.cause)),
        ("remedy".into(), Value::s(&f.remedy)),
        ("count".into(), Value::Num(f.count as i64)),
        (
            "evidence".into(),
            Value::Arr(f.evidence.iter().map(Value::s).collect()),
        ),
        (
            "knock_on".into(),
            Value::Arr(f.knock_on.iter().map(finding_json).collect()),
        ),
        ("crash_report".into(), crash),
    ])
}

/// The report as one JSON object.
pub fn json(findings: &[Finding]) -> String {
    let status = if findings.is_empty() { "ok" } else { "problem" };
    Value::Obj(vec![
        ("status".into(), Value::s(status)),
        (
            "findings".into(),
            Value::Arr(findings.iter().map(finding_json).collect()),
        ),
    ])
    .render()
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logline::Line;

    fn line(n: usize, text: &str) -> Line {
        Line::parse(n, &format!("Dec  6 10:00:{:02} mail {text}", n % 60)).unwrap()
    }

    #[test]
    fn every_example_names_its_rule_as_the_root_cause() {
        let mut wrong = Vec::new();
        for rule in RULES {
            let findings = diagnose(&[line(1, rule.example)]);
            let got = findings.first().map(|f| f.rule.id);
            if got != Some(rule.id) {
                wrong.push(format!("{}: {got:?} for {}", rule.id, rule.example));
                continue;
            }
            let report = text(&findings);
            let mut first = report.lines();
            assert!(first.next().unwrap().starts_with("root cause: "));
            assert!(first.next().unwrap().starts_with("remedy: "));
            if report.contains('{') {
                wrong.push(format!("unfilled capture in {report}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn knock_on_errors_are_grouped_under_the_cause() {
        let lines = [
            line(
                1,
                "postfix/qmgr[5]: 3F2A1C0: to=<u@example.com>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=4.3.0, status=deferred (mail transport unavailable)",
            ),
            line(
                2,
                "postfix/qmgr[5]: warning: connect to transport private/relaay: No such file or directory",
            ),
            line(
                3,
                "postfix/qmgr[5]: 3F2A1C1: to=<v@example.com>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=4.3.0, status=deferred (mail transport unavailable)",
            ),
        ];
        let findings = diagnose(&lines);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule.id, "transport-connect");
        assert_eq!(findings[0].knock_on[0].rule.id, "transport-unavailable");
        assert_eq!(findings[0].knock_on[0].count, 2);
        let report = text(&findings);
        assert!(report.starts_with(
            "root cause: qmgr cannot reach the delivery transport relaay (No such file or directory)"
        ));
        assert!(json(&findings).starts_with("{\"status\":\"problem\""));
    }

    #[test]
    fn a_crash_with_a_report_comes_first_and_quotes_it() {
        let lines = [
            line(
                1,
                "postfix/smtpd[7]: fatal: bad boolean configuration: smtpd_use_tls = maybe",
            ),
            line(2, "postfix/smtpd[9]: panic: test panic"),
            line(
                3,
                "postfix/master[1]: warning: process /x/smtpd pid 9 killed by signal 6",
            ),
            line(
                4,
                "postfix/master[1]: warning: crash report for process /x/smtpd pid 9: /d/crash/smtp.9.20261206T100002Z",
            ),
        ];
        let mut findings = diagnose(&lines);
        assert_eq!(findings[0].rule.id, "panic");
        assert_eq!(findings[0].knock_on[0].rule.id, "killed-by-signal");
        quote_reports(&mut findings, &|file| vec![format!("reason: in {file}")]);
        let report = text(&findings);
        let mut first = report.lines();
        assert_eq!(
            first.next().unwrap(),
            "root cause: postfix/smtpd hit an internal error: test panic; crash report /d/crash/smtp.9.20261206T100002Z [panic]"
        );
        assert!(first.next().unwrap().starts_with(
            "remedy: send /d/crash/smtp.9.20261206T100002Z with a problem report (postreport"
        ));
        assert_eq!(
            first.next().unwrap(),
            "  > reason: in /d/crash/smtp.9.20261206T100002Z"
        );
        // The knock-on error names the same report: not quoted again.
        assert_eq!(report.matches("> reason").count(), 1, "{report}");
        assert!(json(&findings).contains(
            "\"crash_report\":{\"file\":\"/d/crash/smtp.9.20261206T100002Z\",\"quote\":[\"reason: in /d/crash/smtp.9.20261206T100002Z\"]}"
        ));
        // Without the master's line, no report: the fatal line, earlier, is the cause.
        assert_eq!(diagnose(&lines[..3])[0].rule.id, "bad-boolean");
        // A report found apart from the log counts as well.
        let apart = diagnose_with_reports(&lines[..3], &[(9, "/d/f".into())]);
        assert!(apart[0].cause.ends_with("; crash report /d/f"));
    }

    #[test]
    fn healthy_log_has_no_finding() {
        let lines = [
            line(
                1,
                "postfix/master[1]: daemon started -- version 3.7.11, configuration /etc/postfix",
            ),
            line(2, "postfix/smtpd[2]: connect from localhost[127.0.0.1]"),
            line(3, "postfix/qmgr[3]: 3F2A1C0: removed"),
        ];
        assert!(diagnose(&lines).is_empty());
        assert_eq!(text(&[]), "no problem found\n");
    }
}
