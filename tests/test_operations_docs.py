"""docs/operations.md says what /metrics serves, and deploy/prometheus/ works: the table
lists exactly the metrics served, the scrape configuration and the alerts name only those,
and (with `promtool`, from Debian's `prometheus` package) both files load and the alerts
fire when they should, and only then."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from metrics_helpers import TOKEN, bearer
from shop import ROOT

OPERATIONS = Path(ROOT) / "docs" / "operations.md"
PROMETHEUS = Path(ROOT) / "deploy" / "prometheus"
needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool not installed (apt-get install prometheus); .ci/run installs it",
)


def metrics_section() -> str:
    """The "Metrics" section of docs/operations.md."""
    text = OPERATIONS.read_text()
    start = text.index("### Metrics")
    return text[start : text.index("\n### ", start + 1)]


def prometheus_files() -> tuple[str, str]:
    """(the scrape configuration, the alert rules) as deploy/prometheus/ holds them."""
    return (PROMETHEUS / "prometheus.yml").read_text(), (PROMETHEUS / "alerts.yml").read_text()


def served(app) -> set[str]:
    """The metric names a scrape declares (its TYPE lines)."""
    app.config["METRICS_TOKEN"] = TOKEN
    text = app.test_client().get("/metrics", headers=bearer()).get_data(as_text=True)
    return set(re.findall(r"^# TYPE (\S+) \w+$", text, re.M))


def promtool(folder: Path, *args: str) -> None:
    """Run `promtool args...` in `folder`; it must succeed."""
    done = subprocess.run(
        ["promtool", *args], cwd=folder, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_table_lists_exactly_the_metrics_served(app):
    listed = set(re.findall(r"^\| `(shop_\w+)` \|", metrics_section(), re.M))
    assert listed == served(app)


def test_the_examples_name_only_metrics_served(app):
    names = set(re.findall(r"\bshop_\w+", "".join(prometheus_files())))
    assert names and names <= served(app)


@needs_promtool
def test_promtool_accepts_the_scrape_configuration_and_the_rules(tmp_path):
    config, rules = prometheus_files()
    token = tmp_path / "token"
    token.write_text(TOKEN)
    (tmp_path / "alerts.yml").write_text(rules)
    config = config.replace("/etc/prometheus/northside-metrics-token", str(token))
    assert "rule_files:\n  - alerts.yml\n" in config
    (tmp_path / "prometheus.yml").write_text(config)
    promtool(tmp_path, "check", "config", "prometheus.yml")


#: What each alert says when it fires (its annotations, as alerts.yml writes them).
WEBHOOKS_FIRING = """[{exp_labels: {severity: page}, exp_annotations: {
  summary: "No Stripe webhook for 24 hours while customers check out",
  description: "Check the webhook endpoint and STRIPE_WEBHOOK_SECRET in Stripe's dashboard;
    flask payments reconcile applies what was missed."}}]"""
BACKLOG_FIRING = """[{exp_labels: {severity: warning}, exp_annotations: {
  summary: "150 emails waiting to be sent",
  description: "Is a worker process running (heroku ps:scale worker=1), and does the SMTP
    server of MAIL_URL accept mail? The worker's log says which."}}]"""
#: promtool's clock starts at 0: a last webhook at 0 is 25 hours old at "25h".
ALERT_TESTS = f"""
rule_files: [alerts.yml]
evaluation_interval: 1m
tests:
  - interval: 5m
    input_series:
      - series: shop_webhook_last_received_timestamp_seconds{{instance="quiet"}}
        values: 0x400
      - series: shop_checkout_sessions_created_total{{instance="quiet"}}
        values: 0+1x400
      - series: shop_outbox_backlog{{instance="quiet"}}
        values: 150x400
    alert_rule_test:
      - {{eval_time: 23h, alertname: StripeWebhooksNotArriving, exp_alerts: []}}
      - eval_time: 25h
        alertname: StripeWebhooksNotArriving
        exp_alerts: {WEBHOOKS_FIRING}
      - eval_time: 30m
        alertname: EmailBacklog
        exp_alerts: {BACKLOG_FIRING}
  - interval: 5m
    input_series:
      - series: shop_webhook_last_received_timestamp_seconds{{instance="busy"}}
        values: 0+300x400
      - series: shop_checkout_sessions_created_total{{instance="busy"}}
        values: 0+1x400
      - series: shop_outbox_backlog{{instance="busy"}}
        values: 50x400
    alert_rule_test:
      - {{eval_time: 30h, alertname: StripeWebhooksNotArriving, exp_alerts: []}}
      - {{eval_time: 30h, alertname: EmailBacklog, exp_alerts: []}}
  - interval: 5m
    input_series:
      - series: shop_checkout_sessions_created_total{{instance="new"}}
        values: 0+1x400
    alert_rule_test:
      - eval_time: 2h
        alertname: StripeWebhooksNotArriving
        exp_alerts: {WEBHOOKS_FIRING}
  - interval: 5m
    input_series:
      - series: shop_webhook_last_received_timestamp_seconds{{instance="closed"}}
        values: 0x400
      - series: shop_checkout_sessions_created_total{{instance="closed"}}
        values: 5x400
    alert_rule_test:
      - {{eval_time: 30h, alertname: StripeWebhooksNotArriving, exp_alerts: []}}
"""


@needs_promtool
def test_the_alerts_fire_when_they_should_and_only_then(tmp_path):
    """Webhooks: stale for 25 h with checkouts (fires), fresh (quiet), never seen with
    checkouts (fires), stale without checkouts (quiet). Backlog: 150 (fires), 50 (quiet)."""
    (tmp_path / "alerts.yml").write_text(prometheus_files()[1])
    (tmp_path / "tests.yml").write_text(ALERT_TESTS)
    promtool(tmp_path, "test", "rules", "tests.yml")
