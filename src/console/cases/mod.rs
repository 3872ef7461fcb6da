//! 案件: the investigator queue (`/staff/cases`) and the case page (`/staff/cases/{id}`).
//!
//! The case page is composed of sections, each rendered by its own module from the same
//! [`CaseView`] the API serves, with its forms posting to the module's own handlers:
//!
//! - `page`: the page itself (summary, deadlines, reports, thread, notes, the actions the state
//!   machine and the user's roles allow, closing blockers, timeline), and [`page::show_case`],
//!   which every section's POST handler calls to show the page again with a refusal.
//! - `actions`: assign, disposition and filing requests, the filing decision, close, reopen,
//!   messages to reporters, internal notes.
//! - `investigations`: the primary and accountability investigations and their conclusion forms.
//! - `clawbacks`: clawbacks with their signers, recoveries, corrections and write-offs.
//! - `remediation`: the village's remediation plan and the suspension status.
//! - `identity`: identity access through the custodian workflow.
//!
//! A successful action answers 303 to the case page with `?done=<key>`; the page shows the
//! notice the section's `DONE` list gives for that key.

pub mod actions;
pub mod clawbacks;
pub mod identity;
pub mod investigations;
pub mod page;
pub mod queue;
pub mod remediation;

use actix_web::web::ServiceConfig;

use super::form::FormData;
use super::page::Refusal;
pub use crate::cases::view::CaseView;

/// The parts of the case page, for anchors (`#investigations`) and for showing a refusal in
/// the section whose form was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Summary,
    Actions,
    Reports,
    Messages,
    Notes,
    Investigations,
    Clawbacks,
    Remediation,
    Identity,
    Timeline,
}

impl Section {
    /// The section's anchor on the case page.
    pub fn anchor(self) -> &'static str {
        match self {
            Section::Summary => "summary",
            Section::Actions => "actions",
            Section::Reports => "reports",
            Section::Messages => "messages",
            Section::Notes => "notes",
            Section::Investigations => "investigations",
            Section::Clawbacks => "clawbacks",
            Section::Remediation => "remediation",
            Section::Identity => "identity",
            Section::Timeline => "timeline",
        }
    }
}

/// A refused form of the case page: the section it belongs to, the refusal, and what was
/// typed (so the form comes back filled in).
pub struct Failed {
    pub section: Section,
    pub refusal: Refusal,
    pub form: FormData,
}

impl Failed {
    /// The refusal, when it belongs to `section`.
    pub fn in_section(&self, section: Section) -> Option<&Refusal> {
        (self.section == section).then_some(&self.refusal)
    }
}

/// The notice for `?done=<key>` on the case page, from every section's list.
pub fn done_notice(key: Option<&str>) -> Option<String> {
    let key = key?;
    [
        actions::DONE,
        investigations::DONE,
        clawbacks::DONE,
        remediation::DONE,
        identity::DONE,
    ]
    .iter()
    .flat_map(|list| list.iter())
    .find(|(k, _)| *k == key)
    .map(|(_, text)| text.to_string())
}

/// The location of case `id`'s page after action `done`, at `section`.
pub fn after(id: &str, done: &str, section: Section) -> String {
    format!("/staff/cases/{id}?done={done}#{}", section.anchor())
}

/// Mounts the queue, the case page and every section's handlers.
pub fn configure(cfg: &mut ServiceConfig) {
    queue::configure(cfg);
    page::configure(cfg);
    actions::configure(cfg);
    investigations::configure(cfg);
    clawbacks::configure(cfg);
    remediation::configure(cfg);
    identity::configure(cfg);
}
