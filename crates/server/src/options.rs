//! The daemon command line the master builds.
//!
//! Postfix counterpart: the getopt loops of `master/*_server.c`
//! (`"cdDi:lm:n:o:r:s:St:uvVz"`). Unknown options are fatal, as in Postfix.

/// The parsed options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `-c`: chroot to the queue directory.
    pub chroot: bool,
    /// Not `-d`: running under the master, detached.
    pub daemon_mode: bool,
    /// `-D`: run debugger_command.
    pub debug: bool,
    /// `-i`: max_idle.
    pub max_idle: Option<String>,
    /// `-l`: the only process of its service (process limit 1).
    pub alone: bool,
    /// `-m`: max_use.
    pub max_use: Option<String>,
    /// `-n`: the service name.
    pub service_name: Option<String>,
    /// `-o name=value`, in order.
    pub overrides: Vec<(String, String)>,
    /// `-s`: the number of listen sockets.
    pub socket_count: usize,
    /// `-S`: the client is on standard input.
    pub stdin_stream: bool,
    /// `-t`: the transport (service type).
    pub transport: Option<String>,
    /// `-u`: drop privileges to mail_owner.
    pub unprivileged: bool,
    /// The number of `-v`.
    pub verbose: u32,
    /// `-V`: also log to standard error.
    pub stderr: bool,
    /// `-z`: the process limit is 0.
    pub zero_limit: bool,
    /// Arguments after the options.
    pub args: Vec<String>,
}

/// The getopt specification of the skeletons.
const SPEC: &str = "cdDi:lm:n:o:r:s:St:uvVz";

impl Options {
    /// Parses the arguments after argv[0]; the error is the fatal text.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let (opts, rest) = util::getopt::parse("", SPEC, args).map_err(|e| {
            let letter = e.rsplit('\'').nth(1).unwrap_or("?").to_string();
            format!("invalid option: {letter}")
        })?;
        let mut out = Options {
            daemon_mode: true,
            socket_count: 1,
            args: rest,
            ..Options::default()
        };
        for opt in opts {
            let value = opt.value.unwrap_or_default();
            match opt.letter {
                'c' => out.chroot = true,
                'd' => out.daemon_mode = false,
                'D' => out.debug = true,
                'i' => out.max_idle = Some(value),
                'l' => out.alone = true,
                'm' => out.max_use = Some(value),
                'n' => out.service_name = Some(value),
                'o' => {
                    let (name, val) = util::name_value::split(&value)
                        .map_err(|why| format!("invalid \"-o {value}\" option value: {why}"))?;
                    out.overrides.push((name.to_string(), val.to_string()));
                }
                'r' => {
                    if value.parse::<i64>().map_or(true, |n| n <= 0) {
                        return Err(format!("invalid retirement time: {value}"));
                    }
                }
                's' => {
                    out.socket_count = value
                        .parse::<usize>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| format!("invalid socket_count: {value}"))?;
                }
                'S' => out.stdin_stream = true,
                't' => out.transport = Some(value),
                'u' => out.unprivileged = true,
                'v' => out.verbose += 1,
                'V' => out.stderr = true,
                'z' => out.zero_limit = true,
                other => return Err(format!("invalid option: {other}")),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Options, String> {
        Options::parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn master_command_line() {
        let o =
            parse("-l -n submission -t inet -u -c -v -v -o syslog_name=x -o a=b c arg").unwrap();
        assert!(o.alone && o.unprivileged && o.chroot && o.daemon_mode);
        assert_eq!(o.verbose, 2);
        assert_eq!(o.service_name.as_deref(), Some("submission"));
        assert_eq!(o.transport.as_deref(), Some("inet"));
        assert_eq!(
            o.overrides,
            [("syslog_name".into(), "x".into()), ("a".into(), "b".into())]
        );
        assert_eq!(o.args, ["c", "arg"]);
    }

    #[test]
    fn errors() {
        assert_eq!(parse("-x").unwrap_err(), "invalid option: x");
        assert_eq!(
            parse("-o novalue").unwrap_err(),
            "invalid \"-o novalue\" option value: missing '=' after attribute name"
        );
        assert_eq!(parse("-s 0").unwrap_err(), "invalid socket_count: 0");
    }
}
