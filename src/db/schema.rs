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
    security_events (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        session_id -> Nullable<Text>,
        ip -> Text,
        user_agent -> Text,
        created_at -> Int8,
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
    }
}

diesel::joinable!(security_events -> users (user_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(job_leases, login_throttle, security_events, sessions, users,);
