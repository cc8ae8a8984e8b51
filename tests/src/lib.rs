//! `rostro-mock`: the reference mock server for the Rostro API and its
//! OpenAI-compatible ("mimic") endpoints.
//!
//! Every operation of the embedded OpenAPI document
//! (`openapi/rostro.openapi.json`) answers with a conforming response (its
//! example, or a value synthesized from its schema); the catalog, chat,
//! imagine, upload and fault scenarios are stateful. SDK tests, CLI tests,
//! examples and the CLI's `--mock` mode all run against it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use rostro_mock::{Fault, FaultRule, RostroMock};
//!
//! let mock = RostroMock::builder().imagine_checks(1).start().await;
//! mock.inject_fault(FaultRule::new(Fault::rate_limited(1)).on("GET", "/search"));
//! let client = reqwest::Client::new();
//! let first = client.get(format!("{}/search", mock.uri())).send().await?;
//! assert_eq!(first.status(), 429);
//! let page: serde_json::Value = client
//!     .get(format!("{}/search?first=5", mock.uri()))
//!     .bearer_auth("test-key")
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(page["nodes"].as_array().map(Vec::len), Some(5));
//! assert_eq!(mock.attempts("GET", "/search"), 2);
//! # Ok(()) }
//! ```
//!
//! # In your application's tests
//!
//! Add `rostro-mock` as a dev-dependency next to `rostro-sdk` (with tokio's `macros` and
//! `rt-multi-thread` for `#[tokio::test]`), start a mock per test and point a client at
//! [`RostroMock::uri`]: every operation answers on 127.0.0.1, any key is accepted, and the
//! mock records what it received ([`RostroMock::requests_to`], [`RostroMock::attempts`]) and
//! injects faults ([`RostroMock::inject_fault`]).
//!
//! ```toml
//! [dev-dependencies]
//! rostro-mock = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! `examples/tests/app_with_mock.rs` in the repository is a complete, compiled and run test
//! of this kind (application code, a mock, a fault, typed errors). Programs in other
//! languages can run the binary instead (`rostro-mock --port 8080`) and steer it through the
//! control API below.
//!
//! # Design
//!
//! One base URL ([`RostroMock::uri`]) is served by a small hyper listener
//! (the *front*). It assigns `x-request-id`, records every request, counts
//! attempts per route, applies latency and injected [`Fault`]s, enforces
//! authentication, and then either
//!
//! * streams the request itself — uploads (multipart endpoints,
//!   `POST /api/gallery/upload`, chunked-upload part `PUT`s) are hashed with
//!   SHA-256 frame by frame and never buffered whole, and chat requests with
//!   `"stream": true` get an SSE body generated lazily chunk by chunk (so
//!   per-chunk delays, keep-alives, mid-stream errors and dropped connections
//!   are possible and 100k-chunk streams stay cheap), or
//! * forwards it to an internal wiremock [`MockServer`] on which every route
//!   is mounted as a `Mock` (method + path-template matcher, priorities
//!   encoding "literal segments win") with a custom `Respond` implementation.
//!   Unknown paths get the API's 404 `UserError`, known paths with another
//!   method 405. Extra mocks can be mounted on [`RostroMock::server`] with
//!   priority 1..=9 to override any route.
//!
//! Large uploads: the front never holds an upload in memory. File bytes go
//! through a hasher and are kept only up to
//! [`RostroMockBuilder::retain_upload_bytes`] (default 8 MiB) so small ones
//! can be served back from `/media/{uuid}.{ext}`. Chunked-upload parts that
//! arrive in order stream straight into the whole-file hash; parts that
//! arrive early are spooled (memory up to 8 MiB, then a temp file) until the
//! gap before them closes. A 1 GiB upload costs a few MiB of memory.
//!
//! # Conventions served
//!
//! * Auth: `Authorization: Bearer <k>`, `Authorization: <k>`, `CH-API-KEY: <k>`
//!   (with or without `samwise: <k>`), or `samwise: <k>` alone. Operations whose
//!   `security` has no `{}` alternative answer 401 without a key; any key that
//!   is sent must be valid (default: any non-empty key).
//! * Errors: `{"error": "...", "errorCode": <status>, "code": 0}` (UserError);
//!   422 bodies are FastAPI's `{"detail": [{"loc", "msg", "type"}]}`.
//! * `GET|POST /search`: `{"count", "nodes", "page", "cursor"}` at the top level
//!   ([`SearchEnvelope::Flat`], default) or under `data`
//!   ([`SearchEnvelope::Data`], or header `x-mock-envelope: data`). `cursor` is
//!   an opaque string for the next page, `null` on the last page. `nsfw`
//!   defaults to false (the reference's default). `search` matches like a
//!   search engine: case-insensitive, every word in any order, plural or
//!   singular, over name, tagline, description, tags and creator.
//! * `X-RateLimit-Limit`, `-Remaining` and `-Reset` (Unix seconds) on every
//!   response; with [`RostroMockBuilder::rate_limit`] (binary: `--rate-limit
//!   100/s`; `ROSTRO_MOCK_RATE_LIMIT`, read at start, so `rostro --mock` too)
//!   requests beyond the limit get `429` with `Retry-After` (see [`ratelimit`]).
//! * Chat content is `"echo: <last user message>"`, one word per chunk.
//! * Per-request headers: `x-mock-scenario` (`normal`, `keepalive`,
//!   `error-mid-stream`, `no-done`, `slow`, `drop`, comma-separated),
//!   `x-mock-chunks: N`, `x-mock-chunk-delay-ms: N`, `x-mock-envelope: data|flat`,
//!   `x-mock-checks: N` (checks until a generation is done),
//!   `x-mock-fail: <reason>` (generation fails with this `RejectionReason`).
//! * Chunked uploads: `start-upload {filename, size?, part_size?, content_type?,
//!   project_id?}` → `{upload_id, key, part_size, parts}`; `signed-urls
//!   {upload_id, parts? | part_numbers?}` → `{upload_id, part_size, urls:
//!   [{part_number, url}]}`; `PUT <url>` → 200 with `ETag: "<sha256 of part>"`;
//!   `complete-upload {upload_id, parts?: [{part_number, etag}]}` →
//!   `{success, upload_id, uuid, key, url, size, sha256, parts}`.
//! * Control API for out-of-process users of the binary (not recorded or
//!   counted): `POST /_mock/faults` `{"kind": "rate_limit"|"status"|"delay"|
//!   "drop"|"drop_mid_body", "status"?, "retry_after_secs"?, "delay_ms"?,
//!   "times"?, "method"?, "route"?}`, `DELETE /_mock/faults`,
//!   `GET /_mock/attempts`, `GET /_mock/requests`, `GET /_mock/uploads`,
//!   `GET /_mock/generations`, `POST /_mock/reset`.
//!
//! # Routstr mode
//!
//! [`RostroMock::builder().routstr()`](RostroMockBuilder::routstr) (or
//! [`RoutstrMock::start`]) makes the mock play a Routstr node instead: an
//! OpenAI-compatible router paid with (fake) Cashu eCash, with msat balances,
//! `/v1/balance/*` and `/v1/wallet/*`, X-Cashu payments with change, cost
//! headers and usage, Lightning invoices and Routstr's error envelopes. See
//! [`routstr`] for the token format and the `x-mock-routstr-*` headers.

#![warn(missing_docs)]

pub mod catalog;
mod chat;
mod control;
mod created;
pub mod faults;
mod front;
mod handlers;
pub mod imagine;
pub mod media;
pub mod ratelimit;
mod records;
mod reply;
mod router;
pub mod routstr;
pub mod sandbox;
pub mod schema;
pub mod spec;
mod state;
mod structured;
mod uploads;
mod util;

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wiremock::{Mock, MockServer};

pub use catalog::{Catalog, CatalogEntry};
pub use faults::{Fault, FaultRule};
pub use media::MediaKind;
pub use ratelimit::RateLimit;
pub use records::{GenerationRecord, PartRecord, ReceivedRequest, UploadKind, UploadRecord};
pub use routstr::{NodeQuirk, RoutstrKey, RoutstrMock, RoutstrMockBuilder, RoutstrModel};
pub use spec::{AuthRequirement, Operation, Spec};
pub use state::{ChatScenario, SearchEnvelope};

use state::{Config, Shared, lock};

fn embedded_spec() -> Arc<Spec> {
    static SPEC: OnceLock<Arc<Spec>> = OnceLock::new();
    SPEC.get_or_init(|| Arc::new(Spec::embedded().clone()))
        .clone()
}

/// A running mock server. Dropping it stops the listener.
pub struct RostroMock {
    shared: Arc<Shared>,
    server: MockServer,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RostroMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for RostroMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RostroMock")
            .field("uri", &self.uri())
            .finish_non_exhaustive()
    }
}

struct AnyRequest;

impl wiremock::Match for AnyRequest {
    fn matches(&self, _: &wiremock::Request) -> bool {
        true
    }
}

impl RostroMock {
    /// Starts a mock with the default configuration on a random local port.
    ///
    /// # Panics
    /// Panics if no local port can be bound.
    pub async fn start() -> RostroMock {
        RostroMock::builder().start().await
    }

    /// Starts a mock Routstr node with the default settings (see
    /// [`RoutstrMock`] and [`routstr`]).
    pub async fn routstr() -> RoutstrMock {
        RoutstrMock::start().await
    }

    /// A builder for a mock with scenario options.
    pub fn builder() -> RostroMockBuilder {
        RostroMockBuilder {
            config: Config::default(),
        }
    }

    /// The base URL of the standard API, e.g. `http://127.0.0.1:40123`.
    pub fn uri(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The OpenAI-compatible base URL (same server): `{uri}/v1`. OpenAI
    /// clients append `/chat/completions`, `/completions` or `/models`.
    pub fn mimic_uri(&self) -> String {
        format!("{}/v1", self.shared.base_url)
    }

    /// The socket address clients connect to.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The inner wiremock server. Mount extra mocks with priority 1..=9 to
    /// override a route (requests still pass through the front listener, so
    /// faults, auth and recording still apply).
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The OpenAPI document this mock serves.
    pub fn spec(&self) -> &Spec {
        &self.shared.spec
    }

    /// The seeded catalog behind `/search`.
    pub fn catalog(&self) -> &Catalog {
        &self.shared.catalog
    }

    /// Every request received so far, in arrival order of completion.
    pub fn received_requests(&self) -> Vec<ReceivedRequest> {
        lock(&self.shared.log).clone()
    }

    /// Requests to one route: `route` is a template (`/imagine/check`) or a
    /// literal path; `method` is case-insensitive.
    pub fn requests_to(&self, method: &str, route: &str) -> Vec<ReceivedRequest> {
        let method = method.to_ascii_uppercase();
        let key = format!("{method} {}", spec::normalize_template(route));
        lock(&self.shared.log)
            .iter()
            .filter(|r| {
                r.method == method
                    && (r.path == route
                        || r.route.as_deref().map(spec::normalize_template) == Some(key.clone()))
            })
            .cloned()
            .collect()
    }

    /// Forgets the recorded requests and attempt counters.
    pub fn clear_received(&self) {
        lock(&self.shared.log).clear();
        lock(&self.shared.attempts).clear();
    }

    /// How many requests arrived for a route (including faulted ones).
    /// `route` is a template of the document (or a literal path for requests
    /// that matched no route).
    pub fn attempts(&self, method: &str, route: &str) -> usize {
        let method = method.to_ascii_uppercase();
        let attempts = lock(&self.shared.attempts);
        if let Some(n) = attempts.get(&format!("{method} {route}")) {
            return *n;
        }
        // The same template with other parameter names.
        if route.contains('{') {
            let want = format!("{method} {}", spec::normalize_template(route));
            return attempts
                .iter()
                .filter(|(k, _)| spec::normalize_template(k) == want)
                .map(|(_, n)| *n)
                .sum();
        }
        // A literal path of a templated route.
        match self.shared.router.resolve(&method, route) {
            router::Resolution::Found { route: i, .. } => attempts
                .get(&self.shared.router.routes[i].key())
                .copied()
                .unwrap_or(0),
            _ => 0,
        }
    }

    /// Attempt counts keyed by `"METHOD /template"`.
    pub fn attempts_by_route(&self) -> BTreeMap<String, usize> {
        lock(&self.shared.attempts).clone()
    }

    /// Adds a fault rule (rules are tried in the order they were added).
    pub fn inject_fault(&self, rule: FaultRule) {
        lock(&self.shared.faults).push(rule);
    }

    /// Removes every pending fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Total uses left across all fault rules.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.faults).iter().map(|f| f.remaining).sum()
    }

    /// Every upload received (including ones deleted later), oldest first.
    pub fn uploads(&self) -> Vec<UploadRecord> {
        self.shared.txn(|| lock(&self.shared.uploads).clone())
    }

    /// One upload by its uuid.
    pub fn upload(&self, uuid: &str) -> Option<UploadRecord> {
        self.shared.txn(|| {
            lock(&self.shared.uploads)
                .iter()
                .find(|u| u.uuid == uuid)
                .cloned()
        })
    }

    /// Every generation job, oldest first.
    pub fn generations(&self) -> Vec<GenerationRecord> {
        self.shared.txn(|| lock(&self.shared.generations).clone())
    }

    /// One generation by its `generation_uuid` (or media uuid).
    pub fn generation(&self, uuid: &str) -> Option<GenerationRecord> {
        self.shared.txn(|| {
            lock(&self.shared.generations)
                .iter()
                .find(|g| g.generation_uuid == uuid || g.media_uuid == uuid)
                .cloned()
        })
    }
}

/// Options for [`RostroMock::builder`].
#[derive(Debug, Clone)]
pub struct RostroMockBuilder {
    config: Config,
}

impl RostroMockBuilder {
    /// Listen on this port (default: a random free port).
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// Listen on this address (default `127.0.0.1`).
    pub fn host(mut self, host: IpAddr) -> Self {
        self.config.host = host;
        self
    }

    /// Seed of the catalog and of generated ids (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Delay added before every response.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.config.latency = latency;
        self
    }

    /// Only these keys are valid (default: any non-empty key).
    pub fn valid_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let set: HashSet<String> = keys.into_iter().map(Into::into).collect();
        self.config
            .valid_keys
            .get_or_insert_with(HashSet::new)
            .extend(set);
        self
    }

    /// Adds one valid key (see [`RostroMockBuilder::valid_keys`]).
    pub fn valid_key(self, key: impl Into<String>) -> Self {
        self.valid_keys([key.into()])
    }

    /// Also require a key where the document makes it optional.
    pub fn require_auth_everywhere(mut self, yes: bool) -> Self {
        self.config.require_auth_everywhere = yes;
        self
    }

    /// Checks after which a generation is done (default 2). With 0, `POST
    /// /imagine` without `return_immediate=true` returns a finished item.
    pub fn imagine_checks(mut self, checks: u32) -> Self {
        self.config.imagine_checks = checks;
        self
    }

    /// Every generation fails with this `RejectionReason` (e.g. `"unknown"`).
    /// A prompt containing "fail" fails too, without this option.
    pub fn fail_generations(mut self, reason: impl Into<String>) -> Self {
        self.config.generation_failure = Some(reason.into());
        self
    }

    /// Adds a streaming behaviour for every chat stream of this mock (the
    /// `x-mock-scenario` header replaces the set per request).
    pub fn chat_scenario(mut self, scenario: ChatScenario) -> Self {
        self.config.scenarios.add(scenario);
        self
    }

    /// Number of content chunks per stream (default: one per word of the
    /// echo). Content words repeat to fill the count.
    pub fn chunk_count(mut self, chunks: usize) -> Self {
        self.config.chunk_count = Some(chunks);
        self
    }

    /// Delay before every SSE event (default none; `slow` uses 20 ms when unset).
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.config.chunk_delay = delay;
        self
    }

    /// Catalog size (default 600 characters, 150 lorebooks).
    pub fn catalog_size(mut self, characters: usize, lorebooks: usize) -> Self {
        self.config.characters = characters;
        self.config.lorebooks = lorebooks;
        self
    }

    /// Shape of `/search` responses (default [`SearchEnvelope::Flat`]).
    pub fn search_envelope(mut self, envelope: SearchEnvelope) -> Self {
        self.config.envelope = envelope;
        self
    }

    /// Serve this OpenAPI document instead of the embedded one.
    pub fn spec(mut self, spec: Spec) -> Self {
        self.config.spec = Some(Arc::new(spec));
        self
    }

    /// Models listed by `/v1/models` (default mobile, asha, mixtral, mythomax, soji).
    pub fn models<I, S>(mut self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.models = models.into_iter().map(Into::into).collect();
        self
    }

    /// Reject unknown models with 404 (default: any model is accepted).
    pub fn strict_models(mut self, strict: bool) -> Self {
        self.config.strict_models = strict;
        self
    }

    /// A fault rule active from the start.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.config.faults.push(rule);
        self
    }

    /// Uploads up to this size keep their bytes (served from `/media/...` and
    /// exposed in [`UploadRecord::bytes`]); default 8 MiB.
    pub fn retain_upload_bytes(mut self, limit: u64) -> Self {
        self.config.retain_upload_bytes = limit;
        self
    }

    /// Keeps the mock's state (generations, uploads, lore items, personas,
    /// Routstr balances, the id sequence) in this directory, shared with
    /// every other mock serving it, now or later (see [`sandbox`]). Each
    /// request is one locked transaction on `state.json`.
    pub fn state_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config.state_dir = Some(dir.into());
        self
    }

    /// Enforces a rate limit (Rostro mode): beyond `limit` requests per window the mock
    /// answers `429` with `Retry-After`; every response carries `X-RateLimit-*` (see
    /// [`ratelimit`]). Without it, [`ratelimit::ENV_RATE_LIMIT`] is read at start.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.config.rate_limit = Some(limit);
        self
    }

    /// Switches to Routstr mode: the mock plays a Routstr node (see
    /// [`routstr`]) instead of the Rostro API. General options set so far
    /// (port, host, seed, latency, faults) are kept.
    pub fn routstr(mut self) -> RoutstrMockBuilder {
        self.config
            .routstr
            .get_or_insert_with(routstr::RoutstrConfig::default);
        RoutstrMockBuilder { base: self }
    }

    /// Starts the mock.
    ///
    /// # Panics
    /// Panics if the address cannot be bound; see [`RostroMockBuilder::try_start`].
    pub async fn start(self) -> RostroMock {
        self.try_start().await.expect("rostro-mock: bind failed")
    }

    /// Starts the mock, reporting bind errors.
    pub async fn try_start(self) -> std::io::Result<RostroMock> {
        let mut config = self.config;
        if config.rate_limit.is_none()
            && let Some(text) = std::env::var(ratelimit::ENV_RATE_LIMIT)
                .ok()
                .filter(|v| !v.trim().is_empty())
        {
            let limit = text.parse().map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{}: {e}", ratelimit::ENV_RATE_LIMIT),
                )
            })?;
            config.rate_limit = Some(limit);
        }
        let listener = tokio::net::TcpListener::bind((config.host, config.port)).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let spec = config.spec.clone().unwrap_or_else(embedded_spec);
        let sandbox = match &config.state_dir {
            Some(dir) => Some(
                sandbox::Sandbox::open(dir.clone())
                    .map_err(|e| std::io::Error::other(e.to_string()))?,
            ),
            None => None,
        };
        let shared = Arc::new(Shared::new(base_url, config, spec, sandbox));
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        for (index, route) in shared.router.routes.iter().enumerate() {
            Mock::given(router::RouteMatcher {
                router: shared.router.clone(),
                index,
            })
            .respond_with(handlers::RouteResponder {
                shared: shared.clone(),
                index,
            })
            .with_priority(route.priority)
            .named(route.key())
            .mount(&server)
            .await;
        }
        Mock::given(AnyRequest)
            .respond_with(handlers::FallbackResponder {
                shared: shared.clone(),
            })
            .with_priority(u8::MAX)
            .named("fallback 404/405")
            .mount(&server)
            .await;
        let front = Arc::new(front::Front::new(shared.clone(), server.uri()));
        let task = tokio::spawn(front::run(listener, front));
        Ok(RostroMock {
            shared,
            server,
            addr,
            task,
        })
    }
}
