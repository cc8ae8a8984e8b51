//! Per-invocation context: global options, output, config, and — only for commands that
//! talk to the API — a tokio runtime, an SDK client and (with `--mock`) the in-process mock.

use std::cell::OnceCell;
use std::future::Future;

use rostro_sdk::request::Request;
use rostro_sdk::routstr::RoutstrClient;
use rostro_sdk::{Client, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::cli::Global;
use crate::config::{Config, Profile};
use crate::credentials::{self, Credential};
use crate::exit::{CliError, CliResult};
use crate::output::Output;

/// The key sent to the in-process mock when no key is configured.
pub const MOCK_KEY: &str = "rostro-mock-key";

/// With `--mock` on a Routstr profile and no key configured: the balance of the key the
/// in-process node makes up (msat).
#[cfg(feature = "mock")]
const MOCK_ROUTSTR_BALANCE_MSATS: u64 = 1_000_000;

/// How a session with a Routstr node authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeAuth {
    /// The profile's key (or `ROSTRO_API_KEY`) is required.
    Required,
    /// Sent when there is one.
    Optional,
    /// Never sent: the request pays for itself (`--pay-with`) or needs no key.
    Anonymous,
}

/// The mock server of `--mock`, kept alive with the session.
enum MockGuard {
    #[cfg(feature = "mock")]
    Rostro(rostro_mock::RostroMock),
    #[cfg(feature = "mock")]
    Routstr(rostro_mock::RoutstrMock),
}

impl MockGuard {
    /// The mock's base URL.
    fn uri(&self) -> String {
        match *self {
            #[cfg(feature = "mock")]
            MockGuard::Rostro(ref m) => m.uri(),
            #[cfg(feature = "mock")]
            MockGuard::Routstr(ref m) => m.uri(),
        }
    }
}

/// The `User-Agent` of every request.
const USER_AGENT: &str = concat!("rostro-cli/", env!("CARGO_PKG_VERSION"), " (rostro-sdk)");

/// Everything a command gets.
pub struct Ctx {
    /// Global options.
    pub g: Global,
    /// Output.
    pub out: Output,
    config: OnceCell<Config>,
}

/// A connected client (and the mock it talks to, kept alive as long as the session).
pub struct Session {
    /// The SDK client.
    pub client: Client,
    /// Where the key came from (`None`: no key).
    pub credential: Option<Credential>,
    /// The profile settings.
    pub profile: Profile,
    /// The profile's name.
    pub profile_name: String,
    /// On a Routstr profile: the node client (`client` is its underlying client).
    pub node: Option<RoutstrClient>,
    /// The in-process mock of `--mock`, kept running as long as the session.
    _mock: Option<MockGuard>,
}

impl Ctx {
    /// A context; nothing is read or started yet.
    pub fn new(g: Global, out: Output) -> Ctx {
        Ctx {
            g,
            out,
            config: OnceCell::new(),
        }
    }

    /// The config file (read once).
    pub fn config(&self) -> CliResult<&Config> {
        if let Some(c) = self.config.get() {
            return Ok(c);
        }
        let c = Config::load()?;
        Ok(self.config.get_or_init(|| c))
    }

    /// The name of the profile in use.
    pub fn profile_name(&self) -> CliResult<String> {
        Ok(self
            .config()?
            .active_profile_name(self.g.profile.as_deref()))
    }

    /// A multi-threaded tokio runtime (two workers: the mock and progress drawing run
    /// beside the command).
    pub fn runtime(&self) -> CliResult<tokio::runtime::Runtime> {
        if self.g.verbose {
            crate::trace::install();
        }
        // An in-process run's env and streams are current on the runtime's threads too.
        let injected = self.out.injected();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .on_thread_start(move || crate::ambient::adopt(injected.clone()))
            .enable_all()
            .build()
            .map_err(|e| CliError::msg(format!("cannot start the async runtime: {e}")))
    }

    /// Runs `fut` on a fresh runtime.
    pub fn block_on<T>(&self, fut: impl Future<Output = CliResult<T>>) -> CliResult<T> {
        let rt = self.runtime()?;
        rt.block_on(fut)
    }

    /// The global HTTP options on a client builder: `--timeout` (already a valid, capped
    /// duration: see [`crate::cli::parse_timeout`]), `--retries`, `--retry-delay`,
    /// `--idempotent`.
    fn http_settings(&self, mut b: rostro_sdk::ClientBuilder) -> rostro_sdk::ClientBuilder {
        if let Some(t) = self.g.timeout {
            b = b.timeout(t);
        }
        if let Some(r) = self.g.retries {
            b = b.max_retries(r);
        }
        if self.g.idempotent {
            b = b.idempotent_posts(true);
        }
        if let Some(d) = self.g.retry_delay {
            b = b.initial_retry_delay(d);
        }
        if self.g.no_pacing {
            b = b.pacing(false);
        }
        b
    }

    /// Builds the client (starting the mock with `--mock`). `require_key`: fail with exit 3
    /// when no key is configured.
    pub async fn session(&self, require_key: bool) -> CliResult<Session> {
        self.session_with(require_key, None).await
    }

    /// Like [`session`](Self::session), with an explicit key instead of the stored one.
    pub async fn session_with(
        &self,
        require_key: bool,
        key: Option<Credential>,
    ) -> CliResult<Session> {
        let profile_name = self.profile_name()?;
        if key.is_none() {
            // An explicit key (`auth login`) may start a profile; otherwise it must exist.
            self.config()?.check_profile(&profile_name)?;
        }
        let profile = self.config()?.profile(&profile_name);
        profile.check_provider()?;
        if profile.is_routstr() {
            let auth = if require_key {
                NodeAuth::Required
            } else {
                NodeAuth::Optional
            };
            return self.node_session_with(auth, key).await;
        }
        // --mock never reads the real stored key: the sandbox has its own.
        let mut credential = match key {
            Some(k) => Some(k),
            None if self.g.mock => crate::cmd::mock::load_key(&profile_name)?,
            None => credentials::load(&profile_name)?,
        };
        let mock = self.start_mock(false).await?;
        let mock_uri = mock.as_ref().map(MockGuard::uri);
        let (base, mimic) = self.api_urls(&profile, mock_uri.clone());
        if mock_uri.is_some() && credential.is_none() {
            credential = Some(Credential {
                token: MOCK_KEY.to_owned(),
                source: credentials::Source::Mock,
            });
        }
        if require_key && credential.is_none() {
            return Err(CliError::Auth(format!(
                "not logged in (profile `{profile_name}`)"
            )));
        }
        let mut b = Client::builder()
            .base_url(&base)
            .auth_style(profile.auth_style()?)
            .user_agent(USER_AGENT);
        if let Some(m) = &mimic {
            b = b.mimic_base_url(m);
        }
        if let Some(c) = &credential {
            b = b.api_key(&c.token);
        }
        let client = self.http_settings(b).build()?;
        if self.g.verbose {
            self.out.eprint(&format!(
                "* profile `{profile_name}`, api {}, mimic {}, {}",
                client.base_url(),
                client.mimic_base_url(),
                key_note(&credential)
            ));
        }
        Ok(Session {
            client,
            credential,
            profile,
            profile_name,
            node: None,
            _mock: mock,
        })
    }

    /// With `--mock`: starts the in-process mock (the Rostro API, or with `routstr` a Routstr
    /// node) on the sandbox's state; `None` without `--mock`.
    async fn start_mock(&self, routstr: bool) -> CliResult<Option<MockGuard>> {
        if !self.g.mock {
            return Ok(None);
        }
        #[cfg(feature = "mock")]
        {
            let failed =
                |e: std::io::Error| CliError::msg(format!("cannot start the mock server: {e}"));
            let dir = crate::cmd::mock::sandbox_dir()?;
            let guard = if routstr {
                MockGuard::Routstr(
                    rostro_mock::RoutstrMock::builder()
                        .state_dir(dir)
                        .try_start()
                        .await
                        .map_err(failed)?,
                )
            } else {
                MockGuard::Rostro(
                    rostro_mock::RostroMock::builder()
                        .state_dir(dir)
                        .try_start()
                        .await
                        .map_err(failed)?,
                )
            };
            Ok(Some(guard))
        }
        #[cfg(not(feature = "mock"))]
        {
            let _ = routstr;
            Err(CliError::usage(
                "this rostro was built without the `mock` feature; --mock is not available",
            ))
        }
    }

    /// The API and mimic base URLs: the mock's, else `--base-url` / `ROSTRO_BASE_URL`, else
    /// the profile's, else the default (a mimic URL of the profile only goes with its own
    /// base URL).
    fn api_urls(&self, profile: &Profile, mock_uri: Option<String>) -> (String, Option<String>) {
        let env_base =
            crate::ambient::var(rostro_sdk::ENV_BASE_URL).filter(|v| !v.trim().is_empty());
        let env_mimic =
            crate::ambient::var(rostro_sdk::ENV_MIMIC_BASE_URL).filter(|v| !v.trim().is_empty());
        let explicit_base = mock_uri.clone().or(self.g.base_url.clone()).or(env_base);
        let base = explicit_base
            .clone()
            .or(profile.base_url.clone())
            .unwrap_or_else(|| rostro_sdk::DEFAULT_BASE_URL.to_owned());
        let mimic = if mock_uri.is_some() {
            mock_uri
        } else {
            env_mimic.or(if explicit_base.is_some() {
                None
            } else {
                profile.mimic_base_url.clone()
            })
        };
        (base, mimic)
    }

    /// Fails with a usage error unless the profile in use is a Routstr profile.
    pub fn require_routstr(&self, what: &str) -> CliResult {
        let name = self.profile_name()?;
        let profile = self.config()?.profile(&name);
        profile.check_provider()?;
        if profile.is_routstr() {
            Ok(())
        } else {
            Err(CliError::usage(format!(
                "{what} needs a Routstr profile; profile `{name}` is a {} profile (set one up: \
                 `rostro config set profile.NAME.provider routstr` and \
                 `rostro config set profile.NAME.base_url https://node.example`, then use \
                 --profile NAME)",
                profile.provider.as_deref().unwrap_or("rostro")
            )))
        }
    }

    /// A session with the Routstr node of the profile in use (which must be a Routstr
    /// profile).
    pub async fn node_session(&self, auth: NodeAuth) -> CliResult<Session> {
        self.require_routstr("this command")?;
        self.node_session_with(auth, None).await
    }

    /// Builds the [`RoutstrClient`] of a Routstr profile (`--mock`: an in-process Routstr
    /// node). `key`: use this credential instead of the stored one.
    pub async fn node_session_with(
        &self,
        auth: NodeAuth,
        key: Option<Credential>,
    ) -> CliResult<Session> {
        let profile_name = self.profile_name()?;
        if key.is_none() {
            self.config()?.check_profile(&profile_name)?;
        }
        let profile = self.config()?.profile(&profile_name);
        let prefix = profile.routstr_prefix()?;
        let mut credential = match (key, auth) {
            (Some(k), _) => Some(k),
            (None, NodeAuth::Anonymous) => None,
            (None, _) if self.g.mock => crate::cmd::mock::load_key(&profile_name)?,
            (None, _) => credentials::load(&profile_name)?,
        };
        let mock = self.start_mock(true).await?;
        if credential.is_none() && auth != NodeAuth::Anonymous {
            credential = sandbox_node_key(mock.as_ref(), &profile_name)?;
        }
        let base = self.node_url(&profile_name, &profile, mock.as_ref().map(MockGuard::uri))?;
        self.check_node_key(&profile_name, auth, credential.as_ref())?;
        let mut b = RoutstrClient::builder(&base)
            .client_builder(self.http_settings(Client::builder()))
            .balance_prefix(prefix)
            .user_agent(USER_AGENT);
        if let Some(c) = &credential {
            b = b.credential(&c.token);
        }
        let node = b.build().map_err(|e| match e {
            rostro_sdk::Error::Config { .. } => CliError::usage(e.to_string()),
            other => CliError::Sdk(other),
        })?;
        if self.g.verbose {
            self.out.eprint(&format!(
                "* profile `{profile_name}` (routstr), node {}, balance at {}/*, {}",
                node.node_url(),
                node.balance_prefix().as_path(),
                key_note(&credential)
            ));
        }
        Ok(Session {
            client: node.client().clone(),
            credential,
            profile,
            profile_name,
            node: Some(node),
            _mock: mock,
        })
    }

    /// The node URL: the mock's, else `--base-url` / `ROSTRO_BASE_URL`, else the profile's.
    fn node_url(
        &self,
        profile_name: &str,
        profile: &Profile,
        mock_uri: Option<String>,
    ) -> CliResult<String> {
        let env_base =
            crate::ambient::var(rostro_sdk::ENV_BASE_URL).filter(|v| !v.trim().is_empty());
        mock_uri
            .or(self.g.base_url.clone())
            .or(env_base)
            .or(profile.base_url.clone())
            .ok_or_else(|| {
                CliError::usage(format!(
                    "Routstr profile `{profile_name}` has no node URL: \
                     `rostro config set profile.{profile_name}.base_url https://node.example` \
                     (or --base-url)"
                ))
            })
    }

    /// Fails (exit 3) when the node needs a key and there is none, or the key is not one a
    /// node takes.
    fn check_node_key(
        &self,
        profile_name: &str,
        auth: NodeAuth,
        credential: Option<&Credential>,
    ) -> CliResult {
        if auth == NodeAuth::Required && credential.is_none() {
            return Err(CliError::Auth(format!(
                "no key for Routstr profile `{profile_name}`: create one with `{}`, or pay per \
                 request with --pay-with TOKEN",
                crate::rerun::command_as(
                    &self.g,
                    profile_name,
                    &["wallet", "create", "--token", "TOKEN"]
                )
            )));
        }
        if let Some(c) = credential
            && let Err(e) = rostro_sdk::routstr::Credential::parse(&c.token)
        {
            return Err(CliError::Auth(format!(
                "the key of profile `{profile_name}` (from {}) cannot be used with a Routstr \
                 node: {}",
                c.source,
                e.reason()
            )));
        }
        Ok(())
    }
}

/// `-v`: where the key came from (never the key).
fn key_note(credential: &Option<Credential>) -> String {
    match credential {
        Some(c) => format!("key from {} (redacted)", c.source),
        None => "no key".to_owned(),
    }
}

/// With `--mock` on a Routstr profile and no key: a key the sandbox node makes up, kept in
/// the sandbox (with its balance) for later commands.
fn sandbox_node_key(mock: Option<&MockGuard>, profile_name: &str) -> CliResult<Option<Credential>> {
    #[cfg(feature = "mock")]
    if let Some(MockGuard::Routstr(m)) = mock {
        let token = m.create_key(MOCK_ROUTSTR_BALANCE_MSATS);
        let path = crate::cmd::mock::store_key(profile_name, &token)?;
        return Ok(Some(Credential {
            token,
            source: credentials::Source::File(path),
        }));
    }
    let _ = (mock, profile_name);
    Ok(None)
}

impl Session {
    /// The Routstr node client (only on Routstr profiles).
    pub fn node(&self) -> CliResult<&RoutstrClient> {
        self.node.as_ref().ok_or_else(|| {
            CliError::usage(format!(
                "profile `{}` is not a Routstr profile",
                self.profile_name
            ))
        })
    }

    /// Wraps an SDK error: on a Routstr profile its exit code follows the node's error kind.
    pub fn err(&self, e: rostro_sdk::Error) -> CliError {
        if self.node.is_some() {
            CliError::Routstr(e)
        } else {
            CliError::Sdk(e)
        }
    }

    /// Sends a request and decodes the JSON answer.
    pub async fn exec<T: DeserializeOwned>(&self, req: Request) -> CliResult<Response<T>> {
        self.client.execute::<T>(req).await.map_err(|e| self.err(e))
    }

    /// Sends a request and returns the JSON answer as a `Value`.
    pub async fn json(&self, req: Request) -> CliResult<Value> {
        Ok(self.exec::<Value>(req).await?.into_inner())
    }

    /// Sends a request and returns the raw response (streams, downloads).
    pub async fn raw(&self, req: Request) -> CliResult<reqwest::Response> {
        self.client.execute_raw(req).await.map_err(|e| self.err(e))
    }
}

/// Waits for Ctrl-C (never returns if the signal cannot be watched).
pub async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Installs the Ctrl-C handler now (and keeps it for the returned guard's lifetime), so that
/// Ctrl-C never kills the process while it is held: the REPL uses it to make Ctrl-C stop a
/// reply or drop the line being typed instead of ending the session.
pub fn hold_ctrl_c(rt: &tokio::runtime::Runtime) -> Option<Box<dyn std::any::Any>> {
    let _enter = rt.enter();
    #[cfg(unix)]
    {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .ok()
            .map(|s| Box::new(s) as Box<dyn std::any::Any>)
    }
    #[cfg(windows)]
    {
        tokio::signal::windows::ctrl_c()
            .ok()
            .map(|s| Box::new(s) as Box<dyn std::any::Any>)
    }
    #[cfg(not(any(unix, windows)))]
    {
        None
    }
}
