//! Static files built into the binary: the visitor widget's build (`GET /widget.js`, the loader
//! customers' pages include, and `GET /widget/{file}`, the content-hashed module, wasm and styles
//! it imports), the agent console's build (`GET /console`, its page, and `GET /console/{file}`)
//! and the demo shop page (`GET /demo`, with `--demo`).
//!
//! The console is served from the API's own origin (it calls the API and opens `/v1/ws` there),
//! so none of the cross-origin headers below apply to it; its page gets a strict
//! Content-Security-Policy instead ([`CONSOLE_CSP`]). Its table is built once when the router is
//! made ([`console_router`]), from the files `backend/build.rs` embedded from `console/dist`.
//!
//! The build script (`backend/build.rs`) embeds every file of `widget/dist` (or of the directory
//! named by `NATTER_WIDGET_DIST` at build time) with a gzip copy and a validator, prepared with
//! the same [`rules`] this module applies to tables made at run time. A binary built before the
//! widget has an empty table and says so in its 404s. [`AppState::assets`] holds the table, so
//! tests serve small fake files instead of depending on a widget build.
//!
//! The files are fetched cross-origin: the loader runs on customers' sites and imports the
//! module (fetched in CORS mode) and the wasm from here, so every answer carries
//! `Access-Control-Allow-Origin: *` and `Cross-Origin-Resource-Policy: cross-origin`. Nothing
//! here depends on the caller, so a wildcard gives nothing away.

pub mod rules;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use natter_sdk::api::{ErrorBody, ErrorDetail};
use natter_sdk::protocol::ErrorCode;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::http::extract::ApiPath;

/// The loader's name in the widget's build; served at `/widget.js`.
pub const LOADER: &str = "widget.js";

/// Cache lifetime of the loader and other unhashed files: short, because the loader names the
/// hashed files of the current build and must be fetched again soon after a deploy.
const SHORT_CACHE: &str = "public, max-age=300";
/// Cache lifetime of content-hashed files: a new build gives them new names.
const IMMUTABLE_CACHE: &str = "public, max-age=31536000, immutable";

/// One file of the widget's build, as the build script embedded it.
struct EmbeddedAsset {
    name: &'static str,
    content_type: &'static str,
    /// [`rules::validator`] of `body`.
    hash: &'static str,
    body: &'static [u8],
    /// [`rules::gzip`] of `body`, when smaller.
    gzip: Option<&'static [u8]>,
}

/// Written by the build script: every file of the widget's build, in name order.
static EMBEDDED: &[EmbeddedAsset] = include!(concat!(env!("OUT_DIR"), "/widget_assets.rs"));

/// Written by the build script: every file of the console's build, in name order.
static CONSOLE_EMBEDDED: &[EmbeddedAsset] =
    include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// The console's page in its build; served at `/console` and `/console/`.
pub const CONSOLE_INDEX: &str = "index.html";

/// The console page's policy: its own scripts, styles and API only (plus the WebSocket, and
/// pictures agents link from anywhere over https). `'wasm-unsafe-eval'` lets the page compile
/// its WebAssembly; nothing allows inline scripts or styles.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    connect-src 'self' ws: wss:; img-src 'self' https: data:; style-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The console's page must be fetched again on every visit: it names the current build's files.
const NO_CACHE: &str = "no-cache";

/// Written by the build script: `examples/shop/index.html`, when it was there at build time
/// (the Docker build, for one, has no `examples/`).
const DEMO_PAGE: Option<&str> = include!(concat!(env!("OUT_DIR"), "/demo_page.rs"));

/// One servable file with everything its responses need, computed once.
#[derive(Debug, Clone)]
struct Asset {
    content_type: &'static str,
    body: Bytes,
    gzip: Option<Bytes>,
    /// Strong `ETag` of the identity body, quoted.
    etag: String,
    /// Strong `ETag` of the gzip body: a different representation needs a different strong
    /// validator.
    gzip_etag: String,
    cache_control: &'static str,
}

impl Asset {
    fn new(
        name: &str,
        content_type: &'static str,
        hash: &str,
        body: Bytes,
        gzip: Option<Bytes>,
    ) -> Self {
        Asset {
            content_type,
            body,
            gzip,
            etag: format!("\"{hash}\""),
            gzip_etag: format!("\"{hash}-gzip\""),
            cache_control: if rules::is_hashed(name) {
                IMMUTABLE_CACHE
            } else {
                SHORT_CACHE
            },
        }
    }
}

/// The widget files a server serves, by name.
#[derive(Debug, Clone, Default)]
pub struct AssetTable {
    files: HashMap<String, Asset>,
}

impl AssetTable {
    /// The files embedded at build time; empty when the widget was not built. Borrows the
    /// binary's static data, so this copies nothing.
    pub fn embedded() -> AssetTable {
        AssetTable::from_embedded(EMBEDDED)
    }

    /// The console's files embedded at build time; empty when the console was not built.
    pub fn console_embedded() -> AssetTable {
        AssetTable::from_embedded(CONSOLE_EMBEDDED)
    }

    fn from_embedded(embedded: &'static [EmbeddedAsset]) -> AssetTable {
        let files = embedded
            .iter()
            .map(|a| {
                let asset = Asset::new(
                    a.name,
                    a.content_type,
                    a.hash,
                    Bytes::from_static(a.body),
                    a.gzip.map(Bytes::from_static),
                );
                (a.name.to_owned(), asset)
            })
            .collect();
        AssetTable { files }
    }

    /// A table of the given `(name, content)` files, prepared at run time by the same rules as
    /// the embedded ones (for tests, and for anyone embedding natter with their own widget).
    /// Names that [`rules::is_servable_name`] refuses are left out.
    pub fn from_files<N, B>(files: impl IntoIterator<Item = (N, B)>) -> AssetTable
    where
        N: Into<String>,
        B: Into<Bytes>,
    {
        let files = files
            .into_iter()
            .map(|(name, body)| (name.into(), body.into()))
            .filter(|(name, _): &(String, Bytes)| rules::is_servable_name(name))
            .map(|(name, body)| {
                let asset = Asset::new(
                    &name,
                    rules::content_type(&name),
                    &rules::validator(&body),
                    body.clone(),
                    rules::gzip(&body).map(Bytes::from),
                );
                (name, asset)
            })
            .collect();
        AssetTable { files }
    }

    /// Whether the table has no files (the widget was not built into this server).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// How many files the table has.
    pub fn len(&self) -> usize {
        self.files.len()
    }
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    let assets = Router::new()
        .route("/widget.js", get(loader))
        .route("/widget/{file}", get(asset))
        // On every answer, errors included, so a failing import shows its real status in the
        // browser's console instead of an opaque CORS failure.
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ));
    assets.route("/demo", get(demo_page))
}

/// Routes of the agent console, serving the files embedded from `console/dist`.
pub fn console_router() -> Router<AppState> {
    console_router_with(AssetTable::console_embedded())
}

/// Routes of the agent console serving `table` (tests give their own files).
pub fn console_router_with(table: AssetTable) -> Router<AppState> {
    let table = Arc::new(table);
    let page = {
        let table = table.clone();
        move |headers: HeaderMap| {
            let table = table.clone();
            async move { console_file(&table, CONSOLE_INDEX, &headers) }
        }
    };
    let file = move |ApiPath(name): ApiPath<String>, headers: HeaderMap| {
        let table = table.clone();
        async move { console_file(&table, &name, &headers) }
    };
    Router::new()
        .route("/console", get(page.clone()))
        .route("/console/", get(page))
        .route("/console/{file}", get(file))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONSOLE_CSP),
        ))
}

/// A file of the console's build: its page (never cached without revalidation) or a hashed
/// asset. Staff and anyone else: the files hold no data; signing in happens in the page.
fn console_file(table: &AssetTable, name: &str, headers: &HeaderMap) -> AppResult<Response> {
    if table.is_empty() {
        return Ok(error_404(
            "the agent console was not built into this server: run `cargo xtask build-console`, \
             then build natter again",
        ));
    }
    let asset = table.files.get(name).ok_or(AppError::NotFound)?;
    if name == CONSOLE_INDEX {
        let page = Asset {
            cache_control: NO_CACHE,
            ..asset.clone()
        };
        return respond(&page, headers);
    }
    respond(asset, headers)
}

/// The widget's loader, the script customers' pages include. Anyone, from any site.
pub async fn loader(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    if state.assets.is_empty() {
        return Ok(not_built());
    }
    let asset = state.assets.files.get(LOADER).ok_or(AppError::NotFound)?;
    respond(asset, &headers)
}

/// A file of the widget's build (the hashed module, wasm and styles the loader imports). Anyone,
/// from any site.
pub async fn asset(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if state.assets.is_empty() {
        return Ok(not_built());
    }
    let asset = state.assets.files.get(&file).ok_or(AppError::NotFound)?;
    respond(asset, &headers)
}

/// The demo shop page with the widget on it, for `cargo xtask run`. Anyone, on a server started
/// with `--demo`; elsewhere it does not exist, as the page names the demo tenant's site key.
pub async fn demo_page(State(state): State<AppState>) -> AppResult<Response> {
    if !state.config.demo {
        return Err(AppError::NotFound);
    }
    let Some(page) = DEMO_PAGE else {
        return Ok(error_404(
            "the demo page was not built into this server (examples/shop/index.html was missing)",
        ));
    };
    // No Content-Security-Policy: the API's `default-src 'none'` would stop the widget, and the
    // page is static text from this repository, with nothing of a visitor's in it.
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page,
    )
        .into_response())
}

/// 200 with `asset` (its gzip copy when the client accepts gzip), or 304 when the client's
/// `If-None-Match` already names that representation.
fn respond(asset: &Asset, request: &HeaderMap) -> AppResult<Response> {
    let gzip = asset.gzip.as_ref().filter(|_| accepts_gzip(request));
    let (body, etag) = match gzip {
        Some(compressed) => (compressed.clone(), &asset.gzip_etag),
        None => (asset.body.clone(), &asset.etag),
    };
    let builder = Response::builder()
        .header(header::ETAG, etag.as_str())
        .header(header::CACHE_CONTROL, asset.cache_control)
        // Caches must keep the gzip and identity answers apart, whether or not this file has
        // a gzip copy today.
        .header(header::VARY, "accept-encoding");
    let response = if none_match(request, etag) {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        let builder = builder
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, asset.content_type);
        let builder = if gzip.is_some() {
            builder.header(header::CONTENT_ENCODING, "gzip")
        } else {
            builder
        };
        builder.body(Body::from(body))
    };
    response.map_err(|e| AppError::Internal(format!("asset response: {e}")))
}

/// Whether `Accept-Encoding` allows gzip: `gzip` (or `x-gzip`) with a non-zero weight, or `*`
/// with a non-zero weight when gzip is not named.
fn accepts_gzip(request: &HeaderMap) -> bool {
    let mut wildcard = false;
    for value in request.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                // An explicit gzip entry decides, whatever `*` says.
                return weight > 0.0;
            }
            if coding == "*" {
                wildcard = weight > 0.0;
            }
        }
    }
    wildcard
}

/// Whether `If-None-Match` names `etag` (or is `*`). The comparison is weak, as RFC 9110
/// requires for `If-None-Match`: `W/"x"` matches `"x"`.
fn none_match(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// 404 for a server built without the widget, saying how to build it.
fn not_built() -> Response {
    error_404(
        "the widget was not built into this server: run `cargo xtask build-widget`, then build \
         natter again",
    )
}

/// A 404 in the usual error shape with a more helpful message than `not found`.
fn error_404(message: &str) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: ErrorCode::NotFound,
            message: message.to_owned(),
        },
    };
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    fn accepts(value: &str) -> bool {
        accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, value)]))
    }

    #[test]
    fn gzip_is_accepted_when_named_or_covered_by_a_wildcard_with_a_non_zero_weight() {
        assert!(accepts("gzip, deflate, br, zstd"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts("x-gzip"));
        assert!(accepts("*"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("*;q=0.5, gzip;q=0"));
        assert!(!accepts("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_a_star() {
        let matches =
            |value: &str| none_match(&headers(&[(header::IF_NONE_MATCH, value)]), "\"abc\"");
        assert!(matches("\"abc\""));
        assert!(matches("W/\"abc\""));
        assert!(matches("\"x\", \"abc\""));
        assert!(matches("*"));
        assert!(!matches("\"abcd\""));
        assert!(!matches("abc"));
        assert!(!none_match(&HeaderMap::new(), "\"abc\""));
    }

    #[test]
    fn a_runtime_table_leaves_out_unservable_names_and_caches_by_hash() {
        let table = AssetTable::from_files([
            ("widget.js", "x".repeat(1000)),
            ("natter-widget.0123abcd.js", "y".repeat(1000)),
            (".DS_Store", String::new()),
        ]);
        assert_eq!(table.len(), 2);
        let loader = &table.files["widget.js"];
        assert_eq!(loader.cache_control, SHORT_CACHE);
        assert!(loader.gzip.is_some());
        assert_ne!(loader.etag, loader.gzip_etag);
        assert_eq!(
            table.files["natter-widget.0123abcd.js"].cache_control,
            IMMUTABLE_CACHE
        );
    }

    fn console_table() -> AssetTable {
        AssetTable::from_files([
            (CONSOLE_INDEX, "<!doctype html>".repeat(50)),
            ("natter-console.0123456789abcdef.wasm", "w".repeat(500)),
        ])
    }

    #[test]
    fn the_console_page_is_revalidated_and_its_hashed_files_cached_for_a_year() {
        let table = console_table();
        let page = console_file(&table, CONSOLE_INDEX, &HeaderMap::new()).unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()[header::CACHE_CONTROL], NO_CACHE);
        assert!(page.headers().contains_key(header::ETAG));
        let wasm = console_file(
            &table,
            "natter-console.0123456789abcdef.wasm",
            &headers(&[(header::ACCEPT_ENCODING, "gzip")]),
        )
        .unwrap();
        assert_eq!(wasm.headers()[header::CACHE_CONTROL], IMMUTABLE_CACHE);
        assert_eq!(wasm.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(wasm.headers()[header::CONTENT_TYPE], "application/wasm");
        // The page's validator answers a revalidation with 304.
        let etag = page.headers()[header::ETAG].to_str().unwrap().to_owned();
        let again = console_file(
            &table,
            CONSOLE_INDEX,
            &headers(&[(header::IF_NONE_MATCH, &etag)]),
        )
        .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(matches!(
            console_file(&table, "missing.js", &HeaderMap::new()),
            Err(AppError::NotFound)
        ));
    }

    #[test]
    fn a_server_without_the_console_says_how_to_build_it() {
        let response =
            console_file(&AssetTable::default(), CONSOLE_INDEX, &HeaderMap::new()).unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn the_embedded_table_matches_the_rules() {
        // Whatever this build embedded (possibly nothing) was prepared like a runtime table.
        for embedded in EMBEDDED {
            assert_eq!(embedded.hash, rules::validator(embedded.body));
            assert_eq!(embedded.content_type, rules::content_type(embedded.name));
            assert!(rules::is_servable_name(embedded.name));
        }
        assert_eq!(AssetTable::embedded().len(), EMBEDDED.len());
        for embedded in CONSOLE_EMBEDDED {
            assert_eq!(embedded.hash, rules::validator(embedded.body));
            assert!(rules::is_servable_name(embedded.name));
        }
        assert_eq!(AssetTable::console_embedded().len(), CONSOLE_EMBEDDED.len());
    }
}
