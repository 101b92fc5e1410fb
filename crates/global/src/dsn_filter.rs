//! Delivery status filters: a table that replaces the status code and text of a
//! delivery agent's result before it is logged and reported (`*_delivery_status_filter`).
//!
//! Postfix counterpart: `global/dsn_filter.c` (Postfix 3.0). The key is `X.Y.Z text`;
//! the result is a new `X.Y.Z text`. A success stays a success and a failure stays a
//! failure (4.x.x may become 5.x.x and back, which turns a deferral into a bounce); a
//! result that would cross that line is ignored with a warning. A failure's action
//! follows the new class (`delayed`, `failed`); remote diagnostics stay as they were.

use crate::dsn_print::Dsn;
use crate::dsn_util::{dsn_split, dsn_valid};
use crate::maps::Maps;

/// A filter table.
pub struct DsnFilter {
    maps: Maps,
}

impl DsnFilter {
    /// Opens the tables `map_names` of parameter `title` (`dsn_filter_create`).
    pub fn create(title: &str, map_names: &str) -> Result<DsnFilter, dict::DictError> {
        if log::verbose() > 0 {
            log::msg_info!("dsn_filter_create: {title} {map_names}");
        }
        Ok(DsnFilter {
            maps: Maps::new(title, map_names, dict::Flags::default())?,
        })
    }

    /// The replacement for `dsn`, if the table has one (`dsn_filter_lookup`). `dsn` must
    /// have a valid success or failure status code.
    pub fn lookup(&self, dsn: &Dsn) -> Option<Dsn> {
        if log::verbose() > 0 {
            log::msg_info!("dsn_filter_lookup: {} {}", dsn.status, dsn.reason);
        }
        let success = |s: &str| dsn_valid(s) > 0 && s.starts_with('2');
        let failure = |s: &str| dsn_valid(s) > 0 && (s.starts_with('4') || s.starts_with('5'));
        let ndr = if success(&dsn.status) {
            false
        } else if failure(&dsn.status) {
            true
        } else {
            log::msg_panic!(
                "dsn_filter_lookup: dsn argument with bad status code: {}",
                dsn.status
            );
        };
        // A table that fails is no answer, as in Postfix.
        let key = format!("{} {}", dsn.status, dsn.reason);
        let result = self.maps.find(&key, false).ok().flatten()?;
        if (!ndr && !success(&result)) || (ndr && !failure(&result)) {
            log::msg_warn!("{}: bad status code: {result}", self.maps.title());
            return None;
        }
        let (status, text) = dsn_split("can't happen", &result);
        let action = match result.as_bytes()[0] {
            b'4' => "delayed".to_string(),
            b'5' => "failed".to_string(),
            _ => dsn.action.clone(),
        };
        Some(Dsn {
            status: status.to_string(),
            action,
            reason: text.to_string(),
            ..dsn.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_replaced_within_their_kind() {
        let dir = crate::scratch_dir("dsn-filter");
        let table = dir.join("filter");
        std::fs::write(
            &table,
            "/^5\\.1\\.1 (.*)/ 4.7.1 later: $1\n\
             /^4\\.4\\.1 / 2.0.0 fine\n\
             /^2\\.0\\.0 delivered (.*)/ 2.1.5 handed $1\n",
        )
        .unwrap();
        let filter = DsnFilter::create(
            "virtual_delivery_status_filter",
            &format!("regexp:{}", table.display()),
        )
        .unwrap();
        let bounced = Dsn {
            action: "failed".into(),
            dtype: "smtp".into(),
            ..Dsn::simple("5.1.1", "no such user")
        };
        let later = filter.lookup(&bounced).unwrap();
        assert_eq!(
            (
                later.status.as_str(),
                later.action.as_str(),
                later.reason.as_str()
            ),
            ("4.7.1", "delayed", "later: no such user")
        );
        assert_eq!(later.dtype, "smtp");
        // A failure cannot become a success.
        assert_eq!(filter.lookup(&Dsn::simple("4.4.1", "refused")), None);
        let sent = filter
            .lookup(&Dsn::simple("2.0.0", "delivered to maildir"))
            .unwrap();
        assert_eq!(
            (sent.status.as_str(), sent.reason.as_str()),
            ("2.1.5", "handed to maildir")
        );
        assert_eq!(filter.lookup(&Dsn::simple("2.0.0", "other")), None);
    }
}
