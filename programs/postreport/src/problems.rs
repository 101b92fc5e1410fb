//! The first problems in a log: the Howto's `grep -E '(warning|error|fatal|panic):'`, with
//! context lines around each match as `grep -n -B N -A N` shows them.
//!
//! Postfix counterpart: none (DEBUG_README, "Look for obvious signs of trouble"). Only the
//! first matches are kept because, as the Howto says, the most important message is near
//! the beginning; the later ones are usually consequences.

/// The severities the Howto greps for.
const SEVERITIES: [&str; 4] = ["warning:", "error:", "fatal:", "panic:"];

/// Whether a log line reports a problem.
pub fn is_problem(line: &str) -> bool {
    SEVERITIES.iter().any(|s| line.contains(s))
}

/// The first `limit` problem lines of `lines` with `context` lines before and after each,
/// formatted as `grep -n -m limit -C context` does: `N:line` for one of the first `limit`
/// matches, `N-line` for context (a later match in the trailing context included), and `--`
/// between groups that do not touch. Returns the text and the number of problem lines in
/// the whole log.
pub fn first_problems(lines: &[String], limit: usize, context: usize) -> (String, usize) {
    let matches: Vec<usize> = (0..lines.len())
        .filter(|&i| is_problem(&lines[i]))
        .collect();
    let mut out = String::new();
    let shown = &matches[..matches.len().min(limit)];
    let mut shown_to: Option<usize> = None;
    for &at in shown {
        let from = at.saturating_sub(context);
        let to = (at + context).min(lines.len().saturating_sub(1));
        let from = match shown_to {
            Some(end) if from <= end + 1 => end + 1,
            Some(_) => {
                out.push_str("--\n");
                from
            }
            None => from,
        };
        for (i, line) in lines.iter().enumerate().take(to + 1).skip(from) {
            let mark = if shown.contains(&i) { ':' } else { '-' };
            out.push_str(&format!("{}{mark}{line}\n", i + 1));
        }
        shown_to = Some(shown_to.map_or(to, |end| end.max(to)));
    }
    (out, matches.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn grep_context_format() {
        let log = lines("a\nb\nc warning: one\nd\ne\nf\ng\nh fatal: two\ni\n");
        let (text, count) = first_problems(&log, 10, 1);
        assert_eq!(count, 2);
        assert_eq!(
            text,
            "2-b\n3:c warning: one\n4-d\n--\n7-g\n8:h fatal: two\n9-i\n"
        );
    }

    #[test]
    fn overlapping_groups_join_and_the_limit_holds() {
        let log = lines("a\nb error: 1\nc\nd panic: 2\ne\nf warning: 3\n");
        let (text, count) = first_problems(&log, 2, 1);
        assert_eq!(count, 3);
        assert_eq!(text, "1-a\n2:b error: 1\n3-c\n4:d panic: 2\n5-e\n");
        // A match past the limit in the trailing context is context, as grep -m shows it.
        let (text, _) = first_problems(&log, 1, 2);
        assert_eq!(text, "1-a\n2:b error: 1\n3-c\n4-d panic: 2\n");
    }

    #[test]
    fn only_the_howto_severities() {
        assert!(!is_problem("postfix/smtpd[1]: connect from x"));
        assert!(!is_problem("warning without colon"));
        assert!(is_problem("postfix/smtpd[1]: error: open database"));
    }
}
