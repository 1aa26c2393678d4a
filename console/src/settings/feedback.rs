//! What every settings form shares: loading state, per-field errors (a 422 names its field; the
//! message goes next to that field, linked with `aria-describedby`), the form's own status line
//! (saved, or what went wrong) and the refusal an agent sees (the server answers 403).

use leptos::prelude::*;

use crate::api::ApiError;
use crate::settings::forms::split_field;

/// What agents see instead of a settings section (the server refuses them anyway).
pub const MANAGERS_ONLY: &str = "Only owners and admins can change settings.";

/// A section's data: loading, loaded, or why it could not be loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    /// Asked for.
    Loading,
    /// Here.
    Ready(T),
    /// Not available, with the sentence to show.
    Failed(String),
}

/// The sentence for a failed load.
pub fn load_failure(what: &str, error: &ApiError) -> String {
    if error.status() == Some(403) {
        MANAGERS_ONLY.to_owned()
    } else {
        format!("{what} could not be loaded: {error}")
    }
}

/// The outcome shown under a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Done; what happened.
    Done(String),
    /// Refused or failed; why.
    Failed(String),
}

/// One form's feedback: field errors, status line, and whether a request is under way.
#[derive(Clone, Copy)]
pub struct Form {
    /// `(field, message)` pairs; fields by their wire names.
    errors: RwSignal<Vec<(String, String)>>,
    /// The status line.
    pub status: RwSignal<Option<Status>>,
    /// A request is under way (the submit button is disabled meanwhile).
    pub busy: RwSignal<bool>,
}

impl Form {
    /// An empty form state.
    pub fn new() -> Form {
        Form {
            errors: RwSignal::new(Vec::new()),
            status: RwSignal::new(None),
            busy: RwSignal::new(false),
        }
    }

    /// Starts a submission: clears earlier feedback. Returns false if one is under way.
    pub fn begin(&self) -> bool {
        if self.busy.get_untracked() {
            return false;
        }
        self.errors.set(Vec::new());
        self.status.set(None);
        self.busy.set(true);
        true
    }

    /// The error of `field`, if any (tracked).
    pub fn error(&self, field: &str) -> Option<String> {
        self.errors
            .with(|e| e.iter().find(|(f, _)| f == field).map(|(_, m)| m.clone()))
    }

    /// Puts `message` next to `field` (a check before sending).
    pub fn set_error(&self, field: &str, message: impl Into<String>) {
        let message = message.into();
        self.errors.update(|errors| {
            errors.retain(|(f, _)| f != field);
            errors.push((field.to_owned(), message));
        });
    }

    /// Whether any field has an error (untracked: for submit handlers).
    pub fn has_errors(&self) -> bool {
        self.errors.with_untracked(|e| !e.is_empty())
    }

    /// Ends a submission that the checks before sending stopped.
    pub fn stop_invalid(&self) {
        self.busy.set(false);
        self.status.set(Some(Status::Failed(
            "Please correct the marked fields.".into(),
        )));
    }

    /// Ends a submission successfully.
    pub fn done(&self, text: impl Into<String>) {
        self.busy.set(false);
        self.status.set(Some(Status::Done(text.into())));
    }

    /// Ends a submission that failed. A validation error naming one of `fields` goes next to
    /// that field; everything else goes to the status line.
    pub fn failed(&self, error: &ApiError, fields: &[&str]) {
        self.busy.set(false);
        let text = match error {
            ApiError::Server { status: 403, .. } => MANAGERS_ONLY.to_owned(),
            ApiError::Server {
                status: 422,
                message,
                ..
            } => match split_field(message) {
                (Some(field), reason) if fields.contains(&field) => {
                    self.set_error(field, reason);
                    "Not saved: please correct the marked field.".to_owned()
                }
                _ => format!("Not saved: {message}"),
            },
            other => format!("Not saved: {other}"),
        };
        self.status.set(Some(Status::Failed(text)));
    }

    /// The id of the error paragraph of `field` in the control with id `control`, when there is
    /// an error (for the control's `aria-describedby`).
    pub fn described_by(&self, field: &str, control: &str) -> Option<String> {
        self.error(field).map(|_| error_id(control))
    }
}

/// The id of the error paragraph of the control with id `control`.
pub fn error_id(control: &str) -> String {
    format!("{control}-error")
}

/// The error paragraph of one field, present only while it has an error.
#[component]
pub fn FieldError(form: Form, field: &'static str, #[prop(into)] control: String) -> impl IntoView {
    move || {
        form.error(field).map(|message| {
            view! { <p class="field-error" id=error_id(&control)>{message}</p> }
        })
    }
}

/// The status line under a form: announced politely when saved, assertively when refused.
#[component]
pub fn FormStatus(form: Form) -> impl IntoView {
    move || match form.status.get() {
        None => None,
        Some(Status::Done(text)) => {
            Some(view! { <p class="form-status ok" role="status">"✓ "{text}</p> }.into_any())
        }
        Some(Status::Failed(text)) => {
            Some(view! { <p class="form-error" role="alert">{text}</p> }.into_any())
        }
    }
}

/// A section's body while its data loads or after it failed; `ready` renders the data.
pub fn loaded<T: Clone + Send + Sync + 'static, V: IntoView + 'static>(
    state: RwSignal<Load<T>>,
    ready: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView {
    move || match state.get() {
        Load::Loading => view! { <p class="muted" role="status">"Loading…"</p> }.into_any(),
        Load::Failed(text) => view! { <p class="form-error" role="alert">{text}</p> }.into_any(),
        Load::Ready(data) => ready(data).into_view().into_any(),
    }
}
