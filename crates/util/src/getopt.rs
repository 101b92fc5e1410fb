//! Command-line options the way Postfix's programs read them.
//!
//! Postfix counterpart: its `GETOPT()` macro, which is the C library's `getopt(3)` with a
//! leading `+` on Linux: options are single letters that may be clustered (`-nf`), an option
//! that takes a value takes the rest of its word or the next word (`-c dir`, `-cdir`), `--`
//! ends the options, and so does the first operand (no argument permutation). Errors are
//! reported in glibc's words, which is what Postfix users see.

/// One parsed option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    /// The option letter.
    pub letter: char,
    /// Its value, for letters followed by `:` in the spec.
    pub value: Option<String>,
}

/// Parses `args` (without the program name) against a getopt spec such as `"c:nv"`.
/// Returns the options in order and the operands, or glibc's error text.
pub fn parse(
    program: &str,
    spec: &str,
    args: &[String],
) -> Result<(Vec<Opt>, Vec<String>), String> {
    let mut opts = Vec::new();
    let mut index = 0;
    while index < args.len() {
        let word = &args[index];
        if word == "--" {
            index += 1;
            break;
        }
        if !word.starts_with('-') || word == "-" {
            break;
        }
        for (at, letter) in word[1..].char_indices() {
            let Some(pos) = spec.find(letter).filter(|_| letter != ':') else {
                return Err(format!("{program}: invalid option -- '{letter}'"));
            };
            if !spec[pos + letter.len_utf8()..].starts_with(':') {
                opts.push(Opt {
                    letter,
                    value: None,
                });
                continue;
            }
            let rest = &word[1 + at + letter.len_utf8()..];
            let value = if !rest.is_empty() {
                rest.to_string()
            } else {
                index += 1;
                args.get(index).cloned().ok_or_else(|| {
                    format!("{program}: option requires an argument -- '{letter}'")
                })?
            };
            opts.push(Opt {
                letter,
                value: Some(value),
            });
            break;
        }
        index += 1;
    }
    Ok((opts, args[index.min(args.len())..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn clusters_values_and_operands() {
        let (opts, rest) = parse("p", "c:nfo:", &words("-nf -c /x -ofoo=1 name -n")).unwrap();
        let letters: Vec<char> = opts.iter().map(|o| o.letter).collect();
        assert_eq!(letters, ['n', 'f', 'c', 'o']);
        assert_eq!(opts[2].value.as_deref(), Some("/x"));
        assert_eq!(opts[3].value.as_deref(), Some("foo=1"));
        assert_eq!(rest, ["name", "-n"]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse("postconf", "n", &words("-z")).unwrap_err(),
            "postconf: invalid option -- 'z'"
        );
        assert_eq!(
            parse("postconf", "c:", &words("-c")).unwrap_err(),
            "postconf: option requires an argument -- 'c'"
        );
    }
}
