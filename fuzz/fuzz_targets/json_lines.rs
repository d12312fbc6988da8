//! JSON lines: any bytes split into lines (a small bound on their length) and each line made
//! a COPY text row for columns of every shape. A row is exactly one line of COPY's text
//! format with one field per column; a refusal is one of the errors users are shown.
#![no_main]

use input::json_lines::{Columns, LineError, Lines, LinesError, Shape};
use libfuzzer_sys::fuzz_target;

fn columns() -> Columns {
    let point = Shape::Composite(vec![("x".into(), Shape::Scalar), ("tags".into(), Shape::Array(Box::new(Shape::Scalar))), ("doc".into(), Shape::Json)]);
    Columns::new(vec![
        ("a".into(), Shape::Scalar),
        ("j".into(), Shape::Json),
        ("arr".into(), Shape::Array(Box::new(Shape::Scalar))),
        ("docs".into(), Shape::Array(Box::new(Shape::Json))),
        ("p".into(), point.clone()),
        ("ps".into(), Shape::Array(Box::new(point))),
    ])
}

fuzz_target!(|data: &[u8]| {
    let columns = columns();
    let mut at = 0;
    let mut lines = Lines::new(4096);
    let mut read = |buf: &mut [u8]| -> Result<usize, ()> {
        // Short reads of varying size, as a network stream gives them.
        let n = buf.len().min(data.len() - at).min(1 + at % 7 * 97);
        buf[..n].copy_from_slice(&data[at..at + n]);
        at += n;
        Ok(n)
    };
    let mut out = Vec::new();
    loop {
        let line = match lines.next(&mut read) {
            Ok(Some(line)) => line.to_vec(),
            Ok(None) => break,
            Err(LinesError::TooLong { line }) => {
                assert_eq!(line, lines.number() + 1);
                break;
            }
            Err(LinesError::Read(())) => unreachable!("the reader never fails"),
        };
        assert!(line.len() <= 4096 && !line.contains(&b'\n'));
        if Columns::is_blank(&line) {
            continue;
        }
        for strict in [false, true] {
            out.clear();
            match columns.row(&line, strict, &mut out) {
                Ok(()) => {
                    // One line: a newline at the end only, no carriage return, six fields.
                    assert_eq!(out.last(), Some(&b'\n'));
                    let body = &out[..out.len() - 1];
                    assert!(!body.contains(&b'\n') && !body.contains(&b'\r'));
                    assert_eq!(body.iter().filter(|&&b| b == b'\t').count(), 5);
                    assert!(!body.contains(&0));
                    assert!(std::str::from_utf8(body).is_ok());
                }
                Err(LineError::UnknownKey(_)) => assert!(strict),
                Err(e) => {
                    assert!(out.is_empty());
                    let _ = e.to_string();
                }
            }
        }
    }
});
