//! The widget's files and the demo page, served from the binary: caching, validators, gzip,
//! cross-origin headers, `HEAD`, and the 404s of a server built without the widget.
//!
//! The server gets a small fake widget build (`AppState::assets`), so these tests do not depend
//! on whether `cargo xtask build-widget` ran before the test binary was built. They run on the
//! embedded store only: nothing here touches the database.

use std::io::Read;
use std::sync::Arc;

use flate2::read::GzDecoder;
use natter_server::http::assets::AssetTable;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

use crate::helpers::{StoreKind, TestApp};

const MODULE: &str = "natter-widget.0123abcd.js";
const WASM: &str = "natter-widget.0123abcd.wasm";

/// A loader that compresses well, a module, a "wasm" file too small to be worth compressing,
/// and a manifest.
fn fake_build() -> AssetTable {
    AssetTable::from_files([
        (
            "widget.js",
            format!("import('./widget/{MODULE}');\n")
                .repeat(50)
                .into_bytes(),
        ),
        (
            MODULE,
            "export default function start() {}\n"
                .repeat(20)
                .into_bytes(),
        ),
        (WASM, b"\0asm\x01\0\0\0".to_vec()),
        ("manifest.json", br#"{"loader":"widget.js"}"#.to_vec()),
    ])
}

/// natter serving `assets`, with the demo mode on or off.
async fn spawn(assets: AssetTable, demo: bool) -> TestApp {
    TestApp::spawn_kind_with_state(
        StoreKind::Sqlite,
        |config| config.demo = demo,
        |state| state.assets = Arc::new(assets),
    )
    .await
}

/// `GET path` with extra request headers.
async fn get(app: &TestApp, path: &str, headers: &[(&'static str, &str)]) -> reqwest::Response {
    let mut request = app.http.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request")
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .map(HeaderValue::to_str)
        .and_then(Result::ok)
        .unwrap_or("<absent>")
}

fn assert_cross_origin(headers: &HeaderMap) {
    assert_eq!(header(headers, "access-control-allow-origin"), "*");
    assert_eq!(
        header(headers, "cross-origin-resource-policy"),
        "cross-origin"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loader_is_served_with_a_short_cache_an_etag_and_cross_origin_headers() {
    let app = spawn(fake_build(), false).await;
    let response = get(&app, "/widget.js", &[]).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(
        header(&headers, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(header(&headers, "cache-control"), "public, max-age=300");
    assert_eq!(header(&headers, "vary"), "accept-encoding");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "content-encoding"), "<absent>");
    assert_cross_origin(&headers);
    // A script runs under the policy of the page that loads it; the API's own policy would only
    // get in the way (of a worker, say).
    assert_eq!(header(&headers, "content-security-policy"), "<absent>");
    let etag = header(&headers, "etag");
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34,
        "{etag}"
    );
    let body = response.text().await.unwrap();
    assert!(body.starts_with(&format!("import('./widget/{MODULE}');")));

    // The API keeps its strict policy.
    let api = get(&app, "/v1/tenant", &[]).await;
    assert_eq!(api.status(), 401);
    assert_eq!(
        header(api.headers(), "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matching_if_none_match_gets_304_without_a_body() {
    let app = spawn(fake_build(), false).await;
    let first = get(&app, "/widget.js", &[]).await;
    let etag = header(first.headers(), "etag").to_owned();

    for validator in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
    ] {
        let again = get(&app, "/widget.js", &[("if-none-match", &validator)]).await;
        assert_eq!(again.status(), 304, "{validator}");
        let headers = again.headers().clone();
        assert_eq!(header(&headers, "etag"), etag);
        assert_eq!(header(&headers, "cache-control"), "public, max-age=300");
        assert_cross_origin(&headers);
        assert!(again.bytes().await.unwrap().is_empty());
    }

    let changed = get(&app, "/widget.js", &[("if-none-match", "\"stale\"")]).await;
    assert_eq!(changed.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashed_files_are_immutable_and_typed_by_their_extension() {
    let app = spawn(fake_build(), false).await;
    for (file, content_type) in [
        (MODULE, "text/javascript; charset=utf-8"),
        (WASM, "application/wasm"),
    ] {
        let response = get(&app, &format!("/widget/{file}"), &[]).await;
        assert_eq!(response.status(), 200, "{file}");
        let headers = response.headers().clone();
        assert_eq!(header(&headers, "content-type"), content_type, "{file}");
        assert_eq!(
            header(&headers, "cache-control"),
            "public, max-age=31536000, immutable",
            "{file}"
        );
        assert_cross_origin(&headers);
    }
    let wasm = get(&app, &format!("/widget/{WASM}"), &[]).await;
    assert_eq!(wasm.bytes().await.unwrap().as_ref(), b"\0asm\x01\0\0\0");

    // A name without a content hash may change between builds: it is revalidated.
    let manifest = get(&app, "/widget/manifest.json", &[]).await;
    assert_eq!(manifest.status(), 200);
    assert_eq!(
        header(manifest.headers(), "cache-control"),
        "public, max-age=300"
    );
    assert_eq!(
        header(manifest.headers(), "content-type"),
        "application/json"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_accepting_gzip_gets_the_gzip_copy_with_its_own_etag() {
    let app = spawn(fake_build(), false).await;
    let plain = get(&app, "/widget.js", &[]).await;
    let plain_etag = header(plain.headers(), "etag").to_owned();
    let plain_body = plain.bytes().await.unwrap();

    let gzipped = get(
        &app,
        "/widget.js",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(gzipped.status(), 200);
    let headers = gzipped.headers().clone();
    assert_eq!(header(&headers, "content-encoding"), "gzip");
    assert_eq!(header(&headers, "vary"), "accept-encoding");
    assert_eq!(
        header(&headers, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_cross_origin(&headers);
    let gzip_etag = header(&headers, "etag").to_owned();
    assert_ne!(gzip_etag, plain_etag, "two representations, two validators");
    let compressed = gzipped.bytes().await.unwrap();
    assert!(compressed.len() < plain_body.len());
    let mut unpacked = Vec::new();
    GzDecoder::new(compressed.as_ref())
        .read_to_end(&mut unpacked)
        .unwrap();
    assert_eq!(unpacked, plain_body);

    let revalidated = get(
        &app,
        "/widget.js",
        &[("accept-encoding", "gzip"), ("if-none-match", &gzip_etag)],
    )
    .await;
    assert_eq!(revalidated.status(), 304);

    // Refusing gzip, or a file too small to have a gzip copy, gets the identity body.
    let refused = get(&app, "/widget.js", &[("accept-encoding", "gzip;q=0, br")]).await;
    assert_eq!(header(refused.headers(), "content-encoding"), "<absent>");
    let tiny = get(
        &app,
        &format!("/widget/{WASM}"),
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(header(tiny.headers(), "content-encoding"), "<absent>");
    assert_eq!(header(tiny.headers(), "vary"), "accept-encoding");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_answers_the_headers_without_a_body() {
    let app = spawn(fake_build(), false).await;
    let full = get(&app, "/widget.js", &[]).await.bytes().await.unwrap();
    let response = app
        .http
        .head(app.url("/widget.js"))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(header(&headers, "content-length"), full.len().to_string());
    assert_eq!(
        header(&headers, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_cross_origin(&headers);
    assert!(response.bytes().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_files_are_404_with_the_usual_error_body() {
    let app = spawn(fake_build(), false).await;
    for path in [
        "/widget/natter-widget.ffffffff.js",
        "/widget/..%2Fwidget.js",
        "/widget/",
    ] {
        let response = get(&app, path, &[]).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}: {body}");
    }
    let response = get(&app, "/widget/nope.js", &[]).await;
    assert_cross_origin(response.headers());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_built_without_the_widget_says_how_to_build_it() {
    let app = spawn(AssetTable::default(), false).await;
    for path in ["/widget.js", "/widget/natter-widget.0123abcd.js"] {
        let response = get(&app, path, &[]).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_cross_origin(response.headers());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("cargo xtask build-widget"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_is_served_as_html_in_demo_mode_only() {
    let app = spawn(fake_build(), true).await;
    let response = get(&app, "/demo", &[]).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    // The page must be free to load the widget.
    assert_eq!(header(&headers, "content-security-policy"), "<absent>");
    let page = response.text().await.unwrap();
    assert!(page.contains("widget.js"), "{page}");

    let production = spawn(fake_build(), false).await;
    let response = get(&production, "/demo", &[]).await;
    assert_eq!(response.status(), 404);
}
