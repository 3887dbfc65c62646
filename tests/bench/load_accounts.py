#!/usr/bin/env python3
"""Loads N accounts into a Chatalot database with COPY, for the benchmarks at scale.

    BENCH_PSQL="runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -h DIR -U postgres \
        chatalot" tests/bench/load_accounts.py 1000000

Each account is what a registration leaves, without one-time prekeys: a users row, its identity
key and signed prekey, and one live session with its refresh token. The rows are generated while
they stream into one psql (one transaction, a COPY per table), then the tables are vacuumed and
analyzed. Existing rows (the owner, admins) are left alone; a second run adds N more accounts.
About 2 minutes for a million on a 2-core machine shared with other work.

What searches find (tests/bench/bench.py's terms): usernames are `<words>_u<7 digits>`, the number
unique (`u0424242` finds one account); the first name is `anna` in 10 % of accounts, in the
display name (two words), mostly in the username and always in the e-mail; e-mails are at a few
`.example` domains (`mail.example` 30 %, `uni.example` 1 %, found in no other column);
created_at spreads over the last two years, rising with the number. Every account's password is
the registration fixture's, `Str0ng!Passw0rd` (one Argon2id hash made by the service).
"""
import datetime
import os
import shlex
import subprocess
import sys
import time

# Made by the service (libsodium, m=64 MiB, t=3, p=1) for the fixture's password.
PASSWORD_HASH = ("$argon2id$v=19$m=65536,t=3,p=1$35qPtUkpQ8lkqvu9DXCpIw$"
                 "CTiEDVSTdlGqlG9G7jGj77wnaboJlQSwzrA827GSHWo")

# First names and e-mail domains by share of accounts (anna: the common term, no other name
# contains it); last names evenly.
FIRST_NAMES = [("anna", 100), ("maria", 70), ("james", 60), ("li", 50), ("mohammed", 50),
               ("sofia", 40), ("lucas", 40), ("emma", 35), ("noah", 35), ("olga", 30),
               ("ivan", 30), ("yuki", 25), ("chen", 25), ("fatima", 25), ("david", 25),
               ("elena", 20), ("omar", 20), ("sara", 20), ("lukas", 20), ("mia", 20),
               ("pedro", 15), ("ines", 15), ("kofi", 15), ("amara", 15), ("jonas", 15),
               ("nina", 15), ("tomas", 15), ("leila", 15), ("ravi", 15), ("priya", 15),
               ("hugo", 10), ("lena", 10), ("oskar", 10), ("zoe", 10), ("felix", 10),
               ("ada", 10), ("erik", 10), ("nora", 10), ("paul", 10), ("rosa", 10),
               ("sven", 10), ("tara", 10), ("uma", 10), ("vera", 10), ("wim", 10)]
LAST_NAMES = ["smith", "garcia", "mueller", "rossi", "kowalski", "nguyen", "kim", "silva",
              "ivanova", "tanaka", "okafor", "haddad", "jensen", "novak", "dubois", "costa",
              "schmidt", "wang", "singh", "lopez", "berg", "moreau", "yilmaz", "park", "fischer",
              "romero", "popescu", "horvat", "larsen", "mendes", "weber", "sato", "khan",
              "ortiz", "meyer", "ali", "kuznetsov", "baker", "olsen", "fernandes"]
DOMAINS = [("mail.example", 30), ("inbox.example", 25), ("post.example", 20),
           ("web.example", 15), ("corp.example", 9), ("uni.example", 1)]
DEVICES = ["Chrome on Linux", "Safari on iOS", "Firefox on Windows", "Chrome on Android",
           "Safari on macOS"]  # as the service names a User-Agent

TWO_YEARS = 2 * 365 * 86400
SESSION_DAYS = 30
ROWS_PER_WRITE = 5000


def weighted(pairs):
    """A list in which each value appears its weight's times: indexing it draws by share."""
    return [value for value, weight in pairs for _ in range(weight)]


FIRSTS = weighted(FIRST_NAMES)
DOMAIN_DRAW = weighted(DOMAINS)


def scramble(i, salt):
    """A bijection on 48-bit integers: ids that look random but are unique and recomputable."""
    return ((i ^ salt) * 0x9E3779B97F4B) & 0xFFFFFFFFFFFF


def uuid_of(prefix, i, salt):
    return f"{prefix}{scramble(i, salt):012x}"


class Accounts:
    """The values every table needs, each a pure function of the account's number, so that each
    table's COPY recomputes them instead of the loader holding a million accounts in memory."""

    def __init__(self, first, n, now):
        self.first, self.n, self.now = first, n, now
        salt = int.from_bytes(os.urandom(6), "big")
        run = os.urandom(8).hex()
        self.user_prefix = f"{run[:8]}-{run[8:12]}-4{run[12:15]}-8{run[15]}00-"
        self.session_prefix = f"{run[:8]}-{run[8:12]}-4{run[12:15]}-9{run[15]}00-"
        self.salt = salt
        self.start = now - TWO_YEARS

    def user_id(self, i):
        return uuid_of(self.user_prefix, i, self.salt)

    def session_id(self, i):
        return uuid_of(self.session_prefix, i, self.salt)

    def created(self, i):
        """Seconds since the epoch, rising with i, spread over the last two years."""
        k = i - self.first
        jitter = (k * 0.6180339887) % 1.0
        return self.start + (k + jitter) * TWO_YEARS / self.n

    def last_used(self, i):
        """The session's last refresh: within the last 29 days, after the account was made."""
        created = self.created(i)
        ago = (i * 7919 % 2_505_600) + 60
        return max(created, self.now - ago)


def ts(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat()


def hex_bytes(n):
    return "\\\\x" + os.urandom(n).hex()  # bytea in hex, its backslash escaped for COPY


def users(a):
    for i in range(a.first, a.first + a.n):
        draw = os.urandom(7)  # two bytes a draw from a list: the modulo's bias stays below 2 %
        first = FIRSTS[int.from_bytes(draw[0:2], "big") % len(FIRSTS)]
        last = LAST_NAMES[int.from_bytes(draw[2:4], "big") % len(LAST_NAMES)]
        style = draw[4] % 8
        if style < 3:
            handle = first
        elif style < 5:
            handle = f"{first}.{last}"
        elif style == 5:
            handle = f"{first}-{last}"
        elif style == 6:
            handle = f"{first[0]}{last}"
        else:
            handle = f"{first.capitalize()}{last.capitalize()}"
        domain = DOMAIN_DRAW[int.from_bytes(draw[5:7], "big") % len(DOMAIN_DRAW)]
        yield (f"{a.user_id(i)}\t{handle}_u{i:07d}\t{first}.{last}{i}@{domain}\t{PASSWORD_HASH}\t"
               f"{first.capitalize()} {last.capitalize()}\t{os.urandom(32).hex()}\t"
               f"{ts(a.created(i))}\n")


def identity_keys(a):
    for i in range(a.first, a.first + a.n):
        yield f"{a.user_id(i)}\t{hex_bytes(32)}\t{ts(a.created(i))}\n"


def signed_prekeys(a):
    for i in range(a.first, a.first + a.n):
        yield f"{a.user_id(i)}\t1\t{hex_bytes(32)}\t{hex_bytes(64)}\t{ts(a.created(i))}\n"


def sessions(a):
    for i in range(a.first, a.first + a.n):
        used = a.last_used(i)
        yield (f"{a.session_id(i)}\t{a.user_id(i)}\t{DEVICES[i % len(DEVICES)]}\t"
               f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\t{ts(a.created(i))}\t{ts(used)}\t"
               f"{ts(used + SESSION_DAYS * 86400)}\n")


def refresh_tokens(a):
    for i in range(a.first, a.first + a.n):
        used = a.last_used(i)
        yield (f"{a.user_id(i)}\t{a.session_id(i)}\t{os.urandom(32).hex()}\t"
               f"{ts(used + SESSION_DAYS * 86400)}\t{ts(used)}\n")


TABLES = [
    ("users (id, username, email, password_hash, display_name, recovery_code_hash, created_at)",
     users),
    ("identity_keys (user_id, public_key, created_at)", identity_keys),
    ("signed_prekeys (user_id, key_id, public_key, signature, created_at)", signed_prekeys),
    ("sessions (id, user_id, device_name, ip_address, created_at, last_used_at, expires_at)",
     sessions),
    ("refresh_tokens (user_id, session_id, token_hash, expires_at, created_at)", refresh_tokens),
]


def psql_argv():
    command = os.environ.get("BENCH_PSQL")
    if not command:
        sys.exit("load_accounts.py: set BENCH_PSQL to the psql command line of the database")
    return shlex.split(command) + ["-X", "-q", "-v", "ON_ERROR_STOP=1"]


def query(argv, sql):
    out = subprocess.run(argv + ["-tA", "-F", "\t", "-c", sql], check=True, capture_output=True,
                         text=True)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def first_number_and_count(argv):
    """One past the highest account number already loaded (a second run adds to it), and how
    many accounts there are."""
    [[first, count]] = query(argv, "SELECT coalesce(max(substring(username from"
                                   " '_u([0-9]{7,})$')::bigint) + 1, 0), count(*) FROM users")
    return int(first), int(count)


def secondary_indexes(argv):
    """The indexes of the loaded tables that no constraint owns (the search's trigram indexes,
    created_at, ...), each as its name and the statements that make it again: CREATE INDEX, and
    ALTER INDEX for a column's statistics target (003_user_search sets one)."""
    tables = ",".join(table.split()[0] for table, _ in TABLES)
    return query(argv, "SELECT i.indexrelid::regclass, pg_get_indexdef(i.indexrelid) || ';'"
                       " || coalesce(string_agg(format(' ALTER INDEX %s ALTER COLUMN %s SET"
                       " STATISTICS %s;', i.indexrelid::regclass, a.attnum, a.attstattarget),"
                       " '') FILTER (WHERE a.attnum IS NOT NULL), '') FROM pg_index i"
                       " LEFT JOIN pg_attribute a ON a.attrelid ="
                       " i.indexrelid AND a.attstattarget >= 0"
                       f" WHERE i.indrelid = ANY ('{{{tables}}}'::regclass[]) AND NOT EXISTS"
                       " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
                       " GROUP BY i.indexrelid")


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 1:
        sys.exit("usage: load_accounts.py N   (BENCH_PSQL: the psql command line)")
    n = int(sys.argv[1])
    argv = psql_argv()
    started = time.monotonic()
    first, count = first_number_and_count(argv)
    a = Accounts(first, n, time.time() - 60)
    # When the load at least doubles the tables, their indexes that no constraint owns are
    # dropped and built again after the COPYs, in the same transaction: one sorted build instead
    # of a million insertions at random places in each. The tables stay locked until the commit.
    rebuilt = secondary_indexes(argv) if n >= count else []
    psql = subprocess.Popen(argv, stdin=subprocess.PIPE)
    out = psql.stdin
    try:
        out.write(b"SET statement_timeout = 0;\nBEGIN;\n")  # a role's (chatalot: 5 s) would end it
        if rebuilt:
            out.write(f"DROP INDEX {', '.join(name for name, _ in rebuilt)};\n".encode())
        for table, rows in TABLES:
            out.write(f"COPY {table} FROM STDIN;\n".encode())
            chunk = []
            for row in rows(a):
                chunk.append(row)
                if len(chunk) == ROWS_PER_WRITE:
                    out.write("".join(chunk).encode())
                    chunk.clear()
            out.write("".join(chunk).encode() + b"\\.\n")
        out.write("".join(f"{statements}\n" for _, statements in rebuilt).encode())
        out.write(b"COMMIT;\n")
    except BrokenPipeError:
        pass  # psql stopped at an error: its message and exit status say which
    finally:
        try:
            out.close()
        except BrokenPipeError:
            pass
    if psql.wait() != 0:
        sys.exit(f"load_accounts.py: psql failed (exit {psql.returncode}); nothing was loaded")
    loaded = time.monotonic()
    # The visibility map and hint bits set, and fresh statistics, as autovacuum would leave them
    # a while after such a load (and not in the middle of a measurement).
    subprocess.run(argv + ["-c", "SET statement_timeout = 0", "-c", "VACUUM (ANALYZE) users,"
                                 " identity_keys, signed_prekeys, sessions, refresh_tokens"],
                   check=True)
    done = time.monotonic()
    print(f"loaded {n} accounts (numbers {a.first}..{a.first + n - 1}) in {loaded - started:.1f} s"
          f" ({n / (loaded - started):.0f}/s), VACUUM ANALYZE {done - loaded:.1f} s,"
          f" total {done - started:.1f} s")


if __name__ == "__main__":
    main()
