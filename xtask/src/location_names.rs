//! Blanks the source file names of the panic `Location`s in a wasm module's data.
//!
//! Every panic site that can be reached (a `RefCell` borrowed twice, a growing `Vec` overflowing)
//! keeps a `core::panic::Location` in the data section: a pointer to its file's name, the name's
//! length, the line and the column; the name follows, ended by a NUL. The widget's no_std panic
//! handler traps without reading any of it, and wasm-opt cannot drop data, so the names are dead
//! bytes. The `--remap-path-prefix` flags that xtask passes for the wasm build shorten those of
//! the dependencies (see `widget.rs`), but the standard library's
//! (`/rustc/<commit>/library/alloc/src/raw_vec/mod.rs`) are compiled into its prebuilt rlibs.
//! This step overwrites every such name with NULs of the same length: nothing moves, every
//! pointer and length stays valid, and anything that did read one would read an empty-looking
//! name rather than something else. The line and column numbers are left as they are. On the
//! bubble that is 11 names, ~0.13 KB gzip (wasm-opt then packs the zeros out of the segment).
//!
//! A record is taken for a `Location` only when it is exactly that shape: 16 bytes at a 4-byte
//! aligned address in an active data segment, whose pointer and length name printable ASCII in
//! a data segment that ends in `.rs` and is followed by a NUL, with a line and column of at
//! least 1. Anything the data section holds that the parser does not understand is an error.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};

use crate::wasm_module::{HEADER_LEN, push_section, read_leb, read_span, sections};

const DATA_SECTION: u8 = 11;

/// The longest file name taken for one (a guard against reading a random number as a length).
const MAX_NAME: u32 = 512;

/// Blanks the panic locations' file names of the module at `wasm`, in place, and returns how
/// many names there were.
pub fn blank(wasm: &Path) -> Result<usize> {
    let module = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let (blanked, module) = blanked(&module)?;
    std::fs::write(wasm, module).with_context(|| format!("writing {}", wasm.display()))?;
    Ok(blanked)
}

/// An active data segment: its address in memory and where its bytes are in the section.
struct Segment {
    address: u32,
    bytes: Range<usize>,
}

fn blanked(module: &[u8]) -> Result<(usize, Vec<u8>)> {
    let mut out = module[..HEADER_LEN].to_vec();
    let mut names = 0;
    for (id, range) in sections(module)? {
        let contents = &module[range];
        if id == DATA_SECTION {
            let mut data = contents.to_vec();
            names = blank_names(&mut data)?;
            push_section(&mut out, id, &data);
        } else {
            push_section(&mut out, id, contents);
        }
    }
    Ok((names, out))
}

/// Overwrites the file names in the data section's contents and returns how many there were.
fn blank_names(data: &mut [u8]) -> Result<usize> {
    let segments = segments(data)?;
    let u32_at = |at: usize| -> u32 {
        u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
    };
    // The bytes in the section of memory addresses start..start+len, if one segment holds them.
    let locate = |start: u32, len: u32| -> Option<Range<usize>> {
        segments.iter().find_map(|segment| {
            let offset = start.checked_sub(segment.address)? as usize;
            let begin = segment.bytes.start + offset;
            let end = begin.checked_add(len as usize)?;
            (end <= segment.bytes.end).then_some(begin..end)
        })
    };
    let mut names = BTreeSet::new();
    for segment in &segments {
        let first = segment.bytes.start + (segment.address.wrapping_neg() % 4) as usize;
        for at in (first..segment.bytes.end.saturating_sub(15)).step_by(4) {
            let (pointer, len, line, column) =
                (u32_at(at), u32_at(at + 4), u32_at(at + 8), u32_at(at + 12));
            if !(1..=MAX_NAME).contains(&len) || line == 0 || column == 0 {
                continue;
            }
            // The name and its NUL.
            let Some(name) = locate(pointer, len + 1) else {
                continue;
            };
            let (text, nul) = (&data[name.start..name.end - 1], data[name.end - 1]);
            if nul == 0 && text.ends_with(b".rs") && text.iter().all(|&b| (0x20..0x7f).contains(&b))
            {
                names.insert((name.start, name.end - 1));
            }
        }
    }
    for &(start, end) in &names {
        data[start..end].fill(0);
    }
    Ok(names.len())
}

/// The active data segments (the only kind rustc's linker writes for wasm32).
fn segments(data: &[u8]) -> Result<Vec<Segment>> {
    let mut at = 0;
    let count = read_leb(data, &mut at)?;
    let mut segments = Vec::with_capacity(count);
    for _ in 0..count {
        let flags = read_leb(data, &mut at)?;
        if flags != 0 {
            bail!("data segment kind {flags} is not handled");
        }
        // `i32.const <address>` `end`: the address is a signed LEB128 number.
        ensure!(
            data.get(at) == Some(&0x41),
            "a data segment's offset is not a constant"
        );
        at += 1;
        let address = read_sleb32(data, &mut at)?;
        ensure!(
            data.get(at) == Some(&0x0b),
            "a data segment's offset is not a constant"
        );
        at += 1;
        segments.push(Segment {
            address: address as u32,
            bytes: read_span(data, &mut at, "a data segment")?,
        });
    }
    ensure!(at == data.len(), "unexpected bytes after the data segments");
    Ok(segments)
}

/// Reads a signed LEB128 32-bit number at `*at` and moves past it.
fn read_sleb32(bytes: &[u8], at: &mut usize) -> Result<i32> {
    let mut value: i64 = 0;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*at).context("truncated LEB128 number")?;
        *at += 1;
        value |= i64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            if shift < 64 && byte & 0x40 != 0 {
                value |= -1 << shift;
            }
            return i32::try_from(value).context("a data segment's address is out of range");
        }
        ensure!(shift < 35, "LEB128 number too long");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasm_module::{push_leb, section};

    /// One data segment at `address` with `bytes`.
    fn data_section(address: u32, bytes: &[u8]) -> Vec<u8> {
        let mut contents = vec![1, 0, 0x41];
        // A signed LEB128 of a positive address below 2^27.
        let mut leb = Vec::new();
        push_leb(&mut leb, address as usize);
        if leb.last().is_some_and(|last| last & 0x40 != 0) {
            let last = leb.len() - 1;
            leb[last] |= 0x80;
            leb.push(0);
        }
        contents.extend(leb);
        contents.push(0x0b);
        push_leb(&mut contents, bytes.len());
        contents.extend_from_slice(bytes);
        contents
    }

    fn record(pointer: u32, len: u32, line: u32, column: u32) -> Vec<u8> {
        [pointer, len, line, column]
            .iter()
            .flat_map(|n| n.to_le_bytes())
            .collect()
    }

    #[test]
    fn only_the_names_of_location_records_are_blanked() {
        let base = 1_048_576;
        // 0: "src/a.rs\0" and padding (12 bytes); 12: "hello.rs\0", which no record points at;
        // 24: a location of src/a.rs; 40: a record whose length misses the NUL; 56: a record of
        // line 0.
        let mut bytes = b"src/a.rs\0\0\0\0hello.rs\0\0\0\0".to_vec();
        bytes.extend(record(base, 8, 12, 5));
        bytes.extend(record(base, 7, 12, 5));
        bytes.extend(record(base + 12, 8, 0, 5));
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        module.extend(section(DATA_SECTION, &data_section(base, &bytes)));

        let (names, out) = blanked(&module).unwrap();
        assert_eq!(names, 1);
        let mut expected = bytes.clone();
        expected[..8].fill(0);
        assert!(out.ends_with(&expected));
        assert_eq!(out.len(), module.len());
    }

    #[test]
    fn signed_addresses_round_trip() {
        for (bytes, value) in [
            (&[0x00][..], 0),
            (&[0x7f], -1),
            (&[0x80, 0x80, 0xc0, 0x00], 1 << 20),
        ] {
            let mut at = 0;
            assert_eq!(read_sleb32(bytes, &mut at).unwrap(), value);
            assert_eq!(at, bytes.len());
        }
    }

    #[test]
    fn passive_segments_are_refused() {
        let mut data = vec![1, 1, 0];
        assert!(blank_names(&mut data).is_err());
    }
}
