//! Fault injection: the next N requests (optionally only those to one route)
//! get an error status, a delay or a dropped connection.

use std::time::Duration;

/// What happens to a request that a [`FaultRule`] catches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `429 Too Many Requests` with `Retry-After` (whole seconds, rounded up),
    /// `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0` and `X-RateLimit-Reset`
    /// (Unix seconds) headers and a UserError body.
    RateLimited {
        /// Value announced in `Retry-After`.
        retry_after: Duration,
    },
    /// An error status. `502` gets an HTML body (like a proxy in front of the
    /// API), other 5xx an APIError JSON body, 4xx a UserError JSON body.
    Status(u16),
    /// Waits this long, then serves the request normally.
    Delay(Duration),
    /// Closes the connection without sending a response.
    Drop,
    /// Serves the response headers (with the full `content-length`) and half
    /// of the body, then closes the connection.
    DropMidBody,
}

impl Fault {
    /// Shorthand for [`Fault::RateLimited`] with `Retry-After: secs`.
    pub fn rate_limited(secs: u64) -> Fault {
        Fault::RateLimited {
            retry_after: Duration::from_secs(secs),
        }
    }

    /// A short label used in [`crate::ReceivedRequest::fault`].
    pub fn label(&self) -> String {
        match self {
            Fault::RateLimited { .. } => "429".into(),
            Fault::Status(s) => s.to_string(),
            Fault::Delay(d) => format!("delay:{}ms", d.as_millis()),
            Fault::Drop => "drop".into(),
            Fault::DropMidBody => "drop-mid-body".into(),
        }
    }
}

/// A fault applied to the next `times` matching requests.
///
/// ```
/// use rostro_mock::{Fault, FaultRule};
/// // The next two chat requests get 503, then requests succeed again.
/// let rule = FaultRule::new(Fault::Status(503)).times(2).on("POST", "/v1/chat/completions");
/// # let _ = rule;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub(crate) fault: Fault,
    pub(crate) remaining: usize,
    pub(crate) method: Option<String>,
    pub(crate) route: Option<String>,
}

impl FaultRule {
    /// A rule catching the next single request to any route.
    pub fn new(fault: Fault) -> FaultRule {
        FaultRule {
            fault,
            remaining: 1,
            method: None,
            route: None,
        }
    }

    /// Catch the next `n` matching requests instead of one.
    pub fn times(mut self, n: usize) -> FaultRule {
        self.remaining = n;
        self
    }

    /// Only catch requests with this method to this route. `route` is either a
    /// path template of the document (`/imagine/project/{uuid}`) or a literal
    /// path (`/imagine/project/abc`).
    pub fn on(mut self, method: &str, route: &str) -> FaultRule {
        self.method = Some(method.to_ascii_uppercase());
        self.route = Some(route.to_string());
        self
    }

    /// Only catch requests to this route (template or literal path), any method.
    pub fn on_path(mut self, route: &str) -> FaultRule {
        self.route = Some(route.to_string());
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str, template: Option<&str>) -> bool {
        if self.remaining == 0 {
            return false;
        }
        if let Some(m) = &self.method
            && m != method
        {
            return false;
        }
        match &self.route {
            None => true,
            Some(r) => {
                r == path
                    || template.is_some_and(|t| {
                        t == r
                            || crate::spec::normalize_template(t)
                                == crate::spec::normalize_template(r)
                    })
            }
        }
    }
}
