//! The header of a custom-format archive (`pg_dump -Fc`), read as pg_restore reads it
//! (pg_backup_archiver.c, ReadHead): which pg_dump wrote it. pg_restore cannot read an
//! archive of a newer pg_dump, and says so only once it runs; a restore checks this first,
//! before anything changes on the target.

/// What the header says about where an archive comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Archive format version, as `1.16`.
    pub format: (u8, u8),
    /// The server that was dumped, as `18.6`.
    pub server_version: Option<String>,
    /// The pg_dump that wrote it, as `18.6`.
    pub pg_dump_version: Option<String>,
}

/// Bytes of an archive's start that always hold its header (a database name is at most 63
/// bytes, the versions a few dozen).
pub const HEADER_BYTES: usize = 1024;

/// The header at the start of `bytes`; `None` when they are not the start of an archive pgvault
/// can read the header of (a format before 1.10, or cut short).
pub fn parse(bytes: &[u8]) -> Option<Header> {
    let mut r = Reader { bytes: bytes.strip_prefix(b"PGDMP")?, int_size: 0 };
    let (major, minor, _revision) = (r.byte()?, r.byte()?, r.byte()?);
    if (major, minor) < (1, 10) {
        return None;
    }
    r.int_size = r.byte()? as usize;
    if !(1..=8).contains(&r.int_size) {
        return None;
    }
    let _offset_size = r.byte()?;
    let _format = r.byte()?;
    if (major, minor) >= (1, 15) {
        let _compression_algorithm = r.byte()?;
    } else {
        let _compression_level = r.int()?;
    }
    for _ in 0..7 {
        let _time_field = r.int()?;
    }
    let _database = r.string()?;
    let server_version = r.string()?;
    let pg_dump_version = r.string()?;
    Some(Header { format: (major, minor), server_version, pg_dump_version })
}

/// The major version in a version string: `18` of `18.6`, `9` of `9.6.24`.
pub fn major(version: &str) -> Option<u32> {
    let version = version.split_once(") ").map_or(version, |(_, v)| v).trim_start();
    let digits: String = version.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

struct Reader<'a> {
    bytes: &'a [u8],
    int_size: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    /// WriteInt: a sign byte, then `int_size` bytes, least significant first.
    fn int(&mut self) -> Option<i64> {
        let negative = self.byte()? != 0;
        let mut value: i64 = 0;
        for i in 0..self.int_size {
            value |= i64::from(self.byte()?) << (8 * i.min(7));
        }
        Some(if negative { -value } else { value })
    }

    /// WriteStr: a length (-1 for none), then the bytes.
    fn string(&mut self) -> Option<Option<String>> {
        let length = self.int()?;
        if length < 0 {
            return Some(None);
        }
        let length = usize::try_from(length).ok()?;
        let text = self.bytes.get(..length)?;
        self.bytes = &self.bytes[length..];
        Some(Some(String::from_utf8_lossy(text).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(out: &mut Vec<u8>, value: i64) {
        out.push(u8::from(value < 0));
        out.extend_from_slice(&value.unsigned_abs().to_le_bytes()[..4]);
    }

    fn string(out: &mut Vec<u8>, value: Option<&str>) {
        match value {
            Some(s) => {
                int(out, s.len() as i64);
                out.extend_from_slice(s.as_bytes());
            }
            None => int(out, -1),
        }
    }

    fn archive(major: u8, minor: u8, server: Option<&str>, dumped_by: Option<&str>) -> Vec<u8> {
        let mut out = b"PGDMP".to_vec();
        out.extend_from_slice(&[major, minor, 0, 4, 8, 1]);
        if (major, minor) >= (1, 15) {
            out.push(0);
        } else {
            int(&mut out, -1);
        }
        for field in [5, 4, 3, 1, 11, 126, 0] {
            int(&mut out, field);
        }
        string(&mut out, Some("app"));
        string(&mut out, server);
        string(&mut out, dumped_by);
        out.extend_from_slice(b"the table of contents follows");
        out
    }

    #[test]
    fn headers_of_each_format() {
        let h = parse(&archive(1, 16, Some("18.6"), Some("18.6"))).unwrap();
        assert_eq!(h, Header { format: (1, 16), server_version: Some("18.6".into()), pg_dump_version: Some("18.6".into()) });
        let h = parse(&archive(1, 14, Some("15.20 (Debian 15.20-0+deb12u1)"), Some("15.20 (Debian 15.20-0+deb12u1)"))).unwrap();
        assert_eq!((h.format, h.pg_dump_version.as_deref().and_then(major)), ((1, 14), Some(15)));
        assert_eq!(parse(&archive(1, 14, None, None)).unwrap().pg_dump_version, None);
    }

    #[test]
    fn what_is_not_a_header() {
        assert_eq!(parse(b"-- plain SQL"), None);
        assert_eq!(parse(&archive(1, 9, Some("9.0"), Some("9.0"))), None);
        let whole = archive(1, 16, Some("18.6"), Some("18.6"));
        for cut in [5, 9, 20, 60, whole.len() - 40] {
            assert_eq!(parse(&whole[..cut]), None, "cut at {cut}");
        }
        let mut huge = whole.clone();
        huge[8] = 200;
        assert_eq!(parse(&huge), None);
    }

    #[test]
    fn majors() {
        assert_eq!(major("18.6"), Some(18));
        assert_eq!(major("15.20 (Debian 15.20-0+deb12u1)"), Some(15));
        assert_eq!(major("pg_restore (PostgreSQL) 17.2"), Some(17));
        assert_eq!(major("9.6.24"), Some(9));
        assert_eq!(major("devel"), None);
    }
}
