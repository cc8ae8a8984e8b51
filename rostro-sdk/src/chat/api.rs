//! The `create` and `stream` methods of the mimic completion handles ([`ChatApi`],
//! [`CompletionsApi`], [`PromptApi`]): one definition over each handle's `request` call, so
//! the three cannot drift apart.

use std::fmt;

use super::completion::{Completion, CompletionRequest};
use super::request::ChatCompletionRequest;
use super::response::ChatCompletion;
use super::stream::{ChatStream, CompletionStream};
use crate::error::Result;
use crate::generated::chat::ChatApi;
use crate::generated::completions::CompletionsApi;
use crate::generated::prompt::PromptApi;

/// `create` and `stream` (and `create_for_model` and `stream_for_model` where the API has a
/// per-model route) on a handle whose `request(req)` prepares the call.
macro_rules! completion_methods {
    (@one $req:ty, $answer:ty, $stream:ty, $route:literal $(, #[$m:meta])*) => {
        #[doc = concat!("Creates a completion: `POST ", $route, "` without streaming.")]
        $(#[$m])*
        pub async fn create(&self, req: $req) -> Result<$answer> {
            self.request(req).send().await
        }

        #[doc = concat!("Streams a completion: `POST ", $route, "` with `\"stream\": true`. ")]
        /// The stream is returned once the response headers arrived; set `include_usage` on
        /// the request for a final usage (and cost) chunk.
        pub async fn stream(&self, req: $req) -> Result<$stream> {
            self.request(req).stream().await
        }
    };
    ($(#[$m:meta])* $api:ty, $req:ty => $answer:ty, $stream:ty, $route:literal) => {
        impl $api {
            completion_methods!(@one $req, $answer, $stream, $route $(, #[$m])*);
        }
    };
    ($(#[$m:meta])* $api:ty, $req:ty => $answer:ty, $stream:ty, $route:literal, $model_route:literal) => {
        impl $api {
            completion_methods!(@one $req, $answer, $stream, $route $(, #[$m])*);

            #[doc = concat!("Creates a completion on the per-model route `POST ", $model_route, "`.")]
            pub async fn create_for_model(
                &self,
                model: impl fmt::Display,
                req: $req,
            ) -> Result<$answer> {
                self.request(req).for_model(model).send().await
            }

            #[doc = concat!("Streams a completion on the per-model route `POST ", $model_route, "`.")]
            pub async fn stream_for_model(
                &self,
                model: impl fmt::Display,
                req: $req,
            ) -> Result<$stream> {
                self.request(req).for_model(model).stream().await
            }
        }
    };
}

completion_methods!(
    /// The chat handle `client.chat()`: [`create`](ChatApi::create) for a whole reply,
    /// `stream` for one piece at a time, `request` for per-call options (a Routstr payment,
    /// an idle timeout) before either.
    ///
    /// ```no_run
    /// use rostro_sdk::prelude::*;
    ///
    /// # async fn run(client: Client) -> Result<()> {
    /// let request = ChatCompletionRequest::new(
    ///     "mobile",
    ///     vec![Message::system("Answer in one line."), Message::user("What is a lighthouse?")],
    /// );
    /// let reply = client.chat().create(request.clone()).await?;
    /// println!("{}", reply.content().unwrap_or_default());
    ///
    /// let mut stream = client.chat().stream(request).await?;
    /// while let Some(chunk) = stream.next().await {
    ///     print!("{}", chunk?.content().unwrap_or_default());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ChatApi,
    ChatCompletionRequest => ChatCompletion,
    ChatStream,
    "/v1/chat/completions",
    "/{model}/v1/chat/completions"
);
completion_methods!(
    CompletionsApi,
    CompletionRequest => Completion,
    CompletionStream,
    "/v1/completions",
    "/{model}/v1/completions"
);
// `/prompt` has no per-model route: `ChatCall::for_model` sets the model in the body there.
completion_methods!(PromptApi, ChatCompletionRequest => ChatCompletion, ChatStream, "/prompt");
