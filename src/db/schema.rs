// One schema for both backends: portable column types only.

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        password_hash -> Text,
        active -> Bool,
        token_version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        totp_secret -> Nullable<Binary>,
        totp_enabled -> Bool,
        totp_last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        occurred_at -> Timestamp,
        actor -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_chain_head (id) {
        id -> Integer,
        last_seq -> BigInt,
        last_hash -> Text,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Nullable<Integer>,
        run_at -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        period -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    teams (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    team_members (team_id, user_id) {
        team_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    staff_sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        console_token_hash -> Nullable<Text>,
        last_seen_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    divisions (code) {
        code -> Text,
        name -> Text,
        level -> Text,
        parent_code -> Nullable<Text>,
        demo -> Bool,
    }
}

diesel::table! {
    officials (id) {
        id -> Text,
        name -> Text,
        post -> Text,
        level -> Text,
        division_code -> Text,
        active -> Bool,
        created_at -> Timestamp,
        email -> Nullable<Text>,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        number -> Text,
        channel -> Text,
        programme -> Text,
        misconduct -> Text,
        township_code -> Text,
        village_code -> Text,
        accused -> Text,
        description -> Text,
        occurred_from -> Nullable<Date>,
        occurred_to -> Nullable<Date>,
        anonymous -> Bool,
        reporter_name -> Nullable<Binary>,
        reporter_id_number -> Nullable<Binary>,
        reporter_phone -> Nullable<Binary>,
        reporter_email -> Nullable<Binary>,
        reporter_address -> Nullable<Binary>,
        receipt_hash -> Text,
        status -> Text,
        submitted_at -> Timestamp,
        triage_due -> Date,
        acknowledge_by -> Nullable<Date>,
        logged_by -> Nullable<Text>,
        case_id -> Nullable<Text>,
        triage_action -> Nullable<Text>,
        triage_to_body -> Nullable<Text>,
        triage_reason -> Nullable<Text>,
        triaged_at -> Nullable<Timestamp>,
        triaged_by -> Nullable<Text>,
        acknowledged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        number -> Text,
        status -> Text,
        version -> Integer,
        programme -> Text,
        township_code -> Text,
        village_code -> Text,
        subject_level -> Text,
        accused_official_ids -> Text,
        team_id -> Text,
        assignee_id -> Nullable<Text>,
        disposition -> Nullable<Text>,
        disposition_reason -> Nullable<Text>,
        review_on -> Nullable<Date>,
        verification_due -> Nullable<Date>,
        filing_decided_by -> Nullable<Text>,
        filing_decided_at -> Nullable<Timestamp>,
        filing_decision_reason -> Nullable<Text>,
        triage_due -> Date,
        acknowledge_by -> Nullable<Date>,
        feedback_due -> Nullable<Date>,
        due_on -> Date,
        received_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        investigation_due -> Nullable<Date>,
        closed_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        close_reason -> Nullable<Text>,
        clawback_due -> Nullable<Date>,
    }
}

diesel::table! {
    report_messages (id) {
        id -> Text,
        report_id -> Text,
        author_kind -> Text,
        author_id -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
        kind -> Text,
        case_id -> Nullable<Text>,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        report_id -> Text,
        storage_name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        uploaded_by -> Text,
        created_at -> Timestamp,
        metadata_removed -> Text,
    }
}

diesel::table! {
    idempotency_keys (scope, idem_key) {
        scope -> Text,
        idem_key -> Text,
        request_hash -> Text,
        response -> Binary,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    routing_rules (id) {
        id -> Text,
        programme -> Nullable<Text>,
        township_code -> Nullable<Text>,
        subject_level -> Nullable<Text>,
        team_id -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    conflict_declarations (id) {
        id -> Text,
        user_id -> Text,
        division_code -> Text,
        reason -> Text,
        declared_at -> Timestamp,
        withdrawn_at -> Nullable<Timestamp>,
        withdrawn_reason -> Nullable<Text>,
    }
}

diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(team_members -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(staff_sessions -> users (user_id));
diesel::joinable!(officials -> divisions (division_code));
diesel::joinable!(report_messages -> reports (report_id));
diesel::joinable!(attachments -> reports (report_id));
diesel::table! {
    case_notes (id) {
        id -> Text,
        case_id -> Text,
        author_id -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(reports -> cases (case_id));
diesel::joinable!(case_notes -> cases (case_id));
diesel::joinable!(routing_rules -> teams (team_id));
diesel::joinable!(conflict_declarations -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    user_roles,
    audit_events,
    audit_chain_head,
    jobs,
    teams,
    team_members,
    refresh_tokens,
    staff_sessions,
    api_keys,
    divisions,
    officials,
    counters,
    reports,
    report_messages,
    attachments,
    idempotency_keys,
    cases,
    case_notes,
    routing_rules,
    conflict_declarations,
    investigations,
    investigation_officials,
    investigation_conclusions,
    sanctions,
    false_accusations,
    suspensions,
    suspension_cases,
    suspension_events,
    clawback_statements,
    remediation_items,
    remediation_events,
    remediation_files,
    suspension_periods,
    webhook_subscribers,
);

// The custodian workflow (migration 000009, `src/custodian/`).
diesel::table! {
    identity_requests (id) {
        id -> Text,
        case_id -> Text,
        requester_id -> Text,
        reason -> Text,
        status -> Text,
        decided_by -> Nullable<Text>,
        decision_reason -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    identity_disclosures (id) {
        id -> Text,
        request_id -> Text,
        report_id -> Text,
        case_id -> Text,
        to_user_id -> Text,
        at -> Timestamp,
    }
}

// The case lifecycle (migration 000011, `src/cases/lifecycle.rs`, `investigations.rs`,
// `closing.rs`, `src/suspensions/`).
diesel::table! {
    investigations (id) {
        id -> Text,
        case_id -> Text,
        kind -> Text,
        target_level -> Text,
        target_division_code -> Text,
        assignee_id -> Nullable<Text>,
        assignment_note -> Nullable<Text>,
        due_on -> Date,
        status -> Text,
        outcome -> Nullable<Text>,
        findings -> Nullable<Text>,
        concluded_by -> Nullable<Text>,
        concluded_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    investigation_officials (investigation_id, official_id) {
        investigation_id -> Text,
        official_id -> Text,
        position -> Integer,
    }
}

diesel::table! {
    investigation_conclusions (id) {
        id -> Text,
        investigation_id -> Text,
        outcome -> Text,
        findings -> Text,
        concluded_by -> Text,
        concluded_at -> Timestamp,
        reopened_by -> Nullable<Text>,
        reopened_at -> Nullable<Timestamp>,
        reopen_reason -> Nullable<Text>,
    }
}

diesel::table! {
    sanctions (id) {
        id -> Text,
        investigation_id -> Text,
        conclusion_id -> Text,
        official_id -> Text,
        category -> Text,
        sanction_type -> Text,
        decided_on -> Date,
        document_number -> Text,
        position -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    false_accusations (id) {
        id -> Text,
        case_id -> Text,
        investigation_id -> Text,
        conclusion_id -> Text,
        reason -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    suspensions (id) {
        id -> Text,
        village_code -> Text,
        started_at -> Timestamp,
        lifted_at -> Nullable<Timestamp>,
        lifted_by -> Nullable<Text>,
    }
}

diesel::table! {
    suspension_cases (suspension_id, case_id) {
        suspension_id -> Text,
        case_id -> Text,
        joined_at -> Timestamp,
    }
}

diesel::table! {
    suspension_events (id) {
        id -> Text,
        suspension_id -> Text,
        event -> Text,
        case_id -> Nullable<Text>,
        actor -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    clawback_statements (id) {
        id -> Text,
        case_id -> Text,
        no_improper_payment -> Bool,
        reason -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    remediation_items (id) {
        id -> Text,
        case_id -> Text,
        description -> Text,
        responsible_unit -> Text,
        due_on -> Date,
        status -> Text,
        evidence -> Nullable<Text>,
        submitted_by -> Nullable<Text>,
        submitted_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        rejection_reason -> Nullable<Text>,
        version -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(investigations -> cases (case_id));
diesel::joinable!(investigation_officials -> investigations (investigation_id));
diesel::joinable!(investigation_officials -> officials (official_id));
diesel::joinable!(investigation_conclusions -> investigations (investigation_id));
diesel::joinable!(sanctions -> investigation_conclusions (conclusion_id));
diesel::joinable!(sanctions -> officials (official_id));
diesel::joinable!(suspension_cases -> suspensions (suspension_id));
diesel::joinable!(suspension_cases -> cases (case_id));
diesel::joinable!(suspension_events -> suspensions (suspension_id));
diesel::joinable!(clawback_statements -> cases (case_id));
diesel::joinable!(remediation_items -> cases (case_id));
// Objections of reporters to the result fed back to them (migration 000012, `src/objections/`).
diesel::table! {
    objections (id) {
        id -> Text,
        case_id -> Text,
        report_id -> Text,
        feedback_message_id -> Text,
        body -> Text,
        due_on -> Date,
        status -> Text,
        outcome -> Nullable<Text>,
        created_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(objections -> cases (case_id));
diesel::joinable!(objections -> reports (report_id));
diesel::allow_tables_to_appear_in_same_query!(objections, cases);
diesel::allow_tables_to_appear_in_same_query!(objections, reports);
// Signer-based clawback (migration 000014, `src/clawbacks/`).
diesel::table! {
    clawbacks (id) {
        id -> Text,
        case_id -> Text,
        programme -> Text,
        township_code -> Text,
        village_code -> Text,
        beneficiary_name -> Binary,
        beneficiary_id_number -> Binary,
        beneficiary_id_masked -> Text,
        grant_period_from -> Date,
        grant_period_to -> Date,
        amount_due_fen -> BigInt,
        due_on -> Date,
        written_off_fen -> BigInt,
        write_off_reason -> Nullable<Text>,
        written_off_by -> Nullable<Text>,
        written_off_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    clawback_signers (id) {
        id -> Text,
        clawback_id -> Text,
        official_id -> Text,
        stage -> Text,
        signed_on -> Date,
        position -> Integer,
    }
}

diesel::table! {
    clawback_amendments (id) {
        id -> Text,
        clawback_id -> Text,
        position -> Integer,
        reason -> Text,
        changes -> Text,
        amended_by -> Text,
        amended_at -> Timestamp,
    }
}

diesel::table! {
    recoveries (id) {
        id -> Text,
        clawback_id -> Text,
        amount_fen -> BigInt,
        paid_on -> Date,
        payer_kind -> Text,
        payer_official_id -> Nullable<Text>,
        reference -> Text,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(clawbacks -> cases (case_id));
diesel::joinable!(clawback_signers -> clawbacks (clawback_id));
diesel::joinable!(clawback_signers -> officials (official_id));
diesel::joinable!(clawback_amendments -> clawbacks (clawback_id));
diesel::joinable!(recoveries -> clawbacks (clawback_id));
diesel::allow_tables_to_appear_in_same_query!(
    clawbacks,
    clawback_signers,
    clawback_amendments,
    recoveries,
);
diesel::allow_tables_to_appear_in_same_query!(clawbacks, cases);
diesel::allow_tables_to_appear_in_same_query!(clawbacks, divisions);
diesel::allow_tables_to_appear_in_same_query!(clawbacks, officials);
diesel::allow_tables_to_appear_in_same_query!(clawback_signers, officials);
diesel::allow_tables_to_appear_in_same_query!(clawback_signers, cases);
diesel::allow_tables_to_appear_in_same_query!(clawback_signers, divisions);
// The queue's counts per status (migration 000013, `cases::view`): kept by triggers on `cases`
// in the transaction of every write; `assignee_id` is '' for unassigned cases.
diesel::table! {
    case_counts (team_id, assignee_id, status) {
        team_id -> Text,
        assignee_id -> Text,
        status -> Text,
        n -> BigInt,
    }
}

// Benefit suspension until remediation (migration 000015, `src/remediation/`,
// `src/suspensions/`).
diesel::table! {
    remediation_events (id) {
        id -> Text,
        item_id -> Text,
        position -> Integer,
        event -> Text,
        evidence -> Nullable<Text>,
        reason -> Nullable<Text>,
        actor_id -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    remediation_files (id) {
        id -> Text,
        item_id -> Text,
        event_id -> Text,
        storage_name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        metadata_removed -> Text,
        uploaded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    suspension_periods (suspension_id) {
        suspension_id -> Text,
        village_code -> Text,
        started_at -> Timestamp,
        lifted_at -> Nullable<Timestamp>,
        cases -> Text,
    }
}

diesel::table! {
    webhook_subscribers (id) {
        id -> Text,
        api_key_id -> Text,
        url -> Text,
        secret_sealed -> Binary,
        active -> Bool,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(remediation_events -> remediation_items (item_id));
diesel::joinable!(remediation_files -> remediation_items (item_id));
diesel::joinable!(webhook_subscribers -> api_keys (api_key_id));
