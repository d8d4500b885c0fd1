"""End to end in headless Chromium: sign up, configure a project, send OTLP logs, watch them, replay dead
letters, follow each batch on the Runs page.

Screenshots of the main pages go to ``test-artifacts/screenshots/`` (``docs/screenshots/``
holds the chosen ones). Marked ``browser`` and ``slow``; skipped when Chromium is missing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from django.db import connections
from django.urls import reverse

from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    Agent,
    Recorder,
    Workers,
    asgi_server,
    otlp_logs,
)
from tests.support.ci import skip_outside_ci
from tests.support.deadline import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "a-long-e2e-passphrase-42"
SAMPLE = [{"severityNumber": 17, "severityText": "error", "body": "connection refused"},
          {"severityNumber": 9, "severityText": "info", "body": "request served"}]


@pytest.fixture(autouse=True)
def _chromium() -> None:
    if not Path(CHROMIUM).exists():
        skip_outside_ci(f"{CHROMIUM} is missing: apt-get install chromium")


@pytest.fixture
def web(settings, nats_server):
    """The ASGI app on a free port, with settings a plain-http browser session needs."""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True  # static files without collectstatic
    # Server threads must not keep connections open, or the test database cannot be flushed and dropped.
    db = connections.settings["default"]
    previous = db.get("CONN_MAX_AGE")
    db["CONN_MAX_AGE"] = 0
    try:
        with asgi_server() as url:
            yield url
    finally:
        db["CONN_MAX_AGE"] = previous


@pytest.fixture
def stack(nats_server, tmp_path):
    workers = Workers(nats_server.url, tmp_path).start()
    agent, webhook = Agent(), Recorder()
    agent.receiver_url = workers.receiver_url
    yield workers, agent, webhook
    workers.stop()
    agent.close()
    webhook.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def tab(page, name: str) -> None:
    page.get_by_role("navigation", name="Project").get_by_role("link", name=name, exact=True).click()


def metric(page, key: str) -> int:
    text = page.locator(f'[data-metric="{key}"] .value').inner_text().strip()
    return int(text) if text.isdigit() else 0


def replay(page, button: str, confirmation: str, receiver, expected: str, *, what: str) -> None:
    """Press a replay button, see its confirmation, and wait until ``receiver`` (the agent or a
    webhook stand-in) got a request again, the latest one containing ``expected``."""
    from playwright.sync_api import expect

    before = len(receiver.bodies)
    page.get_by_role("button", name=button).click()
    expect(page.locator(".messages")).to_contain_text(confirmation)
    wait_for(lambda: len(receiver.bodies) > before, timeout=20, message=what)
    assert expected in json.dumps(receiver.bodies[-1])


def test_signup_to_replayed_dead_letter(web, stack):
    from playwright.sync_api import expect, sync_playwright

    workers, agent, webhook = stack
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda dialog: dialog.accept())
        expect.set_options(timeout=15_000)
        try:
            run_flow(page, web, workers, agent, webhook)
        finally:
            browser.close()


def run_flow(page, web: str, workers: Workers, agent: Agent, webhook: Recorder) -> None:
    from playwright.sync_api import expect

    # Sign up (a weak password first: the error is shown next to the field).
    page.goto(web + reverse("accounts:signup"))
    page.get_by_label("E-mail").fill("e2e@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#id_password_error")).to_contain_text("too short")
    shot(page, "signup-errors")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible()

    # Create a project: htmx posts the form and follows HX-Redirect to its activity page.
    page.get_by_label("Project name").fill("checkout")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="checkout", exact=True)).to_be_visible()
    project_url = page.url.split("?")[0]

    # A key: the secret and the OTLP snippet are shown once.
    tab(page, "API keys")
    page.get_by_label("Key name").fill("checkout e2e")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#otlp-snippet")).to_contain_text("OTEL_EXPORTER_OTLP_HEADERS=x-api-key=")
    secret = page.locator("#new-key-secret").inner_text().strip()
    agent.key = secret
    shot(page, "api-key-created")

    # Pipeline: a filter with an error is flagged as you type, then fixed.
    tab(page, "Pipeline")
    page.get_by_label("Filter").press_sequentially("severityNumber >= ", delay=20)
    expect(page.locator("#filter-check .expr-error")).to_contain_text("(1:")
    shot(page, "pipeline-filter-error")
    page.get_by_label("Filter").press_sequentially("13", delay=20)
    expect(page.locator("#filter-check")).to_contain_text("compiles")
    page.get_by_role("button", name="+ Add transform").click()
    page.get_by_label("Expression 1").fill("upper(severityText)")
    page.get_by_label("Output name").fill("level")
    page.get_by_label("Agent endpoint").fill(agent.url)
    page.get_by_label("Pipeline enabled").check()
    page.get_by_role("button", name="+ Add header").click()
    page.get_by_label("Header 1 name").fill("Authorization")
    page.get_by_label("Header 1 value").fill("Bearer agent-token")

    # Playground over the unsaved settings: one record passes (transformed), one is dropped.
    page.get_by_label("Sample records (JSON array)").fill(json.dumps(SAMPLE, indent=2))
    page.get_by_role("button", name="Run on sample").click()
    expect(page.locator('#playground-result [data-status="passed"]')).to_contain_text('"level": "ERROR"')
    expect(page.locator('#playground-result [data-status="dropped"]')).to_have_count(1)
    shot(page, "pipeline-playground")
    page.get_by_role("button", name="Save pipeline").click()
    expect(page.locator(".messages")).to_contain_text("Pipeline saved")
    expect(page.get_by_label("Header 1 value")).to_have_value("********")  # masked after saving

    # A webhook sink; the test message is delivered and shown inline.
    tab(page, "Sinks")
    page.get_by_role("link", name="+ Add Webhook").click()
    page.get_by_label("Name").fill("incidents")
    page.get_by_label("URL").fill(webhook.url)
    page.get_by_role("button", name="Add sink").click()
    expect(page.locator(".messages")).to_contain_text("Sink incidents saved")
    page.get_by_role("button", name="Send test message").click()
    expect(page.locator(".inline-result")).to_contain_text("Test message delivered")
    assert webhook.bodies and webhook.bodies[-1]["payload"]["test"] is True
    shot(page, "sinks")

    # The webhook now refuses deliveries for good (410), so agent outputs become dead letters.
    webhook.status = 410
    page.goto(project_url)
    expect(page.locator("[data-tail-state]")).to_have_text("live")
    send = httpx.post(f"{workers.receiver_url}/v1/logs", headers={"X-API-Key": secret},
                      json=otlp_logs((17, "error", "db pool exhausted"), (9, "info", "ok"), (18, "error", "timeout")),
                      timeout=10)
    if send.status_code == 401:  # the receiver learns a new key from the config bucket within a second
        send = wait_for(lambda: (r := httpx.post(f"{workers.receiver_url}/v1/logs", headers={"X-API-Key": secret},
                                                 json=otlp_logs((17, "error", "db pool exhausted")), timeout=10))
                        .status_code == 200 and r, timeout=10)
    assert send.status_code == 200, send.text
    expect(page.locator(".tail li.raw", has_text="db pool exhausted")).to_have_count(1)
    expect(page.locator(".tail li.output", has_text="analysed").first).to_be_visible(timeout=30_000)
    # The numbers refresh by htmx polling (no reload, so the tail keeps its lines).
    wait_for(lambda: metric(page, "records_in") >= 3 and metric(page, "dropped") >= 1 and metric(page, "batches") >= 1
             and metric(page, "outputs") >= 1 and metric(page, "dlq_depth") >= 1,
             timeout=40, interval=1, message="dashboard numbers")
    more = otlp_logs(*[(17 + i % 3, "error", f"payment gateway timeout #{i}") for i in range(12)])
    assert httpx.post(f"{workers.receiver_url}/v1/logs", headers={"X-API-Key": secret}, json=more,
                      timeout=10).status_code == 200
    wait_for(lambda: metric(page, "records_in") >= 15, timeout=20, interval=1, message="second batch counted")
    shot(page, "activity")

    # Dead letters: the failed delivery is listed; after fixing the webhook, replay delivers it.
    tab(page, "Dead letters")
    expect(page.locator("table")).to_contain_text("410")
    shot(page, "dead-letters")
    page.get_by_role("link", name="View").first.click()
    expect(page.locator("#dlq-payload")).to_contain_text("analysed")
    page.go_back()
    webhook.status = 200
    replay(page, "Replay all", "replayed", webhook, "analysed", what="replayed delivery")

    # Runs: every batch the pipeline sent to the agent, joined with the output that came back.
    tab(page, "Runs")
    runs_table = page.locator("#runs-table")
    expect(runs_table).to_contain_text("delivered")
    expect(runs_table).to_contain_text("analysed")
    shot(page, "runs")
    outcome = page.get_by_role("navigation", name="Outcome")
    outcome.get_by_role("link", name="Dead-lettered").click()
    expect(page.locator("#runs")).to_contain_text("No runs with this outcome")
    outcome.get_by_role("link", name="Delivered").click()
    expect(runs_table.locator("tbody tr").first).to_be_visible()
    runs_table.get_by_role("link", name="Open").last.click()  # the oldest run: the first three records
    expect(page.locator("#run-input")).to_contain_text("db pool exhausted")
    expect(page.locator(".run-output").first).to_contain_text("analysed")
    expect(page.locator("#run-attempts")).to_contain_text("200")
    shot(page, "run-detail")
    replay(page, "Replay", "put back into the pipeline", agent, "db pool exhausted",
           what="the replayed run reached the agent")

    # The rest of the pages, for the screenshots.
    tab(page, "Members")
    shot(page, "members")
    tab(page, "Settings")
    shot(page, "settings")
    page.get_by_role("link", name="Projects").first.click()
    expect(page.locator("td.health")).to_contain_text(re.compile(r"\d+ records? in the last hour"))
    shot(page, "projects")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(project_url)
    shot(page, "activity-mobile")
