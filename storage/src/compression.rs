//! The codecs of blob contents: reading compressed bytes as plain ones and writing plain
//! bytes compressed. Which compression a blob has is decided by `input::compression`.

use std::io::{Read, Write};

pub use input::compression::Compression;

/// `Compression::from_headers` for the blob at `path`, that version of it once known: `auto`
/// on a name without a compression suffix follows the headers its writer set.
pub fn for_blob(value: &str, path: &str, blob: Option<&crate::BlobVersion>) -> Result<Compression, String> {
    Compression::from_headers(value, path, blob.and_then(|b| b.content_type()), blob.and_then(|b| b.content_encoding()))
}

/// Decoding and encoding in a compression.
pub trait Codec {
    /// A reader of the decompressed bytes of `input`.
    fn decoder<'a, R: Read + 'a>(self, input: R) -> std::io::Result<Box<dyn Read + 'a>>;
    /// A writer that compresses into `output`.
    fn encoder<W: Write>(self, output: W) -> std::io::Result<Encoder<W>>;
}

impl Codec for Compression {
    fn decoder<'a, R: Read + 'a>(self, input: R) -> std::io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::None => Box::new(input),
            // Concatenated gzip members are one stream, as gzip -d reads them.
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, input))),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(input)?),
        })
    }

    fn encoder<W: Write>(self, output: W) -> std::io::Result<Encoder<W>> {
        Ok(match self {
            Compression::None => Encoder::None(output),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(output, flate2::Compression::new(GZIP_LEVEL))),
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(output, ZSTD_LEVEL)?),
        })
    }
}

/// gzip level of exports: level 1 compresses at several times the speed of the default
/// level 6 for files a little larger, which keeps an export close to native COPY speed.
const GZIP_LEVEL: u32 = 1;
/// zstd level of exports: zstd's own default.
const ZSTD_LEVEL: i32 = 3;

pub enum Encoder<W: Write> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    /// Writes what the compressor still holds and its trailer; returns the output.
    pub fn finish(self) -> std::io::Result<W> {
        match self {
            Encoder::None(w) => Ok(w),
            Encoder::Gzip(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Encoder::None(w) => w.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Encoder::None(w) => w.flush(),
            Encoder::Gzip(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders_round_trip_and_reject_damage() {
        let text = b"1,alpha\n2,beta\n".repeat(1000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let gz = gz.finish().unwrap();
        let mut out = Vec::new();
        Compression::Gzip.decoder(&gz[..]).unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
        // Two members read as one stream.
        let twice = [gz.clone(), gz.clone()].concat();
        out.clear();
        Compression::Gzip.decoder(&twice[..]).unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 2 * text.len());
        // Truncated input is an error, not a short read.
        let mut d = Compression::Gzip.decoder(&gz[..gz.len() / 2]).unwrap();
        assert!(d.read_to_end(&mut Vec::new()).is_err());

        let zs = zstd::encode_all(&text[..], 1).unwrap();
        out.clear();
        Compression::Zstd.decoder(&zs[..]).unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
        let mut d = Compression::Zstd.decoder(&zs[..zs.len() - 3]).unwrap();
        assert!(d.read_to_end(&mut Vec::new()).is_err());
    }

    #[test]
    fn encoders_round_trip() {
        let text = b"1,alpha\n2,beta\n".repeat(1000);
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let mut e = c.encoder(Vec::new()).unwrap();
            e.write_all(&text).unwrap();
            let packed = e.finish().unwrap();
            assert_eq!(packed.len() < text.len(), c != Compression::None, "{c:?}");
            let mut out = Vec::new();
            c.decoder(&packed[..]).unwrap().read_to_end(&mut out).unwrap();
            assert_eq!(out, text, "{c:?}");
        }
    }
}
