//! The visitor widget's appearance, one [`WidgetSettings`] per tenant, and the pure check that
//! turns what an admin typed into settings worth storing ([`WidgetSettings::normalized`]).
//!
//! Texts left out (`None`) are not stored defaults but "let the widget decide": the greeting
//! then comes in the visitor's language, and the title is the tenant's current name.

pub use natter_sdk::api::WidgetPosition;

/// The accent colour of a tenant that never chose one (indigo).
pub const DEFAULT_COLOR: &str = "#4f46e5";
/// Longest greeting, in characters.
pub const MAX_GREETING_CHARS: usize = 280;
/// Longest launcher text, in characters: it sits next to an icon in a small pill.
pub const MAX_LAUNCHER_TEXT_CHARS: usize = 40;
/// Longest window title, in characters: it must fit a narrow header.
pub const MAX_TITLE_CHARS: usize = 60;

/// How the widget looks on a tenant's site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetSettings {
    /// Accent colour, `#rrggbb` in lowercase.
    pub color: String,
    /// The bottom corner of the launcher.
    pub position: WidgetPosition,
    /// First line of an empty chat; `None`: the widget's localized default.
    pub greeting: Option<String>,
    /// Text next to the launcher icon; `None`: the icon alone.
    pub launcher_text: Option<String>,
    /// Window title; `None`: the tenant's name.
    pub title: Option<String>,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        WidgetSettings {
            color: DEFAULT_COLOR.to_owned(),
            position: WidgetPosition::Right,
            greeting: None,
            launcher_text: None,
            title: None,
        }
    }
}

/// Why widget settings were refused: the field (as named on the wire) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidWidgetSettings {
    /// `color`, `greeting`, `launcher_text` or `title`.
    pub field: &'static str,
    /// What is wrong, as a sentence fragment for the API's error message.
    pub reason: String,
}

impl WidgetSettings {
    /// Checks settings as given by an admin and returns them as stored: the colour in
    /// lowercase, texts trimmed, and blank texts as `None` (so clearing a field in a form
    /// restores the widget's default rather than showing an empty greeting).
    ///
    /// Texts may not hold control characters, line breaks included: the widget shows each on a
    /// single line, and a stray escape or bidi-isolating character from a paste is never
    /// intended.
    pub fn normalized(self) -> Result<WidgetSettings, InvalidWidgetSettings> {
        Ok(WidgetSettings {
            color: normalize_color(&self.color)?,
            position: self.position,
            greeting: clean_text("greeting", self.greeting, MAX_GREETING_CHARS)?,
            launcher_text: clean_text(
                "launcher_text",
                self.launcher_text,
                MAX_LAUNCHER_TEXT_CHARS,
            )?,
            title: clean_text("title", self.title, MAX_TITLE_CHARS)?,
        })
    }
}

/// `#` and six hex digits, lowercased. Shorthand (`#abc`), names and `rgb()` are refused: the
/// widget derives its hover and text colours from the three bytes, and one spelling keeps that
/// code and the stored values simple.
fn normalize_color(color: &str) -> Result<String, InvalidWidgetSettings> {
    let trimmed = color.trim();
    let valid = trimmed.len() == 7
        && trimmed.starts_with('#')
        && trimmed[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if valid {
        Ok(trimmed.to_ascii_lowercase())
    } else {
        Err(InvalidWidgetSettings {
            field: "color",
            reason: format!("{color:?} is not \"#\" and six hex digits, like \"{DEFAULT_COLOR}\""),
        })
    }
}

/// A trimmed text of at most `max` characters without control characters; blank is `None`.
fn clean_text(
    field: &'static str,
    text: Option<String>,
    max: usize,
) -> Result<Option<String>, InvalidWidgetSettings> {
    let Some(text) = text else { return Ok(None) };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max {
        return Err(InvalidWidgetSettings {
            field,
            reason: format!("at most {max} characters"),
        });
    }
    if trimmed.chars().any(is_forbidden) {
        return Err(InvalidWidgetSettings {
            field,
            reason: "no control characters or line breaks".to_owned(),
        });
    }
    Ok(Some(trimmed.to_owned()))
}

/// Control characters (C0, DEL, C1) and the Unicode line and paragraph separators, which
/// `char::is_control` does not cover but which break a line all the same.
fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_color(color: &str) -> WidgetSettings {
        WidgetSettings {
            color: color.to_owned(),
            ..WidgetSettings::default()
        }
    }

    #[test]
    fn the_defaults_are_valid_and_unchanged_by_normalizing() {
        assert_eq!(
            WidgetSettings::default().normalized(),
            Ok(WidgetSettings::default())
        );
    }

    #[test]
    fn a_colour_is_lowercased_and_trimmed() {
        assert_eq!(
            with_color(" #0F766E ").normalized().map(|s| s.color),
            Ok("#0f766e".to_owned())
        );
    }

    #[test]
    fn a_colour_must_be_a_hash_and_six_hex_digits() {
        for bad in [
            "",
            "#",
            "0f766e",
            "#0f766",
            "#0f766e0",
            "#0f766g",
            "#abc",
            "red",
            "rgb(1,2,3)",
            "##0f766",
            "#0f766é",
        ] {
            let err = with_color(bad).normalized().unwrap_err();
            assert_eq!(err.field, "color", "{bad:?}");
            assert!(err.to_string().starts_with("color: "), "{err}");
        }
    }

    #[test]
    fn texts_are_trimmed_and_blank_ones_become_none() {
        let settings = WidgetSettings {
            greeting: Some("  Hi there!  ".into()),
            launcher_text: Some("   ".into()),
            title: Some(String::new()),
            ..WidgetSettings::default()
        }
        .normalized()
        .unwrap();
        assert_eq!(settings.greeting.as_deref(), Some("Hi there!"));
        assert_eq!(settings.launcher_text, None);
        assert_eq!(settings.title, None);
    }

    #[test]
    fn each_text_has_its_own_length_limit_counted_in_characters() {
        let at_most = |field: &str, limit: usize| {
            let text = |n: usize| Some("é".repeat(n));
            let settings = |n: usize| match field {
                "greeting" => WidgetSettings {
                    greeting: text(n),
                    ..WidgetSettings::default()
                },
                "launcher_text" => WidgetSettings {
                    launcher_text: text(n),
                    ..WidgetSettings::default()
                },
                _ => WidgetSettings {
                    title: text(n),
                    ..WidgetSettings::default()
                },
            };
            assert!(settings(limit).normalized().is_ok(), "{field} at {limit}");
            let err = settings(limit + 1).normalized().unwrap_err();
            assert_eq!(err.field, field);
            assert_eq!(err.reason, format!("at most {limit} characters"));
        };
        at_most("greeting", MAX_GREETING_CHARS);
        at_most("launcher_text", MAX_LAUNCHER_TEXT_CHARS);
        at_most("title", MAX_TITLE_CHARS);
    }

    #[test]
    fn texts_with_control_characters_or_line_breaks_are_refused() {
        for bad in [
            "Hi\nthere",
            "Hi\tthere",
            "Hi\u{1b}[31m",
            "Hi\u{85}there",
            "Hi\u{2028}there",
        ] {
            let err = WidgetSettings {
                title: Some(bad.into()),
                ..WidgetSettings::default()
            }
            .normalized()
            .unwrap_err();
            assert_eq!(err.field, "title", "{bad:?}");
        }
    }

    #[test]
    fn the_position_is_kept() {
        let settings = WidgetSettings {
            position: WidgetPosition::Left,
            ..WidgetSettings::default()
        };
        assert_eq!(settings.clone().normalized(), Ok(settings));
    }
}
