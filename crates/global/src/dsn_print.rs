//! A delivery status (Postfix's `DSN`) and its attributes on the wire.
//!
//! Postfix counterparts: `global/dsn.h` and `global/dsn_print.c`. A status is what a
//! delivery agent tells the bounce, defer, trace and verify services about a recipient,
//! and what it answers the queue manager about a whole site: the RFC 3463 code, the
//! remote diagnostic (type and text) and remote MTA (type and name) when a remote server
//! said something, the RFC 3464 action, and the text that goes into the log line. The
//! order of the attributes is Postfix's, fixed by what its servers expect.

use ipc::Attrs;
use util::eight_bit::to_bytes;

/// One delivery status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    /// `5.1.1` and the like.
    pub status: String,
    /// The remote diagnostic's type (`smtp`), empty when there is none.
    pub dtype: String,
    /// The remote diagnostic (the server's reply), empty when there is none.
    pub dtext: String,
    /// The remote MTA's name type (`dns`), empty when there is none.
    pub mtype: String,
    /// The remote MTA's name, empty when there is none.
    pub mname: String,
    /// `failed`, `delayed`, `delivered`, `expanded`, `relayed`, `deliverable`...; empty
    /// lets the status client fill in its default.
    pub action: String,
    /// The text for the log line and the notice.
    pub reason: String,
}

impl Dsn {
    /// A status without remote diagnostics and without an action (Postfix's
    /// `DSN_SIMPLE`): the status clients supply the action.
    pub fn simple(status: &str, reason: &str) -> Dsn {
        Dsn {
            status: status.to_string(),
            reason: reason.to_string(),
            ..Dsn::default()
        }
    }
}

impl From<&crate::pipe_command::Why> for Dsn {
    /// The status of a local delivery that did not succeed (Postfix's
    /// `DSN_FROM_DSN_BUF` after `dsb_simple` or `dsb_unix`): a diagnostic text is a
    /// UNIX one (`x-unix`), as from a command or a failed write.
    fn from(why: &crate::pipe_command::Why) -> Dsn {
        Dsn {
            dtype: if why.dtext.is_empty() {
                String::new()
            } else {
                "x-unix".to_string()
            },
            dtext: why.dtext.clone(),
            ..Dsn::simple(&why.status, &why.reason)
        }
    }
}

/// `attrs` followed by the status's attributes (`dsn_print`). Text that came in with
/// 8-bit bytes goes out with the same bytes.
pub fn dsn_print(attrs: Attrs, dsn: &Dsn) -> Attrs {
    attrs
        .bytes("status", &to_bytes(&dsn.status))
        .bytes("diag_type", &to_bytes(&dsn.dtype))
        .bytes("diag_text", &to_bytes(&dsn.dtext))
        .bytes("mta_type", &to_bytes(&dsn.mtype))
        .bytes("mta_mname", &to_bytes(&dsn.mname))
        .bytes("action", &to_bytes(&dsn.action))
        .bytes(ipc::mail_attr::WHY, &to_bytes(&dsn.reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_in_postfix_order() {
        let dsn = Dsn {
            action: "failed".into(),
            ..Dsn::simple("5.1.1", "unknown user: \"x\"")
        };
        let attrs = dsn_print(Attrs::new().int("nrequest", 0), &dsn);
        let names: Vec<&[u8]> = attrs.names().collect();
        let expected: [&[u8]; 8] = [
            b"nrequest",
            b"status",
            b"diag_type",
            b"diag_text",
            b"mta_type",
            b"mta_mname",
            b"action",
            b"reason",
        ];
        assert_eq!(names, expected);
        assert_eq!(attrs.get_str("reason"), Ok("unknown user: \"x\""));
        assert_eq!(attrs.get_str("action"), Ok("failed"));
    }
}
