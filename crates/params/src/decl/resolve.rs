//! Address resolution: which transport and next hop an address goes to.
//!
//! Postfix counterpart: global/mail_params.h (the resolver's parameters), read by
//! trivial-rewrite/trivial-rewrite.c.

crate::params! {
    /// Tables of addresses that have moved: mail to them bounces with "5.1.6 User has moved
    /// to" and the new location. Looked up as virtual(5) tables are; empty means none.
    "relocated_maps" RELOCATED_MAPS: Str = "";
    /// transport_maps for address verification probes (sendmail -bv and the verify
    /// service).
    "address_verify_transport_maps" ADDRESS_VERIFY_TRANSPORT_MAPS: Str = "$transport_maps";
    /// local_transport for address verification probes.
    "address_verify_local_transport" ADDRESS_VERIFY_LOCAL_TRANSPORT: Str = "$local_transport";
    /// virtual_transport for address verification probes.
    "address_verify_virtual_transport" ADDRESS_VERIFY_VIRTUAL_TRANSPORT: Str = "$virtual_transport";
    /// relay_transport for address verification probes.
    "address_verify_relay_transport" ADDRESS_VERIFY_RELAY_TRANSPORT: Str = "$relay_transport";
    /// default_transport for address verification probes.
    "address_verify_default_transport" ADDRESS_VERIFY_DEFAULT_TRANSPORT: Str = "$default_transport";
    /// relayhost for address verification probes.
    "address_verify_relayhost" ADDRESS_VERIFY_RELAYHOST: Str = "$relayhost";
    /// The domain appended to incomplete addresses in headers of mail from remote clients;
    /// empty means such headers are not rewritten (the remote rewriting context appends
    /// nothing).
    "remote_header_rewrite_domain" REMOTE_HEADER_REWRITE_DOMAIN: Str = "";
    /// Tables that choose the relayhost by envelope sender (user@domain, then @domain);
    /// they override relayhost for off-host delivery. DUNNO means use relayhost.
    "sender_dependent_relayhost_maps" SENDER_DEPENDENT_RELAYHOST_MAPS: Str = "";
    /// The key looked up in sender_dependent_relayhost_maps for the null sender.
    "empty_address_relayhost_maps_lookup_key" EMPTY_ADDRESS_RELAYHOST_MAPS_LOOKUP_KEY: Str = "<>";
    /// sender_dependent_relayhost_maps for address verification probes.
    "address_verify_sender_dependent_relayhost_maps" ADDRESS_VERIFY_SENDER_DEPENDENT_RELAYHOST_MAPS: Str = "$sender_dependent_relayhost_maps";
    /// Tables that choose the default transport by envelope sender; they override
    /// default_transport. DUNNO means use default_transport.
    "sender_dependent_default_transport_maps" SENDER_DEPENDENT_DEFAULT_TRANSPORT_MAPS: Str = "";
    /// The key looked up in sender_dependent_default_transport_maps for the null sender.
    "empty_address_default_transport_maps_lookup_key" EMPTY_ADDRESS_DEFAULT_TRANSPORT_MAPS_LOOKUP_KEY: Str = "<>";
    /// sender_dependent_default_transport_maps for address verification probes.
    "address_verify_sender_dependent_default_transport_maps" ADDRESS_VERIFY_SENDER_DEPENDENT_DEFAULT_TRANSPORT_MAPS: Str = "$sender_dependent_default_transport_maps";
    /// Resolve an address ending in @ (a null domain) as if it had no domain; with no, such
    /// an address is an error.
    "resolve_null_domain" RESOLVE_NULL_DOMAIN: Bool = "no";
    /// Resolve user@ipaddress as user@[ipaddress] instead of rejecting it as a bad domain
    /// name.
    "resolve_numeric_domain" RESOLVE_NUMERIC_DOMAIN: Bool = "no";
    /// Allow recipient addresses that start with '-'; by default they are rejected, because
    /// commands may take them for options.
    "allow_min_user" ALLOW_MIN_USER: Bool = "no";
}
