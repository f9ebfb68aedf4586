-- Who did it, for events one person causes to another's account (an administrator's action).
ALTER TABLE security_events ADD COLUMN detail TEXT;
