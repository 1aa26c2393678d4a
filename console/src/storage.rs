//! `localStorage`, as JSON values under `natter-console:` keys. Storage may be unavailable
//! (private modes, quotas); every call then quietly does nothing, and the console still works
//! for the page's lifetime.

use serde::Serialize;
use serde::de::DeserializeOwned;

const PREFIX: &str = "natter-console:";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The value stored under `key`, if there is one and it parses.
pub fn load<T: DeserializeOwned>(key: &str) -> Option<T> {
    let text = storage()?.get_item(&format!("{PREFIX}{key}")).ok()??;
    serde_json::from_str(&text).ok()
}

/// Stores `value` under `key`. Returns whether it was written.
pub fn save<T: Serialize + ?Sized>(key: &str, value: &T) -> bool {
    let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(value)) else {
        return false;
    };
    storage.set_item(&format!("{PREFIX}{key}"), &text).is_ok()
}

/// Removes `key`.
pub fn remove(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&format!("{PREFIX}{key}"));
    }
}

/// Removes every key of the console (signing out).
pub fn clear_all() {
    let Some(storage) = storage() else { return };
    let len = storage.length().unwrap_or(0);
    let keys: Vec<String> = (0..len)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|k| k.starts_with(PREFIX))
        .collect();
    for key in keys {
        let _ = storage.remove_item(&key);
    }
}
