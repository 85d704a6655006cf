"""One access matrix: every URL pattern, real objects, the exact status for every role.

`PAGES` says, for every role-gated URL name, how to build its URL from real objects, which
personas may use it and what they get (200, 405 for a POST-only view, 302 where the view
redirects by design). Everyone else gets 403 on GET and on POST; an anonymous visitor is sent
to the login page. `PUBLIC_PAGES` does the same for the routes open without login (the login
page and the patients' signed links), with a valid and with an invalid token.

Adding a URL is one entry in one of the two tables; a URL pattern in neither table fails
`test_every_url_pattern_has_one_entry_in_the_matrix`. Every response of the matrix passes
through `check_every_response`, the one place for a rule that holds for every page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator as reset_tokens
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from mesoclinic.access import PUBLIC
from tests.support.access_world import World
from tests.support.second_factor import login_verified
from treatments.online.models import BookingRequest
from treatments.online.services import online_link_make
from treatments.waitlist import links as waitlist_links

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
PERSONAS = ("front_desk", "practitioner", "therapist", "manager", "outsider")  # root conftest
BOOKING = frozenset({"front_desk", "practitioner", "therapist", "manager"})
CLINICAL = frozenset({"practitioner", "therapist", "manager"})
MANAGER = frozenset({"manager"})
# Django's admin keeps its own gate (staff users only): checked on its own below.
OWN_GATE_NAMESPACES = {"admin"}
LOGIN = reverse("login")


def kw(**paths: str) -> Callable[[World], dict[str, Any]]:
    """URL kwargs from the world: `pk="patient"` is the patient's pk, `key="photo.key"` an
    attribute."""

    def build(world: World) -> dict[str, Any]:
        kwargs = {}
        for name, path in paths.items():
            obj_name, _, attr = path.partition(".")
            obj = getattr(world, obj_name)
            kwargs[name] = getattr(obj, attr or "pk")
        return kwargs

    return build


NONE = kw()


def search_doe(world: World) -> dict[str, Any]:
    """A search that finds the world's patient."""
    return {"q": world.patient.last_name}


@dataclass(frozen=True)
class Page:
    kwargs: Callable[[World], dict[str, Any]]
    allowed: frozenset[str]
    status: int = 200  # what an allowed persona gets on GET
    query: Callable[[World], dict[str, Any]] = NONE  # GET parameters the page needs


POST_ONLY = 405
REDIRECTS = 302

PAGES: dict[str, Page] = {
    "home": Page(NONE, BOOKING, REDIRECTS),
    "password_change": Page(NONE, BOOKING),
    "password_change_done": Page(NONE, BOOKING),
    # Signed in and verified: both send the user on (the pages themselves: treatments/accounts).
    "accounts:second_factor_enrol": Page(NONE, BOOKING, REDIRECTS),
    "accounts:second_factor_verify": Page(NONE, BOOKING, REDIRECTS),
    "accounts:second_factor_reset": Page(kw(pk="doctor"), MANAGER),
    "dataprotection:patient_export": Page(kw(pk="patient"), frozenset({"practitioner", "manager"})),
    "dataprotection:patient_erasure": Page(kw(pk="patient"), MANAGER),
    "session_status": Page(NONE, BOOKING),
    "session_extend": Page(NONE, BOOKING, POST_ONLY),
    "signin_locks": Page(NONE, MANAGER),
    "signin_unlock": Page(NONE, MANAGER),
    # patients
    "patients:patient_list": Page(NONE, BOOKING, query=search_doe),
    "patients:patient_create": Page(NONE, BOOKING),
    "patients:patient_picker": Page(NONE, BOOKING, query=search_doe),
    "patients:patient_detail": Page(kw(pk="patient"), BOOKING),
    "patients:patient_edit": Page(kw(pk="patient"), BOOKING),
    "patients:patient_consent": Page(kw(pk="patient"), BOOKING, POST_ONLY),
    # messaging (staff pages)
    "messaging:outbox": Page(NONE, BOOKING),
    "messaging:patient_messages": Page(kw(patient_id="patient"), BOOKING),
    "messaging:message_detail": Page(kw(pk="message"), BOOKING),
    "messaging:message_retry": Page(kw(pk="message"), BOOKING, POST_ONLY),
    # calendar and sessions
    "treatments:calendar": Page(NONE, BOOKING),
    "treatments:session_create": Page(NONE, BOOKING),
    "treatments:next_available": Page(NONE, BOOKING),
    "treatments:today": Page(NONE, BOOKING),
    "treatments:patient_cancellation_seen": Page(kw(pk="patient_cancellation"), BOOKING, POST_ONLY),
    "treatments:session_detail": Page(kw(pk="session"), BOOKING),
    "treatments:session_reschedule": Page(kw(pk="session"), BOOKING),
    "treatments:session_drop": Page(kw(pk="session"), BOOKING, POST_ONLY),
    "treatments:session_cancel": Page(kw(pk="session"), BOOKING),
    "treatments:session_status": Page(kw(pk="session"), BOOKING, POST_ONLY),
    # clinic set-up
    "treatments:setup": Page(NONE, MANAGER),
    "audit:audit_list": Page(NONE, MANAGER),
    "audit:audit_csv": Page(NONE, MANAGER),
    "treatments:setup_clinic": Page(NONE, MANAGER),
    "treatments:setup_opening_hours": Page(NONE, MANAGER),
    "treatments:setup_rooms": Page(NONE, MANAGER),
    "treatments:setup_room_create": Page(NONE, MANAGER),
    "treatments:setup_room_edit": Page(kw(pk="room"), MANAGER),
    "treatments:setup_room_deactivate": Page(kw(pk="room"), MANAGER),
    "treatments:setup_session_types": Page(NONE, MANAGER),
    "treatments:setup_session_type_create": Page(NONE, MANAGER),
    "treatments:setup_session_type_edit": Page(kw(pk="session_type"), MANAGER),
    "treatments:setup_staff": Page(NONE, MANAGER),
    "treatments:setup_staff_create": Page(NONE, MANAGER),
    "treatments:setup_staff_edit": Page(kw(pk="doctor"), MANAGER),
    "treatments:setup_staff_deactivate": Page(kw(pk="doctor"), MANAGER),
    "treatments:setup_staff_reactivate": Page(kw(pk="doctor"), MANAGER, POST_ONLY),
    "treatments:setup_staff_hours": Page(kw(pk="doctor"), MANAGER),
    "treatments:setup_exception_add": Page(kw(pk="doctor"), MANAGER, POST_ONLY),
    "treatments:setup_exception_delete": Page(
        kw(pk="doctor", exception_pk="working_exception"), MANAGER, POST_ONLY
    ),
    # products
    "products:product_list": Page(NONE, CLINICAL),
    "products:product_create": Page(NONE, MANAGER),
    "products:product_detail": Page(kw(pk="product"), CLINICAL),
    "products:product_edit": Page(kw(pk="product"), MANAGER),
    "products:lot_create": Page(kw(pk="product"), MANAGER),
    "products:stock_dashboard": Page(NONE, MANAGER),
    "products:recall_search": Page(NONE, MANAGER),
    "products:lot_recall": Page(kw(pk="lot"), MANAGER),
    "products:lot_recall_csv": Page(kw(pk="lot"), MANAGER),
    # courses
    "courses:course_list": Page(NONE, BOOKING),
    "courses:course_detail": Page(kw(pk="course"), BOOKING),
    "courses:course_book_step": Page(
        kw(pk="course", number="course.sessions_count"), BOOKING, POST_ONLY
    ),
    "courses:course_book_all": Page(kw(pk="course"), BOOKING, POST_ONLY),
    "courses:course_stop": Page(kw(pk="course"), CLINICAL, POST_ONLY),
    "courses:booking_step_choice": Page(NONE, BOOKING, query=kw(patient="patient")),
    "courses:patient_courses": Page(kw(patient_pk="patient"), BOOKING),
    "courses:course_create": Page(kw(patient_pk="patient"), CLINICAL),
    "courses:protocol_list": Page(NONE, CLINICAL),
    "courses:protocol_create": Page(NONE, MANAGER),
    "courses:protocol_edit": Page(kw(pk="protocol"), MANAGER),
    # clinical
    "clinical:dashboard": Page(NONE, CLINICAL),
    "clinical:today": Page(NONE, CLINICAL),
    "clinical:patient": Page(kw(patient_pk="patient"), CLINICAL),
    "clinical:booking_hold_lift": Page(kw(patient_pk="patient"), CLINICAL, POST_ONLY),
    "clinical:consultation_create": Page(kw(patient_pk="patient"), CLINICAL),
    "clinical:consultation_detail": Page(kw(pk="consultation"), CLINICAL),
    "clinical:consultation_edit": Page(kw(pk="consultation"), CLINICAL),
    "clinical:consultation_sign": Page(kw(pk="consultation"), CLINICAL, POST_ONLY),
    "clinical:consultation_addendum": Page(kw(pk="consultation"), CLINICAL, POST_ONLY),
    "clinical:screening_create": Page(kw(patient_pk="patient"), CLINICAL),
    "clinical:screening_detail": Page(kw(pk="screening"), CLINICAL),
    "clinical:consent_overview": Page(kw(patient_pk="patient"), CLINICAL),
    "clinical:consent_sign": Page(kw(patient_pk="patient", text_pk="consent_text"), CLINICAL),
    "clinical:photo_consent_change": Page(kw(patient_pk="patient"), CLINICAL, POST_ONLY),
    "clinical:consent_signature": Page(kw(key="consent.key"), CLINICAL),
    "clinical:consent_signature_image": Page(kw(key="consent.key"), CLINICAL),
    "clinical:consent_texts": Page(NONE, MANAGER),
    "clinical:screening_rules": Page(NONE, MANAGER),
    "clinical:screening_rule_create": Page(NONE, MANAGER),
    "clinical:screening_rule_edit": Page(kw(pk="screening_rule"), MANAGER),
    "clinical:record": Page(kw(session_pk="session"), CLINICAL),
    "clinical:record_draft": Page(kw(session_pk="session"), CLINICAL, POST_ONLY),
    "clinical:record_product": Page(kw(session_pk="record.session_id"), CLINICAL, POST_ONLY),
    "clinical:record_product_delete": Page(
        kw(session_pk="session", usage_pk="product_usage"), CLINICAL, POST_ONLY
    ),
    "clinical:record_sign": Page(kw(session_pk="record.session_id"), CLINICAL, POST_ONLY),
    "clinical:record_addendum": Page(kw(session_pk="record.session_id"), CLINICAL, POST_ONLY),
    "clinical:photos": Page(kw(session_pk="session"), CLINICAL),
    "clinical:photo_file": Page(kw(key="photo.key"), CLINICAL),
    "clinical:photo_compare": Page(kw(patient_pk="patient"), CLINICAL),
    "clinical:reaction_create": Page(kw(session_pk="session"), CLINICAL),
    "clinical:reaction_detail": Page(kw(pk="reaction"), CLINICAL),
    "online:requests": Page(NONE, BOOKING),
    "online:request_decide": Page(lambda world: {"pk": 1}, BOOKING, POST_ONLY),
    "clinical:reaction_acknowledge": Page(kw(pk="reaction"), CLINICAL, POST_ONLY),
    "waitlist:entry_list": Page(NONE, BOOKING),
    "waitlist:entry_add": Page(NONE, BOOKING, query=lambda world: {"patient": world.patient.pk}),
    "waitlist:entry_detail": Page(kw(pk="waitlist_entry"), BOOKING),
    "waitlist:entry_withdraw": Page(kw(pk="waitlist_entry"), BOOKING, POST_ONLY),
    "waitlist:settings": Page(NONE, MANAGER),
}


# Words for developers, never for the people using the clinic: a template or a message leaking
# its insides, a note to self, an exception's name (issue 8: "The seed's advice: ... walk away",
# "This appointment is already arrived").
DEVELOPER_TEXT = re.compile(
    r"\{\{|\{%|\bTODO\b|\bFIXME\b|Traceback|\b[A-Z]\w+(?:Error|Exception)\b|"
    r"\b[Tt]he seed\b|walk away|is already arrived|\bpk\b"
)


def visible_text(html: str) -> str:
    """What the page shows: its text outside scripts, styles and tags (attributes included in
    the tags, so a `title` or `aria-label` is not checked: they are read by screen readers, and
    kept to the same words by review)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL | re.IGNORECASE)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(
    ("html", "developer"),
    [
        ("<p>The seed's advice: if it hurts, walk away.</p>", True),
        ("<div>This appointment is already arrived</div>", True),
        ("<td>{{ session.patient }}</td>", True),
        ("<p>DomainError: slot taken</p>", True),
        ("<p>None yet.</p><p>Products used: none recorded</p>", False),
        ('<a title="pk 3" href="/sessions/3/">Jane Doe</a><script>let pk = 1;</script>', False),
    ],
)
def test_the_developer_text_rule_reads_what_the_page_shows(html, developer):
    assert (DEVELOPER_TEXT.search(visible_text(html)) is not None) is developer


def check_every_response(response: HttpResponse, *, url: str, who: str) -> None:
    """Runs on every response of the matrix: a rule that holds for every page goes here."""
    if response.get("Content-Type", "").startswith("text/html") and response.status_code == 200:
        found = DEVELOPER_TEXT.search(visible_text(response.content.decode()))
        assert found is None, f"{who} {url}: developer text on screen: {found and found.group(0)!r}"
    assert response["X-Frame-Options"] == "DENY", f"{who} {url}: framable"
    assert response["X-Content-Type-Options"] == "nosniff", f"{who} {url}: no nosniff"
    assert "Content-Security-Policy" in response, f"{who} {url}: no Content-Security-Policy"
    if who != "anonymous":
        # Signed-in pages are never cached: after sign-out the back button shows nothing.
        assert "no-store" in response.get("Cache-Control", ""), f"{who} {url}: cacheable"


def walk(resolver: URLResolver, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk(entry, full_ns)
        elif isinstance(entry, URLPattern):
            yield namespace, entry


URL_NAMES = [
    (f"{ns}:{entry.name}" if ns else str(entry.name), entry)
    for ns, entry in walk(get_resolver())
    if ns not in OWN_GATE_NAMESPACES
]


@dataclass(frozen=True)
class PublicPage:
    """A route open without login: what anyone gets with a valid link, and with a forged one."""

    kwargs: Callable[[World], dict[str, Any]]
    status: int = 200
    forged: dict[str, Any] | None = None  # kwargs of a link nobody signed
    forged_status: int = 400


def signed(action: str) -> Callable[[World], dict[str, Any]]:
    return lambda world: {"token": world.token(action)}


FORGED = {"token": "eyJzIjoxfQ:forged:signature"}


def reset_link(world: World) -> dict[str, Any]:
    """A real password-reset link for the doctor (Django answers it with a redirect that hides
    the token from the address bar)."""
    user = world.doctor.user
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": reset_tokens.make_token(user),
    }


def online_link(world: World) -> dict[str, Any]:
    """A live online-booking verification link for a request by the world's patient."""
    request = BookingRequest.objects.create(
        session_type=world.session_type,
        starts_at=timezone.now() + dt.timedelta(days=1),
        email="doe@example.com",
        date_of_birth=dt.date(1980, 1, 1),
        patient=world.patient,
        expires_at=timezone.now() + dt.timedelta(minutes=30),
    )
    return {"token": online_link_make(request=request)}


PUBLIC_PAGES: dict[str, PublicPage] = {
    "login": PublicPage(NONE),
    "logout": PublicPage(NONE, POST_ONLY),
    "messaging:link_confirm": PublicPage(signed("confirm"), forged=FORGED),
    "messaging:link_cancel": PublicPage(signed("cancel"), forged=FORGED),
    "messaging:link_reaction": PublicPage(signed("reaction"), forged=FORGED),
    "messaging:link_book": PublicPage(signed("book"), forged=FORGED),
    "messaging:link_unsubscribe": PublicPage(signed("unsubscribe"), forged=FORGED),
    "messaging:link_questionnaire": PublicPage(signed("questionnaire"), forged=FORGED),
    "online:book": PublicPage(NONE),
    "online:check_email": PublicPage(NONE),
    "online:verify": PublicPage(online_link, forged=FORGED),
    "waitlist:offer": PublicPage(
        lambda world: {"token": waitlist_links.offer_token(world.waitlist_offer)}, forged=FORGED
    ),
    "waitlist:join": PublicPage(NONE),
    "waitlist:check_email": PublicPage(NONE),
    "waitlist:join_verify": PublicPage(
        lambda world: {"token": waitlist_links.join_token(world.waitlist_request)}, forged=FORGED
    ),
    "password_reset": PublicPage(NONE),
    "password_reset_done": PublicPage(NONE),
    "password_reset_confirm": PublicPage(
        reset_link, status=302, forged={"uidb64": "MQ", "token": "forged-token"}, forged_status=200
    ),
    "password_reset_complete": PublicPage(NONE),
}


def fetch(client: Client, method: str, url: str, who: str, data: dict[str, Any]) -> HttpResponse:
    response = getattr(client, method)(url, data)
    check_every_response(response, url=url, who=who)
    return response


def test_every_url_pattern_has_one_entry_in_the_matrix():
    names = [name for name, _ in URL_NAMES]
    assert len(names) == len(set(names)), "two URL patterns share a name"
    missing = set(names) - PAGES.keys() - PUBLIC_PAGES.keys()
    assert not missing, f"URL patterns with no entry in PAGES or PUBLIC_PAGES: {sorted(missing)}"
    stale = (PAGES.keys() | PUBLIC_PAGES.keys()) - set(names)
    assert not stale, f"entries for URL names that do not exist: {sorted(stale)}"
    assert not PAGES.keys() & PUBLIC_PAGES.keys()


def test_every_view_declares_its_roles():
    undeclared = [
        f"{name} ({entry.lookup_str})"
        for name, entry in URL_NAMES
        if getattr(entry.callback, "access_roles", None) is None
    ]
    assert not undeclared, (
        f"views with no access rule: {undeclared}; decorate them with @allow(<roles>) or "
        "@public from mesoclinic.access"
    )
    declared_public = {name for name, entry in URL_NAMES if entry.callback.access_roles == PUBLIC}
    assert declared_public == PUBLIC_PAGES.keys()


@pytest.fixture(scope="module")
def browser() -> Client:
    """One client for the whole matrix, logged in as each persona in turn: a new client loads
    the middleware again (WhiteNoise walks the static folders), which would double the time."""
    return Client()


@pytest.fixture
def users(front_desk_user, practitioner_profile, therapist_profile, manager_user, outsider_user):
    return {
        "front_desk": front_desk_user,
        "practitioner": practitioner_profile.user,
        "therapist": therapist_profile.user,
        "manager": manager_user,
        "outsider": outsider_user,
    }


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_role_gets_exactly_the_status_the_matrix_says(request, browser, users, name):
    page = PAGES[name]
    world = World(request)
    url = reverse(name, kwargs=page.kwargs(world))
    query = page.query(world)
    wrong: list[str] = []

    def expect(who: str, method: str, response: HttpResponse, status: int) -> None:
        if response.status_code != status:
            wrong.append(f"{who} {method.upper()} {url}: {response.status_code}, expected {status}")

    browser.logout()
    for method in ("get", "post"):
        response = fetch(browser, method, url, ANONYMOUS, query if method == "get" else {})
        expect(ANONYMOUS, method, response, 302)
        if not response.get("Location", "").startswith(f"{LOGIN}?next="):
            wrong.append(f"anonymous {method.upper()} {url}: not sent to the login page")
    for persona in PERSONAS:
        # Signed in past the second factor: the gate itself is tested in treatments/accounts.
        login_verified(browser, users[persona])
        if persona in page.allowed:
            response = fetch(browser, "get", url, persona, query)
            expect(persona, "get", response, page.status)
            if response.get("Location", "").startswith(LOGIN):
                wrong.append(f"{persona} GET {url}: allowed, but sent to the login page")
        else:
            for method in ("get", "post"):
                response = fetch(browser, method, url, persona, {})
                expect(persona, method, response, 403)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(PUBLIC_PAGES))
def test_public_routes_open_without_login(request, browser, clinic, name):
    page = PUBLIC_PAGES[name]
    world = World(request)
    browser.logout()
    url = reverse(name, kwargs=page.kwargs(world))
    response = fetch(browser, "get", url, ANONYMOUS, {})
    assert response.status_code == page.status, url
    assert not response.get("Location", "").startswith(LOGIN)
    if page.forged is not None:
        forged = reverse(name, kwargs=page.forged)
        assert fetch(browser, "get", forged, ANONYMOUS, {}).status_code == page.forged_status
        assert fetch(browser, "post", forged, ANONYMOUS, {}).status_code == page.forged_status


def test_logging_out_is_a_post_that_lands_on_the_login_page(front_desk):
    response = fetch(front_desk, "post", reverse("logout"), "front_desk", {})
    assert (response.status_code, response["Location"]) == (302, LOGIN)
    after = front_desk.get(reverse("home"))
    assert (after.status_code, after["Location"]) == (302, f"{LOGIN}?next=/")


def test_the_admin_is_closed_to_everyone_but_staff_users(client, front_desk, clinic):
    assert client.get("/admin/").status_code == 302
    response = front_desk.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
