//! Who may do what: the one place that maps roles to permissions, following SPEC.md →
//! "Roles and permissions". Handlers ask for a permission, never for a role.

use super::roles::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Users, teams, API keys, reference data, routing rules.
    Administer,
    /// Triage reports; log phone, letter and visit reports.
    TriageReports,
    /// See and work cases (investigators: their own team's), notes, messages.
    WorkCases,
    /// Read cases without changing them.
    ReadCases,
    /// File or close a case, approve identity access, verify remediation, lift a suspension.
    Supervise,
    RecordClawbacks,
    RecordRecoveries,
    /// Read clawbacks, their ledgers, signers' responsibility and the county summary.
    ReadClawbacks,
    ReadBenefitStatus,
    /// Read and verify the audit log.
    ReadAudit,
}

use Permission::*;

pub fn permissions_of(role: Role) -> &'static [Permission] {
    match role {
        Role::Admin => &[Administer, ReadBenefitStatus, ReadAudit],
        Role::Intake => &[TriageReports, ReadBenefitStatus],
        Role::Investigator => &[
            WorkCases,
            ReadCases,
            RecordClawbacks,
            RecordRecoveries,
            ReadClawbacks,
            ReadBenefitStatus,
        ],
        Role::Supervisor => &[
            TriageReports,
            WorkCases,
            ReadCases,
            Supervise,
            RecordClawbacks,
            RecordRecoveries,
            ReadClawbacks,
            ReadBenefitStatus,
            ReadAudit,
        ],
        Role::Benefits => &[RecordRecoveries, ReadClawbacks, ReadBenefitStatus],
        Role::Auditor => &[ReadCases, ReadClawbacks, ReadBenefitStatus, ReadAudit],
    }
}

pub fn allows(roles: &[Role], permission: Permission) -> bool {
    roles
        .iter()
        .any(|r| permissions_of(*r).contains(&permission))
}

/// Scopes a service API key may carry, and the permission each grants.
pub const SERVICE_SCOPES: [(&str, Permission); 2] = [
    ("benefit-status:read", ReadBenefitStatus),
    ("recoveries:write", RecordRecoveries),
];

pub fn scope_permission(scope: &str) -> Option<Permission> {
    SERVICE_SCOPES
        .iter()
        .find(|(name, _)| *name == scope)
        .map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(role: Role, allowed: &[Permission]) {
        let all = [
            Administer,
            TriageReports,
            WorkCases,
            ReadCases,
            Supervise,
            RecordClawbacks,
            RecordRecoveries,
            ReadClawbacks,
            ReadBenefitStatus,
            ReadAudit,
        ];
        for p in all {
            assert_eq!(allows(&[role], p), allowed.contains(&p), "{role} and {p:?}");
        }
    }

    // One test per row of SPEC.md's table, read across the columns.
    #[test]
    fn admin_manages_reads_benefit_status_and_audit() {
        check(Role::Admin, &[Administer, ReadBenefitStatus, ReadAudit]);
    }

    #[test]
    fn intake_triages_and_reads_benefit_status() {
        check(Role::Intake, &[TriageReports, ReadBenefitStatus]);
    }

    #[test]
    fn investigator_works_cases_and_records_money() {
        check(
            Role::Investigator,
            &[
                WorkCases,
                ReadCases,
                RecordClawbacks,
                RecordRecoveries,
                ReadClawbacks,
                ReadBenefitStatus,
            ],
        );
    }

    #[test]
    fn supervisor_does_all_case_work_and_reads_audit() {
        check(
            Role::Supervisor,
            &[
                TriageReports,
                WorkCases,
                ReadCases,
                Supervise,
                RecordClawbacks,
                RecordRecoveries,
                ReadClawbacks,
                ReadBenefitStatus,
                ReadAudit,
            ],
        );
    }

    #[test]
    fn benefits_officer_records_recoveries_and_reads_status() {
        check(
            Role::Benefits,
            &[RecordRecoveries, ReadClawbacks, ReadBenefitStatus],
        );
    }

    #[test]
    fn auditor_reads_cases_status_and_audit() {
        check(
            Role::Auditor,
            &[ReadCases, ReadClawbacks, ReadBenefitStatus, ReadAudit],
        );
    }

    #[test]
    fn service_scopes_grant_only_their_permission() {
        assert_eq!(
            scope_permission("benefit-status:read"),
            Some(ReadBenefitStatus)
        );
        assert_eq!(scope_permission("recoveries:write"), Some(RecordRecoveries));
        assert_eq!(scope_permission("admin"), None);
    }
}
