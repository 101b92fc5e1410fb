//! The triage engine: match log lines against the rule base, pick the root cause, group
//! the knock-on errors under it, and print the report as text or JSON.
//!
//! Postfix counterpart: none (DEBUG_README, "Look for obvious signs of trouble": the
//! first problem in the log is usually the cause, the later ones its consequences). Here
//! the weight of a failure comes first (a daemon that cannot start outweighs the
//! deferrals it causes), then its first appearance.

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
    let mut found: Vec<Finding> = Vec::new();
    for line in lines {
        let Some((rule, captures)) = classify(line) else {
            continue;
        };
        let cause = pattern::fill(rule.cause, &captures);
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
        found.push(Finding {
            rule,
            remedy: pattern::fill(rule.remedy, &captures),
            cause,
            evidence: vec![line.raw.clone()],
            count: 1,
            first: line.number,
            knock_on: Vec::new(),
        });
    }
    found.sort_by_key(|f| (f.rule.rank, f.first));
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

/// The report as text: the root cause on the first line, the remedy on the second, then
/// the evidence, the knock-on errors, and the other problems found.
pub fn text(findings: &[Finding]) -> String {
    let Some(root) = findings.first() else {
        return "no problem found\n".into();
    };
    let mut out = format!("root cause: {} [{}]\n", root.cause, root.rule.id);
    out.push_str(&format!("remedy: {}\n", root.remedy));
    evidence(&mut out, root, "  ");
    knock_on(&mut out, root);
    if findings.len() > 1 {
        out.push_str("\nother problems:\n");
        for f in &findings[1..] {
            out.push_str(&format!("- {} [{}]\n", f.cause, f.rule.id));
            out.push_str(&format!("  remedy: {}\n", f.remedy));
            evidence(&mut out, f, "    ");
            knock_on(&mut out, f);
        }
    }
    out
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
