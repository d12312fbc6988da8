//! What `pgvault restore` lets psql run. The plain-SQL files of a point or of files restored
//! as files (pg_dumpall's roles and tablespaces, plain database dumps) go to psql, which
//! would also obey psql meta-commands in them: `\! command` runs a shell command on the
//! restore host. A vault holds data, never commands for the host, so each such file is read
//! here the way psql reads it before anything is restored, and any meta-command other than
//! those pg_dump itself writes (`\connect <database>`, `\encoding SQL_ASCII`,
//! `\restrict <key>`, `\unrestrict <key>`; the `\.` ending COPY data is data) refuses the
//! restore, naming the line. While the file then streams into psql it is read again, so a
//! file changed in between stops at the same line.
//!
//! How psql reads a file (psqlscan.l, psqlscanslash.l, copy.c in PostgreSQL): a backslash
//! outside quotes, comments and dollar quotes starts a meta-command, which takes the rest of
//! its line; after a `COPY ... FROM stdin` statement the lines that follow are data up to a
//! line `\.`. psql runs with ON_ERROR_STOP, so a COPY that fails stops it rather than turning
//! its data into commands. Where psql versions or session settings could read a file in two
//! ways, the file is refused:
//! - a string literal whose end depends on standard_conforming_strings (a backslash before
//!   one of its quotes);
//! - a `$` right after a word or number where a dollar quote could open;
//! - a number run into letters (`1abc`), which psql versions split differently;
//! - `:NAME`, which psql replaces with the value of its variable NAME and reads again;
//! - a NUL byte (psql drops what follows it on the line);
//! - `COPY ... FROM stdin` inside what psql 14 and later take for a function body, or
//!   followed by more text on its line;
//! - a meta-command that does not stand alone on its line between statements.
//!
//! A client_encoding set by the SQL as it runs changes how psql reads the lines after it (in
//! SJIS a byte hides the quote after it), which no reading ahead of time can follow. So where
//! psql has `\restrict` (13.22, 14.19, 15.14, 16.10, 17.6, 18 and later) the file runs
//! restricted under a key of pgvault's own, lifted only for the accepted `\connect` and
//! `\encoding` lines; with an older psql, text outside COPY data must be ASCII.

use std::fmt;

use crate::error::Error;

/// Why a file may not go to psql, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub line: u64,
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The psql that runs the files: its version, and the key it is restricted with when it has
/// `\restrict`.
#[derive(Debug, Clone)]
pub struct Psql {
    version: String,
    key: Option<String>,
}

impl Psql {
    /// From what `psql --version` prints ("psql (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)").
    pub fn from_version(text: &str) -> Result<Psql, Error> {
        let version = text.split_once(") ").map_or(text, |(_, v)| v).split_whitespace().next().unwrap_or("").to_string();
        let key = if has_restrict(&version) { Some(new_key()?) } else { None };
        Ok(Psql { version, key })
    }

    /// What psql reads before a file: `\restrict <key>`, when it has `\restrict`.
    pub fn prologue(&self) -> Option<String> {
        self.key.as_ref().map(|key| format!("\\restrict {key}\n"))
    }

    #[cfg(test)]
    fn with(version: &str, key: Option<&str>) -> Psql {
        Psql { version: version.into(), key: key.map(str::to_string) }
    }
}

/// Whether psql `version` has `\restrict` (added in 18 and in 13.22, 14.19, 15.14, 16.10, 17.6).
fn has_restrict(version: &str) -> bool {
    let number = |s: &str| s.bytes().take_while(u8::is_ascii_digit).fold(None, |n: Option<u32>, d| Some(n.unwrap_or(0).saturating_mul(10).saturating_add(u32::from(d - b'0'))));
    let Some(major) = number(version) else { return false };
    let rest = version.trim_start_matches(|c: char| c.is_ascii_digit());
    let minor = rest.strip_prefix('.').and_then(number);
    match (major, minor) {
        (19.., _) | (18, Some(_)) => true,
        (17, Some(m)) => m >= 6,
        (16, Some(m)) => m >= 10,
        (15, Some(m)) => m >= 14,
        (14, Some(m)) => m >= 19,
        (13, Some(m)) => m >= 22,
        _ => false,
    }
}

/// 64 random letters and digits, as pg_dump's keys are.
fn new_key() -> Result<String, Error> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 64];
    let mut filled = 0;
    while filled < bytes.len() {
        let n = unsafe { libc::getrandom(bytes[filled..].as_mut_ptr().cast(), bytes.len() - filled, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(Error::io("cannot draw a random key for psql's \\restrict", e));
            }
            continue;
        }
        filled += n as usize;
    }
    Ok(bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect())
}

/// One file on its way to psql: `feed` it piece by piece, then `finish`; each writes what
/// psql is to read into `out` (the file as it is, but for the `\restrict` lines, which carry
/// pgvault's key instead of the file's).
pub struct Script {
    key: Option<String>,
    /// The version of a psql without `\restrict`, which makes non-ASCII text a refusal.
    unrestricted_psql: Option<String>,
    /// Number of the line being read, from 1.
    line: u64,
    /// The SQL line gathered so far (COPY data streams through instead).
    pending: Vec<u8>,
    lex: Lex,
    statement: Statement,
    /// In COPY data: the start of the current line while it may still be the end marker.
    copy: Option<Option<Vec<u8>>>,
    copy_next: bool,
    /// Whether psql is restricted at this point of what it was given.
    restricted: bool,
    /// The line ending of a line that may become `\restrict` or `\unrestrict` (a blank line,
    /// or one of the file's own `\restrict` lines), not yet written.
    held: Option<Vec<u8>>,
}

/// Where the lexer is when a line ends.
#[derive(Debug, Clone, PartialEq)]
enum Lex {
    Sql,
    /// In a /* */ comment, this deep in nested ones.
    Comment(u32),
    /// In a '...' string, read with backslash escapes (standard_conforming_strings off) and
    /// without, since a session may have either; it must end at the same place both ways.
    /// An E'...' string has escapes only (no `plain` reading).
    Quote { from: u64, plain: Option<Reading>, escaped: Reading },
    /// In a "..." name.
    Name,
    /// In a $tag$ ... $tag$ string.
    Dollar(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    Inside,
    Backslash,
    Quote,
    Ended,
}

impl Reading {
    fn next(self, c: u8, escapes: bool) -> Reading {
        match self {
            Reading::Inside if c == b'\'' => Reading::Quote,
            Reading::Inside if escapes && c == b'\\' => Reading::Backslash,
            Reading::Inside | Reading::Backslash => Reading::Inside,
            Reading::Quote if c == b'\'' => Reading::Inside,
            Reading::Quote | Reading::Ended => Reading::Ended,
        }
    }
}

/// What a line is, for what psql is given.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Line {
    /// Only white space, between statements.
    Blank,
    Text,
    Meta(Meta),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Meta {
    /// `\connect` or `\encoding`: run unrestricted.
    Session,
    /// `\restrict` or `\unrestrict`: replaced by pgvault's own.
    Restrict,
}

/// What the statement being read is, as far as psql's sending it matters.
#[derive(Debug, Default)]
struct Statement {
    /// Tokens since the last `;` outside parentheses (where psql 13 sends a statement).
    tokens: u64,
    copy: Copy,
    parens: u32,
    /// psql 14 and later do not send at a `;` inside BEGIN ... END of CREATE FUNCTION or
    /// PROCEDURE: their heuristic (psqlscan.l), repeated here.
    begin_depth: u32,
    identifiers: [u8; 4],
    identifier_count: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum Copy {
    #[default]
    Start,
    /// COPY, before its FROM or TO.
    Head,
    /// COPY ... FROM, before STDIN.
    From,
    /// COPY ... FROM STDIN: its data follows the statement.
    FromStdin,
    Not,
}

impl Statement {
    fn is_empty(&self) -> bool {
        self.tokens == 0 && self.parens == 0 && self.begin_depth == 0
    }

    /// A token; `word` is an identifier's lower-case text.
    fn token(&mut self, word: Option<&[u8]>) {
        self.tokens += 1;
        self.copy = match (self.copy, word) {
            (Copy::Start, Some(b"copy")) => Copy::Head,
            (Copy::Start, _) => Copy::Not,
            (Copy::Head, Some(b"from")) if self.parens == 0 => Copy::From,
            (Copy::Head, Some(b"to")) if self.parens == 0 => Copy::Not,
            (Copy::From, Some(b"program")) => Copy::From,
            (Copy::From, Some(b"stdin")) => Copy::FromStdin,
            (Copy::From, _) => Copy::Not,
            (state, _) => state,
        };
        let Some(word) = word else { return };
        if self.identifier_count == 0 {
            self.identifiers = [0; 4];
        }
        if matches!(word, b"create" | b"function" | b"procedure" | b"or" | b"replace") && self.identifier_count < 4 {
            self.identifiers[self.identifier_count] = word[0];
        }
        self.identifier_count += 1;
        let i = self.identifiers;
        let routine = i[0] == b'c' && (i[1] == b'f' || i[1] == b'p' || (i[1] == b'o' && i[2] == b'r' && (i[3] == b'f' || i[3] == b'p')));
        if routine && self.parens == 0 {
            match word {
                b"begin" => self.begin_depth += 1,
                b"case" if self.begin_depth >= 1 => self.begin_depth += 1,
                b"end" if self.begin_depth > 0 => self.begin_depth -= 1,
                _ => {}
            }
        }
    }

    /// A `;`; true when it ends a COPY ... FROM stdin.
    fn semicolon(&mut self) -> Result<bool, String> {
        if self.parens > 0 {
            self.token(None);
            return Ok(false);
        }
        let copy = self.copy == Copy::FromStdin;
        self.tokens = 0;
        self.copy = Copy::Start;
        if self.begin_depth > 0 {
            if copy {
                return Err("COPY ... FROM stdin inside what psql 14 and later read as the BEGIN ... END body of a function, and psql 13 as a statement of its own".into());
            }
            return Ok(false);
        }
        self.identifier_count = 0;
        Ok(copy)
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// A byte of an identifier, a number or a parameter (psql's ident_cont).
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

fn is_tag_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_tag(c: u8) -> bool {
    is_tag_start(c) || c.is_ascii_digit()
}

/// The end of a dollar-quote delimiter (`$$`, `$tag$`) that starts at `at`, if one does.
fn delimiter(line: &[u8], at: usize) -> Option<usize> {
    match line.get(at + 1) {
        Some(b'$') => Some(at + 2),
        Some(&c) if is_tag_start(c) => {
            let end = at + 2 + line[at + 2..].iter().take_while(|&&c| is_tag(c)).count();
            (line.get(end) == Some(&b'$')).then_some(end + 1)
        }
        _ => None,
    }
}

fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]).into_owned();
    if bytes.len() > 40 {
        format!("{text}...")
    } else {
        text
    }
}

impl Script {
    pub fn new(psql: &Psql) -> Script {
        Script {
            key: psql.key.clone(),
            unrestricted_psql: psql.key.is_none().then(|| psql.version.clone()),
            line: 1,
            pending: Vec::new(),
            lex: Lex::Sql,
            statement: Statement::default(),
            copy: None,
            copy_next: false,
            restricted: psql.key.is_some(),
            held: None,
        }
    }

    /// Reads a whole file; the first refusal, if any.
    pub fn check(psql: &Psql, text: &[u8]) -> Result<(), Refusal> {
        let mut script = Script::new(psql);
        let mut out = Vec::new();
        script.feed(text, &mut out)?;
        script.finish(&mut out)
    }

    /// The next bytes of the file; what psql is to read of them is appended to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<u8>) -> Result<(), Refusal> {
        while !bytes.is_empty() {
            if self.copy.is_some() {
                let used = self.copy_data(bytes, out)?;
                bytes = &bytes[used..];
                continue;
            }
            match bytes.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    self.pending.extend_from_slice(&bytes[..=end]);
                    bytes = &bytes[end + 1..];
                    let line = std::mem::take(&mut self.pending);
                    self.sql_line(&line, out)?;
                }
                None => {
                    self.pending.extend_from_slice(bytes);
                    bytes = &[];
                }
            }
        }
        Ok(())
    }

    /// The end of the file.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), Refusal> {
        match self.copy.take() {
            // The end of the file ends COPY data.
            Some(head) => out.extend_from_slice(&head.unwrap_or_default()),
            None if !self.pending.is_empty() => {
                let line = std::mem::take(&mut self.pending);
                self.sql_line(&line, out)?;
            }
            None => {}
        }
        if let Some(ending) = self.held.take() {
            out.extend_from_slice(&ending);
        }
        Ok(())
    }

    fn refusal(&self, reason: impl Into<String>) -> Refusal {
        Refusal { line: self.line, reason: reason.into() }
    }

    /// COPY data: passed on as it is, up to and with a line `\.`; returns the bytes used.
    fn copy_data(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Result<usize, Refusal> {
        const ENDS: [&[u8]; 2] = [b"\\.\n", b"\\.\r\n"];
        const NUL: &str = "a NUL byte in COPY data (psql drops what follows it on the line, and so would read lines differently)";
        let mut used = 0;
        while used < bytes.len() {
            let Some(head) = self.copy.take() else { break };
            match head {
                // A line's first bytes, held while they may be the end marker.
                Some(mut head) => {
                    let c = bytes[used];
                    used += 1;
                    if c == 0 {
                        return Err(self.refusal(NUL));
                    }
                    head.push(c);
                    if ENDS.contains(&head.as_slice()) {
                        // SQL again from the next line.
                        out.extend_from_slice(&head);
                        self.line += 1;
                    } else if ENDS.iter().any(|end| end.starts_with(&head)) {
                        self.copy = Some(Some(head));
                    } else {
                        out.extend_from_slice(&head);
                        if c == b'\n' {
                            self.line += 1;
                            head.clear();
                            self.copy = Some(Some(head));
                        } else {
                            self.copy = Some(None);
                        }
                    }
                }
                None => {
                    let rest = &bytes[used..];
                    let end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |p| p + 1);
                    if rest[..end].contains(&0) {
                        return Err(self.refusal(NUL));
                    }
                    out.extend_from_slice(&rest[..end]);
                    used += end;
                    if rest[end - 1] == b'\n' {
                        self.line += 1;
                        self.copy = Some(Some(Vec::new()));
                    } else {
                        self.copy = Some(None);
                    }
                }
            }
        }
        Ok(used)
    }

    /// A whole line outside COPY data (with its newline, but for the last line of a file).
    fn sql_line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Result<(), Refusal> {
        let kind = self.lex_line(line)?;
        let ending: &[u8] = if line.ends_with(b"\r\n") {
            b"\r\n"
        } else if line.ends_with(b"\n") {
            b"\n"
        } else {
            b""
        };
        self.write(kind, line, ending, out);
        self.line += 1;
        if std::mem::take(&mut self.copy_next) {
            self.copy = Some(Some(Vec::new()));
        }
        Ok(())
    }

    /// Writes a line for psql. With `\restrict`, psql stays restricted but for the accepted
    /// `\connect` and `\encoding` lines: `\unrestrict` goes on the blank (or `\unrestrict`)
    /// line before them, `\restrict` on the first such line after, and on a line of its own
    /// only when there is none (which moves psql's line numbers by one).
    fn write(&mut self, kind: Line, line: &[u8], ending: &[u8], out: &mut Vec<u8>) {
        let Some(key) = self.key.clone() else {
            // A psql without \restrict would fail on the file's own.
            out.extend_from_slice(if kind == Line::Meta(Meta::Restrict) { ending } else { line });
            return;
        };
        let switch = |out: &mut Vec<u8>, held: Option<Vec<u8>>, command: &str| {
            out.extend_from_slice(format!("\\{command} {key}").as_bytes());
            out.extend_from_slice(&held.unwrap_or_else(|| b"\n".to_vec()));
        };
        match kind {
            Line::Blank | Line::Meta(Meta::Restrict) => {
                if let Some(held) = self.held.take() {
                    if self.restricted {
                        out.extend_from_slice(&held);
                    } else {
                        switch(out, Some(held), "restrict");
                        self.restricted = true;
                    }
                }
                self.held = Some(ending.to_vec());
            }
            Line::Meta(Meta::Session) => {
                let held = self.held.take();
                if self.restricted {
                    switch(out, held, "unrestrict");
                    self.restricted = false;
                } else if let Some(held) = held {
                    out.extend_from_slice(&held);
                }
                out.extend_from_slice(line);
            }
            Line::Text => {
                let held = self.held.take();
                if !self.restricted {
                    switch(out, held, "restrict");
                    self.restricted = true;
                } else if let Some(held) = held {
                    out.extend_from_slice(&held);
                }
                out.extend_from_slice(line);
            }
        }
    }

    /// Lexes one line as psql would, from the state the previous one left.
    fn lex_line(&mut self, line: &[u8]) -> Result<Line, Refusal> {
        if line.contains(&0) {
            return Err(self.refusal("a NUL byte (psql drops what follows it on the line, and so would read the file differently)"));
        }
        if let Some(version) = &self.unrestricted_psql {
            if line.iter().any(|&b| b >= 0x80) {
                return Err(self.refusal(format!(
                    "text outside ASCII, and psql {version} has no \\restrict: a client_encoding that the SQL sets as it runs could hide a meta-command from this check; use psql 13.22, 14.19, 15.14, 16.10, 17.6, 18 or later (--pg-bin)"
                )));
            }
        }
        let between = self.lex == Lex::Sql && self.statement.is_empty();
        if between && line.iter().all(|&b| is_space(b)) {
            return Ok(Line::Blank);
        }
        let n = line.len();
        // psql skips a UTF-8 byte order mark at the start of a file read as UTF-8.
        let mut i = if self.line == 1 && line.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        let mut seen = false;
        let mut copy_ended = false;
        // Where the last number ended, for "1.e5".
        let mut number_end = None;
        while i < n {
            let c = line[i];
            match &mut self.lex {
                Lex::Sql => {
                    if is_space(c) {
                        i += 1;
                        continue;
                    }
                    if copy_ended {
                        return Err(self.refusal("text after COPY ... FROM stdin; on its line (psql reads it only after the COPY data)"));
                    }
                    let first = !seen;
                    seen = true;
                    match c {
                        b'\\' => {
                            let end = n - if line.ends_with(b"\n") { 1 } else { 0 };
                            let meta = meta_command(&line[i + 1..end]).map_err(|e| self.refusal(e))?;
                            if !(first && between) {
                                return Err(self.refusal(format!("psql meta-command {} inside a statement or after other text on its line; pgvault accepts it only on a line of its own between statements", shown(&line[i..end]))));
                            }
                            return Ok(Line::Meta(meta));
                        }
                        b'-' if line.get(i + 1) == Some(&b'-') => {
                            // A comment, to the end of the line; psql ends it at a \r too.
                            i += 2 + line[i + 2..].iter().take_while(|&&b| b != b'\n' && b != b'\r').count();
                        }
                        b'/' if line.get(i + 1) == Some(&b'*') => {
                            self.lex = Lex::Comment(0);
                            i += 2;
                        }
                        b'\'' => {
                            self.statement.token(None);
                            self.lex = Lex::Quote { from: self.line, plain: Some(Reading::Inside), escaped: Reading::Inside };
                            i += 1;
                        }
                        b'"' => {
                            self.statement.token(None);
                            self.lex = Lex::Name;
                            i += 1;
                        }
                        b'$' if delimiter(line, i).is_some() => {
                            let end = delimiter(line, i).expect("checked");
                            self.statement.token(None);
                            self.lex = Lex::Dollar(line[i + 1..end - 1].to_vec());
                            i = end;
                        }
                        b':' => i = self.colon(line, i)?,
                        b'(' => {
                            self.statement.token(None);
                            self.statement.parens += 1;
                            i += 1;
                        }
                        b')' => {
                            self.statement.token(None);
                            self.statement.parens = self.statement.parens.saturating_sub(1);
                            i += 1;
                        }
                        b';' => {
                            copy_ended = self.statement.semicolon().map_err(|e| self.refusal(e))?;
                            i += 1;
                        }
                        c if is_word(c) => i = self.word(line, i, &mut number_end)?,
                        _ => {
                            self.statement.token(None);
                            i += 1;
                        }
                    }
                }
                Lex::Comment(depth) => match (c, line.get(i + 1)) {
                    (b'/', Some(b'*')) => {
                        *depth += 1;
                        i += 2;
                    }
                    (b'*', Some(b'/')) => {
                        if *depth == 0 {
                            self.lex = Lex::Sql;
                        } else {
                            *depth -= 1;
                        }
                        i += 2;
                    }
                    _ => i += 1,
                },
                Lex::Quote { from, plain, escaped } => {
                    let (p, e) = (plain.map(|p| p.next(c, false)), escaped.next(c, true));
                    match (p.map_or(e == Reading::Ended, |p| p == Reading::Ended), e == Reading::Ended) {
                        // Ended before this byte, which is read again as SQL.
                        (true, true) => self.lex = Lex::Sql,
                        (false, false) => {
                            (*plain, *escaped) = (p, e);
                            i += 1;
                        }
                        _ => {
                            let from = *from;
                            return Err(self.refusal(format!(
                                "the string literal begun on line {from} ends at one place with standard_conforming_strings on and at another with it off (a backslash before a quote), so what psql reads after it cannot be told"
                            )));
                        }
                    }
                }
                Lex::Name => {
                    if c == b'"' && line.get(i + 1) == Some(&b'"') {
                        i += 2;
                    } else {
                        if c == b'"' {
                            self.lex = Lex::Sql;
                        }
                        i += 1;
                    }
                }
                Lex::Dollar(tag) => {
                    // psql tries a delimiter at each $, and goes on from its closing $ when
                    // it is another one.
                    if c != b'$' {
                        i += 1;
                    } else if line.get(i + 1) == Some(&b'$') {
                        if tag.is_empty() {
                            self.lex = Lex::Sql;
                            i += 2;
                        } else {
                            i += 1;
                        }
                    } else if line.get(i + 1).is_some_and(|&c| is_tag_start(c)) {
                        let end = i + 2 + line[i + 2..].iter().take_while(|&&c| is_tag(c)).count();
                        if line.get(end) == Some(&b'$') && line[i + 1..end] == **tag {
                            self.lex = Lex::Sql;
                            i = end + 1;
                        } else {
                            i = end;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
        }
        self.copy_next = copy_ended;
        Ok(Line::Text)
    }

    /// A word (identifier, keyword, number or $n parameter) starting at `at`; returns its end.
    fn word(&mut self, line: &[u8], at: usize, number_end: &mut Option<usize>) -> Result<usize, Refusal> {
        let end = at + line[at..].iter().take_while(|&&c| is_word(c)).count();
        let word = &line[at..end];
        if let Some(p) = (at + 1..end).find(|&p| line[p] == b'$' && delimiter(line, p).is_some()) {
            return Err(self.refusal(format!(
                "\"{}\": a $ right after a word or number opens a dollar quote for some versions of psql and not for others",
                shown(&line[at..delimiter(line, p).expect("found")])
            )));
        }
        let junk = || format!("\"{}\": a number run into letters, which versions of psql split differently", shown(word));
        if word[0].is_ascii_digit() {
            let digits = word.iter().take_while(|c| c.is_ascii_digit()).count();
            let rest = &word[digits..];
            let number = rest.is_empty()
                || (rest.len() > 1 && matches!(rest[0], b'e' | b'E') && rest[1..].iter().all(u8::is_ascii_digit))
                || (matches!(rest, b"e" | b"E") && matches!(line.get(end), Some(b'+' | b'-')) && line.get(end + 1).is_some_and(u8::is_ascii_digit));
            if !number {
                return Err(self.refusal(junk()));
            }
            self.statement.token(None);
            *number_end = Some(end);
        } else if word[0] == b'$' {
            // $1 is a parameter; $name (no closing $) is psql's $ then an identifier.
            let name = &word[1..];
            if name.first().is_some_and(u8::is_ascii_digit) {
                if !name.iter().all(u8::is_ascii_digit) {
                    return Err(self.refusal(junk()));
                }
                self.statement.token(None);
            } else {
                self.statement.token(None);
                if !name.is_empty() {
                    self.statement.token(Some(&name.to_ascii_lowercase()));
                }
            }
        } else {
            // "1.e5" is one number to psql, a number, a dot and a word here.
            if at >= 2 && line[at - 1] == b'.' && *number_end == Some(at - 1) && matches!(word[0], b'e' | b'E') {
                return Err(self.refusal(format!("\"{}\": a number run into letters, which versions of psql split differently", shown(&line[at - 2..end]))));
            }
            if matches!(word, b"e" | b"E") && line.get(end) == Some(&b'\'') {
                // E'...': backslash escapes whatever the session's settings.
                self.statement.token(None);
                self.lex = Lex::Quote { from: self.line, plain: None, escaped: Reading::Inside };
                return Ok(end + 1);
            }
            self.statement.token(Some(&word.to_ascii_lowercase()));
        }
        Ok(end)
    }

    /// A `:` in SQL: `::`, or psql's `:name`, replaced by the value of a psql variable of that
    /// name and read again. psql's own variables (DBNAME, HOST, LAST_ERROR_MESSAGE, ...) are
    /// upper case; a name with a lower-case letter, or digits only, names none.
    fn colon(&mut self, line: &[u8], at: usize) -> Result<usize, Refusal> {
        self.statement.token(None);
        if line.get(at + 1) == Some(&b':') {
            return Ok(at + 2);
        }
        let end = at + 1 + line[at + 1..].iter().take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80).count();
        let name = &line[at + 1..end];
        if !name.is_empty() && !name.iter().all(u8::is_ascii_digit) && !name.iter().any(u8::is_ascii_lowercase) {
            return Err(self.refusal(format!(":{}: psql would put the value of its variable {} here and read it as more of the file", shown(name), shown(name))));
        }
        Ok(end)
    }
}

/// A meta-command (the text after its backslash, to the end of the line), if it is one
/// pgvault lets psql run.
fn meta_command(text: &[u8]) -> Result<Meta, String> {
    let name_end = text.iter().position(|&c| is_space(c) || c == b'\\').unwrap_or(text.len());
    let name = &text[..name_end];
    let command = format!("\\{}", shown(name));
    let args = || meta_arguments(&text[name_end..]).map_err(|e| format!("{command}: {e}"));
    match name {
        b"connect" | b"c" => {
            connect_arguments(&args()?).map_err(|e| format!("{command}: {e}; a restore connects only to the target server it was given"))?;
            Ok(Meta::Session)
        }
        b"encoding" => match args()?.as_slice() {
            [Argument::Bare(e)] if e.eq_ignore_ascii_case(b"SQL_ASCII") || e.eq_ignore_ascii_case(b"UTF8") => Ok(Meta::Session),
            _ => Err(format!("{command}: only \\encoding SQL_ASCII (which pg_dump writes before a \\connect) or UTF8 is accepted")),
        },
        b"restrict" | b"unrestrict" => match args()?.as_slice() {
            [Argument::Bare(key)] if key.iter().all(u8::is_ascii_alphanumeric) => Ok(Meta::Restrict),
            _ => Err(format!("{command}: its key must be one word of letters and digits")),
        },
        _ => Err(format!(
            "psql meta-command {command}; a restore runs SQL only, with no psql commands but the \\connect, \\encoding, \\restrict and \\unrestrict lines pg_dump writes"
        )),
    }
}

#[derive(Debug, PartialEq)]
enum Argument {
    Bare(Vec<u8>),
    /// A "..." argument, its quotes taken off.
    Quoted(Vec<u8>),
}

impl Argument {
    fn value(&self) -> &[u8] {
        match self {
            Argument::Bare(v) | Argument::Quoted(v) => v,
        }
    }
}

/// A meta-command's arguments, if they are plain: words of letters, digits and `_.=-`, or
/// double-quoted text, which psql takes as it is. Single quotes (psql's escapes), back quotes
/// (a shell command), `:` (psql variables) and a further backslash (another command) are not.
fn meta_arguments(text: &[u8]) -> Result<Vec<Argument>, String> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        i += text[i..].iter().take_while(|&&c| is_space(c)).count();
        if i == text.len() {
            return Ok(args);
        }
        if text[i] == b'"' {
            let mut value = Vec::new();
            i += 1;
            loop {
                match (text.get(i), text.get(i + 1)) {
                    (None, _) => return Err("a double quote left open".into()),
                    (Some(b'"'), Some(b'"')) => {
                        value.push(b'"');
                        i += 2;
                    }
                    (Some(b'"'), _) => {
                        i += 1;
                        break;
                    }
                    (Some(&c), _) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            if text.get(i).is_some_and(|&c| !is_space(c)) {
                return Err("text right after a double-quoted argument".into());
            }
            args.push(Argument::Quoted(value));
        } else {
            let end = i + text[i..].iter().take_while(|&&c| !is_space(c)).count();
            if let Some(&c) = text[i..end].iter().find(|&&c| !(c.is_ascii_alphanumeric() || b"_.=-".contains(&c))) {
                return Err(format!("'{}' in an argument (accepted: letters, digits, _ . = - and double-quoted text)", c.escape_ascii()));
            }
            args.push(Argument::Bare(text[i..end].to_vec()));
            i = end;
        }
    }
}

/// `\connect`'s arguments must name a database only: one name, or `-reuse-previous=on` and a
/// connection string of a dbname alone, as pg_dump writes them.
fn connect_arguments(args: &[Argument]) -> Result<(), String> {
    let database = |value: &[u8]| -> Result<(), String> {
        let text = String::from_utf8_lossy(value);
        if text.starts_with("postgresql://") || text.starts_with("postgres://") {
            return Err("it names a connection URI, not a database".into());
        }
        if text.contains('=') {
            let keys = conninfo(&text).map(|pairs| pairs.into_iter().map(|(k, _)| format!("{k}=")).collect::<Vec<_>>().join(" ")).unwrap_or_default();
            return Err(format!("it names a connection ({keys}), not a database"));
        }
        if text.is_empty() {
            return Err("an empty database name".into());
        }
        Ok(())
    };
    match args {
        [name] => database(name.value()),
        [Argument::Bare(flag), connection] if flag == b"-reuse-previous=on" => {
            let text = String::from_utf8_lossy(connection.value()).into_owned();
            if !text.contains('=') {
                return database(connection.value());
            }
            let pairs = conninfo(&text).map_err(|e| format!("its connection string {e}"))?;
            match pairs.as_slice() {
                [(key, value)] if key == "dbname" => database(value.as_bytes()),
                _ => Err(format!("it names a connection ({}), not only a database", pairs.iter().map(|(k, _)| format!("{k}=")).collect::<Vec<_>>().join(" "))),
            }
        }
        [] => Err("no database".into()),
        _ => Err(format!("{} arguments: besides a database they name a user, a host or a port", args.len())),
    }
}

/// The keyword=value pairs of a libpq connection string.
fn conninfo(text: &str) -> Result<Vec<(String, String)>, String> {
    let b = text.as_bytes();
    let mut pairs = Vec::new();
    let mut i = 0;
    let skip = |i: &mut usize| *i += b[*i..].iter().take_while(|c| c.is_ascii_whitespace()).count();
    loop {
        skip(&mut i);
        if i == b.len() {
            return Ok(pairs);
        }
        let start = i;
        i += b[i..].iter().take_while(|&&c| c != b'=' && !c.is_ascii_whitespace()).count();
        let key = text[start..i].to_string();
        skip(&mut i);
        if b.get(i) != Some(&b'=') {
            return Err(format!("has \"{key}\" without =value"));
        }
        i += 1;
        skip(&mut i);
        let quoted = b.get(i) == Some(&b'\'');
        if quoted {
            i += 1;
        }
        let mut value = Vec::new();
        loop {
            match b.get(i) {
                None if quoted => return Err("has a quote left open".into()),
                None => break,
                Some(b'\\') => {
                    value.extend(b.get(i + 1));
                    i += 2;
                }
                Some(b'\'') if quoted => {
                    i += 1;
                    break;
                }
                Some(c) if !quoted && c.is_ascii_whitespace() => break,
                Some(&c) => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        pairs.push((key, String::from_utf8_lossy(&value).into_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restricted() -> Psql {
        Psql::with("15.20", Some("KEY"))
    }

    fn check(text: &str) -> Result<(), Refusal> {
        Script::check(&restricted(), text.as_bytes())
    }

    fn refused(text: &str) -> Refusal {
        check(text).expect_err(text)
    }

    /// What psql is given, fed `chunk` bytes at a time.
    fn given(psql: &Psql, text: &str, chunk: usize) -> String {
        let mut script = Script::new(psql);
        let mut out = Vec::new();
        for piece in text.as_bytes().chunks(chunk) {
            script.feed(piece, &mut out).unwrap();
        }
        script.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn shell_commands_are_refused_where_psql_runs_them() {
        let r = refused("SELECT 1;\n\\! id > /tmp/pwned\n");
        assert_eq!(r.line, 2);
        assert!(r.reason.starts_with("psql meta-command \\!;"), "{r}");
        assert_eq!(refused("select 1; \\! id\n").reason.split(';').next(), Some("psql meta-command \\!"));
        assert_eq!(refused("SELECT 1 \\! id\n").line, 1);
        // After a string, a dollar quote or a comment closes, and on a line after a \r.
        for text in ["SELECT 'a''b' \\! id\n", "SELECT $$x$$; \\! id\n", "/* a /* b */ c */ \\! id\n", "-- note\r\\! id\n", "SELECT E'x\\'' \\! x\n"] {
            assert!(refused(text).reason.contains("\\!"), "{text}");
        }
        for command in ["\\i /etc/passwd", "\\o /tmp/x", "\\copy t from '/etc/passwd'", "\\set ON_ERROR_STOP 0", "\\gexec", "\\g", "\\;", "\\w /tmp/x", "\\setenv X y", "\\ir x", "\\.", "\\"] {
            let r = refused(&format!("SELECT 1;\n{command}\n"));
            assert!(r.reason.starts_with("psql meta-command \\"), "{command}: {r}");
            assert_eq!(r.line, 2);
        }
    }

    #[test]
    fn backslashes_in_data_are_data() {
        check("SELECT '\\! id';\n").unwrap();
        check("SELECT E'\\\\! id', E'it\\'s', e'\\'';\n").unwrap();
        check("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $_$ SELECT '\\! id' $_$;\n").unwrap();
        check("DO $body$\nBEGIN\n\\! id\nEND $body$;\n").unwrap();
        check("SELECT 1; -- \\! id\n/* \\! id\n/* nested */ \\! still a comment\n*/ SELECT 2;\n").unwrap();
        check("SELECT \"a\\! b\" FROM t;\n").unwrap();
        check("COPY public.t (a, b) FROM stdin;\n\\! id\n1\t\\N\n\\.\nSELECT 1;\n").unwrap();
        // An empty COPY, CSV data, a \r\n file.
        check("COPY t FROM stdin;\n\\.\nCOPY t FROM STDIN WITH (FORMAT csv);\n\"a\\\",\\x\n\\.\r\n").unwrap();
        check("COPY t FROM stdin;\r\na\\tb\r\n\\.\r\n\r\nSELECT 1;\r\n").unwrap();
        // The end of COPY data is a line \. only: what follows it is SQL again.
        let r = refused("COPY t FROM stdin;\n\\.x\n\\.\n\\! id\n");
        assert_eq!(r.line, 4);
    }

    #[test]
    fn what_pg_dump_writes_is_accepted() {
        let dump = "--\n-- PostgreSQL database dump\n--\n\n\\restrict 5dyveJUtmuLwbI9sGCVw7IgehY7DcbP2f\n\nSET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\nSELECT pg_catalog.set_config('search_path', '', false);\n\nCREATE DATABASE \"my-db\" WITH TEMPLATE = template0 ENCODING = 'UTF8';\n\n\\unrestrict 5dyveJUtmuLwbI9sGCVw7IgehY7DcbP2f\n\\encoding SQL_ASCII\n\\connect -reuse-previous=on \"dbname='my-db'\"\n\\restrict 5dyveJUtmuLwbI9sGCVw7IgehY7DcbP2f\n\nCREATE FUNCTION public.f() RETURNS integer\n    LANGUAGE sql\n    BEGIN ATOMIC\n SELECT 1;\nEND;\n\nCOMMENT ON TABLE public.t IS 'C:\\dir';\n\nCOPY public.t (a) FROM stdin;\na\\\\b\nx\\ny\n\\.\n\n\\connect postgres\n\\c \"Other.DB\"\n\\connect -reuse-previous=on \"dbname='it\\'s'\"\n\n\\unrestrict 5dyveJUtmuLwbI9sGCVw7IgehY7DcbP2f\n\n";
        check(dump).unwrap();
        // What psql is given: pgvault's key throughout, unrestricted only around \encoding and
        // \connect, line for line.
        let out = given(&restricted(), dump, 7);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), dump.lines().count(), "{out}");
        let at = |text: &str| lines.iter().position(|l| *l == text).unwrap_or_else(|| panic!("{text} in {out}"));
        assert_eq!(lines[dump.lines().position(|l| l.starts_with("\\restrict")).unwrap()], "");
        assert_eq!(lines[at("\\encoding SQL_ASCII") - 1], "\\unrestrict KEY");
        assert_eq!(lines[at("\\encoding SQL_ASCII") + 2], "\\restrict KEY");
        assert_eq!(lines[at("\\connect postgres") - 1], "\\unrestrict KEY");
        assert_eq!(lines[at("\\connect postgres") + 3], "\\restrict KEY");
        assert_eq!(out.matches("restrict KEY").count(), 4, "{out}");
        assert!(!out.contains("5dyve"), "{out}");
        assert_eq!(given(&restricted(), dump, 1), out);
        // Without \restrict in psql, the file's own lines are left out.
        let old = given(&Psql::with("15.13", None), dump, 4096);
        assert!(!old.contains("restrict"), "{old}");
        assert_eq!(old.lines().count(), dump.lines().count());
    }

    #[test]
    fn restriction_without_blank_lines_to_use() {
        let out = given(&restricted(), "\\connect a\nSELECT 1;\n\\connect b\n\\unrestrict K\n", 4096);
        assert_eq!(out, "\\unrestrict KEY\n\\connect a\n\\restrict KEY\nSELECT 1;\n\\unrestrict KEY\n\\connect b\n\n");
    }

    #[test]
    fn connect_names_a_database_only() {
        check("\\connect mydb\n\\c mydb\n\\connect \"My DB\"\n\\connect -reuse-previous=on \"dbname='a b'\"\n\\connect -reuse-previous=on dbname=x\n").unwrap();
        for (text, expect) in [
            ("\\connect \"host=evil.example dbname=x\"", "it names a connection (host= dbname=), not a database"),
            ("\\connect -reuse-previous=on \"dbname='x' host='10.0.0.1'\"", "(dbname= host=), not only a database"),
            ("\\connect -reuse-previous=on \"dbname='host=evil'\"", "it names a connection (host=), not a database"),
            ("\\connect postgresql://evil/db", "':' in an argument"),
            ("\\connect \"postgres://evil/db\"", "connection URI"),
            ("\\connect db user evil.example 5432", "4 arguments"),
            ("\\c db `id > /tmp/pwned`", "'`' in an argument"),
            ("\\connect :DBNAME", "':' in an argument"),
            ("\\connect 'db'", "'\\'' in an argument"),
            ("\\connect db \\! id", "'\\\\' in an argument"),
            ("\\connect -reuse-previous=off \"dbname=x\"", "2 arguments"),
        ] {
            let r = refused(&format!("{text}\n"));
            assert!(r.reason.contains(expect), "{text}: {r}");
            assert!(r.reason.starts_with("\\c"), "{text}: {r}");
        }
        assert!(refused("\\connect \"host=x\"\n").reason.ends_with("a restore connects only to the target server it was given"));
    }

    #[test]
    fn restrict_and_encoding() {
        check("\\restrict abc123\nSELECT 1;\n\\unrestrict abc123\n").unwrap();
        check("\\encoding SQL_ASCII\n\\encoding utf8\n").unwrap();
        assert!(refused("\\encoding SJIS\n").reason.contains("only \\encoding SQL_ASCII"));
        assert!(refused("\\restrict `id`\n").reason.contains("'`'"));
        assert!(refused("\\unrestrict a b\n").reason.contains("one word of letters and digits"));
    }

    #[test]
    fn meta_commands_stand_alone_between_statements() {
        check("SELECT 1;\n  \\connect db\n").unwrap();
        let r = refused("SELECT\n\\connect db\n1;\n");
        assert!(r.reason.contains("inside a statement"), "{r}");
        assert!(refused("SELECT 1; \\connect db\n").reason.contains("after other text"));
        assert!(refused("/* x */ \\connect db\n").reason.contains("after other text"));
    }

    #[test]
    fn strings_that_standard_conforming_strings_reads_two_ways() {
        // Off, '\' escapes the quote and the string goes on: the \! would run.
        let r = refused("SET standard_conforming_strings = off;\nSELECT 'x\\''; \\! id; --';\n");
        assert_eq!(r.line, 2);
        assert!(r.reason.contains("begun on line 2 ends at one place with standard_conforming_strings on"), "{r}");
        assert!(refused("COMMENT ON TABLE t IS 'C:\\dir\\';\n").reason.contains("standard_conforming_strings"));
        check("SELECT 'a\\\\', E'b\\\\', 'c\\d', '''', '\\''';\n").unwrap_err();
        assert!(refused("SELECT 'it\\'s';\n").reason.contains("standard_conforming_strings"));
        check("SELECT 'a\\\\', E'b\\\\', 'c\\d', '''';\n").unwrap();
    }

    #[test]
    fn a_backslash_right_after_an_e_string() {
        assert!(refused("SELECT E'a'\\! id\n").reason.contains("\\!"));
        assert!(refused("SELECT E'a\\\\'\\! id\n").reason.contains("\\!"));
        check("SELECT E'\\\\';\n").unwrap();
    }

    #[test]
    fn nested_comments() {
        check("/* a /* b */ \\! c */ SELECT 1;\n").unwrap();
        assert_eq!(refused("/* a /* b */ c */ */ \\! x\n").reason.split(';').next(), Some("psql meta-command \\!"));
        check("/* one\n/* two\n*/ still\n\\! in the comment\n*/\nSELECT 1;\n").unwrap();
        assert!(refused("/**/ \\! x\n").reason.contains("\\!"));
        assert!(refused("/*/ x */ \\! x\n").reason.contains("\\!"));
        assert!(refused("SELECT 1 +/* x */ 2; \\! y\n").reason.contains("\\!"));
        // */ split over two lines does not end the comment, for psql reads line by line.
        check("/* x *\n/ \\! y\n*/\n").unwrap();
    }

    #[test]
    fn dollar_quotes() {
        check("SELECT $a$ $b$ \\! $ab$ $$ $a$;\n").unwrap();
        assert!(refused("SELECT $a$ x $a$ \\! y\n").reason.contains("\\!"));
        check("SELECT $1, $x, a$b, \"x\"$$ \\! $$;\n").unwrap();
        assert!(refused("SELECT x$$ \\! $$;\n").reason.contains("opens a dollar quote for some versions"));
        assert!(refused("SELECT 1$$ \\! $$;\n").reason.contains("opens a dollar quote"));
        // psql's :name ends before a $, which then opens a dollar quote.
        check("SELECT :foo$$ \\! $$;\n").unwrap();
    }

    #[test]
    fn copy_from_stdin_is_found_as_psql_finds_it() {
        // Not COPY FROM STDIN: the lines after are SQL.
        for text in ["COPY t TO stdout;\n\\! id\n\\.\n", "COPY (SELECT a FROM stdin) TO STDOUT;\n\\! id\n", "COPY t FROM '/tmp/x';\n\\! id\n", "SELECT 'COPY t FROM stdin';\n\\! id\n", "copy\n t (a,\n b) from\n 'f';\n\\! x\n"] {
            assert!(refused(text).reason.contains("\\!"), "{text}");
        }
        check("copy\n  \"T\".x (a, \"from\")\n  FROM\n  STDIN (format csv);\n\\! data\n\\.\n").unwrap();
        check("COPY BINARY t FROM stdin;\n\\! data\n\\.\n").unwrap();
        assert!(refused("COPY t FROM stdin; SELECT 1;\n1\n\\.\n").reason.contains("text after COPY"));
        // In a BEGIN ATOMIC body psql 14 and later send nothing at the ;.
        let r = refused("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; COPY t FROM stdin;\n'\n\\.\n\\! id\nEND;\n");
        assert!(r.reason.contains("BEGIN ... END"), "{r}");
        check("CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC\n SELECT CASE WHEN true THEN 1 END;\n INSERT INTO t VALUES (1);\nEND;\nCOPY t FROM stdin;\n\\! data\n\\.\n").unwrap();
    }

    #[test]
    fn what_versions_of_psql_read_differently() {
        assert!(refused("SELECT 1abc;\n").reason.contains("a number run into letters"));
        assert!(refused("CREATE FUNCTION f() 1begin;\n").reason.contains("\"1begin\""));
        assert!(refused("SELECT 1.e5;\n").reason.contains("\"1.e5\""));
        check("SELECT 1e5, 1E+5, 1e-5, 1.5, .5e3, 1..2, $1, x1;\n").unwrap();
        assert!(refused("SELECT :DBNAME;\n").reason.starts_with(":DBNAME: psql would put the value"));
        check("SELECT a[1:2], a[lo:hi], x::text, f(a := 1), :'v', :\"v\";\n").unwrap();
        assert!(refused("SELECT 1;\0 '\n\\! x\n").reason.contains("NUL"));
        assert!(refused("COPY t FROM stdin;\nx\0\n\\.\n").reason.contains("NUL"));
    }

    #[test]
    fn an_older_psql_needs_ascii_text() {
        let old = Psql::with("15.13 (Debian 15.13-0+deb12u1)", None);
        Script::check(&old, "SELECT 1;\nCOPY t FROM stdin;\n日本\n\\.\n".as_bytes()).unwrap();
        let r = Script::check(&old, "SELECT 1;\nCOMMENT ON TABLE t IS '日本';\n".as_bytes()).unwrap_err();
        assert_eq!(r.line, 2);
        assert!(r.reason.contains("psql 15.13 (Debian"), "{r}");
        Script::check(&restricted(), "COMMENT ON TABLE t IS '日本';\n".as_bytes()).unwrap();
    }

    #[test]
    fn byte_order_mark() {
        check("\u{feff}COPY t FROM stdin;\n\\! data\n\\.\n").unwrap();
        assert!(refused("\u{feff}\\! id\n").reason.contains("\\!"));
    }

    #[test]
    fn versions_with_restrict() {
        for (text, has) in [
            ("psql (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)", true),
            ("psql (PostgreSQL) 15.13", false),
            ("psql (PostgreSQL) 15.14", true),
            ("psql (PostgreSQL) 17.5", false),
            ("psql (PostgreSQL) 17.6", true),
            ("psql (PostgreSQL) 18.0", true),
            ("psql (PostgreSQL) 18beta2", false),
            ("psql (PostgreSQL) 19devel", true),
            ("psql (PostgreSQL) 13.22", true),
            ("psql (PostgreSQL) 12.22", false),
            ("nonsense", false),
        ] {
            let psql = Psql::from_version(text).unwrap();
            assert_eq!(psql.prologue().is_some(), has, "{text}");
        }
        let a = Psql::from_version("psql (PostgreSQL) 16.10").unwrap().prologue().unwrap();
        let b = Psql::from_version("psql (PostgreSQL) 16.10").unwrap().prologue().unwrap();
        assert!(a.starts_with("\\restrict ") && a.len() == "\\restrict \n".len() + 64 && a != b, "{a}");
    }

    #[test]
    fn a_file_changed_on_its_way_stops_at_the_line() {
        let mut script = Script::new(&restricted());
        let mut out = Vec::new();
        script.feed(b"SELECT 1;\nSELECT 2;\n\\! i", &mut out).unwrap();
        assert_eq!(out, b"SELECT 1;\nSELECT 2;\n");
        let r = script.feed(b"d\n", &mut out).unwrap_err();
        assert_eq!(r.line, 3);
        let mut script = Script::new(&restricted());
        script.feed(b"SELECT 1;\n\\! id", &mut out).unwrap();
        assert_eq!(script.finish(&mut out).unwrap_err().line, 2);
    }
}
