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

from laer.ingest.exports.objects import Bad, Rows
from laer.ingest.files import LandingFile
from laer.ingest.rules import DUCKDB

_lit = DUCKDB.lit
TYPES = ("track", "identify", "group")


def _ts(expr: str) -> str:
    return f"timezone('UTC', try_cast({expr} as timestamptz))"


def _first_bad(con: duckdb.DuckDBPyConnection, where: str) -> int | None:
    found = con.execute(f"select min(_row) from _seg where {where}").fetchone()
    return None if found is None else found[0]


def adapt(con: duckdb.DuckDBPyConnection, f: LandingFile) -> Rows:
    """Stage the file's messages in ``_seg``; returns the queries that make its rows."""
    for table in ("_seg_src", "_seg"):
        con.execute(f"drop table if exists temp.{table}")
    try:
        con.execute(f"create temp table _seg_src as select json from read_ndjson_objects({_lit(str(f.path))}, "
                    f"compression = '{'gzip' if f.compressed else 'none'}')")
    except duckdb.Error as exc:
        raise Bad(0, "$", f"not JSON Lines ({str(exc).splitlines()[0]})") from None
    con.execute("alter table _seg_src add column _row bigint")
    con.execute("update _seg_src set _row = rowid - (select min(rowid) from _seg_src) + 1")
    bad = con.execute("select min(_row) from _seg_src where json_type(json) <> 'OBJECT'").fetchone()
    if bad and bad[0] is not None:
        raise Bad(bad[0], "$", "expected a JSON object")
    con.execute(f"""
        create temp table _seg as select
            _row,
            json ->> 'type' as type,
            json ->> 'messageId' as message_id,
            json ->> 'userId' as user_id,
            json ->> 'event' as event,
            coalesce(json -> 'context' ->> 'groupId', json -> 'context' -> 'traits' ->> 'groupId') as context_group,
            json ->> 'groupId' as group_id,
            json -> 'properties' ->> 'feature' as feature,
            cast(json -> 'properties' as varchar) as properties,
            json -> 'traits' ->> 'email' as email,
            json -> 'traits' ->> 'role' as role,
            {_ts("json -> 'traits' ->> 'createdAt'")} as traits_created,
            json ->> 'timestamp' as ts_text,
            {_ts("json ->> 'timestamp'")} as ts,
            json ->> 'receivedAt' as received_text,
            {_ts("json ->> 'receivedAt'")} as received
        from _seg_src""")
    con.execute("drop table _seg_src")
    rows = Rows(objects=int(con.execute("select count(*) from _seg").fetchone()[0]))  # type: ignore[index]
    for where, path, reason in (
            ("type is null", "$.type", "missing"),
            ("ts_text is null and type in ('track', 'identify', 'group')", "$.timestamp", "missing"),
            ("ts_text is not null and ts is null", "$.timestamp", "not an ISO-8601 timestamp"),
            ("received_text is not null and received is null", "$.receivedAt", "not an ISO-8601 timestamp"),
            ("type = 'track' and message_id is null", "$.messageId", "missing"),
            ("type = 'track' and event is null", "$.event", "missing"),
            ("type = 'group' and group_id is null", "$.groupId", "missing"),
            ("type in ('identify', 'group') and user_id is null", "$.userId", "missing")):
        line = _first_bad(con, where)
        if line is not None:
            raise Bad(line, path, reason)
    for n, line, what in con.execute(
            "select count(*), min(_row), type from _seg where type not in ('track', 'identify', 'group') "
            "group by type order by min(_row)").fetchall():
        rows.warnings.append(f"{n} {what} calls skipped (only track, identify and group load), "
                             f"the first at line {line}, $.type")
    # each user's latest group and identify in this file, and its version loaded before
    con.execute("""
        create or replace temp table _seg_users as
        with calls as (
            select *, row_number() over (partition by user_id, type order by ts desc, _row desc) as latest
            from _seg where type in ('identify', 'group')
        ),
        before as (
            select user_id, account_id, email, role, created_at from (
                select *, row_number() over (partition by user_id order by updated_at desc, _batch_id desc,
                                             _row_number desc) as r
                from raw.usage__users where user_id in (select user_id from calls)) where r = 1
        ),
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
    rows.queries["usage__users"] = "select * from _seg_users where account_id is not null"
    con.execute("""
        create or replace temp table _seg_events as
        with known as (
            select user_id, account_id from (
                select user_id, account_id, row_number() over (partition by user_id order by updated_at desc,
                       _batch_id desc, _row_number desc) as r
                from raw.usage__users
                where user_id in (select user_id from _seg where type = 'track' and context_group is null))
            where r = 1
        )
        select s.message_id as event_id, s.user_id,
               coalesce(s.context_group, u.account_id, known.account_id) as account_id,
               s.event as event_name, s.feature, s.ts as occurred_at, s.received as received_at, s.properties,
               s._row as _row_number
        from _seg s
        left join _seg_users u on u.user_id = s.user_id
        left join known on known.user_id = s.user_id
        where s.type = 'track'""")
    for reason, where, path in (("anonymous: no userId", "user_id is null", "$.userId"),
                                ("no account: no context.groupId and no group call", "user_id is not null and "
                                 "account_id is null", "$.context.groupId")):
        for n, line in con.execute(f"select count(*), min(_row_number) from _seg_events where {where} "
                                   "having count(*) > 0").fetchall():
            rows.warnings.append(f"{n} track calls skipped ({reason}), the first at line {line}, {path}")
    rows.queries["usage__events"] = ("select * exclude (_row_number), _row_number from _seg_events "
                                     "where user_id is not null and account_id is not null")
    return rows


def cleanup(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("_seg_src", "_seg", "_seg_users", "_seg_events"):
        con.execute(f"drop table if exists temp.{table}")
