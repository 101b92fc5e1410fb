//! Address lookups against Postfix 3.7's own `mail_addr_find` test driver: the commands in
//! `tests/golden/mail_addr_find.in` run through ironpost's code must print what the driver
//! printed (`mail_addr_find.ref`) and warn what it warned (`mail_addr_find.err`), recorded
//! by `tests/golden/record-mail-addr-find.sh`. The driver's settings:
//! mydestination=localhost.localdomain, myorigin=localdomain, recipient_delimiter=+.

use global::mail_addr_find::{Context, Form, Strategy, mail_addr_find};
use global::maps::Maps;
use global::match_list::{ListFlags, MatchList, Matcher};
use global::resolve_local::ResolveLocal;

fn strategy(text: &str) -> Strategy {
    text.split('|').fold(Strategy(0), |s, name| {
        s | match name {
            "full" => Strategy::FULL,
            "noext" => Strategy::NOEXT,
            "localpart_if_local" => Strategy::LOCALPART_IF_LOCAL,
            "localpart_at_if_local" => Strategy::LOCALPART_AT_IF_LOCAL,
            "at_domain" => Strategy::AT_DOMAIN,
            "domain" => Strategy::DOMAIN,
            "pdms" => Strategy::PDMS,
            "pddms" => Strategy::PDDMDS,
            "localpart_at" => Strategy::LOCALPART_AT,
            "default" => Strategy::DEFAULT,
            other => panic!("unknown strategy {other}"),
        }
    })
}

#[test]
fn lookups_match_postfix_driver() {
    let here = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let dir = here.display().to_string();
    let capture = log::Capture::default();
    log::retain_sinks(|_| false);
    log::add_sink(Box::new(capture.clone()));
    let addresses = sys::interface_addresses()
        .unwrap()
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    let local = ResolveLocal::with(
        MatchList::new(
            "mydestination",
            ListFlags::default(),
            "localhost.localdomain",
            &[Matcher::String],
        ),
        addresses,
    );
    let is_local = |domain: &str| local.is_local(domain);
    let context = Context {
        delimiters: "+",
        myorigin: "localdomain",
        double_bounce_sender: "double-bounce",
        owner_request_special: true,
        is_local: &is_local,
    };
    let flags = dict::Flags {
        fold_fix: true,
        utf8: false,
        ..dict::Flags::default()
    };
    let input = std::fs::read_to_string(here.join("mail_addr_find.in")).unwrap();
    let mut out = String::new();
    let mut maps = None;
    for line in input.lines() {
        let line = line.replace("@DIR@", &dir);
        let Some((command, rest)) = line.split_once(' ') else {
            continue;
        };
        match command {
            "maps" => {
                maps = Some(Maps::new("mail_addr_find", rest, flags).unwrap());
                out.push_str(&format!("{rest}\n"));
            }
            "test" => {
                let fields: Vec<&str> = rest.splitn(5, ':').collect();
                let [input, query, output, strat, key] = fields[..] else {
                    panic!("bad test line {line}");
                };
                let form = |name| Form::from_name(name).unwrap();
                let result = mail_addr_find(
                    maps.as_ref().unwrap(),
                    key,
                    form(input),
                    form(query),
                    form(output),
                    strategy(strat),
                    &context,
                );
                let (value, extension) = match result {
                    Ok(Some(found)) => (found.value, found.extension),
                    Ok(None) => ("(not found)".to_string(), None),
                    Err(_) => ("(try again)".to_string(), None),
                };
                out.push_str(&format!(
                    "{input}:{key} -{query}-> {output}:{value} ({})\n",
                    extension.as_deref().unwrap_or("null extension")
                ));
            }
            _ => {}
        }
    }
    let want = std::fs::read_to_string(here.join("mail_addr_find.ref"))
        .unwrap()
        .replace("@DIR@", &dir);
    let got_lines: Vec<&str> = out.lines().collect();
    for (i, w) in want.lines().enumerate() {
        assert_eq!(got_lines.get(i).copied(), Some(w), "line {}", i + 1);
    }
    assert_eq!(got_lines.len(), want.lines().count());
    let warnings: Vec<String> = capture.lines();
    let want_err = std::fs::read_to_string(here.join("mail_addr_find.err")).unwrap();
    assert_eq!(warnings, want_err.lines().collect::<Vec<_>>());
}
