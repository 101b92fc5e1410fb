//! Reply filters: tables that see each record of a successful lookup in text form and may
//! drop it (`smtp_dns_reply_filter`, `smtpd_dns_reply_filter`, `lmtp_dns_reply_filter`).
//!
//! Postfix counterpart: `dns/dns_rr_filter.c`. The table is the caller's (this crate knows
//! no tables): it is searched with the record's [`Rr`] text, `name. ttl IN type data`; the
//! only action is `IGNORE` (logged as `ignoring DNS RR: ...`); any other result, or a table
//! that fails, makes the whole lookup a temporary error.

use crate::rr::Rr;

/// A table lookup failed; the table has already said why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableError;

/// A reply filter table, as the daemon configured it.
pub trait ReplyFilter {
    /// The parameter that names the table, for warnings (Postfix's maps title).
    fn title(&self) -> &str;

    /// The table's result for `record` (a record's text form), `None` when it has none.
    fn find(&self, record: &str) -> Result<Option<String>, TableError>;
}

/// `dns_rr_filter_execute()`: removes the records the filter ignores. An error means the
/// filter failed (unknown action or table error) and the lookup must be retried later.
pub(crate) fn execute(filter: &dyn ReplyFilter, list: &mut Vec<Rr>) -> Result<(), TableError> {
    let mut kept = Vec::with_capacity(list.len());
    for rr in list.drain(..) {
        let text = rr.to_string();
        let Some(action) = filter.find(&text)? else {
            kept.push(rr);
            continue;
        };
        let command = action.split([' ', '\t']).next().unwrap_or_default();
        if command.eq_ignore_ascii_case("IGNORE") {
            log::msg_info!("ignoring DNS RR: {text}");
        } else {
            log::msg_warn!(
                "{}: unknown DNS filter action: \"{action}\"",
                filter.title()
            );
            return Err(TableError);
        }
    }
    *list = kept;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rr::RrData;
    use std::net::Ipv4Addr;

    struct Table(&'static str);

    impl ReplyFilter for Table {
        fn title(&self) -> &str {
            "smtp_dns_reply_filter"
        }
        fn find(&self, record: &str) -> Result<Option<String>, TableError> {
            match self.0 {
                "fail" => Err(TableError),
                action if record.ends_with("192.0.2.1") => Ok(Some(action.to_string())),
                _ => Ok(None),
            }
        }
    }

    fn list() -> Vec<Rr> {
        [1, 2]
            .map(|n| Rr::from_addr("example.com", 0, Ipv4Addr::new(192, 0, 2, n).into()))
            .to_vec()
    }

    #[test]
    fn ignore_drops_others_fail() {
        let mut records = list();
        assert_eq!(execute(&Table("ignore some text"), &mut records), Ok(()));
        assert_eq!(records.len(), 1);
        let mut records = list();
        assert_eq!(execute(&Table("DROP"), &mut records), Err(TableError));
        assert_eq!(execute(&Table("fail"), &mut list()), Err(TableError));
        let mut records = vec![Rr {
            data: RrData::Txt("x".into()),
            ..list()[0].clone()
        }];
        assert_eq!(execute(&Table("IGNORE"), &mut records), Ok(()));
        assert_eq!(records.len(), 1);
    }
}
