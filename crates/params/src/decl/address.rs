//! Address rewriting, routing and the lookup tables behind them.
//!
//! Postfix counterpart: global/mail_params.h (rewriting, resolving, aliasing).

crate::params! {
    /// Default next-hop for mail to non-local destinations, used instead of looking up the
    /// recipient domain. Give a domain, host, host:port, or a [host] or [address] form in brackets
    /// to skip MX lookups; since Postfix 3.5 a list separated by commas or whitespace is tried in
    /// order. Empty means deliver directly; transport_maps and sender_dependent_relayhost_maps take
    /// precedence.
    "relayhost" RELAYHOST: Str = "";
    /// Remote domains, and their subdomains, for which this host accepts mail from anyone and
    /// forwards it via $relay_transport, typically as backup MX or gateway. Give names, /file/name
    /// patterns or type:table lookups separated by commas or whitespace, with '!pattern' to
    /// exclude. The default is empty at compatibility level 2 or higher, $mydestination below that.
    "relay_domains" RELAY_DOMAINS: Str =
        "${{$compatibility_level} <level {2} ? {$mydestination} : {}}";
    /// Default delivery transport and optional next-hop, written as transport:nexthop, for
    /// recipient domains that match relay_domains. The transport name must exist in master.cf; the
    /// default is relay. Entries in transport_maps override it.
    "relay_transport" RELAY_TRANSPORT: Str = "relay", min 1;
    /// Default delivery transport and optional next-hop, written as transport:nexthop, for
    /// recipients whose domain matches no local, virtual or relay domain class. The transport must
    /// exist in master.cf; the default is smtp. It is overridden by transport_maps and
    /// sender_dependent_default_transport_maps.
    "default_transport" DEFAULT_TRANSPORT: Str = "smtp", min 1;
    /// Delivery transport and optional next-hop, written as transport:nexthop, for domains in
    /// mydestination and for user@[address] of a local interface. The default is local:$myhostname.
    /// If a non-default agent is used, check local_recipient_maps, or the SMTP server may reject
    /// valid local users.
    "local_transport" LOCAL_TRANSPORT: Str = "local:$myhostname", min 1;
    /// Default delivery transport and optional next-hop, written as transport:nexthop, for domains
    /// listed in virtual_mailbox_domains. The default is the virtual delivery agent; transport_maps
    /// entries override it.
    "virtual_transport" VIRTUAL_TRANSPORT: Str = "virtual", min 1;
    /// Optional lookup tables that map recipient addresses or domains to a transport:nexthop pair,
    /// overriding the per-class transports and relayhost. Give type:table entries separated by
    /// commas or whitespace, searched in order. Regular expression tables may not use $number
    /// substitution here. Whether example.com matches subdomains follows
    /// parent_domain_matches_subdomains.
    "transport_maps" TRANSPORT_MAPS: Str = "";
    /// Alias tables used by the local delivery agent, looked up with the bare local part of local
    /// recipients only. Give type:table entries separated by commas or whitespace, searched in
    /// order; results are expanded recursively. Indexed files are built with postalias or
    /// newaliases, and the local agent opens them directly even when proxy: is given.
    "alias_maps" ALIAS_MAPS: Str = "hash:/etc/aliases, nis:mail.aliases";
    /// Indexed alias files that newaliases and sendmail -bi rebuild, as type:table entries
    /// separated by commas or whitespace. It is separate from alias_maps because not every table
    /// used for lookups is a local file that can be rebuilt.
    "alias_database" ALIAS_DATABASE: Str = "hash:/etc/aliases";
    /// Tables of valid local recipients that the SMTP server consults to reject unknown users in
    /// mydestination domains during the SMTP dialog. Give type:table entries; only the existence of
    /// a key matters. The default covers the passwd file and the alias tables. An empty value turns
    /// the check off, which leads to accepting mail that later bounces.
    "local_recipient_maps" LOCAL_RECIPIENT_MAPS: Str = "proxy:unix:passwd.byname $alias_maps";
    /// Optional alias tables that apply to all recipients, local, virtual and remote, usually
    /// looked up with the full address. Give type:table entries separated by commas or whitespace,
    /// searched in order; results are expanded recursively. The cleanup daemon applies them when
    /// mail is received; rebuild indexed files with postmap.
    "virtual_alias_maps" VIRTUAL_ALIAS_MAPS: Str = "$virtual_maps";
    /// Domains for which every address is an alias pointing elsewhere, so this host is final
    /// destination but keeps no mailboxes. Give names, /file/name patterns or type:table lookups
    /// separated by commas or whitespace; the default is $virtual_alias_maps. Recipients without a
    /// matching alias are rejected by the SMTP server.
    "virtual_alias_domains" VIRTUAL_ALIAS_DOMAINS: Str = "$virtual_alias_maps";
    /// Tables listing all valid recipients in virtual_mailbox_domains, as type:table entries; an
    /// @domain key matches any user of that domain. The SMTP server uses them to reject unknown
    /// users, and the virtual delivery agent reads the mailbox path from the result, where a
    /// trailing slash selects maildir format.
    "virtual_mailbox_maps" VIRTUAL_MAILBOX_MAPS: Str = "";
    /// Domains for which this host is final destination with mailboxes delivered via
    /// $virtual_transport. Same syntax as mydestination: names, /file/name patterns or type:table
    /// lookups. The default is $virtual_mailbox_maps, in which case those tables need a key for
    /// each domain name as well.
    "virtual_mailbox_domains" VIRTUAL_MAILBOX_DOMAINS: Str = "$virtual_mailbox_maps";
    /// Directory prefix that the virtual delivery agent puts in front of every mailbox path
    /// returned by virtual_mailbox_maps, as a safety net against stray mailboxes. Specify an
    /// absolute path such as /var/mail; using / is possible but discouraged.
    "virtual_mailbox_base" VIRTUAL_MAILBOX_BASE: Str = "", min 1;
    /// Tables that give the numeric user ID the virtual delivery agent uses when writing a
    /// recipient's mailbox, as type:table entries; an @domain key matches any user of that domain,
    /// and static:number gives one ID for all. Regular expression substitution and proxy: are not
    /// honoured here.
    "virtual_uid_maps" VIRTUAL_UID_MAPS: Str = "";
    /// Tables that give the numeric group ID the virtual delivery agent uses when writing a
    /// recipient's mailbox, as type:table entries; an @domain key matches any user of that domain,
    /// and static:number gives one ID for all. Regular expression substitution and proxy: are not
    /// honoured here.
    "virtual_gid_maps" VIRTUAL_GID_MAPS: Str = "";
    /// Smallest user ID that the virtual delivery agent accepts from virtual_uid_maps; smaller
    /// results cause the message to be deferred. Specify a positive integer; the default is 100.
    "virtual_minimum_uid" VIRTUAL_MINIMUM_UID: Int = "100", min 1;
    /// Optional tables that rewrite sender and recipient addresses, in the envelope and in headers,
    /// to a standard form, for example login names to first.last. Give type:table entries separated
    /// by commas or whitespace, searched in order; lookups are recursive. Which address kinds are
    /// affected is set by canonical_classes.
    "canonical_maps" CANONICAL_MAPS: Str = "";
    /// Optional tables that rewrite only sender addresses, in the envelope and in headers. They are
    /// applied before canonical_maps. Give type:table entries separated by commas or whitespace,
    /// searched in order.
    "sender_canonical_maps" SENDER_CANONICAL_MAPS: Str = "";
    /// Optional tables that rewrite only recipient addresses, in the envelope and in headers. They
    /// are applied before canonical_maps. Give type:table entries separated by commas or
    /// whitespace, searched in order.
    "recipient_canonical_maps" RECIPIENT_CANONICAL_MAPS: Str = "";
    /// Kinds of addresses that canonical_maps rewriting applies to: one or more of envelope_sender,
    /// envelope_recipient, header_sender and header_recipient, separated by commas or whitespace.
    /// All four are selected by default. Added in Postfix 2.2.
    "canonical_classes" CANONICAL_CLASSES: Str =
        "envelope_sender, envelope_recipient, header_sender, header_recipient", min 1;
    /// Characters that separate a user name or local part from an address extension, such as + in
    /// user+tag@example.com; lookups try the extended form first, then the base form. Empty
    /// disables extensions. Since Postfix 2.11 the value is a set of characters and the first one
    /// found in the address is used; before that it was a single character.
    "recipient_delimiter" RECIPIENT_DELIMITER: Str = "";
    /// Whether addresses without a domain in locally submitted mail get @$myorigin appended (for
    /// remote mail, @$remote_header_rewrite_domain). Value is yes or no; keep the default yes,
    /// because the mail system does not support domain-less addresses.
    "append_at_myorigin" APPEND_AT_MYORIGIN: Bool = "yes";
    /// Whether addresses whose domain has no dot, like user@host, get .$mydomain appended in
    /// locally submitted mail. Value is yes or no; the default is no at compatibility level 1 or
    /// higher, yes below that. With no, users must write complete domain names.
    "append_dot_mydomain" APPEND_DOT_MYDOMAIN: Bool =
        "${{$compatibility_level} <level {1} ? {yes} : {no}}";
    /// Whether UUCP-style addresses of the form site!user are rewritten to user@site. Value is yes
    /// or no; the default is yes. It is needed when the host exchanges mail with UUCP networks.
    "swap_bangpath" SWAP_BANGPATH: Bool = "yes";
    /// Whether addresses of the form user%domain are rewritten to user@domain. Value is yes or no;
    /// the default is yes.
    "allow_percent_hack" ALLOW_PERCENT_HACK: Bool = "yes";
    /// Address that receives mail sent to the empty address. The SMTP server never accepts such a
    /// recipient, but one can arise locally from configuration or software errors. The default is
    /// MAILER-DAEMON.
    "empty_address_recipient" EMPTY_ADDRESS_RECIPIENT: Str = "MAILER-DAEMON", min 1;
    /// Table type used by postmap, postalias and newaliases when a file name is given without a
    /// type, and referred to by several defaults such as alias_maps. Typical values are lmdb, cdb
    /// or hash; run postconf -m for the types built in. The default is fixed at build time.
    "default_database_type" DEFAULT_DATABASE_TYPE: Str = "hash", min 1;
    /// Mailbox path relative to the user's home directory that the local delivery agent writes to,
    /// instead of the system spool. End the value with a slash for maildir format, for example
    /// Maildir/. Empty means use mail_spool_directory; mailbox_command and mailbox_transport take
    /// precedence.
    "home_mailbox" HOME_MAILBOX: Str = "";
    /// Directory with the per-user UNIX mailbox files used by the local delivery agent when
    /// home_mailbox and the other mailbox options are not set. End it with a slash for maildir
    /// format; maildir directories must then be created in advance. The default depends on the
    /// system, typically /var/mail or /var/spool/mail.
    "mail_spool_directory" MAIL_SPOOL_DIRECTORY: Str = "/var/mail";
    /// Optional external program that the local delivery agent runs for mailbox delivery, such as
    /// procmail or maildrop, with the recipient's privileges (default_privs for root). Unlike most
    /// settings it is not subject to $name expansion, so shell syntax and variables like $USER and
    /// $EXTENSION pass through. Set up an alias for root when using it.
    "mailbox_command" MAILBOX_COMMAND: Raw = "";
    /// Whether owner-listname aliases get special treatment (used as envelope sender for list mail)
    /// and whether owner- and -request local parts are kept whole when recipient_delimiter is a
    /// dash. Value is yes or no; the default is yes.
    "owner_request_special" OWNER_REQUEST_SPECIAL: Bool = "yes";
    /// Lookup types that carry an address extension over from the lookup key to the result, so
    /// joe+foo can become joe.user+foo. Give any of canonical, virtual, alias, forward, include and
    /// generic, separated by commas or whitespace; the default is canonical, virtual. Adding other
    /// types may misroute list mail.
    "propagate_unmatched_extensions" PROPAGATE_UNMATCHED_EXTENSIONS: Str = "canonical, virtual";
    /// Whether the address resolver looks inside quoted local parts, so that extra @, % or !
    /// operators there are seen. Value is yes or no. The default yes is safe though not strictly
    /// RFC compliant; no can enable relay tricks with user@domain@domain addresses when acting as
    /// backup MX for other systems.
    "resolve_dequoted_address" RESOLVE_DEQUOTED_ADDRESS: Bool = "yes";
}
