//! The bounce service's own parameters (the notice recipients, notify_classes and
//! bounce_size_limit are shared with other daemons and live in queue.rs).
//!
//! Postfix counterpart: global/mail_params.h (bounce), bounce/bounce.c tables.

crate::params! {
    /// Pathname of a file with templates for the non-delivery, delay, success and verify
    /// notices the bounce service sends (see bounce(5)); `postconf -b` shows them
    /// expanded. The file is read once, before the chroot. The default is empty: Postfix's
    /// built-in templates. Added in Postfix 2.3.
    "bounce_template_file" BOUNCE_TEMPLATE_FILE: Str = "";
    /// Whether non-delivery, delay and success notices refer to the original Message-ID
    /// with References: and In-Reply-To: headers, so that mail readers thread them with
    /// the message. Value is yes or no; the default is no. Added in Postfix 3.6.
    "enable_threaded_bounces" ENABLE_THREADED_BOUNCES: Bool = "no";
    /// Whether the per-message bounce, defer and trace logs also get each entry in the
    /// old `<recipient>: text` format that Postfix before 2.3 reads. Value is yes or no;
    /// the default is yes. Added in Postfix 2.3.
    "backwards_bounce_logfile_compatibility" BACKWARDS_BOUNCE_LOGFILE_COMPATIBILITY: Bool = "yes";
    /// Which kinds of mail made by Postfix itself go through the content inspection of
    /// header_checks, body_checks and milters: notify (postmaster notices), bounce
    /// (non-delivery and delay notices) or both. The default is empty: none. Added in
    /// Postfix 2.3.
    "internal_mail_filter_classes" INTERNAL_MAIL_FILTER_CLASSES: Str = "";
}
