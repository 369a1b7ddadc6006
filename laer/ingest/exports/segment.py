"""Segment messages into the contract's usage tables (landing.md v2), in SQL: event files
are the large ones (tens of millions of messages), so DuckDB reads and maps them.

* ``track`` → ``usage.events``: ``event_id`` = ``messageId``, ``event_name`` = ``event``,
  ``feature`` = ``properties.feature``, ``occurred_at`` = ``timestamp``, the account =
  ``context.groupId``, else the user's latest ``group`` call (in this file, else loaded
  before). A track without a ``userId`` (anonymous) or without any group is skipped and
  counted in a warning: it belongs to no account.
* ``identify`` and ``group`` → ``usage.users``: one version per user and file, with the
  account of the latest group call and the e-mail and role of the latest identify
  (``traits``), each kept from the user's version loaded before when the file lacks it.
* ``page``, ``screen`` and ``alias`` calls are counted in a warning and not loaded.
"""

from __future__ import annotations

import duckdb

from laer.contract import entity
from laer.ingest.exports.objects import Bad, Rows
from laer.ingest.files import LandingFile
from laer.ingest.rules import DUCKDB, latest_versions_sql

_lit = DUCKDB.lit
TYPES = ("track", "identify", "group")


def _ts(expr: str) -> str:
    return f"timezone('UTC', try_cast({expr} as timestamptz))"


# what the adapter reads of a message: column -> JSON path (one parse per message)
PATHS = {
    "type": "$.type", "message_id": "$.messageId", "user_id": "$.userId", "event": "$.event",
    "context_group": "$.context.groupId", "group_id": "$.groupId", "feature": "$.properties.feature",
    "properties": "$.properties", "email": "$.traits.email", "role": "$.traits.role",
    "traits_created": "$.traits.createdAt", "ts": "$.timestamp", "received": "$.receivedAt",
}
TIMESTAMPS = ("traits_created", "ts", "received")
EVENT_COLUMNS = ("event_id", "user_id", "account_id", "event_name", "feature", "occurred_at", "received_at", "properties")
USER_COLUMNS = ("user_id", "account_id", "email", "role", "created_at", "updated_at", "is_deleted")
CHECKS = (  # (where a message is bad, its JSON path, why), in the order they are reported
    ("not is_object", "$", "expected a JSON object"),
    ("type is null", "$.type", "missing"),
    ("ts_text is null and type in ('track', 'identify', 'group')", "$.timestamp", "missing"),
    ("ts_text is not null and ts is null", "$.timestamp", "not an ISO-8601 timestamp"),
    ("received_text is not null and received is null", "$.receivedAt", "not an ISO-8601 timestamp"),
    ("type = 'track' and message_id is null", "$.messageId", "missing"),
    ("type = 'track' and event is null", "$.event", "missing"),
    ("type = 'group' and group_id is null", "$.groupId", "missing"),
    ("type in ('identify', 'group') and user_id is null", "$.userId", "missing"),
)


def adapt(con: duckdb.DuckDBPyConnection, f: LandingFile) -> Rows:
    """Stage the file's messages in ``_seg``; returns the queries that make its rows. Few
    queries per file: a delivery is often a thousand small files."""
    cleanup(con)
    try:
        # each message is parsed once: every value this adapter reads, by path, in one list
        paths = ", ".join(_lit(p) for p in PATHS.values())
        fallback = f"v[{len(PATHS) + 1}]"  # a group id in context.traits (older libraries)
        values = ",\n                ".join(
            (_ts(f"v[{i}]") if name in TIMESTAMPS else f"coalesce(v[{i}], {fallback})" if name == "context_group"
             else f"v[{i}]") + f" as {name}"
            for i, name in enumerate(PATHS, start=1))
        con.execute(f"""
            create temp table _seg as select
                starts_with(ltrim(json), '{{') as is_object,
                {values},
                v[{list(PATHS).index("ts") + 1}] as ts_text,
                v[{list(PATHS).index("received") + 1}] as received_text,
                cast(null as bigint) as _row
            from (select json, json_extract_string(json, [{paths}, '$.context.traits.groupId']) as v
                  from read_ndjson_objects({_lit(str(f.path))}, compression = '{'gzip' if f.compressed else 'none'}'))""")
    except duckdb.Error as exc:
        raise Bad(0, "$", f"not JSON Lines ({str(exc).splitlines()[0]})") from None
    # rowids follow the file's lines; temp tables do not start them at 0
    con.execute("update _seg set _row = rowid - (select min(rowid) from _seg) + 1")
    found = con.execute(
        "select count(*), count(*) filter (where type in ('identify', 'group')), "
        "count(*) filter (where type not in ('track', 'identify', 'group')), "
        "count(*) filter (where type = 'track' and user_id is not null and context_group is null), "
        "count(*) filter (where type = 'track' and user_id is null), "
        "min(_row) filter (where type = 'track' and user_id is null), "
        + ", ".join(f"min(_row) filter (where {where})" for where, _, _ in CHECKS) + " from _seg").fetchone()
    assert found is not None
    rows = Rows(objects=int(found[0]))
    for line, (_, path, reason) in zip(found[6:], CHECKS, strict=True):
        if line is not None:
            raise Bad(line, path, reason)
    if found[2]:
        for n, line, what in con.execute(
                "select count(*), min(_row), type from _seg where type not in ('track', 'identify', 'group') "
                "group by type order by min(_row)").fetchall():
            rows.warnings.append(f"{n} {what} calls skipped (only track, identify and group load), "
                                 f"the first at line {line}, $.type")
    if found[4]:
        rows.warnings.append(f"{found[4]} track calls skipped (anonymous: no userId), the first at line {found[5]}, "
                             "$.userId")
    if found[1]:
        _users(con, rows)
    if found[1] or found[3]:
        _events_finding_accounts(con, rows, users=bool(found[1]))
    else:  # every track names its account: no look-up
        rows.queries["usage__events"] = (
            "select message_id as event_id, user_id, context_group as account_id, event as event_name, feature, "
            "ts as occurred_at, received as received_at, properties, _row as _row_number from _seg "
            "where type = 'track' and user_id is not null", EVENT_COLUMNS)
    return rows


def _users_loaded_before(columns: tuple[str, ...], users: str) -> str:
    """The latest version loaded before of each user the query ``users`` names."""
    return latest_versions_sql(entity("usage", "users"), ("user_id", *columns), where=f"user_id in ({users})")


def _users(con: duckdb.DuckDBPyConnection, rows: Rows) -> None:
    # each user's latest group and identify in this file, and its version loaded before
    before = _users_loaded_before(("account_id", "email", "role", "created_at"),
                                  "select user_id from _seg where type in ('identify', 'group')")
    con.execute(f"""
        create or replace temp table _seg_users as
        with calls as (
            select *, row_number() over (partition by user_id, type order by ts desc, _row desc) as latest
            from _seg where type in ('identify', 'group')
        ),
        before as ({before}),
        mine as (
            select user_id,
                   max(group_id) filter (where type = 'group' and latest = 1) as account_id,
                   max(email) filter (where type = 'identify' and latest = 1) as email,
                   max(role) filter (where type = 'identify' and latest = 1) as role,
                   least(min(ts), min(traits_created)) as first_seen,
                   max(ts) as updated_at,
                   max(_row) filter (where latest = 1) as _row_number
            from calls group by user_id
        )
        select mine.user_id, coalesce(mine.account_id, before.account_id) as account_id,
               coalesce(mine.email, before.email) as email, coalesce(mine.role, before.role) as role,
               least(mine.first_seen, coalesce(before.created_at, mine.first_seen)) as created_at,
               mine.updated_at, false as is_deleted, mine._row_number
        from mine left join before using (user_id)""")
    for n, line in con.execute("select count(*), min(_row_number) from _seg_users where account_id is null "
                               "having count(*) > 0").fetchall():
        rows.warnings.append(f"{n} users skipped (no group call yet: no account), the first at line {line}, $.userId")
    rows.queries["usage__users"] = ("select * from _seg_users where account_id is not null", USER_COLUMNS)


def _events_finding_accounts(con: duckdb.DuckDBPyConnection, rows: Rows, *, users: bool) -> None:
    """The tracks, each with its account: ``context.groupId``, else the user's latest group
    call in this file, else the account of the user's version loaded before."""
    mine = "left join _seg_users u on u.user_id = s.user_id" if users else ""
    known = _users_loaded_before(("account_id",), "select user_id from _seg where type = 'track' and context_group is null")
    con.execute(f"""
        create or replace temp table _seg_events as
        with known as ({known})
        select s.message_id as event_id, s.user_id,
               coalesce(s.context_group, {'u.account_id, ' if users else ''}known.account_id) as account_id,
               s.event as event_name, s.feature, s.ts as occurred_at, s.received as received_at, s.properties,
               s._row as _row_number
        from _seg s
        {mine}
        left join known on known.user_id = s.user_id
        where s.type = 'track'""")
    ungrouped, first_ungrouped = con.execute(
        "select count(*), min(_row_number) from _seg_events where user_id is not null and account_id is null"
    ).fetchone() or (0, None)
    if ungrouped:
        rows.warnings.append(f"{ungrouped} track calls skipped (no account: no context.groupId and no group call), "
                             f"the first at line {first_ungrouped}, $.context.groupId")
    rows.queries["usage__events"] = ("select * from _seg_events where user_id is not null and account_id is not null",
                                     EVENT_COLUMNS)


def cleanup(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("_seg", "_seg_users", "_seg_events"):
        con.execute(f"drop table if exists temp.{table}")
