//! The REST API, over `fetch` on the console's own origin, with the staff member's bearer
//! token. Errors are typed from the server's `ErrorBody`; a 401 triggers one refresh of the
//! access token (`POST /v1/auth/refresh`) and one retry, and a refused refresh signs out.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use natter_sdk::api::{ErrorBody, LoginRequest, RefreshRequest, TokenResponse};
use natter_sdk::protocol::ErrorCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

use crate::storage;

/// `localStorage` key of the tokens.
const TOKENS_KEY: &str = "tokens";

/// The staff member's tokens, persisted so a reload stays signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// Short-lived access token (bearer, and the WebSocket's `auth`).
    pub access: String,
    /// Long-lived refresh token.
    pub refresh: String,
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The server answered with an error body.
    Server {
        /// The HTTP status.
        status: u16,
        /// The machine-readable code.
        code: ErrorCode,
        /// The server's explanation.
        message: String,
    },
    /// The request did not reach the server, or no answer came back.
    Network,
    /// The answer was not what this console expects (a newer or older server).
    Unexpected(String),
    /// The session is over (the refresh token was refused); sign in again.
    SignedOut,
}

impl ApiError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Server { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Server {
                status: 404,
                code: ErrorCode::NotFound,
                message,
            } if message == "not found" => {
                f.write_str("not found (this server may not offer it yet)")
            }
            ApiError::Server { message, .. } => f.write_str(message),
            ApiError::Network => f.write_str("the server cannot be reached; check the connection"),
            ApiError::Unexpected(what) => write!(f, "unexpected answer from the server: {what}"),
            ApiError::SignedOut => f.write_str("your session ended; please sign in again"),
        }
    }
}

/// Result of a call.
pub type ApiResult<T> = Result<T, ApiError>;

/// A callback slot the app fills in after the client exists.
type Slot<F> = Rc<RefCell<Option<Rc<F>>>>;

/// The REST client; cheap to clone (clones share the tokens).
#[derive(Clone, Default)]
pub struct Api {
    tokens: Rc<RefCell<Option<Tokens>>>,
    /// Called once when a refresh is refused (the app shows the sign-in screen).
    on_signed_out: Slot<dyn Fn()>,
    /// Called with the new access token after every refresh (the live connection uses it).
    on_refreshed: Slot<dyn Fn(String)>,
}

impl Api {
    /// A client with the tokens saved by an earlier page, if any.
    pub fn restore() -> Api {
        let api = Api::default();
        *api.tokens.borrow_mut() = storage::load::<Tokens>(TOKENS_KEY);
        api
    }

    /// Whether tokens are held.
    pub fn has_tokens(&self) -> bool {
        self.tokens.borrow().is_some()
    }

    /// The current access token.
    pub fn access_token(&self) -> Option<String> {
        self.tokens.borrow().as_ref().map(|t| t.access.clone())
    }

    /// Sets what happens when the session ends on its own.
    pub fn on_signed_out(&self, callback: impl Fn() + 'static) {
        *self.on_signed_out.borrow_mut() = Some(Rc::new(callback));
    }

    /// Sets what happens with a refreshed access token.
    pub fn on_refreshed(&self, callback: impl Fn(String) + 'static) {
        *self.on_refreshed.borrow_mut() = Some(Rc::new(callback));
    }

    /// Signs in with e-mail and password and keeps the tokens.
    pub async fn login(&self, email: &str, password: &str) -> ApiResult<TokenResponse> {
        let body = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        let answer: TokenResponse =
            decode(send("POST", "/v1/auth/login", None, Some(to_json(&body)?)).await?)?;
        self.keep(Tokens {
            access: answer.access_token.clone(),
            refresh: answer.refresh_token.clone(),
        });
        Ok(answer)
    }

    /// Forgets the tokens (signing out). The server's tokens simply expire.
    pub fn forget(&self) {
        *self.tokens.borrow_mut() = None;
        storage::remove(TOKENS_KEY);
    }

    fn keep(&self, tokens: Tokens) {
        storage::save(TOKENS_KEY, &tokens);
        *self.tokens.borrow_mut() = Some(tokens);
    }

    /// Exchanges the refresh token for new tokens. A refused refresh ends the session.
    pub async fn refresh(&self) -> ApiResult<String> {
        let Some(refresh_token) = self.tokens.borrow().as_ref().map(|t| t.refresh.clone()) else {
            return Err(ApiError::SignedOut);
        };
        let body = to_json(&RefreshRequest { refresh_token })?;
        let answer = send("POST", "/v1/auth/refresh", None, Some(body)).await?;
        match answer.status {
            200 => {
                let tokens: TokenResponse = decode(answer)?;
                let access = tokens.access_token.clone();
                self.keep(Tokens {
                    access: tokens.access_token,
                    refresh: tokens.refresh_token,
                });
                let callback = self.on_refreshed.borrow().clone();
                if let Some(callback) = callback {
                    callback(access.clone());
                }
                Ok(access)
            }
            401 | 403 => {
                self.signed_out();
                Err(ApiError::SignedOut)
            }
            _ => Err(error_of(&answer)),
        }
    }

    fn signed_out(&self) {
        self.forget();
        let callback = self.on_signed_out.borrow().clone();
        if let Some(callback) = callback {
            callback();
        }
    }

    /// `GET path`, decoded.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> ApiResult<T> {
        decode(self.call("GET", path, None).await?)
    }

    /// `method path` with a JSON body, decoded.
    pub async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: &B,
    ) -> ApiResult<T> {
        decode(self.call(method, path, Some(to_json(body)?)).await?)
    }

    /// `POST path` without a body, decoded.
    pub async fn post<T: DeserializeOwned>(&self, path: &str) -> ApiResult<T> {
        decode(self.call("POST", path, None).await?)
    }

    /// A call with the bearer token, refreshing it once on 401.
    async fn call(&self, method: &str, path: &str, body: Option<String>) -> ApiResult<Answer> {
        let token = self.access_token().ok_or(ApiError::SignedOut)?;
        let answer = send(method, path, Some(&token), body.clone()).await?;
        if answer.status != 401 {
            return Ok(answer);
        }
        let token = self.refresh().await?;
        let answer = send(method, path, Some(&token), body).await?;
        if answer.status == 401 {
            self.signed_out();
            return Err(ApiError::SignedOut);
        }
        Ok(answer)
    }
}

/// An HTTP answer: its status and body text.
struct Answer {
    status: u16,
    text: String,
}

fn to_json<B: Serialize + ?Sized>(body: &B) -> ApiResult<String> {
    serde_json::to_string(body).map_err(|e| ApiError::Unexpected(e.to_string()))
}

/// The body of a 2xx answer, or the error it carries.
fn decode<T: DeserializeOwned>(answer: Answer) -> ApiResult<T> {
    if !(200..300).contains(&answer.status) {
        return Err(error_of(&answer));
    }
    // Empty bodies (204) decode as JSON `null`, which `()` and `Option` accept.
    let text = if answer.text.is_empty() {
        "null"
    } else {
        &answer.text
    };
    serde_json::from_str(text).map_err(|e| ApiError::Unexpected(e.to_string()))
}

fn error_of(answer: &Answer) -> ApiError {
    match serde_json::from_str::<ErrorBody>(&answer.text) {
        Ok(body) => ApiError::Server {
            status: answer.status,
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ApiError::Server {
            status: answer.status,
            code: match answer.status {
                404 => ErrorCode::NotFound,
                429 => ErrorCode::RateLimited,
                502..=504 => ErrorCode::Unavailable,
                _ => ErrorCode::Internal,
            },
            message: format!("the server answered {}", answer.status),
        },
    }
}

/// One `fetch` on the console's origin.
async fn send(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> ApiResult<Answer> {
    let network = |_: JsValue| ApiError::Network;
    let window = web_sys::window().ok_or(ApiError::Network)?;
    let headers = Headers::new().map_err(network)?;
    headers.set("accept", "application/json").map_err(network)?;
    if let Some(token) = token {
        headers
            .set("authorization", &format!("Bearer {token}"))
            .map_err(network)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        headers
            .set("content-type", "application/json")
            .map_err(network)?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(path, &init).map_err(network)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(network)?;
    let text = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    Ok(Answer {
        status: response.status(),
        text,
    })
}
