//! blobctl: sets up containers and blobs for the tests and the demo.
//!
//!   blobctl mkcontainer <container> [--public | --public-blobs]
//!   blobctl rmcontainer <container>
//!   blobctl list <container> [--prefix P]
//!   blobctl put <container> <blob> <file> [--content-type T] [--content-encoding E]
//!               [--compress gzip|zstd] [--truncate N]
//!   blobctl get <container> <blob> <file> [--decompress gzip|zstd]
//!   blobctl fill <container> <prefix> <count>     (blobs <prefix>00000 ... of a few bytes)
//!   blobctl sas --permissions rl --expires-in 3600 [--container C]
//!               (prints an account SAS token, or a service SAS for one container)

use std::time::Duration;

use clap::{Parser, Subcommand};
use futures::{StreamExt, TryStreamExt};
use storage::rest::{Properties, PublicAccess};
use storage::{runtime, Account, Codec, Credential, RestClient};

#[derive(Parser)]
struct Cli {
    /// Blob endpoint of the account, path-style for the emulator.
    #[arg(long, env = "AZURITE_ENDPOINT")]
    endpoint: String,
    #[arg(long, env = "AZURITE_ACCOUNT")]
    account: String,
    /// Shared key; without it requests are anonymous.
    #[arg(long, env = "AZURITE_KEY", hide_env_values = true)]
    key: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates a container (a no-op when it exists).
    Mkcontainer {
        container: String,
        /// Anonymous read access to the container and its blobs.
        #[arg(long)]
        public: bool,
        /// Anonymous read access to its blobs only (no listing).
        #[arg(long, conflicts_with = "public")]
        public_blobs: bool,
    },
    /// Deletes a container and its blobs.
    Rmcontainer { container: String },
    /// Uploads a local file ("-" for standard input) as a blob.
    Put {
        container: String,
        blob: String,
        file: String,
        #[arg(long)]
        content_type: Option<String>,
        #[arg(long)]
        content_encoding: Option<String>,
        /// Compress the file on the way: gzip or zstd.
        #[arg(long)]
        compress: Option<String>,
        /// Keep only the first N bytes (after compression): a damaged blob.
        #[arg(long)]
        truncate: Option<usize>,
    },
    /// Downloads a blob into a local file ("-" for standard output).
    Get {
        container: String,
        blob: String,
        file: String,
        /// Decompress on the way: gzip or zstd.
        #[arg(long)]
        decompress: Option<String>,
    },
    /// Creates `count` small blobs named <prefix><number, 5 digits>.
    Fill { container: String, prefix: String, count: usize },
    /// Prints a SAS token signed with the key: an account SAS, or a service SAS for one
    /// container.
    Sas {
        /// Permissions, in Azure's order: r, a, c, w, d, l.
        #[arg(long)]
        permissions: String,
        /// Seconds from now until it expires; negative for one that has expired.
        #[arg(long, allow_hyphen_values = true)]
        expires_in: i64,
        #[arg(long)]
        container: Option<String>,
    },
    /// Prints the names and sizes of blobs.
    List {
        container: String,
        #[arg(long, default_value = "")]
        prefix: String,
    },
}

fn main() {
    env_logger::init();
    let cli = Cli::parse();
    let credential = cli.key.clone().map_or(Credential::Anonymous, Credential::SharedKey);
    let account = Account::new(&cli.account, &cli.endpoint, credential);
    let client = RestClient::new(&account, Duration::from_secs(60)).unwrap_or_else(|e| fail(e));
    match cli.command {
        Command::Mkcontainer { container, public, public_blobs } => {
            let access = match (public, public_blobs) {
                (true, _) => PublicAccess::Container,
                (_, true) => PublicAccess::Blob,
                _ => PublicAccess::None,
            };
            runtime::block_on(client.create_container(&container, access), &runtime::never).map(|_| ()).unwrap_or_else(|e| fail(e))
        }
        Command::Sas { permissions, expires_in, container } => {
            let key = cli.key.as_deref().unwrap_or_else(|| {
                eprintln!("blobctl: signing a SAS token needs the key");
                std::process::exit(2)
            });
            println!("{}", sas_token(&cli.account, key, &permissions, expires_in, container.as_deref()));
        }
        Command::Rmcontainer { container } => {
            runtime::block_on(client.delete_container(&container), &runtime::never).unwrap_or_else(|e| fail(e))
        }
        Command::Put { container, blob, file, content_type, content_encoding, compress, truncate } => {
            let data = if file == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
            } else {
                std::fs::read(&file)
            }
            .unwrap_or_else(|e| {
                eprintln!("blobctl: cannot read {file}: {e}");
                std::process::exit(1)
            });
            let compression = storage::Compression::parse(compress.as_deref().unwrap_or("none"), "").unwrap_or_else(|e| {
                eprintln!("blobctl: {e}");
                std::process::exit(2)
            });
            let mut encoder = compression.encoder(Vec::new()).expect("an in-memory encoder");
            let data = std::io::Write::write_all(&mut encoder, &data).and_then(|_| encoder.finish()).expect("compressing in memory");
            let mut data = data;
            if let Some(n) = truncate {
                data.truncate(n);
            }
            let properties = Properties { content_type: content_type.as_deref(), content_encoding: content_encoding.as_deref() };
            runtime::block_on(client.put_blob(&container, &blob, data.into(), &properties), &runtime::never)
                .unwrap_or_else(|e| fail(e));
        }
        Command::Get { container, blob, file, decompress } => {
            let compression = storage::Compression::parse(decompress.as_deref().unwrap_or("none"), "").unwrap_or_else(|e| {
                eprintln!("blobctl: {e}");
                std::process::exit(2)
            });
            let store = storage::BlobStore::new(&account, &container, Duration::from_secs(60)).unwrap_or_else(|e| fail(e));
            let data = store.open_stream(&blob, compression, &runtime::never).and_then(|mut s| s.read_to_end(usize::MAX, &runtime::never)).unwrap_or_else(|e| fail(e));
            let written = if file == "-" { std::io::Write::write_all(&mut std::io::stdout(), &data) } else { std::fs::write(&file, &data) };
            written.unwrap_or_else(|e| {
                eprintln!("blobctl: cannot write {file}: {e}");
                std::process::exit(1)
            });
        }
        Command::Fill { container, prefix, count } => {
            let uploads = (0..count).map(|i| {
                let (client, container) = (&client, &container);
                let name = format!("{prefix}{i:05}");
                async move { client.put_blob(container, &name, format!("{i}\n").into(), &Properties { content_type: Some("text/plain"), content_encoding: None }).await }
            });
            let all = futures::stream::iter(uploads).buffer_unordered(32).try_collect::<Vec<()>>();
            runtime::block_on(all, &runtime::never).unwrap_or_else(|e| fail(e));
        }
        Command::List { container, prefix } => {
            for b in storage::Listing::new(client, &container, &prefix, runtime::never) {
                let b = b.unwrap_or_else(|e| fail(e));
                println!("{}\t{}", b.path, b.bytes);
            }
        }
    }
}

fn fail(e: storage::Error) -> ! {
    eprintln!("blobctl: {e}");
    std::process::exit(1)
}

/// A SAS token (version 2020-08-04, whose string to sign has no encryption scope), signed as
/// the service checks it: an account SAS for blobs, or a service SAS for one container.
fn sas_token(account: &str, key: &str, permissions: &str, expires_in: i64, container: Option<&str>) -> String {
    use base64::Engine;
    use hmac::Mac;
    const VERSION: &str = "2020-08-04";
    let expiry = (chrono::Utc::now() + chrono::Duration::seconds(expires_in)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let protocol = "https,http";
    let (to_sign, scope) = match container {
        None => (format!("{account}\n{permissions}\nb\nsco\n\n{expiry}\n\n{protocol}\n{VERSION}\n"), "ss=b&srt=sco".to_string()),
        Some(c) => (format!("{permissions}\n\n{expiry}\n/blob/{account}/{c}\n\n\n{protocol}\n{VERSION}\nc\n\n\n\n\n\n"), "sr=c".to_string()),
    };
    let engine = base64::engine::general_purpose::STANDARD;
    let key = engine.decode(key).expect("the key is base64");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes any key");
    mac.update(to_sign.as_bytes());
    let signature = engine.encode(mac.finalize().into_bytes());
    let encode = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!("sv={VERSION}&{scope}&sp={permissions}&se={}&spr={}&sig={}", encode(&expiry), encode(protocol), encode(&signature))
}
