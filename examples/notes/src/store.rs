//! The `notes` table: each person's notes, keyed to their account (`ON DELETE CASCADE`).

use diesel::prelude::*;
use portcullis::database::DbConn;

diesel::table! {
    notes (id) {
        id -> Text,
        user_id -> Text,
        text -> Text,
        created_at -> BigInt,
    }
}

/// A note as its owner sees it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notes)]
pub struct Note {
    pub id: String,
    pub text: String,
    pub created_at: i64,
}

/// The owner's notes, newest first.
pub fn list(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<Note>> {
    notes::table
        .filter(notes::user_id.eq(user_id))
        .order((notes::created_at.desc(), notes::id.desc()))
        .select(Note::as_select())
        .load(conn)
}

/// Stores a note of `user_id`'s; returns it.
pub fn add(conn: &mut DbConn, user_id: &str, text: &str, now: i64) -> QueryResult<Note> {
    // Time first, so that ids sort in the order notes were written, even within one second.
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let id = format!("{nanos:020}-{}", uuid::Uuid::new_v4().simple());
    diesel::insert_into(notes::table)
        .values((
            notes::id.eq(&id),
            notes::user_id.eq(user_id),
            notes::text.eq(text),
            notes::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(Note { id, text: text.to_owned(), created_at: now })
}

/// What a note may hold: some text, not too much.
pub fn parse_text(raw: &str) -> Result<&str, &'static str> {
    let text = raw.trim();
    if text.is_empty() {
        Err("Write something first.")
    } else if text.chars().count() > MAX_CHARS {
        Err("A note holds at most 2,000 characters.")
    } else {
        Ok(text)
    }
}

const MAX_CHARS: usize = 2000;
