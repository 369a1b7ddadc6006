"""Exports as Stripe, HubSpot and Segment write them (landing.md v2): hand-written objects
give hand-computed MRR, movements and rows; bad objects are quarantined with file, line and
JSON path; the demo company in those shapes publishes the same marts as in the contract's."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from laer.cli import main
from laer.ingest.loader import load_landing
from tests.fixtures import stripe_company

D = Decimal


@pytest.fixture(scope="module")
def stripe_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stripe_company")
    stripe_company.write(root / "landing")
    assert main(["refresh", "--landing", str(root / "landing"), "--warehouse", str(root / "warehouse"),
                 "--as-of", "2026-06-30"]) == 0
    return root / "warehouse"


def test_stripe_events_give_the_hand_computed_mrr_and_movements(stripe_warehouse: Path) -> None:
    with duckdb.connect(str(stripe_warehouse / "marts.duckdb"), read_only=True) as con:
        facts = con.execute("select account_id, month(month), mrr, movement from main.fct_mrr_monthly "
                            "where mrr > 0 or movement <> 'flat' order by account_id, month").fetchall()
        kpis = con.execute(
            "select month(month), mrr, new_mrr, expansion_mrr, churned_mrr, reactivation_mrr, net_new_mrr, "
            "new_customers, churned_customers, voluntary_churned_mrr, involuntary_churned_mrr, trials_converted, "
            "trial_conversion_rate from main.kpi_monthly where year(month) = 2026 order by month").fetchall()
        churns = con.execute("select account_id, month(month), churned_mrr, churn_type, cancellation_feedback "
                             "from main.fct_churn_events order by account_id").fetchall()
        deliveries = dict(con.execute("select source || '/' || entity, rows_loaded from main.dq_source_deliveries "
                                      "where is_delivered").fetchall())

    def months(account: str, *rows: tuple[int, str, str]) -> list[tuple[str, int, Decimal, str]]:
        return [(f"acc_{account}", m, D(mrr), movement) for m, mrr, movement in rows]

    flat = "flat"
    assert facts == [
        # a: Basic $50, upgraded to Pro $100 on March 15 (the same Stripe item, a new price)
        *months("a", (1, "50", "new"), (2, "50", flat), (3, "100", "expansion"), (4, "100", flat), (5, "100", flat),
                (6, "100", flat)),
        # b: Pro x2 = $200, x5 = $500 from February 20
        *months("b", (1, "200", "new"), (2, "500", "expansion"), *((m, "500", flat) for m in range(3, 7))),
        # c: Pro with 20 % off forever
        *months("c", (1, "80", "new"), *((m, "80", flat) for m in range(2, 7))),
        # d: Pro with 25 % off for 3 months from February 1: $75 until May 1, then $100
        *months("d", (2, "75", "new"), (3, "75", flat), (4, "75", flat), (5, "100", "expansion"), (6, "100", flat)),
        # e: $1,200 a year
        *months("e", (1, "100", "new"), *((m, "100", flat) for m in range(2, 7))),
        # f: trial March 1-15, converted: paying at the end of March; g never paid
        *months("f", (3, "50", "new"), *((m, "50", flat) for m in range(4, 7))),
        # h: cancel at period end asked April 2, ended May 8
        *months("h", (1, "50", "new"), (2, "50", flat), (3, "50", flat), (4, "50", flat), (5, "0", "churn")),
        # i: canceled for failed payments April 20
        *months("i", (2, "100", "new"), (3, "100", flat), (4, "0", "churn")),
        # j: EUR 200 at 1.10 USD (the rate of the item's start; March's 1.20 moves nothing)
        *months("j", (1, "220", "new"), *((m, "220", flat) for m in range(2, 7))),
        # k: Basic and a metered price: the metered one carries no MRR
        *months("k", (2, "50", "new"), *((m, "50", flat) for m in range(3, 7))),
        # l: collection paused (void) April 10 until June 1
        *months("l", (1, "50", "new"), (2, "50", flat), (3, "50", flat), (4, "0", "churn"), (6, "50", "reactivation")),
    ]
    # month, MRR, new, expansion, churned, reactivation, net new, new and churned customers,
    # voluntary and involuntary churned MRR, trials converted, trial conversion rate
    assert kpis == [
        (1, D("750"), D("750"), D("0"), D("0"), D("0"), D("750"), 7, 0, D("0"), D("0"), 0, None),
        (2, D("1275"), D("225"), D("300"), D("0"), D("0"), D("525"), 3, 0, D("0"), D("0"), 0, None),
        (3, D("1375"), D("50"), D("50"), D("0"), D("0"), D("100"), 1, 0, D("0"), D("0"), 1, D("0.5")),
        (4, D("1225"), D("0"), D("0"), D("-150"), D("0"), D("-150"), 0, 2, D("-50"), D("-100"), 0, None),
        (5, D("1200"), D("0"), D("25"), D("-50"), D("0"), D("-25"), 0, 1, D("-50"), D("0"), 0, None),
        (6, D("1250"), D("0"), D("0"), D("0"), D("50"), D("50"), 0, 0, D("0"), D("0"), 0, None),
    ]
    assert churns == [("acc_h", 5, D("-50"), "voluntary", "too_expensive"),
                      ("acc_i", 4, D("-100"), "involuntary", None),
                      ("acc_l", 4, D("-50"), "voluntary", None)]
    # two event files delivered the billing tables they fed; the contract's files their own
    assert deliveries["billing/subscriptions"] == 15 and deliveries["billing/customers"] == 12
    assert deliveries["crm/accounts"] == 12 and "billing/refunds" not in deliveries


def _lines(*objects: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objects)


def _event(eid: str, kind: str, created: int, obj: dict) -> dict:
    return {"id": eid, "object": "event", "type": kind, "created": created, "data": {"object": obj}}


GOOD_PRICE = stripe_company.price("price_ok", "OK", 1000)
SUB = stripe_company.subscription("sub_x", "cus_x", "2026-01-02T00:00:00", [
    stripe_company.item("si_x", "sub_x", GOOD_PRICE, 1, "2026-01-02T00:00:00", ("2026-01-02", "2026-02-02"))])


def test_bad_objects_are_quarantined_with_line_and_json_path(tmp_path: Path) -> None:
    one_time = {k: v for k, v in GOOD_PRICE.items() if k != "recurring"} | {"type": "one_time"}
    no_recurring = json.loads(json.dumps(SUB))
    no_recurring["items"]["data"][0]["price"] = one_time
    files = {
        "stripe/events/1_good.jsonl": _lines(_event("evt_1", "customer.subscription.created", 1767312000, SUB)),
        "stripe/events/2_no_id.jsonl": _lines(_event("evt_2", "price.created", 1767312000, GOOD_PRICE),
                                              {"object": "event", "type": "price.updated", "created": 1767312001,
                                               "data": {"object": GOOD_PRICE}}),
        "stripe/events/3_one_time_item.jsonl": _lines(
            _event("evt_3", "price.created", 1767312000, GOOD_PRICE),
            _event("evt_4", "customer.created", 1767312000, stripe_company.customer("cus_y", "acc_y", "2026-01-02")),
            _event("evt_5", "customer.subscription.updated", 1767312000, no_recurring)),
        "stripe/events/4_unknown_type.jsonl": _lines(
            _event("evt_6", "payout.paid", 1767312000, {"id": "po_1", "object": "payout"}),
            _event("evt_7", "customer.created", 1767312000, stripe_company.customer("cus_z", "acc_z", "2026-01-02"))),
        "stripe/subscriptions/5_no_item_id.jsonl": _lines(
            {**SUB, "items": {"object": "list", "data": [{"object": "subscription_item", "price": GOOD_PRICE}]}}),
        "stripe/events/6_not_json.jsonl": _lines(_event("evt_8", "price.created", 1767312000, GOOD_PRICE)) + "{oops\n",
        "hubspot/companies/7_no_id.jsonl": _lines({"properties": {"name": "Acme"}, "createdAt": "2026-01-01T00:00:00Z",
                                                   "updatedAt": "2026-01-01T00:00:00Z", "archived": False}),
        "segment/8_no_message_id.jsonl": _lines({"type": "track", "messageId": "m1", "userId": "u1", "event": "x",
                                                 "timestamp": "2026-01-02T00:00:00Z", "context": {"groupId": "a1"}},
                                                {"type": "track", "userId": "u1", "event": "y",
                                                 "timestamp": "2026-01-02T00:00:00Z"}),
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    con = duckdb.connect()
    report = load_landing(con, tmp_path)
    outcome = {r.relpath.split("/")[-1]: (r.status, r.row, r.column, r.message) for r in report.results}
    assert outcome == {
        "1_good.jsonl": ("loaded", None, None, "loaded"),
        "2_no_id.jsonl": ("quarantined", 2, "$.id", "line 2, $.id: missing"),
        "3_one_time_item.jsonl": ("quarantined", 3, "$.data.object.items.data[0].price.recurring",
                                  "line 3, $.data.object.items.data[0].price.recurring: a subscription item's price "
                                  "must be recurring (no recurring object)"),
        "4_unknown_type.jsonl": ("loaded", None, None, "loaded"),
        "5_no_item_id.jsonl": ("quarantined", 1, "$.items.data[0].id", "line 1, $.items.data[0].id: missing"),
        "6_not_json.jsonl": ("quarantined", 2, "$", outcome["6_not_json.jsonl"][3]),
        "7_no_id.jsonl": ("quarantined", 1, "$.id", "line 1, $.id: missing"),
        "8_no_message_id.jsonl": ("quarantined", 2, "$.messageId", "line 2, $.messageId: missing"),
    }
    assert outcome["6_not_json.jsonl"][3].startswith("line 2, $: not valid JSON")
    # an unknown event type is reported with its line and path; the rest of the file loads
    unknown = next(r for r in report.results if r.relpath.endswith("4_unknown_type.jsonl"))
    assert unknown.warnings == ["1 skipped (event type 'payout.paid' is not one the contract maps), "
                                "the first at line 1, $.type"]
    assert con.execute("select customer_id from raw.billing__customers").fetchall() == [("cus_z",)]
    # the quarantine names file, line and path; nothing of a quarantined file was loaded
    assert con.execute("select path, error_row, error_column from raw.quarantine where path like '%3_one%'").fetchall() \
        == [("stripe/events/3_one_time_item.jsonl", 3, "$.data.object.items.data[0].price.recurring")]
    assert con.execute("select count(*) from raw.billing__plans").fetchone() == (1,)  # the good file's price
    # a quarantined export file its sender deletes is withdrawn, also when a load takes only
    # some raw tables (as Dagster's raw assets do): the tables it would have fed
    (tmp_path / "stripe/events/2_no_id.jsonl").unlink()
    load_landing(con, tmp_path, entities={"billing__plans"})
    assert "stripe/events/2_no_id.jsonl" not in {p for (p,) in con.execute("select path from raw.quarantine").fetchall()}
    assert con.execute("select count(*) from raw.quarantine").fetchone() == (5,)
    assert con.execute("select subscription_item_id, quantity, started_at from raw.billing__subscription_items"
                       ).fetchall()[0][:2] == ("si_x@1767312000", 1)


HUBSPOT = {
    "companies": [
        {"id": "101", "properties": {"name": "Acme GmbH", "domain": "acme.example", "industry": "SOFTWARE",
                                     "numberofemployees": "250", "country": "Germany", "hubspot_owner_id": "9",
                                     "csm_owner_id": "8"},
         "createdAt": "2026-01-05T10:00:00.000Z", "updatedAt": "2026-02-01T12:00:00.000Z", "archived": False},
        {"id": "102", "properties": {"name": "Gone Ltd", "country": "GB"},
         "createdAt": "2026-01-06T10:00:00Z", "updatedAt": "2026-03-01T00:00:00Z", "archived": True}],
    "contacts": [
        {"id": "201", "properties": {"email": "ann@acme.example", "firstname": "Ann", "lastname": "Lee",
                                     "jobtitle": "CTO", "associatedcompanyid": "101"},
         "createdAt": "2026-01-05T11:00:00Z", "updatedAt": "2026-01-05T11:00:00Z", "archived": False},
        {"id": "202", "properties": {"email": "solo@nowhere.example"},
         "createdAt": "2026-01-05T11:00:00Z", "updatedAt": "2026-01-05T11:00:00Z", "archived": False}],
    "deals": [
        {"id": "301", "properties": {"dealname": "Acme - new", "dealtype": "newbusiness", "dealstage": "closedwon",
                                     "amount": "12000.50", "deal_currency_code": "EUR",
                                     "closedate": "2026-01-20T00:00:00Z", "hubspot_owner_id": "9"},
         "associations": {"companies": {"results": [{"id": "101", "type": "deal_to_company"}]}},
         "createdAt": "2026-01-06T10:00:00Z", "updatedAt": "2026-01-20T10:00:00Z", "archived": False}],
    "owners": [
        {"id": "9", "email": "sam@seller.example", "firstName": "Sam", "lastName": "Seller", "userId": 1,
         "teams": [{"id": "1", "name": "Sales", "primary": True}],
         "createdAt": "2025-01-01T00:00:00Z", "updatedAt": "2025-06-01T00:00:00Z", "archived": False}],
}


def test_hubspot_and_segment_objects_become_the_contract_rows(tmp_path: Path) -> None:
    for obj, rows in HUBSPOT.items():
        (tmp_path / "hubspot" / obj).mkdir(parents=True)
        (tmp_path / "hubspot" / obj / "export.jsonl").write_text(_lines(*rows))
    day = tmp_path / "segment" / "src_1" / "2026-01-07"
    day.mkdir(parents=True)
    # as Segment's S3 destination names them: gzipped JSON Lines in <name>.gz
    (day / "1767772800000.gz").write_bytes(gzip.compress(_lines(
        {"type": "identify", "userId": "u1", "traits": {"email": "ann@acme.example", "role": "admin",
                                                        "createdAt": "2026-01-05T11:00:00Z"},
         "timestamp": "2026-01-07T09:00:00Z", "messageId": "i1"},
        {"type": "group", "userId": "u1", "groupId": "101", "traits": {"name": "Acme"},
         "timestamp": "2026-01-07T09:00:01Z", "messageId": "g1"},
        {"type": "track", "messageId": "m1", "userId": "u1", "event": "Report Created",
         "properties": {"feature": "reports", "rows": 12}, "timestamp": "2026-01-07T09:05:00.250Z",
         "receivedAt": "2026-01-07T09:05:02Z"},  # no context.groupId: the user's group call
        {"type": "track", "messageId": "m2", "userId": "u1", "event": "Export", "context": {"groupId": "102"},
         "timestamp": "2026-01-07T10:00:00+02:00"},
        {"type": "track", "messageId": "m3", "anonymousId": "anon", "event": "Visit",
         "timestamp": "2026-01-07T10:00:00Z"},
        {"type": "page", "messageId": "p1", "userId": "u1", "name": "Home", "timestamp": "2026-01-07T10:00:00Z"}
    ).encode()))
    con = duckdb.connect()
    report = load_landing(con, tmp_path)
    assert [r.status for r in report.results] == ["loaded"] * 5
    warnings = {r.relpath.split("/")[1]: r.warnings for r in report.results}
    assert warnings["contacts"] == ["1 skipped (contacts without a company), the first at line 2, "
                                    "$.properties.associatedcompanyid"]
    assert warnings["src_1"] == ["1 page calls skipped (only track, identify and group load), the first at line 6, "
                                 "$.type", "1 track calls skipped (anonymous: no userId), the first at line 5, $.userId"]
    q = con.execute
    assert q("select account_id, name, domain, industry, employee_count, country, owner_id, csm_id, "
             "cast(updated_at as varchar), is_deleted from raw.crm__accounts order by 1").fetchall() == [
        ("101", "Acme GmbH", "acme.example", "SOFTWARE", 250, "DE", "9", "8", "2026-02-01 12:00:00", False),
        ("102", "Gone Ltd", None, None, None, "GB", None, None, "2026-03-01 00:00:00", True)]
    assert q("select contact_id, account_id, email, first_name, last_name, title from raw.crm__contacts").fetchall() \
        == [("201", "101", "ann@acme.example", "Ann", "Lee", "CTO")]
    assert q("select opportunity_id, account_id, type, stage, amount, currency, cast(close_date as varchar), owner_id "
             "from raw.crm__opportunities").fetchall() == [
        ("301", "101", "new_business", "closed_won", 1200050, "eur", "2026-01-20", "9")]
    assert q("select user_id, email, name, role from raw.crm__users").fetchall() == [
        ("9", "sam@seller.example", "Sam Seller", "sales")]
    assert q("select user_id, account_id, email, role, cast(created_at as varchar), cast(updated_at as varchar) "
             "from raw.usage__users").fetchall() == [
        ("u1", "101", "ann@acme.example", "admin", "2026-01-05 11:00:00", "2026-01-07 09:00:01")]
    assert q("select event_id, user_id, account_id, event_name, feature, cast(occurred_at as varchar), "
             "cast(received_at as varchar), properties ->> 'rows', _row_number from raw.usage__events order by 1"
             ).fetchall() == [
        ("m1", "u1", "101", "Report Created", "reports", "2026-01-07 09:05:00.25", "2026-01-07 09:05:02", "12", 3),
        ("m2", "u1", "102", "Export", None, "2026-01-07 08:00:00", None, None, 4)]
    assert q("select source, entity, row_count from raw._load_ledger_feeds order by 1, 2").fetchall() == [
        ("crm", "accounts", 2), ("crm", "contacts", 1), ("crm", "opportunities", 1), ("crm", "users", 1),
        ("usage", "events", 2), ("usage", "users", 1)]


def test_the_company_as_stripe_hubspot_and_segment_exports_publishes_the_same_marts(
        small_built: Path, tmp_path: Path, capsys) -> None:
    from tests.conftest import SMALL

    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    assert main(["generate", "--out", str(landing), "--customers", str(SMALL.customers), "--months",
                 str(SMALL.months), "--seed", str(SMALL.seed), "--start", SMALL.start_date.isoformat(),
                 "--format", "stripe,hubspot,segment"]) == 0
    assert "as stripe, hubspot, segment exports" in capsys.readouterr().out
    # the source systems' folders hold what they cover; the contract's folders the rest
    assert sorted(p.name for p in landing.iterdir()) == ["billing", "crm", "finance", "hubspot", "segment", "stripe"]
    assert sorted(p.name for p in (landing / "billing").iterdir()) == ["fx_rates"]
    assert sorted(p.name for p in (landing / "crm").iterdir()) == ["activities", "leads", "nps_responses",
                                                                   "support_tickets"]
    assert main(["refresh", "--landing", str(landing), "--warehouse", str(warehouse),
                 "--as-of", SMALL.end_date.isoformat()]) == 0
    with duckdb.connect(str(small_built / "warehouse" / "marts.duckdb"), read_only=True) as ours, \
            duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as theirs:
        marts = [t for (t,) in ours.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "and not starts_with(table_name, '_') order by 1").fetchall()]
        assert {"fct_mrr_monthly", "kpi_monthly", "fct_churn_events", "dim_accounts"} <= set(marts)
        for mart in marts:
            if mart == "dq_source_deliveries":  # files and rows delivered differ by design
                continue
            rows = [con.execute(f"select * from main.{mart} order by all").fetchall() for con in (ours, theirs)]
            assert rows[0] == rows[1], mart
        mrr = ours.execute("select sum(mrr) from main.kpi_monthly").fetchone()[0]
        # every contract entity counts as delivered, the exports' ones through their adapters
        delivered = theirs.execute("select count(*) filter (where is_delivered), count(*) "
                                   "from main.dq_source_deliveries").fetchone()
    assert mrr > 0 and delivered == (20, 20)


def test_a_stripe_customer_finds_its_account_by_metadata_key_then_email_domain(tmp_path: Path) -> None:
    from laer.ingest.exports.settings import ExportSettings

    (tmp_path / "crm" / "accounts").mkdir(parents=True)
    (tmp_path / "crm" / "accounts" / "a.csv").write_text(
        "account_id,name,domain,created_at,updated_at\n"
        "acc_1,One,one.example,2026-01-01,2026-01-01\nacc_2,Two,shared.example,2026-01-01,2026-01-01\n"
        "acc_3,Three,shared.example,2026-01-01,2026-01-01\n")

    def cus(cid: str, email: str, metadata: dict) -> dict:
        return {"id": cid, "object": "customer", "created": 1767312000, "email": email, "metadata": metadata}

    (tmp_path / "stripe" / "customers").mkdir(parents=True)
    (tmp_path / "stripe" / "customers" / "snapshot.jsonl").write_text(_lines(
        cus("cus_named", "x@elsewhere.example", {"crm_account": "acc_9"}),  # the key names it, even unknown
        cus("cus_domain", "billing@One.example", {}),  # its e-mail's domain is one account's
        cus("cus_shared", "a@shared.example", {}),  # two accounts share the domain: unmatched
        cus("cus_none", "a@nowhere.example", {"account_id": "acc_1"})))  # the default key is not the setting
    con = duckdb.connect()
    load_landing(con, tmp_path, export_settings=ExportSettings(stripe_account_key="crm_account"))
    assert con.execute("select customer_id, account_id from raw.billing__customers order by 1").fetchall() == [
        ("cus_domain", "acc_1"), ("cus_named", "acc_9"), ("cus_none", None), ("cus_shared", None)]


def test_coupons_amount_off_once_and_a_repeating_one_cut_short(tmp_path: Path) -> None:
    """Item versions, by hand: a 25 % coupon for 3 months (to April 1) plans the version after
    it; a quantity change on February 15 withdraws that plan and plans its own. An amount-off
    coupon of $25 on $100 is 25 %; a `once` coupon moves nothing."""
    sc = stripe_company
    three = sc.discount("di_r", "cus_r", "sub_r", sc.coupon("R25", percent=25.0, duration="repeating", months=3),
                        "2026-01-01T00:00:00", "2026-04-01T00:00:00")
    once = sc.discount("di_o", "cus_r", "sub_r", sc.coupon("ONCE50", percent=50.0, duration="once"),
                       "2026-01-01T00:00:00", None)

    def sub(sid: str, quantity: int, **fields: object) -> dict:
        return sc.subscription(sid, f"cus_{sid[-1]}", "2026-01-01T00:00:00", [
            sc.item(f"si_{sid[-1]}", sid, sc.PRO, quantity, "2026-01-01T00:00:00", ("2026-01-01", "2026-02-01"))],
            **fields)

    amount_off = {**sc.coupon("OFF25USD", percent=0, duration="forever"), "percent_off": None, "amount_off": 2500,
                  "currency": "usd"}
    (tmp_path / "stripe" / "events").mkdir(parents=True)
    (tmp_path / "stripe" / "events" / "e.jsonl").write_text(_lines(
        _event("evt_1", "customer.subscription.created", sc.ts("2026-01-01"), sub("sub_r", 1, discounts=[three, once])),
        _event("evt_2", "customer.subscription.updated", sc.ts("2026-02-15"), sub("sub_r", 2, discounts=[three, once])),
        _event("evt_3", "customer.subscription.created", sc.ts("2026-01-01"), sub(
            "sub_s", 1, discounts=[sc.discount("di_s", "cus_s", "sub_s", amount_off, "2026-01-01T00:00:00", None)]))))
    con = duckdb.connect()
    load_landing(con, tmp_path)
    assert con.execute(
        "select subscription_item_id, quantity, discount_percent, cast(started_at as date)::varchar, "
        "cast(ended_at as date)::varchar from raw.billing__subscription_items order by 1").fetchall() == [
        ("si_r@1767225600", 1, D("25"), "2026-01-01", "2026-02-15"),
        ("si_r@1771113600", 2, D("25"), "2026-02-15", "2026-04-01"),
        ("si_r@1775001600", 2, D("0"), "2026-04-01", None),  # planned at first with quantity 1, now with 2
        ("si_s@1767225600", 1, D("25"), "2026-01-01", None)]


def test_list_snapshots_are_a_first_backfill_that_events_continue(tmp_path: Path) -> None:
    sc = stripe_company
    ten = sc.discount("di_p", "cus_p", "sub_p", sc.coupon("TEN", percent=10.0, duration="forever"),
                      "2026-01-01T00:00:00", None)

    def sub(quantity: int) -> dict:
        return sc.subscription("sub_p", "cus_p", "2026-01-01T00:00:00", [
            sc.item("si_p", "sub_p", sc.PRO, quantity, "2026-01-01T00:00:00", ("2026-03-01", "2026-04-01"))],
            discounts=[ten])

    paid = sc.invoice("in_p1", "cus_p", "sub_p", "2026-01-01T00:05:00", 27000, status="paid",
                      paid_at="2026-01-01T00:06:00", lines=[{**sc.line("il_p1", "si_p", sc.PRO, 30000, "2026-01-01",
                                                                       "2026-02-01"),
                                                              "discount_amounts": [{"amount": 3000, "discount": "di_p"}]}])
    paid["total_discount_amounts"] = [{"amount": 3000, "discount": "di_p"}]
    charge = sc.charge("ch_p1", "cus_p", "in_p1", "2026-01-01T00:06:00", 27000, status="succeeded")
    charge["refunds"]["data"] = [{"id": "re_p1", "object": "refund", "amount": 5000, "charge": "ch_p1",
                                  "created": sc.ts("2026-01-20"), "currency": "usd", "reason": "requested_by_customer"}]
    one_time = {**sc.price("price_setup", "Setup", 50000), "recurring": None, "type": "one_time"}
    files = {"customers": [sc.customer("cus_p", "acc_p", "2026-01-01T00:00:00")], "subscriptions": [sub(3)],
             "prices": [sc.PRO, one_time], "invoices": [paid], "charges": [charge],
             # events sort before subscriptions by name, yet load after every snapshot
             "events": [_event("evt_9", "customer.subscription.updated", sc.ts("2026-03-10"), sub(4))]}
    for folder, objects in files.items():
        (tmp_path / "stripe" / folder).mkdir(parents=True)
        (tmp_path / "stripe" / folder / "export.jsonl").write_text(_lines(*objects))
    con = duckdb.connect()
    report = load_landing(con, tmp_path)
    assert [r.relpath.split("/")[1] for r in report.results] == [
        "charges", "customers", "invoices", "prices", "subscriptions", "events"]
    assert next(r for r in report.results if "prices" in r.relpath).warnings == [
        "1 skipped (one-time prices are not plans), the first at line 2, $.recurring"]
    q = con.execute
    assert q("select split_part(_source_file, '/', 2), subscription_item_id, quantity, discount_percent, "
             "cast(started_at as date)::varchar, cast(ended_at as date)::varchar from raw.billing__subscription_items "
             "order by _batch_id, 2").fetchall() == [
        ("subscriptions", "si_p@1767225600", 3, D("10"), "2026-01-01", None),  # as the snapshot delivered it
        ("events", "si_p@1767225600", 3, D("10"), "2026-01-01", "2026-03-10"),  # closed by the event
        ("events", "si_p@1773100800", 4, D("10"), "2026-03-10", None)]
    assert q("select customer_id, account_id from raw.billing__customers").fetchall() == [("cus_p", "acc_p")]
    assert q("select invoice_id, status, subtotal, discount, total, amount_paid, subscription_id "
             "from raw.billing__invoices").fetchall() == [("in_p1", "paid", 27000, 3000, 27000, 27000, "sub_p")]
    assert q("select invoice_line_id, line_type, amount, plan_id, subscription_item_id "
             "from raw.billing__invoice_lines").fetchall() == [("il_p1", "subscription", 27000, "price_pro_m", "si_p")]
    assert q("select payment_id, status, amount from raw.billing__payments").fetchall() == [("ch_p1", "succeeded", 27000)]
    assert q("select refund_id, payment_id, amount, reason from raw.billing__refunds").fetchall() == [
        ("re_p1", "ch_p1", 5000, "requested_by_customer")]
    assert q("select plan_id, plan_name, billing_interval, unit_amount, is_free from raw.billing__plans "
             "order by updated_at limit 1").fetchall() == [("price_pro_m", "Pro", "month", 10000, False)]


def test_hubspot_alone_beside_the_contracts_billing_gives_the_same_crm_rows(tmp_path: Path) -> None:
    """HubSpot for the CRM, the contract's own files for billing and the rest: the latest
    version of every CRM record equals the contract's, column for column."""
    from laer.contract import entity
    from laer.generate import generate
    from tests.conftest import SMALL

    crm = ("accounts", "contacts", "opportunities", "users")
    tables = {f"crm__{name}" for name in crm}
    latest = {}
    for shape, formats in (("contract", ()), ("hubspot", ("hubspot",))):
        generate(SMALL, tmp_path / shape, formats=formats)
        assert (tmp_path / shape / "billing" / "subscriptions").is_dir()
        assert (tmp_path / shape / "hubspot").is_dir() == bool(formats)
        con = duckdb.connect()
        load_landing(con, tmp_path / shape, entities=tables)
        for name in crm:
            e = entity("crm", name)
            columns = ", ".join(c.name for c in e.columns)
            latest[shape, name] = con.execute(
                f"select {columns} from (select *, row_number() over (partition by {e.key} order by updated_at desc, "
                f"_batch_id desc, _row_number desc) as r from raw.crm__{name}) where r = 1 order by {e.key}").fetchall()
    for name in crm:
        assert latest["hubspot", name] == latest["contract", name], name
        assert len(latest["contract", name]) > 10, name


def test_dagsters_raw_assets_count_what_an_export_file_wrote_into_each_table(tmp_path: Path) -> None:
    from dagster import AssetKey, DagsterEventType, DagsterInstance

    from orchestration.definitions import build_definitions
    from orchestration.settings import LaerSettings

    stripe_company.write(tmp_path / "landing")
    defs = build_definitions(LaerSettings(landing_dir=str(tmp_path / "landing"), warehouse_dir=str(tmp_path / "wh"),
                                          as_of="2026-06-30"))
    raw = ["billing__subscriptions", "billing__subscription_items", "crm__accounts", "_load_ledger_feeds"]
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("refresh").execute_in_process(
            instance=instance, partition_key="2026-06-30", asset_selection=[AssetKey(["raw", t]) for t in raw])
    assert result.success
    counts = {e.asset_key.path[-1]: (e.step_materialization_data.materialization.metadata["files_loaded"].value,
                                     e.step_materialization_data.materialization.metadata["rows_loaded"].value)
              for e in result.all_events if e.event_type == DagsterEventType.ASSET_MATERIALIZATION}
    # the two event files wrote 12 + 3 subscription versions and 16 + 2 item versions (the
    # latest of each per file), from 37 + 8 objects; the contract's accounts file 12 rows
    assert counts == {"billing__subscriptions": (2, 15), "billing__subscription_items": (2, 18),
                      "crm__accounts": (1, 12), "_load_ledger_feeds": (2, 45)}
