//! Per-command counts for the `disconnect from` line (`ehlo=1 mail=1 rcpt=0/1 ...
//! commands=3/4`).
//!
//! Postfix counterpart: the `success_count`/`total_count` fields of `smtpd_cmd_table` and
//! `smtpd_format_cmd_stats()` in `smtpd/smtpd.c`. Commands are listed in the table's
//! order, then `unknown`; a count shows `ok/total` only when some failed, and commands
//! never sent are left out.

use smtp_proto::Verb;

/// The command table order (Postfix's `smtpd_cmd_table`).
pub const ORDER: [Verb; 15] = [
    Verb::Helo,
    Verb::Ehlo,
    Verb::Xclient,
    Verb::Xforward,
    Verb::Starttls,
    Verb::Auth,
    Verb::Mail,
    Verb::Rcpt,
    Verb::Data,
    Verb::Bdat,
    Verb::Rset,
    Verb::Noop,
    Verb::Vrfy,
    Verb::Etrn,
    Verb::Quit,
];

/// Successes and attempts of one command.
#[derive(Debug, Clone, Copy, Default)]
struct Count {
    ok: u32,
    total: u32,
}

/// The counts of one session.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    counts: [Count; ORDER.len()],
    unknown: Count,
}

impl Stats {
    fn slot(&mut self, verb: Option<Verb>) -> &mut Count {
        match verb.and_then(|v| ORDER.iter().position(|&o| o == v)) {
            Some(i) => &mut self.counts[i],
            None => &mut self.unknown,
        }
    }

    /// Counts an attempt of `verb` (None: an unknown command), before it runs: a
    /// command the client cuts short counts as failed, as in Postfix.
    pub fn attempt(&mut self, verb: Option<Verb>) {
        self.slot(verb).total += 1;
    }

    /// Counts the success of the attempt of `verb`.
    pub fn success(&mut self, verb: Option<Verb>) {
        self.slot(verb).ok += 1;
    }

    /// Counts one finished command.
    pub fn count(&mut self, verb: Option<Verb>, ok: bool) {
        self.attempt(verb);
        if ok {
            self.success(verb);
        }
    }

    /// The text after `disconnect from name[addr]`, with its leading space.
    pub fn format(&self) -> String {
        let mut out = String::new();
        let mut all = Count::default();
        let names = ORDER.iter().map(|v| v.name()).chain(["unknown"]);
        let counts = self.counts.iter().chain([&self.unknown]);
        for (name, count) in names.zip(counts) {
            if count.total == 0 {
                continue;
            }
            out.push_str(&format!(" {}={}", name.to_ascii_lowercase(), show(count)));
            all.ok += count.ok;
            all.total += count.total;
        }
        out.push_str(&format!(" commands={}", show(&all)));
        out
    }
}

/// `N`, or `ok/total` when some failed; `0/0` for a silent session, as Postfix writes it.
fn show(count: &Count) -> String {
    if count.ok == count.total && count.total > 0 {
        count.total.to_string()
    } else {
        format!("{}/{}", count.ok, count.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_postfix() {
        assert_eq!(Stats::default().format(), " commands=0/0");
        let mut stats = Stats::default();
        stats.count(Some(Verb::Ehlo), true);
        stats.count(None, false);
        stats.count(Some(Verb::Rcpt), false);
        stats.count(Some(Verb::Rcpt), true);
        assert_eq!(stats.format(), " ehlo=1 rcpt=1/2 unknown=0/1 commands=2/4");
    }
}
