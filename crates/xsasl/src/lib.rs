//! SASL for smtpd with `smtpd_sasl_type = dovecot`: a client of Dovecot's auth protocol
//! and the per-session interface smtpd drives, as Postfix's `xsasl/` library
//! (`xsasl_dovecot_server.c` behind `xsasl_server.c`'s interface).
//!
//! ```text
//! let mut dovecot = Dovecot::new(Endpoint::new("private/auth", Some(queue_dir)));  // per process
//! let mut session = Session::new(&SessionArgs { .. })?;       // per SMTP session (and after STARTTLS)
//! let mechs = session.mechanisms(&mut dovecot);               // for EHLO's AUTH keyword
//! match session.first(&mut dovecot, "PLAIN", Some(resp)) {    // AUTH PLAIN resp
//!     Step::Continue(challenge) => /* 334, then session.next(&mut dovecot, line) */,
//!     Step::Done(user) => /* 235 */,
//!     Step::Fail { reason, temporary } => /* warning, then 535 or 454 */,
//! }
//! ```
//!
//! Modules: [`line`](mod@line) (bounded line reader), [`proto`] (the protocol's lines),
//! [`secprops`] (security options and mechanism filtering), [`conn`] (the socket),
//! [`client`] (the process's connection and handshake), [`session`] (one session's
//! exchange), [`text`] (Postfix's replies and log lines).

pub mod client;
pub mod conn;
pub mod line;
pub mod proto;
pub mod secprops;
pub mod session;
pub mod text;

pub use client::{Dovecot, Mechanism};
pub use conn::Endpoint;
pub use proto::Tls;
pub use session::{Session, SessionArgs, Step};
