//! Mail-agnostic building blocks shared by every ironpost program.
//!
//! Postfix counterpart: `src/util`. Nothing here knows about mail, parameters or logging;
//! functions return `Result` and leave reporting to the caller.

pub mod conv;
pub mod eight_bit;
pub mod getopt;
pub mod line_wrap;
pub mod mac_expand;
pub mod name_mask;
pub mod name_value;
pub mod printable;
pub mod readlline;
pub mod tokens;
pub mod unescape;
pub mod valid_hostname;
