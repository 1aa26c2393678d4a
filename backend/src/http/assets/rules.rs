//! How a file of the widget's or the console's build is served: its content type, its
//! validator (ETag), whether its name carries a content hash (and so may be cached forever), and
//! its gzip copy.
//!
//! The build script includes this very file (`backend/build.rs`, with `#[path]`) to prepare the
//! embedded files, and [`super::AssetTable::from_files`] uses it for tables made at run time
//! (tests), so a file gets the same headers however it reached the table. `cargo xtask
//! build-widget` includes it too, to measure the size budget on exactly the bytes served. Only
//! `std`, `sha2` and `zopfli` may be used here: they are all the build script and xtask have.

use sha2::{Digest, Sha256};

/// Whether `name` may be embedded and served: one path segment of ASCII letters, digits, `.`,
/// `-` and `_`, not starting with a dot (editor and OS droppings such as `.DS_Store` stay out).
pub fn is_servable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// The `Content-Type` of a file, by its extension.
pub fn content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension.to_ascii_lowercase().as_str() {
        // Module scripts must be served with a JavaScript MIME type, and `nosniff` makes
        // browsers enforce it for classic scripts too.
        "js" | "mjs" => "text/javascript; charset=utf-8",
        // `WebAssembly.compileStreaming` (the widget loader) and `instantiateStreaming` (the
        // console) refuse anything else.
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        // The console's page.
        "html" => "text/html; charset=utf-8",
        "json" | "map" => "application/json",
        // The widget's text packs.
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// Whether `name` carries a content hash, like `natter-widget.3f9a1c2b.wasm`: at least three
/// dot-separated parts, the one before the extension 8 or more letters, digits, `-` or `_`.
/// Such a name changes whenever its content does, so it may be cached forever; other names
/// (`widget.js`, `manifest.json`) are re-validated after a short while.
pub fn is_hashed(name: &str) -> bool {
    let mut parts = name.rsplit('.');
    let (Some(_extension), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !stem.is_empty()
        && hash.len() >= 8
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// The strong validator of `bytes`: the first 128 bits of their SHA-256, in hex (without the
/// quotes an `ETag` header adds).
pub fn validator(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A gzip copy of `bytes`, or `None` when it would not be smaller (tiny or already compressed
/// files).
///
/// Zopfli rather than zlib: any gzip decoder reads it, and it is ~5% smaller than zlib's best
/// level (the widget's first open: ~3 KB), for a compression that runs once per build. Its
/// header carries no modification time, so the same input always gives the same bytes and
/// builds stay reproducible.
pub fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut compressed = Vec::with_capacity(bytes.len() / 2);
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        bytes,
        &mut compressed,
    )
    .ok()?;
    (compressed.len() < bytes.len()).then_some(compressed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_file_names_are_servable() {
        for good in [
            "widget.js",
            "natter-widget.3f9a1c2b.wasm",
            "manifest.json",
            "a_b-c.css",
        ] {
            assert!(is_servable_name(good), "{good}");
        }
        for bad in [
            "",
            ".DS_Store",
            "../secret",
            "sub/file.js",
            "a b.js",
            "é.js",
            "a%2f.js",
        ] {
            assert!(!is_servable_name(bad), "{bad}");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("widget.js"), "text/javascript; charset=utf-8");
        assert_eq!(
            content_type("natter-widget.1234abcd.WASM"),
            "application/wasm"
        );
        assert_eq!(
            content_type("natter-widget.1234abcd.css"),
            "text/css; charset=utf-8"
        );
        assert_eq!(content_type("manifest.json"), "application/json");
        assert_eq!(
            content_type("natter-texts-ru.1234abcd.txt"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }

    #[test]
    fn a_name_is_hashed_when_a_long_token_sits_before_the_extension() {
        assert!(is_hashed("natter-widget.3f9a1c2b.js"));
        assert!(is_hashed("natter-widget.3f9a1c2b5d6e7f80.wasm"));
        assert!(is_hashed("natter-widget.Ab_9-xYz.css"));
        for plain in [
            "widget.js",
            "manifest.json",
            "jquery.min.js",
            ".3f9a1c2b.js",
            "x.3f9a1c2b",
        ] {
            assert!(!is_hashed(plain), "{plain}");
        }
    }

    #[test]
    fn the_validator_is_a_stable_sha256_prefix() {
        // SHA-256 of "abc" begins ba7816bf8f01cfea414140de5dae2223.
        assert_eq!(validator(b"abc"), "ba7816bf8f01cfea414140de5dae2223");
        assert_ne!(validator(b"abc"), validator(b"abd"));
    }

    #[test]
    fn gzip_copies_are_deterministic_and_only_kept_when_smaller() {
        let text = "console.log('natter');\n".repeat(100);
        let once = gzip(text.as_bytes()).unwrap();
        assert!(once.len() < text.len());
        assert_eq!(gzip(text.as_bytes()), Some(once));
        assert_eq!(gzip(b"x"), None);
    }
}
