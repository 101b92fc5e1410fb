//! The SASL mechanisms a string list keeps (smtp_sasl_mechanism_filter,
//! lmtp_sasl_mechanism_filter): each word of a space-separated mechanism list that
//! matches the list (`!` excludes, `type:table` is looked up, case is folded).
//!
//! Postfix counterpart: `global/sasl_mech_filter.c`.

use crate::match_list::MatchList;

/// The words of `words` that `filter` keeps, in their order, joined by a space; all
/// of them without a filter. A failing table is fatal, as in Postfix.
pub fn sasl_mech_filter(filter: Option<&MatchList>, words: &str) -> String {
    let Some(filter) = filter.filter(|_| !words.is_empty()) else {
        return words.to_string();
    };
    let mut kept: Vec<&str> = Vec::new();
    for mech in words.split([' ', '\t']).filter(|m| !m.is_empty()) {
        match filter.matches(&[mech]) {
            Ok(true) => {
                kept.push(mech);
                if log::verbose() > 0 {
                    log::msg_info!("sasl_mech_filter: keep SASL mechanism: '{mech}'");
                }
            }
            Ok(false) => {
                if log::verbose() > 0 {
                    log::msg_info!("sasl_mech_filter: drop SASL mechanism: '{mech}'");
                }
            }
            Err(_) => {
                log::msg_fatal!("sasl_mech_filter: SASL mechanism filter failed for: '{mech}'")
            }
        }
    }
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::match_list::{ListFlags, Matcher};

    fn list(text: &str) -> MatchList {
        MatchList::new(
            "smtp_sasl_mechanism_filter",
            ListFlags::default(),
            text,
            &[Matcher::String],
        )
    }

    #[test]
    fn filters() {
        assert_eq!(sasl_mech_filter(None, "LOGIN PLAIN"), "LOGIN PLAIN");
        assert_eq!(
            sasl_mech_filter(Some(&list("plain, cram-md5")), "LOGIN PLAIN CRAM-MD5"),
            "PLAIN CRAM-MD5"
        );
        assert_eq!(
            sasl_mech_filter(Some(&list("!login, static:all")), "LOGIN PLAIN CRAM-MD5"),
            "PLAIN CRAM-MD5"
        );
        assert_eq!(sasl_mech_filter(Some(&list("plain")), "LOGIN"), "");
    }
}
