//! stallserver <port> <seconds>: accepts TCP connections on 127.0.0.1 and never answers, for
//! testing timeouts and cancellation. Exits by itself after <seconds>.

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(port), Some(seconds)) = (args.get(1).and_then(|p| p.parse::<u16>().ok()), args.get(2).and_then(|s| s.parse::<u64>().ok())) else {
        eprintln!("usage: stallserver <port> <seconds>");
        std::process::exit(2);
    };
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| {
        eprintln!("stallserver: cannot listen on 127.0.0.1:{port}: {e}");
        std::process::exit(1)
    });
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(seconds));
        std::process::exit(0);
    });
    for stream in listener.incoming().flatten() {
        // Read whatever comes and hold the connection open without a word.
        std::thread::spawn(move || {
            let mut stream = stream;
            let mut sink = [0u8; 4096];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        });
    }
}
