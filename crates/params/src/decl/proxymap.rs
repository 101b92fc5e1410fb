//! The proxymap and proxywrite table servers.
//!
//! Postfix counterpart: global/mail_params.h (proxy_*), proxymap/proxymap.c tables.

crate::params! {
    /// The tables the proxymap server may open for read-only access on behalf of its
    /// clients: only `proxy:type:name` entries found in these parameter values are
    /// approved, so a client cannot make proxymap open an arbitrary file. Added in Postfix
    /// 2.0.
    "proxy_read_maps" PROXY_READ_MAPS: Str = "$local_recipient_maps $mydestination $virtual_alias_maps $virtual_alias_domains $virtual_mailbox_maps $virtual_mailbox_domains $relay_recipient_maps $relay_domains $canonical_maps $sender_canonical_maps $recipient_canonical_maps $relocated_maps $transport_maps $mynetworks $smtpd_sender_login_maps $sender_bcc_maps $recipient_bcc_maps $smtp_generic_maps $lmtp_generic_maps $alias_maps $smtpd_client_restrictions $smtpd_helo_restrictions $smtpd_sender_restrictions $smtpd_relay_restrictions $smtpd_recipient_restrictions $address_verify_sender_dependent_default_transport_maps $address_verify_sender_dependent_relayhost_maps $address_verify_transport_maps $fallback_transport_maps $lmtp_discard_lhlo_keyword_address_maps $lmtp_pix_workaround_maps $lmtp_sasl_password_maps $lmtp_tls_policy_maps $mailbox_command_maps $mailbox_transport_maps $postscreen_discard_ehlo_keyword_address_maps $rbl_reply_maps $sender_dependent_default_transport_maps $sender_dependent_relayhost_maps $smtp_discard_ehlo_keyword_address_maps $smtp_pix_workaround_maps $smtp_sasl_password_maps $smtp_tls_policy_maps $smtpd_discard_ehlo_keyword_address_maps $smtpd_milter_maps $virtual_gid_maps $virtual_uid_maps $local_login_sender_maps $postscreen_reject_footer_maps $smtpd_reject_footer_maps $tls_server_sni_maps $tlsproxy_client_policy_maps $default_delivery_status_filter $lmtp_delivery_status_filter $lmtp_dns_reply_filter $lmtp_reply_filter $local_delivery_status_filter $pipe_delivery_status_filter $postscreen_command_filter $smtp_delivery_status_filter $smtp_dns_reply_filter $smtp_reply_filter $smtpd_command_filter $smtpd_dns_reply_filter $virtual_delivery_status_filter $body_checks $header_checks $lmtp_body_checks $lmtp_header_checks $lmtp_mime_header_checks $lmtp_nested_header_checks $milter_header_checks $mime_header_checks $nested_header_checks $smtp_body_checks $smtp_header_checks $smtp_mime_header_checks $smtp_nested_header_checks";
    /// The tables the proxywrite server may open for read-write access (caches such as the
    /// address verification database). Added in Postfix 2.5.
    "proxy_write_maps" PROXY_WRITE_MAPS: Str = "$smtp_sasl_auth_cache_name $lmtp_sasl_auth_cache_name $address_verify_map $postscreen_cache_map";
    /// The master.cf service name of the read-only table server. Added in Postfix 2.6.
    "proxymap_service_name" PROXYMAP_SERVICE_NAME: Str = "proxymap";
    /// The master.cf service name of the read-write table server. Added in Postfix 2.6.
    "proxywrite_service_name" PROXYWRITE_SERVICE_NAME: Str = "proxywrite";
}
