//! Where each of the API's operations lives in the CLI. The `match` below has no wildcard
//! arm: a new operation in the spec adds an `OperationId` variant and this file stops
//! compiling until the operation is placed (in a command, or as reachable only through
//! `rostro api call`).

use rostro_sdk::OperationId;

/// Where an operation is exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A dedicated command (also reachable through `rostro api call`).
    Cli(&'static str),
    /// Only through `rostro api call OPERATION_ID` and `rostro api METHOD PATH`.
    ApiOnly,
}

impl Placement {
    /// The command, or `api call`.
    pub fn label(self) -> &'static str {
        match self {
            Placement::Cli(c) => c,
            Placement::ApiOnly => "api call",
        }
    }
}

/// The placement of every operation.
pub fn placement(op: OperationId) -> Placement {
    use Placement::{ApiOnly, Cli};
    match op {
        OperationId::AccountGet => Cli("account show"),
        OperationId::AccountDelete => ApiOnly,
        OperationId::AccountBlock => ApiOnly,
        OperationId::AccountUnblock => ApiOnly,
        OperationId::AccountBlacklistWord => ApiOnly,
        OperationId::AccountUnblacklistWord => ApiOnly,
        OperationId::AccountSetSort => ApiOnly,
        OperationId::AccountMe => ApiOnly,
        OperationId::AccountUserinfo => ApiOnly,
        OperationId::AccountChangeUsername => ApiOnly,
        OperationId::AccountCheckUsername => ApiOnly,
        OperationId::AudioMusic => ApiOnly,
        OperationId::AudioSpeech => ApiOnly,
        OperationId::AudioSoundEffect => ApiOnly,
        OperationId::AudioTranscribe => Cli("stt"),
        OperationId::BadgesList => ApiOnly,
        OperationId::BadgesGet => ApiOnly,
        OperationId::CharactersListExpressions => Cli("characters expressions"),
        OperationId::CharactersUpsertExpressions => ApiOnly,
        OperationId::CharactersDeleteExpressions => ApiOnly,
        OperationId::CharactersCreate => Cli("characters create"),
        OperationId::CharactersUnlinkLorebook => ApiOnly,
        OperationId::CharactersLinkLorebook => ApiOnly,
        OperationId::CharactersUpdate => Cli("characters update"),
        OperationId::CharactersInferEmotion => ApiOnly,
        OperationId::ChatCreateForModelUntyped => ApiOnly,
        OperationId::ChatCreateUntyped => Cli("chat"),
        OperationId::ChatsCreate => ApiOnly,
        OperationId::ChatsList => Cli("chats list"),
        OperationId::ChatsImportChat => ApiOnly,
        OperationId::ChatsGetMessage => ApiOnly,
        OperationId::ChatsListPublic => ApiOnly,
        OperationId::ChatsDelete => ApiOnly,
        OperationId::ChatsUpdate => ApiOnly,
        OperationId::ChatsDeleteMany => ApiOnly,
        OperationId::ChatsMessageTexts => ApiOnly,
        OperationId::ChatsRemoveCharacter => ApiOnly,
        OperationId::ChatsAddCharacter => ApiOnly,
        OperationId::ChatsAddCharacters => ApiOnly,
        OperationId::ChatsRemoveCharacters => ApiOnly,
        OperationId::ChatsInviteUser => ApiOnly,
        OperationId::ChatsRemoveUser => ApiOnly,
        OperationId::ChatsMetaTree => ApiOnly,
        OperationId::ChatsGet => Cli("chats show|export"),
        OperationId::ChatsModifyMessages => ApiOnly,
        OperationId::ChatsCreateOrLatest => ApiOnly,
        OperationId::ChatsGetUser => ApiOnly,
        OperationId::CompletionsCreateForModelUntyped => ApiOnly,
        OperationId::CompletionsCreateUntyped => ApiOnly,
        OperationId::ConfigUpsertPart => ApiOnly,
        OperationId::ConfigDeletePart => ApiOnly,
        OperationId::ConfigUpsert => ApiOnly,
        OperationId::ConfigDelete => ApiOnly,
        OperationId::ConfigFetch => ApiOnly,
        OperationId::EngineAppsCreate => ApiOnly,
        OperationId::EngineAppsList => ApiOnly,
        OperationId::EngineAppsDelete => ApiOnly,
        OperationId::EngineAppsGet => ApiOnly,
        OperationId::EngineAppsDownload => ApiOnly,
        OperationId::EngineAssetsList => Cli("assets list"),
        OperationId::EngineAssetsCreate => Cli("assets upload"),
        OperationId::EngineAssetsDeleteMany => ApiOnly,
        OperationId::EngineAssetsGet => Cli("assets get"),
        OperationId::EngineAssetsUpdate => ApiOnly,
        OperationId::EngineAssetsGetFile => ApiOnly,
        OperationId::EngineAssetsGetThumbnail => ApiOnly,
        OperationId::EngineAssetsReimport => ApiOnly,
        OperationId::EngineAssetsDuplicate => ApiOnly,
        OperationId::EngineAssetsPaste => ApiOnly,
        OperationId::EngineCheckpointsCreate => ApiOnly,
        OperationId::EngineCheckpointsGet => ApiOnly,
        OperationId::EngineCheckpointsRestore => ApiOnly,
        OperationId::EngineCheckpointsHardReset => ApiOnly,
        OperationId::EngineEditorHomeBranch => ApiOnly,
        OperationId::EngineEditorFile => ApiOnly,
        OperationId::EngineEditorSceneOpened => ApiOnly,
        OperationId::EngineEditorSceneEvent => ApiOnly,
        OperationId::EngineEditorSceneTip => ApiOnly,
        OperationId::EngineEditorScene => ApiOnly,
        OperationId::EngineEntitiesList => ApiOnly,
        OperationId::EngineEntitiesCreate => ApiOnly,
        OperationId::EngineEntitiesGet => ApiOnly,
        OperationId::EngineEntitiesUpdate => ApiOnly,
        OperationId::EngineEntitiesDelete => ApiOnly,
        OperationId::EngineProjectsCreate => ApiOnly,
        OperationId::EngineProjectsUpdate => ApiOnly,
        OperationId::EngineProjectsGet => ApiOnly,
        OperationId::EngineProjectsDelete => ApiOnly,
        OperationId::EngineProjectsImportProject => ApiOnly,
        OperationId::EngineProjectsExport => ApiOnly,
        OperationId::EngineProjectsUnlock => ApiOnly,
        OperationId::EngineProjectsTransfer => ApiOnly,
        OperationId::EngineProjectsAcceptTransfer => ApiOnly,
        OperationId::EngineProjectsDeclineTransfer => ApiOnly,
        OperationId::EngineProjectsActivity => ApiOnly,
        OperationId::EngineProjectsListCollaborators => ApiOnly,
        OperationId::EngineProjectsAddCollaborator => ApiOnly,
        OperationId::EngineProjectsUpdateCollaborator => ApiOnly,
        OperationId::EngineProjectsRemoveCollaborator => ApiOnly,
        OperationId::EngineProjectsSetImage => ApiOnly,
        OperationId::EngineProjectsListAssets => ApiOnly,
        OperationId::EngineProjectsListScenes => ApiOnly,
        OperationId::EngineProjectsListBranches => ApiOnly,
        OperationId::EngineProjectsListApps => ApiOnly,
        OperationId::EngineProjectsListRepositories => ApiOnly,
        OperationId::EngineProjectsListSourceFiles => ApiOnly,
        OperationId::EngineProjectsGetSourceFile => ApiOnly,
        OperationId::EngineProjectsDeleteSourceFile => ApiOnly,
        OperationId::EngineScenesCreate => ApiOnly,
        OperationId::EngineScenesDelete => ApiOnly,
        OperationId::EngineScenesGet => ApiOnly,
        OperationId::EngineUploadStart => Cli("assets upload"),
        OperationId::EngineUploadSignedUrls => Cli("assets upload"),
        OperationId::EngineUploadComplete => Cli("assets upload"),
        OperationId::EngineWatchCreate => ApiOnly,
        OperationId::EngineWatchDelete => ApiOnly,
        OperationId::ExtensionsFetch => ApiOnly,
        OperationId::ExtensionsFetchMany => ApiOnly,
        OperationId::ExtensionsSemanticContext => ApiOnly,
        OperationId::ExtensionsCreate => ApiOnly,
        OperationId::ExtensionsUpload => ApiOnly,
        OperationId::FavoritesRemove => Cli("characters favorite --remove"),
        OperationId::FavoritesAdd => Cli("characters favorite"),
        OperationId::FavoritesList => ApiOnly,
        OperationId::FollowsFollowing => Cli("follow list"),
        OperationId::FollowsFollowers => Cli("follow followers"),
        OperationId::FollowsTimeline => ApiOnly,
        OperationId::FollowsUnfollowTag => Cli("follow tag --remove"),
        OperationId::FollowsFollowTag => Cli("follow tag"),
        OperationId::FollowsUnfollowUser => Cli("follow user --remove"),
        OperationId::FollowsFollowUser => Cli("follow user"),
        OperationId::GalleryList => Cli("gallery list"),
        OperationId::GalleryListForProject => Cli("gallery list --project"),
        OperationId::GalleryUpload => Cli("gallery upload"),
        OperationId::GalleryDelete => Cli("gallery delete"),
        OperationId::ImagesCosts => ApiOnly,
        OperationId::ImagesMine => ApiOnly,
        OperationId::ImagesInpaint => ApiOnly,
        OperationId::ImagesRemoveBackground => ApiOnly,
        OperationId::ImagesTextToImage => ApiOnly,
        OperationId::ImagesImageToImage => ApiOnly,
        OperationId::ImagesAnimate => ApiOnly,
        OperationId::ImagesUpscale => Cli("imagine upscale"),
        OperationId::ImagesExpressions => ApiOnly,
        OperationId::ImagineGetProject => ApiOnly,
        OperationId::ImagineUpdateProject => ApiOnly,
        OperationId::ImagineCreate => {
            Cli("imagine image|video|speech|music|sfx|model3d|edit|animate")
        }
        OperationId::ImagineHistory => Cli("imagine history"),
        OperationId::ImagineDelete => ApiOnly,
        OperationId::ImagineCheck => Cli("imagine wait"),
        OperationId::LiveInvite => ApiOnly,
        OperationId::LiveUpdatePermissions => ApiOnly,
        OperationId::LiveToken => ApiOnly,
        OperationId::LiveVoice => ApiOnly,
        OperationId::LiveEndVoice => ApiOnly,
        OperationId::LogsListComments => ApiOnly,
        OperationId::LogsSearch => ApiOnly,
        OperationId::LogsComment => ApiOnly,
        OperationId::LogsDeleteComment => ApiOnly,
        OperationId::LogsReact => ApiOnly,
        OperationId::LogsUnreact => ApiOnly,
        OperationId::LoreListItems => Cli("lore list"),
        OperationId::LoreQuery => Cli("lore query"),
        OperationId::LoreAddItem => Cli("lore add"),
        OperationId::LoreRemoveItem => Cli("lore remove"),
        OperationId::LorebooksCreate => ApiOnly,
        OperationId::LorebooksUpdate => ApiOnly,
        OperationId::MediaUploadVideo => ApiOnly,
        OperationId::ModelsListForModel => ApiOnly,
        OperationId::ModelsList => Cli("models"),
        OperationId::Models3dCreate => ApiOnly,
        OperationId::NotificationsList => ApiOnly,
        OperationId::NotificationsDismissAll => ApiOnly,
        OperationId::NotificationsDismiss => ApiOnly,
        OperationId::NotificationsDismissAnnouncement => ApiOnly,
        OperationId::PersonasList => Cli("personas list"),
        OperationId::PersonasCreate => Cli("personas create"),
        OperationId::PersonasUpdate => Cli("personas update"),
        OperationId::PersonasDelete => Cli("personas delete"),
        OperationId::PresetsSetActive => ApiOnly,
        OperationId::PresetsActive => ApiOnly,
        OperationId::PresetsCreate => ApiOnly,
        OperationId::ProjectsGetPublic => Cli("characters get CREATOR/SLUG"),
        OperationId::ProjectsGetPublicById => Cli("characters get"),
        OperationId::ProjectsSimilar => ApiOnly,
        OperationId::ProjectsUpdateMetadata => ApiOnly,
        OperationId::ProjectsDelete => Cli("characters delete"),
        OperationId::ProjectsForks => ApiOnly,
        OperationId::ProjectsFork => Cli("characters fork"),
        OperationId::ProjectsDeleteByPath => ApiOnly,
        OperationId::PromptCreateUntyped => ApiOnly,
        OperationId::RatingsList => ApiOnly,
        OperationId::RatingsDisable => ApiOnly,
        OperationId::RatingsEnable => ApiOnly,
        OperationId::RatingsRate => ApiOnly,
        OperationId::ReportsProject => ApiOnly,
        OperationId::ReportsRating => ApiOnly,
        OperationId::SearchList => Cli("search"),
        OperationId::SearchListPost => ApiOnly,
        OperationId::SearchNames => ApiOnly,
        OperationId::StagesFetchStorage => ApiOnly,
        OperationId::StagesUpdateStorage => ApiOnly,
        OperationId::TagsList => ApiOnly,
        OperationId::TagsAdd => ApiOnly,
        OperationId::TagsRemove => ApiOnly,
        OperationId::TagsSuggest => ApiOnly,
        OperationId::TagsRequestMerge => ApiOnly,
        OperationId::TasksCheck => Cli("imagine wait --timed"),
        OperationId::TokensList => Cli("account tokens"),
        OperationId::TokensCreateInference => ApiOnly,
        OperationId::TokensCreateProjects => ApiOnly,
        OperationId::TokensRevoke => ApiOnly,
        OperationId::UsersGet => ApiOnly,
        OperationId::UsersLeaderboard => ApiOnly,
        OperationId::UsersAtproto => ApiOnly,
        OperationId::VideoCreate => ApiOnly,
        OperationId::VoicesList => Cli("voices list"),
        OperationId::VoicesDelete => Cli("voices delete"),
        OperationId::VoicesCloneVoice => Cli("voices clone"),
    }
}

/// Finds an operation by spec id (`search_projects`), by `group.method` (`search.list`) or
/// by the variant name (`SearchList`), case-insensitively for the last two.
pub fn find(name: &str) -> Option<OperationId> {
    if let Some(op) = OperationId::from_spec_id(name) {
        return Some(op);
    }
    let lower = name.to_ascii_lowercase().replace('-', "_");
    OperationId::ALL.iter().copied().find(|op| {
        let (g, m) = op.group_and_method();
        format!("{g}.{m}") == lower || format!("{op:?}").to_ascii_lowercase() == lower
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_placed_and_findable() {
        assert_eq!(OperationId::ALL.len(), 219);
        let mut cli = 0;
        for op in OperationId::ALL {
            if matches!(placement(*op), Placement::Cli(_)) {
                cli += 1;
            }
            assert_eq!(find(op.operation().id), Some(*op));
            let (g, m) = op.group_and_method();
            assert_eq!(find(&format!("{g}.{m}")), Some(*op));
        }
        assert!(cli >= 40, "{cli} operations have a command");
        assert_eq!(find("SearchList"), Some(OperationId::SearchList));
        assert_eq!(find("nope"), None);
    }
}
