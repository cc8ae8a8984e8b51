//! Configuration and the state shared by the front listener and the wiremock
//! responders.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::catalog::Catalog;
use crate::faults::FaultRule;
use crate::records::{GenerationRecord, ReceivedRequest, UploadRecord};
use crate::router::Router;
use crate::spec::Spec;
use crate::uploads::ChunkedUpload;
use crate::util::uuid_from;

/// Streaming behaviours of the chat endpoints. Set per mock with
/// [`crate::RostroMockBuilder::chat_scenario`] or per request with the
/// `x-mock-scenario` header (comma-separated values: `normal`, `keepalive`,
/// `error-mid-stream`, `no-done`, `slow`, `drop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatScenario {
    /// Plain stream (the default).
    Normal,
    /// `: keep-alive` comment lines before every event (`keepalive`).
    KeepAlive,
    /// `data: {"error": {...}}` after half of the content, then the stream
    /// ends without `[DONE]` (`error-mid-stream`).
    ErrorMidStream,
    /// The stream ends after the last chunk without `data: [DONE]` (`no-done`).
    NoDone,
    /// Every event is delayed (the configured chunk delay, 20 ms when none is
    /// set) (`slow`).
    Slow,
    /// The connection is dropped after half of the content (`drop`).
    DropMidStream,
}

impl ChatScenario {
    /// The value used in the `x-mock-scenario` header.
    pub fn header_value(self) -> &'static str {
        match self {
            ChatScenario::Normal => "normal",
            ChatScenario::KeepAlive => "keepalive",
            ChatScenario::ErrorMidStream => "error-mid-stream",
            ChatScenario::NoDone => "no-done",
            ChatScenario::Slow => "slow",
            ChatScenario::DropMidStream => "drop",
        }
    }
}

impl FromStr for ChatScenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(
            match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
                "" | "normal" | "default" => ChatScenario::Normal,
                "keepalive" | "keep-alive" => ChatScenario::KeepAlive,
                "error-mid-stream" | "error" => ChatScenario::ErrorMidStream,
                "no-done" | "nodone" => ChatScenario::NoDone,
                "slow" => ChatScenario::Slow,
                "drop" | "drop-mid-stream" => ChatScenario::DropMidStream,
                other => return Err(format!("unknown chat scenario `{other}`")),
            },
        )
    }
}

/// A set of active [`ChatScenario`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Scenarios {
    pub(crate) keepalive: bool,
    pub(crate) error_mid_stream: bool,
    pub(crate) no_done: bool,
    pub(crate) slow: bool,
    pub(crate) drop: bool,
}

impl Scenarios {
    pub(crate) fn add(&mut self, s: ChatScenario) {
        match s {
            ChatScenario::Normal => {}
            ChatScenario::KeepAlive => self.keepalive = true,
            ChatScenario::ErrorMidStream => self.error_mid_stream = true,
            ChatScenario::NoDone => self.no_done = true,
            ChatScenario::Slow => self.slow = true,
            ChatScenario::DropMidStream => self.drop = true,
        }
    }

    /// Parses a comma-separated header value; unknown names are errors.
    pub(crate) fn parse(value: &str) -> Result<Scenarios, String> {
        let mut out = Scenarios::default();
        for part in value.split(',') {
            out.add(part.parse()?);
        }
        Ok(out)
    }
}

/// Where `/search` puts its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchEnvelope {
    /// `{"count", "nodes", "page", "cursor"}` at the top level (the default).
    #[default]
    Flat,
    /// The same object under `data`: `{"data": {"count", "nodes", ...}}`.
    Data,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) host: IpAddr,
    pub(crate) port: u16,
    pub(crate) seed: u64,
    pub(crate) latency: Duration,
    pub(crate) valid_keys: Option<HashSet<String>>,
    pub(crate) require_auth_everywhere: bool,
    pub(crate) imagine_checks: u32,
    pub(crate) generation_failure: Option<String>,
    pub(crate) scenarios: Scenarios,
    pub(crate) chunk_count: Option<usize>,
    pub(crate) chunk_delay: Duration,
    pub(crate) characters: usize,
    pub(crate) lorebooks: usize,
    pub(crate) envelope: SearchEnvelope,
    pub(crate) spec: Option<Arc<Spec>>,
    pub(crate) models: Vec<String>,
    pub(crate) strict_models: bool,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) retain_upload_bytes: u64,
    pub(crate) max_buffered_body: usize,
    /// Routstr mode: the mock plays a Routstr node instead of the Rostro API.
    pub(crate) routstr: Option<crate::routstr::RoutstrConfig>,
    /// Persistent sandbox directory (see [`crate::sandbox`]).
    pub(crate) state_dir: Option<std::path::PathBuf>,
    /// The enforced rate limit (see [`crate::ratelimit`]).
    pub(crate) rate_limit: Option<crate::ratelimit::RateLimit>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            seed: 42,
            latency: Duration::ZERO,
            valid_keys: None,
            require_auth_everywhere: false,
            imagine_checks: 2,
            generation_failure: None,
            scenarios: Scenarios::default(),
            chunk_count: None,
            chunk_delay: Duration::ZERO,
            characters: 600,
            lorebooks: 150,
            envelope: SearchEnvelope::Flat,
            spec: None,
            models: ["mobile", "asha", "mixtral", "mythomax", "soji"]
                .map(String::from)
                .to_vec(),
            strict_models: false,
            faults: Vec::new(),
            retain_upload_bytes: 8 * 1024 * 1024,
            max_buffered_body: 64 * 1024 * 1024,
            routstr: None,
            state_dir: None,
            rate_limit: None,
        }
    }
}

impl Config {
    pub(crate) fn key_is_valid(&self, key: &str) -> bool {
        match &self.valid_keys {
            Some(keys) => keys.contains(key),
            None => !key.is_empty(),
        }
    }
}

/// Locks a mutex, ignoring poisoning (a panicking test must not cascade).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) struct Shared {
    pub(crate) base_url: String,
    pub(crate) config: Config,
    pub(crate) spec: Arc<Spec>,
    pub(crate) router: Arc<Router>,
    pub(crate) catalog: Catalog,
    pub(crate) log: Mutex<Vec<ReceivedRequest>>,
    pub(crate) attempts: Mutex<BTreeMap<String, usize>>,
    pub(crate) faults: Mutex<Vec<FaultRule>>,
    pub(crate) generations: Mutex<Vec<GenerationRecord>>,
    pub(crate) uploads: Mutex<Vec<UploadRecord>>,
    pub(crate) chunked: Mutex<HashMap<String, Arc<ChunkedUpload>>>,
    /// The Routstr node, in Routstr mode.
    pub(crate) routstr: Option<crate::routstr::Node>,
    /// Stateful record collections by name (`personas`), JSON objects by id.
    pub(crate) collections: Mutex<serde_json::Map<String, serde_json::Value>>,
    /// The persistent sandbox, when the mock serves a state directory.
    pub(crate) sandbox: Option<crate::sandbox::Sandbox>,
    pub(crate) seq: AtomicU64,
    /// Request ids count on their own, so reads leave the persisted state alone.
    request_seq: AtomicU64,
    /// The rate-limit window and its headers.
    pub(crate) limiter: crate::ratelimit::Limiter,
}

impl Shared {
    pub(crate) fn new(
        base_url: String,
        config: Config,
        spec: Arc<Spec>,
        sandbox: Option<crate::sandbox::Sandbox>,
    ) -> Shared {
        let router = Arc::new(Router::new(&spec));
        let catalog = Catalog::generate(config.seed, config.characters, config.lorebooks);
        let faults = config.faults.clone();
        let limiter = crate::ratelimit::Limiter::new(config.rate_limit);
        let routstr = config
            .routstr
            .clone()
            .map(|c| crate::routstr::Node::new(c, config.seed));
        Shared {
            base_url,
            config,
            spec,
            router,
            catalog,
            log: Mutex::new(Vec::new()),
            attempts: Mutex::new(BTreeMap::new()),
            faults: Mutex::new(faults),
            generations: Mutex::new(Vec::new()),
            uploads: Mutex::new(Vec::new()),
            chunked: Mutex::new(HashMap::new()),
            routstr,
            collections: Mutex::new(serde_json::Map::new()),
            sandbox,
            seq: AtomicU64::new(0),
            request_seq: AtomicU64::new(0),
            limiter,
        }
    }

    /// Next value of the monotonically increasing sequence.
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Next request number (for `x-request-id`).
    pub(crate) fn next_request_seq(&self) -> u64 {
        self.request_seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// A fresh deterministic uuid (seeded, in order of creation).
    pub(crate) fn new_uuid(&self) -> String {
        uuid_from(self.config.seed, self.next_seq())
    }

    /// Takes one use of the first fault rule matching the request.
    pub(crate) fn take_fault(
        &self,
        method: &str,
        path: &str,
        template: Option<&str>,
    ) -> Option<crate::faults::Fault> {
        let mut faults = lock(&self.faults);
        let idx = faults
            .iter()
            .position(|f| f.matches(method, path, template))?;
        let rule = &mut faults[idx];
        rule.remaining -= 1;
        let fault = rule.fault.clone();
        if rule.remaining == 0 {
            faults.remove(idx);
        }
        Some(fault)
    }
}
