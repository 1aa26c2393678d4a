//! The settings forms' logic, without the browser: which field a server refusal names, the
//! checks run before a form is sent (the server checks again; these only spare a round trip and
//! put the message next to the right field), the widget preview's text colour, the embed
//! snippet, the identity-verification example, team ids and which roles a manager may give.

use natter_sdk::api::{OriginError, parse_origin};
use natter_sdk::protocol::StaffRole;

/// Splits a server's validation message (`"color: \"red\" is not ..."`) into the wire field it
/// names and the rest. Messages that name no field (`"give capacity or use_default_capacity,
/// not both"`) come back whole with `None`, to be shown with the form rather than a field.
pub fn split_field(message: &str) -> (Option<&str>, &str) {
    match message.split_once(": ") {
        Some((field, rest))
            if !field.is_empty() && field.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            (Some(field), rest)
        }
        _ => (None, message),
    }
}

/// A colour as typed (`#4F46E5`, `4f46e5`, ` #4f46e5 `) in the server's spelling (`#4f46e5`),
/// or why it is not one. Shorthand and names are refused like the server refuses them.
pub fn color(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    let digits = trimmed.strip_prefix('#').unwrap_or(trimmed);
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(format!("#{}", digits.to_ascii_lowercase()))
    } else {
        Err("a colour is \"#\" and six hex digits, like #4f46e5".to_owned())
    }
}

/// The text colour the widget draws on `accent` (white on dark accents, near-black on light
/// ones), with the widget's own threshold so the preview matches the real launcher. `None` for
/// anything but `#rrggbb`.
pub fn text_on(accent: &str) -> Option<&'static str> {
    let hex = color(accent).ok()?;
    let byte = |i: usize| u32::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    let (r, g, b) = (byte(1), byte(3), byte(5));
    // Relative luminance with the gamma-2 approximation, scaled like the widget's
    // `readable_on` (widget/src/ui/mod.rs): the crossover is at about 0.22.
    Some(if 2126 * r * r + 7152 * g * g + 722 * b * b < 143_000_000 {
        "#fff"
    } else {
        "#111"
    })
}

/// A text field's length check: at most `max` characters (blank is fine: it means the
/// widget's default).
pub fn at_most(text: &str, max: usize) -> Result<(), String> {
    if text.trim().chars().count() > max {
        Err(format!("at most {max} characters"))
    } else {
        Ok(())
    }
}

/// An origin as an admin types it (`https://Shop.example/`, `http://localhost:3000`) in the
/// server's spelling (lowercase, no trailing slash), or why it is not one. A URL with a path is
/// refused with a hint: the widget's pages are allowed by origin, not by page.
pub fn origin(input: &str) -> Result<String, String> {
    parse_origin(input).map_err(|e| {
        match e {
            OriginError::Scheme => "start with http:// or https://",
            OriginError::Path => "only scheme, host and port (no path), like https://shop.example",
            OriginError::Malformed => "not an origin like https://shop.example:8443",
        }
        .to_owned()
    })
}

/// The line a site owner pastes into their pages: the loader from this console's origin (the
/// natter server), with the site key.
pub fn embed_snippet(server_origin: &str, site_key: &str) -> String {
    let server = server_origin.trim_end_matches('/');
    format!(r#"<script src="{server}/widget.js" data-site="{site_key}" async></script>"#)
}

/// How the site's server signs a signed-in user for the widget (Node.js, the most common
/// backend language of sites embedding a chat). The secret comes from the environment: it never
/// belongs in a page or in source control.
pub fn identity_example() -> &'static str {
    r#"// On your server (Node.js): sign the signed-in user's id.
import { createHmac } from 'node:crypto';
const userHash = createHmac('sha256', process.env.NATTER_IDENTITY_SECRET)
  .update(user.id)
  .digest('hex');

// In the page, with that user's id and hash:
Natter.identify({ userId: user.id, userHash, name: user.name, email: user.email });"#
}

/// A team id (`a-z`, `0-9`, `-`, 1 to 32 characters, as the server requires) made from a
/// team's name, not among `taken`: `"Sales & Billing"` → `sales-billing`, then `sales-billing-2`.
pub fn team_id(name: &str, taken: &[&str]) -> String {
    let mut slug = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut base: String = slug.trim_end_matches('-').chars().take(28).collect();
    base = base.trim_end_matches('-').to_owned();
    if base.is_empty() {
        base = "team".to_owned();
    }
    if !taken.contains(&base.as_str()) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.contains(&candidate.as_str()))
        .unwrap_or(base)
}

/// A capacity as typed: a whole number from 0 to 100.
pub fn capacity(input: &str) -> Result<u32, String> {
    match input.trim().parse::<u32>() {
        Ok(n) if n <= 100 => Ok(n),
        _ => Err("a whole number from 0 to 100".to_owned()),
    }
}

/// The roles `me` may give a new account or change an account to: owners give any role,
/// admins only make agents (the server enforces the same rule).
pub fn assignable_roles(me: StaffRole) -> &'static [StaffRole] {
    match me {
        StaffRole::Owner => &[StaffRole::Agent, StaffRole::Admin, StaffRole::Owner],
        StaffRole::Admin => &[StaffRole::Agent],
        StaffRole::Agent => &[],
    }
}

/// Whether `me` (with id `my_id`) may change the role or the activity of the account `target`
/// (id `target_id`, role `target_role`): nobody changes their own standing, owners change
/// everyone else, admins change agents.
pub fn may_manage(me: StaffRole, my_id: &str, target_id: &str, target_role: StaffRole) -> bool {
    my_id != target_id
        && match me {
            StaffRole::Owner => true,
            StaffRole::Admin => target_role == StaffRole::Agent,
            StaffRole::Agent => false,
        }
}

/// A role as people say it.
pub fn role_label(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Owner => "Owner",
        StaffRole::Admin => "Admin",
        StaffRole::Agent => "Agent",
    }
}

/// A role by its wire name (the `<select>`'s values).
pub fn role_from_wire(value: &str) -> Option<StaffRole> {
    match value {
        "owner" => Some(StaffRole::Owner),
        "admin" => Some(StaffRole::Admin),
        "agent" => Some(StaffRole::Agent),
        _ => None,
    }
}

/// A role's wire name.
pub fn role_wire(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Owner => "owner",
        StaffRole::Admin => "admin",
        StaffRole::Agent => "agent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_message_is_split_at_the_field_it_names() {
        assert_eq!(
            split_field("color: \"red\" is not \"#\" and six hex digits"),
            (Some("color"), "\"red\" is not \"#\" and six hex digits")
        );
        assert_eq!(
            split_field("launcher_text: at most 40 characters"),
            (Some("launcher_text"), "at most 40 characters")
        );
        assert_eq!(
            split_field("teams: id \"A\" must be 1 to 32 characters of a-z 0-9 -"),
            (
                Some("teams"),
                "id \"A\" must be 1 to 32 characters of a-z 0-9 -"
            )
        );
    }

    #[test]
    fn a_message_without_a_field_stays_whole() {
        for message in [
            "give capacity or use_default_capacity, not both",
            "this e-mail already has an account",
            "Colour: capitalised is not a wire field",
            ": nothing before the colon",
        ] {
            assert_eq!(split_field(message), (None, message));
        }
    }

    #[test]
    fn colours_are_accepted_in_any_case_with_or_without_the_hash() {
        assert_eq!(color("#4F46E5"), Ok("#4f46e5".to_owned()));
        assert_eq!(color(" 0f766e "), Ok("#0f766e".to_owned()));
        for bad in ["", "#abc", "red", "#12345g", "#1234567", "rgb(1,2,3)"] {
            assert!(color(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_preview_text_is_white_on_dark_accents_and_dark_on_light_ones() {
        assert_eq!(text_on("#4f46e5"), Some("#fff"));
        assert_eq!(text_on("#000000"), Some("#fff"));
        assert_eq!(text_on("#ffffff"), Some("#111"));
        assert_eq!(text_on("#facc15"), Some("#111"));
        assert_eq!(text_on("nope"), None);
    }

    #[test]
    fn texts_are_measured_in_characters_after_trimming() {
        assert!(at_most("  héllo  ", 5).is_ok());
        assert!(at_most("", 0).is_ok());
        assert_eq!(at_most("héllos", 5), Err("at most 5 characters".to_owned()));
    }

    #[test]
    fn origins_are_normalized_like_the_server_does() {
        assert_eq!(
            origin(" https://Shop.Example/ "),
            Ok("https://shop.example".to_owned())
        );
        assert_eq!(
            origin("http://localhost:3000"),
            Ok("http://localhost:3000".to_owned())
        );
        assert_eq!(
            origin("http://[::1]:8080"),
            Ok("http://[::1]:8080".to_owned())
        );
    }

    #[test]
    fn things_that_are_not_origins_are_refused_with_a_hint() {
        assert_eq!(
            origin("shop.example"),
            Err("start with http:// or https://".to_owned())
        );
        assert!(
            origin("https://shop.example/pricing")
                .unwrap_err()
                .contains("no path")
        );
        for bad in [
            "ftp://shop.example",
            "https://",
            "https://shop.example:99999",
            "https://shop example",
            "https://shop.example:",
        ] {
            assert!(origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_embed_snippet_loads_the_widget_from_the_server_with_the_site_key() {
        assert_eq!(
            embed_snippet("https://chat.example/", "site-123"),
            r#"<script src="https://chat.example/widget.js" data-site="site-123" async></script>"#
        );
    }

    #[test]
    fn the_identity_example_signs_with_hmac_sha256_from_the_environment() {
        let example = identity_example();
        assert!(example.contains("createHmac('sha256', process.env.NATTER_IDENTITY_SECRET)"));
        assert!(example.contains("Natter.identify({ userId: user.id, userHash"));
    }

    #[test]
    fn team_ids_are_slugs_of_the_name_and_unique() {
        assert_eq!(team_id("Sales & Billing", &[]), "sales-billing");
        assert_eq!(team_id("  Support  ", &["sales"]), "support");
        assert_eq!(team_id("Support", &["support"]), "support-2");
        assert_eq!(team_id("Support", &["support", "support-2"]), "support-3");
        assert_eq!(team_id("!!!", &[]), "team");
        assert_eq!(team_id("Ünïcode Team", &[]), "n-code-team");
        let long = team_id(&"a".repeat(80), &[]);
        assert!(long.len() <= 32 && !long.is_empty());
        let long_taken = team_id(&"a".repeat(80), &[long.as_str()]);
        assert!(long_taken.len() <= 32, "{long_taken}");
        assert_ne!(long_taken, long);
    }

    #[test]
    fn capacities_are_whole_numbers_up_to_a_hundred() {
        assert_eq!(capacity(" 5 "), Ok(5));
        assert_eq!(capacity("0"), Ok(0));
        assert_eq!(capacity("100"), Ok(100));
        for bad in ["101", "-1", "2.5", "", "many"] {
            assert!(capacity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn owners_give_any_role_and_admins_only_make_agents() {
        assert_eq!(assignable_roles(StaffRole::Owner).len(), 3);
        assert_eq!(assignable_roles(StaffRole::Admin), &[StaffRole::Agent]);
        assert!(assignable_roles(StaffRole::Agent).is_empty());
    }

    #[test]
    fn nobody_changes_their_own_standing_and_admins_manage_only_agents() {
        assert!(!may_manage(StaffRole::Owner, "me", "me", StaffRole::Owner));
        assert!(may_manage(StaffRole::Owner, "me", "x", StaffRole::Owner));
        assert!(may_manage(StaffRole::Owner, "me", "x", StaffRole::Admin));
        assert!(may_manage(StaffRole::Admin, "me", "x", StaffRole::Agent));
        assert!(!may_manage(StaffRole::Admin, "me", "x", StaffRole::Admin));
        assert!(!may_manage(StaffRole::Agent, "me", "x", StaffRole::Agent));
    }

    #[test]
    fn roles_round_trip_through_their_wire_names() {
        for role in [StaffRole::Owner, StaffRole::Admin, StaffRole::Agent] {
            assert_eq!(role_from_wire(role_wire(role)), Some(role));
            assert!(!role_label(role).is_empty());
        }
        assert_eq!(role_from_wire("director"), None);
    }
}
