//! Long lines wrapped at word boundaries, for text that goes into mail notices.
//!
//! Postfix counterpart: `util/line_wrap.c`. The bounce service wraps a recipient's
//! reason this way, and smtpd and smtp the lines of a session transcript they mail to
//! the postmaster: a line is broken before the word that would take it past the length,
//! the lines after the first are indented, and a word longer than a line stays whole.

/// Postfix's `line_wrap`: `text` in lines of at most `length` columns where the words
/// allow, continuation lines indented by `indent`; trailing blanks dropped.
pub fn line_wrap(text: &str, length: usize, indent: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let is_space = |b: u8| b" \t\n\r\x0b\x0c".contains(&b);
    let trimmed = |s: &[u8]| {
        let mut end = s.len();
        while end > 0 && is_space(s[end - 1]) {
            end -= 1;
        }
        String::from_utf8_lossy(&s[..end]).into_owned()
    };
    let mut lines = Vec::new();
    let mut curr_indent = 0;
    let mut curr_len = length;
    let mut start = 0;
    let mut word = Some(0);
    while let Some(w) = word {
        let next_space = bytes[w..]
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .map_or(bytes.len(), |p| w + p);
        let next_word = if next_space < bytes.len() {
            Some(next_space + 1)
        } else {
            None
        };
        if w > start && next_space - start > curr_len {
            lines.push(format!(
                "{}{}",
                " ".repeat(curr_indent),
                trimmed(&bytes[start..w])
            ));
            let mut w2 = w;
            while w2 < bytes.len() && is_space(bytes[w2]) {
                w2 += 1;
            }
            if start == 0 {
                curr_indent += indent;
                curr_len = curr_len.saturating_sub(indent);
            }
            start = w2;
        }
        word = next_word;
    }
    lines.push(format!(
        "{}{}",
        " ".repeat(curr_indent),
        trimmed(&bytes[start..])
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::line_wrap;

    #[test]
    fn short_lines_stay_whole() {
        assert_eq!(line_wrap("<a@b>: sent", 79, 4), vec!["<a@b>: sent"]);
    }

    #[test]
    fn long_lines_wrap_with_indent() {
        let text = "<nobody@vmail.e2e.test>: host mail.example.com[192.0.2.1] said: 550 5.1.1 <nobody@vmail.e2e.test>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)";
        let lines = line_wrap(text, 79, 4);
        assert_eq!(
            lines,
            vec![
                "<nobody@vmail.e2e.test>: host mail.example.com[192.0.2.1] said: 550 5.1.1",
                "    <nobody@vmail.e2e.test>: Recipient address rejected: User unknown in",
                "    virtual mailbox table (in reply to RCPT TO command)",
            ]
        );
        for line in &lines {
            assert!(line.len() <= 79);
        }
    }

    #[test]
    fn a_word_longer_than_the_line_stays_whole() {
        let long = "x".repeat(100);
        let lines = line_wrap(&format!("a {long} b"), 79, 4);
        assert_eq!(
            lines,
            vec!["a".to_string(), format!("    {long}"), "    b".into()]
        );
    }
}
