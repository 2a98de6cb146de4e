//! Roles and grants, invite tokens and their use, sessions, authentication requests and
//! approvals from text archives (their parsers live in `crate::archive`).

use rusqlite::Connection;

use super::text_archives::{Ctx, Phase};
use crate::Result;

/// `roles/role_definitions.txt` and `roles/YYYY_MM_role_assignments.txt`.
pub(crate) fn roles(_conn: &Connection, ctx: &mut Ctx<'_>) -> Result<()> {
    not_yet(ctx, Phase::Roles, super::report::entity::ROLES)
}

/// `system/invite_tokens.txt` and `system/YYYY_MM_invite_usage.txt`.
pub(crate) fn invites(_conn: &Connection, ctx: &mut Ctx<'_>) -> Result<()> {
    not_yet(ctx, Phase::Invites, super::report::entity::INVITE_TOKENS)
}

/// `sessions/YYYY_MM_sessions.txt`.
pub(crate) fn sessions(_conn: &Connection, ctx: &mut Ctx<'_>) -> Result<()> {
    not_yet(ctx, Phase::Sessions, super::report::entity::SESSIONS)
}

/// `auth/YYYY_MM_auth_requests.txt` and `auth/YYYY_MM_auth_approvals.txt`.
pub(crate) fn auth(_conn: &Connection, ctx: &mut Ctx<'_>) -> Result<()> {
    not_yet(ctx, Phase::Auth, super::report::entity::AUTH_REQUESTS)
}

fn not_yet(ctx: &mut Ctx<'_>, phase: Phase, entity: &str) -> Result<()> {
    let files: Vec<String> = ctx.files(phase).map(|f| f.relative.clone()).collect();
    for file in files {
        ctx.report.notes.push(super::report::issue(
            entity,
            &file,
            None,
            "not imported by this build (parser not available)",
        ));
    }
    Ok(())
}
