//! Just enough of the wasm binary format for xtask's post-processing of the widget's module
//! (`gzip_order.rs`, `unused_shims.rs`, `location_names.rs`): the sections, the function
//! imports and names, and the code section's bodies. Anything it does not understand is an
//! error, never a guess.

use std::collections::HashMap;
use std::ops::Range;

use anyhow::{Context, Result, bail};

pub const HEADER_LEN: usize = 8;
pub const CUSTOM_SECTION: u8 = 0;
pub const IMPORT_SECTION: u8 = 2;
pub const CODE_SECTION: u8 = 10;
pub const NAME: &[u8] = b"name";
pub const FUNCTION_NAMES: u8 = 1;

/// The module's sections: id and the range of its contents.
pub fn sections(module: &[u8]) -> Result<Vec<(u8, Range<usize>)>> {
    if module.get(..HEADER_LEN) != Some(b"\0asm\x01\0\0\0") {
        bail!("not a wasm module (version 1)");
    }
    let mut at = HEADER_LEN;
    let mut sections = Vec::new();
    while at < module.len() {
        let id = module[at];
        at += 1;
        sections.push((id, read_span(module, &mut at, "a section")?));
    }
    Ok(sections)
}

/// How many functions the import section imports.
pub fn function_imports(section: &[u8]) -> Result<usize> {
    let mut at = 0;
    let count = read_leb(section, &mut at)?;
    let mut functions = 0;
    for _ in 0..count {
        for _ in 0..2 {
            let len = read_leb(section, &mut at)?;
            at += len;
        }
        let kind = *section.get(at).context("truncated import")?;
        at += 1;
        match kind {
            // Function: a type index.
            0 => {
                read_leb(section, &mut at)?;
                functions += 1;
            }
            // Table: a reference type, then limits.
            1 => {
                at += 1;
                read_limits(section, &mut at)?;
            }
            // Memory: limits.
            2 => read_limits(section, &mut at)?,
            // Global: a value type and mutability.
            3 => at += 2,
            other => bail!("unknown import kind {other}"),
        }
    }
    Ok(functions)
}

fn read_limits(bytes: &[u8], at: &mut usize) -> Result<()> {
    let flags = *bytes.get(*at).context("truncated limits")?;
    *at += 1;
    read_leb(bytes, at)?;
    if flags & 1 != 0 {
        read_leb(bytes, at)?;
    }
    Ok(())
}

/// The function bodies of the code section, in order.
pub fn code_bodies(section: &[u8]) -> Result<Vec<&[u8]>> {
    let mut at = 0;
    let count = read_leb(section, &mut at)?;
    let mut bodies = Vec::with_capacity(count);
    for _ in 0..count {
        bodies.push(&section[read_span(section, &mut at, "a function body")?]);
    }
    Ok(bodies)
}

/// The name of a custom section, from its contents.
pub fn custom_name(section: &[u8]) -> Result<&[u8]> {
    let name = read_span(section, &mut 0, "a custom section's name")?;
    Ok(&section[name])
}

/// Reads an unsigned LEB128 number at `*at` and moves past it.
pub fn read_leb(bytes: &[u8], at: &mut usize) -> Result<usize> {
    let mut value = 0usize;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at).context("truncated LEB128 number")?;
        *at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    bail!("LEB128 number too long")
}

/// Reads a length at `*at`, then takes that many bytes: returns where they are and moves past
/// them. `what` names them in the error when they run past the end of `bytes`.
pub fn read_span(bytes: &[u8], at: &mut usize, what: &str) -> Result<Range<usize>> {
    let len = read_leb(bytes, at)?;
    let span = at
        .checked_add(len)
        .filter(|&end| end <= bytes.len())
        .map(|end| *at..end)
        .with_context(|| format!("{what} runs past the end of what holds it"))?;
    *at = span.end;
    Ok(span)
}

/// Appends a section: its `id`, its length and its `contents`.
pub fn push_section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
    out.push(id);
    push_leb(out, contents.len());
    out.extend_from_slice(contents);
}

/// The type section's id (only test modules are built with one here).
#[cfg(test)]
pub const TYPE_SECTION: u8 = 1;

/// Section `id` with `contents`, as bytes (for building test modules).
#[cfg(test)]
pub fn section(id: u8, contents: &[u8]) -> Vec<u8> {
    let mut section = Vec::new();
    push_section(&mut section, id, contents);
    section
}

/// Appends `value` as unsigned LEB128.
pub fn push_leb(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub const FUNCTION_SECTION: u8 = 3;
pub const ELEMENT_SECTION: u8 = 9;

/// The function names of a `name` custom section's contents (empty when it has none).
pub fn function_names(section: &[u8]) -> Result<HashMap<usize, String>> {
    let mut at = 0;
    let len = read_leb(section, &mut at)?;
    at += len;
    let mut names = HashMap::new();
    while at < section.len() {
        let id = section[at];
        at += 1;
        let len = read_leb(section, &mut at)?;
        let end = at + len;
        if id == FUNCTION_NAMES {
            let count = read_leb(section, &mut at)?;
            for _ in 0..count {
                let index = read_leb(section, &mut at)?;
                let name = &section[read_span(section, &mut at, "a function name")?];
                names.insert(index, String::from_utf8_lossy(name).into_owned());
            }
        }
        at = end;
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_round_trips() {
        for value in [0, 1, 127, 128, 300, 16_384, u32::MAX as usize] {
            let mut bytes = Vec::new();
            push_leb(&mut bytes, value);
            let mut at = 0;
            assert_eq!(read_leb(&bytes, &mut at).unwrap(), value);
            assert_eq!(at, bytes.len());
        }
        assert!(read_leb(&[0x80], &mut 0).is_err());
    }
}
