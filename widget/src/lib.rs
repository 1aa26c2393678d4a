//! # natter-widget
//!
//! The visitor's chat bubble that site owners embed with one `<script>` tag, and the headless
//! `ChatClient` for developers who draw their own chat UI, compiled to WebAssembly.
//!
//! - [`model`]: the view state as plain data (message list, unread count, connection and routing
//!   status) and every decision about it; pure, unit-tested natively.
//! - [`i18n`]: the interface texts in English, French, Russian and Portuguese; pure.
//! - `session` (wasm only): the browser driver of the sdk's sans-IO client core: WebSocket,
//!   timers, `fetch`, and the `localStorage` outbox that makes every message go out exactly once.
//! - `ui` (wasm only): the hand-written Shadow-DOM interface that draws the model.
//! - `exports` (wasm only): the JavaScript API: `mount` in the default build (the bubble), or
//!   `ChatClient` in the build with feature `headless` (the npm package's second module).
//!
//! The widget is hand-written on web-sys, without a UI framework, because it lands on other
//! people's pages and its whole first load must stay under 40 KB gzip (`cargo xtask
//! build-widget` enforces the budget).
//!
//! ## Without std
//!
//! The wasm that ships is built with `--no-default-features` (no feature `std`): the crate is then
//! `#![no_std]` (core + `alloc`, with lol_alloc as the allocator) and nothing it links uses
//! `std`, so std's panic runtime is left out. Even with `panic = "abort"`, std's panic handler
//! formats the panic message and its location for the panic hook, which keeps std's panicking
//! and formatting code in the module. Without std the first open is ~1 KB gzip smaller (measured: 58,901 B
//! instead of 59,913). Here a panic just traps (`unreachable`), which the browser reports as a
//! `RuntimeError`; a build with feature `debug` brings std and readable panic messages back. The
//! default feature `std` is for everything else: the native unit tests, clippy, and the browser
//! tests, whose wasm-bindgen-test harness links std (which defines its own panic handler).
//! Modules take what std's prelude would give them from [`prelude`] and name `core::`/`alloc::`
//! paths, so they compile either way.

#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]

extern crate alloc;

pub mod i18n;
pub mod model;

#[cfg(target_arch = "wasm32")]
mod exports;
#[cfg(target_arch = "wasm32")]
mod session;
#[cfg(target_arch = "wasm32")]
pub mod ui;

// lol_alloc's free list (sorted by address, neighbours merged when freed) instead of std's
// dlmalloc (~7 KB of wasm) or talc, whose size classes and bitfields cost first open 364 B gzip
// more. Its searches walk the free list, which a chat widget's small heap keeps short. In its
// spin lock rather than `AssumeSingleThreaded`, whose constructor is `unsafe` (forbidden here);
// on one thread the lock is never contended.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// The part of std's prelude that `core`'s lacks, for modules that must also compile without std.
// Natively only the pure modules are compiled, and they use just part of it.
#[cfg_attr(not(target_arch = "wasm32"), allow(unused_imports))]
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::string::String;
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

/// Without std a wasm module needs its own panic handler. This one traps at once and never looks
/// at the panic's message, so no formatting code is linked (see the crate docs).
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn trap_on_panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The global allocator, in headless Chromium (with the other browser tests).
#[cfg(all(test, target_arch = "wasm32"))]
mod allocator_tests {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use crate::prelude::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn freed_memory_is_used_again_and_blocks_keep_their_contents() {
        let pages_before = core::arch::wasm32::memory_size(0);
        for round in 0..50u8 {
            // Blocks of many sizes, live together, then one larger than any of them, which
            // only fits in merged free space or new pages.
            let blocks: Vec<Vec<u8>> = (0..200).map(|i| vec![round; 1 + (i * 37) % 300]).collect();
            for (i, block) in blocks.iter().enumerate() {
                assert_eq!(block.len(), 1 + (i * 37) % 300);
                assert!(block.iter().all(|&byte| byte == round));
            }
            drop(blocks);
            let large = vec![round; 40_000];
            assert!(large.iter().all(|&byte| byte == round));
        }
        // About 70 KB live at a time: without reuse the 50 rounds would take ~50 more pages.
        let grown = core::arch::wasm32::memory_size(0) - pages_before;
        assert!(grown <= 2, "the heap grew by {grown} pages of 64 KB");
    }
}
