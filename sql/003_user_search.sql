-- 003: the admin's user search (any part of the username, display name or e-mail, ignoring case)
-- through trigram indexes, so that it does not read every account.
-- Applied by `chatalotctl migrate` in one transaction together with its schema_version row.

-- Building the indexes takes about 15 s at a million accounts, longer than the role's
-- statement_timeout; registrations wait for it (CREATE INDEX CONCURRENTLY cannot run in a
-- transaction).
SET LOCAL statement_timeout = 0;

-- Debian's postgresql-15 ships it; it is trusted, so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The expressions of the statement search_users (common/store/statements.cc): lower(column) LIKE
-- lower(pattern). The same trigrams as on the plain columns (pg_trgm folds case), but LIKE on a
-- lowered column costs less per row than ILIKE, which lowers both sides on every row.
CREATE INDEX users_username_trgm_idx ON users USING gin (lower(username) gin_trgm_ops);
CREATE INDEX users_display_name_trgm_idx ON users USING gin (lower(display_name) gin_trgm_ops);
CREATE INDEX users_email_trgm_idx ON users USING gin (lower(email) gin_trgm_ops);

-- An e-mail term is often a domain that many accounts share. Its trigrams include those that
-- every address has (".com"), so the index lookup reads whole posting lists (~40 ms at a million
-- accounts), while walking the newest accounts finds a page of a 1 % domain in ~5 ms. The
-- planner takes that walk when it sees the domain is common, which the default histogram of 100
-- values misses for a domain of 1 % about one time in three. Usernames and display names keep
-- the default: a term it cannot see goes to the index, whose cost is bounded by the matches,
-- where a walk from the newest accounts reads nearly all of them when the matches are old.
ALTER INDEX users_email_trgm_idx ALTER COLUMN 1 SET STATISTICS 1000;

-- The planner estimates how many accounts a term matches from the statistics of these
-- expressions; without them it would walk every account for a rare term until autovacuum
-- analyzes the table.
ANALYZE users;
