//! The tuned `combined`/`common` reader must agree with the generic engine on every line it
//! accepts (it hands every other line to the engine).

use proptest::prelude::*;

use super::super::fast::{self, Fast};
use super::super::{Format, Kind, Parsed};
use super::borrowed_from_line;

fn engine(name: &str) -> std::sync::Arc<super::super::template::Template> {
    match Format::compile(name).unwrap().kind {
        Kind::Template(t) => t,
        _ => unreachable!("{name} is a text format"),
    }
}

fn agree(name: &str, kind: Fast, line: &[u8]) -> Result<(), TestCaseError> {
    let Ok(text) = std::str::from_utf8(line) else {
        return Ok(());
    };
    if let Some(row) = fast::parse(kind, text) {
        prop_assert!(borrowed_from_line(line, &row));
        match engine(name).parse_generic(name, text) {
            Parsed::Row(generic) => prop_assert_eq!(row, generic),
            other => prop_assert!(false, "fast path read {text:?}, the engine said {other:?}"),
        }
    }
    Ok(())
}

/// Pieces real lines are made of, and the characters that make them hard.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(" ".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("\\\"".to_owned()),
        Just("\\x22".to_owned()),
        Just(" - ".to_owned()),
        Just("-".to_owned()),
        Just(", ".to_owned()),
        Just("[10/Oct/2000:13:55:36 -0700]".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("\" \"".to_owned()),
        Just("\" 200 ".to_owned()),
        Just("GET /a?b=1 HTTP/1.1".to_owned()),
        Just("http://h:8080/x".to_owned()),
        "[0-9]{1,20}",
        "[a-zA-Z0-9./:]{1,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, .. ProptestConfig::default() })]

    #[test]
    fn fast_path_agrees_with_the_engine(
        head in proptest::collection::vec(piece(), 0..6),
        user in prop_oneof![Just("-".to_owned()), "[a-z@.]{0,6}"],
        request in proptest::collection::vec(piece(), 0..6),
        status in prop_oneof![Just("200".to_owned()), Just("-".to_owned()), "[0-9x]{1,4}"],
        bytes in prop_oneof![Just("5".to_owned()), Just("-".to_owned()), "[0-9]{1,21}"],
        tail in proptest::collection::vec(piece(), 0..10),
        common in any::<bool>(),
    ) {
        let addr = if head.is_empty() { "1.2.3.4".to_owned() } else { head.concat() };
        let mut line = format!(r#"{addr} - {user} [10/Oct/2000:13:55:36 -0700] "{}" {status} {bytes}"#, request.concat());
        if !common {
            line.push(' ');
            line.push_str(&tail.concat());
        }
        agree("combined", Fast::Combined, line.as_bytes())?;
        agree("common", Fast::Common, line.as_bytes())?;
    }

    #[test]
    fn fast_path_agrees_on_mutated_real_lines(cuts in proptest::collection::vec((0usize..300, prop::sample::select(b" \"\\-[]x0,".to_vec())), 0..6)) {
        let mut line = super::REAL_LINE.to_vec();
        for (at, byte) in cuts {
            let at = at % (line.len() + 1);
            if byte == b'x' && at < line.len() { line.remove(at); } else { line.insert(at, byte); }
        }
        agree("combined", Fast::Combined, &line)?;
    }
}

#[test]
fn fast_path_reads_the_fixture() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/apache_logs"
    ))
    .unwrap();
    let mut fast_rows = 0;
    for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let text = std::str::from_utf8(line).unwrap();
        if fast::parse(Fast::Combined, text).is_some() {
            fast_rows += 1;
        }
        agree("combined", Fast::Combined, line).unwrap();
    }
    // All but the rare line (an address list, a user with a space…) take the tuned path.
    assert!(fast_rows > 9_900, "{fast_rows}");
}
