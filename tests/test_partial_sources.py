"""Landing v2: every entity is optional. A company that delivers only CRM accounts and
billing gets its revenue marts; the sources it never delivered are empty raw tables."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import duckdb

from laer.cli import main

FILES = {
    "crm/accounts/a.csv": "account_id,name,country,created_at,updated_at\n"
                          "acc_a,Acme,US,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n"
                          "acc_b,Bolt,DE,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n",
    "billing/customers/c.csv": "customer_id,account_id,currency,created_at,updated_at\n"
                               "cus_a,acc_a,usd,2024-01-05T00:00:00Z,2024-01-05T00:00:00Z\n"
                               "cus_b,acc_b,eur,2024-01-20T00:00:00Z,2024-01-20T00:00:00Z\n",
    "billing/plans/p.csv": "plan_id,product,plan_name,billing_interval,interval_count,unit_amount,currency,updated_at\n"
                           "team-monthly-usd,platform,Team,month,1,10000,usd,2024-01-01T00:00:00Z\n"
                           "team-yearly-eur,platform,Team,year,1,120000,eur,2024-01-01T00:00:00Z\n",
    "billing/subscriptions/s.csv": "subscription_id,customer_id,status,created_at,updated_at\n"
                                   "sub_a,cus_a,active,2024-01-10T00:00:00Z,2024-03-15T00:00:00Z\n"
                                   "sub_b,cus_b,active,2024-02-01T00:00:00Z,2024-02-01T00:00:00Z\n",
    # acc_a: 2 seats at $100 from 10 January, 3 seats from 15 March; acc_b: one yearly seat,
    # €1,200 a year less 10 %, from 1 February, "until 9999-12-31" (an export's way of saying open)
    "billing/subscription_items/i.csv":
        "subscription_item_id,subscription_id,plan_id,quantity,discount_percent,started_at,ended_at,updated_at\n"
        "si_a1,sub_a,team-monthly-usd,2,0,2024-01-10T00:00:00Z,2024-03-15T00:00:00Z,2024-03-15T00:00:00Z\n"
        "si_a2,sub_a,team-monthly-usd,3,0,2024-03-15T00:00:00Z,,2024-03-15T00:00:00Z\n"
        "si_b1,sub_b,team-yearly-eur,1,10,2024-02-01T00:00:00Z,9999-12-31T00:00:00Z,2024-02-01T00:00:00Z\n",
    "billing/fx_rates/r.csv": "rate_date,currency,usd_per_unit\n2024-01-01,EUR,1.10\n",
}


def test_accounts_and_billing_alone_publish_the_revenue_marts(tmp_path: Path, capsys) -> None:
    # folders as people name them: a quote and spaces go into no SQL unescaped
    landing, warehouse = tmp_path / "our exports", tmp_path / "o'brien wh"
    for rel, text in FILES.items():
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
        (landing / rel).write_text(text)
    # as of a day before any subscription starts: the marts publish (empty) and there is no
    # report yet, said in one line rather than a failed step
    assert main(["refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "2023-12-31"]) == 0
    assert "no report: no data yet as of 2023-12-31: no subscription had started by that day; nothing to report" \
        in " ".join(capsys.readouterr().out.split())
    assert main(["report", "--warehouse", str(warehouse)]) == 1
    assert capsys.readouterr().out.strip() == \
        "no data yet as of 2023-12-31: no subscription had started by that day; nothing to report"
    assert main(["refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "2024-03-31"]) == 0
    # the stages as progress: files loaded of N (6 new, 6 seen by the first refresh), dbt's
    # nodes done of all, checks, publish, with elapsed seconds; dbt's own output in a log file
    shown = capsys.readouterr().out
    stages = re.findall(r"^  (load files|raw checks|dbt build|mart checks|publish|report) +(\S*) +[0-9.]+ s(.*)$",
                        shown, re.M)
    done, total = stages[2][1].split("/")
    assert done == total and int(total) > 100  # every dbt node of the build
    assert [(name, count, note.strip()) for name, count, note in stages if name != "dbt build"] == [
        ("load files", "0/0", "6 loaded before"), ("raw checks", "5/5", ""), ("mart checks", "22/22", ""),
        ("publish", "", "20 marts"), ("report", "", "")]
    assert "OK created sql table model" not in shown
    assert "OK created sql table model" in (warehouse / "logs" / "last-refresh.log").read_text()
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        facts = con.execute("select account_id, cast(month as varchar), mrr, movement from main.fct_mrr_monthly "
                            "order by account_id, month").fetchall()
        kpis = con.execute("select cast(month as varchar), mrr, arr, active_customers, new_mrr, expansion_mrr, "
                           "net_new_mrr, new_customers from main.kpi_monthly order by month").fetchall()
        events = con.execute("select count(*) from main.early_warnings").fetchone()
        health = con.execute("select count(*) from main.fct_account_health_daily").fetchone()
        usage_kpis = con.execute("select count(*) from main.kpi_monthly where at_risk_mrr is not null "
                                 "or activation_rate is not null or marketing_spend is not null "
                                 "or cac is not null").fetchone()
        bands = con.execute("select list(distinct health_band), count(health_band) from main.dim_accounts").fetchone()
        unscored = con.execute("select unscored_mrr from main.kpi_monthly where month = '2024-03-01'").fetchone()
        deliveries = con.execute("select source || '/' || entity, is_delivered, files_loaded, rows_loaded, missing_note "
                                 "from main.dq_source_deliveries order by 1").fetchall()
    # acc_a: 2 × $100 = $200 from January, 3 × $100 = $300 at the end of March;
    # acc_b: €1,200 ÷ 12 × 0.9 = €90 × 1.10 $/€ = $99.00 from February
    assert facts == [
        ("acc_a", "2024-01-01", Decimal("200.00"), "new"),
        ("acc_a", "2024-02-01", Decimal("200.00"), "flat"),
        ("acc_a", "2024-03-01", Decimal("300.00"), "expansion"),
        ("acc_b", "2024-02-01", Decimal("99.00"), "new"),
        ("acc_b", "2024-03-01", Decimal("99.00"), "flat"),
    ]
    assert [(m, float(mrr), float(arr), n, float(new), float(exp), float(net), nc)
            for m, mrr, arr, n, new, exp, net, nc in kpis] == [
        ("2024-01-01", 200.0, 2400.0, 1, 200.0, 0.0, 200.0, 1),
        ("2024-02-01", 299.0, 3588.0, 2, 99.0, 0.0, 99.0, 1),
        ("2024-03-01", 399.0, 4788.0, 2, 0.0, 100.0, 100.0, 0),
    ]
    assert events == (0,)  # no usage delivered: no early warning
    # no usage: no health score (rather than a red band for every account) — both paying
    # accounts are explicitly unscored, all of March's MRR with them — no at-risk MRR or
    # activation rate; no finance: no marketing spend and no CAC (rather than 0)
    assert health == (0,) and bands == (["unscored"], 2) and unscored == (Decimal("399.00"),) and usage_kpis == (0,)
    delivered = {name: (files, rows) for name, ok, files, rows, _ in deliveries if ok}
    assert delivered == {"billing/customers": (1, 2), "billing/fx_rates": (1, 1), "billing/plans": (1, 2),
                         "billing/subscription_items": (1, 3), "billing/subscriptions": (1, 2),
                         "crm/accounts": (1, 2)}
    never = {name: note for name, ok, _, _, note in deliveries if not ok}
    assert never["usage/events"] == "no usage data delivered (events)"
    assert set(never) == {"billing/invoice_lines", "billing/invoices", "billing/payments", "billing/refunds",
                          "crm/activities", "crm/contacts", "crm/leads", "crm/nps_responses",
                          "crm/opportunities", "crm/support_tickets", "crm/users", "finance/marketing_spend",
                          "usage/events", "usage/users"}
    assert main(["report", "--warehouse", str(warehouse)]) == 0
    report = (warehouse / "reports" / "2024-03-31" / "index.html").read_text()
    assert ("Sources not yet delivered:</strong> no billing data delivered (invoice_lines, invoices, payments, "
            "refunds); no crm data delivered (activities, contacts, leads, nps_responses, opportunities, "
            "support_tickets, users); no finance data delivered (marketing_spend); "
            "no usage data delivered (events, users).") in " ".join(report.split())
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        never = con.execute("select count(*) from raw.usage__events").fetchone()
    assert never == (0,)  # the raw table exists, empty, until usage delivers
    # usage arrives later (one event of acc_a on 30 March): every paying account-day gets its
    # score — the days before that event too, which the incremental build had left out while
    # usage was missing: acc_a 10 January – 31 March (82 days), acc_b 1 February – 31 March (60)
    (landing / "usage/events").mkdir(parents=True)
    (landing / "usage/events/e.csv").write_text("event_id,user_id,account_id,event_name,feature,occurred_at\n"
                                                "ev_1,u_1,acc_a,login,,2024-03-30T09:00:00Z\n")
    assert main(["refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "2024-03-31"]) == 0
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        scored = con.execute("select account_id, count(*), cast(min(date) as varchar), cast(max(date) as varchar) "
                             "from main.fct_account_health_daily group by 1 order by 1").fetchall()
        usage_row = con.execute("select is_delivered, rows_loaded from main.dq_source_deliveries "
                                "where source = 'usage' and entity = 'events'").fetchone()
        at_risk = con.execute("select count(*) from main.kpi_monthly where at_risk_mrr is null").fetchone()
    assert scored == [("acc_a", 82, "2024-01-10", "2024-03-31"), ("acc_b", 60, "2024-02-01", "2024-03-31")]
    assert usage_row == (True, 1) and at_risk == (0,)
