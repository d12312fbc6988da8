//! Client-side encryption of a point's files with age (age-encryption.org/v1, the format
//! the `age` and `rage` tools read): a backup encrypts every file to the recipients' public
//! keys as it streams, so the backup host holds no secret; a restore decrypts with an
//! identity file. Recipients come from `--encrypt-to`, a recipients file, the environment or
//! the config file; an identity from `--identity`, the environment or the config file. Only
//! X25519 keys (`age1...`, `AGE-SECRET-KEY-1...`), which need no plugin and no prompt.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::Error;
use crate::secrets;

/// The suffix of an encrypted file in the vault and in restored files kept encrypted.
pub const SUFFIX: &str = ".age";

/// The public keys a backup encrypts to.
pub struct Recipients {
    keys: Vec<age::x25519::Recipient>,
}

impl Recipients {
    /// The recipients given as values (`--encrypt-to`, repeatable, or comma-separated in the
    /// environment) and in recipients files (one key a line, `#` comments, as age's `-R`
    /// reads them); none given: no encryption.
    pub fn parse(values: &[String], files: &[PathBuf]) -> Result<Option<Recipients>, Error> {
        let mut keys = Vec::new();
        for value in values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty()) {
            keys.push(recipient(value, "--encrypt-to")?);
        }
        for path in files {
            let named = format!("--recipients-file {}", path.display());
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(&named, e))?;
            let before = keys.len();
            for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                keys.push(recipient(line, &format!("{named}, line {number}"))?);
            }
            if keys.len() == before {
                return Err(Error::Settings(format!("{named}: holds no recipient (age1...)")));
            }
        }
        let mut seen = std::collections::HashSet::new();
        keys.retain(|k| seen.insert(k.to_string()));
        Ok((!keys.is_empty()).then_some(Recipients { keys }))
    }

    /// The public keys, as the manifest records them.
    pub fn keys(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.to_string()).collect()
    }

    /// An age stream writing into `output`; `finish` it, or the file does not decrypt.
    pub fn encrypt<W: Write>(&self, output: W) -> std::io::Result<age::stream::StreamWriter<W>> {
        let encryptor = age::Encryptor::with_recipients(self.keys.iter().map(|k| k as &dyn age::Recipient)).expect("X25519 recipients can always be encrypted to");
        encryptor.wrap_output(output)
    }
}

fn recipient(value: &str, from: &str) -> Result<age::x25519::Recipient, Error> {
    age::x25519::Recipient::from_str(value).map_err(|_| {
        let shown: String = value.chars().take(80).collect();
        let hint = if value.starts_with("AGE-SECRET-KEY-") {
            " (that is a secret key: give its public key, as `age-keygen -y` prints it)"
        } else if value.starts_with("ssh-") {
            " (SSH keys are not supported; make an age key with age-keygen)"
        } else {
            ""
        };
        let shown = if value.starts_with("AGE-SECRET-KEY-") { "AGE-SECRET-KEY-...".to_string() } else { shown };
        Error::Settings(format!("{from}: \"{shown}\" is not an age recipient (age1 followed by 58 characters){hint}"))
    })
}

/// The keys of an identity file, and its name for messages.
pub struct Identity {
    path: PathBuf,
    keys: Vec<Box<dyn age::Identity>>,
}

impl Identity {
    /// Reads an age identity file (`AGE-SECRET-KEY-1...` lines, as age-keygen writes), which
    /// only its owner may read. A passphrase-protected one is refused: scheduled jobs have
    /// no one to type the passphrase.
    pub fn from_file(path: &Path) -> Result<Identity, Error> {
        let named = format!("--identity {}", path.display());
        // An encrypted identity file is binary after its header: known by its start.
        let mut start = [0u8; 64];
        let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut start)).map_err(|e| Error::io(&named, e))?;
        let start = &start[..n];
        if start.starts_with(b"age-encryption.org/") || start.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
            return Err(Error::Settings(format!(
                "{named} is protected by a passphrase, which pgvault does not ask for (scheduled jobs have no one to type it); \
                 decrypt it into a file only its owner may read (age -d -o key.txt {}) and give that",
                path.display()
            )));
        }
        let text = secrets::read_file("--identity", path)?;
        let file = age::IdentityFile::from_buffer(text.as_bytes())
            .map_err(|_| Error::Settings(format!("{named} is not an age identity file: every line must be an AGE-SECRET-KEY-1... key or a # comment")))?;
        let keys = file.into_identities().map_err(|e| Error::Settings(format!("{named}: {e}")))?;
        if keys.is_empty() {
            return Err(Error::Settings(format!("{named} holds no key (AGE-SECRET-KEY-1...)")));
        }
        Ok(Identity { path: path.to_path_buf(), keys })
    }

    /// The plain bytes of the age file `input` (named `name` in messages) holds, as a stream.
    /// `recipients` are those the manifest says it was encrypted to, for the message when
    /// this identity is not one of them.
    pub fn decrypt<'a, R: Read + 'a>(&self, input: R, name: &str, recipients: &[String]) -> Result<Box<dyn Read + 'a>, Error> {
        let decryptor = age::Decryptor::new(input).map_err(|e| decrypt_error(name, e))?;
        match decryptor.decrypt(self.keys.iter().map(|k| k.as_ref() as &dyn age::Identity)) {
            Ok(reader) => Ok(Box::new(reader)),
            Err(age::DecryptError::NoMatchingKeys) => Err(Error::Content(format!(
                "{name}: the identity {} holds no key of the recipients it was encrypted to ({}); give the identity of one of them",
                self.path.display(),
                if recipients.is_empty() { "not recorded".to_string() } else { recipients.join(", ") }
            ))),
            Err(e) => Err(decrypt_error(name, e)),
        }
    }
}

/// What a failed decryption means, said of the file `name`.
fn decrypt_error(name: &str, e: age::DecryptError) -> Error {
    match e {
        age::DecryptError::Io(e) => Error::Content(format!("{name}: {}", read_error(&e))),
        age::DecryptError::InvalidHeader | age::DecryptError::UnknownFormat => Error::Content(format!("{name}: is not an age-encrypted file, or its header was altered")),
        age::DecryptError::InvalidMac => Error::Content(format!("{name}: its age header was altered or damaged (the header's MAC does not match)")),
        other => Error::Content(format!("{name}: cannot be decrypted: {other}")),
    }
}

/// An error reading decrypted bytes, in words: age reports an altered chunk as invalid data.
pub fn read_error(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::InvalidData || e.kind() == std::io::ErrorKind::UnexpectedEof {
        format!("the encrypted file was altered, damaged or cut short (age: {e})")
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn round_trip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let secret = age::x25519::Identity::generate();
        let public = secret.to_public().to_string();
        let other = age::x25519::Identity::generate();
        let key_file = dir.path().join("key.txt");
        let write_key = |path: &Path, text: &str, mode: u32| {
            std::fs::write(path, text).unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        use age::secrecy::ExposeSecret;
        write_key(&key_file, &format!("# created: now\n# public key: {public}\n{}\n", secret.to_string().expose_secret()), 0o600);
        let recipients = Recipients::parse(&[format!("{public}, {}", other.to_public())], &[]).unwrap().unwrap();
        assert_eq!(recipients.keys().len(), 2);

        let plain: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut sealed = Vec::new();
        let mut w = recipients.encrypt(&mut sealed).unwrap();
        w.write_all(&plain).unwrap();
        w.finish().unwrap();
        assert!(sealed.starts_with(b"age-encryption.org/v1\n"));

        let identity = Identity::from_file(&key_file).unwrap();
        let mut back = Vec::new();
        identity.decrypt(&sealed[..], "f", &[]).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, plain);

        // Another identity, an altered chunk, a cut file.
        let wrong_file = dir.path().join("wrong.txt");
        write_key(&wrong_file, &format!("{}\n", age::x25519::Identity::generate().to_string().expose_secret()), 0o600);
        let e = Identity::from_file(&wrong_file).unwrap().decrypt(&sealed[..], "f", &[public.clone()]).err().unwrap().to_string();
        assert!(e.contains("holds no key of the recipients") && e.contains(&public), "{e}");
        let mut altered = sealed.clone();
        let at = altered.len() - 1000;
        altered[at] ^= 1;
        let e = identity.decrypt(&altered[..], "f", &[]).unwrap().read_to_end(&mut Vec::new()).unwrap_err();
        assert!(read_error(&e).contains("altered"), "{e}");
        let e = identity.decrypt(&sealed[..sealed.len() - 10], "f", &[]).unwrap().read_to_end(&mut Vec::new()).unwrap_err();
        assert!(read_error(&e).contains("cut short"), "{e}");
        let mut header = sealed.clone();
        header[40] ^= 1;
        assert!(identity.decrypt(&header[..], "f", &[]).is_err());

        // Identity files: readable by others, passphrase-protected, not a key.
        write_key(&wrong_file, &format!("{}\n", secret.to_string().expose_secret()), 0o644);
        assert!(Identity::from_file(&wrong_file).err().unwrap().to_string().contains("chmod 600"));
        // A real passphrase-protected identity file, as `age -p` writes one.
        let mut locked = Vec::new();
        let mut w = age::Encryptor::with_user_passphrase("correct horse".into()).wrap_output(&mut locked).unwrap();
        w.write_all(secret.to_string().expose_secret().as_bytes()).unwrap();
        w.finish().unwrap();
        std::fs::write(&wrong_file, &locked).unwrap();
        std::fs::set_permissions(&wrong_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Identity::from_file(&wrong_file).err().unwrap().to_string().contains("protected by a passphrase"));
        write_key(&wrong_file, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0o600);
        let e = Identity::from_file(&wrong_file).err().unwrap().to_string();
        assert!(e.contains("is not an age identity file") && !e.contains("OPENSSH"), "{e}");

        // Recipients: secret keys, SSH keys, garbage, an empty recipients file.
        let e = Recipients::parse(&[secret.to_string().expose_secret().to_string()], &[]).err().unwrap().to_string();
        assert!(e.contains("that is a secret key") && !e.contains(&secret.to_string().expose_secret()[20..]), "{e}");
        assert!(Recipients::parse(&["ssh-ed25519 AAAA".into()], &[]).err().unwrap().to_string().contains("SSH keys"));
        assert!(Recipients::parse(&["age1nope".into()], &[]).err().unwrap().to_string().contains("\"age1nope\" is not an age recipient"));
        let list = dir.path().join("recipients.txt");
        std::fs::write(&list, "# none\n\n").unwrap();
        assert!(Recipients::parse(&[], &[list.clone()]).err().unwrap().to_string().contains("holds no recipient"));
        std::fs::write(&list, format!("# ops\n{public}\nbad\n")).unwrap();
        assert!(Recipients::parse(&[], &[list.clone()]).err().unwrap().to_string().contains("line 3"));
        std::fs::write(&list, format!("# ops\n{public}\n")).unwrap();
        assert_eq!(Recipients::parse(&[public.clone()], &[list]).unwrap().unwrap().keys(), vec![public]);
        assert!(Recipients::parse(&[" ".into()], &[]).unwrap().is_none());
    }
}
