//! A visitor's `User-Agent` as a short label for the contact panel ("Chrome 131 on Android").
//!
//! Only the common browsers and systems are named; the order of the checks matters because
//! most browsers also claim to be the ones they descend from (Edge and Opera say "Chrome",
//! Chrome says "Safari").

/// "Browser major on System", or whichever of the two is known; `None` when neither is.
pub fn browser_label(user_agent: &str) -> Option<String> {
    let browser = browser(user_agent);
    let system = system(user_agent);
    match (browser, system) {
        (Some(browser), Some(system)) => Some(format!("{browser} on {system}")),
        (Some(browser), None) => Some(browser),
        (None, Some(system)) => Some(system.to_owned()),
        (None, None) => None,
    }
}

/// The browser and its major version.
fn browser(ua: &str) -> Option<String> {
    // (marker, name): the first marker present wins.
    const BROWSERS: [(&str, &str); 10] = [
        ("EdgA/", "Edge"),
        ("EdgiOS/", "Edge"),
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("YaBrowser/", "Yandex Browser"),
        ("FxiOS/", "Firefox"),
        ("Firefox/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
    ];
    for (marker, name) in BROWSERS {
        if let Some(version) = version_after(ua, marker) {
            return Some(format!("{name} {version}"));
        }
    }
    if ua.contains("Safari/") {
        return Some(match version_after(ua, "Version/") {
            Some(version) => format!("Safari {version}"),
            None => "Safari".to_owned(),
        });
    }
    None
}

/// The operating system.
fn system(ua: &str) -> Option<&'static str> {
    // iPhones and iPads also say "like Mac OS X"; Android also says "Linux".
    if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
        Some("iOS")
    } else if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("CrOS") {
        Some("ChromeOS")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("macOS")
    } else if ua.contains("Linux") {
        Some("Linux")
    } else {
        None
    }
}

/// The major version right after `marker` (`Chrome/131.0.0.0` → `131`).
fn version_after<'a>(ua: &'a str, marker: &str) -> Option<&'a str> {
    let start = ua.find(marker)? + marker.len();
    let rest = &ua[start..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_get_a_short_label() {
        let cases = [
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome 131 on Android",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.2849.80",
                "Edge 130 on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                "Safari 17 on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari 17 on iOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
                "Chrome 131 on iOS",
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox 133 on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 OPR/114.0.0.0",
                "Opera 114 on Windows",
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
                "Samsung Internet 25 on Android",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome 131 on ChromeOS",
            ),
        ];
        for (ua, label) in cases {
            assert_eq!(browser_label(ua).as_deref(), Some(label), "{ua}");
        }
    }

    #[test]
    fn unknown_agents_give_what_is_known_or_nothing() {
        assert_eq!(browser_label("curl/8.5.0"), None);
        assert_eq!(browser_label(""), None);
        assert_eq!(
            browser_label("SomeBot/1.0 (Windows NT 10.0)").as_deref(),
            Some("Windows")
        );
        assert_eq!(
            browser_label("Mozilla/5.0 Chrome/").as_deref(),
            None,
            "a marker without a version is not a browser"
        );
    }
}
