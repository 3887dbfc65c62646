#!/usr/bin/env python3
"""The service against the limits of each of its paths, side by side in one run (tests/bench/run).

Starts its own stacks (scripts/stack, in a temporary directory, free ports, the release build in
$CHATALOT_BUILD_DIR, limits high enough never to refuse the benchmark), the baselines behind the
same nginx, drives everything with wrk (load.lua) in interleaved rounds, and prints a Markdown
table of medians and ratios, also written to --out. Each section can run alone (--only).
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("CHATALOT_BUILD_DIR", os.path.join(ROOT, "build", "bench"))
LUA = os.path.join(HERE, "load.lua")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "chatalot-client-register-request.json")
PG_BIN = "/usr/lib/postgresql/15/bin"
PASSWORD = "Str0ng!Passw0rd"  # the fixture's
CONFIG_BODY = '{"registration_mode":"open","e2e_enabled":true}'

# What every stack of the benchmark runs with: open registration and budgets that the benchmark
# never exhausts (the largest values the configuration accepts).
STACK_ENV = {
    "REGISTRATION_MODE": "open",
    **{f"RATE_LIMIT_{name}_PER_SECOND": "10000" for name in
       ["INVITE", "REGISTER", "LOGIN", "LOGIN_ACCOUNT_ADDRESS", "LOGIN_ACCOUNT"]},
    "RATE_LIMIT_INVITE_NETWORK_PER_SECOND": "100000",
    **{f"RATE_LIMIT_{name}_BURST": "100000" for name in
       ["INVITE", "REGISTER", "LOGIN", "LOGIN_ACCOUNT_ADDRESS", "LOGIN_ACCOUNT"]},
    "RATE_LIMIT_INVITE_NETWORK_BURST": "1000000",
}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(argv):
    return (["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []) + argv


class Stack:
    """One scripts/stack in its own directory and port."""

    def __init__(self, workdir, name, extra_env=None):
        self.dir = os.path.join(workdir, name)
        self.port = free_port()
        self.env = dict(os.environ, CHATALOT_STACK_DIR=self.dir, CHATALOT_HTTP_PORT=str(self.port),
                        CHATALOT_BUILD_DIR=BUILD, **STACK_ENV, **(extra_env or {}))
        self.run_dir = os.path.join(self.dir, "run")

    def up(self):
        subprocess.run([os.path.join(ROOT, "scripts", "stack"), "up"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def down(self):
        subprocess.run([os.path.join(ROOT, "scripts", "stack"), "down", "--purge"], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def psql_argv(self):
        return as_postgres([f"{PG_BIN}/psql", "-h", self.run_dir, "-U", "postgres", "-X", "-q",
                            "-v", "ON_ERROR_STOP=1", "chatalot"])

    def sql(self, text):
        out = subprocess.run(self.psql_argv() + ["-tAc", text], check=True, capture_output=True,
                             text=True)
        return out.stdout.strip()

    def ctl(self, *args):
        out = subprocess.run([os.path.join(ROOT, "scripts", "stack"), "ctl", *args], env=self.env,
                             check=True, capture_output=True, text=True)
        return out.stdout

    def handler_pids(self):
        pids = {}
        for name in sorted(os.listdir(self.run_dir)):
            if name.endswith(".pid") and not name.startswith(("nginx", "redis")):
                with open(os.path.join(self.run_dir, name)) as f:
                    pids[name[:-4]] = int(f.read())
        return pids


def http_json(url, body=None, token=None):
    import urllib.request
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(url, data=body.encode() if body is not None else None,
                                     headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wrk(url, kind, seconds, connections, threads=2, **env):
    """One wrk run of load.lua: a dict of requests/s, p50/p99 (ms) and the failures."""
    argv = ["wrk", f"-t{threads}", f"-c{max(connections, threads)}", f"-d{seconds}s",
            "--timeout", "10s", "-s", LUA, url]
    run_env = dict(os.environ, BENCH_KIND=kind, **{k: str(v) for k, v in env.items()})
    out = subprocess.run(argv, env=run_env, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed on {url}: {out.stderr.strip() or out.stdout.strip()}")
    result = json.loads(lines[-1])
    result["rps"] = result["requests"] / result["seconds"]
    if result["non2xx"] or result["socket_errors"]:
        log(f"  note: {url} ({kind}): {result['non2xx']} non-2xx answers, "
            f"{result['socket_errors']} socket errors of {result['requests']}; first: {result['first_error']}")
    return result


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


class Table:
    def __init__(self):
        self.sections = []

    def section(self, title, header):
        self.sections.append((title, header, []))

    def row(self, *cells):
        self.sections[-1][2].append([str(c) for c in cells])
        log("  | " + " | ".join(str(c) for c in cells) + " |")

    def markdown(self):
        out = []
        for title, header, rows in self.sections:
            out.append(f"**{title}**\n")
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "---|" * len(header))
            out.extend("| " + " | ".join(r) + " |" for r in rows)
            out.append("")
        return "\n".join(out)


def verdict(value, target, higher_is_better=True):
    if target is None:
        return ""
    ok = value >= target if higher_is_better else value <= target
    return ("holds" if ok else "MISSED") + f" ({'≥' if higher_is_better else '≤'} {target})"


def k(rps):
    return f"{rps / 1000:.1f} k" if rps >= 1000 else f"{rps:.1f}"


class Bench:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.table = Table()
        self.stacks = []
        self.processes = []
        self.token_cursor = 1
        self.base_port = free_port()
        self.main = None

    # --- set-up ------------------------------------------------------------------------------

    def stack(self, name, extra_env=None):
        s = Stack(self.workdir, name, extra_env)
        self.stacks.append(s)
        log(f"starting stack {name} on port {s.port}")
        s.up()
        return s

    def start_main(self):
        extra = os.path.join(self.workdir, "baselines.conf")
        self.base_dir = os.path.join(self.workdir, "baselines")
        os.makedirs(self.base_dir)
        os.chmod(self.base_dir, 0o711)
        self.write_baseline_nginx(extra)
        self.main = self.stack("main", {"CHATALOT_STACK_NGINX_EXTRA": extra})
        m = self.main
        registered = http_json(m.url("/api/auth/register"), compact_fixture())
        self.owner_token = registered["access_token"]
        self.owner_id = registered["user"]["id"]
        out = m.ctl("invite", "create", "--max-uses", "1000000000")
        self.invite_code = next(w for w in out.split() if w.count("-") >= 3)
        self.start_baselines()

    def write_baseline_nginx(self, path):
        modes = ["hello", "invite-valid", "invite-invalid", "refresh", "me"]
        lines = []
        for name in ["libfcgi"] + modes:
            lines.append(f"upstream bench_{name.replace('-', '_')} {{\n"
                         f"    server unix:{self.workdir}/baselines/{name}.sock max_fails=0;\n"
                         f"    keepalive 32;\n}}")
        locations = "\n".join(
            f"        location = /{name} {{ fastcgi_pass bench_{name.replace('-', '_')}; }}"
            for name in ["libfcgi"] + modes)
        # The site's opt-in micro-cache of the mode query, uncommented (nginx/chatalot.conf).
        site = open(os.path.join(ROOT, "nginx", "chatalot.conf")).read().splitlines()
        cache_path = next(l.lstrip("#") for l in site if l.startswith("#fastcgi_cache_path"))
        cache_path = cache_path.replace("/var/cache/nginx/chatalot-config", f"{self.workdir}/config-cache")
        cache_lines = "\n".join("        " + l.strip().lstrip("#") for l in site
                                if l.strip().startswith(("#fastcgi_cache ", "#fastcgi_cache_", "#fastcgi_hide_header", "#fastcgi_ignore_headers", "#open_file_cache",
                                                         "#add_header X-Request-Id")) and "cache_path" not in l)
        lines.append(cache_path)
        # The same server-level FastCGI settings as the shipped site (nginx/chatalot.conf).
        lines.append(f"""server {{
    listen 127.0.0.1:{self.base_port};
    server_tokens off;
    client_max_body_size 64k;
    client_body_buffer_size 64k;
    include /etc/nginx/fastcgi_params;
    fastcgi_param HTTP_PROXY "";
    fastcgi_param REQUEST_ID $request_id;
    fastcgi_keep_conn on;
    location = /const {{
        default_type application/json;
        return 200 '{CONFIG_BODY}';
    }}
{locations}
    location = /cached-config {{
        fastcgi_pass chatalot_auth_config;
{cache_lines}
    }}
}}""")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start_baselines(self):
        m = self.main
        env = dict(m.env, DATABASE_URL=f"postgresql:///chatalot?host={m.run_dir}&user=chatalot",
                   REDIS_URL=f"unix://{m.run_dir}/redis.sock", BENCH_USER_ID=self.owner_id)
        tools = os.path.join(BUILD, "tests", "bench")
        self.spawn([f"{tools}/libfcgi_hello", f"{self.base_dir}/libfcgi.sock"], env)
        for mode in ["hello", "invite-valid", "invite-invalid", "refresh", "me"]:
            self.spawn([f"{tools}/bench_baseline", "--listen", f"unix:{self.base_dir}/{mode}.sock"],
                       dict(env, BENCH_BASELINE=mode))
        for name in ["libfcgi", "hello", "invite-valid", "invite-invalid", "refresh", "me"]:
            sock = f"{self.base_dir}/{name}.sock"
            for _ in range(100):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError(f"baseline {name} did not open {sock}")

    def spawn(self, argv, env):
        logfile = open(os.path.join(self.workdir, os.path.basename(argv[-1]) + ".log"), "w")
        self.processes.append(subprocess.Popen(argv, env=env, stdout=logfile, stderr=logfile,
                                               start_new_session=True))

    def base(self, path):
        return f"http://127.0.0.1:{self.base_port}{path}"

    def tokens(self, stack, user_id, count):
        """count fresh refresh tokens of user_id, numbered from the cursor: their first number."""
        first, last = self.token_cursor, self.token_cursor + count - 1
        self.token_cursor += count
        session = "('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid"
        stack.sql(f"INSERT INTO sessions (id, user_id, expires_at) SELECT {session}, '{user_id}',"
                  f" now() + interval '30 days' FROM generate_series({first}, {last}) n;"
                  f" INSERT INTO refresh_tokens (user_id, session_id, token_hash, expires_at)"
                  f" SELECT '{user_id}', {session},"
                  f" encode(sha256(convert_to(lpad(to_hex(n), 64, '0'), 'UTF8')), 'hex'),"
                  f" now() + interval '30 days' FROM generate_series({first}, {last}) n")
        return first

    def refresh_run(self, url, seconds, connections, per_thread, delay_ms=None, stack=None):
        stack = stack or self.main
        first = self.tokens(stack, self.owner_id, 2 * per_thread)
        env = {"BENCH_TOKEN_BASE": first - 1, "BENCH_TOKEN_STRIDE": per_thread}
        if delay_ms:
            env["BENCH_DELAY_MS"] = delay_ms
        return wrk(url, "refresh", seconds, connections, **env)

    # --- sections ----------------------------------------------------------------------------

    def throughput(self):
        a = self.args
        m = self.main
        subjects = {
            "config": lambda: wrk(m.url("/api/auth/config"), "get", a.seconds, 32, BENCH_PATH="/api/auth/config"),
            "nginx constant": lambda: wrk(self.base("/const"), "get", a.seconds, 32, BENCH_PATH="/const"),
            "libfcgi loop, constant": lambda: wrk(self.base("/libfcgi"), "get", a.seconds, 32, BENCH_PATH="/libfcgi"),
            "our loop, constant": lambda: wrk(self.base("/hello"), "get", a.seconds, 32, BENCH_PATH="/hello"),
            "config, micro-cached (opt-in)": lambda: wrk(self.base("/cached-config"), "get", a.seconds, 32, BENCH_PATH="/cached-config"),
            "invite check, valid": lambda: wrk(m.url("/api/auth/invites/redeem"), "invite", a.seconds, 32, BENCH_CODE=self.invite_code),
            "raw round trips, valid": lambda: wrk(self.base("/invite-valid"), "invite", a.seconds, 32, BENCH_CODE=self.invite_code),
            "invite check, invalid": lambda: wrk(m.url("/api/auth/invites/redeem"), "invite", a.seconds, 32, BENCH_CODE="NOT-A-REAL-CODE"),
            "raw round trips, invalid": lambda: wrk(self.base("/invite-invalid"), "invite", a.seconds, 32, BENCH_CODE="NOT-A-REAL-CODE"),
            "refresh": lambda: self.refresh_run(m.url("/api/auth/refresh"), a.seconds, 32, 60000),
            "raw round trips, refresh": lambda: self.refresh_run(self.base("/refresh"), a.seconds, 32, 60000),
            "account/me": lambda: wrk(m.url("/api/account/me"), "get", a.seconds, 32, BENCH_PATH="/api/account/me", BENCH_BEARER=self.owner_token),
            "raw round trips, me": lambda: wrk(self.base("/me"), "get", a.seconds, 32, BENCH_PATH="/me"),
        }
        runs = {name: [] for name in subjects}
        for round_ in range(a.rounds):
            log(f"throughput, round {round_ + 1} of {a.rounds}")
            for name, run in subjects.items():
                runs[name].append(run())
        self.table.section(
            f"Throughput against each path's baseline ({a.rounds} interleaved rounds of {a.seconds} s, "
            "32 connections, wrk 2 threads; medians)",
            ["path", "req/s", "p50", "p99", "baseline", "baseline req/s", "ratio", "target"])
        pairs = [("config", "nginx constant", None), ("config", "libfcgi loop, constant", 1.0),
                 ("config", "our loop, constant", None),
                 ("config, micro-cached (opt-in)", "nginx constant", 0.7),
                 ("invite check, valid", "raw round trips, valid", 0.8),
                 ("invite check, invalid", "raw round trips, invalid", 0.8),
                 ("refresh", "raw round trips, refresh", 0.8),
                 ("account/me", "raw round trips, me", 0.8)]
        for subject, baseline, target in pairs:
            s, b = runs[subject], runs[baseline]
            ratio = median_of(s, "rps") / median_of(b, "rps")
            self.table.row(subject, k(median_of(s, "rps")), f"{median_of(s, 'p50_ms'):.2f} ms",
                           f"{median_of(s, 'p99_ms'):.2f} ms", baseline, k(median_of(b, "rps")),
                           f"{ratio:.2f}", verdict(ratio, target))

    def argon2_bound(self, seconds):
        out = subprocess.run([os.path.join(BUILD, "tests", "bench", "argon2_rate"),
                              str(self.args.argon2_memory_kib), str(self.args.argon2_iterations),
                              str(self.args.argon2_max_concurrent), str(seconds)],
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)["hashes_per_second"]

    def hashing(self):
        a = self.args
        m = self.main
        body_file = self.body_file()
        runs = {"bound": [], "register": [], "login": []}
        for round_ in range(a.rounds):
            log(f"hashing, round {round_ + 1} of {a.rounds}")
            runs["bound"].append(self.argon2_bound(a.hash_seconds))
            runs["register"].append(wrk(m.url("/api/auth/register"), "register", a.hash_seconds, 8,
                                        BENCH_BODY_FILE=body_file, BENCH_RUN=f"h{round_}"))
            runs["login"].append(wrk(m.url("/api/auth/login"), "login", a.hash_seconds, 8,
                                     BENCH_USER="alice_test", BENCH_PASSWORD=PASSWORD))
        bound = statistics.median(runs["bound"])
        self.table.section(
            f"Password hashing against the Argon2id bound (m={a.argon2_memory_kib // 1024} MiB, "
            f"t={a.argon2_iterations}, {a.argon2_max_concurrent} at once; {a.rounds} rounds of "
            f"{a.hash_seconds} s, 8 connections)",
            ["path", "req/s", "p50", "p99", "Argon2id hashes/s, same concurrency", "ratio", "target"])
        for name in ["register", "login"]:
            rps = median_of(runs[name], "rps")
            self.table.row(name, f"{rps:.1f}", f"{median_of(runs[name], 'p50_ms'):.0f} ms",
                           f"{median_of(runs[name], 'p99_ms'):.0f} ms", f"{bound:.1f}",
                           f"{rps / bound:.2f}", verdict(rps / bound, 0.9))

    def latency_under_hashing(self):
        a = self.args
        m = self.main
        body_file = self.body_file()
        steady = {"connections": 4, "delay_ms": 2}
        probes = {
            "config": lambda secs: wrk(m.url("/api/auth/config"), "get", secs, steady["connections"],
                                       BENCH_PATH="/api/auth/config", BENCH_DELAY_MS=steady["delay_ms"]),
            "refresh": lambda secs: self.refresh_run(m.url("/api/auth/refresh"), secs,
                                                     steady["connections"], 20000, steady["delay_ms"]),
        }
        runs = {(name, state): [] for name in probes for state in ["idle", "spinning", "loaded"]}
        for round_ in range(a.rounds):
            log(f"latency under registration load, round {round_ + 1} of {a.rounds}")
            for name, probe in probes.items():
                runs[(name, "idle")].append(probe(a.seconds))
                # The floor this machine allows: a busy loop per core in the idle CPU class (what
                # the hash threads are), none of our work. Any busy core slows wakeups here.
                spinners = [subprocess.Popen(["chrt", "--idle", "0", "sh", "-c", "while :; do :; done"])
                            for _ in range(os.cpu_count())]
                try:
                    runs[(name, "spinning")].append(probe(a.seconds))
                finally:
                    for p in spinners:
                        p.kill()
                        p.wait()
                load = threading.Thread(target=wrk, args=(m.url("/api/auth/register"), "register",
                                                          a.seconds + 3, 8),
                                        kwargs={"BENCH_BODY_FILE": body_file,
                                                "BENCH_RUN": f"l{round_}{name[0]}"})
                load.start()
                time.sleep(1.5)
                runs[(name, "loaded")].append(probe(a.seconds))
                load.join()
        self.table.section(
            f"Latency of cheap paths while registration saturates the hashing ({steady['connections']} "
            f"connections, {steady['delay_ms']} ms between requests; {a.rounds} rounds of {a.seconds} s)",
            ["path", "p50 / p99 idle", "p50 / p99 beside idle-class busy loops", "p50 / p99 loaded",
             "p99 loaded / idle", "target", "p99 loaded / busy loops"])
        for name in probes:
            idle, spin, loaded = (runs[(name, s)] for s in ["idle", "spinning", "loaded"])
            ratio = median_of(loaded, "p99_ms") / median_of(idle, "p99_ms")
            pair = lambda r: f"{median_of(r, 'p50_ms'):.2f} / {median_of(r, 'p99_ms'):.2f} ms"
            self.table.row(name, pair(idle), pair(spin), pair(loaded), f"{ratio:.2f}",
                           verdict(ratio, 1.5, higher_is_better=False),
                           f"{median_of(loaded, 'p99_ms') / median_of(spin, 'p99_ms'):.2f}")

    def memory(self):
        a = self.args
        hashing = {"register", "login", "recover", "account"}
        argon2_mib = a.argon2_memory_kib / 1024 * a.argon2_max_concurrent
        self.table.section(
            "Peak resident memory of each handler process (VmHWM) after the loads above",
            ["handler", "peak resident", "Argon2id memory allowed", "beyond it", "target"])
        for name, pid in self.main.handler_pids().items():
            hwm = 0
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = int(line.split()[1]) / 1024
            # A hashing handler may hold its hashes' memory; one that never hashed in this run
            # (recover, account) is held to the same 16 MiB as the others.
            allowed = argon2_mib if name in hashing and hwm > argon2_mib else 0
            beyond = hwm - allowed
            self.table.row(f"chatalot-{name}", f"{hwm:.1f} MiB", f"{allowed:.0f} MiB",
                           f"{beyond:.1f} MiB", verdict(beyond, 16, higher_is_better=False))

    def million(self):
        a = self.args
        big = self.stack("million")
        registered = http_json(big.url("/api/auth/register"), compact_fixture())
        owner = registered["access_token"]
        log(f"loading {a.accounts} accounts with COPY")
        started = time.time()
        subprocess.run([sys.executable, os.path.join(HERE, "load_accounts.py"), str(a.accounts)],
                       env=dict(os.environ, BENCH_PSQL=shlex.join(big.psql_argv())), check=True)
        load_seconds = time.time() - started
        body_file = self.body_file()
        runs = {(name, size): [] for name in ["register", "login"] for size in ["empty", "million"]}
        for round_ in range(a.rounds):
            log(f"registration and login at {a.accounts} accounts, round {round_ + 1} of {a.rounds}")
            for size, stack in [("empty", self.main), ("million", big)]:
                runs[("register", size)].append(wrk(stack.url("/api/auth/register"), "register",
                                                    a.hash_seconds, 8, BENCH_BODY_FILE=body_file,
                                                    BENCH_RUN=f"m{round_}{size[0]}"))
                runs[("login", size)].append(wrk(stack.url("/api/auth/login"), "login", a.hash_seconds,
                                                 8, BENCH_USER="alice_test", BENCH_PASSWORD=PASSWORD))
        self.table.section(
            f"At {a.accounts:,} accounts (loaded with COPY in {load_seconds:.0f} s) against an empty "
            f"database ({a.rounds} interleaved rounds of {a.hash_seconds} s, 8 connections)",
            ["path", "req/s empty", "req/s full", "empty / full", "target"])
        for name in ["register", "login"]:
            empty, full = median_of(runs[(name, "empty")], "rps"), median_of(runs[(name, "million")], "rps")
            self.table.row(name, f"{empty:.1f}", f"{full:.1f}", f"{empty / full:.2f}",
                           verdict(empty / full, 1.1, higher_is_better=False))
        searches = [("every account, newest first", ""), ("offset 10000", "", 10000),
                    ("a rare term", "u0424242"), ("a common term", "anna"), ("one character", "e"),
                    ("an e-mail domain", "mail.example"), ("a rare e-mail domain", "uni.example"),
                    ("a literal % and _", "%_x"), ("two letters few accounts have", "qz")]
        self.table.section(
            f"Admin users search at {a.accounts:,} accounts (GET /api/admin/users, limit 50; "
            f"1 connection, {a.seconds} s each)",
            ["search", "p50", "p99", "target"])
        import urllib.parse
        for entry in searches:
            label, term = entry[0], entry[1]
            offset = entry[2] if len(entry) > 2 else 0
            path = f"/api/admin/users?search={urllib.parse.quote(term)}&limit=50&offset={offset}"
            r = wrk(big.url(path), "get", a.seconds, 1, threads=1, BENCH_PATH=path, BENCH_BEARER=owner)
            self.table.row(f"{label} (`{term}`)" if term else label, f"{r['p50_ms']:.1f} ms",
                           f"{r['p99_ms']:.1f} ms", verdict(r["p99_ms"], 50, higher_is_better=False))
        big.down()

    def scale(self):
        a = self.args
        pooled = {
            "one pool": self.stack("pool1", {"CHATALOT_STACK_POOLER": "pgbouncer"}),
            "two pools": self.stack("pool2", {"CHATALOT_STACK_POOLER": "pgbouncer", "CHATALOT_STACK_POOLS": "2"}),
        }
        tokens = {name: http_json(s.url("/api/auth/register"), compact_fixture())["access_token"]
                  for name, s in pooled.items()}
        runs = {name: [] for name in pooled}
        connections = {}
        for round_ in range(a.rounds):
            log(f"pools through pgbouncer, round {round_ + 1} of {a.rounds}")
            for name, s in pooled.items():
                sample = {}
                probe = threading.Timer(a.seconds / 2, lambda s=s, sample=sample: sample.update(
                    n=int(s.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'chatalot'"
                                " AND usename = 'chatalot'"))))
                probe.start()
                runs[name].append(wrk(s.url("/api/account/me"), "get", a.seconds, 64,
                                      BENCH_PATH="/api/account/me", BENCH_BEARER=tokens[name]))
                probe.join()
                connections[name] = max(connections.get(name, 0), sample.get("n", 0))
        threads = 16 * 11
        self.table.section(
            f"Worker pools through pgbouncer (transaction pooling, default_pool_size 20): GET "
            f"/api/account/me, 64 connections, {a.rounds} interleaved rounds of {a.seconds} s",
            ["stack", "req/s", "p99", "ratio to one pool", "PostgreSQL connections at load",
             "handler threads (each a client of pgbouncer)"])
        one = median_of(runs["one pool"], "rps")
        for n, (name, s) in enumerate(pooled.items(), start=1):
            rps = median_of(runs[name], "rps")
            self.table.row(name, k(rps), f"{median_of(runs[name], 'p99_ms'):.2f} ms",
                           f"{rps / one:.2f}", connections[name], threads * n)
        for s in pooled.values():
            s.down()

    def body_file(self):
        path = os.path.join(self.workdir, "register.json")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(compact_fixture())
        return path

    def cleanup(self):
        for p in self.processes:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        for s in self.stacks:
            s.down()


def compact_fixture():
    with open(FIXTURE) as f:
        return json.dumps(json.load(f), separators=(",", ":"))


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // (1024 * 1024)
    def version(argv):
        try:
            out = subprocess.run(argv, capture_output=True, text=True)
            return (out.stdout + out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return (f"{os.cpu_count()} × {cpu}, {mem} GiB, {platform.system()} {platform.release()}; "
            f"{version(['nginx', '-v'])}, {version([PG_BIN + '/postgres', '--version'])}, "
            f"{version(['redis-server', '--version']).split(' sha=')[0]}, "
            f"{version(['wrk', '--version']).split(' [')[0]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sections = ["throughput", "hashing", "latency", "memory", "million", "scale"]
    parser.add_argument("--only", choices=sections, action="append",
                        help="run this section only (repeatable); memory follows the others")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="length of a throughput run")
    parser.add_argument("--hash-seconds", type=int, default=10, help="length of a hashing run")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--out", default=os.path.join(BUILD, "bench-results.md"))
    args = parser.parse_args()
    args.argon2_memory_kib, args.argon2_iterations, args.argon2_max_concurrent = 65536, 3, 2
    chosen = args.only or sections

    workdir = tempfile.mkdtemp(prefix="chatalot-bench.", dir="/tmp")
    os.chmod(workdir, 0o711)
    bench = Bench(args, workdir)
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        bench.start_main()
        for name, run in [("throughput", bench.throughput), ("hashing", bench.hashing),
                          ("latency", bench.latency_under_hashing), ("memory", bench.memory),
                          ("million", bench.million), ("scale", bench.scale)]:
            if name in chosen:
                run()
    finally:
        bench.cleanup()
        subprocess.run(["rm", "-rf", workdir])
    head = (f"Run {started:%Y-%m-%d %H:%M} UTC on {machine()}; wrk on the same cores. "
            f"Release build; nginx as shipped (nginx/chatalot.conf), 2 workers.\n")
    report = head + "\n" + bench.table.markdown()
    print(report)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report)
    log(f"written to {args.out}")


if __name__ == "__main__":
    main()
