//! The parameter declarations, one module per area, like the sections of Postfix's
//! `mail_params.h`.

pub mod address;
pub mod anvil;
pub mod bounce;
pub mod cleanup;
pub mod debug;
pub mod delivery;
pub mod identity;
pub mod install;
pub mod local;
pub mod logging;
pub mod process;
pub mod proxymap;
pub mod qmgr;
pub mod queue;
pub mod queue_tools;
pub mod resolve;
pub mod sasl;
pub mod sendmail;
pub mod smtp;
pub mod smtp_cache;
pub mod smtp_tls;
pub mod smtpd;
pub mod submission;
pub mod tls;
pub mod tlsmgr;
pub mod transcript;
pub mod verify;

/// Every declared parameter.
pub fn all() -> impl Iterator<Item = &'static crate::def::Param> {
    [
        install::ALL,
        anvil::ALL,
        identity::ALL,
        address::ALL,
        smtpd::ALL,
        smtp::ALL,
        smtp_cache::ALL,
        smtp_tls::ALL,
        tls::ALL,
        tlsmgr::ALL,
        sasl::ALL,
        submission::ALL,
        cleanup::ALL,
        queue::ALL,
        queue_tools::ALL,
        qmgr::ALL,
        local::ALL,
        bounce::ALL,
        delivery::ALL,
        resolve::ALL,
        sendmail::ALL,
        process::ALL,
        proxymap::ALL,
        logging::ALL,
        debug::ALL,
        verify::ALL,
        transcript::ALL,
    ]
    .into_iter()
    .flatten()
    .copied()
}
