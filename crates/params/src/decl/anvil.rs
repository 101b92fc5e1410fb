//! The anvil connection and rate counter.
//!
//! Postfix counterpart: global/mail_params.h (anvil_*), anvil/anvil.c tables.

crate::params! {
    /// The length of the window over which anvil counts connections, messages, recipients,
    /// new TLS sessions and AUTH requests per client; the smtpd_client_*_rate_limit settings
    /// are per this unit. A time value with a unit letter (default seconds). Added in
    /// Postfix 2.2.
    "anvil_rate_time_unit" ANVIL_RATE_TIME_UNIT: Time(b's') = "60s", min 1;
    /// How often anvil logs its peak connection counts and rates ("statistics: max ..."),
    /// and resets them. Also logged when anvil exits. A time value with a unit letter
    /// (default seconds). Added in Postfix 2.2.
    "anvil_status_update_time" ANVIL_STATUS_UPDATE_TIME: Time(b's') = "600s", min 1;
}
