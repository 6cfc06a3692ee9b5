//! Recent workspaces, remembered in `<state dir>/recent.json` (newest first, at most
//! [`MAX_RECENT`]).

use std::path::Path;

use serde::{Deserialize, Serialize};

/// How many workspaces are remembered.
pub const MAX_RECENT: usize = 8;

/// A workspace the worker opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RecentWorkspace {
    /// A local folder.
    Local {
        /// Its path.
        path: String,
    },
    /// An S3 workspace.
    S3 {
        /// `s3://bucket/prefix`.
        uri: String,
        /// AWS profile, if not the default chain.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        profile: Option<String>,
        /// Endpoint URL, if not AWS.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
    },
}

impl RecentWorkspace {
    /// How the workspace is shown (and told apart).
    pub fn label(&self) -> String {
        match self {
            Self::Local { path } => path.clone(),
            Self::S3 { uri, profile, endpoint } => {
                let mut s = uri.clone();
                if let Some(p) = profile {
                    s.push_str(&format!(" (profile {p})"));
                }
                if let Some(e) = endpoint {
                    s.push_str(&format!(" at {e}"));
                }
                s
            }
        }
    }
}

/// The remembered list (empty when missing or unreadable).
pub fn read(path: &Path) -> Vec<RecentWorkspace> {
    std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

/// Puts `workspace` first in the list at `path` (atomically replaced).
pub fn remember(path: &Path, workspace: RecentWorkspace) -> std::io::Result<()> {
    let mut list = read(path);
    list.retain(|w| w != &workspace);
    list.insert(0, workspace);
    list.truncate(MAX_RECENT);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(&list).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn newest_first_without_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recent.json");
        let a = RecentWorkspace::Local { path: "/a".into() };
        let b = RecentWorkspace::S3 {
            uri: "s3://b/p".into(),
            profile: Some("dev".into()),
            endpoint: None,
        };
        remember(&path, a.clone()).unwrap();
        remember(&path, b.clone()).unwrap();
        remember(&path, a.clone()).unwrap();
        assert_eq!(read(&path), vec![a, b.clone()]);
        assert_eq!(b.label(), "s3://b/p (profile dev)");
    }
}
