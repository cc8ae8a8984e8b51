//! Generate media, wait for it, download it.
//!
//! * [`GenerationSpec`]: one constructor per generation type; [`GenerationSpec::validate`]
//!   checks before sending what the type needs (a prompt, a transcript, lyrics for sung music,
//!   an init image for `image_to_*`, enum values) and fails with
//!   [`Error::InvalidRequest`] naming the field. Image inputs
//!   are URLs or base64 strings (passed through) or local files (streamed into the request as
//!   base64 `data:` URLs).
//! * [`ImagineApi::generate`] (`POST /imagine`) and [`ImagineApi::generate_with`] (the
//!   per-type endpoints such as `POST /images/text2img`) return a [`Generation`];
//!   [`ImagineApi::resume`] / [`ImagineApi::resume_check`] rebuild one from a uuid.
//! * [`Generation::wait`] polls `POST /imagine/check` (or `POST /check` for per-type
//!   endpoints) with a backoff from 1 s to 10 s (configurable), an overall timeout and a
//!   progress callback. Dropping the future stops polling; the generation goes on server-side
//!   and can be resumed. `is_failed` becomes [`MediaError::GenerationFailed`] with the reason.
//!
//! ```no_run
//! use std::time::Duration;
//! use rostro_sdk::Client;
//! use rostro_sdk::media::{GenerationSpec, ImageInput};
//! use rostro_sdk::types::MusicGenType;
//!
//! # async fn run(client: Client) -> rostro_sdk::Result<()> {
//! // Animate a local picture (sent as a base64 data URL).
//! let spec = GenerationSpec::image_to_video()
//!     .init_image(ImageInput::path("still.png"))
//!     .prompt("the clouds drift by")
//!     .duration(4);
//! let generation = client.imagine().generate(spec).await?;
//! println!("started {}", generation.generation_uuid());
//! let done = generation
//!     .timeout(Duration::from_secs(600))
//!     .on_progress(|p| eprintln!("{:?}, {:?} elapsed", p.state, p.elapsed))
//!     .wait()
//!     .await?;
//! let files = done.download("./media").await?;
//! println!("{}", files.primary.path.display());
//!
//! // Sung music needs lyrics: this fails before anything is sent.
//! let err = client
//!     .imagine()
//!     .generate(GenerationSpec::text_to_music("sea shanty").music_type(MusicGenType::Vocals))
//!     .await
//!     .unwrap_err();
//! assert!(err.to_string().contains("lyrics"));
//!
//! // A per-type endpoint, polled with POST /check; later, from another process:
//! let g = client.imagine().generate_with(client.images().text_to_image().prompt("a fox")).await?;
//! let again = client.imagine().resume_check(g.generation_uuid()).wait().await?;
//! # let _ = again;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::MediaError;
use super::download::Download;
use crate::generated::imagine::{IMAGINE_CREATE, ImagineApi};
use crate::request::Request;
use crate::types::ImaginedItem;
use crate::{Client, Error, Result};

/// First wait between two checks (then doubling).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Longest wait between two checks.
pub const DEFAULT_MAX_POLL_INTERVAL: Duration = Duration::from_secs(10);
/// How long [`Generation::wait`] waits by default before giving up (30 minutes).
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Consecutive transient check failures (429, 5xx, connection errors) tolerated while waiting.
pub const DEFAULT_MAX_CHECK_ERRORS: u32 = 3;

mod input;
mod spec;
mod status;

pub use input::ImageInput;
pub use spec::GenerationSpec;
use status::WaitCallback;
pub use status::{GenerationState, GenerationStatus, PollEndpoint, WaitProgress};

// ---------------------------------------------------------------------------------------------
// Per-type endpoints.

mod sealed {
    pub trait Sealed {}
}

/// A generated builder of a per-type generation endpoint (`POST /images/text2img`, `/video`,
/// `/tts`, ...: operations marked `polling = "check"`), accepted by
/// [`ImagineApi::generate_with`]. They answer a `TimedResponse` polled with `POST /check`.
pub trait TimedOperation: sealed::Sealed {
    /// The builder's request.
    #[doc(hidden)]
    fn into_timed_request(self) -> Result<Request>;
}

macro_rules! timed_operations {
    ($($builder:ty),* $(,)?) => {$(
        impl sealed::Sealed for $builder {}
        impl TimedOperation for $builder {
            fn into_timed_request(self) -> Result<Request> {
                self.into_request()
            }
        }
    )*};
}

timed_operations!(
    crate::generated::images::ImagesTextToImage,
    crate::generated::images::ImagesImageToImage,
    crate::generated::images::ImagesAnimate,
    crate::generated::images::ImagesInpaint,
    crate::generated::images::ImagesRemoveBackground,
    crate::generated::images::ImagesUpscale,
    crate::generated::images::ImagesExpressions,
    crate::generated::audio::AudioMusic,
    crate::generated::audio::AudioSpeech,
    crate::generated::audio::AudioSoundEffect,
    crate::generated::video::VideoCreate,
    crate::generated::models3d::Models3dCreate,
);

// ---------------------------------------------------------------------------------------------
// The handle.

impl ImagineApi {
    /// Validates `spec`, starts the generation (`POST /imagine?return_immediate=true`) and
    /// returns a handle to [`wait`](Generation::wait) for it. Nothing is sent when validation
    /// fails.
    pub async fn generate(&self, spec: GenerationSpec) -> Result<Generation> {
        let req = spec.into_request(self)?;
        let value = self.client.execute::<Value>(req).await?.into_inner();
        let status = GenerationStatus::from_value(value, PollEndpoint::Imagine, IMAGINE_CREATE.id)?;
        Generation::started(
            &self.client,
            PollEndpoint::Imagine,
            status,
            IMAGINE_CREATE.id,
        )
    }

    /// Starts a generation on a per-type endpoint (e.g.
    /// `client.images().text_to_image().prompt(..)`) and returns a handle polled with
    /// `POST /check`.
    pub async fn generate_with<B: TimedOperation>(&self, builder: B) -> Result<Generation> {
        let req = builder.into_timed_request()?;
        let operation = req.operation().id;
        let value = self.client.execute::<Value>(req).await?.into_inner();
        let status = GenerationStatus::from_value(value, PollEndpoint::Check, operation)?;
        Generation::started(&self.client, PollEndpoint::Check, status, operation)
    }

    /// A handle to a generation started earlier with `POST /imagine` (e.g. by another
    /// process), checked with `POST /imagine/check`.
    pub fn resume(&self, generation_uuid: impl Into<String>) -> Generation {
        Generation::new(
            self.client.clone(),
            generation_uuid.into(),
            PollEndpoint::Imagine,
        )
    }

    /// A handle to a generation started earlier on a per-type endpoint, checked with
    /// `POST /check`.
    pub fn resume_check(&self, generation_uuid: impl Into<String>) -> Generation {
        Generation::new(
            self.client.clone(),
            generation_uuid.into(),
            PollEndpoint::Check,
        )
    }
}

/// A running (or finished) generation. Cheap to clone; keep a clone (or its uuid) to wait
/// again or [`resume`](ImagineApi::resume) later.
///
/// ```no_run
/// use std::time::Duration;
/// use rostro_sdk::media::GenerationSpec;
///
/// # async fn run(client: rostro_sdk::Client) -> rostro_sdk::Result<()> {
/// let generation = client
///     .imagine()
///     .generate(GenerationSpec::text_to_image("a red fox"))
///     .await?;
/// let uuid = generation.generation_uuid().to_owned();
/// let done = generation.timeout(Duration::from_secs(300)).wait().await?;
/// // Another process (or a retry after a timeout) picks it up by its uuid.
/// let again = client.imagine().resume(uuid).wait().await?;
/// # let _ = (done, again);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use = "a generation handle does nothing until you `.wait()` for it"]
pub struct Generation {
    client: Client,
    generation_uuid: String,
    endpoint: PollEndpoint,
    last: Option<GenerationStatus>,
    initial_interval: Duration,
    max_interval: Duration,
    timeout: Option<Duration>,
    max_check_errors: u32,
    progress: Option<WaitCallback>,
}

impl fmt::Debug for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generation")
            .field("generation_uuid", &self.generation_uuid)
            .field("endpoint", &self.endpoint)
            .field("state", &self.last.as_ref().map(|s| s.state))
            .field("poll_interval", &(self.initial_interval, self.max_interval))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Generation {
    fn new(client: Client, generation_uuid: String, endpoint: PollEndpoint) -> Self {
        Generation {
            client,
            generation_uuid,
            endpoint,
            last: None,
            initial_interval: DEFAULT_POLL_INTERVAL,
            max_interval: DEFAULT_MAX_POLL_INTERVAL,
            timeout: Some(DEFAULT_WAIT_TIMEOUT),
            max_check_errors: DEFAULT_MAX_CHECK_ERRORS,
            progress: None,
        }
    }

    fn started(
        client: &Client,
        endpoint: PollEndpoint,
        status: GenerationStatus,
        operation: &'static str,
    ) -> Result<Self> {
        let Some(uuid) = status.item.generation_uuid.clone() else {
            return Err(Error::Decode {
                operation,
                path: "generation_uuid".into(),
                message: "the answer has no generation_uuid to poll".into(),
                snippet: String::new(),
                response: None,
            });
        };
        let mut generation = Generation::new(client.clone(), uuid, endpoint);
        generation.last = Some(status);
        Ok(generation)
    }

    /// The generation's uuid (keep it to [`resume`](ImagineApi::resume) later).
    pub fn generation_uuid(&self) -> &str {
        &self.generation_uuid
    }

    /// The endpoint it is checked with.
    pub fn endpoint(&self) -> PollEndpoint {
        self.endpoint
    }

    /// The latest known status (from the start request or the last check).
    pub fn last_status(&self) -> Option<&GenerationStatus> {
        self.last.as_ref()
    }

    /// The wait before the first check and its cap: the wait doubles after every check, from
    /// `initial` up to `max` (defaults 1 s and 10 s).
    pub fn poll_interval(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_interval = initial;
        self.max_interval = max.max(initial);
        self
    }

    /// Gives up after this long (default 30 minutes) with [`MediaError::WaitTimedOut`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Waits without a time limit.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// How many transient check failures in a row are tolerated (default 3).
    pub fn max_check_errors(mut self, n: u32) -> Self {
        self.max_check_errors = n;
        self
    }

    /// Called after every check with the state, the time waited and the check's number.
    pub fn on_progress(mut self, f: impl Fn(&WaitProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Checks once.
    pub async fn check(&self) -> Result<GenerationStatus> {
        let operation = self.endpoint.operation();
        let req = match self.endpoint {
            PollEndpoint::Imagine => self
                .client
                .imagine()
                .check()
                .generation_uuid(self.generation_uuid.clone())
                .into_request()?,
            PollEndpoint::Check => self
                .client
                .tasks()
                .check()
                .generation_uuid(self.generation_uuid.clone())
                .into_request()?,
        };
        let value = self.client.execute::<Value>(req).await?.into_inner();
        GenerationStatus::from_value(value, self.endpoint, operation)
    }

    /// Polls until the generation is done (then returns it) or failed (then
    /// [`MediaError::GenerationFailed`] with the reason), within the timeout. Cancel-safe:
    /// dropping the future stops polling.
    ///
    /// Takes the handle by value so the future is `'static` (spawnable); clone the handle
    /// first to keep it.
    pub async fn wait(self) -> Result<CompletedGeneration> {
        let operation = self.endpoint.operation();
        let start = Instant::now();
        let deadline = self.timeout.map(crate::transport::deadline_after);
        let mut interval = self.initial_interval;
        let mut checks: u32 = 0;
        let mut errors: u32 = 0;
        let mut status = self.last.clone();
        loop {
            if let Some(s) = &status {
                match s.state {
                    GenerationState::Done | GenerationState::Failed => {
                        return self.finished(s, operation);
                    }
                    GenerationState::Pending => {
                        // Wait before the next check, within the deadline.
                        let now = Instant::now();
                        if deadline.is_some_and(|d| now >= d) {
                            return Err(self.timed_out(start, checks));
                        }
                        let sleep = match deadline {
                            Some(d) => interval.min(d - now),
                            None => interval,
                        };
                        tokio::time::sleep(sleep).await;
                        interval = interval.saturating_mul(2).min(self.max_interval);
                    }
                }
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(self.timed_out(start, checks));
            }
            checks += 1;
            match self.check().await {
                Ok(s) => {
                    errors = 0;
                    if let Some(cb) = &self.progress {
                        cb(&WaitProgress {
                            state: s.state,
                            elapsed: start.elapsed(),
                            attempt: checks,
                            queue_length: s.queue_length,
                        });
                    }
                    status = Some(s);
                }
                Err(e) if e.is_retryable() && errors < self.max_check_errors => {
                    errors += 1;
                    tracing::debug!(
                        generation_uuid = %self.generation_uuid,
                        error = %e,
                        "check failed, will check again"
                    );
                    // Keep the previous state (pending) so the loop waits before retrying.
                    if status
                        .as_ref()
                        .is_none_or(|s| s.state != GenerationState::Pending)
                    {
                        status = Some(GenerationStatus {
                            state: GenerationState::Pending,
                            item: ImaginedItem::default(),
                            queue_length: None,
                        });
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// How a wait on a finished generation ends: the completed generation, or
    /// [`MediaError::GenerationFailed`] with the reason.
    fn finished(
        &self,
        s: &GenerationStatus,
        operation: &'static str,
    ) -> Result<CompletedGeneration> {
        if s.state == GenerationState::Failed {
            let error = s.item.error.clone().unwrap_or_default();
            return Err(MediaError::GenerationFailed {
                generation_uuid: self.generation_uuid.clone(),
                reason: error.reason,
                location: error.location,
            }
            .into_error(operation));
        }
        Ok(CompletedGeneration {
            client: self.client.clone(),
            item: s.item.clone(),
            generation_uuid: self.generation_uuid.clone(),
        })
    }

    fn timed_out(&self, start: Instant, checks: u32) -> Error {
        MediaError::WaitTimedOut {
            generation_uuid: self.generation_uuid.clone(),
            waited: start.elapsed(),
            checks,
        }
        .into_error(self.endpoint.operation())
    }
}

/// A finished generation: its item and its media, ready to [`download`](Self::download).
///
/// ```no_run
/// # async fn run(done: rostro_sdk::media::CompletedGeneration) -> rostro_sdk::Result<()> {
/// println!("{:?}", done.primary_url());
/// let saved = done.download("renders/").overwrite(true).await?;
/// println!("{} ({} bytes, sha256 {})", saved.primary.path.display(), saved.primary.size, saved.primary.sha256);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct CompletedGeneration {
    client: Client,
    item: ImaginedItem,
    generation_uuid: String,
}

impl fmt::Debug for CompletedGeneration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletedGeneration")
            .field("generation_uuid", &self.generation_uuid)
            .field("item", &self.item)
            .finish_non_exhaustive()
    }
}

impl CompletedGeneration {
    /// The generation's uuid.
    pub fn generation_uuid(&self) -> &str {
        &self.generation_uuid
    }

    /// The finished item.
    pub fn item(&self) -> &ImaginedItem {
        &self.item
    }

    /// The finished item, by value.
    pub fn into_item(self) -> ImaginedItem {
        self.item
    }

    /// URL of the primary media.
    pub fn primary_url(&self) -> Option<&str> {
        self.item.primary_media_url.as_deref()
    }

    /// Every media URL with its label: `("primary", url)` first, then the secondary media
    /// (`texture`, ...) in name order.
    pub fn media_urls(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(url) = self.primary_url() {
            out.push(("primary".to_owned(), url.to_owned()));
        }
        if let Some(secondary) = &self.item.secondary_media_urls {
            out.extend(
                secondary
                    .iter()
                    .filter(|(_, url)| !url.is_empty())
                    .map(|(label, url)| (label.clone(), url.clone())),
            );
        }
        out
    }

    /// Downloads the primary and secondary media into a directory (an existing one, or a path
    /// ending with `/`), or the primary media to a file path with the secondary media beside
    /// it. Files are streamed to a temporary file in the target directory and renamed when
    /// complete; each comes back with its size and SHA-256.
    pub fn download(&self, target: impl Into<PathBuf>) -> Download {
        Download::new(
            &self.client,
            self.generation_uuid.clone(),
            self.media_urls(),
            target.into(),
        )
    }
}
