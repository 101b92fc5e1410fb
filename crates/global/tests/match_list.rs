//! Pattern lists against Postfix 3.7's own `namadr_list` and `domain_list` test drivers:
//! `tests/golden/match_list.in` holds the cases, `match_list.ref` what the drivers printed
//! (recorded by `tests/golden/record.sh`).

use global::match_list::{ListFlags, MatchList, Matcher};

#[test]
fn lists_match_as_postfix_drivers() {
    let here = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let dir = here.display().to_string();
    let capture = log::Capture::default();
    log::retain_sinks(|_| false);
    log::add_sink(Box::new(capture.clone()));
    let cases = std::fs::read_to_string(here.join("match_list.in")).unwrap();
    let mut out = String::new();
    let mut seen = 0;
    for line in cases.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [kind, patterns, host, addr] = fields[..] else {
            panic!("bad case line: {line}");
        };
        out.push_str(&format!("> {line}\n"));
        let patterns = patterns.replace("@DIR@", &dir);
        // The drivers use MATCH_FLAG_PARENT and were built without EAI (ASCII folding).
        let flags = ListFlags {
            parent: true,
            utf8: false,
        };
        let (matchers, args, shown) = if kind == "domain" {
            (vec![Matcher::Hostname], vec![host], host.to_string())
        } else {
            (
                vec![Matcher::Hostname, Matcher::Hostaddr],
                vec![host, addr],
                format!("{host}/{addr}"),
            )
        };
        let list = MatchList::new("command line", flags, &patterns, &matchers);
        let answer = match list.matches(&args) {
            Ok(true) => "YES",
            Ok(false) => "NO",
            Err(_) => "ERROR",
        };
        for record in capture.lines().into_iter().skip(seen) {
            out.push_str(&record.replace(&dir, "@DIR@"));
            out.push('\n');
        }
        seen = capture.lines().len();
        out.push_str(&format!("{shown}: {answer}\n"));
    }
    let want = std::fs::read_to_string(here.join("match_list.ref")).unwrap();
    if out != want {
        let diff: Vec<String> = want
            .lines()
            .zip(out.lines())
            .filter(|(w, g)| w != g)
            .take(10)
            .map(|(w, g)| format!("want: {w}\n got: {g}"))
            .collect();
        panic!("match_list differs from Postfix:\n{}", diff.join("\n"));
    }
}
