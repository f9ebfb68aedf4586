// @generated automatically by Diesel CLI.

diesel::table! {
    job_leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> Int8,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Int8,
        last_failure_at -> Int8,
        locked_until -> Int8,
    }
}

diesel::table! {
    mfa_challenges (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        flow -> Text,
        remember -> Bool,
        known_device -> Bool,
        created_at -> Int8,
        expires_at -> Int8,
        failures -> Int8,
        used_at -> Nullable<Int8>,
        credential_version -> Int8,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        skip_consent -> Bool,
        id_token_alg -> Text,
        created_at -> Int8,
        updated_at -> Int8,
    }
}

diesel::table! {
    oauth_codes (code_hash) {
        code_hash -> Text,
        grant_id -> Text,
        redirect_uri -> Text,
        scope -> Text,
        code_challenge -> Nullable<Text>,
        nonce -> Nullable<Text>,
        auth_time -> Int8,
        amr -> Text,
        session_id -> Text,
        created_at -> Int8,
        expires_at -> Int8,
        used_at -> Nullable<Int8>,
        token_id -> Nullable<Text>,
    }
}

diesel::table! {
    oauth_grants (id) {
        id -> Text,
        user_id -> Text,
        client_id -> Text,
        scope -> Text,
        credential_version -> Int8,
        created_at -> Int8,
        last_used_at -> Int8,
        revoked_at -> Nullable<Int8>,
    }
}

diesel::table! {
    oauth_tokens (id) {
        id -> Text,
        grant_id -> Text,
        scope -> Text,
        auth_time -> Int8,
        amr -> Text,
        refresh_jti_hash -> Nullable<Text>,
        previous_jti_hash -> Nullable<Text>,
        rotated_at -> Nullable<Int8>,
        created_at -> Int8,
        last_used_at -> Int8,
        expires_at -> Int8,
        revoked_at -> Nullable<Int8>,
    }
}

diesel::table! {
    one_time_tokens (token_hash) {
        token_hash -> Text,
        purpose -> Text,
        user_id -> Text,
        email -> Text,
        created_at -> Int8,
        expires_at -> Int8,
        used_at -> Nullable<Int8>,
        credential_version -> Int8,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        recipient -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        created_at -> Int8,
        attempts -> Int8,
        next_attempt_at -> Int8,
        claimed_until -> Int8,
        sent_at -> Nullable<Int8>,
        failed_at -> Nullable<Int8>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Text,
        user_id -> Text,
        credential_id -> Text,
        user_handle -> Text,
        name -> Text,
        passkey -> Text,
        created_at -> Int8,
        last_used_at -> Nullable<Int8>,
    }
}

diesel::table! {
    recovery_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        created_at -> Int8,
        used_at -> Nullable<Int8>,
    }
}

diesel::table! {
    security_events (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        session_id -> Nullable<Text>,
        ip -> Text,
        user_agent -> Text,
        created_at -> Int8,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        refresh_jti_hash -> Text,
        previous_jti_hash -> Nullable<Text>,
        rotated_at -> Nullable<Int8>,
        remember -> Bool,
        created_at -> Int8,
        last_used_at -> Int8,
        idle_expires_at -> Int8,
        absolute_expires_at -> Int8,
        revoked_at -> Nullable<Int8>,
        user_agent -> Text,
        ip -> Text,
        amr -> Text,
    }
}

diesel::table! {
    totp_factors (user_id) {
        user_id -> Text,
        secret_sealed -> Text,
        created_at -> Int8,
        confirmed_at -> Nullable<Int8>,
        last_step -> Int8,
        credential_version -> Int8,
        checked_session -> Nullable<Text>,
    }
}

diesel::table! {
    upstream_providers (name) {
        name -> Text,
        kind -> Text,
        issuer -> Text,
        api_url -> Nullable<Text>,
        client_id -> Text,
        secret_sealed -> Text,
        created_at -> Int8,
        updated_at -> Int8,
    }
}

diesel::table! {
    upstream_links (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> Text,
        provider -> Text,
        email -> Text,
        created_at -> Int8,
        last_used_at -> Int8,
    }
}

diesel::table! {
    upstream_logins (state_hash) {
        state_hash -> Text,
        provider -> Text,
        browser_hash -> Text,
        nonce -> Text,
        code_verifier -> Text,
        next -> Text,
        user_id -> Nullable<Text>,
        credential_version -> Nullable<Int8>,
        created_at -> Int8,
        expires_at -> Int8,
        used_at -> Nullable<Int8>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        disabled -> Bool,
        created_at -> Int8,
        updated_at -> Int8,
        email_verified -> Bool,
        credential_version -> Int8,
    }
}

diesel::table! {
    webauthn_ceremonies (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        state -> Text,
        expires_at -> Int8,
        credential_version -> Nullable<Int8>,
    }
}

diesel::joinable!(mfa_challenges -> users (user_id));
diesel::joinable!(oauth_codes -> oauth_grants (grant_id));
diesel::joinable!(oauth_grants -> oauth_clients (client_id));
diesel::joinable!(oauth_grants -> users (user_id));
diesel::joinable!(oauth_tokens -> oauth_grants (grant_id));
diesel::joinable!(one_time_tokens -> users (user_id));
diesel::joinable!(passkeys -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(security_events -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(totp_factors -> users (user_id));
diesel::joinable!(upstream_links -> users (user_id));
diesel::joinable!(upstream_logins -> users (user_id));
diesel::joinable!(webauthn_ceremonies -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    job_leases,
    login_throttle,
    mfa_challenges,
    oauth_clients,
    oauth_codes,
    oauth_grants,
    oauth_tokens,
    one_time_tokens,
    outbox,
    passkeys,
    recovery_codes,
    security_events,
    sessions,
    totp_factors,
    upstream_links,
    upstream_logins,
    upstream_providers,
    users,
    webauthn_ceremonies,
);
