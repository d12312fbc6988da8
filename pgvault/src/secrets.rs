//! Credentials given to pgvault on its command line or in files. Every local user can read a
//! process's command line (/proc/<pid>/cmdline, which `ps` shows), so a credential given as
//! `--key VALUE` or `--key=VALUE` is overwritten with x's in the process's own argument
//! memory as soon as the command line is parsed; until then, a moment after pgvault starts,
//! it shows. The file forms (`--key-file` and the like) and the environment never show.
//!
//! The argument memory is the one the C runtime passed to `main`: glibc calls the functions
//! of the `.init_array` section with (argc, argv, envp), as it does Rust's own, and
//! `capture` keeps them. Each argument is compared with the one Rust's `std::env` holds
//! before a byte is written.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::Error;

/// The options whose values are credentials.
pub const SECRET_FLAGS: [&str; 4] = ["--key", "--sas-token", "--client-secret", "--connection-string"];

/// A credential from a file: its text, with one trailing newline taken off. The file must be
/// readable by its owner only (the rule of the config file).
pub fn read_file(option: &str, path: &Path) -> Result<String, Error> {
    let named = format!("{option} {}", path.display());
    let unfit = |why: &str| Error::Settings(format!("{named}: {why}"));
    let file = std::fs::File::open(path).map_err(|e| Error::io(&named, e))?;
    let mode = file.metadata().map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions())).map_err(|e| Error::io(&named, e))?;
    if mode & 0o077 != 0 {
        return Err(unfit(&format!("others may read it (mode {:o}); chmod 600 it", mode & 0o777)));
    }
    const LIMIT: u64 = 64 << 10;
    let mut bytes = Vec::new();
    file.take(LIMIT + 1).read_to_end(&mut bytes).map_err(|e| Error::io(&named, e))?;
    if bytes.len() as u64 > LIMIT {
        return Err(unfit("over 64 KiB, which no credential is; is it the right file?"));
    }
    let text = String::from_utf8(bytes).map_err(|_| unfit("is not UTF-8 text"))?;
    let text = text.strip_suffix('\n').map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t));
    if text.is_empty() {
        return Err(unfit("the file is empty"));
    }
    Ok(text.to_string())
}

/// A credential given as a value or as a file: `value` (from the command line when
/// `on_command_line`, else from the environment) or the file's text. Both on the command
/// line is an error; the command line's file wins over the environment.
pub fn value_or_file(option: &str, value: Option<String>, on_command_line: bool, file: Option<&Path>) -> Result<Option<String>, Error> {
    match (value, file) {
        (Some(_), Some(_)) if on_command_line => Err(Error::Usage(format!("{option} and {option}-file are both given; give one of them"))),
        (_, Some(path)) => read_file(&format!("{option}-file"), path).map(Some),
        (value, None) => Ok(value),
    }
}

/// Where credentials are in the arguments: (index, offset of the value in the argument).
fn secret_positions(args: &[OsString]) -> Vec<(usize, usize)> {
    let mut found: Vec<(usize, usize)> = Vec::new();
    for (i, arg) in args.iter().enumerate().skip(1) {
        let arg = arg.as_bytes();
        if arg == b"--" {
            break;
        }
        for flag in SECRET_FLAGS {
            let at = if arg == flag.as_bytes() && i + 1 < args.len() {
                (i + 1, 0)
            } else if arg.len() > flag.len() && arg.starts_with(flag.as_bytes()) && arg[flag.len()] == b'=' {
                (i, flag.len() + 1)
            } else {
                continue;
            };
            match found.iter_mut().find(|(index, _)| *index == at.0) {
                Some(known) => known.1 = known.1.min(at.1),
                None => found.push(at),
            }
        }
    }
    found
}

/// Overwrites with x's the credentials given on the command line, in the process's own
/// argument memory; says why when it cannot.
pub fn hide_from_command_line() -> Result<(), Error> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let positions = secret_positions(&args);
    if positions.is_empty() {
        return Ok(());
    }
    let Some(argv) = argv::captured(args.len()) else {
        return Err(Error::Settings("the command line's credentials cannot be hidden here (no access to the process's arguments); prefer the --*-file options or the environment".into()));
    };
    for (index, offset) in positions {
        // SAFETY: `argv` holds `args.len()` NUL-terminated strings that the C runtime passed to
        // main and that live as long as the process.
        unsafe { argv::overwrite(argv, index, args[index].as_bytes(), offset)? };
    }
    Ok(())
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod argv {
    use std::ffi::{c_char, c_int};

    use crate::error::Error;
    use std::sync::atomic::{AtomicIsize, AtomicPtr, Ordering};

    static ARGC: AtomicIsize = AtomicIsize::new(-1);
    static ARGV: AtomicPtr<*mut c_char> = AtomicPtr::new(std::ptr::null_mut());

    #[used]
    #[link_section = ".init_array.00099"]
    static CAPTURE: extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char) = capture;

    extern "C" fn capture(argc: c_int, argv: *mut *mut c_char, _envp: *mut *mut c_char) {
        ARGC.store(argc as isize, Ordering::Relaxed);
        ARGV.store(argv, Ordering::Relaxed);
    }

    /// The captured argv, if it has `count` arguments.
    pub fn captured(count: usize) -> Option<*mut *mut c_char> {
        let argv = ARGV.load(Ordering::Relaxed);
        (!argv.is_null() && ARGC.load(Ordering::Relaxed) == count as isize).then_some(argv)
    }

    /// Writes x's over argument `index` from `offset` on, once its bytes are `expected`.
    ///
    /// # Safety
    /// `argv` must hold more than `index` valid NUL-terminated strings.
    pub unsafe fn overwrite(argv: *mut *mut c_char, index: usize, expected: &[u8], offset: usize) -> Result<(), Error> {
        let arg = *argv.add(index);
        if arg.is_null() {
            return Err(Error::Settings(format!("argument {index} is missing from the process's argument memory")));
        }
        let bytes = std::slice::from_raw_parts_mut(arg.cast::<u8>(), libc::strlen(arg));
        if bytes != expected || offset > bytes.len() {
            return Err(Error::Settings(format!("argument {index} in the process's argument memory is not the one parsed; it was left as it is")));
        }
        bytes[offset..].fill(b'x');
        Ok(())
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod argv {
    use std::ffi::c_char;

    use crate::error::Error;

    pub fn captured(_count: usize) -> Option<*mut *mut c_char> {
        None
    }

    pub unsafe fn overwrite(_argv: *mut *mut c_char, _index: usize, _expected: &[u8], _offset: usize) -> Result<(), Error> {
        Err(Error::Settings("not supported here".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::os::unix::fs::PermissionsExt;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn credentials_in_the_arguments() {
        let a = args(&["pgvault", "list", "--vault", "a/b", "--key", "S1", "--sas-token=sv=1&sig=x", "--key-file", "/f", "--client-secret", "--connection-string=AccountKey=k;x", "--key"]);
        // --client-secret's value is "--connection-string=..." to a naive reader, but clap
        // would have refused that command line; both are hidden.
        assert_eq!(secret_positions(&a), vec![(5, 0), (6, 12), (10, 0)]);
        assert_eq!(secret_positions(&args(&["pgvault", "--keys", "x", "--key-file=/k", "--", "--key", "y"])), vec![]);
    }

    #[test]
    fn values_are_overwritten_in_place() {
        let mut pointers: Vec<*mut std::ffi::c_char> = ["pgvault", "--key", "S3CRET", "--sas-token=sv=1&sig=x"].iter().map(|s| CString::new(*s).unwrap().into_raw()).collect();
        pointers.push(std::ptr::null_mut());
        let argv = pointers.as_mut_ptr();
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            unsafe {
                argv::overwrite(argv, 2, b"S3CRET", 0).unwrap();
                argv::overwrite(argv, 3, b"--sas-token=sv=1&sig=x", 12).unwrap();
                assert!(argv::overwrite(argv, 1, b"--other", 0).unwrap_err().to_string().contains("not the one parsed"));
            }
            // The test binary's own arguments were captured at start.
            assert!(argv::captured(std::env::args_os().count()).is_some());
        }
        let strings: Vec<CString> = pointers[..4].iter().map(|&p| unsafe { CString::from_raw(p) }).collect();
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert_eq!(strings[2].to_bytes(), b"xxxxxx");
            assert_eq!(strings[3].to_bytes(), b"--sas-token=xxxxxxxxxx");
            assert_eq!(strings[1].to_bytes(), b"--key");
        }
    }

    #[test]
    fn credential_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let write = |text: &str, mode: u32| {
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        write("a2V5\n", 0o600);
        assert_eq!(read_file("--key-file", &path).unwrap(), "a2V5");
        write("a2V5\r\n", 0o400);
        assert_eq!(read_file("--key-file", &path).unwrap(), "a2V5");
        write("a2V5\n\n", 0o600);
        assert_eq!(read_file("--key-file", &path).unwrap(), "a2V5\n");
        write("a2V5", 0o640);
        assert_eq!(read_file("--key-file", &path).unwrap_err().to_string(), format!("--key-file {}: others may read it (mode 640); chmod 600 it", path.display()));
        write("\n", 0o600);
        assert!(read_file("--key-file", &path).unwrap_err().to_string().ends_with("the file is empty"));
        let e = read_file("--key-file", &dir.path().join("missing")).unwrap_err().to_string();
        assert!(e.starts_with(&format!("--key-file {}/missing: ", dir.path().display())), "{e}");

        write("from-file\n", 0o600);
        assert_eq!(value_or_file("--key", Some("flag".into()), true, Some(&path)).unwrap_err().to_string(), "--key and --key-file are both given; give one of them");
        assert_eq!(value_or_file("--key", Some("env".into()), false, Some(&path)).unwrap().as_deref(), Some("from-file"));
        assert_eq!(value_or_file("--key", Some("flag".into()), true, None).unwrap().as_deref(), Some("flag"));
        assert_eq!(value_or_file("--key", None, false, None).unwrap(), None);
    }
}
