"""Content-Security-Policy and Permissions-Policy on every response, and no inline script or style
left in the templates for the enforced policy to block.

Every URL pattern is asked, for an anonymous visitor and for a manager (who may open nearly
everything), the admin's and a static file included.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver


def walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk(entry, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


def concrete_path(route: str) -> str:
    """Fill converters with plausible values: ints -> 1, anything else -> a word."""
    path = re.sub(
        r"<(?:(\w+):)?\w+>", lambda m: "1" if m.group(1) == "int" else "x1", route
    ).replace("^", "")
    return "/" + path.removesuffix("$")


PATTERNS = [(route, ns, entry) for route, ns, entry in walk(get_resolver())]
IDS = [f"{ns}:{entry.name}" if ns else str(entry.name) for _, ns, entry in PATTERNS]
EXTRA_PATHS = ["/static/css/mesoclinic.css", "/no-such-page/", "/admin/login/"]

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
PERMISSIONS_OFF = ["camera", "microphone", "geolocation", "payment", "usb"]


def csp_directives(header: str) -> dict[str, str]:
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value.strip()
    return directives


def assert_security_headers(response) -> None:
    assert "Content-Security-Policy-Report-Only" not in response, "the policy must be enforced"
    directives = csp_directives(response["Content-Security-Policy"])
    for name, value in EXPECTED_CSP.items():
        assert directives.get(name) == value, (name, directives.get(name))
    for directives_value in directives.values():
        assert "unsafe-inline" not in directives_value
        assert "unsafe-eval" not in directives_value
    permissions = response["Permissions-Policy"]
    for feature in PERMISSIONS_OFF:
        assert f"{feature}=()" in permissions


def paths() -> list[str]:
    return [concrete_path(route) for route, _, _ in PATTERNS] + EXTRA_PATHS


@pytest.mark.django_db
@pytest.mark.parametrize("path", paths(), ids=IDS + EXTRA_PATHS)
def test_every_response_to_an_anonymous_visitor_carries_the_policies(client, clinic, path):
    assert_security_headers(client.get(path))


@pytest.mark.django_db
@pytest.mark.parametrize("path", paths(), ids=IDS + EXTRA_PATHS)
def test_every_response_to_a_manager_carries_the_policies(manager, path):
    response = manager.get(path)
    assert_security_headers(response)
    if path.startswith(("/admin/", "/static/")) or "text/html" not in response["Content-Type"]:
        return
    # Pages the enforced policy would break: an inline script, style element or style attribute.
    body = response.content.decode()
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body) is None
    assert "<style" not in body
    assert re.search(r"\sstyle=", body) is None


@pytest.mark.django_db
def test_a_post_answer_and_an_htmx_fragment_carry_the_policies_too(manager, front_desk):
    assert_security_headers(manager.post("/accounts/logout/"))
    assert_security_headers(front_desk.get("/calendar/", headers={"HX-Request": "true"}))


@pytest.mark.django_db
def test_the_superusers_admin_pages_carry_the_policies(admin_client):
    assert_security_headers(admin_client.get("/admin/"))


# Emails are not web pages: mail clients need inline styles and never see the CSP.
EMAIL_TEMPLATES = "/messaging/emails/"
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler (on...=)"),
    (re.compile(r"\shx-on[:-]", re.I), "hx-on handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def template_files() -> list[Path]:
    roots = [Path(settings.BASE_DIR) / "templates"]
    roots += sorted((Path(settings.BASE_DIR)).glob("*/templates"))
    roots += sorted((Path(settings.BASE_DIR)).glob("*/*/templates"))
    return [
        path
        for root in roots
        for path in sorted(root.rglob("*.html"))
        if EMAIL_TEMPLATES not in path.as_posix()
    ]


def test_no_template_has_inline_script_style_or_handlers():
    files = template_files()
    assert len(files) > 50  # the walk found the apps' templates
    found = [
        f"{path.relative_to(settings.BASE_DIR)}: {label}"
        for path in files
        for pattern, label in INLINE
        if pattern.search(path.read_text())
    ]
    assert found == []
