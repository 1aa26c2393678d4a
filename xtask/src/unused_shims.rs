//! Takes out of the function table the functions that wasm-bindgen leaves there unused: closure
//! shims and js-sys' JSPI task waker.
//!
//! Every closure type that appears in a binding's signature (including js-sys' own, which are
//! always linked in) gets an `invoke` shim whose address its type description takes, which puts
//! the shim in the function table. wasm-bindgen reads the descriptions when it generates the
//! glue, exports (through wrappers) the shims of the closures the program really makes, and
//! deletes the descriptions, but their table entries stay, and with them every shim's code and
//! whatever that code reaches. Nothing calls a shim through the table: the table is not
//! exported, the glue calls the exported wrappers, and no vtable in the program holds a shim
//! (vtables hold a closure's own methods, which `call_indirect` reaches). On the widget's bubble
//! that is 40-odd shims, over 1 KB gzip.
//!
//! js-sys' JSPI task waker is the same case: its four `RawWakerVTable` functions
//! (`js_sys::futures::jspi::task_waker::raw_*`) are in the table because the vtable, a static in
//! the data section that wasm-opt cannot see into, holds their indices. A waker with that vtable
//! is only ever made by `task_waker` (private to js-sys' `futures/jspi.rs`), which only
//! `SpawnedTask::poll` calls, which only the exported `__wbg_jspi_task_poll` calls; `raw_clone`
//! only copies an existing one. wasm-bindgen deletes that export (and so that whole chain) from
//! a module without `#[wasm_bindgen(jspi)]` exports, so when no function of that name is left
//! no such waker can exist and nothing can call the four. They and what they reach (the task's
//! wake and drop, a `RefCell` panic location) are ~0.1 KB gzip on the bubble. Should a later
//! js-sys keep the export, or the widget use JSPI, the entries stay as they are.
//!
//! Each such entry is pointed at one added function whose body is `unreachable`, so that if
//! anything ever did call one through the table it would trap loudly rather than run
//! something else. The entries keep their positions; wasm-opt then drops the functions that no
//! export or call still reaches.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};

use crate::wasm_module::{
    CODE_SECTION, CUSTOM_SECTION, ELEMENT_SECTION, FUNCTION_SECTION, HEADER_LEN, IMPORT_SECTION,
    NAME, custom_name, function_imports, function_names, push_leb, push_section, read_leb,
    sections,
};

/// How rustc's symbol names (kept in the `name` section) spell the shims.
const SHIM_PREFIX: &str = "wasm_bindgen::convert::closures::_::invoke::";

/// How they spell the functions of js-sys' JSPI task waker vtable.
const JSPI_WAKER_PREFIX: &str = "js_sys::futures::jspi::task_waker::raw_";

/// js-sys' JSPI poll entry, the only way to a task waker (see the module doc).
const JSPI_POLL: &str = "__wbg_jspi_task_poll";

/// The trap's body: no locals, `unreachable`, `end`.
const TRAP_BODY: [u8; 3] = [0x00, 0x00, 0x0b];

/// Clears the unused table entries (closure shims, JSPI waker) of the module at `wasm`, in
/// place, and returns how many there were. The module must still have its `name` section
/// (wasm-bindgen's output does).
pub fn clear(wasm: &Path) -> Result<usize> {
    let module = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let (cleared, module) = cleared(&module)?;
    std::fs::write(wasm, module).with_context(|| format!("writing {}", wasm.display()))?;
    Ok(cleared)
}

fn cleared(module: &[u8]) -> Result<(usize, Vec<u8>)> {
    let sections = sections(module)?;
    let mut imported = 0;
    let mut defined = None;
    let mut names = Default::default();
    for (id, range) in &sections {
        let contents = &module[range.clone()];
        match *id {
            IMPORT_SECTION => imported = function_imports(contents)?,
            FUNCTION_SECTION => defined = Some(read_leb(contents, &mut 0)?),
            CUSTOM_SECTION if custom_name(contents)? == NAME => {
                names = function_names(contents)?;
            }
            _ => {}
        }
    }
    ensure!(
        !names.is_empty(),
        "the module has no function names, so its closure shims cannot be recognised"
    );
    let defined = defined.context("the module defines no functions")?;
    // The added trap, after the defined functions.
    let trap = imported + defined;
    let jspi_unused = !names.values().any(|name| name == JSPI_POLL);
    let is_unused = |index: usize| {
        names.get(&index).is_some_and(|name| {
            name.starts_with(SHIM_PREFIX) || (jspi_unused && name.starts_with(JSPI_WAKER_PREFIX))
        })
    };

    let mut cleared = 0;
    let mut out = module[..HEADER_LEN].to_vec();
    for (id, range) in sections {
        let contents = &module[range];
        let rewritten = match id {
            // One more function, of the first type (any type traps the same way).
            FUNCTION_SECTION => Some(appended(contents, &[0])?),
            CODE_SECTION => {
                let mut body = Vec::new();
                push_leb(&mut body, TRAP_BODY.len());
                body.extend_from_slice(&TRAP_BODY);
                Some(appended(contents, &body)?)
            }
            ELEMENT_SECTION => {
                let (count, elements) = with_entries_replaced(contents, &is_unused, trap)?;
                cleared = count;
                Some(elements)
            }
            _ => None,
        };
        let contents = rewritten.as_deref().unwrap_or(contents);
        push_section(&mut out, id, contents);
    }
    Ok((cleared, out))
}

/// A vector section's contents with one more item, `item`, at the end.
fn appended(section: &[u8], item: &[u8]) -> Result<Vec<u8>> {
    let mut at = 0;
    let count = read_leb(section, &mut at)?;
    let mut out = Vec::new();
    push_leb(&mut out, count + 1);
    out.extend_from_slice(&section[at..]);
    out.extend_from_slice(item);
    Ok(out)
}

/// The element section with every function index for which `replace` holds swapped for
/// `with`, and how many were. Only the plain form wasm-bindgen writes is understood: active
/// segments of function indices for table 0 (flag 0).
fn with_entries_replaced(
    section: &[u8],
    replace: &dyn Fn(usize) -> bool,
    with: usize,
) -> Result<(usize, Vec<u8>)> {
    let mut at = 0;
    let segments = read_leb(section, &mut at)?;
    let mut out = Vec::new();
    push_leb(&mut out, segments);
    let mut replaced = 0;
    for _ in 0..segments {
        let flags = read_leb(section, &mut at)?;
        if flags != 0 {
            bail!("element segment kind {flags} is not handled");
        }
        out.push(0);
        // The offset: a constant expression up to its `end`.
        let start = at;
        loop {
            let byte = *section.get(at).context("truncated element offset")?;
            at += 1;
            match byte {
                0x0b => break,
                // i32.const and global.get take one LEB128 operand (signed or not, same length).
                0x41 | 0x23 => {
                    read_leb(section, &mut at)?;
                }
                other => bail!("element offset opcode {other:#x} is not handled"),
            }
        }
        out.extend_from_slice(&section[start..at]);
        let count = read_leb(section, &mut at)?;
        push_leb(&mut out, count);
        for _ in 0..count {
            let index = read_leb(section, &mut at)?;
            if replace(index) {
                replaced += 1;
                push_leb(&mut out, with);
            } else {
                push_leb(&mut out, index);
            }
        }
    }
    ensure!(
        at == section.len(),
        "unexpected bytes after the element segments"
    );
    Ok((replaced, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasm_module::{TYPE_SECTION, code_bodies, section};

    const TABLE_SECTION: u8 = 4;

    fn name_section(names: &[(usize, &str)]) -> Vec<u8> {
        let mut function_names = Vec::new();
        push_leb(&mut function_names, names.len());
        for (index, name) in names {
            push_leb(&mut function_names, *index);
            push_leb(&mut function_names, name.len());
            function_names.extend_from_slice(name.as_bytes());
        }
        let mut contents = vec![4];
        contents.extend_from_slice(NAME);
        contents.push(1);
        push_leb(&mut contents, function_names.len());
        contents.extend_from_slice(&function_names);
        section(CUSTOM_SECTION, &contents)
    }

    /// One imported function, then three defined ones named `names` (no name section when
    /// empty), all three in the table from index 1.
    fn module(names: &[&str]) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend(section(TYPE_SECTION, &[1, 0x60, 0, 0]));
        m.extend(section(IMPORT_SECTION, &[1, 1, b'm', 1, b'f', 0, 0]));
        m.extend(section(FUNCTION_SECTION, &[3, 0, 0, 0]));
        m.extend(section(TABLE_SECTION, &[1, 0x70, 0, 4]));
        m.extend(section(ELEMENT_SECTION, &[1, 0, 0x41, 1, 0x0b, 3, 1, 2, 3]));
        let body = [2, 0, 0x0b];
        m.extend(section(
            CODE_SECTION,
            &[[3].as_slice(), &body, &body, &body].concat(),
        ));
        if !names.is_empty() {
            let mut all = vec![(0, "imported")];
            all.extend(names.iter().enumerate().map(|(at, name)| (at + 1, *name)));
            m.extend(name_section(&all));
        }
        m
    }

    /// The element section of `cleared`'s output for a module with `names`, and the count.
    fn elements_after_clearing(names: &[&str]) -> (usize, Vec<u8>) {
        let (cleared, out) = cleared(&module(names)).unwrap();
        let sections = sections(&out).unwrap();
        let (_, elements) = sections
            .into_iter()
            .find(|(id, _)| *id == ELEMENT_SECTION)
            .unwrap();
        (cleared, out[elements].to_vec())
    }

    #[test]
    fn the_shims_entries_point_at_an_added_trap() {
        let module = module(&[
            "wasm_bindgen::convert::closures::_::invoke::h1",
            "wasm_bindgen::convert::closures::_::invoke::h2",
            "natter_widget::other",
        ]);
        let (cleared, out) = cleared(&module).unwrap();
        assert_eq!(cleared, 2);
        let (before, after) = (sections(&module).unwrap(), sections(&out).unwrap());
        assert_eq!(before.len(), after.len());
        for ((id, old), (_, new)) in before.into_iter().zip(after) {
            match id {
                FUNCTION_SECTION => assert_eq!(out[new], [4, 0, 0, 0, 0]),
                // Function 4 is the trap; the ordinary function keeps its entry.
                ELEMENT_SECTION => assert_eq!(out[new], [1, 0, 0x41, 1, 0x0b, 3, 4, 4, 3]),
                CODE_SECTION => {
                    let bodies = code_bodies(&out[new]).unwrap();
                    assert_eq!(bodies.len(), 4);
                    assert_eq!(bodies[3], TRAP_BODY);
                }
                _ => assert_eq!(module[old], out[new], "section {id} changed"),
            }
        }
    }

    #[test]
    fn the_jspi_waker_is_cleared_only_without_the_jspi_poll_export() {
        let wake = "js_sys::futures::jspi::task_waker::raw_wake::h1";
        let drop = "js_sys::futures::jspi::task_waker::raw_drop::h2";
        let (cleared, elements) = elements_after_clearing(&[wake, drop, "natter_widget::other"]);
        assert_eq!(cleared, 2);
        assert_eq!(elements, [1, 0, 0x41, 1, 0x0b, 3, 4, 4, 3]);
        // With the poll entry still there a waker can exist, so its functions stay reachable.
        let (cleared, elements) = elements_after_clearing(&[wake, drop, JSPI_POLL]);
        assert_eq!(cleared, 0);
        assert_eq!(elements, [1, 0, 0x41, 1, 0x0b, 3, 1, 2, 3]);
    }

    #[test]
    fn a_module_without_names_is_refused() {
        assert!(cleared(&module(&[])).is_err());
    }
}
