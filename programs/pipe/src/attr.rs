//! The master.cf command-line attributes of a pipe service: `flags=`, `user=`,
//! `directory=`, `chroot=`, `eol=`, `null_sender=`, `size=` and `argv=` (the rest of the
//! line is the command).
//!
//! Postfix counterpart: `pipe/pipe.c` (`get_service_attr`). A bad attribute is a
//! configuration error: the agent exits with Postfix's fatal text, and the master logs
//! and throttles the service.

/// How the message is copied into the command (Postfix's `MAIL_COPY_*` and the pipe's own
/// address options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `B`: a blank line after the message.
    pub blank: bool,
    /// `D`: a Delivered-To: header.
    pub delivered: bool,
    /// `F`: a From_ line.
    pub from: bool,
    /// `O`: an X-Original-To: header.
    pub orig_rcpt: bool,
    /// `R`: a Return-Path: header.
    pub return_path: bool,
    /// `X`: the command is the final delivery (DSN "delivered", not "relayed").
    pub final_delivery: bool,
    /// `.`: a dot at the start of a line is doubled.
    pub dot: bool,
    /// `>`: `From ` at the start of a line becomes `>From `.
    pub quote: bool,
    /// `h`: the domain part of recipients and the next hop in lower case.
    pub fold_host: bool,
    /// `q`: the local part of addresses quoted as RFC 5322 wants.
    pub quote_local: bool,
    /// `u`: the local part of recipients in lower case.
    pub fold_user: bool,
}

/// A pipe service's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// The command and its arguments, unexpanded.
    pub command: Vec<String>,
    /// The user the command runs as.
    pub uid: u32,
    /// Its group.
    pub gid: u32,
    /// How the message is written.
    pub flags: Flags,
    /// `directory=`: the working directory.
    pub exec_dir: Option<String>,
    /// `chroot=`: the root directory.
    pub chroot_dir: Option<String>,
    /// `eol=`: the line ending, backslash escapes resolved.
    pub eol: String,
    /// `null_sender=`: what `${sender}` is for the null sender.
    pub null_sender: String,
    /// `size=`: the largest message accepted, 0 for no limit.
    pub size_limit: u64,
}

/// The mail system's own ids, which a command may not have.
pub struct Forbidden<'a> {
    /// mail_owner's name, uid and gid.
    pub owner: (&'a str, u32, u32),
    /// setgid_group's name and gid.
    pub setgid: (&'a str, u32),
}

/// Resolves a user or group name (the password and group files).
pub trait Accounts {
    /// The uid and primary gid of `name`.
    fn user(&self, name: &str) -> Option<(u32, u32)>;
    /// The gid of `name`.
    fn group(&self, name: &str) -> Option<u32>;
}

/// The system's password and group files.
pub struct System;

impl Accounts for System {
    fn user(&self, name: &str) -> Option<(u32, u32)> {
        sys::user::by_name(name).map(|a| (a.uid, a.gid))
    }

    fn group(&self, name: &str) -> Option<u32> {
        sys::user::group_id(name)
    }
}

/// Parses the attributes after the program name; Err is Postfix's fatal text.
pub fn parse(args: &[String], accounts: &dyn Accounts, forbid: &Forbidden) -> Result<Attr, String> {
    let myname = "get_service_attr";
    let mut attr = Attr {
        command: Vec::new(),
        uid: 0,
        gid: 0,
        flags: Flags::default(),
        exec_dir: None,
        chroot_dir: None,
        eol: "\n".to_string(),
        null_sender: "MAILER-DAEMON".to_string(),
        size_limit: 0,
    };
    let mut user = None;
    for (i, arg) in args.iter().enumerate() {
        let value = |name: &str| {
            let n = name.len();
            (arg.len() >= n && arg[..n].eq_ignore_ascii_case(name)).then(|| &arg[n..])
        };
        if let Some(flags) = value("flags=") {
            for c in flags.chars() {
                let f = &mut attr.flags;
                match c {
                    'B' => f.blank = true,
                    'D' => f.delivered = true,
                    'F' => f.from = true,
                    'O' => f.orig_rcpt = true,
                    'R' => f.return_path = true,
                    'X' => f.final_delivery = true,
                    '.' => f.dot = true,
                    '>' => f.quote = true,
                    'h' => f.fold_host = true,
                    'q' => f.quote_local = true,
                    'u' => f.fold_user = true,
                    other => return Err(format!("unknown flag: {other} (ignored)")),
                }
            }
        } else if let Some(spec) = value("user=") {
            let (name, group) = match spec.split_once(':') {
                Some((name, "")) => (name, None),
                Some((name, group)) => (name, Some(group)),
                None => (spec, None),
            };
            let (uid, gid) = accounts
                .user(name)
                .ok_or_else(|| format!("{myname}: unknown username: {name}"))?;
            attr.uid = uid;
            attr.gid = match group {
                Some(group) => accounts
                    .group(group)
                    .ok_or_else(|| format!("{myname}: unknown group: {group}"))?,
                None => gid,
            };
            user = Some(name);
        } else if let Some(dir) = value("directory=") {
            attr.exec_dir = Some(dir.to_string());
        } else if let Some(dir) = value("chroot=") {
            attr.chroot_dir = Some(dir.to_string());
        } else if let Some(eol) = value("eol=") {
            attr.eol = String::from_utf8_lossy(&util::unescape::unescape(eol)).into_owned();
        } else if let Some(sender) = value("null_sender=") {
            attr.null_sender = sender.to_string();
        } else if let Some(size) = value("size=") {
            attr.size_limit = size
                .parse()
                .map_err(|_| format!("{myname}: bad size= value: {size}"))?;
        } else if let Some(first) = value("argv=") {
            attr.command = std::iter::once(first.to_string())
                .chain(args[i + 1..].iter().cloned())
                .collect();
            break;
        } else {
            return Err(format!("unknown attribute name: {arg}"));
        }
    }
    if user.is_none() {
        return Err("missing user= command-line attribute".into());
    }
    if attr.command.is_empty() {
        return Err("missing argv= command-line attribute".into());
    }
    let (owner, owner_uid, owner_gid) = forbid.owner;
    if attr.uid == 0 {
        return Err("user= command-line attribute specifies root privileges".into());
    }
    if attr.uid == owner_uid {
        return Err(format!(
            "user= command-line attribute specifies mail system owner {owner}"
        ));
    }
    if attr.gid == 0 {
        return Err("user= command-line attribute specifies privileged group id 0".into());
    }
    if attr.gid == owner_gid {
        return Err(format!(
            "user= command-line attribute specifies mail system owner {owner} group id {}",
            attr.gid
        ));
    }
    if attr.gid == forbid.setgid.1 {
        return Err(format!(
            "user= command-line attribute specifies mail system {} group id {}",
            forbid.setgid.0, attr.gid
        ));
    }
    Ok(attr)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;

    impl Accounts for Fake {
        fn user(&self, name: &str) -> Option<(u32, u32)> {
            match name {
                "filter" => Some((1001, 1001)),
                "postfix" => Some((107, 113)),
                "root" => Some((0, 0)),
                _ => None,
            }
        }

        fn group(&self, name: &str) -> Option<u32> {
            match name {
                "mail" => Some(8),
                "postdrop" => Some(114),
                _ => None,
            }
        }
    }

    const FORBID: Forbidden<'static> = Forbidden {
        owner: ("postfix", 107, 113),
        setgid: ("postdrop", 114),
    };

    fn parse_line(line: &str) -> Result<Attr, String> {
        let args: Vec<String> = line.split(' ').map(String::from).collect();
        parse(&args, &Fake, &FORBID)
    }

    #[test]
    fn a_typical_service() {
        let attr = parse_line(
            "flags=DRXhu. user=filter:mail size=1000 eol=\\r\\n null_sender= argv=/bin/f -f ${sender} -- ${recipient}",
        )
        .unwrap();
        assert_eq!((attr.uid, attr.gid), (1001, 8));
        assert!(attr.flags.delivered && attr.flags.return_path && attr.flags.final_delivery);
        assert!(attr.flags.fold_host && attr.flags.fold_user && attr.flags.dot);
        assert!(!attr.flags.from && !attr.flags.quote);
        assert_eq!(attr.size_limit, 1000);
        assert_eq!(attr.eol, "\r\n");
        assert_eq!(attr.null_sender, "");
        assert_eq!(
            attr.command,
            vec!["/bin/f", "-f", "${sender}", "--", "${recipient}"]
        );
    }

    #[test]
    fn errors_are_postfix_texts() {
        let err = |line: &str| parse_line(line).unwrap_err();
        assert_eq!(
            err("flags=Z user=filter argv=x"),
            "unknown flag: Z (ignored)"
        );
        assert_eq!(
            err("user=nobody2 argv=x"),
            "get_service_attr: unknown username: nobody2"
        );
        assert_eq!(err("argv=x"), "missing user= command-line attribute");
        assert_eq!(err("user=filter"), "missing argv= command-line attribute");
        assert_eq!(
            err("user=filter foo=bar argv=x"),
            "unknown attribute name: foo=bar"
        );
        assert_eq!(
            err("user=root argv=x"),
            "user= command-line attribute specifies root privileges"
        );
        assert_eq!(
            err("user=postfix argv=x"),
            "user= command-line attribute specifies mail system owner postfix"
        );
        assert_eq!(
            err("user=filter:postdrop argv=x"),
            "user= command-line attribute specifies mail system postdrop group id 114"
        );
        assert_eq!(
            err("user=filter size=x argv=x"),
            "get_service_attr: bad size= value: x"
        );
    }
}
