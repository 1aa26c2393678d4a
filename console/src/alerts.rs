//! Carrying out [`crate::notify::Alert`]s: the browser's desktop notification and a short beep
//! made with WebAudio (no sound file to ship; one audio context for the page), plus the
//! permission request.

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AudioContext, AudioContextState, Notification, NotificationOptions, OscillatorType};

use crate::notify::{Alert, Permission};

/// The browser's current notification permission.
pub fn permission() -> Permission {
    let supported = web_sys::window()
        .and_then(|w| js_sys::Reflect::has(&w, &JsValue::from_str("Notification")).ok())
        .unwrap_or(false);
    if !supported {
        return Permission::Unsupported;
    }
    match Notification::permission() {
        web_sys::NotificationPermission::Granted => Permission::Granted,
        web_sys::NotificationPermission::Denied => Permission::Denied,
        _ => Permission::Default,
    }
}

/// Asks for permission (call it from a click: browsers ignore requests without a gesture).
pub async fn request_permission() -> Permission {
    if permission() == Permission::Unsupported {
        return Permission::Unsupported;
    }
    if let Ok(promise) = Notification::request_permission() {
        let _ = JsFuture::from(promise).await;
    }
    permission()
}

/// Shows `alert`; `open` is called with its conversation id when the notification is clicked.
pub fn show(alert: &Alert, open: impl Fn(String) + 'static) {
    if alert.sound {
        beep();
    }
    if !alert.desktop {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(&alert.body);
    // One notification per conversation: a newer one replaces the older.
    options.set_tag(&alert.conversation_id);
    let Ok(notification) = Notification::new_with_options(&alert.title, &options) else {
        return;
    };
    let id = alert.conversation_id.clone();
    let target = notification.clone();
    let on_click = Closure::<dyn FnMut()>::new(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.focus();
        }
        open(id.clone());
        target.close();
    });
    notification.set_onclick(Some(on_click.as_ref().unchecked_ref()));
    // The notification lives on in the browser after this function; so must its handler.
    on_click.forget();
}

thread_local! {
    /// The one audio context of the page, made at the first beep. Browsers cap the number of
    /// live contexts and each holds an audio thread, so it is reused rather than made per beep.
    static AUDIO: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
}

/// The page's audio context, resumed if the browser suspended it (autoplay rules suspend a
/// context made without a user gesture; a later gesture on the page lets it resume).
fn audio_context() -> Option<AudioContext> {
    AUDIO.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = AudioContext::new().ok();
        }
        let context = slot.clone()?;
        if context.state() == AudioContextState::Suspended {
            let _ = context.resume();
        }
        Some(context)
    })
}

/// Two short tones, quiet enough for an office.
pub fn beep() {
    let Some(context) = audio_context() else {
        return;
    };
    let start = context.current_time();
    for (offset, frequency) in [(0.0, 880.0), (0.12, 1320.0)] {
        let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain())
        else {
            return;
        };
        oscillator.set_type(OscillatorType::Sine);
        oscillator.frequency().set_value(frequency);
        let at = start + offset;
        let _ = gain.gain().set_value_at_time(0.0001, at);
        let _ = gain
            .gain()
            .exponential_ramp_to_value_at_time(0.15, at + 0.01);
        let _ = gain
            .gain()
            .exponential_ramp_to_value_at_time(0.0001, at + 0.11);
        if oscillator.connect_with_audio_node(&gain).is_err()
            || gain
                .connect_with_audio_node(&context.destination())
                .is_err()
        {
            return;
        }
        let _ = oscillator.start_with_when(at);
        let _ = oscillator.stop_with_when(at + 0.12);
    }
}
