//! One value of a text or csv row as COPY TO writes it (copyto.c's CopyAttributeOutText and
//! CopyAttributeOutCSV), on bytes already in the file encoding. Free of PostgreSQL: the one
//! thing it asks of the encoding, where a multibyte character starts and ends, is given.

/// How values are escaped or quoted.
pub struct Escaping {
    pub delim: u8,
    pub quote: u8,
    pub escape: u8,
    /// For file encodings whose multibyte characters may contain ASCII bytes (which must not
    /// be taken for delimiters or quotes): the length of the character a slice starts with.
    pub char_len: Option<Box<dyn Fn(&[u8]) -> usize>>,
}

/// Eight bytes at a time: a word of 0x01 bytes, and of 0x80 bytes.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The 8 bytes of `s` from `i` as one word, when there are 8.
#[inline]
fn word(s: &[u8], i: usize) -> Option<u64> {
    s.get(i..i + 8).map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes")))
}

/// Whether any byte of `w` is `b`.
#[inline]
fn has(w: u64, b: u8) -> bool {
    let x = w ^ (ONES * b as u64);
    x.wrapping_sub(ONES) & !x & HIGHS != 0
}

/// Whether any byte of `w` is below 0x20 (a control character).
#[inline]
fn has_control(w: u64) -> bool {
    w.wrapping_sub(ONES * 0x20) & !w & HIGHS != 0
}

impl Escaping {
    /// Bytes to the next character from `s[i]`.
    fn step(&self, s: &[u8], i: usize) -> usize {
        match &self.char_len {
            Some(char_len) if s[i] & 0x80 != 0 => char_len(&s[i..]).clamp(1, s.len() - i),
            _ => 1,
        }
    }

    /// CopyAttributeOutText: backslash escapes for control characters, backslash and the
    /// delimiter.
    pub fn text(&self, s: &[u8], out: &mut Vec<u8>) {
        let (mut start, mut i) = (0, 0);
        // Where characters are single bytes, or ASCII bytes are never inside one, runs of 8
        // bytes with nothing to escape pass at once.
        let words = self.char_len.is_none();
        while i < s.len() {
            if words {
                if let Some(w) = word(s, i) {
                    if !has_control(w) && !has(w, b'\\') && !has(w, self.delim) {
                        i += 8;
                        continue;
                    }
                }
            }
            let c = s[i];
            if c < 0x20 {
                let escaped = match c {
                    0x08 => b'b',
                    0x0c => b'f',
                    b'\n' => b'n',
                    b'\r' => b'r',
                    b'\t' => b't',
                    0x0b => b'v',
                    c if c == self.delim => c,
                    _ => {
                        i += 1;
                        continue;
                    }
                };
                out.extend_from_slice(&s[start..i]);
                out.push(b'\\');
                out.push(escaped);
                i += 1;
                start = i;
            } else if c == b'\\' || c == self.delim {
                out.extend_from_slice(&s[start..i]);
                out.push(b'\\');
                start = i;
                i += 1;
            } else {
                i += self.step(s, i);
            }
        }
        out.extend_from_slice(&s[start..]);
    }

    /// CopyAttributeOutCSV: quoted when `quote` (forced, or the value equals the NULL
    /// string), when it holds the delimiter, quote, CR or LF, or when it is `\.` alone on its
    /// line (`single`: the row has one column).
    pub fn csv(&self, s: &[u8], quote: bool, single: bool, out: &mut Vec<u8>) {
        if self.char_len.is_none() {
            return self.csv_bytes(s, quote, single, out);
        }
        let quote = quote || (single && s == b"\\.") || {
            let mut i = 0;
            let mut special = false;
            while i < s.len() && !special {
                let c = s[i];
                special = c == self.delim || c == self.quote || c == b'\n' || c == b'\r';
                i += self.step(s, i);
            }
            special
        };
        if !quote {
            out.extend_from_slice(s);
            return;
        }
        out.push(self.quote);
        let (mut start, mut i) = (0, 0);
        while i < s.len() {
            let c = s[i];
            if c == self.quote || c == self.escape {
                out.extend_from_slice(&s[start..i]);
                out.push(self.escape);
                start = i;
            }
            i += self.step(s, i);
        }
        out.extend_from_slice(&s[start..]);
        out.push(self.quote);
    }

    /// `csv` where every byte is a character of its own (or ASCII bytes never occur inside
    /// one). Whether to quote is found with memchr in values long enough for it to pay (a
    /// short value is compared byte by byte faster than memchr is set up); quoted values,
    /// which are usually full of what is escaped (JSON is), are escaped byte by byte.
    fn csv_bytes(&self, s: &[u8], quote: bool, single: bool, out: &mut Vec<u8>) {
        let special = |c: &u8| *c == self.delim || *c == self.quote || *c == b'\n' || *c == b'\r';
        let quote = quote
            || (single && s == b"\\.")
            || match s.len() < MEMCHR_FROM {
                true => s.iter().any(special),
                false => memchr::memchr3(self.delim, self.quote, b'\n', s).is_some() || memchr::memchr(b'\r', s).is_some(),
            };
        if !quote {
            out.extend_from_slice(s);
            return;
        }
        out.reserve(s.len() + 2);
        out.push(self.quote);
        let mut start = 0;
        for (i, &c) in s.iter().enumerate() {
            if c == self.quote || c == self.escape {
                out.extend_from_slice(&s[start..i]);
                out.push(self.escape);
                start = i;
            }
        }
        out.extend_from_slice(&s[start..]);
        out.push(self.quote);
    }
}

/// Values at least this long are searched with memchr.
const MEMCHR_FROM: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    fn text_escaping() -> Escaping {
        Escaping { delim: b'\t', quote: b'"', escape: b'"', char_len: None }
    }

    fn csv_escaping(delim: u8, quote: u8, escape: u8) -> Escaping {
        Escaping { delim, quote, escape, char_len: None }
    }

    fn text(e: &Escaping, s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        e.text(s, &mut out);
        out
    }

    fn csv(e: &Escaping, s: &[u8], quote: bool, single: bool) -> Vec<u8> {
        let mut out = Vec::new();
        e.csv(s, quote, single, &mut out);
        out
    }

    #[test]
    fn text_escapes_controls_backslash_and_delimiter() {
        let e = text_escaping();
        assert_eq!(text(&e, b"plain"), b"plain");
        assert_eq!(text(&e, b"a\tb\nc\rd\\e"), b"a\\tb\\nc\\rd\\\\e");
        assert_eq!(text(&e, b"\x08\x0b\x0c"), b"\\b\\v\\f");
        // Other control characters pass as they are, as COPY writes them.
        assert_eq!(text(&e, b"\x01\x1f"), b"\x01\x1f");
        let pipe = Escaping { delim: b'|', ..text_escaping() };
        assert_eq!(text(&pipe, b"a|b\tc"), b"a\\|b\\tc");
        // A control character chosen as delimiter is escaped as itself.
        let unit = Escaping { delim: 0x1f, ..text_escaping() };
        assert_eq!(text(&unit, b"a\x1fb"), b"a\\\x1fb");
        assert_eq!(text(&e, b""), b"");
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        let e = csv_escaping(b',', b'"', b'"');
        assert_eq!(csv(&e, b"plain", false, false), b"plain");
        assert_eq!(csv(&e, b"a,b", false, false), b"\"a,b\"");
        assert_eq!(csv(&e, b"say \"hi\"", false, false), b"\"say \"\"hi\"\"\"");
        assert_eq!(csv(&e, b"two\nlines", false, false), b"\"two\nlines\"");
        assert_eq!(csv(&e, b"cr\r", false, false), b"\"cr\r\"");
        // Forced, or equal to the NULL string: quoted although nothing in it asks for it.
        assert_eq!(csv(&e, b"x", true, false), b"\"x\"");
        assert_eq!(csv(&e, b"", true, false), b"\"\"");
        // The end-of-data marker alone on its line is quoted; among other columns it is not.
        assert_eq!(csv(&e, b"\\.", false, true), b"\"\\.\"");
        assert_eq!(csv(&e, b"\\.", false, false), b"\\.");
        // Backslashes mean nothing in csv.
        assert_eq!(csv(&e, b"a\\b", false, false), b"a\\b");
    }

    #[test]
    fn csv_with_its_own_quote_and_escape() {
        let e = csv_escaping(b';', b'\'', b'\\');
        assert_eq!(csv(&e, b"it's", false, false), b"'it\\'s'");
        // The escape character is escaped only inside a quoted value.
        assert_eq!(csv(&e, b"a\\b", false, false), b"a\\b");
        assert_eq!(csv(&e, b"a\\b;c", false, false), b"'a\\\\b;c'");
        assert_eq!(csv(&e, b"a,b", false, false), b"a,b");
    }

    #[test]
    fn multibyte_characters_hide_their_ascii_bytes() {
        // As in Shift JIS: a lead byte of 0x81..=0x9f starts a two-byte character whose
        // second byte may be a backslash or a delimiter.
        let sjis = |s: &[u8]| if (0x81..=0x9f).contains(&s[0]) { 2 } else { 1 };
        let e = Escaping { delim: b'\\', quote: b'"', escape: b'"', char_len: Some(Box::new(sjis)) };
        assert_eq!(text(&e, b"\x81\x5c|\\"), b"\x81\x5c|\\\\");
        let e = Escaping { delim: b',', quote: b'"', escape: b'"', char_len: Some(Box::new(sjis)) };
        assert_eq!(csv(&e, b"\x81\x2c", false, false), b"\x81\x2c");
        assert_eq!(csv(&e, b"\x81\x22,", false, false), b"\"\x81\x22,\"");
        // A lead byte cut off at the end does not step past the value.
        assert_eq!(csv(&e, b"ab\x81", false, false), b"ab\x81");
        // Without the encoding's help the same bytes would be escaped.
        let plain = csv_escaping(b',', b'"', b'"');
        assert_eq!(csv(&plain, b"\x81\x2c", false, false), b"\"\x81\x2c\"");
    }

    #[test]
    fn eight_bytes_at_a_time_writes_what_one_at_a_time_does() {
        // A char_len of 1 for every byte takes the byte-by-byte path, with the same meaning.
        let bytewise = |delim, quote, escape| Escaping { delim, quote, escape, char_len: Some(Box::new(|_: &[u8]| 1)) };
        let alphabet = b"ab,;\"'\\\n\r\t\x01\x1f\x7f\x80\xff |.";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (delim, quote, escape) in [(b',', b'"', b'"'), (b';', b'\'', b'\\'), (b'\t', b'"', b'"'), (b'|', b'"', b'"'), (0x1f, b'"', b'"')] {
            let (fast, slow) = (csv_escaping(delim, quote, escape), bytewise(delim, quote, escape));
            for _ in 0..3000 {
                let len = (next() % 40) as usize;
                // Mostly plain letters, so that runs of 8 clean bytes occur.
                let value: Vec<u8> = (0..len).map(|_| if next() % 4 == 0 { alphabet[(next() % alphabet.len() as u64) as usize] } else { b'x' }).collect();
                assert_eq!(text(&fast, &value), text(&slow, &value), "text of {value:?}");
                for (forced, single) in [(false, false), (true, false), (false, true)] {
                    assert_eq!(csv(&fast, &value, forced, single), csv(&slow, &value, forced, single), "csv of {value:?}");
                }
            }
        }
    }
}
