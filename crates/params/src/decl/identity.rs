//! The system's names, networks and compatibility level.
//!
//! Postfix counterpart: global/mail_params.h, global/mynetworks.c.

use crate::function_defaults;

crate::params! {
    /// Fully qualified internet host name of this mail system. By default it is taken from
    /// gethostname(), with .$mydomain appended when that result is not fully qualified. Many other
    /// defaults refer to it (smtpd_banner, myorigin, mydestination), and it must differ from
    /// relayhost.
    "myhostname" MYHOSTNAME: Str = fn(function_defaults::myhostname), min 1;
    /// Internet domain this mail system belongs to. By default it is $myhostname without its first
    /// label, or localdomain when that leaves nothing usable. Several other defaults refer to it,
    /// for example mydestination and myorigin when set to $mydomain.
    "mydomain" MYDOMAIN: Str = fn(function_defaults::mydomain), min 1;
    /// Domain used as the sender domain of locally submitted mail, and appended to bare user names
    /// in local mail. Specify a single domain name (not a list); the default is $myhostname. Sites
    /// with many hosts usually set it to $mydomain.
    "myorigin" MYORIGIN: Str = "$myhostname", min 1;
    /// Domains for which this machine is the final destination, delivered via $local_transport.
    /// Give a list of names, /file/name patterns or type:table lookups, separated by commas or
    /// whitespace. Do not list virtual domains or domains for which this host is only a backup MX.
    "mydestination" MYDESTINATION: Str = "$myhostname, localhost.$mydomain, localhost";
    /// Trusted client networks that get extra privileges, above all permission to relay. Give
    /// addresses or network/prefix patterns, /file/name or type:table entries, separated by commas
    /// or whitespace; IPv6 addresses go in square brackets and '!pattern' excludes. When not set,
    /// the list is derived from mynetworks_style, which an explicit value overrides.
    "mynetworks" MYNETWORKS: Str = fn(function_defaults::mynetworks);
    /// How the default mynetworks list is built when it is not set explicitly: host trusts only
    /// this machine, subnet trusts the local IP subnets, class trusts whole class A/B/C networks
    /// and is rarely wise. The default is host at compatibility level 2 or higher, subnet below
    /// that.
    "mynetworks_style" MYNETWORKS_STYLE: Str =
        "${{$compatibility_level} <level {2} ? {subnet} : {host}}", min 1;
    /// Local addresses on which the mail system accepts network connections: all, loopback-only, or
    /// a list of IPv4 and IPv6 addresses. It also decides which user@[address] destinations are
    /// local and which MX hosts would loop back. A changed value requires a full stop and start,
    /// not just a reload.
    "inet_interfaces" INET_INTERFACES: Str = "all";
    /// Internet protocols used for connections and DNS lookups: ipv4, ipv6, or all (both where the
    /// system supports IPv6), separated by commas or whitespace. It decides whether A and/or AAAA
    /// records are queried. A changed value requires a full stop and start. Added in Postfix 2.2.
    "inet_protocols" INET_PROTOCOLS: Str = "all";
    /// Public addresses on which this host receives mail through a proxy or NAT device, as a list
    /// of IP addresses. They are treated like local interfaces for local destination and MX loop
    /// checks. They must be set when the host is a backup MX behind NAT, otherwise mail loops when
    /// the primary is down.
    "proxy_interfaces" PROXY_INTERFACES: Str = "";
    /// Level of backwards compatibility for built-in defaults, written as 0, 1, 2 or a version such
    /// as 3.6. Below the current level, defaults that changed incompatibly keep their old values
    /// and a warning is logged when such a default is used. Raise it with postconf and reload once
    /// those warnings are dealt with. Added in Postfix 3.0.
    "compatibility_level" COMPATIBILITY_LEVEL: Str = "0";
    /// Names of features (such as mynetworks, relay_domains, transport_maps, debug_peer_list,
    /// smtpd_access_maps) where a pattern like example.com also matches its subdomains. Features
    /// not listed need an explicit .example.com pattern to match subdomains. Give a list of feature
    /// names separated by commas or whitespace.
    "parent_domain_matches_subdomains" PARENT_DOMAIN_MATCHES_SUBDOMAINS: Str =
        "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients,relay_domains,smtpd_access_maps";
    /// Enables support for SMTPUTF8, the internationalized address and header extension of RFC 6531
    /// to 6533, when the software was built with it. Value is yes or no; the default is yes at
    /// compatibility level 1 or higher. Added in Postfix 3.0.
    "smtputf8_enable" SMTPUTF8_ENABLE: Bool = "${{$compatibility_level} <level {1} ? {no} : {yes}}";
    /// The mail sources whose messages cleanup checks for UTF-8 in addresses and headers,
    /// so that they get the SMTPUTF8 flag without asking for it: sendmail, smtpd, qmqpd,
    /// forward, bounce, notify, verify or all, separated by commas or whitespace. Added in
    /// Postfix 3.0.
    "smtputf8_autodetect_classes" SMTPUTF8_AUTODETECT_CLASSES: Str = "sendmail, verify", min 1;
    /// The mail system's name in the Received: headers and notices it writes and in its
    /// log records; the default is Postfix, which tools that read the log expect.
    "mail_name" MAIL_NAME: Str = "Postfix", min 1;
}
