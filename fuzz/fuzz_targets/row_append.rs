//! Appending fields to COPY rows (input::row_append): any bytes, as text, csv (with any
//! QUOTE and ESCAPE) or binary, given in pieces of any size, come out the same as given
//! whole; with no fields to append, they come out unchanged; nothing panics.
#![no_main]

use input::row_append::Appender;
use libfuzzer_sys::fuzz_target;

fn make(kind: u8, quote: u8, escape: u8, empty: bool) -> Appender {
    let values: &[Option<&[u8]>] = if empty { &[] } else { &[Some(b"v\"\\\n"), None] };
    let names: &[&[u8]] = if empty { &[] } else { &[b"k", b"q\""] };
    match kind % 4 {
        0 => Appender::text(b'\t', b"\\N", None, values),
        1 => Appender::text(b',', b"", Some(names), values),
        2 => Appender::csv(b',', quote, escape, b"", if empty { None } else { Some(names) }, values),
        _ => Appender::binary(values).expect("two fields fit"),
    }
}

fn run(mut appender: Appender, data: &[u8], step: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        // Pieces of varying size, as a network stream gives them.
        let n = (data.len() - at).min(1 + (at * 31 + step) % 17);
        appender.push(&data[at..at + n], &mut out);
        at += n;
    }
    appender.finish(&mut out);
    out
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (kind, quote, escape, data) = (data[0], data[1], data[2], &data[3..]);
    let whole = {
        let mut a = make(kind, quote, escape, false);
        let mut out = Vec::new();
        a.push(data, &mut out);
        a.finish(&mut out);
        out
    };
    for step in [0, 5] {
        assert_eq!(run(make(kind, quote, escape, false), data, step), whole);
    }
    assert!(whole.len() >= data.len());
    // Text and csv without a header line get nothing when no fields are appended.
    if kind % 4 != 1 {
        assert_eq!(run(make(kind, quote, escape, true), data, 3), data);
    }
});
