-- The notes app's own table, beside Portcullis's in the same database. Keyed to the account:
-- deleting the account (its page, the admin tools, `portcullis user delete`) deletes its notes
-- in the same statement (SQLite: Portcullis turns foreign keys on for every connection).
CREATE TABLE notes (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notes_by_user ON notes (user_id, created_at);
