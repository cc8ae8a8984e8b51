//! `download_card` and `download_book`: hand-written methods on the generated handles, built
//! from the reference's public project endpoints (`GET /api/public/{space}/...?full=true`)
//! and the avatar URL, all through the SDK's send path.

use serde_json::Value;

use super::{CardError, CardFormat, CardSpec, CardV3, CharacterBook, book_from_lorebook};
use crate::generated::characters::CharactersApi;
use crate::generated::lorebooks::LorebooksApi;
use crate::media::Download;
use crate::{Client, Error, Result};

const OPERATION: &str = "download_card";

/// A character's card, as downloaded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DownloadedCard {
    /// The card (V3; [`CardV3::to_v2`] for V2).
    pub card: CardV3,
    /// The avatar's bytes, when the character has one.
    pub avatar: Option<Vec<u8>>,
    /// The avatar's `Content-Type`, as served.
    pub avatar_content_type: Option<String>,
    /// The public project as the API returned it.
    pub project: Value,
    /// The linked lorebooks, as the API returned them.
    pub lorebooks: Vec<Value>,
    /// Things the caller should tell the user: no avatar, an avatar that is not a PNG, a
    /// linked lorebook that could not be fetched.
    pub notes: Vec<String>,
}

impl DownloadedCard {
    /// The avatar if it is a PNG a card can be embedded in.
    pub fn png_avatar(&self) -> Option<&[u8]> {
        self.avatar
            .as_deref()
            .filter(|b| b.starts_with(b"\x89PNG\r\n\x1a\n"))
    }

    /// Whether [`encode`](Self::encode) as a PNG uses a placeholder image (no PNG avatar).
    pub fn uses_placeholder(&self, format: CardFormat) -> bool {
        format == CardFormat::Png && self.png_avatar().is_none()
    }

    /// The card file: a PNG (in the avatar, or a placeholder when there is no PNG avatar),
    /// JSON, or CharX (with the avatar as its main icon; always V3).
    pub fn encode(
        &self,
        format: CardFormat,
        spec: CardSpec,
    ) -> std::result::Result<Vec<u8>, CardError> {
        let image = match format {
            CardFormat::CharX => self.png_avatar().or(self.avatar.as_deref()),
            _ => self.png_avatar(),
        };
        super::encode_card(&self.card, format, spec, image)
    }
}

/// A lorebook, as downloaded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DownloadedBook {
    /// The lorebook as a character book.
    pub book: CharacterBook,
    /// The public project as the API returned it.
    pub project: Value,
}

fn linked_lorebook_ids(node: &Value) -> Vec<i64> {
    let def = node.get("definition");
    let list = def
        .and_then(|d| d.get("related_lorebooks"))
        .or_else(|| node.get("related_lorebooks"));
    let mut ids = Vec::new();
    if let Some(Value::Array(items)) = list {
        for item in items {
            let id = match item {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse().ok(),
                Value::Object(o) => o.get("id").and_then(Value::as_i64),
                _ => None,
            };
            if let Some(id) = id.filter(|id| *id > 0 && !ids.contains(id)) {
                ids.push(id);
            }
        }
    }
    ids
}

async fn project(client: &Client, space: &str, reference: &str) -> Result<Value> {
    let reference = reference.trim().trim_matches('/');
    let reference = reference
        .strip_prefix(&format!("{space}/"))
        .unwrap_or(reference);
    let req = if let Ok(id) = reference.parse::<i64>() {
        client
            .projects()
            .get_public_by_id(space, id)
            .full(true)
            .into_request()?
    } else {
        let Some((creator, slug)) = reference
            .split_once('/')
            .filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'))
        else {
            return Err(Error::InvalidRequest {
                operation: OPERATION,
                message: format!("expected an id or CREATOR/SLUG, got `{reference}`"),
            });
        };
        client
            .projects()
            .get_public(space, creator, slug)
            .full(true)
            .into_request()?
    };
    Ok(client.execute::<Value>(req).await?.into_inner())
}

/// Fetches `url` through the SDK's media download (same headers, retries and size checks)
/// into a temporary file, and returns its bytes.
async fn fetch_bytes(client: &Client, url: &str) -> Result<(Vec<u8>, Option<String>)> {
    let path = std::env::temp_dir().join(format!(
        ".rostro-avatar-{}.img",
        uuid::Uuid::new_v4().simple()
    ));
    let got = Download::url(client, url, &path).send().await;
    let file = match got {
        Ok(media) => media.primary,
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e);
        }
    };
    let bytes = tokio::fs::read(&file.path).await;
    let _ = tokio::fs::remove_file(&file.path).await;
    let bytes = bytes.map_err(|source| Error::Io {
        operation: OPERATION,
        path: Some(file.path.clone()),
        source,
    })?;
    Ok((bytes, file.content_type))
}

impl CharactersApi {
    /// Downloads a character (`ID` or `CREATOR/SLUG`) as a card: its public project with the
    /// full definition, its avatar, and its linked lorebooks (`related_lorebooks`) merged
    /// into `character_book`. The mapping is the table in [`crate::cards`].
    ///
    /// A linked lorebook that cannot be fetched (private, deleted) is left out and named in
    /// [`DownloadedCard::notes`]; any other failure is an error.
    pub async fn download_card(&self, character: &str) -> Result<DownloadedCard> {
        let client = &self.client;
        let project = project(client, "characters", character).await?;
        let node = project.get("node").unwrap_or(&project);
        let mut notes = Vec::new();
        let mut lorebooks = Vec::new();
        for id in linked_lorebook_ids(node) {
            match project_by_id(client, "lorebooks", id).await {
                Ok(v) => lorebooks.push(v),
                Err(Error::Api { status, .. }) if status.is_client_error() => notes.push(format!(
                    "linked lorebook {id} is not public ({status}); it is not in the card"
                )),
                Err(e) => return Err(e),
            }
        }
        let avatar_url = ["max_res_url", "avatar_url", "avatar"]
            .iter()
            .find_map(|k| node.get(*k).and_then(Value::as_str))
            .filter(|u| !u.is_empty())
            .map(str::to_owned);
        let (avatar, avatar_content_type) = match &avatar_url {
            Some(url) => {
                let (bytes, ct) = fetch_bytes(client, url).await?;
                (Some(bytes), ct)
            }
            None => {
                notes.push(
                    "the character has no avatar; a PNG card uses a placeholder image".into(),
                );
                (None, None)
            }
        };
        if let Some(bytes) = &avatar
            && !bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        {
            notes.push(format!(
                "the avatar is not a PNG ({}); a PNG card uses a placeholder image, a CharX keeps the avatar",
                avatar_content_type.as_deref().unwrap_or("unknown type")
            ));
        }
        let card = super::card_from_project(&project, &lorebooks);
        Ok(DownloadedCard {
            card,
            avatar,
            avatar_content_type,
            project,
            lorebooks,
            notes,
        })
    }
}

async fn project_by_id(client: &Client, space: &str, id: i64) -> Result<Value> {
    let req = client
        .projects()
        .get_public_by_id(space, id)
        .full(true)
        .into_request()?;
    Ok(client.execute::<Value>(req).await?.into_inner())
}

impl LorebooksApi {
    /// Downloads a lorebook (`ID` or `CREATOR/SLUG`) as a [`CharacterBook`]; see
    /// [`world_info`](super::world_info) for SillyTavern's world info JSON.
    pub async fn download_book(&self, lorebook: &str) -> Result<DownloadedBook> {
        let project = project(&self.client, "lorebooks", lorebook).await?;
        Ok(DownloadedBook {
            book: book_from_lorebook(&project),
            project,
        })
    }
}
